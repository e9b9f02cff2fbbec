//! The backend's side of the media gateways' event stream (`calls:events`, see
//! `hotline_wire::gateway`). It runs the tenants' IVR flows ([`crate::ivr`]), the ACD glue,
//! callbacks, campaigns and consultations, indexes `recording_finished` in the tenant's `recordings`
//! table and `voicemail_recorded` in `voicemails` ([`crate::voicemail`]). Also applies each
//! tenant's recording retention to both (file and index row deleted together).
//!
//! **One owner per shard.** Gateways publish each event to its tenant's shard of the stream
//! (`hotline_wire::gateway::event_stream_for`; the base stream takes events without a tenant).
//! Each shard is read by exactly one backend at a time, the holder of its lease (a Redis key
//! `<shard>:lease` = the backend's consumer name, `SET NX PX`, renewed every second, valid
//! `call_events_lease_secs`). So the events of one tenant — and so of one call — are handled
//! in order, one at a time, by one backend. Backends share the shards fairly: each announces
//! itself in `<base>:backends` (a sorted set scored by its last renewal) and holds at most
//! `ceil(shards / live backends)`, giving extras back between batches. A backend that takes a
//! shard over first drains the shard's pending entries (read by the previous owner and never
//! acknowledged: it was killed mid-event) in stream order, then reads new ones. A backend that
//! finds its lease about to lapse stops before the next entry and leaves the rest pending, so
//! two backends never handle one shard's entries at once. Handlers stay idempotent (an event
//! whose handling was cut by a kill is handled again by the next owner).
//!
//! Entries go through a Redis consumer group (`hotline-backend`) per shard, so a restarted
//! backend resumes where the group stopped and no event is lost while none runs.

use crate::{db, state::AppState};
use hotline_wire::gateway::{GatewayEvent, STREAM_FIELD};
use redis::streams::{StreamAutoClaimReply, StreamReadOptions, StreamReadReply};
use redis::AsyncCommands;
use uuid::Uuid;

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
/// ([`Consumer::step`]'s `block_ms`; the consumer blocks 1 s). With the client's default
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

/// A backend's reader of the event stream's shards: which shards it holds and how far it has
/// drained each one taken over.
pub struct Consumer {
    /// This backend's consumer name (also the value of the leases it holds).
    pub name: String,
    base: String,
    lease: std::time::Duration,
    /// Shards held, with when each lease was last renewed (it lasts `lease` from then).
    held: std::collections::BTreeMap<String, std::time::Instant>,
    /// Shards taken over whose pending entries are not drained yet.
    undrained: std::collections::BTreeSet<String>,
}

/// Renews a lease only if this backend still holds it.
const RENEW: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/// Gives a lease back only if this backend holds it.
const RELEASE: &str = r"if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1]) else return 0 end";

/// The lease key of a shard.
pub fn lease_key(shard: &str) -> String {
    format!("{shard}:lease")
}

