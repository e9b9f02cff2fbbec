//! Recordings indexed from the gateways' `recording_finished` events (real Redis stream,
//! consumer group), listed and downloaded per tenant, and deleted by the retention setting.

mod common;

use common::*;
use hotline_backend::{call_events, testkit::TestApp};
use hotline_wire::{
    api::Page,
    calls::{RecordingDto, RecordingPeaks, RecordingSettings},
    gateway::event_stream_for,
    gateway::GatewayEvent,
};
use redis::AsyncCommands;
use std::path::PathBuf;
use uuid::Uuid;

/// Writes a small WAV where a gateway would, and publishes its event on the test's stream.
async fn publish_recording(
    app: &TestApp,
    dir: &std::path::Path,
    tenant: Uuid,
    started_at: chrono::DateTime<chrono::Utc>,
) -> (Uuid, PathBuf, Vec<u8>) {
    let call_id = Uuid::new_v4();
    let path = dir
        .join(tenant.to_string())
        .join("2026/11/23/10")
        .join(format!("{call_id}.wav"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut bytes = b"RIFF\x24\x00\x00\x00WAVEfmt ".to_vec();
    bytes.extend_from_slice(&[
        16, 0, 0, 0, 1, 0, 2, 0, 0x40, 0x1f, 0, 0, 0, 0x7d, 0, 0, 4, 0, 16, 0,
    ]);
    bytes.extend_from_slice(b"data\x00\x00\x00\x00");
    std::fs::write(&path, &bytes).unwrap();
    let ev = GatewayEvent::RecordingFinished {
        call_id,
        tenant_id: tenant,
        started_at,
        duration_ms: 3500,
        path: path.display().to_string(),
        size_bytes: bytes.len() as u64,
    };
    // Where a gateway publishes it: the tenant's shard of the stream.
    let mut r = app.state.redis();
    let _: String = r
        .xadd(
            event_stream_for(&app.state.cfg.call_events_stream, &ev),
            "*",
            &[("msg", serde_json::to_string(&ev).unwrap())],
        )
        .await
        .unwrap();
    (call_id, path, bytes)
}

async fn xadd(app: &TestApp, msg: &str) {
    let mut r = app.state.redis();
    let _: String = r
        .xadd(&app.state.cfg.call_events_stream, "*", &[("msg", msg)])
        .await
        .unwrap();
}

/// Polls the list until `pred` holds (the consumer runs in the server's background task).
async fn wait_list(
    app: &TestApp,
    client: &reqwest::Client,
    pred: impl Fn(&Page<RecordingDto>) -> bool,
) -> Page<RecordingDto> {
    for _ in 0..100 {
        let page: Page<RecordingDto> =
            ok_json(client.get(app.url("/api/v1/recordings")).send().await).await;
        if pred(&page) {
            return page;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("recordings list never reached the expected state");
}

#[tokio::test]
async fn recording_events_are_indexed_per_tenant_and_downloadable_by_permission() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Rec A").await;
    let b = tenant(&app, "Rec B").await;
    let dir = tempdir();
    let now = chrono::Utc::now();
    // A malformed entry first: it must be dead-lettered, not block what follows.
    xadd(&app, "{not json").await;
    let (call_id, _path, bytes) = publish_recording(&app, &dir, a.info.tenant.id, now).await;
    // The same event delivered twice (a gateway retry) is indexed once.
    let ev = GatewayEvent::RecordingFinished {
        call_id,
        tenant_id: a.info.tenant.id,
        started_at: now,
        duration_ms: 3500,
        path: _path.display().to_string(),
        size_bytes: bytes.len() as u64,
    };
    xadd(&app, &serde_json::to_string(&ev).unwrap()).await;

    let page = wait_list(&app, &a.admin, |p| p.total == 1).await;
    let rec = &page.items[0];
    assert_eq!((rec.call_id, rec.duration_ms), (call_id, 3500));
    let got = a.admin.get(app.url(&rec.audio_url)).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "audio/wav");
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);

    // The bad entry is kept, with its error, in the dead-letter stream.
    let mut r = app.state.redis();
    let dead: Vec<redis::Value> = redis::cmd("XRANGE")
        .arg(call_events::dead_letter_stream(
            &app.state.cfg.call_events_stream,
        ))
        .arg("-")
        .arg("+")
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "one dead-lettered entry");

    // Tenant B sees nothing of A's, by list or by id.
    let page: Page<RecordingDto> =
        ok_json(b.admin.get(app.url("/api/v1/recordings")).send().await).await;
    assert_eq!(page.total, 0);
    problem(
        b.admin.get(app.url(&rec.audio_url)).send().await,
        404,
        "not_found",
    )
    .await;
    // A recording event naming tenant B but a file under A's tree is indexed for B but never
    // served to B (paths are checked against the tenant).
    let (foreign, _, _) = publish_recording(&app, &dir, a.info.tenant.id, now).await;
    let ev = GatewayEvent::RecordingFinished {
        call_id: Uuid::new_v4(),
        tenant_id: b.info.tenant.id,
        started_at: now,
        duration_ms: 1,
        path: dir
            .join(a.info.tenant.id.to_string())
            .join(format!("{foreign}.wav"))
            .display()
            .to_string(),
        size_bytes: 1,
    };
    xadd(&app, &serde_json::to_string(&ev).unwrap()).await;
    let page = wait_list(&app, &b.admin, |p| p.total == 1).await;
    problem(
        b.admin.get(app.url(&page.items[0].audio_url)).send().await,
        404,
        "not_found",
    )
    .await;

    // Agents do not hold recordings.read by default.
    let (_, agent) = a.user(&app, "agent@reca.test", "Agent").await;
    problem(
        agent.get(app.url("/api/v1/recordings")).send().await,
        403,
        "forbidden",
    )
    .await;
}

