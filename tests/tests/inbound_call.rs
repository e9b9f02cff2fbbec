//! One real inbound call end to end, without a browser: a SIPp caller dials the tenant's
//! number on the real gateway; the backend runs the tenant's published IVR flow, queues the
//! call in the ACD, rings the ready agent's registered SIP phone (a second SIPp, registered
//! with digest auth), bridges the two legs when the phone answers, and ends the agent leg when
//! the caller hangs up. The agent leg's recording proves the caller's audio reached the agent.
//!
//! Needs `sipp` (Debian `sip-tester`) and the gateway binary built (`cargo build --bins`, as
//! `infra/test.sh` does).

use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{
    free_port, gateway_events, rms, scenario, sipp, start_gateway, stereo_channels, wait_ok,
};
use hotline_wire::gateway::GatewayEvent;
use serde_json::json;
use std::time::Duration;
use uuid::Uuid;

const DID: &str = "+994125559001";
const CALLER: &str = "+15550007777";

fn register(domain: &str, password: &str) -> String {
    let req = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500"><![CDATA[
      REGISTER sip:{domain} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@{domain}>;tag=[pid]reg[call_number]
      To: <sip:1001@{domain}>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Expires: 300
      Max-Forwards: 70
{auth}      Content-Length: 0

    ]]></send>
"#
        )
    };
    scenario(
        &(req(1, "")
            + "  <recv response=\"401\" auth=\"true\"/>\n"
            + &req(
                2,
                &format!("      [authentication username=1001 password={password}]\n"),
            )
            + "  <recv response=\"200\"/>\n"),
    )
}

