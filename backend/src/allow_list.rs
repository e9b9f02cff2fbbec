//! Allow-list entries (an address, a CIDR block or a host name, with an optional port) and
//! address-range arithmetic, and the trusted proxies whose `X-Forwarded-For` is believed. Pure:
//! used by the configuration (to refuse a bad entry at start), the outbound HTTP policy
//! (`outbound.rs`), the operators' per-tenant grants and the client address (`client_addr.rs`).

use axum::http::HeaderMap;
use std::{
    fmt,
    net::{IpAddr, SocketAddr},
};

#[derive(Debug, Clone, PartialEq)]
enum Target {
    Net {
        addr: IpAddr,
        prefix: u8,
    },
    /// Lower case; a leading `*.` matches any subdomain.
    Host(String),
}

/// One allow-list entry.
#[derive(Debug, Clone, PartialEq)]
pub struct AllowEntry {
    target: Target,
    port: Option<u16>,
}

impl AllowEntry {
    /// Parses `10.0.0.0/8`, `10.0.0.5:8080`, `[fd00::1]:8443`, `fd00::/8`, `crm.internal`,
    /// `*.corp.example:8443`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad =
            || format!("{s:?} is not an address, CIDR block or host name (with an optional :port)");
        let (main, port) = if let Some(rest) = s.strip_prefix('[') {
            let (inner, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad)?),
            };
            (inner, port)
        } else if s.matches(':').count() == 1 {
            let (h, p) = s.split_once(':').ok_or_else(bad)?;
            (h, Some(p))
        } else {
            (s, None)
        };
        let port = match port {
            None => None,
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
        };
        let target = if let Some((a, p)) = main.split_once('/') {
            let addr: IpAddr = a.parse().map_err(|_| bad())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix: u8 = p.parse().ok().filter(|p| *p <= max).ok_or_else(bad)?;
            Target::Net { addr, prefix }
        } else if let Ok(addr) = main.parse::<IpAddr>() {
            let prefix = if addr.is_ipv4() { 32 } else { 128 };
            Target::Net { addr, prefix }
        } else {
            let h = main.to_ascii_lowercase();
            let name = h.strip_prefix("*.").unwrap_or(&h);
            let ok = !name.is_empty()
                && name.len() <= 253
                && name.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                })
                && !name.bytes().all(|b| b.is_ascii_digit() || b == b'.');
            if !ok {
                return Err(bad());
            }
            Target::Host(h)
        };
        Ok(Self { target, port })
    }

    pub fn covers_port(&self, port: u16) -> bool {
        self.port.is_none_or(|p| p == port)
    }

    pub fn covers_ip(&self, ip: IpAddr, port: u16) -> bool {
        let Target::Net { addr, prefix } = self.target else {
            return false;
        };
        self.covers_port(port) && in_net(canonical(ip), addr, prefix)
    }

    pub fn covers_host(&self, host: &str, port: u16) -> bool {
        let Target::Host(h) = &self.target else {
            return false;
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.covers_port(port)
            && match h.strip_prefix("*.") {
                Some(suffix) => host.ends_with(&format!(".{suffix}")),
                None => host == *h,
            }
    }
}

/// Parses a whole allow-list; the error names the entry's index.
pub fn parse_allow_list(entries: &[String]) -> Result<Vec<AllowEntry>, (usize, String)> {
    entries
        .iter()
        .enumerate()
        .map(|(i, e)| AllowEntry::parse(e).map_err(|m| (i, m)))
        .collect()
}

pub fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - prefix as u32).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - prefix as u32).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An IPv4-mapped IPv6 address is its IPv4 address (for allow-list matching).
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => ip,
        },
        v4 => v4,
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = match &self.target {
            Target::Net { addr, prefix } => {
                let full = if addr.is_ipv4() { 32 } else { 128 };
                match (addr, *prefix == full) {
                    (IpAddr::V6(_), _) if self.port.is_some() => {
                        if *prefix == full {
                            format!("[{addr}]")
                        } else {
                            format!("[{addr}/{prefix}]")
                        }
                    }
                    (_, true) => addr.to_string(),
                    (_, false) => format!("{addr}/{prefix}"),
                }
            }
            Target::Host(h) => h.clone(),
        };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => write!(f, "{host}"),
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

/// At most this many `X-Forwarded-For` entries are looked at, from the right.
const MAX_HOPS: usize = 32;

impl TrustedProxies {
    /// Parses addresses and CIDR blocks (`10.0.0.0/8`, `127.0.0.1`, `fd00::/8`); the error
    /// names the entry's index.
    pub fn parse(entries: &[String]) -> Result<Self, (usize, String)> {
        let mut nets = Vec::with_capacity(entries.len());
        for (i, e) in entries.iter().enumerate() {
            let e = e.trim();
            let bad = || (i, format!("{e:?} is not an IP address or CIDR block"));
            let (addr, prefix) = match e.split_once('/') {
                Some((a, p)) => {
                    let addr: IpAddr = a.parse().map_err(|_| bad())?;
                    let max = if addr.is_ipv4() { 32 } else { 128 };
                    let prefix: u8 = p.parse().ok().filter(|p| *p <= max).ok_or_else(bad)?;
                    (addr, prefix)
                }
                None => {
                    let addr: IpAddr = e.parse().map_err(|_| bad())?;
                    (addr, if addr.is_ipv4() { 32 } else { 128 })
                }
            };
            nets.push((canonical(addr), prefix));
        }
        Ok(Self(nets))
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, prefix)| in_net(ip, *net, *prefix))
    }

    /// The client behind `peer`, given the request's `X-Forwarded-For` headers.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = canonical(peer);
        if !self.contains(client) {
            return client;
        }
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        for entry in entries.iter().rev().take(MAX_HOPS) {
            // An entry a trusted proxy did not write (garbage): the last trusted hop is as far
            // as we can see.
            let Some(ip) = parse_entry(entry) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_entry(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    s.parse::<SocketAddr>().ok().map(|a| canonical(a.ip()))
}
