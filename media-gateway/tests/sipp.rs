//! SIPp against the real gateway binary on loopback, with a private Redis per test.
//! Requires the Debian packages `sip-tester` and `redis-server`.

mod common;

use common::*;
use hotline_wire::gateway::{
    AmdResult, CollectEnd, DtmfSource, GatewayCommand, GatewayEvent, HangupCause,
};

const DID: &str = "+994125550100";
const CALLER: &str = "+15550001111";

fn invite(branch: &str, m_line: &str, rtpmaps: &str) -> String {
    format!(
        r#"  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: "Caller" <sip:{CALLER}@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      {m_line}
{rtpmaps}
    ]]>
  </send>
"#
    )
}

fn g711_invite(branch: &str) -> String {
    invite(
        branch,
        "m=audio [media_port] RTP/AVP 0 101",
        "      a=rtpmap:0 PCMU/8000\n      a=rtpmap:101 telephone-event/8000\n      a=fmtp:101 0-15",
    )
}

const ANSWERED: &str = r#"  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"#;

const CALLER_BYE: &str = r#"  <send retrans="500">
    <![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 3 BYE
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200" crlf="true"/>
"#;

const GATEWAY_BYE: &str = r#"  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
"#;

fn scenario(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"hotline\">\n{body}</scenario>\n")
}

fn pause(ms: u32) -> String {
    format!("  <pause milliseconds=\"{ms}\"/>\n")
}

fn play(pcap: &str) -> String {
    format!("  <nop><action><exec play_pcap_audio=\"{pcap}\"/></action></nop>\n")
}

fn assert_ok(run: &SippRun, gw: &Gateway) {
    assert!(
        run.ok,
        "sipp failed:\n{}\n--- gateway log:\n{}",
        run.output,
        gw.log_text()
    );
}

fn count<F: Fn(&GatewayEvent) -> bool>(evs: &[GatewayEvent], f: F) -> usize {
    evs.iter().filter(|e| f(e)).count()
}

#[test]
fn call_with_audio_is_answered_recorded_and_hung_up_by_caller() {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    write_pcmu_pcap(&dir.path().join("tone.pcap"), &tone(1000.0, 3.0, 8000.0));
    let body = g711_invite("[branch]") + ANSWERED + &play("tone.pcap") + &pause(3500) + CALLER_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.wait_events(10, "hangup and recording finished", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
            && e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    let started = evs.iter().find_map(|e| match e {
        GatewayEvent::CallStarted {
            tenant_id,
            caller,
            did,
            call_id,
            ..
        } => Some((*tenant_id, caller.clone(), did.clone(), *call_id)),
        _ => None,
    });
    let (t, caller, did, call_id) = started.expect("CallStarted");
    assert_eq!((t, caller.as_str(), did.as_str()), (tenant, CALLER, DID));
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::CallAnswered { .. })),
        1
    );
    assert!(
        evs.iter().any(|e| matches!(e, GatewayEvent::Hangup { cause: HangupCause::CallerBye, call_id: c, .. } if *c == call_id)),
        "{evs:#?}\n{}",
        gw.log_text()
    );
    let (path, duration_ms, size) = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::RecordingFinished {
                path,
                duration_ms,
                size_bytes,
                tenant_id,
                call_id: c,
                ..
            } => {
                assert_eq!((*tenant_id, *c), (tenant, call_id));
                Some((path.clone(), *duration_ms, *size_bytes))
            }
            _ => None,
        })
        .unwrap();
    assert!(
        (3000..=4000).contains(&duration_ms),
        "duration {duration_ms} ms not 3.5 s ± 0.5 s"
    );
    let meta = std::fs::metadata(&path).expect("recording exists");
    assert_eq!(meta.len(), size);
    let (channels, rate, samples) = read_wav(std::path::Path::new(&path));
    assert_eq!((channels, rate), (2, 8000));
    let secs = samples.len() as f64 / 2.0 / 8000.0;
    assert!((secs - 3.5).abs() <= 0.5, "wav lasts {secs} s");
    let left: Vec<i16> = samples.iter().step_by(2).copied().collect();
    let right: Vec<i16> = samples.iter().skip(1).step_by(2).copied().collect();
    let (l1000, l440) = (goertzel(&left, 8000, 1000.0), goertzel(&left, 8000, 440.0));
    assert!(
        l1000 > 100.0 * l440.max(1.0),
        "caller channel: 1 kHz power {l1000}, 440 Hz {l440}"
    );
    assert!(
        rms(&left) > 2000.0,
        "caller channel too quiet: {}",
        rms(&left)
    );
    // The right channel holds the fallback greeting beeps (440 Hz), not the caller's tone.
    assert!(goertzel(&right, 8000, 440.0) > goertzel(&right, 8000, 1000.0));
}

#[test]
fn gateway_hangs_up_after_builtin_flow_times_out() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            digit_timeout_ms: 500,
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]") + ANSWERED + GATEWAY_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.wait_events(10, "hangup", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    assert!(
        evs.iter().any(|e| matches!(
            e,
            GatewayEvent::Hangup {
                cause: HangupCause::GatewayBye,
                ..
            }
        )),
        "{evs:#?}"
    );
    assert!(evs.iter().any(|e| matches!(
        e,
        GatewayEvent::DigitsCollected {
            end: CollectEnd::Timeout,
            ..
        }
    )));
}

#[test]
fn rfc4733_dtmf_is_reported_and_selects_echo() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            echo_ms: 1000,
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(300)
        + &play("/usr/share/sip-tester/dtmf_2833_1.pcap")
        + GATEWAY_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.events();
    let digits: Vec<(char, DtmfSource)> = evs
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::Dtmf { digit, source, .. } => Some((*digit, *source)),
            _ => None,
        })
        .collect();
    assert_eq!(digits, vec![('1', DtmfSource::Rfc4733)], "{evs:#?}");
    // The key ends the greeting, or (on a slow machine) answers the menu that follows it.
    assert!(
        evs.iter().any(|e| matches!(
            e,
            GatewayEvent::PlaybackFinished {
                interrupted_by: Some('1'),
                ..
            }
        ) || matches!(e, GatewayEvent::DigitsCollected { digits, .. } if digits == "1")),
        "{evs:#?}"
    );
}

fn rejected_call(
    status: u16,
    m_line: &str,
    rtpmaps: &str,
    setup: impl Fn(&Redis),
) -> Vec<GatewayEvent> {
    rejected_call_with(status, m_line, rtpmaps, setup, GatewayOpts::default())
}

fn rejected_call_with(
    status: u16,
    m_line: &str,
    rtpmaps: &str,
    setup: impl Fn(&Redis),
    opts: GatewayOpts,
) -> Vec<GatewayEvent> {
    let redis = Redis::start();
    setup(&redis);
    let gw = Gateway::start(&redis, opts);
    let dir = TempDir::new("sipp");
    let branch = "z9hG4bK[pid]inv[call_number]";
    let body = invite(branch, m_line, rtpmaps)
        + &format!(
            r#"  <recv response="100" optional="true"/>
  <recv response="{status}"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"#
        )
        + &pause(200);
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    std::thread::sleep(std::time::Duration::from_millis(300));
    let evs = redis.events();
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::CallAnswered { .. })),
        0
    );
    assert!(
        !gw.recordings.path().join("rec").exists() || walk(&gw.recordings.path().join("rec")) == 0
    );
    evs
}

