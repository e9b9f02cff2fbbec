//! Call detail records (`cdrs`, `cdr_events`; tenant migration 0012), kept from what the
//! backend already sees: the gateways' events (arrival, answer, hang-up) and the ACD's
//! (queued, offered, connected, transferred, abandoned, completed), plus the agent's own
//! actions (hold, wrap-up). **What a gateway event writes is idempotent** — insert-if-absent
//! keyed by the call id, columns filled with `coalesce` (first time wins), the `ended` timeline
//! row only once — so an event delivered twice after a backend crash changes nothing. ACD
//! events (transfer counts, offers) come from one atomic ACD step each and are not
//! redelivered.

use crate::{db, state::AppState};
use hotline_wire::gateway::{GatewayEvent, HangupCause};
use uuid::Uuid;

fn cause_name(c: &HangupCause) -> &'static str {
    match c {
        HangupCause::CallerBye => "caller_bye",
        HangupCause::GatewayBye => "gateway_bye",
        HangupCause::Cancelled => "cancelled",
        HangupCause::Rejected => "rejected",
        HangupCause::Timeout => "timeout",
        HangupCause::Shutdown => "shutdown",
        HangupCause::OutboundLimit => "outbound_limit",
        HangupCause::OutboundRateLimit => "outbound_rate_limit",
    }
}

async fn tx(
    state: &AppState,
    tenant: Uuid,
) -> anyhow::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
    Ok(db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?)
}

/// Gateway events: the caller's leg appears on `call_started`; any leg records its answer and
/// its end (an unknown outbound leg is ignored: it was not placed by a tenant flow).
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    match ev {
        GatewayEvent::CallStarted {
            gateway_id,
            call_id,
            tenant_id,
            caller,
            did,
            at,
            ..
        } => {
            let mut t = tx(state, *tenant_id).await?;
            sqlx::query(
                "INSERT INTO cdrs (call_id, direction, caller, callee, gateway_id, arrived_at)
                 VALUES ($1, 'inbound', $2, $3, $4, $5) ON CONFLICT (call_id) DO NOTHING",
            )
            .bind(call_id)
            .bind(caller)
            .bind(did)
            .bind(gateway_id)
            .bind(at)
            .execute(&mut *t)
            .await?;
            t.commit().await?;
        }
        GatewayEvent::CallAnswered {
            call_id,
            tenant_id,
            at,
        } => {
            let mut t = tx(state, *tenant_id).await?;
            sqlx::query(
                "UPDATE cdrs SET answered_at = coalesce(answered_at, $2) WHERE call_id = $1",
            )
            .bind(call_id)
            .bind(at)
            .execute(&mut *t)
            .await?;
            t.commit().await?;
        }
        GatewayEvent::Hangup {
            call_id,
            tenant_id,
            cause,
            at,
            ..
        } => {
            let mut t = tx(state, *tenant_id).await?;
            // An outbound leg that never answered failed; an inbound call that no agent took
            // and that was not counted otherwise was served by the IVR (or rejected).
            sqlx::query(
                "UPDATE cdrs SET ended_at = coalesce(ended_at, $2),
                        hangup_cause = coalesce(hangup_cause, $3),
                        outcome = coalesce(outcome, CASE
                            WHEN direction = 'outbound' AND answered_at IS NULL THEN 'failed'
                            WHEN direction = 'outbound' THEN 'answered'
                            WHEN $3 = 'rejected' THEN 'rejected'
                            WHEN connected_at IS NOT NULL THEN 'answered'
                            WHEN queued_at IS NOT NULL THEN 'abandoned'
                            ELSE 'ivr' END)
                  WHERE call_id = $1",
            )
            .bind(call_id)
            .bind(at)
            .bind(cause_name(cause))
            .execute(&mut *t)
            .await?;
            sqlx::query(
                "INSERT INTO cdr_events (call_id, at, kind, details)
                 SELECT $1, $2, 'ended', $3
                  WHERE NOT EXISTS (SELECT 1 FROM cdr_events WHERE call_id = $1 AND kind = 'ended')",
            )
            .bind(call_id)
            .bind(at)
            .bind(serde_json::json!({ "cause": cause_name(cause) }))
            .execute(&mut *t)
            .await?;
            t.commit().await?;
        }
        _ => {}
    }
    Ok(())
}

/// An outbound leg the backend placed (an agent's phone, a transfer to a number, a callback).
pub struct OutboundLeg<'a> {
    pub leg: Uuid,
    /// The inbound call it serves.
    pub parent: Option<Uuid>,
    pub caller: &'a str,
    pub callee: &'a str,
    pub agent: Option<Uuid>,
    pub gateway_id: &'a str,
}

/// Records an outbound leg as it is placed.
pub async fn outbound_leg(
    state: &AppState,
    tenant: Uuid,
    l: OutboundLeg<'_>,
) -> anyhow::Result<()> {
    let mut t = tx(state, tenant).await?;
    sqlx::query(
        "INSERT INTO cdrs (call_id, parent_id, direction, caller, callee, gateway_id, arrived_at,
                           agent_id)
         VALUES ($1, $2, 'outbound', $3, $4, $5, now(), $6) ON CONFLICT (call_id) DO NOTHING",
    )
    .bind(l.leg)
    .bind(l.parent)
    .bind(l.caller)
    .bind(l.callee)
    .bind(l.gateway_id)
    .bind(l.agent)
    .execute(&mut *t)
    .await?;
    t.commit().await?;
    Ok(())
}

