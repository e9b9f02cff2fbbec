//! Callers whose SIP is malformed still reach the call center, with clean data: INVITEs whose
//! From carries a display name with NUL, bytes that are not UTF-8 or 10 kB of name, and user
//! parts with control characters or 10 kB of digits, sent to the real gateway; each call runs
//! the tenant's published flow into its queue, and its CDR (what the call history and the
//! screen pop read) stores the caller's number without control characters, at most 64
//! characters — never a NUL reaching Postgres, never a dropped call.
//!
//! The INVITEs are written byte by byte on a UDP socket (SIPp's scenario files cannot hold a
//! NUL byte). Needs the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use common::{eventually, gateway, tenant, workdir};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::gateway_events;
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_caller_names_and_numbers_reach_the_queue_with_a_clean_caller() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Bad Sip Water").await;
    let did = "+994125559301";
    let q = t
        .queue_on_number(
            &app,
            json!({ "name": "Front desk", "strategy": "longest_idle", "max_wait_seconds": 0,
                    "wrap_up_seconds": 0 }),
            did,
        )
        .await;
    let work = workdir("bad-sip");
    let gw = gateway(&app, &work, 7, false);
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let local = sock.local_addr().unwrap();
    let long_user = format!("+{}", "5".repeat(10_000));
    let cases: Vec<(Vec<u8>, Vec<u8>, String)> = vec![
        (
            b"\"Bo\0b\"".to_vec(),
            b"+15550009301".to_vec(),
            "+15550009301".into(),
        ),
        (
            b"\"J\xf6rg \xff\"".to_vec(),
            b"+1555\x010009\x7f302".to_vec(),
            "+15550009302".into(),
        ),
        (
            format!("\"{}\"", "N".repeat(10_000)).into_bytes(),
            long_user.clone().into_bytes(),
            long_user[..64].to_string(),
        ),
    ];
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    for (i, (name, user, want)) in cases.iter().enumerate() {
        let sip_call_id = format!("bad-sip-{i}-{}", uuid::Uuid::new_v4().simple());
        let mut m = format!(
            "INVITE sip:{did}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-b{i}\r\nFrom: "
        )
        .into_bytes();
        m.extend_from_slice(name);
        m.extend_from_slice(b" <sip:");
        m.extend_from_slice(user);
        m.extend_from_slice(
            format!(
                "@127.0.0.1>;tag=t{i}\r\nTo: <sip:{did}@127.0.0.1>\r\nCall-ID: {sip_call_id}\r\n\
                 CSeq: 1 INVITE\r\nContact: <sip:caller@{local}>\r\nMax-Forwards: 70\r\n\
                 Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            )
            .as_bytes(),
        );
        sock.send_to(&m, &gw.addr).unwrap();
        let r = app.state.redis();
        let stream = app.state.cfg.call_events_stream.clone();
        let call = eventually(20, "the call started", || {
            let (mut r, stream, sip_call_id) = (r.clone(), stream.clone(), sip_call_id.clone());
            async move {
                gateway_events(&mut r, &stream)
                    .await
                    .into_iter()
                    .find_map(|e| match e {
                        GatewayEvent::CallStarted {
                            call_id,
                            sip_call_id: s,
                            ..
                        } if s == sip_call_id => Some(call_id),
                        _ => None,
                    })
            }
        })
        .await;
        // The call waits in the queue (nobody is ready); its CDR has the clean number.
        let url = app.url(&format!("/api/v1/calls/{call}"));
        let c = eventually(20, "the call queued with its CDR", || {
            let (admin, url) = (t.admin.clone(), url.clone());
            async move {
                let r = admin.get(url).send().await.ok()?;
                let c: serde_json::Value = r.json().await.ok()?;
                (!c["cdr"]["queued_at"].is_null()).then_some(c)
            }
        })
        .await;
        assert_eq!(c["cdr"]["caller"], json!(want), "case {i}: {c}");
        assert_eq!(c["cdr"]["queue_id"], q["id"], "case {i}: {c}");
    }
}
