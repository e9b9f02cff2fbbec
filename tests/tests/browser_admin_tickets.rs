//! Issue 18 in the browser: the admin screens for what had only an API — ticket types and
//! their workflows (with the diagram), the interaction category tree (drag and drop, and the
//! keyboard's ↑ / ↓), assignment rules, SLA policies and the business calendar, API keys and
//! the tenant settings. Each test drives the screen as an admin, checks what she sees, reloads
//! the page to see it kept, and asks the API what was stored.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run, Browser};
use hotline_wire::api::TeamDto;
use hotline_wire::calls::RecordingSettings;
use hotline_wire::crm::{CategoryDto, CrmSettings, KbSettings};
use hotline_wire::sla::BusinessCalendar;
use hotline_wire::tickets::{AssignmentRuleDto, SlaPolicyDto, TicketTypeDto};
use serde_json::{json, Value};

const PASSWORD: &str = "correct horse battery";

async fn api<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder, expect: u16) -> T {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, expect, "answer: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

struct Seed {
    app: TestApp,
    admin: reqwest::Client,
    slug: String,
    email: String,
}

impl Seed {
    async fn new(company: &str) -> Self {
        let app = TestApp::spawn().await;
        let (admin, signup) = app.signup(company).await;
        Seed {
            slug: signup.tenant.slug.clone(),
            email: signup.user.email.clone(),
            app,
            admin,
        }
    }
    fn url(&self, p: &str) -> String {
        self.app.url(&format!("/api/v1{p}"))
    }
    async fn post<T: serde::de::DeserializeOwned>(&self, p: &str, body: Value) -> T {
        api(self.admin.post(self.url(p)).json(&body), 201).await
    }
    async fn get<T: serde::de::DeserializeOwned>(&self, p: &str) -> T {
        api(self.admin.get(self.url(p)), 200).await
    }
}

async fn login(b: &Browser, tenant: &str, email: &str) -> Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", tenant).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.wait("#logout").await?;
    Ok(())
}

