//! One typed configuration, read from an optional TOML file and then the environment.
//!
//! Precedence: defaults < file (`HOTLINE_CONFIG`, default `hotline.toml` if present) <
//! environment variables. Every key is documented in the README.

use serde::Deserialize;
use std::{net::SocketAddr, path::PathBuf, time::Duration};

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Postgres connection string (`DATABASE_URL`).
    pub database_url: String,
    /// Redis connection string (`REDIS_URL`).
    pub redis_url: String,
    /// Where the HTTP API listens (`HOTLINE_HTTP_ADDR`).
    pub http_addr: SocketAddr,
    /// The URL users reach us at (`HOTLINE_PUBLIC_URL`); SSO redirect URIs are built from it
    /// and cookies are marked `Secure` when it is https.
    pub public_url: String,
    /// The built SPA (`HOTLINE_SPA_DIR`).
    pub spa_dir: PathBuf,
    /// Maximum Postgres connections in the pool (`HOTLINE_DB_POOL`).
    pub db_pool_size: u32,
    /// Session lifetime in seconds (`HOTLINE_SESSION_TTL`): a shift plus margin.
    pub session_ttl_secs: u64,
    /// Failed logins for one account before it is locked (`HOTLINE_LOGIN_MAX_FAILURES`).
    pub login_max_failures: u32,
    /// How long a lock-out lasts, in seconds (`HOTLINE_LOGIN_LOCKOUT_SECS`).
    pub login_lockout_secs: u64,
    /// Log format: `json` or `pretty` (`HOTLINE_LOG_FORMAT`).
    pub log_format: String,
    /// Seconds between passes of the SLA/notification job (`HOTLINE_SLA_JOB_INTERVAL`);
    /// 0 turns it off.
    pub sla_job_interval_secs: u64,
    /// Outgoing e-mail (`[smtp]`, or `HOTLINE_SMTP_HOST` and friends); absent: no e-mail.
    pub smtp: Option<SmtpConfig>,
    /// Where uploaded files (attachments) are kept, one subdirectory per tenant
    /// (`HOTLINE_FILES_DIR`).
    pub files_dir: PathBuf,
    /// Largest file accepted by an upload, in bytes (`HOTLINE_MAX_UPLOAD_BYTES`).
    pub max_upload_bytes: u64,
    /// The media gateways' event stream the backend consumes (`HOTLINE_CALL_EVENTS_STREAM`,
    /// default `calls:events`; tests use one stream per test database).
    pub call_events_stream: String,
    /// How long the ACD rings an agent before the call goes back to its queue and the agent
    /// is set not ready (reason `missed`), in seconds (`HOTLINE_RING_TIMEOUT_SECS`).
    pub ring_timeout_secs: u64,
    /// How long a backend's lease on a shard of the gateway event stream lasts without
    /// renewal, in seconds (`HOTLINE_CALL_EVENTS_LEASE_SECS`, default 5): the longest a killed
    /// backend's shards wait before another backend takes them over (renewed every second).
    pub call_events_lease_secs: u64,
    /// Destinations server-side requests (IVR HTTP lookups, SSO) may reach although the
    /// outbound policy refuses them — private, loopback… — for on-premise deployments
    /// (`HOTLINE_OUTBOUND_ALLOW`, comma-separated): addresses, CIDR blocks or host names, each
    /// with an optional `:port` (`10.0.0.0/8`, `10.0.0.5:8080`, `[fd00::1]:8443`,
    /// `crm.internal`, `*.corp.example`). Empty by default. See `outbound.rs`.
    pub outbound_allow: Vec<String>,
    /// Ports server-side requests may use besides 80 and 443 (`HOTLINE_OUTBOUND_PORTS`,
    /// comma-separated). Empty by default.
    pub outbound_ports: Vec<u16>,
    /// Proxies (addresses or CIDR blocks) in front of the backend whose `X-Forwarded-For` is
    /// believed (`HOTLINE_TRUSTED_PROXIES`, comma-separated). Empty by default: the client
    /// address is the socket's, and `X-Forwarded-For` is ignored. See `client_addr.rs`.
    pub trusted_proxies: Vec<String>,
    /// Tenant sign-ups one client address may make per hour
    /// (`HOTLINE_SIGNUP_LIMIT_PER_ADDRESS`, default 5; 0: no limit).
    pub signup_limit_per_address: u32,
    /// Tenant sign-ups the whole platform accepts per hour (`HOTLINE_SIGNUP_LIMIT_GLOBAL`,
    /// default 100; 0: no limit).
    pub signup_limit_global: u32,
    /// Password-strength estimates one client address may ask for per minute
    /// (`HOTLINE_STRENGTH_LIMIT_PER_ADDRESS`, default 120; 0: no limit).
    pub strength_limit_per_address: u32,
    /// The SIP domain of desk phones (`HOTLINE_SIP_DOMAIN`, default `hotline.test`): a
    /// tenant's phones register as `<extension>@<tenant slug>.<sip_domain>`; in production a
    /// wildcard DNS name of the gateways.
    pub sip_domain: String,
    /// Where desk phones send REGISTER, `host:port` (`HOTLINE_SIP_REGISTRAR`, default
    /// `127.0.0.1:5080`, the demo gateway): shown in their provisioning text.
    pub sip_registrar: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "postgres://postgres@127.0.0.1:5432/hotline".into(),
            redis_url: "redis://127.0.0.1:6379/".into(),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            public_url: "http://127.0.0.1:8080".into(),
            spa_dir: PathBuf::from("frontend/dist"),
            db_pool_size: 20,
            session_ttl_secs: 12 * 3600,
            login_max_failures: 5,
            login_lockout_secs: 15 * 60,
            log_format: "pretty".into(),
            sla_job_interval_secs: 30,
            smtp: None,
            files_dir: PathBuf::from(".local/files"),
            max_upload_bytes: 20 * 1024 * 1024,
            call_events_stream: hotline_wire::gateway::EVENTS_STREAM.into(),
            ring_timeout_secs: 20,
            call_events_lease_secs: 5,
            outbound_allow: Vec::new(),
            outbound_ports: Vec::new(),
            trusted_proxies: Vec::new(),
            signup_limit_per_address: 5,
            signup_limit_global: 100,
            strength_limit_per_address: 120,
            sip_domain: "hotline.test".into(),
            sip_registrar: "127.0.0.1:5080".into(),
        }
    }
}

