//! Single sign-on: OAuth2 authorization code + PKCE against the tenant's OpenID provider.
//!
//! Start: discovery, a random `state` and PKCE verifier kept in Redis for 10 minutes, then a
//! redirect to the provider. Callback: the state is taken (once) from Redis, the code is
//! exchanged with the verifier, the provider's userinfo gives the e-mail, and the matching
//! active user gets a session. Every failure redirects to `/login?error=<code>` without a
//! session.

use crate::{
    auth::{self, RequestMeta, TenantCtx, TenantRef},
    error::{ApiError, ApiResult, Json},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Redirect, Response},
    routing::get,
    Router,
};
use axum_extra::extract::CookieJar;
use hotline_wire::{api::SsoConfig, permissions as perms};
use oauth2::{
    basic::BasicClient, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    EndpointNotSet, EndpointSet, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    TokenResponse, TokenUrl,
};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/sso", get(get_config).put(put_config))
        .route("/auth/sso/{tenant}/start", get(start))
        .route("/auth/sso/callback", get(callback))
}

const STATE_TTL_SECS: u64 = 600;

/// The tenant's SSO settings (with the secret), if any.
pub async fn load_config(conn: &mut PgConnection) -> ApiResult<Option<SsoConfig>> {
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'sso'")
            .fetch_optional(conn)
            .await?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok()))
}

#[utoipa::path(get, path = "/api/v1/settings/sso", tag = "settings", responses((status = 200, body = SsoConfig)))]
pub async fn get_config(mut ctx: TenantCtx) -> ApiResult<Json<SsoConfig>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let cfg = load_config(ctx.db()).await?.unwrap_or(SsoConfig {
        enabled: false,
        issuer: String::new(),
        client_id: String::new(),
        client_secret: None,
        auto_provision: false,
    });
    ctx.commit().await?;
    Ok(Json(SsoConfig {
        client_secret: None,
        ..cfg
    }))
}

#[utoipa::path(put, path = "/api/v1/settings/sso", tag = "settings", request_body = SsoConfig,
    responses((status = 200, body = SsoConfig), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_config(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(mut req): Json<SsoConfig>,
) -> ApiResult<Json<SsoConfig>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let old = load_config(ctx.db()).await?;
    if req.client_secret.as_deref().is_none_or(str::is_empty) {
        // Absent secret means "keep the one we have".
        req.client_secret = old.and_then(|o| o.client_secret);
    }
    let mut c = Check::new();
    if req.enabled || !req.issuer.is_empty() {
        match url::Url::parse(&req.issuer) {
            Ok(u) if u.scheme() == "https" || u.scheme() == "http" => {
                // The destination the server will fetch discovery from: the outbound policy.
                let policy = crate::outbound::Policy::for_tenant(&state, ctx.tenant().id).await?;
                if let Err(e) = policy.check_url(&discovery_url(&req.issuer)) {
                    c.fail("issuer", e.to_string());
                }
            }
            _ => c.fail("issuer", "must be an http(s) URL"),
        }
        c.text("client_id", &req.client_id, 200);
        c.max_len("issuer", &req.issuer, 500);
        if req.client_secret.is_none() {
            c.fail("client_secret", "is required");
        }
    }
    c.max_len(
        "client_secret",
        req.client_secret.as_deref().unwrap_or_default(),
        500,
    );
    c.finish()?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('sso', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = now()",
    )
    .bind(serde_json::to_value(&req).map_err(ApiError::internal)?)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "settings.sso",
        Some("settings"),
        Some("sso".into()),
        serde_json::json!({ "enabled": req.enabled, "issuer": req.issuer, "client_id": req.client_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(SsoConfig {
        client_secret: None,
        ..req
    }))
}

#[derive(Deserialize)]
struct Discovery {
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
}

#[derive(Serialize, Deserialize)]
struct Pending {
    tenant_id: Uuid,
    verifier: String,
}

type Client = BasicClient<EndpointSet, EndpointNotSet, EndpointNotSet, EndpointNotSet, EndpointSet>;

struct Provider {
    client: Client,
    userinfo: String,
    cfg: SsoConfig,
    /// Every server-side call to the provider goes through the tenant's outbound policy.
    policy: crate::outbound::Policy,
}

/// Timeout of each server-side call to the provider.
const PROVIDER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

fn discovery_url(issuer: &str) -> String {
    format!(
        "{}/.well-known/openid-configuration",
        issuer.trim_end_matches('/')
    )
}

fn fail(code: &str) -> Response {
    Redirect::to(&format!("/login?error={code}")).into_response()
}

async fn provider(state: &AppState, tenant: &TenantRef) -> Result<Provider, &'static str> {
    let mut tx = auth::system_tx(state, tenant)
        .await
        .map_err(|_| "sso_unavailable")?;
    let cfg = load_config(&mut tx).await.map_err(|_| "sso_unavailable")?;
    let _ = tx.commit().await;
    let cfg = cfg.filter(|c| c.enabled).ok_or("sso_not_configured")?;
    let policy = crate::outbound::Policy::for_tenant(state, tenant.id)
        .await
        .map_err(|_| "sso_unavailable")?;
    let url = discovery_url(&cfg.issuer);
    let disc: Discovery = policy
        .get_json(&url, None, PROVIDER_TIMEOUT)
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, %url, tenant = %tenant.id, "OIDC discovery failed");
            match e {
                crate::outbound::FetchError::Refused(_) => "sso_provider_refused",
                crate::outbound::FetchError::Failed(_) => "sso_provider_unreachable",
            }
        })?;
    let redirect = format!("{}/api/v1/auth/sso/callback", state.cfg.public_url);
    let client = BasicClient::new(ClientId::new(cfg.client_id.clone()))
        .set_client_secret(ClientSecret::new(
            cfg.client_secret.clone().unwrap_or_default(),
        ))
        .set_auth_uri(
            AuthUrl::new(disc.authorization_endpoint).map_err(|_| "sso_provider_invalid")?,
        )
        .set_token_uri(TokenUrl::new(disc.token_endpoint).map_err(|_| "sso_provider_invalid")?)
        .set_redirect_uri(RedirectUrl::new(redirect).map_err(|_| "sso_provider_invalid")?);
    Ok(Provider {
        client,
        userinfo: disc.userinfo_endpoint,
        cfg,
        policy,
    })
}

