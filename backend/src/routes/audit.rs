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
    target_name: Option<String>,
}

/// The target's name today, for the kinds of record that have one (a deleted record has
/// none; the screen then shows the id).
const TARGET_NAME: &str = "CASE a.target_type
        WHEN 'user' THEN (SELECT name FROM users WHERE id = k.tid)
        WHEN 'team' THEN (SELECT name FROM teams WHERE id = k.tid)
        WHEN 'skill' THEN (SELECT name FROM skills WHERE id = k.tid)
        WHEN 'queue' THEN (SELECT name FROM queues WHERE id = k.tid)
        WHEN 'role' THEN (SELECT name FROM roles WHERE id = k.tid)
        WHEN 'reason_code' THEN (SELECT name FROM reason_codes WHERE id = k.tid)
        WHEN 'api_key' THEN (SELECT name FROM api_keys WHERE id = k.tid)
        WHEN 'customer' THEN (SELECT name FROM customers WHERE id = k.tid)
        WHEN 'campaign' THEN (SELECT name FROM campaigns WHERE id = k.tid)
        WHEN 'ivr_flow' THEN (SELECT name FROM ivr_flows WHERE id = k.tid)
        WHEN 'ticket_type' THEN (SELECT name FROM ticket_types WHERE id = k.tid)
        WHEN 'kb_article' THEN (SELECT title FROM kb_articles WHERE id = k.tid)
        WHEN 'trunk' THEN (SELECT name FROM trunks WHERE id = k.tid)
        WHEN 'ticket' THEN (SELECT '#' || number || ' ' || subject FROM tickets WHERE id = k.tid)
    END";

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
        "SELECT a.id, a.at, a.actor_id, a.actor, a.action, a.target_type, a.target_id, a.details,
                a.ip, a.request_id, a.user_agent, {TARGET_NAME} AS target_name
           FROM (SELECT * FROM audit_log WHERE {FILTER} ORDER BY at DESC, id DESC LIMIT $6 OFFSET $7) a
           CROSS JOIN LATERAL (SELECT CASE WHEN a.target_id ~* '^[0-9a-f]{{8}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$'
                                           THEN a.target_id::uuid END AS tid) k
          ORDER BY a.at DESC, a.id DESC"
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
            target_name: r.target_name,
        })
        .collect();
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}
