//! Tenant SIP trunks ("bring your own carrier") against the real gateway binary: the trunks
//! are written to Redis `platform:trunks` exactly as the backend does
//! (`hotline_wire::trunks`), and SIPp plays the tenant's carrier — the registrar that
//! challenges or refuses, the carrier that receives the outbound INVITE, the carrier that
//! sends calls in. Requires the Debian packages `sip-tester` and `redis-server`.

#[allow(unused_imports)]
mod common;

use common::*;
use hotline_wire::gateway::{self as wire, DidEntry, GatewayCommand, GatewayEvent, HangupCause};
use hotline_wire::trunks::{
    CallerIdRule, NumberFormat, TrunkCodec, TrunkConfig, TrunkMode, TrunkState, TrunkStatus,
    TRUNKS_KEY, TRUNK_STATUS_KEY,
};
use std::time::{Duration, Instant};
use uuid::Uuid;

fn trunk(tenant: Uuid, mode: TrunkMode, port: u16) -> TrunkConfig {
    TrunkConfig {
        id: Uuid::new_v4(),
        tenant_id: tenant,
        name: "my carrier".into(),
        mode,
        host: "127.0.0.1".into(),
        port,
        outbound_proxy: None,
        username: "acme".into(),
        auth_username: Some("acme-auth".into()),
        password: "carrier-secret".into(),
        register_expires: 120,
        allowed_ips: Vec::new(),
        codecs: vec![TrunkCodec::Pcma],
        callee_format: NumberFormat::National,
        country_code: "48".into(),
        national_prefix: "0".into(),
        caller_id: CallerIdRule::default(),
        inbound_dids: vec!["+48221234567".into()],
        outbound: true,
    }
}

fn put_trunk(r: &RedisHandle, t: &TrunkConfig) {
    let _: () = redis::cmd("HSET")
        .arg(TRUNKS_KEY)
        .arg(t.id.to_string())
        .arg(serde_json::to_string(t).unwrap())
        .query(&mut r.con())
        .unwrap();
}

fn del_trunk(r: &RedisHandle, t: &TrunkConfig) {
    let _: () = redis::cmd("HDEL")
        .arg(TRUNKS_KEY)
        .arg(t.id.to_string())
        .query(&mut r.con())
        .unwrap();
}

fn status(r: &RedisHandle, t: &TrunkConfig) -> Option<TrunkStatus> {
    let json: Option<String> = redis::cmd("HGET")
        .arg(TRUNK_STATUS_KEY)
        .arg(t.id.to_string())
        .query(&mut r.con())
        .unwrap();
    json.map(|j| serde_json::from_str(&j).unwrap())
}

