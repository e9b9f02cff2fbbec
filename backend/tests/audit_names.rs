//! The audit log names its targets (a user, a team…) as they are called today, so the screen
//! shows names rather than ids; a target since deleted has no name and keeps its id.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{AuditEntry, Page};
use serde_json::json;

#[tokio::test]
async fn audit_entries_carry_their_targets_current_names() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Audit Names").await;
    let team: serde_json::Value = created(
        a.admin
            .post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Night shift" }))
            .send()
            .await,
    )
    .await;
    let team_id = team["id"].as_str().unwrap().to_string();
    let gone: serde_json::Value = created(
        a.admin
            .post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Short lived" }))
            .send()
            .await,
    )
    .await;
    let gone_id = gone["id"].as_str().unwrap().to_string();
    let r = a
        .admin
        .delete(app.url(&format!("/api/v1/teams/{gone_id}")))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());

    let log: Page<AuditEntry> = ok_json(
        a.admin
            .get(app.url("/api/v1/audit?action=team.&per_page=50"))
            .send()
            .await,
    )
    .await;
    let night = log
        .items
        .iter()
        .find(|e| e.target_id.as_deref() == Some(team_id.as_str()))
        .expect("the team's creation is logged");
    assert_eq!(
        night.target_name.as_deref(),
        Some("Night shift"),
        "{night:?}"
    );
    let deleted: Vec<_> = log
        .items
        .iter()
        .filter(|e| e.target_id.as_deref() == Some(gone_id.as_str()))
        .collect();
    assert_eq!(deleted.len(), 2, "created and deleted: {deleted:?}");
    assert!(
        deleted.iter().all(|e| e.target_name.is_none()),
        "a deleted team has no name: {deleted:?}"
    );
    // Entries whose target is no id (a login) still list.
    let logins: Page<AuditEntry> = ok_json(
        a.admin
            .get(app.url("/api/v1/audit?action=auth.&per_page=50"))
            .send()
            .await,
    )
    .await;
    assert!(!logins.items.is_empty());
}
