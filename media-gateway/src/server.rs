//! The I/O edge: UDP and TCP SIP sockets, Redis tasks (routing, registrations, originate
//! checks, events, commands, heartbeat), RTP port binding, the calls' media tasks, WebRTC legs'
//! tasks, conference mixers, metrics HTTP and the drain's exit. It feeds the sans-IO call
//! layer ([`Calls`], which owns the SIP endpoint) and performs what it asks; every decision
//! about a call is made there.

use crate::calls::{Calls, MediaStart, OriginateCheck, Output, Party};
use crate::config::Config;
use crate::ivr::Prompts;
use crate::media::conference::{self, RoomCtl, Slot};
use crate::media::engine::{self, MediaCtl, MediaSetup, MediaSockets, PortPool};
use crate::metrics;
use crate::sip::digest;
use crate::sip::endpoint::{CallKey, Peer, Registration, Transport, TxHandle};
use crate::sip::msg;
use crate::store;
use crate::trunks::Trunk;
use crate::webrtc::LegCtl;
use anyhow::{Context, Result};
use bytes::{Bytes, BytesMut};
use chrono::Utc;
use hotline_wire::gateway::{self as wire, Direction, GatewayCommand, GatewayEvent};
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
        route: Result<store::Route, String>,
    },
    Registered {
        tx: TxHandle,
        status: u16,
        extra: Vec<(&'static str, String)>,
    },
    /// A desk phone's INVITE checked against its extension.
    ExtensionChecked {
        call: CallKey,
        res: crate::calls::ExtensionCheck,
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
    /// An `originate`'s Redis checks are done.
    Originate {
        cmd: GatewayCommand,
        check: OriginateCheck,
    },
    /// The tenant trunks changed (`platform:trunks`, names resolved).
    Trunks(Vec<Trunk>),
    Drain,
}

struct Core {
    cfg: Arc<Config>,
    calls: Calls,
    udp: Arc<UdpSocket>,
    tcp: HashMap<SocketAddr, mpsc::UnboundedSender<Bytes>>,
    redis: ConnectionManager,
    prompts: Arc<Prompts>,
    ports: Arc<PortPool>,
    events: mpsc::UnboundedSender<GatewayEvent>,
    ctrl: mpsc::UnboundedSender<Ctrl>,
    hangups: mpsc::UnboundedSender<CallKey>,
    nonce_secret: String,
    /// RTP port pairs bound for calls whose media has not started yet.
    sockets: HashMap<Uuid, MediaSockets>,
    /// Control channels of the calls whose media runs (ticked by a media worker).
    media: HashMap<Uuid, engine::MediaTx>,
    /// The tasks the drain waits for: per answered call, [`engine::run`] (creates its
    /// recording, hands the call to a media worker, reports the recording when the call
    /// ends); and the WebRTC legs' tasks.
    call_tasks: tokio::task::JoinSet<()>,
    publisher: Option<tokio::task::JoinHandle<()>>,
    /// Agents' browser softphone legs.
    legs: HashMap<Uuid, mpsc::UnboundedSender<LegCtl>>,
    /// Told when a leg's task ends.
    legs_done: mpsc::UnboundedSender<Uuid>,
    /// Conference rooms' mixers; a room's mixer stops when its sender here is dropped.
    rooms: HashMap<Uuid, mpsc::UnboundedSender<RoomCtl>>,
    /// Told by a room's mixer when a member left.
    rooms_left: mpsc::UnboundedSender<(Uuid, Slot)>,
}

/// Runs the gateway until SIGTERM/SIGINT and the drain complete.
pub async fn run(cfg: Config) -> Result<()> {
    let cfg = Arc::new(cfg);
    // Separate connections so a burst of events never delays call routing.
    let redis = connect_retrying(&cfg.redis_url).await;
    let events_redis = connect_retrying(&cfg.redis_url).await;
    let commands_redis = connect_retrying(&cfg.redis_url).await;
    let trunks_redis = connect_retrying(&cfg.redis_url).await;
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
    tokio::spawn(watch_trunks(
        trunks_redis,
        cfg.trunks_refresh,
        ctrl_tx.clone(),
    ));
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
    let nonce_secret = msg::random_token(24);
    let core = Core {
        calls: Calls::new(cfg.clone(), nonce_secret.clone()),
        udp,
        tcp: HashMap::new(),
        redis,
        prompts: Arc::new(Prompts::new(cfg.prompts_dir.clone())),
        ports,
        events: ev_tx,
        ctrl: ctrl_tx,
        hangups: hang_tx,
        nonce_secret,
        sockets: HashMap::new(),
        media: HashMap::new(),
        call_tasks: tokio::task::JoinSet::new(),
        publisher: Some(publisher),
        legs: HashMap::new(),
        legs_done,
        rooms: HashMap::new(),
        rooms_left,
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
                        self.calls.handle_sip(Instant::now(), Peer { addr, transport: Transport::Udp }, &buf[..n]);
                    }
                    Ok(_) => metrics::SIP_DROPPED.add(1),
                    Err(e) => tracing::debug!(error = %e, "udp recv"),
                },
                Some(c) = ctrl.recv() => self.on_ctrl(c),
                Some(call) = hangups.recv() => self.calls.media_hangup(Instant::now(), call),
                // Sleep until the call layer's next timer (a SIP transaction's, an answer
                // timeout, a drain check), at most a second, never on a fixed tick.
                _ = tokio::time::sleep_until(self.next_wakeup().into()) => {
                    while self.call_tasks.try_join_next().is_some() {}
                    self.calls.handle_timeout(Instant::now());
                },
                _ = beat.tick() => {
                    self.heartbeat(cpu.percent());
                    self.renew_outbound();
                }
            }
            if self.perform().await {
                return self.shutdown().await;
            }
        }
    }

    fn next_wakeup(&mut self) -> Instant {
        let now = Instant::now();
        let at = now + Duration::from_secs(1);
        let at = self.calls.poll_timeout().map_or(at, |t| t.min(at));
        at.max(now)
    }

    /// Waits for every call's media to end (recordings finalised) and for every event to
    /// reach Redis.
    async fn shutdown(mut self) -> Result<()> {
        while self.call_tasks.join_next().await.is_some() {}
        let publisher = self.publisher.take();
        drop(self);
        if let Some(p) = publisher {
            let _ = tokio::time::timeout(Duration::from_secs(5), p).await;
        }
        Ok(())
    }

    /// Performs the call layer's outputs; `true` once it says the drain is complete.
    async fn perform(&mut self) -> bool {
        let mut drained = false;
        while let Some(out) = self.calls.poll_output() {
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
                Output::Publish(ev) => {
                    let _ = self.events.send(ev);
                }
                Output::Route {
                    call,
                    did,
                    caller,
                    mode,
                    flow,
                    trunk_tenant,
                } => {
                    let mut con = self.redis.clone();
                    let ctrl = self.ctrl.clone();
                    let prompts = self.prompts.clone();
                    tokio::spawn(async move {
                        let route =
                            store::route(&mut con, &did, &caller, mode, &flow, trunk_tenant)
                                .await
                                .map_err(|e| e.to_string());
                        if let Ok(store::Route::Accept { tenant_id, .. }) = &route {
                            if let Err(e) =
                                store::refresh_prompts(&mut con, &prompts, *tenant_id).await
                            {
                                tracing::warn!(%tenant_id, error = %e, "tenant prompts not refreshed: the cached ones play");
                            }
                        }
                        let _ = ctrl.send(Ctrl::Routed { call, route });
                    });
                }
                Output::Register(r) => {
                    let mut con = self.redis.clone();
                    let ctrl = self.ctrl.clone();
                    let secret = self.nonce_secret.clone();
                    let gw = self.cfg.gateway_id.clone();
                    let events = self.events.clone();
                    tokio::spawn(async move {
                        let tx = r.tx.clone();
                        let (status, extra) = register(&mut con, &secret, &gw, &events, r)
                            .await
                            .unwrap_or_else(|e| {
                                tracing::warn!(error = %e, "register failed");
                                (500, Vec::new())
                            });
                        let _ = ctrl.send(Ctrl::Registered { tx, status, extra });
                    });
                }
                Output::AuthenticateExtension {
                    call,
                    domain,
                    proxy_authorization,
                    ..
                } => {
                    let mut con = self.redis.clone();
                    let ctrl = self.ctrl.clone();
                    let secret = self.nonce_secret.clone();
                    tokio::spawn(async move {
                        let res = authenticate_extension(
                            &mut con,
                            &secret,
                            &domain,
                            proxy_authorization.as_deref(),
                            "INVITE",
                        )
                        .await
                        .unwrap_or_else(|e| {
                            tracing::warn!(error = %e, "desk phone INVITE check failed");
                            Err((503, Vec::new()))
                        });
                        let _ = ctrl.send(Ctrl::ExtensionChecked { call, res });
                    });
                }
                Output::LookupExtension { cmd, ext } => self.lookup_extension(cmd, ext),
                Output::CheckOutbound { cmd, callee } => self.check_outbound(cmd, callee),
                Output::BindMedia { call_id } => {
                    let port = self.ports.bind(self.cfg.media_ip).map(|s| {
                        let port = s.lease.port;
                        self.sockets.insert(call_id, s);
                        port
                    });
                    self.calls.media_bound(Instant::now(), call_id, port);
                }
                Output::StartMedia(start) => self.start_media(start),
                Output::Media { call_id, ctl } => {
                    if let Some(tx) = self.media.get(&call_id) {
                        let _ = tx.send(ctl);
                    }
                }
                Output::UnbridgeLeg(leg) => {
                    if let Some(tx) = self.legs.get(&leg) {
                        let _ = tx.send(LegCtl::Unbridge);
                    }
                }
                Output::Connect(a, b) => self.connect(a, b),
                Output::OpenRoom(room) => {
                    let (ctl, rx) = mpsc::unbounded_channel();
                    // Not in `call_tasks`: the mixer ends with its members, after the drain waits.
                    tokio::spawn(conference::run_room(room, rx, self.rooms_left.clone()));
                    self.rooms.insert(room, ctl);
                }
                Output::CloseRoom(room) => {
                    self.rooms.remove(&room);
                }
                Output::EndMedia { call_id } => {
                    self.sockets.remove(&call_id);
                    if let Some(tx) = self.media.remove(&call_id) {
                        let _ = tx.send(MediaCtl::Stop);
                    }
                }
                Output::ReleaseOutbound { tenant_id, call_id } => {
                    let mut con = self.redis.clone();
                    tokio::spawn(async move {
                        if let Err(e) = store::release_outbound(&mut con, tenant_id, call_id).await
                        {
                            tracing::warn!(call = %call_id, error = %e, "outbound call not released (its lease runs out)");
                        }
                    });
                }
                Output::TrunkStatus { trunk, status } => {
                    let mut con = self.redis.clone();
                    tokio::spawn(async move {
                        if let Err(e) =
                            store::save_trunk_status(&mut con, trunk, status.as_ref()).await
                        {
                            tracing::warn!(%trunk, error = %e, "trunk status not saved");
                        }
                    });
                }
                Output::Heartbeat => self.heartbeat(0.0),
                Output::Drained => drained = true,
            }
        }
        drained
    }

    fn heartbeat(&self, cpu_percent: f64) {
        let hb = wire::GatewayHeartbeat {
            gateway_id: self.cfg.gateway_id.clone(),
            sip_addr: self.cfg.advertised_addr.to_string(),
            calls: self.calls.len() as u64,
            ports_used: metrics::PORTS_USED.get(),
            cpu_percent,
            draining: self.calls.draining(),
            at: Utc::now(),
            http: self
                .cfg
                .http_addr
                .map(|a| a.to_string())
                .unwrap_or_default(),
            events_stream: self.cfg.events_stream.clone(),
            trunk: self.calls.has_outbound_trunk(),
        };
        let mut con = self.redis.clone();
        let ttl = (self.cfg.heartbeat.as_secs() as i64 * 3).max(3);
        tokio::spawn(async move {
            if let Err(e) = store::heartbeat(&mut con, &hb, ttl).await {
                tracing::warn!(error = %e, "heartbeat failed");
            }
        });
    }

    fn on_ctrl(&mut self, c: Ctrl) {
        let now = Instant::now();
        match c {
            Ctrl::Inbound { peer, data } => self.calls.handle_sip(now, peer, &data),
            Ctrl::TcpOpen { addr, writer } => {
                self.tcp.insert(addr, writer);
            }
            Ctrl::TcpClosed { addr } => {
                self.tcp.remove(&addr);
            }
            Ctrl::Registered { tx, status, extra } => {
                self.calls.registered(now, &tx, status, &extra)
            }
            Ctrl::Routed { call, route } => self.calls.routed(now, call, route),
            Ctrl::ExtensionChecked { call, res } => self.calls.extension_checked(now, call, res),
            Ctrl::Command(cmd) => self.calls.command(now, cmd),
            Ctrl::Webrtc(c) => self.on_webrtc(c),
            Ctrl::WebrtcEnded(leg) => {
                self.legs.remove(&leg);
                self.calls.leg_closed(leg);
            }
            Ctrl::ConferenceLeft { room, slot } => self.calls.conference_left(room, slot),
            Ctrl::Originate { cmd, check } => self.calls.originate_checked(now, cmd, check),
            Ctrl::Trunks(trunks) => self.calls.set_trunks(now, trunks),
            Ctrl::Drain => self.calls.drain(now),
        }
    }

    /// Starts an answered call's media on the ports bound for it: a task creates its
    /// recording and hands the call to a media worker, then waits for its end.
    fn start_media(&mut self, start: MediaStart) {
        let Some(sockets) = self.sockets.remove(&start.call_id) else {
            return;
        };
        let (tx, rx) = engine::channel();
        self.media.insert(start.call_id, tx);
        let setup = MediaSetup {
            call_key: start.call,
            call_id: start.call_id,
            tenant_id: start.tenant_id,
            codec: start.offer.codec,
            telephone_event: start.offer.telephone_event,
            remote: start.offer.remote_rtp,
            send: start.offer.direction.remote_receives(),
            sockets,
            recordings_dir: self.cfg.recordings_dir.clone(),
            prompts: self.prompts.clone(),
            flow: start.flow,
            events: self.events.clone(),
            hangup: self.hangups.clone(),
        };
        self.call_tasks.spawn(engine::run(setup, rx));
    }

    /// Connects two parties' audio with a pair of frame channels (160 ms of audio may queue
    /// each way; older frames are dropped by the receiver). A room that has closed refuses
    /// the join, and its member is told nothing.
    fn connect(&mut self, a: Party, b: Party) {
        let (a_tx, b_rx) = mpsc::channel(8);
        let (b_tx, a_rx) = mpsc::channel(8);
        if !self.deliver(a, b.id(), a_tx, a_rx) {
            if let Party::Room { room, slot } = a {
                let _ = self.events.send(GatewayEvent::CommandFailed {
                    call_id: b.id(),
                    reason: "the conference room has closed".into(),
                });
                self.calls.conference_left(room, slot);
            }
            return;
        }
        self.deliver(b, a.id(), b_tx, b_rx);
    }

    /// Hands one end of a connection to its party; `false` when a room's mixer is gone.
    fn deliver(
        &self,
        party: Party,
        peer: Uuid,
        tx: mpsc::Sender<Vec<i16>>,
        rx: mpsc::Receiver<Vec<i16>>,
    ) -> bool {
        match party {
            Party::Call(id) => {
                if let Some(m) = self.media.get(&id) {
                    let _ = m.send(MediaCtl::Bridge { peer, tx, rx });
                }
                true
            }
            Party::Leg(id) => {
                if let Some(leg) = self.legs.get(&id) {
                    let _ = leg.send(LegCtl::Bridge { peer, tx, rx });
                }
                true
            }
            Party::Room { room, slot } => self
                .rooms
                .get(&room)
                .is_some_and(|ctl| ctl.send(RoomCtl::Join { slot, tx, rx }).is_ok()),
        }
    }

    /// `originate` to an agent's registered SIP phone: its contact, from Redis.
    fn lookup_extension(&self, cmd: GatewayCommand, ext: String) {
        let GatewayCommand::Originate {
            call_id, tenant_id, ..
        } = &cmd
        else {
            return;
        };
        let (call_id, tenant_id) = (*call_id, *tenant_id);
        let mut con = self.redis.clone();
        let ctrl = self.ctrl.clone();
        tokio::spawn(async move {
            let dest = match store::registered_contact(&mut con, tenant_id, &ext).await {
                Ok(dest) => dest,
                Err(e) => {
                    tracing::warn!(%call_id, error = %e, "registration lookup failed");
                    None
                }
            };
            let check = OriginateCheck::Extension(dest);
            let _ = ctrl.send(Ctrl::Originate { cmd, check });
        });
    }

    /// `originate` through the trunk: the tenant's outbound blacklist, then its outbound limits
    /// (shared with every other gateway), from Redis.
    fn check_outbound(&self, cmd: GatewayCommand, callee: String) {
        let GatewayCommand::Originate {
            call_id, tenant_id, ..
        } = &cmd
        else {
            return;
        };
        let (call_id, tenant_id) = (*call_id, *tenant_id);
        let mut con = self.redis.clone();
        let ctrl = self.ctrl.clone();
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
            let check = OriginateCheck::Trunk { blocked, admission };
            let _ = ctrl.send(Ctrl::Originate { cmd, check });
        });
    }

    /// Renews the leases of the outbound calls this gateway holds.
    fn renew_outbound(&self) {
        let by_tenant = self.calls.outbound_leases();
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

    /// WebRTC signalling: a new softphone leg from a browser's offer, or closing one.
    fn on_webrtc(&mut self, c: crate::webrtc::HttpCtl) {
        use crate::webrtc::HttpCtl;
        match c {
            HttpCtl::Offer(req, reply) => {
                if self.calls.draining() {
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
                let MediaSockets { rtp, rtcp, lease } = sockets;
                // The leg's own task waits on its socket (str0m's timers drive it too).
                let rtp = match tokio::net::UdpSocket::from_std(rtp) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = reply.send(Err((503, format!("media socket: {e}"))));
                        return;
                    }
                };
                let (tx, rx) = mpsc::unbounded_channel();
                self.legs.insert(req.leg_id, tx);
                self.calls.leg_opened(req.leg_id, req.tenant_id);
                tracing::info!(leg = %req.leg_id, user = %req.user_id, %local, "webrtc leg created");
                self.call_tasks.spawn(crate::webrtc::run_leg(
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
                self.calls.leg_closed(leg);
                let found = match self.legs.remove(&leg) {
                    Some(tx) => {
                        let _ = tx.send(LegCtl::Close);
                        true
                    }
                    None => false,
                };
                let _ = reply.send(found);
            }
        }
    }
}

/// Checks a desk phone's digest credentials (REGISTER or INVITE) against its extension: the
/// tenant from the domain's first label, digest realm = the slug. The tenant and the
/// authenticated extension (the digest user, whatever From says), or the answer to refuse
/// with: the challenge (`401 WWW-Authenticate` for REGISTER, `407 Proxy-Authenticate` for
/// INVITE), `404` unknown tenant, `403` wrong credentials.
async fn authenticate_extension(
    con: &mut ConnectionManager,
    secret: &str,
    domain: &str,
    authorization: Option<&str>,
    method: &str,
) -> Result<crate::calls::ExtensionCheck> {
    let slug = domain.split('.').next().unwrap_or_default().to_string();
    let Some(tenant) = store::tenant_by_slug(con, &slug).await? else {
        return Ok(Err((404, Vec::new())));
    };
    let challenge = || {
        let nonce = digest::make_nonce(secret, Utc::now().timestamp());
        let (status, header) = if method == "REGISTER" {
            (401, "WWW-Authenticate")
        } else {
            (407, "Proxy-Authenticate")
        };
        Err((status, vec![(header, digest::challenge(&slug, &nonce))]))
    };
    let Some(creds) = authorization.and_then(digest::parse_authorization) else {
        return Ok(challenge());
    };
    if creds.realm != slug || !digest::nonce_fresh(secret, &creds.nonce, Utc::now().timestamp()) {
        return Ok(challenge());
    }
    let ha1 = store::extension_ha1(con, tenant, &creds.username).await?;
    if !ha1.is_some_and(|h| digest::verify(&creds, method, &h)) {
        tracing::info!(%tenant, ext = %creds.username, method, "wrong credentials: 403");
        return Ok(Err((403, Vec::new())));
    }
    Ok(Ok((tenant, creds.username)))
}

/// Authenticates a REGISTER against the tenant's extension (digest, realm = tenant slug) and
/// saves the binding: the status and headers to answer with.
async fn register(
    con: &mut ConnectionManager,
    secret: &str,
    gateway_id: &str,
    events: &mpsc::UnboundedSender<GatewayEvent>,
    r: Registration,
) -> Result<(u16, Vec<(&'static str, String)>)> {
    let Registration {
        user,
        domain,
        contact,
        expires,
        authorization,
        user_agent,
        ..
    } = r;
    let user = user.as_str();
    let (tenant, ext) =
        match authenticate_extension(con, secret, &domain, authorization.as_deref(), "REGISTER")
            .await?
        {
            Ok(v) => v,
            Err(refusal) => return Ok(refusal),
        };
    if ext != user {
        tracing::info!(%tenant, ext = user, "REGISTER for another extension's account: 403");
        return Ok((403, Vec::new()));
    }
    let expires = expires.min(3600);
    let contact_uri = contact.as_deref().map(msg::uri_of).unwrap_or_default();
    store::save_registration(
        con,
        tenant,
        user,
        &contact_uri,
        gateway_id,
        expires,
        user_agent.as_deref(),
    )
    .await?;
    let _ = events.send(GatewayEvent::Registered {
        tenant_id: tenant,
        ext: user.to_string(),
        contact: contact_uri.clone(),
        expires,
    });
    let mut extra = vec![("Expires", expires.to_string())];
    if contact.is_some() {
        extra.push(("Contact", format!("<{contact_uri}>;expires={expires}")));
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

/// Reads the tenant trunks at start and every `period`, resolves their carriers' names and
/// hands them to the call layer when anything changed (a trunk, or what a name resolves to).
async fn watch_trunks(
    mut con: ConnectionManager,
    period: Duration,
    ctrl: mpsc::UnboundedSender<Ctrl>,
) {
    let mut last: Option<Vec<Trunk>> = None;
    loop {
        match store::load_trunks(&mut con).await {
            Ok(configs) => {
                let mut trunks = Vec::with_capacity(configs.len());
                for cfg in configs {
                    let host = resolve(&cfg.host, cfg.port).await;
                    let proxy = match cfg.outbound_proxy.as_deref().map(str::trim) {
                        Some(p) if !p.is_empty() => {
                            let (h, port) = split_host_port(p);
                            resolve(h, port).await
                        }
                        _ => Vec::new(),
                    };
                    trunks.push(Trunk::new(cfg, host, proxy));
                }
                trunks.sort_by_key(|t| t.cfg.id);
                if last.as_ref() != Some(&trunks) {
                    tracing::info!(trunks = trunks.len(), "tenant trunks loaded");
                    last = Some(trunks.clone());
                    if ctrl.send(Ctrl::Trunks(trunks)).is_err() {
                        return;
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "reading the tenant trunks failed"),
        }
        tokio::time::sleep(period).await;
    }
}

/// `host[:port]` (IPv6 in brackets) → host and port (5060 when none).
fn split_host_port(s: &str) -> (&str, u16) {
    if let Some(rest) = s.strip_prefix('[') {
        if let Some((h, after)) = rest.split_once(']') {
            let port = after
                .strip_prefix(':')
                .and_then(|p| p.parse().ok())
                .unwrap_or(5060);
            return (h, port);
        }
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, p.parse().unwrap_or(5060)),
        _ => (s, 5060),
    }
}

/// A carrier's addresses (an IP literal as is; a name through the resolver, at most 2 s).
async fn resolve(host: &str, port: u16) -> Vec<SocketAddr> {
    let host = host.trim().trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return vec![SocketAddr::new(ip, port)];
    }
    if host.is_empty() {
        return Vec::new();
    }
    match tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::lookup_host((host, port)),
    )
    .await
    {
        Ok(Ok(addrs)) => {
            let mut v: Vec<SocketAddr> = addrs.collect();
            // IPv4 first: the SIP socket is usually bound to an IPv4 address.
            v.sort_by_key(|a| !a.is_ipv4());
            v
        }
        Ok(Err(e)) => {
            tracing::warn!(host, error = %e, "tenant trunk host does not resolve");
            Vec::new()
        }
        Err(_) => {
            tracing::warn!(host, "tenant trunk host: resolver timed out");
            Vec::new()
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
    fn proxy_addresses_split() {
        assert_eq!(split_host_port("proxy.example"), ("proxy.example", 5060));
        assert_eq!(split_host_port("10.0.0.1:5080"), ("10.0.0.1", 5080));
        assert_eq!(split_host_port("[::1]:5070"), ("::1", 5070));
        assert_eq!(split_host_port("::1"), ("::1", 5060));
    }

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
