//! The call center's organisation: teams (a tree), skills, queues, reason codes, roles.

use crate::{
    auth::TenantCtx,
    error::{fk_violation, unique_violation, ApiError, ApiResult, Json},
    state::AppState,
    validate::Check,
};
use axum::{extract::Path, http::StatusCode, routing::get, Router};
use hotline_wire::{
    api::{
        MaxWaitAction, PermissionDto, QueueDto, QueueInput, QueueStrategy, ReasonCodeDto,
        ReasonCodeInput, RoleDto, RoleInput, SkillDto, SkillInput, SkillLevel, TeamDto, TeamInput,
    },
    permissions as perms,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/teams", get(list_teams).post(create_team))
        .route(
            "/teams/{id}",
            get(get_team).put(update_team).delete(delete_team),
        )
        .route("/skills", get(list_skills).post(create_skill))
        .route(
            "/skills/{id}",
            get(get_skill).put(update_skill).delete(delete_skill),
        )
        .route("/queues", get(list_queues).post(create_queue))
        .route(
            "/queues/{id}",
            get(get_queue).put(update_queue).delete(delete_queue),
        )
        .route("/reason-codes", get(list_reasons).post(create_reason))
        .route(
            "/reason-codes/{id}",
            axum::routing::put(update_reason).delete(delete_reason),
        )
        .route("/roles", get(list_roles).post(create_role))
        .route(
            "/roles/{id}",
            get(get_role).put(update_role).delete(delete_role),
        )
        .route("/permissions", get(list_permissions))
}

fn name_taken(what: &str) -> ApiError {
    ApiError::Conflict {
        code: "name_taken",
        detail: format!("A {what} with this name already exists."),
    }
}

/// Maps write errors of this module: duplicate names → 409, dangling or in-use references.
fn write_error(what: &str, e: sqlx::Error) -> ApiError {
    if unique_violation(&e).is_some() {
        name_taken(what)
    } else if fk_violation(&e) {
        ApiError::Conflict {
            code: "in_use",
            detail: format!("This {what} is referenced elsewhere or refers to something missing."),
        }
    } else {
        e.into()
    }
}

async fn deleted(
    ctx: &mut TenantCtx,
    what: &str,
    id: Uuid,
    rows: Result<sqlx::postgres::PgQueryResult, sqlx::Error>,
) -> ApiResult<StatusCode> {
    let n = rows.map_err(|e| write_error(what, e))?.rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        &format!("{what}.delete"),
        Some(what),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ teams

#[derive(sqlx::FromRow)]
struct TeamRow {
    id: Uuid,
    name: String,
    parent_id: Option<Uuid>,
}

fn team(r: TeamRow) -> TeamDto {
    TeamDto {
        id: r.id,
        name: r.name,
        parent_id: r.parent_id,
    }
}

#[utoipa::path(get, path = "/api/v1/teams", tag = "organisation", responses((status = 200, body = Vec<TeamDto>)))]
pub async fn list_teams(mut ctx: TenantCtx) -> ApiResult<Json<Vec<TeamDto>>> {
    ctx.require(perms::USERS_READ)?;
    let rows: Vec<TeamRow> =
        sqlx::query_as("SELECT id, name, parent_id FROM teams ORDER BY lower(name)")
            .fetch_all(ctx.db())
            .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(team).collect()))
}

