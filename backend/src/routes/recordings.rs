//! Call recordings of the tenant (indexed by `call_events` from the gateways' events): list,
//! play/download, and the retention setting.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    routes::paging,
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query},
    response::Response,
    routing::get,
    Router,
};
use hotline_wire::{
    api::Page,
    calls::{RecordingDto, RecordingQuery, RecordingSettings},
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/recordings", get(list))
        .route("/recordings/{call_id}/audio", get(audio))
        .route("/settings/recordings", get(get_settings).put(put_settings))
}

#[derive(sqlx::FromRow)]
struct Row {
    call_id: Uuid,
    started_at: chrono::DateTime<chrono::Utc>,
    duration_ms: i64,
    size_bytes: i64,
}

#[utoipa::path(get, path = "/api/v1/recordings", tag = "calls", params(RecordingQuery),
    responses((status = 200, body = Page<RecordingDto>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<RecordingQuery>,
) -> ApiResult<Json<Page<RecordingDto>>> {
    ctx.require(perms::RECORDINGS_READ)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    const FILTER: &str = "($1::timestamptz IS NULL OR started_at >= $1)
                      AND ($2::timestamptz IS NULL OR started_at < $2)";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM recordings WHERE {FILTER}"
    )))
    .bind(q.from)
    .bind(q.to)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT call_id, started_at, duration_ms, size_bytes FROM recordings WHERE {FILTER}
          ORDER BY started_at DESC, call_id LIMIT $3 OFFSET $4"
    )))
    .bind(q.from)
    .bind(q.to)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    let items = rows
        .into_iter()
        .map(|r| RecordingDto {
            audio_url: format!("/api/v1/recordings/{}/audio", r.call_id),
            call_id: r.call_id,
            started_at: r.started_at,
            duration_ms: r.duration_ms,
            size_bytes: r.size_bytes,
        })
        .collect();
    Ok(Json(Page {
        items,
        total,
        page,
        per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/recordings/{call_id}/audio", tag = "calls",
    params(("call_id" = Uuid, Path, description = "Call id")),
    responses((status = 200, content_type = "audio/wav", description = "Stereo WAV: left caller, right other party"),
        (status = 404, body = hotline_wire::api::Problem)))]
pub async fn audio(mut ctx: TenantCtx, Path(call_id): Path<Uuid>) -> ApiResult<Response> {
    // Recording readers, and the agents who handled the call.
    crate::routes::calls::may_play(&mut ctx, call_id).await?;
    let path: Option<String> = sqlx::query_scalar("SELECT path FROM recordings WHERE call_id = $1")
        .bind(call_id)
        .fetch_optional(ctx.db())
        .await?;
    let Some(path) = path else {
        return Err(ApiError::NotFound);
    };
    // Gateways write `<dir>/<tenant id>/…`: refuse a path outside this tenant's tree.
    if !crate::files::in_tenant_tree(&path, ctx.tenant().id) {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "recording.download",
        Some("recording"),
        Some(call_id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    crate::files::wav_response(&path, &format!("{call_id}.wav"), "recording_file_missing").await
}

#[utoipa::path(get, path = "/api/v1/settings/recordings", tag = "calls",
    responses((status = 200, body = RecordingSettings)))]
pub async fn get_settings(mut ctx: TenantCtx) -> ApiResult<Json<RecordingSettings>> {
    ctx.require(perms::RECORDINGS_READ)?;
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'recordings'")
            .fetch_optional(ctx.db())
            .await?;
    ctx.commit().await?;
    Ok(Json(
        v.and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    ))
}

#[utoipa::path(put, path = "/api/v1/settings/recordings", tag = "calls",
    request_body = RecordingSettings,
    responses((status = 200, body = RecordingSettings), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_settings(
    mut ctx: TenantCtx,
    Json(req): Json<RecordingSettings>,
) -> ApiResult<Json<RecordingSettings>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    if let Some(d) = req.retention_days {
        let mut c = Check::new();
        c.range("retention_days", d as i64, 1, 3650);
        c.finish()?;
    }
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('recordings', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
    )
    .bind(serde_json::to_value(&req).map_err(ApiError::internal)?)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "settings.recordings",
        Some("settings"),
        Some("recordings".into()),
        serde_json::to_value(&req).map_err(ApiError::internal)?,
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(req))
}
