//! Bad input gets a precise problem+json naming the field, and nothing is half-written.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{Page, UserDto};
use serde_json::json;

#[tokio::test]
async fn malformed_json_and_wrong_types_are_400_with_the_field() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Bad Input Co").await;
    let r = t
        .admin
        .post(app.url("/api/v1/skills"))
        .header("content-type", "application/json")
        .body("{\"name\": \"unterminated")
        .send()
        .await;
    problem(r, 400, "malformed_body").await;
    let p = problem(
        t.admin
            .post(app.url("/api/v1/skills"))
            .json(&json!({ "name": 42 }))
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;
    assert_eq!(field_names(&p), ["name"]);
    let p = problem(
        t.admin
            .post(app.url("/api/v1/queues"))
            .json(&json!({ "name": "Q", "strategy": "telepathy", "max_wait_seconds": 1, "wrap_up_seconds": 1 }))
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;
    assert_eq!(field_names(&p), ["strategy"]);
    let p = problem(
        app.client()
            .post(app.url("/api/v1/signup"))
            .json(&json!({ "company_name": "X", "admin_name": "Y", "password": "long enough pw" }))
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;
    assert_eq!(field_names(&p), ["admin_email"]);
    let p = problem(
        t.admin
            .get(app.url("/api/v1/users?per_page=100000"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["per_page"]);
}

#[tokio::test]
async fn invalid_fields_are_422_listing_every_field() {
    let app = TestApp::spawn().await;
    let p = problem(
        app.client()
            .post(app.url("/api/v1/signup"))
            .json(&json!({ "company_name": "x".repeat(201), "slug": "-Bad-", "admin_name": "", "admin_email": "not-an-email", "password": "short" }))
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
            "admin_email",
            "admin_name",
            "company_name",
            "password",
            "slug"
        ]
    );
    let t = tenant(&app, "Fields Co").await;
    let role = t.role(&app, "Agent").await;
    let p = problem(
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": "a@b", "name": "n".repeat(300), "password": PASSWORD, "role_id": role.id,
                           "extension": "12a", "skills": [{ "skill_id": role.id, "level": 11 }] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(fields, ["email", "extension", "name", "skills[0].level"]);
}

#[tokio::test]
async fn a_failing_write_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Atomic Co").await;
    let role = t.role(&app, "Agent").await;
    // The user row would insert, but the skill does not exist: the whole request rolls back.
    let p = problem(
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": "ghost@atomic.test", "name": "Ghost", "password": PASSWORD, "role_id": role.id,
                           "skills": [{ "skill_id": uuid::Uuid::new_v4(), "level": 3 }] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["skills"]);
    let users: Page<UserDto> = ok_json(
        t.admin
            .get(app.url("/api/v1/users?q=ghost&include_inactive=true"))
            .send()
            .await,
    )
    .await;
    assert_eq!(users.total, 0, "no half-created user");
    let audit: Page<serde_json::Value> = ok_json(
        t.admin
            .get(app.url("/api/v1/audit?action=user.create"))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        audit.total, 0,
        "no audit row for a change that did not happen"
    );
    // Duplicate e-mail: 409, and the first user is intact.
    t.user(&app, "dup@atomic.test", "Agent").await;
    problem(
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": "DUP@atomic.test", "name": "Dup 2", "password": PASSWORD, "role_id": role.id }))
            .send()
            .await,
        409,
        "email_taken",
    )
    .await;
    // A team cannot become its own grandchild.
    let parent: serde_json::Value = created(
        t.admin
            .post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Parent" }))
            .send()
            .await,
    )
    .await;
    let child: serde_json::Value = created(
        t.admin
            .post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "Child", "parent_id": parent["id"] }))
            .send()
            .await,
    )
    .await;
    let p = problem(
        t.admin
            .put(app.url(&format!("/api/v1/teams/{}", parent["id"].as_str().unwrap())))
            .json(&json!({ "name": "Parent", "parent_id": child["id"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["parent_id"]);
    // A skill in use by a queue can be deleted (the queue drops the requirement), a team with
    // sub-teams cannot.
    problem(
        t.admin
            .delete(app.url(&format!("/api/v1/teams/{}", parent["id"].as_str().unwrap())))
            .send()
            .await,
        409,
        "in_use",
    )
    .await;
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Big Co").await;
    let huge = "x".repeat(2 * 1024 * 1024);
    let r = t
        .admin
        .post(app.url("/api/v1/skills"))
        .json(&json!({ "name": huge }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let skills: Vec<serde_json::Value> =
        ok_json(t.admin.get(app.url("/api/v1/skills")).send().await).await;
    assert!(skills.is_empty());
}
