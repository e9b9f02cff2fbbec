//! Benchmark program (not a test): drives SIPp against the release gateway and, for
//! comparison, against Kamailio as a stateful proxy in front of a SIPp UAS, on loopback.
//!
//! Run: `cargo bench -p hotline-gateway --bench sipp` (add `-- --quick` for a short run,
//! `-- --cps-only` to skip the media stage).
//! Prints:
//! * the highest call rate (short calls, no media) that completes with 0 failed calls,
//!   for the gateway and for Kamailio;
//! * the highest number of concurrent calls with G.711 both ways and recording on whose RTP
//!   loss (measured by the gateway's jitter buffers) stays under 0.1 %.
//!
//! Requires the Debian packages `sip-tester`, `kamailio` and `redis-server`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const DID: &str = "+994125550100";

struct Opts {
    trial_secs: u32,
    cps_cap: u32,
    concurrency_steps: Vec<u32>,
}

fn sipp_cmd(target: &str, dir: &std::path::Path) -> Command {
    let mut c = Command::new(require("sipp", "sip-tester"));
    c.current_dir(dir);
    if !target.is_empty() {
        c.arg(target);
    }
    c.args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

/// One CPS trial: `rate` calls/s for `secs` seconds of short calls. Passes when no call
/// failed and the rate was really sustained: calls / elapsed time ≥ 95 % of `rate`.
fn cps_trial(target: &str, dir: &std::path::Path, rate: u32, secs: u32) -> (bool, f64) {
    let calls = rate * secs;
    let started = Instant::now();
    let status = sipp_cmd(target, dir)
        .args([
            "-sn",
            "uac",
            "-d",
            "0",
            "-s",
            DID,
            "-p",
            &free_ports(1).to_string(),
            "-mp",
            &free_ports(4).to_string(),
        ])
        .args([
            "-r",
            &rate.to_string(),
            "-m",
            &calls.to_string(),
            "-l",
            "100000",
        ])
        .args([
            "-recv_timeout",
            "5000",
            "-timeout",
            &format!("{}s", secs * 3 + 10),
            "-timeout_error",
            "-max_recv_loops",
            "10000",
            "-max_sched_loops",
            "10000",
        ])
        .status()
        .expect("run sipp");
    let elapsed = started.elapsed().as_secs_f64();
    let achieved = calls as f64 / elapsed;
    (status.success() && achieved >= 0.95 * rate as f64, achieved)
}

/// Ramps the rate up (doubling) then bisects to the highest rate that passes.
fn max_cps(name: &str, target: &str, dir: &std::path::Path, opts: &Opts, settle: &dyn Fn()) -> u32 {
    let trial = |rate: u32| {
        settle();
        let (ok, achieved) = cps_trial(target, dir, rate, opts.trial_secs);
        println!(
            "  {name}: {rate} cps x {} s -> {} (sustained {achieved:.0} cps)",
            opts.trial_secs,
            if ok { "pass: 0 failed calls" } else { "FAIL" }
        );
        ok
    };
    let (mut good, mut bad) = (0u32, None::<u32>);
    let mut rate = 100;
    while rate <= opts.cps_cap {
        if trial(rate) {
            good = rate;
            rate *= 2;
        } else {
            bad = Some(rate);
            break;
        }
    }
    if let Some(mut hi) = bad {
        for _ in 0..3 {
            let mid = (good + hi) / 2;
            if mid <= good || hi - good < 50 {
                break;
            }
            if trial(mid) {
                good = mid;
            } else {
                hi = mid;
            }
        }
    }
    good
}

fn metrics(port: u16) -> std::collections::HashMap<String, f64> {
    use std::io::{Read, Write};
    let mut out = String::new();
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.write_all(b"GET /metrics HTTP/1.1\r\n\r\n");
        let _ = s.read_to_string(&mut out);
    }
    out.lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            l.split_once(' ')
                .and_then(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
        })
        .collect()
}

/// Concurrent calls with media both ways: each call streams 20 s of PCMU from SIPp while the
/// gateway plays its prompts/echo back and records. Returns (ok, peak concurrent, loss %).
fn media_trial(
    gw: &Gateway,
    metrics_port: u16,
    dir: &std::path::Path,
    concurrent: u32,
) -> (bool, f64, f64) {
    let call_secs = 20u32;
    let rate = (concurrent / 10).max(10);
    let scen = format!(
        r#"<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="media">
  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:c@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=u 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [auto_media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
  ]]></send>
  <recv response="100" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <nop><action><exec play_pcap_audio="tone.pcap"/></action></nop>
  <pause milliseconds="{half}"/>
  <nop><action><exec play_pcap_audio="tone.pcap"/></action></nop>
  <pause milliseconds="{half}"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:+15550001111@[local_ip]:[local_port]>;tag=[pid]T[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

  ]]></send>
  <recv response="200"/>