#[utoipa::path(get, path = "/api/v1/teams/{id}", tag = "organisation", responses((status = 200, body = TeamDto), (status = 404)))]
pub async fn get_team(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<TeamDto>> {
    ctx.require(perms::USERS_READ)?;
    let row: TeamRow = sqlx::query_as("SELECT id, name, parent_id FROM teams WHERE id = $1")
        .bind(id)
        .fetch_optional(ctx.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    ctx.commit().await?;
    Ok(Json(team(row)))
}

fn check_team(req: &TeamInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.finish()
}

/// Refuses a parent that is the team itself or one of its descendants (no cycles).
async fn check_parent(
    conn: &mut PgConnection,
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> ApiResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM teams WHERE id = $1)")
        .bind(parent)
        .fetch_one(&mut *conn)
        .await?;
    if !exists {
        return Err(ApiError::field("parent_id", "no such team"));
    }
    if let Some(id) = id {
        let cycle: bool = sqlx::query_scalar(
            "WITH RECURSIVE up(id, parent_id) AS (
                 SELECT id, parent_id FROM teams WHERE id = $1
               UNION ALL
                 SELECT t.id, t.parent_id FROM teams t JOIN up ON t.id = up.parent_id)
             SELECT EXISTS (SELECT 1 FROM up WHERE id = $2)",
        )
        .bind(parent)
        .bind(id)
        .fetch_one(&mut *conn)
        .await?;
        if cycle {
            return Err(ApiError::field(
                "parent_id",
                "a team cannot sit under itself or its own sub-team",
            ));
        }
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/teams", tag = "organisation", request_body = TeamInput,
    responses((status = 201, body = TeamDto), (status = 409), (status = 422)))]
pub async fn create_team(
    mut ctx: TenantCtx,
    Json(req): Json<TeamInput>,
) -> ApiResult<(StatusCode, Json<TeamDto>)> {
    ctx.require(perms::TEAMS_WRITE)?;
    check_team(&req)?;
    check_parent(ctx.db(), None, req.parent_id).await?;
    let row: TeamRow = sqlx::query_as(
        "INSERT INTO teams (name, parent_id) VALUES ($1, $2) RETURNING id, name, parent_id",
    )
    .bind(req.name.trim())
    .bind(req.parent_id)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| write_error("team", e))?;
    ctx.audit(
        "team.create",
        Some("team"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(team(row))))
}

#[utoipa::path(put, path = "/api/v1/teams/{id}", tag = "organisation", request_body = TeamInput,
    responses((status = 200, body = TeamDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_team(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TeamInput>,
) -> ApiResult<Json<TeamDto>> {
    ctx.require(perms::TEAMS_WRITE)?;
    check_team(&req)?;
    check_parent(ctx.db(), Some(id), req.parent_id).await?;
    let row: TeamRow = sqlx::query_as(
        "UPDATE teams SET name = $2, parent_id = $3 WHERE id = $1 RETURNING id, name, parent_id",
    )
    .bind(id)
    .bind(req.name.trim())
    .bind(req.parent_id)
    .fetch_optional(ctx.db())
    .await
    .map_err(|e| write_error("team", e))?
    .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "team.update",
        Some("team"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name, "parent_id": row.parent_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(team(row)))
}

#[utoipa::path(delete, path = "/api/v1/teams/{id}", tag = "organisation", responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_team(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::TEAMS_WRITE)?;
    let r = sqlx::query("DELETE FROM teams WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await;
    let s = deleted(&mut ctx, "team", id, r).await?;
    ctx.commit().await?;
    Ok(s)
}

// ------------------------------------------------------------------ skills

#[derive(sqlx::FromRow)]
struct SkillRow {
    id: Uuid,
    name: String,
    description: String,
}

fn skill(r: SkillRow) -> SkillDto {
    SkillDto {
        id: r.id,
        name: r.name,
        description: r.description,
    }
}

fn check_skill(req: &SkillInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 80);
    c.max_len("description", &req.description, 500);
    c.finish()
}

#[utoipa::path(get, path = "/api/v1/skills", tag = "organisation", responses((status = 200, body = Vec<SkillDto>)))]
pub async fn list_skills(mut ctx: TenantCtx) -> ApiResult<Json<Vec<SkillDto>>> {
    ctx.require(perms::USERS_READ)?;
    let rows: Vec<SkillRow> =
        sqlx::query_as("SELECT id, name, description FROM skills ORDER BY lower(name)")
            .fetch_all(ctx.db())
            .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(skill).collect()))
}