fn walk(p: &std::path::Path) -> usize {
    std::fs::read_dir(p)
        .map(|d| {
            d.flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        walk(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

const G711_M: &str = "m=audio [media_port] RTP/AVP 0";
const G711_MAP: &str = "      a=rtpmap:0 PCMU/8000";

#[test]
fn unknown_did_gets_404() {
    rejected_call(404, G711_M, G711_MAP, |_| {});
}

#[test]
fn blacklisted_caller_gets_403() {
    let evs = rejected_call(403, G711_M, G711_MAP, |r| {
        let t = r.add_did(DID);
        r.blacklist(t, CALLER);
    });
    assert!(evs.iter().any(|e| matches!(
        e,
        GatewayEvent::Hangup {
            cause: HangupCause::Rejected,
            status: Some(403),
            ..
        }
    )));
}

#[test]
fn unsupported_codec_gets_488() {
    rejected_call(
        488,
        "m=audio [media_port] RTP/AVP 18 96",
        "      a=rtpmap:18 G729/8000\n      a=rtpmap:96 opus/48000/2",
        |r| {
            r.add_did(DID);
        },
    );
}

#[test]
fn cancel_before_answer_gets_487() {
    let redis = Redis::start();
    redis.add_did(DID);
    // Backend mode: the gateway rings and waits for an `answer` command that never comes.
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            flow: "backend",
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let branch = "z9hG4bK[pid]inv[call_number]";
    let tail = format!(
        r#"  <recv response="100" optional="true"/>
  <recv response="180"/>
  <send>
    <![CDATA[
      CANCEL sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 CANCEL
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="200"/>
  <recv response="487"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"#
    );
    let body = g711_invite(branch) + &tail + &pause(200);
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.wait_events(5, "cancelled hangup", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    assert!(
        evs.iter().any(|e| matches!(
            e,
            GatewayEvent::Hangup {
                cause: HangupCause::Cancelled,
                ..
            }
        )),
        "{evs:#?}"
    );
}

#[test]
fn retransmitted_invite_creates_one_call() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    let branch = "z9hG4bK[pid]inv[call_number]";
    let inv = g711_invite(branch).replace(" retrans=\"500\"", "");
    // The same INVITE (same branch, Call-ID, tags) sent twice, as a UDP retransmission would.
    let body =
        inv.clone() + "  <recv response=\"100\"/>\n" + &inv + ANSWERED + &pause(500) + CALLER_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.wait_events(5, "hangup", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::CallStarted { .. })),
        1,
        "{evs:#?}"
    );
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::CallAnswered { .. })),
        1
    );
}

/// Waits for the first `call_started` and answers that call (the backend's part).
fn answer_first_call(r: &RedisHandle, gw_id: &str) -> uuid::Uuid {
    let evs = r.wait_events(10, "call started", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::CallStarted { .. }))
    });
    let call_id = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::CallStarted { call_id, .. } => Some(*call_id),
            _ => None,
        })
        .unwrap();
    r.send_command(gw_id, &GatewayCommand::Answer { call_id });
    call_id
}

#[test]
fn backend_commands_drive_a_call() {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(3000)
        + &play("/usr/share/sip-tester/dtmf_2833_4.pcap")
        + GATEWAY_BYE;
    let gw_id = gw.id.clone();
    let r2 = redis.handle.clone();
    let driver = std::thread::spawn(move || {
        let call_id = answer_first_call(&r2, &gw_id);
        r2.send_command(
            &gw_id,
            &GatewayCommand::CollectDigits {
                call_id,
                prompt: Some("menu".into()),
                min: 1,
                max: 1,
                timeout_ms: 5000,
                terminator: None,
            },
        );
        r2.wait_events(10, "digits", |e| {
            e.iter()
                .any(|e| matches!(e, GatewayEvent::DigitsCollected { .. }))
        });
        r2.send_command(
            &gw_id,
            &GatewayCommand::Hangup {
                call_id,
                status: None,
            },
        );
    });
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    driver.join().unwrap();
    assert_ok(&run, &gw);
    let evs = redis.wait_events(5, "hangup", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    assert!(evs.iter().any(|e| matches!(e, GatewayEvent::DigitsCollected { digits, end: CollectEnd::Max, .. } if digits == "4")), "{evs:#?}");
    assert!(evs.iter().any(|e| matches!(
        e,
        GatewayEvent::Hangup {
            cause: HangupCause::GatewayBye,
            ..
        }
    )));
}

fn in_dialog_request(method: &str, cseq: u32, extra_headers: &str, body: &str) -> String {
    let len = if body.is_empty() {
        "0".to_string()
    } else {
        "[len]".to_string()
    };
    format!(
        r#"  <send retrans="500">
    <![CDATA[
      {method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} {method}
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
{extra_headers}      Content-Length: {len}

{body}
    ]]>
  </send>
"#
    )
}

#[test]
fn sip_info_dtmf_is_reported() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            echo_ms: 500,
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let info = in_dialog_request(
        "INFO",
        2,
        "      Content-Type: application/dtmf-relay\n",
        "Signal=1\nDuration=160",
    );
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(300)
        + &info
        + "  <recv response=\"200\"/>\n"
        + GATEWAY_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    let evs = redis.events();
    assert!(
        evs.iter().any(|e| matches!(
            e,
            GatewayEvent::Dtmf {
                digit: '1',
                source: DtmfSource::SipInfo,
                ..
            }
        )),
        "{evs:#?}"
    );
}

#[test]
fn reinvite_puts_the_call_on_hold_and_back() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    let sdp = |dir: &str| {
        format!(
            "      v=0\n      o=user1 53655765 2353687638 IN IP[local_ip_type] [local_ip]\n      s=-\n      c=IN IP[media_ip_type] [media_ip]\n      t=0 0\n      m=audio [media_port] RTP/AVP 0\n      a=rtpmap:0 PCMU/8000\n      a={dir}"
        )
    };
    let check = |expect: &str| {
        format!(
            "  <recv response=\"200\"><action><ereg regexp=\"a={expect}\" search_in=\"body\" check_it=\"true\" assign_to=\"d\"/></action></recv>\n"
        )
    };
    let ack = |cseq: u32| in_dialog_request("ACK", cseq, "", "").replace(" retrans=\"500\"", "");
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(300)
        + &in_dialog_request(
            "INVITE",
            2,
            "      Content-Type: application/sdp\n",
            &sdp("sendonly"),
        )
        + "  <recv response=\"100\" optional=\"true\"/>\n"
        + &check("recvonly")
        + &ack(2)
        + &pause(300)
        + &in_dialog_request(
            "INVITE",
            4,
            "      Content-Type: application/sdp\n",
            &sdp("sendrecv"),
        )
        + "  <recv response=\"100\" optional=\"true\"/>\n"
        + &check("sendrecv")
        + &ack(4)
        + &pause(300)
        + &CALLER_BYE.replace("CSeq: 3 BYE", "CSeq: 5 BYE");
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
}

#[test]
fn call_over_tcp() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            digit_timeout_ms: 300,
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]").replace(" retrans=\"500\"", "") + ANSWERED + GATEWAY_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &["-t", "t1"]);
    assert_ok(&run, &gw);
    let evs = redis.wait_events(5, "hangup", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
    });
    assert!(evs.iter().any(|e| matches!(
        e,
        GatewayEvent::Hangup {
            cause: HangupCause::GatewayBye,
            ..
        }
    )));
}

fn register_scenario(password: &str, final_status: u16) -> String {
    let req = |cseq: u32, auth: &str| {
        format!(
            r#"  <send retrans="500">
    <![CDATA[
      REGISTER sip:acme.hotline.test SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:1001@acme.hotline.test>;tag=[pid]reg[call_number]
      To: <sip:1001@acme.hotline.test>
      Call-ID: [call_id]
      CSeq: {cseq} REGISTER
      Contact: <sip:1001@[local_ip]:[local_port]>
      Expires: 120
      Max-Forwards: 70
{auth}      Content-Length: 0

    ]]>
  </send>
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
            + &format!("  <recv response=\"{final_status}\"/>\n")),
    )
}

