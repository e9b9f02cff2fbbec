//! Telephone number self-service in the browser (issue 18, "Numbers"). The platform operator
//! opens "Numbers" in the console, is told exactly what is wrong with a malformed number, then
//! adds three numbers to the pool with a region; they are listed as free and route to nobody.
//! The call center's admin opens "Numbers", searches the free numbers, asks for one with a
//! note and sees the request waiting. The operator sees the request with the call center and
//! the note and approves it; the number is listed as assigned and routes to the call center.
//! The admin sees the request approved and the number under "My numbers", chooses the
//! published flow that answers it — and after a reload the choice is still shown; the API
//! agrees.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use anyhow::{ensure, Result};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run, Browser};
use hotline_wire::calls::{DidDto, FlowDto};
use redis::AsyncCommands;
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

async fn api<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder, expect: u16) -> T {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, expect, "answer: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

async fn operator_login(b: &Browser, email: &str) -> Result<()> {
    b.open("/platform/login").await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#platform-login-form button[type=submit]").await?;
    b.wait_path("/platform").await?;
    Ok(())
}

async fn tenant_login(b: &Browser, tenant: &str, email: &str) -> Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", tenant).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.wait("#logout").await?;
    Ok(())
}

async fn logout(b: &Browser, to: &str) -> Result<()> {
    b.click("#logout").await?;
    b.wait_path(to).await?;
    Ok(())
}

/// The visible text of the chosen option of the select at `css`.
async fn chosen(b: &Browser, css: &str) -> Result<String> {
    b.wait(css).await?;
    let v = b
        .js(&format!(
            "const s = document.querySelector({css:?}); return s.options[s.selectedIndex].text"
        ))
        .await?;
    Ok(v.as_str().unwrap_or_default().to_string())
}

