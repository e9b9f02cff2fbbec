//! A ring-all queue end to end, with agents on SIP phones (SIPp registered to the real
//! gateway) and a SIPp caller: both Ready agents' phones ring at once; Bob answers; Aysel's
//! phone is cancelled at that moment (long before the ring time-out), she is Ready again, not
//! set Not ready as after a missed call; the caller talks to Bob and the CDR names him.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use std::time::{Duration, Instant};

use common::{
    acd_agent, bridged, caller, cdr, dial_in, finished, hangup_cause, recording, sip_trace,
    TwoPhoneAgents, ANSWERING_PHONE, UNANSWERED_PHONE,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{rms, stereo_channels};
use hotline_wire::gateway::HangupCause;
use serde_json::json;

/// Ring time-out of the test: far longer than the answer takes, so a cancel well before it is
/// the answer's doing.
const RING_TIMEOUT_SECS: u64 = 30;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_ready_agent_rings_and_the_first_answer_cancels_the_others() {
    let app = TestApp::spawn_with(|c| c.ring_timeout_secs = RING_TIMEOUT_SECS).await;
    let did = "+994125559301";
    let number = "+15550007301";
    // Aysel's phone rings until it is cancelled; Bob's answers after a second. Aysel has
    // waited longest: a longest-idle queue would ring her alone.
    let p = TwoPhoneAgents::start(
        &app,
        "Ring All Water",
        json!({ "name": "Everyone", "strategy": "ring_all", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
        UNANSWERED_PHONE,
        ANSWERING_PHONE,
    )
    .await;

    let dialled = Instant::now();
    let customer = dial_in(&p.cust_dir, &caller(number, 9_000, 5_000), did, &p.gw.addr);
    // Aysel's phone rang (the scenario waits for the INVITE) and was cancelled when Bob
    // answered, long before the ring time-out.
    finished(p.aysel_phone, &p.aysel_dir, "Aysel's phone").await;
    let cancelled_after = dialled.elapsed();
    assert!(
        cancelled_after < Duration::from_secs(RING_TIMEOUT_SECS / 3),
        "Aysel's phone rang {cancelled_after:?}: not cancelled by Bob's answer"
    );
    assert!(
        sip_trace(&p.aysel_dir).contains("CANCEL sip:"),
        "Aysel's phone was not cancelled"
    );
    // Not punished: Ready again, having answered nothing.
    let a = acd_agent(&app, p.t.id, p.aysel);
    assert_eq!(
        (a.state.as_str(), a.reason.as_str(), a.answered),
        ("ready", "", 0),
        "{a:?}"
    );
    // The caller is bridged to Bob's phone and talks to him until they hang up.
    let (call, leg, _) = bridged(&app, number).await;
    finished(customer, &p.cust_dir, "caller").await;
    finished(p.bob_phone, &p.bob_dir, "Bob's phone").await;
    assert_eq!(hangup_cause(&app, call).await, HangupCause::CallerBye);
    let (rec, _) = recording(&app, leg).await;
    let (_, heard) = stereo_channels(&rec);
    assert!(rms(&heard) > 300.0, "Bob heard nothing");
    let b = acd_agent(&app, p.t.id, p.bob);
    assert_eq!((b.state.as_str(), b.answered), ("ready", 1), "{b:?}");
    // The CDR names the winner; its timeline has both offers and Aysel's withdrawn one.
    let c = cdr(&app, &p.t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["agent_name"], "Bob", "{c:#}");
    assert_eq!(c["cdr"]["queue_name"], "Everyone", "{c:#}");
    let events = c["events"].as_array().unwrap();
    let of = |kind: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["kind"] == kind)
            .map(|e| e["agent_id"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let mut offered = of("offered");
    offered.sort();
    let mut both = vec![p.aysel.to_string(), p.bob.to_string()];
    both.sort();
    assert_eq!(offered, both, "{c:#}");
    assert_eq!(of("offer_cancelled"), vec![p.aysel.to_string()], "{c:#}");
    let why = events
        .iter()
        .find(|e| e["kind"] == "offer_cancelled")
        .unwrap();
    assert_eq!(why["details"]["reason"], "answered_elsewhere", "{c:#}");
    assert_eq!(of("connected"), vec![p.bob.to_string()], "{c:#}");
    drop(p.gw);
    let _ = std::fs::remove_dir_all(&p.work);
}
