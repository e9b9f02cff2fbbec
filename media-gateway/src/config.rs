//! Gateway configuration from environment variables (documented in `docs/gateway.md`).

use anyhow::{anyhow, Context, Result};
use hotline_wire::gateway::FlowMode;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// All settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// Gateway id (command stream `gw:<id>:cmd`).
    pub gateway_id: String,
    /// SIP listen address (UDP and TCP).
    pub sip_addr: SocketAddr,
    /// Address put in Via/Contact (defaults to `sip_addr`).
    pub advertised_addr: SocketAddr,
    /// IP put in SDP answers (defaults to the advertised IP).
    pub media_ip: IpAddr,
    /// RTP port range (even ports used for RTP, odd for RTCP).
    pub rtp_ports: (u16, u16),
    /// Redis URL (`redis://…` or `unix:///path/to/redis.sock`).
    pub redis_url: String,
    /// Stream the events go to (`calls:events`; one per test environment).
    pub events_stream: String,
    /// Directory for call recordings.
    pub recordings_dir: PathBuf,
    /// Directory of prompt WAVs.
    pub prompts_dir: PathBuf,
    /// Default flow mode for tenants without a `{t:<id>}:gw:flow` setting.
    pub flow_mode: FlowMode,
    /// Built-in flow: wait for the menu key.
    pub digit_timeout_ms: u32,
    /// Built-in flow: echo test length.
    pub echo_ms: u32,
    /// Prometheus metrics listen address, if any.
    pub metrics_addr: Option<SocketAddr>,
    /// WebRTC signalling listen address (`POST /webrtc/legs`), if any; published in the
    /// heartbeat so backends can find it.
    pub http_addr: Option<SocketAddr>,
    /// Source networks allowed to send INVITEs (empty: everyone).
    pub trunk_acl: Vec<(IpAddr, u8)>,
    /// Inbound trunk accounts `(username, HA1)` accepted by digest auth (`Proxy-Authorization`)
    /// from sources outside the ACL.
    pub trunk_inbound_auth: Vec<(String, String)>,
    /// Digest realm of inbound trunk challenges.
    pub realm: String,
    /// Outbound trunk (next hop of `originate`d calls).
    pub trunk: Option<SocketAddr>,
    /// Digest credentials for the outbound trunk.
    pub trunk_auth: Option<(String, String)>,
    /// How often the tenant trunks (`platform:trunks`) are read again.
    pub trunks_refresh: Duration,
    /// Longest wait for the backend's `answer` before a ringing call gets 480.
    pub answer_timeout: Duration,
    /// Longest drain after SIGTERM before remaining calls are hung up.
    pub drain_timeout: Duration,
    /// Heartbeat period.
    pub heartbeat: Duration,
    /// Outbound limits `(calls at once, calls per second)` for a tenant whose limits the
    /// backend has not published (`{t:<tenant>}:outbound:limits`).
    pub outbound_defaults: (u32, u32),
    /// How long an outbound call counts against its tenant's limit without this gateway
    /// renewing it (renewed every heartbeat; a crashed gateway's calls stop counting then).
    pub outbound_lease: Duration,
    /// JSON logs.
    pub json_logs: bool,
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn parse_cidr(s: &str) -> Result<(IpAddr, u8)> {
    let (ip, len) = match s.split_once('/') {
        Some((ip, len)) => (ip, Some(len)),
        None => (s, None),
    };
    let ip: IpAddr = ip
        .trim()
        .parse()
        .with_context(|| format!("bad ACL address {s}"))?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| anyhow!("bad prefix in {s}"))?,
        None => max,
    };
    Ok((ip, len))
}

/// Whether `ip` is inside `net/len`.
pub fn acl_contains(net: IpAddr, len: u8, ip: IpAddr) -> bool {
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u32::MAX << (32 - len as u32)
            };
            u32::from(n) & mask == u32::from(i) & mask
        }
        (IpAddr::V6(n), IpAddr::V6(i)) => {
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len as u32)
            };
            u128::from(n) & mask == u128::from(i) & mask
        }
        _ => false,
    }
}

