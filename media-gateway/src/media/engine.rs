//! The media of answered calls: per call one RTP/RTCP socket pair, symmetric RTP, G.711,
//! RFC 4733 DTMF, a jitter buffer, the IVR, and the stereo recording (left: caller, right:
//! what the caller heard from us). Calls run on a few media worker threads
//! ([`MediaWorkers`], two per core), each ticking all its calls every 20 ms; sockets are
//! drained on the tick (`recvmmsg`), never waited on, so an arriving packet costs no wakeup.

use super::dtmf_send::{self, DtmfOut, DtmfSender};
use super::g711::G711;
use super::jitter::{JitterBuffer, FRAME};
use super::rtp::{self, DtmfReceiver, RecvStats, RtpPacket};
use super::wav::{PendingWrite, WavWriter};
use crate::ivr::{DefaultFlow, FlowConfig, FlowStep, Ivr, IvrCommand, IvrEvent, Prompts};
use crate::metrics;
use crate::sip::endpoint::CallKey;
use chrono::{DateTime, Utc};
use hotline_wire::gateway::{DtmfSource, GatewayEvent};
use std::collections::VecDeque;
use std::net::UdpSocket as StdUdpSocket;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

/// Free even RTP ports (RTCP uses port + 1).
pub struct PortPool {
    free: Mutex<VecDeque<u16>>,
}

/// A port taken from the pool; returned on drop.
pub struct PortLease {
    pool: Arc<PortPool>,
    /// The RTP port.
    pub port: u16,
}

impl Drop for PortLease {
    fn drop(&mut self) {
        if let Ok(mut f) = self.pool.free.lock() {
            f.push_back(self.port);
        }
        metrics::PORTS_USED.sub(1);
    }
}

/// Bound sockets of one call: plain non-blocking sockets, not registered with the tokio
/// reactor (the media workers drain them on their tick; a WebRTC leg registers its RTP socket
/// with `tokio::net::UdpSocket::from_std`).
pub struct MediaSockets {
    /// RTP socket.
    pub rtp: StdUdpSocket,
    /// RTCP socket (RTP port + 1).
    pub rtcp: StdUdpSocket,
    /// Keeps the port reserved.
    pub lease: PortLease,
}

impl PortPool {
    /// Pool over the even ports of `lo..=hi`.
    pub fn new(lo: u16, hi: u16) -> Arc<Self> {
        let first = lo + (lo % 2);
        let free = (first..hi).step_by(2).collect();
        Arc::new(PortPool {
            free: Mutex::new(free),
        })
    }

    /// Ports still free.
    pub fn available(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }

    /// Binds an RTP/RTCP pair on `ip`, skipping ports another process holds.
    pub fn bind(self: &Arc<Self>, ip: IpAddr) -> Option<MediaSockets> {
        for _ in 0..64 {
            let port = self.free.lock().ok()?.pop_front()?;
            metrics::PORTS_USED.add(1);
            let lease = PortLease {
                pool: self.clone(),
                port,
            };
            let bind = |p: u16| -> std::io::Result<StdUdpSocket> {
                let s = StdUdpSocket::bind(SocketAddr::new(ip, p))?;
                s.set_nonblocking(true)?;
                Ok(s)
            };
            if let (Ok(rtp), Ok(rtcp)) = (bind(port), bind(port + 1)) {
                return Some(MediaSockets { rtp, rtcp, lease });
            }
        }
        None
    }
}

/// Instructions from the SIP side or the backend.
#[derive(Debug)]
pub enum MediaCtl {
    /// Run an IVR command.
    Ivr(IvrCommand),
    /// DTMF received by SIP INFO.
    InfoDtmf(char),
    /// Re-INVITE: new remote address / direction (hold when the remote does not receive).
    Remote {
        /// New address.
        addr: SocketAddr,
        /// Whether we may send.
        send: bool,
    },
    /// Send DTMF digits to the far end.
    SendDtmf(String),
    /// Exchange audio with another call's media (replaces an earlier bridge).
    Bridge {
        /// The other call.
        peer: Uuid,
        /// Our caller's audio, to the peer.
        tx: mpsc::Sender<Vec<i16>>,
        /// The peer's caller audio, for us to send.
        rx: mpsc::Receiver<Vec<i16>>,
    },
    /// Leave the bridge (hold): the peer notices the closed channels and says so too.
    Unbridge,
    /// The call is over: finish the recording and stop.
    Stop,
}

