//! An agent with no working audio device cannot go Ready, and sees why (issue 15, item 3).
//!
//! A Chromium agent with no fake media device and microphone prompts denied (as a browser
//! whose user refused the microphone, or a machine without one) opens the desktop: the
//! softphone says it is not connected and why (the microphone), with a Reconnect button.
//! The agent has a desk phone extension, but no phone registered on it. Choosing Ready is
//! refused, and the refusal — with the fix: allow the microphone, reconnect, or register a
//! desk phone — is on screen; the agent stays logged out. The admin's reason codes list the
//! system reasons as built-in, without a delete button.
//!
//! Needs Chromium + chromedriver and a built `frontend/dist`; Postgres and Redis as for the
//! backend's tests. Failures leave a screenshot in `tests/artifacts/`.

use anyhow::{ensure, Context};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::run_with;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_without_a_microphone_or_desk_phone_cannot_go_ready_and_sees_why() {
    let app = TestApp::spawn().await;
    let (admin, info) = app.signup("Quiet Room").await;
    let slug = info.tenant.slug.clone();
    let roles: serde_json::Value = admin
        .get(app.url("/api/v1/roles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let agent_role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Agent")
        .unwrap()["id"]
        .clone();
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(
            &json!({ "email": "nomic@quiet.test", "name": "Nomic", "password": PASSWORD,
                       "role_id": agent_role, "extension": "4001" }),
        )
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());

    // No --use-fake-device-for-media-stream, no --use-fake-ui-for-media-stream: the
    // microphone prompt is denied.
    let args = vec!["--deny-permission-prompts".to_string()];
    run_with("browser_readiness", &app.base_url, &args, async |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", "nomic@quiet.test").await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait_path("/agent").await?;

        // The softphone: not connected, because of the microphone, with what to do.
        b.wait("#softphone-status[data-state='failed'][data-why='microphone']")
            .await
            .context("the softphone should say it failed because of the microphone")?;
        let status = b.wait_text("#softphone-status", "not connected").await?;
        ensure!(status.contains("Softphone not connected"), "{status}");
        let why = b.wait_text("#softphone-why", "icrophone").await?;
        ensure!(
            why.contains("Reconnect") && why.contains("desk phone"),
            "the fix is named: {why}"
        );
        b.wait("#softphone-reconnect").await?;

        // Ready is refused, and the desktop shows why.
        b.wait_text("#agent-current-state", "Logged out").await?;
        b.choose("#agent-state", "Ready").await?;
        b.click("#agent-state-apply").await?;
        let refusal = b
            .wait_text("#agent-state-error", "softphone is not connected")
            .await?;
        for fix in [
            "Allow the microphone",
            "reconnect the softphone",
            "register your desk phone",
        ] {
            ensure!(
                refusal.contains(fix),
                "the refusal names the fix ({fix}): {refusal}"
            );
        }
        let shown = b.wait_text("#agent-current-state", "Logged out").await?;
        ensure!(!shown.contains("Ready"), "still not ready: {shown}");
        Ok(())
    })
    .await;

    // The admin sees the system reasons as built-in, not deletable.
    let admin_email = info.user.email.clone();
    run_with("browser_readiness_reasons", &app.base_url, &[], async |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", &admin_email).await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait("#logout").await?;
        b.open("/admin/reason-codes").await?;
        b.wait_text("#reason-codes-table", "Softphone lost").await?;
        let rows = b
            .js("return [...document.querySelectorAll('#reason-codes-table tbody tr')].map(r => [r.dataset.builtin ?? null, r.cells[0].textContent, r.querySelectorAll('.actions button').length])")
            .await?;
        let rows: Vec<(Option<String>, String, usize)> = serde_json::from_value(rows)?;
        for key in ["missed", "rejected", "softphone_lost", "phone_unreachable"] {
            let row = rows
                .iter()
                .find(|r| r.0.as_deref() == Some(key))
                .with_context(|| format!("{key} listed: {rows:?}"))?;
            ensure!(row.1.contains("Built-in"), "{key} marked built-in: {row:?}");
            ensure!(row.2 == 1, "{key}: edit only, no delete: {row:?}");
        }
        let own = rows
            .iter()
            .find(|r| r.1.contains("Training"))
            .context("Training listed")?;
        ensure!(own.0.is_none() && own.2 == 2, "an own code: edit and delete: {own:?}");
        Ok(())
    })
    .await;
}
