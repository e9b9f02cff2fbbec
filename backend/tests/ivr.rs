//! IVR flows: the API (validation, versions, publishing, numbers, isolation) and the backend
//! running a published flow for a call, driven by gateway events on the real Redis stream and
//! answered by commands on the gateway's command stream.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    calls::{FlowDto, MissedCallDto},
    gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent},
};
use redis::AsyncCommands;
use serde_json::json;
use uuid::Uuid;

fn greeting_menu_queue() -> serde_json::Value {
    json!({
        "start": "greeting",
        "nodes": {
            "greeting": { "type": "play", "prompt": "greeting", "next": "menu" },
            "menu": { "type": "menu", "prompt": "menu", "options": { "1": "sales", "2": "cb" },
                      "retries": 0, "fallback": "bye" },
            "sales": { "type": "queue", "queue": "Sales", "priority": 0 },
            "cb": { "type": "callback", "prompt": "goodbye" },
            "bye": { "type": "hangup", "prompt": null }
        }
    })
}

async fn give_did(app: &TestApp, tenant: Uuid, did: &str) {
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(did)
        .bind(tenant)
        .execute(&app.state.db)
        .await
        .unwrap();
}

#[tokio::test]
async fn flows_are_validated_versioned_published_and_isolated() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Flow A").await;
    let b = tenant(&app, "Flow B").await;
    // Dangling branch, unreachable node and a bad key, all reported at once.
    let mut bad = greeting_menu_queue();
    bad["nodes"]["menu"]["options"]["3"] = json!("nowhere");
    bad["nodes"]["menu"]["options"]["12"] = json!("sales");
    bad["nodes"]["lost"] = json!({ "type": "hangup", "prompt": null });
    let p = problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": bad }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let fields = field_names(&p);
    for f in [
        "graph.nodes.menu.options.3",
        "graph.nodes.menu.options.12",
        "graph.nodes.lost.id",
    ] {
        assert!(fields.contains(&f.to_string()), "{fields:?}");
    }
    problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": { "start": 5 } }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;

    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": greeting_menu_queue(), "is_default": true }))
            .send()
            .await,
    )
    .await;
    assert_eq!((flow.latest_version, flow.published_version), (1, None));
    let v2: FlowDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/ivr/flows/{}", flow.id)))
            .json(&json!({ "graph": greeting_menu_queue() }))
            .send()
            .await,
    )
    .await;
    assert_eq!(v2.latest_version, 2);
    problem(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 9 }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let live: FlowDto = ok_json(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
    assert_eq!(live.published_version, Some(1));
    // Publishing switches the tenant's calls to the backend in the gateway's copy.
    let mut r = app.state.redis();
    let mode: Option<String> = r
        .hget(wire::flow_key(a.info.tenant.id), "mode")
        .await
        .unwrap();
    assert_eq!(mode.as_deref(), Some("backend"));

    // Numbers: only the tenant's own.
    give_did(&app, a.info.tenant.id, "+994125550101").await;
    ok_json::<serde_json::Value>(
        a.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": "+994125550101", "flow_id": flow.id }))
            .send()
            .await,
    )
    .await;
    // Tenant B can neither see A's flow nor take A's number.
    problem(
        b.admin
            .get(app.url(&format!("/api/v1/ivr/flows/{}", flow.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let b_flow: FlowDto = created(
        b.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "B", "graph": greeting_menu_queue() }))
            .send()
            .await,
    )
    .await;
    problem(
        b.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": "+994125550101", "flow_id": b_flow.id }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let listed: Vec<FlowDto> =
        ok_json(b.admin.get(app.url("/api/v1/ivr/flows")).send().await).await;
    assert_eq!(listed.len(), 1);
    // Agents cannot edit flows.
    let (_, agent) = a.user(&app, "agent@flowa.test", "Agent").await;
    problem(
        agent.get(app.url("/api/v1/ivr/flows")).send().await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn a_published_flow_answers_the_call_routes_it_and_lists_it_when_abandoned() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Flow Run").await;
    let t = a.info.tenant.id;
    created::<serde_json::Value>(
        a.admin
            .post(app.url("/api/v1/queues"))
            .json(&json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
            .send()
            .await,
    )
    .await;
    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": greeting_menu_queue(), "is_default": true }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
    let gw = format!("gw-test-{}", Uuid::new_v4().simple());
    let call = Uuid::new_v4();
    let mut last = "0-0".to_string();
    let started = GatewayEvent::CallStarted {
        gateway_id: gw.clone(),
        call_id: call,
        tenant_id: t,
        caller: "+15550001111".into(),
        did: "+994125550199".into(),
        sip_call_id: "abc".into(),
        mode: FlowMode::Backend,
        at: chrono::Utc::now(),
    };
    event(&app, &started).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Answer { call_id: call }
    );
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Play { prompt, .. } if prompt == "greeting"
    ));
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: call,
            tenant_id: t,
            prompt: "greeting".into(),
            interrupted_by: None,
        },
    )
    .await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::CollectDigits { prompt: Some(p), max: 1, .. } if p == "menu"
    ));
    event(
        &app,
        &GatewayEvent::DigitsCollected {
            call_id: call,
            tenant_id: t,
            digits: "1".into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::MusicOnHold { .. }
    ));
    // The call waits in the ACD's Sales queue (no agent is ready).
    let mut con = redis::Client::open(app.state.cfg.redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    // (Music starts before the ACD takes the call, so an immediate offer is never talked
    // over by it: give the backend a moment to finish the step.)
    let keys = hotline_backend::call_io::acd_keys(t);
    let mut waiting = None;
    for _ in 0..50 {
        let acd = hotline_acd::redis_acd::snapshot(&mut con, &keys).unwrap();
        waiting = acd.calls.get(&call.to_string()).map(|c| c.state.clone());
        if waiting.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(waiting.as_deref(), Some("waiting"));
    // The caller gives up: the call leaves the ACD and appears in the missed-calls list with
    // the IVR choice.
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: call,
            tenant_id: t,
            cause: wire::HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let mut missed: Vec<MissedCallDto> = Vec::new();
    for _ in 0..100 {
        missed = ok_json(a.admin.get(app.url("/api/v1/missed-calls")).send().await).await;
        if !missed.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(missed.len(), 1);
    assert_eq!(
        (missed[0].reason.as_str(), missed[0].number.as_str()),
        ("abandoned", "+15550001111")
    );
    assert_eq!(missed[0].vars["menu.menu"], "1");
    let acd =
        hotline_acd::redis_acd::snapshot(&mut con, &hotline_backend::call_io::acd_keys(t)).unwrap();
    assert!(acd.calls.is_empty());

    // A second call chooses 2: a callback request, the goodbye prompt, then hang-up.
    let call2 = Uuid::new_v4();
    let mut s2 = started.clone();
    if let GatewayEvent::CallStarted { call_id, .. } = &mut s2 {
        *call_id = call2;
    }
    event(&app, &s2).await;
    next_command(&app, &gw, &mut last).await;
    next_command(&app, &gw, &mut last).await;
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: call2,
            tenant_id: t,
            prompt: "greeting".into(),
            interrupted_by: None,
        },
    )
    .await;
    next_command(&app, &gw, &mut last).await;
    event(
        &app,
        &GatewayEvent::DigitsCollected {
            call_id: call2,
            tenant_id: t,
            digits: "2".into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Play { prompt, .. } if prompt == "goodbye"
    ));
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: call2,
            tenant_id: t,
            prompt: "goodbye".into(),
            interrupted_by: None,
        },
    )
    .await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Hangup {
            call_id: call2,
            status: None
        }
    );
    let missed: Vec<MissedCallDto> =
        ok_json(a.admin.get(app.url("/api/v1/missed-calls")).send().await).await;
    assert!(missed
        .iter()
        .any(|m| m.reason == "callback_request" && m.call_id == Some(call2)));
}

