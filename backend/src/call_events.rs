//! The backend's side of the media gateways' event stream (`calls:events`, see
//! `hotline_wire::gateway`): a Redis consumer group, so that with several backend processes
//! each event is handled once, and a backend that restarts goes on from where the group was
//! (events of calls that ran meanwhile are not lost). It runs the tenants' IVR flows
//! ([`crate::ivr`]) and indexes `recording_finished` in the tenant's `recordings` table.
//! Also applies each tenant's recording retention (file and index row deleted together).

use crate::{db, state::AppState};
use hotline_wire::gateway::{GatewayEvent, STREAM_FIELD};
use redis::streams::{StreamAutoClaimReply, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use uuid::Uuid;

/// Set (for a minute) when the gateway reports a call's bridge cut (`bridge_ended`); hold
/// clears it, asks for the cut and waits for it before the desktop is told "held".
pub fn bridge_ended_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:call:{call}:bridge_ended")
}

/// The consumer group every backend process joins.
pub const GROUP: &str = "hotline-backend";

/// Events that could not be parsed or handled after retries are copied here (with the error)
/// and acknowledged, so one bad entry never blocks the stream and nothing is silently dropped.
pub fn dead_letter_stream(stream: &str) -> String {
    format!("{stream}:dead")
}

/// Creates the consumer group (and the stream) if missing.
pub async fn ensure_group(
    con: &mut redis::aio::MultiplexedConnection,
    stream: &str,
) -> anyhow::Result<()> {
    let r: redis::RedisResult<()> = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(stream)
        .arg(GROUP)
        .arg("0")
        .arg("MKSTREAM")
        .query_async(con)
        .await;
    match r {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => Ok(other?),
    }
}

/// How long the consumer waits for Redis to answer: longer than any blocking read
/// ([`process_once`]'s `block_ms`; the consumer blocks 5 s). With the client's default
/// (500 ms) every read of an idle stream failed — entries just claimed from a dead backend
/// were never handled, and the consumer's 2 s back-off held up the next call's events (the
/// `screen_pop` benchmark measured up to 2.5 s).
pub const RESPONSE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// A dedicated connection: blocking reads must not stall the shared multiplexed one.
pub async fn connect(state: &AppState) -> anyhow::Result<redis::aio::MultiplexedConnection> {
    let cfg = redis::AsyncConnectionConfig::new().set_response_timeout(Some(RESPONSE_TIMEOUT));
    Ok(redis::Client::open(state.cfg.redis_url.as_str())?
        .get_multiplexed_async_connection_with_config(&cfg)
        .await?)
}

/// Reads and handles one batch (up to 100 new entries, waiting at most `block_ms`), after first
/// claiming entries another consumer left unacknowledged for longer than
/// `call_events_claim_idle_secs` (a minute by default: a backend killed mid-batch). Returns how
/// many entries were handled.
pub async fn process_once(
    state: &AppState,
    con: &mut redis::aio::MultiplexedConnection,
    consumer: &str,
    block_ms: usize,
) -> anyhow::Result<usize> {
    let stream = state.cfg.call_events_stream.as_str();
    let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
        .arg(stream)
        .arg(GROUP)
        .arg(consumer)
        .arg(state.cfg.call_events_claim_idle_secs.saturating_mul(1000))
        .arg("0-0")
        .arg("COUNT")
        .arg(100)
        .query_async(con)
        .await?;
    let mut entries = claimed.claimed;
    let opts = StreamReadOptions::default()
        .group(GROUP, consumer)
        .count(100)
        .block(block_ms);
    let reply: StreamReadReply = con.xread_options(&[stream], &[">"], &opts).await?;
    for key in reply.keys {
        entries.extend(key.ids);
    }
    let n = entries.len();
    for entry in entries {
        let raw: Option<String> = entry.get(STREAM_FIELD);
        let outcome = match raw.as_deref().map(parse_event) {
            None => Err(anyhow::anyhow!("entry has no {STREAM_FIELD:?} field")),
            Some(Err(e)) => Err(anyhow::anyhow!("not a gateway event: {e}")),
            Some(Ok(ev)) => handle(state, ev).await,
        };
        if let Err(e) = outcome {
            tracing::warn!(id = %entry.id, error = %e, "gateway event not handled; dead-lettered");
            let _: () = con
                .xadd(
                    dead_letter_stream(stream),
                    "*",
                    &[
                        ("id", entry.id.as_str()),
                        ("msg", raw.as_deref().unwrap_or("")),
                        ("error", &e.to_string()),
                    ],
                )
                .await?;
        }
        let _: () = con.xack(stream, GROUP, &[&entry.id]).await?;
    }
    Ok(n)
}

/// Parses a gateway event. SIP-derived strings (caller names, numbers, digits) can carry NUL,
/// which Postgres cannot store; each NUL becomes U+FFFD so the event is still handled and
/// stored, never dead-lettered or failing in the database.
pub fn parse_event(raw: &str) -> serde_json::Result<GatewayEvent> {
    if !raw.contains("u0000") {
        return serde_json::from_str(raw);
    }
    let mut v: serde_json::Value = serde_json::from_str(raw)?;
    crate::validate::replace_nul(&mut v);
    serde_json::from_value(v)
}