/// The agent's phone: rings, answers after a second, stays until the gateway hangs up.
const PHONE: &str = r#"  <recv request="INVITE"/>
  <send><![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]></send>
  <pause milliseconds="1000"/>
  <send retrans="500"><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]phone[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Contact: <sip:1001@[local_ip]:[local_port]>
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=phone 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
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
"#;

/// The customer: dials, waits for the flow and the agent, speaks (SIPp's A-law sample, twice, so
/// that a slow machine that bridges late still carries some of it), hangs up.
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
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
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
  <pause milliseconds="4000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="8000"/>
  <nop><action><exec play_pcap_audio="/usr/share/sip-tester/g711a.pcap"/></action></nop>
  <pause milliseconds="5000"/>
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
async fn a_caller_reaches_the_ready_agents_phone_through_the_ivr_and_acd() {
    let app = TestApp::spawn().await;
    let (admin, info) = app.signup("Inbound Water").await;
    let tenant = info.tenant.id;
    let slug = info.tenant.slug.clone();
    let url = |p: &str| app.url(p);
    let ok = |r: reqwest::Response| async move {
        let s = r.status();
        let body = r.text().await.unwrap();
        assert!(s.is_success(), "{s}: {body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()
    };

    // The tenant's set-up: a queue, an agent with extension 1001, a flow, the number.
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
    let agent = ok(admin
        .post(url("/api/v1/users"))
        .json(&json!({ "email": "aysel@water.test", "name": "Aysel", "password": "correct horse battery",
                       "role_id": agent_role, "extension": "1001" }))
        .send()
        .await
        .unwrap())
    .await;
    let agent_id: Uuid = agent["id"].as_str().unwrap().parse().unwrap();
    let flow = ok(admin
        .post(url("/api/v1/ivr/flows"))
        .json(&json!({ "name": "Main", "is_default": true, "graph": {
            "start": "hello",
            "nodes": {
                "hello": { "type": "play", "prompt": "greeting", "next": "water" },
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
    hotline_backend::gateway_sync::publish_slug(&app.state, &slug, tenant)
        .await
        .unwrap();
    // The phone's SIP account, created by the admin: the password is shown once.
    let phone = ok(admin
        .post(url(&format!("/api/v1/users/{agent_id}/desk-phone")))
        .send()
        .await
        .unwrap())
    .await;
    let phone_password = phone["password"].as_str().unwrap().to_string();
    let mut r = app.state.redis();

    // The real gateway, publishing to this test's event stream.
    let work = std::env::temp_dir().join(format!("hotline-inbound-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    let rtp = 42_000 + (std::process::id() % 200) as u16 * 40;
    let gw = start_gateway(
        &work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        &[],
    );
    let gw_addr = gw.addr.clone();

    // The agent's phone registers, then waits for calls on the same port.
    let phone_port = free_port().to_string();
    let phone_dir = work.join("phone");
    std::fs::create_dir_all(&phone_dir).unwrap();
    let domain = format!("{slug}.hotline.test");
    let reg = sipp(
        &phone_dir,
        "register",
        &register(&domain, &phone_password),
        &["-p", &phone_port, "-s", "1001", &gw_addr],
    );
    let pd = phone_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(reg, &pd, "REGISTER"))
        .await
        .unwrap();
    let phone = sipp(
        &phone_dir,
        "phone",
        &scenario(PHONE),
        &["-p", &phone_port, "-mp", &free_port().to_string()],
    );

    // The agent logs in and becomes ready (the ACD now knows them).
    let agent_client = app.client();
    ok(agent_client
        .post(url("/api/v1/auth/login"))
        .json(&json!({ "tenant": slug, "email": "aysel@water.test", "password": "correct horse battery" }))
        .send()
        .await
        .unwrap())
    .await;
    ok(agent_client
        .put(url("/api/v1/agent/state"))
        .json(&json!({ "status": "ready" }))
        .send()
        .await
        .unwrap())
    .await;

    // The customer calls.
    let cust_dir = work.join("customer");
    std::fs::create_dir_all(&cust_dir).unwrap();
    let customer = sipp(
        &cust_dir,
        "customer",
        &scenario(CUSTOMER),
        &["-s", DID, "-mp", &free_port().to_string(), &gw_addr],
    );
    let cd = cust_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(customer, &cd, "customer call"))
        .await
        .unwrap();
    let pd = phone_dir.clone();
    tokio::task::spawn_blocking(move || wait_ok(phone, &pd, "agent phone"))
        .await
        .unwrap();

    // What happened, from the event stream: the customer's call and an agent leg, bridged.
    let mut evs: Vec<GatewayEvent> = Vec::new();
    for _ in 0..50 {
        evs = gateway_events(&mut r, &app.state.cfg.call_events_stream).await;
        if evs
            .iter()
            .filter(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
            .count()
            >= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let log = std::fs::read_to_string(work.join("gateway.log")).unwrap_or_default();
    let customer_call = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::CallStarted {
                call_id, caller, ..
            } if caller == CALLER => Some(*call_id),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no call_started: {evs:#?}\n{log}"));
    let leg = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::Bridged { call_id, peer, .. } if *call_id == customer_call => Some(*peer),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the customer was never bridged to an agent: {evs:#?}\n{log}"));
    // The agent leg's recording: right channel = what the agent heard = the customer's voice.
    let path = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::RecordingFinished { call_id, path, .. } if *call_id == leg => {
                Some(path.clone())
            }
            _ => None,
        })
        .unwrap_or_else(|| panic!("no recording of the agent leg: {evs:#?}"));
    let (_, heard) = stereo_channels(std::path::Path::new(&path));
    let rms = rms(&heard);
    assert!(rms > 300.0, "the agent heard (almost) nothing: rms {rms}");
    // The ACD: the agent was offered the call, took it, and is free again after it ended.
    let mut con = redis::Client::open(app.state.cfg.redis_url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let acd =
        hotline_acd::redis_acd::snapshot(&mut con, &hotline_backend::call_io::acd_keys(tenant))
            .unwrap();
    let a = &acd.agents[&agent_id.to_string()];
    assert_eq!((a.state.as_str(), a.answered), ("ready", 1), "{a:?}");
    assert!(acd.calls.is_empty(), "{:?}", acd.calls);
    let _ = std::fs::remove_dir_all(&work);
}