/// The agent desktop's WebSocket: an offer with the screen-pop data (caller, IVR choice) when
/// the ACD picks the agent, then connected and ended as the agent's phone answers and the
/// caller hangs up. Gateway events are injected on the stream; the backend's commands are read
/// back from the gateway's stream.
#[tokio::test]
async fn the_agent_desktop_is_told_of_offers_with_the_screen_pop_data() {
    use hotline_wire::calls::AgentEvent;
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Desk").await;
    let t = a.info.tenant.id;
    created::<serde_json::Value>(
        a.admin
            .post(app.url("/api/v1/queues"))
            .json(&json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
            .send()
            .await,
    )
    .await;
    let role = a.role(&app, "Agent").await;
    let agent: hotline_wire::api::UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": "desk@desk.test", "name": "Desk", "password": PASSWORD,
                           "role_id": role.id, "extension": "2001" }),
            )
            .send()
            .await,
    )
    .await;
    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": greeting_menu_queue(), "is_default": true }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
    // The desk phone of extension 2001 is registered with the gateway the call comes in on.
    let gw = format!("gw-test-{}", Uuid::new_v4().simple());
    register_desk_phone(&app, t, "2001", &gw).await;
    let desk = app.client();
    login(&app, &desk, a.slug(), "desk@desk.test", PASSWORD).await;
    ok_json::<serde_json::Value>(
        desk.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
    )
    .await;
    // The WebSocket, authenticated by the desk's session cookie.
    let mut ws = desktop_socket(&app, a.slug(), "desk@desk.test").await;
    assert_eq!(
        next_event(&mut ws).await,
        AgentEvent::Hello {
            state: "ready".into()
        }
    );
    // A call: greeting, menu key 1 → Sales → offered to the desk agent.
    let call = Uuid::new_v4();
    event(
        &app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id: call,
            tenant_id: t,
            caller: "+15550002222".into(),
            did: "+994125550199".into(),
            sip_call_id: "x".into(),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        },
    )
    .await;
    event(
        &app,
        &GatewayEvent::PlaybackFinished {
            call_id: call,
            tenant_id: t,
            prompt: "greeting".into(),
            interrupted_by: None,
        },
    )
    .await;
    event(
        &app,
        &GatewayEvent::DigitsCollected {
            call_id: call,
            tenant_id: t,
            digits: "1".into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    let AgentEvent::Offer {
        call_id,
        caller,
        vars,
        queue,
        queued_at,
        ..
    } = next_event(&mut ws).await
    else {
        panic!("expected an offer");
    };
    assert_eq!((call_id, caller.as_str()), (call, "+15550002222"));
    // The caller header: the queue's name and when the caller entered it.
    assert_eq!(queue.as_deref(), Some("Sales"));
    let waited = chrono::Utc::now() - queued_at.expect("when the caller was queued");
    assert!(
        (0..60_000).contains(&waited.num_milliseconds()),
        "queued {waited} ago"
    );
    assert_eq!(
        vars["menu.menu"], "1",
        "the IVR choice pops up with the call"
    );
    let st: hotline_wire::api::AgentStateDto =
        ok_json(desk.get(app.url("/api/v1/agent/state")).send().await).await;
    assert_eq!(st.activity.as_deref(), Some("ringing"), "{st:?}");
    // The phone leg the backend asked the gateway to ring.
    let mut last = "0-0".to_string();
    let leg = loop {
        if let GatewayCommand::Originate {
            call_id, callee, ..
        } = next_command(&app, &gw, &mut last).await
        {
            assert_eq!(callee, "ext:2001");
            break call_id;
        }
    };
    // Someone else (the admin, not in the ACD) cannot decline the desk agent's offer.
    problem(
        a.admin
            .post(app.url(&format!("/api/v1/agent/calls/{call}/reject")))
            .send()
            .await,
        409,
        "not_offered",
    )
    .await;
    // The phone answers: connected; the customer is bridged to the leg.
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: leg,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(
        next_event(&mut ws).await,
        AgentEvent::Connected { call_id: call }
    );
    // The agent's state says what they are doing: Ready, and on a call.
    let st: hotline_wire::api::AgentStateDto =
        ok_json(desk.get(app.url("/api/v1/agent/state")).send().await).await;
    assert_eq!(
        (st.status, st.activity.as_deref()),
        (hotline_wire::api::AgentStatus::Ready, Some("on_call"))
    );
    loop {
        if let GatewayCommand::Bridge { call_id, target } = next_command(&app, &gw, &mut last).await
        {
            assert_eq!((call_id, target), (call, leg.to_string()));
            break;
        }
    }
    // The agent ends the call from the desktop: both legs are hung up.
    let r = desk
        .post(app.url(&format!("/api/v1/agent/calls/{call}/hangup")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        next_event(&mut ws).await,
        AgentEvent::Ended { call_id: call }
    );
    let mut hung = std::collections::BTreeSet::new();
    while hung.len() < 2 {
        if let GatewayCommand::Hangup { call_id, .. } = next_command(&app, &gw, &mut last).await {
            hung.insert(call_id);
        }
    }
    assert_eq!(hung, std::collections::BTreeSet::from([call, leg]));
    let _ = ws.close(None).await;
    let _ = agent;
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_event(ws: &mut Ws) -> hotline_wire::calls::AgentEvent {
    use futures::StreamExt;
    loop {
        let msg = tokio::time::timeout(std::time::Duration::from_secs(10), ws.next())
            .await
            .expect("an agent event within 10 s")
            .unwrap()
            .unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            return serde_json::from_str(&t).unwrap();
        }
    }
}

/// The tenant's CDR timeline entries of `kind` for `call`, waiting for the first.
async fn timeline_of(
    app: &TestApp,
    tenant: Uuid,
    call: Uuid,
    kind: &str,
) -> Vec<serde_json::Value> {
    let schema = hotline_backend::db::schema_name(tenant);
    for _ in 0..100 {
        let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
            .await
            .unwrap();
        let rows: Vec<serde_json::Value> = sqlx::query_scalar(
            "SELECT details FROM cdr_events WHERE call_id = $1 AND kind = $2 ORDER BY at",
        )
        .bind(call)
        .bind(kind)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        if !rows.is_empty() {
            return rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no {kind} on the timeline of {call}");
}

/// An IVR transfer to an outside number goes through the tenant's outbound rules
/// (`dial_policy`): a premium number is a field error when the flow is saved; at run time a
/// limit (a trial's two lines) refuses it — the timeline says why and the flow takes the
/// transfer's `failed` branch instead of dialling; with a line free it is dialled showing the
/// tenant's number, and when the gateway refuses the leg for the tenant's limits the caller
/// goes to the `failed` branch too.
#[tokio::test]
async fn ivr_transfers_are_judged_by_the_outbound_rules() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Transfer Rules").await;
    let t = a.info.tenant.id;
    let did = "+994125550177";
    give_did(&app, t, did).await;
    // Its administrator followed the e-mailed link (`outbound_verify.rs`): only the trial's
    // limits stand between the flow and the trunk.
    sqlx::query("UPDATE platform.tenants SET email_verified_at = now() WHERE id = $1")
        .bind(t)
        .execute(&app.state.db)
        .await
        .unwrap();
    let r = a
        .admin
        .put(app.url("/api/v1/settings/crm"))
        .json(&json!({ "country_code": "994" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());
    let graph = |number: &str| {
        json!({
            "start": "out",
            "nodes": {
                "out": { "type": "transfer", "number": number, "failed": "sorry" },
                "sorry": { "type": "hangup", "prompt": "goodbye" }
            }
        })
    };
    let p = problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(
                &json!({ "name": "Premium", "graph": graph("+994900123456"), "is_default": true }),
            )
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.out.number"]);
    assert!(p.errors[0].message.contains("+994900"), "{p:?}");
    // A `failed` branch to a node that does not exist is named too.
    let mut dangling = graph("+994505550123");
    dangling["nodes"]["out"]["failed"] = json!("nowhere");
    let p = problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Dangling", "graph": dangling, "is_default": true }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert!(
        field_names(&p).contains(&"graph.nodes.out.failed".to_string()),
        "{p:?}"
    );
    let flow: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Out", "graph": graph("+994505550123"), "is_default": true }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;

    // The trial's two lines are busy (two outbound legs in progress).
    let schema = hotline_backend::db::schema_name(t);
    let busy = [Uuid::new_v4(), Uuid::new_v4()];
    {
        let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
            .await
            .unwrap();
        for id in busy {
            sqlx::query(
                "INSERT INTO cdrs (call_id, direction, caller, callee, gateway_id, arrived_at)
                 VALUES ($1, 'outbound', $2, '+994505550999', 'gw', now())",
            )
            .bind(id)
            .bind(did)
            .execute(&mut *tx)
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }
    let gw = format!("gw-test-{}", Uuid::new_v4().simple());
    let mut last = "0-0".to_string();
    let call_in = |call: Uuid| GatewayEvent::CallStarted {
        gateway_id: gw.clone(),
        call_id: call,
        tenant_id: t,
        caller: "+994505550100".into(),
        did: did.into(),
        sip_call_id: "x".into(),
        mode: FlowMode::Backend,
        at: chrono::Utc::now(),
    };
    let first = Uuid::new_v4();
    event(&app, &call_in(first)).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Answer { call_id: first }
    );
    // Not dialled: the failed branch's goodbye plays.
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Play { call_id, prompt, .. } if call_id == first && prompt == "goodbye"
    ));
    let refused = timeline_of(&app, t, first, "transfer_refused").await;
    assert_eq!(refused[0]["code"], "trial_limit", "{refused:?}");
    assert_eq!(refused[0]["number"], "+994505550123");

    // Lines free: the transfer is dialled, showing the number the caller called.
    {
        let mut tx = hotline_backend::db::begin_in_schema(&app.state.db, &schema)
            .await
            .unwrap();
        sqlx::query("UPDATE cdrs SET ended_at = now() WHERE call_id = ANY ($1)")
            .bind(&busy[..])
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    let second = Uuid::new_v4();
    event(&app, &call_in(second)).await;
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Answer { call_id: second }
    );
    let leg = match next_command(&app, &gw, &mut last).await {
        GatewayCommand::MusicOnHold { .. } => match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Originate {
                call_id,
                caller,
                callee,
                ..
            } => {
                assert_eq!((caller.as_str(), callee.as_str()), (did, "+994505550123"));
                call_id
            }
            other => panic!("expected originate, got {other:?}"),
        },
        GatewayCommand::Originate {
            call_id,
            caller,
            callee,
            ..
        } => {
            assert_eq!((caller.as_str(), callee.as_str()), (did, "+994505550123"));
            call_id
        }
        other => panic!("expected originate, got {other:?}"),
    };
    // The gateway refuses the leg (the tenant's calls at once, counted on every gateway): the
    // caller is not hung up but goes to the failed branch.
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: t,
            cause: wire::HangupCause::OutboundLimit,
            status: Some(503),
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Play { call_id, prompt, .. } if call_id == second && prompt == "goodbye"
    ));
    let refused = timeline_of(&app, t, second, "transfer_refused").await;
    assert_eq!(refused[0]["code"], "outbound_limit", "{refused:?}");
}