/// A call media's control channel: a tokio unbounded channel plus a flag the worker reads
/// each tick, so a tick with no message (nearly all) does not walk the channel.
pub fn channel() -> (MediaTx, MediaRx) {
    let (tx, rx) = mpsc::unbounded_channel();
    let pending = Arc::new(AtomicBool::new(false));
    (
        MediaTx {
            tx: Some(tx),
            pending: pending.clone(),
        },
        MediaRx { rx, pending },
    )
}

/// Sends [`MediaCtl`] to a call's media.
#[derive(Debug, Clone)]
pub struct MediaTx {
    /// `None` only while dropping.
    tx: Option<mpsc::UnboundedSender<MediaCtl>>,
    pending: Arc<AtomicBool>,
}

impl MediaTx {
    /// Queues `ctl` for the call's next tick; `Err` when the media has ended.
    pub fn send(&self, ctl: MediaCtl) -> Result<(), mpsc::error::SendError<MediaCtl>> {
        let r = match &self.tx {
            Some(tx) => tx.send(ctl),
            None => Err(mpsc::error::SendError(ctl)),
        };
        self.pending.store(true, Ordering::Release);
        r
    }
}

impl Drop for MediaTx {
    fn drop(&mut self) {
        // The last sender gone closes the channel: the worker must look (after the close).
        drop(self.tx.take());
        self.pending.store(true, Ordering::Release);
    }
}

/// The worker's end of [`channel`].
pub struct MediaRx {
    rx: mpsc::UnboundedReceiver<MediaCtl>,
    pending: Arc<AtomicBool>,
}

/// A live bridge to another call's media.
struct Bridge {
    peer: Uuid,
    tx: mpsc::Sender<Vec<i16>>,
    rx: mpsc::Receiver<Vec<i16>>,
    queue: VecDeque<Vec<i16>>,
}

impl Bridge {
    /// Sends our caller's frame and mixes the peer's next frame into `out`; `false` once the
    /// peer is gone.
    fn exchange(&mut self, caller: &[i16], out: &mut [i16]) -> bool {
        use tokio::sync::mpsc::error::{TryRecvError, TrySendError};
        let mut alive = !matches!(
            self.tx.try_send(caller.to_vec()),
            Err(TrySendError::Closed(_))
        );
        loop {
            match self.rx.try_recv() {
                Ok(f) => self.queue.push_back(f),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => {
                    alive = false;
                    break;
                }
            }
        }
        // The two tasks tick independently: keep at most 60 ms queued (bounded delay).
        while self.queue.len() > 3 {
            self.queue.pop_front();
        }
        if let Some(f) = self.queue.pop_front() {
            for (o, p) in out.iter_mut().zip(f) {
                *o = o.saturating_add(p);
            }
        }
        alive
    }
}

/// Everything an answered call's media needs (set up by [`run`], then ticked by a media worker).
pub struct MediaSetup {
    /// SIP-side key (for hang-up requests).
    pub call_key: CallKey,
    /// Hotline call id.
    pub call_id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// Negotiated codec.
    pub codec: G711,
    /// telephone-event payload type.
    pub telephone_event: Option<u8>,
    /// Remote RTP address from SDP.
    pub remote: SocketAddr,
    /// Whether the remote receives (not on hold).
    pub send: bool,
    /// Sockets.
    pub sockets: MediaSockets,
    /// Recording root.
    pub recordings_dir: PathBuf,
    /// Prompts.
    pub prompts: Arc<Prompts>,
    /// The built-in flow to run, if the tenant uses it.
    pub flow: Option<FlowConfig>,
    /// Wire events out.
    pub events: mpsc::UnboundedSender<GatewayEvent>,
    /// Ask the SIP side to hang up.
    pub hangup: mpsc::UnboundedSender<CallKey>,
}

/// Path of a call's recording: `<dir>/<tenant>/<yyyy>/<mm>/<dd>/<hh>/<call>.wav` (one
/// directory per hour keeps directories small at high call rates).
pub fn recording_path(
    dir: &std::path::Path,
    tenant: Uuid,
    call: Uuid,
    at: DateTime<Utc>,
) -> PathBuf {
    dir.join(tenant.to_string())
        .join(at.format("%Y/%m/%d/%H").to_string())
        .join(format!("{call}.wav"))
}