/// The sorted set of backends reading `base` (member: consumer name, score: last renewal, ms).
pub fn backends_key(base: &str) -> String {
    format!("{base}:backends")
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Consumer {
    pub fn new(state: &AppState, name: impl Into<String>) -> Self {
        Consumer {
            name: name.into(),
            base: state.cfg.call_events_stream.clone(),
            lease: std::time::Duration::from_secs(state.cfg.call_events_lease_secs),
            held: Default::default(),
            undrained: Default::default(),
        }
    }

    /// The shards this backend holds now.
    pub fn held(&self) -> Vec<String> {
        self.held.keys().cloned().collect()
    }

    /// Whether the lease of `shard` is still safely ours: renewed less than `lease` minus a
    /// second ago (the margin covers the clock between here and Redis and one entry's work).
    fn safe(&self, shard: &str) -> bool {
        self.held
            .get(shard)
            .is_some_and(|at| at.elapsed() + std::time::Duration::from_secs(1) < self.lease)
    }

    /// Renews held leases, gives back shards over the fair share, takes free shards up to it.
    pub async fn balance(
        &mut self,
        con: &mut redis::aio::MultiplexedConnection,
    ) -> anyhow::Result<()> {
        let lease_ms = self.lease.as_millis() as i64;
        let now = now_ms();
        let backends = backends_key(&self.base);
        let (_, _, live): ((), (), u64) = redis::pipe()
            .zadd(&backends, &self.name, now)
            .zrembyscore(&backends, "-inf", now - 10 * lease_ms)
            .zcount(&backends, now - lease_ms, "+inf")
            .query_async(con)
            .await?;
        let shards = hotline_wire::gateway::event_streams(&self.base);
        let fair = shards.len().div_ceil(live.max(1) as usize);
        self.renew(con).await?;
        // Give back the extras (the last ones) so a new backend gets its share.
        let release = redis::Script::new(RELEASE);
        while self.held.len() > fair {
            let shard = self.held.keys().next_back().cloned().expect("held");
            let _: i64 = release
                .key(lease_key(&shard))
                .arg(&self.name)
                .invoke_async(con)
                .await?;
            self.held.remove(&shard);
            self.undrained.remove(&shard);
        }
        // Take free ones, starting at a place of our own so backends don't all race for shard 0.
        if self.held.len() < fair {
            let offset = self.name.bytes().map(usize::from).sum::<usize>() % shards.len();
            for i in 0..shards.len() {
                if self.held.len() >= fair {
                    break;
                }
                let shard = &shards[(offset + i) % shards.len()];
                if self.held.contains_key(shard) {
                    continue;
                }
                let at = std::time::Instant::now();
                let got: Option<String> = redis::cmd("SET")
                    .arg(lease_key(shard))
                    .arg(&self.name)
                    .arg("NX")
                    .arg("PX")
                    .arg(lease_ms)
                    .query_async(con)
                    .await?;
                if got.is_some() {
                    ensure_group(con, shard).await?;
                    self.held.insert(shard.clone(), at);
                    self.undrained.insert(shard.clone());
                }
            }
        }
        Ok(())
    }

    /// Renews the held leases, or notices one lost (it lapsed while this backend was stalled).
    async fn renew(&mut self, con: &mut redis::aio::MultiplexedConnection) -> anyhow::Result<()> {
        let renew = redis::Script::new(RENEW);
        for shard in self.held() {
            let at = std::time::Instant::now();
            let ok: i64 = renew
                .key(lease_key(&shard))
                .arg(&self.name)
                .arg(self.lease.as_millis() as u64)
                .invoke_async(con)
                .await?;
            if ok == 1 {
                self.held.insert(shard, at);
            } else {
                tracing::warn!(%shard, "event shard lease lost");
                self.held.remove(&shard);
                self.undrained.remove(&shard);
            }
        }
        Ok(())
    }

    /// One step: balance the leases, then handle a batch — first what a shard taken over has
    /// pending (its previous owner's unacknowledged entries, in stream order), else up to 100
    /// new entries of the held shards (waiting at most `block_ms`). Returns how many entries
    /// were handled.
    pub async fn step(
        &mut self,
        state: &AppState,
        con: &mut redis::aio::MultiplexedConnection,
        block_ms: usize,
    ) -> anyhow::Result<usize> {
        self.balance(con).await?;
        while let Some(shard) = self.undrained.iter().next().cloned() {
            let claimed: StreamAutoClaimReply = redis::cmd("XAUTOCLAIM")
                .arg(&shard)
                .arg(GROUP)
                .arg(&self.name)
                .arg(0)
                .arg("0-0")
                .arg("COUNT")
                .arg(100)
                .query_async(con)
                .await?;
            if claimed.claimed.is_empty() {
                self.undrained.remove(&shard);
            } else {
                return self
                    .handle_entries(state, con, &shard, claimed.claimed)
                    .await;
            }
        }
        if self.held.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(block_ms.min(1_000) as u64)).await;
            return Ok(0);
        }
        let shards = self.held();
        let opts = StreamReadOptions::default()
            .group(GROUP, &self.name)
            .count(100)
            .block(block_ms);
        let ids = vec![">"; shards.len()];
        let reply: StreamReadReply = con.xread_options(&shards, &ids, &opts).await?;
        let mut n = 0;
        for key in reply.keys {
            n += self.handle_entries(state, con, &key.key, key.ids).await?;
        }
        Ok(n)
    }

    /// Handles `entries` of `shard` in order, acknowledging each; stops (leaving the rest
    /// pending for the next owner) when the lease is no longer safely held.
    async fn handle_entries(
        &mut self,
        state: &AppState,
        con: &mut redis::aio::MultiplexedConnection,
        shard: &str,
        entries: Vec<redis::streams::StreamId>,
    ) -> anyhow::Result<usize> {
        let mut n = 0;
        for entry in entries {
            if !self.safe(shard) {
                tracing::warn!(%shard, "event shard lease about to lapse; the rest stays pending");
                self.held.remove(shard);
                self.undrained.remove(shard);
                break;
            }
            // A slow handler (a lock, a slow query) must not cost the lease of a live backend:
            // the leases are renewed every second while it runs. A stalled or killed backend
            // renews nothing, and its shards pass on.
            let mut work_con = con.clone();
            let work = handle_entry(state, &mut work_con, shard, &entry);
            tokio::pin!(work);
            loop {
                tokio::select! {
                    done = &mut work => {
                        done?;
                        break;
                    }
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                        self.renew(con).await?;
                    }
                }
            }
            n += 1;
        }
        Ok(n)
    }
}