#[utoipa::path(get, path = "/api/v1/skills/{id}", tag = "organisation", responses((status = 200, body = SkillDto), (status = 404)))]
pub async fn get_skill(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<SkillDto>> {
    ctx.require(perms::USERS_READ)?;
    let row: SkillRow = sqlx::query_as("SELECT id, name, description FROM skills WHERE id = $1")
        .bind(id)
        .fetch_optional(ctx.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    ctx.commit().await?;
    Ok(Json(skill(row)))
}

#[utoipa::path(post, path = "/api/v1/skills", tag = "organisation", request_body = SkillInput,
    responses((status = 201, body = SkillDto), (status = 409), (status = 422)))]
pub async fn create_skill(
    mut ctx: TenantCtx,
    Json(req): Json<SkillInput>,
) -> ApiResult<(StatusCode, Json<SkillDto>)> {
    ctx.require(perms::SKILLS_WRITE)?;
    check_skill(&req)?;
    let row: SkillRow = sqlx::query_as(
        "INSERT INTO skills (name, description) VALUES ($1, $2) RETURNING id, name, description",
    )
    .bind(req.name.trim())
    .bind(req.description.trim())
    .fetch_one(ctx.db())
    .await
    .map_err(|e| write_error("skill", e))?;
    ctx.audit(
        "skill.create",
        Some("skill"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(skill(row))))
}