/// Waits until `script` returns `want` (the page re-renders after each save).
async fn until_js(b: &Browser, script: &str, want: Value) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let got = b.js(script).await?;
        if got == want {
            return Ok(());
        }
        ensure!(
            Instant::now() < deadline,
            "`{script}` gave {got}, expected {want}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

/// Sets an input a user sets with a picker (colour, time, date) and tells the app, as the
/// picker does.
async fn set_by_picker(b: &Browser, css: &str, value: &str) -> Result<()> {
    b.wait(css).await?;
    let script = format!(
        "const el = document.querySelector({css:?}); el.value = {value:?}; \
         el.dispatchEvent(new Event('input', {{ bubbles: true }})); return el.value"
    );
    ensure!(
        b.js(&script).await? == json!(value),
        "{css} did not take {value}"
    );
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

// ---------------------------------------------------------------- ticket types

/// The workflow editor: rename a status, add one with its colour, see the server refuse it
/// while nothing leads there (named by its name, not its key), add the moves — one gated by
/// a permission chosen by its description —, the diagram follows, save, and a reload shows
/// it all kept; the API has the colour, the names and the permission.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_ticket_type_workflow_editor() {
    let s = Seed::new("Workflow Co").await;
    let (slug, email) = (s.slug.clone(), s.email.clone());
    run(
        "browser_ticket_type_workflow_editor",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &email).await?;
            b.click("a[href='/admin/ticket-types']").await?;
            b.wait("#wf-statuses tr[data-status='in_progress']").await?;
            // The default workflow drawn: 4 statuses, 5 moves.
            until_js(b, "return document.querySelectorAll('#wf-diagram g.wf-node').length", json!(4)).await?;
            until_js(b, "return document.querySelectorAll('#wf-diagram g.wf-edge').length", json!(5)).await?;

            b.fill("#wf-statuses tr[data-status='in_progress'] input.status-name", "Working").await?;
            b.fill("#wf-new-status", "Awaiting approval").await?;
            b.click("#wf-add-status").await?;
            b.wait("#wf-statuses tr[data-status='awaiting_approval']").await?;
            set_by_picker(b, "#wf-statuses tr[data-status='awaiting_approval'] input.status-colour", "#ff8800").await?;

            // Nothing leads to the new status yet: the server says so, in words.
            b.click("#wf-save").await?;
            let err = b.wait_text("#wf-errors", "cannot be reached").await?;
            ensure!(err.contains("Awaiting approval"), "error does not name the status: {err}");
            ensure!(!err.contains("awaiting_approval") && !err.contains("statuses["), "raw keys shown: {err}");

            // Working → Awaiting approval, then Awaiting approval → Resolved for approvers only.
            b.click("#wf-add-move").await?;
            b.choose("#move-from-5", "Working").await?;
            b.choose("#move-to-5", "Awaiting approval").await?;
            b.fill("#move-name-5", "Ask for approval").await?;
            b.click("#wf-add-move").await?;
            b.choose("#move-from-6", "Awaiting approval").await?;
            b.choose("#move-to-6", "Resolved").await?;
            b.fill("#move-name-6", "Approve").await?;
            b.choose("#move-perm-6", "take approval steps").await?;
            let options = b.js("return [...document.querySelectorAll('#move-perm-6 option')].map(o => o.text).join('|')").await?;
            let options = options.as_str().unwrap_or_default();
            ensure!(options.contains("Anyone who works tickets"), "options: {options}");
            ensure!(!options.contains("tickets.admin") && !options.contains("users.read"), "permission codes shown: {options}");

            // The diagram follows the form: 5 boxes, 7 arrows, the approval one dashed.
            until_js(b, "return document.querySelectorAll('#wf-diagram g.wf-node').length", json!(5)).await?;
            until_js(b, "return document.querySelectorAll('#wf-diagram g.wf-edge').length", json!(7)).await?;
            until_js(
                b,
                "return !!document.querySelector(\"#wf-diagram g.wf-edge.gated[data-from='awaiting_approval'][data-to='resolved']\")",
                json!(true),
            )
            .await?;
            let boxes = b.js("return [...document.querySelectorAll('#wf-diagram g.wf-node text')].map(t => t.textContent)").await?;
            ensure!(boxes == json!(["New", "Working", "Resolved", "Closed", "Awaiting approval"]), "boxes: {boxes}");

            b.click("#wf-save").await?;
            b.wait_text(".alert.ok", "Workflow saved").await?;
            // The form shows what was stored, without a reload.
            b.wait("#wf-statuses tr[data-status='awaiting_approval']").await?;
            until_js(b, "return document.querySelectorAll('#wf-transitions tr.transition').length", json!(7)).await?;
            b.screenshot(&artifacts_dir().join("screens/ticket-workflow.png")).await?;

            // Kept across a reload.
            b.open("/admin/ticket-types").await?;
            b.wait("#wf-statuses tr[data-status='awaiting_approval']").await?;
            ensure!(b.value("#wf-statuses tr[data-status='in_progress'] input.status-name").await? == "Working", "rename lost");
            ensure!(
                b.value("#wf-statuses tr[data-status='awaiting_approval'] input.status-colour").await? == "#ff8800",
                "colour lost"
            );
            let gate = chosen(b, "#wf-transitions tr[data-from='awaiting_approval'][data-to='resolved'] select[id^='move-perm']").await?;
            ensure!(gate.contains("take approval steps"), "permission after reload: {gate}");
            Ok(())
        },
    )
    .await;
    let types: Vec<TicketTypeDto> = s.get("/ticket-types").await;
    let t = &types[0];
    let st = |k: &str| t.statuses.iter().find(|x| x.key == k).expect("status");
    assert_eq!(st("in_progress").name, "Working");
    assert_eq!(st("awaiting_approval").color, "#ff8800");
    let approve = t
        .transitions
        .iter()
        .find(|x| x.from == "awaiting_approval" && x.to == "resolved")
        .expect("approve move");
    assert_eq!(approve.name, "Approve");
    assert_eq!(approve.permission.as_deref(), Some("tickets.admin"));
    assert!(t
        .transitions
        .iter()
        .any(|x| x.from == "in_progress" && x.to == "awaiting_approval" && x.permission.is_none()));
}

// ---------------------------------------------------------------- categories

