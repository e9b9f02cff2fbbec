//! Position-in-queue and estimated-wait announcements end to end (issue 17): two SIPp callers
//! wait in a queue that announces every 15 s (the shortest interval any tenant may choose);
//! one agent is logged in but not ready, and the queue has no answered call yet (the default
//! handle time, 180 s, applies). Each caller gets one `announced` entry on their call's
//! timeline — the first caller position 1 and about 90 s, the second position 2 and about
//! 270 s — even though two more "backends" run the announcement step alongside the
//! backend's own ticker (same Redis, same database). The first caller's recording shows what
//! they heard: the tenant's music (a 700 Hz tone), the announcement at the time the timeline
//! gives (the built-in prompts are 440 Hz beeps here: the test gateway has no prompt files),
//! then the music again.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{caller, caller_call, cdr, dial_in, finished, recording, set_state, tenant, workdir};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{best_tone_share, stereo_channels};
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The `announced` entries of a call's timeline.
fn announced(c: &Value) -> Vec<Value> {
    c["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "announced")
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_callers_hear_their_place_and_wait_once_per_interval() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Announcing Desk").await;
    let did = &format!("+99412{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    let (first, second) = ("+15550007901", "+15550007902");
    let q = t
        .queue_on_number(
            &app,
            json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0,
                    "wrap_up_seconds": 0, "announce_position": true, "announce_wait": true,
                    "announce_interval_seconds": 15 }),
            did,
        )
        .await;
    t.tone_music_on_hold(&app, 700.0).await;
    // One agent serves the queue (logged in) but takes no call (not ready).
    t.agent(&app, "agent@announce.test", "Ann", None, &[]).await;
    let desk = t.login(&app, "agent@announce.test").await;
    set_state(&app, &desk, "not_ready").await;

    // Two more backends' announcement steps, as fast as they like.
    let stop = Arc::new(AtomicBool::new(false));
    let others: Vec<_> = (0..2)
        .map(|_| {
            let (state, stop, tenant) = (app.state.clone(), stop.clone(), t.id);
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    hotline_backend::announce::tick(&state, tenant).await;
                    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
                }
            })
        })
        .collect();

    let work = workdir("announce");
    let gw = common::gateway(&app, &work, 2, false);
    // The greeting (a 1 s beep here), then the queue: the first announcement comes 15 s
    // later and lasts about 5 s; both callers stay about 10 s more (not a second one).
    let (dir1, dir2) = (work.join("first"), work.join("second"));
    let one = dial_in(&dir1, &caller(first, 28_000, 0), did, &gw.addr);
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let two = dial_in(&dir2, &caller(second, 28_000, 0), did, &gw.addr);
    finished(one, &dir1, "first caller").await;
    finished(two, &dir2, "second caller").await;
    stop.store(true, Ordering::Relaxed);
    for o in others {
        o.await.unwrap();
    }

    let (call1, call2) = (
        caller_call(&app, first).await,
        caller_call(&app, second).await,
    );
    let c1 = cdr(&app, &t.admin, call1).await;
    let c2 = cdr(&app, &t.admin, call2).await;
    let (a1, a2) = (announced(&c1), announced(&c2));
    assert_eq!(a1.len(), 1, "one announcement per interval: {a1:#?}");
    assert_eq!(a2.len(), 1, "one announcement per interval: {a2:#?}");
    let (a1, a2) = (&a1[0]["details"], &a2[0]["details"]);
    assert_eq!(a1["queue"], q["id"], "{a1}");
    assert_eq!(a1["position"], 1, "{a1}");
    assert_eq!(a1["agents"], 1, "{a1}");
    assert_eq!(a1["estimated_wait_seconds"], 90, "{a1}");
    assert_eq!(
        a1["prompts"],
        json!([
            "queue-position",
            "digit-1",
            "queue-wait",
            "digit-2",
            "queue-minutes"
        ]),
        "{a1}"
    );
    assert_eq!(a2["position"], 2, "{a2}");
    assert_eq!(a2["estimated_wait_seconds"], 270, "{a2}");
    assert_eq!(
        a2["prompts"],
        json!([
            "queue-position",
            "digit-2",
            "queue-wait",
            "digit-5",
            "queue-minutes"
        ]),
        "{a2}"
    );

    // What the first caller heard, second by second from the recording's start.
    let (path, started) = recording(&app, call1).await;
    let (_, heard) = stereo_channels(&path);
    let at: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(announced(&c1)[0]["at"].clone()).unwrap();
    let said_at = (at - started).num_milliseconds() as usize * 8;
    let window = |from: usize, secs: usize| {
        &heard[from.min(heard.len())..(from + secs * 8000).min(heard.len())]
    };
    let music_before = best_tone_share(window(said_at.saturating_sub(6 * 8000), 5), 700.0);
    let words = best_tone_share(window(said_at + 800, 3), 440.0);
    let music_after = best_tone_share(window(said_at + 6 * 8000, 3), 700.0);
    assert!(
        music_before > 0.5 && words > 0.5 && music_after > 0.5,
        "music {music_before:.2}, then the announcement {words:.2}, then music {music_after:.2} \
         (tone shares around {} s of {} s)",
        said_at / 8000,
        heard.len() / 8000
    );
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