#[utoipa::path(put, path = "/api/v1/skills/{id}", tag = "organisation", request_body = SkillInput,
    responses((status = 200, body = SkillDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_skill(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<SkillInput>,
) -> ApiResult<Json<SkillDto>> {
    ctx.require(perms::SKILLS_WRITE)?;
    check_skill(&req)?;
    let row: SkillRow = sqlx::query_as("UPDATE skills SET name = $2, description = $3 WHERE id = $1 RETURNING id, name, description")
        .bind(id)
        .bind(req.name.trim())
        .bind(req.description.trim())
        .fetch_optional(ctx.db())
        .await
        .map_err(|e| write_error("skill", e))?
        .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "skill.update",
        Some("skill"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(skill(row)))
}

#[utoipa::path(delete, path = "/api/v1/skills/{id}", tag = "organisation", responses((status = 204), (status = 404)))]
pub async fn delete_skill(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::SKILLS_WRITE)?;
    let r = sqlx::query("DELETE FROM skills WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await;
    let s = deleted(&mut ctx, "skill", id, r).await?;
    ctx.commit().await?;
    Ok(s)
}

// ------------------------------------------------------------------ queues

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: Uuid,
    name: String,
    strategy: String,
    max_wait_seconds: i32,
    wrap_up_seconds: i32,
    priority: i32,
    overflow_queue_id: Option<Uuid>,
    max_wait_action: String,
    max_wait_prompt: Option<String>,
    voicemail_user_id: Option<Uuid>,
    announce_position: bool,
    announce_wait: bool,
    announce_interval_seconds: i32,
    required_skills: sqlx::types::Json<Vec<SkillLevel>>,
}

macro_rules! queue_select {
    () => {
        "SELECT q.id, q.name, q.strategy, q.max_wait_seconds, q.wrap_up_seconds, q.priority, q.overflow_queue_id,
                q.max_wait_action, q.max_wait_prompt, q.voicemail_user_id,
                q.announce_position, q.announce_wait, q.announce_interval_seconds,
                COALESCE((SELECT json_agg(json_build_object('skill_id', s.skill_id, 'level', s.min_level)
                                          ORDER BY s.skill_id)
                            FROM queue_skills s WHERE s.queue_id = q.id), '[]') AS required_skills
           FROM queues q"
    };
}

fn queue(r: QueueRow) -> QueueDto {
    QueueDto {
        id: r.id,
        name: r.name,
        strategy: QueueStrategy::parse(&r.strategy).unwrap_or(QueueStrategy::LongestIdle),
        required_skills: r.required_skills.0,
        max_wait_seconds: r.max_wait_seconds,
        wrap_up_seconds: r.wrap_up_seconds,
        priority: r.priority,
        overflow_queue_id: r.overflow_queue_id,
        max_wait_action: MaxWaitAction::parse(&r.max_wait_action).unwrap_or_default(),
        max_wait_prompt: r.max_wait_prompt,
        voicemail_user_id: r.voicemail_user_id,
        announce_position: r.announce_position,
        announce_wait: r.announce_wait,
        announce_interval_seconds: r.announce_interval_seconds,
    }
}

async fn load_queue(conn: &mut PgConnection, id: Uuid) -> ApiResult<QueueDto> {
    let row: Option<QueueRow> = sqlx::query_as(concat!(queue_select!(), " WHERE q.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(queue).ok_or(ApiError::NotFound)
}

/// The queue's max-wait action as given, or as implied by an older client's fields.
fn max_wait_action(req: &QueueInput) -> MaxWaitAction {
    req.max_wait_action.unwrap_or(match req.overflow_queue_id {
        Some(_) => MaxWaitAction::Overflow,
        None => MaxWaitAction::Voicemail,
    })
}

/// Checks a queue and returns what is stored: the max-wait action, the overflow queue (only
/// for `overflow`) and the prompt (trimmed, none when blank). The prompt must be built in or
/// one of the tenant's (`ivr_prompts`).
async fn check_queue(
    conn: &mut PgConnection,
    req: &QueueInput,
    id: Option<Uuid>,
) -> ApiResult<(MaxWaitAction, Option<Uuid>, Option<String>)> {
    let action = max_wait_action(req);
    let overflow = (action == MaxWaitAction::Overflow)
        .then_some(req.overflow_queue_id)
        .flatten();
    let prompt = req
        .max_wait_prompt
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(String::from);
    let mut c = Check::new();
    if action == MaxWaitAction::Overflow && overflow.is_none() {
        c.fail("overflow_queue_id", "choose the queue callers overflow to");
    }
    if let Some(p) = &prompt {
        let known = hotline_wire::prompts::is_builtin_prompt(p)
            || (hotline_wire::prompts::is_prompt_name(p)
                && sqlx::query_scalar::<_, bool>(
                    "SELECT EXISTS (SELECT 1 FROM ivr_prompts WHERE name = $1)",
                )
                .bind(p)
                .fetch_one(&mut *conn)
                .await?);
        if !known {
            c.fail(
                "max_wait_prompt",
                format!(
                    "missing prompt \"{p}\": upload it under IVR prompts or use a built-in one"
                ),
            );
        }
    }
    check_queue_fields(&mut c, req, id);
    c.finish()?;
    Ok((action, overflow, prompt))
}

fn check_queue_fields(c: &mut Check, req: &QueueInput, id: Option<Uuid>) {
    c.text("name", &req.name, 80);
    c.range("max_wait_seconds", req.max_wait_seconds.into(), 0, 86_400);
    c.range("wrap_up_seconds", req.wrap_up_seconds.into(), 0, 3_600);
    c.range("priority", req.priority.into(), 0, 100);
    crate::announce::check_settings(c, req);
    for (i, s) in req.required_skills.iter().enumerate() {
        if !(1..=10).contains(&s.level) {
            c.fail(
                &format!("required_skills[{i}].level"),
                "must be between 1 and 10",
            );
        }
    }
    if id.is_some() && req.overflow_queue_id == id {
        c.fail("overflow_queue_id", "a queue cannot overflow into itself");
    }
}

async fn save_queue_skills(
    conn: &mut PgConnection,
    id: Uuid,
    skills: &[SkillLevel],
) -> ApiResult<()> {
    sqlx::query("DELETE FROM queue_skills WHERE queue_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for s in skills {
        sqlx::query("INSERT INTO queue_skills (queue_id, skill_id, min_level) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(s.skill_id)
            .bind(s.level)
            .execute(&mut *conn)
            .await
            .map_err(|e| {
                if fk_violation(&e) {
                    ApiError::field("required_skills", "names a skill that does not exist")
                } else if unique_violation(&e).is_some() {
                    ApiError::field("required_skills", "lists a skill twice")
                } else {
                    e.into()
                }
            })?;
    }
    Ok(())
}

fn queue_fk(e: sqlx::Error) -> ApiError {
    if fk_violation(&e) && e.to_string().contains("voicemail_user_id") {
        ApiError::field("voicemail_user_id", "no such user")
    } else if fk_violation(&e) {
        ApiError::field("overflow_queue_id", "no such queue")
    } else {
        write_error("queue", e)
    }
}

#[utoipa::path(get, path = "/api/v1/queues", tag = "organisation", responses((status = 200, body = Vec<QueueDto>)))]
pub async fn list_queues(mut ctx: TenantCtx) -> ApiResult<Json<Vec<QueueDto>>> {
    ctx.require(perms::USERS_READ)?;
    let rows: Vec<QueueRow> = sqlx::query_as(concat!(queue_select!(), " ORDER BY lower(q.name)"))
        .fetch_all(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(queue).collect()))
}

#[utoipa::path(get, path = "/api/v1/queues/{id}", tag = "organisation", responses((status = 200, body = QueueDto), (status = 404)))]
pub async fn get_queue(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<QueueDto>> {
    ctx.require(perms::USERS_READ)?;
    let q = load_queue(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(q))
}

#[utoipa::path(post, path = "/api/v1/queues", tag = "organisation", request_body = QueueInput,
    responses((status = 201, body = QueueDto), (status = 409), (status = 422)))]
pub async fn create_queue(
    mut ctx: TenantCtx,
    Json(req): Json<QueueInput>,
) -> ApiResult<(StatusCode, Json<QueueDto>)> {
    ctx.require(perms::QUEUES_WRITE)?;
    let (action, overflow, prompt) = check_queue(ctx.db(), &req, None).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO queues (name, strategy, max_wait_seconds, wrap_up_seconds, priority, overflow_queue_id,
                             max_wait_action, max_wait_prompt, voicemail_user_id,
                             announce_position, announce_wait, announce_interval_seconds)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(req.name.trim())
    .bind(req.strategy.as_str())
    .bind(req.max_wait_seconds)
    .bind(req.wrap_up_seconds)
    .bind(req.priority)
    .bind(overflow)
    .bind(action.as_str())
    .bind(&prompt)
    .bind(req.voicemail_user_id)
    .bind(req.announce_position)
    .bind(req.announce_wait)
    .bind(req.announce_interval_seconds)
    .fetch_one(ctx.db())
    .await
    .map_err(queue_fk)?;
    save_queue_skills(ctx.db(), id, &req.required_skills).await?;
    let q = load_queue(ctx.db(), id).await?;
    ctx.audit(
        "queue.create",
        Some("queue"),
        Some(id.to_string()),
        serde_json::to_value(&q).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(q)))
}

#[utoipa::path(put, path = "/api/v1/queues/{id}", tag = "organisation", request_body = QueueInput,
    responses((status = 200, body = QueueDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_queue(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<QueueInput>,
) -> ApiResult<Json<QueueDto>> {
    ctx.require(perms::QUEUES_WRITE)?;
    let (action, overflow, prompt) = check_queue(ctx.db(), &req, Some(id)).await?;
    let n = sqlx::query(
        "UPDATE queues SET name = $2, strategy = $3, max_wait_seconds = $4, wrap_up_seconds = $5,
                priority = $6, overflow_queue_id = $7, max_wait_action = $8, max_wait_prompt = $9,
                voicemail_user_id = $10, announce_position = $11, announce_wait = $12,
                announce_interval_seconds = $13
          WHERE id = $1",
    )
    .bind(id)
    .bind(req.name.trim())
    .bind(req.strategy.as_str())
    .bind(req.max_wait_seconds)
    .bind(req.wrap_up_seconds)
    .bind(req.priority)
    .bind(overflow)
    .bind(action.as_str())
    .bind(&prompt)
    .bind(req.voicemail_user_id)
    .bind(req.announce_position)
    .bind(req.announce_wait)
    .bind(req.announce_interval_seconds)
    .execute(ctx.db())
    .await
    .map_err(queue_fk)?
    .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    save_queue_skills(ctx.db(), id, &req.required_skills).await?;
    let q = load_queue(ctx.db(), id).await?;
    ctx.audit(
        "queue.update",
        Some("queue"),
        Some(id.to_string()),
        serde_json::to_value(&q).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(q))
}

#[utoipa::path(delete, path = "/api/v1/queues/{id}", tag = "organisation", responses((status = 204), (status = 404)))]
pub async fn delete_queue(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::QUEUES_WRITE)?;
    let r = sqlx::query("DELETE FROM queues WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await;
    let s = deleted(&mut ctx, "queue", id, r).await?;
    ctx.commit().await?;
    Ok(s)
}

// ------------------------------------------------------------------ reason codes
//
// System reasons (`builtin_key`, tenant migration 0018: missed, rejected, softphone lost,
// phone unreachable) are listed like the others but cannot be deleted (409
// `builtin_reason_code`), renamed or given another kind (422 on the field): the desktop shows
// them translated by key and the ACD relies on their kind. Only `needs_approval` may change.

#[derive(sqlx::FromRow)]
struct ReasonRow {
    id: Uuid,
    name: String,
    kind: String,
    needs_approval: bool,
    builtin_key: Option<String>,
}

fn reason(r: ReasonRow) -> ReasonCodeDto {
    ReasonCodeDto {
        id: r.id,
        name: r.name,
        kind: r.kind,
        needs_approval: r.needs_approval,
        builtin_key: r.builtin_key,
    }
}

fn check_reason(req: &ReasonCodeInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 80);
    if req.kind != "not_ready" && req.kind != "break" {
        c.fail("kind", "must be 'not_ready' or 'break'");
    }
    c.finish()
}

#[utoipa::path(get, path = "/api/v1/reason-codes", tag = "organisation", responses((status = 200, body = Vec<ReasonCodeDto>)))]
pub async fn list_reasons(mut ctx: TenantCtx) -> ApiResult<Json<Vec<ReasonCodeDto>>> {
    // Agents need these to pick a not-ready reason.
    ctx.require(perms::AGENT_STATE)
        .or_else(|_| ctx.require(perms::USERS_READ))?;
    let rows: Vec<ReasonRow> = sqlx::query_as(
        "SELECT id, name, kind, needs_approval, builtin_key FROM reason_codes ORDER BY kind, lower(name)",
    )
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(reason).collect()))
}

