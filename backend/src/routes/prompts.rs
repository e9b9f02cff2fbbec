//! IVR prompts of the tenant: upload (WAV), list, play/download, delete.
//!
//! An upload must be a WAV file (RIFF/WAVE; PCM 8/16/24/32-bit, 32/64-bit float or G.711,
//! any sample rate, mono or stereo): anything else is 415, a WAV we cannot use is 422 with
//! the reason. It is converted on upload to what the gateways play — 8 kHz mono 16-bit PCM —
//! and stored in the tenant schema (`ivr_prompts`, audio as `bytea`); after the commit the
//! tenant's prompts are copied to Redis ([`sync_tenant`]) where every gateway reads them
//! (the gateway never touches Postgres). Names are per tenant — Redis keys carry the tenant
//! id — so tenant A's flow can never play tenant B's prompt. Flows may use these names or
//! the built-in prompts ([`hotline_wire::prompts::BUILTIN_PROMPTS`]); [`missing_prompts`]
//! is the check `routes::ivr` runs on save and publish.

use crate::{
    auth::TenantCtx,
    db,
    error::{ApiError, ApiResult, Json},
    files,
    state::AppState,
};
use axum::{
    body::Bytes,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Path, Query, Request, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};
use futures::{Stream, StreamExt};
use hotline_flows::{Flow, Node};
use hotline_wire::{
    api::FieldError,
    permissions as perms,
    prompts::{self as wire, MusicOnHoldSettings, PromptDto},
};
use redis::AsyncCommands;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/ivr/prompts",
            get(list).post(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/ivr/prompts/{name}", axum::routing::delete(delete))
        .route("/ivr/prompts/{name}/audio", get(audio))
        .route(
            "/settings/music-on-hold",
            get(get_music_on_hold).put(put_music_on_hold),
        )
}

/// Longest prompt after conversion.
const MAX_DURATION_MS: i64 = 10 * 60 * 1000;

/// Content types a WAV upload may be declared as (besides none / octet-stream).
const WAV_TYPES: &[&str] = &["audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave"];

// ------------------------------------------------------------------ rows

#[derive(sqlx::FromRow)]
struct Row {
    name: String,
    version: i32,
    duration_ms: i64,
    size_bytes: i64,
    original_name: String,
    original_format: String,
    uploaded_by: Option<Uuid>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

const COLS: &str = "name, version, duration_ms, length(audio)::bigint AS size_bytes,
    original_name, original_format, uploaded_by, updated_at";

fn dto(r: Row) -> PromptDto {
    PromptDto {
        audio_url: format!("/api/v1/ivr/prompts/{}/audio?v={}", r.name, r.version),
        name: r.name,
        version: r.version,
        duration_ms: r.duration_ms,
        size_bytes: r.size_bytes,
        original_name: r.original_name,
        original_format: r.original_format,
        uploaded_by: r.uploaded_by,
        updated_at: r.updated_at,
    }
}

/// The tenant's prompt names (the caller's schema).
pub async fn tenant_prompt_names(conn: &mut PgConnection) -> ApiResult<BTreeSet<String>> {
    let names: Vec<String> = sqlx::query_scalar("SELECT name FROM ivr_prompts")
        .fetch_all(conn)
        .await?;
    Ok(names.into_iter().collect())
}

/// The prompts a node plays (every kind listed, so a new kind must decide).
fn node_prompts(n: &Node) -> Vec<&str> {
    match n {
        Node::Play { prompt, .. } | Node::Menu { prompt, .. } => vec![prompt.as_str()],
        Node::Collect { prompt, .. }
        | Node::Voicemail { prompt, .. }
        | Node::Callback { prompt }
        | Node::Hangup { prompt } => prompt.iter().map(String::as_str).collect(),
        Node::TimeCondition { .. }
        | Node::SetVar { .. }
        | Node::HttpLookup { .. }
        | Node::Queue { .. }
        | Node::Transfer { .. } => vec![],
    }
}

/// Field errors `graph.nodes.<id>.prompt` for every prompt of `flow` that is neither a
/// built-in prompt nor one of the tenant's (looked up in the caller's schema).
pub async fn missing_prompts(conn: &mut PgConnection, flow: &Flow) -> ApiResult<Vec<FieldError>> {
    let ours = tenant_prompt_names(conn).await?;
    let mut errs = Vec::new();
    for (id, node) in &flow.nodes {
        for p in node_prompts(node) {
            // A malformed name is reported by the flow's own validation.
            let well_formed = !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if well_formed && !wire::is_builtin_prompt(p) && !ours.contains(p) {
                errs.push(FieldError {
                    field: format!("graph.nodes.{id}.prompt"),
                    message: format!(
                        "missing prompt \"{p}\": upload it under IVR prompts or use a built-in one"
                    ),
                });
            }
        }
    }
    Ok(errs)
}

// ------------------------------------------------------------------ handlers

#[utoipa::path(get, path = "/api/v1/ivr/prompts", tag = "ivr",
    responses((status = 200, body = Vec<PromptDto>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn list(mut ctx: TenantCtx) -> ApiResult<Json<Vec<PromptDto>>> {
    ctx.require(perms::IVR_WRITE)?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLS} FROM ivr_prompts ORDER BY name"
    )))
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(dto).collect()))
}

