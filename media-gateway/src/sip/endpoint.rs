//! The sans-IO SIP endpoint: transaction matching, the UAS side of INVITE dialogs (answer,
//! reject, CANCEL, BYE both ways, re-INVITE hold/unhold, INFO DTMF), OPTIONS keep-alives and
//! REGISTER hand-off to the transaction user.
//!
//! Feed it datagrams/messages with [`Endpoint::handle_input`], fire timers with
//! [`Endpoint::handle_timeout`], and drain [`Endpoint::poll_output`]: bytes to transmit and
//! events for the call layer. It owns no socket and no clock.

use super::digest;
use super::msg::{self, build_response};
use super::transaction::{
    ClientTransaction, ServerKind, ServerTransaction, TxAction, TxState, T1, T2,
};
use crate::sdp::{self, AcceptedOffer, Direction};
use bytes::Bytes;
use rsip::SipMessage;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

/// Identifies one call (INVITE dialog) inside the endpoint.
pub type CallKey = u64;

/// Transport of a flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// UDP: unreliable, timers retransmit.
    Udp,
    /// TCP: reliable, no retransmissions.
    Tcp,
}

/// Where a message came from / goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer {
    /// Remote socket address (the source actually seen, as with `rport`).
    pub addr: SocketAddr,
    /// Transport.
    pub transport: Transport,
}

impl Peer {
    fn reliable(&self) -> bool {
        self.transport == Transport::Tcp
    }
}

/// Static endpoint settings.
#[derive(Debug, Clone)]
pub struct EndpointConfig {
    /// Address advertised in Via and Contact.
    pub advertised: SocketAddr,
    /// `User-Agent` / `Server` value.
    pub user_agent: String,
}

/// Opaque handle of a server transaction waiting for the transaction user's response.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TxHandle(TxKey);

type TxKey = (String, String);

/// Something for the caller to do.
// Outputs are short-lived (queued and drained each loop turn); an incoming call's event is
// the big one and the common one is `Transmit`: boxing would cost an allocation per INVITE
// for nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// Send `data` to `peer`.
    Transmit {
        /// Destination flow.
        peer: Peer,
        /// The serialised message.
        data: Bytes,
    },
    /// Tell the call layer.
    Event(Event),
}

/// Events for the call layer.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new INVITE with an acceptable offer; answer with [`Endpoint::answer`] or
    /// [`Endpoint::reject`]. 100 Trying was already sent.
    IncomingCall {
        /// Call.
        call: CallKey,
        /// Dialled number (Request-URI user part) normalised to E.164.
        did: String,
        /// Caller (From user part) normalised to E.164.
        caller: String,
        /// SIP Call-ID.
        sip_call_id: String,
        /// Where it came from.
        peer: Peer,
        /// The accepted SDP offer.
        offer: AcceptedOffer,
        /// `Proxy-Authorization` header value, if the caller sent one (trunk or desk-phone
        /// digest auth).
        proxy_authorization: Option<String>,
        /// The Request-URI's user part as sent (control characters removed): a tenant
        /// trunk's carrier may call our registration contact (`sip:<username>@<us>`).
        request_user: String,
        /// The To URI's user part as sent (the dialled number when the Request-URI is the
        /// registration contact).
        to_user: String,
        /// The Request-URI's host (a desk phone's `<slug>.<sip domain>`; a trunk's address).
        domain: String,
    },
    /// ACK received for our 200 OK.
    Confirmed {
        /// Call.
        call: CallKey,
    },
    /// CANCEL before answer; 487 was sent.
    Cancelled {
        /// Call.
        call: CallKey,
    },
    /// The remote party sent BYE; 200 was sent.
    RemoteBye {
        /// Call.
        call: CallKey,
    },
    /// The call is over after our BYE (answered or timed out), or no ACK came for our 200.
    Ended {
        /// Call.
        call: CallKey,
        /// True when the BYE or the ACK timed out.
        timed_out: bool,
    },
    /// A re-INVITE changed the remote media (hold/unhold, new address).
    MediaUpdate {
        /// Call.
        call: CallKey,
        /// New remote RTP address.
        remote_rtp: SocketAddr,
        /// The remote's direction.
        direction: Direction,
    },
    /// DTMF via SIP INFO.
    InfoDtmf {
        /// Call.
        call: CallKey,
        /// Digit.
        digit: char,
    },
    /// An outbound call was answered (ACK sent); media can start with the answer's parameters.
    OutboundAnswered {
        /// Call.
        call: CallKey,
        /// The remote's SDP answer.
        answer: AcceptedOffer,
    },
    /// An outbound call failed before answer (final status; 408 for Timer B, 487 when we
    /// cancelled it, 488 when the answer had no usable audio).
    OutboundFailed {
        /// Call.
        call: CallKey,
        /// Final status.
        status: u16,
    },
    /// A REGISTER for the transaction user to authenticate; answer with [`Endpoint::respond`].
    Register(Registration),
    /// The final answer to a REGISTER we sent ([`Endpoint::send_register`]), or its timeout.
    RegisterReply(RegisterReply),
}

/// A REGISTER we send to a tenant trunk's carrier (built by the registration client in
/// [`crate::trunks`]).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterRequest {
    /// The client's id, echoed in [`RegisterReply::id`].
    pub id: u64,
    /// Next hop (the registrar or the outbound proxy).
    pub dest: SocketAddr,
    /// Request-URI (`sip:<registrar host>:<port>`; also the digest `uri`).
    pub request_uri: String,
    /// Address of record (`sip:<username>@<registrar host>`): From and To.
    pub aor: String,
    /// User part of our Contact (`sip:<contact_user>@<advertised address>`).
    pub contact_user: String,
    /// Call-ID (the same for every REGISTER of one registration).
    pub call_id: String,
    /// From tag.
    pub from_tag: String,
    /// CSeq number (one more for each REGISTER of the registration).
    pub cseq: u32,
    /// Expiry asked for, seconds (0: unregister).
    pub expires: u32,
    /// `(header name, value)` answering the previous challenge, if any.
    pub authorization: Option<(&'static str, String)>,
}

/// The final answer to a REGISTER we sent.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterReply {
    /// [`RegisterRequest::id`].
    pub id: u64,
    /// Final status; `None`: no answer before Timer F.
    pub status: Option<u16>,
    /// The reason phrase as sent (`"timeout"` when no answer came).
    pub reason: String,
    /// The digest challenge of a 401 (`WWW-Authenticate`) or 407 (`Proxy-Authenticate`).
    pub challenge: Option<String>,
    /// Expiry granted by a 2xx: our Contact's `expires` parameter, else the `Expires` header.
    pub expires: Option<u32>,
}

/// A REGISTER request, as the transaction user needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// Transaction to answer.
    pub tx: TxHandle,
    /// AOR user (extension).
    pub user: String,
    /// AOR domain (first label = tenant slug).
    pub domain: String,
    /// Request-URI (the digest `uri`).
    pub request_uri: String,
    /// Contact header value, if any.
    pub contact: Option<String>,
    /// Requested expiry in seconds.
    pub expires: u32,
    /// Authorization header value, if any.
    pub authorization: Option<String>,
    /// User-Agent header value, if any (shown to the tenant's admin).
    pub user_agent: Option<String>,
}

#[derive(Debug)]
enum DialogState {
    /// INVITE received, no final response yet.
    Early,
    /// 2xx sent (initial or re-INVITE), waiting for ACK; retransmitting.
    AwaitingAck {
        ok: Bytes,
        next: Instant,
        interval: Duration,
        deadline: Instant,
    },
    /// ACK received.
    Confirmed,
    /// Our BYE is in progress.
    Terminating,
}

#[derive(Debug)]
struct Dialog {
    state: DialogState,
    peer: Peer,
    call_id: String,
    local_tag: String,
    remote_tag: String,
    /// Our identity: the INVITE's To value without tag.
    local_uri: String,
    /// The INVITE's From value (with the remote tag).
    remote_uri: String,
    remote_target: String,
    route_set: Vec<String>,
    local_cseq: u32,
    invite_tx: TxKey,
    offer: AcceptedOffer,
    media: Option<(IpAddr, u16)>,
    sdp_session: u64,
    sdp_version: u64,
    /// `Ended` already reported (ACK timeout) — do not report again when the BYE completes.
    reported: bool,
    /// Set for calls we placed (UAC side).
    outbound: Option<Outbound>,
}

/// UAC state of an outbound call.
#[derive(Debug)]
struct Outbound {
    /// Branch of the current INVITE (CANCEL reuses it).
    branch: String,
    request_uri: String,
    auth: Option<(String, String)>,
    auth_tried: bool,
    offer_sdp: String,
    /// ACK of the 2xx, re-sent when the 2xx is retransmitted.
    ack: Option<Bytes>,
    cancelled: bool,
}

/// What the call layer needs to place a call.
#[derive(Debug, Clone)]
pub struct Originate {
    /// Caller id (user part of From).
    pub caller: String,
    /// Callee (user part of the Request-URI).
    pub callee: String,
    /// The trunk (next hop).
    pub trunk: SocketAddr,
    /// Our RTP address for the offer.
    pub media: (IpAddr, u16),
    /// Digest credentials for the trunk, if it challenges.
    pub auth: Option<(String, String)>,
    /// Host\[:port\] written in the Request-URI, To and From (a tenant trunk's carrier
    /// domain); `None`: the next hop's address in the Request-URI and To, ours in From.
    pub domain: Option<String>,
    /// Codecs offered, in order of preference (empty: PCMU, PCMA).
    pub codecs: Vec<crate::media::g711::G711>,
}

struct ServerEntry {
    tx: ServerTransaction,
    peer: Peer,
    request: rsip::Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClientKind {
    Invite,
    Bye,
    Cancel,
    Register,
}

struct ClientEntry {
    tx: ClientTransaction,
    peer: Peer,
    call: CallKey,
    kind: ClientKind,
}

const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, REGISTER";

/// What a timer belongs to: a server transaction, a client transaction, or a dialog whose
/// 2xx waits for its ACK.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum TimerOwner {
    Server(TxKey),
    Client(String),
    Dialog(CallKey),
}

