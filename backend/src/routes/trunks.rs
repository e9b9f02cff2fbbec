//! Tenant SIP trunks ("bring your own carrier", `/trunks`): list with the gateways' live
//! state, create, read, replace, delete. Administrators with `settings.write`; every change is
//! audited (`trunk.create`, `trunk.update`, `trunk.delete`, never the password). Storage, rules
//! and the gateways' Redis copy are `crate::trunks`.
//!
//! - At most one trunk carries the tenant's outbound calls: saving one with `outbound` clears
//!   the flag on the others (the audit detail names them).
//! - Inbound numbers are unique on the platform: a pool number is a 409 `did_pool_number`,
//!   another call center's trunk number a 409 `did_taken`, one of the tenant's other trunks'
//!   a 409 `did_on_other_trunk`.

use crate::{
    auth::TenantCtx,
    error::{unique_violation, ApiError, ApiResult, Json},
    state::AppState,
    trunks::{self as tr, enum_text},
    validate::Check,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::get,
    Router,
};
use hotline_wire::{
    permissions as perms,
    trunks::{TrunkConfig, TrunkDto, TrunkInput, TrunkStatus},
};
use redis::AsyncCommands;
use std::collections::BTreeSet;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/trunks", get(list).post(create))
        .route("/trunks/{id}", get(read).put(update).delete(remove))
}

fn dto(c: TrunkConfig, enabled: bool, status: Option<TrunkStatus>) -> TrunkDto {
    TrunkDto {
        id: c.id,
        name: c.name,
        enabled,
        mode: c.mode,
        host: c.host,
        port: c.port,
        outbound_proxy: c.outbound_proxy,
        username: c.username,
        auth_username: c.auth_username,
        has_password: !c.password.is_empty(),
        register_expires: c.register_expires,
        allowed_ips: c.allowed_ips,
        codecs: c.codecs,
        callee_format: c.callee_format,
        country_code: c.country_code,
        national_prefix: c.national_prefix,
        caller_id: c.caller_id,
        inbound_dids: c.inbound_dids,
        outbound: c.outbound,
        status,
    }
}

/// The trunks with their live state; a Redis failure shows them without it (logged).
async fn with_status(state: &AppState, trunks: Vec<(TrunkConfig, bool)>) -> Vec<TrunkDto> {
    let ids: Vec<Uuid> = trunks.iter().map(|t| t.0.id).collect();
    let statuses = tr::statuses(state, &ids).await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "trunk states not read");
        vec![None; ids.len()]
    });
    trunks
        .into_iter()
        .zip(statuses)
        .map(|((c, enabled), s)| dto(c, enabled, s))
        .collect()
}

#[utoipa::path(get, path = "/api/v1/trunks", tag = "trunks",
    responses((status = 200, body = Vec<TrunkDto>, description = "The tenant's trunks by name, with the state the gateways report")))]
/// The tenant's SIP trunks, by name, each with what the gateways last reported (`status`:
/// registered until…, failed with the carrier's answer, registering, IP trunk; `null`: no
/// report yet). Never the password.
pub async fn list(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<Vec<TrunkDto>>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let trunks = tr::load(ctx.db(), tenant, None).await?;
    ctx.commit().await?;
    Ok(Json(with_status(&state, trunks).await))
}

#[utoipa::path(get, path = "/api/v1/trunks/{id}", tag = "trunks",
    params(("id" = Uuid, Path, description = "Trunk id")),
    responses((status = 200, body = TrunkDto), (status = 404, body = hotline_wire::api::Problem)))]
/// One trunk with its live state.
pub async fn read(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<TrunkDto>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let trunks = tr::load(ctx.db(), tenant, Some(id)).await?;
    ctx.commit().await?;
    with_status(&state, trunks)
        .await
        .pop()
        .map(Json)
        .ok_or(ApiError::NotFound)
}

