//! The home page and the grouped navigation (issue 18, information architecture), in
//! Chromium at 1366×768. The administrator of a fresh sign-up lands on the home page: the
//! first-steps checklist at 0 of 5, nothing ticked. She follows "Create a queue" to the queues
//! screen, creates one, comes back Home: 1 of 5, the queue step ticked (the rest not). The
//! sidebar shows the groups her permissions allow, each a button with `aria-expanded`;
//! collapsing Administration hides its links, and after a reload it is still collapsed while
//! the others are open; opening a screen of a collapsed group opens it. Neither the home page
//! nor the users list scrolls sideways. Under 900 px the sidebar is behind the menu button.
//! An agent still lands on the desk; her sidebar has only Desk and Customers & tickets, no
//! supervision, reports, telephony or administration; her home shows her state, "Open the
//! desk" and the queue she serves. The API then agrees with what the checklist said. Once the
//! other steps are done through the API (a published flow, the number given to it, a first
//! call as a gateway reports it), the checklist says "5 of 5" and "You're set."; hidden, it
//! stays hidden after a reload, and "Show the first steps again" brings it back.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::{ensure, Result};
use common::{eventually, ok, tenant, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run, Browser};
use hotline_wire::gateway::{event_stream_for, FlowMode, GatewayEvent, HangupCause, STREAM_FIELD};
use redis::AsyncCommands;
use serde_json::{json, Value};
use uuid::Uuid;

const DID: &str = "+994125559901";

/// Publishes `ev` where a gateway would: the tenant's shard of the call-events stream.
async fn event(app: &TestApp, ev: &GatewayEvent) {
    let mut r = app.state.redis();
    let _: String = r
        .xadd(
            event_stream_for(&app.state.cfg.call_events_stream, ev),
            "*",
            &[(STREAM_FIELD, serde_json::to_string(ev).unwrap())],
        )
        .await
        .unwrap();
}

async fn login(b: &Browser, slug: &str, email: &str, lands_on: &str) -> Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", slug).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.wait_path(lands_on).await
}

/// The `data-group` of every group the sidebar shows.
async fn groups(b: &Browser) -> Result<Vec<String>> {
    b.wait("#mainnav .nav-group").await?;
    let v = b
        .js("return [...document.querySelectorAll('#mainnav .nav-group')].map(g => g.dataset.group)")
        .await?;
    Ok(serde_json::from_value(v)?)
}

/// Whether the page scrolls sideways.
async fn scrolls_sideways(b: &Browser) -> Result<bool> {
    let v = b
        .js("return document.documentElement.scrollWidth > document.documentElement.clientWidth")
        .await?;
    Ok(v == json!(true))
}