fn wait_status(
    r: &RedisHandle,
    gw: &Gateway,
    t: &TrunkConfig,
    what: &str,
    pred: impl Fn(&Option<TrunkStatus>) -> bool,
) -> Option<TrunkStatus> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = status(r, t);
        if pred(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "trunk status never {what}: {s:?}\n--- gateway log:\n{}",
            gw.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn add_did(r: &RedisHandle, did: &str, tenant: Uuid) {
    let _: () = redis::cmd("HSET")
        .arg(wire::DIDS_KEY)
        .arg(did)
        .arg(serde_json::to_string(&DidEntry { tenant_id: tenant }).unwrap())
        .query(&mut r.con())
        .unwrap();
}

/// A gateway that re-reads the trunks every 300 ms; the platform trusts only 10.0.0.0/8 (so
/// loopback traffic is admitted only as a tenant trunk's), and its own outbound trunk (with
/// its own credentials) is `platform_trunk`.
fn gateway(redis: &Redis, platform_trunk: u16, flow: &'static str) -> Gateway {
    Gateway::start(
        redis,
        GatewayOpts {
            flow,
            extra_env: vec![
                ("HOTLINE_GW_TRUNKS_REFRESH_MS".into(), "300".into()),
                ("HOTLINE_GW_TRUNK_ACL".into(), "10.0.0.0/8".into()),
                (
                    "HOTLINE_GW_TRUNK".into(),
                    format!("127.0.0.1:{platform_trunk}"),
                ),
                ("HOTLINE_GW_TRUNK_USER".into(), "platform-user".into()),
                ("HOTLINE_GW_TRUNK_PASSWORD".into(), "platform-pw".into()),
            ],
            ..GatewayOpts::default()
        },
    )
}

fn assert_ok(run: &SippRun, gw: &Gateway) {
    assert!(
        run.ok,
        "sipp failed:\n{}\n--- gateway log:\n{}",
        run.output,
        gw.log_text()
    );
}

/// A SIPp scenario; the checks' variables are declared used (SIPp refuses variables set once
/// and never read).
fn scenario(body: &str) -> String {
    let mut vars: Vec<&str> = body
        .split("assign_to=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|v| v.starts_with("chk"))
        .collect();
    vars.sort();
    vars.dedup();
    let reference = if vars.is_empty() {
        String::new()
    } else {
        format!("  <Reference variables=\"{}\"/>\n", vars.join(","))
    };
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"carrier\">\n{body}{reference}</scenario>\n")
}

/// A response to the last request, with `extra` header lines.
fn respond(status: &str, to_tag: bool, extra: &str) -> String {
    let tag = if to_tag {
        ";tag=[pid]carrier[call_number]"
    } else {
        ""
    };
    format!(
        r#"  <send>
    <![CDATA[
      SIP/2.0 {status}
      [last_Via:]
      [last_From:]
      [last_To:]{tag}
      [last_Call-ID:]
      [last_CSeq:]
{extra}      Content-Length: 0

    ]]>
  </send>
"#
    )
}

/// Receives a request and checks `header` against `regexp` (the run fails otherwise).
fn recv_checked(method: &str, checks: &[(&str, &str)]) -> String {
    if checks.is_empty() {
        return format!("  <recv request=\"{method}\"/>\n");
    }
    let mut actions = String::new();
    for (i, (header, regexp)) in checks.iter().enumerate() {
        let (search, hdr) = if header.is_empty() {
            ("msg".to_string(), String::new())
        } else {
            ("hdr".to_string(), format!(" header=\"{header}:\""))
        };
        actions += &format!(
            "      <ereg regexp=\"{regexp}\" search_in=\"{search}\"{hdr} check_it=\"true\" assign_to=\"chk{i}\"/>\n"
        );
    }
    format!("  <recv request=\"{method}\">\n    <action>\n{actions}    </action>\n  </recv>\n")
}

/// The registrar: 401 with a challenge, then the REGISTER carrying the right digest
/// (username, realm, uri checked, and the response verified with the password) → 200 for
/// 120 s; when the trunk is deleted, the `Expires: 0` REGISTER → 200.
fn registrar(port: u16) -> String {
    let authz = format!(
        "Digest username=.acme-auth., realm=.carrier., nonce=.n0nce., uri=.sip:127\\.0\\.0\\.1:{port}."
    );
    let body = recv_checked(
        "REGISTER",
        &[
            ("Contact", "sip:acme@127\\.0\\.0\\.1:[0-9]+>"),
            ("To", "sip:acme@127\\.0\\.0\\.1:[0-9]+>"),
        ],
    ) + &respond(
        "401 Unauthorized",
        true,
        "      WWW-Authenticate: Digest realm=\"carrier\", nonce=\"n0nce\", qop=\"auth\"\n",
    ) + &recv_checked("REGISTER", &[("Authorization", &authz)]).replace(
        "    </action>",
        "      <verifyauth assign_to=\"authok\" username=\"acme-auth\" password=\"carrier-secret\"/>\n    </action>",
    ) + "  <nop hide=\"true\" test=\"authok\" next=\"good\"/>\n  <recv request=\"NEVER\" timeout=\"100\"/>\n  <label id=\"good\"/>\n"
        + &respond(
            "200 OK",
            true,
            "      Contact: <sip:acme@127.0.0.1:5999>;expires=3600, <[$contact]>;expires=120\n",
        )
        + &recv_checked("REGISTER", &[("", "Expires: 0[^0-9]")])
        + &respond("200 OK", true, "");
    // `[$contact]`: the REGISTER's own Contact, captured from the first request.
    scenario(&body.replacen(
        "    <action>\n",
        "    <action>\n      <ereg regexp=\"sip:[^>;]*\" search_in=\"hdr\" header=\"Contact:\" assign_to=\"contact\"/>\n",
        1,
    ))
}

/// A `register` trunk: challenged, registered with the right digest → `registered` in Redis
/// with the granted expiry; deleted → unregistered (`Expires: 0`) and its status removed.
#[test]
fn a_register_trunk_answers_the_challenge_and_is_registered() {
    let redis = Redis::start();
    let gw = gateway(&redis, free_ports(1), "backend");
    let port = free_ports(1);
    let dir = TempDir::new("registrar");
    let d = dir.path().to_path_buf();
    let carrier = std::thread::spawn(move || sipp_uas(&d, &registrar(port), port));
    std::thread::sleep(Duration::from_millis(500));
    let t = trunk(Uuid::new_v4(), TrunkMode::Register, port);
    put_trunk(&redis, &t);
    let st = wait_status(&redis, &gw, &t, "registered", |s| {
        s.as_ref()
            .is_some_and(|s| s.state == TrunkState::Registered)
    })
    .unwrap();
    assert_eq!(st.status, Some(200));
    assert_eq!(st.gateway_id, gw.id);
    let left = (st.expires_at.unwrap() - st.at).num_seconds();
    assert_eq!(
        left, 120,
        "the expiry granted to our contact, not another's"
    );
    del_trunk(&redis, &t);
    let run = carrier.join().unwrap();
    assert_ok(&run, &gw);
    wait_status(&redis, &gw, &t, "removed", |s| s.is_none());
}

/// A registrar that refuses: `failed` with its status and reason phrase.
#[test]
fn a_refused_registration_is_failed_with_the_carriers_status_and_reason() {
    let redis = Redis::start();
    let gw = gateway(&redis, free_ports(1), "backend");
    let port = free_ports(1);
    let dir = TempDir::new("registrar");
    let d = dir.path().to_path_buf();
    let refuse =
        scenario(&(recv_checked("REGISTER", &[]) + &respond("403 Account Suspended", true, "")));
    let carrier = std::thread::spawn(move || sipp_uas(&d, &refuse, port));
    std::thread::sleep(Duration::from_millis(500));
    let t = trunk(Uuid::new_v4(), TrunkMode::Register, port);
    put_trunk(&redis, &t);
    let st = wait_status(&redis, &gw, &t, "failed", |s| {
        s.as_ref().is_some_and(|s| s.state == TrunkState::Failed)
    })
    .unwrap();
    assert_eq!(st.status, Some(403));
    assert_eq!(st.reason.as_deref(), Some("Account Suspended"));
    assert!(st.expires_at.is_none());
    let run = carrier.join().unwrap();
    assert_ok(&run, &gw);
}

/// The carrier of an outbound call: the INVITE's Request-URI and From follow the trunk's
/// number format and caller-ID rule and offer only its codec; 407; the re-INVITE carries
/// tenant X's credentials (never tenant Y's, whose trunk is at the same address, nor the
/// platform's); answered; BYE. (SIPp's `verifyauth` reads `Authorization` only: the test
/// verifies the `Proxy-Authorization` response from SIPp's message log.)
fn outbound_carrier(port: u16) -> String {
    let proxy_authz = format!(
        "Digest username=.x-user., realm=.carrier., nonce=.n1., uri=.sip:0221234567@127\\.0\\.0\\.1:{port}."
    );
    let ok = r#"  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]carrier[call_number]
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
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]>
  </send>
"#;
    let body = recv_checked(
        "INVITE",
        &[
            (
                "",
                &format!("^INVITE sip:0221234567@127\\.0\\.0\\.1:{port} SIP/2\\.0"),
            ),
            ("From", "sip:0225550000@127\\.0\\.0\\.1:[0-9]+>"),
            ("", "m=audio [0-9]+ RTP/AVP 8 101"),
        ],
    ) + &respond(
        "407 Proxy Authentication Required",
        true,
        "      Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n1\"\n",
    ) + "  <recv request=\"ACK\"/>\n"
        + &recv_checked("INVITE", &[("Proxy-Authorization", &proxy_authz)])
        + ok
        + "  <recv request=\"ACK\" crlf=\"true\"/>\n  <recv request=\"BYE\"/>\n"
        + &respond("200 OK", false, "");
    scenario(&body)
}

