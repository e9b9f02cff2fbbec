//! The agent desktop's live channel: a WebSocket carrying [`AgentEvent`]s (offers with the
//! screen-pop data, connected, withdrawn, ended), fed by Redis pub/sub so any backend process
//! can serve it whichever process handled the call; and the agent's call actions.

use crate::desktop::channel;
use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult},
    state::AppState,
};
use axum::{
    extract::{
        ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade},
        Path, State,
    },
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use futures::StreamExt;
use hotline_acd::{AcdError, Op};
use hotline_wire::{calls::AgentEvent, permissions as perms};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent/events", get(events))
        .route(
            "/agent/softphone",
            post(softphone_offer).delete(softphone_close),
        )
        .route("/agent/softphone/lost", post(softphone_lost))
        .route("/agent/calls/{call_id}/accept", post(accept))
        .route("/agent/calls/{call_id}/reject", post(reject))
        .route("/agent/calls/{call_id}/hangup", post(hangup))
}

#[utoipa::path(get, path = "/api/v1/agent/events", tag = "agent",
    responses((status = 101, description = "WebSocket of AgentEvent JSON messages"),
        (status = 403, body = hotline_wire::api::Problem)))]
pub async fn events(
    State(state): State<AppState>,
    ctx: TenantCtx,
    ws: WebSocketUpgrade,
) -> ApiResult<Response> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    // The request's transaction ends here: a socket may stay open for a whole shift.
    ctx.commit().await?;
    Ok(ws.on_upgrade(move |socket| serve(state, tenant, user, socket)))
}

/// The close reason sent to a desktop that writes to its events socket.
pub const UNSUPPORTED_MESSAGE: &str =
    "this socket only sends events; use the /api/v1/agent HTTP endpoints to act";

async fn serve(state: AppState, tenant: Uuid, user: Uuid, mut socket: WebSocket) {
    let sub = async {
        let client = redis::Client::open(state.cfg.redis_url.as_str())?;
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel(tenant, user)).await?;
        anyhow::Ok(pubsub)
    };
    let mut pubsub = match sub.await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(%tenant, %user, error = %e, "agent events: no subscription");
            return;
        }
    };
    let current = crate::agents::agent_acd_state(&state, tenant, user)
        .await
        .unwrap_or_else(|_| "logged_out".into());
    let hello = serde_json::to_string(&AgentEvent::Hello { state: current }).unwrap_or_default();
    if socket.send(Message::Text(hello.into())).await.is_err() {
        return;
    }
    let mut messages = pubsub.on_message();
    loop {
        tokio::select! {
            msg = messages.next() => {
                let Some(msg) = msg else { break };
                let Ok(text) = msg.get_payload::<String>() else { continue };
                if socket.send(Message::Text(text.into())).await.is_err() {
                    break;
                }
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                // The channel only carries events to the desktop: a message from the client is
                // refused with a close frame saying why (1003, "unsupported data"), never
                // silently ignored. The agent's calls are not touched; the desktop reconnects.
                Some(Ok(Message::Text(_) | Message::Binary(_))) => {
                    tracing::info!(%tenant, %user, "agent events: client sent a message; closing");
                    let frame = CloseFrame {
                        code: close_code::UNSUPPORTED,
                        reason: UNSUPPORTED_MESSAGE.into(),
                    };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(Ok(_)) => {}
            },
        }
    }
}

/// The browser softphone's SDP offer (WebRTC, audio), and where the leg should be.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct SoftphoneOffer {
    pub sdp: String,
    /// The media gateway the leg must be on: the `gateway_id` of a call offered to the agent
    /// (their leg moves to the call). Absent: the gateway of the agent's current call, else
    /// of their old leg, else any live one. A gateway that is not alive or has no WebRTC
    /// listener is a 422 on this field.
    #[serde(default)]
    pub gateway_id: Option<String>,
}

/// The media gateway's SDP answer, and the gateway the leg is on.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct SoftphoneAnswer {
    pub sdp: String,
    pub gateway_id: String,
    /// The leg's id: the desktop names it when it reports the connection failed
    /// (`POST /agent/softphone/lost`).
    pub leg_id: Uuid,
}

/// Connects the agent's browser softphone: the offer goes to a live media gateway, its answer
/// comes back. Calls offered to the agent are then bridged into this leg, which stays up
/// between calls; a new offer (a reload, or a move to the gateway of an offered call) replaces
/// the old leg and re-bridges a live call.
#[utoipa::path(post, path = "/api/v1/agent/softphone", tag = "agent", request_body = SoftphoneOffer,
    responses((status = 200, body = SoftphoneAnswer),
        (status = 409, body = hotline_wire::api::Problem, description = "`call_elsewhere`: the agent's connected call is on another gateway than `gateway_id`"),
        (status = 422, body = hotline_wire::api::Problem, description = "Not an SDP offer the gateway can answer, or `gateway_id` names no live gateway with WebRTC"),
        (status = 503, body = hotline_wire::api::Problem, description = "No media gateway reachable")))]