async fn handle(state: &AppState, ev: GatewayEvent) -> anyhow::Result<()> {
    // The CDR first: the IVR and ACD steps this event causes update the row it creates.
    crate::cdr::on_gateway_event(state, &ev).await?;
    crate::ivr::on_event(state, &ev).await?;
    crate::dispatch::on_gateway_event(state, &ev).await?;
    crate::callback::on_gateway_event(state, &ev).await?;
    crate::campaigns::on_gateway_event(state, &ev).await?;
    crate::consult::on_gateway_event(state, &ev).await?;
    crate::verify::on_gateway_event(state, &ev).await?;
    match ev {
        GatewayEvent::BridgeEnded {
            call_id, tenant_id, ..
        } => {
            // What `hold` waits for: the gateway has cut the bridge both ways.
            let mut r = state.redis();
            let _: () = r
                .set_ex(bridge_ended_key(tenant_id, call_id), 1, 60)
                .await?;
            Ok(())
        }
        GatewayEvent::RecordingFinished {
            call_id,
            tenant_id,
            started_at,
            duration_ms,
            path,
            size_bytes,
        } => {
            let Some(mut tx) = tenant_tx(state, tenant_id).await? else {
                anyhow::bail!("recording for unknown tenant {tenant_id}");
            };
            if crate::verify::is_code_call(&mut tx, call_id).await? {
                // A caller-ID verification call reads its code: not kept, never listed.
                if let Err(e) = tokio::fs::remove_file(&path).await {
                    tracing::warn!(%call_id, %path, error = %e, "verification call recording not removed");
                }
                return Ok(());
            }
            // Idempotent: a redelivered event (after a crash before XACK) changes nothing.
            sqlx::query(
                "INSERT INTO recordings (call_id, started_at, duration_ms, path, size_bytes)
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (call_id) DO NOTHING",
            )
            .bind(call_id)
            .bind(started_at)
            .bind(i64::try_from(duration_ms)?)
            .bind(&path)
            .bind(i64::try_from(size_bytes)?)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A transaction in the tenant's schema, `None` for an unknown tenant.
async fn tenant_tx(
    state: &AppState,
    tenant_id: Uuid,
) -> anyhow::Result<Option<sqlx::Transaction<'static, sqlx::Postgres>>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.tenants WHERE id = $1)")
            .bind(tenant_id)
            .fetch_one(&state.db)
            .await?;
    if !exists {
        return Ok(None);
    }
    Ok(Some(
        db::begin_in_schema(&state.db, &db::schema_name(tenant_id)).await?,
    ))
}

/// Deletes recordings older than each tenant's `recordings.retention_days` setting: the file
/// first, then the index row (a missing file is not an error). Returns how many were removed.
pub async fn apply_retention(state: &AppState) -> anyhow::Result<u64> {
    let tenants: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM platform.tenants ORDER BY id")
        .fetch_all(&state.db)
        .await?;
    let mut removed = 0;
    for tenant in tenants {
        let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
        let days: Option<i64> = sqlx::query_scalar(
            "SELECT (value->>'retention_days')::bigint FROM settings WHERE key = 'recordings'",
        )
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
        let Some(days) = days else { continue };
        let old: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT call_id, path FROM recordings
              WHERE started_at < now() - make_interval(days => $1::int)
              ORDER BY started_at LIMIT 1000 FOR UPDATE SKIP LOCKED",
        )
        .bind(days)
        .fetch_all(&mut *tx)
        .await?;
        for (call_id, path) in old {
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(%tenant, %call_id, error = %e, "cannot delete recording; kept");
                    continue;
                }
            }
            sqlx::query("DELETE FROM recordings WHERE call_id = $1")
                .bind(call_id)
                .execute(&mut *tx)
                .await?;
            removed += 1;
        }
        tx.commit().await?;
    }
    Ok(removed)
}

/// Runs the consumer (and hourly retention) until the task is aborted; reconnects on errors.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let consumer = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "backend".into()),
        std::process::id()
    );
    tokio::spawn(async move {
        let mut last_retention = std::time::Instant::now() - std::time::Duration::from_secs(3600);
        loop {
            let run = async {
                let mut con = connect(&state).await?;
                ensure_group(&mut con, &state.cfg.call_events_stream).await?;
                loop {
                    process_once(&state, &mut con, &consumer, 5_000).await?;
                    if last_retention.elapsed() >= std::time::Duration::from_secs(3600) {
                        last_retention = std::time::Instant::now();
                        match apply_retention(&state).await {
                            Ok(0) => {}
                            Ok(n) => tracing::info!(removed = n, "recording retention"),
                            Err(e) => tracing::warn!(error = %e, "recording retention failed"),
                        }
                    }
                }
                #[allow(unreachable_code)]
                anyhow::Ok(())
            };
            if let Err(e) = run.await {
                tracing::warn!(error = %e, "gateway event consumer failed; retrying in 2 s");
            }
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_in_sip_strings_is_replaced_not_fatal() {
        let ev = GatewayEvent::CallStarted {
            gateway_id: "gw".into(),
            call_id: uuid::Uuid::new_v4(),
            tenant_id: uuid::Uuid::new_v4(),
            caller: "Bob\u{0}by".into(),
            did: "+15550100".into(),
            sip_call_id: "abc\u{0}".into(),
            mode: hotline_wire::gateway::FlowMode::Backend,
            at: chrono::Utc::now(),
        };
        let raw = serde_json::to_string(&ev).unwrap();
        let GatewayEvent::CallStarted {
            caller,
            sip_call_id,
            ..
        } = parse_event(&raw).unwrap()
        else {
            panic!("call_started")
        };
        assert_eq!(caller, "Bob\u{fffd}by");
        assert_eq!(sip_call_id, "abc\u{fffd}");
        // A backslash before `u0000` is text and stays as it is.
        assert!(parse_event(&raw.replace("Bob", "\\\\u0000")).is_ok());
    }
}
