//! The I/O edge: UDP and TCP SIP sockets, the call table, Redis tasks (routing, events,
//! commands, heartbeat), metrics HTTP and graceful drain. All protocol logic lives in the
//! sans-IO [`Endpoint`], [`crate::ivr`] and the media engine.

use crate::config::{Admission, Config};
use crate::ivr::{FlowConfig, IvrCommand, Prompts};
use crate::media::conference::{self, RoomCtl, Slot};
use crate::media::engine::{self, MediaCtl, MediaSetup, MediaSockets, PortPool};
use crate::metrics;
use crate::sdp::AcceptedOffer;
use crate::sip::digest;
use crate::sip::endpoint::{
    CallKey, Endpoint, EndpointConfig, Event, Originate, Output, Peer, Transport, TxHandle,
};
use crate::sip::msg;
use crate::store::{self, Route};
use crate::webrtc::LegCtl;
use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use chrono::Utc;
use hotline_wire::gateway::{
    self as wire, Direction, FlowMode, GatewayCommand, GatewayEvent, HangupCause,
};
use redis::aio::ConnectionManager;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use uuid::Uuid;

/// Messages into the SIP task.
enum Ctrl {
    Inbound {
        peer: Peer,
        data: Bytes,
    },
    TcpOpen {
        addr: SocketAddr,
        writer: mpsc::UnboundedSender<Bytes>,
    },
    TcpClosed {
        addr: SocketAddr,
    },
    Routed {
        call: CallKey,
        route: Result<Route, String>,
    },
    Registered {
        tx: TxHandle,
        status: u16,
        extra: Vec<(&'static str, String)>,
    },
    Command(GatewayCommand),
    /// WebRTC signalling from the HTTP listener.
    Webrtc(crate::webrtc::HttpCtl),
    /// A WebRTC leg's task ended.
    WebrtcEnded(Uuid),
    /// A member left a conference room (its channels closed).
    ConferenceLeft {
        room: Uuid,
        slot: Slot,
    },
    Originate {
        cmd: GatewayCommand,
        blocked: Result<bool, String>,
        /// Where to send the INVITE: a registered extension's contact, or the trunk (`None`).
        dest: Option<SocketAddr>,
        /// The tenant's outbound limits' verdict (calls to outside numbers only).
        admission: Option<store::OutboundAdmission>,
    },
    Drain,
}

struct CallEntry {
    id: Uuid,
    did: String,
    caller: String,
    sip_call_id: String,
    tenant: Option<Uuid>,
    offer: AcceptedOffer,
    sockets: Option<MediaSockets>,
    media: Option<engine::MediaTx>,
    mode: FlowMode,
    flow: FlowConfig,
    answered: bool,
    /// Placed by us (UAC) with an `originate` command.
    outbound: bool,
    /// We asked for the hang-up (CANCEL / BYE / reject).
    hangup_requested: bool,
    /// Counted in its tenant's outbound calls in progress (`store::admit_outbound`): released
    /// when it ends, its lease renewed with each heartbeat.
    counted: bool,
}

struct Core {
    cfg: Arc<Config>,
    ep: Endpoint,
    udp: Arc<UdpSocket>,
    tcp: HashMap<SocketAddr, mpsc::UnboundedSender<Bytes>>,
    calls: HashMap<CallKey, CallEntry>,
    by_id: HashMap<Uuid, CallKey>,
    redis: ConnectionManager,
    prompts: Arc<Prompts>,
    ports: Arc<PortPool>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    ctrl: mpsc::UnboundedSender<Ctrl>,
    hangups: mpsc::UnboundedSender<CallKey>,
    nonce_secret: String,
    draining: Option<Instant>,
    /// Per answered call, the task that sets its media up, hands it to a media worker and
    /// waits for its end; and the WebRTC legs' tasks. Drained on shutdown.
    media_tasks: tokio::task::JoinSet<()>,
    publisher: Option<tokio::task::JoinHandle<()>>,
    /// Agents' browser softphone legs.
    legs: HashMap<Uuid, Leg>,
    /// Told when a leg's task ends.
    legs_done: mpsc::UnboundedSender<Uuid>,
    /// Conference rooms by id ([`wire::conference_room_id`] of the name).
    rooms: HashMap<Uuid, Room>,
    /// Told by a room's mixer when a member left.
    rooms_left: mpsc::UnboundedSender<(Uuid, Slot)>,
    /// The next conference slot (unique per join).
    next_slot: Slot,
    /// When each unanswered call's answer timeout falls due (earliest first), so the loop
    /// sleeps until then instead of scanning every call on a fixed tick.
    answer_due: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, CallKey)>>,
}

/// An agent's browser softphone leg.
struct Leg {
    tx: mpsc::UnboundedSender<LegCtl>,
    tenant: Uuid,
}

/// A conference room: its mixer task and its members. The room ends (its control channel
/// dropped, so the mixer stops) when its last member left.
struct Room {
    name: String,
    tenant: Uuid,
    ctl: mpsc::UnboundedSender<RoomCtl>,
    /// Member (call or leg id) of each slot.
    members: HashMap<Slot, Uuid>,
}

