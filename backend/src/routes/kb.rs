//! Knowledge base: category tree, articles with every version kept (diff, restore), the
//! draft → review → published workflow, and full-text search with typo tolerance.
//!
//! Workflow rule: editing a published article makes a new version and sends the article back
//! to `draft` (it leaves the public KB until approved again) — unless the editor may review,
//! whose edit counts as approved.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    files::{self, Owner},
    routes::crm::{check_tree_parent, tree_write_error as tree_error},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{DefaultBodyLimit, Path, Query, Request, State},
    http::StatusCode,
    response::Response,
    routing::{get, post, put},
    Router,
};
use hotline_wire::{crm::*, permissions as perms, tickets::FileDto};
use serde::Deserialize;
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/kb/categories", get(list_categories).post(create_category))
        .route(
            "/kb/categories/{id}",
            put(update_category).delete(delete_category),
        )
        .route("/kb/articles", get(list_articles).post(create_article))
        .route("/kb/articles/{id}", get(get_article).put(update_article))
        .route("/kb/articles/{id}/versions", get(list_versions))
        .route(
            "/kb/articles/{id}/versions/{version}/restore",
            post(restore_version),
        )
        .route("/kb/articles/{id}/diff", get(diff))
        .route("/kb/articles/{id}/transition", post(transition))
        .route(
            "/kb/articles/{id}/attachments",
            get(list_attachments)
                .post(upload_attachment)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/kb/articles/{id}/attachments/{file_id}",
            get(download_attachment).delete(delete_attachment),
        )
        .route("/kb/search", get(search))
        .route("/settings/kb", get(get_settings).put(put_settings))
}

// ------------------------------------------------------------------ text handling

/// Cleans HTML inside Markdown: scripts, event handlers, `javascript:` links are removed;
/// harmless formatting stays.
pub fn sanitise(body: &str) -> String {
    ammonia::Builder::default().clean(body).to_string()
}

/// Lower-case words of 3–40 letters/digits, for the typo dictionary and queries.
fn words(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| (3..=40).contains(&w.chars().count()))
        .map(str::to_lowercase)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The tenant's text-search configuration (settings key `kb`, field `language`).
async fn language(conn: &mut PgConnection) -> ApiResult<String> {
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value->'language' FROM settings WHERE key = 'kb'")
            .fetch_optional(conn)
            .await?;
    Ok(v.and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "simple".into()))
}

pub use hotline_wire::crm::KbSettings;

#[utoipa::path(get, path = "/api/v1/settings/kb", tag = "kb", responses((status = 200, body = KbSettings)))]
pub async fn get_settings(mut ctx: TenantCtx) -> ApiResult<Json<KbSettings>> {
    ctx.require(perms::KB_READ)?;
    let language = language(ctx.db()).await?;
    let available: Vec<String> =
        sqlx::query_scalar("SELECT cfgname::text FROM pg_catalog.pg_ts_config ORDER BY 1")
            .fetch_all(ctx.db())
            .await?;
    ctx.commit().await?;
    Ok(Json(KbSettings {
        language,
        available,
    }))
}

/// Changes the stemming language and re-indexes every article with it.
#[utoipa::path(put, path = "/api/v1/settings/kb", tag = "kb", request_body = KbSettings,
    responses((status = 200, body = KbSettings), (status = 422)))]
