//! Events to the agent's desktop: published on the agent's Redis channel, which every backend's
//! `/agent/events` WebSocket (`routes::agent_events`) relays, whichever backend handled the call.

use crate::state::AppState;
use hotline_wire::calls::AgentEvent;
use uuid::Uuid;

/// The pub/sub channel of one agent.
pub fn channel(tenant: Uuid, user: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{user}:events")
}

/// Sends an event to the agent's open desktops (none open: dropped, the desktop re-reads).
pub async fn publish(state: &AppState, tenant: Uuid, user: Uuid, ev: &AgentEvent) {
    let mut r = state.redis();
    let Ok(json) = serde_json::to_string(ev) else {
        return;
    };
    let res: redis::RedisResult<i64> = redis::cmd("PUBLISH")
        .arg(channel(tenant, user))
        .arg(json)
        .query_async(&mut r)
        .await;
    if let Err(e) = res {
        tracing::warn!(%tenant, %user, error = %e, "agent event not published");
    }
}
