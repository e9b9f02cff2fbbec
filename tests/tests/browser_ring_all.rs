//! A ring-all queue with an agent in Chromium (browser softphone) and one on a SIP desk phone
//! (SIPp): the call rings both; the desk phone answers; the offer disappears from the
//! browser agent's desktop at once with "Another agent answered the call", she stays Ready,
//! and the caller talks to the desk-phone agent, whom the CDR names.
//!
//! Needs Chromium + chromedriver, SIPp, the gateway binary and a built `frontend/dist`.

mod common;

use anyhow::ensure;
use common::{
    acd_agent, bridged, caller, cdr, dial_in, finished, gateway, set_state, tenant, workdir,
    ANSWERING_PHONE, PASSWORD,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phone_answer_withdraws_the_ring_all_offer_from_the_browser() {
    let app = TestApp::spawn_with(|c| c.ring_timeout_secs = 30).await;
    let t = tenant(&app, "Ring All Browser").await;
    let did = "+994125559302";
    let number = "+15550007302";
    t.queue_on_number(
        &app,
        json!({ "name": "Everyone", "strategy": "ring_all", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    let aysel = t
        .agent(&app, "aysel@ringall.test", "Aysel", None, &[])
        .await;
    t.agent(&app, "bob@ringall.test", "Bob", Some("1002"), &[])
        .await;
    let work = workdir("ringall-browser");
    let gw = gateway(&app, &work, 1, true);
    let (bob_dir, cust_dir) = (work.join("bob"), work.join("cust"));
    // Bob's desk phone lets it ring for 4 s before answering: time for the browser to show it.
    let slow = ANSWERING_PHONE.replace(
        r#"<pause milliseconds="1000"/>"#,
        r#"<pause milliseconds="4000"/>"#,
    );
    let bob_phone = t.sip_phone(&app, &gw.addr, &bob_dir, "1002", &slow).await;
    let cb = t.login(&app, "bob@ringall.test").await;

    let args = fake_microphone_args(&work);
    let (slug, gw_addr, cust_dir2) = (t.slug.clone(), gw.addr.clone(), cust_dir.clone());
    let customer = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (customer2, app2, cb) = (customer.clone(), &app, &cb);
    run_with(
        "a_desk_phone_answer_withdraws_the_ring_all_offer_from_the_browser",
        &app.base_url,
        &args,
        async move |b| {
            b.agent_ready(&slug, "aysel@ringall.test", PASSWORD).await?;
            set_state(app2, cb, "ready").await;
            *customer2.lock().unwrap() = Some(dial_in(
                &cust_dir2,
                &caller(number, 9_000, 5_000),
                did,
                &gw_addr,
            ));
            // Both ring: the browser shows the offer while Bob's phone rings.
            b.wait_text("#incoming-caller", number).await?;
            // Bob answers on his phone: the offer leaves Aysel's desktop, saying why.
            b.wait_text(
                "#softphone-note[data-reason='answered_elsewhere']",
                "Another agent answered",
            )
            .await?;
            let gone = b
                .js("return document.querySelector('#incoming-call') === null;")
                .await?;
            ensure!(gone == json!(true), "the offer is still on screen");
            b.wait_text("#agent-current-state", "Ready").await?;
            Ok(())
        },
    )
    .await;
    let a = acd_agent(&app, t.id, aysel);
    assert_eq!(
        (a.state.as_str(), a.answered),
        ("ready", 0),
        "not penalised: {a:?}"
    );
    let (call, _, _) = bridged(&app, number).await;
    let child = customer
        .lock()
        .unwrap()
        .take()
        .expect("the caller was started");
    finished(child, &cust_dir, "caller").await;
    finished(bob_phone, &bob_dir, "Bob's phone").await;
    let c = cdr(&app, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["agent_name"], "Bob", "{c:#}");
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
