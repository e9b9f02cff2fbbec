//! Sign-up, login, sessions, passwords, lock-out, API keys and permissions, over HTTP
//! against the real server, Postgres and Redis.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{CreatedApiKey, Page, SessionInfo, SignupResponse, UserDto};
use serde_json::json;

#[tokio::test]
async fn signup_creates_a_schema_and_signs_the_admin_in() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Baku Water").await;
    let schema = format!("tenant_{}", t.info.tenant.id.simple());
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = $1)",
    )
    .bind(&schema)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert!(exists, "schema {schema} was created");
    // The gateway can map the tenant's SIP domain (its slug) to it.
    let mut r = app.state.redis();
    let published: Option<String> =
        redis::AsyncCommands::hget(&mut r, "platform:tenant_slugs", t.slug())
            .await
            .unwrap();
    assert!(published.unwrap().contains(&t.info.tenant.id.to_string()));
    let me: SessionInfo = ok_json(t.admin.get(app.url("/api/v1/auth/me")).send().await).await;
    assert_eq!(me.user.email, t.info.user.email);
    assert!(me.permissions.contains(&"users.write".to_string()));
    // The admin's sign-up is in the tenant's audit log.
    let audit: serde_json::Value = ok_json(
        t.admin
            .get(app.url("/api/v1/audit?action=tenant.create"))
            .send()
            .await,
    )
    .await;
    assert_eq!(audit["total"], 1);
}

#[tokio::test]
async fn parallel_signups_both_succeed_and_duplicate_slug_is_409() {
    let app = TestApp::spawn().await;
    let body = |slug: &str| json!({ "company_name": slug, "slug": slug, "admin_name": "A", "admin_email": "a@x.test", "password": PASSWORD });
    let c1 = app.client();
    let c2 = app.client();
    let (r1, r2) = tokio::join!(
        c1.post(app.url("/api/v1/signup"))
            .json(&body("alpha-co"))
            .send(),
        c2.post(app.url("/api/v1/signup"))
            .json(&body("beta-co"))
            .send()
    );
    let a: SignupResponse = created(r1).await;
    let b: SignupResponse = created(r2).await;
    assert_ne!(a.tenant.id, b.tenant.id);
    let p = problem(
        app.client()
            .post(app.url("/api/v1/signup"))
            .json(&body("alpha-co"))
            .send()
            .await,
        409,
        "slug_taken",
    )
    .await;
    assert!(p.detail.unwrap().contains("alpha-co"));
    // Two racing sign-ups for one slug: exactly one wins, the other gets 409.
    let (r1, r2) = tokio::join!(
        c1.post(app.url("/api/v1/signup"))
            .json(&body("gamma-co"))
            .send(),
        c2.post(app.url("/api/v1/signup"))
            .json(&body("gamma-co"))
            .send()
    );
    let mut statuses = [r1.unwrap().status().as_u16(), r2.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [201, 409]);
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.tenants WHERE slug = 'gamma-co'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(n, 1);
}

#[tokio::test]
async fn login_logout_and_wrong_password() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Login Co").await;
    let c = app.client();
    let info = login(
        &app,
        &c,
        t.slug(),
        &t.info.user.email.to_uppercase(),
        PASSWORD,
    )
    .await;
    assert_eq!(info.user.id, t.info.user.id);
    problem(
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "tenant": t.slug(), "email": t.info.user.email, "password": "wrong password" }))
            .send()
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    problem(
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "tenant": "no-such-tenant", "email": t.info.user.email, "password": PASSWORD }))
            .send()
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    let r = c.post(app.url("/api/v1/auth/logout")).send().await.unwrap();
    assert_eq!(r.status(), 204);
    problem(
        c.get(app.url("/api/v1/auth/me")).send().await,
        401,
        "unauthenticated",
    )
    .await;
    let audit: Page<serde_json::Value> = ok_json(
        t.admin
            .get(app.url("/api/v1/audit?action=auth."))
            .send()
            .await,
    )
    .await;
    let actions: Vec<_> = audit
        .items
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect();
    for a in ["auth.login", "auth.login_failed", "auth.logout"] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    let login_row = audit
        .items
        .iter()
        .find(|e| e["action"] == "auth.login")
        .unwrap();
    assert_eq!(login_row["ip"], "127.0.0.1", "audit records where from");
}

