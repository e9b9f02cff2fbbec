//! The shared components (`frontend/src/components.rs`) as a user meets them, on the Skills
//! screen (one `ListEditor` over a `DataTable`): 23 skills page as 20 + 3 with the pager;
//! a column header sorts (click, or Enter on it) ascending then descending with `aria-sort`
//! on that header only; Delete asks in a modal dialog (focus inside, Tab stays inside, Esc
//! cancels, nothing deleted, focus back on the Delete button), confirming deletes the skill
//! and says so in a toast (`role="status"`, with a dismiss button); a save says so in a toast.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::{ensure, Result};
use common::{ok, tenant, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{run, Browser};
use serde_json::{json, Value};

const ENTER: &str = "\u{E007}";
const ESCAPE: &str = "\u{E00C}";
const TAB: &str = "\u{E004}";
const SHIFT_TAB: &str = "\u{E008}\u{E004}";

/// The first cells of the table's body rows, top to bottom.
async fn first_cells(b: &Browser) -> Result<Vec<String>> {
    let v = b
        .js("return [...document.querySelectorAll('#skills-table tbody tr')].map(r => r.cells[0].textContent)")
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// `aria-sort` of each header (null when absent).
async fn aria_sorts(b: &Browser) -> Result<Vec<Option<String>>> {
    let v = b
        .js("return [...document.querySelectorAll('#skills-table thead th')].map(t => t.getAttribute('aria-sort'))")
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Waits until the first cell of the first row is `name`.
async fn wait_first(b: &Browser, name: &str) -> Result<Vec<String>> {
    let mut last = vec![];
    for _ in 0..100 {
        last = first_cells(b).await?;
        if last.first().map(String::as_str) == Some(name) {
            return Ok(last);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the first row is not {name:?}: {last:?}")
}

/// The focused element's id and `aria-label`.
async fn focused(b: &Browser) -> Result<(String, String)> {
    let v = b
        .js("const e = document.activeElement; return [e.id || '', e.getAttribute('aria-label') || '']")
        .await?;
    Ok(serde_json::from_value(v)?)
}

async fn skill_names(app: &TestApp, admin: &reqwest::Client) -> Vec<String> {
    let v: Value = ok(admin.get(app.url("/api/v1/skills")).send().await.unwrap()).await;
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tables_sort_and_page_deletes_ask_in_a_dialog_and_toasts_confirm() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Component Works").await;
    // 23 skills; their descriptions order them differently from their names ("Skill 16"
    // has the first description, "Zone 00").
    for i in 1..=23 {
        t.post(
            &app,
            "/api/v1/skills",
            json!({ "name": format!("Skill {i:02}"), "description": format!("Zone {:02}", (i * 7 + 3) % 23) }),
        )
        .await;
    }
    let (app_ref, admin, slug) = (&app, &t.admin, t.slug.clone());

    run(
        "tables_sort_and_page_deletes_ask_in_a_dialog_and_toasts_confirm",
        &app.base_url,
        async move |b| {
            b.open("/login").await?;
            b.fill("#tenant", &slug).await?;
            b.fill("#email", "admin@component-works.test").await?;
            b.fill("#password", PASSWORD).await?;
            b.click("#login-submit").await?;
            b.wait_path("/").await?;
            b.click("a[href='/admin/skills']").await?;

            // Paging: 20 of 23 on the first page, the other 3 on the second.
            b.wait_text(".table-wrap .pager", "Page 1 of 2").await?;
            let rows = first_cells(b).await?;
            ensure!(rows.len() == 20, "first page: {rows:?}");
            ensure!(!rows.contains(&"Skill 21".to_string()), "first page: {rows:?}");
            b.click(".table-wrap .pager button:last-child").await?;
            b.wait_text(".table-wrap .pager", "Page 2 of 2").await?;
            let rows = first_cells(b).await?;
            ensure!(
                rows == ["Skill 21", "Skill 22", "Skill 23"],
                "second page: {rows:?}"
            );
            ensure!(
                aria_sorts(b).await?.iter().all(Option::is_none),
                "sorted before any header was used"
            );

            // Sorting: the name header ascending, then descending (back to page 1).
            let name_header = "#skills-table thead th:nth-child(1) button.sort";
            b.click(name_header).await?;
            wait_first(b, "Skill 01").await?;
            ensure!(
                aria_sorts(b).await?[..2] == [Some("ascending".into()), None],
                "after one click: {:?}",
                aria_sorts(b).await?
            );
            b.click(name_header).await?;
            let rows = wait_first(b, "Skill 23").await?;
            ensure!(rows[1] == "Skill 22", "descending: {rows:?}");
            ensure!(
                aria_sorts(b).await?[0].as_deref() == Some("descending"),
                "after two clicks: {:?}",
                aria_sorts(b).await?
            );
            b.wait_text(".table-wrap .pager", "Page 1 of 2").await?;
            // The description header, from the keyboard.
            b.wait("#skills-table thead th:nth-child(2) button.sort")
                .await?
                .send_keys(ENTER)
                .await?;
            wait_first(b, "Skill 16").await?;
            ensure!(
                aria_sorts(b).await?[..2] == [None, Some("ascending".into())],
                "sorted by description: {:?}",
                aria_sorts(b).await?
            );

            // Delete asks in a modal dialog; Tab stays inside; Esc cancels.
            let delete = "#skills-table button[aria-label='Delete Skill 16']";
            b.click(delete).await?;
            let dialog = b.wait("[role=dialog]").await?;
            ensure!(
                dialog.attr("aria-modal").await?.as_deref() == Some("true"),
                "the dialog is not modal"
            );
            let title: Value = b
                .js("return document.getElementById(document.querySelector('[role=dialog]').getAttribute('aria-labelledby')).textContent")
                .await?;
            ensure!(
                title.as_str() == Some("Really delete Skill 16?"),
                "dialog title: {title}"
            );
            ensure!(
                focused(b).await?.0 == "dialog-cancel",
                "focus did not move into the dialog: {:?}",
                focused(b).await?
            );
            b.client.active_element().await?.send_keys(TAB).await?;
            ensure!(focused(b).await?.0 == "dialog-confirm", "Tab: {:?}", focused(b).await?);
            b.client.active_element().await?.send_keys(TAB).await?;
            ensure!(
                focused(b).await?.0 == "dialog-cancel",
                "Tab left the dialog: {:?}",
                focused(b).await?
            );
            b.client.active_element().await?.send_keys(SHIFT_TAB).await?;
            ensure!(
                focused(b).await?.0 == "dialog-confirm",
                "Shift+Tab left the dialog: {:?}",
                focused(b).await?
            );
            b.client.active_element().await?.send_keys(ESCAPE).await?;
            for _ in 0..50 {
                if b.js("return document.querySelector('[role=dialog]') === null").await? == true {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            ensure!(
                b.js("return document.querySelector('[role=dialog]') === null").await? == true,
                "Esc did not close the dialog"
            );
            ensure!(
                focused(b).await?.1 == "Delete Skill 16",
                "focus did not return to the Delete button: {:?}",
                focused(b).await?
            );
            ensure!(
                skill_names(app_ref, admin).await.contains(&"Skill 16".to_string()),
                "Esc deleted the skill"
            );
            ensure!(first_cells(b).await?[0] == "Skill 16", "the row is gone after Esc");

            // Confirmed: deleted, and a toast says so.
            b.click(delete).await?;
            b.click("#dialog-confirm").await?;
            b.wait_text("#toasts [role=status]", "“Skill 16” deleted.").await?;
            b.wait_text_without("#skills-table", "Skill 16").await?;
            ensure!(
                !skill_names(app_ref, admin).await.contains(&"Skill 16".to_string()),
                "the confirmed delete did not delete"
            );
            b.click("#toasts button[aria-label='Dismiss']").await?;
            for _ in 0..50 {
                if b.js("return document.querySelectorAll('#toasts .toast').length").await? == 0 {
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            ensure!(
                b.js("return document.querySelectorAll('#toasts .toast').length").await? == 0,
                "Dismiss left the toast"
            );

            // A save says so in a toast too.
            b.fill("#skill-name", "Skill 24").await?;
            b.click("#skill-form button[type=submit]").await?;
            b.wait_text("#toasts [role=status]", "“Skill 24” saved.").await?;
            ensure!(
                skill_names(app_ref, admin).await.contains(&"Skill 24".to_string()),
                "the saved skill is not in the API"
            );
            Ok(())
        },
    )
    .await;
}
