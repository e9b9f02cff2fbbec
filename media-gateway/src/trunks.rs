//! Tenant SIP trunks ("bring your own carrier"), sans-IO: the table of trunks as last read
//! from Redis (`platform:trunks`, [`hotline_wire::trunks`]), inbound admission by source
//! address or registration contact, the outbound dial plan (next hop, number formats, caller
//! ID, codecs, credentials), and the registration client of `register` trunks.
//!
//! Nothing here does I/O or reads a clock: the shell resolves the carriers' host names and
//! hands [`Trunk`]s to the call layer, which owns the [`Registrations`] and passes the SIP
//! side to its endpoint (`Endpoint::send_register`, `Event::RegisterReply`).

use crate::config::{acl_contains, parse_cidr};
use crate::media::g711::G711;
use crate::sip::digest;
use crate::sip::endpoint::{RegisterReply, RegisterRequest};
use crate::sip::msg;
use hotline_wire::trunks::{format_number, TrunkCodec, TrunkConfig, TrunkMode};
use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// First retry after a failed registration; each failure doubles it up to [`RETRY_MAX`].
pub const RETRY_MIN: Duration = Duration::from_secs(10);
/// Longest wait between two registration attempts.
pub const RETRY_MAX: Duration = Duration::from_secs(600);
/// Shortest refresh interval, whatever the registrar granted.
const REFRESH_MIN: Duration = Duration::from_secs(5);

/// A trunk as the gateway uses it: its configuration and what its names resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct Trunk {
    /// The backend's copy.
    pub cfg: TrunkConfig,
    /// `host:port` resolved (registrar; next hop without an outbound proxy). Empty: the
    /// name did not resolve.
    pub host_addrs: Vec<SocketAddr>,
    /// `outbound_proxy` resolved (port 5060 when it names none).
    pub proxy_addrs: Vec<SocketAddr>,
    /// `allowed_ips` parsed (entries that are not addresses or CIDRs are ignored).
    acl: Vec<(IpAddr, u8)>,
}

impl Trunk {
    /// A trunk with its resolved addresses.
    pub fn new(
        cfg: TrunkConfig,
        host_addrs: Vec<SocketAddr>,
        proxy_addrs: Vec<SocketAddr>,
    ) -> Self {
        let acl = cfg
            .allowed_ips
            .iter()
            .filter_map(|s| parse_cidr(s).ok())
            .collect();
        Trunk {
            cfg,
            host_addrs,
            proxy_addrs,
            acl,
        }
    }

    /// Where requests go: the outbound proxy when set, else the carrier's host.
    pub fn next_hop(&self) -> Option<SocketAddr> {
        if self
            .cfg
            .outbound_proxy
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
        {
            self.proxy_addrs.first().copied()
        } else {
            self.host_addrs.first().copied()
        }
    }

