//! Verifying what a tenant shows and who it is before it calls out (`crate::verify`): the
//! administrator's e-mail (`/email-verification`, the link's `/auth/verify-email`) and
//! verified caller IDs (`/caller-ids`: a call reads a code, the admin types it).

use crate::{
    auth::{self, Actor, RequestMeta, TenantCtx},
    dial_policy,
    error::{ApiError, ApiResult, Json},
    state::AppState,
    verify::{self, CALLS_PER_DAY, CALLS_PER_NUMBER_PER_DAY, CODE_ATTEMPTS, CODE_MINUTES},
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use chrono::{DateTime, Utc};
use hotline_wire::{
    permissions as perms,
    verify::{
        CallerIdDto, CallerIdsDto, ConfirmCodeRequest, EmailVerificationDto, EmailVerified,
        VerifyEmailRequest, VerifyNumberRequest, CODE_DIGITS,
    },
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/verify-email", post(verify_email))
        .route("/email-verification", get(email_status).post(resend_email))
        .route("/caller-ids", get(caller_ids).post(verify_number))
        .route("/caller-ids/{id}", axum::routing::delete(remove_number))
        .route("/caller-ids/{id}/confirm", post(confirm_code))
}

/// Follows the link of a verification e-mail: the call center may call out from now on.
/// Public (the token is the proof); each link works once, for 48 hours.
#[utoipa::path(post, path = "/api/v1/auth/verify-email", tag = "auth",
    request_body = VerifyEmailRequest,
    responses((status = 200, body = EmailVerified),
        (status = 400, description = "`verification_link_invalid` (unknown or forged), \
            `verification_link_used`, `verification_link_expired`",
            body = hotline_wire::api::Problem)))]
pub async fn verify_email(
    State(state): State<AppState>,
    meta: RequestMeta,
    Json(req): Json<VerifyEmailRequest>,
) -> ApiResult<Json<EmailVerified>> {
    let (tenant, email) = verify::follow_link(&state, req.token.trim()).await?;
    let mut tx = auth::system_tx(&state, &tenant).await?;
    auth::write_audit(
        &mut tx,
        None,
        &email,
        "tenant.email_verified",
        Some("tenant"),
        Some(tenant.id.to_string()),
        serde_json::json!({ "email": email }),
        &meta,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(EmailVerified {
        tenant: tenant.slug,
        name: tenant.name,
        email,
    }))
}

async fn email_dto(ctx: &mut TenantCtx) -> ApiResult<EmailVerificationDto> {
    let tenant = ctx.tenant().id;
    let verified_at: Option<DateTime<Utc>> =
        sqlx::query_scalar("SELECT email_verified_at FROM platform.tenants WHERE id = $1")
            .bind(tenant)
            .fetch_one(ctx.db())
            .await?;
    let last: Option<(String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT email, created_at FROM platform.email_verifications
          WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(ctx.db())
    .await?;
    Ok(EmailVerificationDto {
        verified: verified_at.is_some(),
        verified_at,
        last_sent_to: last.as_ref().map(|l| l.0.clone()),
        last_sent_at: last.map(|l| l.1),
    })
}

/// Whether the call center's e-mail is verified (outbound calls wait for it). Any signed-in
/// user of the tenant may ask (the SPA's banner).
#[utoipa::path(get, path = "/api/v1/email-verification", tag = "auth",
    responses((status = 200, body = EmailVerificationDto)))]
pub async fn email_status(mut ctx: TenantCtx) -> ApiResult<Json<EmailVerificationDto>> {
    let d = email_dto(&mut ctx).await?;
    ctx.commit().await?;
    Ok(Json(d))
}

/// Sends a new verification link to the signed-in administrator's own address (at most five
/// an hour). Earlier links keep working until they expire.
#[utoipa::path(post, path = "/api/v1/email-verification", tag = "auth",
    responses((status = 202, body = EmailVerificationDto),
        (status = 409, description = "`already_verified`, `too_many_emails`",
            body = hotline_wire::api::Problem)))]