pub async fn put_settings(
    mut ctx: TenantCtx,
    Json(req): Json<KbSettings>,
) -> ApiResult<Json<KbSettings>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let available: Vec<String> =
        sqlx::query_scalar("SELECT cfgname::text FROM pg_catalog.pg_ts_config ORDER BY 1")
            .fetch_all(ctx.db())
            .await?;
    if !available.contains(&req.language) {
        return Err(ApiError::field(
            "language",
            format!("must be one of: {}", available.join(", ")),
        ));
    }
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('kb', jsonb_build_object('language', $1::text))
         ON CONFLICT (key) DO UPDATE SET value = settings.value || excluded.value, updated_at = now()",
    )
    .bind(&req.language)
    .execute(ctx.db())
    .await?;
    sqlx::query(
        "UPDATE kb_articles SET search = setweight(to_tsvector($1::regconfig, title), 'A')
                                      || setweight(to_tsvector($1::regconfig, body), 'B')",
    )
    .bind(&req.language)
    .execute(ctx.db())
    .await?;
    word_cache::forget(ctx.tenant().id);
    ctx.audit(
        "settings.kb",
        Some("settings"),
        Some("kb".into()),
        serde_json::json!({ "language": req.language }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(KbSettings {
        language: req.language,
        available,
    }))
}

// ------------------------------------------------------------------ categories

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    position: i32,
}

fn category(r: CategoryRow) -> KbCategoryDto {
    KbCategoryDto {
        id: r.id,
        parent_id: r.parent_id,
        name: r.name,
        position: r.position,
    }
}

#[utoipa::path(get, path = "/api/v1/kb/categories", tag = "kb", responses((status = 200, body = Vec<KbCategoryDto>)))]
pub async fn list_categories(mut ctx: TenantCtx) -> ApiResult<Json<Vec<KbCategoryDto>>> {
    ctx.require(perms::KB_READ)?;
    let rows: Vec<CategoryRow> = sqlx::query_as(
        "SELECT id, parent_id, name, position FROM kb_categories ORDER BY position, lower(name)",
    )
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(category).collect()))
}

#[utoipa::path(post, path = "/api/v1/kb/categories", tag = "kb", request_body = KbCategoryInput,
    responses((status = 201, body = KbCategoryDto), (status = 409), (status = 422)))]
pub async fn create_category(
    mut ctx: TenantCtx,
    Json(req): Json<KbCategoryInput>,
) -> ApiResult<(StatusCode, Json<KbCategoryDto>)> {
    ctx.require(perms::KB_WRITE)?;
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.finish()?;
    check_tree_parent(ctx.db(), "kb_categories", None, req.parent_id).await?;
    let row: CategoryRow = sqlx::query_as(
        "INSERT INTO kb_categories (parent_id, name, position) VALUES ($1, $2, $3) RETURNING id, parent_id, name, position",
    )
    .bind(req.parent_id)
    .bind(req.name.trim())
    .bind(req.position)
    .fetch_one(ctx.db())
    .await
    .map_err(tree_error)?;
    ctx.audit(
        "kb_category.create",
        Some("kb_category"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(category(row))))
}

