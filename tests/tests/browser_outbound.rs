//! Outbound calling settings in the SPA, end to end: a fresh sign-up's administrator sees the
//! "verify your e-mail" banner and re-sends the e-mail; the Outbound calling page shows the
//! trial and the unverified e-mail, and refuses a verification call until the e-mail link is
//! followed (the SPA's `/verify-email` page); then "Verify a number" calls the number through
//! the real gateway and its trunk — a carrier played by SIPp that answers — and reads the
//! code; a wrong code is refused on the page, the right one verifies the number, which the
//! campaign form then offers as its caller ID.
//!
//! What the audio proves: the test's gateway plays digit prompts that are DTMF pairs (the
//! shipped ones are speech), the carrier's SDP sends the call's RTP to a UDP socket of this
//! test, and a Goertzel decoder reads the digits from the PCMU packets: they are the code the
//! page accepts, twice. The call's recording is deleted, never listed.
//!
//! Needs `chromium`, `chromium-driver`, a built `frontend/dist`, `sipp` and the gateway binary.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use anyhow::ensure;
use common::{sip_trace, tenant, workdir, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::run;
use hotline_e2e::telephony::{
    free_port, gateway_events, rms, scenario, sipp, start_gateway, tone_share, wait_ok, wav_8k_mono,
};
use hotline_wire::gateway::{self as wire, GatewayCommand, GatewayEvent};
use serde_json::json;

const NUMBER: &str = "+994505550191";
const OWN_DID: &str = "+994125550190";

/// DTMF pairs (row, column) of the digits 0–9.
fn dtmf(d: u8) -> (f64, f64) {
    const ROWS: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f64; 3] = [1209.0, 1336.0, 1477.0];
    match d {
        0 => (ROWS[3], COLS[1]),
        d => (ROWS[((d - 1) / 3) as usize], COLS[((d - 1) % 3) as usize]),
    }
}

/// A mono 8 kHz 16-bit WAV: `tone_ms` of the pair (or silence), then `gap_ms` of silence.
fn wav(pair: Option<(f64, f64)>, tone_ms: usize, gap_ms: usize) -> Vec<u8> {
    let n = 8 * tone_ms;
    let samples: Vec<i16> = (0..n + 8 * gap_ms)
        .map(|i| match pair {
            Some((a, b)) if i < n => {
                let t = i as f64 / 8000.0;
                let (a, b) = (
                    2.0 * std::f64::consts::PI * a * t,
                    2.0 * std::f64::consts::PI * b * t,
                );
                ((a.sin() + b.sin()) * 7000.0) as i16
            }
            _ => 0,
        })
        .collect();
    wav_8k_mono(&samples)
}

/// G.711 μ-law to linear.
fn ulaw(b: u8) -> i16 {
    let b = !b;
    let sign = b & 0x80;
    let exponent = (b >> 4) & 0x07;
    let mantissa = b & 0x0f;
    let magnitude = (((mantissa as i32) << 3) + 0x84) << exponent;
    let v = magnitude - 0x84;
    (if sign != 0 { -v } else { v }) as i16
}

/// The DTMF digits in 8 kHz audio: 20 ms frames, a digit where its row and column tones hold
/// most of a loud frame's energy, for at least two frames in a row.
fn decode_dtmf(samples: &[i16]) -> String {
    let mut out = String::new();
    let (mut current, mut run_len, mut emitted) = (None::<u8>, 0, false);
    for frame in samples.chunks(160) {
        let loud = rms(frame) > 500.0;
        let found = loud
            .then(|| {
                (0..=9u8).find(|d| {
                    let (r, c) = dtmf(*d);
                    tone_share(frame, r) > 0.25 && tone_share(frame, c) > 0.25
                })
            })
            .flatten();
        if found == current {
            run_len += 1;
        } else {
            (current, run_len, emitted) = (found, 1, false);
        }
        if let (Some(d), false) = (current, emitted) {
            if run_len >= 2 {
                out.push((b'0' + d) as char);
                emitted = true;
            }
        }
    }
    out
}