#[test]
fn register_with_digest_auth() {
    let redis = Redis::start();
    let tenant = uuid::Uuid::new_v4();
    let mut con = redis.con();
    let entry = serde_json::json!({ "tenant_id": tenant }).to_string();
    let _: () = redis::cmd("HSET")
        .arg(hotline_wire::gateway::TENANT_SLUGS_KEY)
        .arg("acme")
        .arg(entry)
        .query(&mut con)
        .unwrap();
    let ha1 = hotline_gateway::sip::digest::ha1("1001", "acme", "s3cret");
    let _: () = redis::cmd("HSET")
        .arg(hotline_wire::gateway::sip_extension_key(tenant, "1001"))
        .arg("ha1")
        .arg(ha1)
        .arg("user_id")
        .arg("u-1")
        .query(&mut con)
        .unwrap();
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    let run = sipp(
        &gw,
        dir.path(),
        &register_scenario("wrong", 403),
        "1001",
        &[],
    );
    assert_ok(&run, &gw);
    let reg_key = hotline_wire::gateway::registration_key(tenant, "1001");
    let exists: bool = redis::cmd("EXISTS").arg(&reg_key).query(&mut con).unwrap();
    assert!(!exists, "wrong password must not register");
    let run = sipp(
        &gw,
        dir.path(),
        &register_scenario("s3cret", 200),
        "1001",
        &[],
    );
    assert_ok(&run, &gw);
    let contact: Option<String> = redis::cmd("HGET")
        .arg(&reg_key)
        .arg("contact")
        .query(&mut con)
        .unwrap();
    assert!(contact.is_some_and(|c| c.starts_with("sip:1001@127.0.0.1:")));
    let ttl: i64 = redis::cmd("TTL").arg(&reg_key).query(&mut con).unwrap();
    assert!((100..=120).contains(&ttl), "ttl {ttl}");
    redis.wait_events(5, "registered", |e| {
        e.iter().any(
            |e| matches!(e, GatewayEvent::Registered { ext, expires: 120, .. } if ext == "1001"),
        )
    });
}

/// 10,000 hostile datagrams (random bytes, truncated and bit-flipped SIP, near-64 KB blobs) and
/// an oversized TCP message; the gateway survives and then completes a normal call.
#[test]
fn survives_garbage_then_completes_a_call() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            digit_timeout_ms: 300,
            ..GatewayOpts::default()
        },
    );
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let target = gw.addr();
    let mut rng = fastrand::Rng::with_seed(4);
    let template = "INVITE sip:+994000000000@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKfuzz\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:+994000000000@127.0.0.1>\r\nCall-ID: fuzz\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 60\r\n\r\nv=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0 8 101\r\na=sendonly\r\n".to_string();
    for i in 0..10_000u32 {
        let data: Vec<u8> = match i % 5 {
            0 => (0..rng.usize(0..1400)).map(|_| rng.u8(..)).collect(),
            1 => template.as_bytes()[..rng.usize(0..template.len())].to_vec(),
            2 => {
                let mut v = template.clone().into_bytes().to_vec();
                for _ in 0..rng.usize(1..10) {
                    let n = v.len();
                    v[rng.usize(0..n)] = rng.u8(..);
                }
                v.iter()
                    .map(|b| if *b == b'\r' && rng.bool() { b'\n' } else { *b })
                    .collect::<Vec<u8>>()
            }
            3 => template
                .replace("fuzz", &format!("fuzz{i}"))
                .replace("+994000000000", &format!("+{}", rng.u64(..)))
                .into_bytes(),
            _ if i % 1000 == 4 => vec![b'A'; 65_000],
            _ => format!(
                "{} sip:x SIP/2.0\r\n{}: {}\r\n\r\n",
                ["BYE", "ACK", "CANCEL", "INFO", "REGISTER", "FOO"][rng.usize(0..6)],
                ["Via", "CSeq", "To", "Content-Length"][rng.usize(0..4)],
                rng.u64(..)
            )
            .into_bytes(),
        };
        let _ = sock.send_to(&data, &target);
        if i % 200 == 0 {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }
    // Oversized TCP message: the connection is closed, nothing else happens.
    {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(&target).unwrap();
        tcp.set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut big = b"OPTIONS sip:x SIP/2.0\r\nContent-Length: 70000\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 70_000));
        let _ = tcp.write_all(&big);
        let mut buf = [0u8; 16];
        let n = tcp.read(&mut buf).unwrap_or(0);
        assert_eq!(n, 0, "oversized TCP message must close the connection");
    }
    let mut child_status = None;
    for _ in 0..10 {
        child_status = gw.child_try_wait();
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(child_status.is_none(), "gateway died: {}", gw.log_text());
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]") + ANSWERED + GATEWAY_BYE;
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    assert_ok(&run, &gw);
    assert!(!gw.log_text().contains("panicked"), "{}", gw.log_text());
}

/// SIGTERM: new INVITEs get 503, the heartbeat says draining, the call in progress finishes,
/// then the process exits by itself. Metrics are served meanwhile.
#[test]
fn sigterm_drains_calls_then_exits() {
    let redis = Redis::start();
    redis.add_did(DID);
    let metrics_port = free_ports(1);
    let mut gw = Gateway::start(
        &redis,
        GatewayOpts {
            extra_env: vec![(
                "HOTLINE_GW_METRICS_ADDR".into(),
                format!("127.0.0.1:{metrics_port}"),
            )],
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    write_pcmu_pcap(&dir.path().join("tone.pcap"), &tone(1000.0, 1.0, 8000.0));
    let body = g711_invite("[branch]") + ANSWERED + &play("tone.pcap") + &pause(6000) + CALLER_BYE;
    let gw_addr_port = gw.sip_port;
    let dir_path = dir.path().to_path_buf();
    let scen = scenario(&body);
    let gw_ref: &Gateway = &gw;
    let run = std::thread::scope(|s| {
        let h = s.spawn(|| sipp(gw_ref, &dir_path, &scen, DID, &[]));
        redis.wait_events(10, "answered", |e| {
            e.iter()
                .any(|e| matches!(e, GatewayEvent::CallAnswered { .. }))
        });
        std::thread::sleep(std::time::Duration::from_millis(1200));
        let metrics = http_get(metrics_port);
        assert!(metrics.contains("hotline_gw_calls_active 1"), "{metrics}");
        assert!(
            !metrics.contains("hotline_gw_rtp_packets_in_total 0\n"),
            "{metrics}"
        );
        gw_ref.sigterm();
        // Wait until the gateway says it is draining (heartbeat), then try a new call.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let draining: Option<String> = redis::cmd("HGET")
                .arg(hotline_wire::gateway::gateway_key(&gw_ref.id))
                .arg("draining")
                .query(&mut redis.con())
                .unwrap();
            if draining.as_deref() == Some("true") {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "heartbeat never said draining"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(3)))
            .unwrap();
        let port = sock.local_addr().unwrap().port();
        let inv = format!(
            "INVITE sip:{DID}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bKdrain\r\nFrom: <sip:x@127.0.0.1>;tag=d\r\nTo: <sip:{DID}@127.0.0.1>\r\nCall-ID: drain\r\nCSeq: 1 INVITE\r\nContent-Type: application/sdp\r\nContent-Length: 51\r\n\r\nv=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 9 RTP/AVP 0\r\nt=0 0\r\n"
        );
        sock.send_to(inv.as_bytes(), ("127.0.0.1", gw_addr_port))
            .unwrap();
        let mut buf = [0u8; 2048];
        let (n, _) = sock
            .recv_from(&mut buf)
            .expect("response to INVITE while draining");
        assert!(
            buf[..n].starts_with(b"SIP/2.0 503"),
            "{}",
            String::from_utf8_lossy(&buf[..n])
        );
        h.join().unwrap()
    });
    assert_ok(&run, &gw);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        if let Some(status) = gw.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "gateway did not exit after drain:\n{}",
            gw.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let evs = redis.events();
    assert!(
        evs.iter()
            .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. })),
        "{evs:#?}"
    );
}

fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