/// One media tick.
pub const TICK: Duration = Duration::from_millis(20);
/// Datagrams taken per `recvmmsg` call.
const BATCH: usize = 8;
/// Largest datagram kept (longer ones are truncated, and then not valid RTP of ours).
const MAX_DATAGRAM: usize = 2048;
/// A worker this far behind its deadline says so (once, until it has caught up).
const BEHIND_WARNING: Duration = Duration::from_millis(500);

/// The media worker threads: each runs every call assigned to it once per 20 ms tick on an
/// absolute deadline. Their sockets are plain non-blocking sockets, never registered with
/// epoll, drained on the tick: a packet's arrival wakes nobody.
pub struct MediaWorkers {
    inboxes: Vec<std::sync::mpsc::Sender<Box<Call>>>,
    next: AtomicUsize,
}

impl MediaWorkers {
    /// The process's workers, started on first use: `HOTLINE_GW_MEDIA_THREADS` threads, or two
    /// per core (a worker the scheduler preempts delays fewer calls, for a shorter time, than
    /// with one per core; see docs/benchmarks.md).
    pub fn global() -> &'static MediaWorkers {
        static WORKERS: OnceLock<MediaWorkers> = OnceLock::new();
        WORKERS.get_or_init(|| {
            let n = std::env::var("HOTLINE_GW_MEDIA_THREADS")
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .filter(|n| *n > 0)
                .unwrap_or_else(|| {
                    2 * std::thread::available_parallelism()
                        .map(|n| n.get())
                        .unwrap_or(1)
                });
            MediaWorkers::start(n)
        })
    }

    fn start(threads: usize) -> MediaWorkers {
        let inboxes = (0..threads)
            .map(|i| {
                let (tx, rx) = std::sync::mpsc::channel();
                let (disk_tx, disk_rx) = std::sync::mpsc::channel();
                std::thread::Builder::new()
                    .name(format!("hotline-rec-{i}"))
                    .spawn(move || recording_writer(disk_rx))
                    .expect("cannot start a recording writer thread");
                std::thread::Builder::new()
                    .name(format!("hotline-media-{i}"))
                    .spawn(move || worker(rx, disk_tx))
                    .expect("cannot start a media worker thread");
                tx
            })
            .collect();
        MediaWorkers {
            inboxes,
            next: AtomicUsize::new(0),
        }
    }

    /// Hands a call to the next worker (round robin).
    fn add(&self, call: Box<Call>) {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.inboxes.len();
        if let Err(std::sync::mpsc::SendError(call)) = self.inboxes[i].send(call) {
            // A worker thread died (a panic): the call ends at once rather than hanging.
            tracing::error!(call_id = %call.setup.call_id, "media worker gone");
            if let Some(job) = call.finish() {
                job.run();
            }
        }
    }
}

/// A worker's loop: new calls from `inbox`, then one tick of every call, then sleep until the
/// next absolute deadline (late ticks are caught up in a burst, like tokio's
/// `MissedTickBehavior::Burst` the per-call tasks used).
fn worker(
    inbox: std::sync::mpsc::Receiver<Box<Call>>,
    disk: std::sync::mpsc::Sender<Vec<DiskJob>>,
) {
    use std::sync::mpsc::TryRecvError;
    let mut calls: Vec<Box<Call>> = Vec::new();
    let mut scratch = Scratch::new();
    let mut deadline = Instant::now();
    let mut behind = false;
    loop {
        loop {
            match inbox.try_recv() {
                Ok(c) => calls.push(c),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) if calls.is_empty() => return,
                Err(TryRecvError::Disconnected) => break,
            }
        }
        let mut i = 0;
        while i < calls.len() {
            let call = &mut calls[i];
            // A panic in one call's media ends that call only, as a task's would.
            let running =
                std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| call.step(&mut scratch)));
            match running {
                Ok(true) => i += 1,
                Ok(false) => scratch.disk.extend(calls.swap_remove(i).finish()),
                Err(_) => {
                    let call = calls.swap_remove(i);
                    tracing::error!(call_id = %call.setup.call_id, "media of the call panicked; call media stopped");
                    scratch.disk.extend(call.finish());
                }
            }
        }
        // The tick's recording I/O, in one hand-over (one wakeup of the writer per tick).
        if !scratch.disk.is_empty() {
            let jobs = std::mem::take(&mut scratch.disk);
            if let Err(std::sync::mpsc::SendError(jobs)) = disk.send(jobs) {
                jobs.into_iter().for_each(DiskJob::run);
            }
        }
        // Shared counters are touched once per tick, not per packet.
        metrics::RTP_IN.add(std::mem::take(&mut scratch.rtp_in));
        metrics::RTP_OUT.add(std::mem::take(&mut scratch.rtp_out));
        deadline += TICK;
        let now = Instant::now();
        match deadline.checked_duration_since(now) {
            Some(wait) => {
                behind = false;
                std::thread::sleep(wait);
            }
            // Late (the thread was not scheduled, or the calls took longer than a tick): no
            // sleep until the missed ticks are made up, as a phone expects; never skipped.
            None if !behind && now - deadline > BEHIND_WARNING => {
                behind = true;
                tracing::warn!(
                    calls = calls.len(),
                    behind_ms = (now - deadline).as_millis() as u64,
                    "media worker fell behind real time; catching up"
                );
            }
            None => {}
        }
    }
}