#[utoipa::path(put, path = "/api/v1/kb/categories/{id}", tag = "kb", request_body = KbCategoryInput,
    responses((status = 200, body = KbCategoryDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_category(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<KbCategoryInput>,
) -> ApiResult<Json<KbCategoryDto>> {
    ctx.require(perms::KB_WRITE)?;
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.finish()?;
    check_tree_parent(ctx.db(), "kb_categories", Some(id), req.parent_id).await?;
    let row: CategoryRow = sqlx::query_as(
        "UPDATE kb_categories SET parent_id = $2, name = $3, position = $4 WHERE id = $1 RETURNING id, parent_id, name, position",
    )
    .bind(id)
    .bind(req.parent_id)
    .bind(req.name.trim())
    .bind(req.position)
    .fetch_optional(ctx.db())
    .await
    .map_err(tree_error)?
    .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "kb_category.update",
        Some("kb_category"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(category(row)))
}

#[utoipa::path(delete, path = "/api/v1/kb/categories/{id}", tag = "kb", responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_category(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::KB_WRITE)?;
    let n = sqlx::query("DELETE FROM kb_categories WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await
        .map_err(tree_error)?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "kb_category.delete",
        Some("kb_category"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ articles

#[derive(sqlx::FromRow)]
struct ArticleRow {
    id: Uuid,
    category_id: Uuid,
    title: String,
    body: String,
    status: String,
    current_version: i32,
    author_id: Option<Uuid>,
    published_at: Option<chrono::DateTime<chrono::Utc>>,
    views: i64,
    updated_at: chrono::DateTime<chrono::Utc>,
}

fn article(r: ArticleRow) -> KbArticleDto {
    KbArticleDto {
        id: r.id,
        category_id: r.category_id,
        title: r.title,
        body: r.body,
        status: r.status,
        version: r.current_version,
        author_id: r.author_id,
        published_at: r.published_at,
        views: r.views,
        updated_at: r.updated_at,
    }
}

const ARTICLE_COLS: &str = "id, category_id, title, body, status, current_version, author_id, published_at, views, updated_at";

/// Loads an article the caller may see: published ones for readers, any for writers.
async fn load_article(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<KbArticleDto> {
    let writer = ctx.require(perms::KB_WRITE).is_ok();
    let row: Option<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ARTICLE_COLS} FROM kb_articles WHERE id = $1 AND ($2 OR status = 'published')"
    )))
    .bind(id)
    .bind(writer)
    .fetch_optional(ctx.db())
    .await?;
    row.map(article).ok_or(ApiError::NotFound)
}

fn check_article(req: &KbArticleInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("title", &req.title, 300);
    c.text("body", &req.body, 200_000);
    c.max_len("note", &req.note, 500);
    c.finish()
}

/// Each backend process remembers, per tenant, how search words were resolved (known word,
/// closest known word, or nothing close) and the tenant's text-search language, for a short
/// time: repeated searches then skip the dictionary lookup. The dictionary only grows when
/// articles are saved, and a tenant's language rarely changes, so a stale entry costs at most
/// a missed correction for [`word_cache::TTL`].
mod word_cache {
    use std::collections::HashMap;
    use std::sync::{LazyLock, Mutex};
    use std::time::{Duration, Instant};
    use uuid::Uuid;

    pub const TTL: Duration = Duration::from_secs(30);
    /// Entries kept before the cache is emptied (a crude but bounded memory limit).
    const MAX: usize = 100_000;

    type Words = HashMap<(Uuid, String), (Instant, Option<String>)>;
    static WORDS: LazyLock<Mutex<Words>> = LazyLock::new(Default::default);
    static LANG: LazyLock<Mutex<HashMap<Uuid, (Instant, String)>>> =
        LazyLock::new(Default::default);

    /// The cached resolutions of `terms` (word → correction) and the tenant's language.
    pub fn get(
        tenant: Uuid,
        terms: &[String],
    ) -> (HashMap<String, Option<String>>, Option<String>) {
        let now = Instant::now();
        let mut out = HashMap::new();
        if let Ok(w) = WORDS.lock() {
            for t in terms {
                if let Some((at, near)) = w.get(&(tenant, t.clone())) {
                    if now.duration_since(*at) < TTL {
                        out.insert(t.clone(), near.clone());
                    }
                }
            }
        }
        let lang = LANG.lock().ok().and_then(|l| {
            l.get(&tenant)
                .filter(|(at, _)| now.duration_since(*at) < TTL)
                .map(|(_, lang)| lang.clone())
        });
        (out, lang)
    }

    pub fn put(tenant: Uuid, found: &[(String, Option<String>)], lang: &str) {
        let now = Instant::now();
        if let Ok(mut w) = WORDS.lock() {
            if w.len() + found.len() > MAX {
                w.clear();
            }
            for (t, near) in found {
                w.insert((tenant, t.clone()), (now, near.clone()));
            }
        }
        if let Ok(mut l) = LANG.lock() {
            if l.len() > MAX {
                l.clear();
            }
            l.insert(tenant, (now, lang.to_string()));
        }
    }

    /// Forgets the tenant's entries (after its dictionary or language changed here).
    pub fn forget(tenant: Uuid) {
        if let Ok(mut w) = WORDS.lock() {
            w.retain(|(t, _), _| *t != tenant);
        }
        if let Ok(mut l) = LANG.lock() {
            l.remove(&tenant);
        }
    }
}

/// Re-indexes an article and adds its words to the typo dictionary.
async fn index(conn: &mut PgConnection, id: Uuid, title: &str, body: &str) -> ApiResult<()> {
    let lang = language(&mut *conn).await?;
    sqlx::query(
        "UPDATE kb_articles SET search = setweight(to_tsvector($2::regconfig, title), 'A')
                                      || setweight(to_tsvector($2::regconfig, body), 'B') WHERE id = $1",
    )
    .bind(id)
    .bind(&lang)
    .execute(&mut *conn)
    .await?;
    let mut all = words(title);
    all.extend(words(body));
    sqlx::query("INSERT INTO kb_words (word) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING")
        .bind(&all)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ArticleListQuery {
    pub category_id: Option<Uuid>,
    /// `draft`, `review`, `published`, `archived` (writers only for all but published).
    pub status: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/kb/articles", tag = "kb", params(ArticleListQuery),
    responses((status = 200, body = Vec<KbArticleDto>)))]
pub async fn list_articles(
    mut ctx: TenantCtx,
    Query(q): Query<ArticleListQuery>,
) -> ApiResult<Json<Vec<KbArticleDto>>> {
    ctx.require(perms::KB_READ)?;
    let writer = ctx.require(perms::KB_WRITE).is_ok();
    let rows: Vec<ArticleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {ARTICLE_COLS} FROM kb_articles
          WHERE ($1::uuid IS NULL OR category_id = $1) AND ($2::text IS NULL OR status = $2)
            AND ($3 OR status = 'published')
          ORDER BY lower(title) LIMIT 1000"
    )))
    .bind(q.category_id)
    .bind(&q.status)
    .bind(writer)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(article).collect()))
}