/// Handles one entry of `stream` and acknowledges it. An entry that cannot be parsed or
/// handled is copied with its error to the dead-letter stream first: never a silent drop,
/// never a stuck stream.
async fn handle_entry(
    state: &AppState,
    con: &mut redis::aio::MultiplexedConnection,
    stream: &str,
    entry: &redis::streams::StreamId,
) -> anyhow::Result<()> {
    let raw: Option<String> = entry.get(STREAM_FIELD);
    let outcome = match raw.as_deref().map(parse_event) {
        None => Err(anyhow::anyhow!("entry has no {STREAM_FIELD:?} field")),
        Some(Err(e)) => Err(anyhow::anyhow!("not a gateway event: {e}")),
        Some(Ok(ev)) => handle(state, ev).await,
    };
    if let Err(e) = outcome {
        tracing::warn!(id = %entry.id, %stream, error = %e, "gateway event not handled; dead-lettered");
        let _: () = con
            .xadd(
                dead_letter_stream(&state.cfg.call_events_stream),
                "*",
                &[
                    ("id", entry.id.as_str()),
                    ("stream", stream),
                    ("msg", raw.as_deref().unwrap_or("")),
                    ("error", &e.to_string()),
                ],
            )
            .await?;
    }
    let _: () = con.xack(stream, GROUP, &[&entry.id]).await?;
    Ok(())
}

/// Parses a gateway event. SIP-derived strings (caller names, numbers, digits) can carry NUL,
/// which Postgres cannot store; each NUL becomes U+FFFD so the event is still handled and
/// stored, never dead-lettered or failing in the database.
pub fn parse_event(raw: &str) -> serde_json::Result<GatewayEvent> {
    if !raw.contains("u0000") {
        return serde_json::from_str(raw);
    }
    let mut v: serde_json::Value = serde_json::from_str(raw)?;
    crate::text::replace_nul(&mut v);
    serde_json::from_value(v)
}

async fn handle(state: &AppState, ev: GatewayEvent) -> anyhow::Result<()> {
    // The CDR first: the IVR and ACD steps this event causes update the row it creates.
    crate::cdr::on_gateway_event(state, &ev).await?;
    crate::ivr::on_event(state, &ev).await?;
    // A browser softphone leg that ended.
    crate::softphone::on_gateway_event(state, &ev).await?;
    crate::call_control::on_gateway_event(state, &ev).await?;
    crate::campaigns::on_gateway_event(state, &ev).await?;
    crate::verify::on_gateway_event(state, &ev).await?;
    crate::internal::on_event(state, &ev).await?;
    match ev {
        GatewayEvent::BridgeEnded {
            call_id, tenant_id, ..
        } => {
            // What `hold` waits for: the gateway has cut the bridge both ways.
            let mut r = state.redis();
            let _: () = r
                .set_ex(
                    crate::call_control::bridge_ended_key(tenant_id, call_id),
                    1,
                    60,
                )
                .await?;
            Ok(())
        }
        GatewayEvent::VoicemailRecorded {
            call_id,
            tenant_id,
            path,
            duration_ms,
        } => {
            if tenant_tx(state, tenant_id).await?.is_none() {
                anyhow::bail!("voicemail for unknown tenant {tenant_id}");
            }
            crate::voicemail::on_recorded(state, tenant_id, call_id, &path, duration_ms).await
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
        // Voicemails follow the same setting.
        removed += crate::voicemail::apply_retention(&mut tx, tenant, days).await?;
        tx.commit().await?;
    }
    Ok(removed)
}

/// Runs the consumer (and hourly retention) until the task is aborted; reconnects on errors.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    let name = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "backend".into()),
        std::process::id()
    );
    tokio::spawn(async move {
        let mut last_retention = std::time::Instant::now() - std::time::Duration::from_secs(3600);
        let mut consumer = Consumer::new(&state, name);
        loop {
            let run = async {
                let mut con = connect(&state).await?;
                loop {
                    // Blocking reads end within a second, so leases are renewed every second.
                    consumer.step(&state, &mut con, 1_000).await?;
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
