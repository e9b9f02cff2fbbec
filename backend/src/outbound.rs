//! The one outbound HTTP policy: every server-side request to an address a tenant (or anyone
//! outside the platform) can choose goes through [`Policy::send`] — IVR HTTP lookups, SSO
//! discovery, token and userinfo calls, and every later webhook or integration.
//!
//! What it does, in order:
//! - only `http`/`https`; the port must be the scheme's default, one of `outbound_ports`, or
//!   covered by an allow-list entry;
//! - the host is taken the way the `url` crate (and so reqwest) reads it, so odd IPv4
//!   notations (`2130706433`, `0x7f.1`, `017700000001`, `127.1`) are already the address
//!   they mean; a name is resolved **once** here and every address it gives is checked;
//! - refused: loopback, private, link-local, CGNAT, multicast, unspecified, broadcast,
//!   reserved, documentation, benchmarking, IPv6 ULA / site-local / non-global, and the
//!   IPv4-mapped, -compatible, NAT64 and 6to4 forms of a refused IPv4 address (Teredo
//!   outright); the cloud metadata addresses are refused even when an allow-list covers them;
//! - the connection goes to the checked addresses (reqwest's resolver is overridden for that
//!   name; no proxy from the environment), so a second DNS answer cannot move it (no DNS
//!   rebinding);
//! - redirects are never followed; a timeout (at most [`MAX_TIMEOUT`]) and a response size
//!   cap ([`MAX_RESPONSE_BYTES`]).
//!
//! Allow-lists: the platform's (`outbound_allow` in the configuration) and the tenant's
//! (`platform.tenants.outbound_allow`, set by a platform operator). An entry is an address,
//! a CIDR block, or a host name (`crm.internal`, `*.corp.example`), optionally with a port
//! (`10.0.0.5:8080`, `[fd00::1]:8443`, `crm.internal:8443`); without a port it covers every
//! port of that destination.

use crate::allow_list::{canonical, in_net, AllowEntry};
use crate::state::AppState;
use axum::http;
use std::{
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    time::Duration,
};
use uuid::Uuid;

/// The longest any outbound request may take (connect, send, read).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest response body read; a bigger one fails the request.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// Ports allowed without configuration.
pub const DEFAULT_PORTS: [u16; 2] = [80, 443];

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The policy refused the destination; nothing was sent.
    #[error("refused: {0}")]
    Refused(String),
    /// The request was allowed but did not succeed (DNS, connection, timeout, size…).
    #[error("{0}")]
    Failed(String),
}

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

/// The cloud metadata services: refused even when an allow-list covers them.
fn is_metadata(ip: IpAddr) -> bool {
    let ip = canonical(ip);
    ip == v4(169, 254, 169, 254)
        || ip == v4(169, 254, 170, 2)
        || ip == IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254))
}

/// Why an address may not be reached from the platform, or `None` for a public address.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    if is_metadata(ip) {
        return Some("a cloud metadata address");
    }
    match ip {
        IpAddr::V4(a) => refused_v4(a),
        IpAddr::V6(a) => refused_v6(a),
    }
}

fn refused_v4(a: Ipv4Addr) -> Option<&'static str> {
    const RANGES: &[([u8; 4], u8, &str)] = &[
        ([0, 0, 0, 0], 8, "an unspecified (\"this network\") address"),
        ([10, 0, 0, 0], 8, "a private address"),
        ([100, 64, 0, 0], 10, "a carrier-grade NAT address"),
        ([127, 0, 0, 0], 8, "a loopback address"),
        ([169, 254, 0, 0], 16, "a link-local address"),
        ([172, 16, 0, 0], 12, "a private address"),
        ([192, 0, 0, 0], 24, "a reserved (IETF protocol) address"),
        ([192, 0, 2, 0], 24, "a documentation address"),
        ([192, 88, 99, 0], 24, "a reserved (6to4 relay) address"),
        ([192, 168, 0, 0], 16, "a private address"),
        ([198, 18, 0, 0], 15, "a benchmarking address"),
        ([198, 51, 100, 0], 24, "a documentation address"),
        ([203, 0, 113, 0], 24, "a documentation address"),
        ([224, 0, 0, 0], 4, "a multicast address"),
        ([255, 255, 255, 255], 32, "the broadcast address"),
        ([240, 0, 0, 0], 4, "a reserved address"),
    ];
    RANGES.iter().find_map(|(net, prefix, why)| {
        in_net(IpAddr::V4(a), IpAddr::V4(Ipv4Addr::from(*net)), *prefix).then_some(*why)
    })
}

