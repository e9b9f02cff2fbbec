//! A tenant's own SIP trunk set up the way an administrator does it (issue 18), end to end:
//! `POST /api/v1/trunks` on the real backend, the real gateway picking the trunk up from the
//! backend's Redis copy, and SIPp as the carrier's registrar — which challenges the first
//! REGISTER (401) and accepts the second only if its digest verifies with the password the
//! administrator typed. The trunks page's status (`GET /api/v1/trunks`) then reads
//! "registered"; a second trunk whose carrier refuses (403) reads "failed" with the carrier's
//! status and reason. The gateway-only SIPp tests (outbound, inbound) are
//! `media-gateway/tests/tenant_trunks.rs`.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{eventually, finished, gateway, ok, tenant, workdir};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{free_port, scenario, sipp};
use serde_json::{json, Value};

/// 401 with a challenge; then the REGISTER whose digest verifies with `password` → 200.
fn registrar(user: &str, password: &str) -> String {
    scenario(&format!(
        r#"  <recv request="REGISTER"/>
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="carrier", nonce="n0nce", qop="auth"
      Content-Length: 0

    ]]>
  </send>
  <recv request="REGISTER">
    <action>
      <verifyauth assign_to="authok" username="{user}" password="{password}"/>
    </action>
  </recv>
  <nop hide="true" test="authok" next="good"/>
  <recv request="NEVER" timeout="100"/>
  <label id="good"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      [last_Contact:];expires=120
      Expires: 120
      Content-Length: 0

    ]]>
  </send>
"#
    ))
}

/// Refuses every REGISTER: 403.
fn refusing() -> String {
    scenario(
        r#"  <recv request="REGISTER"/>
  <send>
    <![CDATA[
      SIP/2.0 403 Account Suspended
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]reg[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"#,
    )
}

/// The trunk named `name` as `GET /api/v1/trunks` shows it.
async fn shown(app: &TestApp, admin: &reqwest::Client, name: &str) -> Value {
    let list = ok(admin.get(app.url("/api/v1/trunks")).send().await.unwrap()).await;
    list.as_array()
        .and_then(|l| l.iter().find(|t| t["name"] == name).cloned())
        .unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trunk_added_in_the_api_registers_through_the_gateway() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Own Carrier Gas").await;
    let work = workdir("trunk-api");
    let _gw = gateway(&app, &work, 0, false);

    // The carrier's registrar, and one that refuses.
    let (good_port, bad_port) = (free_port(), free_port());
    let good_dir = work.join("registrar");
    let bad_dir = work.join("refusing");
    std::fs::create_dir_all(&good_dir).unwrap();
    std::fs::create_dir_all(&bad_dir).unwrap();
    let registrar_run = sipp(
        &good_dir,
        "registrar",
        &registrar("own-auth", "s3cret-carrier"),
        &["-p", &good_port.to_string()],
    );
    let refusing_run = sipp(
        &bad_dir,
        "refusing",
        &refusing(),
        &["-p", &bad_port.to_string()],
    );

    // What the administrator types on /admin/trunks.
    let add = |name: &str, port: u16| {
        json!({ "name": name, "mode": "register", "host": "127.0.0.1", "port": port,
                "username": "own", "auth_username": "own-auth", "password": "s3cret-carrier",
                "register_expires": 120 })
    };
    let r = t
        .admin
        .post(app.url("/api/v1/trunks"))
        .json(&add("My carrier", good_port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = t
        .admin
        .post(app.url("/api/v1/trunks"))
        .json(&add("Suspended carrier", bad_port))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());

    // The registrar saw the challenge answered with the right password and said 200.
    finished(registrar_run, &good_dir, "the carrier's registrar").await;
    finished(refusing_run, &bad_dir, "the refusing registrar").await;

    let (app_ref, admin) = (&app, &t.admin);
    let good = eventually(20, "the trunk shown as registered", || async move {
        let t = shown(app_ref, admin, "My carrier").await;
        (t["status"]["state"] == "registered").then_some(t)
    })
    .await;
    assert_eq!(good["status"]["status"], 200, "{good}");
    assert!(good["status"]["expires_at"].is_string(), "{good}");
    assert!(
        good.get("password").is_none(),
        "the password is never shown: {good}"
    );

    let bad = eventually(20, "the refused trunk shown as failed", || async move {
        let t = shown(app_ref, admin, "Suspended carrier").await;
        (t["status"]["state"] == "failed").then_some(t)
    })
    .await;
    assert_eq!(bad["status"]["status"], 403, "{bad}");
    assert_eq!(bad["status"]["reason"], "Account Suspended", "{bad}");

    // Deleted: gone from the gateways' copy (the gateway unregisters it).
    for name in ["My carrier", "Suspended carrier"] {
        let id = shown(&app, &t.admin, name).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let r = t
            .admin
            .delete(app.url(&format!("/api/v1/trunks/{id}")))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "delete {name}: {}", r.status());
    }
}
