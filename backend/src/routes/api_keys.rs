//! API keys for a tenant's integrations. The secret is shown once; only its hash is kept.

use crate::{
    auth::{self, TenantCtx},
    error::{fk_violation, ApiError, ApiResult, Json},
    state::AppState,
    validate::Check,
};
use axum::{extract::Path, http::StatusCode, routing::get, Router};
use hotline_wire::{
    api::{ApiKeyDto, CreateApiKey, CreatedApiKey},
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api-keys", get(list).post(create))
        .route("/api-keys/{id}", axum::routing::delete(revoke))
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: Uuid,
    name: String,
    prefix: String,
    role_id: Uuid,
    created_at: chrono::DateTime<chrono::Utc>,
    last_used_at: Option<chrono::DateTime<chrono::Utc>>,
}

fn dto(r: KeyRow) -> ApiKeyDto {
    ApiKeyDto {
        id: r.id,
        name: r.name,
        prefix: r.prefix,
        role_id: r.role_id,
        created_at: r.created_at,
        last_used_at: r.last_used_at,
    }
}

#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api keys", responses((status = 200, body = Vec<ApiKeyDto>)))]
pub async fn list(mut ctx: TenantCtx) -> ApiResult<Json<Vec<ApiKeyDto>>> {
    ctx.require(perms::API_KEYS_WRITE)?;
    let rows: Vec<KeyRow> = sqlx::query_as(
        "SELECT id, name, prefix, role_id, created_at, last_used_at FROM api_keys
          WHERE revoked_at IS NULL ORDER BY created_at DESC",
    )
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(dto).collect()))
}

#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api keys", request_body = CreateApiKey,
    responses((status = 201, body = CreatedApiKey), (status = 422)))]
pub async fn create(
    mut ctx: TenantCtx,
    Json(req): Json<CreateApiKey>,
) -> ApiResult<(StatusCode, Json<CreatedApiKey>)> {
    ctx.require(perms::API_KEYS_WRITE)?;
    let mut c = Check::new();
    c.text("name", &req.name, 80);
    c.finish()?;
    let (secret, hash) = auth::new_secret();
    let full = auth::api_key_string(ctx.tenant().id, &secret);
    let prefix: String = full.chars().take(12).collect();
    let creator = ctx.user_id();
    let row: KeyRow = sqlx::query_as(
        "INSERT INTO api_keys (name, prefix, secret_hash, role_id, created_by) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, name, prefix, role_id, created_at, last_used_at",
    )
    .bind(req.name.trim())
    .bind(&prefix)
    .bind(hash)
    .bind(req.role_id)
    .bind(creator)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| if fk_violation(&e) { ApiError::field("role_id", "no such role") } else { e.into() })?;
    ctx.audit(
        "api_key.create",
        Some("api_key"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKey {
            key: dto(row),
            secret: full,
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/api-keys/{id}", tag = "api keys", responses((status = 204), (status = 404)))]
pub async fn revoke(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::API_KEYS_WRITE)?;
    let n =
        sqlx::query("UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .execute(ctx.db())
            .await?
            .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "api_key.revoke",
        Some("api_key"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