#[tokio::test]
async fn retention_deletes_old_recordings_and_their_files() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Retain").await;
    let dir = tempdir();
    let t = a.info.tenant.id;
    let old_at = chrono::Utc::now() - chrono::Duration::days(3);
    let (old_id, old_path, _) = publish_recording(&app, &dir, t, old_at).await;
    let (new_id, new_path, _) = publish_recording(&app, &dir, t, chrono::Utc::now()).await;
    wait_list(&app, &a.admin, |p| p.total == 2).await;

    // No retention set: nothing is deleted.
    assert_eq!(call_events::apply_retention(&app.state).await.unwrap(), 0);

    let bad = a
        .admin
        .put(app.url("/api/v1/settings/recordings"))
        .json(&serde_json::json!({ "retention_days": 0 }))
        .send()
        .await;
    let p = problem(bad, 422, "validation_failed").await;
    assert_eq!(field_names(&p), vec!["retention_days"]);
    let set: RecordingSettings = ok_json(
        a.admin
            .put(app.url("/api/v1/settings/recordings"))
            .json(&RecordingSettings {
                retention_days: Some(2),
            })
            .send()
            .await,
    )
    .await;
    assert_eq!(set.retention_days, Some(2));

    assert_eq!(call_events::apply_retention(&app.state).await.unwrap(), 1);
    assert!(!old_path.exists(), "old file deleted");
    assert!(new_path.exists(), "recent file kept");
    let page: Page<RecordingDto> =
        ok_json(a.admin.get(app.url("/api/v1/recordings")).send().await).await;
    let ids: Vec<Uuid> = page.items.iter().map(|r| r.call_id).collect();
    assert_eq!(ids, vec![new_id]);
    assert!(!ids.contains(&old_id));
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("hotline-rec-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The consumer's own steps, on a stream no background consumer reads. A quiet read waits its
/// whole block time and returns nothing (no client timeout). A shard has one owner: while the
/// first backend's leases live, a second one takes no shard; an entry the first read and never
/// acknowledged (it was killed mid-event) stays pending until its lease lapses, then the second
/// backend takes the shard over, handles the entry first and acknowledges it.
#[tokio::test]
async fn a_shard_has_one_owner_and_a_dead_owners_entry_is_handled_by_the_next() {
    let app = TestApp::spawn_with(|c| c.call_events_lease_secs = 2).await;
    let a = tenant(&app, "Rec Claim").await;
    let mut cfg = app.state.cfg.clone();
    cfg.call_events_stream = format!("{}:claim", cfg.call_events_stream);
    let state = hotline_backend::app::state(cfg).await.unwrap();
    let mut con = call_events::connect(&state).await.unwrap();

    let mut dead = call_events::Consumer::new(&state, "dead");
    let quiet = std::time::Instant::now();
    let n = dead.step(&state, &mut con, 1_500).await.unwrap();
    assert_eq!(n, 0);
    assert!(quiet.elapsed() >= std::time::Duration::from_millis(1_400));
    let all = hotline_wire::gateway::event_streams(&state.cfg.call_events_stream);
    assert_eq!(dead.held().len(), all.len(), "alone, it holds every shard");

    // A second backend arrives: the first still holds everything (it has not balanced since).
    let mut alive = call_events::Consumer::new(&state, "alive");
    alive.balance(&mut con).await.unwrap();
    assert!(alive.held().is_empty(), "a held shard is never taken");

    let dir = tempdir();
    let view = TestApp {
        base_url: app.base_url.clone(),
        state: state.clone(),
        database: app.database.clone(),
    };
    let (call_id, _, _) =
        publish_recording(&view, &dir, a.info.tenant.id, chrono::Utc::now()).await;
    let shard = hotline_wire::gateway::event_shard_stream(
        &state.cfg.call_events_stream,
        hotline_wire::gateway::event_shard(a.info.tenant.id),
    );
    // The owner reads it and dies before acknowledging it.
    let opts = redis::streams::StreamReadOptions::default()
        .group(call_events::GROUP, "dead")
        .count(10);
    let read: redis::streams::StreamReadReply =
        con.xread_options(&[&shard], &[">"], &opts).await.unwrap();
    assert_eq!(read.keys[0].ids.len(), 1);
    drop(dead);
    // Until its lease lapses, the shard stays the dead owner's.
    alive.balance(&mut con).await.unwrap();
    assert!(!alive.held().contains(&shard));
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    let n = alive.step(&state, &mut con, 200).await.unwrap();
    assert_eq!(n, 1, "the dead owner's entry is drained first");
    assert!(alive.held().contains(&shard));
    let page = wait_list(&app, &a.admin, |p| p.total == 1).await;
    assert_eq!(page.items[0].call_id, call_id);
    let pending: (u64, redis::Value, redis::Value, redis::Value) = redis::cmd("XPENDING")
        .arg(&shard)
        .arg(call_events::GROUP)
        .query_async(&mut con)
        .await
        .unwrap();
    assert_eq!(pending.0, 0);
}

/// A 16-bit stereo PCM WAV at 8 kHz: `quiet_ms` of silence, then `loud_ms` of a tone at half
/// of full scale.
fn wav(quiet_ms: usize, loud_ms: usize) -> Vec<u8> {
    let frames = (quiet_ms + loud_ms) * 8;
    let mut pcm = Vec::with_capacity(frames * 4);
    for i in 0..frames {
        let s: i16 = if i < quiet_ms * 8 {
            0
        } else {
            (16384.0 * (i as f64 * 2.0 * std::f64::consts::PI * 440.0 / 8000.0).sin()) as i16
        };
        pcm.extend_from_slice(&s.to_le_bytes());
        pcm.extend_from_slice(&s.to_le_bytes());
    }
    let mut b = b"RIFF".to_vec();
    b.extend_from_slice(&(36 + pcm.len() as u32).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&[
        16, 0, 0, 0, 1, 0, 2, 0, 0x40, 0x1f, 0, 0, 0, 0x7d, 0, 0, 4, 0, 16, 0,
    ]);
    b.extend_from_slice(b"data");
    b.extend_from_slice(&(pcm.len() as u32).to_le_bytes());
    b.extend_from_slice(&pcm);
    b
}

/// Writes `bytes` as a call's recording where a gateway would and publishes its event.
async fn publish_bytes(app: &TestApp, dir: &std::path::Path, tenant: Uuid, bytes: &[u8]) -> Uuid {
    let call_id = Uuid::new_v4();
    let path = dir.join(tenant.to_string()).join(format!("{call_id}.wav"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let ev = GatewayEvent::RecordingFinished {
        call_id,
        tenant_id: tenant,
        started_at: chrono::Utc::now(),
        duration_ms: 1000,
        path: path.display().to_string(),
        size_bytes: bytes.len() as u64,
    };
    let mut r = app.state.redis();
    let _: String = r
        .xadd(
            event_stream_for(&app.state.cfg.call_events_stream, &ev),
            "*",
            &[("msg", serde_json::to_string(&ev).unwrap())],
        )
        .await
        .unwrap();
    call_id
}

/// The waveform of a recording: quiet then loud shows as low then high bars; the bar count
/// is bounded; other tenants and agents who did not handle the call get nothing; a file that
/// is not PCM WAV is a clear 400.
#[tokio::test]
async fn a_recordings_peaks_follow_its_loudness_per_tenant_and_permission() {
    let app = TestApp::spawn().await;
    let a = tenant(&app, "Peaks A").await;
    let b = tenant(&app, "Peaks B").await;
    let dir = tempdir();
    let call = publish_bytes(&app, &dir, a.info.tenant.id, &wav(500, 500)).await;
    let bad = publish_bytes(&app, &dir, a.info.tenant.id, b"not a wav at all").await;
    wait_list(&app, &a.admin, |p| p.total == 2).await;

    let url = format!("/api/v1/recordings/{call}/peaks?buckets=10");
    let p: RecordingPeaks = ok_json(a.admin.get(app.url(&url)).send().await).await;
    assert_eq!(p.duration_ms, 1000);
    assert_eq!(p.peaks.len(), 10);
    assert!(p.peaks[..5].iter().all(|&x| x < 0.01), "{:?}", p.peaks);
    assert!(
        p.peaks[5..].iter().all(|&x| (0.45..0.55).contains(&x)),
        "{:?}",
        p.peaks
    );
    let p: RecordingPeaks = ok_json(
        a.admin
            .get(app.url(&format!("/api/v1/recordings/{call}/peaks")))
            .send()
            .await,
    )
    .await;
    assert_eq!(p.peaks.len(), 200, "the default");

    for n in ["9", "2001"] {
        let p = problem(
            a.admin
                .get(app.url(&format!("/api/v1/recordings/{call}/peaks?buckets={n}")))
                .send()
                .await,
            422,
            "validation_failed",
        )
        .await;
        assert_eq!(field_names(&p), vec!["buckets"]);
    }
    problem(
        a.admin
            .get(app.url(&format!("/api/v1/recordings/{bad}/peaks")))
            .send()
            .await,
        400,
        "recording_format_unsupported",
    )
    .await;
    problem(b.admin.get(app.url(&url)).send().await, 404, "not_found").await;
    let (_, agent) = a.user(&app, "agent@peaks.test", "Agent").await;
    problem(agent.get(app.url(&url)).send().await, 403, "forbidden").await;
}
