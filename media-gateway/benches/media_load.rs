//! Benchmark program (not a test): the highest number of concurrent calls with G.711 media
//! both ways and stereo recording on that the release gateway carries at < 0.1 % RTP loss in
//! both directions, driven by a light load generator written here instead of SIPp.
//!
//! Run: `cargo bench -p hotline-gateway --bench media_load` (options after `--`:
//! `--quick` for a short smoke run, `--steps 500,1000,…` for the call counts to try,
//! `--hold SECS` for how long all calls of a step stay up together, `--keep-going` to try
//! every step even after one fails). `HOTLINE_GW_BIN=<path>` runs that gateway binary instead
//! of this build's (to compare two builds with the same generator).
//!
//! The generator is one thread: a 20 ms tick walks all calls, drives a minimal SIP UAC over
//! one UDP socket (INVITE with a PCMU offer, retransmitted until a response; 100/180
//! accepted; the 200's SDP gives the gateway's RTP address; ACK; BYE after the hold time,
//! retransmitted until its 200) and sends each call's 160-byte PCMU frame (a 1 kHz tone,
//! 50 packets/s) with `sendmmsg` on a few shared non-blocking RTP sockets, then drains what
//! the gateway sent with `recvmmsg`, demultiplexed by the gateway's source port (the gateway
//! latches symmetric RTP on the address our packets come from).
//!
//! A step passes with 0 failed calls, all target calls up at the same time for at least the
//! required window, and < 0.1 % loss in both directions: generator → gateway from the
//! gateway's own `hotline_gw_rtp_lost_total` / `hotline_gw_rtp_expected_total`; gateway →
//! generator from the RTP sequence numbers the generator received (RFC 3550 A.3) plus the
//! packets that came 200 ms or more late (kernel receive timestamps against a steady 20 ms
//! stream from the call's first packet), which a phone's jitter buffer would have dropped —
//! a gateway that falls behind real time queues RTP in its sockets without losing any, so
//! sequence numbers alone would not show it.
//!
//! Requires the Debian package `redis-server`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::*;
use hotline_gateway::media::g711::G711;
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const DID: &str = "+994125550100";
const CALLER: &str = "+15550001111";
const TICK: Duration = Duration::from_millis(20);
const T1: Duration = Duration::from_millis(500);
/// RTP header (12) + 20 ms of PCMU (160).
const PKT: usize = 172;
/// Calls per shared RTP socket of the generator.
const CALLS_PER_SOCKET: usize = 50;
/// How long after its slot a call hangs up when not all calls of the step came up.
const ANSWER_GRACE: Duration = Duration::from_secs(30);
/// A packet from the gateway this late (against a steady 20 ms stream from the call's first
/// packet) counts as lost: a phone's jitter buffer would have given up on it.
const LATE_LIMIT: Duration = Duration::from_millis(200);
/// Loss limit per direction, in percent.
const LOSS_LIMIT: f64 = 0.1;

fn metrics(port: u16) -> HashMap<String, f64> {
    use std::io::{Read, Write};
    let mut out = String::new();
    if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
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

/// CPU seconds (user + system) used so far by process `pid`.
fn proc_cpu(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (ticks(11) + ticks(12)) / hz
}

/// The pid of our child process called `name`.
fn child_named(name: &str) -> Option<u32> {
    let me = std::process::id();
    std::fs::read_dir(format!("/proc/{me}/task"))
        .ok()?
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .find(|p| {
            std::fs::read_to_string(format!("/proc/{p}/comm")).is_ok_and(|c| c.trim() == name)
        })
}

/// (busy, total) jiffies of the whole machine, from /proc/stat.
fn machine_cpu() -> (f64, f64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: f64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0.0) + v.get(4).copied().unwrap_or(0.0);
    (total - idle, total)
}

/// A CPU snapshot of the gateway, the generator and the machine.
#[derive(Clone, Copy)]
struct CpuMark {
    at: Instant,
    gw: f64,
    gen: f64,
    redis: f64,
    busy: f64,
    total: f64,
}

impl CpuMark {
    fn take(gw_pid: u32) -> Self {
        let (busy, total) = machine_cpu();
        CpuMark {
            at: Instant::now(),
            gw: proc_cpu(gw_pid),
            gen: proc_cpu(std::process::id()),
            redis: child_named("redis-server").map(proc_cpu).unwrap_or(0.0),
            busy,
            total,
        }
    }
    /// (gateway cores, generator cores, redis cores, machine busy %) between two marks.
    fn since(&self, earlier: &CpuMark) -> (f64, f64, f64, f64) {
        let wall = (self.at - earlier.at).as_secs_f64().max(1e-3);
        let total = (self.total - earlier.total).max(1.0);
        (
            (self.gw - earlier.gw) / wall,
            (self.gen - earlier.gen) / wall,
            (self.redis - earlier.redis) / wall,
            100.0 * (self.busy - earlier.busy) / total,
        )
    }
}

fn set_buffers(sock: &UdpSocket, bytes: i32) {
    for opt in [libc::SO_RCVBUFFORCE, libc::SO_SNDBUFFORCE] {
        let r = unsafe {
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::SOL_SOCKET,
                opt,
                &bytes as *const i32 as *const libc::c_void,
                std::mem::size_of::<i32>() as libc::socklen_t,
            )
        };
        if r != 0 {
            // Not root: fall back to the limits of net.core.[rw]mem_max.
            let plain = if opt == libc::SO_RCVBUFFORCE {
                libc::SO_RCVBUF
            } else {
                libc::SO_SNDBUF
            };
            unsafe {
                libc::setsockopt(
                    sock.as_raw_fd(),
                    libc::SOL_SOCKET,
                    plain,
                    &bytes as *const i32 as *const libc::c_void,
                    std::mem::size_of::<i32>() as libc::socklen_t,
                );
            }
        }
    }
}

