//! Sign-up, login, logout, the current session, and password change.

use crate::{
    auth::{self, Actor, RequestMeta, TenantCtx, SESSION_COOKIE},
    error::{ApiError, ApiResult, Json},
    password,
    routes::users::load_user,
    state::AppState,
    tenants,
    validate::Check,
};
use axum::{
    extract::{Query, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use hotline_wire::api::{
    ChangePasswordRequest, LoginRequest, PasswordStrength, PasswordStrengthRequest, SessionInfo,
    SignupRequest, SignupResponse, TenantLoginOptions,
};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", post(signup))
        .route("/auth/options", get(options))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/auth/me", get(me))
        .route("/auth/password", post(change_password))
        .route("/auth/password-strength", post(password_strength))
}

/// The strength meter: the password policy's verdict and zxcvbn's feedback, for the words
/// given (nothing is stored or logged). Sign-up and password forms call it as the user types.
#[utoipa::path(post, path = "/api/v1/auth/password-strength", tag = "auth",
    request_body = PasswordStrengthRequest,
    responses((status = 200, body = PasswordStrength), (status = 422, body = hotline_wire::api::Problem),
        (status = 429, body = hotline_wire::api::Problem,
         description = "Too many estimates from this address (`rate_limited`); `Retry-After` says when to try again")))]
pub async fn password_strength(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<PasswordStrengthRequest>,
) -> ApiResult<Json<PasswordStrength>> {
    crate::ratelimit::strength(&state, meta.ip.as_deref()).await?;
    // Bounded work: the policy does not estimate more than MAX_CHARS characters, and the
    // context words are capped like the fields they come from.
    let mut c = Check::new();
    c.max_len("password", &req.password, 1024);
    c.max_len("email", req.email.as_deref().unwrap_or_default(), 254);
    c.max_len("name", req.name.as_deref().unwrap_or_default(), 200);
    c.max_len("company", req.company.as_deref().unwrap_or_default(), 200);
    c.finish()?;
    // The estimate takes milliseconds of CPU: off the async workers.
    let verdict = tokio::task::spawn_blocking(move || {
        let who = password::Context {
            email: req.email.as_deref().unwrap_or_default(),
            name: req.name.as_deref().unwrap_or_default(),
            company: req.company.as_deref().unwrap_or_default(),
        };
        password::assess(&req.password, &who)
    })
    .await
    .map_err(|e| ApiError::Internal(anyhow::anyhow!("password estimate: {e}")))?;
    Ok(Json(verdict))
}

#[utoipa::path(post, path = "/api/v1/signup", tag = "auth", request_body = SignupRequest,
    responses((status = 201, body = SignupResponse), (status = 409, body = hotline_wire::api::Problem),
              (status = 422, body = hotline_wire::api::Problem),
              (status = 429, body = hotline_wire::api::Problem,
               description = "Too many sign-ups from this address or on the platform this hour (`rate_limited`); `Retry-After` says when to try again")))]
