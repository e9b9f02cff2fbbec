//! The customer list in the browser (issue 18): the admin opens "Customers" from the
//! navigation; the search narrows the list (by name, and by a phone number typed in another
//! notation); a search saved under a name is listed, survives a reload (it is kept on the
//! server) and applies again in one click, and can be deleted; two "Ann Smith" records picked
//! together are merged into the one chosen to keep (the list then has one, with both phone
//! numbers); the CSV export downloads the customers, with a name that would run as a
//! spreadsheet formula defused.
//!
//! Needs Chromium + chromedriver and a built `frontend/dist`; Postgres and Redis as for the
//! backend's tests. Failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::ensure;
use common::{ok, tenant, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::run;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customers_are_searched_saved_merged_and_exported() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Customer Water").await;
    for (name, phone) in [
        ("Ann Smith", "+994125550101"),
        ("Ann Smith", "+994505550202"),
        ("Boris Ivanov", "+994125550303"),
        ("=HYPERLINK(\"http://evil.test\")", "+994125550404"),
    ] {
        t.post(
            &app,
            "/api/v1/customers",
            json!({ "name": name, "phones": [{ "number": phone, "label": "mobile" }] }),
        )
        .await;
    }
    let slug = t.slug.clone();
    run("browser_customers", &app.base_url, async |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", "admin@customer-water.test").await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait_path("/").await?;
        b.click("a[href='/customers']").await?;
        b.wait_text("#customers-table", "Boris Ivanov").await?;

        // Search by name, then by a number in another notation.
        b.fill("#customers-q", "smith").await?;
        b.click("#customers-search").await?;
        let list = b.wait_text_without("#customers-table", "Boris").await?;
        ensure!(list.matches("Ann Smith").count() == 2, "{list}");
        b.fill("#customers-q", "+994 12 555-03-03").await?;
        b.click("#customers-search").await?;
        let list = b.wait_text_without("#customers-table", "Ann Smith").await?;
        ensure!(list.contains("Boris Ivanov"), "{list}");

        // Save the "smith" search, reload: it is still there and applies in one click.
        b.fill("#customers-q", "smith").await?;
        b.click("#customers-search").await?;
        b.wait_text_without("#customers-table", "Boris").await?;
        b.fill("#customers-filter-name", "Smiths").await?;
        b.click("#customers-filter-save").await?;
        b.wait_text("#customers-notice", "Smiths").await?;
        b.open("/customers").await?;
        b.wait_text("#customers-table", "Boris Ivanov").await?;
        b.click(".saved-filter[data-name='Smiths'] .saved-filter-apply")
            .await?;
        b.wait_text_without("#customers-table", "Boris").await?;
        ensure!(b.value("#customers-q").await? == "smith", "the box shows the search");

        // Merge the two Ann Smiths, keeping the second picked.
        b.click("tr.customer-row:nth-child(1) .customer-pick").await?;
        b.click("tr.customer-row:nth-child(2) .customer-pick").await?;
        b.wait("#customers-merge-box").await?;
        b.click("#customers-merge-box label:nth-of-type(2) .customers-keep")
            .await?;
        b.click("#customers-merge").await?;
        b.wait_text("#customers-notice", "was merged into Ann Smith")
            .await?;
        let list = b.wait_text("#customers-table", "+994125550101").await?;
        ensure!(
            list.matches("Ann Smith").count() == 1 && list.contains("+994505550202"),
            "one Ann Smith with both numbers: {list}"
        );

        // Delete the saved search.
        b.click(".saved-filter[data-name='Smiths'] .saved-filter-delete")
            .await?;
        let gone = b
            .js("return new Promise(r => setTimeout(() => r(document.querySelectorAll(\".saved-filter[data-name='Smiths']\").length), 500));")
            .await?;
        ensure!(gone == json!(0), "the saved search is gone");

        // Export: the link downloads CSV with every customer; formulas are defused.
        let href = b
            .js("return document.querySelector('#customers-export').getAttribute('href');")
            .await?;
        ensure!(href == json!("/api/v1/customers/export?format=csv"), "{href}");
        let csv = b
            .js("return fetch('/api/v1/customers/export?format=csv').then(r => r.text());")
            .await?;
        let csv = csv.as_str().unwrap_or_default().to_string();
        ensure!(csv.starts_with("name,phones"), "{csv}");
        ensure!(csv.contains("Boris Ivanov,+994125550303"), "{csv}");
        ensure!(
            csv.contains("\"'=HYPERLINK(\"\"http://evil.test\"\")\""),
            "formula defused: {csv}"
        );
        ensure!(csv.matches("Ann Smith").count() == 1, "merged: {csv}");
        Ok(())
    })
    .await;

    // The merge is on the server too.
    let list = ok(t
        .admin
        .get(app.url("/api/v1/customers?q=smith"))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(list["total"], 1, "{list}");
}
