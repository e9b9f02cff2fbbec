//! A user's saved filters on list screens (tenant migration 0027): list, save (same screen
//! and name replaces), delete. Each user sees and removes only their own; an API key (no
//! user) has none.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query},
    http::StatusCode,
    routing::{delete, get},
    Router,
};
use hotline_wire::api::{SavedFilterDto, SavedFilterInput, SavedFilterQuery, SAVED_FILTER_SCREENS};
use std::collections::BTreeMap;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/saved-filters", get(list).post(save))
        .route("/saved-filters/{id}", delete(remove))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    screen: String,
    name: String,
    query: sqlx::types::Json<BTreeMap<String, String>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

impl From<Row> for SavedFilterDto {
    fn from(r: Row) -> Self {
        SavedFilterDto {
            id: r.id,
            screen: r.screen,
            name: r.name,
            query: r.query.0,
            created_at: r.created_at,
        }
    }
}

fn check_screen(c: &mut Check, screen: &str) {
    if !SAVED_FILTER_SCREENS.contains(&screen) {
        c.fail(
            "screen",
            format!("one of {}", SAVED_FILTER_SCREENS.join(", ")),
        );
    }
}

#[utoipa::path(get, path = "/api/v1/saved-filters", tag = "users", params(SavedFilterQuery),
    responses((status = 200, body = Vec<SavedFilterDto>, description = "The caller's own, by name"),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<SavedFilterQuery>,
) -> ApiResult<Json<Vec<SavedFilterDto>>> {
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let mut c = Check::new();
    check_screen(&mut c, &q.screen);
    c.finish()?;
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, screen, name, query, created_at FROM saved_filters
          WHERE user_id = $1 AND screen = $2 ORDER BY lower(name), id",
    )
    .bind(user)
    .bind(&q.screen)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/api/v1/saved-filters", tag = "users", request_body = SavedFilterInput,
    responses((status = 200, body = SavedFilterDto, description = "Saved (a filter of the same screen and name is replaced)"),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn save(
    mut ctx: TenantCtx,
    Json(req): Json<SavedFilterInput>,
) -> ApiResult<Json<SavedFilterDto>> {
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let mut c = Check::new();
    check_screen(&mut c, &req.screen);
    c.text("name", &req.name, 80);
    if req.query.len() > 20 {
        c.fail("query", "at most 20 values");
    }
    for (k, v) in &req.query {
        if k.is_empty() || k.chars().count() > 64 || v.chars().count() > 200 {
            c.fail(
                "query",
                "names of 1–64 and values of at most 200 characters",
            );
            break;
        }
    }
    c.finish()?;
    let row: Row = sqlx::query_as(
        "INSERT INTO saved_filters (user_id, screen, name, query) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id, screen, name) DO UPDATE SET query = EXCLUDED.query
         RETURNING id, screen, name, query, created_at",
    )
    .bind(user)
    .bind(&req.screen)
    .bind(req.name.trim())
    .bind(sqlx::types::Json(&req.query))
    .fetch_one(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(row.into()))
}

#[utoipa::path(delete, path = "/api/v1/saved-filters/{id}", tag = "users",
    params(("id" = Uuid, Path, description = "A saved filter of the caller")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn remove(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let gone = sqlx::query("DELETE FROM saved_filters WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user)
        .execute(ctx.db())
        .await?;
    if gone.rows_affected() == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
