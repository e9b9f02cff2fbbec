//! Tickets (complaints, requests): types with admin-defined workflows, automatic assignment
//! by category → team (round-robin or least-loaded), SLA due times, comments, internal notes,
//! history, and the register with filters.

use crate::ticket_types::{check_workflow, save_workflow};
use crate::{
    auth::TenantCtx,
    error::{fk_violation, unique_violation, ApiError, ApiResult, Json},
    files::{self, Owner},
    routes::{paging, users::like_pattern},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{DefaultBodyLimit, Path, Query, Request, State},
    http::StatusCode,
    response::Response,
    routing::{delete, get, post},
    Router,
};
use hotline_wire::{
    api::Page, names::Translations, permissions as perms, sla::SlaState, tickets::*,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ticket-types", get(list_types).post(create_type))
        .route("/ticket-types/{id}", get(get_type).put(update_type))
        .route("/assignment-rules", get(list_rules).post(create_rule))
        .route("/assignment-rules/{id}", delete(delete_rule))
        .route("/sla-policies", get(list_slas).post(create_sla))
        .route("/sla-policies/{id}", delete(delete_sla))
        .route("/tickets", get(list_tickets).post(create_ticket))
        .route("/tickets/{id}", get(get_ticket))
        .route("/tickets/{id}/move", post(move_ticket))
        .route("/tickets/{id}/comments", post(comment))
        .route("/tickets/{id}/assign", post(assign))
        .route("/tickets/{id}/events", get(events))
        .route(
            "/tickets/{id}/attachments",
            get(list_attachments)
                .post(upload_attachment)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/tickets/{id}/attachments/{file_id}",
            get(download_attachment).delete(delete_attachment),
        )
        .route("/ticket-views", get(list_views).post(create_view))
        .route("/ticket-views/{id}", delete(delete_view))
}

// ------------------------------------------------------------------ types

#[derive(sqlx::FromRow)]
struct StatusRow {
    key: String,
    name: String,
    name_i18n: sqlx::types::Json<Translations>,
    color: String,
    initial: bool,
    #[sqlx(rename = "final")]
    is_final: bool,
}

fn status_def(r: &StatusRow) -> StatusDef {
    StatusDef {
        key: r.key.clone(),
        name: r.name.clone(),
        name_i18n: r.name_i18n.0.clone(),
        color: r.color.clone(),
        initial: r.initial,
        is_final: r.is_final,
    }
}

