//! The agent's side of agent campaigns (`/agent/campaign-contacts`, `/agent/preview`): the
//! contact and script of a campaign call on the desktop, the answers saved on the contact;
//! and preview mode, where the agent takes the next contact, reads it, and dials it (the
//! softphone takes the call, like click-to-call) or skips it.
//!
//! An agent sees a contact only while it is theirs: offered or connected to them (the
//! contact's `agent_id`), or on their screen in preview (`reserved_by`). Supervisors with
//! `campaigns.write` see every contact.

use crate::{
    auth::TenantCtx,
    campaigns::is_zone,
    error::{ApiError, ApiResult, Json},
    routes::campaigns::{contact, ContactRow, CONTACT_COLUMNS},
    state::AppState,
};
use axum::{
    extract::{Path, State},
    http::StatusCode,
    routing::{get, post, put},
    Router,
};
use chrono::Utc;
use hotline_wire::{
    calls::CallbackStarted,
    campaigns::{check_answers, AgentCampaignContact, ScriptAnswers},
    permissions as perms,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent/campaign-contacts/{id}", get(get_contact))
        .route("/agent/campaign-contacts/{id}/answers", put(save_answers))
        .route("/agent/preview/next", post(preview_next))
        .route("/agent/preview/{id}/dial", post(preview_dial))
        .route("/agent/preview/{id}/skip", post(preview_skip))
}

/// The contact with its campaign, if `user` may see it (`None`: any user, for supervisors).
async fn load(
    conn: &mut PgConnection,
    id: Uuid,
    user: Option<Uuid>,
) -> ApiResult<AgentCampaignContact> {
    let row: Option<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM campaign_contacts
          WHERE id = $1 AND ($2::uuid IS NULL OR agent_id = $2 OR reserved_by = $2)"
    )))
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    let row = row.ok_or(ApiError::NotFound)?;
    let (campaign_id, campaign_name, dial_mode, script): (
        Uuid,
        String,
        Option<String>,
        serde_json::Value,
    ) = sqlx::query_as(
        "SELECT c.id, c.name, c.dial_mode, c.script FROM campaigns c
           JOIN campaign_contacts k ON k.campaign_id = c.id WHERE k.id = $1",
    )
    .bind(id)
    .fetch_one(&mut *conn)
    .await?;
    Ok(AgentCampaignContact {
        campaign_id,
        campaign_name,
        dial_mode: dial_mode.unwrap_or_default(),
        script: serde_json::from_value(script).unwrap_or_default(),
        contact: contact(row),
    })
}

fn viewer(ctx: &TenantCtx) -> ApiResult<Option<Uuid>> {
    if ctx.require(perms::CAMPAIGNS_WRITE).is_ok() {
        return Ok(None);
    }
    ctx.require(perms::AGENT_STATE)?;
    Ok(Some(ctx.user_id().ok_or(ApiError::Forbidden)?))
}

/// A campaign contact as the agent desktop shows it (its script and the answers so far).
#[utoipa::path(get, path = "/api/v1/agent/campaign-contacts/{id}", tag = "agent",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = AgentCampaignContact), (status = 404)))]
pub async fn get_contact(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<AgentCampaignContact>> {
    let who = viewer(&ctx)?;
    let c = load(ctx.db(), id, who).await?;
    ctx.commit().await?;
    Ok(Json(c))
}

/// Saves the script's answers on the contact (replacing earlier ones). Each answer must be
/// for a question the script asks with these answers, and a choice one of its options.
#[utoipa::path(put, path = "/api/v1/agent/campaign-contacts/{id}/answers", tag = "agent",
    params(("id" = Uuid, Path)), request_body = ScriptAnswers,
    responses((status = 200, body = AgentCampaignContact), (status = 404), (status = 422)))]
pub async fn save_answers(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<ScriptAnswers>,
) -> ApiResult<Json<AgentCampaignContact>> {
    let who = viewer(&ctx)?;
    let c = load(ctx.db(), id, who).await?;
    if let Err(e) = check_answers(&c.script, &req.answers) {
        return Err(ApiError::field("answers", e));
    }
    sqlx::query("UPDATE campaign_contacts SET answers = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(serde_json::to_value(&req.answers).unwrap_or_default())
        .execute(ctx.db())
        .await?;
    ctx.audit(
        "campaign.answers",
        Some("campaign_contact"),
        Some(id.to_string()),
        serde_json::json!({ "campaign": c.campaign_id, "answers": req.answers }),
    )
    .await?;
    let c = load(ctx.db(), id, who).await?;
    ctx.commit().await?;
    Ok(Json(c))
}

/// The agent's queues, as the ACD has them (empty when not logged in).
async fn agent_queues(state: &AppState, tenant: Uuid, user: Uuid) -> ApiResult<Vec<Uuid>> {
    Ok(crate::agents::agent_rec(state, tenant, user)
        .await?
        .filter(|a| a.state != "logged_out")
        .map(|a| a.queues.split(',').filter_map(|q| q.parse().ok()).collect())
        .unwrap_or_default())
}

/// Preview mode: the next contact for this agent, from a running preview campaign of one of
/// their queues (the one already on their screen, if any). `null` when there is none now.
/// Contacts on the do-not-call list are skipped and logged; those outside their calling
/// hours wait for them.
#[utoipa::path(post, path = "/api/v1/agent/preview/next", tag = "agent",
    responses((status = 200, body = Option<AgentCampaignContact>), (status = 403)))]
