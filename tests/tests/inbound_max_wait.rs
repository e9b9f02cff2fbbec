//! A queue's maximum wait, end to end (issue 17: callers were left hearing music for ever):
//! a SIPp caller dials the tenant's number on the real gateway, waits in a queue with no agent
//! ready, and when the queue's maximum wait (3 s) passes —
//! - `voicemail`: hears the beep, speaks, hangs up; the message is listed (caller, queue,
//!   duration) and its audio holds what they said; the missed-calls entry and the CDR say
//!   `voicemail`;
//! - `hangup`: hears the queue's message, then the gateway hangs up (SIPp receives the BYE,
//!   after the prompt finished playing); the missed-calls entry and the CDR say `max_wait`.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{
    caller_call, cdr, dial_in, finished, gateway, ok, talking_caller, tenant, voicemail_from,
    workdir,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{gateway_events, rms};
use hotline_wire::gateway::{GatewayEvent, HangupCause};
use serde_json::json;

/// The missed-calls entry of `number`, once it is listed.
async fn missed_entry(app: &TestApp, admin: &reqwest::Client, number: &str) -> serde_json::Value {
    let url = app.url("/api/v1/missed-calls");
    common::eventually(10, "the missed-calls entry", || {
        let (admin, url) = (admin.clone(), url.clone());
        async move {
            let list = ok(admin.get(url).send().await.unwrap()).await;
            list.as_array()?
                .iter()
                .find(|m| m["number"] == number)
                .cloned()
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_wait_the_caller_leaves_a_voicemail_that_is_listed_and_playable() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Max Wait Voicemail").await;
    let did = "+994125559401";
    let number = "+15550007401";
    let q = t
        .queue_on_number(
            &app,
            json!({ "name": "Billing", "strategy": "longest_idle", "max_wait_seconds": 3,
                    "wrap_up_seconds": 0, "max_wait_action": "voicemail" }),
            did,
        )
        .await;
    assert_eq!(q["max_wait_action"], "voicemail");
    let work = workdir("maxwait-vm");
    let gw = gateway(&app, &work, 0, false);
    // Greeting (~1.5 s) + 3 s in the queue + the beep: recording has started by 8 s. The
    // caller speaks from 8 s (SIPp's 6.8 s sample) and hangs up 8 s later, without `#`.
    let cust_dir = work.join("cust");
    let customer = dial_in(
        &cust_dir,
        &talking_caller(number, 8_000, 1, 0, 8_000),
        did,
        &gw.addr,
    );
    let call = caller_call(&app, number).await;
    finished(customer, &cust_dir, "caller").await;

    // The message is listed with the caller, the queue and its length.
    let vm = voicemail_from(&app, &t.admin, number).await;
    assert_eq!(vm["call_id"], call.to_string(), "{vm}");
    assert_eq!(vm["queue_name"], "Billing", "{vm}");
    assert_eq!(vm["did"], did, "{vm}");
    let ms = vm["duration_ms"].as_i64().unwrap();
    assert!((4_000..=15_000).contains(&ms), "message length {ms} ms");
    // Its audio is what the caller said: a mono 8 kHz WAV with speech in it.
    let audio = t
        .admin
        .get(app.url(vm["audio_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(audio.status(), 200);
    assert_eq!(audio.headers()["content-type"], "audio/wav");
    let wav = audio.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    assert!(
        rms(&samples) > 300.0,
        "the message is silent: RMS {}",
        rms(&samples)
    );

    // One missed-calls entry and one CDR outcome, both "voicemail".
    let entry = missed_entry(&app, &t.admin, number).await;
    assert_eq!(entry["reason"], "voicemail", "{entry}");
    let c = cdr(&app, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "voicemail", "{c}");
    let kinds: Vec<&str> = c["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert!(kinds.contains(&"max_wait"), "{kinds:?}");
    let _ = std::fs::remove_dir_all(&work);
}

/// A caller that waits for the gateway to hang up (SIPp fails the run if no BYE comes).
fn caller_waiting_for_bye(number: &str) -> String {
    let talk = talking_caller(number, 0, 0, 0, 0);
    let invite_and_ack = talk
        .split("  <pause milliseconds=\"0\"/>")
        .next()
        .unwrap()
        .to_string();
    invite_and_ack
        + r#"  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_max_wait_the_caller_hears_the_message_and_the_gateway_hangs_up() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Max Wait Hangup").await;
    let did = "+994125559402";
    let number = "+15550007402";
    t.queue_on_number(
        &app,
        json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 3,
                "wrap_up_seconds": 0, "max_wait_action": "hangup" }),
        did,
    )
    .await;
    let work = workdir("maxwait-hangup");
    let gw = gateway(&app, &work, 1, false);
    let cust_dir = work.join("cust");
    let customer = dial_in(&cust_dir, &caller_waiting_for_bye(number), did, &gw.addr);
    let call = caller_call(&app, number).await;
    // SIPp received the gateway's BYE (else it times out and fails).
    finished(customer, &cust_dir, "caller").await;

    // The message played to its end, then the gateway hung up. The gateway sends its BYE
    // before it records the hang-up, so SIPp may finish a moment before the event lands.
    let stream = app.state.cfg.call_events_stream.clone();
    common::until_event(
        &app.state.redis(),
        &stream,
        10,
        "the gateway's hang-up",
        |e| matches!(e, GatewayEvent::Hangup { call_id, .. } if *call_id == call),
    )
    .await;
    let evs = gateway_events(&mut app.state.redis(), &stream).await;
    let played = evs.iter().position(|e| {
        matches!(e, GatewayEvent::PlaybackFinished { call_id, prompt, interrupted_by: None, .. }
            if *call_id == call && prompt == "all-busy")
    });
    let hung_up = evs.iter().position(|e| {
        matches!(e, GatewayEvent::Hangup { call_id, cause, .. }
            if *call_id == call && *cause == HangupCause::GatewayBye)
    });
    let (Some(played), Some(hung_up)) = (played, hung_up) else {
        panic!("no played message and gateway hang-up: {evs:#?}");
    };
    assert!(played < hung_up, "hung up before the message ended");

    // One missed-calls entry and one CDR outcome, both "max_wait".
    let entry = missed_entry(&app, &t.admin, number).await;
    assert_eq!(entry["reason"], "max_wait", "{entry}");
    let c = cdr(&app, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "max_wait", "{c}");
    let _ = std::fs::remove_dir_all(&work);
}
