//! The product's main job, end to end: a caller on a SIP phone (SIPp with RTP audio) dials the
//! tenant's number on the real gateway, hears the greeting, presses 1 (RFC 4733), is queued;
//! the agent in Chromium — microphone faked with a 1 kHz tone, softphone connected over
//! WebRTC to the gateway — is Ready, sees the incoming call with the caller's customer card
//! already popped, answers; audio flows both ways (the browser's WebRTC stats count the
//! caller's audio; the caller's recording holds the agent's tone in its "heard" channel); the
//! agent puts the caller on hold and takes them back, then transfers them to a colleague in a
//! second Chromium, who sees the same screen pop and answers; the caller hangs up; the
//! colleague wraps up with a disposition; the CDR tells the story and the stereo recording
//! is playable by the agent who handled the call.
//!
//! Needs Chromium + chromedriver, SIPp, sox, the gateway binary and a built `frontend/dist`.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::ensure;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, fake_microphone_args, run_with};
use hotline_e2e::telephony::{
    best_tone_share, free_port, gateway_binary, gateway_events, scenario, sipp, stereo_channels,
    wait_ok, Proc,
};
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;
use uuid::Uuid;

const DID: &str = "+994125559100";
const CALLER: &str = "+15550007777";
const PASSWORD: &str = "correct horse battery";

