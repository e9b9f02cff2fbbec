//! The SPA in real headless Chromium against the real backend (fresh database per test).
//!
//! Needs `chromium`, `chromium-driver` and a built `frontend/dist` (run `frontend/build.sh`);
//! Postgres and Redis as for the backend's own tests; the agent's story also starts the
//! gateway binary (for the softphone) and needs sox (for the fake microphone). Each test
//! fails, naming the fix, when something is missing; failures leave a screenshot in
//! `tests/artifacts/`.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, fake_microphone_args, run, run_with, Browser};
use hotline_wire::api::{CreateUser, RoleDto, UserDto};

mod common;

const PASSWORD: &str = "correct horse battery";

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

/// Form controls on the current page without a label (accessibility: must be none).
async fn unlabelled_controls(b: &Browser) -> Result<Vec<String>> {
    let v = b
        .js("return [...document.querySelectorAll('input, select, textarea')]             .filter(e => e.type !== 'hidden' && !(e.labels && e.labels.length) && !e.getAttribute('aria-label'))             .map(e => e.outerHTML.slice(0, 120))")
        .await?;
    Ok(serde_json::from_value(v)?)
}

async fn login(b: &Browser, tenant: &str, email: &str, password: &str) -> Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", tenant).await?;
    b.fill("#email", email).await?;
    b.fill("#password", password).await?;
    b.click("#login-submit").await?;
    Ok(())
}

async fn logout(b: &Browser) -> Result<()> {
    b.click("#logout").await?;
    b.wait_path("/login").await?;
    b.wait_text("#flash", "logged out").await?;
    Ok(())
}

/// Creates a skill on the Skills screen.
async fn create_skill(b: &Browser, name: &str) -> Result<()> {
    b.fill("#skill-name", name).await?;
    b.fill("#skill-description", &format!("Calls about {name}"))
        .await?;
    b.click("#skill-form button[type=submit]").await?;
    b.wait_text("#skills-table", name).await?;
    Ok(())
}

/// Ticks a skill by its visible name in the user form and sets its level.
async fn pick_skill(b: &Browser, name: &str, level: &str) -> Result<()> {
    let id: String = b
        .js(&format!(
            "return [...document.querySelectorAll('label.skill-name')].find(l => l.textContent === {name:?})?.htmlFor ?? null"
        ))
        .await?
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("no skill {name:?} in the user form"))?;
    b.click(&format!("#{id}")).await?;
    let level_css = format!("#{}", id.replacen("skill-", "skill-level-", 1));
    b.fill(&level_css, level).await?;
    Ok(())
}