/// Kernel receive-queue drops of the local UDP ports in `ports` (from /proc/net/udp).
fn udp_drops(ports: &[u16]) -> u64 {
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let port = u16::from_str_radix(f.get(1)?.rsplit(':').next()?, 16).ok()?;
            let drops: u64 = f.last()?.parse().ok()?;
            ports.contains(&port).then_some(drops)
        })
        .sum()
}

/// Pages dirtied and written back so far, machine-wide (/proc/vmstat).
fn vm_pages() -> (u64, u64) {
    let vm = std::fs::read_to_string("/proc/vmstat").unwrap_or_default();
    let get = |k: &str| {
        vm.lines()
            .find_map(|l| l.strip_prefix(k)?.trim().parse().ok())
            .unwrap_or(0)
    };
    (get("nr_dirtied "), get("nr_written "))
}

/// Kernel receive-queue drops summed over the UDP sockets process `pid` holds open (matched
/// by inode between /proc/<pid>/fd and /proc/net/udp).
fn udp_drops_of(pid: u32) -> u64 {
    let inodes: std::collections::HashSet<String> = std::fs::read_dir(format!("/proc/{pid}/fd"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let l = std::fs::read_link(e.path()).ok()?;
            let l = l.to_string_lossy();
            Some(l.strip_prefix("socket:[")?.strip_suffix(']')?.to_string())
        })
        .collect();
    let table = std::fs::read_to_string("/proc/net/udp").unwrap_or_default();
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let drops: u64 = f.last()?.parse().ok()?;
            inodes.contains(*f.get(9)?).then_some(drops)
        })
        .sum()
}

/// An RTP socket of the generator (shared by up to [`CALLS_PER_SOCKET`] calls), with the
/// RTCP port next to it bound too so the gateway's sender reports land somewhere.
struct RtpSock {
    sock: UdpSocket,
    _rtcp: UdpSocket,
    port: u16,
}

impl RtpSock {
    fn bind() -> Self {
        loop {
            let sock = UdpSocket::bind("127.0.0.1:0").expect("bind RTP");
            let port = sock.local_addr().unwrap().port();
            if !port.is_multiple_of(2) || port == u16::MAX {
                continue;
            }
            if let Ok(rtcp) = UdpSocket::bind(("127.0.0.1", port + 1)) {
                sock.set_nonblocking(true).unwrap();
                rtcp.set_nonblocking(true).unwrap();
                set_buffers(&sock, 16 << 20);
                let on: i32 = 1;
                unsafe {
                    libc::setsockopt(
                        sock.as_raw_fd(),
                        libc::SOL_SOCKET,
                        libc::SO_TIMESTAMPNS,
                        &on as *const i32 as *const libc::c_void,
                        std::mem::size_of::<i32>() as libc::socklen_t,
                    );
                }
                return RtpSock {
                    sock,
                    _rtcp: rtcp,
                    port,
                };
            }
        }
    }
}

/// The bucket under which `q` of the counts in `hist` fall.
fn percentile(hist: &[u64], q: f64) -> usize {
    let total: u64 = hist.iter().sum();
    let mut acc = 0;
    for (i, &c) in hist.iter().enumerate() {
        acc += c;
        if acc as f64 >= q * total as f64 {
            return i;
        }
    }
    hist.len().saturating_sub(1)
}

/// Now, in ns since the epoch (the kernel timestamps' clock).
fn now_ns() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

fn sockaddr(a: SocketAddrV4) -> libc::sockaddr_in {
    libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: a.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*a.ip()).to_be(),
        },
        sin_zero: [0; 8],
    }
}

/// Sends `pkts[i]` to `dests[i]` with as few `sendmmsg` calls as possible; returns how many
/// the kernel accepted.
fn send_batch(fd: i32, pkts: &[[u8; PKT]], dests: &[libc::sockaddr_in]) -> usize {
    let mut iov: Vec<libc::iovec> = pkts
        .iter()
        .map(|p| libc::iovec {
            iov_base: p.as_ptr() as *mut libc::c_void,
            iov_len: PKT,
        })
        .collect();
    let mut hdrs: Vec<libc::mmsghdr> = iov
        .iter_mut()
        .zip(dests)
        .map(|(v, d)| {
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = d as *const libc::sockaddr_in as *mut libc::c_void;
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            h.msg_hdr.msg_iov = v as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            h
        })
        .collect();
    let mut off = 0;
    while off < hdrs.len() {
        let n = (hdrs.len() - off).min(1024) as u32;
        let r = unsafe { libc::sendmmsg(fd, hdrs.as_mut_ptr().add(off), n, 0) };
        if r <= 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // EAGAIN / ENOBUFS: count the rest as not sent (the receiver would see a gap).
            break;
        }
        off += r as usize;
    }
    off
}

const RX_BATCH: usize = 64;
const RX_BUF: usize = 512;