/// Recording I/O handed from a media worker to its writer thread (so a slow disk never
/// delays a tick), run in order.
enum DiskJob {
    /// A second's audio and the updated header; on failure the call stops recording.
    Write {
        call_id: Uuid,
        write: PendingWrite,
        failed: Arc<AtomicBool>,
    },
    /// The end of a recording: the final sync, reported to the call's async side.
    Finish {
        writer: WavWriter,
        done: oneshot::Sender<std::io::Result<(u64, u64)>>,
    },
}

impl DiskJob {
    fn run(self) {
        match self {
            DiskJob::Write {
                call_id,
                write,
                failed,
            } => {
                if failed.load(Ordering::Relaxed) {
                    return;
                }
                if let Err(e) = write.write() {
                    tracing::error!(%call_id, error = %e, "recording write failed; recording stopped");
                    failed.store(true, Ordering::Relaxed);
                }
            }
            DiskJob::Finish { writer, done } => {
                let _ = done.send(writer.finish());
            }
        }
    }
}

/// A writer thread: runs its worker's recording I/O, batch by batch, in order.
fn recording_writer(jobs: std::sync::mpsc::Receiver<Vec<DiskJob>>) {
    for batch in jobs {
        batch.into_iter().for_each(DiskJob::run);
    }
}

/// A worker's receive buffers and `recvmmsg` headers, shared by its calls; built once, boxed
/// (the headers point into it), and never sent to another thread.
struct Scratch {
    bufs: [[u8; MAX_DATAGRAM]; BATCH],
    addrs: [libc::sockaddr_in6; BATCH],
    iovs: [libc::iovec; BATCH],
    hdrs: [libc::mmsghdr; BATCH],
    /// Length and source of each datagram the last [`Scratch::recv`] took.
    got: [(usize, Option<SocketAddr>); BATCH],
    rtcp: [u8; 1500],
    /// RTP packets received and sent in this tick (for the metrics).
    rtp_in: u64,
    rtp_out: u64,
    /// Recording I/O of this tick, for the writer thread.
    disk: Vec<DiskJob>,
}

impl Scratch {
    fn new() -> Box<Self> {
        // SAFETY (the three `zeroed`): all-zero is a valid value of these plain C structs
        // (null pointers, zero lengths).
        let mut s = Box::new(Scratch {
            bufs: [[0; MAX_DATAGRAM]; BATCH],
            addrs: unsafe { std::mem::zeroed() },
            iovs: unsafe { std::mem::zeroed() },
            hdrs: unsafe { std::mem::zeroed() },
            got: [(0, None); BATCH],
            rtcp: [0; 1500],
            rtp_in: 0,
            rtp_out: 0,
            disk: Vec::new(),
        });
        for i in 0..BATCH {
            s.iovs[i] = libc::iovec {
                iov_base: s.bufs[i].as_mut_ptr().cast(),
                iov_len: MAX_DATAGRAM,
            };
            let name: *mut libc::sockaddr_in6 = &mut s.addrs[i];
            let iov: *mut libc::iovec = &mut s.iovs[i];
            s.hdrs[i].msg_hdr.msg_name = name.cast();
            s.hdrs[i].msg_hdr.msg_iov = iov;
            s.hdrs[i].msg_hdr.msg_iovlen = 1;
        }
        s
    }

