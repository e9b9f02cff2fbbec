//! Issue 6 in the browser: a ticket created from a call, auto-assigned by the workflow, seen
//! and moved by its assignee, its SLA breach shown in the register; KB editing with
//! versions, diff and restore; the customer template screen feeding the customer card.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run, Browser};
use hotline_wire::api::{CreateUser, RoleDto, TeamDto, UserDto};
use hotline_wire::crm::{
    CategoryDto, CustomerDto, InteractionDto, KbArticleDto, KbCategoryDto, KbVersionDto,
};
use hotline_wire::tickets::{FileDto, TicketDto, TicketTypeDto};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn login(b: &Browser, tenant: &str, email: &str) -> Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", tenant).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    Ok(())
}

async fn logout(b: &Browser) -> Result<()> {
    b.click("#logout").await?;
    b.wait_path("/login").await?;
    Ok(())
}

/// Sends a seeding request and decodes the answer, failing on any other status.
async fn api<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder, expect: u16) -> T {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, expect, "answer: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// The admin's client, the tenant's slug and a URL builder for `/api/v1`.
struct Seed {
    app: TestApp,
    admin: reqwest::Client,
    slug: String,
}

impl Seed {
    async fn new(company: &str) -> Self {
        let app = TestApp::spawn().await;
        let (admin, signup) = app.signup(company).await;
        Seed {
            slug: signup.tenant.slug.clone(),
            app,
            admin,
        }
    }
    fn url(&self, p: &str) -> String {
        self.app.url(&format!("/api/v1{p}"))
    }
    async fn post<T: serde::de::DeserializeOwned>(&self, p: &str, body: serde_json::Value) -> T {
        api(self.admin.post(self.url(p)).json(&body), 201).await
    }
    async fn get<T: serde::de::DeserializeOwned>(&self, p: &str) -> T {
        api(self.admin.get(self.url(p)), 200).await
    }
    async fn user(&self, name: &str, role: &str, team: Option<uuid::Uuid>) -> String {
        let roles: Vec<RoleDto> = self.get("/roles").await;
        let role = roles.iter().find(|r| r.name == role).expect("role");
        let email = format!(
            "{}@{}.test",
            name.split(' ').next().unwrap().to_lowercase(),
            self.slug
        );
        let _: UserDto = api(
            self.admin.post(self.url("/users")).json(&CreateUser {
                email: email.clone(),
                name: name.into(),
                password: PASSWORD.into(),
                role_id: role.id,
                team_id: team,
                extension: None,
                skills: vec![],
            }),
            201,
        )
        .await;
        email
    }
    async fn customer_with_phone(&self) -> CustomerDto {
        self.post(
            "/customers",
            json!({
                "name": "Rashad Caller",
                "phones": [{ "number": "+994501234567", "label": "mobile" }],
                "fields": { "account": "A-100" }
            }),
        )
        .await
    }
}

/// The row of ticket `number` in the register, as text.
async fn register_row(b: &Browser, number: i64) -> Result<String> {
    let css = format!("#tickets-table tr[data-number='{number}']");
    Ok(b.wait(&css).await?.text().await?)
}

/// The whole story of issue 6: screen pop, custom field edited, Complaint › Water › Leak,
/// a KB article found by a misspelt word and attached, a ticket created in the same window
/// and auto-assigned to the Water team (not the catch-all Billing team); its assignee finds
/// it in the register, comments, moves it (only the moves the workflow allows are offered),
/// and the 1-minute SLA turns into "SLA breached" in the register once the due time passes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_ticket_from_call_assigned_moved_and_breached() {
    let s = Seed::new("Water Utility").await;
    let _: serde_json::Value = s
        .post(
            "/customer-fields",
            json!({ "key": "account", "label": "Account no.", "kind": "text", "position": 1 }),
        )
        .await;
    let customer = s.customer_with_phone().await;
    let mut parent = None;
    let mut path = vec![];
    for name in ["Complaint", "Water", "Leak"] {
        let c: CategoryDto = s
            .post("/categories", json!({ "name": name, "parent_id": parent }))
            .await;
        parent = Some(c.id);
        path.push(c.id);
    }
    let kb_cat: KbCategoryDto = s.post("/kb/categories", json!({ "name": "Water" })).await;
    let article: KbArticleDto = s
        .post(
            "/kb/articles",
            json!({ "category_id": kb_cat.id, "title": "Reporting a water leak",
                    "body": "Close the main valve, then report the leak with the address." }),
        )
        .await;
    for action in ["submit", "approve"] {
        let _: KbArticleDto = api(
            s.admin
                .post(s.url(&format!("/kb/articles/{}/transition", article.id)))
                .json(&json!({ "action": action })),
            200,
        )
        .await;
    }
    let water: TeamDto = s.post("/teams", json!({ "name": "Water" })).await;
    let billing: TeamDto = s.post("/teams", json!({ "name": "Billing" })).await;
    let agent_email = s.user("Kamala Agent", "Agent", None).await;
    let bob_email = s.user("Bob Fixer", "Supervisor", Some(water.id)).await;
    s.user("Carol Counter", "Supervisor", Some(billing.id))
        .await;
    let ty: TicketTypeDto = s
        .post(
            "/ticket-types",
            json!({
                "name": "Complaint",
                "statuses": [
                    { "key": "new", "name": "New", "color": "#1f5fbf", "initial": true },
                    { "key": "in_work", "name": "In work", "color": "#f2b705" },
                    { "key": "resolved", "name": "Resolved", "color": "#1e7b34", "final": true }
                ],
                "transitions": [
                    { "from": "new", "to": "in_work", "name": "Start work" },
                    { "from": "in_work", "to": "resolved", "name": "Resolve", "permission": "tickets.admin" },
                    { "from": "resolved", "to": "in_work", "name": "Reopen" }
                ]
            }),
        )
        .await;
    // Leak falls under the Water rule (nearest category up the tree); anything else goes to
    // Billing. Leak complaints must be solved within one minute, with a warning from the
    // first percent of that minute on.
    let _: serde_json::Value = s
        .post(
            "/assignment-rules",
            json!({ "type_id": ty.id, "category_id": path[1], "team_id": water.id, "strategy": "round_robin" }),
        )
        .await;
    let _: serde_json::Value = s
        .post(
            "/assignment-rules",
            json!({ "type_id": ty.id, "team_id": billing.id, "strategy": "round_robin", "position": 9 }),
        )
        .await;
    let _: serde_json::Value = s
        .post(
            "/sla-policies",
            json!({ "category_id": path[2], "resolve_minutes": 1, "warn_percent": 1 }),
        )
        .await;

    let slug = s.slug.clone();
    let created_at = std::sync::Arc::new(std::sync::Mutex::new(None::<Instant>));
    let created_at2 = created_at.clone();
    run(
        "browser_ticket_from_call_assigned_moved_and_breached",
        &s.app.base_url,
        async move |b| {
            // The agent on a call: screen pop by number, a template field edited.
            login(b, &slug, &agent_email).await?;
            b.wait_path("/agent").await?;
            b.fill("#customer-number", "+994 50 123 45 67").await?;
            b.click("#customer-find").await?;
            b.wait_text("#customer-heading", "Customer card").await?;
            ensure!(
                b.value("#cust-name").await? == "Rashad Caller",
                "wrong card"
            );
            b.fill("#cf-account", "A-777").await?;
            b.click("#customer-save").await?;
            b.wait_text("#customer-form .alert.ok", "Customer saved")
                .await?;

            // Classify, take notes, attach the article found by a typo.
            b.choose("#interaction-category", "Complaint › Water › Leak")
                .await?;
            b.fill("#interaction-notes", "Water dripping from the ceiling")
                .await?;
            b.fill("#kb-query", "leek").await?;
            b.click("#kb-search-submit").await?;
            b.wait_text("#kb-corrections", "leek → leak").await?;
            b.wait_text("#kb-hits", "Reporting a water leak").await?;
            b.click(".kb-attach").await?;
            b.wait_text("#kb-attached", "Reporting a water leak")
                .await?;

            // The ticket, in the same window: its number and assignment are shown.
            b.choose("#new-ticket-priority", "High").await?;
            b.click("#new-ticket-create").await?;
            *created_at2.lock().unwrap() = Some(Instant::now());
            let note = b.wait_text("#ticket-created", "Ticket #1 created").await?;
            ensure!(note.contains("assigned to"), "no assignee shown: {note}");
            ensure!(b.path().await? == "/agent", "left the agent desktop");
            b.screenshot(&artifacts_dir().join("screens/agent-ticket.png"))
                .await?;
            logout(b).await?;

            // The Water team's supervisor finds it in the register, assigned to them.
            login(b, &slug, &bob_email).await?;
            b.wait("#logout").await?;
            b.click("a[href='/tickets']").await?;
            b.wait_text("#tickets-table tr[data-number='1']", "Me (Water)")
                .await?;
            let row = register_row(b, 1).await?;
            for want in ["Complaint › Water › Leak", "New", "High", "Me (Water)"] {
                ensure!(row.contains(want), "register row lacks {want:?}: {row}");
            }
            let first_look = created_at.lock().unwrap().expect("created").elapsed();
            if first_look < Duration::from_secs(45) {
                ensure!(
                    !row.contains("SLA breached"),
                    "breached before its due time: {row}"
                );
                ensure!(
                    b.wait("#tickets-table tr[data-number='1'] .sla-badge[data-sla='warning']")
                        .await?
                        .text()
                        .await?
                        == "SLA due soon",
                    "no SLA warning once past the warning time: {row}"
                );
            }
            // Filters: "assigned to me" keeps it, a text that matches nothing hides it.
            b.choose("#tickets-scope", "Assigned to me").await?;
            b.click("#tickets-apply").await?;
            register_row(b, 1).await?;
            b.fill("#tickets-q", "no such words").await?;
            b.click("#tickets-apply").await?;
            b.wait("#tickets-empty").await?;
            b.fill("#tickets-q", "").await?;
            b.choose("#tickets-status", "New").await?;
            b.click("#tickets-apply").await?;
            register_row(b, 1).await?;

            // The ticket: only "Start work" is offered from New; a note, then the move.
            b.click("#tickets-table tr[data-number='1'] a").await?;
            b.wait_text("#ticket-status", "New").await?;
            let moves = b.wait("#ticket-moves").await?.text().await?;
            ensure!(
                moves.contains("Start work") && !moves.contains("Resolve"),
                "moves from New: {moves}"
            );
            b.wait_text("#ticket-assignee", "Me (Water)").await?;
            b.fill("#ticket-comment", "Plumber booked for today")
                .await?;
            b.click("#ticket-internal").await?;
            b.click("#ticket-comment-add").await?;
            b.wait_text("#ticket-history", "Plumber booked for today")
                .await?;
            b.wait_text("#ticket-history li[data-kind='note']", "Internal note")
                .await?;
            b.click("button.ticket-move[data-to='in_work']").await?;
            b.wait_text("#ticket-status", "In work").await?;
            b.wait_text("#ticket-history", "Status: New → In work")
                .await?;
            b.wait_text("#ticket-moves", "Resolve").await?;
            b.screenshot(&artifacts_dir().join("screens/ticket-detail.png"))
                .await?;

            // Back in the register: once the minute is up the breach is shown by itself.
            b.click("a[href='/tickets']").await?;
            let deadline = Instant::now() + Duration::from_secs(120);
            loop {
                let row = register_row(b, 1).await?;
                if row.contains("SLA breached") {
                    ensure!(row.contains("In work"), "status in the register: {row}");
                    break;
                }
                ensure!(Instant::now() < deadline, "no SLA breach shown: {row}");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            b.screenshot(&artifacts_dir().join("screens/tickets-register.png"))
                .await?;

            // Resolving closes it: the breach badge goes away.
            b.click("#tickets-table tr[data-number='1'] a").await?;
            b.click("button.ticket-move[data-to='resolved']").await?;
            b.wait_text("#ticket-status", "Resolved").await?;
            let moves = b.wait("#ticket-moves").await?.text().await?;
            ensure!(
                moves.contains("Reopen") && !moves.contains("Start work"),
                "moves from Resolved: {moves}"
            );
            b.click("a[href='/tickets']").await?;
            b.wait_text("#tickets-table tr[data-number='1']", "Resolved")
                .await?;
            let row = register_row(b, 1).await?;
            ensure!(
                !row.contains("SLA breached"),
                "a closed ticket still shows the breach: {row}"
            );
            Ok(())
        },
    )
    .await;

    // The server agrees: Water team, Bob, linked to the call's interaction and customer.
    let page: hotline_wire::api::Page<TicketDto> = s.get("/tickets").await;
    assert_eq!(page.total, 1, "{page:?}");
    let t = &page.items[0];
    assert_eq!(t.assignee_team_id, Some(water.id));
    let users: hotline_wire::api::Page<UserDto> = s.get("/users?q=bob").await;
    assert_eq!(t.assignee_user_id, Some(users.items[0].id));
    assert_eq!(t.status.key, "resolved");
    assert_eq!(t.priority, "high");
    assert_eq!(t.customer_id, Some(customer.id));
    assert_eq!(t.category_path, ["Complaint", "Water", "Leak"]);
    let history: Vec<InteractionDto> = s
        .get(&format!("/customers/{}/interactions", customer.id))
        .await;
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(t.interaction_id, Some(history[0].id));
    assert_eq!(history[0].articles.len(), 1);
    let saved: CustomerDto = s.get(&format!("/customers/{}", customer.id)).await;
    assert_eq!(saved.fields.get("account"), Some(&json!("A-777")));
}

/// KB editing: two edits make versions 2 and 3, the diff of 1 → 3 shows both texts,
/// restoring version 1 makes version 4 with version 1's text; then review and publish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_kb_edit_versions_restore_and_publish() {
    let s = Seed::new("Meter Co").await;
    let cat: KbCategoryDto = s.post("/kb/categories", json!({ "name": "Meters" })).await;
    let v1 = "Read the meter on the 1st of the month.";
    let article: KbArticleDto = s
        .post(
            "/kb/articles",
            json!({ "category_id": cat.id, "title": "Meter readings", "body": v1 }),
        )
        .await;
    let slug = s.slug.clone();
    let admin_email = format!("admin@{}.test", "meter-co");
    let id = article.id;
    run(
        "browser_kb_edit_versions_restore_and_publish",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &admin_email).await?;
            b.wait("#logout").await?;
            b.click("a[href='/kb']").await?;
            b.wait_text("#kb-tree", "Meters").await?;
            b.click(&format!(".kb-article-link[data-id='{id}']"))
                .await?;
            b.wait_text("#kb-status", "version 1").await?;
            ensure!(b.value("#kb-body").await? == v1, "body not loaded");
            for (n, day) in [(2, "5th"), (3, "10th")] {
                b.fill(
                    "#kb-body",
                    &format!("Read the meter on the {day} of the month."),
                )
                .await?;
                b.fill("#kb-note", &format!("day {day}")).await?;
                b.click("#kb-save").await?;
                b.wait_text("#kb-status", &format!("version {n}")).await?;
                b.wait(&format!("#kb-versions li[data-version='{n}']"))
                    .await?;
            }
            b.click("#kb-versions li[data-version='1'] .kb-diff")
                .await?;
            let diff = b.wait_text("#kb-diff", "10th").await?;
            ensure!(diff.contains("1st"), "the diff lacks the old text: {diff}");
            b.click("#kb-versions li[data-version='1'] .kb-restore")
                .await?;
            b.wait_text("#kb-status", "version 4").await?;
            b.wait_text("#kb-editor .alert.ok", "Restored as version 4")
                .await?;
            ensure!(
                b.value("#kb-body").await? == v1,
                "restore did not bring back version 1's text"
            );
            b.wait("#kb-versions li[data-version='4']").await?;
            // Review workflow: submit, then approve (the admin may review).
            b.click("#kb-action-submit").await?;
            b.wait_text("#kb-status", "In review").await?;
            b.click("#kb-action-approve").await?;
            b.wait_text("#kb-status", "Published").await?;
            b.wait_text(
                &format!(".kb-article-link[data-id='{id}'] + .badge"),
                "Published",
            )
            .await?;
            // A file attached to the article, listed with a download link.
            let file = artifacts_dir().join("meter-photo.txt");
            std::fs::write(&file, "meter 00421 m3\n")?;
            b.wait("#kb-attachment-file")
                .await?
                .send_keys(&file.display().to_string())
                .await?;
            b.wait("#kb-attachments li[data-name='meter-photo.txt'] a[href*='/attachments/']")
                .await?;
            // The page header and the editor, not wherever the last click left the page.
            b.js("window.scrollTo(0, 0)").await?;
            b.screenshot(&artifacts_dir().join("screens/kb-editor.png"))
                .await?;
            Ok(())
        },
    )
    .await;
    let versions: Vec<KbVersionDto> = s.get(&format!("/kb/articles/{id}/versions")).await;
    assert_eq!(versions.len(), 4, "{versions:?}");
    let v4 = versions.iter().find(|v| v.version == 4).expect("version 4");
    assert_eq!(v4.body, v1);
    let a: KbArticleDto = s.get(&format!("/kb/articles/{id}")).await;
    assert_eq!(a.status, "published");
    let files: Vec<FileDto> = s.get(&format!("/kb/articles/{id}/attachments")).await;
    assert_eq!(files.len(), 1, "{files:?}");
    assert_eq!(files[0].name, "meter-photo.txt");
}

