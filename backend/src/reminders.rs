//! Reminders of scheduled callbacks: every booked callback is also a member
//! `<tenant>/<id>` of the Redis sorted set [`DUE_KEY`], scored by its due time in
//! milliseconds. Every backend process checks the set each second; the one whose `ZREM`
//! removes a due member owns it (so a reminder pops up once), marks the callback `due` in the
//! tenant's schema and pushes [`AgentEvent::CallbackDue`] to the owner's desktop. If the
//! database step fails the member is put back five seconds later. An owner who is not
//! connected sees the callback as due in their list when they come back.

use crate::{db, state::AppState};
use chrono::{DateTime, Utc};
use hotline_wire::calls::AgentEvent;
use redis::AsyncCommands;
use uuid::Uuid;

/// Sorted set of `<tenant>/<callback id>` scored by due time (ms since the epoch).
pub const DUE_KEY: &str = "platform:callbacks:due";

fn member(tenant: Uuid, id: Uuid) -> String {
    format!("{tenant}/{id}")
}

/// Schedules (or reschedules) the reminder of callback `id`.
pub async fn schedule(
    state: &AppState,
    tenant: Uuid,
    id: Uuid,
    due: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .zadd(DUE_KEY, member(tenant, id), due.timestamp_millis())
        .await?;
    Ok(())
}

/// Forgets the reminder of callback `id` (done or cancelled before it was due).
pub async fn forget(state: &AppState, tenant: Uuid, id: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.zrem(DUE_KEY, member(tenant, id)).await?;
    Ok(())
}

/// Marks one due callback and tells its owner; `Ok(false)` when it was no longer scheduled.
async fn remind(state: &AppState, tenant: Uuid, id: Uuid) -> anyhow::Result<bool> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    type Row = (Uuid, String, String, DateTime<Utc>, Option<Uuid>);
    let row: Option<Row> = sqlx::query_as(
        "UPDATE scheduled_callbacks SET status = 'due', reminded_at = now()
          WHERE id = $1 AND status = 'scheduled'
          RETURNING owner_id, number, note, due_at, customer_id",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some((owner, number, note, due_at, customer_id)) = row else {
        return Ok(false);
    };
    let ev = AgentEvent::CallbackDue {
        id,
        number,
        note,
        due_at,
        customer_id,
    };
    crate::desktop::publish(state, tenant, owner, &ev).await;
    Ok(true)
}

/// Handles every reminder due by `now`; returns how many popped up.
pub async fn tick(state: &AppState, now: DateTime<Utc>) -> anyhow::Result<usize> {
    let mut r = state.redis();
    let due: Vec<String> = redis::cmd("ZRANGEBYSCORE")
        .arg(DUE_KEY)
        .arg("-inf")
        .arg(now.timestamp_millis())
        .arg("LIMIT")
        .arg(0)
        .arg(200)
        .query_async(&mut r)
        .await?;
    let mut shown = 0;
    for m in due {
        let removed: i64 = r.zrem(DUE_KEY, &m).await?;
        if removed == 0 {
            continue; // another process has it
        }
        let Some((t, c)) = m.split_once('/') else {
            continue;
        };
        let (Ok(tenant), Ok(id)) = (t.parse::<Uuid>(), c.parse::<Uuid>()) else {
            continue;
        };
        match remind(state, tenant, id).await {
            Ok(true) => shown += 1,
            Ok(false) => {}
            Err(e) => {
                tracing::warn!(%tenant, %id, error = %e, "reminder not shown; retried in 5 s");
                let _: () = r.zadd(DUE_KEY, &m, now.timestamp_millis() + 5_000).await?;
            }
        }
    }
    Ok(shown)
}

/// Runs [`tick`] every second until aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut t = tokio::time::interval(std::time::Duration::from_secs(1));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            t.tick().await;
            if let Err(e) = tick(&state, Utc::now()).await {
                tracing::warn!(error = %e, "reminder ticker failed");
            }
        }
    })
}
