//! Breaks that need approval, in two browsers (issue 17): an agent picks "Long lunch" (a reason
//! the admin marked as needing approval) on the desktop; the desktop says the break is
//! requested and the agent's state stays as it was. A supervisor, on the "Break requests"
//! page, sees it and denies it: the agent's desktop says so. The agent asks again and cancels;
//! asks once more, and the supervisor approves: the agent is on that break.
//!
//! Needs Chromium + chromedriver and a built `frontend/dist`; Postgres and Redis as for the
//! backend's tests. Failures leave a screenshot in `tests/artifacts/`.

use anyhow::ensure;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{run, Browser};
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

async fn sign_in(b: &Browser, slug: &str, email: &str, lands_on: &str) -> anyhow::Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", slug).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.wait_path(lands_on).await
}

/// The agent asks for the break from the state selector.
async fn ask(b: &Browser) -> anyhow::Result<()> {
    b.choose("#agent-state", "Long lunch (needs approval)")
        .await?;
    b.click("#agent-state-apply").await?;
    b.wait("#break-request[data-status='pending']").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supervisor_denies_then_approves_an_agents_break_request() {
    let app = TestApp::spawn().await;
    let (admin, info) = app.signup("Break Water").await;
    let slug = info.tenant.slug.clone();
    let roles: serde_json::Value = admin
        .get(app.url("/api/v1/roles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role = |name: &str| {
        roles
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["name"] == name)
            .unwrap()["id"]
            .clone()
    };
    for (email, name, r) in [
        ("aysel@breaks.test", "Aysel Agent", "Agent"),
        ("sabina@breaks.test", "Sabina Supervisor", "Supervisor"),
    ] {
        let resp = admin
            .post(app.url("/api/v1/users"))
            .json(
                &json!({ "email": email, "name": name, "password": PASSWORD, "role_id": role(r) }),
            )
            .send()
            .await
            .unwrap();
        assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    }
    let resp = admin
        .post(app.url("/api/v1/reason-codes"))
        .json(&json!({ "name": "Long lunch", "kind": "break", "needs_approval": true }))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success());

    let (base, slug2) = (app.base_url.clone(), slug.clone());
    run("browser_breaks_agent", &app.base_url, async move |agent| {
        sign_in(agent, &slug2, "aysel@breaks.test", "/agent").await?;
        agent
            .wait_text("#agent-current-state", "Logged out")
            .await?;
        ask(agent).await?;
        // Asked, not taken: the agent is still logged out.
        let state = agent.wait("#agent-current-state").await?.text().await?;
        ensure!(state.contains("Logged out"), "state changed: {state}");

        let slug3 = slug2.clone();
        run("browser_breaks_supervisor", &base, async move |sup| {
            sign_in(sup, &slug3, "sabina@breaks.test", "/").await?;
            // Reached from the navigation.
            sup.click("a[href='/supervisor/breaks']").await?;
            sup.wait_text("#break-requests tr[data-agent='Aysel Agent']", "Long lunch")
                .await?;
            sup.click("#break-requests tr[data-agent='Aysel Agent'] .break-deny")
                .await?;
            sup.wait("#break-requests-empty").await?;

            // The agent is told, and stays logged out.
            agent
                .wait_text("#break-request[data-status='denied']", "denied")
                .await?;
            let state = agent.wait("#agent-current-state").await?.text().await?;
            ensure!(state.contains("Logged out"), "state changed: {state}");

            // Asked again, then cancelled: the supervisor's list empties.
            ask(agent).await?;
            sup.wait("#break-requests tr[data-agent='Aysel Agent']")
                .await?;
            agent.click("#break-request-cancel").await?;
            sup.wait("#break-requests-empty").await?;

            // Asked once more and approved: the agent is on that break.
            ask(agent).await?;
            sup.click("#break-requests tr[data-agent='Aysel Agent'] .break-approve")
                .await?;
            sup.wait("#break-requests-empty").await?;
            agent
                .wait_text("#agent-current-state", "Break — Long lunch")
                .await?;
            agent.wait("#break-request[data-status='approved']").await?;
            Ok(())
        })
        .await;
        Ok(())
    })
    .await;

    // Every step is in the audit log.
    let audit: serde_json::Value = admin
        .get(app.url("/api/v1/audit?per_page=100"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for a in [
        "agent.break_requested",
        "agent.break_denied",
        "agent.break_cancelled",
        "agent.break_approved",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}
