//! Queue priority across queues that share agents (issue 17): a caller in the higher-priority
//! queue is offered first, even when a caller in the lower one has waited longer. Driven like a
//! real call: gateway events on the backend's stream, commands read back from a stand-in
//! gateway's command stream, the agent through the API.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    calls::FlowDto,
    gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent},
};
use serde_json::json;
use uuid::Uuid;

async fn queue(app: &TestApp, t: &Tenant, name: &str, priority: i32) {
    created::<serde_json::Value>(
        t.admin
            .post(app.url("/api/v1/queues"))
            .json(
                &json!({ "name": name, "strategy": "longest_idle", "max_wait_seconds": 0,
                           "wrap_up_seconds": 0, "priority": priority }),
            )
            .send()
            .await,
    )
    .await;
}

/// A caller from `number` who presses `digit` at the menu (1: Low, 2: High); returns once the
/// backend has queued them (music on hold).
async fn caller(app: &TestApp, t: Uuid, gw: &str, number: &str, digit: &str, last: &mut String) {
    let call = Uuid::new_v4();
    let at = chrono::Utc::now();
    event(
        app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.into(),
            call_id: call,
            tenant_id: t,
            caller: number.into(),
            did: "+994125550199".into(),
            sip_call_id: format!("prio-{number}"),
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
            digits: digit.into(),
            end: wire::CollectEnd::Max,
        },
    )
    .await;
    loop {
        if let GatewayCommand::MusicOnHold { call_id, .. } = next_command(app, gw, last).await {
            if call_id == call {
                return;
            }
        }
    }
}

#[tokio::test]
async fn the_higher_priority_queue_is_served_first_by_a_shared_agent() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Priorities").await;
    let t = a.info.tenant.id;
    queue(&app, &a, "Low", 0).await;
    queue(&app, &a, "High", 50).await;
    let f: FlowDto = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "is_default": true, "graph": {
                "start": "menu",
                "nodes": {
                    "menu": { "type": "menu", "prompt": "menu", "options": { "1": "low", "2": "high" },
                              "retries": 0, "fallback": "bye" },
                    "low": { "type": "queue", "queue": "Low", "priority": 9 },
                    "high": { "type": "queue", "queue": "High", "priority": 0 },
                    "bye": { "type": "hangup", "prompt": null }
                }
            }}))
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
    let gw = format!("gw-prio-{}", Uuid::new_v4().simple());
    let role = a.role(&app, "Agent").await;
    let _: serde_json::Value = created(
        a.admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": "ann@prio.test", "name": "Ann", "password": PASSWORD,
                           "role_id": role.id, "extension": "3001" }),
            )
            .send()
            .await,
    )
    .await;
    register_desk_phone(&app, t, "3001", &gw).await;
    let ann = app.client();
    login(&app, &ann, a.slug(), "ann@prio.test", PASSWORD).await;

    // The Low caller waits first (with a higher priority inside their queue), then the High.
    let mut last = "0-0".to_string();
    caller(&app, t, &gw, "+15550001111", "1", &mut last).await;
    caller(&app, t, &gw, "+15550002222", "2", &mut last).await;
    // Ann serves both queues; ready, her phone rings with the High caller.
    ok_json::<serde_json::Value>(
        ann.put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
    )
    .await;
    loop {
        if let GatewayCommand::Originate { caller, callee, .. } =
            next_command(&app, &gw, &mut last).await
        {
            assert_eq!(callee, "ext:3001");
            assert_eq!(caller, "+15550002222", "the High queue's caller first");
            break;
        }
    }
}