    /// Takes up to [`BATCH`] datagrams waiting on a non-blocking socket in one `recvmmsg`;
    /// their lengths and sources go to `got`. 0 when none is waiting (or on an error).
    fn recv(&mut self, socket: &StdUdpSocket) -> usize {
        use std::os::fd::AsRawFd;
        for h in self.hdrs.iter_mut() {
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_in6>() as libc::socklen_t;
        }
        // SAFETY: the headers point at this box's own iovecs, buffers of `MAX_DATAGRAM`
        // bytes and sockaddr_in6 slots (big enough for either family), set up in `new`; the
        // box does not move.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
            )
        };
        if n <= 0 {
            return 0;
        }
        let n = n as usize;
        for i in 0..n {
            self.got[i] = (self.hdrs[i].msg_len as usize, sockaddr_of(&self.addrs[i]));
        }
        n
    }
}

fn sockaddr_of(a: &libc::sockaddr_in6) -> Option<SocketAddr> {
    match a.sin6_family as libc::c_int {
        libc::AF_INET => {
            // SAFETY: the family says the slot holds a sockaddr_in (smaller than sockaddr_in6).
            let v4 = unsafe { &*(a as *const libc::sockaddr_in6).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::new(
                IpAddr::from(u32::from_be(v4.sin_addr.s_addr).to_be_bytes()),
                u16::from_be(v4.sin_port),
            ))
        }
        libc::AF_INET6 => Some(SocketAddr::new(
            IpAddr::from(a.sin6_addr.s6_addr),
            u16::from_be(a.sin6_port),
        )),
        _ => None,
    }
}

/// The state of one answered call's media, run by a worker thread tick by tick.
struct Call {
    /// What the call started with; `remote` and `send` follow re-INVITEs and latching.
    setup: MediaSetup,
    ctl: MediaRx,
    /// Gets the recording back when the call ends (the async side finishes it).
    done: Option<oneshot::Sender<std::io::Result<(u64, u64)>>>,
    recorder: Option<WavWriter>,
    /// Set by the writer thread when a write of the recording failed.
    recording_failed: Arc<AtomicBool>,
    ivr: Ivr,
    flow: Option<DefaultFlow>,
    steps: Vec<FlowStep>,
    jitter: JitterBuffer,
    dtmf: DtmfReceiver,
    stats: RecvStats,
    latched: bool,
    seq: u16,
    ts: u32,
    ssrc: u32,
    sent_packets: u32,
    sent_octets: u32,
    ticks: u64,
    pkt: Vec<u8>,
    enc: Vec<u8>,
    dec: Vec<i16>,
    digits: Vec<(char, DtmfSource)>,
    hangup_requested: bool,
    dtmf_out: DtmfSender,
    bridge: Option<Bridge>,
    voicemails: u32,
}

impl Call {
    /// One tick: control messages, then the packets that arrived, then the outgoing frame.
    /// `false` once the call is over.
    fn step(&mut self, scratch: &mut Scratch) -> bool {
        use tokio::sync::mpsc::error::TryRecvError;
        let now_ms = self.ticks * 20;
        while self.ctl.pending.swap(false, Ordering::Acquire) {
            match self.ctl.rx.try_recv() {
                Ok(MediaCtl::Stop) | Err(TryRecvError::Disconnected) => return false,
                Ok(ctl) => {
                    // More may be queued: look again.
                    self.ctl.pending.store(true, Ordering::Relaxed);
                    self.on_ctl(now_ms, ctl);
                    self.after(now_ms);
                }
                Err(TryRecvError::Empty) => break,
            }
        }
        loop {
            let n = scratch.recv(&self.setup.sockets.rtp);
            for i in 0..n {
                let (len, src) = scratch.got[i];
                if self.on_packet(&scratch.bufs[i][..len.min(MAX_DATAGRAM)], src) {
                    scratch.rtp_in += 1;
                }
            }
            if n < BATCH {
                break;
            }
        }
        if self.ticks.is_multiple_of(50) {
            // RTCP from the far end is not used: drain it once a second.
            while self.setup.sockets.rtcp.recv_from(&mut scratch.rtcp).is_ok() {}
        }
        self.after(now_ms);
        if self.on_tick(now_ms, &mut scratch.disk) {
            scratch.rtp_out += 1;
        }
        self.after(now_ms);
        true
    }