/// The SIP endpoint state machine.
pub struct Endpoint {
    cfg: EndpointConfig,
    draining: bool,
    server: HashMap<TxKey, ServerEntry>,
    client: HashMap<String, ClientEntry>,
    dialogs: HashMap<CallKey, Dialog>,
    index: HashMap<(String, String), CallKey>,
    /// Outbound calls by Call-ID (to re-ACK retransmitted 2xx).
    uac_index: HashMap<String, CallKey>,
    next_key: CallKey,
    out: VecDeque<Output>,
    /// Every timer owner's deadline, earliest first, pushed again each time the owner changes
    /// (see [`Endpoint::arm`]). Entries whose owner is gone or now due at another instant are
    /// stale and dropped when they reach the top, so finding the next deadline costs
    /// O(log n) amortised instead of a walk over every transaction and dialog.
    timers: BinaryHeap<Reverse<(Instant, TimerOwner)>>,
}

impl Endpoint {
    /// A new endpoint.
    pub fn new(cfg: EndpointConfig) -> Self {
        Endpoint {
            cfg,
            draining: false,
            server: HashMap::new(),
            client: HashMap::new(),
            dialogs: HashMap::new(),
            index: HashMap::new(),
            uac_index: HashMap::new(),
            next_key: 1,
            out: VecDeque::new(),
            timers: BinaryHeap::new(),
        }
    }

    /// While draining, new INVITEs get 503 Service Unavailable.
    pub fn set_draining(&mut self, draining: bool) {
        self.draining = draining;
    }

    /// Calls (dialogs) currently held.
    pub fn active_calls(&self) -> usize {
        self.dialogs.len()
    }

    /// Transactions currently held (server + client).
    pub fn transactions(&self) -> usize {
        self.server.len() + self.client.len()
    }

