//! SIP trunks in the browser ("bring your own carrier"). The call center's admin opens
//! "SIP trunks", adds a registering trunk with its carrier, credentials and an inbound number;
//! it is listed with "No report yet" and the password is nowhere on the page. A gateway (the
//! test, writing `platform:trunk_status` as the media gateway does) reports it registered: the
//! pill says "Registered until …" without a reload; then the carrier refuses it with 403: the
//! pill says "Failed: 403 Forbidden". The API and the gateways' copy agree.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use anyhow::ensure;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run};
use hotline_wire::trunks::{TrunkDto, TrunkState, TrunkStatus, TRUNKS_KEY, TRUNK_STATUS_KEY};
use redis::AsyncCommands;

const PASSWORD: &str = "correct horse battery";
const SECRET: &str = "Carrier-Secret-4410";

async fn report(app: &TestApp, id: uuid::Uuid, s: TrunkStatus) {
    let mut r = app.state.redis();
    let _: () = r
        .hset(
            TRUNK_STATUS_KEY,
            id.to_string(),
            serde_json::to_string(&s).unwrap(),
        )
        .await
        .unwrap();
}

async fn trunks(app: &TestApp, admin: &reqwest::Client) -> Vec<TrunkDto> {
    let r = admin.get(app.url("/api/v1/trunks")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_adds_a_trunk_and_sees_what_the_gateway_reports() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Trunk Co").await;
    let (slug, email) = (signup.tenant.slug.clone(), signup.user.email.clone());
    // A number no other test uses: the gateways' Redis copy is shared.
    let did = format!("+4858{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    let (app_url, app_ref, admin_ref, did_ref) = (app.base_url.clone(), &app, &admin, &did);
    run(
        "admin_adds_a_trunk_and_sees_what_the_gateway_reports",
        &app_url,
        async move |b| {
            b.open("/login").await?;
            b.fill("#tenant", &slug).await?;
            b.fill("#email", &email).await?;
            b.fill("#password", PASSWORD).await?;
            b.click("#login-submit").await?;
            b.wait("#logout").await?;
            b.click(".mainnav a[href='/admin/trunks']").await?;
            b.wait_path("/admin/trunks").await?;
            b.wait("#trunks-empty").await?;

            b.click("#trunk-add").await?;
            b.fill("#trunk-name", "Carrier PL").await?;
            b.fill("#trunk-host", "sip.carrier.example").await?;
            b.fill("#trunk-username", "48581000").await?;
            b.fill("#trunk-password", SECRET).await?;
            b.fill("#trunk-dids", did_ref).await?;
            b.choose("#trunk-callee_format", "National").await?;
            b.fill("#trunk-country", "48").await?;
            b.fill("#trunk-prefix", "0").await?;
            b.click("#trunk-save").await?;
            b.wait_text(".alert.ok", "Trunk Carrier PL saved.").await?;
            let row = "#trunks tr[data-name='Carrier PL']";
            let text = b.wait_text(row, "No report yet").await?;
            ensure!(text.contains(did_ref.as_str()), "row: {text}");
            let html = b.js("return document.body.innerHTML").await?;
            ensure!(
                !html.as_str().unwrap_or_default().contains(SECRET),
                "the password is on the page"
            );

            let list = trunks(app_ref, admin_ref).await;
            ensure!(list.len() == 1 && list[0].has_password, "API: {list:?}");
            let id = list[0].id;
            let until = chrono::Utc::now() + chrono::Duration::seconds(300);
            report(
                app_ref,
                id,
                TrunkStatus {
                    state: TrunkState::Registered,
                    status: Some(200),
                    reason: Some("OK".into()),
                    gateway_id: "gw-browser".into(),
                    at: chrono::Utc::now(),
                    expires_at: Some(until),
                },
            )
            .await;
            let pill = format!("{row} .trunk-state[data-state='registered']");
            let text = b.wait_text(&pill, "Registered until").await?;
            ensure!(!text.contains("No report"), "pill: {text}");
            b.screenshot(&artifacts_dir().join("screens/trunks-registered.png"))
                .await?;

            report(
                app_ref,
                id,
                TrunkStatus {
                    state: TrunkState::Failed,
                    status: Some(403),
                    reason: Some("Forbidden".into()),
                    gateway_id: "gw-browser".into(),
                    at: chrono::Utc::now(),
                    expires_at: None,
                },
            )
            .await;
            b.wait_text(
                &format!("{row} .trunk-state[data-state='failed']"),
                "Failed: 403 Forbidden",
            )
            .await?;

            // Edited: the password field is write-only ("New password"), empty keeps it.
            b.click(&format!("{row} .trunk-edit")).await?;
            b.wait_text("label[for='trunk-password']", "New password")
                .await?;
            ensure!(
                b.value("#trunk-password").await?.is_empty(),
                "password shown"
            );
            b.fill("#trunk-port", "5080").await?;
            b.click("#trunk-save").await?;
            b.wait_text(row, "sip.carrier.example:5080").await?;
            Ok(())
        },
    )
    .await;
    let list = trunks(&app, &admin).await;
    assert_eq!(list[0].inbound_dids, std::slice::from_ref(&did));
    assert_eq!(list[0].port, 5080);
    let mut r = app.state.redis();
    let copy: String = r.hget(TRUNKS_KEY, list[0].id.to_string()).await.unwrap();
    let copy: hotline_wire::trunks::TrunkConfig = serde_json::from_str(&copy).unwrap();
    assert_eq!(
        copy.password, SECRET,
        "the stored password was lost on edit"
    );
    assert_eq!(copy.country_code, "48");
}
