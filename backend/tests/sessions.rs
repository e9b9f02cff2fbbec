//! Sessions, client addresses and request limits, played as the attacker and the operator:
//! a password change or a privilege change leaves no old token working; operators list and
//! revoke a tenant's sessions (tenants cannot); users end their own other sessions;
//! `X-Forwarded-For` counts only from a trusted proxy; sign-ups and password-strength
//! estimates are limited per address (and sign-ups platform-wide) with 429 and `Retry-After`.
//!
//! Clients that must come from an address of their own bind to a random loopback address
//! (127.x.y.z): the backend sees that as the socket peer, and rate-limit counters of
//! different runs never meet.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{RevokedSessions, SessionDto};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use std::net::{IpAddr, Ipv4Addr};
use uuid::Uuid;

/// A loopback address no other test or run uses (not 127.0.0.1).
fn random_loopback() -> IpAddr {
    let b = Uuid::new_v4().into_bytes();
    IpAddr::V4(Ipv4Addr::new(127, b[0].max(1), b[1], b[2].clamp(2, 254)))
}

/// A client whose connections come from `addr`, with its own cookie jar.
fn client_from(addr: IpAddr) -> Client {
    Client::builder()
        .cookie_store(true)
        .local_address(addr)
        .build()
        .expect("client")
}

/// The session cookie (`hotline_session=…`) and its attributes from an answer.
fn session_cookie(r: &Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hotline_session=") && !v.starts_with("hotline_session=;"))
        .map(String::from)
}

/// `name=value` of a Set-Cookie line.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_string()
}

/// Signs in with a fresh, jar-less client and returns the `hotline_session=…` pair: one
/// browser session that a test can replay after it should have ended.
async fn login_cookie(app: &TestApp, slug: &str, email: &str, password: &str) -> String {
    let r = Client::new()
        .post(app.url("/api/v1/auth/login"))
        .header("user-agent", "SessionsTest/1.0")
        .json(&json!({ "tenant": slug, "email": email, "password": password }))
        .send()
        .await
        .expect("login sent");
    assert_eq!(r.status(), 200, "login of {email}");
    pair(&session_cookie(&r).expect("a session cookie"))
}

/// `GET /auth/me` with a bare cookie: 200 while the session lives, 401 after.
async fn me_status(app: &TestApp, cookie: &str) -> u16 {
    Client::new()
        .get(app.url("/api/v1/auth/me"))
        .header("cookie", cookie)
        .send()
        .await
        .expect("me sent")
        .status()
        .as_u16()
}

/// A platform operator, signed in.
async fn operator(app: &TestApp) -> Client {
    let email = format!("op-{}@ops.test", &Uuid::new_v4().simple().to_string()[..8]);
    let hash = hotline_backend::auth::hash_password(PASSWORD.into())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO platform.operators (id, email, name, password_hash) VALUES ($1, $2, 'Olga', $3)",
    )
    .bind(Uuid::new_v4())
    .bind(&email)
    .bind(hash)
    .execute(&app.state.db)
    .await
    .unwrap();
    let op = Client::builder()
        .cookie_store(true)
        .user_agent("OperatorBrowser/2.0")
        .build()
        .unwrap();
    let r = op
        .post(app.url("/api/v1/platform/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    op
}

/// The latest row of the tenant's audit log with this action: (ip, details).
async fn audit_row(app: &TestApp, tenant: Uuid, action: &str) -> (Option<String>, Value) {
    let schema = hotline_backend::db::schema_name(tenant);
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT ip, details FROM {schema}.audit_log WHERE action = $1 ORDER BY id DESC LIMIT 1"
    )))
    .bind(action)
    .fetch_optional(&app.state.db)
    .await
    .unwrap()
    .unwrap_or_else(|| panic!("no {action} in the audit log"))
}

fn retry_after(r: &Response) -> u64 {
    r.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("a Retry-After header in seconds")
}