    fn on_ctl(&mut self, now_ms: u64, ctl: MediaCtl) {
        let (call_id, tenant_id) = (self.setup.call_id, self.setup.tenant_id);
        match ctl {
            MediaCtl::Stop => {}
            MediaCtl::Ivr(cmd) => self.ivr.command(now_ms, cmd),
            MediaCtl::InfoDtmf(d) => self.digits.push((d, DtmfSource::SipInfo)),
            MediaCtl::SendDtmf(d) => {
                if let Err(bad) = self.dtmf_out.send(&d) {
                    let _ = self.setup.events.send(GatewayEvent::CommandFailed {
                        call_id,
                        reason: format!("invalid DTMF digit {bad:?}"),
                    });
                }
            }
            MediaCtl::Unbridge => {
                if let Some(b) = self.bridge.take() {
                    let peer = b.peer;
                    let _ = self.setup.events.send(GatewayEvent::BridgeEnded {
                        call_id,
                        tenant_id,
                        peer,
                    });
                }
            }
            MediaCtl::Bridge { peer, tx, rx } => {
                self.bridge = Some(Bridge {
                    peer,
                    tx,
                    rx,
                    queue: VecDeque::new(),
                });
                let _ = self.setup.events.send(GatewayEvent::Bridged {
                    call_id,
                    tenant_id,
                    peer,
                });
            }
            MediaCtl::Remote { addr, send } => {
                if addr != self.setup.remote {
                    self.setup.remote = addr;
                    self.latched = false;
                }
                self.setup.send = send;
            }
        }
    }

    /// One datagram from the RTP socket; `true` when it was RTP.
    fn on_packet(&mut self, datagram: &[u8], src: Option<SocketAddr>) -> bool {
        let Some(p) = RtpPacket::parse(datagram) else {
            return false;
        };
        if let Some(src) = src {
            if !self.latched && src != self.setup.remote {
                // Symmetric RTP: answer where the caller's media really comes from.
                self.setup.remote = src;
            }
        }
        self.latched = true;
        self.stats.on_packet(p.seq);
        if p.payload_type == self.setup.codec.payload_type() {
            self.dec.clear();
            self.setup
                .codec
                .decode(&p.payload[..p.payload.len().min(FRAME * 4)], &mut self.dec);
            self.jitter.push(p.timestamp, self.dec.clone());
        } else if Some(p.payload_type) == self.setup.telephone_event {
            if let Some(d) = self.dtmf.on_packet(p.timestamp, p.payload) {
                self.digits.push((d, DtmfSource::Rfc4733));
            }
        }
        true
    }

    /// The tick's outgoing frame (and recording, RTCP, flow timers); `true` when an RTP packet
    /// went out.
    fn on_tick(&mut self, now_ms: u64, disk: &mut Vec<DiskJob>) -> bool {
        let (call_id, tenant_id) = (self.setup.call_id, self.setup.tenant_id);
        self.ticks += 1;
        let caller = self.jitter.pop();
        let mut out = self.ivr.tick(now_ms, &caller);
        if let Some(b) = self.bridge.as_mut() {
            if !b.exchange(&caller, &mut out) {
                let peer = b.peer;
                self.bridge = None;
                let _ = self.setup.events.send(GatewayEvent::BridgeEnded {
                    call_id,
                    tenant_id,
                    peer,
                });
            }
        }
        let dtmf = self
            .dtmf_out
            .tick(self.ts, self.setup.telephone_event.is_some());
        if let DtmfOut::Tone { digit, at } = dtmf {
            dtmf_send::mix_tone(&mut out, digit, at);
        }
        for digits in self.dtmf_out.take_finished() {
            let _ = self.setup.events.send(GatewayEvent::DtmfSent {
                call_id,
                tenant_id,
                digits,
            });
        }
        let mut sent = false;
        if self.setup.send {
            self.enc.clear();
            match (dtmf, self.setup.telephone_event) {
                (
                    DtmfOut::Event {
                        payload,
                        marker,
                        timestamp,
                    },
                    Some(pt),
                ) => {
                    self.enc.extend_from_slice(&payload);
                    rtp::write_rtp(
                        &mut self.pkt,
                        pt,
                        marker,
                        self.seq,
                        timestamp,
                        self.ssrc,
                        &self.enc,
                    );
                }
                _ => {
                    self.setup.codec.encode(&out, &mut self.enc);
                    rtp::write_rtp(
                        &mut self.pkt,
                        self.setup.codec.payload_type(),
                        self.ticks == 1,
                        self.seq,
                        self.ts,
                        self.ssrc,
                        &self.enc,
                    );
                }
            }
            // Non-blocking: a full send buffer drops the frame (as the network would).
            if self
                .setup
                .sockets
                .rtp
                .send_to(&self.pkt, self.setup.remote)
                .is_ok()
            {
                sent = true;
                self.sent_packets = self.sent_packets.wrapping_add(1);
                self.sent_octets = self.sent_octets.wrapping_add(self.enc.len() as u32);
            }
        }
        self.seq = self.seq.wrapping_add(1);
        self.ts = self.ts.wrapping_add(FRAME as u32);
        if let Some(w) = self.recorder.as_mut() {
            match w.write_stereo(&caller, &out) {
                Ok(()) if self.ticks.is_multiple_of(50) => {
                    if self.recording_failed.load(Ordering::Relaxed) {
                        self.recorder = None;
                    } else {
                        disk.push(DiskJob::Write {
                            call_id,
                            write: w.take_pending(),
                            failed: self.recording_failed.clone(),
                        });
                    }
                }
                Ok(()) => {}
                Err(e) => {
                    tracing::error!(%call_id, error = %e, "recording write failed; recording stopped");
                    self.recorder = None;
                }
            }
        }
        if self.ticks.is_multiple_of(250) {
            let sr = rtp::rtcp_sender_report(
                self.ssrc,
                ntp_now(),
                self.ts,
                self.sent_packets,
                self.sent_octets,
            );
            let rtcp = SocketAddr::new(
                self.setup.remote.ip(),
                self.setup.remote.port().wrapping_add(1),
            );
            let _ = self.setup.sockets.rtcp.send_to(&sr, rtcp);
        }
        if let Some(f) = self.flow.as_mut() {
            self.steps.extend(f.on_tick(now_ms));
        }
        sent
    }

