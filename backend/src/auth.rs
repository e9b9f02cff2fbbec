//! Who is calling: passwords, session tokens, API keys, and the extractors that turn a
//! verified credential into a [`TenantCtx`] or an [`OperatorCtx`].
//!
//! Invariant: a `TenantCtx` can only be built here, from a session or API key that was
//! looked up by hash and found valid; it carries the tenant-scoped transaction that every
//! tenant handler works in.

use crate::{
    db,
    error::{ApiError, ApiResult},
    state::AppState,
};
use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
    Argon2,
};
use axum::{
    extract::{ConnectInfo, FromRequestParts},
    http::{header, request::Parts, HeaderMap},
};
use axum_extra::extract::cookie::{Cookie, SameSite};
use base64::Engine;
use chrono::{DateTime, Utc};
use hotline_wire::permissions as perms;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{PgConnection, Postgres, Transaction};
use std::{collections::BTreeSet, net::SocketAddr};
use uuid::Uuid;

pub const SESSION_COOKIE: &str = "hotline_session";
pub const OPERATOR_COOKIE: &str = "hotline_op_session";

// ------------------------------------------------------------------ passwords and tokens

/// Hashes a password with Argon2id (default parameters) on the blocking pool.
pub async fn hash_password(password: String) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| ApiError::internal(anyhow::anyhow!("hashing: {e}")))
    })
    .await
    .map_err(ApiError::internal)?
}

/// Verifies a password. With no stored hash it still spends the same time (on a fixed dummy
/// hash) so response times do not reveal whether an account exists.
pub async fn verify_password(stored: Option<String>, password: String) -> ApiResult<bool> {
    tokio::task::spawn_blocking(move || {
        let (hash, real) = match stored {
            Some(h) => (h, true),
            None => (dummy_hash().to_string(), false),
        };
        let parsed = PasswordHash::new(&hash)
            .map_err(|e| ApiError::internal(anyhow::anyhow!("stored hash: {e}")))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
            && real)
    })
    .await
    .map_err(ApiError::internal)?
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(b"not a real password", &salt)
            .map(|h| h.to_string())
            .unwrap_or_default()
    })
}

/// A fresh random secret (256 bits, URL-safe) and the SHA-256 kept in the database.
pub fn new_secret() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let secret = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let hash = sha256(&secret);
    (secret, hash)
}

pub fn sha256(s: &str) -> Vec<u8> {
    Sha256::digest(s.as_bytes()).to_vec()
}

/// API keys read `hk_<tenant id, 32 hex>_<secret>`: the tenant is found without a global
/// table, and the key itself is looked up by hash inside the tenant's schema.
pub fn api_key_string(tenant_id: Uuid, secret: &str) -> String {
    format!("hk_{}_{}", tenant_id.simple(), secret)
}

fn parse_api_key(token: &str) -> Option<(Uuid, &str)> {
    let rest = token.strip_prefix("hk_")?;
    let (tenant, secret) = rest.split_at_checked(32)?;
    let secret = secret.strip_prefix('_')?;
    Some((Uuid::try_parse(tenant).ok()?, secret))
}

// ------------------------------------------------------------------ sessions

