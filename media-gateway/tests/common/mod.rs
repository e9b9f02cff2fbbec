//! Test harness: a private redis-server on a Unix socket, the real gateway binary, SIPp runs,
//! pcap/WAV helpers and audio analysis.
#![allow(dead_code)]

pub mod webrtc;

use hotline_wire::gateway::{self as wire, DidEntry, Direction, GatewayEvent};
use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// Fails with the Debian package to install when a tool is missing.
pub fn require(tool: &str, package: &str) -> PathBuf {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin", "/bin", "/sbin"] {
        let p = Path::new(dir).join(tool);
        if p.exists() {
            return p;
        }
    }
    panic!("`{tool}` not found: install the Debian package `{package}` (listed in infra/apt-packages.txt)");
}

/// A fresh temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "hotline-gw-{tag}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("HOTLINE_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// A private redis-server listening only on a Unix socket.
pub struct Redis {
    child: Child,
    pub handle: RedisHandle,
    _dir: TempDir,
}

/// Client-side access to a test Redis (cheap to clone into threads).
#[derive(Clone)]
pub struct RedisHandle {
    pub socket: PathBuf,
}

impl std::ops::Deref for Redis {
    type Target = RedisHandle;
    fn deref(&self) -> &RedisHandle {
        &self.handle
    }
}

