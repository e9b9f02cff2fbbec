//! The file store: uploaded bytes on local disk, metadata in the tenant schema.
//!
//! Layout: `files_dir/<tenant id hex>/<file id hex>`; the `files` row (name, content type,
//! size, SHA-256, uploader) lives in the tenant's schema, so another tenant's file id is simply
//! not found. An upload is spooled to a temporary file in the tenant's directory while it is
//! hashed and counted (over `max_upload_bytes` → 413), its type is checked (the declared type
//! and the type sniffed from the bytes must agree, and be on [`ALLOWED`] → 415), then it is
//! renamed to its id. The bytes are removed again unless the request's transaction commits
//! ([`Stored::commit`]).
//!
//! Files are reached only through what they are attached to ([`Owner`]): a ticket's file is
//! not downloadable through another ticket or an article.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
};
use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Multipart, Request},
    http::{header, StatusCode},
    response::Response,
};
use futures::{Stream, StreamExt};
use hotline_wire::tickets::FileDto;
use sha2::{Digest, Sha256};
use sqlx::PgConnection;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// How many leading bytes are kept for sniffing (enough for OOXML/ODF containers).
const SNIFF_BYTES: usize = 64 * 1024;

/// Longest accepted file name, in characters.
const MAX_NAME: usize = 255;

/// An accepted kind of file.
#[derive(Debug, PartialEq)]
pub struct Kind {
    /// The canonical content type (what downloads are served as).
    pub mime: &'static str,
    /// Other names clients use for it.
    pub aliases: &'static [&'static str],
    /// File name extensions, the usual one first.
    pub extensions: &'static [&'static str],
    /// Text has no magic number: it is accepted when the bytes are UTF-8 without NULs.
    pub text: bool,
}

const fn kind(
    mime: &'static str,
    aliases: &'static [&'static str],
    extensions: &'static [&'static str],
) -> Kind {
    Kind {
        mime,
        aliases,
        extensions,
        text: false,
    }
}

/// The allow-list. The MIME types of binary kinds are the ones `infer` reports.
pub const ALLOWED: &[Kind] = &[
    kind("application/pdf", &[], &["pdf"]),
    kind("image/png", &[], &["png"]),
    kind(
        "image/jpeg",
        &["image/jpg", "image/pjpeg"],
        &["jpg", "jpeg"],
    ),
    kind("image/gif", &[], &["gif"]),
    kind("image/webp", &[], &["webp"]),
    kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        &[],
        &["docx"],
    ),
    kind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &[],
        &["xlsx"],
    ),
    kind("application/vnd.oasis.opendocument.text", &[], &["odt"]),
    kind(
        "application/vnd.oasis.opendocument.spreadsheet",
        &[],
        &["ods"],
    ),
    kind(
        "audio/x-wav",
        &["audio/wav", "audio/wave", "audio/vnd.wave"],
        &["wav"],
    ),
    kind("audio/mpeg", &["audio/mp3"], &["mp3"]),
    Kind {
        mime: "text/plain",
        aliases: &[],
        extensions: &["txt", "log", "text"],
        text: true,
    },
    Kind {
        mime: "text/csv",
        aliases: &[
            "application/csv",
            "text/comma-separated-values",
            // What Windows browsers send for .csv.
            "application/vnd.ms-excel",
        ],
        extensions: &["csv"],
        text: true,
    },
];

fn by_mime(mime: &str) -> Option<&'static Kind> {
    ALLOWED
        .iter()
        .find(|k| k.mime == mime || k.aliases.contains(&mime))
}

fn extension(name: &str) -> Option<String> {
    let (stem, ext) = name.rsplit_once('.')?;
    (!stem.is_empty() && !ext.is_empty()).then(|| ext.to_ascii_lowercase())
}

fn unsupported(detail: String) -> ApiError {
    ApiError::UnsupportedMediaType(detail)
}