#[utoipa::path(post, path = "/api/v1/kb/articles", tag = "kb", request_body = KbArticleInput,
    responses((status = 201, body = KbArticleDto), (status = 422)))]
pub async fn create_article(
    mut ctx: TenantCtx,
    Json(req): Json<KbArticleInput>,
) -> ApiResult<(StatusCode, Json<KbArticleDto>)> {
    ctx.require(perms::KB_WRITE)?;
    check_article(&req)?;
    let body = sanitise(&req.body);
    let author = ctx.user_id();
    let id: Uuid = sqlx::query_scalar("INSERT INTO kb_articles (category_id, title, body, author_id) VALUES ($1, $2, $3, $4) RETURNING id")
        .bind(req.category_id)
        .bind(req.title.trim())
        .bind(&body)
        .bind(author)
        .fetch_one(ctx.db())
        .await
        .map_err(|e| if crate::error::fk_violation(&e) { ApiError::field("category_id", "no such category") } else { e.into() })?;
    sqlx::query("INSERT INTO kb_article_versions (article_id, version, title, body, author_id, note) VALUES ($1, 1, $2, $3, $4, $5)")
        .bind(id)
        .bind(req.title.trim())
        .bind(&body)
        .bind(author)
        .bind(&req.note)
        .execute(ctx.db())
        .await?;
    index(ctx.db(), id, req.title.trim(), &body).await?;
    word_cache::forget(ctx.tenant().id);
    let a = load_article(&mut ctx, id).await?;
    ctx.audit(
        "kb_article.create",
        Some("kb_article"),
        Some(id.to_string()),
        serde_json::json!({ "title": a.title }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(a)))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct ViewQuery {
    /// Count this as a read (for usage reports).
    pub view: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}", tag = "kb", params(ViewQuery),
    responses((status = 200, body = KbArticleDto), (status = 404)))]
pub async fn get_article(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<ViewQuery>,
) -> ApiResult<Json<KbArticleDto>> {
    ctx.require(perms::KB_READ)?;
    let mut a = load_article(&mut ctx, id).await?;
    if q.view.unwrap_or(false) && a.status == "published" {
        a.views = sqlx::query_scalar(
            "UPDATE kb_articles SET views = views + 1 WHERE id = $1 RETURNING views",
        )
        .bind(id)
        .fetch_one(ctx.db())
        .await?;
    }
    ctx.commit().await?;
    Ok(Json(a))
}