async fn statuses(conn: &mut PgConnection, type_id: Uuid) -> ApiResult<Vec<StatusRow>> {
    Ok(sqlx::query_as(r#"SELECT key, name, name_i18n, color, initial, "final" FROM ticket_statuses WHERE type_id = $1 ORDER BY position"#)
        .bind(type_id)
        .fetch_all(conn)
        .await?)
}

async fn load_type(conn: &mut PgConnection, id: Uuid) -> ApiResult<TicketTypeDto> {
    let row: Option<(String, sqlx::types::Json<Translations>)> =
        sqlx::query_as("SELECT name, name_i18n FROM ticket_types WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await?;
    let (name, name_i18n) = row.ok_or(ApiError::NotFound)?;
    let st = statuses(&mut *conn, id).await?;
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, String, sqlx::types::Json<Translations>, Option<String>)> = sqlx::query_as(
        "SELECT f.key, t.key, tr.name, tr.name_i18n, tr.permission FROM ticket_transitions tr
           JOIN ticket_statuses f ON f.id = tr.from_status JOIN ticket_statuses t ON t.id = tr.to_status
          WHERE f.type_id = $1 ORDER BY f.position, t.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(TicketTypeDto {
        id,
        name,
        name_i18n: name_i18n.0,
        statuses: st.iter().map(status_def).collect(),
        transitions: rows
            .into_iter()
            .map(|(from, to, name, name_i18n, permission)| TransitionDef {
                from,
                to,
                name,
                name_i18n: name_i18n.0,
                permission,
            })
            .collect(),
    })
}

#[utoipa::path(get, path = "/api/v1/ticket-types", tag = "tickets", responses((status = 200, body = Vec<TicketTypeDto>)))]
pub async fn list_types(mut ctx: TenantCtx) -> ApiResult<Json<Vec<TicketTypeDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM ticket_types ORDER BY lower(name)")
        .fetch_all(ctx.db())
        .await?;
    let mut out = vec![];
    for id in ids {
        out.push(load_type(ctx.db(), id).await?);
    }
    ctx.commit().await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/ticket-types/{id}", tag = "tickets", responses((status = 200, body = TicketTypeDto), (status = 404)))]
pub async fn get_type(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<TicketTypeDto>> {
    ctx.require(perms::TICKETS_WORK)?;
    let t = load_type(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(t))
}

#[utoipa::path(post, path = "/api/v1/ticket-types", tag = "tickets", request_body = TicketTypeInput,
    responses((status = 201, body = TicketTypeDto), (status = 409), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn create_type(
    mut ctx: TenantCtx,
    Json(req): Json<TicketTypeInput>,
) -> ApiResult<(StatusCode, Json<TicketTypeDto>)> {
    ctx.require(perms::TICKETS_ADMIN)?;
    check_workflow(&req)?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO ticket_types (name, name_i18n) VALUES ($1, $2) RETURNING id",
    )
    .bind(req.name.trim())
    .bind(crate::validate::trimmed_translations(&req.name_i18n))
    .fetch_one(ctx.db())
    .await
    .map_err(|e| {
        if unique_violation(&e).is_some() {
            ApiError::Conflict {
                code: "name_taken",
                detail: "A ticket type with this name exists.".into(),
            }
        } else {
            e.into()
        }
    })?;
    save_workflow(ctx.db(), id, &req).await?;
    let t = load_type(ctx.db(), id).await?;
    ctx.audit(
        "ticket_type.create",
        Some("ticket_type"),
        Some(id.to_string()),
        serde_json::to_value(&t).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(put, path = "/api/v1/ticket-types/{id}", tag = "tickets", request_body = TicketTypeInput,
    responses((status = 200, body = TicketTypeDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_type(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TicketTypeInput>,
) -> ApiResult<Json<TicketTypeDto>> {
    ctx.require(perms::TICKETS_ADMIN)?;
    check_workflow(&req)?;
    load_type(ctx.db(), id).await?;
    sqlx::query("UPDATE ticket_types SET name = $2, name_i18n = $3 WHERE id = $1")
        .bind(id)
        .bind(req.name.trim())
        .bind(crate::validate::trimmed_translations(&req.name_i18n))
        .execute(ctx.db())
        .await
        .map_err(|e| {
            // Renamed to another type's name: the same answer as creating one.
            if unique_violation(&e).is_some() {
                ApiError::Conflict {
                    code: "name_taken",
                    detail: "A ticket type with this name exists.".into(),
                }
            } else {
                e.into()
            }
        })?;
    save_workflow(ctx.db(), id, &req).await?;
    let t = load_type(ctx.db(), id).await?;
    ctx.audit(
        "ticket_type.update",
        Some("ticket_type"),
        Some(id.to_string()),
        serde_json::to_value(&t).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(t))
}

// ------------------------------------------------------------------ assignment rules and SLAs

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Uuid,
    type_id: Uuid,
    category_id: Option<Uuid>,
    team_id: Uuid,
    strategy: String,
    position: i32,
}

fn rule(r: RuleRow) -> AssignmentRuleDto {
    AssignmentRuleDto {
        id: r.id,
        type_id: r.type_id,
        category_id: r.category_id,
        team_id: r.team_id,
        strategy: r.strategy,
        position: r.position,
    }
}

fn refs_error(e: sqlx::Error) -> ApiError {
    if fk_violation(&e) {
        ApiError::field(
            "type_id/category_id/team_id",
            "names something that does not exist",
        )
    } else {
        e.into()
    }
}

#[utoipa::path(get, path = "/api/v1/assignment-rules", tag = "tickets", responses((status = 200, body = Vec<AssignmentRuleDto>)))]
pub async fn list_rules(mut ctx: TenantCtx) -> ApiResult<Json<Vec<AssignmentRuleDto>>> {
    ctx.require(perms::TICKETS_ADMIN)?;
    let rows: Vec<RuleRow> = sqlx::query_as("SELECT id, type_id, category_id, team_id, strategy, position FROM assignment_rules ORDER BY type_id, position")
        .fetch_all(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(rule).collect()))
}

#[utoipa::path(post, path = "/api/v1/assignment-rules", tag = "tickets", request_body = AssignmentRuleInput,
    responses((status = 201, body = AssignmentRuleDto), (status = 422)))]
pub async fn create_rule(
    mut ctx: TenantCtx,
    Json(req): Json<AssignmentRuleInput>,
) -> ApiResult<(StatusCode, Json<AssignmentRuleDto>)> {
    ctx.require(perms::TICKETS_ADMIN)?;
    if !["round_robin", "least_loaded", "team_only"].contains(&req.strategy.as_str()) {
        return Err(ApiError::field(
            "strategy",
            "must be round_robin, least_loaded or team_only",
        ));
    }
    let row: RuleRow = sqlx::query_as(
        "INSERT INTO assignment_rules (type_id, category_id, team_id, strategy, position) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, type_id, category_id, team_id, strategy, position",
    )
    .bind(req.type_id)
    .bind(req.category_id)
    .bind(req.team_id)
    .bind(&req.strategy)
    .bind(req.position)
    .fetch_one(ctx.db())
    .await
    .map_err(refs_error)?;
    ctx.audit(
        "assignment_rule.create",
        Some("assignment_rule"),
        Some(row.id.to_string()),
        serde_json::json!({ "team_id": row.team_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(rule(row))))
}

#[utoipa::path(delete, path = "/api/v1/assignment-rules/{id}", tag = "tickets", responses((status = 204), (status = 404)))]
pub async fn delete_rule(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::TICKETS_ADMIN)?;
    if sqlx::query("DELETE FROM assignment_rules WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?
        .rows_affected()
        == 0
    {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "assignment_rule.delete",
        Some("assignment_rule"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(sqlx::FromRow)]
struct SlaRow {
    id: Uuid,
    category_id: Option<Uuid>,
    priority: Option<String>,
    resolve_minutes: i32,
    business_hours: bool,
    warn_percent: Option<i32>,
    escalate_team_id: Option<Uuid>,
    notify_supervisors: bool,
}

const SLA_COLUMNS: &str = "id, category_id, priority, resolve_minutes, business_hours, warn_percent, escalate_team_id, notify_supervisors";

fn sla(r: SlaRow) -> SlaPolicyDto {
    SlaPolicyDto {
        id: r.id,
        category_id: r.category_id,
        priority: r.priority,
        resolve_minutes: r.resolve_minutes,
        business_hours: r.business_hours,
        warn_percent: r.warn_percent,
        escalate_team_id: r.escalate_team_id,
        notify_supervisors: r.notify_supervisors,
    }
}

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "tickets", responses((status = 200, body = Vec<SlaPolicyDto>)))]
pub async fn list_slas(mut ctx: TenantCtx) -> ApiResult<Json<Vec<SlaPolicyDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    let rows: Vec<SlaRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {SLA_COLUMNS} FROM sla_policies ORDER BY resolve_minutes"
    )))
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(sla).collect()))
}