fn refused_v6(a: Ipv6Addr) -> Option<&'static str> {
    let n = u128::from(a);
    let s = a.segments();
    let embedded = |bits: u32| Ipv4Addr::from((n >> bits) as u32);
    if a.is_unspecified() {
        return Some("an unspecified address");
    }
    if a.is_loopback() {
        return Some("a loopback address");
    }
    // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 address decides.
    if n >> 32 == 0xffff || n >> 32 == 0 {
        return refused_v4(embedded(0)).or(Some("an IPv4-compatible address"));
    }
    // NAT64 well-known prefix 64:ff9b::/96: the embedded IPv4 address decides.
    if n >> 32 == 0x0064_ff9b_0000_0000_0000_0000 {
        return refused_v4(embedded(0));
    }
    let in6 =
        |net: [u16; 8], prefix: u8| in_net(IpAddr::V6(a), IpAddr::V6(Ipv6Addr::from(net)), prefix);
    if in6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48) {
        return Some("a local-use NAT64 address");
    }
    if s[0] == 0x2002 {
        // 6to4: the IPv4 address in bits 16..48 decides.
        return refused_v4(embedded(80));
    }
    const RANGES: &[([u16; 8], u8, &str)] = &[
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 32, "a Teredo address"),
        ([0x2001, 2, 0, 0, 0, 0, 0, 0], 48, "a benchmarking address"),
        (
            [0x2001, 0xdb8, 0, 0, 0, 0, 0, 0],
            32,
            "a documentation address",
        ),
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20, "a documentation address"),
        ([0x100, 0, 0, 0, 0, 0, 0, 0], 64, "a discard-only address"),
        (
            [0xfc00, 0, 0, 0, 0, 0, 0, 0],
            7,
            "a unique local (private) address",
        ),
        ([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10, "a link-local address"),
        ([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10, "a site-local address"),
        ([0xff00, 0, 0, 0, 0, 0, 0, 0], 8, "a multicast address"),
    ];
    if let Some((_, _, why)) = RANGES.iter().find(|(net, p, _)| in6(*net, *p)) {
        return Some(why);
    }
    // Everything outside global unicast (2000::/3) is unallocated or special.
    if s[0] & 0xe000 != 0x2000 {
        return Some("a reserved address");
    }
    None
}

/// The policy for one tenant: the platform's allow-list and ports plus the tenant's grant.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    allow: Vec<AllowEntry>,
    ports: Vec<u16>,
}

/// A URL as the policy reads it.
struct Dest {
    url: url::Url,
    port: u16,
    host: url::Host<String>,
}

impl Policy {
    /// The platform's policy (configuration only); invalid entries are skipped and logged
    /// (`Config::apply_env` refuses them at start).
    pub fn platform(cfg: &crate::config::Config) -> Self {
        let mut allow = Vec::new();
        for e in &cfg.outbound_allow {
            match AllowEntry::parse(e) {
                Ok(a) => allow.push(a),
                Err(m) => tracing::warn!(entry = %e, "outbound_allow: {m}"),
            }
        }
        let mut ports = DEFAULT_PORTS.to_vec();
        ports.extend(&cfg.outbound_ports);
        Self { allow, ports }
    }

    /// The platform's policy plus what the operator granted `tenant`.
    pub async fn for_tenant(state: &AppState, tenant: Uuid) -> Result<Self, sqlx::Error> {
        let mut p = Self::platform(&state.cfg);
        let granted: Option<Vec<String>> =
            sqlx::query_scalar("SELECT outbound_allow FROM platform.tenants WHERE id = $1")
                .bind(tenant)
                .fetch_optional(&state.db)
                .await?;
        p.allow.extend(
            granted
                .unwrap_or_default()
                .iter()
                .filter_map(|e| AllowEntry::parse(e).ok()),
        );
        Ok(p)
    }