pub async fn preview_next(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<Option<AgentCampaignContact>>> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let held: Option<Uuid> = sqlx::query_scalar(
        "SELECT id FROM campaign_contacts WHERE reserved_by = $1 AND status = 'previewing' LIMIT 1",
    )
    .bind(user)
    .fetch_optional(ctx.db())
    .await?;
    if let Some(id) = held {
        let c = load(ctx.db(), id, Some(user)).await?;
        ctx.commit().await?;
        return Ok(Json(Some(c)));
    }
    let queues = agent_queues(&state, tenant, user).await?;
    let now = Utc::now();
    type Due = (
        Uuid,
        Uuid,
        String,
        Option<String>,
        bool,
        String,
        serde_json::Value,
    );
    let due: Vec<Due> = sqlx::query_as(
        "SELECT k.id, k.campaign_id, k.phone, k.timezone,
                    EXISTS (SELECT 1 FROM call_blocklist b
                             WHERE b.direction = 'outbound' AND b.number = k.phone),
                    c.timezone, c.calling_hours
               FROM campaign_contacts k JOIN campaigns c ON c.id = k.campaign_id
              WHERE c.kind = 'agent' AND c.dial_mode = 'preview' AND c.status = 'running'
                AND c.queue_id = ANY ($1) AND (c.starts_at IS NULL OR c.starts_at <= $2)
                AND k.status = 'pending' AND k.next_attempt_at <= $2
              ORDER BY k.next_attempt_at, k.id LIMIT 50 FOR UPDATE OF k SKIP LOCKED",
    )
    .bind(&queues)
    .bind(now)
    .fetch_all(ctx.db())
    .await?;
    let mut chosen = None;
    for (id, campaign, phone, tz, blocked, campaign_tz, hours) in due {
        if blocked {
            crate::campaigns::skip_dnc(ctx.db(), campaign, id, &phone, now)
                .await
                .map_err(ApiError::internal)?;
            continue;
        }
        let hours: Vec<Option<[String; 2]>> = serde_json::from_value(hours).unwrap_or_default();
        let Ok(hours) = crate::campaigns::parse_hours(&hours) else {
            continue;
        };
        let tz = tz.filter(|t| is_zone(t)).unwrap_or(campaign_tz);
        if !hours.is_open(&tz, now) {
            let next = hours
                .next_open(&tz, now)
                .unwrap_or(now + chrono::Duration::days(1));
            sqlx::query("UPDATE campaign_contacts SET next_attempt_at = $2 WHERE id = $1")
                .bind(id)
                .bind(next)
                .execute(ctx.db())
                .await?;
            continue;
        }
        chosen = Some(id);
        break;
    }
    let Some(id) = chosen else {
        ctx.commit().await?;
        return Ok(Json(None));
    };
    sqlx::query(
        "UPDATE campaign_contacts SET status = 'previewing', reserved_by = $2, updated_at = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .execute(ctx.db())
    .await?;
    let c = load(ctx.db(), id, Some(user)).await?;
    ctx.commit().await?;
    Ok(Json(Some(c)))
}

/// The preview contact on this agent's screen, locked: `(campaign, phone, caller id)`.
async fn reserved(
    conn: &mut PgConnection,
    id: Uuid,
    user: Uuid,
) -> ApiResult<(Uuid, String, String)> {
    let row: Option<(Uuid, String, String, String)> = sqlx::query_as(
        "SELECT k.campaign_id, k.phone, c.caller_id, k.status
           FROM campaign_contacts k JOIN campaigns c ON c.id = k.campaign_id
          WHERE k.id = $1 AND k.reserved_by = $2 FOR UPDATE OF k",
    )
    .bind(id)
    .bind(user)
    .fetch_optional(&mut *conn)
    .await?;
    match row {
        None => Err(ApiError::NotFound),
        Some((_, _, _, status)) if status != "previewing" => Err(ApiError::Conflict {
            code: "not_previewing",
            detail: format!("this contact is {status}, no longer on your screen"),
        }),
        Some((c, phone, caller, _)) => Ok((c, phone, caller)),
    }
}

/// Preview mode: dials the contact on the agent's screen. The softphone takes the call (it
/// must be connected), the trunk dials the contact; the attempt is settled when it ends.
#[utoipa::path(post, path = "/api/v1/agent/preview/{id}/dial", tag = "agent",
    params(("id" = Uuid, Path)),
    responses((status = 201, body = CallbackStarted), (status = 404), (status = 409)))]