#[tokio::test]
async fn a_password_change_rotates_the_session_and_ends_the_others() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Rotation Ltd").await;
    let (u, _) = t.user(&app, "umar@rotation.test", "Agent").await;
    let (_, other_user) = t.user(&app, "vera@rotation.test", "Agent").await;
    // Umar is signed in on two browsers.
    let here = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    let elsewhere = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;

    let r = Client::new()
        .post(app.url("/api/v1/auth/password"))
        .header("cookie", &here)
        .json(&json!({ "current_password": PASSWORD, "new_password": "lantern orbit meadow 42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let set = session_cookie(&r).expect("the change sets a new session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(!set.contains("Secure"), "public_url is http here: {set}");
    let fresh = pair(&set);
    assert_ne!(fresh, here);

    assert_eq!(me_status(&app, &here).await, 401, "the old token is dead");
    assert_eq!(
        me_status(&app, &elsewhere).await,
        401,
        "other browsers are signed out"
    );
    assert_eq!(me_status(&app, &fresh).await, 200, "the new token works");
    // Nobody else is touched.
    let status = |c: &Client| c.get(app.url("/api/v1/auth/me")).send();
    assert_eq!(status(&other_user).await.unwrap().status(), 200);
    assert_eq!(status(&t.admin).await.unwrap().status(), 200);
    // Exactly one session of Umar's is left: the new one.
    let own: Vec<SessionDto> = ok_json(
        Client::new()
            .get(app.url("/api/v1/auth/sessions"))
            .header("cookie", &fresh)
            .send()
            .await,
    )
    .await;
    assert_eq!(own.len(), 1, "{own:?}");
    assert!(own[0].current);
    let (ip, _) = audit_row(&app, t.info.tenant.id, "auth.password_change").await;
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
}

#[tokio::test]
async fn session_cookies_are_secure_behind_https() {
    let app = TestApp::spawn_with(|c| c.public_url = "https://cc.example.com".into()).await;
    let t = tenant(&app, "Secure Co").await;
    let r = Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": t.slug(), "email": t.info.user.email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let set = session_cookie(&r).unwrap();
    assert!(set.contains("Secure") && set.contains("HttpOnly"), "{set}");
    // The rotated cookie of a password change is the same kind.
    let r = Client::new()
        .post(app.url("/api/v1/auth/password"))
        .header("cookie", pair(&set))
        .json(&json!({ "current_password": PASSWORD, "new_password": "lantern orbit meadow 42" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert!(session_cookie(&r).unwrap().contains("Secure"));
}

#[tokio::test]
async fn privilege_changes_and_resets_end_the_users_sessions() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Privilege Co").await;
    let (u, _) = t.user(&app, "pavel@privilege.test", "Agent").await;
    let (_, bystander) = t.user(&app, "bea@privilege.test", "Agent").await;
    let pavel = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;

    // Pavel becomes a supervisor: the token from his agent days is dead.
    let supervisor = t.role(&app, "Supervisor").await;
    ok_json::<Value>(
        t.admin
            .patch(app.url(&format!("/api/v1/users/{}", u.id)))
            .json(&json!({ "role_id": supervisor.id }))
            .send()
            .await,
    )
    .await;
    assert_eq!(me_status(&app, &pavel).await, 401);
    assert_eq!(
        bystander
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    // An edit that changes no role keeps the sessions.
    let pavel = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    ok_json::<Value>(
        t.admin
            .patch(app.url(&format!("/api/v1/users/{}", u.id)))
            .json(&json!({ "name": "Pavel Novak" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(me_status(&app, &pavel).await, 200);

    // A custom role's permissions change: everyone holding it is signed out; a rename is not
    // a privilege change.
    let role: Value = created(
        t.admin
            .post(app.url("/api/v1/roles"))
            .json(&json!({ "name": "Desk", "permissions": ["crm.read"] }))
            .send()
            .await,
    )
    .await;
    let role_id = role["id"].as_str().unwrap().to_string();
    ok_json::<Value>(
        t.admin
            .patch(app.url(&format!("/api/v1/users/{}", u.id)))
            .json(&json!({ "role_id": role_id }))
            .send()
            .await,
    )
    .await;
    let pavel = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    let put_role = |perms: Value, name: &str| {
        t.admin
            .put(app.url(&format!("/api/v1/roles/{role_id}")))
            .json(&json!({ "name": name, "permissions": perms }))
            .send()
    };
    ok_json::<Value>(put_role(json!(["crm.read"]), "Front desk").await).await;
    assert_eq!(
        me_status(&app, &pavel).await,
        200,
        "a rename keeps sessions"
    );
    ok_json::<Value>(put_role(json!(["crm.read", "crm.write"]), "Front desk").await).await;
    assert_eq!(
        me_status(&app, &pavel).await,
        401,
        "new permissions, new sign-in"
    );

    // An admin's password reset ends the user's sessions; resetting one's own keeps the
    // admin signed in on a new token, and their other browsers are signed out.
    let pavel = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    let reset = |id: Uuid| {
        t.admin
            .post(app.url(&format!("/api/v1/users/{id}/reset-password")))
            .json(&json!({ "new_password": "copper violin harbour 7" }))
            .send()
    };
    assert_eq!(reset(u.id).await.unwrap().status(), 204);
    assert_eq!(me_status(&app, &pavel).await, 401);
    let admin_elsewhere = login_cookie(&app, t.slug(), &t.info.user.email, PASSWORD).await;
    let r = reset(t.info.user.id).await.unwrap();
    assert_eq!(r.status(), 204);
    assert!(
        session_cookie(&r).is_some(),
        "the admin's own session is replaced"
    );
    assert_eq!(me_status(&app, &admin_elsewhere).await, 401);
    let users = t.admin.get(app.url("/api/v1/users")).send().await.unwrap();
    assert_eq!(
        users.status(),
        200,
        "the admin carries on with the new cookie"
    );
}

#[tokio::test]
async fn operators_list_and_revoke_sessions_and_tenants_cannot() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Alpha Sessions").await;
    let b = tenant(&app, "Beta Sessions").await;
    let (u, _) = a.user(&app, "ulla@alpha.test", "Agent").await;
    let first = login_cookie(&app, a.slug(), &u.email, PASSWORD).await;
    let second = login_cookie(&app, a.slug(), &u.email, PASSWORD).await;
    assert_eq!(me_status(&app, &first).await, 200); // last seen now
    let (a_id, b_id) = (a.info.tenant.id, b.info.tenant.id);
    let b_session: Uuid = sqlx::query_scalar(
        "SELECT id FROM platform.sessions WHERE tenant_id = $1 AND subject_id = $2",
    )
    .bind(b_id)
    .bind(b.info.user.id)
    .fetch_one(&app.state.db)
    .await
    .unwrap();

    // A tenant admin is no operator: not for its own tenant, not for another's.
    for (method, path) in [
        ("GET", format!("/api/v1/platform/tenants/{a_id}/sessions")),
        ("GET", format!("/api/v1/platform/tenants/{b_id}/sessions")),
        (
            "DELETE",
            format!("/api/v1/platform/tenants/{b_id}/sessions/{b_session}"),
        ),
        (
            "DELETE",
            format!("/api/v1/platform/tenants/{b_id}/sessions"),
        ),
    ] {
        let req = match method {
            "GET" => a.admin.get(app.url(&path)),
            _ => a.admin.delete(app.url(&path)),
        };
        problem(req.send().await, 401, "unauthenticated").await;
    }
    // Nor can A's admin end B's session through the user routes: another tenant's id is
    // not found.
    problem(
        a.admin
            .delete(app.url(&format!("/api/v1/auth/sessions/{b_session}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        b.admin
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let op = operator(&app).await;
    let list: Vec<SessionDto> = ok_json(
        op.get(app.url(&format!("/api/v1/platform/tenants/{a_id}/sessions")))
            .send()
            .await,
    )
    .await;
    assert!(list.iter().all(|s| s.id != b_session), "only tenant A's");
    let ulla: Vec<&SessionDto> = list.iter().filter(|s| s.user_id == u.id).collect();
    // Two browsers of ours, plus the one `a.user` signed in with.
    assert_eq!(ulla.len(), 3, "{list:?}");
    assert!(ulla
        .iter()
        .all(|s| s.user_email == u.email && s.ip.as_deref() == Some("127.0.0.1") && !s.current));
    assert!(ulla
        .iter()
        .any(|s| s.user_agent.as_deref() == Some("SessionsTest/1.0")
            && s.last_seen_at.is_some()
            && s.last_seen_ip.as_deref() == Some("127.0.0.1")));
    let only: Vec<SessionDto> = ok_json(
        op.get(app.url(&format!(
            "/api/v1/platform/tenants/{a_id}/sessions?user_id={}",
            u.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(only.len(), 3);
    problem(
        op.get(app.url(&format!(
            "/api/v1/platform/tenants/{}/sessions",
            Uuid::new_v4()
        )))
        .send()
        .await,
        404,
        "not_found",
    )
    .await;

    // Revoke one: named through the wrong tenant it is not found; through its own, it ends.
    let first_id = only
        .iter()
        .find(|s| s.last_seen_at.is_some())
        .expect("the session used above")
        .id;
    problem(
        op.delete(app.url(&format!(
            "/api/v1/platform/tenants/{b_id}/sessions/{first_id}"
        )))
        .send()
        .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(me_status(&app, &first).await, 200);
    let r = op
        .delete(app.url(&format!(
            "/api/v1/platform/tenants/{a_id}/sessions/{first_id}"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me_status(&app, &first).await, 401);
    assert_eq!(me_status(&app, &second).await, 200);
    let (ip, ua, details): (Option<String>, Option<String>, Value) = sqlx::query_as(
        "SELECT ip, user_agent, details FROM platform.audit
          WHERE action = 'session.revoke' AND target_id = $1",
    )
    .bind(a_id.to_string())
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert_eq!(ua.as_deref(), Some("OperatorBrowser/2.0"));
    assert_eq!(details["session"], first_id.to_string());
    assert_eq!(details["user_id"], u.id.to_string());

    // All of one user's, then all of the tenant's; tenant B is untouched.
    let gone: RevokedSessions = ok_json(
        op.delete(app.url(&format!(
            "/api/v1/platform/tenants/{a_id}/sessions?user_id={}",
            u.id
        )))
        .send()
        .await,
    )
    .await;
    assert_eq!(gone.revoked, 2);
    assert_eq!(me_status(&app, &second).await, 401);
    assert_eq!(
        a.admin
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let gone: RevokedSessions = ok_json(
        op.delete(app.url(&format!("/api/v1/platform/tenants/{a_id}/sessions")))
            .send()
            .await,
    )
    .await;
    assert_eq!(gone.revoked, 1, "the admin's");
    assert_eq!(
        a.admin
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        b.admin
            .get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let all: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.audit WHERE action = 'session.revoke_all' AND target_id = $1",
    )
    .bind(a_id.to_string())
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(all, 2);
}

#[tokio::test]
async fn users_see_and_end_their_own_other_sessions() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Own Sessions").await;
    let (u, here) = t.user(&app, "otto@own.test", "Agent").await;
    let phone = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    let list: Vec<SessionDto> =
        ok_json(here.get(app.url("/api/v1/auth/sessions")).send().await).await;
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    assert!(list.iter().all(|s| s.user_id == u.id));
    let other = list.iter().find(|s| !s.current).unwrap().id;
    // The admin cannot end Otto's session through their own route.
    problem(
        t.admin
            .delete(app.url(&format!("/api/v1/auth/sessions/{other}")))
            .send()
            .await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(me_status(&app, &phone).await, 200);
    let r = here
        .delete(app.url(&format!("/api/v1/auth/sessions/{other}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(me_status(&app, &phone).await, 401);
    // Sign out everywhere else.
    let tablet = login_cookie(&app, t.slug(), &u.email, PASSWORD).await;
    let gone: RevokedSessions =
        ok_json(here.delete(app.url("/api/v1/auth/sessions")).send().await).await;
    assert_eq!(gone.revoked, 1);
    assert_eq!(me_status(&app, &tablet).await, 401);
    assert_eq!(
        here.get(app.url("/api/v1/auth/me"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let (_, details) = audit_row(&app, t.info.tenant.id, "auth.sessions_revoke_others").await;
    assert_eq!(details["revoked"], 1);
    audit_row(&app, t.info.tenant.id, "auth.session_revoke").await;
}

#[tokio::test]
async fn forwarded_for_counts_only_from_trusted_proxies() {
    // The proxy is 127.0.0.1; a random loopback address is somebody else.
    let app = TestApp::spawn_with(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".into()];
        c.strength_limit_per_address = 2;
    })
    .await;
    let t = tenant(&app, "Proxy Co").await;
    let tid = t.info.tenant.id;
    let stranger = random_loopback();
    let client = format!("198.51.100.{}", Uuid::new_v4().as_bytes()[0] % 200 + 1);
    let login = |c: &Client, xff: &str, password: &str| {
        c.post(app.url("/api/v1/auth/login"))
            .header("x-forwarded-for", xff)
            .header("user-agent", "ProxyTest/1.0 (sessions.rs)")
            .json(&json!({ "tenant": t.slug(), "email": t.info.user.email, "password": password }))
            .send()
    };

    // Through the proxy: the right-most address that is not the proxy is the client's, for
    // failed and successful logins, the session, logout and a password change.
    let via_proxy = app.client();
    let xff = format!("6.6.6.6, {client}, 127.0.0.1");
    assert_eq!(
        login(&via_proxy, &xff, "wrong password!")
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        audit_row(&app, tid, "auth.login_failed").await.0,
        Some(client.clone())
    );
    assert_eq!(
        login(&via_proxy, &xff, PASSWORD).await.unwrap().status(),
        200
    );
    assert_eq!(
        audit_row(&app, tid, "auth.login").await.0,
        Some(client.clone())
    );
    // The audit log keeps the client's user agent too, and the API shows it.
    let admin = t.admin.clone();
    let page: Value = admin
        .get(app.url("/api/v1/audit?action=auth.login"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["items"][0]["user_agent"], "ProxyTest/1.0 (sessions.rs)",
        "{page:#}"
    );
    let session_ip: Option<String> = sqlx::query_scalar(
        "SELECT ip FROM platform.sessions WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(tid)
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(session_ip, Some(client.clone()));
    let r = via_proxy
        .post(app.url("/api/v1/auth/password"))
        .header("x-forwarded-for", &client)
        .json(&json!({ "current_password": PASSWORD, "new_password": "granite tulip ferry 88" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        audit_row(&app, tid, "auth.password_change").await.0,
        Some(client.clone())
    );
    let r = via_proxy
        .post(app.url("/api/v1/auth/logout"))
        .header("x-forwarded-for", &client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(
        audit_row(&app, tid, "auth.logout").await.0,
        Some(client.clone())
    );

    // From an untrusted peer the header is ignored: the peer's own address is logged.
    let direct = client_from(stranger);
    let r = login(&direct, "203.0.113.77", "granite tulip ferry 88")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        audit_row(&app, tid, "auth.login").await.0,
        Some(stranger.to_string())
    );

    // Operators' actions too: a failed sign-in, a suspension, signing out.
    let r = app
        .client()
        .post(app.url("/api/v1/platform/login"))
        .header("x-forwarded-for", &client)
        .json(&json!({ "email": "nobody@ops.test", "password": "not the password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let failed: Option<String> = sqlx::query_scalar(
        "SELECT ip FROM platform.audit WHERE action = 'operator.login_failed' AND actor = 'nobody@ops.test'",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(failed, Some(client.clone()));
    let op = operator(&app).await;
    let r = op
        .post(app.url(&format!("/api/v1/platform/tenants/{tid}/suspend")))
        .header("x-forwarded-for", &client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (ip, ua): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT ip, user_agent FROM platform.audit WHERE action = 'tenant.suspended' AND target_id = $1",
    )
    .bind(tid.to_string())
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(ip, Some(client.clone()));
    assert_eq!(ua.as_deref(), Some("OperatorBrowser/2.0"));
    let r = op
        .post(app.url("/api/v1/platform/logout"))
        .header("x-forwarded-for", &client)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let logged_out: Option<String> = sqlx::query_scalar(
        "SELECT ip FROM platform.audit WHERE action = 'operator.logout' ORDER BY id DESC LIMIT 1",
    )
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(logged_out, Some(client.clone()));

    // The rate-limit key is the same address: two estimates per address here. A client
    // behind the proxy uses its allowance; a stranger spoofing that client's address in the
    // header is counted under its own.
    let strength = |c: &Client, xff: &str| {
        c.post(app.url("/api/v1/auth/password-strength"))
            .header("x-forwarded-for", xff.to_string())
            .json(&json!({ "password": "a fine long passphrase" }))
            .send()
    };
    let r = Uuid::new_v4().into_bytes();
    let limited = format!("2001:db8:{:x}{:x}:{:x}{:x}::1", r[0], r[1], r[2], r[3]);
    for _ in 0..2 {
        assert_eq!(strength(&via_proxy, &limited).await.unwrap().status(), 200);
    }
    problem(strength(&via_proxy, &limited).await, 429, "rate_limited").await;
    assert_eq!(strength(&direct, &limited).await.unwrap().status(), 200);
    let other = format!("2001:db9:{:x}{:x}:{:x}{:x}::1", r[4], r[5], r[6], r[7]);
    assert_eq!(strength(&via_proxy, &other).await.unwrap().status(), 200);
}

#[tokio::test]
async fn signups_are_limited_per_address_with_retry_after() {
    let app = TestApp::spawn_with(|c| c.signup_limit_per_address = 2).await;
    let me = client_from(random_loopback());
    let signup = |n: usize, password: &str| {
        let slug = format!("limited-{n}-{}", &Uuid::new_v4().simple().to_string()[..8]);
        let body = json!({
            "company_name": format!("Limited {n}"),
            "slug": slug,
            "admin_name": "Lena Limit",
            "admin_email": format!("lena{n}@limited.test"),
            "password": password,
        });
        // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
        me.post(app.url("/api/v1/signup"))
            .header("x-forwarded-for", format!("192.0.2.{n}"))
            .json(&body)
            .send()
    };
    // A refused sign-up makes no tenant and uses none of the allowance.
    problem(signup(0, "password123").await, 422, "validation_failed").await;
    for n in 1..=2 {
        assert_eq!(
            signup(n, PASSWORD).await.unwrap().status(),
            201,
            "sign-up {n}"
        );
    }
    let r = signup(3, PASSWORD).await.unwrap();
    let wait = retry_after(&r);
    assert!((1..=3600).contains(&wait), "Retry-After {wait}");
    let p = problem(Ok(r), 429, "rate_limited").await;
    assert_eq!(p.status, 429);
    let made: i64 =
        sqlx::query_scalar("SELECT count(*) FROM platform.tenants WHERE name LIKE 'Limited %'")
            .fetch_one(&app.state.db)
            .await
            .unwrap();
    assert_eq!(made, 2, "the refused sign-up made no tenant");
    // Another address still signs up.
    let r = client_from(random_loopback())
        .post(app.url("/api/v1/signup"))
        .json(&json!({
            "company_name": "Somebody Else",
            "slug": format!("else-{}", &Uuid::new_v4().simple().to_string()[..8]),
            "admin_name": "Ema Else",
            "admin_email": "ema@else.test",
            "password": PASSWORD,
        }))
        .send()
        .await;
    created::<Value>(r).await;
}

#[tokio::test]
async fn signups_have_a_platform_wide_ceiling() {
    use hotline_backend::ratelimit::SIGNUP_GLOBAL_KEY;
    use redis::AsyncCommands;
    let app = TestApp::spawn_with(|c| c.signup_limit_global = 2).await;
    // The counter is platform-wide, so shared with earlier runs of this test: start at 0.
    let mut r = app.state.redis();
    let _: () = r.del(SIGNUP_GLOBAL_KEY).await.unwrap();
    let signup = |n: usize| {
        client_from(random_loopback())
            .post(app.url("/api/v1/signup"))
            .json(&json!({
                "company_name": format!("Ceiling {n}"),
                "slug": format!("ceiling-{n}-{}", &Uuid::new_v4().simple().to_string()[..8]),
                "admin_name": "Cem Ceiling",
                "admin_email": format!("cem{n}@ceiling.test"),
                "password": PASSWORD,
            }))
            .send()
    };
    for n in 1..=2 {
        assert_eq!(signup(n).await.unwrap().status(), 201);
    }
    let resp = signup(3).await.unwrap();
    assert!(retry_after(&resp) >= 1);
    problem(Ok(resp), 429, "rate_limited").await;
    let _: () = r.del(SIGNUP_GLOBAL_KEY).await.unwrap();
}

#[tokio::test]
async fn password_strength_is_limited_per_address() {
    let app = TestApp::spawn_with(|c| c.strength_limit_per_address = 3).await;
    let me = client_from(random_loopback());
    let ask = |c: &Client| {
        c.post(app.url("/api/v1/auth/password-strength"))
            .json(&json!({ "password": "correct horse battery" }))
            .send()
    };
    for _ in 0..3 {
        assert_eq!(ask(&me).await.unwrap().status(), 200);
    }
    let r = ask(&me).await.unwrap();
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    problem(Ok(r), 429, "rate_limited").await;
    // Another address is not held back.
    assert_eq!(
        ask(&client_from(random_loopback())).await.unwrap().status(),
        200
    );
}