/// The caller: dials, hears the greeting, presses 1, waits for the agent, speaks (SIPp's
/// A-law sample), listens a little longer, hangs up.
const CUSTOMER: &str = r#"  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550007777@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:customer@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=cust 1 1 IN IP4 [local_ip]
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
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550007777@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="3000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>
  <pause milliseconds="10000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="30000"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550007777@[local_ip]:[local_port]>;tag=[pid]cust[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_agent_answers_a_sip_caller_with_screen_pop_and_two_way_audio() {
    let app = TestApp::spawn().await;
    let (admin, info) = app.signup("Call Water").await;
    let tenant = info.tenant.id;
    let slug = info.tenant.slug.clone();
    let url = |p: &str| app.url(p);
    let ok = |r: reqwest::Response| async move {
        let s = r.status();
        let body = r.text().await.unwrap();
        assert!(s.is_success(), "{s}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()
    };

    // The tenant: a queue, an agent (browser only, no SIP phone), the caller as a customer,
    // a flow "greeting, then press 1 for water", the number.
    ok(admin
        .post(url("/api/v1/queues"))
        .json(&json!({ "name": "Water", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
        .send()
        .await
        .unwrap())
    .await;
    let roles = ok(admin.get(url("/api/v1/roles")).send().await.unwrap()).await;
    let agent_role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Agent")
        .unwrap()["id"]
        .clone();
    ok(admin
        .post(url("/api/v1/users"))
        .json(
            &json!({ "email": "aysel@call.test", "name": "Aysel", "password": PASSWORD,
                       "role_id": agent_role }),
        )
        .send()
        .await
        .unwrap())
    .await;
    ok(admin
        .post(url("/api/v1/users"))
        .json(
            &json!({ "email": "bob@call.test", "name": "Bob", "password": PASSWORD,
                       "role_id": agent_role }),
        )
        .send()
        .await
        .unwrap())
    .await;
    ok(admin
        .post(url("/api/v1/customers"))
        .json(&json!({ "name": "Rashad Caller", "phones": [{ "number": CALLER, "label": "mobile" }] }))
        .send()
        .await
        .unwrap())
    .await;
    let flow = ok(admin
        .post(url("/api/v1/ivr/flows"))
        .json(&json!({ "name": "Main", "is_default": true, "graph": {
            "start": "hello",
            "nodes": {
                "hello": { "type": "play", "prompt": "greeting", "next": "menu" },
                "menu": { "type": "menu", "prompt": "menu", "options": { "1": "water" },
                          "timeout_ms": 8000, "fallback": "water" },
                "water": { "type": "queue", "queue": "Water" }
            }
        }}))
        .send()
        .await
        .unwrap())
    .await;
    ok(admin
        .post(url(&format!(
            "/api/v1/ivr/flows/{}/publish",
            flow["id"].as_str().unwrap()
        )))
        .json(&json!({ "version": 1 }))
        .send()
        .await
        .unwrap())
    .await;
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(DID)
        .bind(tenant)
        .execute(&app.state.db)
        .await
        .unwrap();
    hotline_backend::gateway_sync::publish_did(&app.state, DID, Some(tenant))
        .await
        .unwrap();

    // The real gateway with its WebRTC signalling listener.
    let work = std::env::temp_dir().join(format!("hotline-call-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    let gw_port = free_port();
    let http_port = free_port();
    let rtp = 44_000 + (std::process::id() % 100) as u16 * 60;
    let gw_id = format!("e2e-{}", Uuid::new_v4().simple());
    let _gw = Proc(
        Command::new(gateway_binary())
            .env("HOTLINE_GW_SIP_ADDR", format!("127.0.0.1:{gw_port}"))
            .env("HOTLINE_GW_HTTP_ADDR", format!("127.0.0.1:{http_port}"))
            .env("HOTLINE_GW_RTP_PORTS", format!("{rtp}-{}", rtp + 59))
            .env("HOTLINE_GW_ID", &gw_id)
            .env("REDIS_URL", &app.state.cfg.redis_url)
            .env(
                "HOTLINE_GW_EVENTS_STREAM",
                &app.state.cfg.call_events_stream,
            )
            .env("HOTLINE_GW_RECORDINGS_DIR", work.join("rec"))
            .env("HOTLINE_GW_PROMPTS_DIR", work.join("prompts"))
            .env("HOTLINE_GW_HEARTBEAT_MS", "500")
            .env("RUST_LOG", "info,str0m=info")
            .stdout(std::fs::File::create(work.join("gateway.log")).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let gw_addr = format!("127.0.0.1:{gw_port}");

    let chrome_args = fake_microphone_args(&work);
    let cust_dir = work.join("customer");
    std::fs::create_dir_all(&cust_dir).unwrap();
    let (slug2, gw_addr2, cust_dir2) = (slug.clone(), gw_addr.clone(), cust_dir.clone());
    let (base_url, chrome_args2) = (app.base_url.clone(), chrome_args.clone());
    let customer = std::sync::Arc::new(std::sync::Mutex::new(None));
    let customer2 = customer.clone();
    run_with(
        "browser_agent_answers_a_sip_caller_with_screen_pop_and_two_way_audio",
        &app.base_url,
        &chrome_args,
        async move |b| {
            b.agent_ready(&slug2, "aysel@call.test", PASSWORD).await?;

            // The call comes in: the customer card is on screen before answering.
            *customer2.lock().unwrap() = Some(sipp(
                &cust_dir2,
                "customer",
                &scenario(CUSTOMER),
                &["-s", DID, "-mp", &free_port().to_string(), &gw_addr2],
            ));
            b.wait_text("#incoming-caller", CALLER).await?;
            // The IVR choice in words, not as the flow's variable.
            let ivr = b.wait_text("#incoming-ivr", "pressed 1").await?;
            ensure!(!ivr.contains("menu."), "a raw IVR variable: {ivr}");
            let deadline = Instant::now() + Duration::from_secs(10);
            while b.value("#cust-name").await.unwrap_or_default() != "Rashad Caller" {
                ensure!(
                    Instant::now() < deadline,
                    "no screen pop of the caller's card"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            // The caller header: the popped card's name, the queue; the pill says ringing.
            b.wait_text("#caller-name", "Rashad Caller").await?;
            b.wait_text("#caller-queue", "Water").await?;
            b.wait_text("#agent-current-state", "Ringing").await?;
            b.click("#call-accept").await?;
            b.wait("#in-call").await?;
            // On the call: the pill says so (not "Ready") and the call timer runs.
            b.wait_text("#agent-current-state", "On a call").await?;
            b.wait("#call-timer").await?;

            // The caller's audio reaches the browser: an analyser on the received track
            // measures its level (and WebRTC's own counters must show packets).
            b.hears_caller().await?;
            b.screenshot(&artifacts_dir().join("screens/agent-call.png"))
                .await?;

            // Hold and back: the button says what it will do, the desktop says the caller waits.
            b.click("#call-hold").await?;
            b.wait("#call-held").await?;
            b.wait_text("#call-hold", "Resume").await?;
            b.click("#call-hold").await?;
            b.wait_text("#call-hold", "Hold").await?;

            // A colleague in another browser becomes ready; the call is transferred to him.
            let (base, args, slug3) = (base_url.clone(), chrome_args2.clone(), slug2.clone());
            run_with(
                "browser_agent_answers_a_sip_caller_with_screen_pop_and_two_way_audio-bob",
                &base,
                &args,
                async move |bob| {
                    bob.agent_ready(&slug3, "bob@call.test", PASSWORD).await?;

                    b.choose("#transfer-target", "Bob (Ready)").await?;
                    b.click("#call-transfer").await?;
                    // The first agent is done with the call: wrap-up form, no call controls.
                    b.wait("#wrapup-form").await?;

                    bob.wait_text("#incoming-caller", CALLER).await?;
                    let deadline = Instant::now() + Duration::from_secs(10);
                    while bob.value("#cust-name").await.unwrap_or_default() != "Rashad Caller" {
                        ensure!(Instant::now() < deadline, "no screen pop for the colleague");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    bob.click("#call-accept").await?;
                    bob.wait("#in-call").await?;
                    // The caller hangs up: Bob's desktop says so and asks for the wrap-up.
                    bob.wait_text("#softphone-note", "ended").await?;
                    bob.choose("#wrapup-disposition", "Resolved").await?;
                    bob.fill("#wrapup-notes", "leak reported").await?;
                    bob.click("#wrapup-save").await?;
                    bob.wait_text("#softphone-note", "saved").await?;
                    // His history lists the call as answered, resolved, with its recording.
                    bob.wait_text("#call-history li[data-outcome='answered']", "Resolved")
                        .await?;
                    bob.screenshot(&artifacts_dir().join("screens/agent-wrapup.png"))
                        .await?;
                    Ok(())
                },
            )
            .await;
            // Aysel wraps up too (her part of the call).
            b.choose("#wrapup-disposition", "Escalated").await?;
            b.click("#wrapup-save").await?;
            b.wait_text("#softphone-note", "saved").await?;
            Ok(())
        },
    )
    .await;
    let child = customer
        .lock()
        .unwrap()
        .take()
        .expect("the caller was started");
    let cd = cust_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(child, &cd, "caller"))
        .await
        .unwrap();

    // The caller's recording: its "heard" channel holds the agent's 1 kHz tone.
    let mut r = app.state.redis();
    let mut evs = vec![];
    for _ in 0..50 {
        evs = gateway_events(&mut r, &app.state.cfg.call_events_stream).await;
        if evs
            .iter()
            .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(work.join("gateway.log")).unwrap_or_default();
    let path = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::RecordingFinished { path, .. } => Some(path.clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no recording: {evs:#?}\n{log}"));
    let (_, heard) = stereo_channels(Path::new(&path));
    let share = best_tone_share(&heard, 1000.0);
    assert!(
        share > 0.5,
        "the caller did not hear the agent's 1 kHz tone (best share {share:.2})"
    );

    // The CDR: answered, transferred once, last agent Bob with his disposition, recorded; the
    // timeline has the hold, the transfer and both agents' answers.
    let caller_call = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::CallStarted { call_id, .. } => Some(*call_id),
            _ => None,
        })
        .expect("call_started");
    let mut cdr = serde_json::Value::Null;
    for _ in 0..50 {
        cdr = ok(admin
            .get(url(&format!("/api/v1/calls/{caller_call}")))
            .send()
            .await
            .unwrap())
        .await;
        if !cdr["cdr"]["recording_url"].is_null() && !cdr["cdr"]["ended_at"].is_null() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let c = &cdr["cdr"];
    assert_eq!(c["outcome"], "answered", "{cdr:#}");
    assert_eq!(c["transfers"], 1, "{cdr:#}");
    assert_eq!(c["agent_name"], "Bob", "{cdr:#}");
    assert_eq!(c["disposition"], "resolved", "{cdr:#}");
    assert_eq!(c["wrapup_notes"], "leak reported", "{cdr:#}");
    assert_eq!(c["queue_name"], "Water", "{cdr:#}");
    let kinds: Vec<String> = cdr["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or("").to_string())
        .collect();
    for k in [
        "queued",
        "connected",
        "held",
        "unheld",
        "transferred",
        "completed",
        "wrapped_up",
    ] {
        assert!(kinds.iter().any(|x| x == k), "{k} missing from {kinds:?}");
    }
    assert_eq!(kinds.iter().filter(|k| *k == "connected").count(), 2);
    // Bob may play the recording of the call he handled; it is a stereo WAV.
    let bob = app.client();
    ok(bob
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "tenant": slug, "email": "bob@call.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap())
    .await;
    let wav = bob
        .get(url(c["recording_url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(wav.status(), 200);
    let bytes = wav.bytes().await.unwrap();
    assert_eq!(&bytes[0..4], b"RIFF");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2, "stereo");
    let _ = std::fs::remove_dir_all(&work);
}
