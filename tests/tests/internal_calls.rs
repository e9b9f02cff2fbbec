//! Internal calls end to end with real SIP phones: Aysel's desk phone (SIPp, registered as
//! extension 1001) dials 1002; the gateway challenges the INVITE (407) and checks the answer
//! against 1001's digest credentials; Bob's desk phone (SIPp, registered as 1002) rings,
//! answers, and both talk through the gateway's bridge (each leg's recording hears the other
//! phone's speech); Aysel hangs up and both legs end. Dialling an unknown extension is answered
//! 404; an INVITE to the tenant's domain with a wrong password is refused (403) and never
//! reaches the backend.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{answering_phone_playing, finished, gateway, register, tenant, workdir, SIPP_SPEECH};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{free_port, gateway_events, rms, scenario, sipp, stereo_channels};
use hotline_wire::gateway::GatewayEvent;
use std::path::Path;
use uuid::Uuid;

/// A desk phone's call from `ext` to `to` at `domain`: the INVITE without credentials gets the
/// gateway's 407, then again with `[authentication]`; then `rest` (what follows the answer to
/// the authenticated INVITE).
fn desk_call(domain: &str, ext: &str, password: &str, to: &str, rest: &str) -> String {
    let invite = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500"><![CDATA[
      INVITE sip:{to}@{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{ext}@{domain}>;tag=[pid]desk[call_number]
      To: <sip:{to}@{domain}>
      Call-ID: [call_id]
      CSeq: {cseq} INVITE
      Contact: <sip:{ext}@[local_ip]:[local_port]>
      Max-Forwards: 70
{auth}      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=desk 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]></send>
  <recv response="100" optional="true"/>
"#
        )
    };
    let ack = |cseq: u32| {
        format!(
            r#"  <send><![CDATA[
      ACK sip:{to}@{domain} SIP/2.0
      [last_Via:]
      From: <sip:{ext}@{domain}>;tag=[pid]desk[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
"#
        )
    };
    scenario(
        &(invite(1, "")
            + "  <recv response=\"407\" auth=\"true\"/>\n"
            + &ack(1)
            + &invite(
                2,
                &format!("      [authentication username={ext} password={password}]\n"),
            )
            + &rest.replace("{ack}", &ack(2))),
    )
}

/// After the authenticated INVITE: ringing, answered, speech, hang-up.
fn answered_then_bye(ext: &str, domain: &str, to: &str) -> String {
    format!(
        r#"  <recv response="180"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{ext}@{domain}>;tag=[pid]desk[call_number]
      To: <sip:{to}@{domain}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="500"/>
  <nop><action><exec play_pcap_audio="{SIPP_SPEECH}"/></action></nop>
  <pause milliseconds="7000"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{ext}@{domain}>;tag=[pid]desk[call_number]
      To: <sip:{to}@{domain}>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
"#
    )
}