/// An internal call's called leg (`direction = 'internal'`): the caller's user is its agent,
/// `callee_user_id` the colleague rung. Written before [`outbound_leg`], which then leaves it.
pub async fn internal_leg(
    state: &AppState,
    tenant: Uuid,
    l: &OutboundLeg<'_>,
    callee: Option<Uuid>,
) -> anyhow::Result<()> {
    let mut t = tx(state, tenant).await?;
    sqlx::query(
        "INSERT INTO cdrs (call_id, parent_id, direction, caller, callee, gateway_id, arrived_at,
                           agent_id, callee_user_id)
         VALUES ($1, $2, 'internal', $3, $4, $5, now(), $6, $7) ON CONFLICT (call_id) DO NOTHING",
    )
    .bind(l.leg)
    .bind(l.parent)
    .bind(l.caller)
    .bind(l.callee.strip_prefix("ext:").unwrap_or(l.callee))
    .bind(l.gateway_id)
    .bind(l.agent)
    .bind(callee)
    .execute(&mut *t)
    .await?;
    t.commit().await?;
    Ok(())
}

/// The call entered a queue (from the IVR), with the caller's IVR choices so far.
pub async fn queued(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    queue: &str,
    vars: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<()> {
    let queue_id: Option<Uuid> = queue.parse().ok();
    let mut t = tx(state, tenant).await?;
    sqlx::query(
        "UPDATE cdrs SET queued_at = coalesce(queued_at, now()), queue_id = coalesce($2, queue_id),
                vars = $3
          WHERE call_id = $1",
    )
    .bind(call)
    .bind(queue_id)
    .bind(serde_json::to_value(vars)?)
    .execute(&mut *t)
    .await?;
    timeline(
        &mut t,
        call,
        "queued",
        None,
        serde_json::json!({ "queue": queue }),
    )
    .await?;
    t.commit().await?;
    Ok(())
}

/// Appends a step to a call's timeline, in the caller's transaction.
pub async fn timeline(
    conn: &mut sqlx::PgConnection,
    call: Uuid,
    kind: &str,
    agent: Option<Uuid>,
    details: serde_json::Value,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO cdr_events (call_id, kind, agent_id, details) VALUES ($1, $2, $3, $4)",
    )
    .bind(call)
    .bind(kind)
    .bind(agent)
    .bind(details)
    .execute(conn)
    .await?;
    Ok(())
}

/// One ACD event on the caller's leg.
pub async fn acd_event(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    ev: &hotline_acd::Event,
) -> anyhow::Result<()> {
    let agent: Option<Uuid> = ev.agent.parse().ok();
    let mut t = tx(state, tenant).await?;
    let sql = match ev.ev.as_str() {
        "offered" => Some(
            "UPDATE cdrs SET offered_at = coalesce(offered_at, now()), agent_id = $2
              WHERE call_id = $1 AND connected_at IS NULL",
        ),
        "connected" => Some(
            "UPDATE cdrs SET connected_at = coalesce(connected_at, now()), agent_id = $2
              WHERE call_id = $1",
        ),
        "transferred" => Some(
            "UPDATE cdrs SET transfers = transfers + 1, queue_id = coalesce($3, queue_id)
              WHERE call_id = $1",
        ),
        "abandoned" => {
            Some("UPDATE cdrs SET outcome = coalesce(outcome, 'abandoned') WHERE call_id = $1")
        }
        "completed" => {
            Some("UPDATE cdrs SET outcome = coalesce(outcome, 'answered') WHERE call_id = $1")
        }
        // To another queue: the CDR follows it. Leaving the ACD (`voicemail`): the queue's
        // max-wait action sets the outcome (`queue_exit`).
        "overflowed" => {
            Some("UPDATE cdrs SET queue_id = coalesce($3, queue_id) WHERE call_id = $1")
        }
        _ => None,
    };
    if let Some(sql) = sql {
        sqlx::query(sql)
            .bind(call)
            .bind(agent)
            .bind(ev.to.parse::<Uuid>().ok())
            .bind(&ev.to)
            .execute(&mut *t)
            .await?;
    }
    let mut details = serde_json::Map::new();
    if !ev.to.is_empty() {
        details.insert("to".into(), ev.to.clone().into());
    }
    if ev.ev == "abandoned" {
        details.insert("waited_ms".into(), ev.waited_ms.into());
    }
    if !ev.reason.is_empty() {
        details.insert("reason".into(), ev.reason.clone().into());
    }
    timeline(&mut t, call, &ev.ev, agent, details.into()).await?;
    t.commit().await?;
    Ok(())
}

/// What the IVR made of a call that never reached an agent (`voicemail`, `callback_request`).
pub async fn outcome(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    outcome: &str,
) -> anyhow::Result<()> {
    let mut t = tx(state, tenant).await?;
    sqlx::query("UPDATE cdrs SET outcome = coalesce(outcome, $2) WHERE call_id = $1")
        .bind(call)
        .bind(outcome)
        .execute(&mut *t)
        .await?;
    t.commit().await?;
    Ok(())
}

/// An agent's action on their call (`held`, `unheld`, `transfer_requested`…), on the timeline.
pub async fn action(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    kind: &str,
    agent: Uuid,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let mut t = tx(state, tenant).await?;
    timeline(&mut t, call, kind, Some(agent), details).await?;
    t.commit().await?;
    Ok(())
}

/// How long after a call ended its agents may still write their wrap-up.
pub const WRAPUP_WINDOW_HOURS: i32 = 24;