#[utoipa::path(post, path = "/api/v1/trunks", tag = "trunks", request_body = TrunkInput,
    responses((status = 201, body = TrunkDto),
        (status = 409, body = hotline_wire::api::Problem,
            description = "`trunk_name_taken`, `did_pool_number`, `did_taken`, `did_on_other_trunk`"),
        (status = 422, body = hotline_wire::api::Problem,
            description = "`validation_failed` naming the fields; `caller_id_not_owned` (the fixed caller ID is neither a number of yours nor a verified one)")))]
/// Adds a trunk. Its inbound numbers route to the tenant at once (map them to a flow in
/// `/ivr/dids`); enabled, it is copied to the gateways, which register it (`register` mode).
pub async fn create(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Json(req): Json<TrunkInput>,
) -> ApiResult<(StatusCode, Json<TrunkDto>)> {
    let dto = save(&state, ctx, None, req).await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(put, path = "/api/v1/trunks/{id}", tag = "trunks", request_body = TrunkInput,
    params(("id" = Uuid, Path, description = "Trunk id")),
    responses((status = 200, body = TrunkDto),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem,
            description = "`trunk_name_taken`, `did_pool_number`, `did_taken`, `did_on_other_trunk`"),
        (status = 422, body = hotline_wire::api::Problem,
            description = "`validation_failed` naming the fields; `caller_id_not_owned`")))]
/// Replaces a trunk. `password` absent keeps the stored one, `""` clears it. Numbers no
/// longer listed stop routing to the tenant (and lose their flow assignment).
pub async fn update(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<TrunkInput>,
) -> ApiResult<Json<TrunkDto>> {
    Ok(Json(save(&state, ctx, Some(id), req).await?))
}