</scenario>
"#,
        half = call_secs * 500
    );
    std::fs::write(dir.join("media.xml"), scen).unwrap();
    let before = metrics(metrics_port);
    let mut child = sipp_cmd(&gw.addr(), dir)
        .args([
            "-sf",
            "media.xml",
            "-s",
            DID,
            "-p",
            &free_ports(1).to_string(),
            "-mp",
            &free_ports(4).to_string(),
        ])
        .args([
            "-r",
            &rate.to_string(),
            "-m",
            &concurrent.to_string(),
            "-l",
            &concurrent.to_string(),
        ])
        .args([
            "-recv_timeout",
            "10000",
            "-timeout",
            &format!("{}s", call_secs * 3 + concurrent / rate + 30),
            "-timeout_error",
        ])
        .spawn()
        .expect("run sipp");
    let mut peak = 0.0f64;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        peak = peak.max(
            metrics(metrics_port)
                .get("hotline_gw_calls_active")
                .copied()
                .unwrap_or(0.0),
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    // Let the media workers account the ended calls' last frames (a call adds its RTP counts
    // when it stops, at its next tick).
    std::thread::sleep(Duration::from_secs(1));
    let after = metrics(metrics_port);
    let d = |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
    let (rx, lost, expected) = (
        d("hotline_gw_rtp_packets_in_total"),
        d("hotline_gw_rtp_lost_total"),
        d("hotline_gw_rtp_expected_total"),
    );
    let loss = if expected > 0.0 {
        100.0 * lost / expected
    } else {
        100.0
    };
    println!(
        "  gateway: {concurrent} calls ({rate} cps ramp, {call_secs} s each) -> sipp {}, peak active {peak}, RTP in {rx} of {expected} expected, out {}, lost {lost} ({loss:.3} %), late {}, concealed frames {}",
        if status.success() { "ok" } else { "FAILED calls" },
        d("hotline_gw_rtp_packets_out_total"),
        d("hotline_gw_rtp_late_total"),
        d("hotline_gw_rtp_concealed_frames_total"),
    );
    (status.success(), peak, loss)
}

/// Waits (up to 120 s) until the gateway holds no call.
fn wait_idle(metrics_port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if metrics(metrics_port)
            .get("hotline_gw_calls_active")
            .copied()
            == Some(0.0)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    println!("  (gateway still busy after 120 s)");
}

struct Kamailio {
    proxy: Child,
    uas: Child,
}

impl Drop for Kamailio {
    fn drop(&mut self) {
        // SIGTERM (not SIGKILL) so the main process also stops the workers it forked.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.proxy.id().to_string())
            .status();
        let _ = self.proxy.wait();
        let _ = self.uas.kill();
        let _ = self.uas.wait();
    }
}