/// `data-done` of each checklist step, in order.
async fn steps(b: &Browser) -> Result<Vec<(String, String)>> {
    let v = b
        .js("return [...document.querySelectorAll('#onboarding li.step')].map(l => [l.dataset.step, l.dataset.done])")
        .await?;
    Ok(serde_json::from_value(v)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_home_page_checklist_and_the_grouped_navigation() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Home Water").await;
    let slug = t.slug.clone();
    let admin_email = "admin@home-water.test".to_string();
    // An agent, created through the API once the admin has seen the fresh checklist.
    let roles = ok(t.admin.get(app.url("/api/v1/roles")).send().await.unwrap()).await;
    let agent_role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Agent")
        .unwrap()["id"]
        .clone();
    let admin = t.admin.clone();
    let base = app.base_url.clone();
    let users_url = app.url("/api/v1/users");

    run("browser_home", &base, async move |b| {
        // A fresh tenant: the administrator lands on the home page with nothing done.
        login(b, &slug, &admin_email, "/").await?;
        b.wait_text("#home-title", "Welcome").await?;
        b.wait_text("#onboarding-progress", "0 of 5 done").await?;
        let s = steps(b).await?;
        ensure!(
            s == [("agents", "false"), ("queue", "false"), ("flow", "false"), ("number", "false"), ("call", "false")]
                .map(|(a, c)| (a.to_string(), c.to_string())),
            "fresh checklist: {s:?}"
        );
        ensure!(!scrolls_sideways(b).await?, "the home page scrolls sideways at 1366×768");
        // Her sidebar: every group, each a button saying whether it is open.
        let g = groups(b).await?;
        ensure!(
            g == ["desk", "supervision", "reports", "customers", "knowledge", "telephony", "admin"],
            "admin's groups: {g:?}"
        );
        let expanded = b.js("return document.querySelector('#nav-toggle-admin').getAttribute('aria-expanded')").await?;
        ensure!(expanded == json!("true"), "Administration starts open: {expanded}");
        b.wait("#nav-group-admin a[href='/admin/users']").await?;
        b.screenshot(&artifacts_dir().join("screens/home-admin.png")).await?;

        // "Create a queue" leads to the queues screen (its group, Telephony, marked).
        b.click("#onboarding li[data-step='queue'] a").await?;
        b.wait_path("/admin/queues").await?;
        let current = b.js("return document.querySelector('#mainnav a[aria-current=page]').getAttribute('href')").await?;
        ensure!(current == json!("/admin/queues"), "current nav link: {current}");
        b.fill("#queue-name", "Support").await?;
        b.click("#queue-form button[type=submit]").await?;
        b.wait_text("#queues-table", "Support").await?;
        // Back home: the queue is ticked, nothing else.
        b.click("#nav-home").await?;
        b.wait_path("/").await?;
        b.wait_text("#onboarding-progress", "1 of 5 done").await?;
        b.wait("#onboarding li[data-step='queue'][data-done='true']").await?;
        let s = steps(b).await?;
        let done: Vec<&str> = s.iter().filter(|(_, d)| d == "true").map(|(k, _)| k.as_str()).collect();
        ensure!(done == ["queue"], "ticked after the queue: {s:?}");

        // Collapse Administration: its links go; the state survives a reload.
        b.click("#nav-toggle-admin").await?;
        let expanded = b.js("return document.querySelector('#nav-toggle-admin').getAttribute('aria-expanded')").await?;
        ensure!(expanded == json!("false"), "after collapsing: {expanded}");
        let shown = b.js("return document.querySelector('#nav-group-admin a[href=\"/admin/users\"]').offsetParent !== null").await?;
        ensure!(shown == json!(false), "the Users link is still shown in a collapsed group");
        b.open("/").await?;
        b.wait_text("#onboarding-progress", "1 of 5 done").await?;
        let state = b
            .js("return [...document.querySelectorAll('#mainnav .nav-group-toggle')].map(t => t.id + '=' + t.getAttribute('aria-expanded'))")
            .await?;
        ensure!(
            state == json!(["nav-toggle-desk=true", "nav-toggle-supervision=true", "nav-toggle-reports=true",
                "nav-toggle-customers=true", "nav-toggle-knowledge=true", "nav-toggle-telephony=true",
                "nav-toggle-admin=false"]),
            "after a reload: {state}"
        );
        let shown = b.js("return document.querySelector('#nav-group-admin a[href=\"/admin/users\"]').offsetParent !== null").await?;
        ensure!(shown == json!(false), "Administration opened by itself after the reload");
        // Keyboard: focus the toggle and press Enter — it opens again.
        b.js("document.querySelector('#nav-toggle-admin').focus()").await?;
        b.client.active_element().await?.send_keys("\u{E007}").await?;
        b.wait("#nav-group-admin a[href='/admin/users']").await?;
        // Opening a screen of a collapsed group opens that group.
        b.click("#nav-toggle-admin").await?;
        b.open("/admin/users").await?;
        b.wait("#users-table").await?;
        b.wait("#nav-group-admin a[href='/admin/users'][aria-current='page']").await?;
        ensure!(!scrolls_sideways(b).await?, "the users list scrolls sideways at 1366×768");

        // Narrow window: the sidebar hides behind the menu button.
        b.client.set_window_size(800, 700).await?;
        b.wait("#menu-button").await?;
        let hidden = b.js("return document.querySelector('#mainnav').offsetParent === null").await?;
        ensure!(hidden == json!(true), "the sidebar is shown under 900 px");
        b.click("#menu-button").await?;
        b.click("#mainnav a[href='/admin/teams']").await?;
        b.wait_path("/admin/teams").await?;
        let hidden = b.js("return document.querySelector('#mainnav').offsetParent === null").await?;
        ensure!(hidden == json!(true), "the menu stays open after choosing a screen");
        b.client.set_window_size(1366, 768).await?;

        // An agent of the tenant.
        let r = admin
            .post(&users_url)
            .json(&json!({ "email": "aysel@home-water.test", "name": "Aysel", "password": PASSWORD,
                           "role_id": agent_role }))
            .send()
            .await?;
        ensure!(r.status() == 201, "agent: {}", r.status());
        b.click("#nav-home").await?;
        b.wait_text("#onboarding-progress", "2 of 5 done").await?;
        b.click("#logout").await?;
        b.wait_path("/login").await?;

        // The agent still lands on her desk; her sidebar has only what she may use.
        login(b, &slug, "aysel@home-water.test", "/agent").await?;
        let g = groups(b).await?;
        ensure!(g == ["desk", "customers"], "agent's groups: {g:?}");
        let nav = b.wait("#mainnav").await?.text().await?;
        ensure!(
            !nav.contains("Users") && !nav.contains("Supervision") && !nav.contains("Queues"),
            "agent sees admin navigation: {nav}"
        );
        // Her home: state, the way to the desk, her queue; no checklist.
        b.click("#nav-home").await?;
        b.wait_path("/").await?;
        let state = b.wait("#home-agent-state").await?.text().await?;
        ensure!(
            ["Logged out", "Not ready", "Ready"].iter().any(|s| state.starts_with(s)),
            "the agent's state reads {state:?}"
        );
        b.wait_text("#home-queues", "Support").await?;
        let checklist = b.js("return document.querySelector('#onboarding') === null").await?;
        ensure!(checklist == json!(true), "the agent sees the checklist");
        b.screenshot(&artifacts_dir().join("screens/home-agent.png")).await?;
        b.click("#agent-home a[href='/agent']").await?;
        b.wait_path("/agent").await?;
        Ok(())
    })
    .await;

    // The API agrees with the checklist.
    let p: Value = ok(t
        .admin
        .get(app.url("/api/v1/onboarding"))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(
        p,
        json!({ "agents_added": true, "queue_created": true, "flow_published": false,
                "number_mapped": false, "first_call": false })
    );

    // The other steps through the API — a published flow, the tenant's number given to it, a
    // first call as a gateway reports it (refused busy) —: "You're set", and it can be hidden.
    let flow = t
        .post(
            &app,
            "/api/v1/ivr/flows",
            json!({ "name": "Main", "graph": {
                "start": "q", "nodes": { "q": { "type": "queue", "queue": "Support" } } } }),
        )
        .await;
    let flow_id = flow["id"].as_str().unwrap().to_string();
    t.post(
        &app,
        &format!("/api/v1/ivr/flows/{flow_id}/publish"),
        json!({ "version": 1 }),
    )
    .await;
    // The platform operator gives the tenant its number.
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(DID)
        .bind(t.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    ok(t.admin
        .put(app.url("/api/v1/ivr/dids"))
        .json(&json!({ "did": DID, "flow_id": flow_id }))
        .send()
        .await
        .unwrap())
    .await;
    let call_id = Uuid::new_v4();
    event(
        &app,
        &GatewayEvent::CallStarted {
            gateway_id: format!("gw-home-{}", Uuid::new_v4().simple()),
            call_id,
            tenant_id: t.id,
            caller: "+15550001111".into(),
            did: DID.into(),
            sip_call_id: format!("home-{call_id}"),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        },
    )
    .await;
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id,
            tenant_id: t.id,
            cause: HangupCause::Rejected,
            status: Some(486),
            at: chrono::Utc::now(),
        },
    )
    .await;
    eventually(20, "the first call's record", || async {
        let p = ok(t
            .admin
            .get(app.url("/api/v1/onboarding"))
            .send()
            .await
            .unwrap())
        .await;
        (p["first_call"] == json!(true)).then_some(())
    })
    .await;

    let slug = t.slug.clone();
    run("browser_home_all_set", &app.base_url, async move |b| {
        login(b, &slug, "admin@home-water.test", "/").await?;
        b.wait_text("#onboarding-progress", "5 of 5 done").await?;
        b.wait_text("#onboarding-done", "You're set.").await?;
        let s = steps(b).await?;
        ensure!(s.iter().all(|(_, d)| d == "true"), "not all ticked: {s:?}");
        // Hidden, and still hidden after a reload; it can be shown again.
        b.click("#onboarding-dismiss").await?;
        b.wait("#onboarding-show").await?;
        ensure!(
            b.js("return document.querySelector('#onboarding') === null")
                .await?
                == json!(true),
            "the checklist is still shown"
        );
        b.open("/").await?;
        b.wait("#onboarding-show").await?;
        ensure!(
            b.js("return document.querySelector('#onboarding') === null")
                .await?
                == json!(true),
            "the checklist came back after a reload"
        );
        b.click("#onboarding-show").await?;
        b.wait_text("#onboarding-progress", "5 of 5 done").await?;
        Ok(())
    })
    .await;
}
