//! `hotline-gateway`: the media gateway binary. Configuration comes from the environment
//! (see `docs/gateway.md`).

use anyhow::Result;

#[tokio::main]
async fn main() -> Result<()> {
    let cfg = hotline_gateway::config::Config::from_env()?;
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if cfg.json_logs {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .init();
    } else {
        tracing_subscriber::fmt().with_env_filter(filter).init();
    }
    hotline_gateway::server::run(cfg).await
}