/// Decides what an upload is, or why it is refused. `declared` is the client's content type
/// (absent or `application/octet-stream`: not declared); `head` the first bytes; `utf8` whether
/// all bytes are UTF-8 text without NULs. Returns the kind and the name to store (the kind's
/// usual extension is added when the name has none).
pub fn classify(
    name: &str,
    declared: Option<&str>,
    head: &[u8],
    utf8: bool,
) -> ApiResult<(&'static Kind, String)> {
    let declared = declared
        .map(|d| {
            d.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|d| !d.is_empty() && d != "application/octet-stream");
    let allowed = || {
        ALLOWED
            .iter()
            .map(|k| k.extensions[0])
            .collect::<Vec<_>>()
            .join(", ")
    };
    let declared_kind = match &declared {
        Some(d) => Some(by_mime(d).ok_or_else(|| {
            unsupported(format!(
                "Files of type {d} are not accepted; accepted: {}.",
                allowed()
            ))
        })?),
        None => None,
    };
    let ext = extension(name);
    let kind = match infer::get(head) {
        Some(sniffed) => {
            let sniffed_kind = by_mime(sniffed.mime_type());
            if let Some(d) = declared_kind.filter(|d| Some(*d) != sniffed_kind) {
                return Err(unsupported(format!(
                    "The file is declared as {} but its content is {}.",
                    d.mime,
                    sniffed.mime_type()
                )));
            }
            let sniffed_kind = sniffed_kind.ok_or_else(|| {
                unsupported(format!(
                    "The file's content is {}, which is not accepted; accepted: {}.",
                    sniffed.mime_type(),
                    allowed()
                ))
            })?;
            sniffed_kind
        }
        None => {
            let claimed = declared_kind.or_else(|| {
                ext.as_deref()
                    .and_then(|e| ALLOWED.iter().find(|k| k.extensions.contains(&e)))
            });
            match claimed {
                Some(k) if k.text && utf8 => k,
                Some(k) if k.text => {
                    return Err(unsupported(format!(
                        "The file is declared as {} but is not UTF-8 text.",
                        k.mime
                    )))
                }
                Some(k) => {
                    return Err(unsupported(format!(
                        "The file is declared as {} but its content is not.",
                        k.mime
                    )))
                }
                None => {
                    return Err(unsupported(format!(
                        "The file's type cannot be recognised; accepted: {}.",
                        allowed()
                    )))
                }
            }
        }
    };
    let name = match ext {
        Some(e) if kind.extensions.contains(&e.as_str()) => name.to_string(),
        Some(e) => {
            return Err(unsupported(format!(
                "The name ends in .{e} but the content is {}; use .{}.",
                kind.mime, kind.extensions[0]
            )))
        }
        None => format!("{name}.{}", kind.extensions[0]),
    };
    Ok((kind, name))
}

/// The stored form of a client's file name: the last path part, without control characters
/// or leading dots, trimmed; `None` if nothing is left or it is too long.
pub fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base.chars().filter(|c| !c.is_control()).collect();
    let s = s.trim().trim_start_matches('.').trim();
    // Room for an added extension.
    (!s.is_empty() && s.chars().count() <= MAX_NAME - 8).then(|| s.to_string())
}

/// `Content-Disposition` for a download: always an attachment, an ASCII fallback name and the
/// exact UTF-8 name (RFC 6266 / 8187).
pub fn disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || " .-_()[]+,".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

/// Incremental check that a byte stream is UTF-8 text without NULs.
#[derive(Default)]
struct Utf8Check {
    carry: Vec<u8>,
    bad: bool,
}

impl Utf8Check {
    fn feed(&mut self, chunk: &[u8]) {
        if self.bad {
            return;
        }
        let joined;
        let bytes = if self.carry.is_empty() {
            chunk
        } else {
            joined = [std::mem::take(&mut self.carry).as_slice(), chunk].concat();
            &joined
        };
        if bytes.contains(&0) {
            self.bad = true;
            return;
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => {}
            // A character cut at the chunk's end: finish it with the next chunk.
            Err(e) if e.error_len().is_none() => self.carry = bytes[e.valid_up_to()..].to_vec(),
            Err(_) => self.bad = true,
        }
    }

    fn ok(&self) -> bool {
        !self.bad && self.carry.is_empty()
    }
}

/// Deletes its file when dropped, unless disarmed.
struct DiskGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for DiskGuard {
    fn drop(&mut self) {
        if self.armed {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(path = %self.path.display(), error = %e, "removing an unused upload");
            }
        }
    }
}