/// Saves a new version with `title`/`body` and applies the workflow rule for edits.
async fn new_version(
    ctx: &mut TenantCtx,
    id: Uuid,
    category_id: Uuid,
    title: &str,
    body: &str,
    note: &str,
) -> ApiResult<KbArticleDto> {
    let before = load_article(ctx, id).await?;
    let reviewer = ctx.require(perms::KB_REVIEW).is_ok();
    let status = if before.status == "published" && !reviewer {
        "draft"
    } else {
        before.status.as_str()
    };
    let version = before.version + 1;
    let author = ctx.user_id();
    sqlx::query(
        "UPDATE kb_articles SET category_id = $2, title = $3, body = $4, status = $5, current_version = $6,
                updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(category_id)
    .bind(title)
    .bind(body)
    .bind(status)
    .bind(version)
    .execute(ctx.db())
    .await
    .map_err(|e| if crate::error::fk_violation(&e) { ApiError::field("category_id", "no such category") } else { e.into() })?;
    sqlx::query("INSERT INTO kb_article_versions (article_id, version, title, body, author_id, note) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(version)
        .bind(title)
        .bind(body)
        .bind(author)
        .bind(note)
        .execute(ctx.db())
        .await?;
    index(ctx.db(), id, title, body).await?;
    word_cache::forget(ctx.tenant().id);
    load_article(ctx, id).await
}

#[utoipa::path(put, path = "/api/v1/kb/articles/{id}", tag = "kb", request_body = KbArticleInput,
    responses((status = 200, body = KbArticleDto), (status = 404), (status = 422)))]
pub async fn update_article(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<KbArticleInput>,
) -> ApiResult<Json<KbArticleDto>> {
    ctx.require(perms::KB_WRITE)?;
    check_article(&req)?;
    let a = new_version(
        &mut ctx,
        id,
        req.category_id,
        req.title.trim(),
        &sanitise(&req.body),
        &req.note,
    )
    .await?;
    ctx.audit(
        "kb_article.update",
        Some("kb_article"),
        Some(id.to_string()),
        serde_json::json!({ "version": a.version, "status": a.status }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(a))
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i32,
    title: String,
    body: String,
    author_id: Option<Uuid>,
    note: String,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn version(r: VersionRow) -> KbVersionDto {
    KbVersionDto {
        version: r.version,
        title: r.title,
        body: r.body,
        author_id: r.author_id,
        note: r.note,
        created_at: r.created_at,
    }
}

async fn load_version(conn: &mut PgConnection, id: Uuid, v: i32) -> ApiResult<KbVersionDto> {
    let row: Option<VersionRow> = sqlx::query_as(
        "SELECT version, title, body, author_id, note, created_at FROM kb_article_versions WHERE article_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(v)
    .fetch_optional(conn)
    .await?;
    row.map(version).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/versions", tag = "kb",
    responses((status = 200, body = Vec<KbVersionDto>), (status = 404)))]
pub async fn list_versions(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<KbVersionDto>>> {
    ctx.require(perms::KB_WRITE)?;
    load_article(&mut ctx, id).await?;
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT version, title, body, author_id, note, created_at FROM kb_article_versions WHERE article_id = $1 ORDER BY version DESC",
    )
    .bind(id)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(version).collect()))
}

/// Restoring makes a new version with the old content; history is never rewritten.
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/versions/{version}/restore", tag = "kb",
    responses((status = 200, body = KbArticleDto), (status = 404)))]