pub async fn signup(
    State(state): State<AppState>,
    meta: RequestMeta,
    jar: CookieJar,
    Json(req): Json<SignupRequest>,
) -> ApiResult<(StatusCode, CookieJar, Json<SignupResponse>)> {
    // Counted before the work; given back when no tenant was made (refused input, a taken
    // company ID), so only real sign-ups use the allowance.
    let counted = crate::ratelimit::Signup::count(&state, meta.ip.as_deref()).await?;
    let (tenant, user_id) =
        match tenants::provision(&state, &req, &meta, req.admin_email.trim()).await {
            Ok(made) => made,
            Err(e) => {
                counted.give_back(&state).await;
                return Err(e);
            }
        };
    let mut tx = auth::system_tx(&state, &tenant).await?;
    let user = load_user(&mut tx, user_id).await?;
    let (cookie, _) = auth::sign_in(
        &state,
        &mut tx,
        &tenant,
        user_id,
        &user.email,
        "signup",
        &meta,
    )
    .await?;
    tx.commit().await?;
    let jar = jar.add(cookie);
    Ok((
        StatusCode::CREATED,
        jar,
        Json(SignupResponse {
            tenant: tenant.summary(),
            user,
        }),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub struct OptionsQuery {
    /// The tenant's slug.
    pub tenant: String,
}

#[utoipa::path(get, path = "/api/v1/auth/options", tag = "auth", params(OptionsQuery),
    responses((status = 200, body = TenantLoginOptions), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn options(
    State(state): State<AppState>,
    Query(q): Query<OptionsQuery>,
) -> ApiResult<Json<TenantLoginOptions>> {
    let mut conn = state.db.acquire().await?;
    let tenant = auth::tenant_by_slug(&mut conn, q.tenant.trim())
        .await?
        .ok_or(ApiError::NotFound)?;
    drop(conn);
    let mut tx = auth::system_tx(&state, &tenant).await?;
    let sso = crate::routes::sso::load_config(&mut tx).await?;
    tx.commit().await?;
    let enabled = sso.as_ref().is_some_and(|s| s.enabled);
    Ok(Json(TenantLoginOptions {
        sso_start_url: enabled.then(|| format!("/api/v1/auth/sso/{}/start", tenant.slug)),
        tenant: tenant.slug,
        display_name: tenant.name,
        sso_enabled: enabled,
    }))
}

/// The session body for a signed-in user.
pub async fn session_info(
    conn: &mut sqlx::PgConnection,
    tenant: &auth::TenantRef,
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> ApiResult<SessionInfo> {
    let user = load_user(&mut *conn, user_id).await?;
    let (builtin, custom): (Option<String>, Vec<String>) =
        sqlx::query_as("SELECT builtin_key, permissions FROM roles WHERE id = $1")
            .bind(user.role_id)
            .fetch_one(&mut *conn)
            .await?;
    let permissions = auth::role_permissions(builtin.as_deref(), custom);
    Ok(SessionInfo {
        user,
        tenant: tenant.summary(),
        permissions,
        expires_at,
    })
}

#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = SessionInfo), (status = 401, body = hotline_wire::api::Problem),
              (status = 429, body = hotline_wire::api::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    jar: CookieJar,
    Json(req): Json<LoginRequest>,
) -> ApiResult<(CookieJar, Json<SessionInfo>)> {
    let mut c = Check::new();
    c.text("tenant", &req.tenant, 40);
    c.text("email", &req.email, 254);
    c.max_len("password", &req.password, 128);
    c.finish()?;
    let email = req.email.trim().to_lowercase();
    let mut conn = state.db.acquire().await?;
    let tenant = auth::tenant_by_slug(&mut conn, req.tenant.trim().to_lowercase().as_str()).await?;
    drop(conn);
    let Some(tenant) = tenant else {
        auth::verify_password(None, req.password).await?;
        return Err(ApiError::InvalidCredentials);
    };
    if tenant.status != "active" {
        return Err(ApiError::TenantSuspended);
    }
    auth::throttle::check(&state, tenant.id, &email, meta.ip.as_deref()).await?;
    let mut tx = auth::system_tx(&state, &tenant).await?;
    let user: Option<(Uuid, Option<String>, bool)> =
        sqlx::query_as("SELECT id, password_hash, active FROM users WHERE lower(email) = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
    let (user_id, hash, active) = match user {
        Some((id, hash, active)) => (Some(id), hash, active),
        None => (None, None, false),
    };
    let ok = auth::verify_password(hash, req.password).await? && active;
    let Some(user_id) = user_id.filter(|_| ok) else {
        let locked = auth::throttle::failed(&state, tenant.id, &email, meta.ip.as_deref()).await?;
        auth::write_audit(
            &mut tx,
            user_id,
            &email,
            "auth.login_failed",
            Some("user"),
            user_id.map(|u| u.to_string()),
            serde_json::json!({ "locked": locked }),
            &meta,
        )
        .await?;
        tx.commit().await?;
        return Err(ApiError::InvalidCredentials);
    };
    auth::throttle::clear(&state, tenant.id, &email).await?;
    let (cookie, expires_at) =
        auth::sign_in(&state, &mut tx, &tenant, user_id, &email, "password", &meta).await?;
    let info = session_info(&mut tx, &tenant, user_id, expires_at).await?;
    tx.commit().await?;
    let jar = jar.add(cookie);
    Ok((jar, Json(info)))
}

#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    ctx: Option<TenantCtx>,
) -> ApiResult<(StatusCode, CookieJar)> {
    if let (Some(mut ctx), Some(token)) =
        (ctx, jar.get(SESSION_COOKIE).map(|c| c.value().to_string()))
    {
        sqlx::query("DELETE FROM platform.sessions WHERE token_hash = $1")
            .bind(auth::sha256(&token))
            .execute(ctx.db())
            .await?;
        ctx.audit(
            "auth.logout",
            Some("user"),
            ctx.user_id().map(|u| u.to_string()),
            serde_json::json!({}),
        )
        .await?;
        ctx.commit().await?;
    }
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(auth::clear_cookie(&state, SESSION_COOKIE)),
    ))
}

#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, body = SessionInfo),
        (status = 400, body = hotline_wire::api::Problem, description = "An API key, not a user (`not_a_user`)"),
        (status = 401, body = hotline_wire::api::Problem)))]