#[test]
fn originate_leaves_through_the_tenants_trunk_with_its_number_format_and_credentials() {
    let redis = Redis::start();
    let gw = gateway(&redis, free_ports(1), "backend");
    let port = free_ports(1);
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    let mut tx = trunk(x, TrunkMode::Ip, port);
    tx.username = "x-user".into();
    tx.auth_username = None;
    tx.password = "x-pass".into();
    tx.caller_id = CallerIdRule {
        fixed: None,
        same_format_as_callee: true,
    };
    // Tenant Y's trunk at the very same carrier address, with its own account.
    let mut ty = trunk(y, TrunkMode::Ip, port);
    ty.username = "y-user".into();
    ty.auth_username = None;
    ty.password = "y-pass".into();
    put_trunk(&redis, &ty);
    put_trunk(&redis, &tx);
    wait_status(&redis, &gw, &tx, "ip", |s| {
        s.as_ref().is_some_and(|s| s.state == TrunkState::Ip)
    });
    let dir = TempDir::new("carrier");
    let d = dir.path().to_path_buf();
    let carrier = std::thread::spawn(move || sipp_uas(&d, &outbound_carrier(port), port));
    std::thread::sleep(Duration::from_millis(500));
    let call_id = Uuid::new_v4();
    redis.send_command(
        &gw.id,
        &GatewayCommand::Originate {
            call_id,
            tenant_id: x,
            caller: "+48225550000".into(),
            callee: "+48221234567".into(),
        },
    );
    redis.wait_events(15, "outbound answered", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::CallAnswered { call_id: c, tenant_id, .. } if *c == call_id && *tenant_id == x))
    });
    redis.send_command(
        &gw.id,
        &GatewayCommand::Hangup {
            call_id,
            status: None,
        },
    );
    let run = carrier.join().unwrap();
    assert_ok(&run, &gw);
    let header = run
        .output
        .lines()
        .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
        .expect("the re-INVITE's Proxy-Authorization in the carrier's message log");
    use hotline_gateway::sip::digest;
    let creds = digest::parse_authorization(header).unwrap();
    assert!(
        digest::verify(
            &creds,
            "INVITE",
            &digest::ha1("x-user", "carrier", "x-pass")
        ),
        "not tenant X's password: {header}"
    );
    for (user, pass) in [("y-user", "y-pass"), ("platform-user", "platform-pw")] {
        assert!(!digest::verify(
            &creds,
            "INVITE",
            &digest::ha1(user, "carrier", pass)
        ));
    }
    redis.wait_events(5, "hang-up", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { call_id: c, cause: HangupCause::GatewayBye, .. } if *c == call_id))
    });
}