/// The rest of the ticket desk: the assignee's bell announces a new ticket and opens it; a
/// file is attached to it (a file whose content contradicts its name is refused with a
/// message); "assigned to me" is saved as a view that filters the register; an admin imports
/// customers from a CSV with one bad row — the good rows are kept, the bad one is listed with
/// its line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_bell_attachments_saved_views_and_import() {
    let s = Seed::new("Gas Board").await;
    let water: TeamDto = s.post("/teams", json!({ "name": "Service" })).await;
    let billing: TeamDto = s.post("/teams", json!({ "name": "Billing" })).await;
    let bob_email = s.user("Bob Fixer", "Supervisor", Some(water.id)).await;
    s.user("Carol Counter", "Supervisor", Some(billing.id))
        .await;
    let service: CategoryDto = s.post("/categories", json!({ "name": "Service" })).await;
    let ty: TicketTypeDto = s
        .post(
            "/ticket-types",
            json!({
                "name": "Request",
                "statuses": [
                    { "key": "new", "name": "New", "color": "#1f5fbf", "initial": true },
                    { "key": "done", "name": "Done", "color": "#1e7b34", "final": true }
                ],
                "transitions": [ { "from": "new", "to": "done", "name": "Finish" } ]
            }),
        )
        .await;
    let _: serde_json::Value = s
        .post(
            "/assignment-rules",
            json!({ "type_id": ty.id, "category_id": service.id, "team_id": water.id, "strategy": "round_robin" }),
        )
        .await;
    let _: serde_json::Value = s
        .post(
            "/assignment-rules",
            json!({ "type_id": ty.id, "team_id": billing.id, "strategy": "round_robin", "position": 9 }),
        )
        .await;
    let _: serde_json::Value = s
        .post(
            "/customer-fields",
            json!({ "key": "account", "label": "Account no.", "kind": "text", "position": 1 }),
        )
        .await;
    let mine: TicketDto = s
        .post(
            "/tickets",
            json!({ "type_id": ty.id, "subject": "Boiler inspection", "category_id": service.id }),
        )
        .await;
    let other: TicketDto = s
        .post(
            "/tickets",
            json!({ "type_id": ty.id, "subject": "Duplicate invoice" }),
        )
        .await;
    assert_ne!(mine.assignee_user_id, other.assignee_user_id);

    let slug = s.slug.clone();
    let admin_email = format!("admin@{}.test", "gas-board");
    let (mine_no, other_no, mine_id) = (mine.number, other.number, mine.id);
    let dir = artifacts_dir();
    run(
        "browser_bell_attachments_saved_views_and_import",
        &s.app.base_url,
        async move |b| {
            // The bell: one unread notification, which opens the ticket and is then read.
            login(b, &slug, &bob_email).await?;
            b.wait("#logout").await?;
            b.wait_text("#notifications-unread", "1").await?;
            b.click("#notifications-toggle").await?;
            b.wait_text(
                "#notifications-list li.unread[data-kind='assigned']",
                &format!("#{mine_no}"),
            )
            .await?;
            b.click("#notifications-list li[data-kind='assigned'] button")
                .await?;
            b.wait_path(&format!("/tickets/{mine_id}")).await?;
            b.wait_text("#ticket-title", "Boiler inspection").await?;
            // Read now: the badge goes away.
            let deadline = Instant::now() + Duration::from_secs(10);
            while b
                .js("return document.querySelector('#notifications-unread').hidden")
                .await?
                != serde_json::json!(true)
            {
                ensure!(Instant::now() < deadline, "the unread badge still shows");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }

            // Attachments: a text file is accepted; "PNG" text is refused with a message.
            let good = dir.join("boiler-report.txt");
            std::fs::write(&good, "pressure 1.5 bar, no leaks\n")?;
            let fake = dir.join("photo.png");
            std::fs::write(&fake, "this is not a picture\n")?;
            b.wait("#ticket-attachment-file")
                .await?
                .send_keys(&good.display().to_string())
                .await?;
            b.wait("#ticket-attachments li[data-name='boiler-report.txt']")
                .await?;
            b.wait("#ticket-attachment-file")
                .await?
                .send_keys(&fake.display().to_string())
                .await?;
            b.wait_text("#ticket-attachment-error", "not accepted").await?;
            ensure!(
                b.js("return document.querySelectorAll('#ticket-attachments li').length")
                    .await?
                    == serde_json::json!(1),
                "the refused file was listed"
            );

            // Saved view: "assigned to me" keeps filtering after a reload of the page.
            b.click("a[href='/tickets']").await?;
            b.wait(&format!("#tickets-table tr[data-number='{other_no}']"))
                .await?;
            b.choose("#tickets-scope", "Assigned to me").await?;
            b.fill("#tickets-view-name", "My queue").await?;
            b.click("#tickets-view-save").await?;
            b.wait_text("#tickets-view", "My queue").await?;
            b.open("/tickets").await?;
            b.wait(&format!("#tickets-table tr[data-number='{other_no}']"))
                .await?;
            b.choose("#tickets-view", "My queue").await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let rows = b
                    .js("return [...document.querySelectorAll('#tickets-table tbody tr')].map(r => r.dataset.number)")
                    .await?;
                if rows == serde_json::json!([mine_no.to_string()]) {
                    break;
                }
                ensure!(Instant::now() < deadline, "the view shows {rows}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            logout(b).await?;

            // Import: three rows, the second with a number that is no phone number.
            login(b, &slug, &admin_email).await?;
            b.wait("#logout").await?;
            b.click("a[href='/customers/import']").await?;
            let csv = dir.join("customers.csv");
            std::fs::write(
                &csv,
                "Name,Phone,Account no.\nAnna Import,+994501110001,A-1\nBad Number,12ab,A-2\nOmar Import,+994501110003,A-3\n",
            )?;
            b.wait("#import-file")
                .await?
                .send_keys(&csv.display().to_string())
                .await?;
            b.wait_text("#import-rows", "3").await?;
            ensure!(b.value("#import-map-name").await? == "Name", "name column not guessed");
            ensure!(b.value("#import-map-phone").await? == "Phone", "phone column not guessed");
            ensure!(
                b.value("#import-map-field-account").await? == "Account no.",
                "template field not matched by its label"
            );
            b.click("#import-start").await?;
            b.wait("#import-job[data-status='done']").await?;
            b.wait_text("#import-counts", "2 imported").await?;
            b.wait_text("#import-failed tr[data-line='3']", "phone").await?;
            Ok(())
        },
    )
    .await;
    let found: serde_json::Value = s.get("/customers/lookup?phone=%2B994501110003").await;
    assert_eq!(found["matches"][0]["name"], "Omar Import", "{found}");
    let files: Vec<FileDto> = s.get(&format!("/tickets/{mine_id}/attachments")).await;
    assert_eq!(files.len(), 1, "{files:?}");
}

