//! `hotline` — the API server binary.
//!
//! ```text
//! hotline serve      migrate, then serve the API and the SPA (default)
//! hotline migrate    apply platform migrations and upgrade every tenant schema
//! hotline seed-demo  create the demo tenant and print its credentials
//! hotline openapi    print the OpenAPI document
//! ```

use hotline_backend::{app, config::Config, db, openapi, seed, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cfg = Config::load()?;
    telemetry::init_logs(&cfg.log_format);
    let cmd = std::env::args().nth(1).unwrap_or_else(|| "serve".into());
    match cmd.as_str() {
        "serve" => {
            let addr = cfg.http_addr;
            let state = app::state(cfg).await?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|e| anyhow::anyhow!("listening on {addr}: {e}"))?;
            tracing::info!(%addr, "Hotline API listening");
            app::serve(listener, state, shutdown_signal()).await
        }
        "migrate" => {
            let pool = db::connect(&cfg.database_url, 2).await?;
            db::migrate_platform(&pool).await?;
            let report = db::upgrade_tenants(&pool, db::embedded::TENANT).await?;
            println!(
                "{} tenants checked, {} tenant migrations applied",
                report.tenants, report.migrations_applied
            );
            Ok(())
        }
        "seed-demo" => {
            let state = app::state(cfg).await?;
            for line in seed::demo(&state).await? {
                println!("{line}");
            }
            Ok(())
        }
        "openapi" => {
            println!("{}", serde_json::to_string_pretty(&openapi::document())?);
            Ok(())
        }
        other => {
            anyhow::bail!("unknown command {other:?}; use serve, migrate, seed-demo or openapi")
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: finishing requests in flight");
}
