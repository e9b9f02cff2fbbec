//! The password policy (NIST SP 800-63B) over HTTP: weak, common, too short or too long
//! passwords and passwords made of the user's own e-mail, name or company are refused with a
//! 422 on the password field wherever a password is set — sign-up, user creation, the user's
//! own change and an admin's reset — and the strength meter's endpoint judges alike.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{password_policy as policy, PasswordStrength, Problem};
use serde_json::{json, Value};

/// Passwords every form must refuse, with the reason the policy gives.
const WEAK: &[(&str, &str)] = &[
    ("aaaaaaaaaa", policy::WEAK),
    ("1234567890", policy::WEAK),
    ("password123", policy::WEAK),
    ("qwertyuiop", policy::WEAK),
    ("iloveyou!!", policy::WEAK),
    ("Password1!", policy::WEAK),
    ("short", policy::TOO_SHORT),
];

/// The one field error of a 422, which must be on `field` and say `code`'s message.
fn assert_refused(p: &Problem, field: &str, code: &str, pw: &str) {
    assert_eq!(field_names(p), [field], "{pw:?}: {p:?}");
    let message = &p.errors[0].message;
    assert_eq!(
        policy::code_of(message),
        Some(code),
        "{pw:?}: message {message:?}"
    );
}

fn signup_body(slug: &str, password: &str) -> Value {
    json!({
        "company_name": "Caspian Freight",
        "slug": slug,
        "admin_name": "Nadia Karimova",
        "admin_email": "nadia.k@caspian.test",
        "password": password,
    })
}