/// The category tree: add at the top and under a node, rename, ↑ from the keyboard, drag a
/// node before a sibling and another into a different parent, a refused delete explained,
/// a delete; a reload shows the same tree and the API has the parents and order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_category_tree_order_and_edit() {
    let s = Seed::new("Tree Co").await;
    let root: CategoryDto = s
        .post(
            "/categories",
            json!({ "name": "Complaints", "position": 100 }),
        )
        .await;
    for (i, name) in ["Water", "Power", "Gas"].iter().enumerate() {
        let _: CategoryDto = s
            .post(
                "/categories",
                json!({ "name": name, "parent_id": root.id, "position": (i + 1) * 10 }),
            )
            .await;
    }
    let (slug, email) = (s.slug.clone(), s.email.clone());
    let kids = "return [...document.querySelectorAll(\"li[data-name='Complaints'] > ul > li\")].map(l => l.dataset.name)";
    run(
        "browser_category_tree_order_and_edit",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &email).await?;
            b.click("a[href='/admin/categories']").await?;
            b.wait("li[data-name='Complaints'] li[data-name='Gas']").await?;

            b.fill("#cat-new-root", "Billing questions").await?;
            b.click("#cat-add-root").await?;
            b.wait("#cat-tree > li[data-name='Billing questions']").await?;

            b.click("li[data-name='Complaints'] > .tree-node .cat-add-child").await?;
            b.fill("li[data-name='Complaints'] > form.cat-draft input", "Sewage").await?;
            b.click("li[data-name='Complaints'] > form.cat-draft .cat-draft-save").await?;
            b.wait("li[data-name='Complaints'] li[data-name='Sewage']").await?;

            b.click("li[data-name='Power'] > .tree-node .cat-rename").await?;
            b.fill("li[data-name='Power'] > .tree-node form.cat-draft input", "Electricity").await?;
            b.click("li[data-name='Power'] > .tree-node .cat-draft-save").await?;
            b.wait("li[data-name='Electricity']").await?;
            until_js(b, kids, json!(["Water", "Electricity", "Gas", "Sewage"])).await?;

            // ↑ from the keyboard: Enter on the focused button.
            b.wait("li[data-name='Gas'] > .tree-node .cat-up").await?.send_keys("\u{E007}").await?;
            until_js(b, kids, json!(["Water", "Gas", "Electricity", "Sewage"])).await?;

            // Drag and drop (HTML5 events, as the browser fires them): Sewage before Water,
            // then the top-level Billing questions into Complaints, before Water.
            let drag = |from: &str, to: &str| {
                format!(
                    "const src = document.querySelector(\"li[data-name='{from}'] > .tree-node\");
                     const dst = document.querySelector(\"li[data-name='{to}'] > .tree-node\");
                     const dt = new DataTransfer();
                     const tick = () => new Promise(r => setTimeout(r, 50));
                     src.dispatchEvent(new DragEvent('dragstart', {{ bubbles: true, dataTransfer: dt }}));
                     await tick();
                     dst.dispatchEvent(new DragEvent('dragover', {{ bubbles: true, cancelable: true, dataTransfer: dt }}));
                     await tick();
                     dst.dispatchEvent(new DragEvent('drop', {{ bubbles: true, cancelable: true, dataTransfer: dt }}));
                     src.dispatchEvent(new DragEvent('dragend', {{ bubbles: true, dataTransfer: dt }}));
                     return true;"
                )
            };
            b.js(&format!("return (async () => {{ {} }})()", drag("Sewage", "Water"))).await?;
            until_js(b, kids, json!(["Sewage", "Water", "Gas", "Electricity"])).await?;
            b.js(&format!("return (async () => {{ {} }})()", drag("Billing questions", "Water"))).await?;
            until_js(b, kids, json!(["Sewage", "Billing questions", "Water", "Gas", "Electricity"])).await?;

            // A category with sub-categories cannot go: the reason is shown.
            b.click("li[data-name='Complaints'] > .tree-node button[aria-label='Delete Complaints']").await?;
            b.click("[role=dialog] #dialog-confirm").await?;
            b.wait_text(".alert.error", "still in use").await?;
            b.click("li[data-name='Gas'] > .tree-node button[aria-label='Delete Gas']").await?;
            b.click("[role=dialog] #dialog-confirm").await?;
            until_js(b, kids, json!(["Sewage", "Billing questions", "Water", "Electricity"])).await?;
            b.screenshot(&artifacts_dir().join("screens/category-tree.png")).await?;

            b.open("/admin/categories").await?;
            b.wait("li[data-name='Complaints'] li[data-name='Sewage']").await?;
            until_js(b, kids, json!(["Sewage", "Billing questions", "Water", "Electricity"])).await?;
            Ok(())
        },
    )
    .await;
    let all: Vec<CategoryDto> = s.get("/categories").await;
    let mut under: Vec<&CategoryDto> = all
        .iter()
        .filter(|c| c.parent_id == Some(root.id))
        .collect();
    under.sort_by_key(|c| c.position);
    let names: Vec<&str> = under.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["Sewage", "Billing questions", "Water", "Electricity"]
    );
    assert!(!all.iter().any(|c| c.name == "Gas" || c.name == "Power"));
}

// ---------------------------------------------------------------- rules, SLAs, calendar

