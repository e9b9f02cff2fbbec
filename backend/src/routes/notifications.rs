//! The caller's in-app notifications: list (unread first), mark one or all read.
//!
//! Notifications are personal: every query is limited to the signed-in user, so another
//! user's (or another tenant's) notification answers 404. API keys have no inbox.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    routes::paging,
    state::AppState,
};
use axum::{
    extract::{Path, Query},
    routing::{get, post},
    Router,
};
use hotline_wire::notifications::*;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(list))
        .route("/notifications/read-all", post(read_all))
        .route("/notifications/{id}/read", post(read))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    kind: String,
    ticket_id: Option<Uuid>,
    ticket_number: Option<i64>,
    text: String,
    created_at: chrono::DateTime<chrono::Utc>,
    read_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn dto(r: Row) -> NotificationDto {
    NotificationDto {
        id: r.id,
        kind: r.kind,
        ticket_id: r.ticket_id,
        ticket_number: r.ticket_number,
        text: r.text,
        created_at: r.created_at,
        read_at: r.read_at,
    }
}

const SELECT: &str =
    "SELECT n.id, n.kind, n.ticket_id, t.number AS ticket_number, n.text, n.created_at, n.read_at
                        FROM notifications n LEFT JOIN tickets t ON t.id = n.ticket_id";

/// The signed-in user; API keys have no notifications.
fn me(ctx: &TenantCtx) -> ApiResult<Uuid> {
    ctx.user_id().ok_or(ApiError::Forbidden)
}

#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications", params(NotificationQuery),
    responses((status = 200, body = NotificationList), (status = 403), (status = 422)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<NotificationQuery>,
) -> ApiResult<Json<NotificationList>> {
    let user = me(&ctx)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let only_unread = q.unread.unwrap_or(false);
    let (total, unread): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE NOT $2 OR read_at IS NULL), count(*) FILTER (WHERE read_at IS NULL)
           FROM notifications WHERE user_id = $1",
    )
    .bind(user)
    .bind(only_unread)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE n.user_id = $1 AND (NOT $2 OR n.read_at IS NULL)
          ORDER BY n.read_at IS NULL DESC, n.id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(user)
    .bind(only_unread)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(NotificationList {
        items: rows.into_iter().map(dto).collect(),
        total,
        unread,
        page,
        per_page,
    }))
}

#[utoipa::path(post, path = "/api/v1/notifications/{id}/read", tag = "notifications",
    responses((status = 200, body = NotificationDto), (status = 404)))]
pub async fn read(mut ctx: TenantCtx, Path(id): Path<i64>) -> ApiResult<Json<NotificationDto>> {
    let user = me(&ctx)?;
    let changed = sqlx::query(
        "UPDATE notifications SET read_at = now() WHERE id = $1 AND user_id = $2 AND read_at IS NULL",
    )
    .bind(id)
    .bind(user)
    .execute(ctx.db())
    .await?
    .rows_affected();
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE n.id = $1 AND n.user_id = $2"
    )))
    .bind(id)
    .bind(user)
    .fetch_optional(ctx.db())
    .await?;
    let row = row.ok_or(ApiError::NotFound)?;
    if changed > 0 {
        ctx.audit(
            "notification.read",
            Some("notification"),
            Some(id.to_string()),
            serde_json::json!({}),
        )
        .await?;
    }
    ctx.commit().await?;
    Ok(Json(dto(row)))
}

#[utoipa::path(post, path = "/api/v1/notifications/read-all", tag = "notifications",
    responses((status = 200, body = MarkedRead)))]
pub async fn read_all(mut ctx: TenantCtx) -> ApiResult<Json<MarkedRead>> {
    let user = me(&ctx)?;
    let marked = sqlx::query(
        "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
    )
    .bind(user)
    .execute(ctx.db())
    .await?
    .rows_affected() as i64;
    if marked > 0 {
        ctx.audit(
            "notification.read_all",
            Some("notification"),
            None,
            serde_json::json!({ "marked": marked }),
        )
        .await?;
    }
    ctx.commit().await?;
    Ok(Json(MarkedRead { marked }))
}
