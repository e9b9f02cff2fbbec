//! Who is on the other end: the one client address the audit logs, login throttling and the
//! rate limits all use.
//!
//! The address is the socket peer's, unless the peer is a trusted proxy (`trusted_proxies`,
//! CIDR blocks): then it is the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy. From any other peer `X-Forwarded-For` is ignored, so a client cannot choose
//! the address it is logged and limited under.

use crate::{
    allow_list::{canonical, in_net},
    state::AppState,
};
use axum::{
    extract::{ConnectInfo, Request, State},
    http::HeaderMap,
    middleware::Next,
    response::Response,
};
use std::net::{IpAddr, SocketAddr};

/// The client's address as worked out by [`middleware`], a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

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

/// Works out the client address of every request once ([`ClientAddr`]).
pub async fn middleware(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = state.trusted_proxies.client(peer, req.headers());
        req.extensions_mut().insert(ClientAddr(client));
    }
    next.run(req).await
}

/// The key a rate limit counts an address under: an IPv4 address, or an IPv6 address's /64
/// (one subscriber's network; counting single IPv6 addresses would let one client rotate
/// through billions).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn untrusted_peers_cannot_choose_their_address() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client(ip("198.51.100.7"), &xff(&["1.2.3.4"])),
            ip("198.51.100.7")
        );
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into()]).unwrap();
        assert_eq!(
            proxies.client(ip("198.51.100.7"), &xff(&["1.2.3.4"])),
            ip("198.51.100.7"),
            "a peer outside the trusted blocks"
        );
    }

    #[test]
    fn the_right_most_untrusted_entry_is_the_client() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "2001:db8::1".into()]).unwrap();
        // The client prepended a lie; the proxy appended what it saw.
        let h = xff(&["6.6.6.6, 203.0.113.9"]);
        assert_eq!(proxies.client(ip("10.1.2.3"), &h), ip("203.0.113.9"));
        // Two trusted hops, two headers, ports and brackets.
        let h = xff(&["6.6.6.6", "203.0.113.9:5123, 10.0.0.2"]);
        assert_eq!(proxies.client(ip("10.0.0.1"), &h), ip("203.0.113.9"));
        let h = xff(&["[2001:db8::77]:443, 2001:db8::1"]);
        assert_eq!(
            proxies.client(ip("::ffff:10.0.0.1"), &h),
            ip("2001:db8::77")
        );
        // Every entry a proxy: the left-most is as far as the chain goes.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &xff(&["10.0.0.9, 10.0.0.8"])),
            ip("10.0.0.9")
        );
        // No header: the proxy itself. Garbage: the last trusted hop.
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            proxies.client(ip("10.0.0.1"), &xff(&["1.2.3.4, unknown, 10.0.0.5"])),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn entries_parse_or_are_named() {
        assert!(TrustedProxies::parse(&["127.0.0.1".into(), "fd00::/8".into()]).is_ok());
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.0/33".into()])
                .unwrap_err()
                .0,
            0
        );
        assert_eq!(
            TrustedProxies::parse(&["10.0.0.1".into(), "proxy.local".into()])
                .unwrap_err()
                .0,
            1
        );
    }

    #[test]
    fn ipv6_addresses_are_limited_by_their_64() {
        assert_eq!(limit_key(ip("203.0.113.9")), "203.0.113.9");
        assert_eq!(limit_key(ip("::ffff:203.0.113.9")), "203.0.113.9");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::2"))
        );
        assert_eq!(limit_key(ip("2001:db8:1:2::1")), "2001:db8:1:2::/64");
    }
}
