//! Builds the application: state, routes, middleware.

use crate::{config::Config, db, openapi, routes, spa, state::AppState, telemetry};
use axum::{extract::Request, middleware, routing::get, Json, Router};
use std::time::Duration;
use tower_http::{
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::TraceLayer,
};

/// Largest request body accepted by default (JSON API); imports set their own limit.
pub const MAX_BODY: usize = 1024 * 1024;

/// Connects to Postgres and Redis and applies platform migrations and pending tenant ones.
pub async fn state(cfg: Config) -> anyhow::Result<AppState> {
    let pool = db::connect(&cfg.database_url, cfg.db_pool_size).await?;
    db::migrate_platform(&pool).await?;
    db::upgrade_tenants(&pool, db::embedded::TENANT).await?;
    let client = redis::Client::open(cfg.redis_url.as_str())?;
    let redis = tokio::time::timeout(
        Duration::from_secs(10),
        redis::aio::ConnectionManager::new(client),
    )
    .await
    .map_err(|_| anyhow::anyhow!("Redis at {} did not answer in 10 s", cfg.redis_url))?
    .map_err(|e| anyhow::anyhow!("connecting to Redis at {}: {e}", cfg.redis_url))?;
    AppState::new(cfg, pool, redis)
}

pub fn router(state: AppState) -> Router {
    let spa_dir = state.cfg.spa_dir.clone();
    let api = routes::api()
        .route("/openapi.json", get(|| async { Json(openapi::document()) }))
        .fallback(|| async { crate::error::ApiError::NotFound })
        // Innermost first: NUL/control characters in path and query refused and framework
        // rejections rewritten as problem+json (`error::contract`), after the CSRF guard.
        .layer(middleware::from_fn(crate::error::contract))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::csrf::guard,
        ));
    Router::new()
        .nest("/api/v1", api)
        .merge(routes::health::router())
        .fallback(move |req: Request| spa::serve(spa_dir.clone(), req))
        // The client address (socket peer, or X-Forwarded-For from a trusted proxy), once.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::client_addr::middleware,
        ))
        .layer(middleware::from_fn(telemetry::track_requests))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let request_id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id, tenant_id = tracing::field::Empty)
        }))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}

/// Serves until `shutdown` resolves, with the SLA/notification job running alongside.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let job = crate::sla::spawn(state.clone());
    let consumer = crate::call_events::spawn(state.clone());
    let ticker = crate::dispatch::spawn_ticker(state.clone());
    let dialer = crate::campaigns::spawn(state.clone());
    let reminders = crate::reminders::spawn(state.clone());
    // The gateways enforce each tenant's outbound limits from Redis: publish them all (they
    // are republished whenever an operator changes them).
    let limits_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::dial_policy::publish_all_gateway_limits(&limits_state).await {
            tracing::error!(error = %e, "outbound limits not published to the gateways");
        }
    });
    // The gateways check desk phones' REGISTERs against Redis: copy every account there.
    let phones_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::desk_phones::publish_all(&phones_state).await {
            tracing::error!(error = %e, "desk phone accounts not published to the gateways");
        }
    });
    // The gateways register and route tenants' trunks from Redis: copy them all (a change
    // whose copy failed is repaired here at the latest).
    let trunks_state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = crate::trunks::publish_all(&trunks_state).await {
            tracing::error!(error = %e, "tenant trunks not published to the gateways");
        }
    });
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    if let Some(job) = job {
        job.abort();
    }
    consumer.abort();
    ticker.abort();
    dialer.abort();
    reminders.abort();
    Ok(served?)
}
