//! Ring-no-answer end to end, with agents on SIP phones (SIPp registered to the real gateway)
//! and a SIPp caller: the longest-idle agent's phone rings and nobody picks up; after the ring
//! timeout the gateway cancels it, the agent is set not ready (reason `missed` on the ACD; the
//! built-in reason code "Missed call" on their desktop's state), the call goes back to the
//! queue and the next agent answers — the caller stays connected throughout and hangs up
//! themselves.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{
    acd_agent, bridged, caller, cdr, dial_in, finished, hangup_cause, ok, recording, sip_trace,
    TwoPhoneAgents, ANSWERING_PHONE, UNANSWERED_PHONE,
};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{gateway_events, rms, stereo_channels};
use hotline_wire::gateway::HangupCause;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_agent_is_set_not_ready_and_the_call_goes_to_the_next_agent() {
    // A short ring timeout keeps the test quick (production default: 20 s).
    let app = TestApp::spawn_with(|c| c.ring_timeout_secs = 3).await;
    let did = "+994125559201";
    let number = "+15550007201";
    // Aysel becomes ready first: she has waited longest and is offered the call first.
    let p = TwoPhoneAgents::start(
        &app,
        "Ring Water",
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
        UNANSWERED_PHONE,
        ANSWERING_PHONE,
    )
    .await;

    let customer = dial_in(&p.cust_dir, &caller(number, 9_000, 5_000), did, &p.gw.addr);
    // Aysel's phone rang and was cancelled (the scenario expects the CANCEL).
    finished(p.aysel_phone, &p.aysel_dir, "Aysel's phone").await;
    // Meanwhile the ACD set her not ready: missed.
    let a = acd_agent(&app, p.t.id, p.aysel);
    assert_eq!(
        (a.state.as_str(), a.reason.as_str()),
        ("not_ready", "missed"),
        "{a:?}"
    );
    // Bob's phone rings next and answers; the caller is bridged to it.
    let (call, leg, _) = bridged(&app, number).await;
    finished(customer, &p.cust_dir, "caller").await;
    finished(p.bob_phone, &p.bob_dir, "Bob's phone").await;
    assert!(
        sip_trace(&p.aysel_dir).contains("CANCEL sip:"),
        "Aysel's phone was not cancelled"
    );
    // The caller stayed on the line until they hung up themselves.
    assert_eq!(hangup_cause(&app, call).await, HangupCause::CallerBye);
    // Bob heard the caller.
    let evs = gateway_events(&mut app.state.redis(), &app.state.cfg.call_events_stream).await;
    let (rec, _) = recording(&app, leg).await;
    let (_, heard) = stereo_channels(&rec);
    assert!(rms(&heard) > 300.0, "Bob heard nothing: {evs:#?}");
    // The ACD: Bob took it and is free again; Aysel stays not ready until she says otherwise.
    let b = acd_agent(&app, p.t.id, p.bob);
    assert_eq!((b.state.as_str(), b.answered), ("ready", 1), "{b:?}");
    let a = acd_agent(&app, p.t.id, p.aysel);
    assert_eq!(
        (a.state.as_str(), a.reason.as_str(), a.answered),
        ("not_ready", "missed", 0)
    );
    // Her desktop's state says so too, with the built-in reason code "Missed call".
    let st = ok(p
        .ca
        .get(app.url("/api/v1/agent/state"))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(
        (
            st["status"].as_str(),
            st["reason_key"].as_str(),
            st["reason"].as_str()
        ),
        (Some("not_ready"), Some("missed"), Some("Missed call")),
        "{st}"
    );
    let codes = ok(p
        .ca
        .get(app.url("/api/v1/reason-codes"))
        .send()
        .await
        .unwrap())
    .await;
    let missed = codes
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["builtin_key"] == "missed")
        .unwrap_or_else(|| panic!("no built-in reason code 'missed': {codes}"));
    assert_eq!(st["reason_id"], missed["id"], "a real reason code: {st}");
    // The CDR: answered by Bob, in the queue.
    let c = cdr(&app, &p.t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["agent_name"], "Bob", "{c:#}");
    assert_eq!(c["cdr"]["queue_name"], "Help", "{c:#}");
    drop(p.gw);
    let _ = std::fs::remove_dir_all(&p.work);
}