    /// `host[:port]` as written in Request-URIs (the port only when not 5060).
    pub fn domain(&self) -> String {
        let host = self.cfg.host.trim();
        let host = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]")
        } else {
            host.to_string()
        };
        if self.cfg.port == 5060 {
            host
        } else {
            format!("{host}:{}", self.cfg.port)
        }
    }

    /// Digest credentials answered to this carrier's challenges (none without a password).
    pub fn credentials(&self) -> Option<(String, String)> {
        if self.cfg.password.is_empty() {
            return None;
        }
        let user = self
            .cfg
            .auth_username
            .as_deref()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or(&self.cfg.username);
        Some((user.to_string(), self.cfg.password.clone()))
    }

    /// Whether `ip` is one of the carrier's: its host or proxy resolved, or `allowed_ips`.
    pub fn source_matches(&self, ip: IpAddr) -> bool {
        self.host_addrs
            .iter()
            .chain(&self.proxy_addrs)
            .any(|a| a.ip() == ip)
            || self.acl.iter().any(|(n, l)| acl_contains(*n, *l, ip))
    }

    /// A number as the carrier sent it, in E.164: `+…` kept, `00…` international, the
    /// trunk's `national_prefix` replaced by `+<country_code>`, other digits get a `+`.
    pub fn normalize(&self, raw: &str) -> String {
        let cleaned: String = raw
            .chars()
            .filter(|c| !matches!(c, '-' | '.' | '(' | ')' | ' '))
            .collect();
        if cleaned.starts_with('+')
            || cleaned.is_empty()
            || !cleaned.chars().all(|c| c.is_ascii_digit())
        {
            return msg::to_e164(&cleaned);
        }
        if let Some(rest) = cleaned.strip_prefix("00") {
            return format!("+{rest}");
        }
        let (cc, np) = (
            self.cfg.country_code.trim(),
            self.cfg.national_prefix.trim(),
        );
        if let Some(rest) = cleaned
            .strip_prefix(np)
            .filter(|_| !np.is_empty() && !cc.is_empty())
        {
            return format!("+{cc}{rest}");
        }
        format!("+{cleaned}")
    }

    /// Whether the trunk carries `did` (E.164).
    pub fn has_did(&self, did: &str) -> bool {
        self.cfg
            .inbound_dids
            .iter()
            .any(|d| msg::to_e164(d.trim()) == did)
    }

    /// How an outbound call from `caller` to `callee` (both E.164) leaves through this
    /// trunk; `None` when the carrier's address did not resolve.
    pub fn dial(&self, caller: &str, callee: &str) -> Option<Dial> {
        let c = &self.cfg;
        let fmt = |n: &str| format_number(n, c.callee_format, &c.country_code, &c.national_prefix);
        let shown = c
            .caller_id
            .fixed
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .unwrap_or(caller);
        let caller = if !shown.chars().any(|ch| ch.is_ascii_digit()) {
            shown.to_string()
        } else if c.caller_id.same_format_as_callee {
            fmt(shown)
        } else {
            msg::to_e164(shown)
        };
        Some(Dial {
            next_hop: self.next_hop()?,
            domain: self.domain(),
            callee: fmt(callee),
            caller,
            auth: self.credentials(),
            codecs: c
                .codecs
                .iter()
                .map(|k| match k {
                    TrunkCodec::Pcmu => G711::Pcmu,
                    TrunkCodec::Pcma => G711::Pcma,
                })
                .collect(),
        })
    }

    /// What a registration depends on: a change re-registers.
    fn registration_key(&self) -> impl PartialEq {
        let c = &self.cfg;
        (
            (
                c.host.clone(),
                c.port,
                c.outbound_proxy.clone(),
                self.next_hop(),
            ),
            (
                c.username.clone(),
                c.auth_username.clone(),
                c.password.clone(),
            ),
            c.register_expires,
        )
    }

    /// Where the binding lives: a change of it unregisters the old one.
    fn binding_key(&self) -> impl PartialEq {
        (
            self.cfg.host.clone(),
            self.cfg.port,
            self.cfg.username.clone(),
        )
    }
}

/// An outbound call through a tenant trunk, as the endpoint places it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dial {
    /// Next hop (outbound proxy or the carrier's host).
    pub next_hop: SocketAddr,
    /// Carrier domain of the Request-URI, To and From.
    pub domain: String,
    /// Request-URI user: the callee in the trunk's number format.
    pub callee: String,
    /// From user: the caller ID by the trunk's rule.
    pub caller: String,
    /// The trunk's own digest credentials (never another trunk's, never the platform's).
    pub auth: Option<(String, String)>,
    /// Codecs offered, in the trunk's order.
    pub codecs: Vec<G711>,
}

/// How an INVITE relates to the tenant trunks ([`TrunkTable::inbound`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// Neither from a trunk's carrier nor to a registration contact.
    NotTrunk,
    /// Admitted as `trunk`'s call: `did` (E.164) is one of its inbound numbers.
    Admitted {
        /// The trunk.
        trunk: Uuid,
        /// Its tenant (the only one the call may reach).
        tenant: Uuid,
        /// The dialled number, E.164.
        did: String,
    },
    /// From a trunk's carrier (or to its registration contact), for a number none of the
    /// matching trunks carries.
    UnknownDid,
}

/// The tenant trunks as last read from Redis, ordered by id.
#[derive(Debug, Default, Clone)]
pub struct TrunkTable {
    trunks: Vec<Arc<Trunk>>,
}

impl TrunkTable {
    /// A table of `trunks`.
    pub fn new(mut trunks: Vec<Trunk>) -> Self {
        trunks.sort_by_key(|t| t.cfg.id);
        TrunkTable {
            trunks: trunks.into_iter().map(Arc::new).collect(),
        }
    }

