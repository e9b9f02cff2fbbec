//! Proof of ownership before a tenant calls out on the shared trunk.
//!
//! - **The administrator's e-mail address.** Sign-up (and an operator creating a tenant)
//!   queues a link in the tenant's e-mail outbox ([`queue_email`]); following it
//!   (`POST /auth/verify-email`) sets `platform.tenants.email_verified_at`. Until then
//!   `dial_policy` refuses every outside call (`email_unverified`). Tokens: 256 random bits,
//!   only their SHA-256 stored (`platform.email_verifications`), single use, valid
//!   [`EMAIL_TOKEN_HOURS`]. Without `[smtp]` the outbox logs the link (`notify::deliver`).
//! - **Verified caller IDs.** The platform calls a number through the trunk (like a
//!   click-to-call, `crate::call_io::originate`) and reads a 6-digit code twice ([`on_gateway_event`]:
//!   the `verification-code` prompt, then `say_digits`); the administrator types it within
//!   [`CODE_MINUTES`] (at most [`CODE_ATTEMPTS`] wrong codes). Only the code's SHA-256 is in
//!   the database; the code itself lives in Redis for the call only. The call obeys
//!   `dial_policy` (e-mail verified, destinations, limits) and at most
//!   [`CALLS_PER_DAY`] calls a day per tenant, [`CALLS_PER_NUMBER_PER_DAY`] per number.

use crate::{auth, db, error::ApiError, state::AppState};
use hotline_wire::gateway::{GatewayCommand, GatewayEvent};
use rand::Rng;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use uuid::Uuid;

/// How long an e-mailed verification link works.
pub const EMAIL_TOKEN_HOURS: i64 = 48;
/// Verification e-mails a tenant may have sent in an hour (re-sends included).
pub const EMAILS_PER_HOUR: i64 = 5;
/// How long a caller-ID code is valid after its call was placed.
pub const CODE_MINUTES: i64 = 10;
/// Wrong codes before a new call is needed.
pub const CODE_ATTEMPTS: i32 = 5;
/// Verification calls per tenant per day (UTC).
pub const CALLS_PER_DAY: i64 = 10;
/// Verification calls to one number per day (UTC).
pub const CALLS_PER_NUMBER_PER_DAY: i64 = 3;
/// The prompt played before the digits (`media-gateway/prompts/generate.sh`).
pub const CODE_PROMPT: &str = "verification-code";

/// Where the e-mailed link points (the SPA's page, which posts the token).
pub const LINK_PATH: &str = "/verify-email";

/// Queues a verification e-mail to `email` in the tenant's outbox. `conn` is in the tenant's
/// schema (inside the transaction that creates or changes what is verified).
pub async fn queue_email(
    conn: &mut PgConnection,
    tenant: Uuid,
    company: &str,
    email: &str,
) -> anyhow::Result<()> {
    let (token, hash) = auth::new_secret();
    sqlx::query(
        "INSERT INTO platform.email_verifications (token_hash, tenant_id, email, expires_at)
         VALUES ($1, $2, $3, now() + make_interval(hours => $4))",
    )
    .bind(hash)
    .bind(tenant)
    .bind(email)
    .bind(EMAIL_TOKEN_HOURS as i32)
    .execute(&mut *conn)
    .await?;
    let body = format!(
        "Please verify your e-mail address for {company} on Hotline. Until it is verified, \
         the call center cannot place outbound calls (click-to-call, callbacks, campaigns).\n\n\
         The link works once, for {EMAIL_TOKEN_HOURS} hours. If you did not sign up, ignore \
         this e-mail.\n\nVerify:"
    );
    sqlx::query(
        "INSERT INTO email_outbox (to_address, subject, body, link_path) VALUES ($1, $2, $3, $4)",
    )
    .bind(email)
    .bind("[Hotline] Verify your e-mail address")
    .bind(body)
    .bind(format!("{LINK_PATH}?token={token}"))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Follows a link: marks its tenant verified. Returns the tenant and the address verified.
pub async fn follow_link(
    state: &AppState,
    token: &str,
) -> Result<(auth::TenantRef, String), ApiError> {
    let invalid = || ApiError::BadRequest {
        code: "verification_link_invalid",
        detail: "this verification link is not valid: copy the whole link from the e-mail, \
                 or send a new one"
            .into(),
    };
    if token.is_empty() || token.len() > 100 {
        return Err(invalid());
    }
    let mut tx = state.db.begin().await?;
    let row: Option<(Uuid, String, bool, bool)> = sqlx::query_as(
        "SELECT tenant_id, email, expires_at < now(), used_at IS NOT NULL
           FROM platform.email_verifications WHERE token_hash = $1 FOR UPDATE",
    )
    .bind(auth::sha256(token))
    .fetch_optional(&mut *tx)
    .await?;
    let Some((tenant_id, email, expired, used)) = row else {
        return Err(invalid());
    };
    if used {
        return Err(ApiError::BadRequest {
            code: "verification_link_used",
            detail: "this verification link was already used; each link works once".into(),
        });
    }
    if expired {
        return Err(ApiError::BadRequest {
            code: "verification_link_expired",
            detail: format!(
                "this verification link has expired (links work for {EMAIL_TOKEN_HOURS} hours): \
                 sign in and send a new one"
            ),
        });
    }
    sqlx::query("UPDATE platform.email_verifications SET used_at = now() WHERE token_hash = $1")
        .bind(auth::sha256(token))
        .execute(&mut *tx)
        .await?;
    let tenant: (Uuid, String, String, String) = sqlx::query_as(
        "UPDATE platform.tenants SET email_verified_at = coalesce(email_verified_at, now())
          WHERE id = $1 RETURNING id, slug, name, status",
    )
    .bind(tenant_id)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let tenant = auth::TenantRef {
        id: tenant.0,
        slug: tenant.1,
        name: tenant.2,
        status: tenant.3,
    };
    Ok((tenant, email))
}

// ------------------------------------------------------------------ verified caller IDs

/// A verification call in progress (Redis, for the call's length only): what to read and
/// where the call is.
#[derive(Debug, Serialize, Deserialize)]
struct CodeCall {
    code: String,
    gateway_id: String,
    /// Media steps done: prompt, digits, prompt, digits, then hang up.
    step: u8,
    answered: bool,
}

fn call_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:caller-id-call:{leg}")
}

