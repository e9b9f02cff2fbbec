//! Scheduled callbacks (`/scheduled-callbacks`): an agent books a call for a date and time
//! for themself, a supervisor for a member of their team or its sub-teams (an admin, who may
//! edit users, for anyone); at the time the owner's desktop pops a reminder
//! (`crate::reminders`) with a button that dials the number (click-to-call). Reschedule,
//! mark done, cancel.

use crate::{
    auth::TenantCtx,
    crm::{country_code, normalise_phone},
    error::{ApiError, ApiResult, Json},
    reminders,
    state::AppState,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post, put},
    Router,
};
use chrono::{DateTime, Utc};
use hotline_wire::{
    calls::{ScheduledCallbackDto, ScheduledCallbackInput, ScheduledCallbackQuery},
    permissions as perms,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/scheduled-callbacks", get(list).post(create))
        .route("/scheduled-callbacks/{id}", put(update).delete(cancel))
        .route("/scheduled-callbacks/{id}/done", post(done))
}

/// Whether the caller may book or see callbacks of `owner`: themself (taking calls), a
/// member of their team's subtree (`supervise`), anyone (`users.write`).
async fn may_act_for(ctx: &mut TenantCtx, owner: Uuid) -> ApiResult<()> {
    let me = ctx.user_id().ok_or(ApiError::Forbidden)?;
    if owner == me {
        return ctx.require(perms::AGENT_STATE);
    }
    ctx.require(perms::SUPERVISE)?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)")
        .bind(owner)
        .fetch_one(ctx.db())
        .await?;
    if !exists {
        return Err(ApiError::field("owner_id", "no such user"));
    }
    if ctx.can(perms::USERS_WRITE) {
        return Ok(());
    }
    let in_my_teams: bool = sqlx::query_scalar(
        "WITH RECURSIVE mine AS (
             SELECT team_id AS id FROM users WHERE id = $1 AND team_id IS NOT NULL
             UNION SELECT t.id FROM teams t JOIN mine m ON t.parent_id = m.id)
         SELECT EXISTS (SELECT 1 FROM users u JOIN mine m ON u.team_id = m.id WHERE u.id = $2)",
    )
    .bind(me)
    .bind(owner)
    .fetch_one(ctx.db())
    .await?;
    if in_my_teams {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

type Row = (
    Uuid,
    Uuid,
    String,
    String,
    Option<Uuid>,
    DateTime<Utc>,
    String,
    String,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

const SELECT: &str = "SELECT s.id, s.owner_id, u.name, s.number, s.customer_id, s.due_at, s.note,
                             s.status, s.reminded_at, s.done_at
                        FROM scheduled_callbacks s JOIN users u ON u.id = s.owner_id";

fn dto(r: Row) -> ScheduledCallbackDto {
    ScheduledCallbackDto {
        id: r.0,
        owner_id: r.1,
        owner_name: r.2,
        number: r.3,
        customer_id: r.4,
        due_at: r.5,
        note: r.6,
        status: r.7,
        reminded_at: r.8,
        done_at: r.9,
    }
}

async fn load(conn: &mut PgConnection, id: Uuid) -> ApiResult<ScheduledCallbackDto> {
    let r: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE s.id = $1")))
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(dto(r))
}

/// Checks the input; returns the normalised number.
async fn check(ctx: &mut TenantCtx, req: &ScheduledCallbackInput) -> ApiResult<String> {
    let mut c = crate::validate::Check::new();
    if req.due_at <= Utc::now() {
        c.fail("due_at", "must be in the future");
    }
    c.max_len("note", &req.note, 2000);
    let cc = country_code(ctx.db()).await?;
    let number = normalise_phone(&req.number, cc.as_deref());
    if number.is_none() {
        c.fail("number", "is not a phone number");
    }
    if let Some(cust) = req.customer_id {
        let known: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM customers WHERE id = $1)")
                .bind(cust)
                .fetch_one(ctx.db())
                .await?;
        if !known {
            c.fail("customer_id", "no such customer");
        }
    }
    c.finish()?;
    Ok(number.unwrap_or_default())
}

#[utoipa::path(get, path = "/api/v1/scheduled-callbacks", tag = "agent", params(ScheduledCallbackQuery),
    responses((status = 200, body = Vec<ScheduledCallbackDto>), (status = 403)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<ScheduledCallbackQuery>,
) -> ApiResult<Json<Vec<ScheduledCallbackDto>>> {
    let me = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let owner = q.owner_id.unwrap_or(me);
    may_act_for(&mut ctx, owner).await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE s.owner_id = $1 AND ($2 OR s.status IN ('scheduled', 'due'))
          ORDER BY s.due_at LIMIT 500"
    )))
    .bind(owner)
    .bind(q.all.unwrap_or(false))
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(dto).collect()))
}