    fn dest(&self, url: &str) -> Result<Dest, FetchError> {
        let url =
            url::Url::parse(url).map_err(|e| FetchError::Refused(format!("not a URL ({e})")))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::Refused(format!(
                "scheme {:?}: only http and https",
                url.scheme()
            )));
        }
        let port = url
            .port_or_known_default()
            .ok_or_else(|| FetchError::Refused("no port".into()))?;
        let host = url
            .host()
            .ok_or_else(|| FetchError::Refused("no host".into()))?
            .to_owned();
        Ok(Dest { url, port, host })
    }

    fn host_allowed(&self, name: &str, port: u16) -> bool {
        self.allow.iter().any(|a| a.covers_host(name, port))
    }

    /// Whether `ip:port` may be reached (`name_allowed`: the URL's host name is on an
    /// allow-list, which covers whatever it resolves to — except metadata addresses).
    fn check_ip(&self, ip: IpAddr, port: u16, name_allowed: bool) -> Result<(), FetchError> {
        if is_metadata(ip) {
            return Err(FetchError::Refused(format!(
                "{ip} is a cloud metadata address"
            )));
        }
        if name_allowed || self.allow.iter().any(|a| a.covers_ip(ip, port)) {
            return Ok(());
        }
        if let Some(why) = refused_range(ip) {
            return Err(FetchError::Refused(format!("{ip} is {why}")));
        }
        if !self.ports.contains(&port) {
            return Err(FetchError::Refused(format!("port {port} is not allowed")));
        }
        Ok(())
    }

    /// The check a setting gets when it is saved: scheme, port, and the host when it is an
    /// address literal (in any notation) or a `localhost` name. Names are resolved only when
    /// the request is made.
    pub fn check_url(&self, url: &str) -> Result<(), FetchError> {
        let d = self.dest(url)?;
        match &d.host {
            url::Host::Ipv4(a) => self.check_ip(IpAddr::V4(*a), d.port, false),
            url::Host::Ipv6(a) => self.check_ip(IpAddr::V6(*a), d.port, false),
            url::Host::Domain(name) => {
                let allowed = self.host_allowed(name, d.port);
                if !allowed && is_localhost(name) {
                    return Err(FetchError::Refused(format!("{name} is a loopback name")));
                }
                if !allowed && !self.ports.contains(&d.port) {
                    return Err(FetchError::Refused(format!(
                        "port {} is not allowed",
                        d.port
                    )));
                }
                Ok(())
            }
        }
    }

    /// Checks the destination, resolves it once, and sends the request to the checked
    /// addresses only. Redirects are not followed (a 3xx is a failure); the body is read up
    /// to [`MAX_RESPONSE_BYTES`].
    pub async fn send(
        &self,
        req: http::Request<Vec<u8>>,
        timeout: Duration,
    ) -> Result<http::Response<Vec<u8>>, FetchError> {
        let timeout = timeout.min(MAX_TIMEOUT);
        let d = self.dest(&req.uri().to_string())?;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout);
        match &d.host {
            url::Host::Ipv4(a) => self.check_ip(IpAddr::V4(*a), d.port, false)?,
            url::Host::Ipv6(a) => self.check_ip(IpAddr::V6(*a), d.port, false)?,
            url::Host::Domain(name) => {
                let allowed = self.host_allowed(name, d.port);
                if !allowed && is_localhost(name) {
                    return Err(FetchError::Refused(format!("{name} is a loopback name")));
                }
                let addrs: Vec<SocketAddr> =
                    tokio::time::timeout(timeout, tokio::net::lookup_host((name.as_str(), d.port)))
                        .await
                        .map_err(|_| FetchError::Failed(format!("resolving {name}: timed out")))?
                        .map_err(|e| FetchError::Failed(format!("resolving {name}: {e}")))?
                        .collect();
                if addrs.is_empty() {
                    return Err(FetchError::Failed(format!("{name} has no address")));
                }
                for a in &addrs {
                    self.check_ip(a.ip(), d.port, allowed)
                        .map_err(|e| match e {
                            FetchError::Refused(m) => {
                                FetchError::Refused(format!("{name} resolves to {m}"))
                            }
                            other => other,
                        })?;
                }
                // Pinned: reqwest connects to these, it never asks DNS again.
                builder = builder.resolve_to_addrs(name, &addrs);
            }
        }
        let client = builder
            .build()
            .map_err(|e| FetchError::Failed(format!("HTTP client: {e}")))?;
        let (parts, body) = req.into_parts();
        let resp = client
            .request(parts.method, d.url.clone())
            .headers(parts.headers)
            .body(body)
            .send()
            .await
            .map_err(|e| FetchError::Failed(describe(&e)))?;
        let status = resp.status();
        if status.is_redirection() {
            return Err(FetchError::Failed(format!(
                "HTTP {status}: redirects are not followed"
            )));
        }
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
        {
            return Err(FetchError::Failed(format!(
                "response larger than {MAX_RESPONSE_BYTES} bytes"
            )));
        }
        let mut out = http::Response::builder().status(status);
        if let Some(h) = out.headers_mut() {
            *h = resp.headers().clone();
        }
        let mut resp = resp;
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| FetchError::Failed(describe(&e)))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(FetchError::Failed(format!(
                    "response larger than {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        out.body(body)
            .map_err(|e| FetchError::Failed(format!("response: {e}")))
    }

    /// `GET url`, expecting a 2xx JSON answer.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &str,
        bearer: Option<&str>,
        timeout: Duration,
    ) -> Result<T, FetchError> {
        let mut req = http::Request::get(url).header(http::header::ACCEPT, "application/json");
        if let Some(token) = bearer {
            req = req.header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        }
        let req = req
            .body(Vec::new())
            .map_err(|e| FetchError::Refused(format!("not a URL ({e})")))?;
        let resp = self.send(req, timeout).await?;
        if !resp.status().is_success() {
            return Err(FetchError::Failed(format!("HTTP {}", resp.status())));
        }
        serde_json::from_slice(resp.body())
            .map_err(|e| FetchError::Failed(format!("not the expected JSON: {e}")))
    }
}

