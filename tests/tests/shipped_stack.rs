//! The README, tested as written: `infra/run.sh` — the README's first command — is started
//! exactly as a user starts it, with nothing but variables the README documents (its own
//! Postgres database, its own Redis database, free ports), and the demo it seeds takes the
//! product's main job end to end:
//!
//! - a caller who gives up in the queue leaves a missed call;
//! - agent Aysel (`agent1@demo.hotline.test`) logs in to the web app in Chromium (microphone
//!   faked with a 1 kHz tone), her softphone connects to the stack's gateway, she goes Ready;
//! - the demo customer (+994501234567, SIPp sending a 500 Hz tone) calls the demo number
//!   +994125550100 and presses 1 (billing);
//! - the desktop rings with the customer's card; she answers; audio flows both ways;
//! - the caller hears the agent at the level her browser sends (its `getStats` media-source
//!   energy against the caller's side of the recording, within 3 dB);
//! - on hold the caller hears the demo's music on hold (music: several notes, not a tone)
//!   and the agent hears nothing from the caller from the moment her desktop says "held";
//! - she files a ticket from the call, hangs up, wraps up; the call is in her history with
//!   its recording, in the queue "Billing";
//! - she calls the missed caller back: the call goes out through the demo trunk and reaches
//!   the stand-in carrier, whose recorded voice she hears.
//!
//! Needs what `infra/test.sh` installs and builds: Chromium + chromedriver, SIPp, sox,
//! espeak-ng, the built binaries and SPA.

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure};
use chrono::{DateTime, Utc};
use hotline_e2e::browser::{artifacts_dir, fake_microphone_args, repo_root, run_with, Browser};
use hotline_e2e::telephony::{free_port, rms, scenario, stereo_channels, tone_share, wait_ok};
use hotline_gateway::media::{g711::G711, pcap};
use serde_json::{json, Value};

const DID: &str = "+994125550100";
const CUSTOMER: &str = "+994501234567";
const CUSTOMER_NAME: &str = "Rashad Mammadov";
const IMPATIENT: &str = "+994551112233";
const TENANT: &str = "demo";
const AGENT: &str = "agent1@demo.hotline.test";
const ADMIN: &str = "admin@demo.hotline.test";
const PASSWORD: &str = "hotline-demo-1";
/// The Redis database the stack under test uses (the README's `REDIS_URL`), emptied first.
const REDIS_DB: u32 = 13;

/// The stack started by `infra/run.sh`, in its own process group: stopped (the script's own
/// Ctrl-C path, SIGINT to the group) when dropped.
struct Stack {
    child: Child,
    log: PathBuf,
}

impl Stack {
    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log[log.len().saturating_sub(8000)..].to_string()
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-INT", "--", &group]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.child.wait();
    }
}

/// A caller: dials the demo number from `from`, presses 1 after the greeting, then either
/// plays `tone` until the other side hangs up, or (no tone) gives up after 6 s in the queue.
fn caller_scenario(from: &str, tone: Option<&Path>) -> String {
    let talk = match tone {
        Some(t) => format!(
            r#"  <pause milliseconds="1500"/>
  <nop><action><exec play_pcap_audio="{}"/></action></nop>
  <recv request="BYE"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
"#,
            t.display()
        ),
        None => r#"  <pause milliseconds="6000"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:FROM@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
"#
        .replace("FROM", from),
    };
    scenario(&format!(
        r#"  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8 101
      a=rtpmap:8 PCMA/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-15
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{from}@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="3000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>
{talk}"#
    ))
}

/// Starts SIPp as one caller to the stack's gateway.
fn start_caller(dir: &Path, name: &str, xml: &str, gateway: &str) -> Child {
    std::fs::create_dir_all(dir).unwrap();
    let sf = dir.join(format!("{name}.xml"));
    std::fs::write(&sf, xml).unwrap();
    Command::new("sipp")
        .current_dir(dir)
        .arg("-sf")
        .arg(&sf)
        .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-m", "1", "-nostdin"])
        .args([
            "-timeout",
            "240s",
            "-timeout_error",
            "-trace_err",
            "-trace_msg",
        ])
        .args(["-s", DID, "-mp", &free_port().to_string(), gateway])
        .stdout(Stdio::null())
        // A file, not a pipe: see `telephony::sipp`.
        .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap())
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed")
}