/// Reusable `recvmmsg` buffers.
struct RxBatch {
    bufs: Vec<[u8; RX_BUF]>,
    addrs: Vec<libc::sockaddr_in>,
    /// Control messages (the kernel's receive timestamp), 8-byte aligned.
    ctrl: Vec<[u64; 8]>,
    iov: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl RxBatch {
    fn new() -> Box<Self> {
        let mut b = Box::new(RxBatch {
            bufs: vec![[0u8; RX_BUF]; RX_BATCH],
            addrs: vec![unsafe { std::mem::zeroed() }; RX_BATCH],
            ctrl: vec![[0u64; 8]; RX_BATCH],
            iov: Vec::with_capacity(RX_BATCH),
            hdrs: Vec::with_capacity(RX_BATCH),
        });
        for i in 0..RX_BATCH {
            let p = b.bufs[i].as_mut_ptr();
            b.iov.push(libc::iovec {
                iov_base: p as *mut libc::c_void,
                iov_len: RX_BUF,
            });
        }
        for i in 0..RX_BATCH {
            let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
            h.msg_hdr.msg_name = &mut b.addrs[i] as *mut libc::sockaddr_in as *mut libc::c_void;
            h.msg_hdr.msg_iov = &mut b.iov[i] as *mut libc::iovec;
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = b.ctrl[i].as_mut_ptr() as *mut libc::c_void;
            b.hdrs.push(h);
        }
        b
    }

    /// Receives up to [`RX_BATCH`] datagrams without blocking; returns how many.
    fn recv(&mut self, fd: i32) -> usize {
        for h in &mut self.hdrs {
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in>() as u32;
            h.msg_hdr.msg_controllen = std::mem::size_of::<[u64; 8]>() as _;
            h.msg_len = 0;
        }
        let r = unsafe {
            libc::recvmmsg(
                fd,
                self.hdrs.as_mut_ptr(),
                RX_BATCH as u32,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        r.max(0) as usize
    }

    fn datagram(&self, i: usize) -> (u16, &[u8]) {
        let port = u16::from_be(self.addrs[i].sin_port);
        let len = (self.hdrs[i].msg_len as usize).min(RX_BUF);
        (port, &self.bufs[i][..len])
    }

    /// When the kernel queued datagram `i` (SO_TIMESTAMPNS, ns since the epoch): lateness
    /// measured on it does not include the generator's own processing delay.
    fn arrival_ns(&self, i: usize) -> Option<u64> {
        let h = &self.hdrs[i].msg_hdr;
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(h);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let ts = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::timespec);
                    return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
                }
                c = libc::CMSG_NXTHDR(h, c);
            }
        }
        None
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum St {
    /// Not started yet.
    Pending,
    /// INVITE sent, no response yet (retransmitting).
    Inviting,
    /// A provisional response came: waiting for the final one.
    Early,
    /// 200 received and ACKed: media flowing.
    Up,
    /// BYE sent, waiting for its 200.
    Byeing,
    Done,
    Failed,
}

struct Call {
    st: St,
    start_at: Instant,
    hangup_at: Instant,
    call_id: String,
    tag: String,
    invite: String,
    bye: String,
    next_retx: Instant,
    retx_iv: Duration,
    deadline: Instant,
    to_tag: String,
    target: String,
    gw_rtp: Option<libc::sockaddr_in>,
    sock: usize,
    up_at: Option<Instant>,
    down_at: Option<Instant>,
    fail: Option<String>,
    // Sending.
    tx_start: Instant,
    seq: u16,
    ts: u32,
    ssrc: u32,
    sent: u64,
    // Receiving (RFC 3550 A.1 sequence tracking).
    rx: u64,
    rx_init: bool,
    rx_first_ns: u64,
    base_seq: u16,
    max_seq: u16,
    cycles: u64,
}

impl Call {
    /// Counts a packet from the gateway that the kernel received at `at_ns`; `late` gets how
    /// late (10 ms buckets) it came compared with a steady 20 ms stream from this call's first
    /// packet.
    fn rx_packet(&mut self, seq: u16, at_ns: u64, late: &mut [u64]) {
        self.rx += 1;
        if !self.rx_init {
            self.rx_init = true;
            self.rx_first_ns = at_ns;
            self.base_seq = seq;
            self.max_seq = seq;
            late[0] += 1;
            return;
        }
        let delta = seq.wrapping_sub(self.max_seq);
        if delta != 0 && delta < 0x8000 {
            if seq < self.max_seq {
                self.cycles += 1 << 16;
            }
            self.max_seq = seq;
            let index = self.cycles + seq as u64 - self.base_seq as u64;
            let due = self.rx_first_ns + index * TICK.as_nanos() as u64;
            let ms = (at_ns.saturating_sub(due) / 1_000_000) as usize;
            late[(ms / 10).min(late.len() - 1)] += 1;
        }
    }
    fn rx_expected(&self) -> u64 {
        if self.rx_init {
            self.cycles + self.max_seq as u64 - self.base_seq as u64 + 1
        } else {
            0
        }
    }
    fn failed(&mut self, now: Instant, why: String) {
        if self.st == St::Up && self.down_at.is_none() {
            self.down_at = Some(now);
        }
        self.st = St::Failed;
        self.fail.get_or_insert(why);
    }
}

/// One parsed SIP message (only what a minimal UAC needs).
struct SipMsg<'a> {
    status: Option<u16>,
    method: Option<&'a str>,
    call_id: &'a str,
    cseq_method: &'a str,
    to: &'a str,
    contact: &'a str,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a str,
}

fn parse_sip(text: &str) -> Option<SipMsg<'_>> {
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((text, ""));
    let mut lines = head.split("\r\n");
    let first = lines.next()?;
    let (status, method) = if let Some(rest) = first.strip_prefix("SIP/2.0 ") {
        (Some(rest.get(..3)?.parse().ok()?), None)
    } else {
        (None, Some(first.split(' ').next()?))
    };
    let mut m = SipMsg {
        status,
        method,
        call_id: "",
        cseq_method: "",
        to: "",
        contact: "",
        headers: Vec::new(),
        body,
    };
    for l in lines {
        let Some((k, v)) = l.split_once(':') else {
            continue;
        };
        let v = v.trim();
        let k = k.trim();
        m.headers.push((k, v));
        match k.to_ascii_lowercase().as_str() {
            "call-id" | "i" => m.call_id = v,
            "cseq" => m.cseq_method = v.split_whitespace().nth(1).unwrap_or(""),
            "to" | "t" => m.to = v,
            "contact" | "m" => m.contact = v,
            _ => {}
        }
    }
    Some(m)
}

fn tag_of(h: &str) -> String {
    h.split(';')
        .find_map(|p| p.trim().strip_prefix("tag="))
        .unwrap_or("")
        .to_string()
}

fn uri_of(h: &str) -> String {
    match (h.find('<'), h.find('>')) {
        (Some(a), Some(b)) if b > a => h[a + 1..b].to_string(),
        _ => h.split(';').next().unwrap_or("").trim().to_string(),
    }
}

