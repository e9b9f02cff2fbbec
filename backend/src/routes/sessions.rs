//! Signed-in sessions of tenant users, to see and end: a user's own (`/auth/sessions`) and,
//! for platform operators, any tenant's (`/platform/tenants/{id}/sessions`, audited in
//! `platform.audit`). Operator sessions are not listed here.

use crate::{
    auth::{self, Actor, OperatorCtx, TenantCtx, SESSION_COOKIE},
    error::{ApiError, ApiResult, Json},
    routes::platform::platform_audit,
    state::AppState,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{delete, get},
    Router,
};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use hotline_wire::api::{RevokedSessions, SessionDto};
use serde::Deserialize;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/sessions", get(list_own).delete(revoke_other_own))
        .route("/auth/sessions/{id}", delete(revoke_own))
        .route(
            "/platform/tenants/{id}/sessions",
            get(list_tenant).delete(revoke_tenant),
        )
        .route(
            "/platform/tenants/{id}/sessions/{session}",
            delete(revoke_tenant_one),
        )
}

/// At most this many sessions are listed (the most recently used first).
const MAX_LISTED: i64 = 500;

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    subject_id: Uuid,
    created_at: DateTime<Utc>,
    last_seen_at: Option<DateTime<Utc>>,
    last_seen_ip: Option<String>,
    expires_at: DateTime<Utc>,
    ip: Option<String>,
    user_agent: Option<String>,
}

/// The live sessions of `tenant` (of one user when `user` is given), with the users' e-mail
/// and name read from the tenant's schema through `conn`.
async fn load(
    conn: &mut PgConnection,
    tenant: Uuid,
    user: Option<Uuid>,
    current: Option<Uuid>,
) -> ApiResult<Vec<SessionDto>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, subject_id, created_at, last_seen_at, last_seen_ip, expires_at, ip, user_agent
           FROM platform.sessions
          WHERE kind = 'user' AND tenant_id = $1 AND ($2::uuid IS NULL OR subject_id = $2)
            AND expires_at > now()
          ORDER BY COALESCE(last_seen_at, created_at) DESC, id
          LIMIT $3",
    )
    .bind(tenant)
    .bind(user)
    .bind(MAX_LISTED)
    .fetch_all(&mut *conn)
    .await?;
    let ids: Vec<Uuid> = rows.iter().map(|r| r.subject_id).collect();
    let users: HashMap<Uuid, (String, String)> = sqlx::query_as::<_, (Uuid, String, String)>(
        "SELECT id, email, name FROM users WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .map(|(id, email, name)| (id, (email, name)))
    .collect();
    Ok(rows
        .into_iter()
        .map(|r| {
            let (user_email, user_name) = users.get(&r.subject_id).cloned().unwrap_or_default();
            SessionDto {
                current: Some(r.id) == current,
                id: r.id,
                user_id: r.subject_id,
                user_email,
                user_name,
                created_at: r.created_at,
                last_seen_at: r.last_seen_at,
                last_seen_ip: r.last_seen_ip,
                expires_at: r.expires_at,
                ip: r.ip,
                user_agent: r.user_agent,
            }
        })
        .collect())
}

/// The signed-in user and their current session; API keys have no sessions.
fn own(ctx: &TenantCtx) -> ApiResult<(Uuid, Uuid)> {
    match ctx.actor() {
        Actor::User { id, session_id, .. } => Ok((*id, *session_id)),
        Actor::ApiKey { .. } => Err(ApiError::Forbidden),
    }
}

/// The caller's own sessions (every browser they are signed in on), the current one marked.
#[utoipa::path(get, path = "/api/v1/auth/sessions", tag = "auth",
    responses((status = 200, body = Vec<SessionDto>)))]
pub async fn list_own(mut ctx: TenantCtx) -> ApiResult<Json<Vec<SessionDto>>> {
    let (user, current) = own(&ctx)?;
    let tenant = ctx.tenant().id;
    let list = load(ctx.db(), tenant, Some(user), Some(current)).await?;
    ctx.commit().await?;
    Ok(Json(list))
}

/// Signs the caller out everywhere else: every session of theirs but the current one ends.
#[utoipa::path(delete, path = "/api/v1/auth/sessions", tag = "auth",
    responses((status = 200, body = RevokedSessions)))]
