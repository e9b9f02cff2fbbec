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

/// A 4-second 8 kHz mono 16-bit WAV of a `freq` Hz tone.
fn tone_wav(freq: f64) -> Vec<u8> {
    let samples: Vec<i16> = (0..32_000)
        .map(|i| (12_000.0 * (2.0 * std::f64::consts::PI * freq * i as f64 / 8000.0).sin()) as i16)
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut w = b"RIFF".to_vec();
    w.extend_from_slice(&(36 + data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&16u32.to_le_bytes());
    w.extend_from_slice(&1u16.to_le_bytes()); // PCM
    w.extend_from_slice(&1u16.to_le_bytes()); // mono
    w.extend_from_slice(&8000u32.to_le_bytes());
    w.extend_from_slice(&16000u32.to_le_bytes());
    w.extend_from_slice(&2u16.to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        w.extend_from_slice(&s.to_le_bytes());
    }
    w
}

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
    let up = t
        .admin
        .post(app.url("/api/v1/ivr/prompts?name=lobby"))
        .header("content-type", "audio/wav")
        .body(tone_wav(700.0))
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 201, "{}", up.text().await.unwrap_or_default());
    let r = t
        .admin
        .put(app.url("/api/v1/settings/music-on-hold"))
        .json(&json!({ "prompt": "lobby" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);

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