/// Whether a slice of 8 kHz audio is music rather than a tone or silence: loud enough, no
/// single frequency holding most of its energy (a tone's share is near 1 in every second),
/// and at least three distinct notes present. Shares are averaged over one-second windows,
/// on a 1 Hz grid from 80 to 1,200 Hz.
fn music_report(s: &[i16]) -> (bool, String) {
    let level = rms(s);
    let windows: Vec<&[i16]> = s.chunks_exact(8000).collect();
    let share = |freq: f64| {
        windows.iter().map(|w| tone_share(w, freq)).sum::<f64>() / windows.len().max(1) as f64
    };
    let spectrum: Vec<(f64, f64)> = (80..1200).map(|f| (f as f64, share(f as f64))).collect();
    let strongest = spectrum
        .iter()
        .copied()
        .fold((0.0, 0.0), |a, b| if b.1 > a.1 { b } else { a });
    // Notes: local peaks holding 2 % of the energy or more, 25 Hz or more apart.
    let mut notes: Vec<f64> = Vec::new();
    for i in 1..spectrum.len() - 1 {
        let (f, x) = spectrum[i];
        if x >= 0.02
            && x >= spectrum[i - 1].1
            && x >= spectrum[i + 1].1
            && notes.last().is_none_or(|n| f - n >= 25.0)
        {
            notes.push(f);
        }
    }
    let music = level > 300.0 && strongest.1 < 0.5 && notes.len() >= 3;
    (
        music,
        format!(
            "RMS {level:.0}, strongest {:.0} Hz with {:.2} of the energy, notes at {notes:?} Hz",
            strongest.0, strongest.1
        ),
    )
}

/// The level the browser's softphone has sent so far: total energy and duration of its
/// microphone's media source (WebRTC stats).
async fn sent_energy(b: &Browser) -> anyhow::Result<(f64, f64)> {
    let v = b
        .js(r#"return window.hotlineSoftphone.getStats().then(r => {
                 let e = 0, d = 0;
                 r.forEach(s => { if (s.type === 'media-source' && s.kind === 'audio') {
                   e = s.totalAudioEnergy || 0; d = s.totalSamplesDuration || 0; } });
                 return [e, d];
               });"#)
        .await?;
    Ok((v[0].as_f64().unwrap_or(0.0), v[1].as_f64().unwrap_or(0.0)))
}

/// The level as WebRTC's statistics measure it (`totalAudioEnergy`): each 10 ms frame's peak
/// over full scale, squared, averaged over time, square-rooted. (Not the RMS: for a sine it
/// reads 3 dB higher.)
fn frame_peak_level(s: &[i16]) -> f64 {
    let frames: Vec<f64> = s
        .chunks_exact(80)
        .map(|f| f.iter().map(|x| (*x as f64).abs()).fold(0.0, f64::max) / 32767.0)
        .collect();
    (frames.iter().map(|p| p * p).sum::<f64>() / frames.len().max(1) as f64).sqrt()
}

