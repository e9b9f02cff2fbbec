//! The platform operators' console API: tenants' metadata (never their content).

use crate::{
    auth::{self, OperatorCtx, RequestMeta, OPERATOR_COOKIE},
    error::{ApiError, ApiResult, Json},
    state::AppState,
    tenants,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use axum_extra::extract::CookieJar;
use hotline_wire::api::{
    DidDto, OperatorInfo, PlatformLoginRequest, PlatformTenant, SignupRequest,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/platform/login", post(login))
        .route("/platform/logout", post(logout))
        .route("/platform/me", get(me))
        .route("/platform/tenants", get(list_tenants).post(create_tenant))
        .route("/platform/tenants/{id}/suspend", post(suspend))
        .route("/platform/tenants/{id}/resume", post(resume))
        .route(
            "/platform/tenants/{id}/outbound-allow",
            get(get_outbound_allow).put(put_outbound_allow),
        )
        .route(
            "/platform/tenants/{id}/outbound-calls",
            get(get_outbound_calls).put(put_outbound_calls),
        )
        .route("/platform/dids", get(list_dids).post(add_did))
        .route("/platform/dids/{did}", axum::routing::delete(remove_did))
}

/// One row of `platform.audit`: what an operator did to which tenant, from which address and
/// browser.
pub(crate) async fn platform_audit(
    state: &AppState,
    op: &OperatorCtx,
    action: &str,
    target: Option<String>,
    details: serde_json::Value,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO platform.audit (operator_id, actor, action, target_type, target_id, details, ip, request_id, user_agent)
         VALUES ($1, $2, $3, 'tenant', $4, $5, $6, $7, $8)",
    )
    .bind(op.id)
    .bind(&op.email)
    .bind(action)
    .bind(target)
    .bind(details)
    .bind(op.meta.ip.as_deref())
    .bind(op.meta.request_id.as_deref())
    .bind(op.meta.user_agent.as_deref())
    .execute(&state.db)
    .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/platform/login", tag = "platform", request_body = PlatformLoginRequest,
    responses((status = 200, body = OperatorInfo), (status = 401, body = hotline_wire::api::Problem), (status = 429, body = hotline_wire::api::Problem)))]
pub async fn login(
    State(state): State<AppState>,
    meta: RequestMeta,
    jar: CookieJar,
    Json(req): Json<PlatformLoginRequest>,
) -> ApiResult<(CookieJar, Json<OperatorInfo>)> {
    let email = req.email.trim().to_lowercase();
    let platform_scope = Uuid::nil();
    auth::throttle::check(&state, platform_scope, &email, meta.ip.as_deref()).await?;
    let row: Option<(Uuid, String, String, bool)> = sqlx::query_as(
        "SELECT id, name, password_hash, active FROM platform.operators WHERE lower(email) = $1",
    )
    .bind(&email)
    .fetch_optional(&state.db)
    .await?;
    let ok = auth::verify_password(row.as_ref().map(|r| r.2.clone()), req.password).await?;
    let Some((id, name, _, true)) = row.clone().filter(|_| ok) else {
        let locked =
            auth::throttle::failed(&state, platform_scope, &email, meta.ip.as_deref()).await?;
        sqlx::query(
            "INSERT INTO platform.audit (operator_id, actor, action, details, ip, request_id, user_agent)
             VALUES ($1, $2, 'operator.login_failed', $3, $4, $5, $6)",
        )
        .bind(row.map(|r| r.0))
        .bind(&email)
        .bind(serde_json::json!({ "locked": locked }))
        .bind(meta.ip.as_deref())
        .bind(meta.request_id.as_deref())
        .bind(meta.user_agent.as_deref())
        .execute(&state.db)
        .await?;
        return Err(ApiError::InvalidCredentials);
    };
    auth::throttle::clear(&state, platform_scope, &email).await?;
    let mut tx = state.db.begin().await?;
    let (token, expires_at) = auth::create_session(
        &mut tx,
        "operator",
        None,
        id,
        &meta,
        state.cfg.session_ttl(),
    )
    .await?;
    tx.commit().await?;
    let op = OperatorCtx {
        id,
        email: email.clone(),
        name: name.clone(),
        expires_at,
        meta,
    };
    platform_audit(&state, &op, "operator.login", None, serde_json::json!({})).await?;
    let jar = jar.add(auth::session_cookie(
        &state,
        OPERATOR_COOKIE,
        token,
        state.cfg.session_ttl_secs as i64,
    ));
    Ok((
        jar,
        Json(OperatorInfo {
            id,
            email,
            name,
            expires_at,
        }),
    ))
}

