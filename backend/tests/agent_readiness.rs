//! Agent readiness that tells the truth (issue 15, item 3), driven like the other telephony
//! tests: gateway events injected on the backend's event stream, the backend's commands read
//! back from the gateway's command stream, Redis records written as the gateway writes them
//! (a desk phone's registration, a softphone leg), the agent acting through the HTTP API and
//! listening on the desktop's WebSocket.
//!
//! - "Ready" needs a connected softphone (on a live gateway) or a registered desk phone, else
//!   422 `no_audio_device` saying what to do;
//! - system reasons are built-in reason codes (listed, not deletable, not renamable);
//! - an offer that fails on the desk phone (480) says so (`phone_not_registered`) and sets the
//!   agent not ready "Phone unreachable"; a decline is "Rejected"; a ring timeout "Missed
//!   call" — each a real reason id;
//! - a softphone leg the gateway reports ended makes a ready agent not ready "Softphone lost"
//!   (and the desktop is told); a stale leg's end, or an agent with a registered desk phone,
//!   changes nothing; the desktop's own report does the same.

mod common;

use common::*;
use futures::StreamExt;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::{AgentStateDto, ReasonCodeDto, UserDto},
    calls::{AgentEvent, FlowDto},
    gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent, HangupCause},
};
use redis::AsyncCommands;
use reqwest::Client;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn agent(app: &TestApp, a: &Tenant, name: &str, ext: Option<&str>) -> (UserDto, Client) {
    let role = a.role(app, "Agent").await;
    let email = format!("{name}@readiness.test");
    let user: UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": email, "name": name, "password": PASSWORD,
                           "role_id": role.id, "extension": ext }))
            .send()
            .await,
    )
    .await;
    let c = app.client();
    login(app, &c, a.slug(), &email, PASSWORD).await;
    (user, c)
}

async fn set_state(c: &Client, app: &TestApp, body: serde_json::Value) -> reqwest::Response {
    c.put(app.url("/api/v1/agent/state"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn state(app: &TestApp, c: &Client) -> AgentStateDto {
    ok_json(c.get(app.url("/api/v1/agent/state")).send().await).await
}

async fn softphone_leg(app: &TestApp, tenant: Uuid, user: Uuid) -> Option<Uuid> {
    let mut r = app.state.redis();
    let leg: Option<String> = r
        .hget(hotline_backend::devices::key(tenant, user), "leg_id")
        .await
        .unwrap();
    leg.and_then(|l| l.parse().ok())
}

async fn reasons(app: &TestApp, c: &Client) -> Vec<ReasonCodeDto> {
    ok_json(c.get(app.url("/api/v1/reason-codes")).send().await).await
}

/// The built-in reason code with this key.
async fn builtin(app: &TestApp, c: &Client, key: &str) -> ReasonCodeDto {
    reasons(app, c)
        .await
        .into_iter()
        .find(|r| r.builtin_key.as_deref() == Some(key))
        .unwrap_or_else(|| panic!("no built-in reason {key}"))
}

/// Waits until the agent's state is not ready with the built-in reason `key`; checks it is a
/// real reason code (id and name of the built-in one).
async fn wait_not_ready(app: &TestApp, c: &Client, key: &str) -> AgentStateDto {
    let code = builtin(app, c, key).await;
    for _ in 0..100 {
        let s = state(app, c).await;
        if s.reason_key.as_deref() == Some(key) {
            assert_eq!(s.status.as_str(), "not_ready", "{s:?}");
            assert_eq!(s.reason_id, Some(code.id), "a real reason id: {s:?}");
            assert_eq!(s.reason.as_deref(), Some(code.name.as_str()), "{s:?}");
            return s;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "agent never not ready with {key}: {:?}",
        state(app, c).await
    );
}

/// The next desktop event satisfying `want` (others are skipped), within 10 s.
async fn desktop_event(ws: &mut Socket, want: impl Fn(&AgentEvent) -> bool) -> AgentEvent {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .expect("desktop event in time")
            .expect("socket open")
            .expect("message");
        if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
            let ev: AgentEvent = serde_json::from_str(&t).unwrap();
            if want(&ev) {
                return ev;
            }
        }
    }
}

fn flow() -> serde_json::Value {
    json!({
        "start": "menu",
        "nodes": {
            "menu": { "type": "menu", "prompt": "menu", "options": { "1": "help" },
                      "retries": 0, "fallback": "bye" },
            "help": { "type": "queue", "queue": "Help", "priority": 0 },
            "bye": { "type": "hangup", "prompt": null }
        }
    })
}

async fn queue_and_flow(app: &TestApp, a: &Tenant) {
    created::<serde_json::Value>(
        a.admin
            .post(app.url("/api/v1/queues"))
            .json(
                &json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0,
                           "wrap_up_seconds": 0 }),
            )
            .send()
            .await,
    )
    .await;
    let f: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": flow(), "is_default": true }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", f.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
}

