//! The call layer, sans-IO: the call table and every decision about calls — trunk admission
//! (the platform's and the tenants' own trunks), what a routing result does to a call, answer
//! timeouts, answering, hanging up, bridges and conference membership, placing `originate`d
//! calls (through the tenant's trunk when it has one), the drain — on top of the SIP
//! [`Endpoint`], which it owns, and of the tenant trunks' registration client
//! ([`crate::trunks::Registrations`]), which it runs.
//!
//! Like the endpoint it owns no socket, task, channel or Redis connection and reads no
//! monotonic clock: the shell ([`crate::server`]) feeds it SIP messages, routing and
//! registration results, backend commands and `Instant`s, and performs what
//! [`Calls::poll_output`] returns — bytes to transmit, events to publish, Redis look-ups to
//! make (whose results it feeds back), media to start, control and stop. So every call path
//! runs in memory in the tests below. (Events are stamped with the wall clock when they are
//! made, as the wire format wants, and call ids are random v4 UUIDs.)
//!
//! A call's media is an effect: the call layer says when it starts ([`Output::StartMedia`]),
//! what it is told ([`Output::Media`]), whom it exchanges audio with ([`Output::Connect`]) and
//! when it ends ([`Output::EndMedia`]); the RTP ports, channels and worker threads are the
//! shell's.

use crate::config::{Admission, Config};
use crate::ivr::{FlowConfig, IvrCommand};
use crate::media::conference::{self, Slot};
use crate::media::engine::MediaCtl;
use crate::media::g711::G711;
use crate::metrics;
use crate::sdp::{self, AcceptedOffer};
use crate::sip::digest;
use crate::sip::endpoint::{
    self, CallKey, Endpoint, EndpointConfig, Event, Originate, Peer, Registration, TxHandle,
};
use crate::sip::msg;
use crate::store::{OutboundAdmission, Route};
use crate::trunks::{Inbound, RegAction, RegStatus, Registrations, Trunk, TrunkTable};
use bytes::Bytes;
use chrono::Utc;
use hotline_wire::gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent, HangupCause};
use hotline_wire::trunks::{TrunkState, TrunkStatus};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// A call whose DID is still being looked up when its answer timeout falls due is looked at
/// again this much later (routing, not the backend, is late).
const ROUTING_RECHECK: Duration = Duration::from_millis(100);

/// While draining, how often the shell must call [`Calls::handle_timeout`] to find out whether
/// the last call has ended.
const DRAIN_CHECK: Duration = Duration::from_millis(100);

/// Something for the shell to do, in the order returned.
#[derive(Debug)]
pub enum Output {
    /// Send SIP bytes.
    Transmit {
        /// Destination flow.
        peer: Peer,
        /// The serialised message.
        data: Bytes,
    },
    /// Publish on the events stream.
    Publish(GatewayEvent),
    /// Look the dialled number up (and refresh the tenant's prompts); answer with
    /// [`Calls::routed`].
    Route {
        /// The call.
        call: CallKey,
        /// Dialled number, E.164.
        did: String,
        /// Caller, E.164.
        caller: String,
        /// The gateway's default flow mode.
        mode: FlowMode,
        /// The gateway's default built-in flow settings.
        flow: FlowConfig,
        /// The tenant of the trunk the call came in on: the DID is this tenant's even when
        /// `platform:dids` does not list it.
        trunk_tenant: Option<Uuid>,
    },
    /// Authenticate a REGISTER against the tenant's extensions; answer with
    /// [`Calls::registered`].
    Register(Registration),
    /// Authenticate a desk phone's INVITE against its extension (digest, realm = the tenant's
    /// slug, `407` challenge); answer with [`Calls::extension_checked`].
    AuthenticateExtension {
        /// The call.
        call: CallKey,
        /// The Request-URI's host: `<tenant slug>.<sip domain>`.
        domain: String,
        /// The calling extension (From user part).
        from: String,
        /// `Proxy-Authorization`, if sent.
        proxy_authorization: Option<String>,
    },
    /// `originate` to an agent's phone: find the extension's registered contact; answer with
    /// [`Calls::originate_checked`] and [`OriginateCheck::Extension`].
    LookupExtension {
        /// The command.
        cmd: GatewayCommand,
        /// The extension.
        ext: String,
    },
    /// `originate` through the trunk: check the callee against the tenant's outbound
    /// blacklist, then its outbound limits (and refresh its prompts); answer with
    /// [`Calls::originate_checked`] and [`OriginateCheck::Trunk`].
    CheckOutbound {
        /// The command.
        cmd: GatewayCommand,
        /// The callee, E.164.
        callee: String,
    },
    /// Bind an RTP/RTCP port pair for the call and keep it for [`Output::StartMedia`] (or
    /// free it on [`Output::EndMedia`]); answer at once with [`Calls::media_bound`].
    BindMedia {
        /// The call.
        call_id: Uuid,
    },
    /// Start an answered call's media on the ports bound for it.
    StartMedia(MediaStart),
    /// A control message for a started call's media (never `Bridge`: see [`Output::Connect`]).
    Media {
        /// The call.
        call_id: Uuid,
        /// The message.
        ctl: MediaCtl,
    },
    /// Cut a WebRTC leg's bridge.
    UnbridgeLeg(Uuid),
    /// Exchange audio between two parties (a two-way pair of frame channels); the first
    /// is connected first. When it is a room that has closed, the shell reports the join
    /// failed and calls [`Calls::conference_left`].
    Connect(Party, Party),
    /// Start a conference room's mixer.
    OpenRoom(Uuid),
    /// The room's last member left: stop its mixer.
    CloseRoom(Uuid),
    /// The call is over: stop its media if it started, and free its ports.
    EndMedia {
        /// The call.
        call_id: Uuid,
    },
    /// The call no longer counts against its tenant's outbound limit.
    ReleaseOutbound {
        /// Tenant.
        tenant_id: Uuid,
        /// The call.
        call_id: Uuid,
    },
    /// A tenant trunk's status for `platform:trunk_status` (`None`: remove it, the trunk
    /// is gone).
    TrunkStatus {
        /// The trunk.
        trunk: Uuid,
        /// Its status.
        status: Option<TrunkStatus>,
    },
    /// The drain began: publish a heartbeat now so backends stop sending calls.
    Heartbeat,
    /// Draining and no call left: the gateway may exit.
    Drained,
}

/// What an answered call's media starts with.
#[derive(Debug)]
pub struct MediaStart {
    /// SIP-side key (the media asks to hang up with it).
    pub call: CallKey,
    /// Hotline call id.
    pub call_id: Uuid,
    /// Tenant.
    pub tenant_id: Uuid,
    /// The negotiated offer/answer: codec, telephone-event, remote address, direction.
    pub offer: AcceptedOffer,
    /// The built-in flow to run, if the tenant uses it.
    pub flow: Option<FlowConfig>,
}

/// One end of an audio connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// An answered call's media.
    Call(Uuid),
    /// An agent's WebRTC leg.
    Leg(Uuid),
    /// A seat in a conference room.
    Room {
        /// Room id.
        room: Uuid,
        /// The member's slot.
        slot: Slot,
    },
}

impl Party {
    /// The id the other end is told it is connected to.
    pub fn id(&self) -> Uuid {
        match *self {
            Party::Call(id) | Party::Leg(id) | Party::Room { room: id, .. } => id,
        }
    }
}

