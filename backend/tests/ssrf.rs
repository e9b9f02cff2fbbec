//! SSRF, played as an attacker: a tenant admin points every feature that makes the server
//! fetch something (IVR HTTP lookup — at save and at run time — and SSO discovery) at the
//! platform's own network. A local HTTP server on 127.0.0.1 counts every connection: it must
//! count 0 for every refused form, and see requests only once the platform's allow-list or a
//! platform operator's grant for that tenant allows it.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::{
    calls::FlowDto,
    gateway::{FlowMode, GatewayCommand, GatewayEvent},
};
use serde_json::json;
use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// The "internal service": answers every request with a JSON object and counts connections.
struct Internal {
    port: u16,
    hits: Arc<AtomicUsize>,
}

impl Internal {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = listener.accept().await {
                h.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(async move {
                    let mut buf = [0u8; 4096];
                    let _ = s.read(&mut buf).await;
                    let body = r#"{"name":"Internal secret"}"#;
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = s.write_all(resp.as_bytes()).await;
                });
            }
        });
        Internal { port, hits }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// Every way of writing "this machine" (and the other refused ranges) in a URL host.
fn refused_hosts(port: u16) -> Vec<String> {
    let mut v: Vec<String> = [
        "127.0.0.1",
        "localhost",
        "LocalHost.",
        "2130706433",
        "0x7f.1",
        "0x7f000001",
        "017700000001",
        "0177.0.0.1",
        "127.1",
        "0",
        "0.0.0.0",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::127.0.0.1]",
        "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]",
    ]
    .iter()
    .map(|h| format!("http://{h}:{port}/lookup"))
    .collect();
    // The other refused ranges (nothing listens there; the point is that nothing is tried).
    v.extend(
        [
            "http://10.0.0.1/",
            "http://172.16.0.1/",
            "http://192.168.0.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1/",
            "http://192.0.2.1/",
            "http://198.51.100.1/",
            "http://203.0.113.1/",
            "http://198.18.0.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://240.0.0.1/",
            "http://[fd00:ec2::254]/",
            "http://[fc00::1]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
            "http://[2001:db8::1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "https://example.com:6379/",
        ]
        .iter()
        .map(|s| s.to_string()),
    );
    v
}

fn lookup_flow(url: &str) -> serde_json::Value {
    json!({
        "start": "lookup",
        "nodes": {
            "lookup": { "type": "http_lookup", "url": url, "timeout_ms": 2000,
                        "next": "found", "error": "failed" },
            "found": { "type": "hangup", "prompt": "greeting" },
            "failed": { "type": "hangup", "prompt": "goodbye" }
        }
    })
}

/// Publishes `url` as the tenant's default flow (a lookup, then a prompt per branch).
async fn publish_lookup(app: &TestApp, admin: &reqwest::Client, url: &str) -> FlowDto {
    let flow: FlowDto = created(
        admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": format!("Lookup {}", Uuid::new_v4()), "graph": lookup_flow(url), "is_default": true }))
            .send()
            .await,
    )
    .await;
    ok_json::<FlowDto>(
        admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
    )
    .await
}

/// Places a call from `caller` and returns the prompt of the branch the flow took.
async fn call_from(app: &TestApp, tenant: Uuid, caller: &str) -> (Uuid, String) {
    let gw = format!("gw-ssrf-{}", Uuid::new_v4().simple());
    let call = Uuid::new_v4();
    let mut last = "0-0".to_string();
    event(
        app,
        &GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id: call,
            tenant_id: tenant,
            caller: caller.into(),
            did: "+994125550177".into(),
            sip_call_id: format!("ssrf-{call}"),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        },
    )
    .await;
    assert_eq!(
        next_command(app, &gw, &mut last).await,
        GatewayCommand::Answer { call_id: call }
    );
    match next_command(app, &gw, &mut last).await {
        GatewayCommand::Play { prompt, .. } => (call, prompt),
        other => panic!("expected a prompt, got {other:?}"),
    }
}