#[utoipa::path(post, path = "/api/v1/reason-codes", tag = "organisation", request_body = ReasonCodeInput,
    responses((status = 201, body = ReasonCodeDto), (status = 409), (status = 422)))]
pub async fn create_reason(
    mut ctx: TenantCtx,
    Json(req): Json<ReasonCodeInput>,
) -> ApiResult<(StatusCode, Json<ReasonCodeDto>)> {
    ctx.require(perms::QUEUES_WRITE)?;
    check_reason(&req)?;
    let row: ReasonRow = sqlx::query_as(
        "INSERT INTO reason_codes (name, kind, needs_approval) VALUES ($1, $2, $3) RETURNING id, name, kind, needs_approval, builtin_key",
    )
    .bind(req.name.trim())
    .bind(&req.kind)
    .bind(req.needs_approval)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| write_error("reason code", e))?;
    ctx.audit(
        "reason_code.create",
        Some("reason_code"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(reason(row))))
}

#[utoipa::path(put, path = "/api/v1/reason-codes/{id}", tag = "organisation", request_body = ReasonCodeInput,
    responses((status = 200, body = ReasonCodeDto), (status = 404), (status = 409),
        (status = 422, body = hotline_wire::api::Problem, description = "Invalid fields, or a new name or kind for a built-in reason code")))]