fn start_kamailio(dir: &std::path::Path) -> (Kamailio, String) {
    let kam = require("kamailio", "kamailio");
    let port = free_ports(1);
    let uas_port = free_ports(1);
    let cfg = format!(
        r#"#!KAMAILIO
debug=0
log_stderror=yes
fork=yes
children=1
tcp_children=1
listen=udp:127.0.0.1:{port}
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
request_route {{
    if (!mf_process_maxfwd_header("10")) {{ sl_send_reply("483", "Too Many Hops"); exit; }}
    if (has_totag()) {{
        # SIPp's built-in uac sends in-dialog requests without Route: relay them to the UAS.
        if (!loose_route()) {{ $du = "sip:127.0.0.1:{uas_port}"; }}
        t_relay();
        exit;
    }}
    if (is_method("CANCEL")) {{ if (t_check_trans()) {{ t_relay(); }} exit; }}
    record_route();
    $du = "sip:127.0.0.1:{uas_port}";
    if (!t_relay()) {{ sl_reply_error(); }}
}}
"#
    );
    let path = dir.join("kamailio.cfg");
    std::fs::write(&path, cfg).unwrap();
    let uas = sipp_cmd("", dir)
        .args([
            "-sn",
            "uas",
            "-p",
            &uas_port.to_string(),
            "-mp",
            &free_ports(4).to_string(),
            // Without -l a SIPp UAS limits itself to 30 calls in progress.
            "-l",
            "100000",
        ])
        .spawn()
        .expect("sipp uas");
    let proxy = Command::new(kam)
        .arg("-f")
        .arg(&path)
        .args(["-DD", "-E", "-m", "256", "-M", "16", "-P"])
        .arg(dir.join("kamailio.pid"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("kamailio");
    std::thread::sleep(Duration::from_secs(2));
    (Kamailio { proxy, uas }, format!("127.0.0.1:{port}"))
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not: do not run the
    // (minutes-long) benchmark as a test.
    if !std::env::args().any(|a| a == "--bench") {
        println!("benchmark skipped: run it with `cargo bench -p hotline-gateway --bench sipp`");
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let cps_only = std::env::args().any(|a| a == "--cps-only");
    let opts = if quick {
        Opts {
            trial_secs: 3,
            cps_cap: 1600,
            concurrency_steps: vec![100, 250],
        }
    } else {
        Opts {
            trial_secs: 10,
            cps_cap: 6400,
            concurrency_steps: vec![250, 500, 750, 1000, 1500, 2000],
        }
    };
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "Hotline media gateway benchmark — {cores} cores, SIPp {}, loopback",
        sipp_version()
    );
    let dir = TempDir::new("bench");
    let redis = Redis::start();
    redis.add_did(DID);
    let metrics_port = free_ports(1);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            // Longer than a media-trial call (20 s): the caller hangs up, not the flow.
            digit_timeout_ms: 60_000,
            echo_ms: 60_000,
            extra_env: vec![
                ("HOTLINE_GW_RTP_PORTS".into(), "30000-39999".into()),
                (
                    "HOTLINE_GW_METRICS_ADDR".into(),
                    format!("127.0.0.1:{metrics_port}"),
                ),
                ("RUST_LOG".into(), "warn".into()),
            ],
            ..GatewayOpts::default()
        },
    );
    // Recordings are kept until the end (the temporary directory goes then): deleting
    // thousands of files between trials makes ext4's inode allocator (recently-deleted
    // scans) the bottleneck of the next trial.

    println!(
        "\n[1] Calls per second, short calls without media (SIPp -sn uac -d 0), 0 failed calls:"
    );
    let started = Instant::now();
    // Each trial starts with an idle gateway: calls left over by an overloaded trial (no ACK
    // → 200 retransmitted for 32 s, then BYE) must not weigh on the next one.
    let idle = || wait_idle(metrics_port);
    let gw_cps = max_cps("gateway", &gw.addr(), dir.path(), &opts, &idle);
    // One Kamailio UDP worker: with several, a 180 and the 200 that follows it can be relayed
    // out of order, which SIPp's built-in uac treats as a failed call.
    let (kam, kam_addr) = start_kamailio(dir.path());
    let kam_settle = || {
        wait_idle(metrics_port);
        std::thread::sleep(Duration::from_secs(3));
    };
    let kam_cps = max_cps("kamailio", &kam_addr, dir.path(), &opts, &kam_settle);
    drop(kam);
    println!(
        "  => gateway {gw_cps} cps, kamailio (stateful proxy + SIPp uas) {kam_cps} cps  [{:.0} s]",
        started.elapsed().as_secs_f64()
    );

    if cps_only {
        println!("\nSUMMARY gateway_cps={gw_cps} kamailio_cps={kam_cps}");
        return;
    }
    println!("\n[2] Concurrent calls with PCMU both ways and stereo recording, RTP loss < 0.1 %:");
    write_pcmu_pcap(&dir.path().join("tone.pcap"), &tone(1000.0, 10.0, 8000.0));
    let mut best = 0u32;
    for &n in &opts.concurrency_steps {
        wait_idle(metrics_port);
        let (ok, peak, loss) = media_trial(&gw, metrics_port, dir.path(), n);
        if ok && loss < 0.1 && peak >= n as f64 * 0.9 {
            best = n;
        } else {
            break;
        }
    }
    println!("  => gateway {best} concurrent recorded calls with < 0.1 % RTP loss");
    println!(
        "\nSUMMARY gateway_cps={gw_cps} kamailio_cps={kam_cps} gateway_concurrent_recorded={best}"
    );
}

fn sipp_version() -> String {
    let out = Command::new("sipp")
        .arg("-v")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).to_string())
        .unwrap_or_default();
    out.lines()
        .find(|l| l.contains("SIPp"))
        .map(|l| l.trim().to_string())
        .unwrap_or_default()
}