async fn save(
    state: &AppState,
    mut ctx: TenantCtx,
    id: Option<Uuid>,
    req: TrunkInput,
) -> ApiResult<TrunkDto> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let req = tr::normalize(req);
    let stored: Option<String> = match id {
        None => None,
        Some(id) => Some(
            sqlx::query_scalar("SELECT password FROM trunks WHERE id = $1 FOR UPDATE")
                .bind(id)
                .fetch_optional(ctx.db())
                .await?
                .ok_or(ApiError::NotFound)?,
        ),
    };
    let password_changed = req.password.is_some() && req.password != stored;
    let password = req.password.clone().or(stored).unwrap_or_default();
    let mut c = Check::new();
    tr::check(&req, &password, &mut c);
    c.finish()?;
    let id = id.unwrap_or_else(Uuid::new_v4);
    let cleared: Vec<String> = if req.outbound {
        sqlx::query_scalar(
            "UPDATE trunks SET outbound = false, updated_at = now()
              WHERE outbound AND id <> $1 RETURNING name",
        )
        .bind(id)
        .fetch_all(ctx.db())
        .await?
    } else {
        Vec::new()
    };
    let codecs: Vec<String> = req.codecs.iter().map(enum_text).collect();
    let written: Result<bool, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO trunks (id, name, enabled, mode, host, port, outbound_proxy, username,
                auth_username, password, register_expires, allowed_ips, codecs, callee_format,
                country_code, national_prefix, caller_id_fixed, caller_id_same_format, outbound)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
         ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, enabled = EXCLUDED.enabled,
                mode = EXCLUDED.mode, host = EXCLUDED.host, port = EXCLUDED.port,
                outbound_proxy = EXCLUDED.outbound_proxy, username = EXCLUDED.username,
                auth_username = EXCLUDED.auth_username, password = EXCLUDED.password,
                register_expires = EXCLUDED.register_expires, allowed_ips = EXCLUDED.allowed_ips,
                codecs = EXCLUDED.codecs, callee_format = EXCLUDED.callee_format,
                country_code = EXCLUDED.country_code, national_prefix = EXCLUDED.national_prefix,
                caller_id_fixed = EXCLUDED.caller_id_fixed,
                caller_id_same_format = EXCLUDED.caller_id_same_format,
                outbound = EXCLUDED.outbound, updated_at = now()
         RETURNING xmax = 0",
    )
    .bind(id)
    .bind(&req.name)
    .bind(req.enabled)
    .bind(enum_text(&req.mode))
    .bind(&req.host)
    .bind(i32::from(req.port))
    .bind(&req.outbound_proxy)
    .bind(&req.username)
    .bind(&req.auth_username)
    .bind(&password)
    .bind(req.register_expires as i32)
    .bind(&req.allowed_ips)
    .bind(&codecs)
    .bind(enum_text(&req.callee_format))
    .bind(&req.country_code)
    .bind(&req.national_prefix)
    .bind(&req.caller_id.fixed)
    .bind(req.caller_id.same_format_as_callee)
    .bind(req.outbound)
    .fetch_one(ctx.db())
    .await;
    let created = match written {
        Err(e) if unique_violation(&e).is_some() => {
            return Err(ApiError::Conflict {
                code: "trunk_name_taken",
                detail: format!(
                    "Another trunk is called {:?}: choose another name.",
                    req.name
                ),
            })
        }
        r => r?,
    };
    let (added, removed) = set_dids(&mut ctx, tenant, id, &req.name, &req.inbound_dids).await?;
    if let Some(f) = &req.caller_id.fixed {
        // After the numbers: the trunk's own numbers are the tenant's to show.
        let rules = crate::dial_policy::rules(ctx.db(), tenant)
            .await
            .map_err(ApiError::Internal)?;
        if !rules.may_show(f) {
            return Err(ApiError::Refused {
                code: "caller_id_not_owned",
                detail: format!(
                    "{f} is not a number of yours: use one of your numbers, one of this \
                     trunk's numbers or a number you verified."
                ),
                field: Some("caller_id.fixed".into()),
            });
        }
    }
    ctx.audit(
        if created {
            "trunk.create"
        } else {
            "trunk.update"
        },
        Some("trunk"),
        Some(id.to_string()),
        serde_json::json!({
            "name": req.name,
            "enabled": req.enabled,
            "mode": enum_text(&req.mode),
            "host": req.host,
            "port": req.port,
            "outbound": req.outbound,
            "outbound_cleared_on": cleared,
            "password_changed": password_changed,
            "dids_added": added,
            "dids_removed": removed,
        }),
    )
    .await?;
    let trunk = tr::load(ctx.db(), tenant, Some(id)).await?;
    ctx.commit().await?;
    tr::sync_or_retry(state, tenant, removed).await;
    with_status(state, trunk)
        .await
        .pop()
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("trunk {id} vanished")))
}

/// Makes `dids` the numbers of trunk `id`: those it loses leave the platform (and their flow
/// assignment), new ones are claimed — refused when the platform has them already. Returns
/// the numbers added and removed.
async fn set_dids(
    ctx: &mut TenantCtx,
    tenant: Uuid,
    id: Uuid,
    name: &str,
    dids: &[String],
) -> ApiResult<(Vec<String>, Vec<String>)> {
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT did FROM platform.dids WHERE trunk_id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(tenant)
    .fetch_all(ctx.db())
    .await?;
    let old: BTreeSet<String> = old.into_iter().collect();
    let new: BTreeSet<String> = dids.iter().cloned().collect();
    let removed: Vec<String> = old.difference(&new).cloned().collect();
    let added: Vec<String> = new.difference(&old).cloned().collect();
    if !removed.is_empty() {
        drop_dids(ctx, tenant, &removed).await?;
    }
    if !added.is_empty() {
        let holders: Vec<(String, Option<Uuid>, Option<Uuid>)> = sqlx::query_as(
            "SELECT did, tenant_id, trunk_id FROM platform.dids WHERE did = ANY($1)
              ORDER BY did FOR UPDATE",
        )
        .bind(&added)
        .fetch_all(ctx.db())
        .await?;
        if let Some((did, t, trunk)) = holders.into_iter().next() {
            return Err(did_conflict(&did, t == Some(tenant), trunk.is_some()));
        }
        let inserted: Vec<String> = sqlx::query_scalar(
            "INSERT INTO platform.dids (did, tenant_id, trunk_id, description, assigned_at)
             SELECT unnest($1::text[]), $2, $3, $4, now()
             ON CONFLICT (did) DO NOTHING RETURNING did",
        )
        .bind(&added)
        .bind(tenant)
        .bind(id)
        .bind(name)
        .fetch_all(ctx.db())
        .await?;
        if inserted.len() != added.len() {
            // Claimed by someone else meanwhile.
            let lost = added.iter().find(|d| !inserted.contains(d)).cloned();
            return Err(did_conflict(&lost.unwrap_or_default(), false, true));
        }
    }
    sqlx::query(
        "UPDATE platform.dids SET description = $2 WHERE trunk_id = $1 AND description <> $2",
    )
    .bind(id)
    .bind(name)
    .execute(ctx.db())
    .await?;
    Ok((added, removed))
}

