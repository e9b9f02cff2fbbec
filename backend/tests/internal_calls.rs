//! Internal calls (one employee to another) and the company directory: presence follows the
//! devices and calls, a colleague is called from the desk or from a desk phone that dialled
//! their extension, bad requests are clear 4xx, another tenant sees and reaches nobody. The
//! gateway side with real SIP phones is `tests/tests/internal_calls.rs`.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::calls::{CallbackStarted, DirectoryEntry};
use hotline_wire::gateway::{GatewayCommand, GatewayEvent, HangupCause};
use reqwest::Client;
use serde_json::json;
use uuid::Uuid;

/// A user of `t` with the Agent role and `ext` (none: no extension), signed in.
async fn employee(app: &TestApp, t: &Tenant, name: &str, ext: Option<&str>) -> (Uuid, Client) {
    let role = t.role(app, "Agent").await;
    let email = format!("{}@{}.test", name.to_lowercase(), t.slug());
    let u: hotline_wire::api::UserDto = created(
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": email, "name": name, "password": PASSWORD,
                           "role_id": role.id, "extension": ext }))
            .send()
            .await,
    )
    .await;
    let c = app.client();
    login(app, &c, t.slug(), &email, PASSWORD).await;
    (u.id, c)
}

async fn directory(app: &TestApp, c: &Client) -> Vec<DirectoryEntry> {
    ok_json(c.get(app.url("/api/v1/directory")).send().await).await
}

fn presence_of(d: &[DirectoryEntry], name: &str) -> String {
    d.iter()
        .find(|e| e.name == name)
        .unwrap_or_else(|| panic!("{name} not in {d:?}"))
        .presence
        .clone()
}

