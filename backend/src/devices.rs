//! Where an agent can be reached: their browser softphone's WebRTC leg (a record in Redis,
//! kept by `softphone`) and their desk phone extension and its registration.

use crate::state::AppState;
use hotline_wire::gateway as wire;
use redis::AsyncCommands;
use uuid::Uuid;

/// Hash with `gateway_id`, `leg_id`, `http` of the agent's current softphone leg.
pub fn key(tenant: Uuid, user: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{user}:softphone")
}

/// The `Bridge` target naming a WebRTC leg.
pub fn target(leg: Uuid) -> String {
    format!("webrtc:{leg}")
}

/// Whether the agent's softphone leg is up: they have one and its gateway is alive (its
/// heartbeat has not expired). A leg the gateway ended is removed by [`lost`].
pub async fn live(state: &AppState, tenant: Uuid, user: Uuid) -> anyhow::Result<bool> {
    let Some(leg) = current(state, tenant, user).await? else {
        return Ok(false);
    };
    let mut r = state.redis();
    Ok(r.exists(wire::gateway_key(&leg.gateway_id)).await?)
}

/// The agent's desk phone extension (`users.extension`), if any.
pub async fn extension(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
) -> anyhow::Result<Option<String>> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    let ext: Option<String> = sqlx::query_scalar("SELECT extension FROM users WHERE id = $1")
        .bind(user)
        .fetch_optional(&mut *tx)
        .await?
        .flatten();
    tx.commit().await?;
    Ok(ext.filter(|e| !e.is_empty()))
}

/// Whether the desk phone of extension `ext` is registered now (the gateway's registrar keeps
/// `{t:<tenant>}:sip:reg:<ext>` for as long as the registration lasts).
pub async fn desk_phone_registered(
    state: &AppState,
    tenant: Uuid,
    ext: Option<&str>,
) -> anyhow::Result<bool> {
    let Some(ext) = ext else { return Ok(false) };
    let mut r = state.redis();
    Ok(r.exists(wire::registration_key(tenant, ext)).await?)
}

/// Where an agent's softphone leg lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftLeg {
    pub gateway_id: String,
    pub leg_id: Uuid,
    pub(crate) http: String,
}

/// The agent's current softphone leg, if they have one.
pub async fn current(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
) -> anyhow::Result<Option<SoftLeg>> {
    let mut r = state.redis();
    let h: std::collections::HashMap<String, String> = r.hgetall(key(tenant, user)).await?;
    Ok(
        match (h.get("gateway_id"), h.get("leg_id"), h.get("http")) {
            (Some(g), Some(l), Some(http)) => l.parse().ok().map(|leg_id| SoftLeg {
                gateway_id: g.clone(),
                leg_id,
                http: http.clone(),
            }),
            _ => None,
        },
    )
}