    /// Next output, if any.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    fn transmit(&mut self, peer: Peer, data: Bytes) {
        self.out.push_back(Output::Transmit { peer, data });
    }

    fn emit(&mut self, ev: Event) {
        self.out.push_back(Output::Event(ev));
    }

    /// Handles one received message (a UDP datagram or one framed TCP message).
    /// Unparseable input is dropped; parseable requests missing mandatory headers get 400.
    pub fn handle_input(&mut self, now: Instant, peer: Peer, data: &[u8]) {
        // Keep-alive CRLFs (RFC 5626) and empty datagrams.
        if data.iter().all(|b| b.is_ascii_whitespace()) {
            return;
        }
        match msg::parse(data) {
            Some(SipMessage::Request(req)) => self.handle_request(now, peer, req),
            Some(SipMessage::Response(resp)) => {
                // The reason phrase as sent (rsip keeps only the standard one).
                let line = data.split(|b| *b == b'\n').next().unwrap_or_default();
                let line = String::from_utf8_lossy(line);
                let reason = line
                    .trim()
                    .splitn(3, ' ')
                    .nth(2)
                    .unwrap_or_default()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(100)
                    .collect();
                self.handle_response(now, resp, reason)
            }
            None => {}
        }
    }

    fn reply(&mut self, peer: Peer, req: &rsip::Request, status: u16, extra: &[(&str, String)]) {
        let mut hs: Vec<(&str, String)> = vec![("Server", self.cfg.user_agent.clone())];
        hs.extend(extra.iter().cloned());
        let data = build_response(req, status, Some(&msg::random_token(10)), &hs, None);
        self.transmit(peer, data);
    }

    fn handle_request(&mut self, now: Instant, peer: Peer, req: rsip::Request) {
        let method = req.method.to_string().to_ascii_uppercase();
        let h = &req.headers;
        let (Some(branch), Some(_from), Some(_to), Some(_cid), Some((_, cseq_method))) = (
            msg::top_branch(h),
            msg::header(h, "from"),
            msg::header(h, "to"),
            msg::header(h, "call-id"),
            msg::cseq(h),
        ) else {
            // Without a Via we cannot answer at all; otherwise say what is wrong.
            if msg::header(h, "via").is_some() && method != "ACK" {
                self.reply(peer, &req, 400, &[]);
            }
            return;
        };
        if cseq_method != method {
            if method != "ACK" {
                self.reply(peer, &req, 400, &[]);
            }
            return;
        }
        match method.as_str() {
            "ACK" => return self.handle_ack(now, &branch, &req),
            "CANCEL" => return self.handle_cancel(now, peer, &branch, &req),
            _ => {}
        }
        let key = (branch, method.clone());
        if let Some(entry) = self.server.get(&key) {
            // A retransmission: repeat the last response.
            if let Some(resp) = entry.tx.on_retransmission() {
                let p = entry.peer;
                self.transmit(p, resp);
            }
            return;
        }
        let kind = if method == "INVITE" {
            ServerKind::Invite
        } else {
            ServerKind::NonInvite
        };
        self.server.insert(
            key.clone(),
            ServerEntry {
                tx: ServerTransaction::new(kind, peer.reliable()),
                peer,
                request: req,
            },
        );
        match method.as_str() {
            "INVITE" => self.handle_invite(now, key),
            "BYE" => self.handle_bye(now, key),
            "OPTIONS" => {
                let extra = [
                    ("Allow", ALLOW.to_string()),
                    ("Accept", "application/sdp".to_string()),
                ];
                self.respond_key(now, &key, 200, &extra, None);
            }
            "INFO" => self.handle_info(now, key),
            "REGISTER" => self.handle_register(key),
            _ => self.respond_key(now, &key, 405, &[("Allow", ALLOW.to_string())], None),
        }
    }

    fn dialog_of(&self, req: &rsip::Request) -> Option<CallKey> {
        let cid = msg::header(&req.headers, "call-id")?;
        let from_tag = msg::param(&msg::header(&req.headers, "from")?, "tag")?;
        self.index.get(&(cid, from_tag)).copied()
    }

    /// Sends a response in server transaction `key`. `to_tag` comes from the dialog if any.
    fn respond_key(
        &mut self,
        now: Instant,
        key: &TxKey,
        status: u16,
        extra: &[(&str, String)],
        body: Option<(&str, &[u8])>,
    ) {
        let Some(entry) = self.server.get(key) else {
            return;
        };
        let to_tag = self
            .dialog_of(&entry.request)
            .and_then(|c| self.dialogs.get(&c))
            .map(|d| d.local_tag.clone())
            .unwrap_or_else(|| msg::random_token(10));
        let mut hs: Vec<(&str, String)> = vec![("Server", self.cfg.user_agent.clone())];
        hs.extend(extra.iter().cloned());
        let entry = self.server.get_mut(key).expect("checked above");
        let bytes = if status == 100 {
            build_response(&entry.request, status, None, &hs, body)
        } else {
            build_response(&entry.request, status, Some(&to_tag), &hs, body)
        };
        let peer = entry.peer;
        let sent = entry.tx.send_response(now, status, bytes);
        self.arm(TimerOwner::Server(key.clone()));
        if let Some(data) = sent {
            self.transmit(peer, data);
        }
    }

    /// Answers a REGISTER (or any request handed to the transaction user).
    pub fn respond(&mut self, now: Instant, tx: &TxHandle, status: u16, extra: &[(&str, String)]) {
        self.respond_key(now, &tx.0, status, extra, None);
    }

    fn handle_invite(&mut self, now: Instant, key: TxKey) {
        let Some(entry) = self.server.get(&key) else {
            return;
        };
        let req = entry.request.clone();
        let peer = entry.peer;
        let to = msg::header(&req.headers, "to").unwrap_or_default();
        if msg::param(&to, "tag").is_some() {
            return self.handle_reinvite(now, key, &req);
        }
        if self.draining {
            return self.respond_key(now, &key, 503, &[("Retry-After", "30".into())], None);
        }
        if self.dialog_of(&req).is_some() {
            // Same Call-ID and From tag with a new branch: a forked/duplicated INVITE.
            return self.respond_key(now, &key, 482, &[], None);
        }
        self.respond_key(now, &key, 100, &[], None);
        let offer = match sdp::accept_offer(&req.body) {
            Ok(o) => o,
            Err(_) => {
                let warn = (
                    "Warning",
                    "304 hotline \"Only PCMU/PCMA audio offers accepted\"".to_string(),
                );
                return self.respond_key(now, &key, 488, &[warn], None);
            }
        };
        let h = &req.headers;
        let from = msg::header(h, "from").unwrap_or_default();
        let remote_tag = msg::param(&from, "tag").unwrap_or_default();
        let call_id = msg::header(h, "call-id").unwrap_or_default();
        let request_uri = req.uri.to_string();
        let did = msg::uri_user(&request_uri)
            .or_else(|| msg::uri_user(&msg::uri_of(&to)))
            .map(|u| msg::to_e164(&msg::clean_user(&u)))
            .unwrap_or_default();
        let caller = msg::uri_user(&msg::uri_of(&from))
            .map(|u| msg::to_e164(&msg::clean_user(&u)))
            .unwrap_or_default();
        let proxy_authorization = msg::header(h, "proxy-authorization");
        let request_user = msg::uri_user(&request_uri)
            .map(|u| msg::clean_user(&u))
            .unwrap_or_default();
        let to_user = msg::uri_user(&msg::uri_of(&to))
            .map(|u| msg::clean_user(&u))
            .unwrap_or_default();
        let domain = msg::uri_host(&request_uri).unwrap_or_default();
        let remote_target = msg::header(h, "contact")
            .map(|c| msg::uri_of(&c))
            .filter(|c| c.starts_with("sip"))
            .unwrap_or_else(|| msg::uri_of(&from));
        let route_set = msg::header_values(h, "record-route")
            .iter()
            .flat_map(|v| msg::split_list(v))
            .collect();
        let call = self.next_key;
        self.next_key += 1;
        self.index
            .insert((call_id.clone(), remote_tag.clone()), call);
        self.dialogs.insert(
            call,
            Dialog {
                state: DialogState::Early,
                peer,
                call_id: call_id.clone(),
                local_tag: msg::random_token(12),
                remote_tag,
                local_uri: to,
                remote_uri: from,
                remote_target,
                route_set,
                local_cseq: 1,
                invite_tx: key,
                offer: offer.clone(),
                media: None,
                sdp_session: fastrand::u64(1..1 << 40),
                sdp_version: 1,
                reported: false,
                outbound: None,
            },
        );
        self.emit(Event::IncomingCall {
            call,
            did,
            caller,
            sip_call_id: call_id,
            peer,
            offer,
            proxy_authorization,
            request_user,
            to_user,
            domain,
        });
    }

    fn contact(&self, peer: Peer) -> String {
        match peer.transport {
            Transport::Udp => format!("<sip:hotline@{}>", self.cfg.advertised),
            Transport::Tcp => format!("<sip:hotline@{};transport=tcp>", self.cfg.advertised),
        }
    }

    /// Sends 180 Ringing for an early call.
    pub fn ring(&mut self, now: Instant, call: CallKey) {
        if let Some(d) = self.dialogs.get(&call) {
            if matches!(d.state, DialogState::Early) {
                let key = d.invite_tx.clone();
                self.respond_key(now, &key, 180, &[], None);
            }
        }
    }

    /// Answers an early call with 200 OK and our SDP (media at `local_ip:local_port`).
    /// Returns false when the call is no longer early (cancelled meanwhile).
    pub fn answer(
        &mut self,
        now: Instant,
        call: CallKey,
        local_ip: IpAddr,
        local_port: u16,
    ) -> bool {
        let Some(d) = self.dialogs.get_mut(&call) else {
            return false;
        };
        if !matches!(d.state, DialogState::Early) {
            return false;
        }
        d.media = Some((local_ip, local_port));
        let body = sdp::build_answer(
            &d.offer,
            local_ip,
            local_port,
            d.sdp_session,
            d.sdp_version,
            d.offer.direction.answer(),
        );
        let key = d.invite_tx.clone();
        let peer = d.peer;
        let contact = self.contact(peer);
        let extra = [("Contact", contact), ("Allow", ALLOW.to_string())];
        self.respond_key(
            now,
            &key,
            200,
            &extra,
            Some(("application/sdp", body.as_bytes())),
        );
        // The INVITE server transaction terminated on the 2xx; the dialog retransmits it.
        let ok = self
            .server
            .get(&key)
            .and_then(|e| e.tx.last_response_bytes());
        if let (Some(ok), Some(d)) = (ok, self.dialogs.get_mut(&call)) {
            d.state = DialogState::AwaitingAck {
                ok,
                next: now + T1,
                interval: T1,
                deadline: now + 64 * T1,
            };
            self.arm(TimerOwner::Dialog(call));
        }
        true
    }

    /// Rejects an early call with a final error status (404, 403, 480, 486, 503...).
    pub fn reject(&mut self, now: Instant, call: CallKey, status: u16, extra: &[(&str, String)]) {
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        if !matches!(d.state, DialogState::Early) {
            return;
        }
        let key = d.invite_tx.clone();
        self.respond_key(now, &key, status, extra, None);
        self.remove_dialog(call);
    }

    /// Hangs up: BYE for an answered call, 480 for an early one.
    pub fn hangup(&mut self, now: Instant, call: CallKey) {
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        match d.state {
            DialogState::Early if d.outbound.is_some() => self.send_cancel(now, call),
            DialogState::Early => {
                self.reject(now, call, 480, &[]);
                self.emit(Event::Ended {
                    call,
                    timed_out: false,
                });
            }
            DialogState::Terminating => {}
            _ => self.send_bye(now, call),
        }
    }

    fn send_bye(&mut self, now: Instant, call: CallKey) {
        let Some(d) = self.dialogs.get_mut(&call) else {
            return;
        };
        d.state = DialogState::Terminating;
        d.local_cseq += 1;
        let branch = format!("z9hG4bK{}", msg::random_token(16));
        let proto = match d.peer.transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        };
        let mut headers: Vec<(&str, String)> = vec![
            (
                "Via",
                format!(
                    "SIP/2.0/{proto} {};branch={branch};rport",
                    self.cfg.advertised
                ),
            ),
            ("Max-Forwards", "70".into()),
            ("From", format!("{};tag={}", d.local_uri, d.local_tag)),
            ("To", d.remote_uri.clone()),
            ("Call-ID", d.call_id.clone()),
            ("CSeq", format!("{} BYE", d.local_cseq)),
        ];
        for r in &d.route_set {
            headers.push(("Route", r.clone()));
        }
        headers.push(("User-Agent", self.cfg.user_agent.clone()));
        let peer = d.peer;
        let Some(data) = msg::build_request("BYE", &d.remote_target, &headers, None) else {
            // Unusable remote target: nothing can be sent; the call is over for us.
            let reported = d.reported;
            self.remove_dialog(call);
            if !reported {
                self.emit(Event::Ended {
                    call,
                    timed_out: true,
                });
            }
            return;
        };
        self.client.insert(
            branch.clone(),
            ClientEntry {
                tx: ClientTransaction::new(now, data.clone(), peer.reliable()),
                peer,
                call,
                kind: ClientKind::Bye,
            },
        );
        self.arm(TimerOwner::Client(branch));
        self.transmit(peer, data);
    }

    fn remove_dialog(&mut self, call: CallKey) {
        if let Some(d) = self.dialogs.remove(&call) {
            if d.outbound.is_some() {
                self.uac_index.remove(&d.call_id);
            }
            self.index.remove(&(d.call_id, d.remote_tag));
        }
    }

    fn via(&self, transport: Transport, branch: &str) -> String {
        let proto = match transport {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        };
        format!(
            "SIP/2.0/{proto} {};branch={branch};rport",
            self.cfg.advertised
        )
    }

    /// Places an outbound call (UAC): sends the INVITE with our offer to the trunk.
    pub fn originate(&mut self, now: Instant, o: Originate) -> CallKey {
        let call = self.next_key;
        self.next_key += 1;
        let call_id = format!("{}@hotline", msg::random_token(20));
        let domain = o.domain.clone().unwrap_or_else(|| o.trunk.to_string());
        let request_uri = format!("sip:{}@{domain}", o.callee);
        let from_host = match &o.domain {
            Some(d) => d.clone(),
            None => self.cfg.advertised.ip().to_string(),
        };
        let sdp_session = fastrand::u64(1..1 << 40);
        let offer_sdp = sdp::build_offer_with(o.media.0, o.media.1, sdp_session, 1, &o.codecs);
        let placeholder = AcceptedOffer {
            remote_rtp: o.trunk,
            codec: crate::media::g711::G711::Pcmu,
            telephone_event: None,
            direction: Direction::SendRecv,
            m_index: 0,
            m_lines: Vec::new(),
        };
        self.uac_index.insert(call_id.clone(), call);
        self.dialogs.insert(
            call,
            Dialog {
                state: DialogState::Early,
                peer: Peer {
                    addr: o.trunk,
                    transport: Transport::Udp,
                },
                call_id,
                local_tag: msg::random_token(12),
                remote_tag: String::new(),
                local_uri: format!("<sip:{}@{from_host}>", o.caller),
                remote_uri: format!("<{request_uri}>"),
                remote_target: request_uri.clone(),
                route_set: Vec::new(),
                local_cseq: 0,
                invite_tx: (String::new(), String::new()),
                offer: placeholder,
                media: Some(o.media),
                sdp_session,
                sdp_version: 1,
                reported: false,
                outbound: Some(Outbound {
                    branch: String::new(),
                    request_uri,
                    auth: o.auth,
                    auth_tried: false,
                    offer_sdp,
                    ack: None,
                    cancelled: false,
                }),
            },
        );
        self.send_invite(now, call, None);
        call
    }

    fn send_invite(&mut self, now: Instant, call: CallKey, authorization: Option<(&str, String)>) {
        let contact = self
            .dialogs
            .get(&call)
            .map(|d| self.contact(d.peer))
            .unwrap_or_default();
        let via_host = self.cfg.advertised;
        let ua = self.cfg.user_agent.clone();
        let Some(d) = self.dialogs.get_mut(&call) else {
            return;
        };
        let Some(ob) = d.outbound.as_mut() else {
            return;
        };
        d.local_cseq += 1;
        ob.branch = format!("z9hG4bK{}", msg::random_token(16));
        let branch = ob.branch.clone();
        let mut headers: Vec<(&str, String)> = vec![
            (
                "Via",
                format!("SIP/2.0/UDP {via_host};branch={branch};rport"),
            ),
            ("Max-Forwards", "70".into()),
            ("From", format!("{};tag={}", d.local_uri, d.local_tag)),
            ("To", d.remote_uri.clone()),
            ("Call-ID", d.call_id.clone()),
            ("CSeq", format!("{} INVITE", d.local_cseq)),
            ("Contact", contact),
            ("Allow", ALLOW.to_string()),
            ("User-Agent", ua),
        ];
        if let Some((name, value)) = authorization {
            headers.push((name, value));
        }
        let peer = d.peer;
        let data = msg::build_request(
            "INVITE",
            &ob.request_uri,
            &headers,
            Some(("application/sdp", ob.offer_sdp.as_bytes())),
        );
        let Some(data) = data else {
            self.remove_dialog(call);
            self.emit(Event::OutboundFailed { call, status: 400 });
            return;
        };
        self.client.insert(
            branch.clone(),
            ClientEntry {
                tx: ClientTransaction::new_invite(now, data.clone(), peer.reliable()),
                peer,
                call,
                kind: ClientKind::Invite,
            },
        );
        self.arm(TimerOwner::Client(branch));
        self.transmit(peer, data);
    }

    /// CANCEL for an outbound call not answered yet (RFC 3261 §9.1).
    fn send_cancel(&mut self, now: Instant, call: CallKey) {
        let via_host = self.cfg.advertised;
        let Some(d) = self.dialogs.get_mut(&call) else {
            return;
        };
        let Some(ob) = d.outbound.as_mut() else {
            return;
        };
        if ob.cancelled {
            return;
        }
        ob.cancelled = true;
        let headers: Vec<(&str, String)> = vec![
            (
                "Via",
                format!("SIP/2.0/UDP {via_host};branch={};rport", ob.branch),
            ),
            ("Max-Forwards", "70".into()),
            ("From", format!("{};tag={}", d.local_uri, d.local_tag)),
            ("To", d.remote_uri.clone()),
            ("Call-ID", d.call_id.clone()),
            ("CSeq", format!("{} CANCEL", d.local_cseq)),
        ];
        let (peer, key) = (d.peer, format!("{}-cancel", ob.branch));
        if let Some(data) = msg::build_request("CANCEL", &ob.request_uri, &headers, None) {
            // Keyed apart from the INVITE, which has the same Via branch on the wire.
            self.client.insert(
                key.clone(),
                ClientEntry {
                    tx: ClientTransaction::new(now, data.clone(), peer.reliable()),
                    peer,
                    call,
                    kind: ClientKind::Cancel,
                },
            );
            self.arm(TimerOwner::Client(key));
            self.transmit(peer, data);
        }
    }

    /// ACK for a 2xx (new branch, to the remote target, with routes) or for a non-2xx (same
    /// branch as the INVITE, to the INVITE's Request-URI).
    fn build_ack(
        &self,
        d: &Dialog,
        resp: &rsip::Response,
        branch: &str,
        uri: &str,
        routes: bool,
    ) -> Option<Bytes> {
        let to = msg::header(&resp.headers, "to")?;
        let mut headers: Vec<(&str, String)> = vec![
            ("Via", self.via(d.peer.transport, branch)),
            ("Max-Forwards", "70".into()),
            ("From", format!("{};tag={}", d.local_uri, d.local_tag)),
            ("To", to),
            ("Call-ID", d.call_id.clone()),
            ("CSeq", format!("{} ACK", d.local_cseq)),
        ];
        if routes {
            for r in &d.route_set {
                headers.push(("Route", r.clone()));
            }
        }
        msg::build_request("ACK", uri, &headers, None)
    }

    fn on_invite_response(
        &mut self,
        now: Instant,
        branch: &str,
        call: CallKey,
        status: u16,
        resp: &rsip::Response,
    ) {
        if status >= 300 {
            self.client_ack_non2xx(call, branch, resp);
            let retry = self.dialogs.get(&call).and_then(|d| {
                let ob = d.outbound.as_ref()?;
                if ob.auth_tried || ob.cancelled || !matches!(status, 401 | 407) {
                    return None;
                }
                let (user, pass) = ob.auth.clone()?;
                let (chal_name, auth_name) = if status == 407 {
                    ("proxy-authenticate", "Proxy-Authorization")
                } else {
                    ("www-authenticate", "Authorization")
                };
                let ch = digest::parse_challenge(&msg::header(&resp.headers, chal_name)?)?;
                Some((
                    auth_name,
                    digest::authorize(&ch, &user, &pass, "INVITE", &ob.request_uri),
                ))
            });
            if let Some((name, value)) = retry {
                if let Some(ob) = self
                    .dialogs
                    .get_mut(&call)
                    .and_then(|d| d.outbound.as_mut())
                {
                    ob.auth_tried = true;
                }
                return self.send_invite(now, call, Some((name, value)));
            }
            self.remove_dialog(call);
            self.emit(Event::OutboundFailed { call, status });
            return;
        }
        // 2xx: the dialog is established.
        self.client.remove(branch);
        let Some(d) = self.dialogs.get_mut(&call) else {
            return;
        };
        let cancelled = d.outbound.as_ref().is_some_and(|o| o.cancelled);
        let to = msg::header(&resp.headers, "to").unwrap_or_default();
        d.remote_tag = msg::param(&to, "tag").unwrap_or_default();
        d.remote_uri = to;
        if let Some(c) = msg::header(&resp.headers, "contact")
            .map(|c| msg::uri_of(&c))
            .filter(|c| c.starts_with("sip"))
        {
            d.remote_target = c;
        }
        d.route_set = msg::header_values(&resp.headers, "record-route")
            .iter()
            .flat_map(|v| msg::split_list(v))
            .rev()
            .collect();
        d.state = DialogState::Confirmed;
        let key = (d.call_id.clone(), d.remote_tag.clone());
        self.index.insert(key, call);
        let ack_branch = format!("z9hG4bK{}", msg::random_token(16));
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        let ack = self.build_ack(d, resp, &ack_branch, &d.remote_target, true);
        let peer = d.peer;
        if let Some(ack) = ack {
            self.transmit(peer, ack.clone());
            if let Some(ob) = self
                .dialogs
                .get_mut(&call)
                .and_then(|d| d.outbound.as_mut())
            {
                ob.ack = Some(ack);
            }
        }
        if cancelled {
            // Our CANCEL lost the race against the 2xx: end the call properly.
            return self.send_bye(now, call);
        }
        match sdp::accept_offer(&resp.body) {
            Ok(answer) => {
                if let Some(d) = self.dialogs.get_mut(&call) {
                    d.offer = answer.clone();
                }
                self.emit(Event::OutboundAnswered { call, answer });
            }
            Err(_) => {
                if let Some(d) = self.dialogs.get_mut(&call) {
                    d.reported = true;
                }
                self.emit(Event::OutboundFailed { call, status: 488 });
                self.send_bye(now, call);
            }
        }
    }

    fn client_ack_non2xx(&mut self, call: CallKey, branch: &str, resp: &rsip::Response) {
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        let Some(ob) = d.outbound.as_ref() else {
            return;
        };
        let ack = self.build_ack(d, resp, branch, &ob.request_uri, false);
        let peer = d.peer;
        if let Some(ack) = ack {
            if let Some(e) = self.client.get_mut(branch) {
                e.tx.set_ack(ack.clone());
            }
            self.transmit(peer, ack);
        }
    }

    fn handle_ack(&mut self, now: Instant, branch: &str, req: &rsip::Request) {
        // ACK for a non-2xx final response belongs to the INVITE transaction.
        if let Some(entry) = self
            .server
            .get_mut(&(branch.to_string(), "INVITE".to_string()))
        {
            if entry.tx.state() == TxState::Completed {
                entry.tx.on_ack(now);
                self.arm(TimerOwner::Server((
                    branch.to_string(),
                    "INVITE".to_string(),
                )));
                return;
            }
        }
        // ACK for a 2xx is a request of its own within the dialog.
        let Some(call) = self.dialog_of(req) else {
            return;
        };
        let Some(d) = self.dialogs.get_mut(&call) else {
            return;
        };
        if matches!(d.state, DialogState::AwaitingAck { .. }) {
            d.state = DialogState::Confirmed;
            self.emit(Event::Confirmed { call });
        }
    }

    fn handle_cancel(&mut self, now: Instant, peer: Peer, branch: &str, req: &rsip::Request) {
        let key = (branch.to_string(), "CANCEL".to_string());
        if let Some(entry) = self.server.get(&key) {
            if let Some(resp) = entry.tx.on_retransmission() {
                let p = entry.peer;
                self.transmit(p, resp);
            }
            return;
        }
        self.server.insert(
            key.clone(),
            ServerEntry {
                tx: ServerTransaction::new(ServerKind::NonInvite, peer.reliable()),
                peer,
                request: req.clone(),
            },
        );
        let invite_key = (branch.to_string(), "INVITE".to_string());
        let pending = self
            .server
            .get(&invite_key)
            .is_some_and(|e| e.tx.state() == TxState::Proceeding);
        if !pending {
            return self.respond_key(now, &key, 481, &[], None);
        }
        self.respond_key(now, &key, 200, &[], None);
        let call = self.dialog_of(req);
        self.respond_key(now, &invite_key, 487, &[], None);
        if let Some(call) = call {
            self.remove_dialog(call);
            self.emit(Event::Cancelled { call });
        }
    }

    fn handle_bye(&mut self, now: Instant, key: TxKey) {
        let call = self
            .server
            .get(&key)
            .and_then(|e| self.dialog_of(&e.request));
        let Some(call) = call else {
            return self.respond_key(now, &key, 481, &[], None);
        };
        self.respond_key(now, &key, 200, &[], None);
        let was_terminating = self
            .dialogs
            .get(&call)
            .is_some_and(|d| matches!(d.state, DialogState::Terminating));
        let reported = self.dialogs.get(&call).is_some_and(|d| d.reported);
        self.remove_dialog(call);
        if was_terminating {
            // BYE glare: both sides hung up; our BYE's outcome no longer matters.
            if !reported {
                self.emit(Event::Ended {
                    call,
                    timed_out: false,
                });
            }
        } else {
            self.emit(Event::RemoteBye { call });
        }
    }

    fn handle_info(&mut self, now: Instant, key: TxKey) {
        let Some(entry) = self.server.get(&key) else {
            return;
        };
        let Some(call) = self.dialog_of(&entry.request) else {
            return self.respond_key(now, &key, 481, &[], None);
        };
        let body = String::from_utf8_lossy(&entry.request.body).to_string();
        let ctype = msg::header(&entry.request.headers, "content-type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let digit = if ctype.starts_with("application/dtmf-relay") {
            body.lines().find_map(|l| {
                let (k, v) = l.split_once('=')?;
                k.trim()
                    .eq_ignore_ascii_case("signal")
                    .then(|| v.trim().chars().next())
                    .flatten()
            })
        } else if ctype.starts_with("application/dtmf") {
            body.trim().chars().next()
        } else {
            None
        };
        self.respond_key(now, &key, 200, &[], None);
        if let Some(digit) = digit.filter(|d| crate::media::rtp::digit_to_event(*d).is_some()) {
            self.emit(Event::InfoDtmf {
                call,
                digit: digit.to_ascii_uppercase(),
            });
        }
    }

    fn handle_reinvite(&mut self, now: Instant, key: TxKey, req: &rsip::Request) {
        let Some(call) = self.dialog_of(req) else {
            return self.respond_key(now, &key, 481, &[], None);
        };
        let Some(d) = self.dialogs.get(&call) else {
            return;
        };
        if !matches!(d.state, DialogState::Confirmed) {
            // An offer while ours is pending (RFC 3261 §14.2).
            return self.respond_key(now, &key, 491, &[], None);
        }
        let offer = if req.body.is_empty() {
            // No offer: re-send our current session unchanged.
            Ok(d.offer.clone())
        } else {
            sdp::accept_offer(&req.body)
        };
        let Ok(offer) = offer else {
            return self.respond_key(now, &key, 488, &[], None);
        };
        let Some((ip, port)) = d.media else { return };
        let d = self.dialogs.get_mut(&call).expect("checked above");
        d.sdp_version += 1;
        d.offer = offer.clone();
        let body = sdp::build_answer(
            &offer,
            ip,
            port,
            d.sdp_session,
            d.sdp_version,
            offer.direction.answer(),
        );
        let peer = d.peer;
        let contact = self.contact(peer);
        self.respond_key(
            now,
            &key,
            200,
            &[("Contact", contact)],
            Some(("application/sdp", body.as_bytes())),
        );
        let ok = self
            .server
            .get(&key)
            .and_then(|e| e.tx.last_response_bytes());
        if let (Some(ok), Some(d)) = (ok, self.dialogs.get_mut(&call)) {
            d.state = DialogState::AwaitingAck {
                ok,
                next: now + T1,
                interval: T1,
                deadline: now + 64 * T1,
            };
            self.arm(TimerOwner::Dialog(call));
        }
        self.emit(Event::MediaUpdate {
            call,
            remote_rtp: offer.remote_rtp,
            direction: offer.direction,
        });
    }

    fn handle_register(&mut self, key: TxKey) {
        let Some(entry) = self.server.get(&key) else {
            return;
        };
        let h = &entry.request.headers;
        let to_uri = msg::uri_of(&msg::header(h, "to").unwrap_or_default());
        let contact = msg::header(h, "contact");
        let expires = contact
            .as_deref()
            .and_then(|c| msg::param(c, "expires"))
            .or_else(|| msg::header(h, "expires"))
            .and_then(|e| e.trim().parse().ok())
            .unwrap_or(3600);
        let ev = Event::Register(Registration {
            tx: TxHandle(key.clone()),
            user: msg::uri_user(&to_uri).unwrap_or_default(),
            domain: msg::uri_host(&to_uri).unwrap_or_default(),
            request_uri: entry.request.uri.to_string(),
            contact,
            expires,
            authorization: msg::header(h, "authorization"),
            user_agent: msg::header(h, "user-agent"),
        });
        self.emit(ev);
    }

    fn handle_response(&mut self, now: Instant, resp: rsip::Response, reason: String) {
        let Some(branch) = msg::top_branch(&resp.headers) else {
            return;
        };
        let status = resp.status_code.code();
        let method = msg::cseq(&resp.headers).map(|(_, m)| m).unwrap_or_default();
        let key = if method == "CANCEL" {
            format!("{branch}-cancel")
        } else {
            branch.clone()
        };
        let Some(entry) = self.client.get_mut(&key) else {
            // A retransmitted 2xx for an outbound INVITE whose transaction is gone: re-ACK.
            if method == "INVITE" && (200..300).contains(&status) {
                let call = msg::header(&resp.headers, "call-id")
                    .and_then(|c| self.uac_index.get(&c).copied());
                let ack = call
                    .and_then(|c| self.dialogs.get(&c))
                    .and_then(|d| Some((d.peer, d.outbound.as_ref()?.ack.clone()?)));
                if let Some((peer, ack)) = ack {
                    self.transmit(peer, ack);
                }
            }
            return;
        };
        if let Some(ack) = entry.tx.retransmitted_final() {
            let peer = entry.peer;
            return self.transmit(peer, ack);
        }
        let (call, kind) = (entry.call, entry.kind);
        let final_status = entry.tx.on_response(now, status);
        self.arm(TimerOwner::Client(key));
        let Some(final_status) = final_status else {
            return;
        };
        match kind {
            ClientKind::Bye => self.finish_bye(call, false),
            ClientKind::Cancel => {}
            ClientKind::Invite => self.on_invite_response(now, &branch, call, final_status, &resp),
            ClientKind::Register => self.on_register_response(call, final_status, &resp, reason),
        }
    }

    /// Sends a REGISTER to a carrier (UDP) in a non-INVITE client transaction; its final
    /// answer (or timeout) comes back as [`Event::RegisterReply`].
    pub fn send_register(&mut self, now: Instant, r: RegisterRequest) {
        let branch = format!("z9hG4bK{}", msg::random_token(16));
        let mut headers: Vec<(&str, String)> = vec![
            ("Via", self.via(Transport::Udp, &branch)),
            ("Max-Forwards", "70".into()),
            ("From", format!("<{}>;tag={}", r.aor, r.from_tag)),
            ("To", format!("<{}>", r.aor)),
            ("Call-ID", r.call_id.clone()),
            ("CSeq", format!("{} REGISTER", r.cseq)),
            (
                "Contact",
                format!("<sip:{}@{}>", r.contact_user, self.cfg.advertised),
            ),
            ("Expires", r.expires.to_string()),
            ("Allow", ALLOW.to_string()),
            ("User-Agent", self.cfg.user_agent.clone()),
        ];
        if let Some((name, value)) = r.authorization {
            headers.push((name, value));
        }
        let peer = Peer {
            addr: r.dest,
            transport: Transport::Udp,
        };
        let Some(data) = msg::build_request("REGISTER", &r.request_uri, &headers, None) else {
            self.emit(Event::RegisterReply(RegisterReply {
                id: r.id,
                status: None,
                reason: "bad registrar address".into(),
                challenge: None,
                expires: None,
            }));
            return;
        };
        self.client.insert(
            branch.clone(),
            ClientEntry {
                tx: ClientTransaction::new(now, data.clone(), false),
                peer,
                call: r.id,
                kind: ClientKind::Register,
            },
        );
        self.arm(TimerOwner::Client(branch));
        self.transmit(peer, data);
    }

    fn on_register_response(
        &mut self,
        id: u64,
        status: u16,
        resp: &rsip::Response,
        reason: String,
    ) {
        let h = &resp.headers;
        let challenge = match status {
            401 => msg::header(h, "www-authenticate"),
            407 => msg::header(h, "proxy-authenticate"),
            _ => None,
        };
        // Our binding's expiry: the Contact naming us (the registrar lists every binding of
        // the AOR), else the only Contact, else the Expires header.
        let ours = format!("@{}", self.cfg.advertised);
        let contacts: Vec<String> = msg::header_values(h, "contact")
            .iter()
            .flat_map(|v| msg::split_list(v))
            .collect();
        let contact =
            contacts
                .iter()
                .find(|c| msg::uri_of(c).contains(&ours))
                .or(if contacts.len() == 1 {
                    contacts.first()
                } else {
                    None
                });
        let expires = contact
            .and_then(|c| msg::param(c, "expires"))
            .or_else(|| msg::header(h, "expires"))
            .and_then(|e| e.trim().parse().ok());
        self.emit(Event::RegisterReply(RegisterReply {
            id,
            status: Some(status),
            reason,
            challenge,
            expires,
        }));
    }

    fn finish_bye(&mut self, call: CallKey, timed_out: bool) {
        let reported = self.dialogs.get(&call).map(|d| d.reported);
        if let Some(reported) = reported {
            self.remove_dialog(call);
            if !reported {
                self.emit(Event::Ended { call, timed_out });
            }
        }
    }

    /// The owner's current deadline, if it has a timer running.
    fn deadline(&self, owner: &TimerOwner) -> Option<Instant> {
        match owner {
            TimerOwner::Server(key) => self.server.get(key)?.tx.poll_timeout(),
            TimerOwner::Client(key) => self.client.get(key)?.tx.poll_timeout(),
            TimerOwner::Dialog(call) => match self.dialogs.get(call)?.state {
                DialogState::AwaitingAck { next, deadline, .. } => Some(next.min(deadline)),
                _ => None,
            },
        }
    }

    /// Records `owner`'s deadline after anything that may have changed it (a response sent or
    /// received, an ACK, a timer fired, a transaction or an ACK wait begun). Its earlier
    /// entries become stale; none is removed here.
    fn arm(&mut self, owner: TimerOwner) {
        if let Some(at) = self.deadline(&owner) {
            self.timers.push(Reverse((at, owner)));
        }
    }

    /// Earliest instant with timer work. Drops the stale entries on top of the heap.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(Reverse((at, owner))) = self.timers.peek() {
            if self.deadline(owner) == Some(*at) {
                return Some(*at);
            }
            self.timers.pop();
        }
        None
    }

    /// Fires every timer due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        let mut due = Vec::new();
        while let Some(Reverse((at, _))) = self.timers.peek() {
            if *at > now {
                break;
            }
            if let Some(Reverse((_, owner))) = self.timers.pop() {
                if self.deadline(&owner).is_some_and(|d| d <= now) {
                    due.push(owner);
                }
            }
        }
        due.sort();
        due.dedup();
        let mut to_send = Vec::new();
        let mut bye_done = Vec::new();
        let mut invite_timeouts = Vec::new();
        let mut register_timeouts = Vec::new();
        let mut ack_timeouts = Vec::new();
        for owner in due {
            match &owner {
                TimerOwner::Server(key) => {
                    let Some(e) = self.server.get_mut(key) else {
                        continue;
                    };
                    let peer = e.peer;
                    let ended = fire(|| e.tx.handle_timeout(now), peer, &mut to_send).is_some();
                    // 2xx-terminated INVITE transactions are kept 64*T1 to absorb INVITE
                    // retransmissions.
                    if ended
                        || (e.tx.state() == TxState::Terminated && e.tx.poll_timeout().is_none())
                    {
                        self.server.remove(key);
                        continue;
                    }
                }
                TimerOwner::Client(key) => {
                    let Some(e) = self.client.get_mut(key) else {
                        continue;
                    };
                    let (peer, call, kind) = (e.peer, e.call, e.kind);
                    let ended = fire(|| e.tx.handle_timeout(now), peer, &mut to_send);
                    if ended == Some(TxAction::TimedOut) {
                        match kind {
                            ClientKind::Bye => bye_done.push(call),
                            ClientKind::Invite => invite_timeouts.push(call),
                            ClientKind::Register => register_timeouts.push(call),
                            ClientKind::Cancel => {}
                        }
                    }
                    if ended.is_some() {
                        self.client.remove(key);
                        continue;
                    }
                }
                TimerOwner::Dialog(call) => {
                    let Some(d) = self.dialogs.get_mut(call) else {
                        continue;
                    };
                    if let DialogState::AwaitingAck {
                        ok,
                        next,
                        interval,
                        deadline,
                    } = &mut d.state
                    {
                        if now >= *deadline {
                            ack_timeouts.push(*call);
                        } else if now >= *next {
                            to_send.push((d.peer, ok.clone()));
                            *interval = (*interval * 2).min(T2);
                            *next = now + *interval;
                        }
                    }
                }
            }
            self.arm(owner);
        }
        for (peer, data) in to_send {
            self.transmit(peer, data);
        }
        for call in bye_done {
            self.finish_bye(call, true);
        }
        for call in invite_timeouts {
            if self
                .dialogs
                .get(&call)
                .is_some_and(|d| matches!(d.state, DialogState::Early))
            {
                self.remove_dialog(call);
                self.emit(Event::OutboundFailed { call, status: 408 });
            }
        }
        for id in register_timeouts {
            self.emit(Event::RegisterReply(RegisterReply {
                id,
                status: None,
                reason: "timeout".into(),
                challenge: None,
                expires: None,
            }));
        }
        for call in ack_timeouts {
            // RFC 3261 §13.3.1.4: no ACK → the session is over; send BYE.
            self.emit(Event::Ended {
                call,
                timed_out: true,
            });
            if let Some(d) = self.dialogs.get_mut(&call) {
                d.reported = true;
            }
            self.send_bye(now, call);
        }
    }
}