/// The query of an upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The prompt's name (1–64 of a-z, 0-9, _ and -); default: made from the file name.
    pub name: Option<String>,
}

/// A prompt name from a file name: `Welcome Message.wav` → `welcome-message`.
fn name_from_file(file: &str) -> String {
    let stem = file
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .rsplit_once('.')
        .map(|(s, _)| s)
        .unwrap_or(file);
    let mut out = String::new();
    for c in stem.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').chars().take(64).collect()
}

fn check_declared(declared: Option<&str>) -> ApiResult<()> {
    let Some(d) = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty() && d != "application/octet-stream")
    else {
        return Ok(());
    };
    if WAV_TYPES.contains(&d.as_str()) {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(format!(
            "Prompts are WAV files; the upload is declared as {d}."
        )))
    }
}

async fn collect<S, E>(mut stream: S, max: u64) -> ApiResult<Vec<u8>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::Malformed {
            detail: format!("The upload could not be read: {e}"),
            field: None,
        })?;
        if (out.len() + chunk.len()) as u64 > max {
            return Err(ApiError::PayloadTooLarge);
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// The uploaded file: (file name, declared type, bytes), from a raw body or the first file
/// part of a `multipart/form-data` body.
async fn receive(req: Request, max: u64) -> ApiResult<(Option<String>, Option<String>, Vec<u8>)> {
    fn header_text(req: &Request, name: header::HeaderName) -> Option<String> {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    let content_type = header_text(&req, header::CONTENT_TYPE);
    let length = header_text(&req, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok());
    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    let framing = if multipart { 16 * 1024 } else { 0 };
    if length.is_some_and(|n| n > max + framing) {
        return Err(ApiError::PayloadTooLarge);
    }
    if !multipart {
        let body = req.into_body().into_data_stream();
        let bytes = collect(std::pin::pin!(body), max).await?;
        return Ok((None, content_type, bytes));
    }
    let malformed = |e: axum::extract::multipart::MultipartError| ApiError::Malformed {
        detail: e.body_text(),
        field: None,
    };
    let mut form = Multipart::from_request(req, &())
        .await
        .map_err(|e| ApiError::Malformed {
            detail: e.body_text(),
            field: None,
        })?;
    loop {
        let Some(field) = form.next_field().await.map_err(malformed)? else {
            return Err(ApiError::field("file", "the form has no file part"));
        };
        let Some(file_name) = field.file_name().map(str::to_string) else {
            continue;
        };
        let declared = field.content_type().map(str::to_string);
        let bytes = collect(std::pin::pin!(field), max).await?;
        return Ok((Some(file_name), declared, bytes));
    }
}

#[utoipa::path(post, path = "/api/v1/ivr/prompts", tag = "ivr", params(UploadQuery),
    request_body(content((Vec<u8> = "audio/wav"), (Vec<u8> = "application/octet-stream")),
        description = "The WAV as the body (name in `?name=`), or multipart/form-data with a file part"),
    responses((status = 201, body = PromptDto, description = "Created"),
        (status = 200, body = PromptDto, description = "Replaced (version + 1)"),
        (status = 413, body = hotline_wire::api::Problem),
        (status = 415, body = hotline_wire::api::Problem, description = "Not a WAV file"),
        (status = 422, body = hotline_wire::api::Problem, description = "A WAV that cannot be used, or a bad name")))]