/// A caller arrives on `gw`, presses 1 and waits in the "Help" queue.
async fn caller_in_queue(app: &TestApp, tenant: Uuid, gw: &str) -> Uuid {
    let call = Uuid::new_v4();
    let at = chrono::Utc::now();
    event(
        app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.to_string(),
            call_id: call,
            tenant_id: tenant,
            caller: "+15550004444".into(),
            did: "+994125550188".into(),
            sip_call_id: format!("ready-{call}"),
            mode: FlowMode::Backend,
            at,
        },
    )
    .await;
    event(
        app,
        &GatewayEvent::CallAnswered {
            call_id: call,
            tenant_id: tenant,
            at,
        },
    )
    .await;
    event(
        app,
        &GatewayEvent::DigitsCollected {
            call_id: call,
            tenant_id: tenant,
            digits: "1".into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    call
}

/// The next `originate` to a desk phone: its leg id and callee.
async fn originated(app: &TestApp, gw: &str, last: &mut String) -> (Uuid, String) {
    loop {
        if let GatewayCommand::Originate {
            call_id, callee, ..
        } = next_command(app, gw, last).await
        {
            return (call_id, callee);
        }
    }
}

#[tokio::test]
async fn ready_needs_a_connected_softphone_or_a_registered_desk_phone() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Readiness").await;
    let t = a.info.tenant.id;
    let (u, c) = agent(&app, &a, "rasim", Some("3001")).await;

    // Neither: refused, with the fix, and nothing changed.
    let p = problem(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
        422,
        "no_audio_device",
    )
    .await;
    let detail = p.detail.unwrap_or_default();
    for words in ["microphone", "reconnect", "desk phone"] {
        assert!(
            detail.contains(words),
            "the fix is named ({words}): {detail}"
        );
    }
    assert_eq!(state(&app, &c).await.status.as_str(), "logged_out");
    // Other states need no device.
    let nr = set_state(&c, &app, json!({ "status": "not_ready" })).await;
    assert_eq!(nr.status(), 200);

    // A registered desk phone is enough.
    let gw = stand_in_gateway(&app, "ready").await;
    register_desk_phone(&app, t, "3001", &gw).await;
    let r = set_state(&c, &app, json!({ "status": "ready" })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
    assert_eq!(state(&app, &c).await.status.as_str(), "ready");
    let _: () = set_state(&c, &app, json!({ "status": "not_ready" }))
        .await
        .error_for_status()
        .map(|_| ())
        .unwrap();
    let mut r = app.state.redis();
    let _: () = r.del(wire::registration_key(t, "3001")).await.unwrap();
    problem(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
        422,
        "no_audio_device",
    )
    .await;

    // A softphone leg on a gateway whose heartbeat is gone does not count…
    let dead = format!("dead-{}", Uuid::new_v4().simple());
    stand_in_softphone(&app, t, u.id, &dead).await;
    problem(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
        422,
        "no_audio_device",
    )
    .await;
    // …one on a live gateway does.
    stand_in_softphone(&app, t, u.id, &gw).await;
    let r = set_state(&c, &app, json!({ "status": "ready" })).await;
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());

    // An agent without any extension gets the same refusal.
    let (_, c2) = agent(&app, &a, "nodesk", None).await;
    problem(
        c2.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
        422,
        "no_audio_device",
    )
    .await;
}

