//! Per-tenant music on hold end to end (issue 17, point 4): a tenant uploads its own music (a
//! 700 Hz tone stands in for it) as an IVR prompt and chooses it as the music on hold; a SIPp
//! caller waits in a queue nobody serves and hears that music — not the built-in one (440 Hz
//! beeps here, where the gateway has no prompt files) — through the real gateway, which plays
//! the tenant's prompt from Redis. Checked on the gateway's recording of the caller's leg
//! (right channel: what the caller heard).
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{caller, dial_in, finished, recording, tenant, workdir};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{best_tone_share, stereo_channels};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_caller_hears_the_tenants_own_music() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Lobby Tunes").await;
    let did = &format!("+99412{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    let number = "+15550007801";
    t.queue_on_number(
        &app,
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    t.tone_music_on_hold(&app, 700.0).await;

    let work = workdir("moh");
    let gw = common::gateway(&app, &work, 0, false);
    let dir = work.join("caller");
    // Nobody is ready: the caller waits in the queue for 8 s, then hangs up.
    let customer = dial_in(&dir, &caller(number, 8_000, 0), did, &gw.addr);
    finished(customer, &dir, "caller").await;
    let call = common::caller_call(&app, number).await;
    let (path, _) = recording(&app, call).await;
    let (_, heard) = stereo_channels(&path);
    // The last 4 s: well after the greeting, while the call waited in the queue.
    let tail = &heard[heard.len().saturating_sub(4 * 8000)..];
    let own = best_tone_share(tail, 700.0);
    let builtin = best_tone_share(tail, 440.0);
    assert!(
        own > 0.5 && builtin < 0.1,
        "the caller did not hear the tenant's music: 700 Hz share {own:.2}, 440 Hz {builtin:.2}"
    );
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