#[utoipa::path(post, path = "/api/v1/scheduled-callbacks", tag = "agent", request_body = ScheduledCallbackInput,
    responses((status = 201, body = ScheduledCallbackDto), (status = 403), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<ScheduledCallbackInput>,
) -> ApiResult<(StatusCode, Json<ScheduledCallbackDto>)> {
    let me = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let owner = req.owner_id.unwrap_or(me);
    may_act_for(&mut ctx, owner).await?;
    let number = check(&mut ctx, &req).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO scheduled_callbacks (owner_id, created_by, number, customer_id, due_at, note)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(owner)
    .bind(me)
    .bind(&number)
    .bind(req.customer_id)
    .bind(req.due_at)
    .bind(req.note.trim())
    .fetch_one(ctx.db())
    .await?;
    let out = saved(&state, ctx, id, req.due_at, "scheduled_callback.create").await?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// After a create or update: the audit row, the commit, the reminder at `due`.
async fn saved(
    state: &AppState,
    mut ctx: TenantCtx,
    id: Uuid,
    due: DateTime<Utc>,
    action: &str,
) -> ApiResult<ScheduledCallbackDto> {
    let out = load(ctx.db(), id).await?;
    ctx.audit(
        action,
        Some("scheduled_callback"),
        Some(id.to_string()),
        serde_json::to_value(&out).unwrap_or_default(),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    reminders::schedule(state, tenant, id, due)
        .await
        .map_err(ApiError::internal)?;
    Ok(out)
}

/// The callback, checked to be one the caller may act on.
async fn mine(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<ScheduledCallbackDto> {
    let cb = load(ctx.db(), id).await?;
    match may_act_for(ctx, cb.owner_id).await {
        Err(ApiError::Forbidden) => Err(ApiError::NotFound),
        other => other.map(|_| cb),
    }
}

/// Reschedules (a new time, number or note; a due reminder is shown again at the new time).
#[utoipa::path(put, path = "/api/v1/scheduled-callbacks/{id}", tag = "agent", request_body = ScheduledCallbackInput,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ScheduledCallbackDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<ScheduledCallbackInput>,
) -> ApiResult<Json<ScheduledCallbackDto>> {
    let cb = mine(&mut ctx, id).await?;
    if matches!(cb.status.as_str(), "done" | "cancelled") {
        return Err(ApiError::Conflict {
            code: "callback_closed",
            detail: format!("the callback is {}", cb.status),
        });
    }
    let owner = req.owner_id.unwrap_or(cb.owner_id);
    if owner != cb.owner_id {
        may_act_for(&mut ctx, owner).await?;
    }
    let number = check(&mut ctx, &req).await?;
    sqlx::query(
        "UPDATE scheduled_callbacks SET owner_id = $2, number = $3, customer_id = $4, due_at = $5,
                note = $6, status = 'scheduled', reminded_at = NULL WHERE id = $1",
    )
    .bind(id)
    .bind(owner)
    .bind(&number)
    .bind(req.customer_id)
    .bind(req.due_at)
    .bind(req.note.trim())
    .execute(ctx.db())
    .await?;
    let out = saved(&state, ctx, id, req.due_at, "scheduled_callback.update").await?;
    Ok(Json(out))
}

async fn close(state: &AppState, mut ctx: TenantCtx, id: Uuid, to: &str) -> ApiResult<()> {
    let cb = mine(&mut ctx, id).await?;
    if matches!(cb.status.as_str(), "done" | "cancelled") {
        return Err(ApiError::Conflict {
            code: "callback_closed",
            detail: format!("the callback is {}", cb.status),
        });
    }
    sqlx::query(
        "UPDATE scheduled_callbacks SET status = $2,
                done_at = CASE WHEN $2 = 'done' THEN now() END WHERE id = $1",
    )
    .bind(id)
    .bind(to)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        &format!("scheduled_callback.{to}"),
        Some("scheduled_callback"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    reminders::forget(state, tenant, id)
        .await
        .map_err(ApiError::internal)
}

#[utoipa::path(post, path = "/api/v1/scheduled-callbacks/{id}/done", tag = "agent",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn done(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    close(&state, ctx, id, "done").await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(delete, path = "/api/v1/scheduled-callbacks/{id}", tag = "agent",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    close(&state, ctx, id, "cancelled").await?;
    Ok(StatusCode::NO_CONTENT)
}