/// The carrier calls in: SIPp as a UAC from the trunk's address to `number` (Request-URI
/// `ruri_user`, To `to_user`), expecting `status`; a 200 is ACKed and hung up.
fn inbound(ruri_user: &str, to_user: &str, status: u16) -> String {
    let branch = "z9hG4bK[pid]in[call_number]";
    let invite = format!(
        r#"  <send retrans="500">
    <![CDATA[
      INVITE sip:{ruri_user}@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: <sip:0601234567@[local_ip]>;tag=[pid]c[call_number]
      To: <sip:{to_user}@[remote_ip]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:carrier@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=carrier 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
"#
    );
    let ack = |b: &str, cseq: u32, uri: &str| {
        format!(
            r#"  <send>
    <![CDATA[
      ACK {uri} SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={b}
      From: <sip:0601234567@[local_ip]>;tag=[pid]c[call_number]
      To: <sip:{to_user}@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"#
        )
    };
    let rest = if status == 200 {
        "  <recv response=\"200\" rrs=\"true\"/>\n".to_string()
            + &ack("[branch]", 1, "[next_url]")
            + "  <pause milliseconds=\"300\"/>\n"
            + &format!(
                r#"  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:0601234567@[local_ip]>;tag=[pid]c[call_number]
      To: <sip:{to_user}@[remote_ip]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"#
            )
    } else {
        format!("  <recv response=\"{status}\"/>\n")
            + &ack(
                branch,
                1,
                &format!("sip:{ruri_user}@[remote_ip]:[remote_port]"),
            )
            + "  <pause milliseconds=\"200\"/>\n"
    };
    scenario(&(invite + &rest))
}

fn started(r: &RedisHandle) -> Vec<(Uuid, String)> {
    r.events()
        .into_iter()
        .filter_map(|e| match e {
            GatewayEvent::CallStarted { tenant_id, did, .. } => Some((tenant_id, did)),
            _ => None,
        })
        .collect()
}

/// Calls from the trunk's carrier (source address, or the registration contact) for the
/// trunk's number reach its tenant — though the platform ACL does not trust the source; a
/// number not on the trunk gets 404, even one `platform:dids` gives another tenant.
#[test]
fn a_trunks_inbound_calls_reach_its_tenant_and_only_for_its_numbers() {
    let redis = Redis::start();
    let gw = gateway(&redis, free_ports(1), "builtin");
    let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
    // The backend copies a trunk's inbound numbers to platform:dids for its tenant.
    add_did(&redis, "+48221234567", x);
    add_did(&redis, "+48227654321", y);
    // Loopback (SIPp's address) is the carrier's: host 127.0.0.1.
    let t = trunk(x, TrunkMode::Register, free_ports(1));
    put_trunk(&redis, &t);
    wait_status(&redis, &gw, &t, "reported", |s| s.is_some());
    let dir = TempDir::new("inbound");
    let run = |scen: String| {
        let run = sipp(&gw, dir.path(), &scen, "unused", &[]);
        assert_ok(&run, &gw);
    };
    // The trunk's number in national format, from the carrier's address.
    run(inbound("0221234567", "0221234567", 200));
    let evs = redis.wait_events(10, "the trunk call", |e| {
        e.iter().any(|e| {
            matches!(
                e,
                GatewayEvent::Hangup {
                    cause: HangupCause::CallerBye,
                    ..
                }
            )
        })
    });
    assert_eq!(
        started(&redis),
        vec![(x, "+48221234567".to_string())],
        "{evs:#?}"
    );
    // To the registration contact: the number is the To user.
    run(inbound("acme", "+48221234567", 200));
    redis.wait_events(10, "the contact call", |_| started(&redis).len() == 2);
    assert_eq!(started(&redis)[1], (x, "+48221234567".to_string()));
    // Y's number from X's carrier: 404, never Y's call; a number nobody has: 404.
    run(inbound("+48227654321", "+48227654321", 404));
    run(inbound("acme", "+48227654321", 404));
    run(inbound("0229999999", "0229999999", 404));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(started(&redis).len(), 2, "{:#?}", redis.events());
}
