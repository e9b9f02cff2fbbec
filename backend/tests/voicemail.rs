//! Queues' max-wait settings and voicemail through the API (issue 17): the queue form's
//! fields are validated; messages indexed from the gateways' `voicemail_recorded` events are
//! listed with their caller (CRM name), queue and owner, who is notified; played, marked
//! handled (closing the call's missed-calls entry), and never reachable from another tenant.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{calls::VoicemailDto, gateway::GatewayEvent};
use serde_json::{json, Value};
use uuid::Uuid;

#[tokio::test]
async fn the_queue_says_what_happens_at_max_wait_and_bad_settings_are_named() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Queue Exits").await;
    let post = |body: Value| t.admin.post(app.url("/api/v1/queues")).json(&body).send();
    // An older client's queue with neither field: voicemail.
    let plain: Value = created(
        post(
            json!({ "name": "Plain", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0 }),
        )
        .await,
    )
    .await;
    assert_eq!(plain["max_wait_action"], "voicemail");
    // …and with only an overflow queue: overflow.
    let over: Value = created(
        post(
            json!({ "name": "Over", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0, "overflow_queue_id": plain["id"] }),
        )
        .await,
    )
    .await;
    assert_eq!(over["max_wait_action"], "overflow");
    assert_eq!(over["overflow_queue_id"], plain["id"]);
    // Message and hang-up with a built-in prompt; a stale overflow queue is not kept.
    let hang: Value = created(
        post(
            json!({ "name": "Hang", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0, "max_wait_action": "hangup",
                     "max_wait_prompt": "goodbye", "overflow_queue_id": plain["id"] }),
        )
        .await,
    )
    .await;
    assert_eq!(
        (
            &hang["max_wait_action"],
            &hang["max_wait_prompt"],
            &hang["overflow_queue_id"]
        ),
        (&json!("hangup"), &json!("goodbye"), &Value::Null)
    );
    // Overflow without a queue, a prompt nobody uploaded, an owner who does not exist.
    let p = problem(
        post(
            json!({ "name": "Bad", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0, "max_wait_action": "overflow",
                     "max_wait_prompt": "no-such-prompt" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(fields, ["max_wait_prompt", "overflow_queue_id"]);
    let p = problem(
        post(
            json!({ "name": "Bad", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0, "voicemail_user_id": Uuid::new_v4() }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["voicemail_user_id"]);
    let p = problem(
        post(
            json!({ "name": "Bad", "strategy": "longest_idle", "max_wait_seconds": 60,
                     "wrap_up_seconds": 0, "max_wait_action": "later" }),
        )
        .await,
        400,
        "malformed_body",
    )
    .await;
    assert_eq!(field_names(&p), ["max_wait_action"]);
}

#[tokio::test]
async fn a_prompt_a_queue_plays_at_max_wait_cannot_be_deleted() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Queue Prompt").await;
    // A second of a quiet 8 kHz mono tone.
    let samples: Vec<u8> = (0..8000)
        .flat_map(|i| (((i as f64 * 0.3).sin() * 3000.0) as i16).to_le_bytes())
        .collect();
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&[
        16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
    ]);
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    wav.extend_from_slice(&samples);
    let r = t
        .admin
        .post(app.url("/api/v1/ivr/prompts?name=sorry-busy"))
        .header("content-type", "audio/wav")
        .body(wav)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let body = json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 60,
                       "wrap_up_seconds": 0, "max_wait_action": "hangup",
                       "max_wait_prompt": "sorry-busy" });
    let q: Value = created(
        t.admin
            .post(app.url("/api/v1/queues"))
            .json(&body)
            .send()
            .await,
    )
    .await;
    let delete = || {
        t.admin
            .delete(app.url("/api/v1/ivr/prompts/sorry-busy"))
            .send()
    };
    let p = problem(delete().await, 409, "prompt_in_use").await;
    assert!(p.detail.unwrap().contains("the queue Sales"));
    // Another message: the prompt is free to go.
    let mut body = body;
    body["max_wait_prompt"] = json!("goodbye");
    let _: Value = ok_json(
        t.admin
            .put(app.url(&format!("/api/v1/queues/{}", q["id"].as_str().unwrap())))
            .json(&body)
            .send()
            .await,
    )
    .await;
    assert_eq!(delete().await.unwrap().status(), 204);
}

/// A voicemail WAV where the gateway writes it (`<dir>/<tenant>/voicemail/…`), its call's
/// CDR in `queue` (what the IVR had written), and the gateway's event.
async fn leave_voicemail(
    app: &TestApp,
    dir: &std::path::Path,
    tenant: Uuid,
    caller: &str,
    queue: Option<Uuid>,
) -> (Uuid, Vec<u8>) {
    let call = Uuid::new_v4();
    let path = dir
        .join(tenant.to_string())
        .join("voicemail")
        .join(format!("{call}-1.wav"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    bytes.extend_from_slice(&[
        16, 0, 0, 0, 1, 0, 1, 0, 0x40, 0x1f, 0, 0, 0x80, 0x3e, 0, 0, 2, 0, 16, 0,
    ]);
    bytes.extend_from_slice(b"data\x00\x00\x00\x00");
    std::fs::write(&path, &bytes).unwrap();
    let mut tx = hotline_backend::db::begin_in_schema(
        &app.state.db,
        &hotline_backend::db::schema_name(tenant),
    )
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO cdrs (call_id, direction, caller, callee, gateway_id, arrived_at, queue_id)
         VALUES ($1, 'inbound', $2, '+994125550100', 'gw', now(), $3)",
    )
    .bind(call)
    .bind(caller)
    .bind(queue)
    .execute(&mut *tx)
    .await
    .unwrap();
    sqlx::query("INSERT INTO missed_calls (number, did, reason, call_id) VALUES ($1, '+994125550100', 'voicemail', $2)")
        .bind(caller)
        .bind(call)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let ev = GatewayEvent::VoicemailRecorded {
        call_id: call,
        tenant_id: tenant,
        path: path.display().to_string(),
        duration_ms: 12_300,
    };
    event(app, &ev).await;
    // A redelivered event indexes nothing twice.
    event(app, &ev).await;
    (call, bytes)
}

async fn voicemails(app: &TestApp, c: &reqwest::Client, query: &str) -> Vec<VoicemailDto> {
    ok_json(
        c.get(app.url(&format!("/api/v1/voicemails{query}")))
            .send()
            .await,
    )
    .await
}

async fn wait_voicemails(app: &TestApp, c: &reqwest::Client, n: usize) -> Vec<VoicemailDto> {
    for _ in 0..100 {
        let l = voicemails(app, c, "?status=all").await;
        if l.len() >= n {
            return l;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the voicemails were never listed");
}

#[tokio::test]
async fn voicemails_are_listed_played_handled_and_kept_to_their_tenant() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Voicemail A").await;
    let b = tenant(&app, "Voicemail B").await;
    let (sup, sup_c) = a.user(&app, "sup@vm-a.test", "Supervisor").await;
    let (agent, agent_c) = a.user(&app, "agent@vm-a.test", "Agent").await;
    let (_other, other_c) = a.user(&app, "other@vm-a.test", "Agent").await;
    let queue: Value = created(
        a.admin
            .post(app.url("/api/v1/queues"))
            .json(
                &json!({ "name": "Billing", "strategy": "longest_idle", "max_wait_seconds": 60,
                           "wrap_up_seconds": 0, "voicemail_user_id": agent.id }),
            )
            .send()
            .await,
    )
    .await;
    let qid: Uuid = queue["id"].as_str().unwrap().parse().unwrap();
    // The caller is a known customer.
    let _: Value = created(
        a.admin
            .post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Jane Doe", "phones": [{ "number": "+15550009001" }] }))
            .send()
            .await,
    )
    .await;
    let dir = std::env::temp_dir().join(format!("hotline-vm-{}", Uuid::new_v4().simple()));
    let tid = a.info.tenant.id;
    let (call, bytes) = leave_voicemail(&app, &dir, tid, "+15550009001", Some(qid)).await;
    // A message left outside any queue (an IVR voicemail node): nobody owns it.
    let (_, _) = leave_voicemail(&app, &dir, tid, "+15550009002", None).await;

    let all = wait_voicemails(&app, &sup_c, 2).await;
    assert_eq!(all.len(), 2, "each message once: {all:?}");
    let vm = all.iter().find(|v| v.call_id == call).unwrap();
    assert_eq!(vm.caller, "+15550009001");
    assert_eq!(vm.customer_name.as_deref(), Some("Jane Doe"));
    assert_eq!(vm.queue_name.as_deref(), Some("Billing"));
    assert_eq!(vm.assignee_id, Some(agent.id));
    assert_eq!(vm.duration_ms, 12_300);
    assert!(vm.handled_at.is_none());
    // Per queue.
    let billing = voicemails(&app, &sup_c, &format!("?queue_id={qid}")).await;
    assert_eq!(billing.len(), 1);
    // The owner was told in-app (and by e-mail, through the outbox).
    let notes: Value = ok_json(agent_c.get(app.url("/api/v1/notifications")).send().await).await;
    let note = notes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["kind"] == "voicemail")
        .expect("a voicemail notification");
    assert!(
        note["text"]
            .as_str()
            .unwrap()
            .contains("Jane Doe (+15550009001) in Billing"),
        "{note}"
    );
    // Another agent sees the unowned message, not the one for the owner.
    let theirs = voicemails(&app, &other_c, "").await;
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].caller, "+15550009002");
    problem(
        other_c.get(app.url(&vm.audio_url)).send().await,
        404,
        "not_found",
    )
    .await;

    // The owner plays it…
    let got = agent_c.get(app.url(&vm.audio_url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "audio/wav");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);

    // Tenant B cannot list, play or handle A's message.
    assert!(voicemails(&app, &b.admin, "?status=all").await.is_empty());
    problem(
        b.admin.get(app.url(&vm.audio_url)).send().await,
        404,
        "not_found",
    )
    .await;
    problem(
        b.admin
            .post(app.url(&format!("/api/v1/voicemails/{}/handled", vm.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        b.admin
            .post(app.url(&format!("/api/v1/voicemails/{}/callback", vm.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;

    // …and marks it handled: who and when; the call's missed-calls entry closes with it.
    let done: VoicemailDto = ok_json(
        agent_c
            .post(app.url(&format!("/api/v1/voicemails/{}/handled", vm.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(done.handled_by, Some(agent.id));
    assert_eq!(done.handled_by_name.as_deref(), Some("agent@vm-a.test"));
    assert!(done.handled_at.is_some());
    problem(
        sup_c
            .post(app.url(&format!("/api/v1/voicemails/{}/handled", vm.id)))
            .send()
            .await,
        409,
        "already_handled",
    )
    .await;
    let open = voicemails(&app, &sup_c, "").await;
    assert!(open.iter().all(|v| v.id != vm.id), "{open:?}");
    let handled = voicemails(&app, &sup_c, "?status=handled").await;
    assert_eq!(handled.len(), 1);
    let missed: Value = ok_json(sup_c.get(app.url("/api/v1/missed-calls")).send().await).await;
    assert!(
        missed
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["number"] != "+15550009001"),
        "{missed}"
    );
    // Bad filter values are named.
    let p = problem(
        sup_c
            .get(app.url("/api/v1/voicemails?status=maybe"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["status"]);
    let audit: Value = ok_json(
        a.admin
            .get(app.url("/api/v1/audit?action=voicemail.handled"))
            .send()
            .await,
    )
    .await;
    assert_eq!(audit["total"], 1);
    let _ = sup;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_voicemail_path_outside_the_tenants_directory_is_not_indexed() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Voicemail Path A").await;
    let b = tenant(&app, "Voicemail Path B").await;
    let dir = std::env::temp_dir().join(format!("hotline-vm-{}", Uuid::new_v4().simple()));
    // An event for A naming a file in B's tree.
    let ev = GatewayEvent::VoicemailRecorded {
        call_id: Uuid::new_v4(),
        tenant_id: a.info.tenant.id,
        path: dir
            .join(b.info.tenant.id.to_string())
            .join("voicemail/x-1.wav")
            .display()
            .to_string(),
        duration_ms: 1000,
    };
    event(&app, &ev).await;
    // A later good event is handled: the bad one was dead-lettered, not stuck.
    let (call, _) = leave_voicemail(&app, &dir, a.info.tenant.id, "+15550009003", None).await;
    let l = wait_voicemails(&app, &a.admin, 1).await;
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].call_id, call);
    let _ = std::fs::remove_dir_all(&dir);
}