#[utoipa::path(post, path = "/api/v1/platform/logout", tag = "platform", responses((status = 204)))]
pub async fn logout(
    State(state): State<AppState>,
    op: Option<OperatorCtx>,
    jar: CookieJar,
) -> ApiResult<(StatusCode, CookieJar)> {
    if let Some(c) = jar.get(OPERATOR_COOKIE) {
        let ended = sqlx::query(
            "DELETE FROM platform.sessions WHERE token_hash = $1 AND kind = 'operator'",
        )
        .bind(auth::sha256(c.value()))
        .execute(&state.db)
        .await?
        .rows_affected();
        if let Some(op) = op.filter(|_| ended > 0) {
            platform_audit(&state, &op, "operator.logout", None, serde_json::json!({})).await?;
        }
    }
    Ok((
        StatusCode::NO_CONTENT,
        jar.add(auth::clear_cookie(&state, OPERATOR_COOKIE)),
    ))
}

#[utoipa::path(get, path = "/api/v1/platform/me", tag = "platform", responses((status = 200, body = OperatorInfo), (status = 401)))]
pub async fn me(op: OperatorCtx) -> Json<OperatorInfo> {
    Json(OperatorInfo {
        id: op.id,
        email: op.email,
        name: op.name,
        expires_at: op.expires_at,
    })
}

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    slug: String,
    name: String,
    status: String,
    plan_id: String,
    seats: i32,
    schema_version: i32,
    created_at: chrono::DateTime<chrono::Utc>,
}

/// Active users per tenant, counted in each tenant's schema (a count, no content).
async fn active_users(state: &AppState, id: Uuid) -> ApiResult<i64> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(id)).await?;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM users WHERE active")
        .fetch_one(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(n)
}