impl Config {
    /// Reads the environment.
    pub fn from_env() -> Result<Self> {
        let sip_addr: SocketAddr = var("HOTLINE_GW_SIP_ADDR")
            .unwrap_or_else(|| "127.0.0.1:5060".into())
            .parse()
            .context("HOTLINE_GW_SIP_ADDR")?;
        let advertised_addr = match var("HOTLINE_GW_ADVERTISED_ADDR") {
            Some(a) => a.parse().context("HOTLINE_GW_ADVERTISED_ADDR")?,
            None => sip_addr,
        };
        let media_ip = match var("HOTLINE_GW_MEDIA_IP") {
            Some(a) => a.parse().context("HOTLINE_GW_MEDIA_IP")?,
            None => advertised_addr.ip(),
        };
        let ports = var("HOTLINE_GW_RTP_PORTS").unwrap_or_else(|| "20000-29999".into());
        let (lo, hi) = ports
            .split_once('-')
            .ok_or_else(|| anyhow!("HOTLINE_GW_RTP_PORTS must be LOW-HIGH"))?;
        let rtp_ports: (u16, u16) = (lo.trim().parse()?, hi.trim().parse()?);
        if rtp_ports.0 > rtp_ports.1 || rtp_ports.1 - rtp_ports.0 < 3 {
            return Err(anyhow!("HOTLINE_GW_RTP_PORTS range too small"));
        }
        let flow_mode = match var("HOTLINE_GW_FLOW").as_deref() {
            None | Some("builtin") => FlowMode::Builtin,
            Some("backend") => FlowMode::Backend,
            Some(o) => {
                return Err(anyhow!(
                    "HOTLINE_GW_FLOW must be builtin or backend, not {o}"
                ))
            }
        };
        let ms = |name: &str, default: u32| -> Result<u32> {
            var(name)
                .map(|v| v.parse().with_context(|| name.to_string()))
                .unwrap_or(Ok(default))
        };
        let trunk_acl = var("HOTLINE_GW_TRUNK_ACL")
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(parse_cidr)
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let realm = var("HOTLINE_GW_REALM").unwrap_or_else(|| "hotline".into());
        let trunk_inbound_auth = var("HOTLINE_GW_TRUNK_INBOUND_AUTH")
            .map(|v| {
                v.split(',')
                    .filter(|s| !s.trim().is_empty())
                    .map(|pair| {
                        let (u, p) = pair.trim().split_once(':').ok_or_else(|| {
                            anyhow!("HOTLINE_GW_TRUNK_INBOUND_AUTH entries are user:password")
                        })?;
                        Ok((u.to_string(), crate::sip::digest::ha1(u, &realm, p)))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        Ok(Config {
            gateway_id: var("HOTLINE_GW_ID").unwrap_or_else(|| format!("gw-{}", sip_addr.port())),
            sip_addr,
            advertised_addr,
            media_ip,
            rtp_ports,
            redis_url: var("REDIS_URL").unwrap_or_else(|| "redis://127.0.0.1:6379".into()),
            events_stream: var("HOTLINE_GW_EVENTS_STREAM")
                .unwrap_or_else(|| hotline_wire::gateway::EVENTS_STREAM.into()),
            recordings_dir: PathBuf::from(
                var("HOTLINE_GW_RECORDINGS_DIR").unwrap_or_else(|| "./recordings".into()),
            ),
            prompts_dir: PathBuf::from(
                var("HOTLINE_GW_PROMPTS_DIR").unwrap_or_else(|| "./media-gateway/prompts".into()),
            ),
            flow_mode,
            digit_timeout_ms: ms("HOTLINE_GW_DIGIT_TIMEOUT_MS", 5000)?,
            echo_ms: ms("HOTLINE_GW_ECHO_MS", 10_000)?,
            metrics_addr: var("HOTLINE_GW_METRICS_ADDR")
                .map(|a| a.parse())
                .transpose()
                .context("HOTLINE_GW_METRICS_ADDR")?,
            http_addr: var("HOTLINE_GW_HTTP_ADDR")
                .map(|a| a.parse())
                .transpose()
                .context("HOTLINE_GW_HTTP_ADDR")?,
            trunk_acl,
            trunk_inbound_auth,
            realm,
            trunk: var("HOTLINE_GW_TRUNK")
                .map(|t| {
                    use std::net::ToSocketAddrs;
                    t.to_socket_addrs()
                        .ok()
                        .and_then(|mut a| a.next())
                        .ok_or_else(|| anyhow!("HOTLINE_GW_TRUNK: cannot resolve {t}"))
                })
                .transpose()?,
            trunk_auth: var("HOTLINE_GW_TRUNK_USER")
                .map(|u| (u, var("HOTLINE_GW_TRUNK_PASSWORD").unwrap_or_default())),
            trunks_refresh: Duration::from_millis(
                ms("HOTLINE_GW_TRUNKS_REFRESH_MS", 5000)?.max(100) as u64,
            ),
            answer_timeout: Duration::from_secs(ms("HOTLINE_GW_ANSWER_TIMEOUT_S", 60)? as u64),
            drain_timeout: Duration::from_secs(ms("HOTLINE_GW_DRAIN_TIMEOUT_S", 300)? as u64),
            heartbeat: Duration::from_millis(ms("HOTLINE_GW_HEARTBEAT_MS", 5000)? as u64),
            outbound_defaults: (
                ms("HOTLINE_GW_OUTBOUND_MAX_CALLS", 200)?,
                ms("HOTLINE_GW_OUTBOUND_CPS", 10)?,
            ),
            outbound_lease: Duration::from_millis(
                (ms("HOTLINE_GW_HEARTBEAT_MS", 5000)? as u64 * 6).max(30_000),
            ),
            json_logs: var("HOTLINE_GW_LOG_FORMAT").as_deref() == Some("json"),
        })
    }

    /// How an INVITE from `ip` is admitted: by the ACL (or no trunk security configured at
    /// all), only with digest credentials, or not at all.
    pub fn trunk_admission(&self, ip: IpAddr) -> Admission {
        let in_acl = self.trunk_acl.iter().any(|(n, l)| acl_contains(*n, *l, ip));
        match (
            in_acl,
            self.trunk_acl.is_empty(),
            self.trunk_inbound_auth.is_empty(),
        ) {
            (true, _, _) | (false, true, true) => Admission::Allowed,
            (false, _, false) => Admission::DigestRequired,
            (false, false, true) => Admission::Denied,
        }
    }

    /// Whether `ip` is in the trunk ACL (an empty ACL contains nobody).
    pub fn in_trunk_acl(&self, ip: IpAddr) -> bool {
        self.trunk_acl.iter().any(|(n, l)| acl_contains(*n, *l, ip))
    }

    /// HA1 of an inbound trunk account.
    pub fn trunk_ha1(&self, user: &str) -> Option<&str> {
        self.trunk_inbound_auth
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, h)| h.as_str())
    }
}

/// See [`Config::trunk_admission`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Source is trusted.
    Allowed,
    /// Source must authenticate (407 challenge).
    DigestRequired,
    /// Source is refused (403).
    Denied,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_matching() {
        let (n, l) = parse_cidr("10.1.0.0/16").unwrap();
        assert!(acl_contains(n, l, "10.1.2.3".parse().unwrap()));
        assert!(!acl_contains(n, l, "10.2.0.1".parse().unwrap()));
        let (n, l) = parse_cidr("127.0.0.1").unwrap();
        assert!(acl_contains(n, l, "127.0.0.1".parse().unwrap()));
        assert!(parse_cidr("1.2.3.4/40").is_err());
    }
}