/// Removes trunk numbers from the platform and from the tenant's flow assignments.
async fn drop_dids(ctx: &mut TenantCtx, tenant: Uuid, dids: &[String]) -> ApiResult<()> {
    sqlx::query(
        "DELETE FROM platform.dids WHERE did = ANY($1) AND tenant_id = $2 AND trunk_id IS NOT NULL",
    )
    .bind(dids)
    .bind(tenant)
    .execute(ctx.db())
    .await?;
    sqlx::query("DELETE FROM ivr_did_flows WHERE did = ANY($1)")
        .bind(dids)
        .execute(ctx.db())
        .await?;
    Ok(())
}

fn did_conflict(did: &str, ours: bool, on_trunk: bool) -> ApiError {
    match (on_trunk, ours) {
        (false, _) => ApiError::Conflict {
            code: "did_pool_number",
            detail: format!(
                "{did} is one of the platform's numbers: it already reaches call centers \
                 through the platform's carrier and cannot be added to a trunk."
            ),
        },
        (true, true) => ApiError::Conflict {
            code: "did_on_other_trunk",
            detail: format!("{did} is on another of your trunks: remove it there first."),
        },
        (true, false) => ApiError::Conflict {
            code: "did_taken",
            detail: format!(
                "{did} is in use on the platform by another call center. If it is your \
                 number, contact support."
            ),
        },
    }
}

#[utoipa::path(delete, path = "/api/v1/trunks/{id}", tag = "trunks",
    params(("id" = Uuid, Path, description = "Trunk id")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
/// Deletes a trunk: the gateways unregister it, its numbers stop routing to the tenant and
/// lose their flow assignment.
pub async fn remove(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let name: String = sqlx::query_scalar("DELETE FROM trunks WHERE id = $1 RETURNING name")
        .bind(id)
        .fetch_optional(ctx.db())
        .await?
        .ok_or(ApiError::NotFound)?;
    let dids: Vec<String> = sqlx::query_scalar(
        "SELECT did FROM platform.dids WHERE trunk_id = $1 AND tenant_id = $2 ORDER BY did",
    )
    .bind(id)
    .bind(tenant)
    .fetch_all(ctx.db())
    .await?;
    drop_dids(&mut ctx, tenant, &dids).await?;
    ctx.audit(
        "trunk.delete",
        Some("trunk"),
        Some(id.to_string()),
        serde_json::json!({ "name": name, "dids_removed": dids }),
    )
    .await?;
    ctx.commit().await?;
    tr::sync_or_retry(&state, tenant, dids).await;
    // The gateways' last report of it is of no use any more (best effort).
    let mut r = state.redis();
    let gone: redis::RedisResult<()> = r
        .hdel(hotline_wire::trunks::TRUNK_STATUS_KEY, id.to_string())
        .await;
    if let Err(e) = gone {
        tracing::warn!(error = %e, "trunk state not removed");
    }
    Ok(StatusCode::NO_CONTENT)
}
