//! Tickets (complaints, requests): types with admin-defined workflows, automatic assignment
//! by category → team (round-robin or least-loaded), SLA due times, comments, internal notes,
//! history, and the register with filters.

use crate::{
    auth::TenantCtx,
    error::{fk_violation, unique_violation, ApiError, ApiResult, Json},
    routes::{paging, users::like_pattern},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query},
    http::StatusCode,
    routing::{delete, get, post},
    Router,
};
use hotline_wire::{api::Page, permissions as perms, tickets::*};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet, VecDeque};
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
}

// ------------------------------------------------------------------ workflow validation

/// Checks a workflow: unique keys, one initial status, transitions between known statuses,
/// every status reachable from the initial one, and no open status without a way out.
pub fn check_workflow(req: &TicketTypeInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    if req.statuses.is_empty() || req.statuses.len() > 50 {
        c.fail("statuses", "needs 1 to 50 statuses");
    }
    let mut keys = HashSet::new();
    for (i, s) in req.statuses.iter().enumerate() {
        let ok = (1..=40).contains(&s.key.len())
            && s.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            c.fail(
                &format!("statuses[{i}].key"),
                "must be 1–40 characters of a–z, 0–9 and _",
            );
        }
        if !keys.insert(s.key.as_str()) {
            c.fail(&format!("statuses[{i}].key"), "is used twice");
        }
        c.text(&format!("statuses[{i}].name"), &s.name, 80);
        let colour_ok = s.color.len() == 7
            && s.color.starts_with('#')
            && s.color[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !colour_ok {
            c.fail(
                &format!("statuses[{i}].color"),
                "must be a colour like #1a7f37",
            );
        }
    }
    let initials: Vec<_> = req.statuses.iter().filter(|s| s.initial).collect();
    if initials.len() != 1 {
        c.fail("statuses", "exactly one status must be initial");
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut seen = HashSet::new();
    for (i, t) in req.transitions.iter().enumerate() {
        for (side, key) in [("from", &t.from), ("to", &t.to)] {
            if !keys.contains(key.as_str()) {
                c.fail(
                    &format!("transitions[{i}].{side}"),
                    "is not a status of this type",
                );
            }
        }
        if t.from == t.to {
            c.fail(&format!("transitions[{i}]"), "goes nowhere");
        }
        if !seen.insert((t.from.as_str(), t.to.as_str())) {
            c.fail(&format!("transitions[{i}]"), "is listed twice");
        }
        c.text(&format!("transitions[{i}].name"), &t.name, 80);
        if let Some(p) = &t.permission {
            if !perms::is_known(p) {
                c.fail(
                    &format!("transitions[{i}].permission"),
                    "is not a permission",
                );
            }
        }
        edges
            .entry(t.from.as_str())
            .or_default()
            .push(t.to.as_str());
    }
    if let [initial] = initials.as_slice() {
        let mut reached = HashSet::from([initial.key.as_str()]);
        let mut queue = VecDeque::from([initial.key.as_str()]);
        while let Some(k) = queue.pop_front() {
            for next in edges.get(k).into_iter().flatten() {
                if reached.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        for (i, s) in req.statuses.iter().enumerate() {
            if !reached.contains(s.key.as_str()) {
                c.fail(
                    &format!("statuses[{i}]"),
                    format!("'{}' cannot be reached from the initial status", s.key),
                );
            } else if !s.is_final && !edges.contains_key(s.key.as_str()) {
                c.fail(
                    &format!("statuses[{i}]"),
                    format!("'{}' is not final but has no way out", s.key),
                );
            }
        }
    }
    c.finish()
}

// ------------------------------------------------------------------ types

#[derive(sqlx::FromRow)]
struct StatusRow {
    key: String,
    name: String,
    color: String,
    initial: bool,
    #[sqlx(rename = "final")]
    is_final: bool,
}

fn status_def(r: &StatusRow) -> StatusDef {
    StatusDef {
        key: r.key.clone(),
        name: r.name.clone(),
        color: r.color.clone(),
        initial: r.initial,
        is_final: r.is_final,
    }
}

async fn statuses(conn: &mut PgConnection, type_id: Uuid) -> ApiResult<Vec<StatusRow>> {
    Ok(sqlx::query_as(r#"SELECT key, name, color, initial, "final" FROM ticket_statuses WHERE type_id = $1 ORDER BY position"#)
        .bind(type_id)
        .fetch_all(conn)
        .await?)
}

async fn load_type(conn: &mut PgConnection, id: Uuid) -> ApiResult<TicketTypeDto> {
    let name: Option<String> = sqlx::query_scalar("SELECT name FROM ticket_types WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let name = name.ok_or(ApiError::NotFound)?;
    let st = statuses(&mut *conn, id).await?;
    let rows: Vec<(String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT f.key, t.key, tr.name, tr.permission FROM ticket_transitions tr
           JOIN ticket_statuses f ON f.id = tr.from_status JOIN ticket_statuses t ON t.id = tr.to_status
          WHERE f.type_id = $1 ORDER BY f.position, t.position",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    Ok(TicketTypeDto {
        id,
        name,
        statuses: st.iter().map(status_def).collect(),
        transitions: rows
            .into_iter()
            .map(|(from, to, name, permission)| TransitionDef {
                from,
                to,
                name,
                permission,
            })
            .collect(),
    })
}

/// Writes statuses (matched by key: kept ids, so tickets keep their status) and replaces the
/// transitions.
async fn save_workflow(
    conn: &mut PgConnection,
    type_id: Uuid,
    req: &TicketTypeInput,
) -> ApiResult<()> {
    let keys: Vec<String> = req.statuses.iter().map(|s| s.key.clone()).collect();
    sqlx::query("DELETE FROM ticket_transitions WHERE from_status IN (SELECT id FROM ticket_statuses WHERE type_id = $1)")
        .bind(type_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM ticket_statuses WHERE type_id = $1 AND NOT (key = ANY($2))")
        .bind(type_id)
        .bind(&keys)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if fk_violation(&e) {
                ApiError::Conflict {
                    code: "status_in_use",
                    detail: "A status you removed still has tickets; move them first.".into(),
                }
            } else {
                e.into()
            }
        })?;
    for (i, s) in req.statuses.iter().enumerate() {
        sqlx::query(
            r#"INSERT INTO ticket_statuses (type_id, key, name, color, initial, "final", position) VALUES ($1, $2, $3, $4, $5, $6, $7)
               ON CONFLICT (type_id, key) DO UPDATE SET name = excluded.name, color = excluded.color,
                   initial = excluded.initial, "final" = excluded."final", position = excluded.position"#,
        )
        .bind(type_id)
        .bind(&s.key)
        .bind(s.name.trim())
        .bind(&s.color)
        .bind(s.initial)
        .bind(s.is_final)
        .bind(i as i32)
        .execute(&mut *conn)
        .await?;
    }
    for t in &req.transitions {
        sqlx::query(
            "INSERT INTO ticket_transitions (from_status, to_status, name, permission)
             SELECT f.id, t.id, $4, $5 FROM ticket_statuses f, ticket_statuses t
              WHERE f.type_id = $1 AND f.key = $2 AND t.type_id = $1 AND t.key = $3",
        )
        .bind(type_id)
        .bind(&t.from)
        .bind(&t.to)
        .bind(t.name.trim())
        .bind(&t.permission)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
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
    let id: Uuid = sqlx::query_scalar("INSERT INTO ticket_types (name) VALUES ($1) RETURNING id")
        .bind(req.name.trim())
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
    sqlx::query("UPDATE ticket_types SET name = $2 WHERE id = $1")
        .bind(id)
        .bind(req.name.trim())
        .execute(ctx.db())
        .await?;
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
}

fn sla(r: SlaRow) -> SlaPolicyDto {
    SlaPolicyDto {
        id: r.id,
        category_id: r.category_id,
        priority: r.priority,
        resolve_minutes: r.resolve_minutes,
    }
}

#[utoipa::path(get, path = "/api/v1/sla-policies", tag = "tickets", responses((status = 200, body = Vec<SlaPolicyDto>)))]
pub async fn list_slas(mut ctx: TenantCtx) -> ApiResult<Json<Vec<SlaPolicyDto>>> {
    ctx.require(perms::TICKETS_WORK)?;
    let rows: Vec<SlaRow> = sqlx::query_as("SELECT id, category_id, priority, resolve_minutes FROM sla_policies ORDER BY resolve_minutes")
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
    c.finish()?;
    let row: SlaRow = sqlx::query_as(
        "INSERT INTO sla_policies (category_id, priority, resolve_minutes) VALUES ($1, $2, $3)
         RETURNING id, category_id, priority, resolve_minutes",
    )
    .bind(req.category_id)
    .bind(&req.priority)
    .bind(req.resolve_minutes)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| {
        if fk_violation(&e) {
            ApiError::field("category_id", "no such category")
        } else {
            e.into()
        }
    })?;
    ctx.audit(
        "sla_policy.create",
        Some("sla_policy"),
        Some(row.id.to_string()),
        serde_json::json!({ "minutes": row.resolve_minutes }),
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
    s_color: String,
    s_initial: bool,
    s_final: bool,
    category_id: Option<Uuid>,
    category_path: Vec<String>,
    priority: String,
    subject: String,
    description: String,
    customer_id: Option<Uuid>,
    interaction_id: Option<Uuid>,
    assignee_user_id: Option<Uuid>,
    assignee_team_id: Option<Uuid>,
    due_at: Option<chrono::DateTime<chrono::Utc>>,
    breached: bool,
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
            color: r.s_color,
            initial: r.s_initial,
            is_final: r.s_final,
        },
        category_id: r.category_id,
        category_path: r.category_path,
        priority: r.priority,
        subject: r.subject,
        description: r.description,
        customer_id: r.customer_id,
        interaction_id: r.interaction_id,
        assignee_user_id: r.assignee_user_id,
        assignee_team_id: r.assignee_team_id,
        due_at: r.due_at,
        breached: r.breached,
        created_by: r.created_by,
        created_at: r.created_at,
        updated_at: r.updated_at,
        closed_at: r.closed_at,
    }
}

macro_rules! ticket_select {
    () => {
        r#"SELECT t.id, t.number, t.type_id, s.key AS s_key, s.name AS s_name, s.color AS s_color,
                  s.initial AS s_initial, s."final" AS s_final, t.category_id, t.priority, t.subject,
                  t.description, t.customer_id, t.interaction_id, t.assignee_user_id, t.assignee_team_id,
                  t.due_at, COALESCE(t.closed_at IS NULL AND t.due_at < now(), false) AS breached, t.created_by,
                  t.created_at, t.updated_at, t.closed_at,
                  COALESCE((WITH RECURSIVE up(id, parent_id, name, depth) AS (
                                SELECT id, parent_id, name, 0 FROM categories WHERE id = t.category_id
                              UNION ALL
                                SELECT c.id, c.parent_id, c.name, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
                            SELECT array_agg(name ORDER BY depth DESC) FROM up), '{}') AS category_path
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
            let members: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE team_id = $1 AND active ORDER BY id")
                .bind(team)
                .fetch_all(&mut *conn)
                .await?;
            let next = match last.and_then(|l| members.iter().position(|m| *m == l)) {
                Some(i) => members.get((i + 1) % members.len()).copied(),
                None => members.first().copied(),
            };
            if next.is_some() {
                sqlx::query("UPDATE assignment_rules SET last_user_id = $2 WHERE id = $1").bind(rule_id).bind(next).execute(&mut *conn).await?;
            }
            next
        }
        "least_loaded" => sqlx::query_scalar(
            "SELECT u.id FROM users u LEFT JOIN tickets t ON t.assignee_user_id = u.id AND t.closed_at IS NULL
              WHERE u.team_id = $1 AND u.active GROUP BY u.id ORDER BY count(t.id), u.id LIMIT 1",
        )
        .bind(team)
        .fetch_optional(&mut *conn)
        .await?,
        _ => None,
    };
    Ok((user, Some(*team)))
}

/// The due time from the most specific SLA policy (category depth, then priority).
async fn due_at(
    conn: &mut PgConnection,
    lineage: &[Uuid],
    priority: &str,
) -> ApiResult<Option<chrono::DateTime<chrono::Utc>>> {
    let rows: Vec<(Option<Uuid>, Option<String>, i32)> =
        sqlx::query_as("SELECT category_id, priority, resolve_minutes FROM sla_policies")
            .fetch_all(conn)
            .await?;
    let best = rows
        .iter()
        .filter(|(_, p, _)| p.as_deref().is_none_or(|p| p == priority))
        .filter_map(|(c, p, m)| {
            let depth = match c {
                Some(c) => lineage.iter().position(|x| x == c)?,
                None => usize::MAX,
            };
            Some(((depth, p.is_none()), *m))
        })
        .min_by_key(|(k, _)| *k);
    Ok(best.map(|(_, m)| chrono::Utc::now() + chrono::Duration::minutes(m.into())))
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
    let due = due_at(ctx.db(), &lineage, &priority).await?;
    let creator = ctx.user_id();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO tickets (type_id, status_id, category_id, priority, subject, description, customer_id, interaction_id,
                              assignee_user_id, assignee_team_id, due_at, created_by, search_text)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, lower($5 || ' ' || $6)) RETURNING id",
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
    .bind(due)
    .bind(creator)
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
    let filter = r#"($1::text IS NULL OR s.key = $1) AND ($2::uuid IS NULL OR t.type_id = $2)
        AND ($3::uuid IS NULL OR t.assignee_user_id = $3) AND ($4::uuid IS NULL OR t.assignee_team_id = $4)
        AND ($5::uuid IS NULL OR t.customer_id = $5) AND ($6::text IS NULL OR t.priority = $6)
        AND (NOT $7 OR t.closed_at IS NULL) AND (NOT $8 OR (t.closed_at IS NULL AND t.due_at < now()))
        AND ($9::text IS NULL OR t.search_text LIKE $9 OR t.number = $10)"#;
    macro_rules! bind_filters {
        ($query:expr) => {
            $query
                .bind(&q.status)
                .bind(q.type_id)
                .bind(assignee)
                .bind(q.team_id)
                .bind(q.customer_id)
                .bind(&q.priority)
                .bind(q.open.unwrap_or(false))
                .bind(q.breached.unwrap_or(false))
                .bind(&pattern)
                .bind(number)
        };
    }
    let total: i64 = bind_filters!(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM tickets t JOIN ticket_statuses s ON s.id = t.status_id WHERE {filter}"
    ))))
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<TicketRow> = bind_filters!(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} WHERE {filter} ORDER BY COALESCE(t.closed_at IS NULL AND t.due_at < now(), false) DESC, t.number DESC LIMIT $11 OFFSET $12",
        ticket_select!()
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
    load_ticket(ctx.db(), id).await?;
    let kind = if req.internal { "note" } else { "comment" };
    let actor = ctx.user_id();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn st(key: &str, initial: bool, fin: bool) -> StatusDef {
        StatusDef {
            key: key.into(),
            name: key.into(),
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