const CARRIER_UAS: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="carrier">
  <recv request="INVITE"/>
  <send>
    <![CDATA[
      SIP/2.0 401 Unauthorized
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]auth[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      WWW-Authenticate: Digest realm="carrier", nonce="n0nce[call_number]", qop="auth"
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
  <recv request="INVITE">
    <action><verifyauth assign_to="authok" username="gwuser" password="gwpass"/></action>
  </recv>
  <nop hide="true" test="authok" next="authgood"/>
  <recv request="NEVER" timeout="100"/>
  <label id="authgood"/>
  <send>
    <![CDATA[
      SIP/2.0 180 Ringing
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <send retrans="500">
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]SIPpTag01[call_number]
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
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv request="ACK" crlf="true"/>
  <recv request="BYE"/>
  <send>
    <![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
</scenario>
"#;

/// `originate` places a call through the trunk, answering its digest challenge; the call is
/// answered, recorded, and hung up by command. A callee on the outbound blacklist gets 403.
#[test]
fn originate_through_trunk_with_digest_auth() {
    let redis = Redis::start();
    let trunk_port = free_ports(1);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            extra_env: vec![
                ("HOTLINE_GW_TRUNK".into(), format!("127.0.0.1:{trunk_port}")),
                ("HOTLINE_GW_TRUNK_USER".into(), "gwuser".into()),
                ("HOTLINE_GW_TRUNK_PASSWORD".into(), "gwpass".into()),
            ],
            ..GatewayOpts::default()
        },
    );
    let tenant_id = uuid::Uuid::new_v4();
    let _: () = redis::cmd("SADD")
        .arg(hotline_wire::gateway::blacklist_key(
            tenant_id,
            hotline_wire::gateway::Direction::Outbound,
        ))
        .arg("+15550009999")
        .query(&mut redis.con())
        .unwrap();
    let blocked = uuid::Uuid::new_v4();
    redis.send_command(
        &gw.id,
        &GatewayCommand::Originate {
            call_id: blocked,
            tenant_id,
            caller: "+15550002222".into(),
            callee: "+15550009999".into(),
        },
    );
    redis.wait_events(5, "blacklisted outbound", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { call_id, status: Some(403), cause: HangupCause::Rejected, .. } if *call_id == blocked))
    });
    let dir = TempDir::new("carrier");
    let uas_dir = dir.path().to_path_buf();
    let uas = std::thread::spawn(move || sipp_uas(&uas_dir, CARRIER_UAS, trunk_port));
    std::thread::sleep(std::time::Duration::from_millis(500));
    let call_id = uuid::Uuid::new_v4();
    redis.send_command(
        &gw.id,
        &GatewayCommand::Originate {
            call_id,
            tenant_id,
            caller: "+15550002222".into(),
            callee: "15550003333".into(),
        },
    );
    redis.wait_events(15, "outbound answered", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::CallAnswered { call_id: c, .. } if *c == call_id))
    });
    redis.send_command(
        &gw.id,
        &GatewayCommand::Play {
            call_id,
            prompt: "greeting".into(),
            interruptible: false,
        },
    );
    std::thread::sleep(std::time::Duration::from_millis(1200));
    redis.send_command(
        &gw.id,
        &GatewayCommand::Hangup {
            call_id,
            status: None,
        },
    );
    let run = uas.join().unwrap();
    assert_ok(&run, &gw);
    // The recording and hang-up events may arrive in either order: wait for both.
    let evs = redis.wait_events(5, "recording and hang-up", |e| {
        e.iter().any(
            |e| matches!(e, GatewayEvent::RecordingFinished { call_id: c, .. } if *c == call_id),
        ) && e
            .iter()
            .any(|e| matches!(e, GatewayEvent::Hangup { call_id: c, .. } if *c == call_id))
    });
    assert!(evs.iter().any(|e| matches!(e, GatewayEvent::Hangup { call_id: c, cause: HangupCause::GatewayBye, .. } if *c == call_id)), "{evs:#?}");
    assert!(evs
        .iter()
        .any(|e| matches!(e, GatewayEvent::PlaybackFinished { call_id: c, .. } if *c == call_id)));
}

/// INVITE → 407 → ACK → INVITE with `[authentication]` → `final_status` (then, when 200, a
/// normal ACK and caller BYE).
fn trunk_auth_scenario(password: &str, final_status: u16) -> String {
    let ack = |branch: &str, cseq: u32| {
        format!(
            r#"  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch={branch}
      From: "Caller" <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: {cseq} ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
"#
        )
    };
    let first = "z9hG4bK[pid]a[call_number]";
    let second = "z9hG4bK[pid]b[call_number]";
    let authed = g711_invite(second)
        .replace("CSeq: 1 INVITE", "CSeq: 2 INVITE")
        .replace(
            "      Max-Forwards: 70\n      Content-Type",
            &format!(
                "      Max-Forwards: 70\n      [authentication username=trunk1 password={password}]\n      Content-Type"
            ),
        );
    assert!(authed.contains("[authentication"));
    let mut body = g711_invite(first)
        + "  <recv response=\"100\" optional=\"true\"/>\n"
        + "  <recv response=\"407\" auth=\"true\"/>\n"
        + &ack(first, 1)
        + &authed
        + "  <recv response=\"100\" optional=\"true\"/>\n";
    if final_status == 200 {
        body += &ANSWERED.replace("CSeq: 1 ACK", "CSeq: 2 ACK");
        body += &pause(500);
        body += CALLER_BYE;
    } else {
        body += &format!("  <recv response=\"{final_status}\"/>\n");
        body += &ack(second, 2);
        body += &pause(200);
    }
    scenario(&body)
}

#[test]
fn inbound_trunk_outside_the_acl_must_pass_digest_auth() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            extra_env: vec![
                // Loopback is not in the ACL: the trunk must authenticate.
                ("HOTLINE_GW_TRUNK_ACL".into(), "10.0.0.0/8".into()),
                (
                    "HOTLINE_GW_TRUNK_INBOUND_AUTH".into(),
                    "trunk1:tr-secret".into(),
                ),
            ],
            ..GatewayOpts::default()
        },
    );
    let dir = TempDir::new("sipp");
    let run = sipp(
        &gw,
        dir.path(),
        &trunk_auth_scenario("wrong", 403),
        DID,
        &[],
    );
    assert_ok(&run, &gw);
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        count(&redis.events(), |e| matches!(
            e,
            GatewayEvent::CallStarted { .. }
        )),
        0,
        "a wrong trunk password must not start a call"
    );
    let run = sipp(
        &gw,
        dir.path(),
        &trunk_auth_scenario("tr-secret", 200),
        DID,
        &[],
    );
    assert_ok(&run, &gw);
    let evs = redis.wait_events(10, "authenticated call ends", |e| {
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
        count(&evs, |e| matches!(e, GatewayEvent::CallAnswered { .. })),
        1
    );
}

#[test]
fn source_outside_the_acl_without_trunk_accounts_gets_403() {
    let evs = rejected_call_with(
        403,
        G711_M,
        G711_MAP,
        |r| {
            r.add_did(DID);
        },
        GatewayOpts {
            extra_env: vec![("HOTLINE_GW_TRUNK_ACL".into(), "10.0.0.0/8".into())],
            ..GatewayOpts::default()
        },
    );
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::CallStarted { .. })),
        0
    );
}

/// The samples of `ch` (8 kHz) from `from` to `to` seconds (clipped to its length).
fn window(ch: &[i16], from: f32, to: f32) -> &[i16] {
    let (a, b) = ((from * 8000.0) as usize, (to * 8000.0) as usize);
    &ch[a.min(ch.len())..b.min(ch.len())]
}

/// Answers `ids` and waits until all of them are answered.
fn answer_all(r: &RedisHandle, gw_id: &str, ids: &[uuid::Uuid]) -> Vec<GatewayEvent> {
    for id in ids {
        r.send_command(gw_id, &GatewayCommand::Answer { call_id: *id });
    }
    r.wait_events(10, "all answered", |e| {
        count(e, |e| matches!(e, GatewayEvent::CallAnswered { .. })) == ids.len()
    })
}

/// Sends `conference` for each of `ids` and waits until the room has `members` (by their
/// `bridged` events).
fn join_room(r: &RedisHandle, gw_id: &str, ids: &[uuid::Uuid], room: &str, members: usize) {
    let room_id = hotline_wire::gateway::conference_room_id(room);
    for id in ids {
        let cmd = GatewayCommand::Conference {
            call_id: *id,
            room: room.to_string(),
        };
        r.send_command(gw_id, &cmd);
    }
    r.wait_events(5, &format!("{members} members"), |e| {
        count(
            e,
            |e| matches!(e, GatewayEvent::Bridged { peer, .. } if *peer == room_id),
        ) >= members
    });
}