/// Creates a session row and returns the token to put in the cookie.
pub async fn create_session(
    conn: &mut PgConnection,
    kind: &str,
    tenant_id: Option<Uuid>,
    subject_id: Uuid,
    meta: &RequestMeta,
    ttl: std::time::Duration,
) -> ApiResult<(String, DateTime<Utc>)> {
    let (token, hash) = new_secret();
    let expires_at = Utc::now() + chrono::Duration::from_std(ttl).map_err(ApiError::internal)?;
    sqlx::query(
        "INSERT INTO platform.sessions (token_hash, kind, tenant_id, subject_id, expires_at, ip, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash)
    .bind(kind)
    .bind(tenant_id)
    .bind(subject_id)
    .bind(expires_at)
    .bind(meta.ip.as_deref())
    .bind(meta.user_agent.as_deref())
    .execute(conn)
    .await?;
    Ok((token, expires_at))
}

/// Signs a tenant user in, inside `tx`: a new session plus its `auth.login` audit row
/// (`method`: password, sso, signup). Returns the cookie to set and the expiry. One place for
/// every way of signing in, so they cannot drift apart.
pub async fn sign_in(
    state: &AppState,
    tx: &mut PgConnection,
    tenant: &TenantRef,
    user_id: Uuid,
    email: &str,
    method: &str,
    meta: &RequestMeta,
) -> ApiResult<(Cookie<'static>, DateTime<Utc>)> {
    let (token, expires_at) = create_session(
        &mut *tx,
        "user",
        Some(tenant.id),
        user_id,
        meta,
        state.cfg.session_ttl(),
    )
    .await?;
    write_audit(
        &mut *tx,
        Some(user_id),
        email,
        "auth.login",
        Some("user"),
        Some(user_id.to_string()),
        serde_json::json!({ "method": method }),
        meta,
    )
    .await?;
    let cookie = session_cookie(
        state,
        SESSION_COOKIE,
        token,
        state.cfg.session_ttl_secs as i64,
    );
    Ok((cookie, expires_at))
}

/// A session's last use is written at most this often (seconds).
pub const LAST_SEEN_EVERY: i64 = 60;

/// Ends every session of one user (password reset, deactivation, privilege change) but
/// `keep`; returns how many ended.
pub async fn end_sessions_of(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    user_id: Uuid,
    keep: Option<Uuid>,
) -> ApiResult<u64> {
    Ok(sqlx::query(
        "DELETE FROM platform.sessions
          WHERE kind = 'user' AND tenant_id = $1 AND subject_id = $2 AND id IS DISTINCT FROM $3",
    )
    .bind(tenant_id)
    .bind(user_id)
    .bind(keep)
    .execute(conn)
    .await?
    .rows_affected())
}

/// After `users`' password or privileges changed: their sessions end, so a token taken
/// before the change is worth nothing after it. The caller's own current session (when the
/// caller is one of them) is replaced by a new one instead of ending: the returned cookie
/// carries its token, and the old token no longer works either.
pub async fn sessions_changed(
    state: &AppState,
    ctx: &mut TenantCtx,
    users: &[Uuid],
) -> ApiResult<Option<Cookie<'static>>> {
    let tenant = ctx.tenant.id;
    let current = match &ctx.actor {
        Actor::User { id, session_id, .. } if users.contains(id) => Some((*id, *session_id)),
        _ => None,
    };
    sqlx::query(
        "DELETE FROM platform.sessions
          WHERE kind = 'user' AND tenant_id = $1 AND subject_id = ANY($2)
            AND id IS DISTINCT FROM $3",
    )
    .bind(tenant)
    .bind(users)
    .bind(current.map(|c| c.1))
    .execute(&mut *ctx.tx)
    .await?;
    let Some((user, old)) = current else {
        return Ok(None);
    };
    sqlx::query("DELETE FROM platform.sessions WHERE id = $1")
        .bind(old)
        .execute(&mut *ctx.tx)
        .await?;
    let meta = ctx.meta.clone();
    let (token, expires_at) = create_session(
        &mut ctx.tx,
        "user",
        Some(tenant),
        user,
        &meta,
        state.cfg.session_ttl(),
    )
    .await?;
    let new_id: Uuid = sqlx::query_scalar("SELECT id FROM platform.sessions WHERE token_hash = $1")
        .bind(sha256(&token))
        .fetch_one(&mut *ctx.tx)
        .await?;
    if let Actor::User {
        session_id,
        session_expires,
        ..
    } = &mut ctx.actor
    {
        *session_id = new_id;
        *session_expires = expires_at;
    }
    Ok(Some(session_cookie(
        state,
        SESSION_COOKIE,
        token,
        state.cfg.session_ttl_secs as i64,
    )))
}

pub fn session_cookie(
    state: &AppState,
    name: &'static str,
    token: String,
    max_age_secs: i64,
) -> Cookie<'static> {
    Cookie::build((name, token))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.cfg.secure_cookies())
        .max_age(cookie::time::Duration::seconds(max_age_secs))
        .build()
}

pub fn clear_cookie(state: &AppState, name: &'static str) -> Cookie<'static> {
    session_cookie(state, name, String::new(), 0)
}

/// A cookie value from the request headers.
pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| Cookie::parse(c.trim().to_string()).ok())
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(|s| s.trim().to_string())
}

// ------------------------------------------------------------------ request metadata

