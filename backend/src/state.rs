//! Shared application state handed to every handler.

use crate::config::Config;
use metrics_exporter_prometheus::PrometheusHandle;
use sqlx::PgPool;
use std::sync::Arc;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub cfg: Config,
    pub db: PgPool,
    pub redis: redis::aio::ConnectionManager,
    /// Outgoing HTTP (OIDC discovery, token exchange); never follows redirects.
    pub http: reqwest::Client,
    pub metrics: PrometheusHandle,
    /// `cfg.trusted_proxies`, parsed (`client_addr`).
    pub trusted_proxies: crate::allow_list::TrustedProxies,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        cfg: Config,
        db: PgPool,
        redis: redis::aio::ConnectionManager,
    ) -> anyhow::Result<Self> {
        let trusted_proxies = crate::allow_list::TrustedProxies::parse(&cfg.trusted_proxies)
            .map_err(|(i, m)| anyhow::anyhow!("trusted_proxies entry {}: {m}", i + 1))?;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(std::time::Duration::from_secs(10))
            .build()?;
        Ok(Self(Arc::new(Inner {
            cfg,
            db,
            redis,
            http,
            metrics: crate::telemetry::metrics_handle(),
            trusted_proxies,
        })))
    }

    /// A Redis connection (cheap clone of the multiplexed manager).
    pub fn redis(&self) -> redis::aio::ConnectionManager {
        self.0.redis.clone()
    }
}
