//! Call control and call detail records, driven like a real call: gateway events injected on
//! the backend's Redis event stream, the backend's commands read back from the gateway's
//! command stream, the agents acting through the HTTP API. A caller goes through the IVR to
//! agent A's SIP phone; A holds (the caller hears music, the bridge is cut) and resumes, then
//! transfers the caller to agent B, who is offered the call although agent C has idled longer;
//! the caller hangs up; B wraps up with a disposition. The CDR and its timeline say all of it,
//! to the right people only.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    api::{Page, UserDto},
    calls::{CdrDetailDto, CdrDto, FlowDto, MissedCallDto, TransferDirectory},
    gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent},
};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

fn flow() -> serde_json::Value {
    json!({
        "start": "menu",
        "nodes": {
            "menu": { "type": "menu", "prompt": "menu", "options": { "1": "sales" },
                      "retries": 0, "fallback": "bye" },
            "sales": { "type": "queue", "queue": "Sales", "priority": 0 },
            "bye": { "type": "hangup", "prompt": null }
        }
    })
}

/// A "Sales" queue (with `wrap_up_seconds`) and the menu flow, published as the default.
async fn sales_queue_and_flow(app: &TestApp, a: &Tenant, wrap_up_seconds: u32) {
    created::<serde_json::Value>(
        a.admin
            .post(app.url("/api/v1/queues"))
            .json(
                &json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 0,
                           "wrap_up_seconds": wrap_up_seconds }),
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

/// The next command satisfying `want` (others are skipped).
async fn until(
    app: &TestApp,
    gw: &str,
    last: &mut String,
    want: impl Fn(&GatewayCommand) -> bool,
) -> GatewayCommand {
    loop {
        let c = next_command(app, gw, last).await;
        if want(&c) {
            return c;
        }
    }
}

/// Agent `name` with extension `ext`, whose desk phone is registered with gateway `gw` (so
/// they can go Ready and be offered calls on it).
async fn agent(app: &TestApp, a: &Tenant, name: &str, ext: &str, gw: &str) -> (UserDto, Client) {
    let (user, c) = agent_without_phone(app, a, name, ext).await;
    register_desk_phone(app, a.info.tenant.id, ext, gw).await;
    (user, c)
}

/// Agent `name` with extension `ext` but no desk phone registered (nor a softphone yet).
async fn agent_without_phone(
    app: &TestApp,
    a: &Tenant,
    name: &str,
    ext: &str,
) -> (UserDto, Client) {
    let role = a.role(app, "Agent").await;
    let email = format!("{name}@calls.test");
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

async fn ready(app: &TestApp, c: &Client) {
    ok_json::<serde_json::Value>(
        c.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
    )
    .await;
}

async fn post(
    c: &Client,
    url: String,
    body: serde_json::Value,
) -> reqwest::Result<reqwest::Response> {
    c.post(url).json(&body).send().await
}

/// A colleague's live ACD state as the transfer directory shows it.
async fn acd_state(app: &TestApp, viewer: &Client, of: Uuid) -> String {
    let dir: TransferDirectory =
        ok_json(viewer.get(app.url("/api/v1/agent/directory")).send().await).await;
    dir.agents
        .into_iter()
        .find(|x| x.id == of)
        .map(|x| x.state)
        .unwrap_or_default()
}

#[tokio::test]
async fn hold_transfer_wrapup_and_the_cdr_tell_the_whole_call() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Calls").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let t = a.info.tenant.id;
    sales_queue_and_flow(&app, &a, 30).await;
    let gw = format!("gw-test-{}", Uuid::new_v4().simple());
    // A is ready first, then C, then B: longest idle would pick A, then C.
    let (ua, ca) = agent(&app, &a, "alice", "2001", &gw).await;
    ready(&app, &ca).await;
    let (uc, cc) = agent(&app, &a, "carol", "2003", &gw).await;
    ready(&app, &cc).await;
    let (ub, cb) = agent(&app, &a, "bob", "2002", &gw).await;
    ready(&app, &cb).await;

    let call = Uuid::new_v4();
    let mut last = "0-0".to_string();
    let at = chrono::Utc::now();
    event(
        &app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id: call,
            tenant_id: t,
            caller: "+15550003333".into(),
            did: "+994125550177".into(),
            sip_call_id: "calls-1".into(),
            mode: FlowMode::Backend,
            at,
        },
    )
    .await;
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: call,
            tenant_id: t,
            at,
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
    // Alice's phone rings and answers: the caller is bridged to her leg.
    let leg_a = match until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Originate { .. })
    })
    .await
    {
        GatewayCommand::Originate {
            call_id, callee, ..
        } => {
            assert_eq!(callee, "ext:2001", "longest idle: Alice");
            call_id
        }
        _ => unreachable!(),
    };
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: leg_a,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let bridged = until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Bridge { .. })
    })
    .await;
    assert_eq!(
        bridged,
        GatewayCommand::Bridge {
            call_id: call,
            target: leg_a.to_string()
        }
    );

    // Only the agent on the call can hold it.
    problem(
        post(
            &cb,
            app.url(&format!("/api/v1/agent/calls/{call}/hold")),
            json!({}),
        )
        .await,
        409,
        "not_your_call",
    )
    .await;
    let r = post(
        &ca,
        app.url(&format!("/api/v1/agent/calls/{call}/hold")),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Unbridge { call_id: call }
    );
    assert!(matches!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::MusicOnHold { call_id, ref prompt } if call_id == call && prompt == "moh"
    ));
    problem(
        post(
            &ca,
            app.url(&format!("/api/v1/agent/calls/{call}/hold")),
            json!({}),
        )
        .await,
        409,
        "already_held",
    )
    .await;
    let r = post(
        &ca,
        app.url(&format!("/api/v1/agent/calls/{call}/unhold")),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::StopMedia { call_id: call }
    );
    assert_eq!(
        next_command(&app, &gw, &mut last).await,
        GatewayCommand::Bridge {
            call_id: call,
            target: leg_a.to_string()
        }
    );

    // The transfer directory lists the queue and the colleagues (not oneself).
    let dir: TransferDirectory =
        ok_json(ca.get(app.url("/api/v1/agent/directory")).send().await).await;
    assert_eq!(dir.queues.len(), 1);
    let names: Vec<&str> = dir.agents.iter().map(|x| x.name.as_str()).collect();
    assert!(names.contains(&"bob") && names.contains(&"carol") && !names.contains(&"alice"));
    // Bad transfers are refused with the field at fault; the call stays with Alice.
    let p = problem(
        post(
            &ca,
            app.url(&format!("/api/v1/agent/calls/{call}/transfer")),
            json!({}),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), vec!["queue_id"]);
    let p = problem(
        post(
            &ca,
            app.url(&format!("/api/v1/agent/calls/{call}/transfer")),
            json!({ "agent_id": ua.id }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), vec!["agent_id"]);
    // Blind transfer to Bob: Alice's phone leg is hung up, the caller hears music, and Bob —
    // not Carol, who has idled longer — is rung.
    let r = post(
        &ca,
        app.url(&format!("/api/v1/agent/calls/{call}/transfer")),
        json!({ "agent_id": ub.id }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204, "{}", r.text().await.unwrap_or_default());
    let mut hung_a = false;
    let leg_b = loop {
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Hangup { call_id, .. } => {
                assert_eq!(call_id, leg_a);
                hung_a = true;
            }
            GatewayCommand::Originate {
                call_id, callee, ..
            } => {
                assert_eq!(callee, "ext:2002", "the transfer rings Bob");
                break call_id;
            }
            _ => {}
        }
    };
    assert!(hung_a, "Alice's leg is hung up before Bob is rung");
    assert_eq!(
        acd_state(&app, &cc, ua.id).await,
        "wrap_up",
        "Alice wraps up after transferring"
    );
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: leg_b,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let bridged = until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Bridge { .. })
    })
    .await;
    assert_eq!(
        bridged,
        GatewayCommand::Bridge {
            call_id: call,
            target: leg_b.to_string()
        }
    );
    // The caller hangs up; Bob's leg is hung up.
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
    let hung = until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Hangup { .. })
    })
    .await;
    assert_eq!(
        hung,
        GatewayCommand::Hangup {
            call_id: leg_b,
            status: None
        }
    );
    // Wrap-up: Bob saves a disposition and is ready again; Carol, who never had the call,
    // cannot write one.
    problem(
        post(
            &cc,
            app.url(&format!("/api/v1/agent/calls/{call}/wrapup")),
            json!({ "disposition": "resolved" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let p = problem(
        post(
            &cb,
            app.url(&format!("/api/v1/agent/calls/{call}/wrapup")),
            json!({ "disposition": "" }),
        )
        .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), vec!["disposition"]);
    // The hang-up event is handled asynchronously: wait until the CDR shows the end.
    let mut cdr = None;
    for _ in 0..100 {
        let d: CdrDetailDto = ok_json(
            a.admin
                .get(app.url(&format!("/api/v1/calls/{call}")))
                .send()
                .await,
        )
        .await;
        if d.cdr.ended_at.is_some() {
            cdr = Some(d);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(cdr.is_some(), "the CDR records the hang-up");
    let r = post(
        &cb,
        app.url(&format!("/api/v1/agent/calls/{call}/wrapup")),
        json!({ "disposition": "resolved", "notes": "address updated", "ready": true }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    // Alice, who handed the call on, wraps up her part later: it goes on the timeline, but the
    // call's disposition stays Bob's.
    let r = post(
        &ca,
        app.url(&format!("/api/v1/agent/calls/{call}/wrapup")),
        json!({ "disposition": "escalated" }),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        acd_state(&app, &cc, ub.id).await,
        "ready",
        "wrap-up saved with ready"
    );

    let d: CdrDetailDto = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/calls/{call}")))
            .send()
            .await,
    )
    .await;
    let c = &d.cdr;
    assert_eq!(
        (c.direction.as_str(), c.caller.as_str(), c.callee.as_str()),
        ("inbound", "+15550003333", "+994125550177")
    );
    assert_eq!(c.outcome.as_deref(), Some("answered"));
    assert_eq!(
        c.agent_id,
        Some(ub.id),
        "the CDR names the agent who had the call last"
    );
    assert_eq!(c.agent_name.as_deref(), Some("bob"));
    assert_eq!(c.queue_name.as_deref(), Some("Sales"));
    assert_eq!(c.transfers, 1);
    assert_eq!(c.disposition.as_deref(), Some("resolved"));
    assert_eq!(c.wrapup_notes.as_deref(), Some("address updated"));
    assert_eq!(c.hangup_cause.as_deref(), Some("caller_bye"));
    assert_eq!(c.vars["menu.menu"], "1");
    for (x, y) in [
        (c.arrived_at, c.queued_at.unwrap()),
        (c.queued_at.unwrap(), c.offered_at.unwrap()),
        (c.offered_at.unwrap(), c.connected_at.unwrap()),
        (c.connected_at.unwrap(), c.ended_at.unwrap()),
    ] {
        assert!(x <= y, "times in order: {c:?}");
    }
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    let pos = |k: &str| {
        kinds
            .iter()
            .position(|x| *x == k)
            .unwrap_or_else(|| panic!("{k} in {kinds:?}"))
    };
    assert!(pos("queued") < pos("offered"));
    assert!(pos("offered") < pos("connected"));
    assert!(pos("connected") < pos("held"));
    assert!(pos("held") < pos("unheld"));
    assert!(pos("unheld") < pos("transferred"));
    assert!(pos("transferred") < pos("completed"));
    assert!(pos("completed") < pos("wrapped_up"));
    let wraps: Vec<(Option<Uuid>, &str)> = d
        .events
        .iter()
        .filter(|e| e.kind == "wrapped_up")
        .map(|e| (e.agent_id, e.details["disposition"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        wraps,
        vec![(Some(ub.id), "resolved"), (Some(ua.id), "escalated")]
    );
    let connected_by: Vec<Option<Uuid>> = d
        .events
        .iter()
        .filter(|e| e.kind == "connected")
        .map(|e| e.agent_id)
        .collect();
    assert_eq!(connected_by, vec![Some(ua.id), Some(ub.id)]);
    // The agents' phone legs have CDRs of their own, linked to the caller's.
    let legs: Page<CdrDto> = ok_json(
        a.admin
            .get(app.url("/api/v1/calls?direction=outbound"))
            .send()
            .await,
    )
    .await;
    let mut legs: Vec<(Uuid, Option<Uuid>, String)> = legs
        .items
        .into_iter()
        .map(|l| (l.call_id, l.parent_id, l.callee))
        .collect();
    legs.sort_by(|x, y| x.2.cmp(&y.2));
    assert_eq!(
        legs,
        vec![
            (leg_a, Some(call), "ext:2001".to_string()),
            (leg_b, Some(call), "ext:2002".to_string())
        ]
    );

    // Who sees the call: Alice and Bob (they handled it), not Carol; the admin sees all.
    for (who, sees) in [(&ca, true), (&cb, true), (&cc, false)] {
        let page: Page<CdrDto> = ok_json(
            who.get(app.url("/api/v1/calls?direction=inbound"))
                .send()
                .await,
        )
        .await;
        assert_eq!(page.items.iter().any(|x| x.call_id == call), sees);
        let r = who
            .get(app.url(&format!("/api/v1/calls/{call}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), if sees { 200 } else { 404 });
    }
    let filtered: Page<CdrDto> = ok_json(
        a.admin
            .get(app.url(&format!(
                "/api/v1/calls?agent_id={}&outcome=answered&number=3333",
                ub.id
            )))
            .send()
            .await,
    )
    .await;
    assert_eq!(filtered.total, 1);
    let none: Page<CdrDto> = ok_json(
        a.admin
            .get(app.url(&format!(
                "/api/v1/calls?agent_id={}&direction=inbound",
                uc.id
            )))
            .send()
            .await,
    )
    .await;
    assert_eq!(none.total, 0);
    problem(
        a.admin
            .get(app.url("/api/v1/calls?direction=sideways"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    // By wrap-up disposition (exact code).
    for (disposition, total) in [("resolved", 1), ("escalated", 0)] {
        let page: Page<CdrDto> = ok_json(
            a.admin
                .get(app.url(&format!(
                    "/api/v1/calls?disposition={disposition}&number=3333"
                )))
                .send()
                .await,
        )
        .await;
        assert_eq!(page.total, total, "disposition {disposition}");
    }
    // Bad filters are named, never a 500.
    let long = format!("disposition={}", "x".repeat(65));
    for (query, field) in [
        ("outcome=exploded", "outcome"),
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        (long.as_str(), "disposition"),
    ] {
        let p = problem(
            a.admin
                .get(app.url(&format!("/api/v1/calls?{query}")))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), vec![field], "{query}");
    }
    let r = a
        .admin
        .get(app.url("/api/v1/calls?agent_id=not-a-uuid"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400, "a malformed id is a 400");

    // Another tenant sees nothing of it, by id or in lists, and cannot act on it.
    let b = tenant(&app, "Other Calls").await;
    problem(
        b.admin
            .get(app.url(&format!("/api/v1/calls/{call}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    let page: Page<CdrDto> = ok_json(b.admin.get(app.url("/api/v1/calls")).send().await).await;
    assert_eq!(page.total, 0);
    problem(
        post(
            &b.admin,
            app.url(&format!("/api/v1/agent/calls/{call}/wrapup")),
            json!({ "disposition": "resolved" }),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

/// A caller who gives up in the queue; returns when the backend has taken the hang-up.
async fn abandoned_call(app: &TestApp, t: Uuid, gw: &str, caller: &str, last: &mut String) -> Uuid {
    let call = Uuid::new_v4();
    let at = chrono::Utc::now();
    event(
        app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.to_string(),
            call_id: call,
            tenant_id: t,
            caller: caller.into(),
            did: "+994125550188".into(),
            sip_call_id: format!("ab-{call}"),
            mode: FlowMode::Backend,
            at,
        },
    )
    .await;
    event(
        app,
        &GatewayEvent::DigitsCollected {
            call_id: call,
            tenant_id: t,
            digits: "1".into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    until(
        app,
        gw,
        last,
        |c| matches!(c, GatewayCommand::MusicOnHold { call_id, .. } if *call_id == call),
    )
    .await;
    event(
        app,
        &GatewayEvent::Hangup {
            call_id: call,
            tenant_id: t,
            cause: wire::HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    call
}

async fn missed(app: &TestApp, c: &Client, want: usize) -> Vec<MissedCallDto> {
    for _ in 0..100 {
        let list: Vec<MissedCallDto> =
            ok_json(c.get(app.url("/api/v1/missed-calls")).send().await).await;
        if list.len() == want {
            return list;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the missed-calls list never had {want} entries");
}

#[tokio::test]
async fn repeat_missed_calls_merge_and_one_click_callback_reaches_the_softphone() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Callbacks").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let t = a.info.tenant.id;
    sales_queue_and_flow(&app, &a, 0).await;
    // Dana has no desk phone: her calls go through the browser softphone, on a live gateway.
    let gw = stand_in_gateway(&app, "gw-test").await;
    let (ua, ca) = agent_without_phone(&app, &a, "dana", "2101").await;
    let (_ub, cb) = agent(&app, &a, "emil", "2102", &gw).await;
    let mut last = "0-0".to_string();

    // The same customer gives up twice (nobody is ready): one entry, counted twice.
    abandoned_call(&app, t, &gw, "+15550004444", &mut last).await;
    abandoned_call(&app, t, &gw, "+15550004444", &mut last).await;
    abandoned_call(&app, t, &gw, "+15550005555", &mut last).await;
    let list = missed(&app, &ca, 2).await;
    let repeat = list.iter().find(|m| m.number == "+15550004444").unwrap();
    assert_eq!((repeat.count, repeat.reason.as_str()), (2, "abandoned"));
    let other = list.iter().find(|m| m.number == "+15550005555").unwrap().id;

    // Without a browser softphone there is nothing to bridge the callback to.
    problem(
        post(
            &ca,
            app.url(&format!("/api/v1/missed-calls/{}/callback", repeat.id)),
            json!({}),
        )
        .await,
        409,
        "no_softphone",
    )
    .await;
    // Dana's softphone is connected (as the gateway's signalling would record it) and she
    // is ready; she calls the customer back.
    let soft_leg = Uuid::new_v4();
    {
        use redis::AsyncCommands;
        let mut r = app.state.redis();
        let _: () = r
            .hset_multiple(
                hotline_backend::devices::key(t, ua.id),
                &[
                    ("gateway_id", gw.as_str()),
                    ("leg_id", &soft_leg.to_string()),
                    ("http", "127.0.0.1:9"),
                ],
            )
            .await
            .unwrap();
    }
    ready(&app, &ca).await;
    let r = post(
        &ca,
        app.url(&format!("/api/v1/missed-calls/{}/callback", repeat.id)),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let started: hotline_wire::calls::CallbackStarted = r.json().await.unwrap();
    let leg = started.call_id;
    let cmd = until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Originate { .. })
    })
    .await;
    assert_eq!(
        cmd,
        GatewayCommand::Originate {
            call_id: leg,
            tenant_id: t,
            caller: "+994125550188".into(),
            callee: "+15550004444".into(),
        },
        "the customer sees the number they had called"
    );
    // The entry is taken: gone from the list, and a colleague cannot call it back too.
    let list = missed(&app, &cb, 1).await;
    assert_eq!(list[0].id, other);
    problem(
        post(
            &cb,
            app.url(&format!("/api/v1/missed-calls/{}/callback", repeat.id)),
            json!({}),
        )
        .await,
        409,
        "already_handled",
    )
    .await;
    // Dana is out of the queue's rotation while she calls.
    assert_eq!(acd_state(&app, &cb, ua.id).await, "not_ready");
    // The customer answers: bridged into Dana's softphone. She hangs up from the desktop.
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: leg,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let bridged = until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Bridge { .. })
    })
    .await;
    assert_eq!(
        bridged,
        GatewayCommand::Bridge {
            call_id: leg,
            target: format!("webrtc:{soft_leg}")
        }
    );
    let r = post(
        &ca,
        app.url(&format!("/api/v1/agent/calls/{leg}/hangup")),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Hangup { .. }
        ))
        .await,
        GatewayCommand::Hangup {
            call_id: leg,
            status: None
        }
    );
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: leg,
            tenant_id: t,
            cause: wire::HangupCause::GatewayBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    // Afterwards she is ready again, and the callback is on her call history.
    for _ in 0..100 {
        if acd_state(&app, &cb, ua.id).await == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(acd_state(&app, &cb, ua.id).await, "ready");
    let d: CdrDetailDto = ok_json(
        ca.get(app.url(&format!("/api/v1/calls/{leg}")))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (
            d.cdr.direction.as_str(),
            d.cdr.callee.as_str(),
            d.cdr.outcome.as_deref()
        ),
        ("outbound", "+15550004444", Some("answered"))
    );

    // A callback nobody answers puts the number back on the list, one attempt more.
    let r = post(
        &ca,
        app.url(&format!("/api/v1/missed-calls/{other}/callback")),
        json!({}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let leg2 = r
        .json::<hotline_wire::calls::CallbackStarted>()
        .await
        .unwrap()
        .call_id;
    missed(&app, &ca, 0).await;
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: leg2,
            tenant_id: t,
            cause: wire::HangupCause::Rejected,
            status: Some(486),
            at: chrono::Utc::now(),
        },
    )
    .await;
    let list = missed(&app, &ca, 1).await;
    assert_eq!((list[0].id, list[0].attempts), (other, 1));

    // Another tenant cannot see or call back these entries.
    let b = tenant(&app, "Other Callbacks").await;
    let theirs: Vec<MissedCallDto> =
        ok_json(b.admin.get(app.url("/api/v1/missed-calls")).send().await).await;
    assert!(theirs.is_empty());
    problem(
        post(
            &b.admin,
            app.url(&format!("/api/v1/missed-calls/{other}/callback")),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}

/// A caller connected to an agent on a SIP phone, through a stand-in gateway.
struct Connected {
    t: Uuid,
    gw: String,
    call: Uuid,
    agent_leg: Uuid,
    last: String,
    agent: UserDto,
    client: Client,
}

/// Sets up the tenant's Sales queue and flow, agent `name` (extension `ext`, Ready), and a
/// call from `caller` that reaches them and is bridged to their phone leg.
async fn connected(app: &TestApp, a: &Tenant, name: &str, ext: &str, caller: &str) -> Connected {
    let t = a.info.tenant.id;
    sales_queue_and_flow(app, a, 0).await;
    let gw = format!("gw-{name}-{}", Uuid::new_v4().simple());
    let (agent, client) = self::agent(app, a, name, ext, &gw).await;
    ready(app, &client).await;
    let call = Uuid::new_v4();
    let mut last = "0-0".to_string();
    let at = chrono::Utc::now();
    for ev in [
        GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id: call,
            tenant_id: t,
            caller: caller.into(),
            did: "+994125550177".into(),
            sip_call_id: format!("{name}-1"),
            mode: FlowMode::Backend,
            at,
        },
        GatewayEvent::CallAnswered {
            call_id: call,
            tenant_id: t,
            at,
        },
        GatewayEvent::DigitsCollected {
            call_id: call,
            tenant_id: t,
            digits: "1".into(),
            end: wire::CollectEnd::Max,
        },
    ] {
        event(app, &ev).await;
    }
    let agent_leg = match until(app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Originate { .. })
    })
    .await
    {
        GatewayCommand::Originate { call_id, .. } => call_id,
        _ => unreachable!(),
    };
    event(
        app,
        &GatewayEvent::CallAnswered {
            call_id: agent_leg,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    until(app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Bridge { .. })
    })
    .await;
    Connected {
        t,
        gw,
        call,
        agent_leg,
        last,
        agent,
        client,
    }
}

/// Blind transfer to an outside number: the gateway dials it (showing the number the caller
/// called), the agent is free at once and their desktop told, the caller hears music and is
/// bridged to the number when it answers; when that party hangs up the caller's call ends
/// too. A do-not-call number and nonsense are refused.
#[tokio::test]
async fn transfer_to_an_outside_number_bridges_the_caller_and_frees_the_agent() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Outside Calls").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let Connected {
        t,
        gw,
        call,
        agent_leg: leg_a,
        mut last,
        agent: ua,
        client: ca,
    } = connected(&app, &a, "olga", "2101", "+15550004444").await;
    let transfer = |body: serde_json::Value| {
        post(
            &ca,
            app.url(&format!("/api/v1/agent/calls/{call}/transfer")),
            body,
        )
    };
    problem(
        transfer(json!({ "number": "not a number" })).await,
        422,
        "validation_failed",
    )
    .await;
    let _: serde_json::Value = created(
        a.admin
            .post(app.url("/api/v1/blocklist"))
            .json(&json!({ "number": "+15550009999", "direction": "outbound" }))
            .send()
            .await,
    )
    .await;
    problem(
        transfer(json!({ "number": "+15550009999" })).await,
        409,
        "do_not_call",
    )
    .await;
    let r = transfer(json!({ "number": "+1 555 000 8888" }))
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // The agent's phone leg is hung up, the caller waits with music, the number is dialled.
    let mut seen = vec![];
    let outside = loop {
        let c = next_command(&app, &gw, &mut last).await;
        if let GatewayCommand::Originate {
            call_id,
            caller,
            callee,
            ..
        } = &c
        {
            assert_eq!(
                (caller.as_str(), callee.as_str()),
                ("+994125550177", "+15550008888")
            );
            break *call_id;
        }
        seen.push(c);
    };
    assert!(
        seen.contains(&GatewayCommand::Hangup {
            call_id: leg_a,
            status: None
        }),
        "{seen:?}"
    );
    assert!(
        seen.iter()
            .any(|c| matches!(c, GatewayCommand::MusicOnHold { call_id, .. } if *call_id == call)),
        "{seen:?}"
    );
    // The agent is no longer on the call.
    let now = hotline_backend::agents::agent_acd_state(&app.state, t, ua.id)
        .await
        .unwrap();
    assert!(
        matches!(now.as_str(), "wrap_up" | "ready"),
        "agent is {now}"
    );
    problem(
        post(
            &ca,
            app.url(&format!("/api/v1/agent/calls/{call}/hold")),
            json!({}),
        )
        .await,
        409,
        "not_your_call",
    )
    .await;
    // Answered: bridged to the caller. The outside party hangs up: so does the caller's call.
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: outside,
            tenant_id: t,
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Bridge { .. }
        ))
        .await,
        GatewayCommand::Bridge {
            call_id: call,
            target: outside.to_string()
        }
    );
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: outside,
            tenant_id: t,
            cause: wire::HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Hangup { .. }
        ))
        .await,
        GatewayCommand::Hangup {
            call_id: call,
            status: None
        }
    );
}

fn answered(call_id: Uuid, tenant_id: Uuid) -> GatewayEvent {
    GatewayEvent::CallAnswered {
        call_id,
        tenant_id,
        at: chrono::Utc::now(),
    }
}

fn hung_up(call_id: Uuid, tenant_id: Uuid) -> GatewayEvent {
    GatewayEvent::Hangup {
        call_id,
        tenant_id,
        cause: wire::HangupCause::CallerBye,
        status: None,
        at: chrono::Utc::now(),
    }
}

/// Consultation then a three-way conference: the caller holds while the agent calls a number
/// and talks to them; the conference puts the three in one room on the gateway; the
/// consulted party leaving keeps the others; the agent's hang-up ends the call.
#[tokio::test]
async fn consult_then_conference_joins_the_three_in_one_room() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Consult Calls").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let Connected {
        t,
        gw,
        call,
        agent_leg,
        mut last,
        client,
        ..
    } = connected(&app, &a, "pavel", "2201", "+15550005555").await;
    let act = |what: &str, body: serde_json::Value| {
        post(
            &client,
            app.url(&format!("/api/v1/agent/calls/{call}/{what}")),
            body,
        )
    };
    problem(act("consult", json!({})).await, 422, "validation_failed").await;
    problem(act("consult/transfer", json!({})).await, 409, "no_consult").await;
    let started: hotline_wire::calls::CallbackStarted =
        created(act("consult", json!({ "number": "+15550006666" })).await).await;
    let leg = started.call_id;
    let mut seen = vec![];
    loop {
        let c = next_command(&app, &gw, &mut last).await;
        if let GatewayCommand::Originate {
            call_id,
            caller,
            callee,
            ..
        } = &c
        {
            assert_eq!(*call_id, leg);
            assert_eq!(
                (caller.as_str(), callee.as_str()),
                ("+994125550177", "+15550006666")
            );
            break;
        }
        seen.push(c);
    }
    assert!(
        seen.iter()
            .any(|c| matches!(c, GatewayCommand::MusicOnHold { call_id, .. } if *call_id == call)),
        "the caller holds: {seen:?}"
    );
    problem(
        act("consult", json!({ "number": "+15550006667" })).await,
        409,
        "consult_in_progress",
    )
    .await;
    problem(
        act("consult/conference", json!({})).await,
        409,
        "consult_not_answered",
    )
    .await;
    // Answered: the agent's phone leg talks to the consulted party.
    event(&app, &answered(leg, t)).await;
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Bridge { .. }
        ))
        .await,
        GatewayCommand::Bridge {
            call_id: leg,
            target: agent_leg.to_string()
        }
    );
    let r = act("consult/conference", json!({})).await.unwrap();
    assert_eq!(r.status(), 204);
    let mut members = vec![];
    while members.len() < 3 {
        if let GatewayCommand::Conference { call_id, room } =
            next_command(&app, &gw, &mut last).await
        {
            assert_eq!(room, call.to_string());
            members.push(call_id);
        }
    }
    members.sort();
    let mut want = vec![call, agent_leg, leg];
    want.sort();
    assert_eq!(members, want);
    // The consulted party leaves: the caller is not hung up.
    event(&app, &hung_up(leg, t)).await;
    let r = act("hold", json!({})).await.unwrap();
    assert_eq!(r.status(), 204, "the agent still has the call");
    // The agent hangs up: the call ends.
    let r = post(
        &client,
        app.url(&format!("/api/v1/agent/calls/{call}/hangup")),
        json!({}),
    )
    .await
    .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        until(&app, &gw, &mut last, |c| {
            matches!(c, GatewayCommand::Hangup { call_id, .. } if *call_id == call)
        })
        .await,
        GatewayCommand::Hangup {
            call_id: call,
            status: None
        }
    );
}

/// Consultation then transfer: the caller is bridged to the consulted party and the agent is
/// free; a second consultation on another call is cancelled and the caller comes back.
#[tokio::test]
async fn consult_then_transfer_or_cancel() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Consult Transfer").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let Connected {
        t,
        gw,
        call,
        agent_leg,
        mut last,
        agent,
        client,
    } = connected(&app, &a, "rita", "2301", "+15550007777").await;
    let act = |what: &str, body: serde_json::Value| {
        post(
            &client,
            app.url(&format!("/api/v1/agent/calls/{call}/{what}")),
            body,
        )
    };
    // Cancel first: the consult leg is hung up and the caller bridged back to the agent.
    let first: hotline_wire::calls::CallbackStarted =
        created(act("consult", json!({ "number": "+15550008001" })).await).await;
    event(&app, &answered(first.call_id, t)).await;
    until(
        &app,
        &gw,
        &mut last,
        |c| matches!(c, GatewayCommand::Bridge { call_id, .. } if *call_id == first.call_id),
    )
    .await;
    assert_eq!(
        act("consult/cancel", json!({})).await.unwrap().status(),
        204
    );
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Hangup { .. }
        ))
        .await,
        GatewayCommand::Hangup {
            call_id: first.call_id,
            status: None
        }
    );
    assert_eq!(
        until(&app, &gw, &mut last, |c| matches!(
            c,
            GatewayCommand::Bridge { .. }
        ))
        .await,
        GatewayCommand::Bridge {
            call_id: call,
            target: agent_leg.to_string()
        }
    );
    // Now consult a colleague's desk phone and hand the caller over.
    problem(
        act("consult", json!({ "extension": "9999" })).await,
        422,
        "validation_failed",
    )
    .await;
    let second: hotline_wire::calls::CallbackStarted =
        created(act("consult", json!({ "extension": "2301" })).await).await;
    let callee = match until(&app, &gw, &mut last, |c| {
        matches!(c, GatewayCommand::Originate { .. })
    })
    .await
    {
        GatewayCommand::Originate { callee, .. } => callee,
        _ => unreachable!(),
    };
    assert_eq!(callee, "ext:2301");
    event(&app, &answered(second.call_id, t)).await;
    until(
        &app,
        &gw,
        &mut last,
        |c| matches!(c, GatewayCommand::Bridge { call_id, .. } if *call_id == second.call_id),
    )
    .await;
    assert_eq!(
        act("consult/transfer", json!({})).await.unwrap().status(),
        204
    );
    assert_eq!(
        until(
            &app,
            &gw,
            &mut last,
            |c| matches!(c, GatewayCommand::Bridge { call_id, .. } if *call_id == call)
        )
        .await,
        GatewayCommand::Bridge {
            call_id: call,
            target: second.call_id.to_string()
        }
    );
    let now = hotline_backend::agents::agent_acd_state(&app.state, t, agent.id)
        .await
        .unwrap();
    assert!(
        matches!(now.as_str(), "wrap_up" | "ready"),
        "agent is {now}"
    );
    // The consulted party hangs up: the caller's call ends with it.
    event(&app, &hung_up(second.call_id, t)).await;
    assert_eq!(
        until(
            &app,
            &gw,
            &mut last,
            |c| matches!(c, GatewayCommand::Hangup { call_id, .. } if *call_id == call)
        )
        .await,
        GatewayCommand::Hangup {
            call_id: call,
            status: None
        }
    );
}