/// The whole story in one browser: sign up (with a bad password first), create two
/// skills and an agent with both, log out, log in as the agent (whose browser softphone
/// connects to the media gateway), change state twice, log back in as the admin and find
/// those actions in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_signup_agent_state_and_audit() {
    let app = TestApp::spawn().await;
    let slug = unique("acme");
    let admin_email = format!("admin@{slug}.test");
    let agent_email = format!("agent@{slug}.test");
    // The real media gateway with its WebRTC signalling listener, and a browser with a
    // (fake) microphone: the agent's softphone connects, so they can go Ready.
    let work = common::workdir("spa");
    let gateway = common::gateway(&app, &work, 0, true);
    let chrome_args = fake_microphone_args(&work);
    run_with("browser_signup_agent_state_and_audit", &app.base_url, &chrome_args, async move |b| {
        // Sign-up, first with a password the server refuses: its field error shows next to
        // the field and nothing typed is lost.
        b.open("/login").await?;
        b.wait("#login-form").await?;
        b.screenshot(&artifacts_dir().join("screens/login.png")).await?;
        let bare = unlabelled_controls(b).await?;
        ensure!(bare.is_empty(), "unlabelled controls on the login page: {bare:?}");
        b.click("a[href='/signup']").await?;
        b.fill("#company", "Acme Water").await?;
        b.fill("#slug", &slug).await?;
        b.fill("#name", "Ada Admin").await?;
        b.fill("#email", &admin_email).await?;
        b.fill("#password", "short").await?;
        b.click("#signup-submit").await?;
        b.wait_text("#password-error", "at least 10 characters").await?;
        ensure!(b.value("#company").await? == "Acme Water", "the company name was lost");
        ensure!(b.value("#slug").await? == slug, "the company ID was lost");
        ensure!(b.value("#email").await? == admin_email, "the e-mail was lost");
        // The strength meter judges as the server does (zxcvbn, with the form's own words),
        // and the server's refusal of a common password reads the same.
        b.fill("#password", "1234567890").await?;
        b.wait_text("#password-strength", "one of the 100 most common passwords").await?;
        b.wait_text("#password-strength", "Strength: very weak").await?;
        b.fill("#password", "acme water forever").await?;
        b.wait_text("#password-strength", "Must not contain your e-mail address, name or company").await?;
        b.fill("#password", "1234567890").await?;
        b.click("#signup-submit").await?;
        b.wait_text("#password-error", "Too easy to guess").await?;
        b.fill("#password", PASSWORD).await?;
        b.wait_text("#password-strength", "Strength: very strong").await?;
        b.click("#signup-submit").await?;
        // A new administrator lands on the home page: her first steps, none done yet.
        b.wait_path("/").await?;
        b.wait_text("#flash", &slug).await?;
        b.wait_text("#onboarding-progress", "0 of 5 done").await?;
        b.click("a[href='/admin/users']").await?;
        b.wait_text("#users-table", &admin_email).await?;

        // Two skills.
        b.click("a[href='/admin/skills']").await?;
        b.wait("#skill-form").await?;
        create_skill(b, "Billing").await?;
        create_skill(b, "Outages").await?;

        // An agent with both skills (levels 7 and 3).
        b.click("a[href='/admin/users']").await?;
        b.click("a[href='/admin/users/new']").await?;
        b.wait("#user-form").await?;
        b.fill("#name", "Aysel Agent").await?;
        b.fill("#email", &agent_email).await?;
        b.fill("#password", PASSWORD).await?;
        b.choose("#role_id", "Agent").await?;
        b.fill("#extension", "201").await?;
        let bare = unlabelled_controls(b).await?;
        ensure!(bare.is_empty(), "unlabelled controls in the user form: {bare:?}");
        pick_skill(b, "Billing", "7").await?;
        pick_skill(b, "Outages", "3").await?;
        b.click("#user-save").await?;
        b.wait_path("/admin/users").await?;
        b.wait_text("#flash", "Aysel Agent").await?;
        let row = b.wait_text("#users-table", &agent_email).await?;
        ensure!(row.contains("Agent"), "the new user's role is not shown: {row}");
        b.screenshot(&artifacts_dir().join("screens/admin-users.png")).await?;
        // The list's search finds the agent and only the agent.
        b.fill("#user-search", "aysel").await?;
        b.click("form[role=search] button[type=submit]").await?;
        // The search answers after the click: wait for the admin's row to go, not for the
        // agent's (which the unfiltered list already shows).
        let table = b.wait_text_without("#users-table", &admin_email).await?;
        ensure!(
            table.contains(&agent_email) && table.contains("Aysel"),
            "the search lost the agent: {table}"
        );

        logout(b).await?;

        // The agent signs in (the company ID is remembered) and changes state twice.
        login(b, &slug, &agent_email, PASSWORD).await?;
        b.wait_path("/agent").await?;
        b.wait("#agent-current-state").await?;
        b.wait("#softphone-status[data-state='ready']")
            .await
            .context("the agent's softphone should connect to the gateway")?;
        b.choose("#agent-state", "Ready").await?;
        b.click("#agent-state-apply").await?;
        b.wait_text("#agent-current-state", "Ready").await?;
        b.choose("#agent-state", "Training").await?;
        b.click("#agent-state-apply").await?;
        b.wait_text("#agent-current-state", "Not ready — Training").await?;
        // Keyboard: Alt+4 jumps to the interaction pane.
        b.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: '4', altKey: true, bubbles: true}))").await?;
        let focused = b.js("return document.activeElement.id").await?;
        ensure!(focused == "pane-interaction-h", "Alt+4 focused {focused}");
        b.screenshot(&artifacts_dir().join("screens/agent-desktop.png")).await?;
        let bare = unlabelled_controls(b).await?;
        ensure!(bare.is_empty(), "unlabelled controls on the agent desktop: {bare:?}");
        // The agent's navigation offers no admin screens.
        let nav = b.wait(".mainnav").await?.text().await?;
        ensure!(!nav.contains("Users") && !nav.contains("Audit"), "agent sees admin navigation: {nav}");
        logout(b).await?;

        // The admin sees all of it in the audit log.
        login(b, &slug, &admin_email, PASSWORD).await?;
        b.wait_path("/").await?;
        b.click("a[href='/admin/audit']").await?;
        b.wait("#audit-table").await?;
        let bare = unlabelled_controls(b).await?;
        ensure!(bare.is_empty(), "unlabelled controls on the audit log: {bare:?}");
        for action in ["agent.state", "auth.login", "auth.logout", "user.create"] {
            b.wait(&format!("#audit-table tr[data-action='{action}']")).await?;
        }
        // Filter to the agent's state changes only: exactly the two made above.
        b.fill("#audit-action", "agent.state").await?;
        b.click("#audit-apply").await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let rows = b.js("return [...document.querySelectorAll('#audit-table tbody tr')].map(r => r.dataset.action + ' ' + r.textContent)").await?;
            let rows: Vec<String> = serde_json::from_value(rows)?;
            if rows.len() == 2 && rows.iter().all(|r| r.starts_with("agent.state") && r.contains(&agent_email)) {
                ensure!(rows.iter().any(|r| r.contains("Training")), "no Training entry: {rows:?}");
                // Targets by name and details as labelled fields, not ids and raw JSON.
                ensure!(
                    rows.iter().all(|r| r.contains("Aysel Agent") && !r.contains("{\"")),
                    "raw values in the audit log: {rows:?}"
                );
                break;
            }
            ensure!(std::time::Instant::now() < deadline, "audit filter shows {rows:?}");
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
        Ok(())
    })
    .await;
    drop(gateway);
    let _ = std::fs::remove_dir_all(&work);
}