/// An upload written to disk and recorded in the (uncommitted) transaction. Its bytes are
/// deleted when this is dropped, unless it ends with [`commit`](Self::commit).
pub struct Stored {
    pub file: FileDto,
    guard: DiskGuard,
}

impl Stored {
    /// Ends an upload handler: commits the caller's transaction, then keeps the bytes.
    pub async fn commit(mut self, ctx: TenantCtx) -> ApiResult<(StatusCode, Json<FileDto>)> {
        ctx.commit().await?;
        self.guard.armed = false;
        Ok((StatusCode::CREATED, Json(self.file.clone())))
    }
}

fn tenant_dir(state: &AppState, tenant: Uuid) -> PathBuf {
    state.cfg.files_dir.join(tenant.simple().to_string())
}

fn file_path(state: &AppState, tenant: Uuid, id: Uuid) -> PathBuf {
    tenant_dir(state, tenant).join(id.simple().to_string())
}

/// What spooling an upload produced.
struct Spooled {
    guard: DiskGuard,
    size: u64,
    sha256: String,
    head: Vec<u8>,
    utf8: bool,
}

/// Writes a body stream to `path`, hashing, counting (413 past `max`) and keeping the head.
async fn spool<S, E>(mut stream: S, path: &Path, max: u64) -> ApiResult<Spooled>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut out = tokio::fs::File::create(path)
        .await
        .map_err(ApiError::internal)?;
    let guard = DiskGuard {
        path: path.to_path_buf(),
        armed: true,
    };
    let (mut size, mut hash, mut head, mut utf8) =
        (0u64, Sha256::new(), Vec::new(), Utf8Check::default());
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| ApiError::Malformed {
            detail: format!("The upload could not be read: {e}"),
            field: None,
        })?;
        size += chunk.len() as u64;
        if size > max {
            return Err(ApiError::PayloadTooLarge);
        }
        hash.update(&chunk);
        utf8.feed(&chunk);
        if head.len() < SNIFF_BYTES {
            let take = (SNIFF_BYTES - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
        }
        out.write_all(&chunk).await.map_err(ApiError::internal)?;
    }
    out.flush().await.map_err(ApiError::internal)?;
    out.sync_all().await.map_err(ApiError::internal)?;
    Ok(Spooled {
        guard,
        size,
        sha256: hex::encode(hash.finalize()),
        head,
        utf8: utf8.ok(),
    })
}

fn header_text(req: &Request, name: header::HeaderName) -> Option<String> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// Receives one file: a `multipart/form-data` body (its first part with a file name), or a raw
/// body named by `name` (the `?name=` parameter) with its type in `Content-Type`. Checks size
/// and type, stores the bytes and inserts the `files` row in the caller's transaction.
pub async fn upload(
    state: &AppState,
    ctx: &mut TenantCtx,
    name: Option<String>,
    req: Request,
) -> ApiResult<Stored> {
    let max = state.cfg.max_upload_bytes;
    let (content_type, length) = (
        header_text(&req, header::CONTENT_TYPE),
        header_text(&req, header::CONTENT_LENGTH).and_then(|v| v.parse::<u64>().ok()),
    );
    let multipart = content_type
        .as_deref()
        .is_some_and(|c| c.to_ascii_lowercase().starts_with("multipart/form-data"));
    // Multipart framing adds a little; the file itself is counted exactly while spooling.
    let framing = if multipart { 16 * 1024 } else { 0 };
    if length.is_some_and(|n| n > max + framing) {
        return Err(ApiError::PayloadTooLarge);
    }
    let dir = tenant_dir(state, ctx.tenant().id);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(ApiError::internal)?;
    let tmp = dir.join(format!(".upload-{}", Uuid::new_v4().simple()));
    let (raw_name, declared, spooled) = if multipart {
        let mut form =
            Multipart::from_request(req, &())
                .await
                .map_err(|e| ApiError::Malformed {
                    detail: e.body_text(),
                    field: None,
                })?;
        loop {
            let field = form.next_field().await.map_err(|e| ApiError::Malformed {
                detail: e.body_text(),
                field: None,
            })?;
            let Some(field) = field else {
                return Err(ApiError::field("file", "the form has no file part"));
            };
            let Some(file_name) = field.file_name().map(str::to_string) else {
                continue;
            };
            let declared = field.content_type().map(str::to_string);
            break (
                file_name,
                declared,
                spool(std::pin::pin!(field), &tmp, max).await?,
            );
        }
    } else {
        let Some(name) = name else {
            return Err(ApiError::field(
                "name",
                "give the file name (?name=) or upload multipart/form-data",
            ));
        };
        let body = req.into_body().into_data_stream();
        (
            name,
            content_type,
            spool(std::pin::pin!(body), &tmp, max).await?,
        )
    };
    let Some(clean) = clean_name(&raw_name) else {
        return Err(ApiError::field(
            "name",
            format!("must be a file name of 1 to {} characters", MAX_NAME - 8),
        ));
    };
    if spooled.size == 0 {
        return Err(ApiError::field("file", "is empty"));
    }
    let (kind, name) = classify(&clean, declared.as_deref(), &spooled.head, spooled.utf8)?;
    let id = Uuid::new_v4();
    let path = file_path(state, ctx.tenant().id, id);
    tokio::fs::rename(&tmp, &path)
        .await
        .map_err(ApiError::internal)?;
    let mut guard = spooled.guard;
    guard.path = path;
    let uploader = ctx.user_id();
    let row: FileRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO files (id, name, content_type, size, sha256, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING {FILE_COLS}"
    )))
    .bind(id)
    .bind(&name)
    .bind(kind.mime)
    .bind(spooled.size as i64)
    .bind(&spooled.sha256)
    .bind(uploader)
    .fetch_one(ctx.db())
    .await?;
    Ok(Stored {
        file: file_dto(row),
        guard,
    })
}

