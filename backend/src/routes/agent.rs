//! The agent's own state (ready / not ready with a reason / break / logged out).
//!
//! Live state lives in Redis under the tenant's hash tag and in the ACD (`crate::dispatch`);
//! every change is also written to the audit log.

use crate::agents::state_key;
use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
};
use axum::{
    extract::State,
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use chrono::{DateTime, Utc};
use hotline_wire::{
    api::{AgentStateDto, AgentStatus, SetAgentState, NO_AUDIO_DEVICE},
    permissions as perms,
};
use redis::AsyncCommands;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/agent/state", get(get_state).put(set_state))
}

/// The 422 refusing "ready" to an agent who has no way to hear a call.
fn no_audio_device() -> Response {
    let problem = hotline_wire::api::Problem {
        type_: format!("https://hotline.example/problems/{NO_AUDIO_DEVICE}"),
        title: "No audio device".into(),
        status: 422,
        code: NO_AUDIO_DEVICE.into(),
        detail: Some(
            "You cannot take calls yet: your softphone is not connected and no desk phone is \
             registered. Allow the microphone in your browser and reconnect the softphone, or \
             register your desk phone, then choose Ready again."
                .into(),
        ),
        errors: vec![hotline_wire::api::FieldError {
            field: "status".into(),
            message: "no connected softphone and no registered desk phone".into(),
        }],
    };
    let mut resp = (
        StatusCode::UNPROCESSABLE_ENTITY,
        serde_json::to_vec(&problem).unwrap_or_default(),
    )
        .into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

async fn read(state: &AppState, tenant_id: Uuid, user_id: Uuid) -> ApiResult<AgentStateDto> {
    let mut r = state.redis();
    let fields: std::collections::HashMap<String, String> =
        r.hgetall(state_key(tenant_id, user_id)).await?;
    let status = fields
        .get("status")
        .and_then(|s| AgentStatus::parse(s))
        .unwrap_or(AgentStatus::LoggedOut);
    let since = fields
        .get("since")
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|d| d.with_timezone(&Utc))
        .unwrap_or_else(Utc::now);
    Ok(AgentStateDto {
        status,
        reason_id: fields
            .get("reason_id")
            .and_then(|s| Uuid::try_parse(s).ok()),
        reason: fields.get("reason").filter(|s| !s.is_empty()).cloned(),
        reason_key: fields.get("reason_key").filter(|s| !s.is_empty()).cloned(),
        since,
        ..activity(state, tenant_id, user_id).await?
    })
}

/// What the ACD says the agent is doing (ringing, on a call, wrap-up): only the
/// `activity` and `wrap_up_until` fields of the result are filled.
async fn activity(state: &AppState, tenant_id: Uuid, user_id: Uuid) -> ApiResult<AgentStateDto> {
    let mut r = state.redis();
    let keys = crate::call_io::acd_keys(tenant_id);
    let raw: Option<String> = r.hget(&keys.agents, user_id.to_string()).await?;
    let rec: hotline_acd::AgentRec = raw
        .and_then(|j| serde_json::from_str(&j).ok())
        .unwrap_or_default();
    let activity =
        matches!(rec.state.as_str(), "ringing" | "on_call" | "wrap_up").then(|| rec.state.clone());
    let wrap_up_until = (rec.state == "wrap_up")
        .then(|| DateTime::<Utc>::from_timestamp_millis(rec.until as i64))
        .flatten();
    Ok(AgentStateDto {
        status: AgentStatus::LoggedOut,
        reason_id: None,
        reason: None,
        reason_key: None,
        since: Utc::now(),
        activity,
        wrap_up_until,
    })
}

#[utoipa::path(get, path = "/api/v1/agent/state", tag = "agent", responses((status = 200, body = AgentStateDto)))]
pub async fn get_state(
    State(state): State<AppState>,
    ctx: TenantCtx,
) -> ApiResult<Json<AgentStateDto>> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    Ok(Json(read(&state, ctx.tenant().id, user).await?))
}

/// Changes the agent's own state. "Ready" needs a way to hear calls: a connected browser
/// softphone (its leg on a live gateway) or a registered desk phone (the user's extension),
/// else **422 `no_audio_device`** with what to do.
#[utoipa::path(put, path = "/api/v1/agent/state", tag = "agent", request_body = SetAgentState,
    responses((status = 200, body = AgentStateDto),
        (status = 409, body = hotline_wire::api::Problem, description = "`agent_busy`: ringing or on a call; `approval_required`: the reason needs a supervisor's approval (file a break request)"),
        (status = 422, body = hotline_wire::api::Problem, description = "Invalid reason, or `no_audio_device`: ready without a connected softphone or a registered desk phone")))]
