//! Helpers shared by the backend's integration tests.
#![allow(dead_code)]

use hotline_backend::testkit::TestApp;
use hotline_wire::api::{Problem, RoleDto, SessionInfo, SignupResponse, UserDto};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const PASSWORD: &str = "correct horse battery";

/// A signed-up tenant with its admin's client.
pub struct Tenant {
    pub admin: Client,
    pub info: SignupResponse,
}

pub async fn tenant(app: &TestApp, company: &str) -> Tenant {
    let (admin, info) = app.signup(company).await;
    Tenant { admin, info }
}

impl Tenant {
    pub fn slug(&self) -> &str {
        &self.info.tenant.slug
    }

    pub async fn role(&self, app: &TestApp, builtin_name: &str) -> RoleDto {
        let roles: Vec<RoleDto> =
            ok_json(self.admin.get(app.url("/api/v1/roles")).send().await).await;
        roles
            .into_iter()
            .find(|r| r.name == builtin_name)
            .expect("role exists")
    }

    /// Creates a user with the named built-in role and returns it and a signed-in client.
    pub async fn user(&self, app: &TestApp, email: &str, role: &str) -> (UserDto, Client) {
        let role = self.role(app, role).await;
        let user: UserDto = created(
            self.admin
                .post(app.url("/api/v1/users"))
                .json(&json!({ "email": email, "name": email, "password": PASSWORD, "role_id": role.id }))
                .send()
                .await,
        )
        .await;
        let client = app.client();
        login(app, &client, self.slug(), email, PASSWORD).await;
        (user, client)
    }
}

pub async fn login(
    app: &TestApp,
    client: &Client,
    tenant: &str,
    email: &str,
    password: &str,
) -> SessionInfo {
    let r = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": tenant, "email": email, "password": password }))
        .send()
        .await;
    ok_json(r).await
}

pub async fn ok_json<T: serde::de::DeserializeOwned>(r: reqwest::Result<Response>) -> T {
    expect_json(r, StatusCode::OK).await
}

pub async fn created<T: serde::de::DeserializeOwned>(r: reqwest::Result<Response>) -> T {
    expect_json(r, StatusCode::CREATED).await
}

pub async fn expect_json<T: serde::de::DeserializeOwned>(
    r: reqwest::Result<Response>,
    status: StatusCode,
) -> T {
    let r = r.expect("request sent");
    let got = r.status();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("bad body ({e}): {text}"))
}

/// Asserts a problem+json answer with this status and code; returns it.
pub async fn problem(r: reqwest::Result<Response>, status: u16, code: &str) -> Problem {
    let r = r.expect("request sent");
    let got = r.status().as_u16();
    let ctype = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    assert_eq!(
        ctype, "application/problem+json",
        "content type; body: {text}"
    );
    let p: Problem =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not a problem ({e}): {text}"));
    assert_eq!(p.code, code, "problem code; body: {text}");
    p
}

pub fn field_names(p: &Problem) -> Vec<String> {
    p.errors.iter().map(|e| e.field.clone()).collect()
}