async fn timeline_kinds(
    app: &TestApp,
    admin: &reqwest::Client,
    call: Uuid,
) -> Vec<(String, serde_json::Value)> {
    for _ in 0..50 {
        let (status, v) = json_of(
            admin
                .get(app.url(&format!("/api/v1/calls/{call}")))
                .send()
                .await,
        )
        .await;
        if status == 200 {
            let events: Vec<(String, serde_json::Value)> = v["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["kind"].as_str().unwrap().to_string(),
                        e["details"].clone(),
                    )
                })
                .collect();
            if !events.is_empty() {
                return events;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("call {call} has no timeline");
}

#[tokio::test]
async fn ivr_lookups_and_sso_never_reach_the_platforms_network_unless_allowed() {
    let internal = Internal::start().await;
    let port = internal.port;
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Ssrf Attacker").await;
    let b = tenant(&app, "Ssrf Neighbour").await;

    // Save time: every literal refused form is a field error on the node's URL, and on the
    // SSO issuer.
    for url in refused_hosts(port) {
        let p = problem(
            a.admin
                .post(app.url("/api/v1/ivr/flows"))
                .json(&json!({ "name": "Steal", "graph": lookup_flow(&format!("{url}?c={{{{caller}}}}")) }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), ["graph.nodes.lookup.url"], "{url}");
        let issuer = url
            .trim_end_matches("/lookup")
            .trim_end_matches('/')
            .to_string();
        let p = problem(
            a.admin
                .put(app.url("/api/v1/settings/sso"))
                .json(&json!({ "enabled": true, "issuer": issuer, "client_id": "x", "client_secret": "y" }))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), ["issuer"], "{issuer}");
    }
    assert_eq!(internal.hits(), 0, "a save reached the internal server");

    // Run time: the host comes from a variable (the caller's number), so only the run-time
    // check can see it. Every form is refused, the error branch is taken and the refusal is
    // on the call's timeline.
    publish_lookup(
        &app,
        &a.admin,
        &format!("http://{{{{caller}}}}:{port}/lookup?x=1"),
    )
    .await;
    for host in [
        "127.0.0.1",
        "2130706433",
        "0x7f.1",
        "017700000001",
        "127.1",
        "0",
        "localhost",
        // Names resolved through /etc/hosts to loopback: refused after resolution.
        "runsc",
        "vm",
    ] {
        let resolves = tokio::net::lookup_host((host, port)).await.is_ok();
        if !resolves {
            continue;
        }
        let (call, prompt) = call_from(&app, a.info.tenant.id, host).await;
        assert_eq!(prompt, "goodbye", "{host}: the lookup's error branch");
        let events = timeline_kinds(&app, &a.admin, call).await;
        let refused = events
            .iter()
            .find(|(k, _)| k == "http_lookup_refused")
            .unwrap_or_else(|| panic!("{host}: no refusal on the timeline: {events:?}"));
        assert!(
            refused.1["error"].as_str().unwrap().starts_with("refused:"),
            "{refused:?}"
        );
        assert_eq!(refused.1["node"], "lookup");
    }
    assert_eq!(
        internal.hits(),
        0,
        "a call's lookup reached the internal server"
    );

    // SSO discovery at run time: an issuer stored before this policy existed (or by a
    // migration) is refused when a user starts SSO, and nothing is fetched.
    let mut tx = hotline_backend::db::begin_in_schema(
        &app.state.db,
        &hotline_backend::db::schema_name(a.info.tenant.id),
    )
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('sso', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(
        json!({ "enabled": true, "issuer": format!("http://2130706433:{port}"),
                  "client_id": "x", "client_secret": "y", "auto_provision": false }),
    )
    .execute(&mut *tx)
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let browser = app.client();
    let r = browser
        .get(app.url(&format!("/api/v1/auth/sso/{}/start", a.slug())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        r.headers()["location"].to_str().unwrap(),
        "/login?error=sso_provider_refused"
    );
    assert_eq!(
        internal.hits(),
        0,
        "SSO discovery reached the internal server"
    );

    // The operator grants tenant A its internal server: A's lookup now reaches it (the
    // answer becomes call variables), B's is still refused.
    hotline_backend::seed::demo(&app.state).await.unwrap();
    let op = app.client();
    let r = op
        .post(app.url("/api/v1/platform/login"))
        .json(&json!({ "email": hotline_backend::seed::OPERATOR_EMAIL, "password": hotline_backend::seed::DEMO_PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let grant_url = app.url(&format!(
        "/api/v1/platform/tenants/{}/outbound-allow",
        a.info.tenant.id
    ));
    // A tenant admin cannot grant itself anything.
    let (status, _) = json_of(
        a.admin
            .put(&grant_url)
            .json(&json!({ "allow": ["0.0.0.0/0"] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(status, 401);
    let p = problem(
        op.put(&grant_url)
            .json(&json!({ "allow": ["127.0.0.1", "not a host!"] }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["allow.1"]);
    let granted: serde_json::Value = ok_json(
        op.put(&grant_url)
            .json(&json!({ "allow": [format!("127.0.0.1:{port}")] }))
            .send()
            .await,
    )
    .await;
    assert_eq!(granted["allow"], json!([format!("127.0.0.1:{port}")]));
    let read: serde_json::Value = ok_json(op.get(&grant_url).send().await).await;
    assert_eq!(read, granted);

    let allowed = format!("http://127.0.0.1:{port}/lookup?c={{{{caller}}}}");
    publish_lookup(&app, &a.admin, &allowed).await;
    let (_, prompt) = call_from(&app, a.info.tenant.id, "+15550001111").await;
    assert_eq!(prompt, "greeting", "the granted lookup succeeds");
    assert_eq!(internal.hits(), 1);
    // Only that port: another one on the same address is still refused.
    let p = problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Other port", "graph": lookup_flow(&format!("http://127.0.0.1:{}/", port + 1)) }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.lookup.url"]);
    // The neighbour has no grant.
    let p = problem(
        b.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Steal", "graph": lookup_flow(&allowed) }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(field_names(&p), ["graph.nodes.lookup.url"]);
    assert_eq!(internal.hits(), 1);
}

/// An on-premise deployment allows its internal network in the platform configuration
/// (`outbound_allow`): SSO discovery and lookups then reach it — for every tenant.
#[tokio::test]
async fn the_platform_allow_list_lets_on_premise_deployments_reach_internal_services() {
    let internal = Internal::start().await;
    let port = internal.port;
    let app = TestApp::spawn_with(|c| c.outbound_allow = vec![format!("127.0.0.1:{port}")]).await;
    let a = tenant(&app, "On Prem").await;
    ok_json::<serde_json::Value>(
        a.admin
            .put(app.url("/api/v1/settings/sso"))
            .json(
                &json!({ "enabled": true, "issuer": format!("http://127.0.0.1:{port}"),
                           "client_id": "x", "client_secret": "y" }),
            )
            .send()
            .await,
    )
    .await;
    let r = app
        .client()
        .get(app.url(&format!("/api/v1/auth/sso/{}/start", a.slug())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // Discovery was fetched (the stand-in's answer is not a discovery document).
    assert_eq!(internal.hits(), 1);
    assert_ne!(
        r.headers()["location"].to_str().unwrap(),
        "/login?error=sso_provider_refused"
    );
    publish_lookup(
        &app,
        &a.admin,
        &format!("http://127.0.0.1:{port}/lookup?c={{{{caller}}}}"),
    )
    .await;
    let (_, prompt) = call_from(&app, a.info.tenant.id, "+15550002222").await;
    assert_eq!(prompt, "greeting");
    assert_eq!(internal.hits(), 2);
    // The rest of loopback (another port) stays refused.
    problem(
        a.admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Redis", "graph": lookup_flow("http://127.0.0.1:6379/") }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
}