/// The conference members' recordings in `evs`, by caller: `callers` SIPp calls each played
/// one of the first `callers` of `tones` from 1.5 s to 4 s; the other tones are members that
/// are not calls. Checks each caller heard every other tone far above its own, and returns
/// what each heard (the right channel), in the order of `tones`.
fn room_recordings(evs: &[GatewayEvent], tones: &[f32], callers: usize) -> Vec<Vec<i16>> {
    let mut heard: Vec<Vec<i16>> = vec![Vec::new(); callers];
    for e in evs {
        let GatewayEvent::RecordingFinished { path, .. } = e else {
            continue;
        };
        let (left, right) = stereo(path);
        // Which caller: the strongest of the callers' tones it sent.
        let sent = window(&left, 1.8, 3.7);
        let own = (0..callers)
            .max_by(|a, b| {
                goertzel(sent, 8000, tones[*a]).total_cmp(&goertzel(sent, 8000, tones[*b]))
            })
            .unwrap();
        let during = window(&right, 1.8, 3.7);
        let power: Vec<f64> = tones.iter().map(|f| goertzel(during, 8000, *f)).collect();
        for other in (0..tones.len()).filter(|o| *o != own) {
            assert!(
                power[other] > 20.0 * power[own],
                "caller {} Hz must hear {} Hz far above its own tone: {power:?}",
                tones[own],
                tones[other]
            );
        }
        assert!(rms(during) > 1000.0, "too quiet: {}", rms(during));
        assert!(
            heard[own].is_empty(),
            "two recordings of the {} Hz caller",
            tones[own]
        );
        heard[own] = right;
    }
    heard.retain(|h| !h.is_empty());
    heard
}

/// Waits for `n` started calls and returns their ids, in order.
fn started_calls(r: &RedisHandle, n: usize) -> Vec<uuid::Uuid> {
    let evs = r.wait_events(10, &format!("{n} calls"), |e| {
        count(e, |e| matches!(e, GatewayEvent::CallStarted { .. })) == n
    });
    evs.iter()
        .filter_map(|e| match e {
            GatewayEvent::CallStarted { call_id, .. } => Some(*call_id),
            _ => None,
        })
        .collect()
}

/// A stereo recording's channels: (the caller, what the caller heard).
fn stereo(path: &str) -> (Vec<i16>, Vec<i16>) {
    let (_, _, samples) = read_wav(std::path::Path::new(path));
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// Two SIPp callers, answered by "the backend" (this test), bridged: each one's recording holds
/// the other's tone in its right channel (what that caller heard).
#[test]
fn bridge_connects_the_audio_of_two_calls() {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let (dir_a, dir_b) = (TempDir::new("sipp-a"), TempDir::new("sipp-b"));
    write_pcmu_pcap(&dir_a.path().join("tone.pcap"), &tone(1000.0, 2.5, 8000.0));
    write_pcmu_pcap(&dir_b.path().join("tone.pcap"), &tone(440.0, 2.5, 8000.0));
    let body = |hold_ms: u32| {
        scenario(
            &(g711_invite("[branch]")
                + ANSWERED
                + &pause(1500)
                + &play("tone.pcap")
                + &pause(hold_ms)
                + CALLER_BYE),
        )
    };
    let (run_a, run_b) = std::thread::scope(|s| {
        let a = s.spawn(|| sipp(&gw, dir_a.path(), &body(3000), DID, &[]));
        std::thread::sleep(std::time::Duration::from_millis(200));
        let b = s.spawn(|| sipp(&gw, dir_b.path(), &body(4000), DID, &[]));
        let ids = started_calls(&redis, 2);
        for id in &ids {
            redis.send_command(&gw.id, &GatewayCommand::Answer { call_id: *id });
        }
        redis.wait_events(10, "both answered", |e| {
            count(e, |e| matches!(e, GatewayEvent::CallAnswered { .. })) == 2
        });
        // A bad target is refused with a reason, not ignored.
        redis.send_command(
            &gw.id,
            &GatewayCommand::Bridge {
                call_id: ids[0],
                target: "not-a-call".into(),
            },
        );
        redis.send_command(
            &gw.id,
            &GatewayCommand::Bridge {
                call_id: ids[0],
                target: ids[1].to_string(),
            },
        );
        redis.wait_events(5, "bridged", |e| {
            count(e, |e| matches!(e, GatewayEvent::Bridged { .. })) == 2
        });
        (a.join().unwrap(), b.join().unwrap())
    });
    assert_ok(&run_a, &gw);
    assert_ok(&run_b, &gw);
    let evs = redis.wait_events(10, "recordings and bridge end", |e| {
        count(e, |e| matches!(e, GatewayEvent::RecordingFinished { .. })) == 2
            && count(e, |e| matches!(e, GatewayEvent::BridgeEnded { .. })) == 1
    });
    assert!(evs.iter().any(
        |e| matches!(e, GatewayEvent::CommandFailed { reason, .. } if reason.contains("call id"))
    ));
    // Map each recording to its caller by the caller channel's tone.
    let mut heard = Vec::new();
    for e in &evs {
        if let GatewayEvent::RecordingFinished { path, .. } = e {
            let (left, right) = stereo(path);
            let own_1k = goertzel(&left, 8000, 1000.0) > goertzel(&left, 8000, 440.0);
            let heard_1k = goertzel(&right, 8000, 1000.0) > goertzel(&right, 8000, 440.0);
            assert!(
                rms(&right) > 1000.0,
                "bridged leg heard too little: {}",
                rms(&right)
            );
            heard.push((own_1k, heard_1k));
        }
    }
    heard.sort();
    assert_eq!(
        heard,
        vec![(false, true), (true, false)],
        "each caller must hear the other's tone"
    );
}

/// Three SIPp callers (440, 1000 and 1800 Hz tones) in one conference room: each one's
/// recording holds the two other tones in its right channel (what it heard), not its own. The
/// 440 Hz caller hangs up first; the other two stay in the room (the 1800 Hz caller's second
/// tone still reaches the 1000 Hz one) and nobody gets `bridge_ended`. A conference for an
/// unknown call or an unanswered one is refused.
#[test]
fn conference_mixes_three_calls_each_hearing_the_others() {
    use hotline_wire::gateway::conference_room_id;
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    const TONES: [f32; 3] = [440.0, 1000.0, 1800.0];
    let dirs: Vec<TempDir> = (0..3).map(|i| TempDir::new(&format!("conf-{i}"))).collect();
    for (d, f) in dirs.iter().zip(TONES) {
        write_pcmu_pcap(&d.path().join("tone.pcap"), &tone(f, 2.5, 6000.0));
    }
    write_pcmu_pcap(
        &dirs[2].path().join("late.pcap"),
        &tone(1800.0, 1.5, 6000.0),
    );
    // Tones from 1.5 s to 4 s after the answer; the 440 Hz caller leaves at 4.5 s, the
    // 1800 Hz one plays again from 5 s to 6.5 s; the other two hang up at about 8 s.
    let scenarios = [
        scenario(
            &(g711_invite("[branch]")
                + ANSWERED
                + &pause(1500)
                + &play("tone.pcap")
                + &pause(3000)
                + CALLER_BYE),
        ),
        scenario(
            &(g711_invite("[branch]")
                + ANSWERED
                + &pause(1500)
                + &play("tone.pcap")
                + &pause(6500)
                + CALLER_BYE),
        ),
        scenario(
            &(g711_invite("[branch]")
                + ANSWERED
                + &pause(1500)
                + &play("tone.pcap")
                + &pause(3500)
                + &play("late.pcap")
                + &pause(3000)
                + CALLER_BYE),
        ),
    ];
    let room = format!("room-{}", fastrand::u32(..));
    let room_id = conference_room_id(&room);
    let stranger = uuid::Uuid::new_v4();
    let (runs, ids) = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (d, sc) in dirs.iter().zip(&scenarios) {
            let gw = &gw;
            handles.push(s.spawn(move || sipp(gw, d.path(), sc, DID, &[])));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let ids = started_calls(&redis, 3);
        // Not answered yet: refused.
        redis.send_command(
            &gw.id,
            &GatewayCommand::Conference {
                call_id: ids[0],
                room: room.clone(),
            },
        );
        redis.wait_events(5, "unanswered refused", |e| {
            e.iter().any(|e| matches!(e, GatewayEvent::CommandFailed { call_id, reason } if *call_id == ids[0] && reason.contains("answered")))
        });
        answer_all(&redis, &gw.id, &ids);
        let members: Vec<uuid::Uuid> = ids.iter().copied().chain([stranger]).collect();
        join_room(&redis, &gw.id, &members, &room, 3);
        let runs: Vec<SippRun> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (runs, ids)
    });
    for r in &runs {
        assert_ok(r, &gw);
    }
    let evs = redis.wait_events(10, "recordings", |e| {
        count(e, |e| matches!(e, GatewayEvent::RecordingFinished { .. })) == 3
    });
    assert!(
        evs.iter().any(|e| matches!(e, GatewayEvent::CommandFailed { call_id, reason } if *call_id == stranger && reason.contains("no such call"))),
        "a conference for an unknown call is refused"
    );
    let bridged: Vec<uuid::Uuid> = evs
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::Bridged { call_id, peer, .. } if *peer == room_id => Some(*call_id),
            _ => None,
        })
        .collect();
    assert_eq!(bridged.len(), 3);
    assert!(ids.iter().all(|id| bridged.contains(id)));
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::BridgeEnded { .. })),
        0,
        "members leaving never end the room for the others"
    );
    let heard = room_recordings(&evs, &TONES, 3);
    assert_eq!(heard.len(), 3, "one recording per caller");
    // After the 440 Hz caller left, the 1800 Hz caller's second tone still reaches 1000 Hz.
    let late = window(&heard[1], 5.3, 6.3);
    let p: Vec<f64> = TONES.iter().map(|f| goertzel(late, 8000, *f)).collect();
    assert!(
        p[2] > 20.0 * p[0] && rms(late) > 1000.0,
        "the room lives on after a member left: {p:?}, rms {}",
        rms(late)
    );
}