pub async fn restore_version(
    mut ctx: TenantCtx,
    Path((id, v)): Path<(Uuid, i32)>,
) -> ApiResult<Json<KbArticleDto>> {
    ctx.require(perms::KB_WRITE)?;
    let current = load_article(&mut ctx, id).await?;
    let old = load_version(ctx.db(), id, v).await?;
    let a = new_version(
        &mut ctx,
        id,
        current.category_id,
        &old.title,
        &old.body,
        &format!("Restored version {v}"),
    )
    .await?;
    ctx.audit(
        "kb_article.restore",
        Some("kb_article"),
        Some(id.to_string()),
        serde_json::json!({ "restored": v, "version": a.version }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(a))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    pub from: i32,
    pub to: i32,
}

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/diff", tag = "kb", params(DiffQuery),
    responses((status = 200, body = Vec<KbDiffLine>), (status = 404)))]
pub async fn diff(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<DiffQuery>,
) -> ApiResult<Json<Vec<KbDiffLine>>> {
    ctx.require(perms::KB_WRITE)?;
    load_article(&mut ctx, id).await?;
    let a = load_version(ctx.db(), id, q.from).await?;
    let b = load_version(ctx.db(), id, q.to).await?;
    ctx.commit().await?;
    let old = format!("{}\n{}", a.title, a.body);
    let new = format!("{}\n{}", b.title, b.body);
    let lines = similar::TextDiff::from_lines(&old, &new)
        .iter_all_changes()
        .map(|c| KbDiffLine {
            op: match c.tag() {
                similar::ChangeTag::Equal => "=",
                similar::ChangeTag::Delete => "-",
                similar::ChangeTag::Insert => "+",
            }
            .into(),
            text: c.value().trim_end_matches('\n').to_string(),
        })
        .collect();
    Ok(Json(lines))
}

#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/transition", tag = "kb", request_body = KbTransition,
    responses((status = 200, body = KbArticleDto), (status = 403), (status = 409)))]
