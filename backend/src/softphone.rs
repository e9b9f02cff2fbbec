//! The agent's browser softphone: a WebRTC leg on a media gateway that stays up across calls
//! (a "nailed-up" connection). The browser sends its SDP offer here; the backend picks a live
//! gateway, asks it for a leg (`POST /webrtc/legs` on the gateway's HTTP listener, announced
//! in its heartbeat) and returns the answer. Offered calls are then bridged into that leg
//! instead of ringing a SIP phone (see `dispatch`). A browser that reloads sends a new offer:
//! the new leg replaces the old one and, when the agent is on a call, the call is bridged to
//! the new leg at once — the caller hears silence meanwhile, never a hang-up.

use crate::{error::ApiError, ivr, state::AppState};
use hotline_wire::gateway::{self as wire, GatewayCommand};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Hash with `gateway_id`, `leg_id`, `http` of the agent's current softphone leg.
pub fn key(tenant: Uuid, user: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{user}:softphone")
}

/// The `Bridge` target naming a WebRTC leg.
pub fn target(leg: Uuid) -> String {
    format!("webrtc:{leg}")
}

/// Where an agent's softphone leg lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SoftLeg {
    pub gateway_id: String,
    pub leg_id: Uuid,
    http: String,
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

/// A gateway that is alive (its heartbeat has not expired) and serves WebRTC: `preferred`
/// when it qualifies, else any.
async fn pick_gateway(
    state: &AppState,
    preferred: Option<&str>,
) -> anyhow::Result<Option<(String, String)>> {
    let mut r = state.redis();
    let mut ids: Vec<String> = r.smembers(wire::GATEWAYS_KEY).await?;
    ids.sort();
    if let Some(p) = preferred {
        ids.retain(|i| i != p);
        ids.insert(0, p.to_string());
    }
    for id in ids {
        let http: Option<String> = r.hget(wire::gateway_key(&id), "http").await?;
        if let Some(http) = http.filter(|h| !h.is_empty()) {
            return Ok(Some((id, http)));
        }
    }
    Ok(None)
}

#[derive(Serialize)]
struct LegRequest<'a> {
    leg_id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    sdp: &'a str,
}

#[derive(Deserialize)]
struct LegAnswer {
    sdp: String,
}

#[derive(Deserialize)]
struct GatewayProblem {
    #[serde(default)]
    detail: String,
    #[serde(default)]
    title: String,
}

/// Creates the agent's softphone leg from the browser's offer; returns the SDP answer.
pub async fn attach(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    offer: &str,
) -> Result<String, ApiError> {
    if !offer.trim_start().starts_with("v=0") || !offer.contains("m=audio") {
        return Err(ApiError::field(
            "sdp",
            "must be an SDP offer with an audio section",
        ));
    }
    let old = current(state, tenant, user)
        .await
        .map_err(ApiError::internal)?;
    let (gateway_id, http) = pick_gateway(state, old.as_ref().map(|o| o.gateway_id.as_str()))
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::Unavailable("no media gateway is running".into()))?;
    let leg_id = Uuid::new_v4();
    let resp = state
        .http
        .post(format!("http://{http}/webrtc/legs"))
        .json(&LegRequest {
            leg_id,
            tenant_id: tenant,
            user_id: user,
            sdp: offer,
        })
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("media gateway unreachable: {e}")))?;
    let status = resp.status();
    if status.is_client_error() {
        let p: Option<GatewayProblem> = resp.json().await.ok();
        let why = p
            .map(|p| {
                if p.detail.is_empty() {
                    p.title
                } else {
                    p.detail
                }
            })
            .unwrap_or_else(|| format!("refused with {status}"));
        return Err(ApiError::field("sdp", why));
    }
    if !status.is_success() {
        return Err(ApiError::Unavailable(format!(
            "media gateway answered {status}"
        )));
    }
    let answer: LegAnswer = resp
        .json()
        .await
        .map_err(|e| ApiError::Unavailable(format!("media gateway answer unreadable: {e}")))?;
    let mut r = state.redis();
    let _: () = r
        .hset_multiple(
            key(tenant, user),
            &[
                ("gateway_id", gateway_id.clone()),
                ("leg_id", leg_id.to_string()),
                ("http", http.clone()),
            ],
        )
        .await?;
    // The browser reloaded during a call: the caller is bridged to the new leg.
    if let Some(call) = crate::dispatch::agent_call(state, tenant, user).await? {
        if let Some(c) = ivr::load(state, tenant, call)
            .await
            .map_err(ApiError::internal)?
        {
            let cmd = GatewayCommand::Bridge {
                call_id: call,
                target: target(leg_id),
            };
            ivr::command(state, &c.gateway_id, &cmd)
                .await
                .map_err(ApiError::internal)?;
        }
    }
    if let Some(old) = old {
        close_leg(state, &old).await;
    }
    Ok(answer.sdp)
}

/// Ends the agent's softphone leg (logout, or the browser says goodbye).
pub async fn detach(state: &AppState, tenant: Uuid, user: Uuid) -> Result<(), ApiError> {
    if let Some(old) = current(state, tenant, user)
        .await
        .map_err(ApiError::internal)?
    {
        let mut r = state.redis();
        let _: () = r.del(key(tenant, user)).await?;
        close_leg(state, &old).await;
    }
    Ok(())
}

async fn close_leg(state: &AppState, leg: &SoftLeg) {
    let url = format!("http://{}/webrtc/legs/{}", leg.http, leg.leg_id);
    if let Err(e) = state.http.delete(url).send().await {
        tracing::warn!(leg = %leg.leg_id, error = %e, "closing a softphone leg failed");
    }
}