/// The carrier: answers any INVITE with an SDP that sends the call's audio to `capture_port`,
/// then waits for the gateway's BYE.
fn carrier(capture_port: u16) -> String {
    scenario(&format!(
        r#"  <recv request="INVITE" crlf="true"/>
  <send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]v[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 127.0.0.1
      s=-
      c=IN IP4 127.0.0.1
      t=0 0
      m=audio {capture_port} RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]></send>
  <recv request="ACK"/>
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
"#
    ))
}

/// PCMU audio arriving on `socket` until `quiet` passes without a packet (after the first) or
/// `limit` is over.
fn capture(socket: UdpSocket, quiet: Duration, limit: Duration) -> Vec<i16> {
    socket
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let start = Instant::now();
    let mut last = None::<Instant>;
    let mut out = Vec::new();
    let mut buf = [0u8; 2048];
    while start.elapsed() < limit && last.is_none_or(|l| l.elapsed() < quiet) {
        let Ok(n) = socket.recv(&mut buf) else {
            continue;
        };
        if n < 12 || buf[1] & 0x7f != 0 {
            continue;
        }
        let cc = (buf[0] & 0x0f) as usize;
        let mut off = 12 + 4 * cc;
        if buf[0] & 0x10 != 0 && n >= off + 4 {
            off += 4 + 4 * u16::from_be_bytes([buf[off + 2], buf[off + 3]]) as usize;
        }
        out.extend(buf[off.min(n)..n].iter().map(|b| ulaw(*b)));
        last = Some(Instant::now());
    }
    out
}

