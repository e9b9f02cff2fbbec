//! The agent desktop's call control beyond hold and blind transfer, end to end (issue 5): a
//! caller on a SIP phone (SIPp playing a 500 Hz tone) reaches agent Aysel in Chromium (her
//! microphone faked with a 1 kHz tone, softphone over WebRTC to the real gateway); her
//! colleague Bob's desk phone (a registered SIPp extension, playing 1.8 kHz) is the consulted
//! party — the desktop consults a number or a colleague's extension. Every party plays its own
//! tone, so each check names who is heard: in Aysel's browser (an analyser on the received
//! track) and in the gateway's recordings of the caller's and Bob's legs (right channel: what
//! that party heard), sliced at the moments the test clicked.
//!
//! 1. Keypad, consultation, transfer: Aysel presses 1 # 5 on the keypad (the caller's leg
//!    plays them in-band: the caller offered no telephone-event), consults Bob's extension and
//!    talks to him while the caller hears the hold music, then hands the caller over: caller
//!    and Bob hear each other, Aysel's desktop has no call; the caller hangs up; the CDRs of
//!    the call and of the consult leg are complete.
//! 2. Conference: the same start, then "conference all three": everyone hears the two others;
//!    Aysel leaves them talking: caller and Bob stay connected, without her.
//!
//! The two run one at a time (each needs the only WebRTC gateway: the backend gives a
//! softphone to any live gateway that serves WebRTC). Needs Chromium + chromedriver, SIPp,
//! sox, the gateway binary and a built `frontend/dist`.

mod common;

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use chrono::{DateTime, Utc};
use common::{
    acd_agent, answering_phone_playing, bridged, caller_playing, cdr, dial_in, eventually,
    finished, gateway, recording, tenant, workdir, Tenant, PASSWORD,
};
use fantoccini::Locator;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{fake_microphone_args, run_with, Browser};
use hotline_e2e::telephony::{best_tone_level, gateway_events, stereo_channels, tone_share};
use hotline_gateway::media::{g711::G711, pcap};
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;
use uuid::Uuid;

/// Aysel's microphone (`fake_microphone_args`).
const AGENT_HZ: f64 = 1000.0;
const CALLER_HZ: f64 = 500.0;
const BOB_HZ: f64 = 1800.0;
/// The gateway's hold music when no prompt file is installed: 440 Hz beeps.
const MOH_HZ: f64 = 440.0;
const CALLER: &str = "+15550003301";
const AYSEL: &str = "aysel@consult.test";
const BOB_EXT: &str = "2001";
/// How long the caller stays after the call is answered, then hangs up.
const CALL_MS: u32 = 35_000;

/// One test at a time in this binary (see the module comment).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

struct Desk {
    app: TestApp,
    t: Tenant,
    aysel: Uuid,
    work: PathBuf,
    gw: hotline_e2e::telephony::TestGateway,
    did: &'static str,
}