/// The tenant the gateways' Redis copy routes `did` to, if any.
async fn routed_to(app: &TestApp, did: &str) -> Option<String> {
    let mut r = app.state.redis();
    let v: Option<String> = r.hget("platform:dids", did).await.unwrap();
    v.map(|v| {
        let v: Value = serde_json::from_str(&v).unwrap();
        v["tenant_id"].as_str().unwrap_or_default().to_string()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operator_pools_numbers_tenant_requests_one_and_maps_it_to_a_flow() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Numbers Co").await;
    let (slug, email, tenant_id) = (
        signup.tenant.slug.clone(),
        signup.user.email.clone(),
        signup.tenant.id,
    );
    let operator = format!("op-{}@ops.test", uuid::Uuid::new_v4().simple());
    let hash = hotline_backend::auth::hash_password(PASSWORD.into())
        .await
        .expect("hash");
    sqlx::query("INSERT INTO platform.operators (id, email, name, password_hash) VALUES ($1, $2, 'Olga Operator', $3)")
        .bind(uuid::Uuid::new_v4())
        .bind(&operator)
        .bind(hash)
        .execute(&app.state.db)
        .await
        .expect("insert operator");
    // The call center's published flow (built on the IVR page; not what this test is about).
    let graph = json!({ "start": "bye", "nodes": { "bye": { "type": "hangup", "prompt": null } } });
    let flow: FlowDto = api(
        admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main line", "graph": graph })),
        201,
    )
    .await;
    let _: FlowDto = api(
        admin
            .post(app.url(&format!("/api/v1/ivr/flows/{}/publish", flow.id)))
            .json(&json!({ "version": 1 })),
        200,
    )
    .await;
    // Numbers no other test uses: the gateways' Redis copy is shared.
    let block = format!("+99478{:06}", uuid::Uuid::new_v4().as_u128() % 1_000_000);
    let wanted = format!("{block}02");
    let digits: String = wanted.chars().filter(char::is_ascii_digit).collect();

    let (b1, w1) = (block.clone(), wanted.clone());
    let (app_url, tenant_str) = (app.base_url.clone(), tenant_id.to_string());
    let app_ref = &app;
    run(
        "operator_pools_numbers_tenant_requests_one_and_maps_it_to_a_flow",
        &app_url,
        async move |b| {
            // The operator adds numbers to the pool; a malformed one is named first.
            operator_login(b, &operator).await?;
            b.click(".mainnav a[href='/platform/numbers']").await?;
            b.wait_path("/platform/numbers").await?;
            b.wait("#pool-empty").await?;
            b.fill("#add-list", &format!("{b1}01, +994 12 555")).await?;
            b.click("#add-submit").await?;
            let err = b
                .wait_text("#add-list-error", "is not an E.164 number")
                .await?;
            ensure!(
                err.contains("\"+994 12 555\""),
                "the error does not name the number: {err}"
            );
            b.wait("#pool-empty").await?;
            b.fill("#add-list", "").await?;
            b.fill("#add-first", &format!("{b1}01")).await?;
            b.fill("#add-last", &format!("{b1}03")).await?;
            b.fill("#add-region", "Azerbaijan, Sumqayit").await?;
            b.fill("#add-description", "Batch for Sumqayit").await?;
            b.click("#add-submit").await?;
            b.wait_text("#add-notice", "Numbers added to the pool: 3")
                .await?;
            let row = b
                .wait_text(&format!("#pool-table tr[data-did='{w1}']"), "Free")
                .await?;
            ensure!(row.contains("Azerbaijan, Sumqayit"), "pool row: {row}");
            ensure!(
                routed_to(app_ref, &w1).await.is_none(),
                "a pool number routes"
            );
            logout(b, "/platform/login").await?;

            // The call center's admin asks for one.
            tenant_login(b, &slug, &email).await?;
            b.click(".mainnav a[href='/admin/numbers']").await?;
            b.wait_path("/admin/numbers").await?;
            b.wait("#dids-empty").await?;
            b.wait("#my-requests-empty").await?;
            b.fill("#pool-search", "sumqayit").await?;
            b.click("#pool-search-submit").await?;
            b.wait_text("#free-numbers", &w1).await?;
            let count = b
                .js("return document.querySelectorAll('#free-numbers tbody tr').length")
                .await?;
            ensure!(count == json!(3), "free numbers listed: {count}");
            b.click(&format!("#free-numbers tr[data-did='{w1}'] button.ask"))
                .await?;
            b.fill("#ask-note", "Second line for sales").await?;
            b.click("#ask-send").await?;
            b.wait_text(
                "#numbers-notice",
                &format!("Your request for {w1} was sent"),
            )
            .await?;
            let req = b
                .wait_text(
                    &format!("#my-requests tr[data-did='{w1}']"),
                    "Waiting for a decision",
                )
                .await?;
            ensure!(req.contains("Second line for sales"), "request row: {req}");
            // No longer offered while the request waits.
            b.wait_text_without("#free-numbers", &w1).await?;
            logout(b, "/login").await?;

            // The operator approves it.
            operator_login(b, &operator).await?;
            b.open("/platform/numbers").await?;
            let row_css = format!("#number-requests tr[data-did='{w1}']");
            let row = b.wait_text(&row_css, "Numbers Co").await?;
            ensure!(row.contains("Second line for sales"), "request row: {row}");
            b.wait_text(&format!("#pool-table tr[data-did='{w1}']"), "Requested")
                .await?;
            b.screenshot(&artifacts_dir().join("screens/numbers-platform.png"))
                .await?;
            b.click(&format!("{row_css} button.approve")).await?;
            b.wait_text(
                "#requests-notice",
                &format!("{w1} now belongs to Numbers Co"),
            )
            .await?;
            b.wait("#number-requests-empty").await?;
            b.wait_text(&format!("#pool-table tr[data-did='{w1}']"), "Assigned")
                .await?;
            ensure!(
                routed_to(app_ref, &w1).await.as_deref() == Some(tenant_str.as_str()),
                "not routed to the tenant"
            );
            logout(b, "/platform/login").await?;

            // The admin maps it to the published flow; the choice survives a reload.
            tenant_login(b, &slug, &email).await?;
            b.open("/admin/numbers").await?;
            b.wait_text(&format!("#my-requests tr[data-did='{w1}']"), "Approved")
                .await?;
            let select = format!("#did-flow-{digits}");
            b.wait(&select).await?;
            b.choose(&select, "Main line").await?;
            b.wait_text(
                "#toasts [role=status]",
                &format!("{w1} is now answered by Main line"),
            )
            .await?;
            b.open("/admin/numbers").await?;
            b.wait_text(
                &format!("#dids-table tr[data-did='{w1}']"),
                "Azerbaijan, Sumqayit",
            )
            .await?;
            let now = chosen(b, &select).await?;
            ensure!(
                now == "Main line",
                "after a reload the number shows {now:?}"
            );
            b.screenshot(&artifacts_dir().join("screens/numbers-tenant.png"))
                .await?;
            Ok(())
        },
    )
    .await;
    let dids: Vec<DidDto> = api(admin.get(app.url("/api/v1/ivr/dids")), 200).await;
    assert_eq!(dids.len(), 1);
    assert_eq!(dids[0].did, wanted);
    assert_eq!(dids[0].flow_id, Some(flow.id));
    assert_eq!(routed_to(&app, &wanted).await, Some(tenant_id.to_string()));
    assert_eq!(routed_to(&app, &format!("{block}01")).await, None);
}
