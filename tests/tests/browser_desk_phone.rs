//! A desk phone set up from the user's page (issue 18), in Chromium: the admin opens the
//! agent's page, sets up a desk phone and sees the password and the phone settings once; a
//! real SIP phone (SIPp) registers with that password to the real gateway and the page shows
//! it registered, by that phone, without a reload (so does the users list); after "Done" and a
//! reload the password is nowhere on the page; "New password", confirmed, shows a different
//! one and the phone is dropped.
//!
//! Needs Chromium + chromedriver, a built `frontend/dist`, `sipp` and the gateway binary.
//! Failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::ensure;
use common::{gateway, register, tenant, workdir, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::run;
use hotline_e2e::telephony::{free_port, sipp, wait_ok};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_sets_up_a_desk_phone_and_sees_its_password_once() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Desk Browser").await;
    let aysel = t
        .agent(
            &app,
            "aysel@deskbrowser.test",
            "Aysel Agent",
            Some("1001"),
            &[],
        )
        .await;
    let work = workdir("desk-browser");
    let gw = gateway(&app, &work, 1, false);
    let (slug, gw_addr) = (t.slug.clone(), gw.addr.clone());
    let user_page = format!("/admin/users/{aysel}");

    run("browser_desk_phone", &app.base_url, async move |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", "admin@desk-browser.test").await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait_path("/").await?;
        b.click("a[href='/admin/users']").await?;
        b.wait_text("#users-table", "Aysel Agent").await?;
        b.click(&format!("#users-table a[href='{user_page}']"))
            .await?;

        // Set up: the password and the phone settings, shown once.
        b.wait("#desk-phone-none").await?;
        b.click("#desk-phone-create").await?;
        let password = b.wait("#desk-phone-password").await?.text().await?;
        ensure!(password.len() == 20, "password {password:?}");
        let settings = b
            .wait_text("#desk-phone-provisioning", "SIP user: 1001")
            .await?;
        ensure!(settings.contains(&password), "{settings}");
        ensure!(
            settings.contains(&format!("Domain: {slug}.hotline.test")),
            "{settings}"
        );
        // The QR code for a softphone: a picture that loaded, described for screen readers.
        let qr = b
            .js("const i = document.querySelector('#desk-phone-qr'); return i && [i.complete && i.naturalWidth > 0, i.alt, i.src.startsWith('data:image/svg+xml')]")
            .await?;
        ensure!(
            qr[0] == serde_json::json!(true) && qr[2] == serde_json::json!(true)
                && qr[1].as_str().is_some_and(|a| a.contains("QR")),
            "the QR code: {qr}"
        );
        b.wait("#desk-phone-status[data-state='unregistered']")
            .await?;

        // A phone entered with those settings registers to the gateway; the page follows.
        let dir = work.join("phone");
        std::fs::create_dir_all(&dir)?;
        let reg = sipp(
            &dir,
            "register",
            &register(&format!("{slug}.hotline.test"), "1001", &password),
            &["-p", &free_port().to_string(), "-s", "1001", &gw_addr],
        );
        let d = dir.clone();
        tokio::task::spawn_blocking(move || wait_ok(reg, &d, "REGISTER")).await?;
        b.wait_text(
            "#desk-phone-status[data-state='registered']",
            "SIPp desk phone",
        )
        .await?;

        // Once: after "Done" and a reload the password is nowhere on the page.
        b.click("#desk-phone-done").await?;
        b.open(&user_page).await?;
        b.wait("#desk-phone-status[data-state='registered']")
            .await?;
        ensure!(
            !b.client.source().await?.contains(&password),
            "the password is shown again"
        );
        // The users list shows the phone registered.
        b.open("/admin/users").await?;
        b.wait_text(
            "#users-table .desk-phone-state[data-state='registered']",
            "Registered",
        )
        .await?;

        // A new password, after confirming: different, and the phone is dropped.
        b.open(&user_page).await?;
        b.click("#desk-phone-rotate").await?;
        b.click("#desk-phone-rotate-confirm").await?;
        b.wait("#desk-phone-credentials").await?;
        let second = b.wait("#desk-phone-password").await?.text().await?;
        ensure!(second.len() == 20 && second != password, "{second:?}");
        b.wait("#desk-phone-status[data-state='unregistered']")
            .await?;
        Ok(())
    })
    .await;
    drop(gw);
}
