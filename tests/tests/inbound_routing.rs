//! How the ACD routes real inbound calls, end to end, with agents on SIP phones (SIPp
//! registered to the real gateway with digest auth) and callers on SIPp:
//!
//! (ring-no-answer has its own file, `inbound_ring_no_answer.rs`, as it needs the ACD's tick)
//! - skills: a call in a skills-based queue goes to the agent with the best level of the
//!   required skill, not to an agent without it nor a less skilled one, both idle longer;
//! - bad input from desktops (malformed SDP offers, a gateway preference naming no live
//!   gateway, a message on the events WebSocket) gets a precise 4xx / close reason, and the
//!   call in progress on the same gateway is not touched.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary (`cargo build -p hotline-gateway`).

mod common;

use std::time::Duration;

use common::{
    acd_agent, bridged, caller, cdr, finished, gateway, hangup_cause, set_state, sip_trace, tenant,
    workdir, ANSWERING_PHONE, PASSWORD,
};
use futures::{SinkExt, StreamExt};
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{free_port, scenario, sipp, Proc};
use hotline_wire::gateway::HangupCause;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_needing_a_skill_goes_to_the_best_skilled_agent_not_the_longest_idle() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Skill Water").await;
    let did = "+994125559202";
    let number = "+15550007202";
    let skill = t
        .post(&app, "/api/v1/skills", json!({ "name": "arabic" }))
        .await["id"]
        .clone();
    t.queue_on_number(
        &app,
        json!({ "name": "Arabic desk", "strategy": "skills_based", "max_wait_seconds": 0,
                "wrap_up_seconds": 0, "required_skills": [{ "skill_id": skill, "level": 1 }] }),
        did,
    )
    .await;
    // Cavid has no Arabic, Aysel a little, Bob a lot; they become ready in that order, so
    // Cavid and then Aysel have waited longer than Bob.
    let agents = [
        ("cavid", "Cavid", "1001", None),
        ("aysel", "Aysel", "1002", Some(1)),
        ("bob", "Bob", "1003", Some(5)),
    ];
    let work = workdir("skills");
    let gw = gateway(&app, &work, 1, false);
    let mut ids = vec![];
    let mut phones = vec![];
    let mut dirs = vec![];
    for (login, name, ext, level) in agents {
        let skills: Vec<_> = level.map(|l| (skill.clone(), l)).into_iter().collect();
        let email = format!("{login}@skills.test");
        ids.push(t.agent(&app, &email, name, Some(ext), &skills).await);
        let dir = work.join(login);
        phones.push(
            t.sip_phone(&app, &gw.addr, &dir, ext, ANSWERING_PHONE)
                .await,
        );
        dirs.push(dir);
        let c = t.login(&app, &email).await;
        set_state(&app, &c, "ready").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let cust_dir = work.join("cust");
    std::fs::create_dir_all(&cust_dir).unwrap();
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(&caller(number, 5_000, 2_000)),
        &["-s", did, "-mp", &free_port().to_string(), &gw.addr],
    );
    let (call, _, _) = bridged(&app, number).await;
    finished(customer, &cust_dir, "caller").await;
    let bob_phone = phones.pop().unwrap();
    finished(bob_phone, &dirs[2], "Bob's phone").await;
    // Neither Cavid's nor Aysel's phone ever rang.
    for d in &dirs[..2] {
        assert!(
            !sip_trace(d).contains("INVITE sip:"),
            "{} was offered the call",
            d.display()
        );
    }
    let got: Vec<u64> = ids
        .iter()
        .map(|a| acd_agent(&app, t.id, *a).answered)
        .collect();
    assert_eq!(got, vec![0, 0, 1], "answered calls of Cavid, Aysel, Bob");
    let c = cdr(&app, &t.admin, call).await;
    assert_eq!(c["cdr"]["agent_name"], "Bob", "{c:#}");
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    // The phones that never rang are stopped.
    drop(phones.into_iter().map(Proc).collect::<Vec<_>>());
    drop(gw);
    let _ = std::fs::remove_dir_all(&work);
}

/// A minimal offer that passes the backend's first look (SDP, audio) but is not valid SDP.
const BROKEN_SDP: &str = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=this is not sdp\r\n";