pub async fn me(mut ctx: TenantCtx) -> ApiResult<Json<SessionInfo>> {
    let (user_id, expires) = match ctx.actor() {
        Actor::User {
            id,
            session_expires,
            ..
        } => (*id, *session_expires),
        Actor::ApiKey { .. } => {
            return Err(ApiError::BadRequest {
                code: "not_a_user",
                detail: "API keys have no user session.".into(),
            })
        }
    };
    let tenant = ctx.tenant().clone();
    let info = session_info(ctx.db(), &tenant, user_id, expires).await?;
    ctx.commit().await?;
    Ok(Json(info))
}

/// Changes the caller's password. Every other session of the user ends, and the current one
/// is replaced: the answer sets a new session cookie and the old token stops working.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth", request_body = ChangePasswordRequest,
    responses((status = 204, description = "Changed; a new session cookie is set"),
        (status = 401, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn change_password(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    jar: CookieJar,
    Json(req): Json<ChangePasswordRequest>,
) -> ApiResult<(StatusCode, CookieJar)> {
    let user_id = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let (hash, email, name): (Option<String>, String, String) =
        sqlx::query_as("SELECT password_hash, email, name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(ctx.db())
            .await?;
    let company = ctx.tenant().name.clone();
    let mut c = Check::new();
    c.max_len("current_password", &req.current_password, 128);
    if req.new_password == req.current_password {
        c.fail("new_password", "must differ from the current password");
    } else {
        let who = password::Context {
            email: &email,
            name: &name,
            company: &company,
        };
        password::check(&mut c, "new_password", &req.new_password, &who);
    }
    c.finish()?;
    if !auth::verify_password(hash, req.current_password).await? {
        return Err(ApiError::field(
            "current_password",
            "is not your current password",
        ));
    }
    let new_hash = auth::hash_password(req.new_password).await?;
    sqlx::query("UPDATE users SET password_hash = $2, must_change_password = false, updated_at = now() WHERE id = $1")
        .bind(user_id)
        .bind(new_hash)
        .execute(ctx.db())
        .await?;
    let rotated = auth::sessions_changed(&state, &mut ctx, &[user_id]).await?;
    ctx.audit(
        "auth.password_change",
        Some("user"),
        Some(user_id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    let jar = match rotated {
        Some(cookie) => jar.add(cookie),
        None => jar,
    };
    Ok((StatusCode::NO_CONTENT, jar))
}