/// Where a request came from, for the audit log, login throttling and rate limits. `ip` is the
/// client address `client_addr` works out (the socket peer, or `X-Forwarded-For` from a
/// trusted proxy) and nothing else.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub request_id: Option<String>,
}

impl<S: Send + Sync> FromRequestParts<S> for RequestMeta {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let ip = match parts.extensions.get::<crate::client_addr::ClientAddr>() {
            Some(c) => Some(c.0.to_string()),
            // Outside `app::router` (no middleware): the socket peer.
            None => parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| crate::allow_list::canonical(c.0.ip()).to_string()),
        };
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(|s| s.chars().take(300).collect::<String>())
        };
        Ok(RequestMeta {
            ip,
            user_agent: header("user-agent"),
            request_id: header("x-request-id"),
        })
    }
}

// ------------------------------------------------------------------ tenant principal

/// The tenant a request acts in.
#[derive(Debug, Clone)]
pub struct TenantRef {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
}

impl TenantRef {
    pub fn schema(&self) -> String {
        db::schema_name(self.id)
    }

    pub fn summary(&self) -> hotline_wire::api::TenantSummary {
        hotline_wire::api::TenantSummary {
            id: self.id,
            slug: self.slug.clone(),
            name: self.name.clone(),
            status: self.status.clone(),
        }
    }
}

/// Who acts: a signed-in user or an API key.
#[derive(Debug, Clone)]
pub enum Actor {
    User {
        id: Uuid,
        email: String,
        /// The session's public id (`platform.sessions.id`).
        session_id: Uuid,
        session_expires: DateTime<Utc>,
    },
    ApiKey {
        id: Uuid,
        name: String,
    },
}

/// Permissions of a built-in role (kept in code so new permissions reach them).
pub fn builtin_permissions(key: &str) -> Vec<String> {
    let keys: Vec<&str> = match key {
        "admin" => perms::ALL.iter().map(|p| p.key).collect(),
        "supervisor" => vec![
            perms::USERS_READ,
            perms::AUDIT_READ,
            perms::AGENT_STATE,
            perms::SUPERVISE,
            perms::CRM_READ,
            perms::CRM_WRITE,
            perms::KB_READ,
            perms::KB_WRITE,
            perms::KB_REVIEW,
            perms::TICKETS_WORK,
            perms::TICKETS_ADMIN,
            perms::RECORDINGS_READ,
            perms::CAMPAIGNS_WRITE,
        ],
        "agent" => vec![
            perms::AGENT_STATE,
            perms::CRM_READ,
            perms::CRM_WRITE,
            perms::KB_READ,
            perms::TICKETS_WORK,
        ],
        _ => vec![],
    };
    keys.into_iter().map(String::from).collect()
}

/// What a role grants: a built-in role's permissions come from code (so a new permission
/// reaches it), a custom role's from its row.
pub fn role_permissions(builtin_key: Option<&str>, custom: Vec<String>) -> Vec<String> {
    match builtin_key {
        Some(key) => builtin_permissions(key),
        None => custom,
    }
}

/// A verified caller inside one tenant, holding the open tenant-scoped transaction.
pub struct TenantCtx {
    tenant: TenantRef,
    actor: Actor,
    permissions: BTreeSet<String>,
    meta: RequestMeta,
    tx: Transaction<'static, Postgres>,
}

impl TenantCtx {
    pub fn tenant(&self) -> &TenantRef {
        &self.tenant
    }

    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    pub fn user_id(&self) -> Option<Uuid> {
        match self.actor {
            Actor::User { id, .. } => Some(id),
            Actor::ApiKey { .. } => None,
        }
    }

    pub fn permissions(&self) -> Vec<String> {
        self.permissions.iter().cloned().collect()
    }

    pub fn meta(&self) -> &RequestMeta {
        &self.meta
    }

    /// Whether the caller holds `permission`.
    pub fn can(&self, permission: &str) -> bool {
        self.permissions.contains(permission)
    }