/// The gateway's RTP address from an SDP answer (session or media-level c=, first m=audio).
fn sdp_rtp(body: &str) -> Option<SocketAddrV4> {
    let mut ip: Option<Ipv4Addr> = None;
    let mut port: Option<u16> = None;
    for l in body.lines() {
        let l = l.trim();
        if let Some(c) = l.strip_prefix("c=IN IP4 ") {
            ip = c.split_whitespace().next().and_then(|a| a.parse().ok());
        } else if let Some(m) = l.strip_prefix("m=audio ") {
            if port.is_none() {
                port = m.split_whitespace().next().and_then(|p| p.parse().ok());
            }
        }
    }
    Some(SocketAddrV4::new(ip?, port.filter(|p| *p != 0)?))
}

/// The generator: SIP socket, shared RTP sockets, and the calls of one step.
struct Generator {
    sip: UdpSocket,
    sip_port: u16,
    gw_sip: SocketAddr,
    rtp: Vec<RtpSock>,
    frame: Vec<[u8; 160]>,
}

/// What a step measured.
struct StepResult {
    target: usize,
    rate: usize,
    failed: usize,
    fail_reasons: HashMap<String, usize>,
    peak_up: usize,
    all_up_window: Option<Duration>,
    sent: u64,
    rx: u64,
    rx_expected: u64,
    unmatched: u64,
    /// Frames `sendmmsg` did not accept.
    refused: u64,
    /// 99th percentile and maximum lateness of the gateway's packets (including the
    /// generator's own tick and lag: the 20 ms tick alone gives up to 20 ms).
    late_p99_ms: usize,
    late_max_ms: usize,
    /// Packets from the gateway [`LATE_LIMIT`] or more late.
    late_over_limit: u64,
    max_tick_lag: Duration,
    /// CPU during the window with all calls up.
    cpu_hold: Option<(f64, f64, f64, f64)>,
    /// CPU over the whole step (ramp, hold, hang-up).
    cpu_step: (f64, f64, f64, f64),
    gen_drops: u64,
}

impl Generator {
    fn new(gw_sip: SocketAddr, sockets: usize) -> Self {
        let sip = UdpSocket::bind("127.0.0.1:0").expect("bind SIP");
        sip.set_nonblocking(true).unwrap();
        set_buffers(&sip, 8 << 20);
        let sip_port = sip.local_addr().unwrap().port();
        let rtp = (0..sockets).map(|_| RtpSock::bind()).collect();
        let mut enc = Vec::new();
        G711::Pcmu.encode(&tone(1000.0, 0.02, 8000.0), &mut enc);
        // 1 kHz at 8 kHz repeats every 8 samples: every 20 ms frame is the same.
        let mut frame = [0u8; 160];
        frame.copy_from_slice(&enc[..160]);
        Generator {
            sip,
            sip_port,
            gw_sip,
            rtp,
            frame: vec![frame],
        }
    }

    fn send_sip(&self, msg: &str) {
        let _ = self.sip.send_to(msg.as_bytes(), self.gw_sip);
    }

    fn invite(&self, call_id: &str, tag: &str, rtp_port: u16) -> String {
        let sdp = format!(
            "v=0\r\no=load 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp_port} RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\na=sendrecv\r\n"
        );
        let gw = self.gw_sip;
        let me = self.sip_port;
        format!(
            "INVITE sip:{DID}@{gw} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{call_id}i\r\nMax-Forwards: 70\r\nFrom: <sip:{CALLER}@127.0.0.1>;tag={tag}\r\nTo: <sip:{DID}@{gw}>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:load@127.0.0.1:{me}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{sdp}",
            sdp.len()
        )
    }

    fn in_dialog(&self, c: &Call, method: &str, cseq: u32, branch: &str) -> String {
        let gw = self.gw_sip;
        let me = self.sip_port;
        let target = if c.target.is_empty() {
            format!("sip:{DID}@{gw}")
        } else {
            c.target.clone()
        };
        format!(
            "{method} {target} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{me};branch=z9hG4bK{branch}\r\nMax-Forwards: 70\r\nFrom: <sip:{CALLER}@127.0.0.1>;tag={}\r\nTo: <sip:{DID}@{gw}>;tag={}\r\nCall-ID: {}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n",
            c.tag, c.to_tag, c.call_id
        )
    }

    /// A 200 OK to a request from the gateway (BYE, OPTIONS, INFO...).
    fn reply_ok(&self, m: &SipMsg) {
        let mut r = String::from("SIP/2.0 200 OK\r\n");
        for (k, v) in &m.headers {
            let lk = k.to_ascii_lowercase();
            if matches!(
                lk.as_str(),
                "via" | "v" | "from" | "f" | "to" | "t" | "call-id" | "i" | "cseq"
            ) {
                r.push_str(&format!("{k}: {v}\r\n"));
            }
        }
        r.push_str("Content-Length: 0\r\n\r\n");
        self.send_sip(&r);
    }