/// The tenant (queue "Water" on `did`, agents Aysel with a softphone and Bob with extension
/// 2001), the WebRTC gateway, the callers' tones.
async fn desk(company: &str, did: &'static str, slot: u16) -> Desk {
    let app = TestApp::spawn().await;
    let t = tenant(&app, company).await;
    t.queue_on_number(
        &app,
        json!({ "name": "Water", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    let aysel = t.agent(&app, AYSEL, "Aysel", None, &[]).await;
    t.agent(&app, "bob@consult.test", "Bob", Some(BOB_EXT), &[])
        .await;
    let work = workdir("consult");
    let gw = gateway(&app, &work, slot, true);
    for (name, hz) in [("caller", CALLER_HZ), ("bob", BOB_HZ)] {
        let tone = pcap::tone(hz as f32, CALL_MS as f32 / 1000.0 + 5.0, 8000.0);
        std::fs::write(tone_file(&work, name), pcap::rtp_pcap(G711::Pcma, &tone)).unwrap();
    }
    Desk {
        app,
        t,
        aysel,
        work,
        gw,
        did,
    }
}

fn tone_file(work: &Path, who: &str) -> PathBuf {
    work.join(format!("{who}-tone.pcap"))
}

/// When the test clicked what, to slice the recordings.
#[derive(Default)]
struct Marks {
    caller: Option<Child>,
    bob: Option<Child>,
    call: Option<Uuid>,
    answered: Option<DateTime<Utc>>,
    keys_sent: Option<DateTime<Utc>>,
    consulting: Option<(DateTime<Utc>, DateTime<Utc>)>,
    conference: Option<(DateTime<Utc>, DateTime<Utc>)>,
    handed_over: Option<DateTime<Utc>>,
}

impl Marks {
    /// Four seconds from one after Aysel handed the caller over (or left the conference).
    fn after_handover(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        let from = self.handed_over.unwrap() + chrono::Duration::seconds(1);
        (from, from + chrono::Duration::seconds(4))
    }
}

impl Desk {
    /// Aysel signs in and is ready; the caller dials and she answers on the desktop.
    async fn answer(&self, b: &Browser, m: &mut Marks) -> anyhow::Result<()> {
        b.agent_ready(&self.t.slug, AYSEL, PASSWORD).await?;
        let cust = self.work.join("customer");
        let steps = caller_playing(CALLER, &tone_file(&self.work, "caller"), 0, CALL_MS);
        m.caller = Some(dial_in(&cust, &steps, self.did, &self.gw.addr));
        b.wait_text("#incoming-caller", CALLER).await?;
        b.click("#call-accept").await?;
        b.wait("#in-call").await?;
        m.call = Some(bridged(&self.app, CALLER).await.0);
        m.answered = Some(Utc::now());
        hears(b, &[CALLER_HZ], &[BOB_HZ]).await
    }

    /// Bob's desk phone registers; Aysel consults his extension and talks to him while the
    /// caller holds.
    async fn consult_bob(&self, b: &Browser, m: &mut Marks) -> anyhow::Result<()> {
        let phone = answering_phone_playing(&tone_file(&self.work, "bob"));
        let dir = self.work.join("bob");
        m.bob = Some(
            self.t
                .sip_phone(&self.app, &self.gw.addr, &dir, BOB_EXT, &phone)
                .await,
        );
        b.fill("#consult-to", BOB_EXT).await?;
        b.click("#call-consult").await?;
        b.wait("#consult-state[data-state='talking']").await?;
        b.wait_text("#call-held", "On hold").await?;
        hears(b, &[BOB_HZ], &[CALLER_HZ]).await?;
        let from = Utc::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        m.consulting = Some((from, Utc::now()));
        Ok(())
    }

    /// Drives Aysel's desktop (Chromium with the 1 kHz microphone) through `steps`, then waits
    /// for the caller to hang up; gives what the steps marked, the caller's call and the
    /// consult leg.
    async fn drive<F>(&self, name: &str, steps: F) -> (Marks, Uuid, Uuid)
    where
        F: AsyncFnOnce(&Browser, &mut Marks) -> anyhow::Result<()>,
    {
        let mut m = Marks::default();
        let args = fake_microphone_args(&self.work);
        let mr = &mut m;
        run_with(name, &self.app.base_url, &args, async move |b| {
            steps(b, mr).await
        })
        .await;
        self.hang_up(&mut m).await;
        let call = m.call.unwrap();
        let bob_leg = self.bob_leg(call).await;
        (m, call, bob_leg)
    }

    /// The caller hangs up in the end; both SIPp parties must have finished cleanly.
    async fn hang_up(&self, m: &mut Marks) {
        let cust = self.work.join("customer");
        finished(m.caller.take().unwrap(), &cust, "caller").await;
        let bob = self.work.join("bob");
        finished(m.bob.take().unwrap(), &bob, "Bob's desk phone").await;
    }

    /// The stereo recording of a leg: its start and the channel of what that party heard.
    async fn heard(&self, leg: Uuid) -> (DateTime<Utc>, Vec<i16>) {
        let (path, started) = recording(&self.app, leg).await;
        (started, stereo_channels(&path).1)
    }

    /// The consult leg: the gateway's other recorded call.
    async fn bob_leg(&self, call: Uuid) -> Uuid {
        let r = self.app.state.redis();
        let stream = self.app.state.cfg.call_events_stream.clone();
        eventually(10, "the consult leg's recording", || {
            let (mut r, stream) = (r.clone(), stream.clone());
            async move {
                gateway_events(&mut r, &stream)
                    .await
                    .into_iter()
                    .find_map(|e| match e {
                        GatewayEvent::RecordingFinished { call_id, .. } if call_id != call => {
                            Some(call_id)
                        }
                        _ => None,
                    })
            }
        })
        .await
    }
}

/// The desktop has no call: the wrap-up form, no call controls.
async fn no_call(b: &Browser) -> anyhow::Result<()> {
    b.wait("#wrapup-form").await?;
    ensure!(
        b.client.find(Locator::Css("#in-call")).await.is_err(),
        "the desktop still shows a call"
    );
    Ok(())
}

/// Waits (up to 15 s) until Aysel's browser receives every tone of `want` — each within
/// 12 dB of the loudest sound — and none of `not` (each 30 dB or more below it).
async fn hears(b: &Browser, want: &[f64], not: &[f64]) -> anyhow::Result<()> {
    let freqs: Vec<f64> = want.iter().chain(not).copied().collect();
    let script = format!(
        r#"const pc = window.hotlineSoftphone;
           if (!pc) return null;
           if (!window.__spectrum) {{
             const ctx = new AudioContext();
             const src = ctx.createMediaStreamSource(new MediaStream([pc.getReceivers()[0].track]));
             const an = ctx.createAnalyser();
             an.fftSize = 4096;
             an.smoothingTimeConstant = 0.3;
             src.connect(an);
             const buf = new Float32Array(an.frequencyBinCount);
             window.__spectrum = (freqs) => {{
               an.getFloatFrequencyData(buf);
               const bin = ctx.sampleRate / an.fftSize;
               const at = f => {{ const i = Math.round(f / bin); return Math.max(buf[i - 1], buf[i], buf[i + 1]); }};
               return {{ loudest: Math.max(...buf), levels: freqs.map(at) }};
             }};
             ctx.resume();
           }}
           return window.__spectrum({freqs:?});"#
    );
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let v = b.js(&script).await?;
        let loudest = v["loudest"].as_f64().unwrap_or(f64::NEG_INFINITY);
        let levels: Vec<f64> = v["levels"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|x| x.as_f64().unwrap_or(f64::NEG_INFINITY))
                    .collect()
            })
            .unwrap_or_default();
        let ok = loudest > -80.0
            && levels.len() == freqs.len()
            && levels[..want.len()].iter().all(|l| *l > loudest - 12.0)
            && levels[want.len()..].iter().all(|l| *l < loudest - 30.0);
        if ok {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("the agent should hear {want:?} Hz and not {not:?} Hz; loudest {loudest:.0} dB, at {freqs:?}: {levels:.0?} dB");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The samples of a recording that started at `start` between `from` and `to`.
fn between(s: &[i16], start: DateTime<Utc>, from: DateTime<Utc>, to: DateTime<Utc>) -> &[i16] {
    let at = |t: DateTime<Utc>| ((t - start).num_milliseconds().max(0) as usize * 8).min(s.len());
    &s[at(from)..at(to)]
}

/// Asserts which tones a party heard in a slice of their recording: each of `want` at a level
/// (RMS) of 500 or more in some second — Aysel's tone arrives from the browser at about 1,200,
/// the SIP parties' at 5,600 — and none of `not` above 150 in any.
fn assert_heard(who: &str, s: &[i16], want: &[f64], not: &[f64]) {
    assert!(s.len() >= 8000, "{who}: less than a second of recording");
    for f in want {
        let got = best_tone_level(s, *f);
        assert!(got > 500.0, "{who} should hear {f} Hz: level {got:.0}");
    }
    for f in not {
        let got = best_tone_level(s, *f);
        assert!(got < 150.0, "{who} should not hear {f} Hz: level {got:.0}");
    }
}

/// The DTMF digits in `s` (8 kHz), from 40 ms windows every 20 ms: a window carries a digit
/// when its strongest row and column tones each hold a tenth of its energy.
fn dtmf_digits(s: &[i16]) -> String {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    const KEYS: [[char; 4]; 4] = [
        ['1', '2', '3', 'A'],
        ['4', '5', '6', 'B'],
        ['7', '8', '9', 'C'],
        ['*', '0', '#', 'D'],
    ];
    let strongest = |w: &[i16], fs: &[f64; 4]| {
        fs.iter()
            .map(|f| tone_share(w, *f))
            .enumerate()
            .fold(
                (0, 0.0),
                |best, (i, v)| if v > best.1 { (i, v) } else { best },
            )
    };
    let mut out = String::new();
    let mut last = None;
    for w in s.windows(320).step_by(160) {
        let ((r, rv), (c, cv)) = (strongest(w, &ROWS), strongest(w, &COLS));
        let key = (rv > 0.1 && cv > 0.1).then_some(KEYS[r][c]);
        if let (Some(k), true) = (key, key != last) {
            out.push(k);
        }
        last = key;
    }
    out
}

/// Every digit the gateway reports sent on `call`, in order.
async fn dtmf_sent(app: &TestApp, call: Uuid) -> String {
    let mut r = app.state.redis();
    gateway_events(&mut r, &app.state.cfg.call_events_stream)
        .await
        .into_iter()
        .filter_map(|e| match e {
            GatewayEvent::DtmfSent {
                call_id, digits, ..
            } if call_id == call => Some(digits),
            _ => None,
        })
        .collect()
}

/// The kinds of a CDR's timeline events.
fn kinds(c: &serde_json::Value) -> Vec<String> {
    c["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keypad_consultation_and_transfer_from_the_desktop() {
    let _one = ONE_AT_A_TIME.lock().await;
    let d = desk("Consult Water", "+994125559301", 0).await;
    let name = "keypad_consultation_and_transfer_from_the_desktop";
    let (m, call, bob_leg) = d
        .drive(name, async |b, m| {
            d.answer(b, m).await?;
            let call = m.call.unwrap();

            // The keypad: each key reaches the caller's leg.
            b.click("#call-keypad summary").await?;
            for (i, key) in ["1", "hash", "5"].into_iter().enumerate() {
                b.click(&format!("#key-{key}")).await?;
                let deadline = Instant::now() + Duration::from_secs(10);
                while dtmf_sent(&d.app, call).await.len() <= i {
                    ensure!(Instant::now() < deadline, "key {key} was never sent");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
            ensure!(dtmf_sent(&d.app, call).await == "1#5");
            tokio::time::sleep(Duration::from_millis(300)).await;
            m.keys_sent = Some(Utc::now());

            d.consult_bob(b, m).await?;
            b.click("#consult-transfer").await?;
            no_call(b).await?;
            m.handed_over = Some(Utc::now());
            // Aysel is free of the call (checked while her desktop is open: once the browser
            // closes, her softphone leg ends and a ready agent becomes not ready "Softphone
            // lost").
            let deadline = Instant::now() + Duration::from_secs(5);
            loop {
                let a = acd_agent(&d.app, d.t.id, d.aysel);
                if matches!(a.state.as_str(), "wrap_up" | "ready") {
                    break;
                }
                ensure!(
                    Instant::now() < deadline,
                    "Aysel is not free of the call: {a:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        })
        .await;
    let (consult_from, consult_to) = m.consulting.unwrap();
    let (handed, end) = m.after_handover();

    // The caller heard the digits, then hold music during the consultation, then Bob.
    let (start, heard) = d.heard(call).await;
    let keys = between(&heard, start, m.answered.unwrap(), m.keys_sent.unwrap());
    assert_eq!(dtmf_digits(keys), "1#5", "the digits the caller heard");
    let on_hold = between(&heard, start, consult_from, consult_to);
    assert_heard(
        "the caller on hold",
        on_hold,
        &[MOH_HZ],
        &[AGENT_HZ, BOB_HZ],
    );
    let with_bob = between(&heard, start, handed, end);
    assert_heard("the caller handed over", with_bob, &[BOB_HZ], &[AGENT_HZ]);
    // Bob heard Aysel while consulted, then the caller.
    let (start, bob_heard) = d.heard(bob_leg).await;
    let consulted = between(&bob_heard, start, consult_from, consult_to);
    assert_heard("Bob consulted", consulted, &[AGENT_HZ], &[CALLER_HZ]);
    let with_caller = between(&bob_heard, start, handed, end);
    assert_heard(
        "Bob with the caller",
        with_caller,
        &[CALLER_HZ],
        &[AGENT_HZ],
    );

    // The CDRs are complete.
    let c = cdr(&d.app, &d.t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["queue_name"], "Water", "{c:#}");
    let k = kinds(&c);
    for want in ["connected", "consult", "consult_transferred"] {
        assert!(k.iter().any(|x| x == want), "{want} missing from {k:?}");
    }
    let leg = cdr(&d.app, &d.t.admin, bob_leg).await;
    assert_eq!(leg["cdr"]["outcome"], "answered", "{leg:#}");
    let _ = std::fs::remove_dir_all(&d.work);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conference_from_the_desktop_then_the_agent_leaves_the_two_talking() {
    let _one = ONE_AT_A_TIME.lock().await;
    let d = desk("Conference Water", "+994125559302", 1).await;
    let name = "conference_from_the_desktop_then_the_agent_leaves_the_two_talking";
    let (m, call, bob_leg) = d
        .drive(name, async |b, m| {
            d.answer(b, m).await?;
            d.consult_bob(b, m).await?;
            b.click("#consult-conference").await?;
            b.wait("#consult-state[data-state='conference']").await?;
            // The caller is no longer on hold: the desktop must not say so.
            let deadline = Instant::now() + Duration::from_secs(10);
            while b.client.find(Locator::Css("#call-held")).await.is_ok() {
                ensure!(
                    Instant::now() < deadline,
                    "the desktop still says the caller is on hold in the conference"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            hears(b, &[CALLER_HZ, BOB_HZ], &[]).await?;
            let from = Utc::now();
            tokio::time::sleep(Duration::from_secs(3)).await;
            m.conference = Some((from, Utc::now()));
            b.click("#consult-leave").await?;
            no_call(b).await?;
            m.handed_over = Some(Utc::now());
            Ok(())
        })
        .await;
    let (conf_from, conf_to) = m.conference.unwrap();
    let (left, end) = m.after_handover();

    // In the conference each heard both others; after Aysel left, caller and Bob each other.
    let (start, heard) = d.heard(call).await;
    let conf = between(&heard, start, conf_from, conf_to);
    assert_heard(
        "the caller in the conference",
        conf,
        &[AGENT_HZ, BOB_HZ],
        &[MOH_HZ],
    );
    let after = between(&heard, start, left, end);
    assert_heard("the caller after", after, &[BOB_HZ], &[AGENT_HZ]);
    let (start, bob_heard) = d.heard(bob_leg).await;
    let conf = between(&bob_heard, start, conf_from, conf_to);
    assert_heard("Bob in the conference", conf, &[AGENT_HZ, CALLER_HZ], &[]);
    let after = between(&bob_heard, start, left, end);
    assert_heard("Bob after", after, &[CALLER_HZ], &[AGENT_HZ]);

    let c = cdr(&d.app, &d.t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    let k = kinds(&c);
    for want in ["consult", "conference", "consult_transferred"] {
        assert!(k.iter().any(|x| x == want), "{want} missing from {k:?}");
    }
    let _ = std::fs::remove_dir_all(&d.work);
}