impl Redis {
    pub fn start() -> Self {
        let bin = require("redis-server", "redis-server");
        let dir = TempDir::new("redis");
        let socket = dir.path().join("redis.sock");
        let child = Command::new(bin)
            .args([
                "--port",
                "0",
                "--save",
                "",
                "--appendonly",
                "no",
                "--unixsocket",
            ])
            .arg(&socket)
            .args(["--unixsocketperm", "777", "--dir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn redis-server");
        // Ready once it answers: the socket file appears at bind(), before listen(), and a
        // connection in between is refused (seen on a loaded machine).
        let deadline = Instant::now() + Duration::from_secs(10);
        let url = format!("unix://{}", socket.display());
        while redis::Client::open(url.as_str())
            .and_then(|c| c.get_connection())
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_err()
        {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
        Redis {
            child,
            handle: RedisHandle { socket },
            _dir: dir,
        }
    }
}

impl RedisHandle {
    pub fn url(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    pub fn con(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .unwrap()
            .get_connection()
            .unwrap()
    }

    /// Maps `did` to a new tenant and returns the tenant id.
    pub fn add_did(&self, did: &str) -> Uuid {
        let tenant = Uuid::new_v4();
        let json = serde_json::to_string(&DidEntry { tenant_id: tenant }).unwrap();
        let _: () = redis::cmd("HSET")
            .arg(wire::DIDS_KEY)
            .arg(did)
            .arg(json)
            .query(&mut self.con())
            .unwrap();
        tenant
    }

    pub fn blacklist(&self, tenant: Uuid, number: &str) {
        let _: () = redis::cmd("SADD")
            .arg(wire::blacklist_key(tenant, Direction::Inbound))
            .arg(number)
            .query(&mut self.con())
            .unwrap();
    }

    pub fn set_flow(&self, tenant: Uuid, field: &str, value: &str) {
        let _: () = redis::cmd("HSET")
            .arg(wire::flow_key(tenant))
            .arg(field)
            .arg(value)
            .query(&mut self.con())
            .unwrap();
    }

    /// All events published so far, from every shard of the event stream, in publishing order.
    pub fn events(&self) -> Vec<GatewayEvent> {
        let mut all = Vec::new();
        for stream in wire::event_streams(wire::EVENTS_STREAM) {
            let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
                .arg(stream)
                .arg("-")
                .arg("+")
                .query(&mut self.con())
                .unwrap();
            all.extend(reply.ids);
        }
        all.sort_by_key(|e| wire::stream_id_order(&e.id));
        all.iter()
            .filter_map(|e| e.get::<String>(wire::STREAM_FIELD))
            .map(|j| serde_json::from_str(&j).unwrap())
            .collect()
    }

    /// Waits until `pred` holds for the events (or panics after `secs`).
    pub fn wait_events(
        &self,
        secs: u64,
        what: &str,
        pred: impl Fn(&[GatewayEvent]) -> bool,
    ) -> Vec<GatewayEvent> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let evs = self.events();
            if pred(&evs) {
                return evs;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; events: {evs:#?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn send_command(&self, gateway_id: &str, cmd: &hotline_wire::gateway::GatewayCommand) {
        let _: String = redis::cmd("XADD")
            .arg(wire::command_stream(gateway_id))
            .arg("*")
            .arg(wire::STREAM_FIELD)
            .arg(serde_json::to_string(cmd).unwrap())
            .query(&mut self.con())
            .unwrap();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

static NEXT_PORT: AtomicU16 = AtomicU16::new(0);

/// A block of `n` consecutive free UDP ports on 127.0.0.1 (checked by binding).
pub fn free_ports(n: u16) -> u16 {
    loop {
        let slot = NEXT_PORT.fetch_add(1, Ordering::SeqCst);
        let base = 21000
            + ((std::process::id() as u16 % 40) * 1000 + slot * 50 + fastrand::u16(0..10) * 4)
                % 38000;
        let ok = (base..base + n).all(|p| {
            UdpSocket::bind(("127.0.0.1", p)).is_ok()
                && std::net::TcpListener::bind(("127.0.0.1", p)).is_ok()
        });
        if ok {
            return base;
        }
    }
}

/// The gateway binary running against a private Redis.
pub struct Gateway {
    pub child: Child,
    pub sip_port: u16,
    pub id: String,
    pub recordings: TempDir,
    pub log: PathBuf,
}

pub struct GatewayOpts {
    pub digit_timeout_ms: u32,
    pub echo_ms: u32,
    pub flow: &'static str,
    pub prompts: Option<PathBuf>,
    pub extra_env: Vec<(String, String)>,
}

impl Default for GatewayOpts {
    fn default() -> Self {
        GatewayOpts {
            digit_timeout_ms: 30_000,
            echo_ms: 30_000,
            flow: "builtin",
            prompts: None,
            extra_env: Vec::new(),
        }
    }
}

impl Gateway {
    pub fn start(redis: &Redis, opts: GatewayOpts) -> Self {
        let sip_port = free_ports(1);
        let rtp = free_ports(40);
        let id = format!("test-{}", fastrand::u32(..));
        let recordings = TempDir::new("rec");
        let log = recordings.path().join("gateway.log");
        // `HOTLINE_GW_BIN`: another gateway binary (benchmarks comparing two builds).
        let bin = std::env::var_os("HOTLINE_GW_BIN")
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| env!("CARGO_BIN_EXE_hotline-gateway").into());
        let mut cmd = Command::new(bin);
        cmd.env("HOTLINE_GW_SIP_ADDR", format!("127.0.0.1:{sip_port}"))
            .env("HOTLINE_GW_RTP_PORTS", format!("{rtp}-{}", rtp + 39))
            .env("HOTLINE_GW_ID", &id)
            .env("REDIS_URL", redis.url())
            .env("HOTLINE_GW_RECORDINGS_DIR", recordings.path().join("rec"))
            .env(
                "HOTLINE_GW_PROMPTS_DIR",
                opts.prompts
                    .clone()
                    .unwrap_or_else(|| recordings.path().join("no-prompts")),
            )
            .env(
                "HOTLINE_GW_DIGIT_TIMEOUT_MS",
                opts.digit_timeout_ms.to_string(),
            )
            .env("HOTLINE_GW_ECHO_MS", opts.echo_ms.to_string())
            .env("HOTLINE_GW_FLOW", opts.flow)
            .env("HOTLINE_GW_HEARTBEAT_MS", "500")
            .env("RUST_LOG", "info");
        for (k, v) in &opts.extra_env {
            cmd.env(k, v);
        }
        let logf = std::fs::File::create(&log).unwrap();
        let child = cmd
            .stdout(logf.try_clone().unwrap())
            .stderr(logf)
            .spawn()
            .expect("spawn gateway");
        let gw = Gateway {
            child,
            sip_port,
            id,
            recordings,
            log,
        };
        gw.wait_ready();
        gw
    }

    fn wait_ready(&self) {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut buf = [0u8; 4096];
        loop {
            let opt = options_request(sock.local_addr().unwrap().port(), self.sip_port);
            let _ = sock.send_to(opt.as_bytes(), ("127.0.0.1", self.sip_port));
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                if buf[..n].starts_with(b"SIP/2.0 200") {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "gateway did not answer OPTIONS; log:\n{}",
                self.log_text()
            );
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.sip_port)
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn options_request(local_port: u16, gw_port: u16) -> String {
    let branch = format!("z9hG4bK{}", fastrand::u64(..));
    format!(
        "OPTIONS sip:ping@127.0.0.1:{gw_port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{local_port};branch={branch}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: {branch}@probe\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n"
    )
}

/// Outcome of a SIPp run.
pub struct SippRun {
    pub ok: bool,
    pub output: String,
}

/// Runs SIPp with `scenario` (XML text) for one call to the gateway; extra args appended.
pub fn sipp(gw: &Gateway, dir: &Path, scenario: &str, service: &str, extra: &[&str]) -> SippRun {
    let bin = require("sipp", "sip-tester");
    let name = format!("scen-{}.xml", fastrand::u32(..));
    let path = dir.join(&name);
    std::fs::write(&path, scenario).unwrap();
    let local = free_ports(1);
    let media = free_ports(4);
    let out = Command::new(bin)
        .current_dir(dir)
        .arg(gw.addr())
        .args([
            "-sf",
            &name,
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
        ])
        .args([
            "-p",
            &local.to_string(),
            "-mp",
            &media.to_string(),
            "-s",
            service,
        ])
        .args([
            "-timeout",
            "40s",
            "-timeout_error",
            "-trace_err",
            "-trace_msg",
        ])
        .args(extra)
        .stdin(Stdio::null())
        .output()
        .expect("run sipp");
    let mut output =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let n = entry.file_name().to_string_lossy().to_string();
        if n.starts_with(name.trim_end_matches(".xml"))
            && (n.ends_with("errors.log") || n.ends_with("messages.log"))
        {
            output += &format!(
                "\n--- {n}\n{}",
                std::fs::read_to_string(entry.path()).unwrap_or_default()
            );
        }
    }
    SippRun {
        ok: out.status.success(),
        output,
    }
}

/// Writes a pcap of RTP packets (PCMU, 20 ms) carrying `samples`, for SIPp's play_pcap_audio.
pub fn write_pcmu_pcap(path: &Path, samples: &[i16]) {
    let pcap =
        hotline_gateway::media::pcap::rtp_pcap(hotline_gateway::media::g711::G711::Pcmu, samples);
    std::fs::write(path, pcap).unwrap();
}

pub use hotline_gateway::media::pcap::tone;

/// Reads a 16-bit PCM WAV: (channels, rate, interleaved samples).
pub fn read_wav(path: &Path) -> (u16, u32, Vec<i16>) {
    let d = std::fs::read(path).unwrap();
    assert_eq!(&d[0..4], b"RIFF");
    let channels = u16::from_le_bytes([d[22], d[23]]);
    let rate = u32::from_le_bytes([d[24], d[25], d[26], d[27]]);
    let mut off = 12;
    while off + 8 <= d.len() {
        let len = u32::from_le_bytes([d[off + 4], d[off + 5], d[off + 6], d[off + 7]]) as usize;
        if &d[off..off + 4] == b"data" {
            let body = &d[off + 8..(off + 8 + len).min(d.len())];
            return (
                channels,
                rate,
                body.chunks_exact(2)
                    .map(|c| i16::from_le_bytes([c[0], c[1]]))
                    .collect(),
            );
        }
        off += 8 + len + (len & 1);
    }
    panic!("no data chunk in {}", path.display());
}

/// Power of `freq` in `samples` (Goertzel), normalised by length.
pub fn goertzel(samples: &[i16], rate: u32, freq: f32) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq as f64 / rate as f64;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    for &x in samples {
        let s0 = x as f64 + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    (s1 * s1 + s2 * s2 - coeff * s1 * s2) / (samples.len().max(1) as f64).powi(2)
}

pub fn rms(samples: &[i16]) -> f64 {
    (samples.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

impl Gateway {
    /// `Some(status)` if the process has exited.
    pub fn child_try_wait(&self) -> Option<std::process::ExitStatus> {
        // `try_wait` needs `&mut`; probe with kill -0 instead.
        let alive = Command::new("kill")
            .arg("-0")
            .arg(self.child.id().to_string())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if alive {
            None
        } else {
            Some(std::process::ExitStatus::default())
        }
    }
}

/// Runs SIPp as a UAS (a "carrier" trunk) on `port` for one call.
pub fn sipp_uas(dir: &Path, scenario: &str, port: u16) -> SippRun {
    let bin = require("sipp", "sip-tester");
    let name = format!("uas-{}.xml", fastrand::u32(..));
    std::fs::write(dir.join(&name), scenario).unwrap();
    let out = Command::new(bin)
        .current_dir(dir)
        .args([
            "-sf",
            &name,
            "-m",
            "1",
            "-i",
            "127.0.0.1",
            "-mi",
            "127.0.0.1",
            "-nostdin",
        ])
        .args(["-p", &port.to_string(), "-mp", &free_ports(4).to_string()])
        .args([
            "-timeout",
            "30s",
            "-timeout_error",
            "-trace_err",
            "-trace_msg",
        ])
        .stdin(Stdio::null())
        .output()
        .expect("run sipp");
    let mut output =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let n = entry.file_name().to_string_lossy().to_string();
        if n.starts_with(name.trim_end_matches(".xml")) && n.ends_with(".log") {
            output += &format!(
                "\n--- {n}\n{}",
                std::fs::read_to_string(entry.path()).unwrap_or_default()
            );
        }
    }
    SippRun {
        ok: out.status.success(),
        output,
    }
}