#[utoipa::path(post, path = "/api/v1/sla-policies", tag = "tickets", request_body = SlaPolicyInput,
    responses((status = 201, body = SlaPolicyDto), (status = 422)))]
pub async fn create_sla(
    mut ctx: TenantCtx,
    Json(req): Json<SlaPolicyInput>,
) -> ApiResult<(StatusCode, Json<SlaPolicyDto>)> {
    ctx.require(perms::TICKETS_ADMIN)?;
    let mut c = Check::new();
    c.range("resolve_minutes", req.resolve_minutes.into(), 1, 525_600);
    if req
        .priority
        .as_deref()
        .is_some_and(|p| !PRIORITIES.contains(&p))
    {
        c.fail("priority", "must be low, normal, high or urgent");
    }
    if let Some(p) = req.warn_percent {
        c.range("warn_percent", p.into(), 1, 99);
    }
    c.finish()?;
    let row: SlaRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO sla_policies (category_id, priority, resolve_minutes, business_hours, warn_percent, escalate_team_id, notify_supervisors)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {SLA_COLUMNS}"
    )))
    .bind(req.category_id)
    .bind(&req.priority)
    .bind(req.resolve_minutes)
    .bind(req.business_hours)
    .bind(req.warn_percent)
    .bind(req.escalate_team_id)
    .bind(req.notify_supervisors)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| {
        if fk_violation(&e) {
            ApiError::field(
                "category_id/escalate_team_id",
                "no such category or team",
            )
        } else {
            e.into()
        }
    })?;
    ctx.audit(
        "sla_policy.create",
        Some("sla_policy"),
        Some(row.id.to_string()),
        serde_json::json!({ "minutes": row.resolve_minutes, "business_hours": row.business_hours,
            "warn_percent": row.warn_percent, "escalate_team_id": row.escalate_team_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(sla(row))))
}