pub async fn set_state(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<SetAgentState>,
) -> ApiResult<Response> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let reason = match (req.status, req.reason_id) {
        (AgentStatus::NotReady | AgentStatus::Break, Some(id)) => {
            let row: Option<(String, String, Option<String>, bool)> = sqlx::query_as(
                "SELECT name, kind, builtin_key, needs_approval FROM reason_codes WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
            let Some((name, kind, builtin_key, needs_approval)) = row else {
                return Err(ApiError::field("reason_id", "no such reason code"));
            };
            if kind != req.status.as_str() {
                return Err(ApiError::field(
                    "reason_id",
                    format!("is a '{kind}' reason, not '{}'", req.status.as_str()),
                ));
            }
            if needs_approval {
                return Err(ApiError::Conflict {
                    code: hotline_wire::api::APPROVAL_REQUIRED,
                    detail: format!(
                        "\"{name}\" needs a supervisor's approval: request it (POST /api/v1/agent/break-requests)"
                    ),
                });
            }
            Some(Reason {
                id,
                name,
                builtin_key,
            })
        }
        (AgentStatus::Break, None) => {
            return Err(ApiError::field("reason_id", "a break needs a reason"))
        }
        (AgentStatus::Ready | AgentStatus::LoggedOut, Some(_)) => {
            return Err(ApiError::field(
                "reason_id",
                "only not-ready and break states take a reason",
            ))
        }
        _ => None,
    };
    let tenant = ctx.tenant().id;
    if req.status == AgentStatus::Ready {
        let ext: Option<String> = sqlx::query_scalar("SELECT extension FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(ctx.db())
            .await?
            .flatten();
        let soft = crate::devices::live(&state, tenant, user)
            .await
            .map_err(ApiError::internal)?;
        let desk = soft
            || crate::devices::desk_phone_registered(
                &state,
                tenant,
                ext.as_deref().filter(|e| !e.is_empty()),
            )
            .await
            .map_err(ApiError::internal)?;
        if !soft && !desk {
            return Ok(no_audio_device());
        }
    }
    ctx.audit(
        "agent.state",
        Some("user"),
        Some(user.to_string()),
        serde_json::json!({ "status": req.status.as_str(), "reason": reason.as_ref().map(|r| &r.name) }),
    )
    .await?;
    // Audit first (in the transaction), then the ACD and Redis, then commit: if they fail
    // nothing is recorded; if the commit fails the state changed without its audit row, which
    // the next change will show — the lesser evil for a live state.
    let since = apply_state(&state, tenant, user, req.status, reason.as_ref()).await?;
    ctx.commit().await?;
    Ok(Json(AgentStateDto {
        status: req.status,
        reason_id: reason.as_ref().map(|r| r.id),
        reason_key: reason.as_ref().and_then(|r| r.builtin_key.clone()),
        reason: reason.map(|r| r.name),
        since,
        ..activity(&state, tenant, user).await?
    })
    .into_response())
}

/// A reason code as an agent's state carries it.
pub struct Reason {
    pub id: Uuid,
    pub name: String,
    pub builtin_key: Option<String>,
}

/// Puts the agent in `status` (with `reason`): the ACD first — it refuses (409 `agent_busy`)
/// while the agent is ringing or on a call — then the live state the desktop and supervisors
/// read. Returns since when. The caller writes the audit row.
pub async fn apply_state(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    status: AgentStatus,
    reason: Option<&Reason>,
) -> ApiResult<DateTime<Utc>> {
    let since = Utc::now();
    crate::dispatch::agent_state(
        state,
        tenant,
        user,
        status.as_str(),
        reason.map(|r| r.name.as_str()).unwrap_or(""),
    )
    .await?;
    let mut r = state.redis();
    let key = state_key(tenant, user);
    let _: () = redis::pipe()
        .atomic()
        .del(&key)
        .hset_multiple(
            &key,
            &[
                ("status", status.as_str().to_string()),
                ("since", since.to_rfc3339()),
                (
                    "reason_id",
                    reason.map(|r| r.id.to_string()).unwrap_or_default(),
                ),
                ("reason", reason.map(|r| r.name.clone()).unwrap_or_default()),
                (
                    "reason_key",
                    reason
                        .and_then(|r| r.builtin_key.clone())
                        .unwrap_or_default(),
                ),
            ],
        )
        .query_async(&mut r)
        .await?;
    Ok(since)
}