    /// Runs one step: `n` calls ramped at `rate`/s; once all are up, they hang up in the
    /// order they started, at the same rate, from `hold` later (so all are up together for
    /// `hold`). Calls that never all come up hang up `ANSWER_GRACE` after their slot.
    fn run_step(&mut self, n: usize, rate: usize, hold: Duration, gw_pid: u32) -> StepResult {
        let t0 = Instant::now() + Duration::from_millis(100);
        let ramp = Duration::from_secs_f64(n as f64 / rate as f64);
        let run_id = fastrand::u32(..);
        let mut calls: Vec<Call> = (0..n)
            .map(|i| {
                let start_at = t0 + Duration::from_secs_f64(i as f64 / rate as f64);
                Call {
                    st: St::Pending,
                    start_at,
                    hangup_at: start_at + ramp + hold + ANSWER_GRACE,
                    call_id: format!("ld{run_id:08x}x{i}"),
                    tag: format!("t{i}"),
                    invite: String::new(),
                    bye: String::new(),
                    next_retx: start_at,
                    retx_iv: T1,
                    deadline: start_at,
                    to_tag: String::new(),
                    target: String::new(),
                    gw_rtp: None,
                    sock: i % self.rtp.len(),
                    up_at: None,
                    down_at: None,
                    fail: None,
                    tx_start: start_at,
                    seq: fastrand::u16(..),
                    ts: fastrand::u32(..),
                    ssrc: fastrand::u32(..),
                    sent: 0,
                    rx: 0,
                    rx_init: false,
                    rx_first_ns: 0,
                    base_seq: 0,
                    max_seq: 0,
                    cycles: 0,
                }
            })
            .collect();
        let by_call_id: HashMap<String, usize> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| (c.call_id.clone(), i))
            .collect();
        // Gateway RTP source port → call index (each port is used by one call per step).
        let mut by_port: Vec<u32> = vec![u32::MAX; 65536];
        let rtp_ports: Vec<u16> = self.rtp.iter().map(|s| s.port).collect();
        let drops_before = udp_drops(&rtp_ports);
        let mut rxb = RxBatch::new();
        let mut sip_buf = vec![0u8; 65536];
        let mut pkts: Vec<Vec<[u8; PKT]>> = vec![Vec::new(); self.rtp.len()];
        let mut dests: Vec<Vec<libc::sockaddr_in>> = vec![Vec::new(); self.rtp.len()];
        let mut up = 0usize;
        let mut peak_up = 0usize;
        let mut all_up_at: Option<Instant> = None;
        let mut reschedule = false;
        let mut window_end: Option<Instant> = None;
        let mut cpu_all_up: Option<CpuMark> = None;
        let mut cpu_first_down: Option<CpuMark> = None;
        let mut unmatched = 0u64;
        let mut refused = 0u64;
        // Lateness of the gateway's packets, 10 ms buckets (the last one: 10 s and more).
        let mut late = vec![0u64; 1001];
        let mut max_lag = Duration::ZERO;
        let cpu_start = CpuMark::take(gw_pid);
        let mut next_tick = t0;
        loop {
            let now = Instant::now();
            if next_tick > now {
                std::thread::sleep(next_tick - now);
            }
            let now = Instant::now();
            max_lag = max_lag.max(now.saturating_duration_since(next_tick));
            next_tick += TICK;
            if next_tick < now {
                // Far behind: do not try to catch up tick by tick (frames are sent by due
                // time anyway), just keep the cadence from now.
                next_tick = now + TICK;
            }

            // 1. SIP in.
            while let Ok((len, _)) = self.sip.recv_from(&mut sip_buf) {
                let Ok(text) = std::str::from_utf8(&sip_buf[..len]) else {
                    continue;
                };
                let Some(m) = parse_sip(text) else {
                    continue;
                };
                let idx = by_call_id.get(m.call_id).copied();
                if m.method.is_some() {
                    if m.method != Some("ACK") {
                        self.reply_ok(&m);
                    }
                    if let (Some(i), Some("BYE")) = (idx, m.method) {
                        let c = &mut calls[i];
                        if matches!(c.st, St::Up | St::Inviting | St::Early) {
                            if c.st == St::Up {
                                up -= 1;
                            }
                            c.failed(now, "gateway sent BYE".into());
                        }
                    }
                    continue;
                }
                let (Some(i), Some(status)) = (idx, m.status) else {
                    continue;
                };
                let c = &mut calls[i];
                match (m.cseq_method, status) {
                    ("INVITE", 100..=199) if c.st == St::Inviting => c.st = St::Early,
                    ("INVITE", 100..=199) => {}
                    ("INVITE", 200..=299) => {
                        if matches!(c.st, St::Inviting | St::Early) {
                            c.to_tag = tag_of(m.to);
                            c.target = uri_of(m.contact);
                            match sdp_rtp(m.body) {
                                Some(a) => {
                                    let ack =
                                        self.in_dialog(c, "ACK", 1, &format!("{}a", c.call_id));
                                    self.send_sip(&ack);
                                    by_port[a.port() as usize] = i as u32;
                                    c.gw_rtp = Some(sockaddr(a));
                                    c.st = St::Up;
                                    c.up_at = Some(now);
                                    c.tx_start = now;
                                    up += 1;
                                    if up > peak_up {
                                        peak_up = up;
                                    }
                                    if up == n && all_up_at.is_none() {
                                        all_up_at = Some(now);
                                        cpu_all_up = Some(CpuMark::take(gw_pid));
                                        reschedule = true;
                                    }
                                }
                                None => {
                                    let ack =
                                        self.in_dialog(c, "ACK", 1, &format!("{}a", c.call_id));
                                    self.send_sip(&ack);
                                    c.failed(now, "200 without usable SDP".into());
                                }
                            }
                        } else if !c.to_tag.is_empty() {
                            // A retransmitted 200: our ACK was lost or late.
                            let ack = self.in_dialog(c, "ACK", 1, &format!("{}a", c.call_id));
                            self.send_sip(&ack);
                        }
                    }
                    ("INVITE", _) => {
                        // Non-2xx final: ACK it in the INVITE transaction.
                        c.to_tag = tag_of(m.to);
                        // Same branch as the INVITE; c.target is still empty, so the
                        // Request-URI is the INVITE's.
                        let ack = self.in_dialog(c, "ACK", 1, &format!("{}i", c.call_id));
                        self.send_sip(&ack);
                        if matches!(c.st, St::Inviting | St::Early) {
                            c.failed(now, format!("INVITE answered {status}"));
                        }
                    }
                    ("BYE", 200..=299) if c.st == St::Byeing => c.st = St::Done,
                    ("BYE", 300..) if c.st == St::Byeing => {
                        c.failed(now, format!("BYE answered {status}"));
                    }
                    _ => {}
                }
            }

            if std::mem::take(&mut reschedule) {
                for (k, c) in calls.iter_mut().enumerate() {
                    c.hangup_at = now + hold + Duration::from_secs_f64(k as f64 / rate as f64);
                }
            }

            // 2. Call timers: start, retransmit, hang up.
            let mut active = 0usize;
            for c in calls.iter_mut() {
                match c.st {
                    St::Pending if now >= c.start_at => {
                        c.invite = self.invite(&c.call_id, &c.tag, self.rtp[c.sock].port);
                        self.send_sip(&c.invite);
                        c.st = St::Inviting;
                        c.next_retx = now + T1;
                        c.retx_iv = T1;
                        c.deadline = now + 64 * T1;
                    }
                    St::Inviting if now >= c.next_retx => {
                        if now >= c.deadline {
                            c.failed(now, "INVITE timed out (no response)".into());
                        } else {
                            self.send_sip(&c.invite);
                            c.retx_iv = (c.retx_iv * 2).min(Duration::from_secs(4));
                            c.next_retx = now + c.retx_iv;
                        }
                    }
                    St::Early if now >= c.deadline => {
                        c.failed(now, "no final response to INVITE".into());
                    }
                    St::Up if now >= c.hangup_at => {
                        c.bye = self.in_dialog(c, "BYE", 2, &format!("{}b", c.call_id));
                        self.send_sip(&c.bye);
                        c.st = St::Byeing;
                        c.down_at = Some(now);
                        c.next_retx = now + T1;
                        c.retx_iv = T1;
                        c.deadline = now + 64 * T1;
                        if window_end.is_none() {
                            window_end = Some(now);
                            cpu_first_down = Some(CpuMark::take(gw_pid));
                        }
                        up -= 1;
                    }
                    St::Byeing if now >= c.next_retx => {
                        if now >= c.deadline {
                            c.failed(now, "BYE timed out".into());
                        } else {
                            self.send_sip(&c.bye);
                            c.retx_iv = (c.retx_iv * 2).min(Duration::from_secs(4));
                            c.next_retx = now + c.retx_iv;
                        }
                    }
                    _ => {}
                }
                if !matches!(c.st, St::Done | St::Failed) {
                    active += 1;
                }
            }

            // 3. RTP out: every frame due since the call came up (a late tick sends a burst).
            for c in calls.iter_mut() {
                if c.st != St::Up {
                    continue;
                }
                let Some(dest) = c.gw_rtp else { continue };
                let due = (now - c.tx_start).as_micros() as u64 / 20_000 + 1;
                while c.sent < due {
                    let mut p = [0u8; PKT];
                    p[0] = 0x80;
                    p[1] = if c.sent == 0 { 0x80 } else { 0 };
                    p[2..4].copy_from_slice(&c.seq.to_be_bytes());
                    p[4..8].copy_from_slice(&c.ts.to_be_bytes());
                    p[8..12].copy_from_slice(&c.ssrc.to_be_bytes());
                    p[12..].copy_from_slice(&self.frame[0]);
                    pkts[c.sock].push(p);
                    dests[c.sock].push(dest);
                    c.seq = c.seq.wrapping_add(1);
                    c.ts = c.ts.wrapping_add(160);
                    c.sent += 1;
                }
            }
            for (s, sock) in self.rtp.iter().enumerate() {
                if !pkts[s].is_empty() {
                    // Frames the kernel refuses show up as gaps at the gateway.
                    refused += (pkts[s].len()
                        - send_batch(sock.sock.as_raw_fd(), &pkts[s], &dests[s]))
                        as u64;
                    pkts[s].clear();
                    dests[s].clear();
                }
            }

            // 4. RTP in.
            for sock in &self.rtp {
                let fd = sock.sock.as_raw_fd();
                loop {
                    let got = rxb.recv(fd);
                    for k in 0..got {
                        let (port, d) = rxb.datagram(k);
                        let idx = by_port[port as usize];
                        if idx == u32::MAX || d.len() < 12 || d[0] >> 6 != 2 {
                            unmatched += 1;
                            continue;
                        }
                        // RTCP (payload types 200–204 in the second byte) comes from the
                        // odd port, which is not mapped; anything else here is RTP.
                        let seq = u16::from_be_bytes([d[2], d[3]]);
                        let at = rxb.arrival_ns(k).unwrap_or_else(now_ns);
                        calls[idx as usize].rx_packet(seq, at, &mut late);
                    }
                    if got < RX_BATCH {
                        break;
                    }
                }
            }

            if active == 0 && now > t0 + ramp {
                break;
            }
        }
        // Late packets still in flight.
        std::thread::sleep(Duration::from_millis(200));
        for sock in &self.rtp {
            loop {
                let got = rxb.recv(sock.sock.as_raw_fd());
                for k in 0..got {
                    let (port, d) = rxb.datagram(k);
                    let idx = by_port[port as usize];
                    if idx != u32::MAX && d.len() >= 12 {
                        let seq = u16::from_be_bytes([d[2], d[3]]);
                        let at = rxb.arrival_ns(k).unwrap_or_else(now_ns);
                        calls[idx as usize].rx_packet(seq, at, &mut late);
                    }
                }
                if got < RX_BATCH {
                    break;
                }
            }
        }
        let cpu_end = CpuMark::take(gw_pid);
        let mut fail_reasons: HashMap<String, usize> = HashMap::new();
        for c in &calls {
            if let Some(f) = &c.fail {
                *fail_reasons.entry(f.clone()).or_default() += 1;
            }
        }
        StepResult {
            target: n,
            rate,
            failed: calls.iter().filter(|c| c.st == St::Failed).count(),
            fail_reasons,
            peak_up,
            all_up_window: match (all_up_at, window_end) {
                (Some(a), Some(b)) => Some(b.saturating_duration_since(a)),
                _ => None,
            },
            sent: calls.iter().map(|c| c.sent).sum(),
            rx: calls.iter().map(|c| c.rx).sum(),
            rx_expected: calls.iter().map(|c| c.rx_expected()).sum(),
            unmatched,
            refused,
            late_p99_ms: (percentile(&late, 0.99) + 1) * 10,
            late_over_limit: late[(LATE_LIMIT.as_millis() / 10) as usize..].iter().sum(),
            late_max_ms: (late.iter().rposition(|&c| c > 0).unwrap_or(0) + 1) * 10,
            max_tick_lag: max_lag,
            cpu_hold: match (cpu_all_up, cpu_first_down) {
                (Some(a), Some(b)) => Some(b.since(&a)),
                _ => None,
            },
            cpu_step: cpu_end.since(&cpu_start),
            gen_drops: udp_drops(&rtp_ports).saturating_sub(drops_before),
        }
    }
}