/// Streams a stored file: its checked type, `nosniff`, a sandboxing CSP and an attachment
/// disposition, so nothing uploaded runs in our origin.
pub async fn download(state: &AppState, tenant: Uuid, file: &FileDto) -> ApiResult<Response> {
    let path = file_path(state, tenant, file.id);
    let f = tokio::fs::File::open(&path).await.map_err(|e| {
        ApiError::internal(anyhow::anyhow!(
            "file {} is recorded but unreadable at {}: {e}",
            file.id,
            path.display()
        ))
    })?;
    let len = f.metadata().await.map_err(ApiError::internal)?.len();
    let content_type = match by_mime(&file.content_type) {
        Some(k) if k.text => format!("{}; charset=utf-8", k.mime),
        _ => file.content_type.clone(),
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, len)
        .header(header::CONTENT_DISPOSITION, disposition(&file.name))
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox",
        )
        .header(header::CACHE_CONTROL, "private, no-cache")
        .body(Body::from_stream(tokio_util::io::ReaderStream::new(f)))
        .map_err(ApiError::internal)
}

/// Whether `path`, written by a media gateway (`<recordings dir>/<tenant id>/…`), lies in
/// `tenant`'s own part of that tree: a path naming another tenant's directory, or climbing
/// out with `..`, is never indexed or served.
pub fn in_tenant_tree(path: &str, tenant: Uuid) -> bool {
    let tenant = tenant.to_string();
    let parts = Path::new(path).components();
    let mut mine = false;
    for c in parts {
        if matches!(c, std::path::Component::ParentDir) {
            return false;
        }
        mine |= c.as_os_str() == tenant.as_str();
    }
    mine
}

/// A WAV a gateway wrote (a call recording, a voicemail), served inline as `filename`. A file
/// gone from storage is a 400 with `missing_code` (the row is there, the bytes are not).
pub async fn wav_response(
    path: &str,
    filename: &str,
    missing_code: &'static str,
) -> ApiResult<Response> {
    let bytes = match tokio::fs::read(path).await {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ApiError::BadRequest {
                code: missing_code,
                detail: "it is listed, but its file is gone from storage".into(),
            })
        }
        Err(e) => return Err(ApiError::internal(e)),
    };
    Response::builder()
        .header(header::CONTENT_TYPE, "audio/wav")
        .header(
            header::CONTENT_DISPOSITION,
            format!("inline; filename=\"{filename}\""),
        )
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(Body::from(bytes))
        .map_err(ApiError::internal)
}