/// Switching the language on the login page re-labels it in Polish at once, and the
/// choice survives a reload.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_page_in_polish() {
    let app = TestApp::spawn().await;
    run(
        "browser_login_page_in_polish",
        &app.base_url,
        async move |b| {
            b.open("/login").await?;
            b.wait_text("label[for=tenant]", "Company ID").await?;
            b.wait_text("label[for=password]", "Password").await?;
            b.choose("#lang-picker", "Polski").await?;
            b.wait_text("label[for=tenant]", "Identyfikator firmy")
                .await?;
            b.wait_text("label[for=email]", "E-mail").await?;
            b.wait_text("label[for=password]", "Hasło").await?;
            b.wait_text("#login-submit", "Zaloguj się").await?;
            b.wait_text("#login-title", "Zaloguj się").await?;
            let lang = b.js("return document.documentElement.lang").await?;
            ensure!(lang == "pl", "<html lang> is {lang}");
            // Server messages come through the catalog too: a wrong password, in Polish.
            b.fill("#tenant", "no-such-company").await?;
            b.fill("#email", "nobody@example.com").await?;
            b.fill("#password", "wrong password!").await?;
            b.click("#login-submit").await?;
            b.wait_text(".alert.error", "Nieprawidłowy").await?;
            b.open("/login").await?;
            b.wait_text("label[for=tenant]", "Identyfikator firmy")
                .await?;
            // A message the catalogs gained later (a failed SSO round trip), switched live
            // through every language, Chinese included.
            b.open("/login?error=sso_denied").await?;
            b.wait_text(".alert.error", "Logowanie jednokrotne zostało anulowane")
                .await?;
            b.choose("#lang-picker", "简体中文").await?;
            b.wait_text(".alert.error", "单点登录已被您的身份提供商取消或拒绝")
                .await?;
            b.wait_text("#login-submit", "登录").await?;
            b.choose("#lang-picker", "Русский").await?;
            b.wait_text(".alert.error", "Единый вход отменён").await?;
            b.choose("#lang-picker", "Azərbaycanca").await?;
            b.wait_text(".alert.error", "Vahid giriş identifikasiya provayderiniz")
                .await?;
            b.choose("#lang-picker", "English").await?;
            b.wait_text(".alert.error", "Single sign-on was cancelled")
                .await?;
            Ok(())
        },
    )
    .await;
}