pub async fn revoke_other_own(mut ctx: TenantCtx) -> ApiResult<Json<RevokedSessions>> {
    let (user, current) = own(&ctx)?;
    let tenant = ctx.tenant().id;
    let revoked = auth::end_sessions_of(ctx.db(), tenant, user, Some(current)).await?;
    ctx.audit(
        "auth.sessions_revoke_others",
        Some("user"),
        Some(user.to_string()),
        serde_json::json!({ "revoked": revoked }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(RevokedSessions { revoked }))
}

/// Ends one of the caller's own sessions (the current one too: that signs out here).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn revoke_own(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    jar: CookieJar,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, CookieJar)> {
    let (user, current) = own(&ctx)?;
    let tenant = ctx.tenant().id;
    let n = sqlx::query(
        "DELETE FROM platform.sessions
          WHERE id = $1 AND kind = 'user' AND tenant_id = $2 AND subject_id = $3",
    )
    .bind(id)
    .bind(tenant)
    .bind(user)
    .execute(ctx.db())
    .await?
    .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "auth.session_revoke",
        Some("user"),
        Some(user.to_string()),
        serde_json::json!({ "session": id, "current": id == current }),
    )
    .await?;
    ctx.commit().await?;
    let jar = if id == current {
        jar.add(auth::clear_cookie(&state, SESSION_COOKIE))
    } else {
        jar
    };
    Ok((StatusCode::NO_CONTENT, jar))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct SessionsQuery {
    /// Only this user's sessions.
    pub user_id: Option<Uuid>,
}

/// 404 unless the tenant exists.
async fn tenant_exists(state: &AppState, id: Uuid) -> ApiResult<()> {
    let found: Option<Uuid> = sqlx::query_scalar("SELECT id FROM platform.tenants WHERE id = $1")
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    found.map(|_| ()).ok_or(ApiError::NotFound)
}

/// A tenant's signed-in sessions (or one user's), for platform operators: who, since when,
/// last used when and from where. At most 500, the most recently used first.
#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}/sessions", tag = "platform",
    params(("id" = Uuid, Path, description = "Tenant id"), SessionsQuery),
    responses((status = 200, body = Vec<SessionDto>), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn list_tenant(
    State(state): State<AppState>,
    _op: OperatorCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<Vec<SessionDto>>> {
    tenant_exists(&state, id).await?;
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(id)).await?;
    let list = load(&mut tx, id, q.user_id, None).await?;
    tx.commit().await?;
    Ok(Json(list))
}

/// Ends every session of a tenant (or of one user), for platform operators; audited as
/// `session.revoke_all`.
#[utoipa::path(delete, path = "/api/v1/platform/tenants/{id}/sessions", tag = "platform",
    params(("id" = Uuid, Path, description = "Tenant id"), SessionsQuery),
    responses((status = 200, body = RevokedSessions), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn revoke_tenant(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<SessionsQuery>,
) -> ApiResult<Json<RevokedSessions>> {
    tenant_exists(&state, id).await?;
    let revoked = sqlx::query(
        "DELETE FROM platform.sessions
          WHERE kind = 'user' AND tenant_id = $1 AND ($2::uuid IS NULL OR subject_id = $2)",
    )
    .bind(id)
    .bind(q.user_id)
    .execute(&state.db)
    .await?
    .rows_affected();
    platform_audit(
        &state,
        &op,
        "session.revoke_all",
        Some(id.to_string()),
        serde_json::json!({ "user_id": q.user_id, "revoked": revoked }),
    )
    .await?;
    Ok(Json(RevokedSessions { revoked }))
}

/// Ends one session of a tenant's user, for platform operators; audited as `session.revoke`.
#[utoipa::path(delete, path = "/api/v1/platform/tenants/{id}/sessions/{session}", tag = "platform",
    params(("id" = Uuid, Path, description = "Tenant id"), ("session" = Uuid, Path, description = "Session id")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn revoke_tenant_one(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path((id, session)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    let user: Option<Uuid> = sqlx::query_scalar(
        "DELETE FROM platform.sessions WHERE id = $1 AND kind = 'user' AND tenant_id = $2
         RETURNING subject_id",
    )
    .bind(session)
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let user = user.ok_or(ApiError::NotFound)?;
    platform_audit(
        &state,
        &op,
        "session.revoke",
        Some(id.to_string()),
        serde_json::json!({ "session": session, "user_id": user }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