/// An agent's WebRTC leg (a str0m client playing 1800 Hz) and two SIPp callers (440 and
/// 1000 Hz) in one room: each caller's recording heard the other caller and the agent, and the
/// agent heard both callers but not itself.
#[test]
fn conference_mixes_a_webrtc_leg_with_calls() {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let http = free_ports(1);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            extra_env: vec![("HOTLINE_GW_HTTP_ADDR".into(), format!("127.0.0.1:{http}"))],
            ..GatewayOpts::default()
        },
    );
    const TONES: [f32; 3] = [440.0, 1000.0, 1800.0];
    let room = "with-an-agent".to_string();
    let leg = uuid::Uuid::new_v4();
    let client = common::webrtc::WebrtcClient::create(
        format!("127.0.0.1:{http}").parse().unwrap(),
        leg,
        tenant,
    );
    let dirs: Vec<TempDir> = (0..2).map(|i| TempDir::new(&format!("rtc-{i}"))).collect();
    for (d, f) in dirs.iter().zip(TONES) {
        write_pcmu_pcap(&d.path().join("tone.pcap"), &tone(f, 2.5, 6000.0));
    }
    let body = scenario(
        &(g711_invite("[branch]")
            + ANSWERED
            + &pause(1500)
            + &play("tone.pcap")
            + &pause(3500)
            + CALLER_BYE),
    );
    let (runs, agent_heard) = std::thread::scope(|s| {
        let agent = s.spawn(|| {
            client.run(
                &tone(TONES[2], 9.0, 6000.0),
                std::time::Duration::from_secs(9),
            )
        });
        redis.wait_events(10, "agent connected", |e| {
            e.iter().any(
                |e| matches!(e, GatewayEvent::WebrtcConnected { leg_id, .. } if *leg_id == leg),
            )
        });
        redis.send_command(
            &gw.id,
            &GatewayCommand::Conference {
                call_id: leg,
                room: room.clone(),
            },
        );
        let mut handles = Vec::new();
        for d in &dirs {
            let (gw, body) = (&gw, &body);
            handles.push(s.spawn(move || sipp(gw, d.path(), body, DID, &[])));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let ids = started_calls(&redis, 2);
        answer_all(&redis, &gw.id, &ids);
        join_room(&redis, &gw.id, &ids, &room, 3);
        let runs: Vec<SippRun> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        (runs, agent.join().unwrap())
    });
    for r in &runs {
        assert_ok(r, &gw);
    }
    let evs = redis.wait_events(10, "recordings", |e| {
        count(e, |e| matches!(e, GatewayEvent::RecordingFinished { .. })) == 2
    });
    let power = |x: &[i16]| -> Vec<f64> { TONES.iter().map(|f| goertzel(x, 8000, *f)).collect() };
    let p = power(&agent_heard);
    assert!(
        p[0] > 20.0 * p[2] && p[1] > 20.0 * p[2] && rms(&agent_heard) > 300.0,
        "the agent hears both callers, not itself: {p:?}, rms {}",
        rms(&agent_heard)
    );
    let heard = room_recordings(&evs, &TONES, 2);
    assert_eq!(heard.len(), 2, "one recording per caller");
}

/// A room belongs to the tenant of its first member: another tenant's call is refused. A
/// member that `unbridge`s leaves (`bridge_ended` with the room id) and the others stay.
#[test]
fn conference_rooms_are_per_tenant_and_unbridge_leaves() {
    use hotline_wire::gateway::conference_room_id;
    const OTHER_DID: &str = "+994125550199";
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let other = redis.add_did(OTHER_DID);
    redis.set_flow(other, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dirs: Vec<TempDir> = (0..3).map(|i| TempDir::new(&format!("room-{i}"))).collect();
    let body = scenario(&(g711_invite("[branch]") + ANSWERED + &pause(4000) + CALLER_BYE));
    let room = "shared-name".to_string();
    let room_id = conference_room_id(&room);
    let join = |call_id| GatewayCommand::Conference {
        call_id,
        room: room.clone(),
    };
    let runs = std::thread::scope(|s| {
        let mut handles = Vec::new();
        for (d, did) in dirs.iter().zip([DID, DID, OTHER_DID]) {
            let (gw, body) = (&gw, &body);
            handles.push(s.spawn(move || sipp(gw, d.path(), body, did, &[])));
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let ids = started_calls(&redis, 3);
        let evs = answer_all(&redis, &gw.id, &ids);
        let of = |t: uuid::Uuid| -> Vec<uuid::Uuid> {
            evs.iter()
                .filter_map(|e| match e {
                    GatewayEvent::CallStarted {
                        call_id, tenant_id, ..
                    } if *tenant_id == t => Some(*call_id),
                    _ => None,
                })
                .collect()
        };
        let (ours, theirs) = (of(tenant), of(other));
        assert_eq!((ours.len(), theirs.len()), (2, 1));
        redis.send_command(&gw.id, &join(ours[0]));
        redis.wait_events(5, "the room exists", |e| {
            count(
                e,
                |e| matches!(e, GatewayEvent::Bridged { peer, .. } if *peer == room_id),
            ) == 1
        });
        redis.send_command(&gw.id, &join(theirs[0]));
        redis.send_command(&gw.id, &join(ours[1]));
        redis.wait_events(5, "a second member and a refusal", |e| {
            count(e, |e| matches!(e, GatewayEvent::Bridged { peer, .. } if *peer == room_id)) == 2
                && e.iter().any(|e| matches!(e, GatewayEvent::CommandFailed { call_id, reason } if *call_id == theirs[0] && reason.contains("another tenant")))
        });
        redis.send_command(&gw.id, &GatewayCommand::Unbridge { call_id: ours[0] });
        redis.wait_events(5, "the member left", |e| {
            e.iter().any(|e| matches!(e, GatewayEvent::BridgeEnded { call_id, peer, .. } if *call_id == ours[0] && *peer == room_id))
        });
        let runs: Vec<SippRun> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        runs
    });
    for r in &runs {
        assert_ok(r, &gw);
    }
    let evs = redis.wait_events(10, "hang-ups", |e| {
        count(e, |e| matches!(e, GatewayEvent::Hangup { .. })) == 3
    });
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::BridgeEnded { .. })),
        1,
        "only the member that unbridged was told it left: {evs:#?}"
    );
    assert_eq!(
        count(&evs, |e| matches!(e, GatewayEvent::Bridged { .. })),
        2,
        "the other tenant's call never joined"
    );
}