#[tokio::test]
async fn weak_passwords_are_refused_at_signup_and_no_tenant_is_made() {
    let app = TestApp::spawn().await;
    let slug = format!(
        "caspian-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let long = "x7Qp".repeat(33);
    let mut cases: Vec<(&str, &str)> = WEAK.to_vec();
    cases.extend([
        // The company, the name, the e-mail's local part: whatever the case and punctuation.
        ("caspian freight forever", policy::PERSONAL),
        ("CaspianFreight#2024", policy::PERSONAL),
        ("tulips for karimova", policy::PERSONAL),
        ("nadia.k rides at dawn", policy::PERSONAL),
        (long.as_str(), policy::TOO_LONG),
    ]);
    for (pw, code) in cases {
        let p = problem(
            app.client()
                .post(app.url("/api/v1/signup"))
                .json(&signup_body(&slug, pw))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_refused(&p, "password", code, pw);
    }
    // Nothing was created: the slug is still free, and a fair passphrase signs up.
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.tenants WHERE slug = $1)")
            .bind(&slug)
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert!(!exists);
    let r = app
        .client()
        .post(app.url("/api/v1/signup"))
        .json(&signup_body(&slug, "ferry lanterns at low tide"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
}

#[tokio::test]
async fn weak_passwords_are_refused_for_new_users_changes_and_resets() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Gilded Ferries").await;
    let role = t.role(&app, "Agent").await;
    let create = |email: &str, name: &str, pw: &str| {
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": email, "name": name, "password": pw, "role_id": role.id }))
            .send()
    };
    let mut cases: Vec<(&str, &str)> = WEAK.to_vec();
    cases.extend([
        ("orkhan rides the ferry", policy::PERSONAL),
        ("o.aliyev 1987 tulips", policy::PERSONAL),
        // The tenant's name is the company.
        ("gilded ferries for life", policy::PERSONAL),
    ]);
    for (pw, code) in &cases {
        let p = problem(
            create("o.aliyev@ferries.test", "Orkhan Aliyev", pw).await,
            422,
            "validation_failed",
        )
        .await;
        assert_refused(&p, "password", code, pw);
    }
    let (user, agent) = t.user(&app, "o.aliyev@ferries.test", "Agent").await;

    // The user's own change: refused, and the old password still works.
    for (pw, code) in &cases {
        if *code == policy::PERSONAL && pw.starts_with("orkhan") {
            continue; // t.user() names the user after the e-mail, not "Orkhan".
        }
        let p = problem(
            agent
                .post(app.url("/api/v1/auth/password"))
                .json(&json!({ "current_password": PASSWORD, "new_password": pw }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_refused(&p, "new_password", code, pw);
    }
    login(&app, &app.client(), t.slug(), &user.email, PASSWORD).await;

    // An admin's reset: the policy judges against the target user's e-mail and name.
    for (pw, code) in [
        ("aaaaaaaaaa", policy::WEAK),
        ("o.aliyev and the sea", policy::PERSONAL),
        ("short", policy::TOO_SHORT),
    ] {
        let p = problem(
            t.admin
                .post(app.url(&format!("/api/v1/users/{}/reset-password", user.id)))
                .json(&json!({ "new_password": pw }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_refused(&p, "new_password", code, pw);
    }
    // Unknown user: still 404, whatever the password.
    let r = t
        .admin
        .post(app.url(&format!(
            "/api/v1/users/{}/reset-password",
            uuid::Uuid::new_v4()
        )))
        .json(&json!({ "new_password": "aaaaaaaaaa" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    login(&app, &app.client(), t.slug(), &user.email, PASSWORD).await;

    // Fair passphrases pass everywhere.
    let r = agent
        .post(app.url("/api/v1/auth/password"))
        .json(&json!({ "current_password": PASSWORD, "new_password": "amber kettle on the roof" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = t
        .admin
        .post(app.url(&format!("/api/v1/users/{}/reset-password", user.id)))
        .json(&json!({ "new_password": "seven quiet harbour owls" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    login(
        &app,
        &app.client(),
        t.slug(),
        &user.email,
        "seven quiet harbour owls",
    )
    .await;
}

#[tokio::test]
async fn the_strength_meter_judges_like_the_server() {
    let app = TestApp::spawn().await;
    let client = app.client();
    let ask = |body: Value| {
        client
            .post(app.url("/api/v1/auth/password-strength"))
            .json(&body)
            .send()
    };
    let weak: PasswordStrength = ok_json(ask(json!({ "password": "1234567890" })).await).await;
    assert!(!weak.ok);
    assert!(weak.score < policy::MIN_SCORE);
    assert_eq!(weak.problem.as_deref(), Some(policy::WEAK));
    assert_eq!(weak.warning.as_deref(), Some("top100"));

    let repeats: PasswordStrength = ok_json(ask(json!({ "password": "aaaaaaaaaa" })).await).await;
    assert_eq!(repeats.warning.as_deref(), Some("repeats"));
    assert!(repeats.suggestions.contains(&"avoid-repeats".to_string()));

    let short: PasswordStrength = ok_json(ask(json!({ "password": "ab" })).await).await;
    assert_eq!(short.problem.as_deref(), Some(policy::TOO_SHORT));

    let strong: PasswordStrength =
        ok_json(ask(json!({ "password": "ferry lanterns at low tide" })).await).await;
    assert!(strong.ok, "{strong:?}");
    assert!(strong.score >= policy::MIN_SCORE);
    assert_eq!(strong.problem, None);

    // The same words with the person's context: the name makes it personal.
    let personal: PasswordStrength = ok_json(
        ask(json!({
            "password": "karimova lanterns at low tide",
            "email": "nadia.k@caspian.test",
            "name": "Nadia Karimova",
            "company": "Caspian Freight",
        }))
        .await,
    )
    .await;
    assert_eq!(personal.problem.as_deref(), Some(policy::PERSONAL));

    // What the meter calls fine, sign-up accepts; what it refuses, sign-up refuses.
    let slug = format!("meter-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let p = problem(
        client
            .post(app.url("/api/v1/signup"))
            .json(&signup_body(&slug, "karimova lanterns at low tide"))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_refused(&p, "password", policy::PERSONAL, "karimova…");

    // Bounded input.
    problem(
        ask(json!({ "password": "x".repeat(5000) })).await,
        422,
        "validation_failed",
    )
    .await;
    let too_long: PasswordStrength =
        ok_json(ask(json!({ "password": "x7Qp".repeat(40) })).await).await;
    assert_eq!(too_long.problem.as_deref(), Some(policy::TOO_LONG));
}