/// Runs a desk phone's call from `port` (where it registered), waiting for SIPp to succeed.
async fn run(dir: &Path, name: &'static str, xml: &str, port: &str, gw: &str) {
    let call = sipp(
        dir,
        name,
        xml,
        &["-p", port, "-mp", &free_port().to_string(), gw],
    );
    finished(call, dir, name).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_phone_calls_a_colleagues_extension_and_they_talk() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Internal Water").await;
    let domain = format!("{}.hotline.test", t.slug);
    let aysel = t
        .agent(
            &app,
            &format!("aysel@{}.test", t.slug),
            "Aysel",
            Some("1001"),
            &[],
        )
        .await;
    let bob = t
        .agent(
            &app,
            &format!("bob@{}.test", t.slug),
            "Bob",
            Some("1002"),
            &[],
        )
        .await;
    let work = workdir("internal");
    let gw = gateway(&app, &work, 0, false);

    // Bob's desk phone registers and waits; it speaks once it has answered.
    let bob_dir = work.join("bob");
    let bob_phone = t
        .sip_phone(
            &app,
            &gw.addr,
            &bob_dir,
            "1002",
            &answering_phone_playing(Path::new(SIPP_SPEECH)),
        )
        .await;
    // Aysel's desk phone registers, then dials 1002 from the same port.
    let a_dir = work.join("aysel");
    std::fs::create_dir_all(&a_dir).unwrap();
    let password = t.desk_phone_password(&app, "1001").await;
    let port = free_port().to_string();
    let reg = sipp(
        &a_dir,
        "register",
        &register(&domain, "1001", &password),
        &["-p", &port, "-s", "1001", &gw.addr],
    );
    finished(reg, &a_dir, "REGISTER").await;
    let talk = desk_call(
        &domain,
        "1001",
        &password,
        "1002",
        &answered_then_bye("1001", &domain, "1002"),
    );
    run(&a_dir, "call", &talk, &port, &gw.addr).await;
    finished(bob_phone, &bob_dir, "Bob's desk phone").await;

    // The gateway reported an internal call, not a trunk call; each leg heard the other.
    let mut r = app.state.redis();
    let stream = app.state.cfg.call_events_stream.clone();
    let evs = common::eventually(15, "both recordings", || {
        let (mut r, stream) = (r.clone(), stream.clone());
        async move {
            let evs = gateway_events(&mut r, &stream).await;
            let n = evs
                .iter()
                .filter(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
                .count();
            (n >= 2).then_some(evs)
        }
    })
    .await;
    let inbound = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::InternalCall {
                call_id,
                from_ext,
                to,
                ..
            } if from_ext == "1001" && to == "1002" => Some(*call_id),
            _ => None,
        })
        .expect("an internal call event");
    assert!(
        !evs.iter()
            .any(|e| matches!(e, GatewayEvent::CallStarted { .. })),
        "no trunk call: {evs:#?}"
    );
    let mut legs: Vec<Uuid> = vec![];
    for e in &evs {
        if let GatewayEvent::RecordingFinished { call_id, path, .. } = e {
            let (_, heard) = stereo_channels(Path::new(path));
            let level = rms(&heard);
            assert!(
                level > 300.0,
                "leg {call_id} heard (almost) nothing: {level}"
            );
            legs.push(*call_id);
        }
    }
    assert!(legs.contains(&inbound), "{legs:?}");
    // Both legs ended.
    for leg in &legs {
        assert!(
            evs.iter()
                .any(|e| matches!(e, GatewayEvent::Hangup { call_id, .. } if call_id == leg)),
            "leg {leg} not hung up"
        );
    }
    // The call log: an internal call from Aysel to Bob, answered.
    let rows = common::ok(
        t.admin
            .get(app.url("/api/v1/calls?direction=internal"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let row = &rows["items"][0];
    assert_eq!(row["caller"], "1001", "{rows}");
    assert_eq!(row["callee"], "1002", "{rows}");
    assert_eq!(row["outcome"], "answered", "{rows}");
    let (agent, callee): (Option<Uuid>, Option<Uuid>) =
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT agent_id, callee_user_id FROM {}.cdrs WHERE direction = 'internal'",
            hotline_backend::db::schema_name(t.id)
        )))
        .fetch_one(&app.state.db)
        .await
        .unwrap();
    assert_eq!((agent, callee), (Some(aysel), Some(bob)));

    // An unknown extension: 404 (after the phone authenticated).
    let refused = |status: u16| {
        format!("  <recv response=\"180\" optional=\"true\"/>\n  <recv response=\"{status}\"/>\n{{ack}}")
    };
    let unknown = desk_call(&domain, "1001", &password, "1099", &refused(404));
    run(&a_dir, "unknown", &unknown, &port, &gw.addr).await;
    // A wrong password: 403, and the backend never hears of the call.
    let before = gateway_events(&mut r, &stream).await.len();
    let wrong = desk_call(&domain, "1001", "not-the-password", "1002", &refused(403));
    run(&a_dir, "wrong", &wrong, &port, &gw.addr).await;
    let after = gateway_events(&mut r, &stream).await;
    assert!(
        !after[before..].iter().any(|e| matches!(
            e,
            GatewayEvent::InternalCall { .. } | GatewayEvent::CallStarted { .. }
        )),
        "{:#?}",
        &after[before..]
    );
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}