pub async fn transition(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<KbTransition>,
) -> ApiResult<Json<KbArticleDto>> {
    ctx.require(perms::KB_WRITE)?;
    let a = load_article(&mut ctx, id).await?;
    let (from, to, needs): (&[&str], &str, &str) = match req.action.as_str() {
        "submit" => (&["draft"], "review", perms::KB_WRITE),
        "approve" => (&["review"], "published", perms::KB_REVIEW),
        "reject" => (&["review"], "draft", perms::KB_REVIEW),
        "archive" => (
            &["draft", "review", "published"],
            "archived",
            perms::KB_REVIEW,
        ),
        "reopen" => (&["archived"], "draft", perms::KB_WRITE),
        _ => {
            return Err(ApiError::field(
                "action",
                "must be submit, approve, reject, archive or reopen",
            ))
        }
    };
    ctx.require(needs)?;
    if !from.contains(&a.status.as_str()) {
        return Err(ApiError::Conflict {
            code: "invalid_transition",
            detail: format!(
                "An article in '{}' cannot be {}d.",
                a.status,
                req.action.trim_end_matches('e')
            ),
        });
    }
    let reviewer = (to == "published").then(|| ctx.user_id()).flatten();
    sqlx::query(
        "UPDATE kb_articles SET status = $2, updated_at = now(),
                published_at = CASE WHEN $2 = 'published' THEN now() ELSE published_at END,
                reviewed_by = COALESCE($3, reviewed_by) WHERE id = $1",
    )
    .bind(id)
    .bind(to)
    .bind(reviewer)
    .execute(ctx.db())
    .await?;
    let a = load_article(&mut ctx, id).await?;
    ctx.audit(
        "kb_article.transition",
        Some("kb_article"),
        Some(id.to_string()),
        serde_json::json!({ "action": req.action, "status": a.status }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(a))
}

// ------------------------------------------------------------------ search

/// Escapes HTML, then turns the headline sentinels into `<mark>` tags.
fn safe_snippet(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len() + 16);
    for ch in raw.chars() {
        match ch {
            '\u{1}' => out.push_str("<mark>"),
            '\u{2}' => out.push_str("</mark>"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[derive(sqlx::FromRow)]
struct HitRow {
    id: Uuid,
    category_id: Uuid,
    title: String,
    snippet: String,
    status: String,
    rank: f32,
}

#[utoipa::path(get, path = "/api/v1/kb/search", tag = "kb", params(KbSearchQuery),
    responses((status = 200, body = KbSearchResult), (status = 422)))]
pub async fn search(
    mut ctx: TenantCtx,
    Query(q): Query<KbSearchQuery>,
) -> ApiResult<Json<KbSearchResult>> {
    ctx.require(perms::KB_READ)?;
    let all = q.all.unwrap_or(false);
    if all {
        ctx.require(perms::KB_WRITE)?;
    }
    let limit = q.limit.unwrap_or(20);
    let mut c = Check::new();
    c.text("q", &q.q, 200);
    c.range("limit", limit, 1, 100);
    c.finish()?;
    let terms = words(&q.q);
    if terms.is_empty() {
        return Err(ApiError::field(
            "q",
            "needs a word of at least 3 letters or digits",
        ));
    }
    // Each query word matches itself or, when the knowledge base has never seen it, the
    // closest known word (trigram similarity): "leek" finds "leak". One round trip for all
    // words and the tenant's language: a word's nearest neighbour is only looked up (GiST
    // index, stops at the first hit) when the word itself is unknown, and kept only when
    // similar enough (short words share few trigrams with their misspellings: "leek"/"leak"
    // score 0.25, hence 0.2).
    let terms: Vec<String> = terms.into_iter().take(8).collect();
    let tenant = ctx.tenant().id;
    let (mut known, mut lang) = word_cache::get(tenant, &terms);
    // The language comes back with the words' lookup; without it, look them all up again.
    let misses: Vec<String> = terms
        .iter()
        .filter(|t| lang.is_none() || !known.contains_key(*t))
        .cloned()
        .collect();
    if !misses.is_empty() {
        let looked_up: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT t.word,
                    CASE WHEN NOT EXISTS (SELECT 1 FROM kb_words k WHERE k.word = t.word) THEN
                        (SELECT n.word FROM (SELECT word FROM kb_words
                                              ORDER BY word OPERATOR(public.<->) t.word LIMIT 1) n
                          WHERE public.similarity(n.word, t.word) >= 0.2)
                    END,
                    (SELECT value->>'language' FROM settings WHERE key = 'kb')
               FROM unnest($1::text[]) t(word)",
        )
        .bind(&misses)
        .fetch_all(ctx.db())
        .await?;
        let mut found = vec![];
        let mut language = None;
        for (t, near, l) in looked_up {
            language = language.or(l);
            found.push((t, near));
        }
        let language = language.unwrap_or_else(|| "simple".into());
        word_cache::put(tenant, &found, &language);
        known.extend(found);
        lang = Some(language);
    }
    let mut corrections = vec![];
    let mut groups = vec![];
    for t in &terms {
        let mut alts = vec![t.clone()];
        if let Some(Some(n)) = known.get(t) {
            corrections.push((t.clone(), n.clone()));
            alts.push(n.clone());
        }
        // Words are letters and digits only (see `words`), so they are safe tsquery terms.
        groups.push(format!(
            "({})",
            alts.iter()
                .map(|a| format!("'{a}':*"))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    let lang = lang.unwrap_or_else(|| "simple".into());
    let tsquery = groups.join(" & ");
    // Rank every match but highlight only the page shown (ts_headline is the costly part).
    let rows: Vec<HitRow> = sqlx::query_as(
        "SELECT h.id, h.category_id, h.title, h.status, h.rank,
                ts_headline($2::regconfig, h.title || ': ' || h.body, h.query,
                            'StartSel=\u{1}, StopSel=\u{2}, MaxWords=30, MinWords=12, ShortWord=2') AS snippet
           FROM (SELECT a.id, a.category_id, a.title, a.body, a.status, query,
                        ts_rank(a.search, query) AS rank
                   FROM kb_articles a, to_tsquery($2::regconfig, $1) query
                  WHERE a.search @@ query AND ($3 OR a.status = 'published')
                  ORDER BY rank DESC, a.id LIMIT $4) h
          ORDER BY h.rank DESC, h.id",
    )
    .bind(&tsquery)
    .bind(&lang)
    .bind(all)
    .bind(limit)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    let hits = rows
        .into_iter()
        .map(|r| KbSearchHit {
            id: r.id,
            category_id: r.category_id,
            title: r.title,
            snippet: safe_snippet(&r.snippet),
            status: r.status,
            rank: r.rank,
        })
        .collect();
    Ok(Json(KbSearchResult { hits, corrections }))
}

// ------------------------------------------------------------------ attachments

#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/attachments", tag = "kb",
    responses((status = 200, body = Vec<FileDto>), (status = 404)))]
pub async fn list_attachments(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<FileDto>>> {
    ctx.require(perms::KB_READ)?;
    load_article(&mut ctx, id).await?;
    let list = files::attached(ctx.db(), Owner::KbArticle, id).await?;
    ctx.commit().await?;
    Ok(Json(list))
}

/// Attaches a file to an article (raw body named by `?name=`, or multipart); checked like
/// ticket attachments (413, 415).
#[utoipa::path(post, path = "/api/v1/kb/articles/{id}/attachments", tag = "kb", params(files::UploadQuery),
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
    ctx.require(perms::KB_WRITE)?;
    load_article(&mut ctx, id).await?;
    let stored = files::attach_upload(&state, &mut ctx, Owner::KbArticle, id, q.name, req).await?;
    ctx.audit(
        "kb_article.attach",
        Some("kb_article"),
        Some(id.to_string()),
        files::details(&stored.file),
    )
    .await?;
    stored.commit(ctx).await
}

/// Streams an attachment of an article the caller may read.
#[utoipa::path(get, path = "/api/v1/kb/articles/{id}/attachments/{file_id}", tag = "kb",
    responses((status = 200, content_type = "application/octet-stream"), (status = 404)))]