    /// 403 unless the caller holds `permission`.
    pub fn require(&self, permission: &str) -> ApiResult<()> {
        if self.permissions.contains(permission) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The tenant-scoped transaction.
    pub fn db(&mut self) -> &mut PgConnection {
        &mut self.tx
    }

    /// Records an action in the tenant's audit log, in the same transaction as the change.
    pub async fn audit(
        &mut self,
        action: &str,
        target_type: Option<&str>,
        target_id: Option<String>,
        details: serde_json::Value,
    ) -> ApiResult<()> {
        let (actor_id, actor) = match &self.actor {
            Actor::User { id, email, .. } => (Some(*id), email.clone()),
            Actor::ApiKey { id, name } => (Some(*id), format!("api-key:{name}")),
        };
        let meta = self.meta.clone();
        write_audit(
            &mut self.tx,
            actor_id,
            &actor,
            action,
            target_type,
            target_id,
            details,
            &meta,
        )
        .await
    }

    pub async fn commit(self) -> ApiResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// Inserts one audit row into the tenant schema the connection is scoped to.
#[allow(clippy::too_many_arguments)]
pub async fn write_audit(
    conn: &mut PgConnection,
    actor_id: Option<Uuid>,
    actor: &str,
    action: &str,
    target_type: Option<&str>,
    target_id: Option<String>,
    details: serde_json::Value,
    meta: &RequestMeta,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO audit_log (actor_id, actor, action, target_type, target_id, details, ip, request_id, user_agent)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(actor_id)
    .bind(actor)
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(details)
    .bind(meta.ip.as_deref())
    .bind(meta.request_id.as_deref())
    .bind(meta.user_agent.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// Looks a tenant up by id.
pub async fn tenant_by_id(conn: &mut PgConnection, id: Uuid) -> ApiResult<Option<TenantRef>> {
    let row: Option<(Uuid, String, String, String)> =
        sqlx::query_as("SELECT id, slug, name, status FROM platform.tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(id, slug, name, status)| TenantRef {
        id,
        slug,
        name,
        status,
    }))
}

pub async fn tenant_by_slug(conn: &mut PgConnection, slug: &str) -> ApiResult<Option<TenantRef>> {
    let row: Option<(Uuid, String, String, String)> =
        sqlx::query_as("SELECT id, slug, name, status FROM platform.tenants WHERE slug = $1")
            .bind(slug)
            .fetch_optional(conn)
            .await?;
    Ok(row.map(|(id, slug, name, status)| TenantRef {
        id,
        slug,
        name,
        status,
    }))
}

impl FromRequestParts<AppState> for TenantCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let meta = RequestMeta::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let token = bearer(&parts.headers)
            .or_else(|| cookie_value(&parts.headers, SESSION_COOKIE))
            .ok_or(ApiError::Unauthenticated)?;
        let ctx = if let Some((tenant_id, secret)) = parse_api_key(&token) {
            from_api_key(state, tenant_id, secret, meta).await?
        } else {
            from_session(state, &token, meta).await?
        };
        tracing::Span::current().record("tenant_id", tracing::field::display(ctx.tenant.id));
        Ok(ctx)
    }
}

/// `Option<TenantCtx>`: `None` when the caller is not (or no longer) signed in.
impl axum::extract::OptionalFromRequestParts<AppState> for TenantCtx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        match <TenantCtx as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(ctx) => Ok(Some(ctx)),
            Err(
                ApiError::Unauthenticated | ApiError::SessionExpired | ApiError::TenantSuspended,
            ) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

