//! Who is on the other end: the one client address the audit logs, login throttling and the
//! rate limits all use.
//!
//! The address is the socket peer's, unless the peer is a trusted proxy (`trusted_proxies`,
//! CIDR blocks): then it is the right-most `X-Forwarded-For` entry that is not itself a
//! trusted proxy. From any other peer `X-Forwarded-For` is ignored, so a client cannot choose
//! the address it is logged and limited under.

use crate::{allow_list::canonical, state::AppState};
use axum::{
    extract::{ConnectInfo, Request, State},
    middleware::Next,
    response::Response,
};
use std::net::{IpAddr, SocketAddr};

/// The client's address as worked out by [`middleware`], a request extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

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
    use crate::allow_list::TrustedProxies;
    use axum::http::HeaderMap;
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