#[tokio::test]
async fn the_directory_shows_presence_and_colleagues_are_called_by_extension() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Internal A").await;
    let b = tenant(&app, "Internal B").await;
    let ta = a.info.tenant.id;
    let (ann, ann_c) = employee(&app, &a, "Ann", Some("3001")).await;
    let (bob, _) = employee(&app, &a, "Bob", Some("3002")).await;
    let (cat, _) = employee(&app, &a, "Cat", Some("3003")).await;
    let (_, dan_c) = employee(&app, &a, "Dan", Some("3004")).await;
    let (noext, _) = employee(&app, &a, "Nox", None).await;
    let (bea, bea_c) = employee(&app, &b, "Bea", Some("3001")).await;
    let gw = stand_in_gateway(&app, "gw-int").await;

    // Everyone with an extension, by name, offline until a device is up; no one without one.
    let d = directory(&app, &ann_c).await;
    let names: Vec<&str> = d.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["Ann", "Bob", "Cat", "Dan"]);
    assert!(d.iter().all(|e| e.presence == "offline"), "{d:?}");
    assert_eq!(d[1].extension, "3002");
    // A registered desk phone or a softphone leg: available.
    register_desk_phone(&app, ta, "3002", &gw).await;
    stand_in_softphone(&app, ta, ann, &gw).await;
    let d = directory(&app, &ann_c).await;
    assert_eq!(presence_of(&d, "Bob"), "available");
    assert_eq!(presence_of(&d, "Ann"), "available");
    assert_eq!(presence_of(&d, "Cat"), "offline");

    // Another tenant's directory has its own people only, and its users cannot be called.
    let theirs = directory(&app, &bea_c).await;
    assert_eq!(theirs.iter().map(|e| e.user_id).collect::<Vec<_>>(), [bea]);
    let call = |c: &Client, user: Uuid| {
        c.post(app.url("/api/v1/agent/internal-call"))
            .json(&json!({ "user_id": user }))
            .send()
    };
    let p = problem(call(&bea_c, bob).await, 422, "validation_failed").await;
    assert_eq!(field_names(&p), ["user_id"]);

    // Bad requests: no extension, unknown user, oneself, a malformed body; a colleague whose
    // desk phone is not registered; an agent with no phone of their own.
    for who in [noext, Uuid::new_v4(), ann] {
        let p = problem(call(&ann_c, who).await, 422, "validation_failed").await;
        assert_eq!(field_names(&p), ["user_id"]);
    }
    let bad = ann_c
        .post(app.url("/api/v1/agent/internal-call"))
        .json(&json!({ "user_id": "nope" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    problem(call(&ann_c, cat).await, 409, "colleague_unreachable").await;
    problem(call(&dan_c, bob).await, 409, "no_softphone").await;

    // Ann calls Bob from her softphone: the gateway dials his extension; both are busy.
    let mut last = "0".to_string();
    let started: CallbackStarted = created(call(&ann_c, bob).await).await;
    match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate {
            call_id, callee, ..
        } => {
            assert_eq!((call_id, callee.as_str()), (started.call_id, "ext:3002"));
        }
        other => panic!("{other:?}"),
    }
    let d = directory(&app, &dan_c).await;
    assert_eq!(presence_of(&d, "Ann"), "busy");
    assert_eq!(presence_of(&d, "Bob"), "busy");
    // Busy colleagues are refused; so is a second call of Ann's.
    stand_in_softphone(&app, ta, cat, &gw).await;
    let cat_c = app.client();
    let cat_email = format!("cat@{}.test", a.slug());
    login(&app, &cat_c, a.slug(), &cat_email, PASSWORD).await;
    problem(call(&cat_c, bob).await, 409, "colleague_busy").await;
    problem(call(&ann_c, cat).await, 409, "agent_busy").await;

    // Bob answers: bridged into Ann's softphone. He hangs up: Ann's call ends, both are free.
    let answered = GatewayEvent::CallAnswered {
        call_id: started.call_id,
        tenant_id: ta,
        at: chrono::Utc::now(),
    };
    event(&app, &answered).await;
    loop {
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Bridge { call_id, target } => {
                assert_eq!(call_id, started.call_id);
                assert!(target.starts_with("webrtc:"), "{target}");
                break;
            }
            _ => continue,
        }
    }
    let hung = GatewayEvent::Hangup {
        call_id: started.call_id,
        tenant_id: ta,
        cause: HangupCause::CallerBye,
        status: None,
        at: chrono::Utc::now(),
    };
    event(&app, &hung).await;
    let mut free = false;
    for _ in 0..100 {
        let d = directory(&app, &dan_c).await;
        if presence_of(&d, "Ann") == "available" && presence_of(&d, "Bob") == "available" {
            free = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(free, "both free again");
    // The call log shows it as internal, from Ann to Bob.
    let row: (
        String,
        String,
        String,
        Option<Uuid>,
        Option<Uuid>,
        Option<String>,
    ) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT direction, caller, callee, agent_id, callee_user_id, outcome
               FROM {}.cdrs WHERE call_id = $1",
        hotline_backend::db::schema_name(ta)
    )))
    .bind(started.call_id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(
        row,
        (
            "internal".into(),
            "3001".into(),
            "3002".into(),
            Some(ann),
            Some(bob),
            Some("answered".into())
        )
    );
    let listed = ann_c
        .get(app.url("/api/v1/calls?direction=internal"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&started.call_id.to_string()), "{listed}");

    // A desk phone dials extensions (the gateway's `internal_call`): unknown → 404, not
    // registered → 480; a registered colleague is dialled and, answered, bridged to it.
    register_desk_phone(&app, ta, "3004", &gw).await;
    let dialled = |to: &str| GatewayEvent::InternalCall {
        gateway_id: gw.clone(),
        call_id: Uuid::new_v4(),
        tenant_id: ta,
        from_ext: "3004".into(),
        to: to.into(),
        sip_call_id: "sip-int".into(),
        at: chrono::Utc::now(),
    };
    for (to, want) in [("9999", 404), ("3003", 480)] {
        let ev = dialled(to);
        event(&app, &ev).await;
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Hangup { call_id, status } => {
                assert_eq!(Some(call_id), ev_call(&ev));
                assert_eq!(status, Some(want), "{to}");
            }
            other => panic!("{to}: {other:?}"),
        }
    }
    let ev = dialled("3002");
    let inbound = ev_call(&ev).unwrap();
    event(&app, &ev).await;
    let leg = match next_command(&app, &gw, &mut last).await {
        GatewayCommand::Originate {
            call_id, callee, ..
        } => {
            assert_eq!(callee, "ext:3002");
            call_id
        }
        other => panic!("{other:?}"),
    };
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: leg,
            tenant_id: ta,
            at: chrono::Utc::now(),
        },
    )
    .await;
    let mut seen = vec![];
    while seen.len() < 2 {
        match next_command(&app, &gw, &mut last).await {
            GatewayCommand::Answer { call_id } => seen.push(format!("answer {call_id}")),
            GatewayCommand::Bridge { call_id, target } => {
                seen.push(format!("bridge {call_id} {target}"))
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        [
            format!("answer {inbound}"),
            format!("bridge {leg} {inbound}")
        ]
    );
    // The calling desk phone hangs up: the colleague's leg is hung up too.
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: inbound,
            tenant_id: ta,
            cause: HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    loop {
        if let GatewayCommand::Hangup { call_id, .. } = next_command(&app, &gw, &mut last).await {
            assert_eq!(call_id, leg);
            break;
        }
    }

    // No permission to read the directory without a session.
    problem(
        app.client().get(app.url("/api/v1/directory")).send().await,
        401,
        "unauthenticated",
    )
    .await;
}

fn ev_call(ev: &GatewayEvent) -> Option<Uuid> {
    match ev {
        GatewayEvent::InternalCall { call_id, .. } => Some(*call_id),
        _ => None,
    }
}