fn at(v: &Value) -> DateTime<Utc> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("not a time: {v}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_readme_stack_takes_a_call_from_a_sip_phone_to_an_agent_in_the_browser() {
    let root = repo_root();
    let work = std::env::temp_dir().join(format!("hotline-shipped-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();

    // Its own Postgres database and Redis database, as a user would configure them.
    let database = hotline_backend::testkit::create_database().await.unwrap();
    let database_url = hotline_backend::testkit::database_url(&database);
    let redis_url = format!("redis://127.0.0.1:6379/{REDIS_DB}");
    let redis = redis::Client::open(redis_url.as_str()).unwrap();
    let mut r = redis.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("FLUSHDB").query_async(&mut r).await.unwrap();
    let (http, sip, carrier) = (free_port(), free_port(), free_port());
    // The gateway's WebRTC listener stays where `infra/run-gateway.sh` puts it (5081), so this
    // test fails if the script ever starts the gateway without one.
    assert!(
        std::net::TcpListener::bind("127.0.0.1:5081").is_ok(),
        "port 5081 (the demo gateway's WebRTC listener) is taken: stop the running stack"
    );
    let base_url = format!("http://127.0.0.1:{http}");
    let gateway = format!("127.0.0.1:{sip}");

    // The README's first command, as written, in a clean environment.
    let log = work.join("run.log");
    let mut cmd = Command::new(root.join("infra/run.sh"));
    cmd.current_dir(&root).env_clear();
    for keep in [
        "PATH",
        "HOME",
        "USER",
        "LANG",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "CARGO_TARGET_DIR",
    ] {
        if let Some(v) = std::env::var_os(keep) {
            cmd.env(keep, v);
        }
    }
    cmd.env("DATABASE_URL", &database_url)
        .env("REDIS_URL", &redis_url)
        .env("HOTLINE_HTTP_ADDR", format!("127.0.0.1:{http}"))
        .env("HOTLINE_GW_SIP_ADDR", &gateway)
        .env("HOTLINE_DEMO_CARRIER_ADDR", format!("127.0.0.1:{carrier}"))
        .stdin(Stdio::null())
        .process_group(0);
    // stdout and stderr share one file.
    let file = std::fs::File::create(&log).unwrap();
    cmd.stdout(file.try_clone().unwrap()).stderr(file);
    let mut stack = Stack {
        child: cmd.spawn().expect("infra/run.sh"),
        log: log.clone(),
    };

    // Up: the API answers (the first run may build), then within a minute the gateway has
    // announced itself with its WebRTC listener.
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(900);
    loop {
        if let Ok(Some(status)) = stack.child.try_wait() {
            panic!("infra/run.sh exited ({status}):\n{}", stack.log_tail());
        }
        let api_up = client
            .get(format!("{base_url}/readyz"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if api_up {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the API did not come up:\n{}",
            stack.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let gateways: Vec<String> = redis::cmd("SMEMBERS")
            .arg("platform:gateways")
            .query_async(&mut r)
            .await
            .unwrap_or_default();
        let mut webrtc = Vec::new();
        for g in &gateways {
            let http: Option<String> = redis::cmd("HGET")
                .arg(hotline_wire::gateway::gateway_key(g))
                .arg("http")
                .query_async(&mut r)
                .await
                .unwrap_or(None);
            webrtc.push(http.unwrap_or_default());
        }
        if webrtc.iter().any(|h| !h.is_empty()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no gateway with a WebRTC listener for the agents' softphones (gateways {gateways:?}, \
             listeners {webrtc:?}):\n{}",
            stack.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    // It printed every demo login, the supervisor's included.
    let printed = std::fs::read_to_string(&log).unwrap();
    for login in [
        ADMIN,
        "supervisor@demo.hotline.test",
        AGENT,
        "agent2@demo.hotline.test",
        "ops@hotline.test",
        PASSWORD,
    ] {
        assert!(printed.contains(login), "{login} not printed:\n{printed}");
    }

    // A caller gives up in the queue before anyone is ready: a missed call to ring back.
    let impatient_dir = work.join("impatient");
    let impatient = start_caller(
        &impatient_dir,
        "impatient",
        &caller_scenario(IMPATIENT, None),
        &gateway,
    );
    let d = impatient_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(impatient, &d, "the impatient caller"))
        .await
        .unwrap();

    // The customer's phone sends a 500 Hz tone once the call is answered.
    let tone = work.join("customer-tone.pcap");
    std::fs::write(
        &tone,
        pcap::rtp_pcap(G711::Pcma, &pcap::tone(500.0, 200.0, 8000.0)),
    )
    .unwrap();
    let customer_dir = work.join("customer");
    let customer = std::sync::Arc::new(std::sync::Mutex::new(None));
    let (customer2, customer_dir2, gateway2) =
        (customer.clone(), customer_dir.clone(), gateway.clone());
    let talk_level = std::sync::Arc::new(std::sync::Mutex::new(0.0f64));
    let talk_level2 = talk_level.clone();
    let carrier_log = root.join(".local/carrier/carrier_messages.log");
    let carrier_log2 = carrier_log.clone();
    let screens = artifacts_dir().join("screens");

    run_with(
        "the_readme_stack_takes_a_call",
        &base_url,
        &fake_microphone_args(&work),
        async move |b| {
            // The demo agent: softphone connected, Ready.
            b.agent_ready(TENANT, AGENT, PASSWORD).await?;

            // The customer calls the demo number and presses 1: the desktop rings with the
            // customer's card.
            *customer2.lock().unwrap() = Some(start_caller(
                &customer_dir2,
                "customer",
                &caller_scenario(CUSTOMER, Some(&tone)),
                &gateway2,
            ));
            b.wait_text("#incoming-caller", CUSTOMER).await?;
            let deadline = Instant::now() + Duration::from_secs(15);
            while b.value("#cust-name").await.unwrap_or_default() != CUSTOMER_NAME {
                ensure!(
                    Instant::now() < deadline,
                    "no screen pop of {CUSTOMER_NAME}'s card"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            b.screenshot(&screens.join("demo-ringing.png")).await?;
            b.click("#call-accept").await?;
            b.wait("#in-call").await?;

            // Audio both ways: the agent hears the caller (an analyser on the received track),
            // and the page really plays it out: WebRTC counts the energy of what it plays
            // (zero while the `<audio>` element is silent, e.g. autoplay blocked).
            b.hears_caller().await?;
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let played = b
                    .js(r#"return window.hotlineSoftphone.getStats().then(r => {
                             let e = 0; r.forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio') e += s.totalAudioEnergy || 0; });
                             return e; });"#)
                    .await?
                    .as_f64()
                    .unwrap_or(0.0);
                if played > 0.0 {
                    break;
                }
                if Instant::now() >= deadline {
                    let el = b
                        .js(r#"const a = document.getElementById('softphone-audio');
                               return navigator.mediaDevices.enumerateDevices().then(d => JSON.stringify({
                                 paused: a.paused, t: a.currentTime, ready: a.readyState, muted: a.muted,
                                 volume: a.volume, src: !!a.srcObject, sink: a.sinkId,
                                 outputs: d.filter(x => x.kind === 'audiooutput').map(x => x.label || x.deviceId) }));"#)
                        .await?;
                    anyhow::bail!(
                        "the softphone does not play the caller out (inbound totalAudioEnergy 0): {el}"
                    );
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            // From now on the page samples what the agent hears every 20 ms, with whether the
            // desktop says "held" at that moment.
            // (Its own analyser with a 256-sample window, about 5 ms, so a level is what was
            // heard just then, not over the last 43 ms as `hears_caller`'s.)
            b.js(r#"const pc = window.hotlineSoftphone;
                    const ctx = new AudioContext();
                    const src = ctx.createMediaStreamSource(new MediaStream([pc.getReceivers()[0].track]));
                    const an = ctx.createAnalyser();
                    an.fftSize = 256;
                    src.connect(an);
                    ctx.resume();
                    const buf = new Float32Array(256);
                    const level = () => { an.getFloatTimeDomainData(buf); let s = 0; for (const x of buf) s += x * x; return Math.sqrt(s / buf.length); };
                    window.__heard = [];
                    window.__sampler = setInterval(() => window.__heard.push(
                      [level(), !!document.querySelector('#call-held')]), 10);
                    return true;"#)
                .await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
            let (e0, d0) = sent_energy(b).await?;
            tokio::time::sleep(Duration::from_secs(6)).await;
            let (e1, d1) = sent_energy(b).await?;
            ensure!(d1 > d0 + 4.0, "the softphone sent no audio ({d0} s → {d1} s)");
            *talk_level2.lock().unwrap() = ((e1 - e0) / (d1 - d0)).sqrt();
            b.screenshot(&screens.join("demo-call.png")).await?;

            // Hold: from the moment the desktop says so, the agent hears nothing of the
            // caller (who hears music meanwhile).
            b.click("#call-hold").await?;
            b.wait("#call-held").await?;
            tokio::time::sleep(Duration::from_secs(6)).await;
            b.click("#call-hold").await?;
            b.wait_text("#call-hold", "Hold").await?;
            let heard = b
                .js("clearInterval(window.__sampler); return window.__heard;")
                .await?;
            let heard: Vec<(f64, bool)> = heard
                .as_array()
                .unwrap()
                .iter()
                .map(|s| (s[0].as_f64().unwrap_or(0.0), s[1].as_bool().unwrap_or(false)))
                .collect();
            let first_held = heard
                .iter()
                .position(|(_, h)| *h)
                .ok_or_else(|| anyhow::anyhow!("the sampler never saw the desktop say held"))?;
            let talking: Vec<f64> = heard[..first_held].iter().map(|(l, _)| *l).collect();
            let caller_level = talking.iter().copied().fold(0.0, f64::max);
            eprintln!(
                "heard: caller {caller_level:.3} before hold; first held samples {:?}",
                &heard[first_held..(first_held + 5).min(heard.len())]
            );
            ensure!(
                caller_level > 0.01,
                "the agent did not hear the caller before the hold ({caller_level})"
            );
            let on_hold: Vec<f64> = heard[first_held..]
                .iter()
                .take_while(|(_, h)| *h)
                .map(|(l, _)| *l)
                .collect();
            ensure!(on_hold.len() > 200, "held for {} samples only", on_hold.len());
            let loudest = on_hold.iter().copied().fold(0.0, f64::max);
            ensure!(
                loudest < 0.005,
                "the agent heard the caller while the desktop said held: level {loudest:.4} \
                 (caller's level before: {caller_level:.4}; first held samples {:?})",
                &on_hold[..on_hold.len().min(10)]
            );

            // A ticket from the call, in the same window.
            b.choose("#interaction-category", "Payment").await?;
            b.fill("#interaction-notes", "Asked about the last bill")
                .await?;
            b.fill("#new-ticket-subject", "Bill looks too high").await?;
            b.click("#new-ticket-create").await?;
            b.wait_text("#ticket-created", "created").await?;
            b.screenshot(&screens.join("demo-ticket.png")).await?;

            // Hang up and wrap up; the call is in her history with its recording.
            b.click("#call-hangup").await?;
            b.wait("#wrapup-form").await?;
            b.choose("#wrapup-disposition", "Resolved").await?;
            b.click("#wrapup-save").await?;
            b.wait_text("#softphone-note", "saved").await?;
            b.wait_text("#call-history li[data-outcome='answered']", CUSTOMER)
                .await?;
            b.wait("#call-history li[data-outcome='answered'] audio[src*='/recordings/']")
                .await?;

            // The missed caller, called back: out through the demo trunk to the stand-in
            // carrier, whose recorded voice the agent hears.
            let back = format!("#missed-calls li[data-number='{IMPATIENT}'] .missed-callback");
            b.click(&back).await?;
            b.wait_text("#missed-calling", IMPATIENT).await?;
            b.wait("#in-call").await?;
            b.hears_caller().await?;
            let log = std::fs::read_to_string(&carrier_log2).unwrap_or_default();
            ensure!(
                log.contains(&format!("INVITE sip:{IMPATIENT}@")),
                "the stand-in carrier got no INVITE for {IMPATIENT}: {}",
                &log[log.len().saturating_sub(3000)..]
            );
            b.click("#call-hangup").await?;
            b.wait("#wrapup-form").await?;
            Ok(())
        },
    )
    .await;
    let child = customer
        .lock()
        .unwrap()
        .take()
        .expect("the customer called");
    let d = customer_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(child, &d, "the customer"))
        .await
        .unwrap();

    // The call as the admin sees it: answered in the Billing queue, held once, recorded.
    let login = client
        .post(format!("{base_url}/api/v1/auth/login"))
        .json(&json!({ "tenant": TENANT, "email": ADMIN, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert!(
        login.status().is_success(),
        "admin login: {}",
        login.status()
    );
    let mut detail = Value::Null;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let calls: Value = client
            .get(format!("{base_url}/api/v1/calls?direction=inbound"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = calls["items"]
            .as_array()
            .or(calls.as_array())
            .and_then(|l| l.iter().find(|c| c["caller"] == CUSTOMER))
            .map(|c| c["call_id"].as_str().unwrap().to_string());
        if let Some(id) = id {
            detail = client
                .get(format!("{base_url}/api/v1/calls/{id}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if !detail["cdr"]["recording_url"].is_null() && !detail["cdr"]["ended_at"].is_null() {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no finished, recorded call from {CUSTOMER}: {detail:#}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let c = &detail["cdr"];
    assert_eq!(c["outcome"], "answered", "{detail:#}");
    assert_eq!(c["queue_name"], "Billing", "{detail:#}");
    assert_eq!(c["agent_name"], "Aysel Agent", "{detail:#}");
    assert_eq!(c["disposition"], "resolved", "{detail:#}");
    let event_at = |kind: &str| {
        detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .map(|e| at(&e["at"]))
            .unwrap_or_else(|| panic!("no {kind} on the timeline: {detail:#}"))
    };
    let (connected, held, unheld) = (event_at("connected"), event_at("held"), event_at("unheld"));

    // The recording (what the caller said | what the caller heard), sliced by the timeline.
    let wav = client
        .get(format!(
            "{base_url}{}",
            c["recording_url"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    let path = work.join("call.wav");
    std::fs::write(&path, wav.bytes().await.unwrap()).unwrap();
    let (_, heard) = stereo_channels(&path);
    let start =
        at(&c["ended_at"]) - chrono::Duration::milliseconds(c["recording_ms"].as_i64().unwrap());
    let slice = |from: DateTime<Utc>, to: DateTime<Utc>| -> &[i16] {
        let i = |t: DateTime<Utc>| {
            (((t - start).num_milliseconds().max(0) as usize) * 8).min(heard.len())
        };
        &heard[i(from)..i(to)]
    };
    // Hold: music, not a tone.
    let on_hold = slice(
        held + chrono::Duration::milliseconds(1000),
        unheld - chrono::Duration::milliseconds(500),
    );
    assert!(on_hold.len() >= 8000 * 3, "hold too short in the recording");
    let (music, report) = music_report(on_hold);
    eprintln!("on hold the caller heard: {report}");
    assert!(music, "the caller did not hear music on hold: {report}");
    // Talking: the agent at the level her browser sent, within 3 dB.
    let talk = slice(
        connected + chrono::Duration::milliseconds(3000),
        held - chrono::Duration::milliseconds(1000),
    );
    assert!(talk.len() >= 8000 * 2, "talk too short in the recording");
    let at_caller = frame_peak_level(talk);
    let sent = *talk_level.lock().unwrap();
    let db = 20.0 * (at_caller / sent).log10();
    eprintln!("the browser sent {sent:.3}, the caller heard {at_caller:.3} ({db:+.1} dB)");
    assert!(
        db.abs() <= 3.0,
        "the caller hears the agent at RMS {at_caller:.3}, the browser sent {sent:.3} ({db:+.1} dB)"
    );

    drop(stack);
    let _ = std::fs::remove_dir_all(&work);
    if let Err(e) = bail_if_left_running(http) {
        panic!("{e}");
    }
}

/// After Ctrl-C the script stops everything it started: its port is free again.
fn bail_if_left_running(http: u16) -> anyhow::Result<()> {
    std::thread::sleep(Duration::from_millis(500));
    if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok() {
        bail!("the stack still serves on port {http} after Ctrl-C");
    }
    Ok(())
}

/// The music detector itself: the shipped music on hold is music; the tone a gateway plays
/// for a missing prompt (440 Hz beeps), a steady tone and silence are not.
#[test]
fn music_on_hold_is_told_from_a_tone() {
    let dir = std::env::temp_dir().join(format!("hotline-moh-{}", std::process::id()));
    let st = Command::new(repo_root().join("media-gateway/prompts/generate.sh"))
        .arg(&dir)
        .status()
        .expect("generate.sh runs");
    assert!(st.success());
    let moh = hotline_gateway::media::wav::read_wav_8k_mono(&dir.join("moh.wav")).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let (music, report) = music_report(&moh[..8000 * 6]);
    eprintln!("the shipped music on hold: {report}");
    assert!(music, "the shipped music on hold: {report}");
    let beeps: Vec<i16> = (0..6)
        .flat_map(|_| {
            pcap::tone(440.0, 0.3, 8000.0)
                .into_iter()
                .chain(std::iter::repeat_n(0, 1600))
        })
        .collect();
    let beeps: Vec<i16> = beeps.iter().cycle().take(8000 * 6).copied().collect();
    assert!(!music_report(&beeps).0, "{}", music_report(&beeps).1);
    let tone = pcap::tone(500.0, 6.0, 8000.0);
    assert!(!music_report(&tone).0, "{}", music_report(&tone).1);
    assert!(!music_report(&vec![0i16; 8000 * 6]).0);
}