pub async fn update_reason(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<ReasonCodeInput>,
) -> ApiResult<Json<ReasonCodeDto>> {
    ctx.require(perms::QUEUES_WRITE)?;
    check_reason(&req)?;
    let old: ReasonRow = sqlx::query_as(
        "SELECT id, name, kind, needs_approval, builtin_key FROM reason_codes WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(ctx.db())
    .await?
    .ok_or(ApiError::NotFound)?;
    if old.builtin_key.is_some() {
        let mut errors = Vec::new();
        if req.name.trim() != old.name {
            errors.push(hotline_wire::api::FieldError {
                field: "name".into(),
                message: "a built-in reason code keeps its name (the desktop shows it translated)"
                    .into(),
            });
        }
        if req.kind != old.kind {
            errors.push(hotline_wire::api::FieldError {
                field: "kind".into(),
                message: "a built-in reason code keeps its kind".into(),
            });
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
    }
    let row: ReasonRow = sqlx::query_as(
        "UPDATE reason_codes SET name = $2, kind = $3, needs_approval = $4 WHERE id = $1 RETURNING id, name, kind, needs_approval, builtin_key",
    )
    .bind(id)
    .bind(req.name.trim())
    .bind(&req.kind)
    .bind(req.needs_approval)
    .fetch_optional(ctx.db())
    .await
    .map_err(|e| write_error("reason code", e))?
    .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "reason_code.update",
        Some("reason_code"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(reason(row)))
}

#[utoipa::path(delete, path = "/api/v1/reason-codes/{id}", tag = "organisation",
    responses((status = 204), (status = 404),
        (status = 409, body = hotline_wire::api::Problem, description = "`builtin_reason_code`: system reasons cannot be deleted")))]