/// Checks the step's recordings (stereo, 8 kHz, at least `min_secs` long), then truncates
/// them so a long run does not fill the disk (truncating, not deleting: deleting thousands
/// of files makes ext4's inode allocation slow for the next step). Returns (count, stereo
/// and long enough, shortest seconds).
fn check_recordings(dir: &std::path::Path, min_secs: f64) -> (usize, usize, f64) {
    fn walk(d: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "wav") {
                out.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let (mut count, mut good, mut shortest) = (0, 0, f64::MAX);
    for f in files {
        let Ok(meta) = std::fs::metadata(&f) else {
            continue;
        };
        if meta.len() == 0 {
            continue; // an earlier step's, already checked
        }
        count += 1;
        let mut h = [0u8; 44];
        use std::io::Read;
        let ok = std::fs::File::open(&f)
            .and_then(|mut fh| fh.read_exact(&mut h))
            .is_ok();
        let channels = u16::from_le_bytes([h[22], h[23]]);
        let rate = u32::from_le_bytes([h[24], h[25], h[26], h[27]]);
        let data = u32::from_le_bytes([h[40], h[41], h[42], h[43]]) as f64;
        let secs = data / (rate.max(1) as f64 * 2.0 * channels.max(1) as f64);
        shortest = shortest.min(secs);
        if ok && &h[0..4] == b"RIFF" && channels == 2 && rate == 8000 && secs >= min_secs {
            good += 1;
        }
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .and_then(|fh| fh.set_len(0));
    }
    (count, good, if count == 0 { 0.0 } else { shortest })
}

/// The gateway's warnings and errors logged since byte `from`, grouped by message (call ids
/// and other per-call values removed), most frequent first.
fn log_summary(path: &std::path::Path, from: u64) -> Vec<(String, usize)> {
    let text = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&text[(from as usize).min(text.len())..]).to_string();
    let mut groups: HashMap<String, usize> = HashMap::new();
    for line in text.lines() {
        // Strip ANSI colours.
        let mut plain = String::new();
        let mut esc = false;
        for ch in line.chars() {
            match (esc, ch) {
                (false, '\x1b') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                (false, c) => plain.push(c),
            }
        }
        if !(plain.contains(" WARN ") || plain.contains(" ERROR ")) {
            continue;
        }
        let msg: Vec<&str> = plain
            .split_whitespace()
            .skip(1) // timestamp
            .filter(|w| {
                !(w.starts_with("call_id=") || w.starts_with("path=") || w.starts_with("leg="))
            })
            .collect();
        *groups.entry(msg.join(" ")).or_default() += 1;
    }
    let mut v: Vec<(String, usize)> = groups.into_iter().collect();
    v.sort_by_key(|g| std::cmp::Reverse(g.1));
    v.truncate(8);
    v
}

