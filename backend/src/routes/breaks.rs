//! Breaks that need approval (tenant migration 0023). An agent choosing a reason code with
//! `needs_approval` files a request (their state does not change); supervisors (`supervise`)
//! list the pending requests and approve — the agent enters that state through the ACD — or
//! deny; the agent can cancel while it is pending. The agent's desktop is told the decision
//! (`AgentEvent::BreakDecided`, and an in-app notification). Every step is audited.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    routes::agent::{apply_state, Reason},
    state::AppState,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use hotline_wire::{
    api::{AgentStatus, BreakRequestDto, NewBreakRequest},
    calls::AgentEvent,
    permissions as perms,
};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent/break-requests", post(request))
        .route("/agent/break-requests/current", get(current).delete(cancel))
        .route("/break-requests", get(list))
        .route("/break-requests/{id}/approve", post(approve))
        .route("/break-requests/{id}/deny", post(deny))
}

const SELECT: &str = "SELECT b.id, b.agent_id, u.name AS agent_name, b.reason_id, r.name AS reason,
        r.kind, b.status, b.requested_at, b.decided_at, b.decided_by
   FROM break_requests b
   JOIN users u ON u.id = b.agent_id
   JOIN reason_codes r ON r.id = b.reason_id";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    agent_id: Uuid,
    agent_name: String,
    reason_id: Uuid,
    reason: String,
    kind: String,
    status: String,
    requested_at: chrono::DateTime<chrono::Utc>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
    decided_by: Option<Uuid>,
}

impl From<Row> for BreakRequestDto {
    fn from(r: Row) -> Self {
        BreakRequestDto {
            id: r.id,
            agent_id: r.agent_id,
            agent_name: r.agent_name,
            reason_id: r.reason_id,
            reason: r.reason,
            kind: r.kind,
            status: r.status,
            requested_at: r.requested_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
        }
    }
}

async fn load(conn: &mut sqlx::PgConnection, id: Uuid) -> ApiResult<BreakRequestDto> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE b.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(BreakRequestDto::from).ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/agent/break-requests", tag = "agent", request_body = NewBreakRequest,
    responses((status = 201, body = BreakRequestDto, description = "Requested: the agent's state is unchanged until a supervisor approves"),
        (status = 409, body = hotline_wire::api::Problem, description = "`break_request_pending`: the agent already waits for a decision"),
        (status = 422, body = hotline_wire::api::Problem, description = "No such reason code, or one that needs no approval")))]
pub async fn request(
    mut ctx: TenantCtx,
    Json(req): Json<NewBreakRequest>,
) -> ApiResult<(StatusCode, Json<BreakRequestDto>)> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let reason: Option<(String, bool)> =
        sqlx::query_as("SELECT name, needs_approval FROM reason_codes WHERE id = $1")
            .bind(req.reason_id)
            .fetch_optional(ctx.db())
            .await?;
    match reason {
        None => return Err(ApiError::field("reason_id", "no such reason code")),
        Some((_, false)) => {
            return Err(ApiError::field(
                "reason_id",
                "needs no approval: choose it as your state",
            ))
        }
        Some(_) => {}
    }
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO break_requests (agent_id, reason_id) VALUES ($1, $2)
         ON CONFLICT (agent_id) WHERE status = 'pending' DO NOTHING RETURNING id",
    )
    .bind(user)
    .bind(req.reason_id)
    .fetch_optional(ctx.db())
    .await?;
    let Some(id) = id else {
        return Err(ApiError::Conflict {
            code: "break_request_pending",
            detail: "you already asked for a break: cancel that request first".into(),
        });
    };
    let dto = load(ctx.db(), id).await?;
    ctx.audit(
        "agent.break_requested",
        Some("break_request"),
        Some(id.to_string()),
        serde_json::json!({ "reason": dto.reason }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/agent/break-requests/current", tag = "agent",
    responses((status = 200, body = Option<BreakRequestDto>, description = "The agent's pending request, else their latest one (approved, denied or cancelled), or null")))]
pub async fn current(mut ctx: TenantCtx) -> ApiResult<Json<Option<BreakRequestDto>>> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE b.agent_id = $1
          ORDER BY b.status = 'pending' DESC, b.requested_at DESC, b.id LIMIT 1"
    )))
    .bind(user)
    .fetch_optional(ctx.db())
    .await?;
    let p = row.map(BreakRequestDto::from);
    ctx.commit().await?;
    Ok(Json(p))
}

#[utoipa::path(delete, path = "/api/v1/agent/break-requests/current", tag = "agent",
    responses((status = 204, description = "Cancelled"),
        (status = 404, body = hotline_wire::api::Problem, description = "No pending request")))]
