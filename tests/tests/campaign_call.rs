//! A recorded-message campaign end to end: the backend's dialer places calls through the real
//! gateway to a carrier played by SIPp (a UAS that answers two numbers, is busy on one and
//! lets one ring), the tenant's own prompt (a 440 Hz tone) is played to whoever answers with
//! "press 1 to confirm", the key pressed is stored, the busy number is tried again after the
//! retry interval, the unanswered one is given up at the ring timeout, the number on the
//! do-not-call list is never dialled, and the results report the right counts.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary built (`cargo build --bins`, as
//! `infra/test.sh` does).

use anyhow::ensure;
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::run;
use hotline_e2e::telephony::{
    best_tone_share, free_port, gateway_events, scenario, sipp, start_gateway, stereo_channels,
    wait_ok, wav_8k_mono,
};
use hotline_wire::campaigns::{CampaignDto, CampaignResults, ContactDto, ContactsAdded};
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

/// The carrier: `…1003` is busy, `…1004` rings until cancelled, `…1001` answers and presses 1
/// after 3 s (RFC 4733), any other number answers and listens until the gateway hangs up.
const CARRIER: &str = r#"  <recv request="INVITE" crlf="true">
    <action>
      <ereg regexp="CSeq: ([0-9]+)" search_in="msg" check_it="true" assign_to="cseqall,cs"/>
      <ereg regexp="sip:\+?[0-9]*1003@" search_in="msg" check_it="false" assign_to="busy"/>
      <ereg regexp="sip:\+?[0-9]*1004@" search_in="msg" check_it="false" assign_to="ring"/>
      <ereg regexp="sip:\+?[0-9]*1001@" search_in="msg" check_it="false" assign_to="press"/>
    </action>
  </recv>
  <nop hide="true"><action><log message="INVITE [$cseqall]"/></action></nop>
  <nop hide="true" test="busy" next="busy"/>
  <nop hide="true" test="ring" next="ring"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]a[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0 101
      a=rtpmap:0 PCMU/8000
      a=rtpmap:101 telephone-event/8000
      a=fmtp:101 0-16
    ]]></send>
  <recv request="ACK"/>
  <nop hide="true" test="press" next="press"/>
  <nop hide="true" next="listen"/>
  <label id="press"/>
  <pause milliseconds="3000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/dtmf_2833_1.pcap"/></action></nop>
  <label id="listen"/>
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
  <nop hide="true" next="end"/>
  <label id="busy"/>
  <send><![CDATA[
      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]b[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="ACK" next="end"/>
  <label id="ring"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]r[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <recv request="CANCEL"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]r[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <send><![CDATA[
      SIP/2.0 487 Request Terminated
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]r[call_number]
      [last_Call-ID:]
      CSeq: [$cs] INVITE
      Content-Length: 0

    ]]></send>
  <recv request="ACK"/>
  <label id="end"/>
"#;

/// A mono 8 kHz 16-bit WAV of a `freq` tone.
fn tone_wav(freq: f64, secs: f64) -> Vec<u8> {
    let samples: Vec<i16> = (0..(8000.0 * secs) as usize)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * freq / 8000.0).sin() * 12_000.0) as i16)
        .collect();
    wav_8k_mono(&samples)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_campaign_calls_confirms_retries_and_skips_do_not_call() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Notify Gas").await;

    // What the platform operator does before a sign-up calls out for real: its number (the
    // campaign's caller ID), the trial lifted, +994 and +1 allowed.
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ('+994125550100', $1)")
        .bind(signup.tenant.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE platform.tenants SET trial = false, outbound_countries = '{994,1}',
                email_verified_at = now() WHERE id = $1",
    )
    .bind(signup.tenant.id)
    .execute(&app.state.db)
    .await
    .unwrap();
    // The limits the gateways enforce follow (the operator's `PUT` publishes them).
    hotline_backend::dial_policy::publish_gateway_limits(&app.state, signup.tenant.id)
        .await
        .unwrap();
    let url = |p: &str| app.url(p);
    async fn ok<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> T {
        let s = r.status();
        let body = r.text().await.unwrap();
        assert!(s.is_success(), "{s}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    // The tenant's prompt: three seconds of 440 Hz ("your meter will be read tomorrow…").
    let _: serde_json::Value = ok(admin
        .post(url("/api/v1/ivr/prompts?name=meter-notice"))
        .header("content-type", "audio/wav")
        .body(tone_wav(440.0, 3.0))
        .send()
        .await
        .unwrap())
    .await;
    // The do-not-call list.
    let _: serde_json::Value = ok(admin
        .post(url("/api/v1/blocklist"))
        .json(&json!({ "number": "+15550001005", "direction": "outbound", "reason": "asked not to be called" }))
        .send()
        .await
        .unwrap())
    .await;

    let all_day = json!(["00:00", "23:59"]);
    let campaign: CampaignDto = ok(admin
        .post(url("/api/v1/campaigns"))
        .json(&json!({
            "name": "Meter reading", "kind": "message", "caller_id": "+994125550100",
            "prompt": "meter-notice", "confirm_digit": "1",
            "calling_hours": [all_day, all_day, all_day, all_day, all_day, all_day, all_day],
            "timezone": "UTC", "max_attempts": 2, "retry_interval_secs": 3,
            "retry_on": ["busy"], "ring_timeout_secs": 5, "max_lines": 3
        }))
        .send()
        .await
        .unwrap())
    .await;
    let id = campaign.id;
    // Starting without contacts is refused, and says why.
    let r = admin
        .post(url(&format!("/api/v1/campaigns/{id}/start")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("no contacts"));

    // Contacts from a CSV file; the bad number is reported with its line, the rest are kept.
    let csv = "phone,name,timezone\n+15550001001,Press One,UTC\n+15550001002,Listener,\n\
               +15550001003,Busy Line,\n+15550001004,No Answer,Europe/Warsaw\n\
               +15550001005,Do Not Call,\n12-ab,Broken,\n";
    let added: ContactsAdded = ok(admin
        .post(url(&format!("/api/v1/campaigns/{id}/contacts/import")))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(added.added, 5, "{added:?}");
    assert_eq!(added.errors.len(), 1, "{added:?}");
    assert_eq!(
        (added.errors[0].line, added.errors[0].phone.as_str()),
        (7, "12-ab")
    );

    // The carrier and the gateway (its trunk points at the carrier).
    let work = std::env::temp_dir().join(format!("hotline-campaign-{}", Uuid::new_v4().simple()));
    let carrier_dir = work.join("carrier");
    std::fs::create_dir_all(&carrier_dir).unwrap();
    let carrier_port = free_port();
    let carrier = sipp(
        &carrier_dir,
        "carrier",
        &scenario(CARRIER),
        &[
            "-p",
            &carrier_port.to_string(),
            "-mp",
            &free_port().to_string(),
            "-m",
            "5",
        ],
    );
    let rtp = 44_000 + (std::process::id() % 100) as u16 * 40;
    let _gw = start_gateway(
        &work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        &[("HOTLINE_GW_TRUNK", format!("127.0.0.1:{carrier_port}"))],
    );

    let started: CampaignDto = ok(admin
        .post(url(&format!("/api/v1/campaigns/{id}/start")))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(started.status, "running");

    // The carrier takes its five calls (two answered, the busy number twice, one unanswered).
    let cd = carrier_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(carrier, &cd, "carrier"))
        .await
        .unwrap();
    let mut c: CampaignDto = started;
    for _ in 0..60 {
        c = ok(admin
            .get(url(&format!("/api/v1/campaigns/{id}")))
            .send()
            .await
            .unwrap())
        .await;
        if c.status == "finished" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let log = std::fs::read_to_string(work.join("gateway.log")).unwrap_or_default();
    assert_eq!(c.status, "finished", "{c:#?}\n{log}");

    let contacts: hotline_wire::api::Page<ContactDto> = ok(admin
        .get(url(&format!("/api/v1/campaigns/{id}/contacts")))
        .send()
        .await
        .unwrap())
    .await;
    let by = |p: &str| {
        contacts
            .items
            .iter()
            .find(|k| k.phone == p)
            .unwrap_or_else(|| panic!("{p} missing: {:#?}", contacts.items))
            .clone()
    };
    let press = by("+15550001001");
    assert_eq!(
        (press.status.as_str(), press.dtmf.as_deref(), press.attempts),
        ("confirmed", Some("1"), 1),
        "{press:?}"
    );
    let listen = by("+15550001002");
    assert_eq!(
        (listen.status.as_str(), listen.attempts),
        ("not_confirmed", 1)
    );
    let busy = by("+15550001003");
    assert_eq!(
        (busy.status.as_str(), busy.attempts),
        ("busy", 2),
        "{busy:?}"
    );
    let silent = by("+15550001004");
    assert_eq!(
        (silent.status.as_str(), silent.attempts),
        ("no_answer", 1),
        "{silent:?}"
    );
    let dnc = by("+15550001005");
    assert_eq!((dnc.status.as_str(), dnc.attempts), ("dnc", 0), "{dnc:?}");

    // The carrier never saw the do-not-call number.
    let mut msgs = String::new();
    for e in std::fs::read_dir(&carrier_dir).unwrap().flatten() {
        if e.file_name().to_string_lossy().ends_with("_messages.log") {
            msgs.push_str(&std::fs::read_to_string(e.path()).unwrap());
        }
    }
    assert_eq!(
        msgs.matches("INVITE sip:+15550001003@").count(),
        2,
        "busy number: two attempts"
    );
    assert!(
        !msgs.contains("+15550001005"),
        "the do-not-call number was dialled"
    );

    // The results screen's figures.
    let res: CampaignResults = ok(admin
        .get(url(&format!("/api/v1/campaigns/{id}/results")))
        .send()
        .await
        .unwrap())
    .await;
    let k = &res.counts;
    assert_eq!(
        (
            k.contacts,
            k.dialled,
            k.confirmed,
            k.not_confirmed,
            k.busy,
            k.no_answer,
            k.dnc,
            k.pending
        ),
        (5, 5, 1, 1, 1, 1, 1, 0),
        "{k:?}"
    );
    assert_eq!(res.hours.iter().map(|h| h.dialled).sum::<i64>(), 5);

    // What the answered parties heard: the tenant's 440 Hz prompt (right channel of each
    // outbound leg's recording).
    let mut r = app.state.redis();
    let evs = gateway_events(&mut r, &app.state.cfg.call_events_stream).await;
    let recordings: Vec<String> = evs
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::RecordingFinished { path, .. } => Some(path.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(recordings.len(), 2, "{evs:#?}");
    for path in &recordings {
        let (_, heard) = stereo_channels(std::path::Path::new(path));
        let share = best_tone_share(&heard, 440.0);
        assert!(
            share > 0.5,
            "{path}: the prompt's tone is not in what the callee heard ({share})"
        );
    }

    // The export lists every contact with its outcome.
    let csv = admin
        .get(url(&format!("/api/v1/campaigns/{id}/export")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("+15550001001,Press One,UTC,confirmed,1,confirmed,1"),
        "{csv}"
    );

    // The results screen in the browser shows the same figures.
    let slug = signup.tenant.slug.clone();
    run("browser_campaign_results", &app.base_url, async move |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", "admin@notify-gas.test").await?;
        b.fill("#password", "correct horse battery").await?;
        b.click("#login-submit").await?;
        b.click("nav.mainnav a[href='/admin/campaigns']").await?;
        b.wait_path("/admin/campaigns").await?;
        b.wait_text("#campaigns-table tr[data-name='Meter reading']", "Finished")
            .await?;
        b.click("#campaigns-table tr[data-name='Meter reading'] button")
            .await?;
        for (outcome, n) in [
            ("dialled", "5"),
            ("confirmed", "1"),
            ("not_confirmed", "1"),
            ("busy", "1"),
            ("no_answer", "1"),
            ("dnc", "1"),
            ("pending", "0"),
        ] {
            let css = format!("#campaign-results tr[data-outcome='{outcome}'] td");
            let got = b.wait(&css).await?.text().await?;
            ensure!(
                got.trim() == n,
                "{outcome}: the screen shows {got}, expected {n}"
            );
        }
        b.wait("#campaign-export").await?;
        Ok(())
    })
    .await;
    let _ = std::fs::remove_dir_all(&work);
}