pub async fn upload(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Query(q): Query<UploadQuery>,
    req: Request,
) -> ApiResult<(StatusCode, Json<PromptDto>)> {
    ctx.require(perms::IVR_WRITE)?;
    let (file_name, declared, bytes) = receive(req, state.cfg.max_upload_bytes).await?;
    let name =
        match (q.name.as_deref().map(str::trim), &file_name) {
            (Some(n), _) if !n.is_empty() => n.to_string(),
            (_, Some(f)) => name_from_file(f),
            _ => return Err(ApiError::field(
                "name",
                "give the prompt's name (?name=) or upload multipart/form-data with a file name",
            )),
        };
    if !wire::is_prompt_name(&name) {
        return Err(ApiError::field(
            "name",
            "1–64 lower-case letters, digits, _ or -",
        ));
    }
    if wire::is_builtin_prompt(&name) {
        return Err(ApiError::field(
            "name",
            format!("\"{name}\" is a built-in prompt; choose another name"),
        ));
    }
    check_declared(declared.as_deref())?;
    if bytes.is_empty() {
        return Err(ApiError::field("file", "is empty"));
    }
    let original_size = bytes.len() as i64;
    let converted = tokio::task::spawn_blocking(move || wav::convert(&bytes))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| match e {
            wav::WavError::NotWav(m) => ApiError::UnsupportedMediaType(m),
            wav::WavError::Unusable(m) => ApiError::field("file", m),
        })?;
    if converted.duration_ms < 20 {
        return Err(ApiError::field(
            "file",
            "shorter than 20 ms: no audio to play",
        ));
    }
    let original_name = file_name
        .as_deref()
        .and_then(files::clean_name)
        .unwrap_or_else(|| format!("{name}.wav"));
    let sha256 = hex::encode(Sha256::digest(&converted.wav));
    let user = ctx.user_id();
    #[derive(sqlx::FromRow)]
    struct Saved {
        #[sqlx(flatten)]
        row: Row,
        inserted: bool,
    }
    let saved: Saved = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO ivr_prompts AS p (name, audio, sha256, duration_ms, original_name,
                                       original_format, original_size, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (name) DO UPDATE SET version = p.version + 1, audio = EXCLUDED.audio,
             sha256 = EXCLUDED.sha256, duration_ms = EXCLUDED.duration_ms,
             original_name = EXCLUDED.original_name, original_format = EXCLUDED.original_format,
             original_size = EXCLUDED.original_size, uploaded_by = EXCLUDED.uploaded_by,
             updated_at = now()
         RETURNING {COLS}, (xmax = 0) AS inserted"
    )))
    .bind(&name)
    .bind(&converted.wav)
    .bind(&sha256)
    .bind(converted.duration_ms)
    .bind(&original_name)
    .bind(&converted.format)
    .bind(original_size)
    .bind(user)
    .fetch_one(ctx.db())
    .await?;
    let status = if saved.inserted {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let p = dto(saved.row);
    ctx.audit(
        if saved.inserted {
            "ivr.prompt.upload"
        } else {
            "ivr.prompt.replace"
        },
        Some("ivr_prompt"),
        Some(name.clone()),
        serde_json::json!({ "version": p.version, "original_format": p.original_format,
                            "duration_ms": p.duration_ms, "original_name": p.original_name }),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    publish(&state, tenant).await?;
    Ok((status, Json(p)))
}

#[utoipa::path(get, path = "/api/v1/ivr/prompts/{name}/audio", tag = "ivr",
    params(("name" = String, Path, description = "Prompt name")),
    responses((status = 200, content_type = "audio/wav", description = "8 kHz mono 16-bit WAV"),
        (status = 404, body = hotline_wire::api::Problem)))]