#[utoipa::path(delete, path = "/api/v1/sla-policies/{id}", tag = "tickets", responses((status = 204), (status = 404)))]
pub async fn delete_sla(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::TICKETS_ADMIN)?;
    if sqlx::query("DELETE FROM sla_policies WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?
        .rows_affected()
        == 0
    {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "sla_policy.delete",
        Some("sla_policy"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ tickets

#[derive(sqlx::FromRow)]
struct TicketRow {
    id: Uuid,
    number: i64,
    type_id: Uuid,
    s_key: String,
    s_name: String,
    s_name_i18n: sqlx::types::Json<Translations>,
    s_color: String,
    s_initial: bool,
    s_final: bool,
    category_id: Option<Uuid>,
    category_path: Vec<String>,
    category_path_i18n: sqlx::types::Json<Vec<Translations>>,
    priority: String,
    subject: String,
    description: String,
    customer_id: Option<Uuid>,
    interaction_id: Option<Uuid>,
    assignee_user_id: Option<Uuid>,
    assignee_team_id: Option<Uuid>,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    breached: bool,
    warn_at: Option<chrono::DateTime<chrono::Utc>>,
    sla_state: String,
    created_by: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    closed_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn ticket(r: TicketRow) -> TicketDto {
    TicketDto {
        id: r.id,
        number: r.number,
        type_id: r.type_id,
        status: StatusDef {
            key: r.s_key,
            name: r.s_name,
            name_i18n: r.s_name_i18n.0,
            color: r.s_color,
            initial: r.s_initial,
            is_final: r.s_final,
        },
        category_id: r.category_id,
        category_path: r.category_path,
        category_path_i18n: r.category_path_i18n.0,
        priority: r.priority,
        subject: r.subject,
        description: r.description,
        customer_id: r.customer_id,
        interaction_id: r.interaction_id,
        assignee_user_id: r.assignee_user_id,
        assignee_team_id: r.assignee_team_id,
        due_at: r.due_at,
        breached: r.breached,
        warn_at: r.warn_at,
        sla_state: match r.sla_state.as_str() {
            "ok" => SlaState::Ok,
            "warning" => SlaState::Warning,
            "breached" => SlaState::Breached,
            _ => SlaState::None,
        },
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        closed_at: r.closed_at,
    }
}

/// Register totals are exact up to this many tickets; above it the total reads one more.
pub const REGISTER_COUNT_CAP: i64 = 10_000;

macro_rules! ticket_select {
    () => {
        r#"SELECT t.id, t.number, t.type_id, s.key AS s_key, s.name AS s_name, s.name_i18n AS s_name_i18n, s.color AS s_color,
                  s.initial AS s_initial, s."final" AS s_final, t.category_id, t.priority, t.subject,
                  t.description, t.customer_id, t.interaction_id, t.assignee_user_id, t.assignee_team_id,
                  t.due_at, COALESCE(t.closed_at IS NULL AND t.due_at < now(), false) AS breached, t.warn_at,
                  CASE WHEN t.due_at IS NULL THEN 'none'
                       WHEN t.closed_at IS NOT NULL THEN CASE WHEN t.closed_at > t.due_at THEN 'breached' ELSE 'ok' END
                       WHEN t.due_at < now() THEN 'breached'
                       WHEN t.warn_at <= now() THEN 'warning' ELSE 'ok' END AS sla_state, t.created_by,
                  t.created_at, t.updated_at, t.closed_at,
                  COALESCE((WITH RECURSIVE up(id, parent_id, name, depth) AS (
                                SELECT id, parent_id, name, 0 FROM categories WHERE id = t.category_id
                              UNION ALL
                                SELECT c.id, c.parent_id, c.name, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
                            SELECT array_agg(name ORDER BY depth DESC) FROM up), '{}') AS category_path,
                  COALESCE((WITH RECURSIVE up(id, parent_id, name_i18n, depth) AS (
                                SELECT id, parent_id, name_i18n, 0 FROM categories WHERE id = t.category_id
                              UNION ALL
                                SELECT c.id, c.parent_id, c.name_i18n, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
                            SELECT jsonb_agg(name_i18n ORDER BY depth DESC) FROM up), '[]') AS category_path_i18n
             FROM tickets t JOIN ticket_statuses s ON s.id = t.status_id"#
    };
}

async fn load_ticket(conn: &mut PgConnection, id: Uuid) -> ApiResult<TicketDto> {
    let row: Option<TicketRow> = sqlx::query_as(concat!(ticket_select!(), " WHERE t.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(ticket).ok_or(ApiError::NotFound)
}

async fn event(
    conn: &mut PgConnection,
    ticket: Uuid,
    actor: Option<Uuid>,
    kind: &str,
    body: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    sqlx::query("INSERT INTO ticket_events (ticket_id, actor_id, kind, body, details) VALUES ($1, $2, $3, $4, $5)")
        .bind(ticket)
        .bind(actor)
        .bind(kind)
        .bind(body)
        .bind(details)
        .execute(conn)
        .await?;
    Ok(())
}

/// The category and its ancestors, nearest first.
async fn lineage(conn: &mut PgConnection, category: Option<Uuid>) -> ApiResult<Vec<Uuid>> {
    let Some(category) = category else {
        return Ok(vec![]);
    };
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent_id, depth) AS (
             SELECT id, parent_id, 0 FROM categories WHERE id = $1
           UNION ALL
             SELECT c.id, c.parent_id, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
         SELECT id FROM up ORDER BY depth",
    )
    .bind(category)
    .fetch_all(conn)
    .await?)
}

/// Picks (user, team) by the type's rules: the rule for the nearest category wins, then a rule
/// for any category; within the team, round-robin or the person with fewest open tickets.
async fn auto_assign(
    conn: &mut PgConnection,
    type_id: Uuid,
    lineage: &[Uuid],
) -> ApiResult<(Option<Uuid>, Option<Uuid>)> {
    // (id, category, team, strategy, last assigned user)
    type Rule = (Uuid, Option<Uuid>, Uuid, String, Option<Uuid>);
    let rules: Vec<Rule> = sqlx::query_as(
        "SELECT id, category_id, team_id, strategy, last_user_id FROM assignment_rules WHERE type_id = $1 ORDER BY position, id FOR UPDATE",
    )
    .bind(type_id)
    .fetch_all(&mut *conn)
    .await?;
    let best = rules
        .iter()
        .filter_map(|r| match r.1 {
            Some(c) => lineage.iter().position(|x| *x == c).map(|depth| (depth, r)),
            None => Some((usize::MAX, r)),
        })
        .min_by_key(|(depth, _)| *depth)
        .map(|(_, r)| r);
    let Some((rule_id, _, team, strategy, last)) = best else {
        return Ok((None, None));
    };
    let user: Option<Uuid> = match strategy.as_str() {
        "round_robin" => {
            let members: Vec<Uuid> = sqlx::query_scalar(
                "SELECT id FROM users WHERE team_id = $1 AND active ORDER BY id",
            )
            .bind(team)
            .fetch_all(&mut *conn)
            .await?;
            let next = match last.and_then(|l| members.iter().position(|m| *m == l)) {
                Some(i) => members.get((i + 1) % members.len()).copied(),
                None => members.first().copied(),
            };
            if next.is_some() {
                sqlx::query("UPDATE assignment_rules SET last_user_id = $2 WHERE id = $1")
                    .bind(rule_id)
                    .bind(next)
                    .execute(&mut *conn)
                    .await?;
            }
            next
        }
        "least_loaded" => crate::sla::least_loaded(conn, *team).await?,
        _ => None,
    };
    Ok((user, Some(*team)))
}

/// Tells a newly assigned user (unless they assigned themselves).
async fn notify_assignee(
    conn: &mut PgConnection,
    t: &TicketDto,
    actor: Option<Uuid>,
) -> ApiResult<()> {
    match t.assignee_user_id {
        Some(user) if Some(user) != actor => {
            let text = format!("Ticket #{} assigned to you: {}", t.number, t.subject);
            crate::notify::ticket(conn, user, "assigned", t.id, &text).await
        }
        _ => Ok(()),
    }
}

#[utoipa::path(post, path = "/api/v1/tickets", tag = "tickets", request_body = TicketInput,
    responses((status = 201, body = TicketDto), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn create_ticket(
    mut ctx: TenantCtx,
    Json(req): Json<TicketInput>,
) -> ApiResult<(StatusCode, Json<TicketDto>)> {
    ctx.require(perms::TICKETS_WORK)?;
    let priority = req.priority.clone().unwrap_or_else(|| "normal".into());
    let mut c = Check::new();
    c.text("subject", &req.subject, 300);
    c.max_len("description", &req.description, 20_000);
    if !PRIORITIES.contains(&priority.as_str()) {
        c.fail("priority", "must be low, normal, high or urgent");
    }
    c.finish()?;
    let initial: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM ticket_statuses WHERE type_id = $1 AND initial")
            .bind(req.type_id)
            .fetch_optional(ctx.db())
            .await?;
    let initial = initial.ok_or_else(|| ApiError::field("type_id", "no such ticket type"))?;
    let lineage = lineage(ctx.db(), req.category_id).await?;
    if req.category_id.is_some() && lineage.is_empty() {
        return Err(ApiError::field("category_id", "no such category"));
    }
    let manual = req.assignee_user_id.is_some() || req.assignee_team_id.is_some();
    let (user, team) = if manual {
        (req.assignee_user_id, req.assignee_team_id)
    } else {
        auto_assign(ctx.db(), req.type_id, &lineage).await?
    };
    let sla = crate::sla::deadline(ctx.db(), &lineage, &priority, chrono::Utc::now()).await?;
    let creator = ctx.user_id();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO tickets (type_id, status_id, category_id, priority, subject, description, customer_id, interaction_id,
                              assignee_user_id, assignee_team_id, due_at, created_by, search_text, sla_policy_id, warn_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, lower($5 || ' ' || $6), $13, $14) RETURNING id",
    )
    .bind(req.type_id)
    .bind(initial)
    .bind(req.category_id)
    .bind(&priority)
    .bind(req.subject.trim())
    .bind(&req.description)
    .bind(req.customer_id)
    .bind(req.interaction_id)
    .bind(user)
    .bind(team)
    .bind(sla.map(|d| d.due_at))
    .bind(creator)
    .bind(sla.map(|d| d.policy_id))
    .bind(sla.and_then(|d| d.warn_at))
    .fetch_one(ctx.db())
    .await
    .map_err(|e| if fk_violation(&e) { ApiError::field("customer_id/interaction_id/assignee", "names something that does not exist") } else { e.into() })?;
    event(
        ctx.db(),
        id,
        creator,
        "created",
        "",
        serde_json::json!({ "assignee_user_id": user, "assignee_team_id": team, "auto": !manual }),
    )
    .await?;
    let t = load_ticket(ctx.db(), id).await?;
    notify_assignee(ctx.db(), &t, creator).await?;
    ctx.audit(
        "ticket.create",
        Some("ticket"),
        Some(id.to_string()),
        serde_json::json!({ "number": t.number, "assignee_user_id": user }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(t)))
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "tickets", responses((status = 200, body = TicketDto), (status = 404)))]
pub async fn get_ticket(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<TicketDto>> {
    ctx.require(perms::TICKETS_WORK)?;
    let t = load_ticket(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(t))
}

#[utoipa::path(get, path = "/api/v1/tickets", tag = "tickets", params(TicketQuery),
    responses((status = 200, body = Page<TicketDto>)))]
pub async fn list_tickets(
    mut ctx: TenantCtx,
    Query(q): Query<TicketQuery>,
) -> ApiResult<Json<Page<TicketDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    let user = ctx.user_id();
    let q = apply_view(ctx.db(), user, q).await?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let assignee = if q.mine.unwrap_or(false) {
        ctx.user_id()
    } else {
        q.assignee_user_id
    };
    let pattern =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| like_pattern(&s.to_lowercase()));
    let number: Option<i64> =
        q.q.as_deref()
            .and_then(|s| s.trim().trim_start_matches('#').parse().ok());
    // The status key names one status per ticket type: resolved to ids first, so the filter is
    // on the tickets' own (indexed) column.
    let status_ids: Option<Vec<Uuid>> = match &q.status {
        Some(key) => Some(
            sqlx::query_scalar("SELECT id FROM ticket_statuses WHERE key = $1")
                .bind(key)
                .fetch_all(ctx.db())
                .await?,
        ),
        None => None,
    };
    let filter = r#"($1::uuid[] IS NULL OR t.status_id = ANY($1)) AND ($2::uuid IS NULL OR t.type_id = $2)
        AND ($3::uuid IS NULL OR t.assignee_user_id = $3) AND ($4::uuid IS NULL OR t.assignee_team_id = $4)
        AND ($5::uuid IS NULL OR t.customer_id = $5) AND ($6::text IS NULL OR t.priority = $6)
        AND (NOT $7 OR t.closed_at IS NULL) AND (NOT $8 OR (t.closed_at IS NULL AND t.due_at < now()))
        AND ($9::text IS NULL OR t.id IN (SELECT id FROM tickets WHERE search_text LIKE $9 OR number = $10
                 UNION SELECT ticket_id FROM ticket_events WHERE kind IN ('comment', 'note') AND lower(body) LIKE $9))
        AND ($11::uuid IS NULL OR t.category_id IN (WITH RECURSIVE down(id) AS (
                 SELECT $11::uuid UNION ALL SELECT c.id FROM categories c JOIN down ON c.parent_id = down.id)
               SELECT id FROM down))"#;
    macro_rules! bind_filters {
        ($query:expr) => {
            $query
                .bind(&status_ids)
                .bind(q.type_id)
                .bind(assignee)
                .bind(q.team_id)
                .bind(q.customer_id)
                .bind(&q.priority)
                .bind(q.open.unwrap_or(false))
                .bind(q.breached.unwrap_or(false))
                .bind(&pattern)
                .bind(number)
                .bind(q.category_id)
        };
    }
    // The optional filters are `($n IS NULL OR …)`: a generic plan cannot drop the unused
    // ones, so each execution is planned for its actual values.
    sqlx::query("SELECT set_config('plan_cache_mode', 'force_custom_plan', true)")
        .execute(ctx.db())
        .await?;
    // Counting stops at REGISTER_COUNT_CAP + 1 ("10,000+"): exact totals of huge registers
    // cost a full scan per page view.
    let total: i64 = bind_filters!(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM (SELECT 1 FROM tickets t JOIN ticket_statuses s ON s.id = t.status_id
          WHERE {filter} LIMIT {}) c",
        REGISTER_COUNT_CAP + 1
    ))))
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<TicketRow> = bind_filters!(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        // Overdue open tickets lead, newest first within each part. Two index-friendly halves
        // (each stops after the rows a page can need) instead of sorting every match.
        "SELECT * FROM (
            ({sel} WHERE {filter} AND t.closed_at IS NULL AND t.due_at < now()
              ORDER BY t.number DESC LIMIT $12 + $13)
            UNION ALL
            ({sel} WHERE {filter} AND NOT $8
                AND NOT COALESCE(t.closed_at IS NULL AND t.due_at < now(), false)
              ORDER BY t.number DESC LIMIT $12 + $13)
          ) r ORDER BY r.breached DESC, r.number DESC LIMIT $12 OFFSET $13",
        sel = ticket_select!()
    ))))
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(ticket).collect(),
        total,
        page,
        per_page,
    }))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/move", tag = "tickets", request_body = TicketMove,
    responses((status = 200, body = TicketDto), (status = 403), (status = 404), (status = 409)))]