pub async fn softphone_offer(
    State(state): State<AppState>,
    ctx: TenantCtx,
    crate::error::Json(body): crate::error::Json<SoftphoneOffer>,
) -> ApiResult<axum::Json<SoftphoneAnswer>> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    let (sdp, gateway_id, leg_id) =
        crate::softphone::attach(&state, tenant, user, &body.sdp, body.gateway_id.as_deref())
            .await?;
    Ok(axum::Json(SoftphoneAnswer {
        sdp,
        gateway_id,
        leg_id,
    }))
}

/// The desktop's report that its softphone connection failed.
#[derive(Debug, serde::Deserialize, serde::Serialize, utoipa::ToSchema)]
pub struct SoftphoneLostReport {
    /// The leg (from `SoftphoneAnswer`); a leg already replaced is ignored.
    pub leg_id: Uuid,
    /// What the browser saw, e.g. `failed` (the RTCPeerConnection's state); for the logs.
    #[serde(default)]
    pub reason: String,
}

/// The desktop saw its softphone's connection fail (ICE/DTLS `failed`): the leg is dropped
/// and, as when the gateway reports it ended, a ready agent without a registered desk phone
/// becomes not ready with the built-in reason "Softphone lost"; the desktop gets
/// `AgentEvent::SoftphoneLost`. The audit log records it.
#[utoipa::path(post, path = "/api/v1/agent/softphone/lost", tag = "agent", request_body = SoftphoneLostReport,
    responses((status = 204, description = "Handled (or the leg was already replaced)")))]
pub async fn softphone_lost(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    crate::error::Json(body): crate::error::Json<SoftphoneLostReport>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let reason: String = format!("browser_{}", body.reason)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect();
    let was_current = crate::softphone::lost(&state, tenant, user, body.leg_id, &reason, true)
        .await
        .map_err(ApiError::internal)?;
    if was_current {
        ctx.audit(
            "agent.softphone_lost",
            Some("user"),
            Some(user.to_string()),
            serde_json::json!({ "leg_id": body.leg_id, "reason": reason }),
        )
        .await?;
    }
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/agent/softphone", tag = "agent",
    responses((status = 204, description = "The softphone leg is closed")))]
pub async fn softphone_close(
    State(state): State<AppState>,
    ctx: TenantCtx,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    crate::softphone::detach(&state, tenant, user).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/accept", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The call offered to this agent")),
    responses((status = 204, description = "Answered: the caller is bridged into the softphone"),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn accept(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    if crate::devices::current(&state, tenant, user)
        .await
        .map_err(ApiError::internal)?
        .is_none()
    {
        return Err(ApiError::Conflict {
            code: "no_softphone",
            detail: "connect the browser softphone first (or answer on your SIP phone)".into(),
        });
    }
    let op = Op::Answer {
        agent: user.to_string(),
        call: call_id.to_string(),
    };
    acd_result(crate::dispatch::acd(&state, tenant, op).await)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/reject", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The offered call")),
    responses((status = 204, description = "Declined: the call goes back to the head of its queue"),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    let op = Op::Reject {
        agent: user.to_string(),
        call: call_id.to_string(),
    };
    acd_result(crate::dispatch::acd(&state, tenant, op).await)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/hangup", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call")),
    responses((status = 204, description = "Both legs hung up"),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn hangup(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    // A callback the agent is making is theirs to hang up.
    if crate::callback::hang_up(&state, tenant, user, call_id).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    if crate::agents::agent_call(&state, tenant, user).await? != Some(call_id) {
        return Err(ApiError::Conflict {
            code: "not_your_call",
            detail: "this call is not connected to you".into(),
        });
    }
    let input = hotline_calls::control::Input::AgentHangUp;
    match crate::call_control::feed(&state, tenant, call_id, input, None)
        .await
        .map_err(ApiError::internal)?
    {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(_) => Err(ApiError::Conflict {
            code: "not_your_call",
            detail: "this call is not connected to you".into(),
        }),
    }
}

fn acd_result(r: Result<(), AcdError>) -> ApiResult<StatusCode> {
    match r {
        Ok(()) => Ok(StatusCode::NO_CONTENT),
        Err(AcdError::NotOffered | AcdError::UnknownCall | AcdError::UnknownAgent) => {
            Err(ApiError::Conflict {
                code: "not_offered",
                detail: "this call is not (or no longer) offered to you".into(),
            })
        }
        Err(e) => Err(ApiError::internal(anyhow::anyhow!("ACD: {e}"))),
    }
}