pub async fn resend_email(
    mut ctx: TenantCtx,
) -> ApiResult<(StatusCode, Json<EmailVerificationDto>)> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let Actor::User { email, .. } = ctx.actor().clone() else {
        // A key has no mailbox to prove.
        return Err(ApiError::Forbidden);
    };
    let tenant = ctx.tenant().clone();
    if email_dto(&mut ctx).await?.verified {
        return Err(ApiError::Conflict {
            code: "already_verified",
            detail: "this call center's e-mail address is already verified".into(),
        });
    }
    let recent: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.email_verifications
          WHERE tenant_id = $1 AND created_at > now() - interval '1 hour'",
    )
    .bind(tenant.id)
    .fetch_one(ctx.db())
    .await?;
    if recent >= verify::EMAILS_PER_HOUR {
        return Err(ApiError::Conflict {
            code: "too_many_emails",
            detail: format!(
                "at most {} verification e-mails an hour; check the spam folder, or try later",
                verify::EMAILS_PER_HOUR
            ),
        });
    }
    verify::queue_email(ctx.db(), tenant.id, &tenant.name, &email)
        .await
        .map_err(ApiError::internal)?;
    ctx.audit(
        "tenant.email_verification_sent",
        Some("tenant"),
        Some(tenant.id.to_string()),
        serde_json::json!({ "email": email }),
    )
    .await?;
    let d = email_dto(&mut ctx).await?;
    ctx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(d)))
}

// ------------------------------------------------------------------ verified caller IDs

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    number: String,
    call_status: String,
    attempts: i32,
    expires_at: DateTime<Utc>,
    verified_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, number, call_status, attempts, expires_at, verified_at, created_at";

impl Row {
    fn dto(self) -> CallerIdDto {
        let status = if self.verified_at.is_some() {
            "verified"
        } else if self.attempts >= CODE_ATTEMPTS {
            "locked"
        } else if self.expires_at < Utc::now() {
            "expired"
        } else {
            self.call_status.as_str()
        };
        CallerIdDto {
            id: self.id,
            status: status.to_string(),
            number: self.number,
            attempts_left: (CODE_ATTEMPTS - self.attempts).max(0),
            expires_at: self.expires_at,
            verified_at: self.verified_at,
            created_at: self.created_at,
        }
    }
}

async fn calls_today(conn: &mut sqlx::PgConnection, number: Option<&str>) -> ApiResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM caller_id_verifications
          WHERE created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
            AND ($1::text IS NULL OR number = $1)",
    )
    .bind(number)
    .fetch_one(conn)
    .await?)
}

async fn load(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<Row> {
    sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM caller_id_verifications WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(ctx.db())
    .await?
    .ok_or(ApiError::NotFound)
}

/// The numbers the call center may show as caller ID: its own (assigned by the platform) and
/// those it verified, with the verifications in progress.
#[utoipa::path(get, path = "/api/v1/caller-ids", tag = "campaigns",
    responses((status = 200, body = CallerIdsDto)))]
pub async fn caller_ids(mut ctx: TenantCtx) -> ApiResult<Json<CallerIdsDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let tenant = ctx.tenant().id;
    let dids: Vec<String> =
        sqlx::query_scalar("SELECT did FROM platform.dids WHERE tenant_id = $1 ORDER BY did")
            .bind(tenant)
            .fetch_all(ctx.db())
            .await?;
    // Per number: its verified row, else its latest attempt of the last day.
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT DISTINCT ON (number) {COLUMNS} FROM caller_id_verifications
          WHERE verified_at IS NOT NULL
             OR (created_at > now() - interval '1 day' AND code_hash IS NOT NULL)
          ORDER BY number, verified_at IS NULL, created_at DESC"
    )))
    .fetch_all(ctx.db())
    .await?;
    let used = calls_today(ctx.db(), None).await?;
    ctx.commit().await?;
    let mut numbers: Vec<CallerIdDto> = rows.into_iter().map(Row::dto).collect();
    numbers.sort_by(|a, b| {
        (a.status != "verified", b.created_at).cmp(&(b.status != "verified", a.created_at))
    });
    Ok(Json(CallerIdsDto {
        dids,
        numbers,
        calls_left_today: (CALLS_PER_DAY - used).max(0),
    }))
}