pub async fn json_of(r: reqwest::Result<Response>) -> (StatusCode, Value) {
    let r = r.expect("request sent");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

/// Reads the next command the backend sent to the gateway's stream.
pub async fn next_command(
    app: &TestApp,
    gw: &str,
    last: &mut String,
) -> hotline_wire::gateway::GatewayCommand {
    use redis::AsyncCommands;
    let mut r = app.state.redis();
    for _ in 0..100 {
        let reply: redis::streams::StreamRangeReply = r
            .xrange_count(
                hotline_wire::gateway::command_stream(gw),
                format!("({last}"),
                "+",
                1,
            )
            .await
            .unwrap();
        if let Some(entry) = reply.ids.first() {
            *last = entry.id.clone();
            let msg: String = entry.get(hotline_wire::gateway::STREAM_FIELD).unwrap();
            return serde_json::from_str(&msg).unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("no command from the backend");
}

pub async fn event(app: &TestApp, ev: &hotline_wire::gateway::GatewayEvent) {
    use redis::AsyncCommands;
    let mut r = app.state.redis();
    // Where a gateway publishes it: the tenant's shard.
    let _: String = r
        .xadd(
            hotline_wire::gateway::event_stream_for(&app.state.cfg.call_events_stream, ev),
            "*",
            &[(
                hotline_wire::gateway::STREAM_FIELD,
                serde_json::to_string(ev).unwrap(),
            )],
        )
        .await
        .unwrap();
}

/// The agent desktop's live WebSocket (`/api/v1/agent/events`), authenticated like the
/// browser: by the session cookie of a fresh login as `email`.
pub async fn desktop_socket(
    app: &TestApp,
    tenant: &str,
    email: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let login_resp = app
        .client()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": tenant, "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie: String = login_resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        app.url("/api/v1/agent/events").replace("http://", "ws://"),
    )
    .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// A stand-in media gateway the backend may dial through: its heartbeat (live, not draining,
/// publishing to this backend's event stream). Its commands are read with [`next_command`].
pub async fn stand_in_gateway(app: &TestApp, name: &str) -> String {
    use redis::AsyncCommands;
    let gw = format!("{name}-{}", uuid::Uuid::new_v4().simple());
    let mut r = app.state.redis();
    let _: () = r
        .hset_multiple(
            hotline_wire::gateway::gateway_key(&gw),
            &[
                ("draining", "false"),
                ("events", app.state.cfg.call_events_stream.as_str()),
            ],
        )
        .await
        .unwrap();
    let _: () = r
        .expire(hotline_wire::gateway::gateway_key(&gw), 120)
        .await
        .unwrap();
    let _: () = r
        .sadd(hotline_wire::gateway::GATEWAYS_KEY, &gw)
        .await
        .unwrap();
    gw
}

/// The agent's browser softphone leg on gateway `gw`, as the gateway registers it.
pub async fn stand_in_softphone(app: &TestApp, tenant: uuid::Uuid, agent: uuid::Uuid, gw: &str) {
    use redis::AsyncCommands;
    let mut r = app.state.redis();
    let _: () = r
        .hset_multiple(
            hotline_backend::devices::key(tenant, agent),
            &[
                ("gateway_id", gw),
                ("leg_id", &uuid::Uuid::new_v4().to_string()),
                ("http", "127.0.0.1:9"),
            ],
        )
        .await
        .unwrap();
}

/// The desk phone of extension `ext` registered with gateway `gw`'s registrar, as the gateway
/// records a SIP REGISTER (`registration_key` hash with `contact`, `gateway_id`, `expires_at`,
/// expiring with the registration).
pub async fn register_desk_phone(app: &TestApp, tenant: uuid::Uuid, ext: &str, gw: &str) {
    use redis::AsyncCommands;
    let key = hotline_wire::gateway::registration_key(tenant, ext);
    let expires = 300;
    let expires_at = (chrono::Utc::now() + chrono::Duration::seconds(expires)).to_rfc3339();
    let contact = format!("sip:{ext}@127.0.0.1:5099");
    let mut r = app.state.redis();
    let _: () = r
        .hset_multiple(
            &key,
            &[
                ("contact", contact.as_str()),
                ("gateway_id", gw),
                ("expires_at", expires_at.as_str()),
            ],
        )
        .await
        .unwrap();
    let _: () = r.expire(&key, expires).await.unwrap();
}

/// What the platform operator does before a tenant calls out for real (the tenant is a
/// sign-up, so a trial limited to its own country): gives it `dids` as its numbers
/// (`platform.dids`), lifts the trial and allows the countries the tests call (+994, +1,
/// +44) — the same columns `PUT /platform/tenants/{id}/outbound-calls` sets —, and marks its
/// e-mail verified as following the e-mailed link does (`outbound_verify.rs`).
pub async fn outbound_ready(app: &TestApp, t: &Tenant, dids: &[&str]) {
    for did in dids {
        sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
            .bind(did)
            .bind(t.info.tenant.id)
            .execute(&app.state.db)
            .await
            .unwrap();
    }
    sqlx::query(
        "UPDATE platform.tenants SET trial = false, outbound_countries = '{994,1,44}',
                email_verified_at = now()
          WHERE id = $1",
    )
    .bind(t.info.tenant.id)
    .execute(&app.state.db)
    .await
    .unwrap();
    // …and, as the operator's `PUT` does, the limits every gateway enforces.
    hotline_backend::dial_policy::publish_gateway_limits(&app.state, t.info.tenant.id)
        .await
        .unwrap();
}

/// A sign-up as it is before it calls out (a trial, e-mail verification aside): `did` as its
/// own number (`platform.dids`, as the operator assigns it) and its country (+994) in its CRM
/// settings.
pub async fn own_number_and_country(app: &TestApp, t: &Tenant, did: &str) {
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(did)
        .bind(t.info.tenant.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let r = t
        .admin
        .put(app.url("/api/v1/settings/crm"))
        .json(&json!({ "country_code": "994" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
}

/// A real SMTP server (aiosmtpd) writing what it receives into a maildir.
pub struct SmtpServer {
    pub port: u16,
    dir: std::path::PathBuf,
    _child: tokio::process::Child,
}

impl SmtpServer {
    pub async fn start() -> Self {
        // A port the kernel says is free and no other server of this test binary was given:
        // the kernel may hand the same free port to two tests starting at once, and the
        // second aiosmtpd would then fail to bind while its test talks to the first one.
        static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
        let port = loop {
            let port = std::net::TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let mut given = GIVEN.lock().unwrap();
            if !given.contains(&port) {
                given.push(port);
                break port;
            }
        };
        let dir =
            std::env::temp_dir().join(format!("hotline-smtp-{}", uuid::Uuid::new_v4().simple()));
        // Debian's python3-aiosmtpd (infra/apt-packages.txt) lives with /usr/bin/python3.
        let python = if std::path::Path::new("/usr/bin/python3").exists() {
            "/usr/bin/python3"
        } else {
            "python3"
        };
        let child = tokio::process::Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&dir)
            .kill_on_drop(true)
            .spawn()
            .expect("start aiosmtpd (install python3-aiosmtpd)");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                return SmtpServer {
                    port,
                    dir,
                    _child: child,
                };
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("aiosmtpd did not start on port {port}");
    }

    /// The messages received so far, each as its raw text.
    pub fn messages(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("new")) else {
            return vec![];
        };
        entries
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A platform operator (a row in `platform.operators`) signed in on a fresh client.
pub async fn operator(app: &TestApp) -> Client {
    let email = format!("op-{}@ops.test", uuid::Uuid::new_v4().simple());
    let hash = hotline_backend::auth::hash_password(PASSWORD.into())
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO platform.operators (id, email, name, password_hash) VALUES ($1, $2, 'Olga', $3)",
    )
    .bind(uuid::Uuid::new_v4())
    .bind(&email)
    .bind(hash)
    .execute(&app.state.db)
    .await
    .unwrap();
    let op = app.client();
    let r = op
        .post(app.url("/api/v1/platform/login"))
        .json(&json!({ "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    op
}
