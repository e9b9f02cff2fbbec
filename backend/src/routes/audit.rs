//! The tenant's audit log: every change and every login, filterable.

use crate::{
    auth::TenantCtx,
    error::{ApiResult, Json},
    routes::paging,
    state::AppState,
};
use axum::{extract::Query, routing::get, Router};
use hotline_wire::{
    api::{AuditEntry, AuditQuery, Page},
    permissions as perms,
};

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    actor_id: Option<uuid::Uuid>,
    actor: String,
    action: String,
    target_type: Option<String>,
    target_id: Option<String>,
    details: serde_json::Value,
    ip: Option<String>,
    request_id: Option<String>,
    user_agent: Option<String>,
}

const FILTER: &str =
    "($1::text IS NULL OR action = $1 OR (right($1, 1) = '.' AND starts_with(action, $1)))
   AND ($2::uuid IS NULL OR actor_id = $2)
   AND ($3::text IS NULL OR target_id = $3)
   AND ($4::timestamptz IS NULL OR at >= $4)
   AND ($5::timestamptz IS NULL OR at < $5)";

#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditQuery),
    responses((status = 200, body = Page<AuditEntry>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Page<AuditEntry>>> {
    ctx.require(perms::AUDIT_READ)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM audit_log WHERE {FILTER}"
    )))
    .bind(&q.action)
    .bind(q.actor_id)
    .bind(&q.target_id)
    .bind(q.from)
    .bind(q.to)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, at, actor_id, actor, action, target_type, target_id, details, ip, request_id, user_agent
           FROM audit_log WHERE {FILTER} ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7"
    )))
    .bind(&q.action)
    .bind(q.actor_id)
    .bind(&q.target_id)
    .bind(q.from)
    .bind(q.to)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    let items = rows
        .into_iter()
        .map(|r| AuditEntry {
            id: r.id,
            at: r.at,
            actor_id: r.actor_id,
            actor: r.actor,
            action: r.action,
            target_type: r.target_type,
            target_id: r.target_id,
            details: r.details,
            ip: r.ip,
            request_id: r.request_id,
            user_agent: r.user_agent,
        })
        .collect();
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}