/// The customer template screen: a text field and a choice field added, the choice moved
/// up, an old field deactivated — and the customer card follows: new fields in that order,
/// the deactivated one gone, a value typed into a new field saved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_customer_template_feeds_the_card() {
    let s = Seed::new("Gas Co").await;
    let _: serde_json::Value = s
        .post(
            "/customer-fields",
            json!({ "key": "account", "label": "Account no.", "kind": "text", "position": 10 }),
        )
        .await;
    let customer = s.customer_with_phone().await;
    let slug = s.slug.clone();
    let admin_email = "admin@gas-co.test".to_string();
    run(
        "browser_customer_template_feeds_the_card",
        &s.app.base_url,
        async move |b| {
            login(b, &slug, &admin_email).await?;
            b.wait("#logout").await?;
            b.click("a[href='/admin/customer-template']").await?;
            b.wait("#fields-table tr[data-key='account']").await?;
            // A text field (key made from the label).
            b.fill("#field-label", "Meter number").await?;
            b.click("#field-save").await?;
            b.wait("#fields-table tr[data-key='meter_number']").await?;
            // A choice field: without choices it is refused, with them saved.
            b.fill("#field-label", "Contract").await?;
            b.choose("#field-kind", "Choice").await?;
            b.click("#field-save").await?;
            b.wait_text("#field-choices-error", "at least one choice").await?;
            b.fill("#field-choices", "Home, Business").await?;
            b.click("#field-save").await?;
            let row = b.wait_text("#fields-table tr[data-key='contract']", "Home, Business").await?;
            ensure!(row.contains("Choice"), "kind not shown: {row}");
            // Move Contract above Meter number; deactivate Account no.
            b.click("#fields-table tr[data-key='contract'] .field-up").await?;
            let deadline = Instant::now() + Duration::from_secs(15);
            loop {
                let keys = b.js("return [...document.querySelectorAll('#fields-table tbody tr')].map(r => r.dataset.key)").await?;
                if keys == json!(["account", "contract", "meter_number"]) {
                    break;
                }
                ensure!(Instant::now() < deadline, "order after moving up: {keys}");
                tokio::time::sleep(Duration::from_millis(150)).await;
            }
            b.click("#fields-table tr[data-key='account'] .field-toggle").await?;
            b.wait_text("#fields-table tr[data-key='account']", "Inactive").await?;
            // Edit: the key and kind are locked, the label can change.
            b.click("#fields-table tr[data-key='meter_number'] button[aria-label='Edit Meter number']").await?;
            ensure!(b.js("return document.querySelector('#field-key').disabled").await? == json!(true), "key editable");
            b.fill("#field-label", "Meter no.").await?;
            b.click("#field-save").await?;
            b.wait_text("#fields-table tr[data-key='meter_number']", "Meter no.").await?;
            b.screenshot(&artifacts_dir().join("screens/customer-template.png")).await?;

            // The card on the agent desktop follows the template.
            b.click("a[href='/agent']").await?;
            b.fill("#customer-number", "+994501234567").await?;
            b.click("#customer-find").await?;
            b.wait_text("#customer-heading", "Customer card").await?;
            let labels = b.js("return [...document.querySelectorAll('#customer-form .field label')].map(l => l.textContent)").await?;
            let labels: Vec<String> = serde_json::from_value(labels)?;
            let c = labels.iter().position(|l| l.starts_with("Contract"));
            let m = labels.iter().position(|l| l.starts_with("Meter no."));
            ensure!(c.is_some() && m.is_some() && c < m, "card fields: {labels:?}");
            ensure!(!labels.iter().any(|l| l.starts_with("Account")), "deactivated field shown: {labels:?}");
            b.choose("#cf-contract", "Business").await?;
            b.fill("#cf-meter_number", "M-42").await?;
            b.click("#customer-save").await?;
            b.wait_text("#customer-form .alert.ok", "Customer saved").await?;
            Ok(())
        },
    )
    .await;
    let saved: CustomerDto = s.get(&format!("/customers/{}", customer.id)).await;
    assert_eq!(saved.fields.get("meter_number"), Some(&json!("M-42")));
    assert_eq!(saved.fields.get("contract"), Some(&json!("Business")));
    // The deactivated field's value is kept.
    assert_eq!(saved.fields.get("account"), Some(&json!("A-100")));
}
