//! The company directory with presence (`GET /directory`) and calling a colleague from the
//! desk (`POST /agent/internal-call`). The calls themselves: `internal.rs`.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
};
use axum::{extract::State, http::StatusCode, routing::get, routing::post, Router};
use hotline_wire::calls::{CallbackStarted, DirectoryEntry, InternalCallRequest};
use hotline_wire::permissions as perms;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/directory", get(directory))
        .route("/agent/internal-call", post(internal_call))
}

#[utoipa::path(get, path = "/api/v1/directory", tag = "agent",
    responses((status = 200, body = Vec<DirectoryEntry>,
        description = "Every active user of the tenant with an extension, by name, with their presence"),
        (status = 403, body = hotline_wire::api::Problem)))]
/// The company directory: name, extension, team and presence (`available`, `busy`, `away`,
/// `offline`) of every active employee with an extension.
pub async fn directory(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<Vec<DirectoryEntry>>> {
    if ![perms::AGENT_STATE, perms::SUPERVISE, perms::USERS_READ]
        .iter()
        .any(|p| ctx.can(p))
    {
        return Err(ApiError::Forbidden);
    }
    let people: Vec<crate::internal::Person> = sqlx::query_as(
        "SELECT u.id, u.name, u.extension, t.name
           FROM users u LEFT JOIN teams t ON t.id = u.team_id
          WHERE u.active AND coalesce(u.extension, '') <> ''
          ORDER BY lower(u.name), u.id",
    )
    .fetch_all(ctx.db())
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    let presence = crate::internal::presences(&state, tenant, &people)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        people
            .into_iter()
            .map(|(user_id, name, extension, team)| DirectoryEntry {
                presence: presence
                    .get(&user_id)
                    .copied()
                    .unwrap_or(hotline_wire::calls::presence::OFFLINE)
                    .into(),
                user_id,
                name,
                extension,
                team,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/agent/internal-call", tag = "agent",
    request_body = InternalCallRequest,
    responses((status = 201, body = CallbackStarted,
        description = "The colleague's desk phone is ringing (the agent's own desk phone first, when they have no softphone)"),
        (status = 409, body = hotline_wire::api::Problem,
            description = "`no_softphone`, `agent_busy`, `colleague_busy`, `colleague_unreachable`"),
        (status = 422, body = hotline_wire::api::Problem)))]
/// Calls a colleague from the agent's phone (an internal call: no outbound rules apply).
pub async fn internal_call(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(body): Json<InternalCallRequest>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    ctx.require(perms::AGENT_STATE)?;
    let agent: Uuid = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT extension FROM users WHERE id = $1 AND active")
            .bind(body.user_id)
            .fetch_optional(ctx.db())
            .await?;
    let me: Option<String> = sqlx::query_scalar("SELECT extension FROM users WHERE id = $1")
        .bind(agent)
        .fetch_optional(ctx.db())
        .await?
        .flatten();
    let Some(ext) = row else {
        return Err(ApiError::field("user_id", "no such active user"));
    };
    let Some(extension) = ext.filter(|e| !e.is_empty()) else {
        return Err(ApiError::field(
            "user_id",
            "this colleague has no extension",
        ));
    };
    if body.user_id == agent {
        return Err(ApiError::field("user_id", "you cannot call yourself"));
    }
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    let colleague = (body.user_id, extension);
    let call_id = crate::internal::call_colleague(&state, tenant, agent, me, colleague).await?;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id })))
}