fn arg_value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not: do not run the
    // (minutes-long) benchmark as a test.
    if !std::env::args().any(|a| a == "--bench") {
        println!(
            "benchmark skipped: run it with `cargo bench -p hotline-gateway --bench media_load`"
        );
        return;
    }
    let quick = std::env::args().any(|a| a == "--quick");
    let keep_going = std::env::args().any(|a| a == "--keep-going");
    let steps: Vec<usize> = match arg_value("--steps") {
        Some(s) => s.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        None if quick => vec![100, 250],
        None => (1..=10).map(|k| k * 500).collect(),
    };
    let hold = Duration::from_secs(
        arg_value("--hold")
            .and_then(|h| h.parse().ok())
            .unwrap_or(if quick { 6 } else { 22 }),
    );
    // All calls must be up together this long (the hold, less a tick's slack).
    let min_window = hold
        .saturating_sub(Duration::from_secs(1))
        .min(Duration::from_secs(20));
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    println!(
        "Hotline media gateway — concurrent recorded calls with the built-in load generator; {cores} cores, loopback"
    );
    println!(
        "  steps {steps:?}, calls ramped in over 10 s, all up together for ~{} s (>= {} s required), PCMU 20 ms both ways, stereo recording on",
        hold.as_secs(),
        min_window.as_secs()
    );
    let dir = TempDir::new("mload");
    let redis = Redis::start();
    redis.add_did(DID);
    let metrics_port = free_ports(1);
    let gw = Gateway::start(
        &redis,
        GatewayOpts {
            // Longer than any step: the caller hangs up, not the flow.
            digit_timeout_ms: 600_000,
            echo_ms: 600_000,
            extra_env: vec![
                ("HOTLINE_GW_RTP_PORTS".into(), "30000-49999".into()),
                (
                    "HOTLINE_GW_METRICS_ADDR".into(),
                    format!("127.0.0.1:{metrics_port}"),
                ),
                ("RUST_LOG".into(), "warn".into()),
            ],
            ..GatewayOpts::default()
        },
    );
    let gw_pid = gw.child.id();
    let max_calls = steps.iter().copied().max().unwrap_or(0);
    let mut generator = Generator::new(
        gw.addr().parse().unwrap(),
        max_calls.div_ceil(CALLS_PER_SOCKET).max(1),
    );
    let rec_dir = gw.recordings.path().join("rec");
    let _ = &dir;
    let mut best = 0usize;
    for &n in &steps {
        wait_idle(metrics_port);
        std::thread::sleep(Duration::from_secs(2));
        let before = metrics(metrics_port);
        let log_from = std::fs::metadata(&gw.log).map(|m| m.len()).unwrap_or(0);
        let vm_before = vm_pages();
        // Sample the gateway's own view of concurrent calls while the step runs.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sampler = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                // Calls stay up until the hold ends, so the largest sum seen is (about) what
                // the gateway's sockets dropped in the step.
                let (mut peak, mut drops) = (0f64, 0u64);
                let base_drops = udp_drops_of(gw_pid);
                let mut k = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let v = metrics(metrics_port)
                        .get("hotline_gw_calls_active")
                        .copied()
                        .unwrap_or(0.0);
                    peak = peak.max(v);
                    if k.is_multiple_of(4) {
                        drops = drops.max(udp_drops_of(gw_pid));
                    }
                    k += 1;
                    std::thread::sleep(Duration::from_millis(500));
                }
                (peak, drops.saturating_sub(base_drops))
            })
        };
        let rate = (n / 10).max(10);
        let r = generator.run_step(n, rate, hold, gw_pid);
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let (gw_peak, gw_drops) = sampler.join().unwrap_or((0.0, 0));
        wait_idle(metrics_port);
        // Let the media workers account the ended calls' last frames (a call adds its RTP
        // counts when it stops, at its next tick).
        std::thread::sleep(Duration::from_secs(1));
        let after = metrics(metrics_port);
        let d =
            |k: &str| after.get(k).copied().unwrap_or(0.0) - before.get(k).copied().unwrap_or(0.0);
        let (gw_in, gw_out, gw_lost, gw_expected) = (
            d("hotline_gw_rtp_packets_in_total"),
            d("hotline_gw_rtp_packets_out_total"),
            d("hotline_gw_rtp_lost_total"),
            d("hotline_gw_rtp_expected_total"),
        );
        let up_loss = if gw_expected > 0.0 {
            100.0 * gw_lost.max(0.0) / gw_expected
        } else {
            100.0
        };
        let rx_lost = r.rx_expected.saturating_sub(r.rx);
        // Lost, or so late a receiver would have dropped it.
        let down_loss = if r.rx_expected > 0 {
            100.0 * (rx_lost + r.late_over_limit) as f64 / r.rx_expected as f64
        } else {
            100.0
        };
        let vm_after = vm_pages();
        let (rec_count, rec_good, rec_short) = check_recordings(&rec_dir, hold.as_secs_f64() * 0.9);
        let window_ok = r.all_up_window.is_some_and(|w| w >= min_window);
        let pass = r.failed == 0
            && r.peak_up == n
            && window_ok
            && up_loss < LOSS_LIMIT
            && down_loss < LOSS_LIMIT
            && rec_good == n;
        let fmt_cpu = |c: (f64, f64, f64, f64)| {
            format!(
                "gateway {:.2} cores, generator {:.2}, redis {:.2}, machine {:.0} % busy",
                c.0, c.1, c.2, c.3
            )
        };
        println!(
            "  {n} calls ({} cps ramp): failed {}{}, up together {} (peak {} generator / {gw_peak} gateway), max tick lag {} ms",
            r.rate,
            r.failed,
            if r.fail_reasons.is_empty() {
                String::new()
            } else {
                format!(" {:?}", r.fail_reasons)
            },
            r.all_up_window
                .map(|w| format!("{:.1} s", w.as_secs_f64()))
                .unwrap_or_else(|| "never".into()),
            r.peak_up,
            r.max_tick_lag.as_millis(),
        );
        println!(
            "    caller->gateway: sent {} (refused by the kernel {}), gateway got {gw_in} of {gw_expected} expected, lost {gw_lost} ({up_loss:.3} %), late {}, concealed frames {}, gateway socket drops ~{gw_drops}",
            r.sent,
            r.refused,
            d("hotline_gw_rtp_late_total"),
            d("hotline_gw_rtp_concealed_frames_total"),
        );
        println!(
            "    gateway->caller: gateway sent {gw_out}, generator got {} of {} expected, lost {rx_lost} + {} >= {} ms late ({down_loss:.3} %), lateness p99 <= {} ms, max <= {} ms, unmatched {}, generator socket drops {}",
            r.rx, r.rx_expected, r.late_over_limit, LATE_LIMIT.as_millis(), r.late_p99_ms, r.late_max_ms, r.unmatched, r.gen_drops
        );
        println!(
            "    recordings: {rec_count} files, {rec_good} stereo 8 kHz >= {:.0} s (shortest {rec_short:.1} s); machine page cache: {} MB dirtied, {} MB written to disk during the step",
            hold.as_secs_f64() * 0.9,
            (vm_after.0 - vm_before.0) * 4 / 1024,
            (vm_after.1 - vm_before.1) * 4 / 1024,
        );
        println!(
            "    CPU with all calls up: {}; whole step: {}",
            r.cpu_hold.map(fmt_cpu).unwrap_or_else(|| "-".into()),
            fmt_cpu(r.cpu_step)
        );
        for (msg, count) in log_summary(&gw.log, log_from) {
            println!("    gateway log: {count} x {msg}");
        }
        println!("    -> {}", if pass { "PASS" } else { "FAIL" });
        if pass {
            best = best.max(n);
        } else if !keep_going {
            break;
        }
        let _ = r.target;
    }
    println!(
        "  => gateway {best} concurrent recorded calls with < {LOSS_LIMIT} % RTP loss both ways"
    );
    println!("\nSUMMARY gateway_concurrent_recorded_own_generator={best}");
}
