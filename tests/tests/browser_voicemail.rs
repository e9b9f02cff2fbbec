//! Voicemail in the browser (issue 17), end to end: a SIPp caller dials the tenant's number on
//! the real gateway, waits in "Billing" with no agent ready, and at the queue's maximum wait
//! leaves a message. Dana — the queue's voicemail owner — signs in (Chromium, WebRTC
//! softphone): the message is on her desktop with the caller and queue; it plays in the
//! browser (the audio element has a duration and its time advances); she marks it handled
//! (it shows who handled it) and calls the caller back in one click: the gateway dials the
//! number through its trunk (a carrier played by SIPp that checks the number and answers) and
//! the call is on her softphone; she hangs up. The Voicemail page in the navigation lists it.
//!
//! Needs Chromium + chromedriver, SIPp, sox, the gateway binary and a built `frontend/dist`.

mod common;

use std::sync::{Arc, Mutex};

use anyhow::ensure;
use common::{
    answering_carrier, finished, ok, outbound_ready, talking_caller, tenant, trunk_gateway,
    voicemail_from, PASSWORD,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with};
use hotline_e2e::telephony::{free_port, scenario, sipp};
use serde_json::json;
use uuid::Uuid;

const DID: &str = "+994125559501";
const NUMBER: &str = "+15550007501";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voicemail_left_at_max_wait_is_played_handled_and_called_back_from_the_desktop() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Voicemail Water").await;
    outbound_ready(&app, t.id, &[]).await;
    let dana = t
        .agent(&app, "dana@voicemail.test", "Dana", None, &[])
        .await;
    t.queue_on_number(
        &app,
        json!({ "name": "Billing", "strategy": "longest_idle", "max_wait_seconds": 3,
                "wrap_up_seconds": 0, "max_wait_action": "voicemail", "voicemail_user_id": dana }),
        DID,
    )
    .await;
    let work = std::env::temp_dir().join(format!("hotline-vm-e2e-{}", Uuid::new_v4().simple()));
    let (cust_dir, carrier_dir) = (work.join("cust"), work.join("carrier"));
    std::fs::create_dir_all(&cust_dir).unwrap();
    std::fs::create_dir_all(&carrier_dir).unwrap();
    let carrier_port = free_port();
    let rtp = 32_000 + (std::process::id() % 100) as u16 * 40;
    let gw = trunk_gateway(&app, &work, rtp, carrier_port);

    // The caller waits, hears the beep at max wait, speaks and hangs up.
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(&talking_caller(NUMBER, 8_000, 1, 0, 8_000)),
        &["-s", DID, "-mp", &free_port().to_string(), &gw.addr],
    );
    finished(customer, &cust_dir, "caller").await;
    let vm = voicemail_from(&app, &t.admin, NUMBER).await;
    let vm_id = vm["id"].as_str().unwrap().to_string();

    let carrier = Arc::new(Mutex::new(None));
    let (carrier2, cdir) = (carrier.clone(), carrier_dir.clone());
    let chrome_args = fake_microphone_args(&work);
    let slug = t.slug.clone();
    run_with(
        "browser_voicemail_dana",
        &app.base_url,
        &chrome_args,
        async move |b| {
            b.agent_ready(&slug, "dana@voicemail.test", PASSWORD)
                .await?;
            let item = format!("#voicemail-list li.voicemail[data-caller='{NUMBER}']");
            b.wait_text(&item, "Billing").await?;
            // It plays: the browser reads its length and its time advances.
            let played = b
                .js(&format!(
                    r#"return (async () => {{
                         const a = document.querySelector("{item} audio");
                         a.muted = true;
                         await a.play();
                         await new Promise(r => setTimeout(r, 700));
                         return [a.duration, a.currentTime];
                       }})();"#
                ))
                .await?;
            let (duration, at) = (
                played[0].as_f64().unwrap_or(0.0),
                played[1].as_f64().unwrap_or(0.0),
            );
            ensure!(
                duration > 3.0 && at > 0.0,
                "not played: duration {duration}, time {at}"
            );
            // Handled: it leaves the open list, and shows who handled it.
            b.click(&format!("{item} .voicemail-handled")).await?;
            b.wait("#voicemail-list #voicemail-empty").await?;
            b.click("#voicemail-show-handled").await?;
            b.wait_text(&format!("{item} .voicemail-handled-by"), "Dana")
                .await?;
            // Called back in one click: the carrier answers, the call is on the softphone.
            *carrier2.lock().unwrap() = Some(sipp(
                &cdir,
                "carrier",
                &scenario(&answering_carrier(NUMBER)),
                &[
                    "-p",
                    &carrier_port.to_string(),
                    "-mp",
                    &free_port().to_string(),
                ],
            ));
            b.click(&format!("{item} .voicemail-callback")).await?;
            b.wait_text("#voicemail-calling", NUMBER).await?;
            b.wait("#in-call").await?;
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            b.click("#call-hangup").await?;
            b.wait("#wrapup-form").await?;
            // The Voicemail page is in the navigation and lists it.
            b.click("a[href='/voicemail']").await?;
            b.click("#voicemail-show-handled").await?;
            b.wait_text(&format!("{item} .voicemail-handled-by"), "Dana")
                .await?;
            Ok(())
        },
    )
    .await;
    let child = carrier
        .lock()
        .unwrap()
        .take()
        .expect("the carrier was started");
    finished(child, &carrier_dir, "carrier").await;

    // Handled by Dana, with the call back on record.
    let list = ok(t
        .admin
        .get(app.url("/api/v1/voicemails?status=handled"))
        .send()
        .await
        .unwrap())
    .await;
    let done = list
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == vm_id.as_str())
        .cloned()
        .expect("the message is handled");
    assert_eq!(done["handled_by"], dana.to_string(), "{done}");
    let audit = ok(t
        .admin
        .get(app.url("/api/v1/audit?action=voicemail.callback"))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(audit["total"], 1, "{audit}");
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