/// Runs the gateway until SIGTERM/SIGINT and the drain complete.
pub async fn run(cfg: Config) -> Result<()> {
    let cfg = Arc::new(cfg);
    // Separate connections so a burst of events never delays call routing.
    let redis = connect_retrying(&cfg.redis_url).await;
    let events_redis = connect_retrying(&cfg.redis_url).await;
    let commands_redis = connect_retrying(&cfg.redis_url).await;
    let udp = Arc::new(
        UdpSocket::bind(cfg.sip_addr)
            .await
            .context("bind SIP UDP")?,
    );
    let tcp = TcpListener::bind(cfg.sip_addr)
        .await
        .context("bind SIP TCP")?;
    let (ctrl_tx, ctrl_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::unbounded_channel();
    let (hang_tx, hang_rx) = mpsc::unbounded_channel();
    let publisher = tokio::spawn(publish_events(
        events_redis,
        cfg.events_stream.clone(),
        ev_rx,
    ));
    tokio::spawn(read_commands(
        commands_redis,
        cfg.gateway_id.clone(),
        ctrl_tx.clone(),
    ));
    tokio::spawn(accept_tcp(tcp, ctrl_tx.clone()));
    if let Some(addr) = cfg.metrics_addr {
        let l = TcpListener::bind(addr).await.context("bind metrics")?;
        tokio::spawn(serve_metrics(l));
    }
    if let Some(addr) = cfg.http_addr {
        let l = TcpListener::bind(addr).await.context("bind WebRTC HTTP")?;
        let (http_tx, mut http_rx) = mpsc::unbounded_channel();
        let to_core = ctrl_tx.clone();
        tokio::spawn(async move {
            while let Some(c) = http_rx.recv().await {
                if to_core.send(Ctrl::Webrtc(c)).is_err() {
                    break;
                }
            }
        });
        tokio::spawn(crate::webrtc::serve_http(l, http_tx));
    }
    let (legs_done, mut legs_done_rx) = mpsc::unbounded_channel::<Uuid>();
    let to_core = ctrl_tx.clone();
    tokio::spawn(async move {
        while let Some(leg) = legs_done_rx.recv().await {
            if to_core.send(Ctrl::WebrtcEnded(leg)).is_err() {
                break;
            }
        }
    });
    let (rooms_left, mut rooms_left_rx) = mpsc::unbounded_channel::<(Uuid, Slot)>();
    let to_core = ctrl_tx.clone();
    tokio::spawn(async move {
        while let Some((room, slot)) = rooms_left_rx.recv().await {
            if to_core.send(Ctrl::ConferenceLeft { room, slot }).is_err() {
                break;
            }
        }
    });
    let signals = ctrl_tx.clone();
    tokio::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        if let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) {
            tokio::select! { _ = term.recv() => {}, _ = int.recv() => {} }
            let _ = signals.send(Ctrl::Drain);
        }
    });
    tracing::info!(gateway_id = %cfg.gateway_id, sip = %cfg.sip_addr, "gateway started");
    let ports = PortPool::new(cfg.rtp_ports.0, cfg.rtp_ports.1);
    let core = Core {
        ep: Endpoint::new(EndpointConfig {
            advertised: cfg.advertised_addr,
            user_agent: "Hotline-Gateway/0.1".into(),
        }),
        udp,
        tcp: HashMap::new(),
        calls: HashMap::new(),
        by_id: HashMap::new(),
        redis,
        prompts: Arc::new(Prompts::new(cfg.prompts_dir.clone())),
        ports,
        events: ev_tx,
        ctrl: ctrl_tx,
        hangups: hang_tx,
        nonce_secret: msg::random_token(24),
        draining: None,
        media_tasks: tokio::task::JoinSet::new(),
        publisher: Some(publisher),
        legs: HashMap::new(),
        legs_done,
        rooms: HashMap::new(),
        rooms_left,
        next_slot: 0,
        answer_due: Default::default(),
        cfg,
    };
    core.run(ctrl_rx, hang_rx).await
}