    /// Digits received, the IVR's events and the flow's steps.
    fn after(&mut self, now_ms: u64) {
        let (call_id, tenant_id) = (self.setup.call_id, self.setup.tenant_id);
        for (d, source) in std::mem::take(&mut self.digits) {
            tracing::info!(%call_id, digit = %d, ?source, "dtmf");
            let _ = self.setup.events.send(GatewayEvent::Dtmf {
                call_id,
                tenant_id,
                digit: d,
                source,
            });
            self.ivr.on_digit(now_ms, d);
        }
        for ev in self.ivr.drain_events() {
            if let Some(f) = self.flow.as_mut() {
                self.steps.extend(f.on_event(now_ms, &ev));
            }
            let wire = self.wire_event(ev);
            let _ = self.setup.events.send(wire);
        }
        for step in std::mem::take(&mut self.steps) {
            match step {
                FlowStep::Ivr(cmd) => self.ivr.command(now_ms, cmd),
                FlowStep::Hangup if !self.hangup_requested => {
                    self.hangup_requested = true;
                    let _ = self.setup.hangup.send(self.setup.call_key);
                }
                FlowStep::Hangup => {}
            }
        }
    }

    fn wire_event(&mut self, ev: IvrEvent) -> GatewayEvent {
        let (call_id, tenant_id) = (self.setup.call_id, self.setup.tenant_id);
        match ev {
            IvrEvent::PlaybackFinished {
                prompt,
                interrupted_by,
            } => GatewayEvent::PlaybackFinished {
                call_id,
                tenant_id,
                prompt,
                interrupted_by,
            },
            IvrEvent::DigitsCollected { digits, end } => GatewayEvent::DigitsCollected {
                call_id,
                tenant_id,
                digits,
                end,
            },
            IvrEvent::MachineDetected {
                result,
                beep,
                speech_ms,
                elapsed_ms,
            } => {
                tracing::info!(%call_id, ?result, beep, speech_ms, elapsed_ms, "answering-machine detection");
                GatewayEvent::MachineDetected {
                    call_id,
                    tenant_id,
                    result,
                    beep,
                    speech_ms,
                    elapsed_ms,
                }
            }
            IvrEvent::Voicemail { samples } => {
                self.voicemails += 1;
                let vm = self
                    .setup
                    .recordings_dir
                    .join(tenant_id.to_string())
                    .join("voicemail")
                    .join(format!("{call_id}-{}.wav", self.voicemails));
                // Rare and small (one file per message): written here, on the worker.
                let written = WavWriter::create(&vm, 1).and_then(|mut w| {
                    w.write_interleaved(&samples)?;
                    w.finish()
                });
                match written {
                    Ok((duration_ms, _)) => GatewayEvent::VoicemailRecorded {
                        call_id,
                        tenant_id,
                        path: absolute(&vm),
                        duration_ms,
                    },
                    Err(e) => GatewayEvent::CommandFailed {
                        call_id,
                        reason: format!("voicemail: {e}"),
                    },
                }
            }
        }
    }

