//! Real telephony peers for end-to-end tests: the gateway binary, SIPp scenarios, WAV reading
//! and a tone detector.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// A loopback port free for both UDP and TCP (a gateway listens on both; a backend's HTTP
/// port must not be handed to a gateway after it).
pub fn free_port() -> u16 {
    loop {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let port = udp.local_addr().unwrap().port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// The built `hotline-gateway` next to the test binary.
pub fn gateway_binary() -> PathBuf {
    binary("hotline-gateway", "hotline-gateway")
}

/// The built `hotline` API server next to the test binary.
pub fn backend_binary() -> PathBuf {
    binary("hotline", "hotline-backend")
}

/// Binary `name` of package `package`, built next to the test binary.
fn binary(name: &str, package: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join(name);
    assert!(
        bin.exists(),
        "{} missing: run `cargo build -p {package}` (infra/test.sh builds every binary)",
        bin.display()
    );
    bin
}

/// A child process killed when dropped.
pub struct Proc(pub Child);
impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A real gateway started for one test; killed when dropped.
pub struct TestGateway {
    pub proc: Proc,
    /// Its id (its command stream is `gw:<id>:cmd`).
    pub id: String,
    /// Its SIP address, `127.0.0.1:<port>`.
    pub addr: String,
}

/// Starts the gateway binary on a free loopback SIP port with 40 RTP ports from `rtp_base`,
/// publishing to `events_stream`; recordings and prompts under `work`, its log in
/// `work/gateway.log`; `extra` adds settings (e.g. `HOTLINE_GW_TRUNK`). Waits until it listens.
pub fn start_gateway(
    work: &Path,
    redis_url: &str,
    events_stream: &str,
    rtp_base: u16,
    extra: &[(&str, String)],
) -> TestGateway {
    let port = free_port();
    let id = format!("e2e-{}", uuid::Uuid::new_v4().simple());
    let mut cmd = Command::new(gateway_binary());
    cmd.env("HOTLINE_GW_SIP_ADDR", format!("127.0.0.1:{port}"))
        .env(
            "HOTLINE_GW_RTP_PORTS",
            format!("{rtp_base}-{}", rtp_base + 39),
        )
        .env("HOTLINE_GW_ID", &id)
        .env("REDIS_URL", redis_url)
        .env("HOTLINE_GW_EVENTS_STREAM", events_stream)
        .env("HOTLINE_GW_RECORDINGS_DIR", work.join("rec"))
        .env("HOTLINE_GW_PROMPTS_DIR", work.join("prompts"))
        .env("HOTLINE_GW_HEARTBEAT_MS", "500");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let proc = Proc(
        cmd.stdout(Stdio::null())
            .stderr(std::fs::File::create(work.join("gateway.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    std::thread::sleep(std::time::Duration::from_millis(1000));
    TestGateway {
        proc,
        id,
        addr: format!("127.0.0.1:{port}"),
    }
}

/// A real `hotline serve` process started for one test; killed when dropped.
pub struct TestBackend {
    pub proc: Proc,
    /// Its HTTP base URL, `http://127.0.0.1:<port>`.
    pub url: String,
    /// Its consumer in the gateway events' consumer group (`<name>-<pid>`).
    pub consumer: String,
}

impl TestBackend {
    /// Sends `signal` (e.g. `KILL`, `STOP`, `CONT`) to the process.
    pub fn signal(&self, signal: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.proc.0.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{signal} {}", self.proc.0.id());
    }
}

/// Starts the API server binary (`hotline serve`) as `name` on a free loopback port against
/// `database_url` (already migrated), consuming `events_stream`; its files under
/// `work/<name>`, its log in `work/<name>.log`; `extra` adds settings. Waits until it answers
/// `/healthz`.
pub fn start_backend(
    work: &Path,
    name: &str,
    database_url: &str,
    redis_url: &str,
    events_stream: &str,
    extra: &[(&str, String)],
) -> TestBackend {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(backend_binary());
    cmd.arg("serve")
        .current_dir(work)
        .env_remove("HOTLINE_CONFIG")
        .env("HOSTNAME", name)
        .env("DATABASE_URL", database_url)
        .env("REDIS_URL", redis_url)
        .env("HOTLINE_HTTP_ADDR", &addr)
        .env("HOTLINE_PUBLIC_URL", format!("http://{addr}"))
        .env("HOTLINE_CALL_EVENTS_STREAM", events_stream)
        .env("HOTLINE_FILES_DIR", work.join(name).join("files"))
        .env("HOTLINE_DB_POOL", "5")
        .env("HOTLINE_SLA_JOB_INTERVAL", "0")
        // Test runs sign tenants up from 127.0.0.1 against a shared Redis (see testkit).
        .env("HOTLINE_SIGNUP_LIMIT_PER_ADDRESS", "0")
        .env("HOTLINE_SIGNUP_LIMIT_GLOBAL", "0");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let log = std::fs::File::create(work.join(format!("{name}.log"))).unwrap();
    let proc = Proc(
        cmd.stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        use std::io::{Read, Write};
        let healthy = std::net::TcpStream::connect(&addr).ok().and_then(|mut s| {
            s.write_all(b"GET /healthz HTTP/1.0\r\n\r\n").ok()?;
            let mut out = String::new();
            s.read_to_string(&mut out).ok()?;
            (out.split_whitespace().nth(1) == Some("200")).then_some(())
        });
        if healthy.is_some() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "backend {name} did not start; see {}",
            work.join(format!("{name}.log")).display()
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let consumer = format!("{name}-{}", proc.0.id());
    TestBackend {
        proc,
        url: format!("http://{addr}"),
        consumer,
    }
}

/// Starts SIPp with scenario `xml` (written to `dir/<name>.xml`), one call, loopback, a 60 s
/// overall timeout, message and error traces in `dir`.
pub fn sipp(dir: &Path, name: &str, xml: &str, args: &[&str]) -> Child {
    let sf = dir.join(format!("{name}.xml"));
    std::fs::write(&sf, xml).unwrap();
    Command::new("sipp")
        .current_dir(dir)
        .arg("-sf")
        .arg(&sf)
        .args([
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "60s",
        ])
        .args(["-timeout_error", "-trace_err", "-trace_msg"])
        .args(args)
        .stdout(Stdio::null())
        // A file, not a pipe: nobody reads a pipe until the call is over, and a SIPp blocked
        // on a full one stops sending RTP (seen: a caller whose tone never arrived).
        .stderr(std::fs::File::create(dir.join(format!("{name}.stderr"))).unwrap())
        .spawn()
        .expect("sipp (Debian package sip-tester) must be installed")
}

/// Waits for a SIPp run and fails with its traces unless it succeeded.
pub fn wait_ok(child: Child, dir: &Path, what: &str) {
    let out = child.wait_with_output().unwrap();
    let mut msgs = String::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let n = e.file_name().to_string_lossy().to_string();
        if n.ends_with("_messages.log") || n.ends_with("_errors.log") || n.ends_with(".stderr") {
            msgs.push_str(&std::fs::read_to_string(e.path()).unwrap_or_default());
        }
    }
    assert!(
        out.status.success(),
        "{what} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        &msgs[msgs.len().saturating_sub(6000)..]
    );
}

/// Wraps scenario steps in SIPp's XML envelope.
pub fn scenario(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"ISO-8859-1\" ?>\n<scenario name=\"hotline\">\n{body}</scenario>\n")
}

/// The two channels of a 16-bit stereo WAV written by the gateway (44-byte header):
/// `(left, right)` = (the caller, what the caller heard).
pub fn stereo_channels(path: &Path) -> (Vec<i16>, Vec<i16>) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let samples: Vec<i16> = bytes[44.min(bytes.len())..]
        .chunks_exact(2)
        .map(|c| i16::from_le_bytes([c[0], c[1]]))
        .collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

/// Root mean square of samples.
pub fn rms(s: &[i16]) -> f64 {
    (s.iter().map(|x| (*x as f64).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt()
}

/// Goertzel power of `freq` Hz in 8 kHz samples, normalised by the block's energy: close to
/// 1 for a pure tone at `freq`, near 0 for other sounds.
pub fn tone_share(s: &[i16], freq: f64) -> f64 {
    let k = 2.0 * (2.0 * std::f64::consts::PI * freq / 8000.0).cos();
    let (mut q1, mut q2) = (0.0f64, 0.0f64);
    let mut energy = 0.0f64;
    for x in s {
        let x = *x as f64;
        energy += x * x;
        let q0 = k * q1 - q2 + x;
        q2 = q1;
        q1 = q0;
    }
    let power = q1 * q1 + q2 * q2 - k * q1 * q2;
    if energy == 0.0 {
        0.0
    } else {
        2.0 * power / (energy * s.len() as f64)
    }
}

/// The best [`tone_share`] of `freq` over one-second windows of `s`.
pub fn best_tone_share(s: &[i16], freq: f64) -> f64 {
    s.chunks(8000)
        .filter(|c| c.len() == 8000 && rms(c) > 100.0)
        .map(|c| tone_share(c, freq))
        .fold(0.0, f64::max)
}

/// The strongest level (RMS of that tone alone) of `freq` Hz over one-second windows of `s`:
/// unlike [`best_tone_share`] it tells a quiet party mixed with a loud one from silence.
pub fn best_tone_level(s: &[i16], freq: f64) -> f64 {
    s.chunks(8000)
        .filter(|c| c.len() == 8000)
        .map(|c| tone_share(c, freq).sqrt() * rms(c))
        .fold(0.0, f64::max)
}

/// Every gateway event on `stream` and its shards so far, oldest first.
pub async fn gateway_events(
    r: &mut redis::aio::ConnectionManager,
    stream: &str,
) -> Vec<hotline_wire::gateway::GatewayEvent> {
    let mut all = Vec::new();
    for stream in hotline_wire::gateway::event_streams(stream) {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg("-")
            .arg("+")
            .query_async(r)
            .await
            .unwrap();
        all.extend(reply.ids);
    }
    all.sort_by_key(|e| hotline_wire::gateway::stream_id_order(&e.id));
    all.into_iter()
        .filter_map(|e| {
            let m: String = e.get(hotline_wire::gateway::STREAM_FIELD)?;
            serde_json::from_str(&m).ok()
        })
        .collect()
}