/// Starts verifying a number: the platform calls it through the trunk and reads a 6-digit
/// code twice; type it with `POST /caller-ids/{id}/confirm` within 10 minutes. The call obeys
/// the outbound rules (e-mail verified, destinations, limits); at most 10 calls a day, 3 to
/// one number.
#[utoipa::path(post, path = "/api/v1/caller-ids", tag = "campaigns",
    request_body = VerifyNumberRequest,
    responses((status = 201, body = CallerIdDto),
        (status = 409, description = "`already_verified`, `number_in_use` (another call center's \
            number), `verification_call_limit`, `no_gateway`",
            body = hotline_wire::api::Problem),
        (status = 422, description = "`validation_failed` (`number`), or the outbound rules' \
            `email_unverified`, `destination_not_allowed`, `trial_limit`, `outbound_limit`",
            body = hotline_wire::api::Problem)))]
pub async fn verify_number(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<VerifyNumberRequest>,
) -> ApiResult<(StatusCode, Json<CallerIdDto>)> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let cc = crate::crm::country_code(ctx.db()).await?;
    let Some(number) = crate::crm::normalise_phone(&req.number, cc.as_deref())
        .filter(|n| crate::validate::is_e164(n))
    else {
        return Err(ApiError::field(
            "number",
            "not a phone number (give it in international form, like +994125550100)",
        ));
    };
    let tenant = ctx.tenant().id;
    let rules = dial_policy::rules(ctx.db(), tenant)
        .await
        .map_err(ApiError::internal)?;
    if rules.may_show(&number) {
        return Err(ApiError::Conflict {
            code: "already_verified",
            detail: format!("{number} may already be shown as this call center's caller ID"),
        });
    }
    // Another call center's number on this platform, or one of the platform's pool: its
    // calls arrive here (or nowhere), not at a phone the administrator answers.
    let platform_did: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM platform.dids WHERE did = $1")
            .bind(&number)
            .fetch_optional(ctx.db())
            .await?;
    match platform_did {
        Some(Some(_)) => {
            return Err(ApiError::Conflict {
                code: "number_in_use",
                detail: format!("{number} is a number of another call center on this platform"),
            })
        }
        Some(None) => {
            return Err(ApiError::Conflict {
                code: "platform_number",
                detail: format!(
                    "{number} is one of the platform's free numbers: ask for it under Numbers"
                ),
            })
        }
        None => {}
    }
    if calls_today(ctx.db(), None).await? >= CALLS_PER_DAY
        || calls_today(ctx.db(), Some(&number)).await? >= CALLS_PER_NUMBER_PER_DAY
    {
        return Err(ApiError::Conflict {
            code: "verification_call_limit",
            detail: format!(
                "at most {CALLS_PER_DAY} verification calls a day, {CALLS_PER_NUMBER_PER_DAY} to \
                 one number: try again tomorrow"
            ),
        });
    }
    let usage = dial_policy::usage(ctx.db())
        .await
        .map_err(ApiError::internal)?;
    rules
        .judge(None, &number, &usage)
        .map_err(|r| r.into_api("number"))?;
    let Some(gw) = crate::campaigns::pick_gateway(&state)
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(ApiError::Conflict {
            code: "no_gateway",
            detail: "no media gateway with an outbound trunk is running; try again later".into(),
        });
    };
    // The call shows the tenant's first number; without one, the number called itself.
    let shown = rules
        .dids
        .first()
        .cloned()
        .unwrap_or_else(|| number.clone());
    let id = Uuid::new_v4();
    let leg = Uuid::new_v4();
    let (code, hash) = verify::new_code(id);
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO caller_id_verifications (id, number, code_hash, call_id, expires_at, created_by)
         VALUES ($1, $2, $3, $4, now() + make_interval(mins => $5), $6) RETURNING {COLUMNS}"
    )))
    .bind(id)
    .bind(&number)
    .bind(hash)
    .bind(leg)
    .bind(CODE_MINUTES as i32)
    .bind(ctx.user_id())
    .fetch_one(ctx.db())
    .await?;
    ctx.audit(
        "caller_id.verification_call",
        Some("caller_id"),
        Some(id.to_string()),
        serde_json::json!({ "number": number, "call_id": leg }),
    )
    .await?;
    ctx.commit().await?;
    verify::place_call(&state, tenant, leg, code, &gw, &shown, &number)
        .await
        .map_err(ApiError::internal)?;
    Ok((StatusCode::CREATED, Json(row.dto())))
}

