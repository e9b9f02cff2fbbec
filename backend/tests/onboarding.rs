//! The home page's data. A fresh sign-up has done none of the five first steps; each step
//! done through the API (an agent added, a queue, a published IVR flow, one of its numbers
//! given that flow, a first call recorded) turns its own flag on and no other. Another
//! tenant's progress is never counted, and only an administrator may ask. An agent's queues
//! are those whose required skills they have.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::gateway::{FlowMode, GatewayEvent, HangupCause};
use hotline_wire::onboarding::{MyQueueDto, OnboardingDto};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

async fn progress(app: &TestApp, client: &Client) -> OnboardingDto {
    ok_json(client.get(app.url("/api/v1/onboarding")).send().await).await
}

async fn my_queues(app: &TestApp, client: &Client) -> Vec<String> {
    let q: Vec<MyQueueDto> =
        ok_json(client.get(app.url("/api/v1/agent/queues")).send().await).await;
    q.into_iter().map(|q| q.name).collect()
}

#[tokio::test]
async fn each_first_step_ticks_itself_for_its_own_tenant_only() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Onboard A").await;
    let b = tenant(&app, "Onboard B").await;
    let tid = a.info.tenant.id;
    let none = OnboardingDto::default();
    assert_eq!(progress(&app, &a.admin).await, none, "a fresh tenant");
    assert_eq!(progress(&app, &a.admin).await.done(), 0);

    // 1. An agent besides the administrator.
    let (_agent, agent) = a.user(&app, "aysel@onboard-a.test", "Agent").await;
    let p = progress(&app, &a.admin).await;
    assert_eq!(
        p,
        OnboardingDto {
            agents_added: true,
            ..none
        }
    );
    // Agents do not see the checklist.
    problem(
        agent.get(app.url("/api/v1/onboarding")).send().await,
        403,
        "forbidden",
    )
    .await;
    assert!(my_queues(&app, &agent).await.is_empty(), "no queue yet");

    // 2. A queue (and one the agent lacks the skill for).
    let skill: Value = created(
        a.admin
            .post(app.url("/api/v1/skills"))
            .json(&json!({ "name": "French" }))
            .send()
            .await,
    )
    .await;
    for (name, skills) in [
        ("Sales", json!([])),
        (
            "French desk",
            json!([{ "skill_id": skill["id"], "level": 5 }]),
        ),
    ] {
        created::<Value>(
            a.admin
                .post(app.url("/api/v1/queues"))
                .json(
                    &json!({ "name": name, "strategy": "longest_idle", "max_wait_seconds": 0,
                               "wrap_up_seconds": 0, "required_skills": skills }),
                )
                .send()
                .await,
        )
        .await;
    }
    let p = progress(&app, &a.admin).await;
    assert!(p.agents_added && p.queue_created, "{p:?}");
    assert!(
        !p.flow_published && !p.number_mapped && !p.first_call,
        "{p:?}"
    );
    assert_eq!(my_queues(&app, &agent).await, ["Sales"], "skills decide");

    // 3. A flow: saved is not enough, published is.
    let flow: Value = created(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": {
                "start": "q", "nodes": { "q": { "type": "queue", "queue": "Sales" } } } }))
            .send()
            .await,
    )
    .await;
    assert!(!progress(&app, &a.admin).await.flow_published, "saved only");
    let flow_id = flow["id"].as_str().unwrap().to_string();
    ok_json::<Value>(
        a.admin
            .post(app.url(&format!("/api/v1/ivr/flows/{flow_id}/publish")))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await;
    let p = progress(&app, &a.admin).await;
    assert!(p.flow_published && !p.number_mapped, "{p:?}");

    // 4. A number: given by the platform is not enough, given the flow is.
    let did = format!("+99412{}", &Uuid::new_v4().as_u128().to_string()[..7]);
    let op = operator(&app).await;
    let r = op
        .post(app.url("/api/v1/platform/dids"))
        .json(&json!({ "did": did, "tenant_id": tid, "description": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert!(!progress(&app, &a.admin).await.number_mapped, "unassigned");
    // Tenant B cannot give A's number to its flow.
    let b_flow: Value = created(
        b.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "B", "graph": {
                "start": "h", "nodes": { "h": { "type": "hangup", "prompt": null } } } }))
            .send()
            .await,
    )
    .await;
    problem(
        b.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": did, "flow_id": b_flow["id"] }))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    ok_json::<Value>(
        a.admin
            .put(app.url("/api/v1/ivr/dids"))
            .json(&json!({ "did": did, "flow_id": flow_id }))
            .send()
            .await,
    )
    .await;
    let p = progress(&app, &a.admin).await;
    assert!(p.number_mapped && !p.first_call, "{p:?}");

    // 5. A first call, reported as a gateway reports it (refused busy): its CDR counts.
    let call_id = Uuid::new_v4();
    event(
        &app,
        &GatewayEvent::CallStarted {
            gateway_id: format!("gw-onboard-{}", Uuid::new_v4().simple()),
            call_id,
            tenant_id: tid,
            caller: "+15550001111".into(),
            did: did.clone(),
            sip_call_id: format!("onboard-{call_id}"),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        },
    )
    .await;
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id,
            tenant_id: tid,
            cause: HangupCause::Rejected,
            status: Some(486),
            at: chrono::Utc::now(),
        },
    )
    .await;
    let mut p = progress(&app, &a.admin).await;
    for _ in 0..100 {
        if p.first_call {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        p = progress(&app, &a.admin).await;
    }
    assert_eq!(
        p,
        OnboardingDto {
            agents_added: true,
            queue_created: true,
            flow_published: true,
            number_mapped: true,
            first_call: true,
        }
    );
    assert_eq!(p.done(), OnboardingDto::STEPS);

    // Tenant B has done nothing of it: A's users, queues, flow, number and call are A's.
    assert_eq!(progress(&app, &b.admin).await, none, "tenant B");
    let (_, b_agent) = b.user(&app, "piotr@onboard-b.test", "Agent").await;
    assert!(my_queues(&app, &b_agent).await.is_empty(), "A's queues");
    let p = progress(&app, &b.admin).await;
    assert!(p.agents_added && p.done() == 1, "{p:?}");

    // Signed out: 401.
    let r = app
        .client()
        .get(app.url("/api/v1/onboarding"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