fn pending_key(state: &str) -> String {
    format!("sso:state:{state}")
}

#[utoipa::path(get, path = "/api/v1/auth/sso/{tenant}/start", tag = "auth", responses((status = 303)))]
pub async fn start(State(state): State<AppState>, Path(slug): Path<String>) -> ApiResult<Response> {
    let mut conn = state.db.acquire().await?;
    let Some(tenant) = auth::tenant_by_slug(&mut conn, &slug).await? else {
        return Ok(fail("sso_not_configured"));
    };
    drop(conn);
    let p = match provider(&state, &tenant).await {
        Ok(p) => p,
        Err(code) => return Ok(fail(code)),
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf) = p
        .client
        .authorize_url(CsrfToken::new_random)
        .add_scope(Scope::new("openid".into()))
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let pending = Pending {
        tenant_id: tenant.id,
        verifier: verifier.secret().clone(),
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            pending_key(csrf.secret()),
            serde_json::to_string(&pending).map_err(ApiError::internal)?,
            STATE_TTL_SECS,
        )
        .await?;
    Ok(Redirect::to(url.as_str()).into_response())
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct UserInfo {
    email: Option<String>,
    name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/auth/sso/callback", tag = "auth", responses((status = 303)))]
pub async fn callback(
    State(state): State<AppState>,
    meta: RequestMeta,
    jar: CookieJar,
    Query(q): Query<CallbackQuery>,
) -> ApiResult<Response> {
    let Some(csrf) = q.state.filter(|s| !s.is_empty() && s.len() < 200) else {
        return Ok(fail("sso_state_invalid"));
    };
    let mut r = state.redis();
    let pending: Option<String> = r.get_del(pending_key(&csrf)).await?;
    let Some(pending) = pending.and_then(|p| serde_json::from_str::<Pending>(&p).ok()) else {
        return Ok(fail("sso_state_invalid"));
    };
    if q.error.is_some() {
        return Ok(fail("sso_denied"));
    }
    let Some(code) = q.code else {
        return Ok(fail("sso_state_invalid"));
    };
    let mut conn = state.db.acquire().await?;
    let Some(tenant) = auth::tenant_by_id(&mut conn, pending.tenant_id).await? else {
        return Ok(fail("sso_not_configured"));
    };
    drop(conn);
    if tenant.status != "active" {
        return Ok(fail("tenant_suspended"));
    }
    let p = match provider(&state, &tenant).await {
        Ok(p) => p,
        Err(code) => return Ok(fail(code)),
    };
    let policy = p.policy.clone();
    let http = move |req: oauth2::HttpRequest| {
        let policy = policy.clone();
        async move { policy.send(req, PROVIDER_TIMEOUT).await }
    };
    let token = match p
        .client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(PkceCodeVerifier::new(pending.verifier))
        .request_async(&http)
        .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, tenant = %tenant.id, "SSO code exchange refused");
            return Ok(fail("sso_exchange_failed"));
        }
    };
    let info: Result<UserInfo, _> = p
        .policy
        .get_json(
            &p.userinfo,
            Some(token.access_token().secret()),
            PROVIDER_TIMEOUT,
        )
        .await
        .inspect_err(|e| tracing::warn!(error = %e, tenant = %tenant.id, "SSO userinfo failed"));
    let Some(info) = info
        .ok()
        .filter(|i| i.email.as_deref().is_some_and(crate::validate::is_email))
    else {
        return Ok(fail("sso_no_email"));
    };
    let email = info.email.unwrap_or_default().to_lowercase();
    let mut tx = auth::system_tx(&state, &tenant).await?;
    let found: Option<(Uuid, bool)> =
        sqlx::query_as("SELECT id, active FROM users WHERE lower(email) = $1")
            .bind(&email)
            .fetch_optional(&mut *tx)
            .await?;
    let user_id = match found {
        Some((id, true)) => id,
        Some((_, false)) => return Ok(fail("sso_no_account")),
        None if p.cfg.auto_provision => {
            let name = info
                .name
                .filter(|n| !n.trim().is_empty())
                .unwrap_or_else(|| email.clone());
            let id: Uuid = sqlx::query_scalar(
                "INSERT INTO users (email, name, role_id) SELECT $1, $2, id FROM roles WHERE builtin_key = 'agent' RETURNING id",
            )
            .bind(&email)
            .bind(name.chars().take(200).collect::<String>())
            .fetch_one(&mut *tx)
            .await?;
            auth::write_audit(
                &mut tx,
                Some(id),
                &email,
                "user.create",
                Some("user"),
                Some(id.to_string()),
                serde_json::json!({ "via": "sso" }),
                &meta,
            )
            .await?;
            id
        }
        None => return Ok(fail("sso_no_account")),
    };
    let (cookie, _) =
        auth::sign_in(&state, &mut tx, &tenant, user_id, &email, "sso", &meta).await?;
    tx.commit().await?;
    let jar = jar.add(cookie);
    Ok((jar, Redirect::to("/")).into_response())
}
