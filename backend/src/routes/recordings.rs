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
    calls::{PeaksQuery, RecordingDto, RecordingPeaks, RecordingQuery, RecordingSettings},
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/recordings", get(list))
        .route("/recordings/{call_id}/audio", get(audio))
        .route("/recordings/{call_id}/peaks", get(peaks))
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

#[utoipa::path(get, path = "/api/v1/recordings/{call_id}/peaks", tag = "calls",
    params(("call_id" = Uuid, Path, description = "Call id"), PeaksQuery),
    responses((status = 200, body = RecordingPeaks),
        (status = 400, body = hotline_wire::api::Problem, description = "File gone or not 8/16-bit PCM WAV"),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn peaks(
    mut ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
    Query(q): Query<PeaksQuery>,
) -> ApiResult<Json<RecordingPeaks>> {
    let buckets = q.buckets.unwrap_or(200);
    let mut c = Check::new();
    c.range("buckets", buckets, 10, 2000);
    c.finish()?;
    crate::routes::calls::may_play(&mut ctx, call_id).await?;
    let row: Option<(String, i64)> =
        sqlx::query_as("SELECT path, duration_ms FROM recordings WHERE call_id = $1")
            .bind(call_id)
            .fetch_optional(ctx.db())
            .await?;
    let Some((path, duration_ms)) = row else {
        return Err(ApiError::NotFound);
    };
    if !crate::files::in_tenant_tree(&path, ctx.tenant().id) {
        return Err(ApiError::NotFound);
    }
    ctx.commit().await?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::BadRequest {
                code: "recording_file_missing",
                detail: "it is listed, but its file is gone from storage".into(),
            })
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    let peaks = tokio::task::spawn_blocking(move || wav_peaks(&bytes, buckets as usize))
        .await
        .map_err(ApiError::internal)?
        .ok_or(ApiError::BadRequest {
            code: "recording_format_unsupported",
            detail: "the file is not an 8- or 16-bit PCM WAV".into(),
        })?;
    Ok(Json(RecordingPeaks { duration_ms, peaks }))
}

/// The loudest sample (any channel) of each of `buckets` equal slices of a PCM WAV, as a
/// fraction of full scale; `None` when the bytes are not an 8- or 16-bit PCM WAV. A data
/// chunk whose size the writer never filled in (0) runs to the end of the file.
pub fn wav_peaks(bytes: &[u8], buckets: usize) -> Option<Vec<f32>> {
    if bytes.len() < 12 || &bytes[0..4] != b"RIFF" || &bytes[8..12] != b"WAVE" || buckets == 0 {
        return None;
    }
    let u16_at = |i: usize| Some(u16::from_le_bytes(bytes.get(i..i + 2)?.try_into().ok()?));
    let u32_at = |i: usize| Some(u32::from_le_bytes(bytes.get(i..i + 4)?.try_into().ok()?));
    let (mut channels, mut bits) = (0usize, 0usize);
    let mut at = 12;
    let data = loop {
        let id = bytes.get(at..at + 4)?;
        let size = u32_at(at + 4)? as usize;
        let body = at + 8;
        if id == b"fmt " {
            if u16_at(body)? != 1 {
                return None;
            }
            channels = u16_at(body + 2)? as usize;
            bits = u16_at(body + 14)? as usize;
        } else if id == b"data" {
            let end = if size == 0 {
                bytes.len()
            } else {
                body.checked_add(size)?.min(bytes.len())
            };
            break bytes.get(body..end)?;
        }
        at = body.checked_add(size)?.checked_add(size % 2)?;
    };
    if channels == 0 || !(bits == 8 || bits == 16) {
        return None;
    }
    let frame = channels * bits / 8;
    let frames = data.len() / frame;
    let mut out = vec![0f32; buckets];
    if frames == 0 {
        return Some(out);
    }
    for (i, f) in data.chunks_exact(frame).enumerate() {
        let b = i * buckets / frames;
        let loudest = if bits == 16 {
            f.chunks_exact(2)
                .map(|s| (i16::from_le_bytes([s[0], s[1]]) as f32 / 32768.0).abs())
                .fold(0f32, f32::max)
        } else {
            f.iter()
                .map(|&s| ((s as f32 - 128.0) / 128.0).abs())
                .fold(0f32, f32::max)
        };
        if loudest > out[b] {
            out[b] = loudest.min(1.0);
        }
    }
    Some(out)
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