    /// Every trunk.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Trunk>> {
        self.trunks.iter()
    }

    /// The trunk `tenant`'s outbound calls leave through (the first with `outbound`).
    pub fn outbound(&self, tenant: Uuid) -> Option<&Arc<Trunk>> {
        self.trunks
            .iter()
            .find(|t| t.cfg.tenant_id == tenant && t.cfg.outbound)
    }

    /// Whether any tenant has an outbound trunk.
    pub fn any_outbound(&self) -> bool {
        self.trunks.iter().any(|t| t.cfg.outbound)
    }

    /// Which trunk an INVITE from `ip` to Request-URI user `request_user` (To user
    /// `to_user`) belongs to. A trunk matches when `ip` is its carrier's or when the
    /// Request-URI is its registration contact (`register` trunks: the user part is the
    /// trunk's username; the dialled number is then the To user). Among the matching trunks
    /// the one carrying the dialled number wins.
    pub fn inbound(&self, ip: IpAddr, request_user: &str, to_user: &str) -> Inbound {
        let mut matched = false;
        for t in &self.trunks {
            let contact = t.cfg.mode == TrunkMode::Register
                && !t.cfg.username.is_empty()
                && request_user == t.cfg.username;
            if !contact && !t.source_matches(ip) {
                continue;
            }
            matched = true;
            let did = t.normalize(if contact { to_user } else { request_user });
            if t.has_did(&did) {
                return Inbound::Admitted {
                    trunk: t.cfg.id,
                    tenant: t.cfg.tenant_id,
                    did,
                };
            }
        }
        if matched {
            Inbound::UnknownDid
        } else {
            Inbound::NotTrunk
        }
    }
}

/// A trunk's registration state, for `platform:trunk_status` (the call layer stamps it with
/// the wall clock and the gateway id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegStatus {
    /// First REGISTER sent.
    Registering,
    /// Registered for `expires` seconds.
    Registered {
        /// Granted expiry, seconds.
        expires: u32,
    },
    /// The carrier refused (`status`) or did not answer (`None`, reason `timeout`).
    Failed {
        /// The carrier's final status.
        status: Option<u16>,
        /// Its reason phrase, `timeout`, or why nothing could be sent.
        reason: String,
    },
    /// An IP trunk: nothing to register.
    Ip,
    /// The trunk is gone: its status is removed.
    Gone,
}

/// What the registration client asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum RegAction {
    /// Send this REGISTER.
    Send(RegisterRequest),
    /// A trunk's status changed.
    Status {
        /// The trunk.
        trunk: Uuid,
        /// Its new status.
        status: RegStatus,
    },
}

struct Client {
    id: u64,
    trunk: Arc<Trunk>,
    dest: SocketAddr,
    call_id: String,
    from_tag: String,
    cseq: u32,
    /// A challenge was answered in the current attempt.
    auth_tried: bool,
    /// Wait before the next retry after a failure.
    backoff: Duration,
    /// When the next REGISTER (refresh or retry) goes out; `None` while one is in flight.
    next: Option<Instant>,
    /// Sending `Expires: 0`: the client ends with the answer.
    leaving: bool,
}

impl Client {
    fn request(&mut self, authorization: Option<(&'static str, String)>) -> RegisterRequest {
        self.cseq += 1;
        let c = &self.trunk.cfg;
        RegisterRequest {
            id: self.id,
            dest: self.dest,
            request_uri: format!("sip:{}", self.trunk.domain()),
            aor: format!("sip:{}@{}", c.username, self.trunk.domain()),
            contact_user: c.username.clone(),
            call_id: self.call_id.clone(),
            from_tag: self.from_tag.clone(),
            cseq: self.cseq,
            expires: if self.leaving {
                0
            } else {
                c.register_expires.max(1)
            },
            authorization,
        }
    }
}

/// The registration client of every `register` trunk: REGISTER, answer one digest challenge
/// per attempt with the trunk's credentials, refresh at half the granted expiry, retry after
/// a failure with a doubling backoff ([`RETRY_MIN`] … [`RETRY_MAX`]), unregister
/// (`Expires: 0`) a trunk that disappeared. Sans-IO: feed it the table ([`Registrations::sync`]),
/// the endpoint's replies and time; drain [`Registrations::poll_action`].
#[derive(Default)]
pub struct Registrations {
    clients: HashMap<Uuid, Client>,
    /// Unregistering clients by id.
    leaving: HashMap<u64, Client>,
    /// IP trunks already reported, and trunks whose address did not resolve.
    reported: HashMap<Uuid, RegStatus>,
    next_id: u64,
    out: VecDeque<RegAction>,
}

impl Registrations {
    /// No trunk.
    pub fn new() -> Self {
        Self::default()
    }