/// An agent who opens an admin screen is sent back to the desktop with a message, and the
/// API refuses the same data to the agent's session; on My account the agent signs their
/// phone out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_agent_cannot_open_admin_screens() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Guarded Co").await;
    let roles: Vec<RoleDto> = admin
        .get(app.url("/api/v1/roles"))
        .send()
        .await
        .expect("roles")
        .json()
        .await
        .expect("roles body");
    let agent_role = roles
        .iter()
        .find(|r| r.name == "Agent")
        .expect("built-in Agent role");
    let agent_email = format!("agent@{}.test", signup.tenant.slug);
    let created = admin
        .post(app.url("/api/v1/users"))
        .json(&CreateUser {
            email: agent_email.clone(),
            name: "Gia Agent".into(),
            password: PASSWORD.into(),
            role_id: agent_role.id,
            team_id: None,
            extension: None,
            skills: vec![],
        })
        .send()
        .await
        .expect("create agent");
    assert_eq!(created.status(), 201);
    let _: UserDto = created.json().await.expect("user body");
    let slug = signup.tenant.slug.clone();
    // The agent is also signed in on a phone.
    let phone = app.client();
    let signed_in = phone
        .post(app.url("/api/v1/auth/login"))
        .json(&serde_json::json!({ "tenant": slug, "email": agent_email, "password": PASSWORD }))
        .send()
        .await
        .expect("phone login");
    assert_eq!(signed_in.status(), 200);
    let me_url = app.url("/api/v1/auth/me");

    run("browser_agent_cannot_open_admin_screens", &app.base_url, async move |b| {
        login(b, &slug, &agent_email, PASSWORD).await?;
        b.wait_path("/agent").await?;
        for screen in ["/admin/users", "/admin/audit", "/admin/roles", "/platform"] {
            b.open(screen).await?;
            let expected = if screen == "/platform" { "/platform/login" } else { "/agent" };
            b.wait_path(expected).await?;
            let msg = if screen == "/platform" { "platform operators" } else { "don't have access" };
            b.wait_text("#flash", msg).await?;
        }
        // The browser's own session cookie is refused by the API as well.
        for api in ["/api/v1/users", "/api/v1/audit", "/api/v1/roles"] {
            let answer = b
                .js(&format!(
                    "return fetch('{api}').then(async r => ({{status: r.status, body: await r.json()}}))"
                ))
                .await?;
            ensure!(answer["status"] == 403, "{api} answered {answer}");
            ensure!(answer["body"]["code"] == "forbidden", "{api} answered {answer}");
        }
        // My account lists this browser and the phone; "Sign out everywhere else" ends the
        // phone's session and keeps this one.
        b.open("/account").await?;
        b.wait_text("#own-sessions", "This browser").await?;
        b.wait_text("#own-sessions", "Chrome").await?;
        let rows = "return document.querySelectorAll('#own-sessions tbody tr').length";
        ensure!(b.js(rows).await? == 2, "own sessions: {}", b.js(rows).await?);
        ensure!(phone.get(&me_url).send().await?.status() == 200, "the phone is signed in");
        b.screenshot(&artifacts_dir().join("screens/account-sessions.png")).await?;
        b.click("#sign-out-others").await?;
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while b.js(rows).await? != 1 {
            ensure!(std::time::Instant::now() < deadline, "the phone's session is still listed");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let status = phone.get(&me_url).send().await?.status();
        ensure!(status == 401, "the phone's session answers {status}");
        b.wait_text("#own-sessions", "This browser").await?;
        Ok(())
    })
    .await;
}

