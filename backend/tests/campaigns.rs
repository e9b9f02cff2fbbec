//! Outbound campaigns through the API: what cannot be created or started and why, contacts
//! with bad numbers reported, the do-not-call list mirrored to the gateways, tenants kept
//! apart, and the dialer's calling hours in each contact's own time zone (the dialer's tick
//! run with a chosen clock against a gateway's command stream).

mod common;

use chrono::{Datelike, Utc};
use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    campaigns::{BlockedNumber, CampaignDto, ContactsAdded},
    gateway::{self as wire, Direction, GatewayCommand},
};
use redis::AsyncCommands;
use serde_json::{json, Value};

fn campaign(name: &str) -> Value {
    let day = json!(["09:00", "20:00"]);
    json!({
        "name": name, "kind": "message", "caller_id": "+994125550100", "prompt": "greeting",
        "calling_hours": [day, day, day, day, day, day, day], "timezone": "UTC"
    })
}

#[tokio::test]
async fn campaigns_refuse_what_cannot_run_and_stay_inside_their_tenant() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Campaign Water").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let b = tenant(&app, "Campaign Power").await;

    // Bad campaigns: each field says what is wrong.
    let mut bad = campaign("Bad");
    bad["kind"] = json!("robocall");
    bad["caller_id"] = json!("12345");
    bad["calling_hours"] = json!([["09:00", "20:00"]]);
    bad["timezone"] = json!("Mars/Olympus");
    bad["confirm_digit"] = json!("12");
    bad["retry_on"] = json!(["busy", "sunny"]);
    let p = problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&bad)
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(
        fields,
        [
            "caller_id",
            "calling_hours",
            "confirm_digit",
            "kind",
            "retry_on",
            "timezone"
        ]
    );
    // Not JSON at all: a 400 that names the problem.
    let r = a
        .admin
        .post(app.url("/api/v1/campaigns"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let mut no_prompt = campaign("Reminders");
    no_prompt["prompt"] = json!("not-uploaded");
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&no_prompt)
            .send()
            .await,
    )
    .await;
    assert_eq!(c.status, "draft");
    problem(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&no_prompt)
            .send()
            .await,
        409,
        "name_taken",
    )
    .await;

    // Contacts: bad numbers and zones reported by index, duplicates counted, the rest kept.
    let added: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([
                { "phone": "+15550002001", "name": "Ann" },
                { "phone": "call me maybe" },
                { "phone": "+15550002001", "name": "Ann again" },
                { "phone": "+15550002002", "timezone": "Nowhere/Town" },
                { "phone": "+1 555 000 2003" }
            ]))
            .send()
            .await,
    )
    .await;
    assert_eq!((added.added, added.duplicates), (2, 1), "{added:?}");
    let lines: Vec<usize> = added.errors.iter().map(|e| e.line).collect();
    assert_eq!(lines, [2, 4], "{added:?}");

    // A prompt that does not exist: the campaign cannot start, and the answer says why.
    let p = problem(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/start", c.id)))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["prompt"]);
    assert!(p.errors[0].message.contains("not-uploaded"), "{p:?}");

    // Another tenant sees none of it and cannot touch it.
    for path in [
        format!("/api/v1/campaigns/{}", c.id),
        format!("/api/v1/campaigns/{}/contacts", c.id),
        format!("/api/v1/campaigns/{}/results", c.id),
        format!("/api/v1/campaigns/{}/export", c.id),
    ] {
        let r = b.admin.get(app.url(&path)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    for path in ["start", "pause", "stop"] {
        let r = b
            .admin
            .post(app.url(&format!("/api/v1/campaigns/{}/{path}", c.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    let r = b
        .admin
        .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
        .json(&json!([{ "phone": "+15550009999" }]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let theirs: Vec<CampaignDto> =
        ok_json(b.admin.get(app.url("/api/v1/campaigns")).send().await).await;
    assert!(theirs.is_empty());

    // An agent may not run campaigns.
    let (_, agent) = a.user(&app, "agent@water.test", "Agent").await;
    problem(
        agent.get(app.url("/api/v1/campaigns")).send().await,
        403,
        "forbidden",
    )
    .await;

    // The do-not-call list: normalised, per tenant, mirrored to the gateways' Redis set;
    // an import reports the bad rows.
    let blocked: BlockedNumber = created(
        a.admin
            .post(app.url("/api/v1/blocklist"))
            .json(&json!({ "number": "+1 555 000 2002", "direction": "outbound" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(blocked.number, "+15550002002");
    let imported: ContactsAdded = ok_json(
        a.admin
            .post(app.url("/api/v1/blocklist/import?direction=inbound"))
            .header("content-type", "text/csv")
            .body("number,reason\n+15550003001,spam\nnonsense,x\n")
            .send()
            .await,
    )
    .await;
    assert_eq!((imported.added, imported.errors.len()), (1, 1));
    assert_eq!(imported.errors[0].line, 3);
    let mut r = app.state.redis();
    let out: Vec<String> = r
        .smembers(wire::blacklist_key(a.info.tenant.id, Direction::Outbound))
        .await
        .unwrap();
    assert_eq!(out, ["+15550002002"]);
    let inb: Vec<String> = r
        .smembers(wire::blacklist_key(a.info.tenant.id, Direction::Inbound))
        .await
        .unwrap();
    assert_eq!(inb, ["+15550003001"]);
    let bl: Vec<BlockedNumber> =
        ok_json(b.admin.get(app.url("/api/v1/blocklist")).send().await).await;
    assert!(bl.is_empty(), "{bl:?}");
    let r2 = b
        .admin
        .delete(app.url("/api/v1/blocklist/outbound/+15550002002"))
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), 404);
    let r3 = a
        .admin
        .delete(app.url("/api/v1/blocklist/outbound/+15550002002"))
        .send()
        .await
        .unwrap();
    assert_eq!(r3.status(), 204);
    let out: Vec<String> = r
        .smembers(wire::blacklist_key(a.info.tenant.id, Direction::Outbound))
        .await
        .unwrap();
    assert!(out.is_empty());
}

/// Calling hours are the contact's own: at 18:00 UTC on a Tuesday it is 22:00 in Baku and
/// 13:00 (14:00 in summer) in New York; with hours 09:00–20:00 only New York is called, Baku waits for 09:00
/// its time (05:00 UTC) and is called then. A number put on the do-not-call list is skipped.
#[tokio::test]
async fn contacts_are_called_inside_their_own_calling_hours_only() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Hours Gas").await;
    outbound_ready(&app, &a, &["+994125550100"]).await;
    let tenant_id = a.info.tenant.id;
    let c: CampaignDto = created(
        a.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&campaign("Hours"))
            .send()
            .await,
    )
    .await;
    let _: ContactsAdded = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .json(&json!([
                { "phone": "+994505550001", "name": "Baku", "timezone": "Asia/Baku" },
                { "phone": "+12125550002", "name": "New York", "timezone": "America/New_York" },
                { "phone": "+12125550003", "name": "Blocked", "timezone": "America/New_York" }
            ]))
            .send()
            .await,
    )
    .await;
    let _: BlockedNumber = created(
        a.admin
            .post(app.url("/api/v1/blocklist"))
            .json(&json!({ "number": "+12125550003", "direction": "outbound" }))
            .send()
            .await,
    )
    .await;
    // Running as far as the dialer's tick is concerned (not through /start, so the
    // background ticker, on the real clock, leaves it alone).
    let schema = hotline_backend::db::schema_name(tenant_id);
    let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
        .await
        .unwrap();
    sqlx::query("UPDATE campaigns SET status = 'running' WHERE id = $1")
        .bind(c.id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // A gateway this backend may dial through.
    let gw = stand_in_gateway(&app, "hours").await;
    let mut r = app.state.redis();

    // A Tuesday after today: contacts are due from when they were added (the real clock), so
    // the simulated tick must not be earlier than that.
    let today = Utc::now().date_naive();
    let ahead = 7 + (7 + 1 - today.weekday().num_days_from_monday() as i64) % 7;
    let tuesday = today + chrono::Duration::days(ahead);
    let at = |day: chrono::NaiveDate, h: u32, m: u32| day.and_hms_opt(h, m, 0).unwrap().and_utc();
    let wednesday = tuesday.succ_opt().unwrap();
    let tuesday_18 = at(tuesday, 18, 0);
    assert_eq!(tuesday_18.weekday(), chrono::Weekday::Tue);
    // While the only gateway says it has no outbound trunk, nothing is dialled through it.
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "false")
        .await
        .unwrap();
    hotline_backend::campaigns::tick(&app.state, tenant_id, c.id, tuesday_18)
        .await
        .unwrap();
    let sent: usize = r.xlen(wire::command_stream(&gw)).await.unwrap();
    assert_eq!(
        sent, 0,
        "a call was placed through a gateway without a trunk"
    );
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    hotline_backend::campaigns::tick(&app.state, tenant_id, c.id, tuesday_18)
        .await
        .unwrap();
    let mut last = "0".to_string();
    let callee = |cmd: GatewayCommand| match cmd {
        GatewayCommand::Originate { callee, caller, .. } => {
            assert_eq!(caller, "+994125550100");
            callee
        }
        other => panic!("expected originate, got {other:?}"),
    };
    assert_eq!(
        callee(next_command(&app, &gw, &mut last).await),
        "+12125550002"
    );
    let contacts: hotline_wire::api::Page<hotline_wire::campaigns::ContactDto> = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/campaigns/{}/contacts", c.id)))
            .send()
            .await,
    )
    .await;
    let by = |p: &str| {
        contacts
            .items
            .iter()
            .find(|k| k.phone == p)
            .unwrap()
            .clone()
    };
    let baku = by("+994505550001");
    assert_eq!(baku.status, "pending");
    assert_eq!(
        baku.next_attempt_at,
        Some(at(wednesday, 5, 0)),
        "Baku waits for 09:00 its time"
    );
    assert_eq!(by("+12125550003").status, "dnc");
    // Still too early in Baku at 04:59 UTC; called at 05:00.
    let early = at(wednesday, 4, 59);
    hotline_backend::campaigns::tick(&app.state, tenant_id, c.id, early)
        .await
        .unwrap();
    let opening = at(wednesday, 5, 0);
    hotline_backend::campaigns::tick(&app.state, tenant_id, c.id, opening)
        .await
        .unwrap();
    // The early tick hung up the New York call that rang past its ring timeout; then Baku.
    let mut seen = Vec::new();
    for _ in 0..2 {
        seen.push(next_command(&app, &gw, &mut last).await);
    }
    assert!(
        matches!(seen[0], GatewayCommand::Hangup { .. }),
        "ring timeout hang-up first: {seen:?}"
    );
    assert_eq!(callee(seen[1].clone()), "+994505550001");
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}

/// Click-to-call: a number shown in the desktop (or sent by the tenant's own software with an
/// API key) is dialled from the gateway of the agent's softphone, showing the tenant's number;
/// a do-not-call number is refused; an API key must name the agent and needs `supervise`.
#[tokio::test]
async fn click_to_call_dials_from_the_agents_softphone_and_respects_do_not_call() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Click Gas").await;
    outbound_ready(&app, &a, &[]).await;
    let t = a.info.tenant.id;
    let (agent, ac) = a.user(&app, "nigar@click.test", "Agent").await;
    let call = |c: &reqwest::Client, body: Value| {
        c.post(app.url("/api/v1/click-to-call")).json(&body).send()
    };
    // No number of its own to show yet.
    problem(
        call(&ac, json!({ "number": "+15550007001" })).await,
        409,
        "no_number",
    )
    .await;
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ('+994125550177', $1)")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    // No softphone connected: nothing to bridge to.
    problem(
        call(&ac, json!({ "number": "+15550007001" })).await,
        409,
        "no_softphone",
    )
    .await;
    let gw = format!("gw-click-{}", uuid::Uuid::new_v4().simple());
    stand_in_softphone(&app, t, agent.id, &gw).await;
    // Its gateway says it has no outbound trunk: refused with the fix, nothing dialled.
    let mut r = app.state.redis();
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "false")
        .await
        .unwrap();
    let refused = problem(
        call(&ac, json!({ "number": "+15550007001" })).await,
        409,
        "no_trunk",
    )
    .await;
    assert!(
        refused
            .detail
            .as_deref()
            .unwrap_or("")
            .contains("HOTLINE_GW_TRUNK"),
        "{refused:?}"
    );
    let _: () = r
        .hset(wire::gateway_key(&gw), "trunk", "true")
        .await
        .unwrap();
    problem(
        call(&ac, json!({ "number": "not a number" })).await,
        422,
        "validation_failed",
    )
    .await;
    let started: hotline_wire::calls::CallbackStarted =
        created(call(&ac, json!({ "number": "+1 555 000 7001" })).await).await;
    let mut last = "0".to_string();
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Originate {
            call_id: started.call_id,
            tenant_id: t,
            caller: "+994125550177".into(),
            callee: "+15550007001".into(),
        }
    );
    // Busy with that call: a second one waits.
    problem(
        call(&ac, json!({ "number": "+15550007002" })).await,
        409,
        "agent_busy",
    )
    .await;

    // The do-not-call list is checked before dialling.
    let _: BlockedNumber = created(
        a.admin
            .post(app.url("/api/v1/blocklist"))
            .json(&json!({ "number": "+15550007003", "direction": "outbound" }))
            .send()
            .await,
    )
    .await;
    let (_, other) = a.user(&app, "rauf@click.test", "Agent").await;
    problem(
        call(&other, json!({ "number": "+15550007003" })).await,
        409,
        "do_not_call",
    )
    .await;
    // An agent may not dial for a colleague.
    problem(
        call(
            &other,
            json!({ "number": "+15550007004", "agent_id": agent.id }),
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // An API key with the supervisor role must say which agent.
    let role = a.role(&app, "Supervisor").await;
    let key: hotline_wire::api::CreatedApiKey = created(
        a.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "crm", "role_id": role.id }))
            .send()
            .await,
    )
    .await;
    let plain = reqwest::Client::new();
    let r = plain
        .post(app.url("/api/v1/click-to-call"))
        .bearer_auth(&key.secret)
        .json(&json!({ "number": "+15550007004" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // Another tenant's key cannot reach this tenant's agent.
    let b = tenant(&app, "Click Power").await;
    let brole = b.role(&app, "Supervisor").await;
    let bkey: hotline_wire::api::CreatedApiKey = created(
        b.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "crm", "role_id": brole.id }))
            .send()
            .await,
    )
    .await;
    let r = plain
        .post(app.url("/api/v1/click-to-call"))
        .bearer_auth(&bkey.secret)
        .json(&json!({ "number": "+15550007004", "agent_id": agent.id }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "{}", r.text().await.unwrap_or_default());
}

/// Click-to-call for an agent without a browser softphone but with a registered desk phone:
/// the desk phone rings first (showing the customer's number), then the customer is dialled
/// from the same gateway and bridged to it; the customer hanging up ends the desk leg too.
#[tokio::test]
async fn click_to_call_rings_a_registered_desk_phone_first() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Desk Gas").await;
    outbound_ready(&app, &a, &[]).await;
    let t = a.info.tenant.id;
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ('+994125550188', $1)")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    let role = a.role(&app, "Agent").await;
    let _: hotline_wire::api::UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": "desk@desk.test", "name": "Desk", "password": PASSWORD,
                           "role_id": role.id, "extension": "2201" }),
            )
            .send()
            .await,
    )
    .await;
    let ac = app.client();
    login(&app, &ac, a.slug(), "desk@desk.test", PASSWORD).await;
    let call = |n: &str| {
        ac.post(app.url("/api/v1/click-to-call"))
            .json(&json!({ "number": n }))
            .send()
    };
    // Not registered yet: no phone to ring.
    problem(call("+15550007101").await, 409, "no_softphone").await;
    let gw = stand_in_gateway(&app, "desk").await;
    let mut r = app.state.redis();
    let _: () = r
        .hset_multiple(
            wire::registration_key(t, "2201"),
            &[
                ("contact", "sip:2201@127.0.0.1:5999"),
                ("gateway_id", gw.as_str()),
            ],
        )
        .await
        .unwrap();
    let started: hotline_wire::calls::CallbackStarted =
        created(call("+1 555 000 7101").await).await;
    let mut last = "0".to_string();
    let desk = match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate {
            call_id,
            caller,
            callee,
            ..
        } => {
            assert_eq!(
                (caller.as_str(), callee.as_str()),
                ("+15550007101", "ext:2201")
            );
            assert_ne!(call_id, started.call_id);
            call_id
        }
        other => panic!("the desk phone first, got {other:?}"),
    };
    let answered = |call_id| hotline_wire::gateway::GatewayEvent::CallAnswered {
        call_id,
        tenant_id: t,
        at: chrono::Utc::now(),
    };
    event(&app, &answered(desk)).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Originate {
            call_id: started.call_id,
            tenant_id: t,
            caller: "+994125550188".into(),
            callee: "+15550007101".into(),
        }
    );
    event(&app, &answered(started.call_id)).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Bridge {
            call_id: started.call_id,
            target: desk.to_string()
        }
    );
    event(
        &app,
        &hotline_wire::gateway::GatewayEvent::Hangup {
            call_id: started.call_id,
            tenant_id: t,
            cause: wire::HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Hangup {
            call_id: desk,
            status: None
        }
    );
    let _: () = r.srem(wire::GATEWAYS_KEY, &gw).await.unwrap();
}