async fn from_session(state: &AppState, token: &str, meta: RequestMeta) -> ApiResult<TenantCtx> {
    let mut tx = state.db.begin().await?;
    // One round trip: the session and its tenant.
    #[allow(clippy::type_complexity)]
    let row: Option<(
        Uuid,
        DateTime<Utc>,
        Uuid,
        Option<DateTime<Utc>>,
        Uuid,
        String,
        String,
        String,
    )> = sqlx::query_as(
        "SELECT s.subject_id, s.expires_at, s.id, s.last_seen_at, t.id, t.slug, t.name, t.status
           FROM platform.sessions s JOIN platform.tenants t ON t.id = s.tenant_id
          WHERE s.token_hash = $1 AND s.kind = 'user'",
    )
    .bind(sha256(token))
    .fetch_optional(&mut *tx)
    .await?;
    let (user_id, expires, session_id, last_seen, tenant_id, slug, name, status) =
        row.ok_or(ApiError::Unauthenticated)?;
    if expires <= Utc::now() {
        sqlx::query("DELETE FROM platform.sessions WHERE token_hash = $1")
            .bind(sha256(token))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        return Err(ApiError::SessionExpired);
    }
    let tenant = TenantRef {
        id: tenant_id,
        slug,
        name,
        status,
    };
    if tenant.status != "active" {
        return Err(ApiError::TenantSuspended);
    }
    if last_seen.is_none_or(|t| Utc::now() - t >= chrono::Duration::seconds(LAST_SEEN_EVERY)) {
        // Outside the request's transaction: a long request must not hold the session row.
        sqlx::query(
            "UPDATE platform.sessions SET last_seen_at = now(), last_seen_ip = $2 WHERE id = $1",
        )
        .bind(session_id)
        .bind(meta.ip.as_deref())
        .execute(&state.db)
        .await?;
    }
    db::scope_to_schema(&mut tx, &tenant.schema()).await?;
    let user: Option<(String, bool, Option<String>, Vec<String>)> = sqlx::query_as(
        "SELECT u.email, u.active, r.builtin_key, r.permissions
           FROM users u JOIN roles r ON r.id = u.role_id WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (email, active, builtin, custom) = user.ok_or(ApiError::Unauthenticated)?;
    if !active {
        return Err(ApiError::Unauthenticated);
    }
    let permissions = role_permissions(builtin.as_deref(), custom)
        .into_iter()
        .collect();
    Ok(TenantCtx {
        tenant,
        actor: Actor::User {
            id: user_id,
            email,
            session_id,
            session_expires: expires,
        },
        permissions,
        meta,
        tx,
    })
}

async fn from_api_key(
    state: &AppState,
    tenant_id: Uuid,
    secret: &str,
    meta: RequestMeta,
) -> ApiResult<TenantCtx> {
    let mut tx = state.db.begin().await?;
    let tenant = tenant_by_id(&mut tx, tenant_id)
        .await?
        .ok_or(ApiError::Unauthenticated)?;
    if tenant.status != "active" {
        return Err(ApiError::TenantSuspended);
    }
    db::scope_to_schema(&mut tx, &tenant.schema()).await?;
    let key: Option<(Uuid, String, Option<String>, Vec<String>)> = sqlx::query_as(
        "UPDATE api_keys k SET last_used_at = now() FROM roles r
          WHERE k.secret_hash = $1 AND k.revoked_at IS NULL AND r.id = k.role_id
         RETURNING k.id, k.name, r.builtin_key, r.permissions",
    )
    .bind(sha256(secret))
    .fetch_optional(&mut *tx)
    .await?;
    let (id, name, builtin, custom) = key.ok_or(ApiError::Unauthenticated)?;
    let permissions = role_permissions(builtin.as_deref(), custom)
        .into_iter()
        .collect();
    Ok(TenantCtx {
        tenant,
        actor: Actor::ApiKey { id, name },
        permissions,
        meta,
        tx,
    })
}

/// Opens a transaction in a tenant's schema without a caller (login, SSO, provisioning):
/// crate-internal, and only for flows that verify the caller themselves.
pub(crate) async fn system_tx(
    state: &AppState,
    tenant: &TenantRef,
) -> ApiResult<Transaction<'static, Postgres>> {
    Ok(db::begin_in_schema(&state.db, &tenant.schema()).await?)
}

// ------------------------------------------------------------------ platform operators

/// A verified platform operator. Operators see tenants' metadata, never their content.
pub struct OperatorCtx {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
    pub meta: RequestMeta,
}

impl FromRequestParts<AppState> for OperatorCtx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let meta = RequestMeta::from_request_parts(parts, state)
            .await
            .unwrap_or_default();
        let token =
            cookie_value(&parts.headers, OPERATOR_COOKIE).ok_or(ApiError::Unauthenticated)?;
        let row: Option<(Uuid, String, String, bool, DateTime<Utc>)> = sqlx::query_as(
            "SELECT o.id, o.email, o.name, o.active, s.expires_at
               FROM platform.sessions s JOIN platform.operators o ON o.id = s.subject_id
              WHERE s.token_hash = $1 AND s.kind = 'operator'",
        )
        .bind(sha256(&token))
        .fetch_optional(&state.db)
        .await?;
        let (id, email, name, active, expires_at) = row.ok_or(ApiError::Unauthenticated)?;
        if expires_at <= Utc::now() {
            return Err(ApiError::SessionExpired);
        }
        if !active {
            return Err(ApiError::Unauthenticated);
        }
        Ok(OperatorCtx {
            id,
            email,
            name,
            expires_at,
            meta,
        })
    }
}