/// A platform operator lists tenants with seats, revokes a tenant admin's session from the
/// tenant's sessions page, suspends the tenant, and a tenant admin cannot reach the console.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_platform_console_suspends_a_tenant() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Suspended Soon").await;
    let admin_email = signup.user.email.clone();
    let tenant_id = signup.tenant.id;
    let me_url = app.url("/api/v1/auth/me");
    let operator_email = format!("{}@ops.test", unique("op"));
    let hash = hotline_backend::auth::hash_password(PASSWORD.into())
        .await
        .expect("hash");
    sqlx::query("INSERT INTO platform.operators (id, email, name, password_hash) VALUES ($1, $2, 'Olga Operator', $3)")
        .bind(uuid::Uuid::new_v4())
        .bind(&operator_email)
        .bind(hash)
        .execute(&app.state.db)
        .await
        .expect("insert operator");
    let slug = signup.tenant.slug.clone();

    run(
        "browser_platform_console_suspends_a_tenant",
        &app.base_url,
        async move |b| {
            b.open("/platform/login").await?;
            b.fill("#email", &operator_email).await?;
            b.fill("#password", PASSWORD).await?;
            b.click("#platform-login-form button[type=submit]").await?;
            b.wait_path("/platform").await?;
            let row_css = format!("#tenants-table tr[data-slug='{slug}']");
            let row = b.wait_text(&row_css, "Suspended Soon").await?;
            ensure!(row.contains("Active"), "tenant row: {row}");

            // The tenant's sessions: its admin's (from signing up) is listed with the
            // address; Revoke ends it, and the admin's next request is refused.
            ensure!(
                admin.get(&me_url).send().await?.status() == 200,
                "admin signed in"
            );
            b.click(&format!("{row_css} a.sessions-link")).await?;
            b.wait_path(&format!("/platform/tenants/{tenant_id}/sessions"))
                .await?;
            b.wait_text("h1", "Suspended Soon").await?;
            let session = b.wait_text("#tenant-sessions", &admin_email).await?;
            ensure!(session.contains("127.0.0.1"), "session row: {session}");
            b.screenshot(&artifacts_dir().join("screens/platform-sessions.png"))
                .await?;
            b.click("#tenant-sessions button.revoke").await?;
            b.wait_text("main", "Nobody is signed in.").await?;
            let status = admin.get(&me_url).send().await?.status();
            ensure!(status == 401, "the revoked session still answers {status}");
            b.click(".mainnav a[href='/platform']").await?;
            b.wait_path("/platform").await?;

            b.click(&format!("{row_css} button")).await?;
            b.wait_text(&row_css, "Suspended").await?;
            b.wait_text(&format!("{row_css} button"), "Resume").await?;
            let nav = b.wait(".mainnav").await?.text().await?;
            ensure!(
                nav.contains("Tenants") && !nav.contains("Users"),
                "operator navigation: {nav}"
            );

            // Create a tenant from the console; it appears in the list, active.
            let new_slug = unique("created");
            b.fill("#t-company", "Console Made Ltd").await?;
            b.fill("#t-slug", &new_slug).await?;
            b.fill("#t-name", "Cara Console").await?;
            b.fill("#t-email", &format!("cara@{new_slug}.test")).await?;
            b.fill("#t-password", PASSWORD).await?;
            b.click("#tenant-form button[type=submit]").await?;
            b.wait_text("#tenant-form .alert.ok", &new_slug).await?;
            let row = b
                .wait_text(
                    &format!("#tenants-table tr[data-slug='{new_slug}']"),
                    "Console Made Ltd",
                )
                .await?;
            ensure!(row.contains("Active"), "new tenant row: {row}");

            // The first tenant's outbound calls: lift the trial, allow +994 and +48, block a
            // prefix, 3 calls at once and 2 per second; a bad prefix is named on its field.
            b.click(&format!("{row_css} button[data-action=outbound]"))
                .await?;
            b.wait_text("#outbound-title", "Suspended Soon").await?;
            b.wait("#oc-trial:checked").await?;
            b.click("#oc-trial").await?;
            b.fill("#oc-countries", "994, 48").await?;
            b.fill("#oc-blocked", "99450").await?;
            b.fill("#oc-max-calls", "3").await?;
            b.fill("#oc-max-cps", "2").await?;
            b.click("#outbound-form button[type=submit]").await?;
            b.wait_text("#oc-blocked-error", "+").await?;
            b.fill("#oc-blocked", "+99450").await?;
            b.click("#outbound-form button[type=submit]").await?;
            b.wait_text("#outbound-form .alert.ok", "saved").await?;
            Ok(())
        },
    )
    .await;
    type Row = (
        bool,
        Option<Vec<String>>,
        Vec<String>,
        Option<i32>,
        Option<i32>,
    );
    let (trial, countries, blocked, max, cps): Row = sqlx::query_as(
        "SELECT trial, outbound_countries, outbound_blocked_prefixes, max_outbound_calls,
                    max_outbound_cps FROM platform.tenants WHERE id = $1",
    )
    .bind(signup.tenant.id)
    .fetch_one(&app.state.db)
    .await
    .expect("tenant row");
    assert!(!trial);
    assert_eq!(countries, Some(vec!["994".to_string(), "48".to_string()]));
    assert_eq!(blocked, ["+99450"]);
    assert_eq!((max, cps), (Some(3), Some(2)));
}

/// Clicks the link in `table_css` whose text is exactly `text`.
async fn click_link_text(b: &Browser, table_css: &str, text: &str) -> Result<()> {
    b.wait_text(table_css, text).await?;
    let clicked = b
        .js(&format!(
            "const a = [...document.querySelectorAll('{table_css} a')].find(a => a.textContent === {text:?}); if (a) {{ a.click(); return true }} return false"
        ))
        .await?;
    ensure!(clicked == true, "no link {text:?} in {table_css}");
    Ok(())
}

