//! Position-in-queue and estimated-wait announcements (issue 17), the shell: every
//! `announce_interval_seconds` of its wait, a caller in a queue that asks for it hears "You are
//! caller number three. Your estimated waiting time is about five minutes." over the music on
//! hold, which then goes on.
//!
//! What to say and when is decided in `hotline_calls::announce` (the estimate's formula is
//! documented at [`estimate_secs`]); [`tick`], run by the backends' once-a-second ticker for
//! each tenant, reads the ACD's calls and agents from Redis (read only: the ACD owns them),
//! claims each due announcement, sends the gateway a [`GatewayCommand::Announce`] and puts an
//! `announced` entry on the call's timeline.
//!
//! **One announcement per caller per interval, however many backends tick:** each is claimed
//! with `SET NX` on a key naming the call, its time of entering the queue and the interval's
//! number ([`claim_key`]); only the backend that sets it speaks.
//!
//! **Never over anything else:** the gateway plays an `announce` only while the call hears
//! music on hold, so one that arrives after the call was bridged to its agent (or given its
//! max-wait message) is dropped there, and it reports nothing back, so no flow step is taken
//! for it.

use crate::{call_io, cdr, db, state::AppState, validate::Check};
use hotline_acd::{AgentRec, CallRec};
use hotline_calls::announce::{
    due_slot, estimate_secs, interval_problem, phrases, places, spoken_minutes,
};
use hotline_wire::api::QueueInput;
use hotline_wire::gateway::GatewayCommand;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The estimate averages the talk time of this many of the queue's last answered calls.
const RECENT_CALLS: i64 = 20;
/// Talk time assumed for a queue with no answered call yet (3 minutes, a common average).
const DEFAULT_TALK_SECS: f64 = 180.0;
/// How long the queues' settings and handle times are reused from Redis before Postgres is
/// asked again: a changed setting takes effect within this time.
const SETTINGS_TTL_SECS: u64 = 10;

/// The queue form's announcement fields, a 422 on `announce_interval_seconds` when they do
/// not go together ([`interval_problem`]).
pub fn check_settings(c: &mut Check, req: &QueueInput) {
    let (position, wait) = (req.announce_position, req.announce_wait);
    if let Some(problem) = interval_problem(position, wait, req.announce_interval_seconds) {
        c.fail("announce_interval_seconds", problem);
    }
}

/// A queue that announces, with its handle time, as cached in Redis ([`settings_key`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Announcing {
    /// The queue's id, as the ACD names it.
    queue: String,
    position: bool,
    wait: bool,
    interval_secs: u64,
    /// Average talk time of the recent answered calls plus the queue's wrap-up time.
    handle_secs: f64,
}

/// Every call still waiting for an agent in `queue` (ringing ones included: they are not
/// served yet) with its place in line, 1 first: higher priority first, then arrival order —
/// the order the ACD offers them in.
pub fn positions<'a>(calls: &'a BTreeMap<String, CallRec>, queue: &str) -> Vec<(&'a str, usize)> {
    places(
        calls
            .iter()
            .filter(|(_, c)| c.queue == queue && matches!(c.state.as_str(), "waiting" | "offered"))
            .map(|(id, c)| (id.as_str(), c.priority, c.seq))
            .collect(),
    )
}

/// Agents who serve `queue` and are logged in (whatever their state: on a call, in wrap-up,
/// on a break — they all come back to the queue).
pub fn agents_serving(agents: &BTreeMap<String, AgentRec>, queue: &str) -> usize {
    agents
        .values()
        .filter(|a| a.state != "logged_out" && a.queues.split(',').any(|q| q == queue))
        .count()
}

/// Claimed by the backend that makes announcement `slot` to `call` (in the queue it entered at
/// `enqueued_ms`: a call that moved on to another queue starts counting again).
fn claim_key(tenant: Uuid, call: &str, enqueued_ms: u64, slot: u64) -> String {
    format!("{{t:{tenant}}}:announce:{call}:{enqueued_ms}:{slot}")
}

/// The tenant's announcing queues, shared by the backends for [`SETTINGS_TTL_SECS`].
fn settings_key(tenant: Uuid) -> String {
    format!("{{t:{tenant}}}:announce:queues")
}

/// Makes the tenant's due announcements (a step of the backends' ticker). Failures are
/// logged: a missed announcement is retried on the next tick while its interval lasts.
pub async fn tick(state: &AppState, tenant: Uuid) {
    if let Err(e) = announce_due(state, tenant).await {
        tracing::warn!(%tenant, error = %e, "queue announcements not made");
    }
}