    /// The call is over: accounts its RTP; the recording's final sync, to run after its
    /// earlier writes (the sockets close, and the port returns to the pool, as `self` drops;
    /// no recording: the async side hears the channel close).
    fn finish(mut self: Box<Self>) -> Option<DiskJob> {
        // A caller who hangs up after speaking has left a message: keep it.
        if let Some(samples) = self.ivr.take_voicemail() {
            let ev = self.wire_event(IvrEvent::Voicemail { samples });
            let _ = self.setup.events.send(ev);
        }
        metrics::RTP_LOST.add(self.stats.lost());
        metrics::RTP_EXPECTED.add(self.stats.expected());
        metrics::RTP_LATE.add(self.jitter.late);
        metrics::RTP_CONCEALED.add(self.jitter.lost);
        let writer = self.recorder.take()?;
        let done = self.done.take()?;
        Some(DiskJob::Finish { writer, done })
    }
}

/// Runs the media of one answered call until [`MediaCtl::Stop`] (or the channel closes): the
/// recording is created here on tokio's blocking pool, the call's ticks run on a
/// [`MediaWorkers`] thread, its recording is written (every second, and finally) by that
/// worker's writer thread, and the end is reported here.
pub async fn run(setup: MediaSetup, rx: MediaRx) {
    let (call_id, tenant_id) = (setup.call_id, setup.tenant_id);
    let events = setup.events.clone();
    let started_at = Utc::now();
    let path = recording_path(&setup.recordings_dir, tenant_id, call_id, started_at);
    // File creation is blocking I/O: keep it off the runtime's workers and the media
    // workers (thousands of calls start and end per second under load).
    let create_path = path.clone();
    let created = tokio::task::spawn_blocking(move || WavWriter::create(&create_path, 2)).await;
    let recorder = match created {
        Ok(Ok(w)) => Some(w),
        Ok(Err(e)) => {
            tracing::error!(%call_id, path = %path.display(), error = %e, "cannot create recording");
            None
        }
        Err(e) => {
            tracing::error!(%call_id, error = %e, "recording task failed");
            None
        }
    };
    let mut flow = setup.flow.clone().map(DefaultFlow::new);
    let steps = flow.as_mut().map(|f| f.start()).unwrap_or_default();
    let (done, finished) = oneshot::channel();
    let call = Box::new(Call {
        ivr: Ivr::new(setup.prompts.clone()).for_tenant(tenant_id),
        setup,
        ctl: rx,
        done: Some(done),
        recorder,
        recording_failed: Arc::new(AtomicBool::new(false)),
        flow,
        steps,
        jitter: JitterBuffer::default(),
        dtmf: DtmfReceiver::default(),
        stats: RecvStats::default(),
        latched: false,
        seq: fastrand::u16(..),
        ts: fastrand::u32(..),
        ssrc: fastrand::u32(..),
        sent_packets: 0,
        sent_octets: 0,
        ticks: 0,
        pkt: Vec::with_capacity(200),
        enc: Vec::with_capacity(FRAME),
        dec: Vec::with_capacity(FRAME * 4),
        digits: Vec::new(),
        hangup_requested: false,
        dtmf_out: DtmfSender::default(),
        bridge: None,
        voicemails: 0,
    });
    MediaWorkers::global().add(call);
    // Closed without a value: the call had no recording (or it stopped on an error).
    let Ok(finished) = finished.await else {
        return;
    };
    match finished {
        Ok((duration_ms, size_bytes)) => {
            tracing::info!(%call_id, duration_ms, size_bytes, path = %path.display(), "recording finished");
            let _ = events.send(GatewayEvent::RecordingFinished {
                call_id,
                tenant_id,
                started_at,
                duration_ms,
                path: absolute(&path),
                size_bytes,
            });
        }
        Err(e) => tracing::error!(%call_id, error = %e, "recording finish failed"),
    }
}

fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p)
        .unwrap_or_else(|_| p.to_path_buf())
        .display()
        .to_string()
}

fn ntp_now() -> u64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = now.as_secs() + 2_208_988_800;
    let frac = ((now.subsec_nanos() as u64) << 32) / 1_000_000_000;
    (secs << 32) | frac
}
