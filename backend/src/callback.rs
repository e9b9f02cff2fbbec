//! One-click callbacks from the missed-calls list: the agent's browser softphone stays where it
//! is, the gateway holding it dials the customer through its trunk (showing the number the
//! customer had called), and the answered call is bridged into the softphone. The agent is
//! taken out of the ACD's rotation (not ready, reason `callback`) while the callback lasts and
//! put back afterwards. A callback nobody answers reopens the missed call (one more attempt).
//! The request (`routes::calls::callback`) claims the entry in its own tenant transaction;
//! this module does what follows in Redis and at the gateway.
//!
//! Click-to-call (`routes::calls::click_to_call`, from a number shown in the SPA or from the
//! tenant's own software with an API key) is the same call without a missed-calls entry:
//! the agent's softphone is the leg that is already up, the customer is dialled and bridged.

use crate::{
    error::{ApiError, ApiResult},
    ivr::command,
    routes::agent_events,
    state::AppState,
};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway::{GatewayCommand, GatewayEvent};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A callback in progress, stored under [`key`] for the outbound leg.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Callback {
    agent: Uuid,
    /// The missed-calls entry called back; none for click-to-call.
    #[serde(default)]
    missed: Option<Uuid>,
    gateway_id: String,
    answered: bool,
    /// The agent was Ready before: they are made Ready again afterwards.
    was_ready: bool,
}

fn key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:callback:{leg}")
}

fn agent_key(tenant: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{agent}:callback")
}

const TTL_SECS: u64 = 4 * 3600;

/// The agent's callback leg in progress, if any.
pub async fn current(state: &AppState, tenant: Uuid, agent: Uuid) -> anyhow::Result<Option<Uuid>> {
    let mut r = state.redis();
    let leg: Option<String> = r.get(agent_key(tenant, agent)).await?;
    Ok(leg.and_then(|l| l.parse().ok()))
}

/// An agent checked free to call back (their softphone is connected, no call or callback in
/// progress), from [`preflight`].
pub struct Ready {
    soft: crate::softphone::SoftLeg,
    was_ready: bool,
}

impl Ready {
    /// The gateway holding the agent's softphone (it places the call).
    pub fn gateway_id(&self) -> &str {
        &self.soft.gateway_id
    }
}

/// Checks that `agent` can make a callback now.
pub async fn preflight(state: &AppState, tenant: Uuid, agent: Uuid) -> ApiResult<Ready> {
    let busy = |detail: &str| ApiError::Conflict {
        code: "agent_busy",
        detail: detail.into(),
    };
    let Some(soft) = crate::softphone::current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(ApiError::Conflict {
            code: "no_softphone",
            detail: "connect the browser softphone first".into(),
        });
    };
    if current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
        .is_some()
    {
        return Err(busy("finish the current callback first"));
    }
    let acd = crate::dispatch::agent_acd_state(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?;
    if matches!(acd.as_str(), "ringing" | "on_call") {
        return Err(busy("finish the current call first"));
    }
    Ok(Ready {
        soft,
        was_ready: acd == "ready",
    })
}

/// What to dial for a claimed missed-calls entry.
pub struct Claimed<'a> {
    /// The entry claimed; `None` for a click-to-call.
    pub missed: Option<Uuid>,
    /// The outbound leg's call id.
    pub leg: Uuid,
    /// The customer's number.
    pub number: &'a str,
    /// The number they had called (shown to them as the caller).
    pub did: &'a str,
}