#[tokio::test]
async fn repeated_failures_lock_the_account_and_admin_reset_unlocks() {
    let app = TestApp::spawn_with(|c| c.login_max_failures = 3).await;
    let t = tenant(&app, "Lock Co").await;
    let (agent, _) = t.user(&app, "agent@lock.test", "Agent").await;
    let attempt = |pw: &'static str| {
        let app = &app;
        let slug = t.slug().to_string();
        async move {
            app.client()
                .post(app.url("/api/v1/auth/login"))
                .json(&json!({ "tenant": slug, "email": "agent@lock.test", "password": pw }))
                .send()
                .await
        }
    };
    for _ in 0..3 {
        problem(attempt("nope nope nope").await, 401, "invalid_credentials").await;
    }
    // Locked: even the right password is refused, with Retry-After.
    let r = attempt(PASSWORD).await.unwrap();
    assert_eq!(r.status(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry > 0 && retry <= 900);
    // The admin resets the password: the lock is cleared and the new password works.
    let r = t
        .admin
        .post(app.url(&format!("/api/v1/users/{}/reset-password", agent.id)))
        .json(&json!({ "new_password": "brand new secret" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(attempt(PASSWORD).await, 401, "invalid_credentials").await;
    assert_eq!(attempt("brand new secret").await.unwrap().status(), 200);
}

#[tokio::test]
async fn password_change_needs_the_current_password() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Pw Co").await;
    let (_, agent) = t.user(&app, "agent@pw.test", "Agent").await;
    let p = problem(
        agent
            .post(app.url("/api/v1/auth/password"))
            .json(
                &json!({ "current_password": "not it at all", "new_password": "a whole new one" }),
            )
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["current_password"]);
    let r = agent
        .post(app.url("/api/v1/auth/password"))
        .json(&json!({ "current_password": PASSWORD, "new_password": "a whole new one" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    login(
        &app,
        &app.client(),
        t.slug(),
        "agent@pw.test",
        "a whole new one",
    )
    .await;
}

#[tokio::test]
async fn forged_and_expired_sessions_get_401() {
    let app = TestApp::spawn_with(|c| c.session_ttl_secs = 1).await;
    let t = tenant(&app, "Expiry Co").await;
    let forged = app
        .client()
        .get(app.url("/api/v1/users"))
        .header(
            "cookie",
            "hotline_session=AAAAforgedAAAAforgedAAAAforgedAAAAforgedAAA",
        )
        .send()
        .await;
    problem(forged, 401, "unauthenticated").await;
    let bearer = app
        .client()
        .get(app.url("/api/v1/users"))
        .bearer_auth("hk_00000000000000000000000000000000_nope")
        .send()
        .await;
    problem(bearer, 401, "unauthenticated").await;
    // A client that keeps the cookie past its Max-Age still gets refused by the server.
    let r = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": t.slug(), "email": t.info.user.email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = r.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    assert!(cookie.starts_with("hotline_session="));
    let raw = reqwest::Client::new();
    assert_eq!(
        raw.get(app.url("/api/v1/users"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    problem(
        raw.get(app.url("/api/v1/users"))
            .header("cookie", &cookie)
            .send()
            .await,
        401,
        "session_expired",
    )
    .await;
}

#[tokio::test]
async fn agents_get_403_on_admin_endpoints_and_can_set_their_state() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Perm Co").await;
    let (agent, client) = t.user(&app, "agent@perm.test", "Agent").await;
    problem(
        client.get(app.url("/api/v1/users")).send().await,
        403,
        "forbidden",
    )
    .await;
    problem(
        client
            .post(app.url("/api/v1/skills"))
            .json(&json!({ "name": "x" }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    problem(
        client.get(app.url("/api/v1/audit")).send().await,
        403,
        "forbidden",
    )
    .await;
    problem(
        client
            .patch(app.url(&format!("/api/v1/users/{}", agent.id)))
            .json(&json!({ "role_id": t.role(&app, "Administrator").await.id }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    // What an agent may do: pick a reason and change state (Ready with their browser
    // softphone connected).
    let gw = stand_in_gateway(&app, "perm").await;
    stand_in_softphone(&app, t.info.tenant.id, agent.id, &gw).await;
    let reasons: Vec<serde_json::Value> =
        ok_json(client.get(app.url("/api/v1/reason-codes")).send().await).await;
    let training = reasons.iter().find(|r| r["name"] == "Training").unwrap();
    let s: serde_json::Value = ok_json(
        client
            .put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(s["status"], "ready");
    let s: serde_json::Value = ok_json(
        client
            .put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "not_ready", "reason_id": training["id"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(s["reason"], "Training");
    let got: serde_json::Value =
        ok_json(client.get(app.url("/api/v1/agent/state")).send().await).await;
    assert_eq!(got["status"], "not_ready");
    // A break needs a break reason.
    let p = problem(
        client
            .put(app.url("/api/v1/agent/state"))
            .json(&json!({ "status": "break", "reason_id": training["id"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["reason_id"]);
    let audit: Page<serde_json::Value> = ok_json(
        t.admin
            .get(app.url(&format!(
                "/api/v1/audit?action=agent.state&actor_id={}",
                agent.id
            )))
            .send()
            .await,
    )
    .await;
    assert_eq!(audit.total, 2);
    assert_eq!(audit.items[0]["details"]["status"], "not_ready");
}

#[tokio::test]
async fn custom_roles_grant_exactly_their_permissions() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Roles Co").await;
    let p = problem(
        t.admin
            .post(app.url("/api/v1/roles"))
            .json(&json!({ "name": "Bad", "permissions": ["users.read", "launch.missiles"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["permissions[1]"]);
    let role: serde_json::Value = created(
        t.admin
            .post(app.url("/api/v1/roles"))
            .json(&json!({ "name": "Auditor", "permissions": ["audit.read", "users.read"] }))
            .send()
            .await,
    )
    .await;
    let user: UserDto = created(
        t.admin
            .post(app.url("/api/v1/users"))
            .json(&json!({ "email": "aud@roles.test", "name": "Aud", "password": PASSWORD, "role_id": role["id"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(user.role_name, "Auditor");
    let c = app.client();
    let info = login(&app, &c, t.slug(), "aud@roles.test", PASSWORD).await;
    assert_eq!(info.permissions, ["audit.read", "users.read"]);
    assert_eq!(
        c.get(app.url("/api/v1/audit"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(app.url("/api/v1/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    problem(
        c.post(app.url("/api/v1/teams"))
            .json(&json!({ "name": "T" }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    // Built-in roles are read-only.
    let admin_role = t.role(&app, "Administrator").await;
    problem(
        t.admin
            .put(app.url(&format!("/api/v1/roles/{}", admin_role.id)))
            .json(&json!({ "name": "X", "permissions": [] }))
            .send()
            .await,
        400,
        "builtin_role",
    )
    .await;
}

#[tokio::test]
async fn api_keys_authenticate_are_hashed_and_revocable() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Keys Co").await;
    let sup = t.role(&app, "Supervisor").await;
    let key: CreatedApiKey = created(
        t.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "CRM sync", "role_id": sup.id }))
            .send()
            .await,
    )
    .await;
    assert!(key.secret.starts_with("hk_"));
    let c = app.client();
    let users: Page<UserDto> = ok_json(
        c.get(app.url("/api/v1/users"))
            .bearer_auth(&key.secret)
            .send()
            .await,
    )
    .await;
    assert_eq!(users.total, 1);
    // Supervisor permissions only.
    problem(
        c.post(app.url("/api/v1/skills"))
            .bearer_auth(&key.secret)
            .json(&json!({ "name": "x" }))
            .send()
            .await,
        403,
        "forbidden",
    )
    .await;
    // Only a hash is stored.
    let schema = format!("tenant_{}", t.info.tenant.id.simple());
    let stored: Vec<u8> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT secret_hash FROM {schema}.api_keys"
    )))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&key.secret[36..]));
    let r = t
        .admin
        .delete(app.url(&format!("/api/v1/api-keys/{}", key.key.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        c.get(app.url("/api/v1/users"))
            .bearer_auth(&key.secret)
            .send()
            .await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn deactivated_users_lose_their_sessions_and_cannot_log_in() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Deact Co").await;
    let (agent, client) = t.user(&app, "agent@deact.test", "Agent").await;
    assert_eq!(
        client
            .get(app.url("/api/v1/agent/state"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let r = t
        .admin
        .delete(app.url(&format!("/api/v1/users/{}", agent.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    problem(
        client.get(app.url("/api/v1/agent/state")).send().await,
        401,
        "unauthenticated",
    )
    .await;
    problem(
        app.client()
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "tenant": t.slug(), "email": "agent@deact.test", "password": PASSWORD }))
            .send()
            .await,
        401,
        "invalid_credentials",
    )
    .await;
    // Listed only when asked for inactive users too.
    let active: Page<UserDto> = ok_json(t.admin.get(app.url("/api/v1/users")).send().await).await;
    assert!(active.items.iter().all(|u| u.id != agent.id));
    let all: Page<UserDto> = ok_json(
        t.admin
            .get(app.url("/api/v1/users?include_inactive=true"))
            .send()
            .await,
    )
    .await;
    assert!(all.items.iter().any(|u| u.id == agent.id && !u.active));
}

#[tokio::test]
async fn platform_operators_list_and_suspend_tenants() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Suspend Co").await;
    hotline_backend::seed::demo(&app.state).await.unwrap();
    let op = app.client();
    // Tenant admins are not operators.
    problem(
        t.admin
            .get(app.url("/api/v1/platform/tenants"))
            .send()
            .await,
        401,
        "unauthenticated",
    )
    .await;
    let r = op
        .post(app.url("/api/v1/platform/login"))
        .json(&json!({ "email": hotline_backend::seed::OPERATOR_EMAIL, "password": hotline_backend::seed::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Vec<serde_json::Value> =
        ok_json(op.get(app.url("/api/v1/platform/tenants")).send().await).await;
    let row = list.iter().find(|x| x["slug"] == t.slug()).unwrap();
    assert_eq!(row["active_users"], 1);
    assert_eq!(
        list.iter().find(|x| x["slug"] == "demo").unwrap()["active_users"],
        4
    );
    let s: serde_json::Value = ok_json(
        op.post(app.url(&format!(
            "/api/v1/platform/tenants/{}/suspend",
            t.info.tenant.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(s["status"], "suspended");
    problem(
        t.admin.get(app.url("/api/v1/users")).send().await,
        403,
        "tenant_suspended",
    )
    .await;
    ok_json::<serde_json::Value>(
        op.post(app.url(&format!(
            "/api/v1/platform/tenants/{}/resume",
            t.info.tenant.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(
        t.admin
            .get(app.url("/api/v1/users"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    // Phone numbers: assigned by operators, published to the gateway's Redis copy at once.
    let did = format!("+48{}", &uuid::Uuid::new_v4().as_u128().to_string()[..9]);
    let body = json!({ "did": did, "tenant_id": t.info.tenant.id, "description": "Hotline" });
    created::<serde_json::Value>(
        op.post(app.url("/api/v1/platform/dids"))
            .json(&body)
            .send()
            .await,
    )
    .await;
    let mut r = app.state.redis();
    let cached: Option<String> = redis::AsyncCommands::hget(&mut r, "platform:dids", &did)
        .await
        .unwrap();
    assert!(cached.unwrap().contains(&t.info.tenant.id.to_string()));
    problem(
        op.post(app.url("/api/v1/platform/dids"))
            .json(&body)
            .send()
            .await,
        409,
        "did_taken",
    )
    .await;
    let p = problem(
        op.post(app.url("/api/v1/platform/dids"))
            .json(&json!({ "did": "12345", "tenant_id": t.info.tenant.id }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["did"]);
    let r2 = op
        .delete(app.url(&format!(
            "/api/v1/platform/dids/{}",
            did.replace('+', "%2B")
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r2.status(), 204);
    let cached: Option<String> = redis::AsyncCommands::hget(&mut r, "platform:dids", &did)
        .await
        .unwrap();
    assert_eq!(cached, None);
}

#[tokio::test]
async fn health_metrics_and_openapi() {
    let app = TestApp::spawn().await;
    let c = app.client();
    assert_eq!(
        c.get(app.url("/healthz")).send().await.unwrap().status(),
        200
    );
    let ready: serde_json::Value = ok_json(c.get(app.url("/readyz")).send().await).await;
    assert_eq!(ready, json!({ "postgres": true, "redis": true }));
    let r = c.get(app.url("/api/v1/users")).send().await.unwrap();
    assert!(r.headers().contains_key("x-request-id"));
    let metrics = c
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("hotline_http_requests_total"), "{metrics}");
    let doc: serde_json::Value = ok_json(c.get(app.url("/api/v1/openapi.json")).send().await).await;
    for path in [
        "/api/v1/users",
        "/api/v1/auth/login",
        "/api/v1/queues/{id}",
        "/api/v1/platform/tenants",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["components"]["schemas"]["UserDto"].is_object());
    problem(
        c.get(app.url("/api/v1/no/such/route")).send().await,
        404,
        "not_found",
    )
    .await;
}