/// Assignment rule and SLA policy added from their forms and listed by names (type, category
/// path, team, strategy and durations in words), a client-side and a server-side refusal; the
/// business calendar: a bad time zone refused by the server, Saturday morning hours and a
/// yearly holiday saved and still there after a reload; the API agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_assignment_rules_slas_and_calendar() {
    let s = Seed::new("Rules Co").await;
    let team: TeamDto = s.post("/teams", json!({ "name": "Water" })).await;
    let cats: Vec<CategoryDto> = s.get("/categories").await;
    let support = cats
        .iter()
        .find(|c| c.name == "Support")
        .expect("default category");
    let leak: CategoryDto = s
        .post(
            "/categories",
            json!({ "name": "Leak", "parent_id": support.id }),
        )
        .await;
    let (slug, email) = (s.slug.clone(), s.email.clone());
    run(
        "browser_assignment_rules_slas_and_calendar",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &email).await?;
            b.click("a[href='/admin/ticket-rules']").await?;
            b.wait("#rule-form").await?;

            b.choose("#rule-type", "Service request").await?;
            b.choose("#rule-category", "Support › Leak").await?;
            b.choose("#rule-team", "Water").await?;
            b.choose("#rule-strategy", "fewest open tickets").await?;
            b.fill("#rule-position", "5").await?;
            b.click("#rule-save").await?;
            let row = b
                .wait_text("#rules-table tr[data-team='Water']", "Support › Leak")
                .await?;
            ensure!(
                row.contains("Service request") && row.contains("fewest open tickets"),
                "rule row: {row}"
            );

            b.choose("#sla-category", "Support › Leak").await?;
            b.choose("#sla-priority", "Urgent").await?;
            b.fill("#sla-hours", "0").await?;
            b.fill("#sla-minutes", "0").await?;
            b.click("#sla-save").await?;
            b.wait_text("#sla-time-error", "more than zero").await?;
            b.fill("#sla-hours", "4").await?;
            b.fill("#sla-minutes", "30").await?;
            b.fill("#sla-warn", "150").await?;
            b.click("#sla-save").await?;
            b.wait_text("#sla-warn-error", "between 1 and 99").await?;
            b.fill("#sla-warn", "80").await?;
            b.choose("#sla-escalate", "Water").await?;
            b.click("#sla-save").await?;
            let row = b.wait_text("#sla-table", "4 h 30 min").await?;
            ensure!(
                row.contains("Support › Leak")
                    && row.contains("Urgent")
                    && row.contains("At 80 %")
                    && row.contains("Reassign to Water"),
                "SLA table: {row}"
            );

            b.fill("#cal-tz", "Mars/Olympus").await?;
            b.click("#cal-save").await?;
            b.wait_text("#cal-tz-error", "IANA time zone").await?;
            b.fill("#cal-tz", "Asia/Baku").await?;
            b.click("#cal-hours tr[data-weekday='6'] .cal-add").await?;
            b.wait("#cal-hours tr[data-weekday='6'] input[type='time']")
                .await?;
            let end = "#cal-hours tr[data-weekday='6'] input[id^='cal-end']";
            set_by_picker(b, end, "13:00").await?;
            b.click("#cal-add-holiday").await?;
            set_by_picker(b, "#hol-date-0", "2027-01-01").await?;
            b.fill("#hol-name-0", "New Year").await?;
            b.click("#hol-yearly-0").await?;
            b.click("#cal-save").await?;
            b.wait_text("#calendar .alert.ok", "Business calendar saved")
                .await?;
            b.screenshot(&artifacts_dir().join("screens/ticket-rules.png"))
                .await?;

            b.open("/admin/ticket-rules").await?;
            b.wait("#rules-table tr[data-team='Water']").await?;
            ensure!(b.value("#cal-tz").await? == "Asia/Baku", "time zone lost");
            ensure!(b.value(end).await? == "13:00", "Saturday hours lost");
            ensure!(b.value("#hol-name-0").await? == "New Year", "holiday lost");
            Ok(())
        },
    )
    .await;
    let rules: Vec<AssignmentRuleDto> = s.get("/assignment-rules").await;
    assert!(rules.iter().any(|r| r.team_id == team.id
        && r.category_id == Some(leak.id)
        && r.strategy == "least_loaded"
        && r.position == 5));
    let slas: Vec<SlaPolicyDto> = s.get("/sla-policies").await;
    let p = slas
        .iter()
        .find(|p| p.category_id == Some(leak.id))
        .expect("policy");
    assert_eq!(
        (p.priority.as_deref(), p.resolve_minutes, p.warn_percent),
        (Some("urgent"), 270, Some(80))
    );
    assert_eq!(p.escalate_team_id, Some(team.id));
    let cal: BusinessCalendar = s.get("/business-calendar").await;
    assert_eq!(cal.time_zone, "Asia/Baku");
    assert!(cal
        .hours
        .iter()
        .any(|h| h.weekday == 6 && h.start == "09:00" && h.end == "13:00"));
    assert!(cal
        .holidays
        .iter()
        .any(|h| h.name == "New Year" && h.recurring && h.date.ends_with("-01-01")));
}