/// A browser offer with Opus only: well formed, but the gateway speaks G.711.
const OPUS_ONLY: &str = "v=0\r\n\
o=- 4611731400430051336 2 IN IP4 127.0.0.1\r\n\
s=-\r\n\
t=0 0\r\n\
a=group:BUNDLE 0\r\n\
m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n\
c=IN IP4 0.0.0.0\r\n\
a=ice-ufrag:abcd\r\n\
a=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
a=fingerprint:sha-256 6B:8B:5D:EA:59:04:20:23:29:C8:87:1C:CC:87:32:BE:DD:8C:66:A5:8E:50:55:EA:8C:D3:B6:5C:09:5E:D6:BC\r\n\
a=setup:actpass\r\n\
a=mid:0\r\n\
a=sendrecv\r\n\
a=rtcp-mux\r\n\
a=rtpmap:111 opus/48000/2\r\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_desktop_input_is_refused_precisely_and_the_call_in_progress_is_untouched() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Bad Water").await;
    let did = "+994125559203";
    let number = "+15550007203";
    t.queue_on_number(
        &app,
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    t.agent(&app, "aysel@bad.test", "Aysel", Some("1001"), &[])
        .await;
    t.agent(&app, "bob@bad.test", "Bob", None, &[]).await;
    let work = workdir("badinput");
    let mut gw = gateway(&app, &work, 2, true);
    let (phone_dir, cust_dir) = (work.join("phone"), work.join("cust"));
    let phone = t
        .sip_phone(&app, &gw.addr, &phone_dir, "1001", ANSWERING_PHONE)
        .await;
    let ca = t.login(&app, "aysel@bad.test").await;
    set_state(&app, &ca, "ready").await;
    std::fs::create_dir_all(&cust_dir).unwrap();
    // A call between a customer and Aysel is in progress on the gateway.
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(&caller(number, 9_000, 3_000)),
        &["-s", did, "-mp", &free_port().to_string(), &gw.addr],
    );
    let (call, leg, _) = bridged(&app, number).await;

    // Bob's desktop misbehaves: every malformed softphone offer gets a 4xx naming the problem.
    let cb = t.login(&app, "bob@bad.test").await;
    let offer = |body: reqwest::Body, ctype: &'static str| {
        let (cb, url) = (cb.clone(), app.url("/api/v1/agent/softphone"));
        async move {
            let r = cb
                .post(url)
                .header("content-type", ctype)
                .body(body)
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.text().await.unwrap())
        }
    };
    let json_offer = |sdp: &str| {
        let b = serde_json::to_vec(&json!({ "sdp": sdp })).unwrap();
        offer(b.into(), "application/json")
    };
    let cases: Vec<(&str, (u16, String), &str)> = vec![
        (
            "not SDP",
            json_offer("hello").await,
            "must be an SDP offer with an audio section",
        ),
        (
            "SDP the gateway cannot parse",
            json_offer(BROKEN_SDP).await,
            "malformed SDP offer",
        ),
        (
            "no common codec",
            json_offer(OPUS_ONLY).await,
            "no common audio codec",
        ),
        (
            "sdp of the wrong type",
            offer(r#"{"sdp": 42}"#.into(), "application/json").await,
            "sdp",
        ),
        (
            "not JSON",
            offer("v=0".into(), "application/json").await,
            "malformed_body",
        ),
        (
            "a gateway that is not running",
            offer(
                serde_json::to_vec(&json!({ "sdp": "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\n",
                                            "gateway_id": "no-such-gateway" }))
                .unwrap()
                .into(),
                "application/json",
            )
            .await,
            "no live media gateway with WebRTC",
        ),
        (
            "a gateway of the wrong type",
            offer(
                r#"{"sdp": "v=0\r\nm=audio 9 RTP/AVP 0\r\n", "gateway_id": 7}"#.into(),
                "application/json",
            )
            .await,
            "gateway_id",
        ),
    ];
    for (what, (status, body), says) in &cases {
        assert!(
            (400..500).contains(status),
            "{what}: {status} {body} (a 4xx expected)"
        );
        assert!(
            body.contains(says),
            "{what}: {status} {body} (should say {says:?})"
        );
    }
    // Aysel's own desktop too, while she is on the call: refused, her call stays.
    let (status, body) = {
        let b = serde_json::to_vec(&json!({ "sdp": BROKEN_SDP })).unwrap();
        let r = ca
            .post(app.url("/api/v1/agent/softphone"))
            .header("content-type", "application/json")
            .body(b)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    };
    assert_eq!(status, 422, "{body}");

    // Bob's events socket: a message from the desktop is refused with a close frame saying
    // why (1003, unsupported data), right after the hello.
    let login = reqwest::Client::new()
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": t.slug, "email": "bob@bad.test", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = login
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    let ws_url = app.url("/api/v1/agent/events").replacen("http", "ws", 1);
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        ws_url.as_str(),
    )
    .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    use tokio_tungstenite::tungstenite::Message;
    let hello = ws.next().await.unwrap().unwrap();
    assert!(hello.to_text().unwrap().contains("\"hello\""), "{hello:?}");
    ws.send(Message::Text(r#"{"type":"accept","call":"nope"}"#.into()))
        .await
        .unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(f))) => break f,
                Some(Ok(_)) => continue,
                other => panic!("no close frame: {other:?}"),
            }
        }
    })
    .await
    .expect("the socket was not closed");
    let f = closed.expect("a close frame with a code");
    assert_eq!(u16::from(f.code), 1003, "{f:?}");
    assert!(f.reason.contains("only sends events"), "{f:?}");

    // The gateway is still running and the call goes on until the customer hangs up.
    assert!(gw.proc.0.try_wait().unwrap().is_none(), "the gateway died");
    finished(customer, &cust_dir, "caller").await;
    finished(phone, &phone_dir, "Aysel's phone").await;
    assert_eq!(hangup_cause(&app, call).await, HangupCause::CallerBye);
    // The agent's leg ended because the caller left (the gateway hung it up), not before.
    assert_eq!(hangup_cause(&app, leg).await, HangupCause::GatewayBye);
    let c = cdr(&app, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["agent_name"], "Aysel", "{c:#}");
    let _ = std::fs::remove_dir_all(&work);
}