/// The admin screens over the real API: a team tree, a queue with a required skill, a custom
/// role, a user rejected then created, edited, given a new password and deactivated — and
/// then the session expires on the server and the next click lands on the login page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_admin_screens_and_session_expiry() {
    let app = TestApp::spawn().await;
    let (_client, signup) = app.signup("Org Builders").await;
    let slug = signup.tenant.slug.clone();
    let admin_email = signup.user.email.clone();
    let admin_id = signup.user.id;
    let db = app.state.db.clone();

    run("browser_admin_screens_and_session_expiry", &app.base_url, async move |b| {
        login(b, &slug, &admin_email, PASSWORD).await?;
        b.wait_path("/").await?;

        // Teams: a parent and a child, shown nested.
        b.click("a[href='/admin/teams']").await?;
        b.fill("#team-name", "Support").await?;
        b.click("#team-form button[type=submit]").await?;
        b.wait_text("#teams-tree", "Support").await?;
        b.fill("#team-name", "Tier 1").await?;
        b.choose("#team-parent", "Support").await?;
        b.click("#team-form button[type=submit]").await?;
        b.wait_text("#teams-tree ul li ul li .tree-name", "Tier 1").await?;

        // A skill, then a queue that requires it.
        b.click("a[href='/admin/skills']").await?;
        create_skill(b, "Billing").await?;
        b.click("a[href='/admin/queues']").await?;
        b.fill("#queue-name", "General").await?;
        b.choose("#queue-strategy", "Round robin").await?;
        pick_skill(b, "Billing", "2").await?;
        b.click("#queue-form button[type=submit]").await?;
        let row = b.wait_text("#queues-table", "General").await?;
        ensure!(row.contains("Round robin") && row.contains("Billing ≥ 2"), "queue row: {row}");

        // A custom role from two permissions.
        b.click("a[href='/admin/roles']").await?;
        b.fill("#role-name", "Team lead").await?;
        b.click("input[id='perm-users.read']").await?;
        b.click("input[id='perm-agent.state']").await?;
        b.click("#role-form button[type=submit]").await?;
        let roles = b.wait_text("#roles-table", "Team lead").await?;
        // Permissions read as words, not codes.
        ensure!(
            roles.contains("See users, teams, skills and queues")
                && roles.contains("Take calls: change one's own agent state")
                && !roles.contains("users.read"),
            "roles: {roles}"
        );

        // A user the server rejects (bad extension): the error sits under the field and
        // the form keeps what was typed; fixed, the user is created with the custom role.
        b.click("a[href='/admin/users']").await?;
        b.click("a[href='/admin/users/new']").await?;
        b.fill("#name", "Gia Lead").await?;
        b.fill("#email", &format!("gia@{slug}.test")).await?;
        b.fill("#password", PASSWORD).await?;
        b.choose("#role_id", "Team lead").await?;
        b.fill("#extension", "12ab").await?;
        b.click("#user-save").await?;
        b.wait_text("#extension-error", "digits").await?;
        ensure!(b.value("#name").await? == "Gia Lead", "the name was lost");
        ensure!(b.value("#extension").await? == "12ab", "the extension was lost");
        b.fill("#extension", "305").await?;
        b.click("#user-save").await?;
        b.wait_path("/admin/users").await?;
        let row = b.wait_text("#users-table", "Gia Lead").await?;
        ensure!(row.contains("Team lead"), "users: {row}");

        // Edit: put Gia in the child team; reset the password; deactivate.
        click_link_text(b, "#users-table", "Gia Lead").await?;
        b.wait("#user-form").await?;
        b.choose("#team_id", "Tier 1").await?;
        b.click("#user-save").await?;
        b.wait_text("#toasts [role=status]", "“Gia Lead” saved.").await?;
        b.fill("#reset_password", "another fine password").await?;
        b.click("form[aria-labelledby=reset-title] button[type=submit]").await?;
        b.wait_text("#toasts", "password was reset").await?;
        b.click("#user-deactivate").await?;
        b.click("#user-deactivate-confirm").await?;
        b.wait_text("section[aria-labelledby=status-title]", "deactivated").await?;
        b.click(".crumbs a").await?;
        let list = b.wait_text("#users-table", "Org Builders Admin").await?;
        ensure!(!list.contains("Gia Lead"), "a deactivated user is listed by default: {list}");
        b.click("#include-inactive").await?;
        b.wait_text("#users-table", "Gia Lead").await?;

        // The session ends on the server: the next screen sends the admin to the login page.
        sqlx::query("UPDATE platform.sessions SET expires_at = now() - interval '1 minute' WHERE subject_id = $1")
            .bind(admin_id)
            .execute(&db)
            .await?;
        b.click("a[href='/admin/teams']").await?;
        b.wait_path("/login").await?;
        b.wait_text("#flash", "session has expired").await?;
        Ok(())
    })
    .await;
}