pub async fn delete_reason(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::QUEUES_WRITE)?;
    let builtin: Option<Option<String>> =
        sqlx::query_scalar("SELECT builtin_key FROM reason_codes WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    if let Some(Some(key)) = builtin {
        return Err(ApiError::Conflict {
            code: "builtin_reason_code",
            detail: format!(
                "this is a built-in reason code ({key}) the system uses: it cannot be deleted"
            ),
        });
    }
    let r = sqlx::query("DELETE FROM reason_codes WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await;
    let s = deleted(&mut ctx, "reason_code", id, r).await?;
    ctx.commit().await?;
    Ok(s)
}

// ------------------------------------------------------------------ roles

#[derive(sqlx::FromRow)]
struct RoleRow {
    id: Uuid,
    name: String,
    builtin_key: Option<String>,
    permissions: Vec<String>,
}

fn role(r: RoleRow) -> RoleDto {
    let builtin = r.builtin_key.is_some();
    let permissions = crate::auth::role_permissions(r.builtin_key.as_deref(), r.permissions);
    RoleDto {
        id: r.id,
        name: r.name,
        permissions,
        builtin,
    }
}

fn check_role(req: &RoleInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 80);
    for (i, p) in req.permissions.iter().enumerate() {
        if !perms::is_known(p) {
            c.fail(
                &format!("permissions[{i}]"),
                format!(
                    "unknown permission '{}'",
                    p.chars().take(60).collect::<String>()
                ),
            );
        }
    }
    c.finish()
}

fn normalised(perms_in: &[String]) -> Vec<String> {
    let mut v = perms_in.to_vec();
    v.sort();
    v.dedup();
    v
}

#[utoipa::path(get, path = "/api/v1/roles", tag = "organisation", responses((status = 200, body = Vec<RoleDto>)))]
pub async fn list_roles(mut ctx: TenantCtx) -> ApiResult<Json<Vec<RoleDto>>> {
    ctx.require(perms::USERS_READ)?;
    let rows: Vec<RoleRow> = sqlx::query_as(
        "SELECT id, name, builtin_key, permissions FROM roles ORDER BY builtin_key IS NULL, lower(name)",
    )
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(role).collect()))
}

#[utoipa::path(get, path = "/api/v1/roles/{id}", tag = "organisation", responses((status = 200, body = RoleDto), (status = 404)))]
pub async fn get_role(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<RoleDto>> {
    ctx.require(perms::USERS_READ)?;
    let row: RoleRow =
        sqlx::query_as("SELECT id, name, builtin_key, permissions FROM roles WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?
            .ok_or(ApiError::NotFound)?;
    ctx.commit().await?;
    Ok(Json(role(row)))
}

#[utoipa::path(post, path = "/api/v1/roles", tag = "organisation", request_body = RoleInput,
    responses((status = 201, body = RoleDto), (status = 409), (status = 422)))]
