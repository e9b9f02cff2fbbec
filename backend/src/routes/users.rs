//! Tenant users: list/search, create, edit, deactivate, password reset, skills.

use crate::{
    auth::{self, TenantCtx},
    error::{fk_violation, unique_violation, ApiError, ApiResult, Json},
    password,
    routes::paging,
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use axum_extra::extract::CookieJar;
use hotline_wire::{
    api::{CreateUser, ListQuery, Page, ResetPasswordRequest, SkillLevel, UpdateUser, UserDto},
    permissions as perms,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/users", get(list).post(create))
        .route("/users/{id}", get(fetch).patch(update).delete(deactivate))
        .route("/users/{id}/reset-password", post(reset_password))
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role_id: Uuid,
    role_name: String,
    team_id: Option<Uuid>,
    extension: Option<String>,
    active: bool,
    skills: sqlx::types::Json<Vec<SkillLevel>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<UserRow> for UserDto {
    fn from(r: UserRow) -> Self {
        UserDto {
            id: r.id,
            email: r.email,
            name: r.name,
            role_id: r.role_id,
            role_name: r.role_name,
            team_id: r.team_id,
            extension: r.extension,
            active: r.active,
            skills: r.skills.0,
            created_at: r.created_at,
        }
    }
}

macro_rules! user_select {
    () => {
        "SELECT u.id, u.email, u.name, u.role_id, r.name AS role_name, u.team_id, u.extension,
                u.active, u.created_at,
                COALESCE((SELECT json_agg(json_build_object('skill_id', s.skill_id, 'level', s.level)
                                          ORDER BY s.skill_id)
                            FROM user_skills s WHERE s.user_id = u.id), '[]') AS skills
           FROM users u JOIN roles r ON r.id = u.role_id"
    };
}

/// One user of the current tenant schema.
pub async fn load_user(conn: &mut PgConnection, id: Uuid) -> ApiResult<UserDto> {
    let row: Option<UserRow> = sqlx::query_as(concat!(user_select!(), " WHERE u.id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(Into::into).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(ListQuery),
    responses((status = 200, body = Page<UserDto>), (status = 401, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<UserDto>>> {
    ctx.require(perms::USERS_READ)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let pattern =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(like_pattern);
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users u
          WHERE ($1::text IS NULL OR u.name ILIKE $1 OR u.email ILIKE $1 OR u.extension ILIKE $1)
            AND ($2 OR u.active)",
    )
    .bind(&pattern)
    .bind(q.include_inactive.unwrap_or(false))
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<UserRow> = sqlx::query_as(concat!(
        user_select!(),
        " WHERE ($1::text IS NULL OR u.name ILIKE $1 OR u.email ILIKE $1 OR u.extension ILIKE $1)
            AND ($2 OR u.active)
          ORDER BY lower(u.name), u.id LIMIT $3 OFFSET $4"
    ))
    .bind(&pattern)
    .bind(q.include_inactive.unwrap_or(false))
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(Into::into).collect(),
        total,
        page,
        per_page,
    }))
}

/// `%text%` with LIKE's own wildcards escaped.
pub fn like_pattern(q: &str) -> String {
    let escaped = q
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 200, body = UserDto), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn fetch(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<UserDto>> {
    ctx.require(perms::USERS_READ)?;
    let user = load_user(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(user))
}

fn check_skills(c: &mut Check, field: &str, skills: &[SkillLevel]) {
    for (i, s) in skills.iter().enumerate() {
        if !(1..=10).contains(&s.level) {
            c.fail(&format!("{field}[{i}].level"), "must be between 1 and 10");
        }
    }
    let mut ids: Vec<_> = skills.iter().map(|s| s.skill_id).collect();
    ids.sort();
    ids.dedup();
    if ids.len() != skills.len() {
        c.fail(field, "lists a skill twice");
    }
}

fn check_extension(c: &mut Check, ext: Option<&str>) {
    if let Some(e) = ext {
        if !(2..=8).contains(&e.len()) || !e.bytes().all(|b| b.is_ascii_digit()) {
            c.fail("extension", "must be 2–8 digits");
        }
    }
}

async fn set_skills(
    conn: &mut PgConnection,
    user_id: Uuid,
    skills: &[SkillLevel],
) -> ApiResult<()> {
    sqlx::query("DELETE FROM user_skills WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    for s in skills {
        let r =
            sqlx::query("INSERT INTO user_skills (user_id, skill_id, level) VALUES ($1, $2, $3)")
                .bind(user_id)
                .bind(s.skill_id)
                .bind(s.level)
                .execute(&mut *conn)
                .await;
        if let Err(e) = r {
            return Err(if fk_violation(&e) {
                ApiError::field("skills", "names a skill that does not exist")
            } else {
                e.into()
            });
        }
    }
    Ok(())
}

/// Maps a users-table write error to the field at fault.
fn user_write_error(e: sqlx::Error) -> ApiError {
    if let Some(constraint) = unique_violation(&e) {
        return if constraint.contains("extension") {
            ApiError::Conflict {
                code: "extension_taken",
                detail: "Another user has this extension.".into(),
            }
        } else {
            ApiError::Conflict {
                code: "email_taken",
                detail: "Another user has this e-mail address.".into(),
            }
        };
    }
    if fk_violation(&e) {
        return ApiError::Validation(vec![hotline_wire::api::FieldError {
            field: "role_id/team_id".into(),
            message: "names a role or team that does not exist".into(),
        }]);
    }
    e.into()
}

async fn check_seats(state: &AppState, ctx: &mut TenantCtx) -> ApiResult<()> {
    let seats: i32 = sqlx::query_scalar(
        "SELECT p.seats FROM platform.tenants t JOIN platform.plans p ON p.id = t.plan_id WHERE t.id = $1",
    )
    .bind(ctx.tenant().id)
    .fetch_one(&state.db)
    .await?;
    let active: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE active")
        .fetch_one(ctx.db())
        .await?;
    if active >= i64::from(seats) {
        return Err(ApiError::Conflict {
            code: "seat_limit",
            detail: format!(
                "Your plan allows {seats} active users; upgrade the plan or deactivate someone."
            ),
        });
    }
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUser,
    responses((status = 201, body = UserDto), (status = 422, body = hotline_wire::api::Problem),
              (status = 409, body = hotline_wire::api::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<CreateUser>,
) -> ApiResult<(StatusCode, Json<UserDto>)> {
    ctx.require(perms::USERS_WRITE)?;
    let mut c = Check::new();
    c.email("email", &req.email);
    c.text("name", &req.name, 200);
    let company = ctx.tenant().name.clone();
    let who = password::Context {
        email: &req.email,
        name: &req.name,
        company: &company,
    };
    password::check(&mut c, "password", &req.password, &who);
    check_extension(&mut c, req.extension.as_deref());
    check_skills(&mut c, "skills", &req.skills);
    c.finish()?;
    check_seats(&state, &mut ctx).await?;
    let hash = auth::hash_password(req.password.clone()).await?;
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, role_id, team_id, extension)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(req.email.trim())
    .bind(req.name.trim())
    .bind(hash)
    .bind(req.role_id)
    .bind(req.team_id)
    .bind(&req.extension)
    .fetch_one(ctx.db())
    .await
    .map_err(user_write_error)?;
    set_skills(ctx.db(), id, &req.skills).await?;
    let user = load_user(ctx.db(), id).await?;
    ctx.audit(
        "user.create",
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({ "email": user.email, "role": user.role_name, "skills": user.skills.len() }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(user)))
}

#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUser,
    responses((status = 200, body = UserDto), (status = 404, body = hotline_wire::api::Problem), (status = 409, body = hotline_wire::api::Problem)))]
pub async fn update(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    jar: CookieJar,
    Path(id): Path<Uuid>,
    Json(req): Json<UpdateUser>,
) -> ApiResult<(CookieJar, Json<UserDto>)> {
    ctx.require(perms::USERS_WRITE)?;
    let mut c = Check::new();
    if let Some(e) = &req.email {
        c.email("email", e);
    }
    if let Some(n) = &req.name {
        c.text("name", n, 200);
    }
    check_extension(&mut c, req.extension.as_ref().and_then(|e| e.as_deref()));
    if let Some(s) = &req.skills {
        check_skills(&mut c, "skills", s);
    }
    c.finish()?;
    let before = load_user(ctx.db(), id).await?;
    if req.active == Some(false) && ctx.user_id() == Some(id) {
        return Err(ApiError::BadRequest {
            code: "cannot_deactivate_self",
            detail: "You cannot deactivate your own account.".into(),
        });
    }
    if req.active == Some(true) && !before.active {
        check_seats(&state, &mut ctx).await?;
    }
    sqlx::query(
        "UPDATE users SET
            email = COALESCE($2, email), name = COALESCE($3, name), role_id = COALESCE($4, role_id),
            team_id = CASE WHEN $5 THEN $6 ELSE team_id END,
            extension = CASE WHEN $7 THEN $8 ELSE extension END,
            active = COALESCE($9, active), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(req.email.as_deref().map(str::trim))
    .bind(req.name.as_deref().map(str::trim))
    .bind(req.role_id)
    .bind(req.team_id.is_some())
    .bind(req.team_id.flatten())
    .bind(req.extension.is_some())
    .bind(req.extension.clone().flatten())
    .bind(req.active)
    .execute(ctx.db())
    .await
    .map_err(user_write_error)?;
    if let Some(skills) = &req.skills {
        set_skills(ctx.db(), id, skills).await?;
    }
    let after = load_user(ctx.db(), id).await?;
    // A desk phone account belongs to the extension: a new extension, or a deactivated
    // user, ends it (the phone stops registering; the admin creates a new one).
    if after.extension != before.extension || !after.active {
        if let Some(ext) = crate::desk_phones::remove_for_user(ctx.db(), id).await? {
            crate::desk_phones::unpublish(&state, ctx.tenant().id, &ext)
                .await
                .map_err(ApiError::Internal)?;
        }
    }
    let mut jar = jar;
    if req.active == Some(false) {
        let tenant = ctx.tenant().id;
        auth::end_sessions_of(ctx.db(), tenant, id, None).await?;
    } else if after.role_id != before.role_id {
        // A privilege change: sessions opened under the old role end (the caller's own is
        // replaced by a new one).
        if let Some(cookie) = auth::sessions_changed(&state, &mut ctx, &[id]).await? {
            jar = jar.add(cookie);
        }
    }
    ctx.audit(
        "user.update",
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({ "before": before, "after": after }),
    )
    .await?;
    ctx.commit().await?;
    Ok((jar, Json(after)))
}

#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn deactivate(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::USERS_WRITE)?;
    if ctx.user_id() == Some(id) {
        return Err(ApiError::BadRequest {
            code: "cannot_deactivate_self",
            detail: "You cannot deactivate your own account.".into(),
        });
    }
    let n = sqlx::query("UPDATE users SET active = false, updated_at = now() WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    let tenant = ctx.tenant().id;
    auth::end_sessions_of(ctx.db(), tenant, id, None).await?;
    if let Some(ext) = crate::desk_phones::remove_for_user(ctx.db(), id).await? {
        crate::desk_phones::unpublish(&state, tenant, &ext)
            .await
            .map_err(ApiError::Internal)?;
    }
    ctx.audit(
        "user.deactivate",
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/users/{id}/reset-password", tag = "users",
    request_body = ResetPasswordRequest,
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn reset_password(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    jar: CookieJar,
    Path(id): Path<Uuid>,
    Json(req): Json<ResetPasswordRequest>,
) -> ApiResult<(StatusCode, CookieJar)> {
    ctx.require(perms::USERS_WRITE)?;
    let (email, name): (String, String) =
        sqlx::query_as("SELECT email, name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?
            .ok_or(ApiError::NotFound)?;
    let company = ctx.tenant().name.clone();
    let who = password::Context {
        email: &email,
        name: &name,
        company: &company,
    };
    let mut c = Check::new();
    password::check(&mut c, "new_password", &req.new_password, &who);
    c.finish()?;
    let hash = auth::hash_password(req.new_password).await?;
    let email: Option<String> = sqlx::query_scalar(
        "UPDATE users SET password_hash = $2, must_change_password = true, updated_at = now()
          WHERE id = $1 RETURNING email",
    )
    .bind(id)
    .bind(hash)
    .fetch_optional(ctx.db())
    .await?;
    let email = email.ok_or(ApiError::NotFound)?;
    let tenant = ctx.tenant().id;
    // Every session of the user ends (an admin resetting their own password keeps a new one).
    let mut jar = jar;
    if let Some(cookie) = auth::sessions_changed(&state, &mut ctx, &[id]).await? {
        jar = jar.add(cookie);
    }
    ctx.audit(
        "user.reset_password",
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    auth::throttle::clear(&state, tenant, &email).await?;
    Ok((StatusCode::NO_CONTENT, jar))
}