pub async fn cancel(mut ctx: TenantCtx) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let id: Option<Uuid> = sqlx::query_scalar(
        "UPDATE break_requests SET status = 'cancelled', decided_at = now(), decided_by = $1
          WHERE agent_id = $1 AND status = 'pending' RETURNING id",
    )
    .bind(user)
    .fetch_optional(ctx.db())
    .await?;
    let Some(id) = id else {
        return Err(ApiError::NotFound);
    };
    ctx.audit(
        "agent.break_cancelled",
        Some("break_request"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct BreakRequestQuery {
    /// `pending` (default) or `all` (the latest 200).
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/break-requests", tag = "agent", params(BreakRequestQuery),
    responses((status = 200, body = Vec<BreakRequestDto>, description = "Oldest pending first (or newest first for `all`)"),
        (status = 403, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<BreakRequestQuery>,
) -> ApiResult<Json<Vec<BreakRequestDto>>> {
    ctx.require(perms::SUPERVISE)?;
    let sql = match q.status.as_deref().unwrap_or("pending") {
        "pending" => format!("{SELECT} WHERE b.status = 'pending' ORDER BY b.requested_at, b.id"),
        "all" => format!("{SELECT} ORDER BY b.requested_at DESC, b.id LIMIT 200"),
        _ => return Err(ApiError::field("status", "pending or all")),
    };
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(BreakRequestDto::from).collect()))
}

/// Decides a pending request (409 `already_decided` otherwise): approved, the agent enters the
/// requested state through the ACD first (409 `agent_busy` while they ring or talk: the request
/// stays pending); then the audit row, the agent's event and notification.
async fn decide(
    state: &AppState,
    mut ctx: TenantCtx,
    id: Uuid,
    approved: bool,
) -> ApiResult<Json<BreakRequestDto>> {
    ctx.require(perms::SUPERVISE)?;
    let me = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let row: Option<(String, Option<String>)> = sqlx::query_as(
        "SELECT b.status, r.builtin_key FROM break_requests b
           JOIN reason_codes r ON r.id = b.reason_id WHERE b.id = $1 FOR UPDATE OF b",
    )
    .bind(id)
    .fetch_optional(ctx.db())
    .await?;
    let Some((status, builtin_key)) = row else {
        return Err(ApiError::NotFound);
    };
    if status != "pending" {
        return Err(ApiError::Conflict {
            code: "already_decided",
            detail: format!("this request is already {status}"),
        });
    }
    let verdict = if approved { "approved" } else { "denied" };
    sqlx::query(
        "UPDATE break_requests SET status = $2, decided_at = now(), decided_by = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(verdict)
    .bind(me)
    .execute(ctx.db())
    .await?;
    let dto = load(ctx.db(), id).await?;
    ctx.audit(
        if approved {
            "agent.break_approved"
        } else {
            "agent.break_denied"
        },
        Some("break_request"),
        Some(id.to_string()),
        serde_json::json!({ "agent_id": dto.agent_id, "reason": dto.reason }),
    )
    .await?;
    let text = format!(
        "Your request for \"{}\" was {verdict}",
        dto.reason.replace(['\r', '\n'], " ")
    );
    let n = crate::notify::Notice {
        kind: "break_decided",
        ticket_id: None,
        text: &text,
        link_intro: "",
        link_path: "",
        email: false,
    };
    crate::notify::notice(ctx.db(), dto.agent_id, n).await?;
    if approved {
        let status = AgentStatus::parse(&dto.kind).unwrap_or(AgentStatus::NotReady);
        let reason = Reason {
            id: dto.reason_id,
            name: dto.reason.clone(),
            builtin_key,
        };
        apply_state(state, tenant, dto.agent_id, status, Some(&reason)).await?;
    }
    ctx.commit().await?;
    let ev = AgentEvent::BreakDecided {
        id,
        approved,
        reason: dto.reason.clone(),
    };
    crate::desktop::publish(state, tenant, dto.agent_id, &ev).await;
    Ok(Json(dto))
}

#[utoipa::path(post, path = "/api/v1/break-requests/{id}/approve", tag = "agent",
    params(("id" = Uuid, Path, description = "Break request id")),
    responses((status = 200, body = BreakRequestDto, description = "Approved: the agent is in the requested state"),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_decided`, or `agent_busy` (ringing or on a call: try again after it)")))]
pub async fn approve(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BreakRequestDto>> {
    decide(&state, ctx, id, true).await
}

#[utoipa::path(post, path = "/api/v1/break-requests/{id}/deny", tag = "agent",
    params(("id" = Uuid, Path, description = "Break request id")),
    responses((status = 200, body = BreakRequestDto, description = "Denied: the agent is told"),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_decided`")))]
pub async fn deny(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<BreakRequestDto>> {
    decide(&state, ctx, id, false).await
}
