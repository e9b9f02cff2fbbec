//! baresip, a real softphone, calls the gateway inside a private network namespace: it must
//! hear the greeting (audio energy of what baresip decoded) and its DTMF `1` must be reported.
//! Requires root (for `unshare --net`) and the Debian packages `baresip-core`, `espeak-ng`,
//! `iproute2`, `redis-server`.

mod common;

use common::*;
use hotline_wire::gateway::{DtmfSource, GatewayEvent};
use std::process::Command;

fn write_wav_8k(path: &std::path::Path, samples: &[i16]) {
    let mut w = hotline_gateway::media::wav::WavWriter::create(path, 1).unwrap();
    w.write_interleaved(samples).unwrap();
    w.finish().unwrap();
}

#[test]
fn baresip_hears_greeting_and_its_dtmf_is_reported() {
    require("baresip", "baresip-core");
    require("ip", "iproute2");
    require("unshare", "util-linux");
    let espeak = require("espeak-ng", "espeak-ng");
    let redis = Redis::start();
    let did = "+994125550177";
    let tenant = redis.add_did(did);
    let dir = TempDir::new("baresip");
    let d = dir.path();
    // Prompts synthesised by espeak-ng (22 kHz WAVs; the gateway converts them).
    std::fs::create_dir_all(d.join("prompts")).unwrap();
    for (name, text) in [
        ("greeting", "Welcome to Hotline."),
        ("menu", "Press 1 for an echo test."),
        ("goodbye", "Goodbye."),
    ] {
        let ok = Command::new(&espeak)
            .arg("-w")
            .arg(d.join("prompts").join(format!("{name}.wav")))
            .arg(text)
            .status()
            .unwrap();
        assert!(ok.success(), "espeak-ng failed");
    }
    // What baresip "says": a quiet 300 Hz tone.
    write_wav_8k(&d.join("speak.wav"), &tone(300.0, 15.0, 3000.0));
    std::fs::create_dir_all(d.join("conf")).unwrap();
    std::fs::create_dir_all(d.join("snd")).unwrap();
    std::fs::write(
        d.join("conf/config"),
        format!(
            "poll_method epoll\nsip_listen 10.77.0.1:5062\naudio_source aufile,{speak}\naudio_player aufile,/dev/null\naudio_alert aufile,/dev/null\n\
             module_path /usr/lib/baresip/modules\nmodule stdio.so\nmodule g711.so\nmodule aufile.so\nmodule sndfile.so\n\
             module_app account.so\nmodule_app menu.so\nsnd_path {snd}\n",
            speak = d.join("speak.wav").display(),
            snd = d.join("snd").display()
        ),
    )
    .unwrap();
    std::fs::write(
        d.join("conf/accounts"),
        "<sip:probe@10.77.0.1>;regint=0;audio_codecs=PCMU\n",
    )
    .unwrap();
    let script = format!(
        r#"set -e
ip link set lo up
ip link add v0 type veth peer name v1
ip addr add 10.77.0.1/24 dev v0
ip link set v0 up
ip link set v1 up
HOTLINE_GW_SIP_ADDR=10.77.0.1:5080 HOTLINE_GW_RTP_PORTS=30000-30100 REDIS_URL={redis} \
HOTLINE_GW_RECORDINGS_DIR={d}/rec HOTLINE_GW_PROMPTS_DIR={d}/prompts HOTLINE_GW_ECHO_MS=1500 \
HOTLINE_GW_ID=baresip-test {gw} > {d}/gateway.log 2>&1 &
GW=$!
sleep 0.5
# Press 1 (RFC 4733) four seconds into the call, during the greeting or the menu.
(sleep 4; printf '/sndcode 1\n'; sleep 9) | baresip -n v0 -f {d}/conf -e "/dial sip:{did}@10.77.0.1:5080" -t 11 > {d}/baresip.log 2>&1 || true
kill $GW
wait $GW || true
"#,
        redis = redis.url(),
        d = d.display(),
        gw = env!("CARGO_BIN_EXE_hotline-gateway"),
    );
    std::fs::write(d.join("run.sh"), script).unwrap();
    let out = Command::new("timeout")
        .args(["60", "unshare", "--net", "sh"])
        .arg(d.join("run.sh"))
        .output()
        .unwrap();
    let logs = || {
        format!(
            "script: {}\n--- gateway:\n{}\n--- baresip:\n{}",
            String::from_utf8_lossy(&out.stderr),
            std::fs::read_to_string(d.join("gateway.log")).unwrap_or_default(),
            std::fs::read_to_string(d.join("baresip.log")).unwrap_or_default()
        )
    };
    assert!(
        out.status.success(),
        "namespace script failed (needs root for unshare --net)\n{}",
        logs()
    );
    let heard = std::fs::read_dir(d.join("snd"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with("-dec.wav"))
        .unwrap_or_else(|| panic!("baresip wrote no decoded audio\n{}", logs()));
    let (_, rate, samples) = read_wav(&heard);
    // The greeting plays for the first ~1.5 s of the call.
    let greeting = &samples[..(rate as usize * 3 / 2).min(samples.len())];
    let level = rms(greeting);
    assert!(
        level > 300.0,
        "baresip heard near silence (RMS {level}) during the greeting\n{}",
        logs()
    );
    let evs = redis.events();
    let dtmf: Vec<_> = evs
        .iter()
        .filter_map(|e| match e {
            GatewayEvent::Dtmf {
                digit,
                source,
                tenant_id,
                ..
            } => Some((*digit, *source, *tenant_id)),
            _ => None,
        })
        .collect();
    assert_eq!(
        dtmf,
        vec![('1', DtmfSource::Rfc4733, tenant)],
        "{evs:#?}\n{}",
        logs()
    );
    assert!(
        evs.iter()
            .any(|e| matches!(e, GatewayEvent::RecordingFinished { .. })),
        "{evs:#?}"
    );
}