/// A fresh 6-digit code and the hash kept for it (salted with the verification's id).
pub fn new_code(verification: Uuid) -> (String, Vec<u8>) {
    let n: u32 = rand::thread_rng().gen_range(0..1_000_000);
    let code = format!("{n:06}");
    let hash = code_hash(verification, &code);
    (code, hash)
}

pub fn code_hash(verification: Uuid, code: &str) -> Vec<u8> {
    auth::sha256(&format!("{verification}:{code}"))
}

/// Places the verification call: the code waits in Redis for the answer, then the gateway
/// originates `number` showing `caller`.
pub async fn place_call(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    code: String,
    gateway_id: &str,
    caller: &str,
    number: &str,
) -> anyhow::Result<()> {
    let rec = CodeCall {
        code,
        gateway_id: gateway_id.to_string(),
        step: 0,
        answered: false,
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            call_key(tenant, leg),
            serde_json::to_string(&rec)?,
            (CODE_MINUTES * 60 + 300) as u64,
        )
        .await?;
    let cdr = crate::cdr::OutboundLeg {
        leg,
        parent: None,
        caller,
        callee: number,
        agent: None,
        gateway_id,
    };
    crate::call_io::originate(state, tenant, cdr).await
}

async fn set_call_status(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    status: &str,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    sqlx::query("UPDATE caller_id_verifications SET call_status = $2 WHERE call_id = $1")
        .bind(leg)
        .bind(status)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The verification call's legs: on answer the code is read twice (prompt, digits, prompt,
/// digits, each after the previous one finished), then the call is hung up; its end is
/// recorded on the verification (`finished`, or `failed` when nobody answered).
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let (leg, tenant) = match ev {
        GatewayEvent::CallAnswered {
            call_id, tenant_id, ..
        }
        | GatewayEvent::PlaybackFinished {
            call_id, tenant_id, ..
        }
        | GatewayEvent::Hangup {
            call_id, tenant_id, ..
        } => (*call_id, *tenant_id),
        _ => return Ok(()),
    };
    let key = call_key(tenant, leg);
    let mut r = state.redis();
    let raw: Option<String> = r.get(&key).await?;
    let Some(raw) = raw else {
        return Ok(());
    };
    let mut rec: CodeCall = serde_json::from_str(&raw)?;
    match ev {
        GatewayEvent::Hangup { .. } => {
            let _: () = r.del(&key).await?;
            let status = if rec.answered { "finished" } else { "failed" };
            return set_call_status(state, tenant, leg, status).await;
        }
        GatewayEvent::CallAnswered { .. } => {
            if rec.answered {
                return Ok(());
            }
            rec.answered = true;
            set_call_status(state, tenant, leg, "answered").await?;
        }
        _ => {}
    }
    let cmd = match rec.step {
        0 | 2 => GatewayCommand::Play {
            call_id: leg,
            prompt: CODE_PROMPT.into(),
            interruptible: false,
        },
        1 | 3 => GatewayCommand::SayDigits {
            call_id: leg,
            digits: rec.code.clone(),
        },
        _ => GatewayCommand::Hangup {
            call_id: leg,
            status: None,
        },
    };
    rec.step = rec.step.saturating_add(1);
    let _: () = r
        .set_ex(
            &key,
            serde_json::to_string(&rec)?,
            (CODE_MINUTES * 60 + 300) as u64,
        )
        .await?;
    crate::call_io::command(state, &rec.gateway_id, &cmd).await
}

/// Whether `call` is a caller-ID verification call: its recording is not kept (it holds the
/// code, and the tenant must not be able to verify a number by listening to it).
pub async fn is_code_call(conn: &mut PgConnection, call: Uuid) -> anyhow::Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM caller_id_verifications WHERE call_id = $1)",
    )
    .bind(call)
    .fetch_one(conn)
    .await?)
}
