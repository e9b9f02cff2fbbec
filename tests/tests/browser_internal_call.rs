//! Calling a colleague from the agent desk, in Chromium: Aysel (browser softphone over WebRTC
//! to the real gateway) sees her colleague Bob in the desk's Directory as Offline; Bob's desk
//! phone (SIPp, registered as extension 1002) comes up and the directory shows him Available
//! without a reload; she clicks Call: Bob's phone rings and answers, her desk shows the call
//! and the directory shows Bob Busy; she hangs up and his phone gets the BYE.
//!
//! Needs Chromium + chromedriver, a built `frontend/dist`, `sipp`, `sox` and the gateway binary.
//! Failures leave a screenshot in `tests/artifacts/`.

mod common;

use common::{finished, gateway, tenant, workdir, ANSWERING_PHONE, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_calls_a_colleagues_desk_phone_from_the_directory() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Directory Water").await;
    let email = format!("aysel@{}.test", t.slug);
    t.agent(&app, &email, "Aysel", Some("1001"), &[]).await;
    let bob = t
        .agent(
            &app,
            &format!("bob@{}.test", t.slug),
            "Bob",
            Some("1002"),
            &[],
        )
        .await;
    let work = workdir("directory");
    let gw = gateway(&app, &work, 2, true);
    let args = fake_microphone_args(&work);
    let row = format!("#directory-list li[data-user='{bob}']");
    let (app_ref, t_ref, gw_addr) = (&app, &t, gw.addr.clone());

    run_with(
        "browser_internal_call",
        &app.base_url,
        &args,
        async move |b| {
            b.agent_ready(&t_ref.slug, &email, PASSWORD).await?;
            // Bob has no device yet: offline, said in words beside the dot.
            b.wait_text(&format!("{row}[data-presence='offline']"), "Offline")
                .await?;
            b.fill("#directory-search", "bob").await?;
            b.wait_text("#directory-list", "Bob").await?;

            // His desk phone registers: the directory shows him available, then Call.
            let dir = work.join("bob");
            let phone = t_ref
                .sip_phone(app_ref, &gw_addr, &dir, "1002", ANSWERING_PHONE)
                .await;
            b.wait_text(&format!("{row}[data-presence='available']"), "Available")
                .await?;
            b.click("#directory-call-1002").await?;
            b.wait_text("#directory-status", "Bob").await?;
            // His phone rang and answered: Aysel is in the call, Bob shows busy.
            b.wait("#in-call").await?;
            b.wait_text(&format!("{row}[data-presence='busy']"), "Busy")
                .await?;
            b.click("#call-hangup").await?;
            finished(phone, &dir, "Bob's desk phone").await;
            b.wait_text(&format!("{row}[data-presence='available']"), "Available")
                .await?;
            Ok(())
        },
    )
    .await;
    drop(gw);
}