pub async fn audio(mut ctx: TenantCtx, Path(name): Path<String>) -> ApiResult<Response> {
    ctx.require(perms::IVR_WRITE)?;
    let audio: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT audio FROM ivr_prompts WHERE name = $1")
            .bind(&name)
            .fetch_optional(ctx.db())
            .await?;
    ctx.commit().await?;
    let audio = audio.ok_or(ApiError::NotFound)?;
    Ok((
        [
            (header::CONTENT_TYPE, "audio/wav".to_string()),
            (
                header::CONTENT_DISPOSITION,
                files::disposition(&format!("{name}.wav")).replacen("attachment", "inline", 1),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox".to_string(),
            ),
            (header::CACHE_CONTROL, "private, no-cache".to_string()),
        ],
        audio,
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/ivr/prompts/{name}", tag = "ivr",
    params(("name" = String, Path, description = "Prompt name")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`prompt_in_use`: a flow's latest or published version, or a queue's max-wait message, plays it")))]
pub async fn delete(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::IVR_WRITE)?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ivr_prompts WHERE name = $1 FOR UPDATE)")
            .bind(&name)
            .fetch_one(ctx.db())
            .await?;
    if !exists {
        return Err(ApiError::NotFound);
    }
    // Flows (their latest or published version) and queues (their max-wait message).
    let users: Vec<String> = sqlx::query_scalar(
        "SELECT 'the flow ' || f.name FROM ivr_flows f
          WHERE EXISTS (SELECT 1 FROM ivr_flow_versions v, jsonb_each(v.graph -> 'nodes') n
                         WHERE v.flow_id = f.id
                           AND (v.version = f.published_version
                                OR v.version = (SELECT max(version) FROM ivr_flow_versions
                                                 WHERE flow_id = f.id))
                           AND n.value ->> 'prompt' = $1)
         UNION ALL
         SELECT 'the queue ' || q.name FROM queues q WHERE q.max_wait_prompt = $1
         ORDER BY 1",
    )
    .bind(&name)
    .fetch_all(ctx.db())
    .await?;
    let moh: Option<String> =
        sqlx::query_scalar("SELECT value->>'prompt' FROM settings WHERE key = 'music_on_hold'")
            .fetch_optional(ctx.db())
            .await?
            .flatten();
    if moh.as_deref() == Some(name.as_str()) {
        return Err(ApiError::Conflict {
            code: "prompt_in_use",
            detail: format!(
                "\"{name}\" is the music on hold; choose other music under IVR prompts first"
            ),
        });
    }
    if !users.is_empty() {
        return Err(ApiError::Conflict {
            code: "prompt_in_use",
            detail: format!(
                "\"{name}\" is played by {}; change {} first",
                users.join(", "),
                if users.len() == 1 { "it" } else { "them" }
            ),
        });
    }
    sqlx::query("DELETE FROM ivr_prompts WHERE name = $1")
        .bind(&name)
        .execute(ctx.db())
        .await?;
    ctx.audit(
        "ivr.prompt.delete",
        Some("ivr_prompt"),
        Some(name.clone()),
        serde_json::json!({}),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    publish(&state, tenant).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ the gateways' copy

/// [`sync_tenant`] for a handler: the change is committed, so a Redis failure is a 503 the
/// client may retry (the next upload, delete or flow publish copies everything again).
pub async fn publish(state: &AppState, tenant: Uuid) -> ApiResult<()> {
    sync_tenant(state, tenant).await.map_err(|e| {
        tracing::error!(%tenant, error = %e, "publishing prompts to Redis failed");
        ApiError::Unavailable(
            "saved, but the gateways' copy of the prompts could not be updated; try again".into(),
        )
    })
}

/// Makes the tenant's Redis copy match `ivr_prompts`: audio whose token (SHA-256 of the
/// stored WAV) differs is written, names no longer in the table are removed. Serialised per
/// tenant by an advisory lock, so two concurrent syncs never undo each other.
pub async fn sync_tenant(state: &AppState, tenant: Uuid) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("ivr-prompts:{tenant}"))
        .execute(&mut *tx)
        .await?;
    let want: Vec<(String, String)> = sqlx::query_as("SELECT name, sha256 FROM ivr_prompts")
        .fetch_all(&mut *tx)
        .await?;
    let mut r = state.redis();
    let index = wire::prompts_key(tenant);
    let have: HashMap<String, String> = r.hgetall(&index).await?;
    for (name, token) in &want {
        if have.get(name) == Some(token) {
            continue;
        }
        let audio: Vec<u8> = sqlx::query_scalar("SELECT audio FROM ivr_prompts WHERE name = $1")
            .bind(name)
            .fetch_one(&mut *tx)
            .await?;
        let _: () = redis::pipe()
            .atomic()
            .set(wire::prompt_key(tenant, name), audio)
            .ignore()
            .hset(&index, name, token)
            .ignore()
            .query_async(&mut r)
            .await?;
    }
    let keep: BTreeSet<&str> = want.iter().map(|(n, _)| n.as_str()).collect();
    for name in have.keys().filter(|n| !keep.contains(n.as_str())) {
        let _: () = redis::pipe()
            .atomic()
            .hdel(&index, name)
            .ignore()
            .del(wire::prompt_key(tenant, name))
            .ignore()
            .query_async(&mut r)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

// ------------------------------------------------------------------ WAV → 8 kHz mono

/// WAV reading with precise refusals, and conversion to 8 kHz mono 16-bit (windowed-sinc
/// resampling, so downsampling does not alias). Pure functions.
pub mod wav {
    /// Why an upload cannot be a prompt.
    #[derive(Debug, Clone, PartialEq)]
    pub enum WavError {
        /// Not a WAV file at all (415).
        NotWav(String),
        /// A WAV file we cannot use (422).
        Unusable(String),
    }

    /// The converted prompt.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Converted {
        /// WAV bytes: 8 kHz, mono, 16-bit PCM, 44-byte header.
        pub wav: Vec<u8>,
        pub duration_ms: i64,
        /// What was uploaded, e.g. `44100 Hz, stereo, 24-bit PCM`.
        pub format: String,
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Encoding {
        Pcm,
        Float,
        ALaw,
        MuLaw,
    }

    fn unusable(m: impl Into<String>) -> WavError {
        WavError::Unusable(m.into())
    }

    fn tag_name(tag: u16) -> &'static str {
        match tag {
            0x0002 => "Microsoft ADPCM",
            0x0011 => "IMA ADPCM",
            0x0031 => "GSM 6.10",
            0x0050 => "MPEG audio",
            0x0055 => "MP3",
            0x0161 | 0x0162 => "Windows Media Audio",
            0x1610 | 0xA106 => "AAC",
            _ => "an unknown encoding",
        }
    }

    fn le16(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }
    fn le32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    /// Decodes a WAV to mono samples in [-1, 1] at its own rate, with its format.
    pub fn decode(data: &[u8]) -> Result<(Vec<f32>, u32, String), WavError> {
        if data.len() >= 4 && &data[0..4] == b"RF64" {
            return Err(unusable(
                "RF64 (a WAV file over 4 GB) is not supported; use a plain RIFF WAV",
            ));
        }
        if data.len() < 12 || &data[0..4] != b"RIFF" {
            return Err(WavError::NotWav(
                "The file is not a WAV file: it does not start with a RIFF/WAVE header.".into(),
            ));
        }
        if &data[8..12] != b"WAVE" {
            return Err(WavError::NotWav(format!(
                "The file is a RIFF file of type {:?}, not WAVE audio.",
                String::from_utf8_lossy(&data[8..12])
            )));
        }
        let mut off = 12;
        let mut fmt: Option<&[u8]> = None;
        let mut samples: Option<&[u8]> = None;
        while off + 8 <= data.len() {
            let id = &data[off..off + 4];
            let len = le32(data, off + 4) as usize;
            let start = off + 8;
            let end = start.saturating_add(len);
            if id == b"data" {
                if end > data.len() {
                    // Streaming writers leave the size at 0 or 0xFFFFFFFF; anything else is cut.
                    if len != 0 && len != u32::MAX as usize {
                        return Err(unusable(format!(
                            "the file is truncated: its data chunk declares {len} bytes but only {} are present",
                            data.len() - start
                        )));
                    }
                    samples = Some(&data[start..]);
                } else {
                    samples = Some(&data[start..end]);
                }
                if fmt.is_some() {
                    break;
                }
            } else if id == b"fmt " {
                if end > data.len() || len < 16 {
                    return Err(unusable(
                        "the fmt chunk (the format description) is damaged",
                    ));
                }
                fmt = Some(&data[start..end]);
            }
            off = end.saturating_add(len & 1);
        }
        let fmt = fmt.ok_or_else(|| unusable("the file has no fmt chunk (format description)"))?;
        let bytes = samples.ok_or_else(|| unusable("the file has no data chunk (no audio)"))?;
        let mut tag = le16(fmt, 0);
        let channels = le16(fmt, 2);
        let rate = le32(fmt, 4);
        let block_align = le16(fmt, 12) as usize;
        let bits = le16(fmt, 14);
        if tag == 0xFFFE {
            if fmt.len() < 40 {
                return Err(unusable(
                    "the WAVE_FORMAT_EXTENSIBLE fmt chunk is shorter than 40 bytes",
                ));
            }
            // The sub-format GUID starts with the classic format tag.
            tag = le16(fmt, 24);
        }
        let encoding = match tag {
            1 => Encoding::Pcm,
            3 => Encoding::Float,
            6 => Encoding::ALaw,
            7 => Encoding::MuLaw,
            t => {
                return Err(unusable(format!(
                    "WAV encoding {} (format tag 0x{t:04X}) is not supported: use PCM (8, 16, 24 or 32-bit) or 32/64-bit float",
                    tag_name(t)
                )))
            }
        };
        let width = match (encoding, bits) {
            (Encoding::Pcm, 8 | 16 | 24 | 32) => bits as usize / 8,
            (Encoding::Pcm, b) => {
                return Err(unusable(format!(
                    "{b}-bit PCM is not supported: use 8, 16, 24 or 32-bit"
                )))
            }
            (Encoding::Float, 32 | 64) => bits as usize / 8,
            (Encoding::Float, b) => {
                return Err(unusable(format!(
                    "{b}-bit float is not supported: use 32 or 64-bit"
                )))
            }
            (Encoding::ALaw | Encoding::MuLaw, 8) => 1,
            (_, b) => {
                return Err(unusable(format!(
                    "{b}-bit G.711 is not valid: G.711 is 8-bit"
                )))
            }
        };
        match channels {
            1 | 2 => {}
            0 => return Err(unusable("the file declares 0 channels")),
            n => {
                return Err(unusable(format!(
                    "{n} channels: only mono or stereo is accepted"
                )))
            }
        }
        if !(1..=384_000).contains(&rate) {
            return Err(unusable(format!(
                "a sample rate of {rate} Hz is not supported (1 to 384000 Hz)"
            )));
        }
        let frame = width * channels as usize;
        if block_align != frame {
            return Err(unusable(format!(
                "the block align ({block_align} bytes) does not match {channels} channel(s) of {bits}-bit samples"
            )));
        }
        if bytes.len() < frame {
            return Err(unusable("the data chunk is empty: no audio"));
        }
        let mut mono = Vec::with_capacity(bytes.len() / frame);
        for f in bytes.chunks_exact(frame) {
            let mut acc = 0.0f64;
            for c in f.chunks_exact(width) {
                let v = match (encoding, width) {
                    (Encoding::Pcm, 1) => (c[0] as f64 - 128.0) / 128.0,
                    (Encoding::Pcm, 2) => i16::from_le_bytes([c[0], c[1]]) as f64 / 32768.0,
                    (Encoding::Pcm, 3) => {
                        (i32::from_le_bytes([0, c[0], c[1], c[2]]) >> 8) as f64 / 8_388_608.0
                    }
                    (Encoding::Pcm, _) => {
                        i32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64 / 2_147_483_648.0
                    }
                    (Encoding::Float, 4) => f32::from_le_bytes([c[0], c[1], c[2], c[3]]) as f64,
                    (Encoding::Float, _) => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
                    (Encoding::ALaw, _) => alaw(c[0]) as f64 / 32768.0,
                    (Encoding::MuLaw, _) => ulaw(c[0]) as f64 / 32768.0,
                };
                acc += if v.is_finite() {
                    v.clamp(-1.0, 1.0)
                } else {
                    0.0
                };
            }
            mono.push((acc / channels as f64) as f32);
        }
        let name = match encoding {
            Encoding::Pcm => format!("{bits}-bit PCM"),
            Encoding::Float => format!("{bits}-bit float"),
            Encoding::ALaw => "G.711 A-law".to_string(),
            Encoding::MuLaw => "G.711 µ-law".to_string(),
        };
        let layout = if channels == 1 { "mono" } else { "stereo" };
        Ok((mono, rate, format!("{rate} Hz, {layout}, {name}")))
    }

    fn ulaw(b: u8) -> i16 {
        let b = !b;
        let exp = (b >> 4) & 7;
        let mant = (b & 0x0F) as i32;
        let mag = (((mant << 3) + 0x84) << exp) - 0x84;
        (if b & 0x80 != 0 { -mag } else { mag }) as i16
    }

    fn alaw(b: u8) -> i16 {
        let b = b ^ 0x55;
        let exp = (b >> 4) & 7;
        let mant = (b & 0x0F) as i32;
        let mag = if exp == 0 {
            (mant << 4) + 8
        } else {
            ((mant << 4) + 0x108) << (exp - 1)
        };
        (if b & 0x80 != 0 { mag } else { -mag }) as i16
    }

    /// Zero crossings of the sinc kernel on each side.
    const ZEROS: f64 = 8.0;
    /// Kernel table resolution (entries per input sample).
    const STEPS: f64 = 256.0;

    /// Resamples to 8 kHz: band-limited (Blackman-windowed sinc, cut-off 94% of the lower
    /// Nyquist frequency) interpolation; exact copy at 8 kHz.
    pub fn resample_to_8k(input: &[f32], rate: u32) -> Vec<f32> {
        if rate == 8000 || input.is_empty() {
            return input.to_vec();
        }
        let ratio = rate as f64 / 8000.0;
        let cutoff = 0.94 * (1.0 / ratio).min(1.0);
        let half = ZEROS / cutoff;
        let table: Vec<f64> = (0..=(half * STEPS).ceil() as usize + 1)
            .map(|i| {
                let x = i as f64 / STEPS;
                if x >= half {
                    return 0.0;
                }
                let s = cutoff * x;
                let sinc = if s == 0.0 {
                    1.0
                } else {
                    (std::f64::consts::PI * s).sin() / (std::f64::consts::PI * s)
                };
                let u = x / half;
                let window = 0.42
                    + 0.5 * (std::f64::consts::PI * u).cos()
                    + 0.08 * (2.0 * std::f64::consts::PI * u).cos();
                sinc * window
            })
            .collect();
        let kernel = |x: f64| {
            let p = x.abs() * STEPS;
            let i = p as usize;
            match (table.get(i), table.get(i + 1)) {
                (Some(a), Some(b)) => a + (b - a) * (p - i as f64),
                _ => 0.0,
            }
        };
        let n_out = (input.len() as f64 / ratio).floor().max(1.0) as usize;
        let last = input.len() - 1;
        let mut out = Vec::with_capacity(n_out);
        for i in 0..n_out {
            let t = i as f64 * ratio;
            let lo = (t - half).ceil().max(0.0) as usize;
            let hi = ((t + half).floor() as usize).min(last);
            let (mut acc, mut wsum) = (0.0f64, 0.0f64);
            for (j, &v) in input.iter().enumerate().take(hi + 1).skip(lo) {
                let w = kernel(j as f64 - t);
                acc += w * v as f64;
                wsum += w;
            }
            out.push(if wsum.abs() > 1e-9 {
                (acc / wsum) as f32
            } else {
                0.0
            });
        }
        out
    }

    /// A 16-bit PCM mono WAV at 8 kHz.
    pub fn encode_8k_mono(samples: &[i16]) -> Vec<u8> {
        let data = (samples.len() * 2) as u32;
        let mut v = Vec::with_capacity(44 + data as usize);
        v.extend_from_slice(b"RIFF");
        v.extend_from_slice(&(36 + data).to_le_bytes());
        v.extend_from_slice(b"WAVEfmt ");
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&1u16.to_le_bytes());
        v.extend_from_slice(&8000u32.to_le_bytes());
        v.extend_from_slice(&16000u32.to_le_bytes());
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&16u16.to_le_bytes());
        v.extend_from_slice(b"data");
        v.extend_from_slice(&data.to_le_bytes());
        for s in samples {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v
    }

    /// Checks and converts an uploaded WAV.
    pub fn convert(data: &[u8]) -> Result<Converted, WavError> {
        let (mono, rate, format) = decode(data)?;
        // Checked before resampling: a tiny sample rate would otherwise blow up in memory.
        if mono.len() as f64 / rate as f64 > super::MAX_DURATION_MS as f64 / 1000.0 {
            return Err(unusable("longer than 10 minutes"));
        }
        let samples: Vec<i16> = resample_to_8k(&mono, rate)
            .into_iter()
            .map(|v| (v.clamp(-1.0, 1.0) * 32767.0).round() as i16)
            .collect();
        Ok(Converted {
            duration_ms: samples.len() as i64 / 8,
            wav: encode_8k_mono(&samples),
            format,
        })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use proptest::prelude::*;

        /// A WAV with one fmt chunk (tag, bits) and interleaved raw sample bytes.
        fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
            let block = channels * bits / 8;
            let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
            v.extend_from_slice(&16u32.to_le_bytes());
            v.extend_from_slice(&tag.to_le_bytes());
            v.extend_from_slice(&channels.to_le_bytes());
            v.extend_from_slice(&rate.to_le_bytes());
            v.extend_from_slice(&(rate * block as u32).to_le_bytes());
            v.extend_from_slice(&block.to_le_bytes());
            v.extend_from_slice(&bits.to_le_bytes());
            v.extend_from_slice(b"data");
            v.extend_from_slice(&(data.len() as u32).to_le_bytes());
            v.extend_from_slice(data);
            let riff = (v.len() - 8) as u32;
            v[4..8].copy_from_slice(&riff.to_le_bytes());
            v
        }

        fn sine(freq: f64, rate: u32, secs: f64, amp: f64) -> Vec<f64> {
            (0..(rate as f64 * secs) as usize)
                .map(|i| (i as f64 * 2.0 * std::f64::consts::PI * freq / rate as f64).sin() * amp)
                .collect()
        }

        fn pcm16(x: &[f64]) -> Vec<u8> {
            x.iter()
                .flat_map(|v| ((v * 32767.0) as i16).to_le_bytes())
                .collect()
        }

        fn samples_of(c: &Converted) -> Vec<i16> {
            assert_eq!(&c.wav[..4], b"RIFF");
            assert_eq!(le16(&c.wav, 22), 1, "mono");
            assert_eq!(le32(&c.wav, 24), 8000, "8 kHz");
            assert_eq!(le16(&c.wav, 34), 16, "16-bit");
            c.wav[44..]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect()
        }

        fn rms(x: &[i16]) -> f64 {
            (x.iter().map(|&s| (s as f64).powi(2)).sum::<f64>() / x.len().max(1) as f64).sqrt()
        }

        #[test]
        fn eight_khz_mono_16_bit_is_kept_exactly() {
            let input: Vec<i16> = (0..800).map(|i| (i * 37 % 2000) as i16 - 1000).collect();
            let data: Vec<u8> = input.iter().flat_map(|s| s.to_le_bytes()).collect();
            let c = convert(&wav(1, 1, 8000, 16, &data)).unwrap();
            assert_eq!(samples_of(&c), input);
            assert_eq!(c.duration_ms, 100);
            assert_eq!(c.format, "8000 Hz, mono, 16-bit PCM");
        }

        #[test]
        fn stereo_24_bit_44k_becomes_8k_mono_with_the_tone_kept() {
            // Left: a 1 kHz tone at half scale; right: silence → mono at a quarter scale.
            let tone = sine(1000.0, 44_100, 1.0, 0.5);
            let mut data = Vec::new();
            for v in &tone {
                let s = (v * 8_388_607.0) as i32;
                data.extend_from_slice(&s.to_le_bytes()[..3]);
                data.extend_from_slice(&[0, 0, 0]);
            }
            let c = convert(&wav(1, 2, 44_100, 24, &data)).unwrap();
            let out = samples_of(&c);
            assert!((out.len() as i64 - 8000).abs() <= 1, "{}", out.len());
            assert_eq!(c.format, "44100 Hz, stereo, 24-bit PCM");
            let expected = 0.25 * 32767.0 / 2f64.sqrt();
            let got = rms(&out[200..7800]);
            assert!(
                (got - expected).abs() < expected * 0.03,
                "{got} vs {expected}"
            );
        }

        #[test]
        fn downsampling_removes_what_8_khz_cannot_carry() {
            // 6 kHz at 48 kHz would alias to 2 kHz if not filtered.
            let data = pcm16(&sine(6000.0, 48_000, 1.0, 0.8));
            let out = samples_of(&convert(&wav(1, 1, 48_000, 16, &data)).unwrap());
            assert!(rms(&out[200..7800]) < 0.01 * 0.8 * 32767.0, "{}", rms(&out));
            // …while 3 kHz passes.
            let data = pcm16(&sine(3000.0, 48_000, 1.0, 0.8));
            let out = samples_of(&convert(&wav(1, 1, 48_000, 16, &data)).unwrap());
            let expected = 0.8 * 32767.0 / 2f64.sqrt();
            assert!((rms(&out[200..7800]) - expected).abs() < expected * 0.05);
        }

        #[test]
        fn float_8_bit_and_g711_are_read() {
            let f: Vec<u8> = sine(500.0, 16_000, 0.5, 0.5)
                .iter()
                .flat_map(|v| (*v as f32).to_le_bytes())
                .collect();
            let c = convert(&wav(3, 1, 16_000, 32, &f)).unwrap();
            assert_eq!(c.format, "16000 Hz, mono, 32-bit float");
            assert!((samples_of(&c).len() as i64 - 4000).abs() <= 1);
            let d: Vec<u8> = sine(500.0, 22_050, 0.5, 0.5)
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            assert_eq!(
                convert(&wav(3, 1, 22_050, 64, &d)).unwrap().format,
                "22050 Hz, mono, 64-bit float"
            );
            let u8s: Vec<u8> = vec![128, 255, 0, 128];
            let out = samples_of(&convert(&wav(1, 1, 8000, 8, &u8s)).unwrap());
            assert_eq!(out[0], 0);
            assert!(out[1] > 32000 && out[2] == -32767);
            // µ-law 0xFF is silence, A-law 0xD5 is a tiny positive value.
            assert_eq!(
                samples_of(&convert(&wav(7, 1, 8000, 8, &[0xFF])).unwrap()),
                [0]
            );
            assert!(samples_of(&convert(&wav(6, 1, 8000, 8, &[0xD5])).unwrap())[0].abs() < 10);
        }

        #[test]
        fn refusals_say_what_is_wrong() {
            let err = |d: &[u8]| convert(d).unwrap_err();
            assert!(matches!(err(b"ID3\x03 not a wav"), WavError::NotWav(_)));
            assert!(
                matches!(err(b"RIFF\0\0\0\0AVI LIST"), WavError::NotWav(m) if m.contains("AVI"))
            );
            let adpcm = err(&wav(2, 1, 8000, 4, &[0; 64]));
            assert_eq!(adpcm, unusable("WAV encoding Microsoft ADPCM (format tag 0x0002) is not supported: use PCM (8, 16, 24 or 32-bit) or 32/64-bit float"));
            assert_eq!(
                err(&wav(1, 3, 8000, 16, &[0; 60])),
                unusable("3 channels: only mono or stereo is accepted")
            );
            assert_eq!(
                err(&wav(1, 1, 8000, 12, &[0; 60])),
                unusable("12-bit PCM is not supported: use 8, 16, 24 or 32-bit")
            );
            assert_eq!(
                err(&wav(1, 1, 8000, 16, &[])),
                unusable("the data chunk is empty: no audio")
            );
            let mut cut = wav(1, 1, 8000, 16, &[0; 100]);
            cut.truncate(cut.len() - 50);
            assert!(matches!(err(&cut), WavError::Unusable(m) if m.contains("truncated")));
            let no_data = &wav(1, 1, 8000, 16, &[])[..36];
            assert_eq!(
                err(no_data),
                unusable("the file has no data chunk (no audio)")
            );
        }

        proptest! {
            #[test]
            fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..400),
                            tag in 0u16..8, ch in 0u16..4, bits in 0u16..70, rate in 0u32..100_000) {
                let _ = convert(&data);
                let _ = convert(&wav(tag, ch, rate, bits, &data));
            }
        }
    }
}