pub async fn create_role(
    mut ctx: TenantCtx,
    Json(req): Json<RoleInput>,
) -> ApiResult<(StatusCode, Json<RoleDto>)> {
    ctx.require(perms::ROLES_WRITE)?;
    check_role(&req)?;
    let row: RoleRow = sqlx::query_as(
        "INSERT INTO roles (name, permissions) VALUES ($1, $2) RETURNING id, name, builtin_key, permissions",
    )
    .bind(req.name.trim())
    .bind(normalised(&req.permissions))
    .fetch_one(ctx.db())
    .await
    .map_err(|e| write_error("role", e))?;
    ctx.audit(
        "role.create",
        Some("role"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name, "permissions": row.permissions }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(role(row))))
}

#[utoipa::path(put, path = "/api/v1/roles/{id}", tag = "organisation", request_body = RoleInput,
    responses((status = 200, body = RoleDto), (status = 404), (status = 400), (status = 409)))]
pub async fn update_role(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut ctx: TenantCtx,
    jar: axum_extra::extract::CookieJar,
    Path(id): Path<Uuid>,
    Json(req): Json<RoleInput>,
) -> ApiResult<(axum_extra::extract::CookieJar, Json<RoleDto>)> {
    ctx.require(perms::ROLES_WRITE)?;
    check_role(&req)?;
    let before: Option<(Option<String>, Vec<String>)> =
        sqlx::query_as("SELECT builtin_key, permissions FROM roles WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    let (builtin, before) = match before {
        Some((b, p)) => (Some(b), normalised(&p)),
        None => (None, Vec::new()),
    };
    match builtin {
        None => return Err(ApiError::NotFound),
        Some(Some(_)) => {
            return Err(ApiError::BadRequest {
                code: "builtin_role",
                detail: "Built-in roles cannot be changed; create a custom role.".into(),
            })
        }
        Some(None) => {}
    }
    let row: RoleRow = sqlx::query_as(
        "UPDATE roles SET name = $2, permissions = $3 WHERE id = $1 RETURNING id, name, builtin_key, permissions",
    )
    .bind(id)
    .bind(req.name.trim())
    .bind(normalised(&req.permissions))
    .fetch_one(ctx.db())
    .await
    .map_err(|e| write_error("role", e))?;
    // A privilege change: the sessions of everyone holding the role end (the caller's own
    // is replaced by a new one), as when one user's role changes.
    let mut jar = jar;
    if normalised(&row.permissions) != before {
        let holders: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM users WHERE role_id = $1")
            .bind(id)
            .fetch_all(ctx.db())
            .await?;
        if let Some(cookie) = crate::auth::sessions_changed(&state, &mut ctx, &holders).await? {
            jar = jar.add(cookie);
        }
    }
    ctx.audit(
        "role.update",
        Some("role"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name, "permissions": row.permissions }),
    )
    .await?;
    ctx.commit().await?;
    Ok((jar, Json(role(row))))
}

#[utoipa::path(delete, path = "/api/v1/roles/{id}", tag = "organisation", responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_role(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::ROLES_WRITE)?;
    let r = sqlx::query("DELETE FROM roles WHERE id = $1 AND builtin_key IS NULL")
        .bind(id)
        .execute(ctx.db())
        .await;
    let s = deleted(&mut ctx, "role", id, r).await?;
    ctx.commit().await?;
    Ok(s)
}

#[utoipa::path(get, path = "/api/v1/permissions", tag = "organisation", responses((status = 200, body = Vec<PermissionDto>)))]
pub async fn list_permissions(ctx: TenantCtx) -> ApiResult<Json<Vec<PermissionDto>>> {
    ctx.require(perms::USERS_READ)?;
    Ok(Json(
        perms::ALL
            .iter()
            .map(|p| PermissionDto {
                key: p.key.into(),
                description: p.description.into(),
            })
            .collect(),
    ))
}