async fn connect_retrying(url: &str) -> ConnectionManager {
    loop {
        match store::connect(url).await {
            Ok(c) => return c,
            Err(e) => {
                tracing::warn!(url, error = %e, "redis unreachable, retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
}

impl Core {
    async fn run(
        mut self,
        mut ctrl: mpsc::UnboundedReceiver<Ctrl>,
        mut hangups: mpsc::UnboundedReceiver<CallKey>,
    ) -> Result<()> {
        let mut buf = vec![0u8; 65_536 + 1];
        let mut beat = tokio::time::interval(self.cfg.heartbeat);
        let mut cpu = CpuMeter::default();
        let udp = self.udp.clone();
        loop {
            tokio::select! {
                r = udp.recv_from(&mut buf) => match r {
                    Ok((n, addr)) if n <= msg::MAX_MESSAGE => {
                        self.ep.handle_input(Instant::now(), Peer { addr, transport: Transport::Udp }, &buf[..n]);
                    }
                    Ok(_) => metrics::SIP_DROPPED.add(1),
                    Err(e) => tracing::debug!(error = %e, "udp recv"),
                },
                Some(c) = ctrl.recv() => self.on_ctrl(c),
                Some(call) = hangups.recv() => self.ep.hangup(Instant::now(), call),
                // Sleep until the next timer is due (a SIP transaction's, an answer timeout,
                // a drain check), never on a fixed tick.
                _ = tokio::time::sleep_until(self.next_wakeup().into()) => {
                    self.ep.handle_timeout(Instant::now());
                    while self.media_tasks.try_join_next().is_some() {}
                    self.expire_unanswered();
                    if let Some(since) = self.draining {
                        if self.calls.is_empty() {
                            tracing::info!("drained: no calls left, exiting");
                            self.flush().await;
                            return self.shutdown().await;
                        }
                        if since.elapsed() > self.cfg.drain_timeout {
                            tracing::warn!(calls = self.calls.len(), "drain timeout: hanging up remaining calls");
                            let keys: Vec<CallKey> = self.calls.keys().copied().collect();
                            for k in keys {
                                self.ep.hangup(Instant::now(), k);
                            }
                            self.draining = Some(Instant::now() + Duration::from_secs(3600));
                        }
                    }
                },
                _ = beat.tick() => {
                    self.heartbeat(cpu.percent());
                    self.renew_outbound();
                }
            }
            self.flush().await;
        }
    }

    /// Waits for every call's media to end (recordings finalised) and for every event to
    /// reach Redis.
    async fn shutdown(mut self) -> Result<()> {
        while self.media_tasks.join_next().await.is_some() {}
        let publisher = self.publisher.take();
        drop(self);
        if let Some(p) = publisher {
            let _ = tokio::time::timeout(Duration::from_secs(5), p).await;
        }
        Ok(())
    }

    async fn flush(&mut self) {
        while let Some(out) = self.ep.poll_output() {
            match out {
                Output::Transmit { peer, data } => match peer.transport {
                    Transport::Udp => {
                        let _ = self.udp.send_to(&data, peer.addr).await;
                    }
                    Transport::Tcp => {
                        if let Some(w) = self.tcp.get(&peer.addr) {
                            let _ = w.send(data);
                        }
                    }
                },
                Output::Event(ev) => self.on_event(ev),
            }
        }
    }

    fn heartbeat(&self, cpu_percent: f64) {
        let hb = wire::GatewayHeartbeat {
            gateway_id: self.cfg.gateway_id.clone(),
            sip_addr: self.cfg.advertised_addr.to_string(),
            calls: self.calls.len() as u64,
            ports_used: metrics::PORTS_USED.get(),
            cpu_percent,
            draining: self.draining.is_some(),
            at: Utc::now(),
            http: self
                .cfg
                .http_addr
                .map(|a| a.to_string())
                .unwrap_or_default(),
            events_stream: self.cfg.events_stream.clone(),
            trunk: self.cfg.trunk.is_some(),
        };
        let mut con = self.redis.clone();
        let ttl = (self.cfg.heartbeat.as_secs() as i64 * 3).max(3);
        tokio::spawn(async move {
            if let Err(e) = store::heartbeat(&mut con, &hb, ttl).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        });
    }

    fn on_event(&mut self, ev: Event) {
        let now = Instant::now();
        match ev {
            Event::IncomingCall {
                call,
                did,
                caller,
                sip_call_id,
                peer,
                offer,
                proxy_authorization,
            } => {
                let id = Uuid::new_v4();
                tracing::info!(call_id = %id, sip_call_id = %sip_call_id, %did, %caller, from = %peer.addr, "incoming call");
                if let Err((status, extra)) =
                    self.admit_trunk(peer.addr.ip(), proxy_authorization.as_deref())
                {
                    tracing::info!(call_id = %id, status, "trunk not admitted");
                    if status != 407 {
                        metrics::CALLS_REJECTED.add(1);
                    }
                    return self.ep.reject(now, call, status, &extra);
                }
                metrics::CALLS_TOTAL.add(1);
                metrics::CALLS_ACTIVE.add(1);
                self.by_id.insert(id, call);
                self.calls.insert(
                    call,
                    CallEntry {
                        id,
                        did: did.clone(),
                        caller: caller.clone(),
                        sip_call_id,
                        tenant: None,
                        offer,
                        sockets: None,
                        media: None,
                        mode: self.cfg.flow_mode,
                        flow: FlowConfig::default(),
                        answered: false,
                        outbound: false,
                        hangup_requested: false,
                        counted: false,
                    },
                );
                self.answer_due
                    .push(std::cmp::Reverse((now + self.cfg.answer_timeout, call)));
                let mut con = self.redis.clone();
                let ctrl = self.ctrl.clone();
                let mode = self.cfg.flow_mode;
                let flow = FlowConfig {
                    digit_timeout_ms: self.cfg.digit_timeout_ms,
                    echo_ms: self.cfg.echo_ms,
                    ..FlowConfig::default()
                };
                let prompts = self.prompts.clone();
                tokio::spawn(async move {
                    let route = store::route(&mut con, &did, &caller, mode, &flow)
                        .await
                        .map_err(|e| e.to_string());
                    if let Ok(Route::Accept { tenant_id, .. }) = &route {
                        if let Err(e) = store::refresh_prompts(&mut con, &prompts, *tenant_id).await
                        {
                            tracing::warn!(%tenant_id, error = %e, "tenant prompts not refreshed: the cached ones play");
                        }
                    }
                    let _ = ctrl.send(Ctrl::Routed { call, route });
                });
            }
            Event::Confirmed { call } => {
                if let Some(e) = self.calls.get(&call) {
                    tracing::debug!(call_id = %e.id, "ACK received");
                }
            }
            Event::Cancelled { call } => self.end_call(call, HangupCause::Cancelled, None),
            Event::RemoteBye { call } => self.end_call(call, HangupCause::CallerBye, None),
            Event::Ended { call, timed_out } => {
                let cause = if timed_out {
                    HangupCause::Timeout
                } else if self.draining.is_some() {
                    HangupCause::Shutdown
                } else {
                    HangupCause::GatewayBye
                };
                self.end_call(call, cause, None)
            }
            Event::OutboundAnswered { call, answer } => {
                let Some(entry) = self.calls.get_mut(&call) else {
                    return;
                };
                tracing::info!(call_id = %entry.id, "outbound call answered");
                entry.offer = answer;
                let (Some(tenant), Some(sockets)) = (entry.tenant, entry.sockets.take()) else {
                    return;
                };
                self.start_media(call, tenant, sockets);
            }
            Event::OutboundFailed { call, status } => {
                let requested = self.calls.get(&call).is_some_and(|e| e.hangup_requested);
                let cause = match status {
                    487 if requested => HangupCause::Cancelled,
                    408 => HangupCause::Timeout,
                    _ => HangupCause::Rejected,
                };
                self.end_call(call, cause, Some(status));
            }
            Event::MediaUpdate {
                call,
                remote_rtp,
                direction,
            } => {
                if let Some(tx) = self.calls.get(&call).and_then(|e| e.media.as_ref()) {
                    let _ = tx.send(MediaCtl::Remote {
                        addr: remote_rtp,
                        send: direction.remote_receives(),
                    });
                }
            }
            Event::InfoDtmf { call, digit } => {
                if let Some(tx) = self.calls.get(&call).and_then(|e| e.media.as_ref()) {
                    let _ = tx.send(MediaCtl::InfoDtmf(digit));
                }
            }
            Event::Register {
                tx,
                user,
                domain,
                request_uri,
                contact,
                expires,
                authorization,
            } => {
                let mut con = self.redis.clone();
                let ctrl = self.ctrl.clone();
                let secret = self.nonce_secret.clone();
                let gw = self.cfg.gateway_id.clone();
                let events = self.events.clone();
                tokio::spawn(async move {
                    let (status, extra) = register(
                        &mut con,
                        &secret,
                        &gw,
                        &events,
                        &user,
                        &domain,
                        &request_uri,
                        contact,
                        expires,
                        authorization,
                    )
                    .await
                    .unwrap_or_else(|e| {
                        tracing::warn!(error = %e, "register failed");
                        (500, Vec::new())
                    });
                    let _ = ctrl.send(Ctrl::Registered { tx, status, extra });
                });
            }
        }
    }

    /// Inbound trunk check: ACL, else digest (`407` challenge, `403` for wrong credentials).
    #[allow(clippy::type_complexity)]
    fn admit_trunk(
        &self,
        ip: std::net::IpAddr,
        proxy_authorization: Option<&str>,
    ) -> Result<(), (u16, Vec<(&'static str, String)>)> {
        match self.cfg.trunk_admission(ip) {
            Admission::Allowed => Ok(()),
            Admission::Denied => Err((403, Vec::new())),
            Admission::DigestRequired => {
                let now = Utc::now().timestamp();
                let challenge = || {
                    let nonce = digest::make_nonce(&self.nonce_secret, now);
                    (
                        407,
                        vec![(
                            "Proxy-Authenticate",
                            digest::challenge(&self.cfg.realm, &nonce),
                        )],
                    )
                };
                let Some(creds) = proxy_authorization.and_then(digest::parse_authorization) else {
                    return Err(challenge());
                };
                if creds.realm != self.cfg.realm
                    || !digest::nonce_fresh(&self.nonce_secret, &creds.nonce, now)
                {
                    return Err(challenge());
                }
                match self.cfg.trunk_ha1(&creds.username) {
                    Some(ha1) if digest::verify(&creds, "INVITE", ha1) => Ok(()),
                    _ => Err((403, Vec::new())),
                }
            }
        }
    }

    fn end_call(&mut self, call: CallKey, cause: HangupCause, status: Option<u16>) {
        let Some(e) = self.calls.remove(&call) else {
            return;
        };
        self.by_id.remove(&e.id);
        metrics::CALLS_ACTIVE.sub(1);
        if let (true, Some(tenant)) = (e.counted, e.tenant) {
            self.release_outbound(tenant, e.id);
        }
        if let Some(tx) = e.media {
            let _ = tx.send(MediaCtl::Stop);
        }
        tracing::info!(call_id = %e.id, ?cause, ?status, "call ended");
        if let Some(tenant_id) = e.tenant {
            let _ = self.events.send(GatewayEvent::Hangup {
                call_id: e.id,
                tenant_id,
                cause,
                status,
                at: Utc::now(),
            });
        }
    }

    fn on_ctrl(&mut self, c: Ctrl) {
        let now = Instant::now();
        match c {
            Ctrl::Inbound { peer, data } => self.ep.handle_input(now, peer, &data),
            Ctrl::TcpOpen { addr, writer } => {
                self.tcp.insert(addr, writer);
            }
            Ctrl::TcpClosed { addr } => {
                self.tcp.remove(&addr);
            }
            Ctrl::Registered { tx, status, extra } => self.ep.respond(now, &tx, status, &extra),
            Ctrl::Routed { call, route } => self.on_routed(call, route),
            Ctrl::Command(cmd) => self.on_command(cmd),
            Ctrl::Webrtc(c) => self.on_webrtc(c),
            Ctrl::WebrtcEnded(leg) => {
                self.legs.remove(&leg);
            }
            Ctrl::ConferenceLeft { room, slot } => self.conference_left(room, slot),
            Ctrl::Originate {
                cmd,
                blocked,
                dest,
                admission,
            } => self.place_call(cmd, blocked, dest, admission),
            Ctrl::Drain => {
                if self.draining.is_none() {
                    tracing::info!(
                        calls = self.calls.len(),
                        "SIGTERM: draining (new calls get 503)"
                    );
                    self.draining = Some(now);
                    self.ep.set_draining(true);
                    self.heartbeat(0.0);
                }
            }
        }
    }

    /// Calls ringing longer than the answer timeout (the backend never answered) get 480.
    /// When the loop must wake up next: the earliest SIP transaction timer or answer timeout,
    /// at most a second away (and every 100 ms while draining).
    fn next_wakeup(&self) -> Instant {
        let now = Instant::now();
        let mut at = now + Duration::from_secs(1);
        if let Some(t) = self.ep.poll_timeout() {
            at = at.min(t);
        }
        if let Some(std::cmp::Reverse((t, _))) = self.answer_due.peek() {
            at = at.min(*t);
        }
        if self.draining.is_some() {
            at = at.min(now + Duration::from_millis(100));
        }
        at.max(now)
    }

    /// Ends the calls whose answer timeout is due (an inbound call still unanswered: 480; an
    /// outbound one: CANCEL). A call whose DID is still being looked up is looked at again
    /// shortly after.
    fn expire_unanswered(&mut self) {
        let now = Instant::now();
        let mut stale = Vec::new();
        while let Some(std::cmp::Reverse((due, key))) = self.answer_due.peek().copied() {
            if due > now {
                break;
            }
            self.answer_due.pop();
            match self.calls.get(&key) {
                Some(e) if !e.answered && e.tenant.is_none() => self
                    .answer_due
                    .push(std::cmp::Reverse((now + Duration::from_millis(100), key))),
                Some(e) if !e.answered => stale.push(key),
                _ => {}
            }
        }
        for call in stale {
            let Some(e) = self.calls.get_mut(&call) else {
                continue;
            };
            if e.outbound {
                if !e.hangup_requested {
                    tracing::info!(call_id = %e.id, "outbound call not answered in time: CANCEL");
                    e.hangup_requested = true;
                    self.ep.hangup(Instant::now(), call);
                }
                continue;
            }
            tracing::warn!(call_id = %e.id, "not answered in time: 480");
            metrics::CALLS_REJECTED.add(1);
            self.ep.reject(Instant::now(), call, 480, &[]);
            self.end_call(call, HangupCause::Timeout, Some(480));
        }
    }

    fn reject(&mut self, call: CallKey, status: u16) {
        metrics::CALLS_REJECTED.add(1);
        self.ep.reject(Instant::now(), call, status, &[]);
        self.end_call(call, HangupCause::Rejected, Some(status));
    }

    fn on_routed(&mut self, call: CallKey, route: Result<Route, String>) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let id = entry.id;
        let (did, caller, sip_call_id) = (
            entry.did.clone(),
            entry.caller.clone(),
            entry.sip_call_id.clone(),
        );
        match route {
            Err(e) => {
                tracing::error!(call_id = %id, error = %e, "routing failed: 503");
                self.reject(call, 503);
            }
            Ok(Route::UnknownDid) => {
                tracing::info!(call_id = %id, %did, "unknown DID: 404");
                self.reject(call, 404);
            }
            Ok(Route::Blacklisted { tenant_id }) => {
                tracing::info!(call_id = %id, %tenant_id, %caller, "blacklisted caller: 403");
                entry.tenant = Some(tenant_id);
                self.reject(call, 403);
            }
            Ok(Route::Accept {
                tenant_id,
                mode,
                flow,
            }) => {
                entry.tenant = Some(tenant_id);
                entry.mode = mode;
                entry.flow = flow;
                let Some(sockets) = self.ports.bind(self.cfg.media_ip) else {
                    tracing::error!(call_id = %id, "no free RTP port: 503");
                    return self.reject(call, 503);
                };
                entry.sockets = Some(sockets);
                let _ = self.events.send(GatewayEvent::CallStarted {
                    gateway_id: self.cfg.gateway_id.clone(),
                    call_id: id,
                    tenant_id,
                    caller,
                    did,
                    sip_call_id,
                    mode,
                    at: Utc::now(),
                });
                match mode {
                    FlowMode::Builtin => self.answer(call),
                    FlowMode::Backend => self.ep.ring(Instant::now(), call),
                }
            }
        }
    }

    fn answer(&mut self, call: CallKey) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        if entry.answered {
            return;
        }
        let Some(sockets) = entry.sockets.take() else {
            return;
        };
        let (Some(tenant_id), port) = (entry.tenant, sockets.lease.port) else {
            return;
        };
        if !self
            .ep
            .answer(Instant::now(), call, self.cfg.media_ip, port)
        {
            return;
        }
        self.start_media(call, tenant_id, sockets);
    }

    /// Starts an answered call's media (inbound after our 200, outbound after theirs): a task
    /// creates its recording and hands the call to a media worker, then waits for its end.
    fn start_media(&mut self, call: CallKey, tenant_id: Uuid, sockets: MediaSockets) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        entry.answered = true;
        let (tx, rx) = engine::channel();
        entry.media = Some(tx);
        let setup = MediaSetup {
            call_key: call,
            call_id: entry.id,
            tenant_id,
            codec: entry.offer.codec,
            telephone_event: entry.offer.telephone_event,
            remote: entry.offer.remote_rtp,
            send: entry.offer.direction.remote_receives(),
            sockets,
            recordings_dir: self.cfg.recordings_dir.clone(),
            prompts: self.prompts.clone(),
            flow: (entry.mode == FlowMode::Builtin).then(|| entry.flow.clone()),
            events: self.events.clone(),
            hangup: self.hangups.clone(),
        };
        let _ = self.events.send(GatewayEvent::CallAnswered {
            call_id: entry.id,
            tenant_id,
            at: Utc::now(),
        });
        self.media_tasks.spawn(engine::run(setup, rx));
    }

    /// `originate`: checks the tenant's outbound blacklist in Redis, then places the call.
    fn on_originate(&mut self, cmd: GatewayCommand) {
        let GatewayCommand::Originate {
            call_id,
            tenant_id,
            callee,
            ..
        } = &cmd
        else {
            return;
        };
        let (call_id, tenant_id) = (*call_id, *tenant_id);
        let mut con = self.redis.clone();
        let ctrl = self.ctrl.clone();
        if let Some(ext) = callee.strip_prefix("ext:").map(str::to_string) {
            // An agent's registered SIP phone: straight to its contact, no trunk, no blacklist.
            let events = self.events.clone();
            tokio::spawn(async move {
                match store::registered_contact(&mut con, tenant_id, &ext).await {
                    Ok(Some(dest)) => {
                        let _ = ctrl.send(Ctrl::Originate {
                            cmd,
                            blocked: Ok(false),
                            dest: Some(dest),
                            admission: None,
                        });
                    }
                    other => {
                        if let Err(e) = other {
                            tracing::warn!(%call_id, error = %e, "registration lookup failed");
                        }
                        tracing::info!(%call_id, %ext, "extension not registered: 480");
                        let _ = events.send(GatewayEvent::Hangup {
                            call_id,
                            tenant_id,
                            cause: HangupCause::Rejected,
                            status: Some(480),
                            at: Utc::now(),
                        });
                    }
                }
            });
            return;
        }
        let callee = msg::to_e164(callee);
        if self.cfg.trunk.is_none() {
            let _ = self.events.send(GatewayEvent::CommandFailed {
                call_id,
                reason: "no outbound trunk configured (HOTLINE_GW_TRUNK)".into(),
            });
            return;
        }
        let prompts = self.prompts.clone();
        let (lease, defaults) = (
            self.cfg.outbound_lease.as_millis() as u64,
            self.cfg.outbound_defaults,
        );
        tokio::spawn(async move {
            let mut blocked =
                store::is_blacklisted(&mut con, tenant_id, Direction::Outbound, &callee)
                    .await
                    .map_err(|e| e.to_string());
            // The tenant's limits, shared with every other gateway: whoever sent the command,
            // a call over them is not placed.
            let mut admission = None;
            if matches!(blocked, Ok(false)) {
                match store::admit_outbound(&mut con, tenant_id, call_id, lease, defaults).await {
                    Ok(a) => admission = Some(a),
                    Err(e) => blocked = Err(format!("outbound limits: {e}")),
                }
            }
            // The call may play the tenant's own prompts once answered (dialer campaigns).
            if admission == Some(store::OutboundAdmission::Admitted) {
                if let Err(e) = store::refresh_prompts(&mut con, &prompts, tenant_id).await {
                    tracing::warn!(%tenant_id, error = %e, "tenant prompts not refreshed: the cached ones play");
                }
            }
            let _ = ctrl.send(Ctrl::Originate {
                cmd,
                blocked,
                dest: None,
                admission,
            });
        });
    }

    /// The call no longer counts against its tenant's outbound limit.
    fn release_outbound(&self, tenant: Uuid, call: Uuid) {
        let mut con = self.redis.clone();
        tokio::spawn(async move {
            if let Err(e) = store::release_outbound(&mut con, tenant, call).await {
                tracing::warn!(%call, error = %e, "outbound call not released (its lease runs out)");
            }
        });
    }

    /// Renews the leases of the outbound calls this gateway holds.
    fn renew_outbound(&self) {
        let mut by_tenant: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for e in self.calls.values().filter(|e| e.counted) {
            if let Some(t) = e.tenant {
                by_tenant.entry(t).or_default().push(e.id);
            }
        }
        if by_tenant.is_empty() {
            return;
        }
        let mut con = self.redis.clone();
        let lease = self.cfg.outbound_lease.as_millis() as u64;
        tokio::spawn(async move {
            if let Err(e) = store::renew_outbound(&mut con, &by_tenant, lease).await {
                tracing::warn!(error = %e, "outbound call leases not renewed");
            }
        });
    }

    fn place_call(
        &mut self,
        cmd: GatewayCommand,
        blocked: Result<bool, String>,
        dest: Option<SocketAddr>,
        admission: Option<store::OutboundAdmission>,
    ) {
        let GatewayCommand::Originate {
            call_id,
            tenant_id,
            caller,
            callee,
        } = cmd
        else {
            return;
        };
        let caller = msg::to_e164(&caller);
        let callee = match callee.strip_prefix("ext:") {
            Some(ext) => ext.to_string(),
            None => msg::to_e164(&callee),
        };
        let hangup = |status| GatewayEvent::Hangup {
            call_id,
            tenant_id,
            cause: HangupCause::Rejected,
            status: Some(status),
            at: Utc::now(),
        };
        match blocked {
            Ok(false) => {}
            Ok(true) => {
                tracing::info!(%call_id, %callee, "callee on the outbound blacklist: 403");
                let _ = self.events.send(hangup(403));
                return;
            }
            Err(e) => {
                tracing::error!(%call_id, error = %e, "blacklist lookup failed");
                let _ = self.events.send(hangup(503));
                return;
            }
        }
        let refused = match admission {
            Some(store::OutboundAdmission::AtLimit) => Some(HangupCause::OutboundLimit),
            Some(store::OutboundAdmission::RateLimited) => Some(HangupCause::OutboundRateLimit),
            _ => None,
        };
        if let Some(cause) = refused {
            tracing::info!(%call_id, %tenant_id, ?cause, "tenant's outbound limit reached: not placed");
            metrics::CALLS_REJECTED.add(1);
            let _ = self.events.send(GatewayEvent::Hangup {
                call_id,
                tenant_id,
                cause,
                status: Some(503),
                at: Utc::now(),
            });
            return;
        }
        let counted = admission == Some(store::OutboundAdmission::Admitted);
        let Some(trunk) = dest.or(self.cfg.trunk) else {
            return;
        };
        // Trunk credentials are for the trunk only, never sent to a phone.
        let auth = if dest.is_some() {
            None
        } else {
            self.cfg.trunk_auth.clone()
        };
        if self.by_id.contains_key(&call_id) {
            let _ = self.events.send(GatewayEvent::CommandFailed {
                call_id,
                reason: "call id already in use".into(),
            });
            return;
        }
        let Some(sockets) = self.ports.bind(self.cfg.media_ip) else {
            if counted {
                self.release_outbound(tenant_id, call_id);
            }
            let _ = self.events.send(hangup(503));
            return;
        };
        let origin = Originate {
            caller: caller.clone(),
            callee: callee.clone(),
            trunk,
            media: (self.cfg.media_ip, sockets.lease.port),
            auth,
        };
        let call = self.ep.originate(Instant::now(), origin);
        tracing::info!(%call_id, %caller, %callee, %trunk, "outbound call");
        metrics::CALLS_TOTAL.add(1);
        metrics::CALLS_ACTIVE.add(1);
        self.by_id.insert(call_id, call);
        let placeholder = crate::sdp::AcceptedOffer {
            remote_rtp: trunk,
            codec: crate::media::g711::G711::Pcmu,
            telephone_event: None,
            direction: crate::sdp::Direction::SendRecv,
            m_index: 0,
            m_lines: Vec::new(),
        };
        self.calls.insert(
            call,
            CallEntry {
                id: call_id,
                did: callee,
                caller,
                sip_call_id: String::new(),
                tenant: Some(tenant_id),
                offer: placeholder,
                sockets: Some(sockets),
                media: None,
                mode: FlowMode::Backend,
                flow: FlowConfig::default(),
                answered: false,
                outbound: true,
                hangup_requested: false,
                counted,
            },
        );
        self.answer_due.push(std::cmp::Reverse((
            Instant::now() + self.cfg.answer_timeout,
            call,
        )));
    }

    fn on_command(&mut self, cmd: GatewayCommand) {
        let call_id = cmd.call_id();
        if matches!(cmd, GatewayCommand::Originate { .. }) && !self.by_id.contains_key(&call_id) {
            return self.on_originate(cmd);
        }
        // Commands a WebRTC leg takes (its id is not a call's).
        match &cmd {
            GatewayCommand::Conference { room, .. } => return self.conference(call_id, room),
            GatewayCommand::Unbridge { .. } => {
                if let Some(leg) = self.legs.get(&call_id) {
                    let _ = leg.tx.send(LegCtl::Unbridge);
                    return;
                }
            }
            _ => {}
        }
        let Some(&call) = self.by_id.get(&call_id) else {
            let _ = self.events.send(GatewayEvent::CommandFailed {
                call_id,
                reason: "no such call on this gateway".into(),
            });
            return;
        };
        let ivr = match cmd {
            GatewayCommand::Answer { .. } => return self.answer(call),
            GatewayCommand::Originate { .. } => {
                let _ = self.events.send(GatewayEvent::CommandFailed {
                    call_id,
                    reason: "call id already in use".into(),
                });
                return;
            }
            GatewayCommand::Hangup { status, .. } => {
                let (answered, outbound) = match self.calls.get_mut(&call) {
                    Some(e) => {
                        e.hangup_requested = true;
                        (e.answered, e.outbound)
                    }
                    None => (false, false),
                };
                if answered || outbound {
                    self.ep.hangup(Instant::now(), call);
                } else {
                    self.reject(
                        call,
                        status.filter(|s| (400..700).contains(s)).unwrap_or(480),
                    );
                }
                return;
            }
            GatewayCommand::Bridge { target, .. } => return self.bridge(call_id, call, &target),
            GatewayCommand::Conference { room, .. } => return self.conference(call_id, &room),
            GatewayCommand::DetectMachine { timeout_ms, .. } => {
                IvrCommand::DetectMachine { timeout_ms }
            }
            GatewayCommand::SendDtmf { digits, .. } => {
                return self.to_media(call_id, call, MediaCtl::SendDtmf(digits))
            }
            GatewayCommand::Unbridge { .. } => {
                return self.to_media(call_id, call, MediaCtl::Unbridge)
            }
            GatewayCommand::Play {
                prompt,
                interruptible,
                ..
            } => IvrCommand::Play {
                prompt,
                interruptible,
            },
            GatewayCommand::CollectDigits {
                prompt,
                min,
                max,
                timeout_ms,
                terminator,
                ..
            } => IvrCommand::Collect {
                prompt,
                min,
                max,
                timeout_ms,
                terminator,
            },
            GatewayCommand::SayDigits { digits, .. } => IvrCommand::SayDigits(digits),
            GatewayCommand::RecordVoicemail { max_ms, .. } => {
                IvrCommand::RecordVoicemail { max_ms }
            }
            GatewayCommand::MusicOnHold { prompt, .. } => IvrCommand::MusicOnHold(prompt),
            GatewayCommand::Announce { prompts, .. } => IvrCommand::Announce(prompts),
            GatewayCommand::StopMedia { .. } => IvrCommand::Stop,
        };
        self.to_media(call_id, call, MediaCtl::Ivr(ivr))
    }

    fn to_media(&self, call_id: Uuid, call: CallKey, ctl: MediaCtl) {
        match self.calls.get(&call).and_then(|e| e.media.as_ref()) {
            Some(tx) => {
                let _ = tx.send(ctl);
            }
            None => self.command_failed(call_id, "call not answered"),
        }
    }

    fn command_failed(&self, call_id: Uuid, reason: &str) {
        let _ = self.events.send(GatewayEvent::CommandFailed {
            call_id,
            reason: reason.into(),
        });
    }

    /// WebRTC signalling: a new softphone leg from a browser's offer, or closing one.
    fn on_webrtc(&mut self, c: crate::webrtc::HttpCtl) {
        use crate::webrtc::HttpCtl;
        match c {
            HttpCtl::Offer(req, reply) => {
                if self.draining.is_some() {
                    let _ = reply.send(Err((503, "the gateway is draining".into())));
                    return;
                }
                if self.legs.contains_key(&req.leg_id) {
                    let _ = reply.send(Err((409, "a leg with this id exists".into())));
                    return;
                }
                let Some(sockets) = self.ports.bind(self.cfg.media_ip) else {
                    let _ = reply.send(Err((503, "no free media port".into())));
                    return;
                };
                let local = SocketAddr::new(self.cfg.media_ip, sockets.lease.port);
                let (rtc, sdp) = match crate::webrtc::answer(&req.sdp, local) {
                    Ok(a) => a,
                    Err(refusal) => {
                        let _ = reply.send(Err(refusal));
                        return;
                    }
                };
                let (tx, rx) = mpsc::unbounded_channel();
                self.legs.insert(
                    req.leg_id,
                    Leg {
                        tx,
                        tenant: req.tenant_id,
                    },
                );
                tracing::info!(leg = %req.leg_id, user = %req.user_id, %local, "webrtc leg created");
                let MediaSockets { rtp, rtcp, lease } = sockets;
                // The leg's own task waits on its socket (str0m's timers drive it too).
                let rtp = match tokio::net::UdpSocket::from_std(rtp) {
                    Ok(s) => s,
                    Err(e) => {
                        self.legs.remove(&req.leg_id);
                        let _ = reply.send(Err((503, format!("media socket: {e}"))));
                        return;
                    }
                };
                self.media_tasks.spawn(crate::webrtc::run_leg(
                    rtc,
                    rtp,
                    req,
                    rx,
                    self.events.clone(),
                    self.legs_done.clone(),
                    (lease, rtcp),
                ));
                let _ = reply.send(Ok(sdp));
            }
            HttpCtl::Close(leg, reply) => {
                let found = match self.legs.remove(&leg) {
                    Some(leg) => {
                        let _ = leg.tx.send(LegCtl::Close);
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
        }
    }

    /// Connects a call's audio to an agent's WebRTC leg.
    fn bridge_webrtc(&self, call_id: Uuid, call: CallKey, leg: &str) {
        let Ok(leg_id) = leg.trim().parse::<Uuid>() else {
            return self.command_failed(call_id, "webrtc bridge target must be webrtc:<leg id>");
        };
        let Some(leg) = self.legs.get(&leg_id) else {
            return self.command_failed(call_id, "no such WebRTC leg on this gateway");
        };
        let Some(a) = self.calls.get(&call).and_then(|e| e.media.clone()) else {
            return self.command_failed(call_id, "the call must be answered before bridging");
        };
        let (a_tx, b_rx) = mpsc::channel(8);
        let (b_tx, a_rx) = mpsc::channel(8);
        let _ = a.send(MediaCtl::Bridge {
            peer: leg_id,
            tx: a_tx,
            rx: a_rx,
        });
        let _ = leg.tx.send(LegCtl::Bridge {
            peer: call_id,
            tx: b_tx,
            rx: b_rx,
        });
    }

    /// Connects the audio of two answered calls of this gateway.
    fn bridge(&self, call_id: Uuid, call: CallKey, target: &str) {
        if let Some(leg) = target.trim().strip_prefix("webrtc:") {
            return self.bridge_webrtc(call_id, call, leg);
        }
        let Ok(peer_id) = target.trim().parse::<Uuid>() else {
            return self.command_failed(call_id, "bridge target must be a call id");
        };
        if peer_id == call_id {
            return self.command_failed(call_id, "cannot bridge a call to itself");
        }
        let Some(peer) = self.by_id.get(&peer_id).copied() else {
            return self.command_failed(call_id, "bridge target is not a call on this gateway");
        };
        let media = |k: CallKey| self.calls.get(&k).and_then(|e| e.media.clone());
        let (Some(a), Some(b)) = (media(call), media(peer)) else {
            return self.command_failed(call_id, "both calls must be answered before bridging");
        };
        // 160 ms of audio may queue each way; older frames are dropped by the receiver.
        let (a_tx, b_rx) = mpsc::channel(8);
        let (b_tx, a_rx) = mpsc::channel(8);
        let _ = a.send(MediaCtl::Bridge {
            peer: peer_id,
            tx: a_tx,
            rx: a_rx,
        });
        let _ = b.send(MediaCtl::Bridge {
            peer: call_id,
            tx: b_tx,
            rx: b_rx,
        });
    }

    /// Joins an answered call or a WebRTC leg to a conference room of this gateway, creating
    /// the room (and its mixer task) for its first member. The member's media answers
    /// with `Bridged` (`peer` = the room id) when it gets the room's channels.
    fn conference(&mut self, member: Uuid, name: &str) {
        enum Target {
            Call(engine::MediaTx),
            Leg(mpsc::UnboundedSender<LegCtl>),
        }
        if name.trim().is_empty() || name.len() > 256 {
            return self.command_failed(member, "conference room name must be 1 to 256 bytes");
        }
        let (target, tenant) = if let Some(leg) = self.legs.get(&member) {
            (Target::Leg(leg.tx.clone()), leg.tenant)
        } else {
            let Some(entry) = self.by_id.get(&member).and_then(|k| self.calls.get(k)) else {
                return self.command_failed(member, "no such call or WebRTC leg on this gateway");
            };
            match (entry.media.clone(), entry.tenant) {
                (Some(media), Some(tenant)) => (Target::Call(media), tenant),
                _ => {
                    return self.command_failed(
                        member,
                        "the call must be answered before joining a conference",
                    )
                }
            }
        };
        let room_id = wire::conference_room_id(name);
        if let Some(room) = self.rooms.get(&room_id) {
            if room.tenant != tenant {
                return self
                    .command_failed(member, "the conference room belongs to another tenant");
            }
            let mut others: Vec<Uuid> = room
                .members
                .values()
                .copied()
                .filter(|m| *m != member)
                .collect();
            others.sort();
            others.dedup();
            if others.len() >= conference::MAX_MEMBERS {
                let reason = format!(
                    "the conference room is full ({} members)",
                    conference::MAX_MEMBERS
                );
                return self.command_failed(member, &reason);
            }
        }
        let room = self.rooms.entry(room_id).or_insert_with(|| {
            let (ctl, rx) = mpsc::unbounded_channel();
            // Not in `media_tasks`: the mixer ends with its members, after the drain waits.
            tokio::spawn(conference::run_room(room_id, rx, self.rooms_left.clone()));
            tracing::info!(room = %room_id, name, %tenant, "conference room created");
            Room {
                name: name.to_string(),
                tenant,
                ctl,
                members: HashMap::new(),
            }
        });
        let slot = self.next_slot;
        self.next_slot += 1;
        // 160 ms of audio may queue each way, like a two-party bridge.
        let (to_member, member_rx) = mpsc::channel(8);
        let (member_tx, from_member) = mpsc::channel(8);
        let join = RoomCtl::Join {
            slot,
            tx: to_member,
            rx: from_member,
        };
        if room.ctl.send(join).is_err() {
            return self.command_failed(member, "the conference room has closed");
        }
        room.members.insert(slot, member);
        tracing::info!(room = %room_id, name = %room.name, %member, slot, members = room.members.len(), "conference join");
        match target {
            Target::Call(media) => {
                let _ = media.send(MediaCtl::Bridge {
                    peer: room_id,
                    tx: member_tx,
                    rx: member_rx,
                });
            }
            Target::Leg(leg) => {
                let _ = leg.send(LegCtl::Bridge {
                    peer: room_id,
                    tx: member_tx,
                    rx: member_rx,
                });
            }
        }
    }

    /// A member's channels closed (it ended, unbridged or was bridged elsewhere); the last one
    /// out ends the room.
    fn conference_left(&mut self, room_id: Uuid, slot: Slot) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        if let Some(member) = room.members.remove(&slot) {
            tracing::info!(room = %room_id, name = %room.name, %member, slot, members = room.members.len(), "conference leave");
        }
        if room.members.is_empty() {
            tracing::info!(room = %room_id, name = %room.name, "conference room ended");
            self.rooms.remove(&room_id);
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn register(
    con: &mut ConnectionManager,
    secret: &str,
    gateway_id: &str,
    events: &mpsc::UnboundedSender<GatewayEvent>,
    user: &str,
    domain: &str,
    request_uri: &str,
    contact: Option<String>,
    expires: u32,
    authorization: Option<String>,
) -> Result<(u16, Vec<(&'static str, String)>)> {
    let slug = domain.split('.').next().unwrap_or_default().to_string();
    let Some(tenant) = store::tenant_by_slug(con, &slug).await? else {
        return Ok((404, Vec::new()));
    };
    let challenge = || {
        let nonce = digest::make_nonce(secret, Utc::now().timestamp());
        (
            401,
            vec![("WWW-Authenticate", digest::challenge(&slug, &nonce))],
        )
    };
    let Some(creds) = authorization
        .as_deref()
        .and_then(digest::parse_authorization)
    else {
        return Ok(challenge());
    };
    let fresh = digest::nonce_fresh(secret, &creds.nonce, Utc::now().timestamp());
    if !fresh || creds.realm != slug {
        return Ok(challenge());
    }
    let _ = request_uri;
    let ha1 = store::extension_ha1(con, tenant, &creds.username).await?;
    let ok = creds.username == user && ha1.is_some_and(|h| digest::verify(&creds, "REGISTER", &h));
    if !ok {
        tracing::info!(%tenant, ext = user, "REGISTER with wrong credentials: 403");
        return Ok((403, Vec::new()));
    }
    let expires = expires.min(3600);
    let contact_uri = contact.as_deref().map(msg::uri_of).unwrap_or_default();
    store::save_registration(con, tenant, user, &contact_uri, gateway_id, expires).await?;
    let _ = events.send(GatewayEvent::Registered {
        tenant_id: tenant,
        ext: user.to_string(),
        contact: contact_uri.clone(),
        expires,
    });
    let mut extra = vec![("Expires", expires.to_string())];
    if let Some(c) = contact {
        extra.push(("Contact", format!("<{contact_uri}>;expires={expires}")));
        let _ = c;
    }
    Ok((200, extra))
}

async fn publish_events(
    mut con: ConnectionManager,
    stream: String,
    mut rx: mpsc::UnboundedReceiver<GatewayEvent>,
) {
    let mut batch = Vec::new();
    while let Some(ev) = rx.recv().await {
        batch.push(ev);
        while batch.len() < 256 {
            match rx.try_recv() {
                Ok(ev) => batch.push(ev),
                Err(_) => break,
            }
        }
        for attempt in 0..5 {
            match store::publish(&mut con, &stream, &batch).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "publishing events failed");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
        batch.clear();
    }
}

async fn read_commands(
    mut con: ConnectionManager,
    gateway_id: String,
    ctrl: mpsc::UnboundedSender<Ctrl>,
) {
    let stream = wire::command_stream(&gateway_id);
    // Commands are for calls this process holds: start after the newest existing entry. An
    // explicit id (never `$`) so nothing added between two XREADs is missed.
    let mut last = loop {
        match store::last_stream_id(&mut con, &stream).await {
            Ok(id) => break id,
            Err(e) => {
                tracing::warn!(error = %e, "reading command stream position failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    loop {
        match store::read_commands(&mut con, &stream, &last, 300).await {
            Ok((cmds, new_last)) => {
                last = new_last;
                for c in cmds {
                    if ctrl.send(Ctrl::Command(c)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::debug!(error = %e, "command read failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

async fn accept_tcp(listener: TcpListener, ctrl: mpsc::UnboundedSender<Ctrl>) {
    loop {
        let Ok((stream, addr)) = listener.accept().await else {
            continue;
        };
        let ctrl = ctrl.clone();
        tokio::spawn(serve_tcp(stream, addr, ctrl));
    }
}

async fn serve_tcp(stream: TcpStream, addr: SocketAddr, ctrl: mpsc::UnboundedSender<Ctrl>) {
    let (mut rd, mut wr) = stream.into_split();
    let (wtx, mut wrx) = mpsc::unbounded_channel::<Bytes>();
    let _ = ctrl.send(Ctrl::TcpOpen { addr, writer: wtx });
    let writer = tokio::spawn(async move {
        while let Some(b) = wrx.recv().await {
            if wr.write_all(&b).await.is_err() {
                break;
            }
        }
    });
    let mut buf = BytesMut::with_capacity(8192);
    let peer = Peer {
        addr,
        transport: Transport::Tcp,
    };
    'conn: loop {
        match rd.read_buf(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => loop {
                match next_frame(&mut buf) {
                    Frame::Message(data) => {
                        let _ = ctrl.send(Ctrl::Inbound { peer, data });
                    }
                    Frame::Incomplete => break,
                    Frame::Invalid => {
                        metrics::SIP_DROPPED.add(1);
                        break 'conn;
                    }
                }
            },
        }
    }
    writer.abort();
    let _ = ctrl.send(Ctrl::TcpClosed { addr });
}

/// Result of framing a TCP byte stream.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame {
    /// One complete message.
    Message(Bytes),
    /// More bytes needed.
    Incomplete,
    /// Oversized or malformed: close the connection.
    Invalid,
}

/// Extracts the next SIP message from a stream buffer using Content-Length (RFC 3261 §18.3).
pub fn next_frame(buf: &mut BytesMut) -> Frame {
    // Leading CRLFs are keep-alives.
    let skip = buf
        .iter()
        .take_while(|b| **b == b'\r' || **b == b'\n')
        .count();
    let _ = buf.split_to(skip);
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > msg::MAX_MESSAGE {
            Frame::Invalid
        } else {
            Frame::Incomplete
        };
    };
    let head = String::from_utf8_lossy(&buf[..end]);
    let mut len = 0usize;
    for line in head.split("\r\n").skip(1) {
        if let Some((n, v)) = line.split_once(':') {
            let n = n.trim();
            if n.eq_ignore_ascii_case("content-length") || n.eq_ignore_ascii_case("l") {
                match v.trim().parse::<usize>() {
                    Ok(l) => len = l,
                    Err(_) => return Frame::Invalid,
                }
            }
        }
    }
    let total = end + 4 + len;
    if total > msg::MAX_MESSAGE {
        return Frame::Invalid;
    }
    if buf.len() < total {
        return Frame::Incomplete;
    }
    Frame::Message(buf.split_to(total).freeze())
}

async fn serve_metrics(listener: TcpListener) {
    loop {
        let Ok((mut s, _)) = listener.accept().await else {
            continue;
        };
        tokio::spawn(async move {
            let mut req = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(2), s.read(&mut req)).await;
            let body = metrics::render();
            let resp = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        });
    }
}

/// Process CPU use from `/proc/self/stat`.
#[derive(Default)]
struct CpuMeter {
    last: Option<(Instant, u64)>,
}

impl CpuMeter {
    fn percent(&mut self) -> f64 {
        let ticks = std::fs::read_to_string("/proc/self/stat")
            .ok()
            .and_then(|s| {
                let after = s.rsplit_once(')')?.1;
                let f: Vec<&str> = after.split_whitespace().collect();
                Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
            });
        let Some(ticks) = ticks else { return 0.0 };
        let now = Instant::now();
        let pct = match self.last {
            Some((t, prev)) => {
                let secs = now.duration_since(t).as_secs_f64().max(1e-3);
                (ticks.saturating_sub(prev)) as f64 / 100.0 / secs * 100.0
            }
            None => 0.0,
        };
        self.last = Some((now, ticks));
        pct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_tcp_stream() {
        let mut b = BytesMut::from(&b"\r\n\r\nOPTIONS sip:a SIP/2.0\r\nContent-Length: 3\r\n\r\nabcINFO x SIP/2.0\r\nl: 0\r\n\r\nBYE"[..]);
        match next_frame(&mut b) {
            Frame::Message(m) => assert!(m.ends_with(b"abc")),
            other => panic!("{other:?}"),
        }
        match next_frame(&mut b) {
            Frame::Message(m) => assert!(m.starts_with(b"INFO")),
            other => panic!("{other:?}"),
        }
        assert_eq!(next_frame(&mut b), Frame::Incomplete);
        let mut big = BytesMut::from(&b"X\r\nContent-Length: 99999999\r\n\r\n"[..]);
        assert_eq!(next_frame(&mut big), Frame::Invalid);
    }
}