/// The SMTP server notifications are e-mailed through.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpConfig {
    /// Host name or address (`HOTLINE_SMTP_HOST`).
    pub host: String,
    /// Port (`HOTLINE_SMTP_PORT`, default 25).
    pub port: u16,
    /// Sender, e.g. `Hotline <noreply@example.com>` (`HOTLINE_SMTP_FROM`).
    pub from: String,
    /// Optional login (`HOTLINE_SMTP_USER`, `HOTLINE_SMTP_PASSWORD`).
    pub user: Option<String>,
    pub password: Option<String>,
    /// Upgrade the connection with STARTTLS, required when set (`HOTLINE_SMTP_STARTTLS`).
    pub starttls: bool,
}

impl Default for SmtpConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: 25,
            from: "Hotline <noreply@hotline.invalid>".into(),
            user: None,
            password: None,
            starttls: false,
        }
    }
}

impl Config {
    /// Loads the file named by `HOTLINE_CONFIG` (or `hotline.toml` when it exists), then
    /// applies environment overrides.
    pub fn load() -> anyhow::Result<Self> {
        let path = std::env::var("HOTLINE_CONFIG").ok();
        let mut cfg = match path.as_deref() {
            Some(p) => Self::from_toml(
                &std::fs::read_to_string(p).map_err(|e| anyhow::anyhow!("reading {p}: {e}"))?,
            )?,
            None if std::path::Path::new("hotline.toml").exists() => {
                Self::from_toml(&std::fs::read_to_string("hotline.toml")?)?
            }
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        Ok(cfg)
    }

    pub fn from_toml(text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| anyhow::anyhow!("configuration file: {e}"))
    }

