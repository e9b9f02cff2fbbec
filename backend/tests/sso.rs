//! SSO: a real authorization-code + PKCE round trip against a real OpenID provider (the npm
//! package `oidc-provider`, run by this test), and rejection of a wrong state or verifier.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::{SessionInfo, TenantLoginOptions};
use reqwest::{Client, StatusCode};
use serde_json::json;
use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

struct Idp {
    child: Child,
    issuer: String,
}

impl Drop for Idp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start_idp(redirect_uri: &str) -> Idp {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc");
    assert!(
        std::path::Path::new(dir).join("node_modules/oidc-provider").exists(),
        "oidc-provider is not installed: run `npm ci` in backend/tests/oidc (the README's test command does)"
    );
    let port = free_port();
    let mut child = Command::new("node")
        .current_dir(dir)
        .args([
            "server.mjs",
            &port.to_string(),
            redirect_uri,
            "hotline-test",
            "test-secret-123",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("node runs (install nodejs)");
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert!(line.starts_with("READY"), "provider said: {line}");
    // Keep draining its output: a closed pipe would kill it at its next log line.
    std::thread::spawn(move || std::io::copy(&mut out, &mut std::io::sink()));
    Idp {
        child,
        issuer: format!("http://127.0.0.1:{port}"),
    }
}

fn absolute(base: &str, loc: &str) -> String {
    url::Url::parse(base)
        .unwrap()
        .join(loc)
        .unwrap()
        .to_string()
}

/// Drives the provider's login and consent pages as a browser would, from the provider's
/// authorization URL until it redirects to our callback; returns that callback URL.
async fn authorize_at_idp(
    browser: &Client,
    mut url: String,
    callback_prefix: &str,
    login: &str,
) -> String {
    let action = regex::Regex::new(r#"action="([^"]+)""#).unwrap();
    let prompt = regex::Regex::new(r#"name="prompt" value="([a-z]+)""#).unwrap();
    for _ in 0..20 {
        if url.starts_with(callback_prefix) {
            return url;
        }
        let r = browser.get(&url).send().await.unwrap();
        if r.status().is_redirection() {
            url = absolute(&url, r.headers()["location"].to_str().unwrap());
            continue;
        }
        let page = r.text().await.unwrap();
        let target = absolute(
            &url,
            &action
                .captures(&page)
                .expect("a form on the provider's page")[1],
        );
        let p = prompt.captures(&page).expect("a prompt")[1].to_string();
        let mut form = vec![("prompt", p.clone())];
        if p == "login" {
            form.push(("login", login.to_string()));
            form.push(("password", "anything".to_string()));
        }
        let r = browser.post(&target).form(&form).send().await.unwrap();
        assert!(
            r.status().is_redirection(),
            "provider answered {} to {p}",
            r.status()
        );
        url = absolute(&target, r.headers()["location"].to_str().unwrap());
    }
    panic!("the provider never redirected back");
}

async fn start(app: &TestApp, browser: &Client, slug: &str) -> String {
    let r = browser
        .get(app.url(&format!("/api/v1/auth/sso/{slug}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.contains("code_challenge_method=S256"),
        "PKCE is used: {loc}"
    );
    loc
}

fn query(url: &str, key: &str) -> String {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
        .unwrap()
}

#[tokio::test]
async fn sso_round_trip_and_rejections() {
    // The provider runs on this machine: loopback is reachable only because the platform's
    // allow-list says so, exactly as an on-premise deployment would configure it
    // (`HOTLINE_OUTBOUND_ALLOW=127.0.0.1`).
    let app = TestApp::spawn_with(|c| c.outbound_allow = vec!["127.0.0.1".into()]).await;
    let callback = app.url("/api/v1/auth/sso/callback");
    let idp = start_idp(&callback);
    let t = tenant(&app, "SSO Co").await;
    let (agent, _) = t.user(&app, "sso.agent@sso.test", "Agent").await;

    // Not configured yet: the login page offers no SSO.
    let opts: TenantLoginOptions = ok_json(
        app.client()
            .get(app.url(&format!("/api/v1/auth/options?tenant={}", t.slug())))
            .send()
            .await,
    )
    .await;
    assert!(!opts.sso_enabled);
    // Invalid settings are refused with the fields named.
    let p = problem(
        t.admin
            .put(app.url("/api/v1/settings/sso"))
            .json(&json!({ "enabled": true, "issuer": "not a url", "client_id": "" }))
            .send()
            .await,
        422,
        "validation_failed",
    )
    .await;
    let mut fields = field_names(&p);
    fields.sort();
    assert_eq!(fields, ["client_id", "client_secret", "issuer"]);
    let saved: serde_json::Value = ok_json(
        t.admin
            .put(app.url("/api/v1/settings/sso"))
            .json(&json!({ "enabled": true, "issuer": idp.issuer, "client_id": "hotline-test", "client_secret": "test-secret-123" }))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        saved["client_secret"],
        serde_json::Value::Null,
        "the secret is never returned"
    );
    let opts: TenantLoginOptions = ok_json(
        app.client()
            .get(app.url(&format!("/api/v1/auth/options?tenant={}", t.slug())))
            .send()
            .await,
    )
    .await;
    assert_eq!(
        opts.sso_start_url.as_deref(),
        Some(format!("/api/v1/auth/sso/{}/start", t.slug()).as_str())
    );

    // The happy path: start → provider login + consent → callback → signed in.
    let browser = app.client();
    let auth_url = start(&app, &browser, t.slug()).await;
    let back = authorize_at_idp(&browser, auth_url, &callback, "sso.agent@sso.test").await;
    let r = browser.get(&back).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(r.headers()["location"], "/");
    let me: SessionInfo = ok_json(browser.get(app.url("/api/v1/auth/me")).send().await).await;
    assert_eq!(me.user.id, agent.id);
    // Replaying the same callback (state already used) is refused.
    let r = app.client().get(&back).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login?error=sso_state_invalid");

    // Wrong state: a code from flow 1 presented with an unknown state.
    let b2 = app.client();
    let url1 = start(&app, &b2, t.slug()).await;
    let back1 = authorize_at_idp(&b2, url1, &callback, "sso.agent@sso.test").await;
    let code1 = query(&back1, "code");
    let r = b2
        .get(format!("{callback}?code={code1}&state=made-up-state"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login?error=sso_state_invalid");
    assert!(r.headers().get("set-cookie").is_none());
    // Wrong PKCE verifier: flow 1's code with flow 2's (valid) state, so the backend sends
    // flow 2's verifier; the provider refuses the exchange.
    let url2 = start(&app, &b2, t.slug()).await;
    let state2 = query(&url2, "state");
    let r = b2
        .get(format!("{callback}?code={code1}&state={state2}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["location"], "/login?error=sso_exchange_failed");
    assert!(r.headers().get("set-cookie").is_none());
    problem(
        b2.get(app.url("/api/v1/auth/me")).send().await,
        401,
        "unauthenticated",
    )
    .await;

    // Someone the tenant does not know is not let in (no auto-provisioning configured).
    let b3 = app.client();
    let url3 = start(&app, &b3, t.slug()).await;
    let back3 = authorize_at_idp(&b3, url3, &callback, "stranger@elsewhere.test").await;
    let r = b3.get(&back3).send().await.unwrap();
    assert_eq!(r.headers()["location"], "/login?error=sso_no_account");

    let audit: hotline_wire::api::Page<serde_json::Value> = ok_json(
        t.admin
            .get(app.url("/api/v1/audit?action=auth.login"))
            .send()
            .await,
    )
    .await;
    assert!(audit
        .items
        .iter()
        .any(|e| e["details"]["method"] == "sso" && e["actor"] == "sso.agent@sso.test"));
}