/// Dials the customer of an entry the request has claimed (its transaction committed): the
/// agent leaves the ACD's rotation, the gateway of their softphone places the call.
pub async fn dial(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    ready: Ready,
    c: Claimed<'_>,
) -> ApiResult<()> {
    if ready.was_ready {
        crate::dispatch::agent_state(state, tenant, agent, "not_ready", "callback").await?;
    }
    let rec = Callback {
        agent,
        missed: c.missed,
        gateway_id: ready.soft.gateway_id.clone(),
        answered: false,
        was_ready: ready.was_ready,
    };
    let mut r = state.redis();
    let json =
        serde_json::to_string(&rec).map_err(|e| ApiError::internal(anyhow::Error::from(e)))?;
    let _: () = r.set_ex(key(tenant, c.leg), json, TTL_SECS).await?;
    let _: () = r
        .set_ex(agent_key(tenant, agent), c.leg.to_string(), TTL_SECS)
        .await?;
    let cdr = crate::cdr::OutboundLeg {
        leg: c.leg,
        parent: None,
        caller: c.did,
        callee: c.number,
        agent: Some(agent),
        gateway_id: &ready.soft.gateway_id,
    };
    crate::cdr::outbound_leg(state, tenant, cdr)
        .await
        .map_err(ApiError::internal)?;
    let cmd = GatewayCommand::Originate {
        call_id: c.leg,
        tenant_id: tenant,
        caller: c.did.to_string(),
        callee: c.number.to_string(),
    };
    command(state, &ready.soft.gateway_id, &cmd)
        .await
        .map_err(ApiError::internal)?;
    Ok(())
}

/// Hangs up the agent's callback leg (their hang-up button).
pub async fn hang_up(state: &AppState, tenant: Uuid, agent: Uuid, leg: Uuid) -> ApiResult<bool> {
    if current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
        != Some(leg)
    {
        return Ok(false);
    }
    let mut r = state.redis();
    let raw: Option<String> = r.get(key(tenant, leg)).await?;
    let Some(rec) = raw.and_then(|s| serde_json::from_str::<Callback>(&s).ok()) else {
        return Ok(false);
    };
    let cmd = GatewayCommand::Hangup {
        call_id: leg,
        status: None,
    };
    command(state, &rec.gateway_id, &cmd)
        .await
        .map_err(ApiError::internal)?;
    Ok(true)
}

/// Gateway events of callback legs: answered → bridged into the softphone; ended → the agent
/// is told, put back in rotation, and an unanswered callback reopens the missed call.
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let (leg, tenant, answered) = match ev {
        GatewayEvent::CallAnswered {
            call_id, tenant_id, ..
        } => (*call_id, *tenant_id, true),
        GatewayEvent::Hangup {
            call_id, tenant_id, ..
        } => (*call_id, *tenant_id, false),
        _ => return Ok(()),
    };
    let mut r = state.redis();
    let raw: Option<String> = r.get(key(tenant, leg)).await?;
    let Some(mut rec) = raw.and_then(|s| serde_json::from_str::<Callback>(&s).ok()) else {
        return Ok(());
    };
    if answered {
        rec.answered = true;
        let _: () = r
            .set_ex(key(tenant, leg), serde_json::to_string(&rec)?, TTL_SECS)
            .await?;
        match crate::softphone::current(state, tenant, rec.agent).await? {
            Some(soft) => {
                let cmd = GatewayCommand::Bridge {
                    call_id: leg,
                    target: crate::softphone::target(soft.leg_id),
                };
                command(state, &rec.gateway_id, &cmd).await?;
            }
            None => {
                tracing::warn!(%tenant, %leg, "callback answered but the agent's softphone is gone");
            }
        }
        let connected = AgentEvent::Connected { call_id: leg };
        agent_events::publish(state, tenant, rec.agent, &connected).await;
        return Ok(());
    }
    let _: () = r.del(key(tenant, leg)).await?;
    let _: () = r.del(agent_key(tenant, rec.agent)).await?;
    if let (false, Some(missed)) = (rec.answered, rec.missed) {
        let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
        // Reopen unless the number missed again meanwhile (then that entry stands).
        sqlx::query(
            "UPDATE missed_calls m SET handled_at = NULL, handled_by = NULL
              WHERE m.id = $1 AND m.callback_call_id = $2
                AND NOT EXISTS (SELECT 1 FROM missed_calls o
                                 WHERE o.number = m.number AND o.handled_at IS NULL)",
        )
        .bind(missed)
        .bind(leg)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let ended = AgentEvent::Ended { call_id: leg };
    agent_events::publish(state, tenant, rec.agent, &ended).await;
    if rec.was_ready
        && crate::dispatch::agent_acd_state(state, tenant, rec.agent).await? == "not_ready"
    {
        if let Err(e) = crate::dispatch::agent_state(state, tenant, rec.agent, "ready", "").await {
            tracing::warn!(%tenant, agent = %rec.agent, error = ?e, "agent not made ready after callback");
        }
    }
    Ok(())
}