/// The admin turns on single sign-on in the browser; the login page then offers "Sign in
/// with SSO" for that company, and a failed SSO attempt comes back as a readable message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_sso_settings_and_login_button() {
    // The identity provider runs on this machine: a deployment that does so allows loopback
    // in the platform's outbound allow-list (HOTLINE_OUTBOUND_ALLOW), as this one does.
    let app = TestApp::spawn_with(|c| c.outbound_allow = vec!["127.0.0.1".into()]).await;
    let (_client, signup) = app.signup("Single Sign Co").await;
    let slug = signup.tenant.slug.clone();
    let admin_email = signup.user.email.clone();
    // A port nothing listens on: the identity provider is unreachable.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let issuer = format!("http://{}/", dead.local_addr().expect("addr"));
    drop(dead);

    run(
        "browser_sso_settings_and_login_button",
        &app.base_url,
        async move |b| {
            login(b, &slug, &admin_email, PASSWORD).await?;
            b.wait_path("/").await?;
            b.click("a[href='/admin/sso']").await?;
            b.wait("#issuer").await?;
            b.click("#sso-enabled").await?;
            b.fill("#issuer", "not a url").await?;
            b.fill("#client_id", "hotline").await?;
            b.fill("#client_secret", "s3cret-value").await?;
            b.click("main form button[type=submit]").await?;
            b.wait_text("#issuer-error", "URL").await?;
            b.fill("#issuer", &issuer).await?;
            b.click("main form button[type=submit]").await?;
            b.wait_text("main form .alert.ok", "Saved").await?;
            logout(b).await?;

            b.fill("#tenant", &slug).await?;
            let button = b.wait_text("#sso-login", "Sign in with SSO").await?;
            ensure!(button.contains("Single Sign Co"), "SSO button: {button}");
            b.click("#sso-login").await?;
            b.wait_path("/login").await?;
            b.wait_text(".alert.error", "identity provider cannot be reached")
                .await?;
            Ok(())
        },
    )
    .await;
}

