//! Breaks that need approval (issue 17): choosing such a reason is refused as a state and
//! filed as a request; supervisors list, approve (the agent enters the break through the ACD)
//! or deny (the agent is told); the agent can cancel; every step is audited; another tenant's
//! supervisor reaches nothing.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{AgentStateDto, AgentStatus, BreakRequestDto, ReasonCodeDto};
use serde_json::{json, Value};

#[tokio::test]
async fn a_break_that_needs_approval_is_requested_decided_and_audited() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Breaks A").await;
    let b = tenant(&app, "Breaks B").await;
    let (agent, agent_c) = a.user(&app, "agent@breaks-a.test", "Agent").await;
    let (_sup, sup_c) = a.user(&app, "sup@breaks-a.test", "Supervisor").await;
    let (_bsup, bsup_c) = b.user(&app, "sup@breaks-b.test", "Supervisor").await;
    let long: ReasonCodeDto = created(
        a.admin
            .post(app.url("/api/v1/reason-codes"))
            .json(&json!({ "name": "Long lunch", "kind": "break", "needs_approval": true }))
            .send()
            .await,
    )
    .await;
    let state = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/api/v1/agent/state");
        async move { ok_json::<AgentStateDto>(c.get(url).send().await).await }
    };
    let current = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/api/v1/agent/break-requests/current");
        async move { ok_json::<Option<BreakRequestDto>>(c.get(url).send().await).await }
    };
    let ask = || {
        agent_c
            .post(app.url("/api/v1/agent/break-requests"))
            .json(&json!({ "reason_id": long.id }))
            .send()
    };
    let before = state(&agent_c).await.status;

    // Taking it as a state is refused: it needs approval.
    problem(
        agent_c
            .put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "break", "reason_id": long.id }))
            .send()
            .await,
        409,
        "approval_required",
    )
    .await;
    // A reason that needs no approval is not requested.
    let reasons: Vec<ReasonCodeDto> =
        ok_json(agent_c.get(app.url("/api/v1/reason-codes")).send().await).await;
    let lunch = reasons.iter().find(|r| r.name == "Lunch").unwrap();
    let p = problem(
        agent_c
            .post(app.url("/api/v1/agent/break-requests"))
            .json(&json!({ "reason_id": lunch.id }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["reason_id"]);

    // Requested: pending, the agent's state unchanged; one at a time.
    let r1: BreakRequestDto = created(ask().await).await;
    assert_eq!((r1.status.as_str(), r1.agent_id), ("pending", agent.id));
    assert_eq!(state(&agent_c).await.status, before);
    problem(ask().await, 409, "break_request_pending").await;
    assert_eq!(current(&agent_c).await.map(|r| r.id), Some(r1.id));
    // Agents do not see the supervisors' list; supervisors do.
    problem(
        agent_c.get(app.url("/api/v1/break-requests")).send().await,
        403,
        "forbidden",
    )
    .await;
    let pending: Vec<BreakRequestDto> =
        ok_json(sup_c.get(app.url("/api/v1/break-requests")).send().await).await;
    assert_eq!(pending.iter().map(|r| r.id).collect::<Vec<_>>(), [r1.id]);
    assert_eq!(pending[0].reason, "Long lunch");
    // Another tenant's supervisor neither lists nor decides it.
    let theirs: Vec<BreakRequestDto> =
        ok_json(bsup_c.get(app.url("/api/v1/break-requests")).send().await).await;
    assert!(theirs.is_empty());
    problem(
        bsup_c
            .post(app.url(&format!("/api/v1/break-requests/{}/approve", r1.id)))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;

    // Denied: the agent stays as they were and reads the verdict.
    let d: BreakRequestDto = ok_json(
        sup_c
            .post(app.url(&format!("/api/v1/break-requests/{}/deny", r1.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(d.status, "denied");
    assert_eq!(state(&agent_c).await.status, before);
    assert_eq!(
        current(&agent_c).await.map(|r| r.status),
        Some("denied".into())
    );
    problem(
        sup_c
            .post(app.url(&format!("/api/v1/break-requests/{}/approve", r1.id)))
            .send()
            .await,
        409,
        "already_decided",
    )
    .await;
    let notes: Value = ok_json(agent_c.get(app.url("/api/v1/notifications")).send().await).await;
    assert!(
        notes["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "break_decided"
                && n["text"].as_str().unwrap().contains("was denied")),
        "{notes}"
    );

    // Cancelled by the agent: gone from the list; nothing left to cancel.
    let r2: BreakRequestDto = created(ask().await).await;
    let r = agent_c
        .delete(app.url("/api/v1/agent/break-requests/current"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        agent_c
            .delete(app.url("/api/v1/agent/break-requests/current"))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    problem(
        sup_c
            .post(app.url(&format!("/api/v1/break-requests/{}/approve", r2.id)))
            .send()
            .await,
        409,
        "already_decided",
    )
    .await;

    // Approved: the agent is on that break, in the ACD too (which keeps no reason for a
    // break: it offers nothing either way).
    let r3: BreakRequestDto = created(ask().await).await;
    let ok3: BreakRequestDto = ok_json(
        sup_c
            .post(app.url(&format!("/api/v1/break-requests/{}/approve", r3.id)))
            .send()
            .await,
    )
    .await;
    assert_eq!(ok3.status, "approved");
    let s = state(&agent_c).await;
    assert_eq!(
        (s.status, s.reason.as_deref(), s.reason_id),
        (AgentStatus::Break, Some("Long lunch"), Some(long.id))
    );
    let acd = hotline_backend::agents::agent_rec(&app.state, a.info.tenant.id, agent.id)
        .await
        .unwrap()
        .expect("the agent is in the ACD");
    assert_eq!(acd.state, "break", "{acd:?}");

    // Every step is in the audit log.
    for (action, n) in [
        ("agent.break_requested", 3),
        ("agent.break_denied", 1),
        ("agent.break_cancelled", 1),
        ("agent.break_approved", 1),
    ] {
        let audit: Value = ok_json(
            a.admin
                .get(app.url(&format!("/api/v1/audit?action={action}")))
                .send()
                .await,
        )
        .await;
        assert_eq!(audit["total"], n, "{action}");
    }
}