/// Removes a deleted file's bytes; call after the deleting transaction committed. A failure
/// leaves an unreferenced file behind (logged), never a row without bytes.
pub async fn remove_bytes(state: &AppState, tenant: Uuid, id: Uuid) {
    let path = file_path(state, tenant, id);
    if let Err(e) = tokio::fs::remove_file(&path).await {
        tracing::warn!(path = %path.display(), error = %e, "removing a deleted file");
    }
}

// ------------------------------------------------------------------ rows and attachments

const FILE_COLS: &str = "id, name, content_type, size, sha256, uploaded_by, created_at";

#[derive(sqlx::FromRow)]
struct FileRow {
    id: Uuid,
    name: String,
    content_type: String,
    size: i64,
    sha256: String,
    uploaded_by: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn file_dto(r: FileRow) -> FileDto {
    FileDto {
        id: r.id,
        name: r.name,
        content_type: r.content_type,
        size: r.size,
        sha256: r.sha256,
        uploaded_by: r.uploaded_by,
        created_at: r.created_at,
    }
}

/// The query of an upload.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct UploadQuery {
    /// The file name, for a raw (not multipart) body.
    pub name: Option<String>,
}

/// What audit rows and history events say about a file.
pub fn details(f: &FileDto) -> serde_json::Value {
    serde_json::json!({ "file_id": f.id, "name": f.name, "size": f.size, "content_type": f.content_type })
}

/// What a file can be attached to.
#[derive(Debug, Clone, Copy)]
pub enum Owner {
    Ticket,
    KbArticle,
}

impl Owner {
    /// (link table, owner column) — constants, never request input.
    fn link(self) -> (&'static str, &'static str) {
        match self {
            Owner::Ticket => ("ticket_attachments", "ticket_id"),
            Owner::KbArticle => ("kb_attachments", "article_id"),
        }
    }
}

/// Receives an upload and attaches it to `owner_id` (which the caller has checked exists and
/// may be changed by them), in the caller's transaction.
pub async fn attach_upload(
    state: &AppState,
    ctx: &mut TenantCtx,
    owner: Owner,
    owner_id: Uuid,
    name: Option<String>,
    req: Request,
) -> ApiResult<Stored> {
    let stored = upload(state, ctx, name, req).await?;
    let (table, column) = owner.link();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO {table} ({column}, file_id) VALUES ($1, $2)"
    )))
    .bind(owner_id)
    .bind(stored.file.id)
    .execute(ctx.db())
    .await?;
    Ok(stored)
}

/// The files attached to `owner_id`, oldest first.
pub async fn attached(
    conn: &mut PgConnection,
    owner: Owner,
    owner_id: Uuid,
) -> ApiResult<Vec<FileDto>> {
    let (table, column) = owner.link();
    let rows: Vec<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FILE_COLS} FROM files WHERE id IN (SELECT file_id FROM {table} WHERE {column} = $1)
          ORDER BY created_at, id"
    )))
    .bind(owner_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(file_dto).collect())
}

/// One file attached to `owner_id`; 404 when it is not attached there (or does not exist).
pub async fn attached_one(
    conn: &mut PgConnection,
    owner: Owner,
    owner_id: Uuid,
    file_id: Uuid,
) -> ApiResult<FileDto> {
    let (table, column) = owner.link();
    let row: Option<FileRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FILE_COLS} FROM files
          WHERE id = $2 AND EXISTS (SELECT 1 FROM {table} WHERE {column} = $1 AND file_id = $2)"
    )))
    .bind(owner_id)
    .bind(file_id)
    .fetch_optional(conn)
    .await?;
    row.map(file_dto).ok_or(ApiError::NotFound)
}

/// Streams a file attached to `owner_id` (404 otherwise); ends the caller's transaction first.
pub async fn download_attached(
    state: &AppState,
    mut ctx: TenantCtx,
    owner: Owner,
    owner_id: Uuid,
    file_id: Uuid,
) -> ApiResult<Response> {
    let file = attached_one(ctx.db(), owner, owner_id, file_id).await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    download(state, tenant, &file).await
}