pub async fn move_ticket(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TicketMove>,
) -> ApiResult<Json<TicketDto>> {
    ctx.require(perms::TICKETS_WORK)?;
    let t = load_ticket(ctx.db(), id).await?;
    let row: Option<(Uuid, bool, Option<String>)> = sqlx::query_as(
        r#"SELECT ts.id, ts."final", tr.permission FROM ticket_transitions tr
             JOIN ticket_statuses fs ON fs.id = tr.from_status JOIN ticket_statuses ts ON ts.id = tr.to_status
            WHERE fs.type_id = $1 AND fs.key = $2 AND ts.key = $3"#,
    )
    .bind(t.type_id)
    .bind(&t.status.key)
    .bind(&req.to)
    .fetch_optional(ctx.db())
    .await?;
    let Some((to, is_final, permission)) = row else {
        return Err(ApiError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "The workflow has no step from '{}' to '{}'.",
                t.status.key,
                req.to.chars().take(40).collect::<String>()
            ),
        });
    };
    if let Some(p) = permission {
        ctx.require(&p)?;
    }
    sqlx::query("UPDATE tickets SET status_id = $2, updated_at = now(), closed_at = CASE WHEN $3 THEN now() END WHERE id = $1")
        .bind(id)
        .bind(to)
        .bind(is_final)
        .execute(ctx.db())
        .await?;
    let actor = ctx.user_id();
    let body = req.comment.unwrap_or_default();
    event(
        ctx.db(),
        id,
        actor,
        "status",
        &body,
        serde_json::json!({ "from": t.status.key, "to": req.to }),
    )
    .await?;
    let after = load_ticket(ctx.db(), id).await?;
    ctx.audit(
        "ticket.move",
        Some("ticket"),
        Some(id.to_string()),
        serde_json::json!({ "from": t.status.key, "to": req.to }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(after))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/comments", tag = "tickets", request_body = TicketCommentInput,
    responses((status = 201, body = TicketEventDto), (status = 404), (status = 422)))]