/// Gateway A places a call through its trunk to gateway B (a real SIP peer) and sends DTMF;
/// B reports the digits it received as RFC 4733 events.
#[test]
fn send_dtmf_reaches_the_far_end_as_rfc4733() {
    let redis = Redis::start();
    redis.add_did(DID);
    let far = Gateway::start(&redis, GatewayOpts::default());
    let near = Gateway::start(
        &redis,
        GatewayOpts {
            extra_env: vec![("HOTLINE_GW_TRUNK".into(), far.addr())],
            ..GatewayOpts::default()
        },
    );
    let call_id = uuid::Uuid::new_v4();
    let tenant_id = uuid::Uuid::new_v4();
    redis.send_command(
        &near.id,
        &GatewayCommand::Originate {
            call_id,
            tenant_id,
            caller: CALLER.into(),
            callee: DID.into(),
        },
    );
    redis.wait_events(10, "outbound answered", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::CallAnswered { call_id: c, .. } if *c == call_id))
    });
    redis.send_command(
        &near.id,
        &GatewayCommand::SendDtmf {
            call_id,
            digits: "x".into(),
        },
    );
    redis.send_command(
        &near.id,
        &GatewayCommand::SendDtmf {
            call_id,
            digits: "1".into(),
        },
    );
    let evs = redis.wait_events(10, "digit sent and received by the far end", |e| {
        e.iter().any(|e| {
            matches!(e, GatewayEvent::Dtmf { call_id: c, digit: '1', source: DtmfSource::Rfc4733, .. } if *c != call_id)
        }) && e.iter().any(
            |e| matches!(e, GatewayEvent::DtmfSent { call_id: c, digits, .. } if *c == call_id && digits == "1"),
        )
    });
    assert!(evs.iter().any(
        |e| matches!(e, GatewayEvent::CommandFailed { call_id: c, reason } if *c == call_id && reason.contains("invalid DTMF"))
    ));
    redis.send_command(
        &near.id,
        &GatewayCommand::Hangup {
            call_id,
            status: None,
        },
    );
    redis.wait_events(10, "both legs end", |e| {
        count(e, |e| matches!(e, GatewayEvent::Hangup { .. })) == 2
    });
}

/// espeak-ng's `text` as 8 kHz samples (Debian package `espeak-ng`).
fn espeak(text: &str) -> Vec<i16> {
    let espeak = require("espeak-ng", "espeak-ng");
    let out = std::process::Command::new(espeak)
        .args(["-v", "en-us", "-s", "160", "--stdout", text])
        .output()
        .expect("run espeak-ng");
    assert!(out.status.success(), "espeak-ng failed");
    hotline_gateway::media::wav::decode_wav_8k_mono(&out.stdout).expect("espeak-ng WAV")
}

/// An inbound SIPp call whose caller plays `audio` 0.5 s after the ACK and hangs up
/// `hold_ms` after that, while the backend (this test) answers it and sends
/// `detect_machine`: the `machine_detected` events (checked to carry the call and tenant).
fn machine_detected_on_a_real_call(audio: &[i16], hold_ms: u32) -> Vec<GatewayEvent> {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp-amd");
    write_pcmu_pcap(&dir.path().join("answer.pcap"), audio);
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(500)
        + &play("answer.pcap")
        + &pause(hold_ms)
        + CALLER_BYE;
    let gw_id = gw.id.clone();
    let r2 = redis.handle.clone();
    let driver = std::thread::spawn(move || {
        let call_id = answer_first_call(&r2, &gw_id);
        r2.send_command(
            &gw_id,
            &GatewayCommand::DetectMachine {
                call_id,
                timeout_ms: 30_000,
            },
        );
        call_id
    });
    let run = sipp(&gw, dir.path(), &scenario(&body), DID, &[]);
    let call_id = driver.join().unwrap();
    assert_ok(&run, &gw);
    let evs = redis.wait_events(5, "hangup and recording", |e| {
        e.iter().any(|e| matches!(e, GatewayEvent::Hangup { .. }))
            && e.iter()
                .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
    });
    assert!(
        !evs.iter()
            .any(|e| matches!(e, GatewayEvent::CommandFailed { .. })),
        "{evs:#?}"
    );
    let detected: Vec<GatewayEvent> = evs
        .into_iter()
        .filter(|e| matches!(e, GatewayEvent::MachineDetected { .. }))
        .collect();
    for ev in &detected {
        eprintln!("detected: {ev:?}");
        if let GatewayEvent::MachineDetected {
            call_id: c,
            tenant_id,
            ..
        } = ev
        {
            assert_eq!((*c, *tenant_id), (call_id, tenant));
        }
    }
    detected
}

/// The single `machine_detected` of a call: (result, beep, speech_ms, elapsed_ms).
fn one_detection(detected: &[GatewayEvent]) -> (hotline_wire::gateway::AmdResult, bool, u32, u32) {
    match detected {
        [GatewayEvent::MachineDetected {
            result,
            beep,
            speech_ms,
            elapsed_ms,
            ..
        }] => (*result, *beep, *speech_ms, *elapsed_ms),
        _ => panic!("not exactly one machine_detected: {detected:#?}"),
    }
}

#[test]
fn detect_machine_reports_a_voicemail_greeting_after_its_beep() {
    let mut audio = espeak(
        "Hello, you have reached the voicemail of Anna Smith. I am not available right now. \
         Please leave your name and number after the tone, and I will call you back.",
    );
    audio.extend(std::iter::repeat_n(0i16, 3200));
    audio.extend(tone(1000.0, 0.5, 8000.0));
    let beep_end_ms = (audio.len() / 8) as u32;
    let detected = machine_detected_on_a_real_call(&audio, beep_end_ms + 3000);
    let (result, beep, speech_ms, elapsed_ms) = one_detection(&detected);
    assert_eq!((result, beep), (AmdResult::Machine, true), "{detected:?}");
    // Sent once the beep stopped (the audio starts ~0.5 s after the command), not earlier.
    assert!(
        (beep_end_ms..beep_end_ms + 1500).contains(&elapsed_ms),
        "{detected:?}, beep ends {beep_end_ms} ms into the audio"
    );
    assert!(speech_ms > 3000, "{detected:?}");
}

#[test]
fn detect_machine_reports_a_short_hello_as_a_human() {
    let hello = espeak("Hello?");
    let hello_ms = (hello.len() / 8) as u32;
    let detected = machine_detected_on_a_real_call(&hello, hello_ms + 3000);
    let (result, beep, speech_ms, elapsed_ms) = one_detection(&detected);
    assert_eq!((result, beep), (AmdResult::Human, false), "{detected:?}");
    assert!(speech_ms < 1000, "{detected:?}");
    // 0.5 s pause + the greeting + 0.8 s of silence after it, with some slack.
    assert!(elapsed_ms < hello_ms + 2500, "{detected:?}");
}

#[test]
fn a_call_that_ends_while_detecting_just_ends() {
    // The caller hangs up 2 s into a long greeting: no decision, a normal hang-up.
    let greeting = espeak(
        "Hello, you have reached the voicemail of Anna Smith. I am not available right now.",
    );
    let detected = machine_detected_on_a_real_call(&greeting, 2000);
    assert!(detected.is_empty(), "{detected:#?}");
}