    /// Next action, if any.
    pub fn poll_action(&mut self) -> Option<RegAction> {
        self.out.pop_front()
    }

    /// Trunks being registered (or registered, or waiting to retry).
    pub fn len(&self) -> usize {
        self.clients.len()
    }

    /// Whether no trunk is being registered.
    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    fn status(&mut self, trunk: Uuid, status: RegStatus) {
        self.out.push_back(RegAction::Status { trunk, status });
    }

    fn start(&mut self, trunk: Arc<Trunk>, dest: SocketAddr) {
        self.next_id += 1;
        let id = trunk.cfg.id;
        let mut c = Client {
            id: self.next_id,
            trunk,
            dest,
            call_id: format!("{}@hotline", msg::random_token(20)),
            from_tag: msg::random_token(12),
            cseq: 0,
            auth_tried: false,
            backoff: RETRY_MIN,
            next: None,
            leaving: false,
        };
        let req = c.request(None);
        self.out.push_back(RegAction::Send(req));
        self.clients.insert(id, c);
        self.status(id, RegStatus::Registering);
    }

    fn unregister(&mut self, mut c: Client) {
        c.leaving = true;
        c.auth_tried = false;
        c.next = None;
        let req = c.request(None);
        self.out.push_back(RegAction::Send(req));
        self.leaving.insert(c.id, c);
    }

    /// The trunks changed (or were read again): registers new `register` trunks,
    /// re-registers changed ones, unregisters those gone, reports IP trunks once.
    pub fn sync(&mut self, table: &TrunkTable) {
        let mut seen = HashSet::new();
        for t in table.iter() {
            let id = t.cfg.id;
            seen.insert(id);
            if t.cfg.mode == TrunkMode::Ip {
                if let Some(old) = self.clients.remove(&id) {
                    self.unregister(old);
                }
                if self.reported.get(&id) != Some(&RegStatus::Ip) {
                    self.reported.insert(id, RegStatus::Ip);
                    self.status(id, RegStatus::Ip);
                }
                continue;
            }
            let Some(dest) = t.next_hop() else {
                if let Some(old) = self.clients.remove(&id) {
                    self.unregister(old);
                }
                let failed = RegStatus::Failed {
                    status: None,
                    reason: format!("cannot resolve {}", t.cfg.host),
                };
                if self.reported.get(&id) != Some(&failed) {
                    self.reported.insert(id, failed.clone());
                    self.status(id, failed);
                }
                continue;
            };
            self.reported.remove(&id);
            match self.clients.get_mut(&id) {
                Some(c) if c.trunk.registration_key() == t.registration_key() => {
                    c.trunk = t.clone();
                }
                Some(_) => {
                    let old = self.clients.remove(&id).expect("present");
                    if old.trunk.binding_key() != t.binding_key() {
                        self.unregister(old);
                    }
                    self.start(t.clone(), dest);
                }
                None => self.start(t.clone(), dest),
            }
        }
        let gone: Vec<Uuid> = self
            .clients
            .keys()
            .chain(self.reported.keys())
            .filter(|id| !seen.contains(id))
            .copied()
            .collect();
        for id in gone {
            self.reported.remove(&id);
            if let Some(c) = self.clients.remove(&id) {
                self.unregister(c);
            }
            self.status(id, RegStatus::Gone);
        }
    }

    /// The drain: every binding of this gateway is removed (`Expires: 0`); the statuses stay
    /// (other gateways may still be registered).
    pub fn unregister_all(&mut self) {
        let all: Vec<Uuid> = self.clients.keys().copied().collect();
        for id in all {
            if let Some(c) = self.clients.remove(&id) {
                self.unregister(c);
            }
        }
    }