async fn load(state: &AppState, only: Option<Uuid>) -> ApiResult<Vec<PlatformTenant>> {
    let rows: Vec<TenantRow> = sqlx::query_as(
        "SELECT t.id, t.slug, t.name, t.status, t.plan_id, p.seats, t.schema_version, t.created_at
           FROM platform.tenants t JOIN platform.plans p ON p.id = t.plan_id
          WHERE $1::uuid IS NULL OR t.id = $1 ORDER BY t.created_at DESC",
    )
    .bind(only)
    .fetch_all(&state.db)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(PlatformTenant {
            active_users: active_users(state, r.id).await?,
            id: r.id,
            slug: r.slug,
            name: r.name,
            status: r.status,
            plan: r.plan_id,
            seats: r.seats.into(),
            schema_version: r.schema_version,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/api/v1/platform/tenants", tag = "platform", responses((status = 200, body = Vec<PlatformTenant>)))]
pub async fn list_tenants(
    State(state): State<AppState>,
    _op: OperatorCtx,
) -> ApiResult<Json<Vec<PlatformTenant>>> {
    Ok(Json(load(&state, None).await?))
}

#[utoipa::path(post, path = "/api/v1/platform/tenants", tag = "platform", request_body = SignupRequest,
    responses((status = 201, body = PlatformTenant), (status = 409), (status = 422)))]
pub async fn create_tenant(
    State(state): State<AppState>,
    op: OperatorCtx,
    Json(req): Json<SignupRequest>,
) -> ApiResult<(StatusCode, Json<PlatformTenant>)> {
    let (tenant, _) =
        tenants::provision(&state, &req, &op.meta, &format!("operator:{}", op.email)).await?;
    platform_audit(
        &state,
        &op,
        "tenant.create",
        Some(tenant.id.to_string()),
        serde_json::json!({ "slug": tenant.slug }),
    )
    .await?;
    let t = load(&state, Some(tenant.id))
        .await?
        .pop()
        .ok_or(ApiError::NotFound)?;
    Ok((StatusCode::CREATED, Json(t)))
}

async fn set_status(
    state: &AppState,
    op: &OperatorCtx,
    id: Uuid,
    status: &str,
) -> ApiResult<PlatformTenant> {
    let n =
        sqlx::query("UPDATE platform.tenants SET status = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(status)
            .execute(&state.db)
            .await?
            .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    platform_audit(
        state,
        op,
        &format!("tenant.{status}"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    load(state, Some(id)).await?.pop().ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/platform/tenants/{id}/suspend", tag = "platform", responses((status = 200, body = PlatformTenant), (status = 404)))]
pub async fn suspend(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PlatformTenant>> {
    Ok(Json(set_status(&state, &op, id, "suspended").await?))
}

#[utoipa::path(post, path = "/api/v1/platform/tenants/{id}/resume", tag = "platform", responses((status = 200, body = PlatformTenant), (status = 404)))]
pub async fn resume(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PlatformTenant>> {
    Ok(Json(set_status(&state, &op, id, "active").await?))
}

/// The numbers routed to a tenant (the pool's free numbers: `GET /platform/numbers`).
#[utoipa::path(get, path = "/api/v1/platform/dids", tag = "platform", responses((status = 200, body = Vec<DidDto>)))]
pub async fn list_dids(
    State(state): State<AppState>,
    _op: OperatorCtx,
) -> ApiResult<Json<Vec<DidDto>>> {
    let rows: Vec<(String, Uuid, String)> = sqlx::query_as(
        "SELECT did, tenant_id, description FROM platform.dids
          WHERE tenant_id IS NOT NULL ORDER BY did",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(did, tenant_id, description)| DidDto {
                did,
                tenant_id,
                description,
            })
            .collect(),
    ))
}

/// Assigns a phone number to a tenant — a new one, or a free one of the pool (its pending
/// request is then closed, `numbers::settle_requests`); the gateway's Redis copy is updated at
/// once.
#[utoipa::path(post, path = "/api/v1/platform/dids", tag = "platform", request_body = DidDto,
    responses((status = 201, body = DidDto), (status = 409), (status = 422)))]
pub async fn add_did(
    State(state): State<AppState>,
    op: OperatorCtx,
    Json(req): Json<DidDto>,
) -> ApiResult<(StatusCode, Json<DidDto>)> {
    let mut c = crate::validate::Check::new();
    if !crate::validate::is_e164(&req.did) {
        c.fail("did", "must be an E.164 number like +994125550100");
    }
    c.max_len("description", &req.description, 200);
    c.finish()?;
    let mut tx = state.db.begin().await?;
    // New, or free in the pool (then it keeps its description unless one is given).
    let r: Result<Option<String>, _> = sqlx::query_scalar(
        "INSERT INTO platform.dids (did, tenant_id, description, assigned_at)
         VALUES ($1, $2, $3, now())
         ON CONFLICT (did) DO UPDATE
            SET tenant_id = EXCLUDED.tenant_id, assigned_at = now(),
                description = CASE WHEN EXCLUDED.description = '' THEN platform.dids.description
                                   ELSE EXCLUDED.description END
          WHERE platform.dids.tenant_id IS NULL
         RETURNING did",
    )
    .bind(&req.did)
    .bind(req.tenant_id)
    .bind(&req.description)
    .fetch_optional(&mut *tx)
    .await;
    match r {
        Ok(Some(_)) => {}
        Ok(None) => {
            return Err(ApiError::Conflict {
                code: "did_taken",
                detail: format!("{} is already assigned.", req.did),
            })
        }
        Err(e) if crate::error::fk_violation(&e) => {
            return Err(ApiError::field("tenant_id", "no such tenant"))
        }
        Err(e) => return Err(e.into()),
    };
    crate::numbers::settle_requests(&mut tx, &req.did, Some(req.tenant_id), &op.email).await?;
    tx.commit().await?;
    crate::gateway_sync::publish_did(&state, &req.did, Some(req.tenant_id))
        .await
        .map_err(ApiError::Internal)?;
    platform_audit(
        &state,
        &op,
        "did.assign",
        Some(req.tenant_id.to_string()),
        serde_json::json!({ "did": req.did }),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(req)))
}

#[utoipa::path(delete, path = "/api/v1/platform/dids/{did}", tag = "platform", responses((status = 204), (status = 404),
    (status = 409, body = hotline_wire::api::Problem, description = "`trunk_number`: on a tenant's own trunk")))]