/// The shell's answer to [`Output::AuthenticateExtension`]: the tenant and the calling
/// extension, or the status (and headers) to refuse the INVITE with.
pub type ExtensionCheck = Result<(Uuid, String), (u16, Vec<(&'static str, String)>)>;

/// The shell's answer to [`Output::LookupExtension`] or [`Output::CheckOutbound`].
#[derive(Debug)]
pub enum OriginateCheck {
    /// The extension's registered contact (`None`: not registered, or the look-up failed).
    Extension(Option<SocketAddr>),
    /// The trunk: whether the callee is blacklisted (`Err`: the look-up failed) and what the
    /// tenant's outbound limits said (asked only when not blacklisted).
    Trunk {
        /// Blacklist verdict.
        blocked: Result<bool, String>,
        /// Limits verdict.
        admission: Option<OutboundAdmission>,
    },
}

struct CallEntry {
    id: Uuid,
    did: String,
    caller: String,
    sip_call_id: String,
    tenant: Option<Uuid>,
    offer: AcceptedOffer,
    /// The RTP port bound for it, until its media starts.
    port: Option<u16>,
    mode: FlowMode,
    flow: FlowConfig,
    /// Answered on both sides: its media runs.
    answered: bool,
    /// Placed by us (UAC) with an `originate` command.
    outbound: bool,
    /// We asked for the hang-up (CANCEL / BYE / reject).
    hangup_requested: bool,
    /// A desk phone's call to an extension ([`GatewayEvent::InternalCall`]), not a trunk's.
    internal: bool,
    /// Counted in its tenant's outbound calls in progress: released when it ends, its lease
    /// renewed with each heartbeat ([`Calls::outbound_leases`]).
    counted: bool,
    /// Came in on a tenant trunk.
    trunk: Option<TrunkCall>,
}

/// An inbound call admitted as a tenant trunk's.
#[derive(Debug, Clone, Copy)]
struct TrunkCall {
    trunk: Uuid,
    tenant: Uuid,
    /// The platform's ACL trusts the source too: a number of another tenant is that tenant's
    /// platform call, not this trunk's.
    platform_ok: bool,
}

/// An `originate` that passed its checks, waiting for its RTP ports.
struct Placement {
    tenant_id: Uuid,
    caller: String,
    callee: String,
    next_hop: SocketAddr,
    auth: Option<(String, String)>,
    counted: bool,
    /// A tenant trunk's carrier domain (Request-URI, To, From).
    domain: Option<String>,
    /// Codecs offered (empty: PCMU, PCMA).
    codecs: Vec<G711>,
}

/// A conference room's membership. Its mixer is the shell's; it ends when the last member left.
struct Room {
    name: String,
    tenant: Uuid,
    /// Member (call or leg id) of each slot.
    members: HashMap<Slot, Uuid>,
}

struct Drain {
    since: Instant,
    /// The remaining calls were hung up after the drain timeout.
    hung_up: bool,
    next_check: Instant,
}

/// The call layer: feed it inputs, drain [`Calls::poll_output`], sleep until
/// [`Calls::poll_timeout`] and then call [`Calls::handle_timeout`].
pub struct Calls {
    cfg: Arc<Config>,
    ep: Endpoint,
    nonce_secret: String,
    calls: HashMap<CallKey, CallEntry>,
    by_id: HashMap<Uuid, CallKey>,
    placing: HashMap<Uuid, Placement>,
    /// When each unanswered call's answer timeout falls due, earliest first (entries of calls
    /// that ended or were answered are skipped when they come up).
    answer_due: BinaryHeap<Reverse<(Instant, CallKey)>>,
    /// Agents' WebRTC legs and their tenants.
    legs: HashMap<Uuid, Uuid>,
    /// Conference rooms by id ([`wire::conference_room_id`] of the name).
    rooms: HashMap<Uuid, Room>,
    next_slot: Slot,
    drain: Option<Drain>,
    /// Tenant trunks as last read from Redis.
    trunks: TrunkTable,
    /// The registration client of the `register` trunks.
    regs: Registrations,
    out: VecDeque<Output>,
}

impl Calls {
    /// A call layer with no call. `nonce_secret` signs the inbound trunk's digest nonces.
    pub fn new(cfg: Arc<Config>, nonce_secret: String) -> Self {
        Calls {
            ep: Endpoint::new(EndpointConfig {
                advertised: cfg.advertised_addr,
                user_agent: "Hotline-Gateway/0.1".into(),
            }),
            cfg,
            nonce_secret,
            calls: HashMap::new(),
            by_id: HashMap::new(),
            placing: HashMap::new(),
            answer_due: BinaryHeap::new(),
            legs: HashMap::new(),
            rooms: HashMap::new(),
            next_slot: 0,
            drain: None,
            trunks: TrunkTable::default(),
            regs: Registrations::new(),
            out: VecDeque::new(),
        }
    }

    /// The tenant trunks as read from Redis (`platform:trunks`, names resolved by the shell):
    /// registrations start, refresh their settings or end; calls use them from now on.
    pub fn set_trunks(&mut self, now: Instant, trunks: Vec<Trunk>) {
        self.trunks = TrunkTable::new(trunks);
        self.regs.sync(&self.trunks);
        self.run_registrations(now);
        self.pump(now);
    }

    /// Whether this gateway can place outbound calls: the platform trunk or a tenant's.
    pub fn has_outbound_trunk(&self) -> bool {
        self.cfg.trunk.is_some() || self.trunks.any_outbound()
    }

    /// Performs the registration client's actions: REGISTERs go to the endpoint, statuses
    /// out to Redis.
    fn run_registrations(&mut self, now: Instant) {
        while let Some(a) = self.regs.poll_action() {
            match a {
                RegAction::Send(req) => self.ep.send_register(now, req),
                RegAction::Status { trunk, status } => {
                    let at = Utc::now();
                    let make = |state, status, reason, expires_at| TrunkStatus {
                        state,
                        status,
                        reason,
                        gateway_id: self.cfg.gateway_id.clone(),
                        at,
                        expires_at,
                    };
                    let status = match status {
                        RegStatus::Registering => {
                            Some(make(TrunkState::Registering, None, None, None))
                        }
                        RegStatus::Registered { expires } => Some(make(
                            TrunkState::Registered,
                            Some(200),
                            None,
                            Some(at + chrono::Duration::seconds(expires as i64)),
                        )),
                        RegStatus::Failed { status, reason } => {
                            Some(make(TrunkState::Failed, status, Some(reason), None))
                        }
                        RegStatus::Ip => Some(make(TrunkState::Ip, None, None, None)),
                        RegStatus::Gone => None,
                    };
                    self.out.push_back(Output::TrunkStatus { trunk, status });
                }
            }
        }
    }

    /// Calls held (inbound and outbound, answered or not).
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether no call is held.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Whether the drain has begun.
    pub fn draining(&self) -> bool {
        self.drain.is_some()
    }

    /// The next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// When [`Calls::handle_timeout`] next has work: a SIP timer, an answer timeout, a drain
    /// check.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        let answer = self.answer_due.peek().map(|Reverse((t, _))| *t);
        let drain = self.drain.as_ref().map(|d| d.next_check);
        [
            self.ep.poll_timeout(),
            answer,
            drain,
            self.regs.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// One SIP message (a UDP datagram or a framed TCP message).
    pub fn handle_sip(&mut self, now: Instant, peer: Peer, data: &[u8]) {
        self.ep.handle_input(now, peer, data);
        self.pump(now);
    }

    /// Fires what is due at `now`: SIP timers, answer timeouts, the drain's checks.
    pub fn handle_timeout(&mut self, now: Instant) {
        self.ep.handle_timeout(now);
        self.regs.handle_timeout(now);
        self.run_registrations(now);
        self.expire_unanswered(now);
        if let Some(d) = &mut self.drain {
            d.next_check = now + DRAIN_CHECK;
            if self.calls.is_empty() {
                tracing::info!("drained: no calls left, exiting");
                self.out.push_back(Output::Drained);
            } else if !d.hung_up && now.saturating_duration_since(d.since) > self.cfg.drain_timeout
            {
                d.hung_up = true;
                tracing::warn!(
                    calls = self.calls.len(),
                    "drain timeout: hanging up remaining calls"
                );
                let keys: Vec<CallKey> = self.calls.keys().copied().collect();
                for k in keys {
                    self.ep.hangup(now, k);
                }
            }
        }
        self.pump(now);
    }

    /// SIGTERM: new calls get 503; the gateway exits once the last call ended (hung up after
    /// the drain timeout).
    pub fn drain(&mut self, now: Instant) {
        if self.drain.is_some() {
            return;
        }
        tracing::info!(
            calls = self.calls.len(),
            "SIGTERM: draining (new calls get 503)"
        );
        self.drain = Some(Drain {
            since: now,
            hung_up: false,
            next_check: now + DRAIN_CHECK,
        });
        self.ep.set_draining(true);
        // This gateway's bindings at the tenants' carriers go: calls must reach the others.
        self.regs.unregister_all();
        self.run_registrations(now);
        self.out.push_back(Output::Heartbeat);
        self.pump(now);
    }

    /// The result of [`Output::Route`].
    pub fn routed(&mut self, now: Instant, call: CallKey, route: Result<Route, String>) {
        self.on_routed(now, call, route);
        self.pump(now);
    }

    /// The result of [`Output::Register`].
    pub fn registered(
        &mut self,
        now: Instant,
        tx: &TxHandle,
        status: u16,
        extra: &[(&'static str, String)],
    ) {
        self.ep.respond(now, tx, status, extra);
        self.pump(now);
    }

    /// The result of [`Output::AuthenticateExtension`]: the tenant and the authenticated
    /// extension, or the status (and headers: a `407` challenge) to refuse the INVITE with.
    pub fn extension_checked(&mut self, now: Instant, call: CallKey, res: ExtensionCheck) {
        match res {
            Ok((tenant_id, ext)) => {
                if let Some(e) = self.calls.get_mut(&call) {
                    tracing::info!(call_id = %e.id, %tenant_id, %ext, to = %e.did, "internal call admitted");
                    metrics::CALLS_TOTAL.add(1);
                    e.tenant = Some(tenant_id);
                    e.caller = ext;
                    e.mode = FlowMode::Backend;
                    let call_id = e.id;
                    self.out.push_back(Output::BindMedia { call_id });
                }
            }
            Err((status, extra)) => {
                if let Some(e) = self.calls.remove(&call) {
                    self.by_id.remove(&e.id);
                    metrics::CALLS_ACTIVE.sub(1);
                    tracing::info!(call_id = %e.id, status, "desk phone's INVITE not admitted");
                    if status != 407 {
                        metrics::CALLS_REJECTED.add(1);
                    }
                    self.ep.reject(now, call, status, &extra);
                }
            }
        }
        self.pump(now);
    }

    /// The result of [`Output::BindMedia`]: the RTP port bound, `None` when none was free.
    pub fn media_bound(&mut self, now: Instant, call_id: Uuid, port: Option<u16>) {
        if let Some(p) = self.placing.remove(&call_id) {
            self.place(now, call_id, p, port);
        } else if let Some(&call) = self.by_id.get(&call_id) {
            self.ports_for_inbound(now, call, port);
        } else if port.is_some() {
            self.out.push_back(Output::EndMedia { call_id });
        }
        self.pump(now);
    }

    /// The media asks to hang the call up (the built-in flow ended, a voicemail is done…).
    pub fn media_hangup(&mut self, now: Instant, call: CallKey) {
        self.ep.hangup(now, call);
        self.pump(now);
    }

    /// A backend command.
    pub fn command(&mut self, now: Instant, cmd: GatewayCommand) {
        self.on_command(now, cmd);
        self.pump(now);
    }

    /// The result of [`Output::LookupExtension`] or [`Output::CheckOutbound`].
    pub fn originate_checked(&mut self, now: Instant, cmd: GatewayCommand, check: OriginateCheck) {
        match check {
            OriginateCheck::Extension(Some(dest)) => {
                self.place_call(cmd, Ok(false), Some(dest), None)
            }
            OriginateCheck::Extension(None) => {
                if let GatewayCommand::Originate {
                    call_id,
                    tenant_id,
                    callee,
                    ..
                } = cmd
                {
                    tracing::info!(%call_id, ext = %callee, "extension not registered: 480");
                    self.publish(GatewayEvent::Hangup {
                        call_id,
                        tenant_id,
                        cause: HangupCause::Rejected,
                        status: Some(480),
                        at: Utc::now(),
                    });
                }
            }
            OriginateCheck::Trunk { blocked, admission } => {
                self.place_call(cmd, blocked, None, admission)
            }
        }
        self.pump(now);
    }

    /// A WebRTC leg was created for `tenant`.
    pub fn leg_opened(&mut self, leg: Uuid, tenant: Uuid) {
        self.legs.insert(leg, tenant);
    }

    /// A WebRTC leg was closed or ended; `false` when there was none.
    pub fn leg_closed(&mut self, leg: Uuid) -> bool {
        self.legs.remove(&leg).is_some()
    }

    /// A member's channels closed (it ended, unbridged or was bridged elsewhere); the last one
    /// out ends the room.
    pub fn conference_left(&mut self, room_id: Uuid, slot: Slot) {
        let Some(room) = self.rooms.get_mut(&room_id) else {
            return;
        };
        if let Some(member) = room.members.remove(&slot) {
            tracing::info!(room = %room_id, name = %room.name, %member, slot, members = room.members.len(), "conference leave");
        }
        if room.members.is_empty() {
            tracing::info!(room = %room_id, name = %room.name, "conference room ended");
            self.rooms.remove(&room_id);
            self.out.push_back(Output::CloseRoom(room_id));
        }
    }

    /// The outbound calls this gateway holds that count against their tenant's limit, by
    /// tenant (their leases are renewed with each heartbeat).
    pub fn outbound_leases(&self) -> HashMap<Uuid, Vec<Uuid>> {
        let mut by_tenant: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
        for e in self.calls.values().filter(|e| e.counted) {
            if let Some(t) = e.tenant {
                by_tenant.entry(t).or_default().push(e.id);
            }
        }
        by_tenant
    }

    fn publish(&mut self, ev: GatewayEvent) {
        self.out.push_back(Output::Publish(ev));
    }

    fn command_failed(&mut self, call_id: Uuid, reason: &str) {
        self.publish(GatewayEvent::CommandFailed {
            call_id,
            reason: reason.into(),
        });
    }

    /// Takes the endpoint's output: transmissions pass through, events are handled (which
    /// may give the endpoint more to do).
    fn pump(&mut self, now: Instant) {
        while let Some(o) = self.ep.poll_output() {
            match o {
                endpoint::Output::Transmit { peer, data } => {
                    self.out.push_back(Output::Transmit { peer, data })
                }
                endpoint::Output::Event(ev) => self.on_sip_event(now, ev),
            }
        }
    }

    fn on_sip_event(&mut self, now: Instant, ev: Event) {
        match ev {
            Event::IncomingCall {
                call,
                did,
                caller,
                sip_call_id,
                peer,
                offer,
                proxy_authorization,
                request_user,
                to_user,
                domain,
            } => {
                let id = Uuid::new_v4();
                tracing::info!(call_id = %id, sip_call_id = %sip_call_id, %did, %caller, from = %peer.addr, "incoming call");
                let internal =
                    self.admit_extension(peer.addr.ip(), &domain, proxy_authorization.as_deref());
                let (trunk, did) = if internal {
                    // Checked against the extension's credentials by the shell (Redis).
                    (None, did)
                } else {
                    match self.admit_tenant_trunk(peer.addr.ip(), &request_user, &to_user) {
                        Ok(Some((t, did))) => (Some(t), did),
                        Ok(None) => (None, did),
                        Err(status) => {
                            tracing::info!(call_id = %id, status, "tenant trunk call for a number not on the trunk");
                            metrics::CALLS_REJECTED.add(1);
                            return self.ep.reject(now, call, status, &[]);
                        }
                    }
                };
                if trunk.is_none() && !internal {
                    if let Err((status, extra)) =
                        self.admit_trunk(peer.addr.ip(), proxy_authorization.as_deref())
                    {
                        tracing::info!(call_id = %id, status, "trunk not admitted");
                        if status != 407 {
                            metrics::CALLS_REJECTED.add(1);
                        }
                        return self.ep.reject(now, call, status, &extra);
                    }
                }
                if !internal {
                    metrics::CALLS_TOTAL.add(1);
                }
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
                        port: None,
                        mode: self.cfg.flow_mode,
                        flow: FlowConfig::default(),
                        answered: false,
                        outbound: false,
                        hangup_requested: false,
                        counted: false,
                        trunk,
                        internal,
                    },
                );
                self.answer_due
                    .push(Reverse((now + self.cfg.answer_timeout, call)));
                if internal {
                    let from = caller.trim_start_matches('+').to_string();
                    return self.out.push_back(Output::AuthenticateExtension {
                        call,
                        domain,
                        from,
                        proxy_authorization,
                    });
                }
                self.out.push_back(Output::Route {
                    call,
                    did,
                    caller,
                    mode: self.cfg.flow_mode,
                    flow: FlowConfig {
                        digit_timeout_ms: self.cfg.digit_timeout_ms,
                        echo_ms: self.cfg.echo_ms,
                        ..FlowConfig::default()
                    },
                    trunk_tenant: trunk.map(|t| t.tenant),
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
                } else if self.drain.is_some() {
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
                let (Some(tenant), Some(_port)) = (entry.tenant, entry.port.take()) else {
                    return;
                };
                self.start_media(call, tenant);
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
            } => self.forward_to_media(
                call,
                MediaCtl::Remote {
                    addr: remote_rtp,
                    send: direction.remote_receives(),
                },
            ),
            Event::InfoDtmf { call, digit } => {
                self.forward_to_media(call, MediaCtl::InfoDtmf(digit))
            }
            Event::Register(r) => self.out.push_back(Output::Register(r)),
            Event::RegisterReply(r) => {
                self.regs.on_reply(now, r);
                self.run_registrations(now);
            }
        }
    }

    /// Tenant trunk admission: an INVITE from a trunk's carrier (or to a `register` trunk's
    /// contact) for one of the trunk's inbound numbers is that trunk's call — admitted without
    /// the platform's ACL, and its tenant's only: `Ok(Some((trunk, did)))`. One for a number
    /// none of its trunks carries is `404`, unless the platform trusts the source anyway
    /// (then it is an ordinary platform call). Anything else is no trunk's: `Ok(None)`.
    fn admit_tenant_trunk(
        &self,
        ip: std::net::IpAddr,
        request_user: &str,
        to_user: &str,
    ) -> Result<Option<(TrunkCall, String)>, u16> {
        let platform_ok = self.cfg.trunk_admission(ip) == Admission::Allowed;
        match self.trunks.inbound(ip, request_user, to_user) {
            Inbound::NotTrunk => Ok(None),
            Inbound::UnknownDid if platform_ok => Ok(None),
            Inbound::UnknownDid => Err(404),
            Inbound::Admitted { trunk, tenant, did } => {
                tracing::info!(%trunk, %tenant, %did, "tenant trunk call");
                Ok(Some((
                    TrunkCall {
                        trunk,
                        tenant,
                        platform_ok,
                    },
                    did,
                )))
            }
        }
    }

    /// Whether an INVITE is a desk phone's call to an extension, to authenticate against the
    /// extension's credentials rather than as a trunk's: it does not come from a trunk address
    /// the ACL trusts, it is addressed to a domain name (`<tenant slug>.<sip domain>`, as the
    /// phone registers; a carrier addresses the gateway's IP), and it does not answer the
    /// trunk realm's own challenge. Checked before the trunk admission (so also when no trunk
    /// security is configured and every address would pass as a trunk).
    fn admit_extension(
        &self,
        ip: std::net::IpAddr,
        domain: &str,
        proxy_authorization: Option<&str>,
    ) -> bool {
        if self.cfg.in_trunk_acl(ip)
            || domain.parse::<std::net::IpAddr>().is_ok()
            || !domain.contains('.')
        {
            return false;
        }
        proxy_authorization
            .and_then(digest::parse_authorization)
            .is_none_or(|c| c.realm != self.cfg.realm)
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
        if let (true, Some(tenant_id)) = (e.counted, e.tenant) {
            self.out.push_back(Output::ReleaseOutbound {
                tenant_id,
                call_id: e.id,
            });
        }
        self.out.push_back(Output::EndMedia { call_id: e.id });
        tracing::info!(call_id = %e.id, ?cause, ?status, "call ended");
        if let Some(tenant_id) = e.tenant {
            self.publish(GatewayEvent::Hangup {
                call_id: e.id,
                tenant_id,
                cause,
                status,
                at: Utc::now(),
            });
        }
    }

    /// Ends the calls whose answer timeout is due (an inbound call still unanswered: 480; an
    /// outbound one: CANCEL). A call whose DID is still being looked up is looked at again
    /// shortly after.
    fn expire_unanswered(&mut self, now: Instant) {
        let mut stale = Vec::new();
        while let Some(Reverse((due, key))) = self.answer_due.peek().copied() {
            if due > now {
                break;
            }
            self.answer_due.pop();
            match self.calls.get(&key) {
                Some(e) if !e.answered && e.tenant.is_none() => {
                    self.answer_due.push(Reverse((now + ROUTING_RECHECK, key)))
                }
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
                    self.ep.hangup(now, call);
                }
                continue;
            }
            tracing::warn!(call_id = %e.id, "not answered in time: 480");
            metrics::CALLS_REJECTED.add(1);
            self.ep.reject(now, call, 480, &[]);
            self.end_call(call, HangupCause::Timeout, Some(480));
        }
    }

    fn reject(&mut self, now: Instant, call: CallKey, status: u16) {
        metrics::CALLS_REJECTED.add(1);
        self.ep.reject(now, call, status, &[]);
        self.end_call(call, HangupCause::Rejected, Some(status));
    }

    fn on_routed(&mut self, now: Instant, call: CallKey, route: Result<Route, String>) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let id = entry.id;
        // A trunk's call reaches its trunk's tenant only (a number `platform:dids` gives to
        // another tenant is a platform call when the platform trusts the source, else 404).
        let route = match (entry.trunk, route) {
            (Some(t), Ok(Route::Accept { tenant_id, .. } | Route::Blacklisted { tenant_id }))
                if tenant_id != t.tenant && !t.platform_ok =>
            {
                tracing::warn!(call_id = %id, trunk = %t.trunk, trunk_tenant = %t.tenant, did_tenant = %tenant_id, "a trunk's number belongs to another tenant: 404");
                Ok(Route::UnknownDid)
            }
            (_, route) => route,
        };
        match route {
            Err(e) => {
                tracing::error!(call_id = %id, error = %e, "routing failed: 503");
                self.reject(now, call, 503);
            }
            Ok(Route::UnknownDid) => {
                tracing::info!(call_id = %id, did = %entry.did, "unknown DID: 404");
                self.reject(now, call, 404);
            }
            Ok(Route::Blacklisted { tenant_id }) => {
                tracing::info!(call_id = %id, %tenant_id, caller = %entry.caller, "blacklisted caller: 403");
                entry.tenant = Some(tenant_id);
                self.reject(now, call, 403);
            }
            Ok(Route::Accept {
                tenant_id,
                mode,
                flow,
            }) => {
                entry.tenant = Some(tenant_id);
                entry.mode = mode;
                entry.flow = flow;
                self.out.push_back(Output::BindMedia { call_id: id });
            }
        }
    }

    /// An accepted inbound call got its RTP ports (or none was free): it starts, and rings
    /// for the backend or is answered for the built-in flow.
    fn ports_for_inbound(&mut self, now: Instant, call: CallKey, port: Option<u16>) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        let (Some(tenant_id), false) = (entry.tenant, entry.answered) else {
            return;
        };
        let Some(port) = port else {
            tracing::error!(call_id = %entry.id, "no free RTP port: 503");
            return self.reject(now, call, 503);
        };
        entry.port = Some(port);
        let mode = entry.mode;
        if entry.internal {
            let started = GatewayEvent::InternalCall {
                gateway_id: self.cfg.gateway_id.clone(),
                call_id: entry.id,
                tenant_id,
                from_ext: entry.caller.clone(),
                to: entry.did.trim_start_matches('+').to_string(),
                sip_call_id: entry.sip_call_id.clone(),
                at: Utc::now(),
            };
            self.publish(started);
            return self.ep.ring(now, call);
        }
        let started = GatewayEvent::CallStarted {
            gateway_id: self.cfg.gateway_id.clone(),
            call_id: entry.id,
            tenant_id,
            caller: entry.caller.clone(),
            did: entry.did.clone(),
            sip_call_id: entry.sip_call_id.clone(),
            mode,
            at: Utc::now(),
        };
        self.publish(started);
        match mode {
            FlowMode::Builtin => self.answer(now, call),
            FlowMode::Backend => self.ep.ring(now, call),
        }
    }

    fn answer(&mut self, now: Instant, call: CallKey) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        if entry.answered {
            return;
        }
        let Some(port) = entry.port.take() else {
            return;
        };
        let Some(tenant_id) = entry.tenant else {
            return;
        };
        if !self.ep.answer(now, call, self.cfg.media_ip, port) {
            return;
        }
        self.start_media(call, tenant_id);
    }

    /// An answered call's media starts (inbound after our 200, outbound after theirs).
    fn start_media(&mut self, call: CallKey, tenant_id: Uuid) {
        let Some(entry) = self.calls.get_mut(&call) else {
            return;
        };
        entry.answered = true;
        let start = MediaStart {
            call,
            call_id: entry.id,
            tenant_id,
            offer: entry.offer.clone(),
            flow: (entry.mode == FlowMode::Builtin).then(|| entry.flow.clone()),
        };
        self.publish(GatewayEvent::CallAnswered {
            call_id: start.call_id,
            tenant_id,
            at: Utc::now(),
        });
        self.out.push_back(Output::StartMedia(start));
    }

    /// `originate` for a call id not in use: to a registered extension, or through the trunk
    /// once the tenant's blacklist and limits have been asked.
    fn on_originate(&mut self, cmd: GatewayCommand) {
        let GatewayCommand::Originate {
            call_id, callee, ..
        } = &cmd
        else {
            return;
        };
        if let Some(ext) = callee.strip_prefix("ext:") {
            // An agent's registered SIP phone: straight to its contact, no trunk, no blacklist.
            let ext = ext.to_string();
            self.out.push_back(Output::LookupExtension { cmd, ext });
            return;
        }
        let tenant_trunk = match &cmd {
            GatewayCommand::Originate { tenant_id, .. } => {
                self.trunks.outbound(*tenant_id).is_some()
            }
            _ => false,
        };
        if self.cfg.trunk.is_none() && !tenant_trunk {
            let call_id = *call_id;
            return self.command_failed(call_id, "no outbound trunk configured (HOTLINE_GW_TRUNK)");
        }
        let callee = msg::to_e164(callee);
        self.out.push_back(Output::CheckOutbound { cmd, callee });
    }

    fn place_call(
        &mut self,
        cmd: GatewayCommand,
        blocked: Result<bool, String>,
        dest: Option<SocketAddr>,
        admission: Option<OutboundAdmission>,
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
        let rejected = |status| GatewayEvent::Hangup {
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
                return self.publish(rejected(403));
            }
            Err(e) => {
                tracing::error!(%call_id, error = %e, "blacklist lookup failed");
                return self.publish(rejected(503));
            }
        }
        let refused = match admission {
            Some(OutboundAdmission::AtLimit) => Some(HangupCause::OutboundLimit),
            Some(OutboundAdmission::RateLimited) => Some(HangupCause::OutboundRateLimit),
            _ => None,
        };
        if let Some(cause) = refused {
            tracing::info!(%call_id, %tenant_id, ?cause, "tenant's outbound limit reached: not placed");
            metrics::CALLS_REJECTED.add(1);
            return self.publish(GatewayEvent::Hangup {
                call_id,
                tenant_id,
                cause,
                status: Some(503),
                at: Utc::now(),
            });
        }
        let counted = admission == Some(OutboundAdmission::Admitted);
        if self.by_id.contains_key(&call_id) || self.placing.contains_key(&call_id) {
            return self.command_failed(call_id, "call id already in use");
        }
        let placement = match dest {
            // An agent's phone: no trunk, and no trunk's credentials.
            Some(next_hop) => Placement {
                tenant_id,
                caller,
                callee,
                next_hop,
                auth: None,
                counted,
                domain: None,
                codecs: Vec::new(),
            },
            None => match self.trunks.outbound(tenant_id) {
                // The tenant's own carrier, with its own credentials only.
                Some(trunk) => {
                    let Some(d) = trunk.dial(&caller, &callee) else {
                        tracing::warn!(%call_id, trunk = %trunk.cfg.id, host = %trunk.cfg.host, "tenant trunk's address did not resolve: 503");
                        if counted {
                            self.out
                                .push_back(Output::ReleaseOutbound { tenant_id, call_id });
                        }
                        return self.publish(rejected(503));
                    };
                    tracing::info!(%call_id, trunk = %trunk.cfg.id, "outbound call through the tenant's trunk");
                    Placement {
                        tenant_id,
                        caller: d.caller,
                        callee: d.callee,
                        next_hop: d.next_hop,
                        auth: d.auth,
                        counted,
                        domain: Some(d.domain),
                        codecs: d.codecs,
                    }
                }
                None => {
                    let Some(next_hop) = self.cfg.trunk else {
                        if counted {
                            self.out
                                .push_back(Output::ReleaseOutbound { tenant_id, call_id });
                        }
                        return self.command_failed(
                            call_id,
                            "no outbound trunk configured (HOTLINE_GW_TRUNK)",
                        );
                    };
                    Placement {
                        tenant_id,
                        caller,
                        callee,
                        next_hop,
                        auth: self.cfg.trunk_auth.clone(),
                        counted,
                        domain: None,
                        codecs: Vec::new(),
                    }
                }
            },
        };
        self.placing.insert(call_id, placement);
        self.out.push_back(Output::BindMedia { call_id });
    }

    /// An admitted `originate` got its RTP ports (or none was free): the INVITE goes out.
    fn place(&mut self, now: Instant, call_id: Uuid, p: Placement, port: Option<u16>) {
        let Some(port) = port else {
            if p.counted {
                self.out.push_back(Output::ReleaseOutbound {
                    tenant_id: p.tenant_id,
                    call_id,
                });
            }
            return self.publish(GatewayEvent::Hangup {
                call_id,
                tenant_id: p.tenant_id,
                cause: HangupCause::Rejected,
                status: Some(503),
                at: Utc::now(),
            });
        };
        let origin = Originate {
            caller: p.caller.clone(),
            callee: p.callee.clone(),
            trunk: p.next_hop,
            media: (self.cfg.media_ip, port),
            auth: p.auth,
            domain: p.domain,
            codecs: p.codecs,
        };
        let call = self.ep.originate(now, origin);
        tracing::info!(%call_id, caller = %p.caller, callee = %p.callee, trunk = %p.next_hop, "outbound call");
        metrics::CALLS_TOTAL.add(1);
        metrics::CALLS_ACTIVE.add(1);
        self.by_id.insert(call_id, call);
        // Replaced by the callee's answer when it comes.
        let placeholder = AcceptedOffer {
            remote_rtp: p.next_hop,
            codec: G711::Pcmu,
            telephone_event: None,
            direction: sdp::Direction::SendRecv,
            m_index: 0,
            m_lines: Vec::new(),
        };
        self.calls.insert(
            call,
            CallEntry {
                id: call_id,
                did: p.callee,
                caller: p.caller,
                sip_call_id: String::new(),
                tenant: Some(p.tenant_id),
                offer: placeholder,
                port: Some(port),
                mode: FlowMode::Backend,
                flow: FlowConfig::default(),
                answered: false,
                outbound: true,
                hangup_requested: false,
                counted: p.counted,
                trunk: None,
                internal: false,
            },
        );
        self.answer_due
            .push(Reverse((now + self.cfg.answer_timeout, call)));
    }

    fn on_command(&mut self, now: Instant, cmd: GatewayCommand) {
        let call_id = cmd.call_id();
        if matches!(cmd, GatewayCommand::Originate { .. }) && !self.by_id.contains_key(&call_id) {
            return self.on_originate(cmd);
        }
        // Commands a WebRTC leg takes (its id is not a call's).
        match &cmd {
            GatewayCommand::Conference { room, .. } => return self.conference(call_id, room),
            GatewayCommand::Unbridge { .. } if self.legs.contains_key(&call_id) => {
                return self.out.push_back(Output::UnbridgeLeg(call_id));
            }
            _ => {}
        }
        let Some(&call) = self.by_id.get(&call_id) else {
            return self.command_failed(call_id, "no such call on this gateway");
        };
        let ivr = match cmd {
            GatewayCommand::Answer { .. } => return self.answer(now, call),
            GatewayCommand::Originate { .. } => {
                return self.command_failed(call_id, "call id already in use")
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
                    self.ep.hangup(now, call);
                } else {
                    let status = status.filter(|s| (400..700).contains(s)).unwrap_or(480);
                    self.reject(now, call, status);
                }
                return;
            }
            GatewayCommand::Bridge { target, .. } => return self.bridge(call_id, call, &target),
            GatewayCommand::Conference { room, .. } => return self.conference(call_id, &room),
            GatewayCommand::DetectMachine { timeout_ms, .. } => {
                IvrCommand::DetectMachine { timeout_ms }
            }
            GatewayCommand::SendDtmf { digits, .. } => {
                return self.media_command(call_id, call, MediaCtl::SendDtmf(digits))
            }
            GatewayCommand::Unbridge { .. } => {
                return self.media_command(call_id, call, MediaCtl::Unbridge)
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
        self.media_command(call_id, call, MediaCtl::Ivr(ivr))
    }

    /// A command for the call's media; refused while it is not answered.
    fn media_command(&mut self, call_id: Uuid, call: CallKey, ctl: MediaCtl) {
        if self.calls.get(&call).is_some_and(|e| e.answered) {
            self.out.push_back(Output::Media { call_id, ctl });
        } else {
            self.command_failed(call_id, "call not answered");
        }
    }

    /// What the SIP side learnt for the media (a re-INVITE, INFO DTMF), if the media runs.
    fn forward_to_media(&mut self, call: CallKey, ctl: MediaCtl) {
        if let Some(e) = self.calls.get(&call).filter(|e| e.answered) {
            let call_id = e.id;
            self.out.push_back(Output::Media { call_id, ctl });
        }
    }

    fn answered(&self, call: CallKey) -> bool {
        self.calls.get(&call).is_some_and(|e| e.answered)
    }

    /// Connects the audio of an answered call to another answered call of this gateway, or
    /// (`webrtc:<leg id>`) to an agent's WebRTC leg.
    fn bridge(&mut self, call_id: Uuid, call: CallKey, target: &str) {
        if let Some(leg) = target.trim().strip_prefix("webrtc:") {
            let Ok(leg_id) = leg.trim().parse::<Uuid>() else {
                return self
                    .command_failed(call_id, "webrtc bridge target must be webrtc:<leg id>");
            };
            if !self.legs.contains_key(&leg_id) {
                return self.command_failed(call_id, "no such WebRTC leg on this gateway");
            }
            if !self.answered(call) {
                return self.command_failed(call_id, "the call must be answered before bridging");
            }
            self.out
                .push_back(Output::Connect(Party::Call(call_id), Party::Leg(leg_id)));
            return;
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
        if !self.answered(call) || !self.answered(peer) {
            return self.command_failed(call_id, "both calls must be answered before bridging");
        }
        self.out
            .push_back(Output::Connect(Party::Call(call_id), Party::Call(peer_id)));
    }

    /// Joins an answered call or a WebRTC leg to a conference room of this gateway, opening
    /// the room for its first member. The member's media answers with `Bridged` (`peer` = the
    /// room id) when it gets the room's channels.
    fn conference(&mut self, member: Uuid, name: &str) {
        if name.trim().is_empty() || name.len() > 256 {
            return self.command_failed(member, "conference room name must be 1 to 256 bytes");
        }
        let (party, tenant) = if let Some(tenant) = self.legs.get(&member) {
            (Party::Leg(member), *tenant)
        } else {
            let Some(entry) = self.by_id.get(&member).and_then(|k| self.calls.get(k)) else {
                return self.command_failed(member, "no such call or WebRTC leg on this gateway");
            };
            match (entry.answered, entry.tenant) {
                (true, Some(tenant)) => (Party::Call(member), tenant),
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
        } else {
            tracing::info!(room = %room_id, name, %tenant, "conference room created");
            self.rooms.insert(
                room_id,
                Room {
                    name: name.to_string(),
                    tenant,
                    members: HashMap::new(),
                },
            );
            self.out.push_back(Output::OpenRoom(room_id));
        }
        let slot = self.next_slot;
        self.next_slot += 1;
        if let Some(room) = self.rooms.get_mut(&room_id) {
            room.members.insert(slot, member);
            tracing::info!(room = %room_id, name = %room.name, %member, slot, members = room.members.len(), "conference join");
        }
        self.out.push_back(Output::Connect(
            Party::Room {
                room: room_id,
                slot,
            },
            party,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::endpoint::Transport;

    const TRUNK: &str = "127.0.0.1:5099";

    fn config() -> Config {
        Config {
            gateway_id: "gw-test".into(),
            sip_addr: "127.0.0.1:5060".parse().unwrap(),
            advertised_addr: "127.0.0.1:5060".parse().unwrap(),
            media_ip: "127.0.0.1".parse().unwrap(),
            rtp_ports: (40000, 40100),
            redis_url: String::new(),
            events_stream: "calls:events".into(),
            recordings_dir: "recordings".into(),
            prompts_dir: "prompts".into(),
            flow_mode: FlowMode::Backend,
            digit_timeout_ms: 5000,
            echo_ms: 10_000,
            metrics_addr: None,
            http_addr: None,
            trunk_acl: Vec::new(),
            trunk_inbound_auth: Vec::new(),
            realm: "hotline".into(),
            trunk: Some(TRUNK.parse().unwrap()),
            trunk_auth: None,
            trunks_refresh: Duration::from_secs(5),
            answer_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(300),
            heartbeat: Duration::from_secs(5),
            outbound_defaults: (200, 10),
            outbound_lease: Duration::from_secs(30),
            json_logs: false,
        }
    }

    fn calls() -> Calls {
        Calls::new(Arc::new(config()), "secret".into())
    }

    fn trunk() -> Peer {
        Peer {
            addr: TRUNK.parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    fn invite(call_id: &str) -> Vec<u8> {
        format!(
            "INVITE sip:+994125550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-{call_id}\r\nFrom: <sip:+15550001111@127.0.0.1>;tag=abc\r\nTo: <sip:+994125550100@127.0.0.1>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\nContact: <sip:c@{TRUNK}>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
            SDP.len()
        )
        .into_bytes()
    }

    /// The caller's ACK (CSeq 1) or BYE (CSeq 2) in the dialog of `call_id`.
    fn in_dialog(method: &str, call_id: &str, to_tag: &str) -> Vec<u8> {
        let cseq = if method == "ACK" { 1 } else { 2 };
        format!(
            "{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP {TRUNK};branch=z9hG4bK-{method}-{call_id}\r\nFrom: <sip:+15550001111@127.0.0.1>;tag=abc\r\nTo: <sip:+994125550100@127.0.0.1>;tag={to_tag}\r\nCall-ID: {call_id}\r\nCSeq: {cseq} {method}\r\nContent-Length: 0\r\n\r\n"
        )
        .into_bytes()
    }

    /// What one step produced: SIP messages sent (as text) and the other outputs.
    #[derive(Default)]
    struct Step {
        sent: Vec<String>,
        rest: Vec<Output>,
    }

    impl Step {
        fn published(&self) -> Vec<&GatewayEvent> {
            self.rest
                .iter()
                .filter_map(|o| match o {
                    Output::Publish(ev) => Some(ev),
                    _ => None,
                })
                .collect()
        }

        fn hangup(&self) -> Option<(HangupCause, Option<u16>)> {
            self.published().into_iter().find_map(|ev| match ev {
                GatewayEvent::Hangup { cause, status, .. } => Some((*cause, *status)),
                _ => None,
            })
        }

        fn failed(&self) -> Vec<String> {
            self.published()
                .into_iter()
                .filter_map(|ev| match ev {
                    GatewayEvent::CommandFailed { reason, .. } => Some(reason.clone()),
                    _ => None,
                })
                .collect()
        }

        fn sent_starting(&self, start: &str) -> Option<&String> {
            self.sent.iter().find(|m| m.starts_with(start))
        }
    }

    /// Drains the outputs, answering port requests with `port` as the shell does.
    fn step(c: &mut Calls, now: Instant, port: Option<u16>) -> Step {
        let mut s = Step::default();
        while let Some(o) = c.poll_output() {
            match o {
                Output::Transmit { data, .. } => {
                    s.sent.push(String::from_utf8_lossy(&data).into_owned())
                }
                Output::BindMedia { call_id } => {
                    c.media_bound(now, call_id, port);
                    s.rest.push(Output::BindMedia { call_id });
                }
                other => s.rest.push(other),
            }
        }
        s
    }

    /// The peer's 200 OK to a request we sent.
    fn ok_for(req: &str) -> String {
        let mut out = String::from("SIP/2.0 200 OK\r\n");
        for l in req.lines() {
            let name = l.split(':').next().unwrap_or_default();
            if ["Via", "From", "To", "Call-ID", "CSeq"].contains(&name) {
                out.push_str(l);
                out.push_str("\r\n");
            }
        }
        out.push_str("Content-Length: 0\r\n\r\n");
        out
    }

    fn tag_of(resp: &str) -> String {
        let to = resp.lines().find(|l| l.starts_with("To:")).unwrap();
        msg::param(to, "tag").unwrap()
    }

    /// An INVITE until the call layer asks for its route: its key.
    fn incoming(c: &mut Calls, now: Instant, sip_call_id: &str) -> CallKey {
        c.handle_sip(now, trunk(), &invite(sip_call_id));
        let s = step(c, now, None);
        assert!(s.sent_starting("SIP/2.0 100").is_some(), "{:?}", s.sent);
        s.rest
            .iter()
            .find_map(|o| match o {
                Output::Route { call, .. } => Some(*call),
                _ => None,
            })
            .expect("a route look-up")
    }

    fn accept(tenant_id: Uuid) -> Result<Route, String> {
        Ok(Route::Accept {
            tenant_id,
            mode: FlowMode::Backend,
            flow: FlowConfig::default(),
        })
    }

    /// An inbound call routed to a backend flow and ringing: its id.
    fn ringing(c: &mut Calls, now: Instant, sip_call_id: &str, tenant: Uuid) -> (Uuid, Step) {
        let key = incoming(c, now, sip_call_id);
        c.routed(now, key, accept(tenant));
        let s = step(c, now, Some(40_000));
        let Some(GatewayEvent::CallStarted { call_id, .. }) = s.published().first().copied() else {
            panic!("no call_started: {:?}", s.rest)
        };
        (*call_id, s)
    }

    /// An inbound call answered by the backend and ACKed: its id and the 200's To tag.
    fn answered(c: &mut Calls, now: Instant, sip_call_id: &str, tenant: Uuid) -> (Uuid, String) {
        let (id, _) = ringing(c, now, sip_call_id, tenant);
        c.command(now, GatewayCommand::Answer { call_id: id });
        let s = step(c, now, None);
        let tag = tag_of(s.sent_starting("SIP/2.0 200").expect("200 OK"));
        c.handle_sip(now, trunk(), &in_dialog("ACK", sip_call_id, &tag));
        step(c, now, None);
        (id, tag)
    }

    #[test]
    fn inbound_call_routed_to_the_backend_rings_then_is_answered_with_its_port() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        let key = incoming(&mut c, t0, "in-1");
        c.routed(t0, key, accept(tenant));
        let s = step(&mut c, t0, Some(40_002));
        assert!(matches!(s.rest[0], Output::BindMedia { .. }));
        let Some(GatewayEvent::CallStarted {
            call_id, did, mode, ..
        }) = s.published().first().copied()
        else {
            panic!("{:?}", s.rest)
        };
        assert_eq!((did.as_str(), *mode), ("+994125550100", FlowMode::Backend));
        assert!(s.sent_starting("SIP/2.0 180").is_some(), "{:?}", s.sent);
        assert!(s.sent_starting("SIP/2.0 200").is_none());
        let id = *call_id;

        // A media command before the answer is refused.
        c.command(t0, GatewayCommand::StopMedia { call_id: id });
        assert_eq!(step(&mut c, t0, None).failed(), ["call not answered"]);

        c.command(t0, GatewayCommand::Answer { call_id: id });
        let s = step(&mut c, t0, None);
        let ok = s.sent_starting("SIP/2.0 200").expect("200 OK");
        assert!(ok.contains("m=audio 40002 RTP/AVP 0"), "{ok}");
        assert!(matches!(
            s.published()[..],
            [GatewayEvent::CallAnswered { call_id, tenant_id, .. }] if *call_id == id && *tenant_id == tenant
        ));
        let Some(Output::StartMedia(start)) = s.rest.last() else {
            panic!("{:?}", s.rest)
        };
        assert_eq!(
            (start.call_id, start.tenant_id, start.call),
            (id, tenant, key)
        );
        assert!(
            start.flow.is_none(),
            "the backend drives the call, not the built-in flow"
        );
        assert_eq!(
            start.offer.remote_rtp,
            "127.0.0.1:4000".parse::<SocketAddr>().unwrap()
        );

        c.command(t0, GatewayCommand::StopMedia { call_id: id });
        let s = step(&mut c, t0, None);
        assert!(matches!(
            s.rest[..],
            [Output::Media { call_id, ctl: MediaCtl::Ivr(IvrCommand::Stop) }] if call_id == id
        ));
    }

    /// A desk phone (not on the trunk ACL) calling extension 1002 of tenant `acme`.
    fn desk_invite(call_id: &str, auth: &str) -> Vec<u8> {
        format!(
            "INVITE sip:1002@acme.sip.test SIP/2.0\r\nVia: SIP/2.0/UDP 10.0.0.7:5062;branch=z9hG4bK-{call_id}\r\nFrom: <sip:1001@acme.sip.test>;tag=d1\r\nTo: <sip:1002@acme.sip.test>\r\nCall-ID: {call_id}\r\nCSeq: 1 INVITE\r\n{auth}Contact: <sip:1001@10.0.0.7:5062>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{SDP}",
            SDP.len()
        )
        .into_bytes()
    }

    fn desk() -> Peer {
        Peer {
            addr: "10.0.0.7:5062".parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    #[test]
    fn a_desk_phones_invite_is_checked_against_its_extension_not_routed_as_a_trunk_call() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        // Unauthenticated: the shell's check answers with a challenge, sent as it is.
        c.handle_sip(t0, desk(), &desk_invite("int-1", ""));
        let s = step(&mut c, t0, None);
        let Some((key, domain, from)) = s.rest.iter().find_map(|o| match o {
            Output::AuthenticateExtension {
                call, domain, from, ..
            } => Some((*call, domain.clone(), from.clone())),
            _ => None,
        }) else {
            panic!("no extension check: {:?}", s.rest)
        };
        assert_eq!((domain.as_str(), from.as_str()), ("acme.sip.test", "1001"));
        assert!(!s.rest.iter().any(|o| matches!(o, Output::Route { .. })));
        let challenge = ("Proxy-Authenticate", "Digest realm=\"acme\"".to_string());
        c.extension_checked(t0, key, Err((407, vec![challenge])));
        let s = step(&mut c, t0, None);
        let r = s.sent_starting("SIP/2.0 407").expect("407");
        assert!(
            r.contains("Proxy-Authenticate: Digest realm=\"acme\""),
            "{r}"
        );
        assert!(s.published().is_empty() && c.is_empty());

        // Authenticated: rings, and the backend hears of an internal call.
        c.handle_sip(
            t0,
            desk(),
            &desk_invite("int-2", "Proxy-Authorization: Digest username=\"1001\"\r\n"),
        );
        let s = step(&mut c, t0, None);
        let key = s
            .rest
            .iter()
            .find_map(|o| match o {
                Output::AuthenticateExtension { call, .. } => Some(*call),
                _ => None,
            })
            .expect("an extension check");
        c.extension_checked(t0, key, Ok((tenant, "1001".into())));
        let s = step(&mut c, t0, Some(40_010));
        let Some(GatewayEvent::InternalCall {
            tenant_id,
            from_ext,
            to,
            ..
        }) = s.published().first().copied()
        else {
            panic!("{:?}", s.rest)
        };
        assert_eq!(
            (*tenant_id, from_ext.as_str(), to.as_str()),
            (tenant, "1001", "1002")
        );
        assert!(s.sent_starting("SIP/2.0 180").is_some(), "{:?}", s.sent);
        assert!(s.sent_starting("SIP/2.0 200").is_none());

        // Wrong credentials: 403; a trunk's INVITE to the gateway's address is still routed.
        c.handle_sip(t0, desk(), &desk_invite("int-3", ""));
        let key = step(&mut c, t0, None)
            .rest
            .iter()
            .find_map(|o| match o {
                Output::AuthenticateExtension { call, .. } => Some(*call),
                _ => None,
            })
            .expect("an extension check");
        c.extension_checked(t0, key, Err((403, Vec::new())));
        assert!(step(&mut c, t0, None)
            .sent_starting("SIP/2.0 403")
            .is_some());
        incoming(&mut c, t0, "trunk-1");
    }

    #[test]
    fn routing_outcomes_reject_with_their_status() {
        let t0 = Instant::now();
        let cases: [(Result<Route, String>, u16, bool); 3] = [
            (Ok(Route::UnknownDid), 404, false),
            (
                Ok(Route::Blacklisted {
                    tenant_id: Uuid::new_v4(),
                }),
                403,
                true,
            ),
            (Err("redis down".into()), 503, false),
        ];
        for (route, status, has_tenant) in cases {
            let mut c = calls();
            let key = incoming(&mut c, t0, "in-r");
            c.routed(t0, key, route);
            let s = step(&mut c, t0, None);
            assert!(
                s.sent_starting(&format!("SIP/2.0 {status}")).is_some(),
                "{status}: {:?}",
                s.sent
            );
            // Only a call with a tenant is reported (the backend has nobody to tell otherwise).
            let expected = has_tenant.then_some((HangupCause::Rejected, Some(status)));
            assert_eq!(s.hangup(), expected);
            assert!(c.is_empty());
        }
        // No free RTP port: 503, reported to the tenant.
        let mut c = calls();
        let key = incoming(&mut c, t0, "in-p");
        c.routed(t0, key, accept(Uuid::new_v4()));
        let s = step(&mut c, t0, None);
        assert!(s.sent_starting("SIP/2.0 503").is_some(), "{:?}", s.sent);
        assert_eq!(s.hangup(), Some((HangupCause::Rejected, Some(503))));
    }

    #[test]
    fn an_inbound_call_the_backend_never_answers_gets_480_with_cause_timeout() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        ringing(&mut c, t0, "in-t", tenant);
        let due = t0 + Duration::from_secs(60);
        assert_eq!(c.poll_timeout(), Some(due));
        let early = due - Duration::from_millis(1);
        c.handle_timeout(early);
        let s = step(&mut c, early, None);
        assert!(s.sent.is_empty() && s.rest.is_empty());
        let now = due;
        c.handle_timeout(now);
        let s = step(&mut c, now, None);
        assert!(s.sent_starting("SIP/2.0 480").is_some(), "{:?}", s.sent);
        assert_eq!(s.hangup(), Some((HangupCause::Timeout, Some(480))));
        assert!(s.rest.iter().any(|o| matches!(o, Output::EndMedia { .. })));
        assert!(c.is_empty());
    }

    fn originate(call_id: Uuid, tenant_id: Uuid, callee: &str) -> GatewayCommand {
        GatewayCommand::Originate {
            call_id,
            tenant_id,
            caller: "+994125550100".into(),
            callee: callee.into(),
        }
    }

    /// An `originate` that passed its checks: the INVITE sent.
    fn originated(c: &mut Calls, now: Instant, call_id: Uuid, tenant: Uuid) -> Step {
        c.command(now, originate(call_id, tenant, "0501234567"));
        let s = step(c, now, None);
        let Some(Output::CheckOutbound { cmd, callee }) = s.rest.into_iter().next() else {
            panic!("no outbound check")
        };
        assert_eq!(callee, "+0501234567");
        c.originate_checked(
            now,
            cmd,
            OriginateCheck::Trunk {
                blocked: Ok(false),
                admission: Some(OutboundAdmission::Admitted),
            },
        );
        step(c, now, Some(40_010))
    }

    #[test]
    fn an_originate_nobody_answers_times_out_and_is_released() {
        let (mut c, t0, tenant, id) = (calls(), Instant::now(), Uuid::new_v4(), Uuid::new_v4());
        let s = originated(&mut c, t0, id, tenant);
        let inv = s.sent_starting("INVITE sip:+0501234567@").expect("INVITE");
        assert!(inv.contains("m=audio 40010 RTP/AVP"), "{inv}");
        assert_eq!(c.outbound_leases().get(&tenant), Some(&vec![id]));
        // The trunk never answers: Timer A retransmits, Timer B (64·T1 = 32 s) gives up.
        let mut retransmitted = 0;
        let ended = loop {
            let now = c.poll_timeout().unwrap();
            assert!(now <= t0 + Duration::from_secs(32), "no timeout by Timer B");
            c.handle_timeout(now);
            let s = step(&mut c, now, None);
            retransmitted += s.sent.iter().filter(|m| m.starts_with("INVITE")).count();
            if s.hangup().is_some() {
                break s;
            }
        };
        assert!(retransmitted >= 5, "{retransmitted}");
        assert_eq!(ended.hangup(), Some((HangupCause::Timeout, Some(408))));
        assert!(ended.rest.iter().any(|o| matches!(
            o,
            Output::ReleaseOutbound { tenant_id, call_id } if *tenant_id == tenant && *call_id == id
        )));
        assert!(c.is_empty() && c.outbound_leases().is_empty());
    }

    #[test]
    fn originate_checks_refuse_before_anything_is_sent() {
        let (t0, tenant) = (Instant::now(), Uuid::new_v4());
        let cases = [
            (Ok(true), None, HangupCause::Rejected, 403),
            (Err("down".into()), None, HangupCause::Rejected, 503),
            (
                Ok(false),
                Some(OutboundAdmission::AtLimit),
                HangupCause::OutboundLimit,
                503,
            ),
            (
                Ok(false),
                Some(OutboundAdmission::RateLimited),
                HangupCause::OutboundRateLimit,
                503,
            ),
        ];
        for (blocked, admission, cause, status) in cases {
            let mut c = calls();
            let cmd = originate(Uuid::new_v4(), tenant, "+2");
            c.originate_checked(t0, cmd, OriginateCheck::Trunk { blocked, admission });
            let s = step(&mut c, t0, Some(40_000));
            assert!(s.sent.is_empty(), "{:?}", s.sent);
            assert_eq!(s.hangup(), Some((cause, Some(status))));
        }
        // An extension that is not registered.
        let mut c = calls();
        c.command(t0, originate(Uuid::new_v4(), tenant, "ext:101"));
        let s = step(&mut c, t0, None);
        let Some(Output::LookupExtension { cmd, ext }) = s.rest.into_iter().next() else {
            panic!("no extension look-up")
        };
        assert_eq!(ext, "101");
        c.originate_checked(t0, cmd, OriginateCheck::Extension(None));
        let s = step(&mut c, t0, None);
        assert_eq!(s.hangup(), Some((HangupCause::Rejected, Some(480))));
    }

    /// A tenant trunk of `tenant` at the test trunk's address (127.0.0.1:5099) carrying
    /// +994125550100, outbound, with its own credentials.
    fn tenant_trunk(tenant: Uuid, mode: hotline_wire::trunks::TrunkMode) -> Trunk {
        use hotline_wire::trunks::{CallerIdRule, NumberFormat, TrunkCodec, TrunkConfig};
        let cfg = TrunkConfig {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            name: "byoc".into(),
            mode,
            host: "127.0.0.1".into(),
            port: 5099,
            outbound_proxy: None,
            username: "acme".into(),
            auth_username: None,
            password: "tenant-pw".into(),
            register_expires: 300,
            allowed_ips: Vec::new(),
            codecs: vec![TrunkCodec::Pcma],
            callee_format: NumberFormat::National,
            country_code: "994".into(),
            national_prefix: "0".into(),
            caller_id: CallerIdRule {
                fixed: Some("+994125559999".into()),
                same_format_as_callee: true,
            },
            inbound_dids: vec!["+994125550100".into()],
            outbound: true,
        };
        Trunk::new(cfg, vec![TRUNK.parse().unwrap()], Vec::new())
    }

    /// A call layer whose platform ACL does not trust the test trunk's address.
    fn calls_behind_acl() -> Calls {
        let mut cfg = config();
        cfg.trunk_acl = vec![("10.0.0.0".parse().unwrap(), 8)];
        cfg.trunk_auth = Some(("platform-user".into(), "platform-pw".into()));
        Calls::new(Arc::new(cfg), "secret".into())
    }

    #[test]
    fn a_tenant_trunks_call_is_admitted_for_its_own_numbers_and_its_tenant_only() {
        use hotline_wire::trunks::TrunkMode;
        let (t0, x, y) = (Instant::now(), Uuid::new_v4(), Uuid::new_v4());
        // Without the trunk the platform ACL refuses the source.
        let mut c = calls_behind_acl();
        c.handle_sip(t0, trunk(), &invite("in-acl"));
        let s = step(&mut c, t0, None);
        assert!(s.sent_starting("SIP/2.0 403").is_some(), "{:?}", s.sent);
        let t = tenant_trunk(x, TrunkMode::Ip);
        let trunk_id = t.cfg.id;
        c.set_trunks(t0, vec![t]);
        let s = step(&mut c, t0, None);
        assert!(
            matches!(
                &s.rest[..],
                [Output::TrunkStatus { trunk, status: Some(st) }]
                    if *trunk == trunk_id && st.state == TrunkState::Ip && st.gateway_id == "gw-test"
            ),
            "{:?}",
            s.rest
        );
        // Its number: admitted, looked up with the trunk's tenant, started for it.
        let key = {
            c.handle_sip(t0, trunk(), &invite("in-x"));
            let s = step(&mut c, t0, None);
            let Some((call, did, tt)) = s.rest.iter().find_map(|o| match o {
                Output::Route {
                    call,
                    did,
                    trunk_tenant,
                    ..
                } => Some((*call, did.clone(), *trunk_tenant)),
                _ => None,
            }) else {
                panic!("{:?} {:?}", s.sent, s.rest)
            };
            assert_eq!((did.as_str(), tt), ("+994125550100", Some(x)));
            call
        };
        c.routed(t0, key, accept(x));
        let s = step(&mut c, t0, Some(40_000));
        assert!(matches!(
            s.published()[..],
            [GatewayEvent::CallStarted { tenant_id, .. }] if *tenant_id == x
        ));
        // The same number given to another tenant by platform:dids: 404, never Y.
        c.handle_sip(t0, trunk(), &invite("in-y"));
        let key = step(&mut c, t0, None)
            .rest
            .iter()
            .find_map(|o| match o {
                Output::Route { call, .. } => Some(*call),
                _ => None,
            })
            .unwrap();
        c.routed(t0, key, accept(y));
        let s = step(&mut c, t0, Some(40_002));
        assert!(s.sent_starting("SIP/2.0 404").is_some(), "{:?}", s.sent);
        assert!(s.published().is_empty(), "{:?}", s.rest);
        // A number not on the trunk: 404 at once, nothing looked up.
        let other = String::from_utf8(invite("in-z"))
            .unwrap()
            .replace("+994125550100", "+994125550777");
        c.handle_sip(t0, trunk(), other.as_bytes());
        let s = step(&mut c, t0, None);
        assert!(s.sent_starting("SIP/2.0 404").is_some(), "{:?}", s.sent);
        assert!(!s.rest.iter().any(|o| matches!(o, Output::Route { .. })));
    }

    /// The carrier's 407 to an INVITE we sent.
    fn challenge_for(req: &str) -> String {
        ok_for(req)
            .replacen(
                "SIP/2.0 200 OK",
                "SIP/2.0 407 Proxy Authentication Required",
                1,
            )
            .replace(
                "Content-Length: 0",
                "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n1\"\r\nContent-Length: 0",
            )
    }

    #[test]
    fn originate_leaves_through_the_tenants_trunk_with_its_credentials_only() {
        use hotline_wire::trunks::TrunkMode;
        let (t0, x, y) = (Instant::now(), Uuid::new_v4(), Uuid::new_v4());
        let mut c = calls_behind_acl();
        let mut other = tenant_trunk(y, TrunkMode::Ip);
        other.cfg.password = "y-secret".into();
        other.cfg.outbound = false;
        c.set_trunks(t0, vec![tenant_trunk(x, TrunkMode::Ip), other]);
        step(&mut c, t0, None);
        for (tenant, user, pass, uri, from) in [
            (
                x,
                "acme",
                "tenant-pw",
                "INVITE sip:0501234567@127.0.0.1:5099 ",
                "From: <sip:0125559999@127.0.0.1:5099>",
            ),
            // Y's trunk is not for outbound calls: the platform trunk, its credentials.
            (
                y,
                "platform-user",
                "platform-pw",
                "INVITE sip:+994501234567@127.0.0.1:5099 ",
                "From: <sip:+994125550100@127.0.0.1>",
            ),
        ] {
            let id = Uuid::new_v4();
            c.command(t0, originate(id, tenant, "+994501234567"));
            let s = step(&mut c, t0, None);
            let Some(Output::CheckOutbound { cmd, .. }) = s.rest.into_iter().next() else {
                panic!("no outbound check")
            };
            c.originate_checked(
                t0,
                cmd,
                OriginateCheck::Trunk {
                    blocked: Ok(false),
                    admission: Some(OutboundAdmission::Admitted),
                },
            );
            let s = step(&mut c, t0, Some(40_010));
            let inv = s.sent_starting("INVITE").expect("INVITE").clone();
            assert!(inv.starts_with(uri), "{inv}");
            assert!(inv.contains(from), "{inv}");
            let codecs = if tenant == x {
                "RTP/AVP 8 101"
            } else {
                "RTP/AVP 0 8 101"
            };
            assert!(inv.contains(codecs), "{inv}");
            c.handle_sip(t0, trunk(), challenge_for(&inv).as_bytes());
            let s = step(&mut c, t0, None);
            let again = s.sent_starting("INVITE").expect("re-INVITE");
            let auth = again
                .lines()
                .find_map(|l| l.strip_prefix("Proxy-Authorization: "))
                .expect("credentials");
            let creds = digest::parse_authorization(auth).unwrap();
            assert_eq!(creds.username, user);
            assert!(digest::verify(
                &creds,
                "INVITE",
                &digest::ha1(user, "carrier", pass)
            ));
        }
    }

    #[test]
    fn a_register_trunk_registers_and_reports_its_status() {
        use hotline_wire::trunks::TrunkMode;
        let (t0, x) = (Instant::now(), Uuid::new_v4());
        let mut c = calls();
        let t = tenant_trunk(x, TrunkMode::Register);
        let id = t.cfg.id;
        c.set_trunks(t0, vec![t.clone()]);
        let s = step(&mut c, t0, None);
        let reg = s
            .sent_starting("REGISTER sip:127.0.0.1:5099 SIP/2.0")
            .expect("REGISTER");
        assert!(reg.contains("Contact: <sip:acme@127.0.0.1:5060>"), "{reg}");
        assert!(
            matches!(&s.rest[..], [Output::TrunkStatus { trunk, status: Some(st) }]
            if *trunk == id && st.state == TrunkState::Registering)
        );
        let chal = challenge_for(reg)
            .replace("407 Proxy Authentication Required", "401 Unauthorized")
            .replace("Proxy-Authenticate", "WWW-Authenticate");
        c.handle_sip(t0, trunk(), chal.as_bytes());
        let s = step(&mut c, t0, None);
        let again = s
            .sent_starting("REGISTER")
            .expect("REGISTER with credentials");
        assert!(
            again.contains("Authorization: Digest username=\"acme\""),
            "{again}"
        );
        c.handle_sip(
            t0,
            trunk(),
            ok_for(again)
                .replace("Content-Length: 0", "Expires: 60\r\nContent-Length: 0")
                .as_bytes(),
        );
        let s = step(&mut c, t0, None);
        let [Output::TrunkStatus {
            status: Some(st), ..
        }] = &s.rest[..]
        else {
            panic!("{:?}", s.rest)
        };
        assert_eq!((st.state, st.status), (TrunkState::Registered, Some(200)));
        let left = st.expires_at.unwrap() - st.at;
        assert_eq!(left.num_seconds(), 60);
        assert_eq!(
            c.regs.poll_timeout(),
            Some(t0 + Duration::from_secs(30)),
            "the refresh"
        );
        // The trunk going away: unregistered, its status removed.
        c.set_trunks(t0, vec![]);
        let s = step(&mut c, t0, None);
        assert!(s
            .sent_starting("REGISTER")
            .is_some_and(|r| r.contains("Expires: 0")));
        assert!(
            matches!(&s.rest[..], [Output::TrunkStatus { trunk, status: None }] if *trunk == id)
        );
        // The drain unregisters this gateway's bindings and leaves the statuses alone.
        c.set_trunks(t0, vec![t]);
        step(&mut c, t0, None);
        c.drain(t0);
        let s = step(&mut c, t0, None);
        assert!(s
            .sent_starting("REGISTER")
            .is_some_and(|r| r.contains("Expires: 0")));
        assert!(!s
            .rest
            .iter()
            .any(|o| matches!(o, Output::TrunkStatus { .. })));
    }

    #[test]
    fn two_answered_calls_are_bridged_and_unanswered_ones_are_not() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        let (a, _) = answered(&mut c, t0, "in-a", tenant);
        let (b, _) = ringing(&mut c, t0, "in-b", tenant);
        c.command(
            t0,
            GatewayCommand::Bridge {
                call_id: a,
                target: b.to_string(),
            },
        );
        assert_eq!(
            step(&mut c, t0, None).failed(),
            ["both calls must be answered before bridging"]
        );
        c.command(t0, GatewayCommand::Answer { call_id: b });
        step(&mut c, t0, None);
        c.command(
            t0,
            GatewayCommand::Bridge {
                call_id: a,
                target: b.to_string(),
            },
        );
        let s = step(&mut c, t0, None);
        assert!(
            matches!(s.rest[..], [Output::Connect(Party::Call(x), Party::Call(y))] if x == a && y == b),
            "{:?}",
            s.rest
        );
        for (target, reason) in [
            (a.to_string(), "cannot bridge a call to itself"),
            (
                Uuid::new_v4().to_string(),
                "bridge target is not a call on this gateway",
            ),
            (
                format!("webrtc:{}", Uuid::new_v4()),
                "no such WebRTC leg on this gateway",
            ),
        ] {
            c.command(t0, GatewayCommand::Bridge { call_id: a, target });
            assert_eq!(step(&mut c, t0, None).failed(), [reason]);
        }
        let leg = Uuid::new_v4();
        c.leg_opened(leg, tenant);
        c.command(
            t0,
            GatewayCommand::Bridge {
                call_id: a,
                target: format!("webrtc:{leg}"),
            },
        );
        let s = step(&mut c, t0, None);
        assert!(
            matches!(s.rest[..], [Output::Connect(Party::Call(x), Party::Leg(y))] if x == a && y == leg),
            "{:?}",
            s.rest
        );
    }

    #[test]
    fn a_conference_room_opens_for_its_tenant_and_closes_with_its_last_member() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        let (a, _) = answered(&mut c, t0, "in-a", tenant);
        let (b, _) = answered(&mut c, t0, "in-b", tenant);
        let (other, _) = answered(&mut c, t0, "in-c", Uuid::new_v4());
        let join = |c: &mut Calls, call_id: Uuid| {
            c.command(
                t0,
                GatewayCommand::Conference {
                    call_id,
                    room: "sales".into(),
                },
            );
            step(c, t0, None)
        };
        let s = join(&mut c, a);
        let room = wire::conference_room_id("sales");
        let Output::Connect(Party::Room { room: r, slot: sa }, Party::Call(m)) = s.rest[1] else {
            panic!("{:?}", s.rest)
        };
        assert!(matches!(s.rest[0], Output::OpenRoom(id) if id == room));
        assert_eq!((r, m), (room, a));
        let s = join(&mut c, b);
        let Output::Connect(Party::Room { slot: sb, .. }, Party::Call(m)) = s.rest[0] else {
            panic!("{:?}", s.rest)
        };
        assert_eq!((m, s.rest.len()), (b, 1), "the room is opened once");
        assert_eq!(
            join(&mut c, other).failed(),
            ["the conference room belongs to another tenant"]
        );
        c.conference_left(room, sa);
        assert!(c.poll_output().is_none(), "b is still in the room");
        c.conference_left(room, sb);
        assert!(matches!(c.poll_output(), Some(Output::CloseRoom(id)) if id == room));
    }

    #[test]
    fn drain_refuses_new_calls_and_ends_when_the_last_call_is_gone() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        let (_, tag) = answered(&mut c, t0, "in-d", tenant);
        c.drain(t0);
        assert!(matches!(
            step(&mut c, t0, None).rest[..],
            [Output::Heartbeat]
        ));
        c.handle_sip(t0, trunk(), &invite("in-late"));
        let s = step(&mut c, t0, None);
        assert!(s.sent_starting("SIP/2.0 503").is_some(), "{:?}", s.sent);
        assert_eq!(c.len(), 1);
        let check = c.poll_timeout().unwrap();
        assert!(check <= t0 + DRAIN_CHECK);
        c.handle_timeout(check);
        assert!(!step(&mut c, check, None)
            .rest
            .iter()
            .any(|o| matches!(o, Output::Drained)));
        c.handle_sip(check, trunk(), &in_dialog("BYE", "in-d", &tag));
        let s = step(&mut c, check, None);
        assert_eq!(s.hangup(), Some((HangupCause::CallerBye, None)));
        let next = c.poll_timeout().unwrap();
        c.handle_timeout(next);
        assert!(step(&mut c, next, None)
            .rest
            .iter()
            .any(|o| matches!(o, Output::Drained)));
    }

    #[test]
    fn the_drain_timeout_hangs_up_the_remaining_calls_once() {
        let (mut c, t0, tenant) = (calls(), Instant::now(), Uuid::new_v4());
        answered(&mut c, t0, "in-d", tenant);
        c.drain(t0);
        step(&mut c, t0, None);
        let late = t0 + Duration::from_secs(301);
        c.handle_timeout(late);
        let s = step(&mut c, late, None);
        assert_eq!(s.sent.iter().filter(|m| m.starts_with("BYE")).count(), 1);
        let bye = s.sent_starting("BYE").unwrap().clone();
        let later = late + DRAIN_CHECK;
        c.handle_timeout(later);
        assert!(step(&mut c, later, None).sent.is_empty(), "hung up once");
        c.handle_sip(later, trunk(), ok_for(&bye).as_bytes());
        let s = step(&mut c, later, None);
        assert_eq!(s.hangup(), Some((HangupCause::Shutdown, None)));
    }
}