pub async fn preview_dial(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let (campaign, phone, caller_id) = reserved(ctx.db(), id, user).await?;
    let ready = crate::callback::preflight(&state, tenant, user).await?;
    let leg = Uuid::new_v4();
    let now = Utc::now();
    sqlx::query(
        "UPDATE campaign_contacts SET status = 'dialing', attempts = attempts + 1,
                agent_id = $2, updated_at = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(user)
    .bind(now)
    .execute(ctx.db())
    .await?;
    sqlx::query(
        "INSERT INTO campaign_attempts (call_id, campaign_id, contact_id, phone, gateway_id,
                                        started_at, agent_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(leg)
    .bind(campaign)
    .bind(id)
    .bind(&phone)
    .bind(ready.gateway_id())
    .bind(now)
    .bind(user)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "campaign.preview_dial",
        Some("campaign_contact"),
        Some(id.to_string()),
        serde_json::json!({ "campaign": campaign, "call_id": leg }),
    )
    .await?;
    ctx.commit().await?;
    crate::campaigns::preview_leg(&state, tenant, leg, campaign, id, user, ready.gateway_id())
        .await
        .map_err(ApiError::internal)?;
    let c = crate::callback::Claimed {
        owner: hotline_calls::control::Owner::Preview,
        missed: None,
        leg,
        number: &phone,
        did: &caller_id,
    };
    crate::callback::dial(&state, tenant, user, ready, c).await?;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id: leg })))
}

/// Preview mode: puts the contact back in the list without calling it (it comes up again
/// after the campaign's retry interval).
#[utoipa::path(post, path = "/api/v1/agent/preview/{id}/skip", tag = "agent",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn preview_skip(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    reserved(ctx.db(), id, user).await?;
    sqlx::query(
        "UPDATE campaign_contacts k SET status = 'pending', reserved_by = NULL, updated_at = now(),
                next_attempt_at = now() + make_interval(secs => c.retry_interval_secs)
           FROM campaigns c WHERE k.id = $1 AND c.id = k.campaign_id",
    )
    .bind(id)
    .execute(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hotline_wire::campaigns::{check_script, script_path, ScriptOption, ScriptQuestion};
    use std::collections::BTreeMap;

    fn q(id: &str, options: &[(&str, Option<&str>)]) -> ScriptQuestion {
        ScriptQuestion {
            id: id.into(),
            text: format!("{id}?"),
            kind: if options.is_empty() { "text" } else { "choice" }.into(),
            options: options
                .iter()
                .map(|(v, n)| ScriptOption {
                    value: v.to_string(),
                    label: v.to_string(),
                    next: n.map(String::from),
                })
                .collect(),
            next: None,
            prompt: None,
        }
    }

    #[test]
    fn branches_decide_which_questions_are_asked_and_answers_must_fit() {
        // interested? yes → budget → notes; no → why → end.
        let script = vec![
            q(
                "interested",
                &[("yes", Some("budget")), ("no", Some("why"))],
            ),
            q("why", &[("price", Some("end")), ("other", Some("end"))]),
            q("budget", &[("low", None), ("high", None)]),
            q("notes", &[]),
        ];
        check_script(&script, false).unwrap();
        let a = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(script_path(&script, &a(&[("interested", "yes")])), [0, 2]);
        assert_eq!(
            script_path(&script, &a(&[("interested", "no"), ("why", "price")])),
            [0, 1]
        );
        check_answers(
            &script,
            &a(&[
                ("interested", "yes"),
                ("budget", "high"),
                ("notes", "call in May"),
            ]),
        )
        .unwrap();
        // "why" is not asked after "yes"; "maybe" is no option.
        assert!(check_answers(&script, &a(&[("interested", "yes"), ("why", "price")])).is_err());
        assert!(check_answers(&script, &a(&[("interested", "maybe")])).is_err());
        // A branch back to an earlier question (a loop) is refused.
        let looped = vec![q("a", &[("1", None)]), q("b", &[("1", Some("a"))])];
        assert!(check_script(&looped, false)
            .unwrap_err()
            .contains("not a later question"));
        // Surveys answer with one key and need a prompt per question.
        assert!(check_script(&script, true).is_err());
    }
}