pub async fn remove_did(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(did): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    crate::numbers::refuse_trunk_number(&mut tx, &did).await?;
    let tenant: Option<Option<Uuid>> =
        sqlx::query_scalar("DELETE FROM platform.dids WHERE did = $1 RETURNING tenant_id")
            .bind(&did)
            .fetch_optional(&mut *tx)
            .await?;
    let tenant = tenant.ok_or(ApiError::NotFound)?;
    crate::numbers::settle_requests(&mut tx, &did, None, &op.email).await?;
    if let Some(t) = tenant {
        // The number left the tenant: so does its flow assignment.
        crate::numbers::remove_flow_mapping(&mut tx, t, &did).await?;
    }
    tx.commit().await?;
    crate::gateway_sync::publish_did(&state, &did, None)
        .await
        .map_err(ApiError::Internal)?;
    platform_audit(
        &state,
        &op,
        "did.unassign",
        tenant.map(|t| t.to_string()),
        serde_json::json!({ "did": did }),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The destinations a tenant's server-side requests (IVR HTTP lookups, SSO) may reach
/// although the outbound policy refuses them: addresses, CIDR blocks or host names, each with
/// an optional `:port` (`10.0.0.0/8`, `10.0.0.5:8080`, `[fd00::1]:8443`, `crm.internal`,
/// `*.corp.example`). Added to the platform's own `outbound_allow`. Cloud metadata addresses
/// stay refused whatever the list says.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct OutboundAllow {
    pub allow: Vec<String>,
}

/// At most this many entries per tenant.
const MAX_ALLOW_ENTRIES: usize = 100;

async fn tenant_allow(state: &AppState, id: Uuid) -> ApiResult<OutboundAllow> {
    let allow: Option<Vec<String>> =
        sqlx::query_scalar("SELECT outbound_allow FROM platform.tenants WHERE id = $1")
            .bind(id)
            .fetch_optional(&state.db)
            .await?;
    Ok(OutboundAllow {
        allow: allow.ok_or(ApiError::NotFound)?,
    })
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}/outbound-allow", tag = "platform",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = OutboundAllow), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn get_outbound_allow(
    State(state): State<AppState>,
    _op: OperatorCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<OutboundAllow>> {
    Ok(Json(tenant_allow(&state, id).await?))
}

#[utoipa::path(put, path = "/api/v1/platform/tenants/{id}/outbound-allow", tag = "platform",
    request_body = OutboundAllow, params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = OutboundAllow), (status = 404, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_outbound_allow(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<OutboundAllow>,
) -> ApiResult<Json<OutboundAllow>> {
    if req.allow.len() > MAX_ALLOW_ENTRIES {
        return Err(ApiError::field(
            "allow",
            format!("at most {MAX_ALLOW_ENTRIES} entries"),
        ));
    }
    let mut errors = Vec::new();
    let mut allow = Vec::new();
    for (i, e) in req.allow.iter().enumerate() {
        match crate::allow_list::AllowEntry::parse(e) {
            // Stored in the canonical form it parses back from.
            Ok(a) => allow.push(a.to_string()),
            Err(m) => errors.push(hotline_wire::api::FieldError {
                field: format!("allow.{i}"),
                message: m,
            }),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    allow.dedup();
    let n = sqlx::query(
        "UPDATE platform.tenants SET outbound_allow = $2, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(&allow)
    .execute(&state.db)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    platform_audit(
        &state,
        &op,
        "tenant.outbound_allow",
        Some(id.to_string()),
        serde_json::json!({ "allow": allow }),
    )
    .await?;
    Ok(Json(OutboundAllow { allow }))
}

pub use hotline_wire::api::OutboundCalls;

async fn outbound_calls(state: &AppState, id: Uuid) -> ApiResult<OutboundCalls> {
    type Row = (
        bool,
        Option<Vec<String>>,
        Vec<String>,
        Option<i32>,
        Option<i32>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT trial, outbound_countries, outbound_blocked_prefixes, max_outbound_calls,
                max_outbound_cps
           FROM platform.tenants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    let (trial, countries, blocked_prefixes, max_calls, max_cps) = row.ok_or(ApiError::NotFound)?;
    Ok(OutboundCalls {
        trial,
        countries,
        blocked_prefixes,
        max_calls,
        max_cps,
    })
}

#[utoipa::path(get, path = "/api/v1/platform/tenants/{id}/outbound-calls", tag = "platform",
    params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = OutboundCalls), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn get_outbound_calls(
    State(state): State<AppState>,
    _op: OperatorCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<OutboundCalls>> {
    Ok(Json(outbound_calls(&state, id).await?))
}

/// Sets a tenant's outbound call rules: lift (or impose) the trial, widen the countries it
/// may call, add blocked prefixes, set its concurrent-call and calls-per-second limits (also
/// published to the media gateways, which enforce them too). Audited as
/// `tenant.outbound_calls`.
#[utoipa::path(put, path = "/api/v1/platform/tenants/{id}/outbound-calls", tag = "platform",
    request_body = OutboundCalls, params(("id" = Uuid, Path, description = "Tenant id")),
    responses((status = 200, body = OutboundCalls), (status = 404, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_outbound_calls(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<OutboundCalls>,
) -> ApiResult<Json<OutboundCalls>> {
    let mut errors = Vec::new();
    let mut fail = |field: String, message: &str| {
        errors.push(hotline_wire::api::FieldError {
            field,
            message: message.into(),
        })
    };
    if let Some(list) = &req.countries {
        if list.len() > 300 {
            fail("countries".into(), "at most 300 country codes");
        }
        for (i, cc) in list.iter().enumerate() {
            if !crate::dial_policy::is_country_code(cc) {
                fail(
                    format!("countries.{i}"),
                    "a country calling code is 1 to 3 digits, like 994",
                );
            }
        }
    }
    if req.blocked_prefixes.len() > 1000 {
        fail("blocked_prefixes".into(), "at most 1000 prefixes");
    }
    for (i, p) in req.blocked_prefixes.iter().enumerate() {
        if !crate::dial_policy::is_prefix(p) {
            fail(
                format!("blocked_prefixes.{i}"),
                "a prefix is + and 1 to 14 digits, like +99490",
            );
        }
    }
    if req.max_calls.is_some_and(|m| !(0..=100_000).contains(&m)) {
        fail("max_calls".into(), "must be 0 to 100000");
    }
    if req.max_cps.is_some_and(|m| !(1..=10_000).contains(&m)) {
        fail("max_cps".into(), "must be 1 to 10000");
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    let n = sqlx::query(
        "UPDATE platform.tenants SET trial = $2, outbound_countries = $3,
                outbound_blocked_prefixes = $4, max_outbound_calls = $5, max_outbound_cps = $6,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(req.trial)
    .bind(&req.countries)
    .bind(&req.blocked_prefixes)
    .bind(req.max_calls)
    .bind(req.max_cps)
    .execute(&state.db)
    .await?
    .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    platform_audit(
        &state,
        &op,
        "tenant.outbound_calls",
        Some(id.to_string()),
        serde_json::to_value(&req).unwrap_or_default(),
    )
    .await?;
    // Every gateway enforces the new limits from here on (a failure: the previous limits stay
    // in force in the gateways until the next backend start; the backend's own check is current).
    crate::dial_policy::publish_gateway_limits(&state, id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(outbound_calls(&state, id).await?))
}
