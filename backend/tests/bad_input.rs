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

/// A problem's first field error, for short assertions.
fn first_field(p: &hotline_wire::api::Problem) -> String {
    p.errors
        .first()
        .map(|e| e.field.clone())
        .unwrap_or_default()
}

#[tokio::test]
async fn nul_is_a_422_naming_the_field_never_a_500() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Nul Co").await;
    // Unauthenticated, in a query string.
    let p = problem(
        app.client()
            .get(app.url("/api/v1/auth/options?tenant=a%00"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(first_field(&p), "tenant");
    // JSON bodies: the field is named, nested ones by their path.
    for (path, body, field) in [
        ("/api/v1/skills", json!({ "name": "a\u{0}" }), "name"),
        (
            "/api/v1/api-keys",
            json!({ "name": "k\u{0}", "role_id": uuid::Uuid::new_v4() }),
            "name",
        ),
        ("/api/v1/categories", json!({ "name": "c\u{0}" }), "name"),
        ("/api/v1/kb/categories", json!({ "name": "c\u{0}" }), "name"),
        (
            "/api/v1/skills",
            json!({ "name": "ok", "x": [{ "y": "\u{0}" }] }),
            "x[0].y",
        ),
    ] {
        let p = problem(
            t.admin.post(app.url(path)).json(&body).send().await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(first_field(&p), field, "{path}");
    }
    let id = uuid::Uuid::new_v4();
    for path in [
        format!("/api/v1/teams/{id}"),
        format!("/api/v1/ivr/flows/{id}"),
    ] {
        problem(
            t.admin
                .put(app.url(&path))
                .json(&json!({ "name": "n\u{0}", "graph": {} }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
    }
    let p = problem(
        t.admin
            .get(app.url("/api/v1/tickets?priority=high%00"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(first_field(&p), "priority");
    // Path parts, and other control characters in single-line inputs.
    let p = problem(
        t.admin.get(app.url("/api/v1/users/a%00b")).send().await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(first_field(&p), "id");
    let p = problem(
        t.admin.get(app.url("/api/v1/users?q=a%1Bb")).send().await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(first_field(&p), "q");
    // CSV cells.
    let p = problem(
        t.admin
            .post(app.url("/api/v1/customers/import/preview"))
            .header("content-type", "text/csv")
            .body("name,phone\nBo\u{0}b,+15550100\n")
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(first_field(&p), "file");
    assert!(p.errors[0].message.contains("line 2"), "{p:?}");
}

#[tokio::test]
async fn framework_rejections_are_problems_with_stable_codes() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Reject Co").await;
    for (query, field) in [("per_page=abc", "per_page"), ("page=1e3", "page")] {
        let p = problem(
            t.admin
                .get(app.url(&format!("/api/v1/users?{query}")))
                .send()
                .await,
            400,
            "malformed_query",
        )
        .await;
        assert_eq!(first_field(&p), field);
    }
    let p = problem(
        t.admin
            .get(app.url("/api/v1/users/not-a-uuid"))
            .send()
            .await,
        400,
        "malformed_path",
    )
    .await;
    assert_eq!(first_field(&p), "id");
    // A JSON body must say so: text/plain and no content type are 415.
    let body = r#"{"name":"Plain"}"#;
    problem(
        t.admin
            .post(app.url("/api/v1/skills"))
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    problem(
        t.admin
            .post(app.url("/api/v1/skills"))
            .body(body)
            .send()
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    // Same for a cookie-less request (sign-in).
    problem(
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("tenant=x&email=y&password=z")
            .send()
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    problem(
        t.admin
            .patch(app.url("/api/v1/skills"))
            .json(&json!({}))
            .send()
            .await,
        405,
        "method_not_allowed",
    )
    .await;
    problem(
        t.admin
            .post(app.url("/api/v1/ivr/prompts"))
            .header("content-type", "multipart/form-data")
            .body("x")
            .send()
            .await,
        400,
        "malformed_body",
    )
    .await;
}

#[tokio::test]
async fn cross_site_writes_are_refused() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Csrf Co").await;
    let skill = |name: &str| json!({ "name": name });
    for (header, value) in [
        ("origin", "http://evil.example"),
        ("origin", "null"),
        ("sec-fetch-site", "cross-site"),
        ("sec-fetch-site", "same-site"),
    ] {
        problem(
            t.admin
                .post(app.url("/api/v1/skills"))
                .header(header, value)
                .json(&skill("Evil"))
                .send()
                .await,
            403,
            "cross_site_request",
        )
        .await;
        problem(
            t.admin
                .delete(app.url(&format!("/api/v1/skills/{}", uuid::Uuid::new_v4())))
                .header(header, value)
                .send()
                .await,
            403,
            "cross_site_request",
        )
        .await;
    }
    // Login CSRF: the sign-in form of another site is refused too.
    problem(
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .header("origin", "http://evil.example")
            .json(&json!({ "tenant": t.slug(), "email": "x@y.z", "password": PASSWORD }))
            .send()
            .await,
        403,
        "cross_site_request",
    )
    .await;
    // A form-encoded or text/plain body (what a cross-site form sends) is refused even
    // without Origin.
    problem(
        t.admin
            .post(app.url("/api/v1/auth/logout"))
            .header("content-type", "text/plain")
            .body("x=1")
            .send()
            .await,
        415,
        "unsupported_media_type",
    )
    .await;
    // Same-origin (what the SPA sends) and plain clients still work.
    let base = app.url("");
    created::<serde_json::Value>(
        t.admin
            .post(app.url("/api/v1/skills"))
            .header("origin", base.trim_end_matches('/'))
            .header("sec-fetch-site", "same-origin")
            .json(&skill("Same origin"))
            .send()
            .await,
    )
    .await;
    created::<serde_json::Value>(
        t.admin
            .post(app.url("/api/v1/skills"))
            .json(&skill("No origin"))
            .send()
            .await,
    )
    .await;
    // API keys are not cookies: unaffected.
    let sup = t.role(&app, "Administrator").await;
    let key: serde_json::Value = created(
        t.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "sync", "role_id": sup.id }))
            .send()
            .await,
    )
    .await;
    created::<serde_json::Value>(
        app.client()
            .post(app.url("/api/v1/skills"))
            .bearer_auth(key["secret"].as_str().unwrap())
            .header("origin", "http://evil.example")
            .json(&skill("By key"))
            .send()
            .await,
    )
    .await;
}