/// Sends a seeded API client's request and returns the JSON answer, failing on any status
/// other than `expect`.
async fn api_json(req: reqwest::RequestBuilder, expect: u16) -> serde_json::Value {
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(status, expect, "answer: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// [`api_json`], decoded into a wire type.
macro_rules! api {
    ($req:expr, $status:expr) => {
        serde_json::from_value(api_json($req, $status).await).expect("decode answer")
    };
}

/// The agent desktop's CRM panes over the real API: screen pop by number (in another
/// notation than stored), a template field edited and saved, an interaction classified
/// under Complaint › Water › Leak with notes, a typo-tolerant KB search ("leek") and the
/// article attached — then the API shows one interaction with that path and that article.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_agent_desktop_customer_interaction_and_kb() {
    use hotline_wire::crm::{
        CategoryDto, CustomerDto, InteractionDto, KbArticleDto, KbCategoryDto,
    };
    use serde_json::json;

    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Water Works").await;
    let slug = signup.tenant.slug.clone();
    let url = |p: &str| app.url(&format!("/api/v1{p}"));

    // The customer template, a customer with a phone, the category tree, a published article.
    let _: serde_json::Value = api!(
        admin.post(url("/customer-fields")).json(
            &json!({ "key": "account", "label": "Account no.", "kind": "text", "position": 1 }),
        ),
        201
    );
    let customer: CustomerDto = api!(
        admin.post(url("/customers")).json(&json!({
            "name": "Rashad Caller",
            "phones": [{ "number": "+994501234567", "label": "mobile" }],
            "fields": { "account": "A-100" }
        })),
        201
    );
    let mut parent = None;
    for name in ["Complaint", "Water", "Leak"] {
        let c: CategoryDto = api!(
            admin
                .post(url("/categories"))
                .json(&json!({ "name": name, "parent_id": parent })),
            201
        );
        parent = Some(c.id);
    }
    let kb_cat: KbCategoryDto = api!(
        admin
            .post(url("/kb/categories"))
            .json(&json!({ "name": "Water" })),
        201
    );
    let article: KbArticleDto = api!(
        admin.post(url("/kb/articles")).json(&json!({
            "category_id": kb_cat.id,
            "title": "Reporting a water leak",
            "body": "Close the main valve, then report the leak with the address.",
        })),
        201
    );
    for action in ["submit", "approve"] {
        let _: KbArticleDto = api!(
            admin
                .post(url(&format!("/kb/articles/{}/transition", article.id)))
                .json(&json!({ "action": action })),
            200
        );
    }
    let roles: Vec<RoleDto> = api!(admin.get(url("/roles")), 200);
    let agent_role = roles
        .iter()
        .find(|r| r.name == "Agent")
        .expect("Agent role");
    let agent_email = format!("agent@{slug}.test");
    let _: UserDto = api!(
        admin.post(url("/users")).json(&CreateUser {
            email: agent_email.clone(),
            name: "Kamala Agent".into(),
            password: PASSWORD.into(),
            role_id: agent_role.id,
            team_id: None,
            extension: None,
            skills: vec![],
        }),
        201
    );

    let started = std::time::Instant::now();
    run(
        "browser_agent_desktop_customer_interaction_and_kb",
        &app.base_url,
        async move |b| {
            login(b, &slug, &agent_email, PASSWORD).await?;
            b.wait_path("/agent").await?;

            // Screen pop by number, typed in another notation; edit a template field and save.
            b.fill("#customer-number", "+994 (50) 123-45-67").await?;
            b.click("#customer-find").await?;
            b.wait_text("#customer-heading", "Customer card").await?;
            ensure!(
                b.value("#cust-name").await? == "Rashad Caller",
                "wrong card"
            );
            ensure!(
                b.value("#cf-account").await? == "A-100",
                "template value not shown"
            );
            b.fill("#cf-account", "A-200").await?;
            b.click("#customer-save").await?;
            b.wait_text("#customer-form .alert.ok", "Customer saved")
                .await?;

            // Classify the request, take notes, save (creates the interaction).
            b.choose("#interaction-category", "Complaint › Water › Leak")
                .await?;
            b.fill("#interaction-notes", "Water dripping under the sink")
                .await?;
            b.click("#interaction-save").await?;
            b.wait_text("#interaction-path", "Complaint › Water › Leak")
                .await?;
            b.wait_text("#customer-history", "Complaint › Water › Leak")
                .await?;

            // KB search with a typo: "did you mean", a highlighted snippet, attach the article.
            b.fill("#kb-query", "leek").await?;
            b.click("#kb-search-submit").await?;
            b.wait_text("#kb-corrections", "leek → leak").await?;
            b.wait_text("#kb-hits", "Reporting a water leak").await?;
            let marked = b
                .js("return document.querySelector('#kb-hits .snippet mark')?.textContent ?? null")
                .await?;
            ensure!(
                marked
                    .as_str()
                    .is_some_and(|m| m.to_lowercase().contains("leak")),
                "no highlighted match: {marked}"
            );
            b.click(".kb-attach").await?;
            b.wait_text("#kb-attached", "Reporting a water leak")
                .await?;
            let bare = unlabelled_controls(b).await?;
            ensure!(
                bare.is_empty(),
                "unlabelled controls on the agent desktop: {bare:?}"
            );
            Ok(())
        },
    )
    .await;

    // The server has it all: the field, one interaction with the path, notes and article.
    let saved: CustomerDto = api!(admin.get(url(&format!("/customers/{}", customer.id))), 200);
    assert_eq!(saved.fields.get("account"), Some(&json!("A-200")));
    let history: Vec<InteractionDto> = api!(
        admin.get(url(&format!("/customers/{}/interactions", customer.id))),
        200
    );
    assert_eq!(history.len(), 1, "{history:?}");
    let i = &history[0];
    assert_eq!(i.category_path, ["Complaint", "Water", "Leak"]);
    assert_eq!(i.notes, "Water dripping under the sink");
    assert_eq!(i.phone.as_deref(), Some("+994501234567"));
    assert_eq!(i.articles.len(), 1, "{:?}", i.articles);
    assert_eq!(i.articles[0].article_id, article.id);
    eprintln!(
        "browser_agent_desktop_customer_interaction_and_kb: {:?}",
        started.elapsed()
    );
}