    /// The endpoint's [`RegisterReply`].
    pub fn on_reply(&mut self, now: Instant, r: RegisterReply) {
        if let Some(mut c) = self.leaving.remove(&r.id) {
            if let Some(req) = Self::answer_challenge(&mut c, &r) {
                self.out.push_back(RegAction::Send(req));
                self.leaving.insert(c.id, c);
            }
            return;
        }
        let Some(trunk) = self
            .clients
            .iter()
            .find(|(_, c)| c.id == r.id && c.next.is_none())
            .map(|(t, _)| *t)
        else {
            return;
        };
        let c = self.clients.get_mut(&trunk).expect("found");
        if let Some(req) = Self::answer_challenge(c, &r) {
            self.out.push_back(RegAction::Send(req));
            return;
        }
        let status = match r.status {
            Some(s @ 200..=299) => {
                let asked = c.trunk.cfg.register_expires.max(1);
                let granted = r.expires.filter(|e| *e > 0).unwrap_or(asked);
                c.backoff = RETRY_MIN;
                c.next = Some(now + (Duration::from_secs(granted as u64) / 2).max(REFRESH_MIN));
                tracing::info!(%trunk, status = s, expires = granted, "trunk registered");
                RegStatus::Registered { expires: granted }
            }
            status => {
                c.next = Some(now + c.backoff);
                tracing::warn!(%trunk, ?status, reason = %r.reason, retry_s = c.backoff.as_secs(), "trunk registration failed");
                c.backoff = (c.backoff * 2).min(RETRY_MAX);
                RegStatus::Failed {
                    status,
                    reason: r.reason.clone(),
                }
            }
        };
        self.status(trunk, status);
    }

    /// The REGISTER answering `r`'s challenge with the trunk's credentials, once per attempt.
    fn answer_challenge(c: &mut Client, r: &RegisterReply) -> Option<RegisterRequest> {
        let status = r.status.filter(|s| matches!(s, 401 | 407))?;
        if c.auth_tried {
            return None;
        }
        let (user, pass) = c.trunk.credentials()?;
        let ch = digest::parse_challenge(r.challenge.as_deref()?)?;
        let uri = format!("sip:{}", c.trunk.domain());
        let value = digest::authorize(&ch, &user, &pass, "REGISTER", &uri);
        let name = if status == 407 {
            "Proxy-Authorization"
        } else {
            "Authorization"
        };
        c.auth_tried = true;
        Some(c.request(Some((name, value))))
    }

    /// When the next refresh or retry is due.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.clients.values().filter_map(|c| c.next).min()
    }

