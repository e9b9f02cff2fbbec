//! SIPp against the real gateway binary on loopback, with a private Redis per test.
//! Requires the Debian packages `sip-tester` and `redis-server`.

mod common;

use common::*;
use hotline_wire::gateway::{CollectEnd, DtmfSource, GatewayCommand, GatewayEvent, HangupCause};

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
    let evs = redis.wait_events(10, "recording finished", |e| {
        e.iter()
            .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. }))
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
    assert!(evs.iter().any(|e| matches!(e, GatewayEvent::Hangup { cause: HangupCause::CallerBye, call_id: c, .. } if *c == call_id)));
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
    assert!(evs.iter().any(|e| matches!(
        e,
        GatewayEvent::PlaybackFinished {
            interrupted_by: Some('1'),
            ..
        }
    )));
}

fn rejected_call(
    status: u16,
    m_line: &str,
    rtpmaps: &str,
    setup: impl Fn(&Redis),
) -> Vec<GatewayEvent> {
    let redis = Redis::start();
    setup(&redis);
    let gw = Gateway::start(&redis, GatewayOpts::default());
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

#[test]
fn backend_commands_drive_a_call() {
    let redis = Redis::start();
    let tenant = redis.add_did(DID);
    redis.set_flow(tenant, "mode", "backend");
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let dir = TempDir::new("sipp");
    let body = g711_invite("[branch]")
        + ANSWERED
        + &pause(1500)
        + &play("/usr/share/sip-tester/dtmf_2833_4.pcap")
        + GATEWAY_BYE;
    let gw_id = gw.id.clone();
    let r2 = redis.handle.clone();
    let driver = std::thread::spawn(move || {
        let evs = r2.wait_events(10, "call started", |e| {
            e.iter()
                .any(|e| matches!(e, GatewayEvent::CallStarted { .. }))
        });
        let call_id = evs.iter().find_map(|e| match e {
            GatewayEvent::CallStarted { call_id, .. } => Some(*call_id),
            _ => None,
        });
        let call_id = call_id.unwrap();
        r2.send_command(&gw_id, &GatewayCommand::Answer { call_id });
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