/// Deletes the file row (and so its attachment link); the bytes go with
/// [`remove_bytes`] after the commit.
pub async fn delete_row(conn: &mut PgConnection, file_id: Uuid) -> ApiResult<()> {
    sqlx::query("DELETE FROM files WHERE id = $1")
        .bind(file_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gateway_file_belongs_to_its_tenants_tree_only() {
        let t = Uuid::new_v4();
        let other = Uuid::new_v4();
        assert!(in_tenant_tree(&format!("/rec/{t}/voicemail/a-1.wav"), t));
        assert!(in_tenant_tree(&format!("/rec/{t}/2026/12/07/09/a.wav"), t));
        assert!(!in_tenant_tree(
            &format!("/rec/{other}/voicemail/a-1.wav"),
            t
        ));
        assert!(!in_tenant_tree(
            &format!("/rec/{t}/../{other}/voicemail/a-1.wav"),
            t
        ));
        assert!(!in_tenant_tree("/etc/passwd", t));
    }

    const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0";
    const EXE: &[u8] = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0\xb8\0\0\0\0\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x80\0\0\0PE\0\0L\x01";

    fn code(r: ApiResult<(&'static Kind, String)>) -> String {
        match r {
            Ok((k, n)) => format!("ok {} {n}", k.mime),
            Err(ApiError::UnsupportedMediaType(d)) => format!("415 {d}"),
            Err(e) => format!("{e:?}"),
        }
    }

    #[test]
    fn declared_and_sniffed_types_must_agree() {
        assert_eq!(
            code(classify("a.png", Some("image/png"), PNG, false)),
            "ok image/png a.png"
        );
        // Undeclared: the bytes decide; a missing extension is added.
        assert_eq!(
            code(classify("scan", None, PNG, false)),
            "ok image/png scan.png"
        );
        assert!(code(classify("a.png", Some("image/jpeg"), PNG, false)).starts_with("415"));
        // An executable, whatever it claims to be.
        let r = code(classify("cat.png", Some("image/png"), EXE, false));
        assert!(
            r.starts_with("415") && r.contains("portable-executable"),
            "{r}"
        );
        assert!(code(classify("a.exe", None, EXE, false)).starts_with("415"));
        // The name must fit the content.
        assert!(code(classify("a.exe", Some("image/png"), PNG, false)).contains(".exe"));
        // Not on the list at all.
        assert!(code(classify("a.html", Some("text/html"), b"<p>", true)).starts_with("415"));
    }

    #[test]
    fn text_is_utf8_without_magic() {
        assert_eq!(
            code(classify(
                "notes.txt",
                Some("text/plain; charset=utf-8"),
                b"hi",
                true
            )),
            "ok text/plain notes.txt"
        );
        assert_eq!(
            code(classify(
                "a.csv",
                Some("application/vnd.ms-excel"),
                b"a,b",
                true
            )),
            "ok text/csv a.csv"
        );
        assert_eq!(
            code(classify("a.csv", None, b"a,b", true)),
            "ok text/csv a.csv"
        );
        assert!(code(classify("a.txt", Some("text/plain"), b"\xff\xfe", false)).starts_with("415"));
        assert!(code(classify("a.pdf", Some("application/pdf"), b"hi", true)).starts_with("415"));
        assert!(code(classify("blob", None, b"hi", true)).starts_with("415"));
    }

    #[test]
    fn utf8_check_spans_chunks() {
        let text = "Ağdaş çayı".as_bytes();
        let mut c = Utf8Check::default();
        for chunk in text.chunks(1) {
            c.feed(chunk);
        }
        assert!(c.ok());
        let mut c = Utf8Check::default();
        c.feed(&text[..2]);
        assert!(!c.ok(), "a cut character at the end is not text");
        let mut c = Utf8Check::default();
        c.feed(b"a\0b");
        assert!(!c.ok());
    }

    #[test]
    fn names_are_cleaned_and_headers_safe() {
        assert_eq!(
            clean_name("C:\\Users\\x\\..\\report.pdf").as_deref(),
            Some("report.pdf")
        );
        assert_eq!(clean_name("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(clean_name("a\r\nb.txt").as_deref(), Some("ab.txt"));
        assert_eq!(clean_name("..."), None);
        assert_eq!(clean_name(""), None);
        assert_eq!(
            disposition("şikayət \"x\".pdf"),
            "attachment; filename=\"_ikay_t _x_.pdf\"; filename*=UTF-8''%C5%9Fikay%C9%99t%20%22x%22.pdf"
        );
    }
}