pub async fn download_attachment(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path((id, file_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<Response> {
    ctx.require(perms::KB_READ)?;
    load_article(&mut ctx, id).await?;
    files::download_attached(&state, ctx, Owner::KbArticle, id, file_id).await
}

#[utoipa::path(delete, path = "/api/v1/kb/articles/{id}/attachments/{file_id}", tag = "kb",
    responses((status = 204), (status = 404)))]
pub async fn delete_attachment(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path((id, file_id)): Path<(Uuid, Uuid)>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::KB_WRITE)?;
    let f = files::attached_one(ctx.db(), Owner::KbArticle, id, file_id).await?;
    files::delete_row(ctx.db(), file_id).await?;
    ctx.audit(
        "kb_article.detach",
        Some("kb_article"),
        Some(id.to_string()),
        files::details(&f),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    files::remove_bytes(&state, tenant, file_id).await;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sanitises_scripts_and_handlers() {
        let clean = sanitise("Hi <script>alert(1)</script><b onclick=\"x()\">bold</b> <a href=\"javascript:x\">l</a>");
        assert!(!clean.contains("script"), "{clean}");
        assert!(!clean.contains("onclick"), "{clean}");
        assert!(!clean.contains("javascript"), "{clean}");
        assert!(clean.contains("<b>bold</b>"), "{clean}");
    }

    #[test]
    fn snippets_escape_everything_but_marks() {
        assert_eq!(
            safe_snippet("a <b> \u{1}leak\u{2}"),
            "a &lt;b&gt; <mark>leak</mark>"
        );
    }

    #[test]
    fn words_are_safe_tsquery_terms() {
        assert_eq!(words("Leak's & 'drop' OR x"), vec!["drop", "leak"]);
        assert_eq!(words("Утечка воды"), vec!["воды", "утечка"]);
    }
}