#[tokio::test]
async fn system_reasons_are_built_in_reason_codes() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Reasons").await;
    let list = reasons(&app, &a.admin).await;
    let keys: Vec<(&str, &str, &str)> = list
        .iter()
        .filter_map(|r| {
            r.builtin_key
                .as_deref()
                .map(|k| (k, r.name.as_str(), r.kind.as_str()))
        })
        .collect();
    for (key, name) in [
        ("missed", "Missed call"),
        ("rejected", "Rejected"),
        ("softphone_lost", "Softphone lost"),
        ("phone_unreachable", "Phone unreachable"),
    ] {
        assert!(
            keys.contains(&(key, name, "not_ready")),
            "{key} listed as built-in: {keys:?}"
        );
    }
    // The tenant's own codes are not built-in.
    let training = list.iter().find(|r| r.name == "Training").unwrap();
    assert_eq!(training.builtin_key, None);

    let missed = builtin(&app, &a.admin, "missed").await;
    // Not deletable…
    problem(
        a.admin
            .delete(app.url(&format!("/api/v1/reason-codes/{}", missed.id)))
            .send()
            .await,
        409,
        "builtin_reason_code",
    )
    .await;
    // …not renamable, kind fixed…
    let p = problem(
        a.admin
            .put(app.url(&format!("/api/v1/reason-codes/{}", missed.id)))
            .json(&json!({ "name": "Asleep", "kind": "break" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(fields, ["kind", "name"]);
    // …but its approval flag may change.
    let upd: ReasonCodeDto = ok_json(
        a.admin
            .put(app.url(&format!("/api/v1/reason-codes/{}", missed.id)))
            .json(&json!({ "name": "Missed call", "kind": "not_ready", "needs_approval": true }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (upd.needs_approval, upd.builtin_key.as_deref()),
        (true, Some("missed"))
    );
    assert!(reasons(&app, &a.admin)
        .await
        .iter()
        .any(|r| r.id == missed.id));
    // A tenant's own code is still deleted as before.
    let r = a
        .admin
        .delete(app.url(&format!("/api/v1/reason-codes/{}", training.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
}

/// A desk phone that is not registered (480) is "Phone unreachable", not "declined"; the
/// agent's decline is "Rejected"; a ring timeout "Missed call" — each a built-in reason code.
#[tokio::test]
async fn acd_not_ready_reasons_are_real_reason_codes_and_say_what_failed() {
    let app = TestApp::spawn_with(|c| c.ring_timeout_secs = 1).await;
    let a = tenant(&app, "Offers").await;
    let t = a.info.tenant.id;
    queue_and_flow(&app, &a).await;
    let (_, c) = agent(&app, &a, "desk", Some("3101")).await;
    let mut ws = desktop_socket(&app, a.slug(), "desk@readiness.test").await;
    let gw = format!("gw-ready-{}", Uuid::new_v4().simple());
    register_desk_phone(&app, t, "3101", &gw).await;
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let mut last = "0-0".to_string();
    let call = caller_in_queue(&app, t, &gw).await;

    // 1. The desk phone rings… and the gateway says it is not registered (480).
    let (leg, callee) = originated(&app, &gw, &mut last).await;
    assert_eq!(callee, "ext:3101");
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: t,
            cause: HangupCause::Rejected,
            status: Some(480),
            at: chrono::Utc::now(),
        },
    )
    .await;
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::OfferWithdrawn { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::OfferWithdrawn {
            call_id: call,
            reason: "phone_not_registered".into()
        },
        "the desktop is told what failed, not 'declined'"
    );
    wait_not_ready(&app, &c, "phone_unreachable").await;

    // 2. Ready again: the call (back at the head of the queue) rings again; the agent
    //    declines it on the desktop.
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let (_leg, _) = originated(&app, &gw, &mut last).await;
    let r = c
        .post(app.url(&format!("/api/v1/agent/calls/{call}/reject")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::OfferWithdrawn { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::OfferWithdrawn {
            call_id: call,
            reason: "rejected".into()
        }
    );
    wait_not_ready(&app, &c, "rejected").await;

    // 3. Ready again: it rings and nobody answers within the ring timeout.
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let _ = originated(&app, &gw, &mut last).await;
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::OfferWithdrawn { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::OfferWithdrawn {
            call_id: call,
            reason: "ring_no_answer".into()
        }
    );
    let s = wait_not_ready(&app, &c, "missed").await;
    assert_eq!(s.reason.as_deref(), Some("Missed call"));
}

#[tokio::test]
async fn a_lost_softphone_makes_a_ready_agent_not_ready() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Lost").await;
    let t = a.info.tenant.id;
    let gw = stand_in_gateway(&app, "lost").await;
    let (u, c) = agent(&app, &a, "soft", Some("3201")).await;
    let mut ws = desktop_socket(&app, a.slug(), "soft@readiness.test").await;
    stand_in_softphone(&app, t, u.id, &gw).await;
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let leg = softphone_leg(&app, t, u.id).await.unwrap();

    // The end of a leg that is no longer the agent's (a reload replaced it) changes nothing.
    event(
        &app,
        &GatewayEvent::WebrtcClosed {
            leg_id: Uuid::new_v4(),
            tenant_id: t,
            user_id: u.id,
            reason: "closed_by_gateway".into(),
        },
    )
    .await;
    // The gateway reports the agent's leg ended (the browser went away).
    event(
        &app,
        &GatewayEvent::WebrtcClosed {
            leg_id: leg,
            tenant_id: t,
            user_id: u.id,
            reason: "ice_disconnected".into(),
        },
    )
    .await;
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::SoftphoneLost { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::SoftphoneLost {
            reason: "ice_disconnected".into(),
            not_ready: true
        }
    );
    wait_not_ready(&app, &c, "softphone_lost").await;
    assert_eq!(
        softphone_leg(&app, t, u.id).await,
        None,
        "the dead leg is gone"
    );
    assert_eq!(
        hotline_backend::agents::agent_acd_state(&app.state, t, u.id)
            .await
            .unwrap(),
        "not_ready",
        "the ACD offers nothing to a dead softphone"
    );
    // And Ready is refused until the softphone is back.
    problem(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
        422,
        "no_audio_device",
    )
    .await;

    // The desktop's own report (its RTCPeerConnection failed) does the same.
    stand_in_softphone(&app, t, u.id, &gw).await;
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let leg = softphone_leg(&app, t, u.id).await.unwrap();
    // A stale report is ignored.
    let r = c
        .post(app.url("/api/v1/agent/softphone/lost"))
        .json(&json!({ "leg_id": Uuid::new_v4(), "reason": "failed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(state(&app, &c).await.status.as_str(), "ready");
    let r = c
        .post(app.url("/api/v1/agent/softphone/lost"))
        .json(&json!({ "leg_id": leg, "reason": "failed" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::SoftphoneLost { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::SoftphoneLost {
            reason: "browser_failed".into(),
            not_ready: true
        }
    );
    wait_not_ready(&app, &c, "softphone_lost").await;

    // With a registered desk phone the agent stays ready: calls ring it instead.
    register_desk_phone(&app, t, "3201", &gw).await;
    stand_in_softphone(&app, t, u.id, &gw).await;
    assert_eq!(
        set_state(&c, &app, json!({ "status": "ready" }))
            .await
            .status(),
        200
    );
    let leg = softphone_leg(&app, t, u.id).await.unwrap();
    event(
        &app,
        &GatewayEvent::WebrtcClosed {
            leg_id: leg,
            tenant_id: t,
            user_id: u.id,
            reason: "idle".into(),
        },
    )
    .await;
    let ev = desktop_event(&mut ws, |e| matches!(e, AgentEvent::SoftphoneLost { .. })).await;
    assert_eq!(
        ev,
        AgentEvent::SoftphoneLost {
            reason: "idle".into(),
            not_ready: false
        }
    );
    assert_eq!(state(&app, &c).await.status.as_str(), "ready");
}