/// `localhost` and its subdomains always mean loopback (RFC 6761).
fn is_localhost(name: &str) -> bool {
    let n = name.trim_end_matches('.').to_ascii_lowercase();
    n == "localhost" || n.ends_with(".localhost")
}

fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> bool {
        matches!(
            Policy::platform(&Default::default()).check_url(url),
            Err(FetchError::Refused(_))
        )
    }

    #[test]
    fn every_refused_form_is_refused_at_save() {
        for u in [
            "http://127.0.0.1/",
            "http://127.1/",
            "http://2130706433/",
            "http://0x7f.1/",
            "http://017700000001/",
            "http://0x7f000001/",
            "http://0/",
            "http://0.0.0.0/",
            "http://localhost/",
            "http://LOCALHOST./",
            "http://a.localhost/",
            "http://10.1.2.3/",
            "http://172.16.0.1/",
            "http://192.168.1.1/",
            "http://100.64.0.1/",
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.1.1/",
            "http://224.0.0.1/",
            "http://255.255.255.255/",
            "http://240.0.0.1/",
            "http://192.0.2.1/",
            "http://198.51.100.1/",
            "http://203.0.113.1/",
            "http://198.18.0.1/",
            "http://198.19.255.1/",
            "http://[::1]/",
            "http://[::]/",
            "http://[::ffff:127.0.0.1]/",
            "http://[::ffff:7f00:1]/",
            "http://[::127.0.0.1]/",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://[2002:7f00:1::]/",
            "http://[2001:db8::1]/",
            "http://[fc00::1]/",
            "http://[fd00:ec2::254]/",
            "http://[fe80::1]/",
            "http://[ff02::1]/",
            "http://[2001::1]/",
            "ftp://example.com/",
            "file:///etc/passwd",
            "gopher://example.com/",
            "http://example.com:6379/",
            "http://8.8.8.8:22/",
        ] {
            assert!(refused(u), "{u} should be refused");
        }
    }

    #[test]
    fn public_addresses_and_names_pass_the_save_check() {
        for u in [
            "https://example.com/x?n={{caller}}",
            "http://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "http://[64:ff9b::808:808]/",
            "https://crm.example.com:443/api",
        ] {
            assert!(!refused(u), "{u} should pass");
        }
    }

    #[test]
    fn allow_lists_cover_addresses_names_and_ports_but_never_metadata() {
        let cfg = crate::config::Config {
            outbound_allow: vec![
                "127.0.0.0/8".into(),
                "10.0.0.5:8080".into(),
                "*.corp.example".into(),
                "[fd00::1]:8443".into(),
                "169.254.0.0/16".into(),
            ],
            outbound_ports: vec![8081],
            ..Default::default()
        };
        let p = Policy::platform(&cfg);
        assert!(p.check_url("http://127.0.0.1:9999/").is_ok());
        assert!(p.check_url("http://[::ffff:127.0.0.1]:9999/").is_ok());
        assert!(p.check_url("http://10.0.0.5:8080/").is_ok());
        assert!(p.check_url("http://10.0.0.5:8081/").is_err());
        assert!(p.check_url("http://crm.corp.example:7000/").is_ok());
        assert!(p.check_url("http://[fd00::1]:8443/").is_ok());
        assert!(p.check_url("http://[fd00::1]:80/").is_err());
        assert!(p.check_url("http://example.com:8081/").is_ok());
        assert!(p.check_url("http://169.254.169.254/").is_err());
        assert!(p.check_url("http://169.254.1.1/").is_ok());
    }

    #[test]
    fn entries_parse_and_print() {
        for (s, ok) in [
            ("10.0.0.0/8", true),
            ("10.0.0.5:8080", true),
            ("[fd00::1]:8443", true),
            ("fd00::/8", true),
            ("crm.internal", true),
            ("*.corp.example:8443", true),
            ("10.0.0.0/33", false),
            ("crm internal", false),
            ("10.0.0.5:0", false),
            ("", false),
            ("1.2.3", false),
        ] {
            assert_eq!(AllowEntry::parse(s).is_ok(), ok, "{s}");
            if ok {
                assert_eq!(AllowEntry::parse(s).unwrap().to_string(), s);
            }
        }
    }
}