// ---------------------------------------------------------------- API keys and settings

/// An API key created (its secret shown once, then working against the API, "last used"
/// filled in), revoked (then refused); the settings page: a server refusal of a bad country
/// code under the field, then retention, search language and country code saved and shown
/// again after a reload; the API agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_api_keys_and_settings() {
    let s = Seed::new("Keys Co").await;
    let (slug, email) = (s.slug.clone(), s.email.clone());
    let base = s.app.url("/api/v1/users");
    run(
        "browser_api_keys_and_settings",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &email).await?;
            b.click("a[href='/admin/api-keys']").await?;
            b.wait("#api-keys-empty").await?;
            b.click("#api-key-create").await?;
            b.wait_text("#api-key-name-error", "required").await?;
            b.fill("#api-key-name", "CRM sync").await?;
            b.choose("#api-key-role", "Supervisor").await?;
            b.click("#api-key-create").await?;
            let secret = b.wait("#api-key-secret").await?.text().await?;
            ensure!(secret.len() > 20, "secret: {secret}");
            let row = b
                .wait_text("#api-keys tr[data-name='CRM sync']", "Supervisor")
                .await?;
            ensure!(row.contains("Never"), "row: {row}");
            ensure!(!row.contains(&secret), "the whole secret is listed: {row}");

            // The key works, and the list says when it was last used.
            let http = reqwest::Client::new();
            let status = http.get(&base).bearer_auth(&secret).send().await?.status();
            ensure!(status == 200, "key refused: {status}");
            b.open("/admin/api-keys").await?;
            let row = b
                .wait_text("#api-keys tr[data-name='CRM sync']", "Supervisor")
                .await?;
            ensure!(!row.contains("Never"), "last use not shown: {row}");
            ensure!(
                b.js("return document.querySelector('#api-key-secret') === null")
                    .await?
                    == json!(true),
                "secret shown again"
            );

            b.click("#api-keys tr[data-name='CRM sync'] .api-key-revoke")
                .await?;
            b.click("[role=dialog] #api-key-revoke-confirm").await?;
            b.wait("#api-keys-empty").await?;
            let status = http.get(&base).bearer_auth(&secret).send().await?.status();
            ensure!(status == 401, "revoked key: {status}");

            b.click("a[href='/admin/settings']").await?;
            b.wait("#country-code").await?;
            b.fill("#country-code", "0994").await?;
            b.click("#country-code-save").await?;
            b.wait_text("#country-code-error", "1–3 digits").await?;
            b.fill("#country-code", "994").await?;
            b.click("#country-code-save").await?;
            b.wait_text("#country-code-form .alert.ok", "Saved").await?;

            b.choose("#kb-language", "Russian").await?;
            b.click("#kb-language-save").await?;
            b.wait_text("#kb-language-form .alert.ok", "Saved").await?;

            b.click("#retention-forever").await?;
            b.fill("#retention-days", "5000").await?;
            b.click("#retention-save").await?;
            b.wait_text("#retention-days-error", "1 to 3650").await?;
            b.fill("#retention-days", "90").await?;
            b.click("#retention-save").await?;
            b.wait_text("#retention-form .alert.ok", "Saved").await?;
            b.screenshot(&artifacts_dir().join("screens/settings.png"))
                .await?;

            b.open("/admin/settings").await?;
            b.wait("#retention-days").await?;
            ensure!(b.value("#retention-days").await? == "90", "retention lost");
            ensure!(
                b.value("#country-code").await? == "994",
                "country code lost"
            );
            ensure!(
                chosen(b, "#kb-language").await? == "Russian",
                "language lost"
            );
            Ok(())
        },
    )
    .await;
    let rec: RecordingSettings = s.get("/settings/recordings").await;
    assert_eq!(rec.retention_days, Some(90));
    let kb: KbSettings = s.get("/settings/kb").await;
    assert_eq!(kb.language, "russian");
    let crm: CrmSettings = s.get("/settings/crm").await;
    assert_eq!(crm.country_code.as_deref(), Some("994"));
}