    /// Applies environment overrides read through `get` (a parameter so tests need not touch
    /// the process environment).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, v: String) -> anyhow::Result<T>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e| anyhow::anyhow!("{key}={v:?}: {e}"))
        }
        if let Some(v) = get("DATABASE_URL") {
            self.database_url = v;
        }
        if let Some(v) = get("REDIS_URL") {
            self.redis_url = v;
        }
        if let Some(v) = get("HOTLINE_HTTP_ADDR") {
            self.http_addr = parse("HOTLINE_HTTP_ADDR", v)?;
        }
        if let Some(v) = get("HOTLINE_PUBLIC_URL") {
            self.public_url = v;
        }
        if let Some(v) = get("HOTLINE_SIP_DOMAIN") {
            self.sip_domain = v;
        }
        if let Some(v) = get("HOTLINE_SIP_REGISTRAR") {
            self.sip_registrar = v;
        }
        if let Some(v) = get("HOTLINE_CALL_EVENTS_STREAM") {
            self.call_events_stream = v;
        }
        if let Some(v) = get("HOTLINE_RING_TIMEOUT_SECS") {
            self.ring_timeout_secs = parse("HOTLINE_RING_TIMEOUT_SECS", v)?;
            if self.ring_timeout_secs == 0 {
                anyhow::bail!("HOTLINE_RING_TIMEOUT_SECS must be at least 1");
            }
        }
        if let Some(v) = get("HOTLINE_CALL_EVENTS_LEASE_SECS") {
            self.call_events_lease_secs = parse("HOTLINE_CALL_EVENTS_LEASE_SECS", v)?;
            if self.call_events_lease_secs < 2 {
                anyhow::bail!("HOTLINE_CALL_EVENTS_LEASE_SECS must be at least 2");
            }
        }
        if let Some(v) = get("HOTLINE_SPA_DIR") {
            self.spa_dir = v.into();
        }
        if let Some(v) = get("HOTLINE_DB_POOL") {
            self.db_pool_size = parse("HOTLINE_DB_POOL", v)?;
        }
        if let Some(v) = get("HOTLINE_SESSION_TTL") {
            self.session_ttl_secs = parse("HOTLINE_SESSION_TTL", v)?;
        }
        if let Some(v) = get("HOTLINE_LOGIN_MAX_FAILURES") {
            self.login_max_failures = parse("HOTLINE_LOGIN_MAX_FAILURES", v)?;
        }
        if let Some(v) = get("HOTLINE_LOGIN_LOCKOUT_SECS") {
            self.login_lockout_secs = parse("HOTLINE_LOGIN_LOCKOUT_SECS", v)?;
        }
        if let Some(v) = get("HOTLINE_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("HOTLINE_SLA_JOB_INTERVAL") {
            self.sla_job_interval_secs = parse("HOTLINE_SLA_JOB_INTERVAL", v)?;
        }
        if let Some(host) = get("HOTLINE_SMTP_HOST") {
            self.smtp = Some(SmtpConfig {
                host,
                ..self.smtp.take().unwrap_or_default()
            });
        }
        if let Some(smtp) = &mut self.smtp {
            if let Some(v) = get("HOTLINE_SMTP_PORT") {
                smtp.port = parse("HOTLINE_SMTP_PORT", v)?;
            }
            if let Some(v) = get("HOTLINE_SMTP_FROM") {
                smtp.from = v;
            }
            if let Some(v) = get("HOTLINE_SMTP_USER") {
                smtp.user = Some(v);
            }
            if let Some(v) = get("HOTLINE_SMTP_PASSWORD") {
                smtp.password = Some(v);
            }
            if let Some(v) = get("HOTLINE_SMTP_STARTTLS") {
                smtp.starttls = parse("HOTLINE_SMTP_STARTTLS", v)?;
            }
            if smtp.host.trim().is_empty() {
                anyhow::bail!("[smtp] host is empty");
            }
        }
        if let Some(v) = get("HOTLINE_FILES_DIR") {
            self.files_dir = v.into();
        }
        if let Some(v) = get("HOTLINE_MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = parse("HOTLINE_MAX_UPLOAD_BYTES", v)?;
        }
        if let Some(v) = get("HOTLINE_OUTBOUND_ALLOW") {
            self.outbound_allow = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = get("HOTLINE_OUTBOUND_PORTS") {
            self.outbound_ports = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(|p| parse("HOTLINE_OUTBOUND_PORTS", p.to_string()))
                .collect::<anyhow::Result<_>>()?;
        }
        if let Some(v) = get("HOTLINE_TRUSTED_PROXIES") {
            self.trusted_proxies = v
                .split(',')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .map(String::from)
                .collect();
        }
        if let Err((i, m)) = crate::allow_list::TrustedProxies::parse(&self.trusted_proxies) {
            anyhow::bail!("trusted_proxies entry {}: {m}", i + 1);
        }
        if let Some(v) = get("HOTLINE_SIGNUP_LIMIT_PER_ADDRESS") {
            self.signup_limit_per_address = parse("HOTLINE_SIGNUP_LIMIT_PER_ADDRESS", v)?;
        }
        if let Some(v) = get("HOTLINE_SIGNUP_LIMIT_GLOBAL") {
            self.signup_limit_global = parse("HOTLINE_SIGNUP_LIMIT_GLOBAL", v)?;
        }
        if let Some(v) = get("HOTLINE_STRENGTH_LIMIT_PER_ADDRESS") {
            self.strength_limit_per_address = parse("HOTLINE_STRENGTH_LIMIT_PER_ADDRESS", v)?;
        }
        if let Err((i, m)) = crate::allow_list::parse_allow_list(&self.outbound_allow) {
            anyhow::bail!("outbound_allow entry {}: {m}", i + 1);
        }
        self.public_url = self.public_url.trim_end_matches('/').to_string();
        if url::Url::parse(&self.public_url).is_err() {
            anyhow::bail!("HOTLINE_PUBLIC_URL={:?} is not a URL", self.public_url);
        }
        Ok(())
    }

    pub fn session_ttl(&self) -> Duration {
        Duration::from_secs(self.session_ttl_secs)
    }

    /// Cookies get `Secure` whenever users reach us over https.
    pub fn secure_cookies(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_overrides_file() {
        let mut cfg = Config::from_toml("redis_url = \"redis://file/\"\ndb_pool_size = 3").unwrap();
        assert_eq!(cfg.db_pool_size, 3);
        cfg.apply_env(|k| (k == "REDIS_URL").then(|| "redis://env/".to_string()))
            .unwrap();
        assert_eq!(cfg.redis_url, "redis://env/");
        assert_eq!(cfg.db_pool_size, 3);
    }

    #[test]
    fn bad_values_are_named() {
        let mut cfg = Config::default();
        let err = cfg
            .apply_env(|k| (k == "HOTLINE_HTTP_ADDR").then(|| "nope".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("HOTLINE_HTTP_ADDR"), "{err}");
        assert!(Config::from_toml("no_such_key = 1").is_err());
        let one = |k: &str| (k == "HOTLINE_CALL_EVENTS_LEASE_SECS").then(|| "1".to_string());
        assert!(Config::default().apply_env(one).is_err());
        let mut cfg = Config::default();
        assert_eq!(cfg.call_events_lease_secs, 5);
        cfg.apply_env(|k| (k == "HOTLINE_CALL_EVENTS_LEASE_SECS").then(|| "2".to_string()))
            .unwrap();
        assert_eq!(cfg.call_events_lease_secs, 2);
    }

    #[test]
    fn smtp_from_file_and_environment() {
        let mut cfg = Config::from_toml(
            "sla_job_interval_secs = 5\n[smtp]\nhost = \"mail.test\"\nfrom = \"cc@x.test\"",
        )
        .unwrap();
        assert_eq!(cfg.sla_job_interval_secs, 5);
        cfg.apply_env(|k| (k == "HOTLINE_SMTP_PORT").then(|| "2525".to_string()))
            .unwrap();
        let smtp = cfg.smtp.clone().unwrap();
        assert_eq!(
            (smtp.host.as_str(), smtp.port, smtp.from.as_str()),
            ("mail.test", 2525, "cc@x.test")
        );
        let mut none = Config::default();
        none.apply_env(|k| (k == "HOTLINE_SMTP_PORT").then(|| "2525".to_string()))
            .unwrap();
        assert!(none.smtp.is_none(), "a port alone configures no server");
        none.apply_env(|k| (k == "HOTLINE_SMTP_HOST").then(|| "localhost".to_string()))
            .unwrap();
        assert_eq!(none.smtp.unwrap().port, 25);
    }

    #[test]
    fn trusted_proxies_from_file_and_environment() {
        let mut cfg = Config::from_toml("trusted_proxies = [\"10.0.0.0/8\"]").unwrap();
        cfg.apply_env(|_| None).unwrap();
        assert_eq!(cfg.trusted_proxies, ["10.0.0.0/8"]);
        cfg.apply_env(|k| {
            (k == "HOTLINE_TRUSTED_PROXIES").then(|| "127.0.0.1, fd00::/8 ,".to_string())
        })
        .unwrap();
        assert_eq!(cfg.trusted_proxies, ["127.0.0.1", "fd00::/8"]);
        let err = Config::default()
            .apply_env(|k| (k == "HOTLINE_TRUSTED_PROXIES").then(|| "proxy.local".to_string()))
            .unwrap_err();
        assert!(err.to_string().contains("trusted_proxies entry 1"), "{err}");
        let mut cfg = Config::default();
        assert_eq!(
            (cfg.signup_limit_per_address, cfg.signup_limit_global),
            (5, 100)
        );
        cfg.apply_env(|k| (k == "HOTLINE_SIGNUP_LIMIT_GLOBAL").then(|| "0".to_string()))
            .unwrap();
        assert_eq!(cfg.signup_limit_global, 0);
    }

    #[test]
    fn secure_cookies_follow_public_url() {
        let mut cfg = Config::default();
        assert!(!cfg.secure_cookies());
        cfg.public_url = "https://cc.example.com".into();
        assert!(cfg.secure_cookies());
    }
}