async fn announce_due(state: &AppState, tenant: Uuid) -> anyhow::Result<()> {
    let keys = call_io::acd_keys(tenant);
    let mut r = state.redis();
    // Cheapest first, as this runs every second for every tenant with ACD activity: no call
    // at all (one `HLEN`), then no queue that announces (the cached settings), and only then
    // the calls themselves.
    let in_acd: u64 = r.hlen(&keys.calls).await?;
    if in_acd == 0 {
        return Ok(());
    }
    let queues = announcing(state, tenant).await?;
    if queues.is_empty() {
        return Ok(());
    }
    let calls: BTreeMap<String, CallRec> = records(&mut r, &keys.calls).await?;
    if !calls.values().any(|c| c.state == "waiting") {
        return Ok(());
    }
    let now = call_io::now_ms();
    let mut agents: Option<BTreeMap<String, AgentRec>> = None;
    for q in &queues {
        for (call, position) in positions(&calls, &q.queue) {
            let rec = &calls[call];
            if rec.state != "waiting" {
                continue;
            }
            let Some(slot) = due_slot(now, rec.enqueued_at, q.interval_secs) else {
                continue;
            };
            let claimed: bool = redis::cmd("SET")
                .arg(claim_key(tenant, call, rec.enqueued_at, slot))
                .arg(1)
                .arg("NX")
                .arg("EX")
                .arg(q.interval_secs + 60)
                .query_async::<Option<String>>(&mut r)
                .await?
                .is_some();
            if !claimed {
                continue;
            }
            let agents = match &agents {
                Some(a) => a,
                None => agents.insert(records(&mut r, &keys.agents).await?),
            };
            let serving = agents_serving(agents, &q.queue);
            let estimate = estimate_secs(position, serving, q.handle_secs);
            let said = phrases(
                q.position.then_some(position),
                estimate.filter(|_| q.wait).map(spoken_minutes),
            );
            let Ok(call_id) = call.parse::<Uuid>() else {
                continue;
            };
            if said.is_empty() {
                continue;
            }
            let Some(cs) = call_io::load(state, tenant, call_id).await? else {
                continue;
            };
            let cmd = GatewayCommand::Announce {
                call_id,
                prompts: said.clone(),
            };
            call_io::command(state, &cs.gateway_id, &cmd).await?;
            let details = serde_json::json!({
                "queue": q.queue,
                "position": position,
                "agents": serving,
                "estimated_wait_seconds": estimate,
                "prompts": said,
            });
            let mut t = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
            cdr::timeline(&mut t, call_id, "announced", None, details).await?;
            t.commit().await?;
        }
    }
    Ok(())
}

/// One of the ACD's hashes (calls or agents), decoded; a record that does not decode is
/// skipped (the ACD's own script is the judge of its records).
async fn records<T: serde::de::DeserializeOwned>(
    r: &mut redis::aio::ConnectionManager,
    key: &str,
) -> anyhow::Result<BTreeMap<String, T>> {
    let raw: BTreeMap<String, String> = r.hgetall(key).await?;
    Ok(raw
        .into_iter()
        .filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|t| (k, t)))
        .collect())
}

/// The tenant's queues with announcements on, and their handle times: from Redis when another
/// tick (of any backend) read them lately, else from Postgres.
async fn announcing(state: &AppState, tenant: Uuid) -> anyhow::Result<Vec<Announcing>> {
    let mut r = state.redis();
    let cached: Option<String> = r.get(settings_key(tenant)).await?;
    if let Some(q) = cached.and_then(|c| serde_json::from_str(&c).ok()) {
        return Ok(q);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        id: Uuid,
        announce_position: bool,
        announce_wait: bool,
        announce_interval_seconds: i32,
        wrap_up_seconds: i32,
        talk_secs: Option<f64>,
    }
    let mut t = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT q.id, q.announce_position, q.announce_wait, q.announce_interval_seconds,
                q.wrap_up_seconds, h.talk_secs
           FROM queues q
           LEFT JOIN LATERAL (
                SELECT avg(extract(epoch FROM c.ended_at - c.connected_at))::float8 AS talk_secs
                  FROM (SELECT connected_at, ended_at FROM cdrs
                         WHERE queue_id = q.id AND connected_at IS NOT NULL
                           AND ended_at IS NOT NULL
                         ORDER BY ended_at DESC LIMIT $1) c) h ON true
          WHERE q.announce_interval_seconds > 0 AND (q.announce_position OR q.announce_wait)",
    )
    .bind(RECENT_CALLS)
    .fetch_all(&mut *t)
    .await?;
    t.commit().await?;
    let queues: Vec<Announcing> = rows
        .into_iter()
        .map(|q| Announcing {
            queue: q.id.to_string(),
            position: q.announce_position,
            wait: q.announce_wait,
            interval_secs: q.announce_interval_seconds.max(0) as u64,
            handle_secs: q.talk_secs.unwrap_or(DEFAULT_TALK_SECS) + f64::from(q.wrap_up_seconds),
        })
        .collect();
    let _: () = r
        .set_ex(
            settings_key(tenant),
            serde_json::to_string(&queues)?,
            SETTINGS_TTL_SECS,
        )
        .await?;
    Ok(queues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(queue: &str, priority: u64, seq: u64, state: &str) -> CallRec {
        CallRec {
            queue: queue.into(),
            priority,
            seq,
            state: state.into(),
            ..CallRec::default()
        }
    }

    #[test]
    fn the_line_holds_the_queues_calls_not_yet_with_an_agent_in_the_acds_order() {
        let calls = BTreeMap::from([
            ("a".to_string(), call("q", 0, 1, "waiting")),
            ("b".to_string(), call("q", 5, 4, "waiting")),
            ("c".to_string(), call("q", 0, 2, "offered")),
            ("d".to_string(), call("q", 0, 3, "connected")),
            ("e".to_string(), call("other", 9, 0, "waiting")),
            ("f".to_string(), call("q", 5, 3, "waiting")),
        ]);
        assert_eq!(
            positions(&calls, "q"),
            vec![("f", 1), ("b", 2), ("a", 3), ("c", 4)]
        );
        assert!(positions(&calls, "none").is_empty());
    }

    #[test]
    fn logged_in_agents_of_the_queue_serve_it() {
        let agent = |state: &str, queues: &str| AgentRec {
            state: state.into(),
            queues: queues.into(),
            ..AgentRec::default()
        };
        let agents = BTreeMap::from([
            ("1".to_string(), agent("ready", "q")),
            ("2".to_string(), agent("on_call", "x,q")),
            ("3".to_string(), agent("break", "q,x")),
            ("4".to_string(), agent("logged_out", "q")),
            ("5".to_string(), agent("ready", "qq")),
        ]);
        assert_eq!(agents_serving(&agents, "q"), 3);
    }
}
