//! Tenant prompts published in Redis (as the backend does) are what a caller hears: two
//! tenants with a prompt of the same name each hear their own, and a new version is heard
//! by the next call. Checked on the recording's right channel (what the gateway sent).
//! Requires the Debian packages `sip-tester` and `redis-server`.

mod common;

use common::*;
use hotline_wire::gateway::{GatewayCommand, GatewayEvent};
use hotline_wire::prompts::{prompt_key, prompts_key};
use std::path::Path;
use uuid::Uuid;

const DID_A: &str = "+994125550110";
const DID_B: &str = "+994125550120";

const SCENARIO: &str = r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="tenant-prompt">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:+15550002222@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
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
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true" rrs="true"/>
  <send>
    <![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: "Caller" <sip:+15550002222@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: <sip:caller@[local_ip]:[local_port];transport=[transport]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
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

/// An 8 kHz mono 16-bit WAV, what the backend stores after converting an upload.
fn wav_8k(samples: &[i16]) -> Vec<u8> {
    let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&[1, 0, 1, 0]);
    v.extend_from_slice(&8000u32.to_le_bytes());
    v.extend_from_slice(&16000u32.to_le_bytes());
    v.extend_from_slice(&[2, 0, 16, 0]);
    v.extend_from_slice(b"data");
    v.extend_from_slice(&((samples.len() * 2) as u32).to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

/// Publishes a tenant prompt the way the backend's `sync_tenant` does.
fn publish(redis: &RedisHandle, tenant: Uuid, name: &str, token: &str, audio: &[u8]) {
    let _: () = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(prompt_key(tenant, name))
        .arg(audio)
        .ignore()
        .cmd("HSET")
        .arg(prompts_key(tenant))
        .arg(name)
        .arg(token)
        .ignore()
        .query(&mut redis.con())
        .unwrap();
}

/// One call to `did` that the "backend" (this thread) answers, plays `welcome` to and hangs
/// up; returns the right channel of its recording (what the caller heard).
fn call_hearing_welcome(redis: &Redis, gw: &Gateway, did: &str) -> Vec<i16> {
    let dir = TempDir::new("prompt");
    let before: Vec<Uuid> = redis
        .events()
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::CallStarted { call_id, .. } => Some(*call_id),
            _ => None,
        })
        .collect();
    let (r2, gw_id, d) = (redis.handle.clone(), gw.id.clone(), did.to_string());
    let driver = std::thread::spawn(move || {
        let find = |evs: &[GatewayEvent]| {
            evs.iter().find_map(|e| match e {
                GatewayEvent::CallStarted { call_id, did, .. }
                    if *did == d && !before.contains(call_id) =>
                {
                    Some(*call_id)
                }
                _ => None,
            })
        };
        let evs = r2.wait_events(10, "call started", |e| find(e).is_some());
        let call_id = find(&evs).unwrap();
        r2.send_command(&gw_id, &GatewayCommand::Answer { call_id });
        r2.send_command(
            &gw_id,
            &GatewayCommand::Play {
                call_id,
                prompt: "welcome".into(),
                interruptible: false,
            },
        );
        r2.wait_events(10, "playback finished", |e| {
            e.iter().any(
                |e| matches!(e, GatewayEvent::PlaybackFinished { call_id: c, .. } if *c == call_id),
            )
        });
        r2.send_command(
            &gw_id,
            &GatewayCommand::Hangup {
                call_id,
                status: None,
            },
        );
        call_id
    });
    let run = sipp(gw, dir.path(), SCENARIO, did, &[]);
    let call_id = driver.join().unwrap();
    assert!(
        run.ok,
        "sipp failed:\n{}\n--- gateway log:\n{}",
        run.output,
        gw.log_text()
    );
    let evs = redis.wait_events(10, "recording finished", |e| {
        e.iter().any(
            |e| matches!(e, GatewayEvent::RecordingFinished { call_id: c, .. } if *c == call_id),
        )
    });
    let path = evs
        .iter()
        .find_map(|e| match e {
            GatewayEvent::RecordingFinished {
                call_id: c, path, ..
            } if *c == call_id => Some(path.clone()),
            _ => None,
        })
        .unwrap();
    let (channels, _, samples) = read_wav(Path::new(&path));
    assert_eq!(channels, 2);
    samples.iter().skip(1).step_by(2).copied().collect()
}

/// Which of `freqs` dominates `samples`.
fn loudest(samples: &[i16], freqs: &[f32]) -> f32 {
    let mut best = (0.0f32, 0.0f64);
    for &f in freqs {
        let p = goertzel(samples, 8000, f);
        if p > best.1 {
            best = (f, p);
        }
    }
    best.0
}

#[test]
fn each_tenant_hears_its_own_prompt_and_its_latest_version() {
    let redis = Redis::start();
    let a = redis.add_did(DID_A);
    let b = redis.add_did(DID_B);
    for t in [a, b] {
        redis.set_flow(t, "mode", "backend");
    }
    // Same name, different audio: A's is 1 kHz, B's 600 Hz (the missing-prompt tone is 440).
    publish(
        &redis,
        a,
        "welcome",
        "a1",
        &wav_8k(&tone(1000.0, 1.5, 8000.0)),
    );
    publish(
        &redis,
        b,
        "welcome",
        "b1",
        &wav_8k(&tone(600.0, 1.5, 8000.0)),
    );
    let gw = Gateway::start(&redis, GatewayOpts::default());
    let freqs = [440.0, 600.0, 1000.0, 1500.0];

    let heard_a = call_hearing_welcome(&redis, &gw, DID_A);
    assert_eq!(
        loudest(&heard_a, &freqs),
        1000.0,
        "tenant A heard its prompt"
    );
    assert!(
        rms(&heard_a) > 1500.0,
        "A's prompt was played: {}",
        rms(&heard_a)
    );
    let heard_b = call_hearing_welcome(&redis, &gw, DID_B);
    assert_eq!(
        loudest(&heard_b, &freqs),
        600.0,
        "tenant B heard its own prompt"
    );

    // A publishes version 2: the next call of A hears it, B is unaffected.
    publish(
        &redis,
        a,
        "welcome",
        "a2",
        &wav_8k(&tone(1500.0, 1.5, 8000.0)),
    );
    let heard_a2 = call_hearing_welcome(&redis, &gw, DID_A);
    assert_eq!(loudest(&heard_a2, &freqs), 1500.0, "A's new version");
    let heard_b2 = call_hearing_welcome(&redis, &gw, DID_B);
    assert_eq!(loudest(&heard_b2, &freqs), 600.0);

    // A deletes it: the call falls back to the missing-prompt tone, never B's prompt.
    let _: () = redis::pipe()
        .cmd("HDEL")
        .arg(prompts_key(a))
        .arg("welcome")
        .ignore()
        .cmd("DEL")
        .arg(prompt_key(a, "welcome"))
        .ignore()
        .query(&mut redis.con())
        .unwrap();
    let heard_a3 = call_hearing_welcome(&redis, &gw, DID_A);
    assert_eq!(loudest(&heard_a3, &freqs), 440.0, "the fallback tone");
}
