//! The call log in the browser (issue 18). Two calls reach the backend the way a gateway
//! reports them — its events on the tenant's shard of the call-events stream, handled by the
//! backend's own consumer, IVR and ACD: one from +15550001111 enters the "Billing" queue,
//! waits with no agent and hangs up (abandoned), and its recording (a WAV written where a
//! gateway writes it: half silence, half tone) is indexed; one from +15550002222 is rejected
//! (busy). The admin opens "Call log" from the navigation: both calls are listed with their
//! queue, outcome and formatted duration; the number filter and then the outcome filter
//! narrow the list to the first call; its page shows the queue by name, the timeline in words
//! (entered the queue, hung up while waiting with the time waited, call ended) and the player:
//! a waveform with quiet then loud bars, a speed choice that changes the audio's playback
//! rate, a download link, and audio that plays. On "Missed calls" the abandoned caller is
//! listed with reason and queue; "Mark handled" takes it off the open list and the handled
//! list names the admin. An agent has no "Call log" and is turned away from `/calls`.
//!
//! Needs Chromium + chromedriver and a built `frontend/dist`; Postgres and Redis as for the
//! backend's tests. Failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::ensure;
use common::{eventually, ok, tenant, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{run, Browser};
use hotline_wire::gateway::{event_stream_for, FlowMode, GatewayEvent, HangupCause, STREAM_FIELD};
use redis::AsyncCommands;
use serde_json::{json, Value};
use uuid::Uuid;

const DID: &str = "+994125559801";
const RECORDED: &str = "+15550001111";
const REJECTED: &str = "+15550002222";

/// Publishes `ev` where a gateway would: the tenant's shard of the call-events stream.
async fn event(app: &TestApp, ev: &GatewayEvent) {
    let mut r = app.state.redis();
    let _: String = r
        .xadd(
            event_stream_for(&app.state.cfg.call_events_stream, ev),
            "*",
            &[(STREAM_FIELD, serde_json::to_string(ev).unwrap())],
        )
        .await
        .unwrap();
}

/// The call's record, once the backend has written it.
async fn cdr(app: &TestApp, admin: &reqwest::Client, call: Uuid) -> Value {
    let r = admin
        .get(app.url(&format!("/api/v1/calls/{call}")))
        .send()
        .await
        .unwrap();
    if r.status() == 404 {
        return Value::Null;
    }
    ok(r).await
}

/// 16-bit stereo PCM at 8 kHz: `quiet_ms` of silence, then `loud_ms` of a 440 Hz tone.
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

async fn sign_in(b: &Browser, slug: &str, email: &str, lands_on: &str) -> anyhow::Result<()> {
    b.open("/login").await?;
    b.fill("#tenant", slug).await?;
    b.fill("#email", email).await?;
    b.fill("#password", PASSWORD).await?;
    b.click("#login-submit").await?;
    b.wait_path(lands_on).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_log_filters_opens_a_call_and_plays_its_recording() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Call Log Water").await;
    let tid = t.id;
    // "Billing" behind the default flow: straight into the queue.
    t.post(
        &app,
        "/api/v1/queues",
        json!({ "name": "Billing", "strategy": "longest_idle", "max_wait_seconds": 0,
                "wrap_up_seconds": 0 }),
    )
    .await;
    let flow = t
        .post(
            &app,
            "/api/v1/ivr/flows",
            json!({ "name": "Main", "is_default": true, "graph": {
                "start": "q", "nodes": { "q": { "type": "queue", "queue": "Billing" } }
            }}),
        )
        .await;
    t.post(
        &app,
        &format!("/api/v1/ivr/flows/{}/publish", flow["id"].as_str().unwrap()),
        json!({ "version": 1 }),
    )
    .await;
    t.agent(&app, "ann@calllog.test", "Ann", None, &[]).await;

    let gw = format!("gw-calllog-{}", Uuid::new_v4().simple());
    let started = |call_id: Uuid, caller: &str| GatewayEvent::CallStarted {
        gateway_id: gw.clone(),
        call_id,
        tenant_id: tid,
        caller: caller.into(),
        did: DID.into(),
        sip_call_id: format!("calllog-{call_id}"),
        mode: FlowMode::Backend,
        at: chrono::Utc::now(),
    };
    let hangup = |call_id: Uuid| GatewayEvent::Hangup {
        call_id,
        tenant_id: tid,
        cause: HangupCause::CallerBye,
        status: None,
        at: chrono::Utc::now(),
    };

    // The recorded call: answered by the flow, queued, abandoned.
    let recorded = Uuid::new_v4();
    event(&app, &started(recorded, RECORDED)).await;
    event(
        &app,
        &GatewayEvent::CallAnswered {
            call_id: recorded,
            tenant_id: tid,
            at: chrono::Utc::now(),
        },
    )
    .await;
    eventually(20, "the call is queued", || async {
        let c = cdr(&app, &t.admin, recorded).await;
        (c["cdr"]["queue_name"] == "Billing").then_some(())
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1_200)).await;
    event(&app, &hangup(recorded)).await;
    let dir = std::env::temp_dir().join(format!("hotline-calllog-{}", Uuid::new_v4().simple()));
    let path = dir.join(tid.to_string()).join(format!("{recorded}.wav"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let bytes = wav(1_000, 1_000);
    std::fs::write(&path, &bytes).unwrap();
    event(
        &app,
        &GatewayEvent::RecordingFinished {
            call_id: recorded,
            tenant_id: tid,
            started_at: chrono::Utc::now(),
            duration_ms: 2_000,
            path: path.display().to_string(),
            size_bytes: bytes.len() as u64,
        },
    )
    .await;
    // The other call is rejected (the gateway refused it with a busy answer).
    let rejected = Uuid::new_v4();
    event(&app, &started(rejected, REJECTED)).await;
    event(
        &app,
        &GatewayEvent::Hangup {
            call_id: rejected,
            tenant_id: tid,
            cause: HangupCause::Rejected,
            status: Some(486),
            at: chrono::Utc::now(),
        },
    )
    .await;
    eventually(20, "both calls ended, the first recorded", || async {
        let a = cdr(&app, &t.admin, recorded).await;
        let b = cdr(&app, &t.admin, rejected).await;
        (a["cdr"]["outcome"] == "abandoned"
            && a["cdr"]["recording_url"].is_string()
            && b["cdr"]["outcome"].is_string())
        .then_some(())
    })
    .await;

    let slug = t.slug.clone();
    run("browser_call_log", &app.base_url, async |b| {
        let admin_email = "admin@call-log-water.test";
        sign_in(b, &slug, admin_email, "/").await?;
        b.click("a[href='/calls']").await?;
        let row = format!("#call-log-table tr.call-row[data-caller='{RECORDED}']");
        b.wait_text(&format!("{row} .call-queue"), "Billing").await?;
        b.wait_text(&format!("{row} .call-outcome"), "Abandoned")
            .await?;
        let dur = b.wait_text(&format!("{row} .call-duration"), ":").await?;
        ensure!(dur.starts_with("0:0"), "duration shown as m:ss, got {dur:?}");
        b.wait(&format!("#call-log-table tr.call-row[data-caller='{REJECTED}']"))
            .await?;

        // The number filter narrows the list to the call.
        b.fill("#call-log-number", "1111").await?;
        b.click("#call-log-apply").await?;
        b.wait_text_without("#call-log-table", REJECTED).await?;
        b.wait_text("#call-log-table", RECORDED).await?;
        // So does the outcome filter, on its own.
        b.click("#call-log-clear").await?;
        b.wait_text("#call-log-table", REJECTED).await?;
        b.choose("#call-log-outcome", "Abandoned").await?;
        b.click("#call-log-apply").await?;
        b.wait_text_without("#call-log-table", REJECTED).await?;
        // Nothing answered: the empty list says so.
        b.choose("#call-log-outcome", "Answered").await?;
        b.click("#call-log-apply").await?;
        b.wait("#call-log-empty").await?;
        b.choose("#call-log-outcome", "Abandoned").await?;
        b.click("#call-log-apply").await?;

        // The call's page: summary, timeline in words, player.
        b.click(&format!("{row} a.call-open")).await?;
        b.wait_path(&format!("/calls/{recorded}")).await?;
        let summary = b.wait_text("#call-summary", "Billing").await?;
        ensure!(summary.contains(RECORDED) && summary.contains("Abandoned"), "{summary}");
        let timeline = b.wait_text("#call-timeline", "Entered the queue").await?;
        for words in ["Billing", "Caller hung up while waiting", "waited 0:0", "Call ended", "the caller hung up"] {
            ensure!(timeline.contains(words), "timeline lacks {words:?}: {timeline}");
        }
        ensure!(
            !timeline.contains(&tid.to_string()[..8]),
            "no raw ids in the timeline: {timeline}"
        );
        b.wait("#call-waveform rect.bar").await?;
        let bars = b
            .js(r#"return [...document.querySelectorAll('#call-waveform rect.bar')]
                     .map(r => parseFloat(r.getAttribute('height')));"#)
            .await?;
        let bars: Vec<f64> = bars
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap_or(0.0))
            .collect();
        ensure!(bars.len() == 160, "{} bars", bars.len());
        let (quiet, loud) = bars.split_at(80);
        ensure!(
            quiet.iter().take(70).all(|h| *h <= 1.0) && loud.iter().skip(10).all(|h| *h > 30.0),
            "quiet then loud: {bars:?}"
        );
        // Speed: the choice changes how fast the audio plays.
        b.choose("#call-speed", "1.5").await?;
        let rate = b
            .js("return document.querySelector('#call-audio').playbackRate;")
            .await?;
        ensure!(rate.as_f64() == Some(1.5), "playback rate {rate}");
        let options = b
            .js("return [...document.querySelectorAll('#call-speed option')].map(o => o.value);")
            .await?;
        ensure!(
            options == json!(["0.75", "1", "1.25", "1.5", "2"]),
            "speeds {options}"
        );
        // Download: a link to the recording's file.
        let dl = b
            .js("const a = document.querySelector('#call-download'); return [a.getAttribute('href'), a.getAttribute('download')];")
            .await?;
        ensure!(
            dl[0] == format!("/api/v1/recordings/{recorded}/audio").as_str()
                && dl[1].as_str().is_some_and(|n| n.ends_with(".wav")),
            "download link {dl}"
        );
        // It plays.
        let played = b
            .js(r#"return (async () => {
                     const a = document.querySelector('#call-audio');
                     a.muted = true;
                     await a.play();
                     await new Promise(r => setTimeout(r, 600));
                     return [a.duration, a.currentTime];
                   })();"#)
            .await?;
        let (duration, at) = (
            played[0].as_f64().unwrap_or(0.0),
            played[1].as_f64().unwrap_or(0.0),
        );
        ensure!(duration > 1.9 && at > 0.0, "not played: duration {duration}, at {at}");
        b.click("a[href='/calls']").await?;
        b.wait_path("/calls").await?;

        // Missed calls: the abandoned caller is on the supervisors' list with its queue;
        // marked handled it leaves the open list and shows who handled it.
        b.click("a[href='/supervisor/missed-calls']").await?;
        let missed = format!("#missed-admin-table tr.missed-row[data-number='{RECORDED}']");
        b.wait_text(&format!("{missed} .missed-reason"), "Hung up waiting")
            .await?;
        b.wait_text(&format!("{missed} .missed-queue"), "Billing")
            .await?;
        b.click(&format!("{missed} .missed-mark-handled")).await?;
        b.wait_text("#missed-admin-notice", RECORDED).await?;
        let left = b
            .js(&format!(
                r#"return new Promise(r => {{ const t0 = Date.now(); const f = () => {{
                     const n = document.querySelectorAll("{missed}").length;
                     if (n === 0 || Date.now() - t0 > 10000) r(n); else setTimeout(f, 100); }}; f(); }});"#
            ))
            .await?;
        ensure!(left == json!(0), "the handled entry left the open list");
        b.choose("#missed-admin-status", "Handled").await?;
        b.click("#missed-admin-apply").await?;
        b.wait_text(&format!("{missed} .missed-handled-by"), "Handled by Call Log Water Admin")
            .await?;

        // An agent has no call log and is turned away from it.
        b.click("#logout").await?;
        sign_in(b, &slug, "ann@calllog.test", "/agent").await?;
        let nav = b
            .js("return document.querySelectorAll(\"a[href='/calls']\").length;")
            .await?;
        ensure!(nav == json!(0), "an agent sees no call log link");
        b.open("/calls").await?;
        b.wait_path("/agent").await?;
        Ok(())
    })
    .await;
    let _ = std::fs::remove_dir_all(&dir);
}