pub async fn comment(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TicketCommentInput>,
) -> ApiResult<(StatusCode, Json<TicketEventDto>)> {
    ctx.require(perms::TICKETS_WORK)?;
    let mut c = Check::new();
    c.text("body", &req.body, 20_000);
    c.finish()?;
    let t = load_ticket(ctx.db(), id).await?;
    let kind = if req.internal { "note" } else { "comment" };
    let actor = ctx.user_id();
    if let Some(user) = t.assignee_user_id.filter(|u| Some(*u) != actor) {
        let text = format!("New {kind} on ticket #{}: {}", t.number, t.subject);
        crate::notify::ticket(ctx.db(), user, "comment", id, &text).await?;
    }
    let row: EventRow = sqlx::query_as(
        "INSERT INTO ticket_events (ticket_id, actor_id, kind, body) VALUES ($1, $2, $3, $4)
         RETURNING id, at, actor_id, kind, body, details",
    )
    .bind(id)
    .bind(actor)
    .bind(kind)
    .bind(req.body.trim())
    .fetch_one(ctx.db())
    .await?;
    sqlx::query("UPDATE tickets SET updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(ev(row))))
}

#[utoipa::path(post, path = "/api/v1/tickets/{id}/assign", tag = "tickets", request_body = TicketAssign,
    responses((status = 200, body = TicketDto), (status = 404), (status = 422)))]