fn originate(redis: &Redis, gw: &Gateway, tenant_id: uuid::Uuid) -> uuid::Uuid {
    let call_id = uuid::Uuid::new_v4();
    redis.send_command(
        &gw.id,
        &GatewayCommand::Originate {
            call_id,
            tenant_id,
            caller: CALLER.into(),
            callee: DID.into(),
        },
    );
    call_id
}

fn answered(redis: &Redis, call: uuid::Uuid) {
    redis.wait_events(15, "outbound answered", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::CallAnswered { call_id, .. } if *call_id == call))
    });
}

fn refused(redis: &Redis, call: uuid::Uuid) -> HangupCause {
    let evs = redis.wait_events(10, "originate refused", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::Hangup { call_id, .. } if *call_id == call))
    });
    evs.iter()
        .find_map(|e| match e {
            GatewayEvent::Hangup {
                call_id,
                cause,
                status,
                ..
            } if *call_id == call => {
                assert_eq!(*status, Some(503), "{e:?}");
                Some(*cause)
            }
            _ => None,
        })
        .unwrap()
}

/// The gateways enforce each tenant's outbound limits themselves, counted in Redis across
/// gateways: with a limit of one call at once, an `originate` written straight to a gateway's
/// command stream (no backend, so no backend check — a buggy or compromised backend) while
/// the tenant's call is up on another gateway is refused with `outbound_limit` (503) and
/// never reaches the trunk; once that call ends the next one is placed. Calls over the
/// tenant's calls per second are refused with `outbound_rate_limit`.
#[test]
fn gateways_refuse_originates_over_the_tenants_outbound_limits() {
    let redis = Redis::start();
    redis.add_did(DID);
    let far = Gateway::start(&redis, GatewayOpts::default());
    let trunk = || GatewayOpts {
        extra_env: vec![("HOTLINE_GW_TRUNK".into(), far.addr())],
        ..GatewayOpts::default()
    };
    let (a, b) = (
        Gateway::start(&redis, trunk()),
        Gateway::start(&redis, trunk()),
    );
    let tenant = uuid::Uuid::new_v4();
    let limits = |max: u32, cps: u32| {
        let _: () = redis::cmd("HSET")
            .arg(hotline_wire::gateway::outbound_limits_key(tenant))
            .arg(hotline_wire::gateway::OUTBOUND_MAX_CALLS_FIELD)
            .arg(max)
            .arg(hotline_wire::gateway::OUTBOUND_CPS_FIELD)
            .arg(cps)
            .query(&mut redis.con())
            .unwrap();
    };
    limits(1, 100);
    let first = originate(&redis, &a, tenant);
    answered(&redis, first);
    let second = originate(&redis, &b, tenant);
    assert_eq!(refused(&redis, second), HangupCause::OutboundLimit);
    let third = originate(&redis, &a, tenant);
    assert_eq!(refused(&redis, third), HangupCause::OutboundLimit);
    // Another tenant's calls are not held back by this one's.
    let other = originate(&redis, &b, uuid::Uuid::new_v4());
    answered(&redis, other);
    // Only the admitted calls reached the far end.
    let inbound = count(&redis.events(), |e| {
        matches!(e, GatewayEvent::CallStarted { .. })
    });
    assert_eq!(inbound, 2, "{:#?}", redis.events());
    for (gw, call) in [(&a, first), (&b, other)] {
        redis.send_command(
            &gw.id,
            &GatewayCommand::Hangup {
                call_id: call,
                status: None,
            },
        );
    }
    redis.wait_events(10, "both calls ended", |e| {
        [first, other].iter().all(|c| {
            e.iter()
                .any(|e| matches!(e, GatewayEvent::Hangup { call_id, .. } if call_id == c))
        })
    });
    // The line is free again, on any gateway.
    let fourth = originate(&redis, &b, tenant);
    answered(&redis, fourth);
    redis.send_command(
        &b.id,
        &GatewayCommand::Hangup {
            call_id: fourth,
            status: None,
        },
    );

    // Calls per second: this second's one call is used (by another gateway, say).
    limits(10, 1);
    let mut judged = false;
    for _ in 0..20 {
        let (sec, _): (i64, i64) = redis::cmd("TIME").query(&mut redis.con()).unwrap();
        let _: () = redis::cmd("HSET")
            .arg(hotline_wire::gateway::outbound_rate_key(tenant))
            .arg("sec")
            .arg(sec)
            .arg("n")
            .arg(1)
            .query(&mut redis.con())
            .unwrap();
        let call = originate(&redis, &a, tenant);
        let evs = redis.wait_events(15, "answered or refused", |e| {
            e.iter().any(|e| match e {
                GatewayEvent::Hangup { call_id, .. }
                | GatewayEvent::CallAnswered { call_id, .. } => *call_id == call,
                _ => false,
            })
        });
        let rate_refused = evs.iter().any(|e| {
            matches!(e, GatewayEvent::Hangup { call_id, cause: HangupCause::OutboundRateLimit, .. } if *call_id == call)
        });
        if rate_refused {
            judged = true;
            break;
        }
        // The second changed meanwhile: the call was placed; end it and try again.
        redis.send_command(
            &a.id,
            &GatewayCommand::Hangup {
                call_id: call,
                status: None,
            },
        );
    }
    assert!(judged, "never refused for the rate");
}

/// Whatever a peer puts in From — a display name with NUL, bytes that are not UTF-8, 10 kB of
/// name, a user part with control characters or 10 kB long — the call is taken (not dropped,
/// no panic) and the caller number passed to the backend is clean: no control characters, at
/// most 64 characters.
#[test]
fn malformed_caller_names_and_numbers_are_cleaned_not_dropped() {
    let redis = Redis::start();
    redis.add_did(DID);
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let local = sock.local_addr().unwrap();
    let long_name = "N".repeat(10_000);
    let long_user = format!("+{}", "7".repeat(10_000));
    let cases: Vec<(Vec<u8>, &[u8], &str)> = vec![
        (b"\"Bo\0b\"".to_vec(), b"+15550001001", "+15550001001"),
        (
            b"\"B\xe9b \xff\xfe\"".to_vec(),
            b"+15550001002",
            "+15550001002",
        ),
        (
            format!("\"{long_name}\"").into_bytes(),
            b"+15550001003",
            "+15550001003",
        ),
        (b"\"Eve\"".to_vec(), b"+1555\x01000\x7f1004", "+15550001004"),
        (b"\"Max\"".to_vec(), long_user.as_bytes(), &long_user[..64]),
    ];
    for (i, (name, user, want)) in cases.iter().enumerate() {
        let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
        let mut m = format!(
            "INVITE sip:{DID}@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP {local};branch=z9hG4bK-bad{i}\r\nFrom: "
        )
        .into_bytes();
        m.extend_from_slice(name);
        m.extend_from_slice(b" <sip:");
        m.extend_from_slice(user);
        m.extend_from_slice(
            format!(
                "@127.0.0.1>;tag=t{i}\r\nTo: <sip:{DID}@127.0.0.1>\r\nCall-ID: bad-{i}\r\nCSeq: 1 INVITE\r\n\
                 Contact: <sip:x@{local}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
                sdp.len()
            )
            .as_bytes(),
        );
        sock.send_to(&m, gw.addr()).unwrap();
        let evs = redis.wait_events(10, "call started", |e| {
            e.iter().any(|e| matches!(e, GatewayEvent::CallStarted { sip_call_id, .. } if *sip_call_id == format!("bad-{i}")))
        });
        let caller = evs
            .iter()
            .find_map(|e| match e {
                GatewayEvent::CallStarted {
                    sip_call_id,
                    caller,
                    ..
                } if *sip_call_id == format!("bad-{i}") => Some(caller.clone()),
                _ => None,
            })
            .unwrap();
        assert_eq!(caller, *want, "case {i}");
        // The gateway answered the INVITE (a provisional or final response came back).
        let mut buf = [0u8; 4096];
        let (n, _) = sock.recv_from(&mut buf).expect("a response");
        assert!(buf[..n].starts_with(b"SIP/2.0 1") || buf[..n].starts_with(b"SIP/2.0 2"));
    }
    assert!(!gw.log_text().contains("panicked"), "{}", gw.log_text());
}