/// Types the code the call read. Right: the number may be shown as caller ID from now on.
/// Wrong: 422 `code_wrong` (on `code`, with the attempts left); after five, or ten minutes
/// after the call, a new call is needed (409).
#[utoipa::path(post, path = "/api/v1/caller-ids/{id}/confirm", tag = "campaigns",
    params(("id" = Uuid, Path)),
    request_body = ConfirmCodeRequest,
    responses((status = 200, body = CallerIdDto),
        (status = 409, description = "`already_verified`, `code_expired`, `code_attempts_exhausted`",
            body = hotline_wire::api::Problem),
        (status = 422, description = "`code_wrong` or `validation_failed` on `code`",
            body = hotline_wire::api::Problem)))]
pub async fn confirm_code(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<ConfirmCodeRequest>,
) -> ApiResult<Json<CallerIdDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let code = req.code.trim();
    if code.len() != CODE_DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::field("code", "the code is 6 digits"));
    }
    let row = load(&mut ctx, id).await?;
    if row.verified_at.is_some() {
        return Err(ApiError::Conflict {
            code: "already_verified",
            detail: format!("{} is already verified", row.number),
        });
    }
    if row.attempts >= CODE_ATTEMPTS {
        return Err(ApiError::Conflict {
            code: "code_attempts_exhausted",
            detail: format!("{CODE_ATTEMPTS} wrong codes: verify the number again for a new call"),
        });
    }
    if row.expires_at < Utc::now() {
        return Err(ApiError::Conflict {
            code: "code_expired",
            detail: format!(
                "the code was valid for {CODE_MINUTES} minutes: verify the number again for a new call"
            ),
        });
    }
    let matches: bool = sqlx::query_scalar(
        "SELECT coalesce(code_hash = $2, false) FROM caller_id_verifications WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .bind(verify::code_hash(id, code))
    .fetch_one(ctx.db())
    .await?;
    if !matches {
        let attempts: i32 = sqlx::query_scalar(
            "UPDATE caller_id_verifications SET attempts = attempts + 1 WHERE id = $1
             RETURNING attempts",
        )
        .bind(id)
        .fetch_one(ctx.db())
        .await?;
        ctx.commit().await?;
        let left = (CODE_ATTEMPTS - attempts).max(0);
        return Err(ApiError::Refused {
            code: "code_wrong",
            detail: if left == 0 {
                "wrong code; no attempts left: verify the number again for a new call".into()
            } else {
                format!("wrong code; {left} attempts left")
            },
            field: Some("code".into()),
        });
    }
    let row: Row = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE caller_id_verifications SET verified_at = now(), code_hash = NULL
          WHERE id = $1 RETURNING {COLUMNS}"
    )))
    .bind(id)
    .fetch_one(ctx.db())
    .await?;
    ctx.audit(
        "caller_id.verified",
        Some("caller_id"),
        Some(id.to_string()),
        serde_json::json!({ "number": row.number }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(row.dto()))
}

/// Removes a verified number (or a pending verification): calls may no longer show it
/// (campaigns showing it are refused `caller_id_not_owned`).
#[utoipa::path(delete, path = "/api/v1/caller-ids/{id}", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses((status = 204)))]
pub async fn remove_number(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let row = load(&mut ctx, id).await?;
    // Kept (expired), not deleted: the day's verification calls still count, and a call still
    // ringing keeps its recording unlisted.
    sqlx::query(
        "UPDATE caller_id_verifications SET verified_at = NULL, code_hash = NULL,
                expires_at = least(expires_at, now())
          WHERE number = $1",
    )
    .bind(&row.number)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "caller_id.remove",
        Some("caller_id"),
        Some(id.to_string()),
        serde_json::json!({ "number": row.number }),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
