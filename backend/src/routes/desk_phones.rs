//! Desk phones (SIP accounts of user extensions): list with live registration, create or
//! rotate (the generated password is returned once), delete. The domain side — HA1, the
//! gateway's Redis copy, registrations — is `desk_phones.rs`.

use crate::{
    auth::TenantCtx,
    desk_phones as dp,
    error::{unique_violation, ApiError, ApiResult, Json},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use hotline_wire::{
    desk_phones::{linphone_xml, provisioning_text, DeskPhoneCredentials, DeskPhoneDto},
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/provisioning/{token}", get(provisioning))
        .route("/desk-phones", get(list))
        .route(
            "/users/{id}/desk-phone",
            post(create_or_rotate).delete(remove),
        )
}

#[utoipa::path(get, path = "/api/v1/desk-phones", tag = "users",
    responses((status = 200, body = Vec<DeskPhoneDto>)))]
/// Every desk phone account of the tenant with its registration as the gateways record it.
pub async fn list(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<Vec<DeskPhoneDto>>> {
    ctx.require(perms::USERS_READ)?;
    type Row = (
        Uuid,
        String,
        chrono::DateTime<chrono::Utc>,
        chrono::DateTime<chrono::Utc>,
    );
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT user_id, extension, created_at, rotated_at FROM sip_accounts ORDER BY extension",
    )
    .fetch_all(ctx.db())
    .await?;
    let tenant = ctx.tenant().id;
    let domain = dp::domain(&state, &ctx.tenant().slug);
    ctx.commit().await?;
    let exts: Vec<String> = rows.iter().map(|r| r.1.clone()).collect();
    let regs = dp::registrations(&state, tenant, &exts)
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(
        rows.into_iter()
            .zip(regs)
            .map(
                |((user_id, extension, created_at, rotated_at), registration)| DeskPhoneDto {
                    user_id,
                    extension,
                    domain: domain.clone(),
                    created_at,
                    rotated_at,
                    registration,
                },
            )
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/users/{id}/desk-phone", tag = "users",
    responses((status = 201, body = DeskPhoneCredentials, description = "Created"),
              (status = 200, body = DeskPhoneCredentials, description = "Rotated: the old password no longer works"),
              (status = 404, body = hotline_wire::api::Problem),
              (status = 409, body = hotline_wire::api::Problem, description = "`no_extension`, `user_inactive`")))]
/// Creates the user's desk phone account, or gives it a new password (the old one stops
/// working and the phone registered with it is dropped). The password is in this answer only.
pub async fn create_or_rotate(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<DeskPhoneCredentials>)> {
    ctx.require(perms::USERS_WRITE)?;
    let (extension, active): (Option<String>, bool) =
        sqlx::query_as("SELECT extension, active FROM users WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?
            .ok_or(ApiError::NotFound)?;
    if !active {
        return Err(ApiError::Conflict {
            code: "user_inactive",
            detail: "The user is deactivated: reactivate them first.".into(),
        });
    }
    let Some(extension) = extension.filter(|e| !e.is_empty()) else {
        return Err(ApiError::Conflict {
            code: "no_extension",
            detail: "The user has no extension: give them one first.".into(),
        });
    };
    let old: Option<String> =
        sqlx::query_scalar("SELECT extension FROM sip_accounts WHERE user_id = $1 FOR UPDATE")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    let slug = ctx.tenant().slug.clone();
    let password = dp::new_password();
    let ha1 = dp::ha1(&extension, &slug, &password);
    sqlx::query(
        "INSERT INTO sip_accounts (user_id, extension, ha1) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE
            SET extension = EXCLUDED.extension, ha1 = EXCLUDED.ha1, rotated_at = now()",
    )
    .bind(id)
    .bind(&extension)
    .bind(&ha1)
    .execute(ctx.db())
    .await
    .map_err(|e| {
        if unique_violation(&e).is_some() {
            ApiError::Conflict {
                code: "extension_taken",
                detail: "Another user's desk phone has this extension.".into(),
            }
        } else {
            e.into()
        }
    })?;
    let rotated = old.is_some();
    ctx.audit(
        if rotated {
            "desk_phone.rotate"
        } else {
            "desk_phone.create"
        },
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({ "extension": extension }),
    )
    .await?;
    let tenant = ctx.tenant().id;
    if let Some(old) = old.as_deref().filter(|o| *o != extension) {
        dp::unpublish(&state, tenant, old)
            .await
            .map_err(ApiError::Internal)?;
    }
    // Redis first: if it fails the account is not changed; if the commit fails after it, the
    // next backend start copies Postgres' HA1 back.
    dp::publish(&state, tenant, id, &extension, &ha1, rotated)
        .await
        .map_err(ApiError::Internal)?;
    ctx.commit().await?;
    let domain = dp::domain(&state, &slug);
    let registrar = state.cfg.sip_registrar.clone();
    let transport = "udp".to_string();
    let provisioning = provisioning_text(&extension, &domain, &registrar, &transport, &password);
    let xml = linphone_xml(&extension, &domain, &registrar, &transport, &password);
    let token = dp::offer_provisioning(&state, &xml)
        .await
        .map_err(ApiError::Internal)?;
    let provisioning_url = format!("{}/api/v1/provisioning/{token}", state.cfg.public_url);
    let provisioning_qr = dp::qr_data_url(&provisioning_url).map_err(ApiError::Internal)?;
    Ok((
        if rotated {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        Json(DeskPhoneCredentials {
            user_id: id,
            extension,
            domain,
            registrar,
            transport,
            password,
            provisioning,
            provisioning_url,
            provisioning_qr,
            rotated,
        }),
    ))
}

#[utoipa::path(get, path = "/api/v1/provisioning/{token}", tag = "users",
    params(("token" = String, Path, description = "The one-time token of a `provisioning_url`")),
    responses((status = 200, content_type = "application/xml",
                description = "The account as a Linphone remote-provisioning document (lpconfig XML)"),
              (status = 404, body = hotline_wire::api::Problem,
                description = "Unknown, already fetched or expired")))]
/// A softphone fetches its account here, once, from the address in the QR code shown when
/// the desk phone's password was set (no session: the token is the secret; it works once and
/// for 15 minutes).
pub async fn provisioning(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let xml = dp::take_provisioning(&state, &token)
        .await
        .map_err(ApiError::Internal)?
        .ok_or(ApiError::NotFound)?;
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/xml; charset=utf-8",
            ),
            (axum::http::header::CACHE_CONTROL, "no-store"),
        ],
        xml,
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/users/{id}/desk-phone", tag = "users",
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem)))]
/// Deletes the user's desk phone account: its password stops working and the phone is
/// dropped.
pub async fn remove(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::USERS_WRITE)?;
    let ext = dp::remove_for_user(ctx.db(), id)
        .await?
        .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "desk_phone.delete",
        Some("user"),
        Some(id.to_string()),
        serde_json::json!({ "extension": ext }),
    )
    .await?;
    let tenant = ctx.tenant().id;
    dp::unpublish(&state, tenant, &ext)
        .await
        .map_err(ApiError::Internal)?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