pub async fn assign(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TicketAssign>,
) -> ApiResult<Json<TicketDto>> {
    ctx.require(perms::TICKETS_WORK)?;
    let before = load_ticket(ctx.db(), id).await?;
    sqlx::query("UPDATE tickets SET assignee_user_id = $2, assignee_team_id = $3, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(req.user_id)
        .bind(req.team_id)
        .execute(ctx.db())
        .await
        .map_err(|e| if fk_violation(&e) { ApiError::field("user_id/team_id", "no such user or team") } else { e.into() })?;
    let actor = ctx.user_id();
    event(
        ctx.db(),
        id,
        actor,
        "assigned",
        "",
        serde_json::json!({ "from_user": before.assignee_user_id, "to_user": req.user_id, "to_team": req.team_id }),
    )
    .await?;
    let after = load_ticket(ctx.db(), id).await?;
    if after.assignee_user_id != before.assignee_user_id {
        notify_assignee(ctx.db(), &after, actor).await?;
    }
    ctx.audit(
        "ticket.assign",
        Some("ticket"),
        Some(id.to_string()),
        serde_json::json!({ "user_id": req.user_id, "team_id": req.team_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(after))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    at: chrono::DateTime<chrono::Utc>,
    actor_id: Option<Uuid>,
    kind: String,
    body: String,
    details: serde_json::Value,
}

fn ev(r: EventRow) -> TicketEventDto {
    TicketEventDto {
        id: r.id,
        at: r.at,
        actor_id: r.actor_id,
        kind: r.kind,
        body: r.body,
        details: r.details,
    }
}

#[utoipa::path(get, path = "/api/v1/tickets/{id}/events", tag = "tickets", responses((status = 200, body = Vec<TicketEventDto>), (status = 404)))]
pub async fn events(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<TicketEventDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    load_ticket(ctx.db(), id).await?;
    let rows: Vec<EventRow> = sqlx::query_as("SELECT id, at, actor_id, kind, body, details FROM ticket_events WHERE ticket_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(ev).collect()))
}

// ------------------------------------------------------------------ attachments

#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments", tag = "tickets",
    responses((status = 200, body = Vec<FileDto>), (status = 404)))]
pub async fn list_attachments(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<FileDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    load_ticket(ctx.db(), id).await?;
    let list = files::attached(ctx.db(), Owner::Ticket, id).await?;
    ctx.commit().await?;
    Ok(Json(list))
}

/// Attaches a file: a raw body named by `?name=` with its `Content-Type`, or
/// `multipart/form-data` with a file part. The type must be on the allow-list and match the
/// bytes (415); the size is limited by `max_upload_bytes` (413).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/attachments", tag = "tickets", params(files::UploadQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = FileDto), (status = 404), (status = 413, body = hotline_wire::api::Problem),
        (status = 415, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn upload_attachment(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<files::UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<FileDto>)> {
    ctx.require(perms::TICKETS_WORK)?;
    load_ticket(ctx.db(), id).await?;
    let stored = files::attach_upload(&state, &mut ctx, Owner::Ticket, id, q.name, req).await?;
    let f = &stored.file;
    attachment_changed(&mut ctx, id, "attached", &f.name, files::details(f)).await?;
    stored.commit(ctx).await
}

/// Records an attachment change in the ticket's history and the audit log.
async fn attachment_changed(
    ctx: &mut TenantCtx,
    id: Uuid,
    kind: &str,
    name: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    let actor = ctx.user_id();
    event(ctx.db(), id, actor, kind, name, details.clone()).await?;
    sqlx::query("UPDATE tickets SET updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?;
    let action = if kind == "attached" {
        "ticket.attach"
    } else {
        "ticket.detach"
    };
    ctx.audit(action, Some("ticket"), Some(id.to_string()), details)
        .await
}

/// Streams an attachment with its checked type, `nosniff` and an attachment disposition.
#[utoipa::path(get, path = "/api/v1/tickets/{id}/attachments/{file_id}", tag = "tickets",
    responses((status = 200, content_type = "application/octet-stream"), (status = 404)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path((id, file_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    ctx.require(perms::TICKETS_WORK)?;
    files::download_attached(&state, ctx, Owner::Ticket, id, file_id).await
}

/// Removes an attachment: its uploader may, others need `tickets.admin`.
#[utoipa::path(delete, path = "/api/v1/tickets/{id}/attachments/{file_id}", tag = "tickets",
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path((id, file_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::TICKETS_WORK)?;
    let f = files::attached_one(ctx.db(), Owner::Ticket, id, file_id).await?;
    if f.uploaded_by.is_none() || f.uploaded_by != ctx.user_id() {
        ctx.require(perms::TICKETS_ADMIN)?;
    }
    files::delete_row(ctx.db(), file_id).await?;
    attachment_changed(&mut ctx, id, "detached", &f.name, files::details(&f)).await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    files::remove_bytes(&state, tenant, file_id).await;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ saved views

#[derive(sqlx::FromRow)]
struct ViewRow {
    id: Uuid,
    name: String,
    shared: bool,
    owner_id: Uuid,
    filters: sqlx::types::Json<TicketViewFilters>,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn view(r: ViewRow) -> TicketViewDto {
    TicketViewDto {
        id: r.id,
        name: r.name,
        shared: r.shared,
        owner_id: r.owner_id,
        filters: r.filters.0,
        created_at: r.created_at,
    }
}

const VIEW_COLS: &str = "id, name, shared, owner_id, filters, created_at";

/// Fills the register query's absent filters from the saved view it names (the caller's own
/// or a shared one); parameters given with the view win. `mine` means whoever opens it.
async fn apply_view(
    conn: &mut PgConnection,
    user: Option<Uuid>,
    mut q: TicketQuery,
) -> ApiResult<TicketQuery> {
    let Some(id) = q.view else {
        return Ok(q);
    };
    let f: Option<sqlx::types::Json<TicketViewFilters>> = sqlx::query_scalar(
        "SELECT filters FROM ticket_views WHERE id = $1 AND (shared OR owner_id = $2)",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(conn)
    .await?;
    let f = f
        .ok_or_else(|| ApiError::field("view", "no such saved view"))?
        .0;
    q.status = q.status.or(f.status);
    q.type_id = q.type_id.or(f.type_id);
    q.category_id = q.category_id.or(f.category_id);
    q.priority = q.priority.or(f.priority);
    q.assignee_user_id = q.assignee_user_id.or(f.assignee_user_id);
    q.mine = q.mine.or(f.mine);
    q.team_id = q.team_id.or(f.team_id);
    q.customer_id = q.customer_id.or(f.customer_id);
    q.open = q.open.or(f.open);
    q.breached = q.breached.or(f.breached);
    q.q = q.q.or(f.q);
    Ok(q)
}

/// The caller's own views and the shared ones, shared first.
#[utoipa::path(get, path = "/api/v1/ticket-views", tag = "tickets", responses((status = 200, body = Vec<TicketViewDto>)))]
pub async fn list_views(mut ctx: TenantCtx) -> ApiResult<Json<Vec<TicketViewDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    let user = ctx.user_id();
    let rows: Vec<ViewRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {VIEW_COLS} FROM ticket_views WHERE shared OR owner_id = $1 ORDER BY shared DESC, lower(name), id"
    )))
    .bind(user)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(view).collect()))
}

/// Saves the register's filters under a name; `shared` (for the whole tenant) needs
/// `tickets.admin`.
#[utoipa::path(post, path = "/api/v1/ticket-views", tag = "tickets", request_body = TicketViewInput,
    responses((status = 201, body = TicketViewDto), (status = 403), (status = 409), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn create_view(
    mut ctx: TenantCtx,
    Json(req): Json<TicketViewInput>,
) -> ApiResult<(StatusCode, Json<TicketViewDto>)> {
    ctx.require(perms::TICKETS_WORK)?;
    if req.shared {
        ctx.require(perms::TICKETS_ADMIN)?;
    }
    let owner = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let f = &req.filters;
    let mut c = Check::new();
    c.text("name", &req.name, 80);
    if f.priority
        .as_deref()
        .is_some_and(|p| !PRIORITIES.contains(&p))
    {
        c.fail("filters.priority", "must be low, normal, high or urgent");
    }
    c.max_len("filters.status", f.status.as_deref().unwrap_or(""), 40);
    c.max_len("filters.q", f.q.as_deref().unwrap_or(""), 200);
    c.finish()?;
    let row: ViewRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO ticket_views (owner_id, name, shared, filters) VALUES ($1, $2, $3, $4) RETURNING {VIEW_COLS}"
    )))
    .bind(owner)
    .bind(req.name.trim())
    .bind(req.shared)
    .bind(sqlx::types::Json(&req.filters))
    .fetch_one(ctx.db())
    .await
    .map_err(|e| {
        if unique_violation(&e).is_some() {
            ApiError::Conflict {
                code: "name_taken",
                detail: "You already have a view with this name.".into(),
            }
        } else {
            e.into()
        }
    })?;
    let v = view(row);
    ctx.audit(
        "ticket_view.create",
        Some("ticket_view"),
        Some(v.id.to_string()),
        serde_json::json!({ "name": v.name, "shared": v.shared, "filters": v.filters }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Deletes a view: one's own, or (with `tickets.admin`) a shared one.
#[utoipa::path(delete, path = "/api/v1/ticket-views/{id}", tag = "tickets", responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete_view(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::TICKETS_WORK)?;
    let user = ctx.user_id();
    let row: Option<(Uuid, String)> = sqlx::query_as(
        "SELECT owner_id, name FROM ticket_views WHERE id = $1 AND (shared OR owner_id = $2)",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(ctx.db())
    .await?;
    let (owner, name) = row.ok_or(ApiError::NotFound)?;
    if Some(owner) != user {
        ctx.require(perms::TICKETS_ADMIN)?;
    }
    sqlx::query("DELETE FROM ticket_views WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?;
    ctx.audit(
        "ticket_view.delete",
        Some("ticket_view"),
        Some(id.to_string()),
        serde_json::json!({ "name": name }),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(key: &str, initial: bool, fin: bool) -> StatusDef {
        StatusDef {
            key: key.into(),
            name: key.into(),
            name_i18n: Default::default(),
            color: "#123456".into(),
            initial,
            is_final: fin,
        }
    }

    fn tr(from: &str, to: &str) -> TransitionDef {
        TransitionDef {
            from: from.into(),
            to: to.into(),
            name: format!("{from}→{to}"),
            name_i18n: Default::default(),
            permission: None,
        }
    }

    fn fields(r: ApiResult<()>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(e)) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_good_workflow_passes() {
        let w = TicketTypeInput {
            name: "Complaint".into(),
            name_i18n: Default::default(),
            statuses: vec![
                st("accepted", true, false),
                st("in_work", false, false),
                st("done", false, true),
            ],
            transitions: vec![
                tr("accepted", "in_work"),
                tr("in_work", "done"),
                tr("done", "in_work"),
            ],
        };
        assert!(check_workflow(&w).is_ok());
    }

    #[test]
    fn unreachable_and_dead_end_statuses_are_refused() {
        let w = TicketTypeInput {
            name: "Bad".into(),
            name_i18n: Default::default(),
            statuses: vec![
                st("new", true, false),
                st("stuck", false, false),
                st("island", false, true),
            ],
            transitions: vec![tr("new", "stuck")],
        };
        assert_eq!(fields(check_workflow(&w)), ["statuses[1]", "statuses[2]"]);
    }

    #[test]
    fn structure_errors_are_named() {
        let w = TicketTypeInput {
            name: "".into(),
            name_i18n: Default::default(),
            statuses: vec![st("a", false, false), st("a", false, true)],
            transitions: vec![
                tr("a", "zzz"),
                TransitionDef {
                    permission: Some("nope".into()),
                    ..tr("a", "a")
                },
            ],
        };
        let f = fields(check_workflow(&w));
        for expected in [
            "name",
            "statuses[1].key",
            "statuses",
            "transitions[0].to",
            "transitions[1]",
            "transitions[1].permission",
        ] {
            assert!(f.contains(&expected.to_string()), "{expected} in {f:?}");
        }
    }
}
