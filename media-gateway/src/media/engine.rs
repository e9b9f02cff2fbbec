//! The per-call media task: one RTP/RTCP socket pair, symmetric RTP, G.711, RFC 4733 DTMF,
//! a jitter buffer, the IVR, and the stereo recording (left: caller, right: what the caller
//! heard from us).

use super::dtmf_send::{self, DtmfOut, DtmfSender};
use super::g711::G711;
use super::jitter::{JitterBuffer, FRAME};
use super::rtp::{self, DtmfReceiver, RecvStats, RtpPacket};
use super::wav::WavWriter;
use crate::ivr::{DefaultFlow, FlowConfig, FlowStep, Ivr, IvrCommand, IvrEvent, Prompts};
use crate::metrics;
use crate::sip::endpoint::CallKey;
use chrono::{DateTime, Utc};
use hotline_wire::gateway::{DtmfSource, GatewayEvent};
use std::collections::VecDeque;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
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

/// Bound sockets of one call.
pub struct MediaSockets {
    /// RTP socket.
    pub rtp: UdpSocket,
    /// RTCP socket (RTP port + 1).
    pub rtcp: UdpSocket,
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
            let bind = |p: u16| -> std::io::Result<UdpSocket> {
                let s = std::net::UdpSocket::bind(SocketAddr::new(ip, p))?;
                s.set_nonblocking(true)?;
                UdpSocket::from_std(s)
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
    /// Exchange audio with another call's media task (replaces an earlier bridge).
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

/// A live bridge to another call's media task.
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

/// Everything a media task needs.
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

/// Runs the media of one answered call until [`MediaCtl::Stop`] (or the channel closes).
pub async fn run(setup: MediaSetup, mut rx: mpsc::UnboundedReceiver<MediaCtl>) {
    let MediaSetup {
        call_key,
        call_id,
        tenant_id,
        codec,
        telephone_event,
        mut remote,
        mut send,
        sockets,
        recordings_dir,
        prompts,
        flow,
        events,
        hangup,
    } = setup;
    let started_at = Utc::now();
    let path = recording_path(&recordings_dir, tenant_id, call_id, started_at);
    // File creation and the final header rewrite are blocking I/O: keep them off the
    // runtime's workers (thousands of calls start and end per second under load).
    let create_path = path.clone();
    let created = tokio::task::spawn_blocking(move || WavWriter::create(&create_path, 2)).await;
    let mut recorder = match created {
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
    let mut ivr = Ivr::new(prompts).for_tenant(tenant_id);
    let mut flow = flow.map(DefaultFlow::new);
    let mut steps = flow.as_mut().map(|f| f.start()).unwrap_or_default();
    let mut jitter = JitterBuffer::default();
    let mut dtmf = DtmfReceiver::default();
    let mut stats = RecvStats::default();
    let mut latched = false;
    let (mut seq, mut ts, ssrc) = (fastrand::u16(..), fastrand::u32(..), fastrand::u32(..));
    let (mut sent_packets, mut sent_octets) = (0u32, 0u32);
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let mut ticks: u64 = 0;
    let mut buf = vec![0u8; 2048];
    let mut rtcp_buf = vec![0u8; 1500];
    let mut pkt = Vec::with_capacity(200);
    let mut enc = Vec::with_capacity(FRAME);
    let mut dec = Vec::with_capacity(FRAME);
    let mut interleaved = Vec::with_capacity(2 * FRAME);
    let mut hangup_requested = false;
    let mut dtmf_out = DtmfSender::default();
    let mut bridge: Option<Bridge> = None;
    let mut voicemails = 0u32;
    loop {
        let now_ms = ticks * 20;
        let mut digits: Vec<(char, DtmfSource)> = Vec::new();
        tokio::select! {
            ctl = rx.recv() => match ctl {
                None | Some(MediaCtl::Stop) => break,
                Some(MediaCtl::Ivr(cmd)) => ivr.command(now_ms, cmd),
                Some(MediaCtl::InfoDtmf(d)) => digits.push((d, DtmfSource::SipInfo)),
                Some(MediaCtl::SendDtmf(d)) => {
                    if let Err(bad) = dtmf_out.send(&d) {
                        let _ = events.send(GatewayEvent::CommandFailed {
                            call_id,
                            reason: format!("invalid DTMF digit {bad:?}"),
                        });
                    }
                }
                Some(MediaCtl::Unbridge) => {
                    if let Some(b) = bridge.take() {
                        let peer = b.peer;
                        let _ = events.send(GatewayEvent::BridgeEnded { call_id, tenant_id, peer });
                    }
                }
                Some(MediaCtl::Bridge { peer, tx, rx }) => {
                    bridge = Some(Bridge { peer, tx, rx, queue: VecDeque::new() });
                    let _ = events.send(GatewayEvent::Bridged { call_id, tenant_id, peer });
                }
                Some(MediaCtl::Remote { addr, send: s }) => {
                    if addr != remote {
                        remote = addr;
                        latched = false;
                    }
                    send = s;
                }
            },
            r = sockets.rtp.recv_from(&mut buf) => {
                if let Ok((n, src)) = r {
                    if let Some(p) = RtpPacket::parse(&buf[..n]) {
                        if !latched && src != remote {
                            // Symmetric RTP: answer where the caller's media really comes from.
                            remote = src;
                        }
                        latched = true;
                        metrics::RTP_IN.add(1);
                        stats.on_packet(p.seq);
                        if p.payload_type == codec.payload_type() {
                            dec.clear();
                            codec.decode(&p.payload[..p.payload.len().min(FRAME * 4)], &mut dec);
                            jitter.push(p.timestamp, dec.clone());
                        } else if Some(p.payload_type) == telephone_event {
                            if let Some(d) = dtmf.on_packet(p.timestamp, p.payload) {
                                digits.push((d, DtmfSource::Rfc4733));
                            }
                        }
                    }
                }
            },
            _ = sockets.rtcp.recv_from(&mut rtcp_buf) => {},
            _ = tick.tick() => {
                ticks += 1;
                let caller = jitter.pop();
                let mut out = ivr.tick(now_ms, &caller);
                if let Some(b) = bridge.as_mut() {
                    if !b.exchange(&caller, &mut out) {
                        let peer = b.peer;
                        bridge = None;
                        let _ = events.send(GatewayEvent::BridgeEnded { call_id, tenant_id, peer });
                    }
                }
                let dtmf = dtmf_out.tick(ts, telephone_event.is_some());
                if let DtmfOut::Tone { digit, at } = dtmf {
                    dtmf_send::mix_tone(&mut out, digit, at);
                }
                for digits in dtmf_out.take_finished() {
                    let _ = events.send(GatewayEvent::DtmfSent { call_id, tenant_id, digits });
                }
                if send {
                    match (dtmf, telephone_event) {
                        (DtmfOut::Event { payload, marker, timestamp }, Some(pt)) => {
                            enc.clear();
                            enc.extend_from_slice(&payload);
                            rtp::write_rtp(&mut pkt, pt, marker, seq, timestamp, ssrc, &enc);
                        }
                        _ => {
                            enc.clear();
                            codec.encode(&out, &mut enc);
                            rtp::write_rtp(&mut pkt, codec.payload_type(), ticks == 1, seq, ts, ssrc, &enc);
                        }
                    }
                    if sockets.rtp.send_to(&pkt, remote).await.is_ok() {
                        metrics::RTP_OUT.add(1);
                        sent_packets = sent_packets.wrapping_add(1);
                        sent_octets = sent_octets.wrapping_add(enc.len() as u32);
                    }
                }
                seq = seq.wrapping_add(1);
                ts = ts.wrapping_add(FRAME as u32);
                if let Some(w) = recorder.as_mut() {
                    interleaved.clear();
                    for (c, o) in caller.iter().zip(out.iter()) {
                        interleaved.push(*c);
                        interleaved.push(*o);
                    }
                    let mut res = w.write_interleaved(&interleaved);
                    if res.is_ok() && ticks.is_multiple_of(50) {
                        res = w.sync();
                    }
                    if let Err(e) = res {
                        tracing::error!(%call_id, error = %e, "recording write failed; recording stopped");
                        recorder = None;
                    }
                }
                if ticks.is_multiple_of(250) {
                    let ntp = ntp_now();
                    let sr = rtp::rtcp_sender_report(ssrc, ntp, ts, sent_packets, sent_octets);
                    let _ = sockets.rtcp.send_to(&sr, SocketAddr::new(remote.ip(), remote.port().wrapping_add(1))).await;
                }
                if let Some(f) = flow.as_mut() {
                    steps.extend(f.on_tick(now_ms));
                }
            },
        }
        for (d, source) in digits {
            tracing::info!(%call_id, digit = %d, ?source, "dtmf");
            let _ = events.send(GatewayEvent::Dtmf {
                call_id,
                tenant_id,
                digit: d,
                source,
            });
            ivr.on_digit(now_ms, d);
        }
        for ev in ivr.drain_events() {
            if let Some(f) = flow.as_mut() {
                steps.extend(f.on_event(now_ms, &ev));
            }
            let wire = match ev {
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
                    voicemails += 1;
                    let vm = recordings_dir
                        .join(tenant_id.to_string())
                        .join("voicemail")
                        .join(format!("{call_id}-{voicemails}.wav"));
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
            };
            let _ = events.send(wire);
        }
        for step in steps.drain(..) {
            match step {
                FlowStep::Ivr(cmd) => ivr.command(now_ms, cmd),
                FlowStep::Hangup if !hangup_requested => {
                    hangup_requested = true;
                    let _ = hangup.send(call_key);
                }
                FlowStep::Hangup => {}
            }
        }
    }
    metrics::RTP_LOST.add(stats.lost());
    metrics::RTP_EXPECTED.add(stats.expected());
    metrics::RTP_LATE.add(jitter.late);
    metrics::RTP_CONCEALED.add(jitter.lost);
    if let Some(w) = recorder {
        let finished = tokio::task::spawn_blocking(move || w.finish()).await;
        match finished.unwrap_or_else(|e| Err(std::io::Error::other(e))) {
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
    drop(sockets);
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