/// `Option<OperatorCtx>`: `None` when the caller is not (or no longer) a signed-in operator.
impl axum::extract::OptionalFromRequestParts<AppState> for OperatorCtx {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Option<Self>, ApiError> {
        match <OperatorCtx as FromRequestParts<AppState>>::from_request_parts(parts, state).await {
            Ok(op) => Ok(Some(op)),
            Err(ApiError::Unauthenticated | ApiError::SessionExpired) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

// ------------------------------------------------------------------ login throttling

/// Login failure counting in Redis, shared by every API node.
pub mod throttle {
    use super::*;
    use redis::AsyncCommands;

    fn account_key(tenant_id: Uuid, email: &str) -> String {
        format!("{{t:{tenant_id}}}:login:fail:{}", email.to_lowercase())
    }

    fn ip_key(ip: &str) -> String {
        format!("login:ip:{ip}")
    }

    /// Failed attempts from one address (any account) tolerated per lock-out window.
    const IP_LIMIT: u32 = 100;

    /// `Err(LoginLocked)` when the account or the address is locked out.
    pub async fn check(
        state: &AppState,
        tenant_id: Uuid,
        email: &str,
        ip: Option<&str>,
    ) -> ApiResult<()> {
        let mut r = state.redis();
        let key = account_key(tenant_id, email);
        let n: Option<u32> = r.get(&key).await?;
        if n.unwrap_or(0) >= state.cfg.login_max_failures {
            let ttl: i64 = r.ttl(&key).await?;
            return Err(ApiError::LoginLocked {
                retry_after_secs: ttl.max(1) as u64,
            });
        }
        if let Some(ip) = ip {
            let n: Option<u32> = r.get(ip_key(ip)).await?;
            if n.unwrap_or(0) >= IP_LIMIT {
                let ttl: i64 = r.ttl(ip_key(ip)).await?;
                return Err(ApiError::LoginLocked {
                    retry_after_secs: ttl.max(1) as u64,
                });
            }
        }
        Ok(())
    }

    /// Counts a failure; returns true when this failure locked the account.
    pub async fn failed(
        state: &AppState,
        tenant_id: Uuid,
        email: &str,
        ip: Option<&str>,
    ) -> ApiResult<bool> {
        let mut r = state.redis();
        let window = state.cfg.login_lockout_secs as i64;
        let key = account_key(tenant_id, email);
        let n: u32 = r.incr(&key, 1).await?;
        let _: bool = r.expire(&key, window).await?;
        if let Some(ip) = ip {
            let _: u32 = r.incr(ip_key(ip), 1).await?;
            let _: bool = r.expire(ip_key(ip), window).await?;
        }
        Ok(n == state.cfg.login_max_failures)
    }

    pub async fn clear(state: &AppState, tenant_id: Uuid, email: &str) -> ApiResult<()> {
        let mut r = state.redis();
        let _: u32 = r.del(account_key(tenant_id, email)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_key_format_round_trips() {
        let t = Uuid::new_v4();
        let (secret, _) = new_secret();
        let key = api_key_string(t, &secret);
        assert_eq!(parse_api_key(&key), Some((t, secret.as_str())));
        assert_eq!(parse_api_key("hk_short"), None);
        assert_eq!(parse_api_key("not a key"), None);
    }

    #[test]
    fn builtin_roles() {
        assert_eq!(builtin_permissions("admin").len(), perms::ALL.len());
        let agent = builtin_permissions("agent");
        assert!(agent.contains(&perms::AGENT_STATE.to_string()));
        assert!(agent.contains(&perms::KB_READ.to_string()));
        assert!(
            !agent.contains(&perms::USERS_READ.to_string()),
            "agents never reach admin screens"
        );
        assert!(builtin_permissions("nobody").is_empty());
    }

    #[tokio::test]
    async fn passwords_verify_and_unknown_accounts_fail() {
        let h = hash_password("correct horse battery".into()).await.unwrap();
        assert!(
            verify_password(Some(h.clone()), "correct horse battery".into())
                .await
                .unwrap()
        );
        assert!(!verify_password(Some(h), "wrong".into()).await.unwrap());
        assert!(!verify_password(None, "not a real password".into())
            .await
            .unwrap());
    }
}