    /// Sends the refreshes and retries due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        for c in self.clients.values_mut() {
            if c.next.is_some_and(|t| t <= now) {
                c.next = None;
                c.auth_tried = false;
                let req = c.request(None);
                self.out.push_back(RegAction::Send(req));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_wire::trunks::{CallerIdRule, NumberFormat};

    pub(crate) fn config(tenant: Uuid, mode: TrunkMode) -> TrunkConfig {
        TrunkConfig {
            id: Uuid::new_v4(),
            tenant_id: tenant,
            name: "carrier".into(),
            mode,
            host: "10.9.0.1".into(),
            port: 5070,
            outbound_proxy: None,
            username: "acme".into(),
            auth_username: Some("acme-auth".into()),
            password: "s3cret".into(),
            register_expires: 120,
            allowed_ips: vec!["192.0.2.0/24".into(), "not an address".into()],
            codecs: vec![TrunkCodec::Pcma, TrunkCodec::Pcmu],
            callee_format: NumberFormat::National,
            country_code: "48".into(),
            national_prefix: "0".into(),
            caller_id: CallerIdRule::default(),
            inbound_dids: vec!["+48221234567".into()],
            outbound: true,
        }
    }

    pub(crate) fn trunk(cfg: TrunkConfig) -> Trunk {
        let addr = SocketAddr::new(cfg.host.parse().unwrap(), cfg.port);
        Trunk::new(cfg, vec![addr], Vec::new())
    }

    #[test]
    fn dial_plan_follows_the_number_format_and_caller_id_rule() {
        let mut cfg = config(Uuid::new_v4(), TrunkMode::Ip);
        let t = trunk(cfg.clone());
        let d = t.dial("+48225550000", "+48221234567").unwrap();
        assert_eq!(d.next_hop, "10.9.0.1:5070".parse().unwrap());
        assert_eq!(d.domain, "10.9.0.1:5070");
        assert_eq!(d.callee, "0221234567");
        assert_eq!(d.caller, "+48225550000", "caller ID stays E.164");
        assert_eq!(d.auth, Some(("acme-auth".into(), "s3cret".into())));
        assert_eq!(d.codecs, vec![G711::Pcma, G711::Pcmu]);
        cfg.caller_id = CallerIdRule {
            fixed: Some("+48229990000".into()),
            same_format_as_callee: true,
        };
        cfg.outbound_proxy = Some("10.9.0.2".into());
        cfg.auth_username = None;
        let t = Trunk::new(
            cfg.clone(),
            vec!["10.9.0.1:5070".parse().unwrap()],
            vec!["10.9.0.2:5060".parse().unwrap()],
        );
        let d = t.dial("+48225550000", "+994125550100").unwrap();
        assert_eq!(d.caller, "0229990000");
        assert_eq!(d.callee, "00994125550100");
        assert_eq!(d.next_hop, "10.9.0.2:5060".parse().unwrap());
        assert_eq!(d.domain, "10.9.0.1:5070", "the proxy is only the next hop");
        assert_eq!(d.auth, Some(("acme".into(), "s3cret".into())));
        cfg.password = String::new();
        cfg.port = 5060;
        cfg.outbound_proxy = None;
        let t = trunk(cfg);
        assert_eq!(t.dial("+1", "+2").unwrap().auth, None);
        assert_eq!(t.domain(), "10.9.0.1");
        // A proxy that did not resolve: no next hop.
        let mut cfg = config(Uuid::new_v4(), TrunkMode::Ip);
        cfg.outbound_proxy = Some("nowhere.invalid".into());
        assert_eq!(trunk(cfg).dial("+1", "+2"), None);
    }

    #[test]
    fn inbound_is_admitted_by_source_or_contact_for_the_trunks_own_numbers_only() {
        let (x, y) = (Uuid::new_v4(), Uuid::new_v4());
        let tx = config(x, TrunkMode::Register);
        let mut ty = config(y, TrunkMode::Ip);
        ty.host = "10.9.9.9".into();
        ty.allowed_ips = vec!["198.51.100.7".into()];
        ty.inbound_dids = vec!["+48225550199".into()];
        ty.username = "other".into();
        let table = TrunkTable::new(vec![trunk(tx.clone()), trunk(ty.clone())]);
        let carrier: IpAddr = "10.9.0.1".parse().unwrap();
        let admitted = |trunk: Uuid, tenant: Uuid, did: &str| Inbound::Admitted {
            trunk,
            tenant,
            did: did.into(),
        };
        // Source = the registrar's address; the number in national format.
        assert_eq!(
            table.inbound(carrier, "0221234567", ""),
            admitted(tx.id, x, "+48221234567")
        );
        // From an allowed_ips network, E.164 or bare digits.
        assert_eq!(
            table.inbound("192.0.2.44".parse().unwrap(), "48221234567", ""),
            admitted(tx.id, x, "+48221234567")
        );
        // To the registration contact from anywhere: the number is the To user.
        assert_eq!(
            table.inbound("203.0.113.1".parse().unwrap(), "acme", "+48221234567"),
            admitted(tx.id, x, "+48221234567")
        );
        // Y's number from X's carrier never reaches Y through X's trunk.
        assert_eq!(
            table.inbound(carrier, "+48225550199", ""),
            Inbound::UnknownDid
        );
        assert_eq!(
            table.inbound("198.51.100.7".parse().unwrap(), "+48225550199", ""),
            admitted(ty.id, y, "+48225550199")
        );
        // Y is an IP trunk: its username is no contact.
        assert_eq!(
            table.inbound("203.0.113.1".parse().unwrap(), "other", "+48225550199"),
            Inbound::NotTrunk
        );
        assert_eq!(
            table.inbound("203.0.113.1".parse().unwrap(), "+48221234567", ""),
            Inbound::NotTrunk
        );
        assert_eq!(table.outbound(x).map(|t| t.cfg.id), Some(tx.id));
        assert!(table.outbound(Uuid::new_v4()).is_none());
    }

    fn drain(r: &mut Registrations) -> (Vec<RegisterRequest>, Vec<(Uuid, RegStatus)>) {
        let (mut sent, mut st) = (Vec::new(), Vec::new());
        while let Some(a) = r.poll_action() {
            match a {
                RegAction::Send(req) => sent.push(req),
                RegAction::Status { trunk, status } => st.push((trunk, status)),
            }
        }
        (sent, st)
    }

    fn reply(req: &RegisterRequest, status: Option<u16>, challenge: Option<&str>) -> RegisterReply {
        RegisterReply {
            id: req.id,
            status,
            reason: match status {
                Some(403) => "Bad credentials".into(),
                None => "timeout".into(),
                _ => "OK".into(),
            },
            challenge: challenge.map(str::to_string),
            expires: None,
        }
    }

    const CHALLENGE: &str = r#"Digest realm="carrier", nonce="n1", qop="auth""#;

    #[test]
    fn registers_answering_the_challenge_then_refreshes_at_half_the_expiry() {
        let t0 = Instant::now();
        let cfg = config(Uuid::new_v4(), TrunkMode::Register);
        let table = TrunkTable::new(vec![trunk(cfg.clone())]);
        let mut r = Registrations::new();
        r.sync(&table);
        let (sent, st) = drain(&mut r);
        assert_eq!(st, vec![(cfg.id, RegStatus::Registering)]);
        let first = &sent[0];
        assert_eq!(first.dest, "10.9.0.1:5070".parse().unwrap());
        assert_eq!(first.request_uri, "sip:10.9.0.1:5070");
        assert_eq!(first.aor, "sip:acme@10.9.0.1:5070");
        assert_eq!((first.contact_user.as_str(), first.expires), ("acme", 120));
        assert!(first.authorization.is_none());
        // Reading the same table again changes nothing.
        r.sync(&table);
        assert_eq!(drain(&mut r), (vec![], vec![]));
        // 401 → the same registration (Call-ID, CSeq + 1) with Authorization.
        r.on_reply(t0, reply(first, Some(401), Some(CHALLENGE)));
        let (sent, st) = drain(&mut r);
        assert!(st.is_empty());
        let second = &sent[0];
        assert_eq!(
            (second.call_id.as_str(), second.cseq),
            (first.call_id.as_str(), 2)
        );
        let (name, value) = second.authorization.clone().unwrap();
        assert_eq!(name, "Authorization");
        let creds = digest::parse_authorization(&value).unwrap();
        assert_eq!(
            (
                creds.username.as_str(),
                creds.realm.as_str(),
                creds.uri.as_str()
            ),
            ("acme-auth", "carrier", "sip:10.9.0.1:5070")
        );
        assert!(digest::verify(
            &creds,
            "REGISTER",
            &digest::ha1("acme-auth", "carrier", "s3cret")
        ));
        // 200 granting 60 s (less than asked): refresh after 30 s.
        r.on_reply(
            t0,
            RegisterReply {
                expires: Some(60),
                ..reply(second, Some(200), None)
            },
        );
        let (_, st) = drain(&mut r);
        assert_eq!(st, vec![(cfg.id, RegStatus::Registered { expires: 60 })]);
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(30)));
        r.handle_timeout(t0 + Duration::from_secs(29));
        assert!(drain(&mut r).0.is_empty());
        r.handle_timeout(t0 + Duration::from_secs(30));
        let (sent, st) = drain(&mut r);
        assert!(st.is_empty(), "a refresh does not report registering");
        assert_eq!((sent[0].cseq, sent[0].authorization.clone()), (3, None));
        assert_eq!(r.poll_timeout(), None, "nothing due while in flight");
        // The refresh is challenged again: answered again.
        r.on_reply(t0, reply(&sent[0], Some(407), Some(CHALLENGE)));
        let (sent, _) = drain(&mut r);
        assert_eq!(
            sent[0].authorization.as_ref().unwrap().0,
            "Proxy-Authorization"
        );
        // A stale reply (an old id) is ignored.
        r.on_reply(
            t0,
            RegisterReply {
                id: 999,
                ..reply(&sent[0], Some(403), None)
            },
        );
        assert_eq!(drain(&mut r), (vec![], vec![]));
    }

    #[test]
    fn failures_are_reported_and_retried_with_a_doubling_backoff() {
        let t0 = Instant::now();
        let cfg = config(Uuid::new_v4(), TrunkMode::Register);
        let mut r = Registrations::new();
        r.sync(&TrunkTable::new(vec![trunk(cfg.clone())]));
        let (sent, _) = drain(&mut r);
        // A challenge answered with wrong credentials gets a second challenge: failed.
        r.on_reply(t0, reply(&sent[0], Some(401), Some(CHALLENGE)));
        let (sent, _) = drain(&mut r);
        r.on_reply(t0, reply(&sent[0], Some(401), Some(CHALLENGE)));
        let (none, st) = drain(&mut r);
        assert!(none.is_empty(), "one challenge answered per attempt");
        assert_eq!(
            st,
            vec![(
                cfg.id,
                RegStatus::Failed {
                    status: Some(401),
                    reason: "OK".into()
                }
            )]
        );
        assert_eq!(r.poll_timeout(), Some(t0 + RETRY_MIN));
        let mut now = t0 + RETRY_MIN;
        let mut waits = Vec::new();
        for (i, outcome) in [Some(403), None, Some(403)].into_iter().enumerate() {
            r.handle_timeout(now);
            let (sent, st) = drain(&mut r);
            assert!(st.is_empty(), "retries do not report registering");
            assert!(sent[0].authorization.is_none(), "attempt {i}");
            r.on_reply(now, reply(&sent[0], outcome, None));
            let (_, st) = drain(&mut r);
            let expected = match outcome {
                Some(s) => RegStatus::Failed {
                    status: Some(s),
                    reason: "Bad credentials".into(),
                },
                None => RegStatus::Failed {
                    status: None,
                    reason: "timeout".into(),
                },
            };
            assert_eq!(st, vec![(cfg.id, expected)]);
            let next = r.poll_timeout().unwrap();
            waits.push(next - now);
            now = next;
        }
        assert_eq!(waits, [RETRY_MIN * 2, RETRY_MIN * 4, RETRY_MIN * 8]);
        // Success resets the backoff.
        r.handle_timeout(now);
        let (sent, _) = drain(&mut r);
        r.on_reply(now, reply(&sent[0], Some(200), None));
        assert_eq!(
            drain(&mut r).1,
            vec![(cfg.id, RegStatus::Registered { expires: 120 })]
        );
    }

    #[test]
    fn trunks_that_change_or_go_away_are_re_registered_or_unregistered() {
        let t0 = Instant::now();
        let reg = config(Uuid::new_v4(), TrunkMode::Register);
        let ip = config(Uuid::new_v4(), TrunkMode::Ip);
        let mut unresolved = config(Uuid::new_v4(), TrunkMode::Register);
        unresolved.host = "nowhere.invalid".into();
        let mut r = Registrations::new();
        r.sync(&TrunkTable::new(vec![
            trunk(reg.clone()),
            trunk(ip.clone()),
            Trunk::new(unresolved.clone(), vec![], vec![]),
        ]));
        let (sent, st) = drain(&mut r);
        assert_eq!(sent.len(), 1);
        assert!(st.contains(&(ip.id, RegStatus::Ip)));
        assert!(st.contains(&(reg.id, RegStatus::Registering)));
        assert!(st.contains(&(
            unresolved.id,
            RegStatus::Failed {
                status: None,
                reason: "cannot resolve nowhere.invalid".into()
            }
        )));
        r.on_reply(t0, reply(&sent[0], Some(200), None));
        drain(&mut r);
        // A new DID changes nothing; a new password registers again (same binding: no
        // unregister that could remove the new one).
        let mut more_dids = reg.clone();
        more_dids.inbound_dids.push("+48220000000".into());
        r.sync(&TrunkTable::new(vec![trunk(more_dids.clone())]));
        let (sent, st) = drain(&mut r);
        assert!(sent.is_empty());
        assert!(st.contains(&(ip.id, RegStatus::Gone)));
        assert!(st.contains(&(unresolved.id, RegStatus::Gone)));
        let mut new_pw = more_dids.clone();
        new_pw.password = "other".into();
        r.sync(&TrunkTable::new(vec![trunk(new_pw.clone())]));
        let (sent, st) = drain(&mut r);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].expires, 120);
        assert_eq!(st, vec![(reg.id, RegStatus::Registering)]);
        r.on_reply(t0, reply(&sent[0], Some(200), None));
        drain(&mut r);
        // Gone: Expires 0, challenged once and answered, status removed.
        r.sync(&TrunkTable::new(vec![]));
        let (sent, st) = drain(&mut r);
        assert_eq!(st, vec![(reg.id, RegStatus::Gone)]);
        assert_eq!(sent[0].expires, 0);
        r.on_reply(t0, reply(&sent[0], Some(401), Some(CHALLENGE)));
        let (sent, st) = drain(&mut r);
        assert!(st.is_empty());
        assert_eq!(sent[0].expires, 0);
        assert!(sent[0].authorization.is_some());
        r.on_reply(t0, reply(&sent[0], Some(200), None));
        assert_eq!(drain(&mut r), (vec![], vec![]));
        assert!(r.is_empty() && r.leaving.is_empty());
        assert_eq!(r.poll_timeout(), None);
    }
}
