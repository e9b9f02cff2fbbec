//! An agent's live state: their record in the ACD (`ringing`, `on_call`… and the call), and the
//! state the desktop and supervisors read (`state_key`), which the ACD's own decisions (a
//! missed offer, a failed device) set with a built-in reason code.

use crate::{call_io, state::AppState};

use chrono::Utc;
use hotline_wire::api::AgentStatus;
use redis::AsyncCommands;
use uuid::Uuid;

/// Redis key of one agent's live state.
pub fn state_key(tenant_id: Uuid, user_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:agent:{user_id}")
}

/// Records a state the ACD (or the softphone watch) put the agent in by itself: not ready
/// with the built-in reason `builtin_key` (`missed`, `rejected`, `softphone_lost`,
/// `phone_unreachable`; `hotline_wire::api::builtin_reasons`), so the agent's desktop and
/// supervisors see a real reason code (id and name) for what the ACD will act on.
pub async fn record_acd_not_ready(
    state: &AppState,
    tenant_id: Uuid,
    user_id: Uuid,
    builtin_key: &str,
) -> anyhow::Result<()> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant_id)).await?;
    let code: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM reason_codes WHERE builtin_key = $1")
            .bind(builtin_key)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    let (id, name) = match code {
        Some((id, name)) => (id.to_string(), name),
        None => {
            tracing::warn!(tenant = %tenant_id, builtin_key, "built-in reason code missing");
            (String::new(), builtin_key.to_string())
        }
    };
    let mut r = state.redis();
    let key = state_key(tenant_id, user_id);
    let _: () = redis::pipe()
        .atomic()
        .del(&key)
        .hset_multiple(
            &key,
            &[
                ("status", AgentStatus::NotReady.as_str().to_string()),
                ("since", Utc::now().to_rfc3339()),
                ("reason_id", id),
                ("reason", name),
                ("reason_key", builtin_key.to_string()),
            ],
        )
        .query_async(&mut r)
        .await?;
    Ok(())
}

/// The agent's record in the ACD, if it knows them.
pub async fn agent_rec(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
) -> redis::RedisResult<Option<hotline_acd::AgentRec>> {
    let mut r = state.redis();
    let raw: Option<String> = r
        .hget(call_io::acd_keys(tenant).agents, user.to_string())
        .await?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// The agent's state in the ACD (`logged_out` when unknown).
pub async fn agent_acd_state(state: &AppState, tenant: Uuid, user: Uuid) -> anyhow::Result<String> {
    Ok(agent_rec(state, tenant, user)
        .await?
        .map(|a| a.state)
        .unwrap_or_else(|| "logged_out".into()))
}

/// Every agent's state in the ACD, in one read (agents the ACD does not know are absent).
pub async fn agent_acd_states(
    state: &AppState,
    tenant: Uuid,
) -> anyhow::Result<std::collections::HashMap<Uuid, String>> {
    let mut r = state.redis();
    let all: std::collections::HashMap<String, String> =
        r.hgetall(call_io::acd_keys(tenant).agents).await?;
    Ok(all
        .into_iter()
        .filter_map(|(id, raw)| {
            let rec = serde_json::from_str::<hotline_acd::AgentRec>(&raw).ok()?;
            Some((id.parse().ok()?, rec.state))
        })
        .collect())
}

/// The call the agent is connected to, if any.
pub async fn agent_call(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
) -> Result<Option<Uuid>, crate::error::ApiError> {
    Ok(agent_rec(state, tenant, user)
        .await?
        .filter(|a| a.state == "on_call")
        .and_then(|a| a.call.parse().ok()))
}