/// Supervisors work the missed-calls list: a role with only `supervise` reads it with filters
/// (status, reason, number, time), marks an entry handled (once: a second time is a 409), and
/// sees who handled it with the queue of the call; bad filters are 422s naming the field;
/// another tenant can neither read nor mark it; a role without `supervise` or `agent.state`
/// gets a 403.
#[tokio::test]
async fn supervisors_filter_missed_calls_and_mark_them_handled() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Missed Floor").await;
    outbound_ready(&app, &a, &["+994125550177", "+994125550188"]).await;
    let t = a.info.tenant.id;
    sales_queue_and_flow(&app, &a, 0).await;
    let gw = stand_in_gateway(&app, "gw-missed").await;
    let mut last = "0-0".to_string();
    abandoned_call(&app, t, &gw, "+15550006666", &mut last).await;
    abandoned_call(&app, t, &gw, "+15550007777", &mut last).await;

    let role: serde_json::Value = created(
        a.admin
            .post(app.url("/api/v1/roles"))
            .json(&json!({ "name": "Floor lead", "permissions": ["supervise"] }))
            .send()
            .await,
    )
    .await;
    let lead: UserDto = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": "lead@missed.test", "name": "Lena Lead",
                           "password": PASSWORD, "role_id": role["id"] }))
            .send()
            .await,
    )
    .await;
    let lc = app.client();
    login(&app, &lc, a.slug(), "lead@missed.test", PASSWORD).await;
    let list = missed(&app, &lc, 2).await;
    assert!(
        list.iter()
            .all(|m| m.queue_name.as_deref() == Some("Sales")),
        "{list:?}"
    );
    let get = |q: &str| {
        let (lc, url) = (lc.clone(), app.url(&format!("/api/v1/missed-calls?{q}")));
        async move { ok_json::<Vec<MissedCallDto>>(lc.get(url).send().await).await }
    };
    let one = get("number=6666").await;
    assert_eq!(one.len(), 1);
    assert_eq!(get("reason=abandoned").await.len(), 2);
    assert_eq!(get("reason=voicemail").await.len(), 0);
    assert_eq!(get("from=2099-01-01T00:00:00Z").await.len(), 0);

    let url = app.url(&format!("/api/v1/missed-calls/{}/handled", one[0].id));
    // Another tenant cannot see or mark it.
    let b = tenant(&app, "Missed Other").await;
    problem(
        post(&b.admin, url.clone(), json!({})).await,
        404,
        "not_found",
    )
    .await;
    let theirs: Vec<MissedCallDto> = ok_json(
        b.admin
            .get(app.url("/api/v1/missed-calls?status=all"))
            .send()
            .await,
    )
    .await;
    assert!(theirs.is_empty());
    // Nor can someone who neither supervises nor takes calls.
    let (_, ticketer) = {
        let role: serde_json::Value = created(
            a.admin
                .post(app.url("/api/v1/roles"))
                .json(&json!({ "name": "Ticket desk", "permissions": ["tickets.work"] }))
                .send()
                .await,
        )
        .await;
        let u: UserDto = created(
            a.admin
                .post(app.url("/api/v1/users"))
                .json(&json!({ "email": "desk@missed.test", "name": "Desk",
                               "password": PASSWORD, "role_id": role["id"] }))
                .send()
                .await,
        )
        .await;
        let c = app.client();
        login(&app, &c, a.slug(), "desk@missed.test", PASSWORD).await;
        (u, c)
    };
    problem(
        ticketer.get(app.url("/api/v1/missed-calls")).send().await,
        403,
        "forbidden",
    )
    .await;
    problem(
        post(&ticketer, url.clone(), json!({})).await,
        403,
        "forbidden",
    )
    .await;

    let r = post(&lc, url.clone(), json!({})).await.unwrap();
    assert_eq!(r.status(), 204);
    problem(
        post(&lc, url.clone(), json!({})).await,
        409,
        "already_handled",
    )
    .await;
    let open = get("").await;
    assert_eq!(open.len(), 1, "handled entries leave the open list");
    let done = get("status=handled").await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].handled_by_name.as_deref(), Some("Lena Lead"));
    assert!(done[0].handled_at.is_some());
    assert_eq!(get("status=all").await.len(), 2);
    let _ = lead;

    for (q, field) in [
        ("status=gone", "status"),
        ("reason=bored", "reason"),
        ("from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
    ] {
        let p = problem(
            lc.get(app.url(&format!("/api/v1/missed-calls?{q}")))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), vec![field], "{q}");
    }
    problem(
        post(
            &lc,
            app.url(&format!("/api/v1/missed-calls/{}/handled", Uuid::new_v4())),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
}