/// Fires a transaction's due timers (its `handle_timeout` until that has nothing more to do):
/// retransmissions go to `to_send`; returns what ended the transaction, if anything did.
fn fire(
    mut handle_timeout: impl FnMut() -> Option<TxAction>,
    peer: Peer,
    to_send: &mut Vec<(Peer, Bytes)>,
) -> Option<TxAction> {
    loop {
        match handle_timeout() {
            Some(TxAction::Retransmit(b)) => to_send.push((peer, b)),
            ended => return ended,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PEER: &str = "127.0.0.1:5099";

    fn ep() -> Endpoint {
        Endpoint::new(EndpointConfig {
            advertised: "127.0.0.1:5060".parse().unwrap(),
            user_agent: "t".into(),
        })
    }

    fn peer() -> Peer {
        Peer {
            addr: PEER.parse().unwrap(),
            transport: Transport::Udp,
        }
    }

    fn invite(branch: &str, body: &str) -> String {
        format!(
            "INVITE sip:+994125550100@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch={branch}\r\nFrom: <sip:+15550001111@127.0.0.1>;tag=abc\r\nTo: <sip:+994125550100@127.0.0.1>\r\nCall-ID: call-1\r\nCSeq: 1 INVITE\r\nContact: <sip:c@127.0.0.1:5099>\r\nContent-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    }

    const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n";

    fn in_dialog(method: &str, branch: &str, cseq: u32, to_tag: &str, extra: &str) -> String {
        format!(
            "{method} sip:hotline@127.0.0.1:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:5099;branch={branch}\r\nFrom: <sip:+15550001111@127.0.0.1>;tag=abc\r\nTo: <sip:+994125550100@127.0.0.1>;tag={to_tag}\r\nCall-ID: call-1\r\nCSeq: {cseq} {method}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
    }

    fn drain(ep: &mut Endpoint) -> (Vec<String>, Vec<Event>) {
        let (mut sent, mut evs) = (Vec::new(), Vec::new());
        while let Some(o) = ep.poll_output() {
            match o {
                Output::Transmit { data, .. } => {
                    sent.push(String::from_utf8_lossy(&data).to_string())
                }
                Output::Event(e) => evs.push(e),
            }
        }
        (sent, evs)
    }

    fn to_tag(resp: &str) -> String {
        let to = resp.lines().find(|l| l.starts_with("To:")).unwrap();
        msg::param(to, "tag").unwrap()
    }

    #[test]
    fn invite_answer_ack_bye() {
        let t0 = Instant::now();
        let mut e = ep();
        e.handle_input(t0, peer(), invite("z9hG4bK1", SDP).as_bytes());
        let (sent, evs) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 100"));
        let Event::IncomingCall {
            call, did, caller, ..
        } = evs[0].clone()
        else {
            panic!("{evs:?}")
        };
        assert_eq!(
            (did.as_str(), caller.as_str()),
            ("+994125550100", "+15550001111")
        );
        assert!(e.answer(t0, call, "127.0.0.1".parse().unwrap(), 20000));
        let (sent, _) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 200"), "{}", sent[0]);
        assert!(sent[0].contains("m=audio 20000 RTP/AVP 0 101"));
        let tag = to_tag(&sent[0]);
        // No ACK yet: the 200 is retransmitted after T1.
        e.handle_timeout(t0 + T1);
        assert!(drain(&mut e).0[0].starts_with("SIP/2.0 200"));
        // A retransmitted INVITE gets the 200 again and no new call.
        e.handle_input(t0 + T1, peer(), invite("z9hG4bK1", SDP).as_bytes());
        let (sent, evs) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 200") && evs.is_empty());
        e.handle_input(
            t0 + T1,
            peer(),
            in_dialog("ACK", "z9hG4bK2", 1, &tag, "").as_bytes(),
        );
        assert_eq!(drain(&mut e).1, vec![Event::Confirmed { call }]);
        e.handle_timeout(t0 + 4 * T1);
        assert!(drain(&mut e).0.is_empty(), "no retransmission after ACK");
        e.handle_input(
            t0 + 4 * T1,
            peer(),
            in_dialog("BYE", "z9hG4bK3", 2, &tag, "").as_bytes(),
        );
        let (sent, evs) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 200") && sent[0].contains("CSeq: 2 BYE"));
        assert_eq!(evs, vec![Event::RemoteBye { call }]);
        assert_eq!(e.active_calls(), 0);
        // Everything is cleaned up after the wait timers.
        e.handle_timeout(t0 + 200 * T1);
        assert_eq!(e.transactions(), 0);
    }

    #[test]
    fn gateway_bye_retransmits_until_answered() {
        let t0 = Instant::now();
        let mut e = ep();
        e.handle_input(t0, peer(), invite("z9hG4bK1", SDP).as_bytes());
        let Event::IncomingCall { call, .. } = drain(&mut e).1[0].clone() else {
            panic!()
        };
        e.answer(t0, call, "127.0.0.1".parse().unwrap(), 20000);
        let tag = to_tag(&drain(&mut e).0[0]);
        e.handle_input(
            t0,
            peer(),
            in_dialog("ACK", "z9hG4bK2", 1, &tag, "").as_bytes(),
        );
        drain(&mut e);
        e.hangup(t0, call);
        let (sent, _) = drain(&mut e);
        assert!(
            sent[0].starts_with("BYE sip:c@127.0.0.1:5099 SIP/2.0"),
            "{}",
            sent[0]
        );
        assert!(sent[0].contains(&format!(";tag={tag}")) && sent[0].contains("CSeq: 2 BYE"));
        e.handle_timeout(t0 + T1);
        let (again, _) = drain(&mut e);
        assert!(again[0].starts_with("BYE"));
        let via = sent[0].lines().find(|l| l.starts_with("Via:")).unwrap();
        let resp = format!("SIP/2.0 200 OK\r\n{via}\r\nFrom: x;tag={tag}\r\nTo: y;tag=abc\r\nCall-ID: call-1\r\nCSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n");
        e.handle_input(t0 + T1, peer(), resp.as_bytes());
        assert_eq!(
            drain(&mut e).1,
            vec![Event::Ended {
                call,
                timed_out: false
            }]
        );
    }

    #[test]
    fn cancel_reinvite_info_options_and_errors() {
        let t0 = Instant::now();
        let mut e = ep();
        // CANCEL of a pending INVITE.
        e.handle_input(t0, peer(), invite("z9hG4bKc", SDP).as_bytes());
        let Event::IncomingCall { call, .. } = drain(&mut e).1[0].clone() else {
            panic!()
        };
        let cancel = invite("z9hG4bKc", "")
            .replace("INVITE sip", "CANCEL sip")
            .replace("1 INVITE", "1 CANCEL");
        e.handle_input(t0, peer(), cancel.as_bytes());
        let (sent, evs) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 200") && sent[0].contains("CANCEL"));
        assert!(sent[1].starts_with("SIP/2.0 487"));
        assert_eq!(evs, vec![Event::Cancelled { call }]);
        // Unsupported codec.
        let g729 = SDP.replace("RTP/AVP 0 101", "RTP/AVP 18");
        e.handle_input(
            t0,
            peer(),
            invite("z9hG4bKg", &g729)
                .replace("call-1", "call-2")
                .as_bytes(),
        );
        let (sent, _) = drain(&mut e);
        assert!(sent.iter().any(|s| s.starts_with("SIP/2.0 488")));
        // OPTIONS and an unknown method.
        let opt = in_dialog("OPTIONS", "z9hG4bKo", 1, "x", "").replace(";tag=x", "");
        e.handle_input(t0, peer(), opt.as_bytes());
        assert!(drain(&mut e).0[0].starts_with("SIP/2.0 200"));
        let sub = in_dialog("SUBSCRIBE", "z9hG4bKs", 1, "x", "");
        e.handle_input(t0, peer(), sub.as_bytes());
        assert!(drain(&mut e).0[0].starts_with("SIP/2.0 405"));
        // Missing Call-ID → 400.
        let bad = in_dialog("OPTIONS", "z9hG4bKb", 1, "x", "").replace("Call-ID: call-1\r\n", "");
        e.handle_input(t0, peer(), bad.as_bytes());
        assert!(drain(&mut e).0[0].starts_with("SIP/2.0 400"));
        // A confirmed call: INFO DTMF and a re-INVITE to hold.
        e.handle_input(
            t0,
            peer(),
            invite("z9hG4bKd", SDP)
                .replace("call-1", "call-3")
                .as_bytes(),
        );
        let Event::IncomingCall { call, .. } = drain(&mut e).1[0].clone() else {
            panic!()
        };
        e.answer(t0, call, "127.0.0.1".parse().unwrap(), 20000);
        let tag = to_tag(&drain(&mut e).0[0]);
        let ack = in_dialog("ACK", "z9hG4bKe", 1, &tag, "").replace("call-1", "call-3");
        e.handle_input(t0, peer(), ack.as_bytes());
        drain(&mut e);
        let info = in_dialog(
            "INFO",
            "z9hG4bKf",
            2,
            &tag,
            "Content-Type: application/dtmf-relay\r\n",
        )
        .replace("call-1", "call-3")
        .replace(
            "Content-Length: 0\r\n\r\n",
            "Content-Length: 24\r\n\r\nSignal=5\r\nDuration=160\r\n",
        );
        e.handle_input(t0, peer(), info.as_bytes());
        let (sent, evs) = drain(&mut e);
        assert!(sent[0].starts_with("SIP/2.0 200"));
        assert_eq!(evs, vec![Event::InfoDtmf { call, digit: '5' }]);
        let hold_sdp = SDP.to_string() + "a=sendonly\r\n";
        let reinvite = invite("z9hG4bKh", &hold_sdp)
            .replace("call-1", "call-3")
            .replace("CSeq: 1 INVITE", "CSeq: 3 INVITE")
            .replace(
                "To: <sip:+994125550100@127.0.0.1>",
                &format!("To: <sip:+994125550100@127.0.0.1>;tag={tag}"),
            );
        e.handle_input(t0, peer(), reinvite.as_bytes());
        let (sent, evs) = drain(&mut e);
        assert!(
            sent[0].starts_with("SIP/2.0 200") && sent[0].contains("a=recvonly"),
            "{}",
            sent[0]
        );
        assert_eq!(
            evs,
            vec![Event::MediaUpdate {
                call,
                remote_rtp: "127.0.0.1:4000".parse().unwrap(),
                direction: Direction::SendOnly
            }]
        );
        // BYE for an unknown dialog → 481.
        let stray = in_dialog("BYE", "z9hG4bKz", 9, "nope", "").replace("call-1", "call-9");
        e.handle_input(t0, peer(), stray.as_bytes());
        assert!(drain(&mut e).0[0].starts_with("SIP/2.0 481"));
    }

    #[test]
    fn no_ack_ends_the_call_with_bye() {
        let t0 = Instant::now();
        let mut e = ep();
        e.handle_input(t0, peer(), invite("z9hG4bK1", SDP).as_bytes());
        let Event::IncomingCall { call, .. } = drain(&mut e).1[0].clone() else {
            panic!()
        };
        e.answer(t0, call, "127.0.0.1".parse().unwrap(), 20000);
        drain(&mut e);
        let mut now = t0;
        let (mut retrans, mut byes, mut evs) = (0, 0, Vec::new());
        while now < t0 + 65 * T1 {
            now += Duration::from_millis(100);
            e.handle_timeout(now);
            let (sent, ev) = drain(&mut e);
            retrans += sent.iter().filter(|s| s.starts_with("SIP/2.0 200")).count();
            byes += sent.iter().filter(|s| s.starts_with("BYE")).count();
            evs.extend(ev);
        }
        assert!(retrans >= 7, "{retrans}");
        assert!(byes >= 1);
        assert_eq!(
            evs,
            vec![Event::Ended {
                call,
                timed_out: true
            }]
        );
    }

    fn response_to(req: &str, status: u16, to_tag: &str, extra: &str, body: &str) -> String {
        let get = |name: &str| {
            req.lines()
                .find(|l| l.starts_with(name))
                .unwrap()
                .to_string()
        };
        let to = get("To:");
        let to = if to_tag.is_empty() {
            to
        } else {
            format!("{to};tag={to_tag}")
        };
        format!(
            "SIP/2.0 {status} X\r\n{}\r\n{}\r\n{to}\r\n{}\r\n{}\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            get("Via:"),
            get("From:"),
            get("Call-ID:"),
            get("CSeq:"),
            body.len()
        )
    }

    #[test]
    fn outbound_call_with_proxy_auth_cancel_and_answer() {
        let t0 = Instant::now();
        let mut e = ep();
        let trunk: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let o = Originate {
            caller: "+15550002222".into(),
            callee: "+15550003333".into(),
            trunk,
            media: ("127.0.0.1".parse().unwrap(), 20000),
            auth: Some(("gw".into(), "pw".into())),
            domain: None,
            codecs: Vec::new(),
        };
        let call = e.originate(t0, o.clone());
        let (sent, _) = drain(&mut e);
        assert!(
            sent[0].starts_with("INVITE sip:+15550003333@127.0.0.1:5070 SIP/2.0"),
            "{}",
            sent[0]
        );
        assert!(sent[0].contains("m=audio 20000 RTP/AVP 0 8 101"));
        // Timer A retransmits.
        e.handle_timeout(t0 + T1);
        assert!(drain(&mut e).0[0].starts_with("INVITE"));
        // 407 → ACK (same branch) and a new INVITE with Proxy-Authorization.
        let chal = "Proxy-Authenticate: Digest realm=\"carrier\", nonce=\"n1\", qop=\"auth\"\r\n";
        e.handle_input(
            t0,
            Peer {
                addr: trunk,
                transport: Transport::Udp,
            },
            response_to(&sent[0], 407, "t1", chal, "").as_bytes(),
        );
        let (sent2, evs) = drain(&mut e);
        assert!(evs.is_empty());
        assert!(
            sent2[0].starts_with("ACK sip:+15550003333@127.0.0.1:5070"),
            "{}",
            sent2[0]
        );
        assert!(
            sent2[1].starts_with("INVITE") && sent2[1].contains("CSeq: 2 INVITE"),
            "{}",
            sent2[1]
        );
        let auth = sent2[1]
            .lines()
            .find(|l| l.starts_with("Proxy-Authorization:"))
            .unwrap();
        let creds = digest::parse_authorization(auth.split_once(':').unwrap().1).unwrap();
        assert!(digest::verify(
            &creds,
            "INVITE",
            &digest::ha1("gw", "carrier", "pw")
        ));
        // 180 then 200 with SDP → ACK to the Contact, answered event; a 2xx retransmission is re-ACKed.
        let peer = Peer {
            addr: trunk,
            transport: Transport::Udp,
        };
        e.handle_input(
            t0,
            peer,
            response_to(&sent2[1], 180, "r1", "", "").as_bytes(),
        );
        let sdp = "v=0\r\nc=IN IP4 127.0.0.1\r\nm=audio 4002 RTP/AVP 8\r\n";
        let ok = response_to(
            &sent2[1],
            200,
            "r1",
            "Contact: <sip:carrier@127.0.0.1:5070>\r\nContent-Type: application/sdp\r\n",
            sdp,
        );
        e.handle_input(t0, peer, ok.as_bytes());
        let (sent3, evs) = drain(&mut e);
        assert!(
            sent3[0].starts_with("ACK sip:carrier@127.0.0.1:5070"),
            "{}",
            sent3[0]
        );
        let Event::OutboundAnswered { call: c, answer } = evs[0].clone() else {
            panic!("{evs:?}")
        };
        assert_eq!((c, answer.codec), (call, crate::media::g711::G711::Pcma));
        e.handle_input(t0, peer, ok.as_bytes());
        assert!(drain(&mut e).0[0].starts_with("ACK"));
        // Our BYE goes to the remote target with the remote tag.
        e.hangup(t0, call);
        let (bye, _) = drain(&mut e);
        assert!(
            bye[0].starts_with("BYE sip:carrier@127.0.0.1:5070") && bye[0].contains("tag=r1"),
            "{}",
            bye[0]
        );

        // A second call cancelled while ringing: CANCEL, then 487 → failed(487).
        let call2 = e.originate(t0, Originate { auth: None, ..o });
        let (inv, _) = drain(&mut e);
        e.handle_input(t0, peer, response_to(&inv[0], 180, "r2", "", "").as_bytes());
        e.hangup(t0, call2);
        let (cancel, _) = drain(&mut e);
        assert!(
            cancel[0].starts_with("CANCEL sip:+15550003333@127.0.0.1:5070")
                && cancel[0].contains("CSeq: 1 CANCEL"),
            "{}",
            cancel[0]
        );
        let branch =
            |m: &str| msg::param(m.lines().find(|l| l.starts_with("Via:")).unwrap(), "branch");
        assert_eq!(branch(&cancel[0]), branch(&inv[0]));
        e.handle_input(
            t0,
            peer,
            response_to(&cancel[0], 200, "r2", "", "").as_bytes(),
        );
        e.handle_input(t0, peer, response_to(&inv[0], 487, "r2", "", "").as_bytes());
        let (ack, evs) = drain(&mut e);
        assert!(ack[0].starts_with("ACK"));
        assert_eq!(
            evs,
            vec![Event::OutboundFailed {
                call: call2,
                status: 487
            }]
        );
    }

    #[test]
    fn register_client_transaction_reports_challenge_grant_and_timeout() {
        let t0 = Instant::now();
        let mut e = ep();
        let carrier: SocketAddr = "127.0.0.1:5070".parse().unwrap();
        let req = RegisterRequest {
            id: 7,
            dest: carrier,
            request_uri: "sip:carrier.example:5070".into(),
            aor: "sip:acme@carrier.example:5070".into(),
            contact_user: "acme".into(),
            call_id: "reg-1@hotline".into(),
            from_tag: "ft".into(),
            cseq: 1,
            expires: 300,
            authorization: None,
        };
        e.send_register(t0, req.clone());
        let (sent, _) = drain(&mut e);
        let reg = &sent[0];
        assert!(
            reg.starts_with("REGISTER sip:carrier.example:5070 SIP/2.0"),
            "{reg}"
        );
        for h in [
            "From: <sip:acme@carrier.example:5070>;tag=ft",
            "To: <sip:acme@carrier.example:5070>",
            "Contact: <sip:acme@127.0.0.1:5060>",
            "Expires: 300",
            "CSeq: 1 REGISTER",
        ] {
            assert!(reg.contains(h), "{h} in {reg}");
        }
        // Timer E retransmits over UDP.
        e.handle_timeout(t0 + T1);
        assert!(drain(&mut e).0[0].starts_with("REGISTER"));
        let peer = Peer {
            addr: carrier,
            transport: Transport::Udp,
        };
        let chal = "WWW-Authenticate: Digest realm=\"carrier\", nonce=\"n1\"\r\n";
        e.handle_input(t0, peer, response_to(reg, 100, "", "", "").as_bytes());
        assert!(
            drain(&mut e).1.is_empty(),
            "provisional responses are absorbed"
        );
        let challenge = response_to(reg, 401, "x", chal, "").replace("401 X", "401 Who are you");
        e.handle_input(t0, peer, challenge.as_bytes());
        assert_eq!(
            drain(&mut e).1,
            vec![Event::RegisterReply(RegisterReply {
                id: 7,
                status: Some(401),
                reason: "Who are you".into(),
                challenge: Some(r#"Digest realm="carrier", nonce="n1""#.into()),
                expires: None,
            })]
        );
        // A retransmitted final response is not reported twice.
        e.handle_input(t0, peer, challenge.as_bytes());
        assert!(drain(&mut e).1.is_empty());
        // The 200 lists every binding of the AOR: ours says 120.
        e.send_register(
            t0,
            RegisterRequest {
                cseq: 2,
                ..req.clone()
            },
        );
        let (sent, _) = drain(&mut e);
        let contacts = "Contact: <sip:acme@10.0.0.9:5060>;expires=3600, <sip:acme@127.0.0.1:5060>;expires=120\r\nExpires: 600\r\n";
        e.handle_input(
            t0,
            peer,
            response_to(&sent[0], 200, "x", contacts, "").as_bytes(),
        );
        let Event::RegisterReply(r) = drain(&mut e).1.remove(0) else {
            panic!()
        };
        assert_eq!((r.status, r.expires), (Some(200), Some(120)));
        // No answer at all: Timer F reports a timeout.
        e.send_register(
            t0,
            RegisterRequest {
                id: 8,
                cseq: 3,
                ..req
            },
        );
        drain(&mut e);
        e.handle_timeout(t0 + 64 * T1);
        let evs = drain(&mut e).1;
        assert_eq!(
            evs,
            vec![Event::RegisterReply(RegisterReply {
                id: 8,
                status: None,
                reason: "timeout".into(),
                challenge: None,
                expires: None,
            })]
        );
    }

    #[test]
    fn outbound_call_through_a_carrier_domain_offers_its_codecs() {
        let t0 = Instant::now();
        let mut e = ep();
        e.originate(
            t0,
            Originate {
                caller: "0229990000".into(),
                callee: "0221234567".into(),
                trunk: "127.0.0.1:5070".parse().unwrap(),
                media: ("127.0.0.1".parse().unwrap(), 20000),
                auth: None,
                domain: Some("carrier.example:5070".into()),
                codecs: vec![crate::media::g711::G711::Pcma],
            },
        );
        let (sent, _) = drain(&mut e);
        let inv = &sent[0];
        assert!(
            inv.starts_with("INVITE sip:0221234567@carrier.example:5070 SIP/2.0"),
            "{inv}"
        );
        assert!(inv.contains("From: <sip:0229990000@carrier.example:5070>;tag="));
        assert!(inv.contains("To: <sip:0221234567@carrier.example:5070>"));
        assert!(inv.contains("m=audio 20000 RTP/AVP 8 101"), "{inv}");
    }

    fn mutate(base: &[u8], flips: &[(usize, u8)], cut: usize) -> Vec<u8> {
        let mut v = base.to_vec();
        for (i, b) in flips {
            if !v.is_empty() {
                let n = v.len();
                v[i % n] = *b;
            }
        }
        v.truncate(cut.min(v.len()));
        v
    }

    /// The answer the timer heap must give: a walk over every transaction and ACK wait (what
    /// `poll_timeout` did before the heap).
    fn scan_timeout(e: &Endpoint) -> Option<Instant> {
        let s = e.server.values().filter_map(|x| x.tx.poll_timeout());
        let c = e.client.values().filter_map(|x| x.tx.poll_timeout());
        let d = e.dialogs.values().filter_map(|d| match d.state {
            DialogState::AwaitingAck { next, deadline, .. } => Some(next.min(deadline)),
            _ => None,
        });
        s.chain(c).chain(d).min()
    }

    #[test]
    fn poll_timeout_follows_the_earliest_timer_and_skips_stale_ones() {
        let t0 = Instant::now();
        let mut e = ep();
        assert_eq!(e.poll_timeout(), None);
        // An outbound INVITE: Timer A (T1) first.
        let call = e.originate(
            t0,
            Originate {
                caller: "+1".into(),
                callee: "+2".into(),
                trunk: PEER.parse().unwrap(),
                media: ("127.0.0.1".parse().unwrap(), 20000),
                auth: None,
                domain: None,
                codecs: Vec::new(),
            },
        );
        let inv = drain(&mut e).0.remove(0);
        assert_eq!(e.poll_timeout(), Some(t0 + T1));
        // A 180 stops Timer A: the next deadline is Timer B (64·T1), not the stale T1 entry.
        e.handle_input(t0, peer(), response_to(&inv, 180, "r", "", "").as_bytes());
        assert_eq!(e.poll_timeout(), Some(t0 + 64 * T1));
        assert_eq!(e.timers.len(), 1, "the stale entry was dropped");
        e.hangup(t0, call);
        let cancel = drain(&mut e).0.remove(0);
        assert!(cancel.starts_with("CANCEL"), "{cancel}");
        assert_eq!(e.poll_timeout(), Some(t0 + T1), "the CANCEL's Timer E");
        e.handle_input(
            t0,
            peer(),
            response_to(&cancel, 200, "r", "", "").as_bytes(),
        );
        assert_eq!(
            e.poll_timeout(),
            Some(t0 + Duration::from_secs(5)),
            "the CANCEL's Timer K (T4)"
        );
        assert_eq!(e.poll_timeout(), scan_timeout(&e));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

        /// Whatever happens to calls and transactions in whatever order, the heap's next
        /// deadline is the one a walk over every timer finds.
        #[test]
        fn the_timer_heap_agrees_with_a_scan(
            ops in proptest::collection::vec((0u8..11, 0usize..3, 0u64..4000), 1..60)
        ) {
            let t0 = Instant::now();
            let mut now = t0;
            let mut e = ep();
            let mut inbound: HashMap<usize, CallKey> = HashMap::new();
            let mut outbound: HashMap<usize, (CallKey, String)> = HashMap::new();
            for (n, (op, i, ms)) in ops.into_iter().enumerate() {
                let cid = format!("call-p{i}");
                let tag = inbound
                    .get(&i)
                    .and_then(|k| e.dialogs.get(k))
                    .map(|d| d.local_tag.clone())
                    .unwrap_or_else(|| "x".into());
                let in_call = |m: &str, branch: &str, cseq| {
                    in_dialog(m, branch, cseq, &tag, "").replace("call-1", &cid)
                };
                match op {
                    0 => {
                        let inv = invite(&format!("z9hG4bKi{i}"), SDP).replace("call-1", &cid);
                        e.handle_input(now, peer(), inv.as_bytes());
                    }
                    1 => if let Some(k) = inbound.get(&i) {
                        e.answer(now, *k, "127.0.0.1".parse().unwrap(), 20000);
                    },
                    2 => if let Some(k) = inbound.get(&i) {
                        e.reject(now, *k, 486, &[]);
                    },
                    // The INVITE's branch: ACK of a non-2xx final, or of the 2xx in the dialog.
                    3 => e.handle_input(now, peer(), in_call("ACK", &format!("z9hG4bKi{i}"), 1).as_bytes()),
                    4 => e.handle_input(now, peer(), in_call("BYE", &format!("z9hG4bKb{n}"), 2).as_bytes()),
                    5 => {
                        if let Some(k) = inbound.get(&i) {
                            e.hangup(now, *k);
                        }
                        if let Some((k, _)) = outbound.get(&i) {
                            e.hangup(now, *k);
                        }
                    }
                    6 => e.handle_input(now, peer(), in_call("OPTIONS", &format!("z9hG4bKo{n}"), 1).as_bytes()),
                    7 => {
                        let call = e.originate(now, Originate {
                            caller: "+1".into(),
                            callee: format!("+2{i}"),
                            trunk: PEER.parse().unwrap(),
                            media: ("127.0.0.1".parse().unwrap(), 20000),
                            auth: None,
                            domain: None,
                            codecs: Vec::new(),
                        });
                        if let Some(Output::Transmit { data, .. }) = e.out.back() {
                            let inv = String::from_utf8_lossy(data).into_owned();
                            outbound.insert(i, (call, inv));
                        }
                    }
                    8 | 9 => if let Some((_, inv)) = outbound.get(&i) {
                        let status = if op == 8 { 180 } else { 486 };
                        e.handle_input(now, peer(), response_to(inv, status, "r", "", "").as_bytes());
                    },
                    _ => {
                        now += Duration::from_millis(ms * 10);
                        e.handle_timeout(now);
                    }
                }
                for ev in drain(&mut e).1 {
                    if let Event::IncomingCall { call, .. } = ev {
                        inbound.insert(i, call);
                    }
                }
                prop_assert_eq!(e.poll_timeout(), scan_timeout(&e));
            }
            // Every timer runs out; the heap keeps nothing for what is gone.
            for _ in 0..8 {
                now += 64 * T1;
                e.handle_timeout(now);
                drain(&mut e);
                prop_assert_eq!(e.poll_timeout(), scan_timeout(&e));
            }
            prop_assert!(e.client.is_empty());
            prop_assert_eq!(e.poll_timeout(), None);
            prop_assert!(e.timers.is_empty());
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        /// Random bytes, and real messages with random byte flips and truncation, never panic
        /// and never produce anything but responses.
        #[test]
        fn hostile_input_never_panics(random in proptest::collection::vec(any::<u8>(), 0..1500),
                                      flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..8),
                                      cut in 0usize..2000,
                                      which in 0usize..4) {
            let t0 = Instant::now();
            let mut e = ep();
            e.handle_input(t0, peer(), &random);
            let tagged = in_dialog("BYE", "z9hG4bKq", 2, "t", "");
            let bases = [invite("z9hG4bKp", SDP), tagged, SDP.to_string(), in_dialog("REGISTER", "z9hG4bKr", 1, "t", "Authorization: Digest username=\"1\"\r\n")];
            let m = mutate(bases[which].as_bytes(), &flips, cut);
            e.handle_input(t0, peer(), &m);
            e.handle_timeout(t0 + 100 * T1);
            while let Some(o) = e.poll_output() {
                if let Output::Transmit { data, .. } = o {
                    prop_assert!(data.starts_with(b"SIP/2.0 ") || data.starts_with(b"BYE "));
                }
            }
        }
    }
}