#[test]
fn the_dtmf_decoder_reads_what_the_prompts_play() {
    let mut audio = Vec::new();
    for d in [4u8, 0, 4, 4, 9, 1] {
        let w = wav(Some(dtmf(d)), 200, 150);
        audio.extend(
            w[44..]
                .chunks_exact(2)
                .map(|c| i16::from_le_bytes([c[0], c[1]])),
        );
    }
    assert_eq!(decode_dtmf(&audio), "404491");
    assert_eq!(decode_dtmf(&vec![0i16; 8000]), "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_outbound_settings_verify_the_email_and_a_caller_id_by_a_real_call() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Number Proof").await;
    // What the operator gives a sign-up: its own number. It stays a trial with its e-mail
    // unverified; its country is set in the CRM settings.
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(OWN_DID)
        .bind(t.id)
        .execute(&app.state.db)
        .await
        .unwrap();
    let r = t
        .admin
        .put(app.url("/api/v1/settings/crm"))
        .json(&json!({ "country_code": "994" }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success());

    // The carrier (SIPp) behind the gateway's trunk; the call's audio comes to `socket`.
    let work = workdir("caller-id");
    let prompts = work.join("prompts");
    std::fs::create_dir_all(&prompts).unwrap();
    for d in 0..=9u8 {
        std::fs::write(
            prompts.join(format!("digit-{d}.wav")),
            wav(Some(dtmf(d)), 200, 150),
        )
        .unwrap();
    }
    std::fs::write(prompts.join("verification-code.wav"), wav(None, 0, 400)).unwrap();
    let capture_port = free_port();
    let socket = UdpSocket::bind(("127.0.0.1", capture_port)).unwrap();
    let carrier_dir = work.join("carrier");
    std::fs::create_dir_all(&carrier_dir).unwrap();
    let carrier_port = free_port();
    let carrier = sipp(
        &carrier_dir,
        "carrier",
        &carrier(capture_port),
        &[
            "-p",
            &carrier_port.to_string(),
            "-mp",
            &free_port().to_string(),
        ],
    );
    let rtp = 46_000 + (std::process::id() % 100) as u16 * 40;
    let gw = start_gateway(
        &work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        &[("HOTLINE_GW_TRUNK", format!("127.0.0.1:{carrier_port}"))],
    );
    let heard = std::thread::spawn(move || {
        capture(socket, Duration::from_secs(3), Duration::from_secs(90))
    });

    // A campaign started before the e-mail is verified: it waits, and says why.
    let day = json!(["00:00", "23:59"]);
    let campaign = common::ok(
        t.admin
            .post(app.url("/api/v1/campaigns"))
            .json(&json!({
                "name": "Early bird", "kind": "message", "caller_id": OWN_DID, "prompt": "greeting",
                "calling_hours": [day, day, day, day, day, day, day], "timezone": "UTC", "max_lines": 1
            }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_string();
    for path in ["contacts", "start"] {
        let body = if path == "contacts" {
            json!([{ "phone": "+994505550199" }])
        } else {
            json!({})
        };
        common::ok(
            t.admin
                .post(app.url(&format!("/api/v1/campaigns/{campaign_id}/{path}")))
                .json(&body)
                .send()
                .await
                .unwrap(),
        )
        .await;
    }

    let state = app.state.clone();
    let (slug, tenant_id, gw_id) = (t.slug.clone(), t.id, gw.id.clone());
    let admin_email = "admin@number-proof.test";
    let code = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let code_seen = code.clone();
    run("browser_outbound_settings", &app.base_url, async move |b| {
        b.open("/login").await?;
        b.fill("#tenant", &slug).await?;
        b.fill("#email", admin_email).await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        // The banner, and a second e-mail.
        b.wait_text("#verify-email-banner", "Verify your e-mail address to place outbound calls")
            .await?;
        b.click("#verify-email-banner-resend").await?;
        b.wait_text("#verify-email-sent", admin_email).await?;

        // The campaign's card says why nothing is dialled; it is stopped (so that nothing but
        // the verification call reaches the carrier).
        b.click("nav.mainnav a[href='/admin/campaigns']").await?;
        b.click("#campaigns-table tr[data-name='Early bird'] button").await?;
        b.wait_text("#campaign-dial-hold", "calls start once your e-mail address is verified")
            .await?;
        b.click("#campaign-stop").await?;
        b.wait("#campaign-card[data-status='stopped']").await?;

        // The settings page: a trial, not verified; no verification call yet.
        b.click("nav.mainnav a[href='/admin/outbound']").await?;
        b.wait_path("/admin/outbound").await?;
        b.wait("#outbound-trial[data-trial='true']").await?;
        b.wait_text("#outbound-calls-per-day", "50").await?;
        b.wait("#outbound-email[data-verified='false']").await?;
        b.wait_text("#outbound-countries", "+994").await?;
        b.wait_text("#outbound-blocked", "+994900").await?;
        b.wait_text(&format!("#caller-ids tr[data-number='{OWN_DID}']"), "Your number")
            .await?;
        b.fill("#caller-id-number", NUMBER).await?;
        b.click("#caller-id-call").await?;
        b.wait_text(".alert.error", "once your e-mail address is verified").await?;

        // The link (made here as the e-mail's would be) opens the SPA's verification page.
        sqlx::query(
            "INSERT INTO platform.email_verifications (token_hash, tenant_id, email, expires_at)
             VALUES (sha256('link-from-the-e-mail'::bytea), $1, $2, now() + interval '1 hour')",
        )
        .bind(tenant_id)
        .bind(admin_email)
        .execute(&state.db)
        .await?;
        b.open("/verify-email?token=forged").await?;
        b.wait_text("#verify-email-failed", "not valid").await?;
        b.open("/verify-email?token=link-from-the-e-mail").await?;
        b.wait_text("#verify-email-done", "is verified").await?;
        b.open("/admin/outbound").await?;
        b.wait("#outbound-email[data-verified='true']").await?;
        let mut banner = true;
        for _ in 0..40 {
            banner = b.js("return document.getElementById('verify-email-banner') !== null").await?
                == json!(true);
            if !banner {
                break;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        ensure!(!banner, "the banner is gone once verified");

        // Verify a number: the national form, completed with the country code.
        b.fill("#caller-id-number", "0505550191").await?;
        b.click("#caller-id-call").await?;
        b.wait_text("#caller-id-calling", NUMBER).await?;
        // The code the backend told the gateway to read (the command it executed).
        let mut r = state.redis();
        let deadline = Instant::now() + Duration::from_secs(30);
        let said = loop {
            let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(wire::command_stream(&gw_id))
                .arg("-")
                .arg("+")
                .query_async(&mut r)
                .await?;
            let said = reply.ids.iter().find_map(|e| {
                let m: String = e.get(wire::STREAM_FIELD)?;
                match serde_json::from_str(&m).ok()? {
                    GatewayCommand::SayDigits { digits, .. } => Some(digits),
                    _ => None,
                }
            });
            if let Some(s) = said {
                break s;
            }
            ensure!(Instant::now() < deadline, "no say_digits: was the call answered?");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        *code_seen.lock().unwrap() = said.clone();
        b.wait("#caller-id-calling[data-status='finished']").await?;
        let wrong = if said == "000000" { "111111" } else { "000000" };
        b.fill("#caller-id-code", wrong).await?;
        b.click("#caller-id-confirm").await?;
        b.wait_text("#caller-id-code-error", "Wrong code").await?;
        b.fill("#caller-id-code", &said).await?;
        b.click("#caller-id-confirm").await?;
        b.wait_text(".alert.ok", "is verified and may be shown as your caller ID").await?;
        b.wait_text(&format!("#caller-ids tr[data-number='{NUMBER}'][data-status='verified']"), "Verified")
            .await?;

        // The campaign form offers it as the caller ID.
        b.click("nav.mainnav a[href='/admin/campaigns']").await?;
        b.wait_path("/admin/campaigns").await?;
        b.choose("#campaign-caller-id", NUMBER).await?;
        let options = b
            .js("return [...document.querySelectorAll('#campaign-caller-id option')].map(o => o.value)")
            .await?;
        ensure!(options == json!([OWN_DID, NUMBER]), "caller IDs offered: {options}");
        Ok(())
    })
    .await;

    // The carrier got the INVITE to the number, showing the tenant's own number.
    let cd = carrier_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(carrier, &cd, "carrier"))
        .await
        .unwrap();
    let trace = sip_trace(&carrier_dir);
    assert!(trace.contains(&format!("INVITE sip:{NUMBER}@")), "{trace}");
    let invite = &trace[trace.find("INVITE sip:").unwrap()..];
    let from = invite
        .lines()
        .find(|l| l.starts_with("From:"))
        .unwrap_or_default();
    assert!(from.contains(OWN_DID), "shown: {from}");
    // The audio the called number heard carried the code, twice.
    let code = code.lock().unwrap().clone();
    assert_eq!(code.len(), 6, "the code was read");
    let audio = heard.join().unwrap();
    let digits = decode_dtmf(&audio);
    assert_eq!(
        digits,
        format!("{code}{code}"),
        "{} samples heard",
        audio.len()
    );
    // The call's recording (which holds the code) is deleted and not listed.
    let mut r = app.state.redis();
    let deadline = Instant::now() + Duration::from_secs(30);
    let path = loop {
        let found = gateway_events(&mut r, &app.state.cfg.call_events_stream)
            .await
            .into_iter()
            .find_map(|e| match e {
                GatewayEvent::RecordingFinished { path, .. } => Some(path),
                _ => None,
            });
        if let Some(p) = found {
            break p;
        }
        assert!(Instant::now() < deadline, "no recording_finished");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::path::Path::new(&path).exists() {
        assert!(Instant::now() < deadline, "{path} was not deleted");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let listed: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM {}.recordings",
        hotline_backend::db::schema_name(t.id)
    )))
    .fetch_one(&app.state.db)
    .await
    .unwrap();
    assert_eq!(listed, 0);
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