// ------------------------------------------------------------------ music on hold

#[utoipa::path(get, path = "/api/v1/settings/music-on-hold", tag = "ivr",
    responses((status = 200, body = MusicOnHoldSettings)))]
pub async fn get_music_on_hold(mut ctx: TenantCtx) -> ApiResult<Json<MusicOnHoldSettings>> {
    ctx.require(perms::IVR_WRITE)?;
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'music_on_hold'")
            .fetch_optional(ctx.db())
            .await?;
    ctx.commit().await?;
    Ok(Json(
        v.and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
    ))
}

/// Chooses the music callers hear while they wait: one of the tenant's prompts, or `null` for
/// the built-in music. A prompt that does not exist is a 422 on `prompt`; the chosen prompt
/// cannot be deleted (409 `prompt_in_use`) until other music is chosen.
#[utoipa::path(put, path = "/api/v1/settings/music-on-hold", tag = "ivr",
    request_body = MusicOnHoldSettings,
    responses((status = 200, body = MusicOnHoldSettings), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_music_on_hold(
    mut ctx: TenantCtx,
    Json(req): Json<MusicOnHoldSettings>,
) -> ApiResult<Json<MusicOnHoldSettings>> {
    ctx.require(perms::IVR_WRITE)?;
    let prompt = req
        .prompt
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty() && *p != crate::call_io::BUILTIN_MOH)
        .map(str::to_string);
    if let Some(p) = &prompt {
        let exists: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ivr_prompts WHERE name = $1)")
                .bind(p)
                .fetch_one(ctx.db())
                .await?;
        if !exists {
            return Err(ApiError::field(
                "prompt",
                format!(
                    "no prompt \"{}\": upload it under IVR prompts first",
                    p.chars().take(64).collect::<String>()
                ),
            ));
        }
    }
    let saved = MusicOnHoldSettings { prompt };
    let value = serde_json::to_value(&saved).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('music_on_hold', $1)
         ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
    )
    .bind(&value)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "settings.music_on_hold",
        Some("settings"),
        Some("music_on_hold".into()),
        value,
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(saved))
}
