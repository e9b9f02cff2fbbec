//! Outbound campaigns (`/campaigns`): create and edit, contacts (JSON or a CSV/XLSX file read
//! by the CRM import's reader), start / pause / stop, results and export; and the tenant's
//! blocked numbers (`/blocklist`: outbound = do not call, inbound = refused), mirrored to the
//! gateways' Redis sets. The dialing itself is `crate::campaigns`.

use crate::{
    auth::TenantCtx,
    campaigns::{is_zone, parse_hours, set_running},
    crm::normalise_phone,
    crm_import as imp, dial_policy,
    error::{ApiError, ApiResult, Json},
    routes::paging,
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query, State},
    http::{header, StatusCode},
    response::{IntoResponse, Response},
    routing::{delete, get, post},
    Router,
};
use chrono::{DateTime, Utc};
use hotline_wire::{
    api::Page,
    campaigns::{
        AttemptDto, BlockedNumber, BlocklistQuery, CampaignCounts, CampaignDto, CampaignInput,
        CampaignResults, ContactDto, ContactError, ContactInput, ContactQuery, ContactsAdded,
        CustomerSelection, HourRow, OutboundRulesDto, QuestionResult, TenantOutboundRules,
        RETRYABLE,
    },
    gateway::{blacklist_key, Direction},
    permissions as perms,
    prompts::is_builtin_prompt,
};
use sqlx::PgConnection;
use uuid::Uuid;

/// Most contacts added by one request.
const MAX_CONTACTS: usize = 200_000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/{id}", get(get_one).put(update).delete(remove))
        .route("/campaigns/{id}/start", post(start))
        .route("/campaigns/{id}/pause", post(pause))
        .route("/campaigns/{id}/stop", post(stop))
        .route("/campaigns/{id}/contacts", get(contacts).post(add_contacts))
        .route("/campaigns/{id}/contacts/import", post(import_contacts))
        .route(
            "/campaigns/{id}/contacts/from-customers",
            post(add_customers),
        )
        .route("/campaigns/{id}/contacts/{contact}/attempts", get(attempts))
        .route("/campaigns/{id}/results", get(results))
        .route("/campaigns/{id}/export", get(export))
        .route(
            "/outbound-rules",
            get(outbound_rules).put(put_outbound_rules),
        )
        .route("/blocklist", get(blocklist).post(block))
        .route("/blocklist/import", post(import_blocklist))
        .route("/blocklist/{direction}/{number}", delete(unblock))
}

fn check(req: &CampaignInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    match req.kind.as_str() {
        "message" => {}
        "agent" => {
            match req.dial_mode.as_deref() {
                Some("preview" | "progressive" | "predictive") => {}
                _ => c.fail(
                    "dial_mode",
                    "an agent campaign dials in preview, progressive or predictive mode",
                ),
            }
            if req.queue_id.is_none() {
                c.fail(
                    "queue_id",
                    "an agent campaign needs the queue whose agents take its calls",
                );
            }
            if req.machine_action == "leave_message" {
                c.fail(
                    "machine_action",
                    "an agent campaign can only hang up on machines (hang_up or off)",
                );
            }
        }
        "survey" => {
            if req.script.is_empty() {
                c.fail("script", "a survey needs at least one question");
            }
        }
        _ => c.fail("kind", "must be message, agent or survey"),
    }
    if let Err(e) = hotline_wire::campaigns::check_script(&req.script, req.kind == "survey") {
        c.fail("script", e);
    }
    if !(req.max_abandon_pct > 0.0 && req.max_abandon_pct <= 50.0) {
        c.fail(
            "max_abandon_pct",
            "must be above 0 and at most 50 (percent)",
        );
    }
    if !matches!(
        req.machine_action.as_str(),
        "off" | "hang_up" | "leave_message"
    ) {
        c.fail("machine_action", "must be off, hang_up or leave_message");
    }
    match req.no_agent_prompt.as_deref() {
        Some(p) if !hotline_wire::prompts::is_prompt_name(p) => {
            c.fail("no_agent_prompt", "is not a prompt name")
        }
        _ => {}
    }
    if !crate::validate::is_e164(&req.caller_id) {
        c.fail(
            "caller_id",
            "must be a number in E.164 form, like +994125550100",
        );
    }
    match req.prompt.as_deref() {
        Some(p) if hotline_wire::prompts::is_prompt_name(p) => {}
        Some(_) => c.fail("prompt", "is not a prompt name"),
        None => {}
    }
    if let Some(d) = &req.confirm_digit {
        if !(d.len() == 1 && "0123456789*#".contains(d.as_str())) {
            c.fail("confirm_digit", "must be one key: 0-9, * or #");
        }
    }
    if let (Some(s), Some(e)) = (req.starts_at, req.ends_at) {
        if e <= s {
            c.fail("ends_at", "must be after starts_at");
        }
    }
    if let Err(e) = parse_hours(&req.calling_hours) {
        c.fail("calling_hours", e);
    }
    if !is_zone(&req.timezone) {
        c.fail("timezone", "is not a time zone name like Asia/Baku");
    }
    c.range("max_attempts", req.max_attempts.into(), 1, 20);
    c.range(
        "retry_interval_secs",
        req.retry_interval_secs.into(),
        1,
        604_800,
    );
    c.range("ring_timeout_secs", req.ring_timeout_secs.into(), 5, 120);
    c.range("max_lines", req.max_lines.into(), 1, 500);
    for r in &req.retry_on {
        if !RETRYABLE.contains(&r.as_str()) {
            c.fail(
                "retry_on",
                format!("{r:?} is not one of busy, no_answer, failed"),
            );
        }
    }
    c.finish()
}

fn name_taken(e: sqlx::Error) -> ApiError {
    match &e {
        sqlx::Error::Database(d) if d.constraint() == Some("campaigns_name") => {
            ApiError::Conflict {
                code: "name_taken",
                detail: "another campaign has this name".into(),
            }
        }
        _ => e.into(),
    }
}

#[derive(sqlx::FromRow)]
struct CampaignRow {
    id: Uuid,
    status: String,
    name: String,
    kind: String,
    caller_id: String,
    prompt: Option<String>,
    confirm_digit: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    calling_hours: serde_json::Value,
    timezone: String,
    max_attempts: i32,
    retry_interval_secs: i32,
    retry_on: Vec<String>,
    ring_timeout_secs: i32,
    max_lines: i32,
    dial_mode: Option<String>,
    queue_id: Option<Uuid>,
    max_abandon_pct: f32,
    script: serde_json::Value,
    no_agent_prompt: Option<String>,
    machine_action: String,
    work_missed_calls: bool,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

const CAMPAIGN_COLUMNS: &str = "id, status, name, kind, caller_id, prompt, confirm_digit,
    starts_at, ends_at, calling_hours, timezone, max_attempts, retry_interval_secs, retry_on,
    ring_timeout_secs, max_lines, dial_mode, queue_id, max_abandon_pct, script, no_agent_prompt,
    machine_action, work_missed_calls, created_at, started_at, finished_at";

async fn counts(conn: &mut PgConnection, id: Uuid) -> ApiResult<CampaignCounts> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, count(*) FROM campaign_contacts WHERE campaign_id = $1 GROUP BY status",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let dialled: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_attempts
          WHERE campaign_id = $1 AND coalesce(outcome, '') <> ALL ($2)",
    )
    .bind(id)
    .bind(crate::campaigns::REFUSED_OUTCOMES)
    .fetch_one(&mut *conn)
    .await?;
    let mut c = CampaignCounts {
        dialled,
        ..CampaignCounts::default()
    };
    for (status, n) in rows {
        c.contacts += n;
        let slot = match status.as_str() {
            "pending" => &mut c.pending,
            "dialing" => &mut c.dialing,
            "answered" => &mut c.answered,
            "confirmed" => &mut c.confirmed,
            "not_confirmed" => &mut c.not_confirmed,
            "busy" => &mut c.busy,
            "no_answer" => &mut c.no_answer,
            "dnc" => &mut c.dnc,
            "abandoned" => &mut c.abandoned,
            "machine" => &mut c.machine,
            "completed" => &mut c.completed,
            "previewing" => &mut c.previewing,
            "handled" => &mut c.handled,
            _ => &mut c.failed,
        };
        *slot += n;
    }
    Ok(c)
}

async fn load(conn: &mut PgConnection, id: Uuid) -> ApiResult<CampaignDto> {
    let r: CampaignRow = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or(ApiError::NotFound)?;
    let counts = counts(conn, id).await?;
    Ok(dto(r, counts))
}

fn dto(r: CampaignRow, counts: CampaignCounts) -> CampaignDto {
    CampaignDto {
        id: r.id,
        status: r.status,
        input: CampaignInput {
            name: r.name,
            kind: r.kind,
            caller_id: r.caller_id,
            prompt: r.prompt,
            confirm_digit: r.confirm_digit,
            starts_at: r.starts_at,
            ends_at: r.ends_at,
            calling_hours: serde_json::from_value(r.calling_hours).unwrap_or_default(),
            timezone: r.timezone,
            max_attempts: r.max_attempts,
            retry_interval_secs: r.retry_interval_secs,
            retry_on: r.retry_on,
            ring_timeout_secs: r.ring_timeout_secs,
            max_lines: r.max_lines,
            dial_mode: r.dial_mode,
            queue_id: r.queue_id,
            max_abandon_pct: f64::from(r.max_abandon_pct),
            script: serde_json::from_value(r.script).unwrap_or_default(),
            no_agent_prompt: r.no_agent_prompt,
            machine_action: r.machine_action,
            work_missed_calls: r.work_missed_calls,
        },
        created_at: r.created_at,
        started_at: r.started_at,
        finished_at: r.finished_at,
        counts,
        dial_hold: None,
    }
}

/// A campaign's caller ID must be one of the tenant's own numbers or one it verified
/// (checked again by the dialer for every call, `dial_policy`).
async fn own_caller_id(ctx: &mut TenantCtx, caller_id: &str) -> ApiResult<()> {
    let tenant = ctx.tenant().id;
    let owned: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM platform.dids WHERE tenant_id = $1 AND did = $2)
             OR EXISTS (SELECT 1 FROM caller_id_verifications
                         WHERE number = $2 AND verified_at IS NOT NULL)",
    )
    .bind(tenant)
    .bind(caller_id)
    .fetch_one(ctx.db())
    .await?;
    if !owned {
        return Err(ApiError::field(
            "caller_id",
            format!(
                "{caller_id} is not one of this call center's phone numbers; \
                 a campaign shows one of its own numbers (see /ivr/dids) or one it verified \
                 (/caller-ids)"
            ),
        ));
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns",
    responses((status = 200, body = Vec<CampaignDto>), (status = 403)))]
pub async fn list(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<Vec<CampaignDto>>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let tenant = ctx.tenant().id;
    let rows: Vec<CampaignRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM campaigns ORDER BY created_at DESC LIMIT 500"
    )))
    .fetch_all(ctx.db())
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let c = counts(ctx.db(), r.id).await?;
        let mut d = dto(r, c);
        d.dial_hold = crate::campaigns::hold_reason(&state, tenant, d.id).await;
        out.push(d);
    }
    ctx.commit().await?;
    Ok(Json(out))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = Uuid, Path)), responses((status = 200, body = CampaignDto), (status = 404)))]
pub async fn get_one(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CampaignDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let mut c = load(ctx.db(), id).await?;
    c.dial_hold = crate::campaigns::hold_reason(&state, ctx.tenant().id, id).await;
    ctx.commit().await?;
    Ok(Json(c))
}

#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = CampaignInput,
    responses((status = 201, body = CampaignDto), (status = 409), (status = 422)))]
pub async fn create(
    mut ctx: TenantCtx,
    Json(req): Json<CampaignInput>,
) -> ApiResult<(StatusCode, Json<CampaignDto>)> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    check(&req)?;
    own_caller_id(&mut ctx, &req.caller_id).await?;
    let id: Uuid = bind_input(
        sqlx::query_scalar(
            "INSERT INTO campaigns (name, kind, caller_id, prompt, confirm_digit, starts_at, ends_at,
                                    calling_hours, timezone, max_attempts, retry_interval_secs,
                                    retry_on, ring_timeout_secs, max_lines, dial_mode, queue_id,
                                    max_abandon_pct, script, no_agent_prompt, machine_action,
                                    work_missed_calls, created_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                     $18, $19, $20, $21, $22) RETURNING id",
        ),
        &req,
    )
    .bind(ctx.user_id())
    .fetch_one(ctx.db())
    .await
    .map_err(name_taken)?;
    let c = saved(ctx, id, "campaign.create").await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// After a create or update: the campaign as saved, its audit row, the commit.
async fn saved(mut ctx: TenantCtx, id: Uuid, action: &str) -> ApiResult<CampaignDto> {
    let c = load(ctx.db(), id).await?;
    ctx.audit(
        action,
        Some("campaign"),
        Some(id.to_string()),
        serde_json::to_value(&c.input).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok(c)
}

/// Binds a campaign's fields as `$1`…`$21` (name, kind, caller_id, prompt, confirm_digit,
/// starts_at, ends_at, calling_hours, timezone, max_attempts, retry_interval_secs, retry_on,
/// ring_timeout_secs, max_lines, dial_mode, queue_id, max_abandon_pct, script,
/// no_agent_prompt, machine_action, work_missed_calls) — the one order `create` and `update`
/// both use.
fn bind_input<'q, O>(
    q: sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>,
    req: &'q CampaignInput,
) -> sqlx::query::QueryScalar<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments> {
    q.bind(req.name.trim())
        .bind(&req.kind)
        .bind(&req.caller_id)
        .bind(&req.prompt)
        .bind(&req.confirm_digit)
        .bind(req.starts_at)
        .bind(req.ends_at)
        .bind(serde_json::to_value(&req.calling_hours).unwrap_or_default())
        .bind(&req.timezone)
        .bind(req.max_attempts)
        .bind(req.retry_interval_secs)
        .bind(&req.retry_on)
        .bind(req.ring_timeout_secs)
        .bind(req.max_lines)
        .bind(req.dial_mode.as_ref().filter(|_| req.kind == "agent"))
        .bind(req.queue_id.filter(|_| req.kind == "agent"))
        .bind(req.max_abandon_pct as f32)
        .bind(serde_json::to_value(&req.script).unwrap_or_default())
        .bind(&req.no_agent_prompt)
        .bind(&req.machine_action)
        .bind(req.work_missed_calls)
}

async fn status_of(conn: &mut PgConnection, id: Uuid) -> ApiResult<String> {
    sqlx::query_scalar("SELECT status FROM campaigns WHERE id = $1 FOR UPDATE")
        .bind(id)
        .fetch_optional(conn)
        .await?
        .ok_or(ApiError::NotFound)
}

fn wrong_state(now: &str, action: &str) -> ApiError {
    ApiError::Conflict {
        code: "campaign_state",
        detail: format!("a {now} campaign cannot be {action}"),
    }
}

#[utoipa::path(put, path = "/api/v1/campaigns/{id}", tag = "campaigns", request_body = CampaignInput,
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<CampaignInput>,
) -> ApiResult<Json<CampaignDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    check(&req)?;
    own_caller_id(&mut ctx, &req.caller_id).await?;
    let status = status_of(ctx.db(), id).await?;
    if !matches!(status.as_str(), "draft" | "paused") {
        return Err(wrong_state(&status, "edited (pause it first)"));
    }
    bind_input(
        sqlx::query_scalar::<_, Uuid>(
            "UPDATE campaigns SET name = $1, kind = $2, caller_id = $3, prompt = $4,
                    confirm_digit = $5, starts_at = $6, ends_at = $7, calling_hours = $8,
                    timezone = $9, max_attempts = $10, retry_interval_secs = $11, retry_on = $12,
                    ring_timeout_secs = $13, max_lines = $14, dial_mode = $15, queue_id = $16,
                    max_abandon_pct = $17, script = $18, no_agent_prompt = $19,
                    machine_action = $20, work_missed_calls = $21, updated_at = now()
              WHERE id = $22 RETURNING id",
        ),
        &req,
    )
    .bind(id)
    .fetch_one(ctx.db())
    .await
    .map_err(name_taken)?;
    let c = saved(ctx, id, "campaign.update").await?;
    Ok(Json(c))
}

#[utoipa::path(delete, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    params(("id" = Uuid, Path)), responses((status = 204), (status = 404), (status = 409)))]
pub async fn remove(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let status = status_of(ctx.db(), id).await?;
    if status != "draft" {
        return Err(wrong_state(
            &status,
            "deleted (only drafts can; stop it instead)",
        ));
    }
    sqlx::query("DELETE FROM campaigns WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await?;
    ctx.audit(
        "campaign.delete",
        Some("campaign"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Starts (or resumes) a campaign. It must have a prompt that exists and at least one contact
/// left to call; otherwise 422 says what is missing.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/start", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses((status = 200, body = CampaignDto), (status = 404), (status = 409), (status = 422)))]
pub async fn start(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CampaignDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let status = status_of(ctx.db(), id).await?;
    if !matches!(status.as_str(), "draft" | "paused") {
        return Err(wrong_state(&status, "started"));
    }
    let c = load(ctx.db(), id).await?;
    let mut problems = Check::new();
    let names = crate::routes::prompts::tenant_prompt_names(ctx.db()).await?;
    let missing = |p: &str| !is_builtin_prompt(p) && !names.contains(p);
    match (c.input.kind.as_str(), c.input.prompt.as_deref()) {
        ("message", None) => problems.fail(
            "prompt",
            "a recorded-message campaign needs a prompt to play",
        ),
        (_, Some(p)) if missing(p) => problems.fail(
            "prompt",
            format!("there is no prompt named {p:?}; upload it first"),
        ),
        _ => {}
    }
    if let Some(p) = c.input.no_agent_prompt.as_deref().filter(|p| missing(p)) {
        problems.fail(
            "no_agent_prompt",
            format!("there is no prompt named {p:?}; upload it first"),
        );
    }
    for q in &c.input.script {
        if let Some(p) = q.prompt.as_deref().filter(|p| missing(p)) {
            problems.fail(
                "script",
                format!(
                    "question {:?}: there is no prompt named {p:?}; upload it first",
                    q.id
                ),
            );
        }
    }
    if let (true, Some(queue)) = (c.input.kind == "agent", c.input.queue_id) {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM queues WHERE id = $1")
            .bind(queue)
            .fetch_optional(ctx.db())
            .await?;
        match name {
            None => problems.fail("queue_id", "the campaign's queue does not exist any more"),
            Some(name) => {
                let tenant = ctx.tenant().id;
                let agents = crate::campaigns::queue_agents(&state, tenant, queue)
                    .await
                    .map_err(ApiError::internal)?;
                if agents.logged_in() == 0 {
                    problems.fail(
                        "agents",
                        format!(
                            "no agent of queue {name:?} is logged in: the campaign would have nobody to connect its calls to"
                        ),
                    );
                }
            }
        }
    }
    if c.counts.pending + c.counts.dialing == 0 && !c.input.work_missed_calls {
        problems.fail(
            "contacts",
            "the campaign has no contacts left to call; add contacts first",
        );
    }
    problems.finish()?;
    sqlx::query(
        "UPDATE campaigns SET status = 'running', started_at = coalesce(started_at, now()),
                updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "campaign.start",
        Some("campaign"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    let tenant = ctx.tenant().id;
    let c = load(ctx.db(), id).await?;
    ctx.commit().await?;
    set_running(&state, tenant, id, true)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(c))
}

async fn halt(
    state: &AppState,
    mut ctx: TenantCtx,
    id: Uuid,
    to: &'static str,
) -> ApiResult<Json<CampaignDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let status = status_of(ctx.db(), id).await?;
    let allowed = match to {
        "paused" => status == "running",
        _ => matches!(status.as_str(), "running" | "paused" | "draft"),
    };
    if !allowed {
        return Err(wrong_state(
            &status,
            if to == "paused" { "paused" } else { "stopped" },
        ));
    }
    sqlx::query(
        "UPDATE campaigns SET status = $2, updated_at = now(),
                finished_at = CASE WHEN $2 = 'stopped' THEN now() ELSE finished_at END
          WHERE id = $1",
    )
    .bind(id)
    .bind(to)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        if to == "paused" {
            "campaign.pause"
        } else {
            "campaign.stop"
        },
        Some("campaign"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    let tenant = ctx.tenant().id;
    let c = load(ctx.db(), id).await?;
    ctx.commit().await?;
    set_running(state, tenant, id, false)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(c))
}

/// Pauses a running campaign: no new calls; calls in progress finish.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns",
    params(("id" = Uuid, Path)), responses((status = 200, body = CampaignDto), (status = 409)))]
pub async fn pause(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CampaignDto>> {
    halt(&state, ctx, id, "paused").await
}

/// Stops a campaign for good: no new calls; calls in progress finish.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/stop", tag = "campaigns",
    params(("id" = Uuid, Path)), responses((status = 200, body = CampaignDto), (status = 409)))]
pub async fn stop(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CampaignDto>> {
    halt(&state, ctx, id, "stopped").await
}

/// Checks and inserts contacts; numbers are normalised like the CRM's (the tenant's country
/// code for national numbers). Bad rows are reported, never inserted; good ones are kept.
async fn insert_contacts(
    ctx: &mut TenantCtx,
    id: Uuid,
    rows: Vec<(usize, ContactInput)>,
) -> ApiResult<ContactsAdded> {
    let status = status_of(ctx.db(), id).await?;
    if matches!(status.as_str(), "stopped" | "finished") {
        return Err(wrong_state(&status, "given new contacts"));
    }
    if rows.len() > MAX_CONTACTS {
        return Err(ApiError::BadRequest {
            code: "too_many_rows",
            detail: format!("at most {MAX_CONTACTS} contacts per request"),
        });
    }
    let cc = crate::crm::country_code(ctx.db()).await?;
    let mut errors = Vec::new();
    let (mut phones, mut names, mut zones, mut customers) = (vec![], vec![], vec![], vec![]);
    let mut seen = std::collections::HashSet::new();
    let mut duplicates = 0i64;
    for (line, r) in rows {
        let fail = |m: &str| ContactError {
            line,
            phone: r.phone.clone(),
            message: m.into(),
        };
        let Some(phone) = normalise_phone(&r.phone, cc.as_deref()) else {
            errors.push(fail(
                "not a phone number (give it in international form, like +994125550100)",
            ));
            continue;
        };
        if let Some(tz) = r.timezone.as_deref().filter(|t| !t.is_empty()) {
            if !is_zone(tz) {
                errors.push(fail("unknown time zone (use a name like Asia/Baku)"));
                continue;
            }
        }
        if r.name.chars().count() > 200 {
            errors.push(fail("the name is longer than 200 characters"));
            continue;
        }
        if !seen.insert(phone.clone()) {
            duplicates += 1;
            continue;
        }
        phones.push(phone);
        names.push(r.name.trim().to_string());
        zones.push(r.timezone.filter(|t| !t.is_empty()));
        customers.push(r.customer_id);
    }
    let mut added = 0i64;
    for a in (0..phones.len()).step_by(1000) {
        let b = (a + 1000).min(phones.len());
        let n = sqlx::query(
            "INSERT INTO campaign_contacts (campaign_id, phone, name, timezone, customer_id)
             SELECT $1, * FROM UNNEST($2::text[], $3::text[], $4::text[], $5::uuid[])
             ON CONFLICT (campaign_id, phone) DO NOTHING",
        )
        .bind(id)
        .bind(&phones[a..b])
        .bind(&names[a..b])
        .bind(&zones[a..b])
        .bind(&customers[a..b])
        .execute(ctx.db())
        .await?
        .rows_affected() as i64;
        duplicates += (b - a) as i64 - n;
        added += n;
    }
    ctx.audit(
        "campaign.contacts_add",
        Some("campaign"),
        Some(id.to_string()),
        serde_json::json!({ "added": added, "rejected": errors.len() }),
    )
    .await?;
    Ok(ContactsAdded {
        added,
        duplicates,
        errors,
    })
}

#[utoipa::path(post, path = "/api/v1/campaigns/{id}/contacts", tag = "campaigns",
    params(("id" = Uuid, Path)), request_body = Vec<ContactInput>,
    responses((status = 200, body = ContactsAdded), (status = 404), (status = 409)))]
pub async fn add_contacts(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(rows): Json<Vec<ContactInput>>,
) -> ApiResult<Json<ContactsAdded>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let rows = rows
        .into_iter()
        .enumerate()
        .map(|(i, r)| (i + 1, r))
        .collect();
    let out = insert_contacts(&mut ctx, id, rows).await?;
    ctx.commit().await?;
    Ok(Json(out))
}

/// Adds contacts from a CSV or XLSX file (first sheet): a `phone` column (required; also
/// `number`, `telephone`), optional `name` and `timezone` columns, matched by header
/// regardless of case. Rows that cannot be used are reported with their line.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/contacts/import", tag = "campaigns",
    params(("id" = Uuid, Path)), request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ContactsAdded), (status = 400), (status = 422)))]
pub async fn import_contacts(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    req: axum::extract::Request,
) -> ApiResult<Json<ContactsAdded>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let table = crate::routes::crm::upload(req).await?;
    let col = |names: &[&str]| table.column(names);
    let Some(phone) = col(&["phone", "number", "telephone", "phone number"]) else {
        return Err(ApiError::field(
            "file",
            "the file needs a column named phone (or number, telephone)",
        ));
    };
    let (name, tz) = (
        col(&["name", "full name"]),
        col(&["timezone", "time zone", "tz"]),
    );
    let mut rows = Vec::new();
    let mut unreadable = Vec::new();
    for r in &table.rows {
        match &r.cells {
            Ok(cells) => {
                let get = |i: Option<usize>| {
                    i.and_then(|i| cells.get(i))
                        .map(imp::Cell::text)
                        .unwrap_or_default()
                };
                rows.push((
                    r.line,
                    ContactInput {
                        phone: get(Some(phone)),
                        name: get(name),
                        timezone: Some(get(tz)).filter(|t| !t.is_empty()),
                        customer_id: None,
                    },
                ));
            }
            Err(e) => unreadable.push(ContactError {
                line: r.line,
                phone: String::new(),
                message: e.clone(),
            }),
        }
    }
    let mut out = insert_contacts(&mut ctx, id, rows).await?;
    out.errors.extend(unreadable);
    out.errors.sort_by_key(|e| e.line);
    ctx.commit().await?;
    Ok(Json(out))
}

/// Adds the customers a CRM search selects: free text like the customer list's search, and
/// exact values of the tenant's own fields. Each customer is called on the number with the
/// label asked for, else on their first; customers without a number are reported.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/contacts/from-customers", tag = "campaigns",
    params(("id" = Uuid, Path)), request_body = CustomerSelection,
    responses((status = 200, body = ContactsAdded), (status = 404), (status = 409), (status = 422)))]
pub async fn add_customers(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(sel): Json<CustomerSelection>,
) -> ApiResult<Json<ContactsAdded>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    ctx.require(perms::CRM_READ)?;
    status_of(ctx.db(), id).await?;
    let text = sel
        .q
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::field("q", "must be at most 200 characters"));
    }
    let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM customer_fields WHERE active")
        .fetch_all(ctx.db())
        .await?;
    if let Some(k) = sel.fields.keys().find(|k| !keys.contains(k)) {
        return Err(ApiError::field(
            "fields",
            format!("{k:?} is not a customer field of this tenant"),
        ));
    }
    if text.is_none() && sel.fields.is_empty() {
        return Err(ApiError::field(
            "q",
            "give a search or a field value: adding every customer is not a selection",
        ));
    }
    let (fkeys, fvals): (Vec<String>, Vec<String>) = sel
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.trim().to_lowercase()))
        .unzip();
    let pattern = text.as_deref().map(crate::routes::users::like_pattern);
    let rows: Vec<(Uuid, String, Option<String>)> = sqlx::query_as(
        "SELECT c.id, c.name,
                (SELECT p.number FROM customer_phones p WHERE p.customer_id = c.id
                  ORDER BY (p.label = $4) DESC, p.number LIMIT 1)
           FROM customers c
          WHERE c.merged_into IS NULL AND ($1::text IS NULL OR c.search_text LIKE $1)
            AND NOT EXISTS (
                SELECT 1 FROM unnest($2::text[], $3::text[]) AS f(k, v)
                 WHERE NOT (lower(c.fields ->> f.k) = f.v
                            OR (jsonb_typeof(c.fields -> f.k) = 'array'
                                AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(c.fields -> f.k) e
                                             WHERE lower(e) = f.v))))
          ORDER BY lower(c.name), c.id LIMIT $5",
    )
    .bind(&pattern)
    .bind(&fkeys)
    .bind(&fvals)
    .bind(sel.phone_label.as_deref().unwrap_or(""))
    .bind(MAX_CONTACTS as i64 + 1)
    .fetch_all(ctx.db())
    .await?;
    let mut no_phone = Vec::new();
    let mut contacts = Vec::new();
    for (i, (cid, name, phone)) in rows.into_iter().enumerate() {
        match phone {
            Some(p) => contacts.push((
                i + 1,
                ContactInput {
                    phone: p,
                    name,
                    timezone: None,
                    customer_id: Some(cid),
                },
            )),
            None => no_phone.push(ContactError {
                line: i + 1,
                phone: String::new(),
                message: format!("{name} has no phone number"),
            }),
        }
    }
    let mut out = insert_contacts(&mut ctx, id, contacts).await?;
    out.errors.extend(no_phone);
    out.errors.sort_by_key(|e| e.line);
    ctx.commit().await?;
    Ok(Json(out))
}

#[derive(sqlx::FromRow)]
pub(crate) struct ContactRow {
    id: Uuid,
    phone: String,
    name: String,
    timezone: Option<String>,
    customer_id: Option<Uuid>,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    last_outcome: Option<String>,
    dtmf: Option<String>,
    answers: serde_json::Value,
    agent_id: Option<Uuid>,
}

/// The columns of [`ContactRow`].
pub(crate) const CONTACT_COLUMNS: &str = "id, phone, name, timezone, customer_id, status,
    attempts, next_attempt_at, last_outcome, dtmf, answers, agent_id";

pub(crate) fn contact(r: ContactRow) -> ContactDto {
    ContactDto {
        id: r.id,
        phone: r.phone,
        name: r.name,
        timezone: r.timezone,
        customer_id: r.customer_id,
        next_attempt_at: (r.status == "pending").then_some(r.next_attempt_at),
        status: r.status,
        attempts: r.attempts,
        last_outcome: r.last_outcome,
        dtmf: r.dtmf,
        answers: serde_json::from_value(r.answers).unwrap_or_default(),
        agent_id: r.agent_id,
    }
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/contacts", tag = "campaigns",
    params(("id" = Uuid, Path), ContactQuery),
    responses((status = 200, body = Page<ContactDto>), (status = 404)))]
pub async fn contacts(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Query(q): Query<ContactQuery>,
) -> ApiResult<Json<Page<ContactDto>>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    status_of(ctx.db(), id).await?;
    let total: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_contacts WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)",
    )
    .bind(id)
    .bind(&q.status)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS}
           FROM campaign_contacts WHERE campaign_id = $1 AND ($2::text IS NULL OR status = $2)
          ORDER BY phone LIMIT $3 OFFSET $4"
    )))
    .bind(id)
    .bind(&q.status)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(contact).collect(),
        total,
        page,
        per_page,
    }))
}

/// A contact's attempt log, oldest first (skipped do-not-call attempts included).
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/contacts/{contact}/attempts", tag = "campaigns",
    params(("id" = Uuid, Path), ("contact" = Uuid, Path)),
    responses((status = 200, body = Vec<AttemptDto>), (status = 404)))]
pub async fn attempts(
    mut ctx: TenantCtx,
    Path((id, contact)): Path<(Uuid, Uuid)>,
) -> ApiResult<Json<Vec<AttemptDto>>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let known: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaign_contacts WHERE id = $2 AND campaign_id = $1)",
    )
    .bind(id)
    .bind(contact)
    .fetch_one(ctx.db())
    .await?;
    if !known {
        return Err(ApiError::NotFound);
    }
    #[derive(sqlx::FromRow)]
    struct Row {
        call_id: Uuid,
        started_at: DateTime<Utc>,
        answered_at: Option<DateTime<Utc>>,
        ended_at: Option<DateTime<Utc>>,
        outcome: Option<String>,
        sip_status: Option<i32>,
        dtmf: Option<String>,
        agent_id: Option<Uuid>,
        amd: Option<String>,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT call_id, started_at, answered_at, ended_at, outcome, sip_status, dtmf, agent_id,
                amd
           FROM campaign_attempts WHERE contact_id = $1 ORDER BY started_at, call_id",
    )
    .bind(contact)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AttemptDto {
                call_id: r.call_id,
                started_at: r.started_at,
                answered_at: r.answered_at,
                ended_at: r.ended_at,
                outcome: r.outcome,
                sip_status: r.sip_status,
                dtmf: r.dtmf,
                agent_id: r.agent_id,
                amd: r.amd,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/campaigns/{id}/results", tag = "campaigns",
    params(("id" = Uuid, Path)), responses((status = 200, body = CampaignResults), (status = 404)))]
pub async fn results(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<CampaignResults>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    status_of(ctx.db(), id).await?;
    let counts = counts(ctx.db(), id).await?;
    type H = (DateTime<Utc>, i64, i64, i64, i64, i64, i64, i64);
    let hours: Vec<H> = sqlx::query_as(
        "SELECT date_trunc('hour', started_at) AS h,
                count(*) FILTER (WHERE coalesce(outcome, '') <> ALL ($2)),
                count(*) FILTER (WHERE outcome IN ('answered', 'confirmed', 'not_confirmed',
                                                   'completed')),
                count(*) FILTER (WHERE outcome = 'confirmed'),
                count(*) FILTER (WHERE outcome = 'busy'),
                count(*) FILTER (WHERE outcome = 'no_answer'),
                count(*) FILTER (WHERE outcome = 'failed'),
                count(*) FILTER (WHERE outcome = 'abandoned')
           FROM campaign_attempts WHERE campaign_id = $1 GROUP BY h ORDER BY h",
    )
    .bind(id)
    .bind(crate::campaigns::REFUSED_OUTCOMES)
    .fetch_all(ctx.db())
    .await?;
    let script = load(ctx.db(), id).await?.input.script;
    let tally: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT a.key, a.value, count(*) FROM campaign_contacts k,
                LATERAL jsonb_each_text(k.answers) AS a(key, value)
          WHERE k.campaign_id = $1 GROUP BY a.key, a.value",
    )
    .bind(id)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    let answers = script
        .iter()
        .map(|q| {
            let of = |v: &str| {
                tally
                    .iter()
                    .filter(|(k, a, _)| *k == q.id && a == v)
                    .map(|t| t.2)
                    .sum::<i64>()
            };
            QuestionResult {
                id: q.id.clone(),
                text: q.text.clone(),
                options: q
                    .options
                    .iter()
                    .map(|o| (o.value.clone(), o.label.clone(), of(&o.value)))
                    .collect(),
                answered: tally.iter().filter(|t| t.0 == q.id).map(|t| t.2).sum(),
            }
        })
        .collect();
    Ok(Json(CampaignResults {
        answers,
        counts,
        hours: hours
            .into_iter()
            .map(|h| HourRow {
                hour: h.0,
                dialled: h.1,
                answered: h.2,
                confirmed: h.3,
                busy: h.4,
                no_answer: h.5,
                failed: h.6,
                abandoned: h.7,
            })
            .collect(),
    }))
}

/// Every contact with its status, attempts, last outcome and the key pressed, as CSV.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/export", tag = "campaigns",
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/csv", body = String), (status = 404)))]
pub async fn export(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Response> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    status_of(ctx.db(), id).await?;
    let rows: Vec<ContactRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM campaign_contacts WHERE campaign_id = $1 ORDER BY phone"
    )))
    .bind(id)
    .fetch_all(ctx.db())
    .await?;
    let script = load(ctx.db(), id).await?.input.script;
    ctx.commit().await?;
    // One column per script question (its id), after the fixed ones.
    let mut header: Vec<String> = [
        "phone",
        "name",
        "timezone",
        "status",
        "attempts",
        "last_outcome",
        "dtmf",
    ]
    .map(String::from)
    .to_vec();
    header.extend(script.iter().map(|q| q.id.clone()));
    let out: Vec<Vec<imp::Out>> = rows
        .into_iter()
        .map(|r| {
            let answers: std::collections::BTreeMap<String, String> =
                serde_json::from_value(r.answers).unwrap_or_default();
            let mut row = vec![
                imp::Out::Text(r.phone),
                imp::Out::Text(r.name),
                imp::Out::Text(r.timezone.unwrap_or_default()),
                imp::Out::Text(r.status),
                imp::Out::Text(r.attempts.to_string()),
                imp::Out::Text(r.last_outcome.unwrap_or_default()),
                imp::Out::Text(r.dtmf.unwrap_or_default()),
            ];
            row.extend(
                script
                    .iter()
                    .map(|q| imp::Out::Text(answers.get(&q.id).cloned().unwrap_or_default())),
            );
            row
        })
        .collect();
    let csv = imp::write_csv(&header, &out)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"campaign-{id}.csv\""),
            ),
        ],
        csv,
    )
        .into_response())
}

// ------------------------------------------------------------------ blocklist

fn direction(s: &str) -> ApiResult<Direction> {
    match s {
        "outbound" => Ok(Direction::Outbound),
        "inbound" => Ok(Direction::Inbound),
        _ => Err(ApiError::field("direction", "must be outbound or inbound")),
    }
}

/// Mirrors the tenant's list for `dir` to the gateways' Redis set (after the commit).
async fn mirror(
    state: &AppState,
    tenant: Uuid,
    dir: Direction,
    numbers: Vec<String>,
) -> ApiResult<()> {
    let key = blacklist_key(tenant, dir);
    let mut p = redis::pipe();
    p.atomic().del(&key);
    if !numbers.is_empty() {
        p.sadd(&key, numbers);
    }
    let mut r = state.redis();
    let _: () = p.query_async(&mut r).await?;
    Ok(())
}

async fn numbers(conn: &mut PgConnection, dir: &str) -> ApiResult<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT number FROM call_blocklist WHERE direction = $1")
            .bind(dir)
            .fetch_all(conn)
            .await?,
    )
}

#[utoipa::path(get, path = "/api/v1/blocklist", tag = "campaigns", params(BlocklistQuery),
    responses((status = 200, body = Vec<BlockedNumber>), (status = 403)))]
pub async fn blocklist(
    mut ctx: TenantCtx,
    Query(q): Query<BlocklistQuery>,
) -> ApiResult<Json<Vec<BlockedNumber>>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    if let Some(d) = &q.direction {
        direction(d)?;
    }
    let rows: Vec<(String, String, String, DateTime<Utc>)> = sqlx::query_as(
        "SELECT number, direction, reason, created_at FROM call_blocklist
          WHERE $1::text IS NULL OR direction = $1 ORDER BY direction, number LIMIT 10000",
    )
    .bind(&q.direction)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| BlockedNumber {
                number: r.0,
                direction: r.1,
                reason: r.2,
                created_at: Some(r.3),
            })
            .collect(),
    ))
}

async fn block_many(
    state: &AppState,
    mut ctx: TenantCtx,
    items: Vec<(usize, BlockedNumber)>,
) -> ApiResult<ContactsAdded> {
    let cc = crate::crm::country_code(ctx.db()).await?;
    let mut errors = Vec::new();
    let mut added = 0;
    let mut duplicates = 0;
    let mut dirs = std::collections::BTreeSet::new();
    for (line, b) in items {
        let fail = |m: &str| ContactError {
            line,
            phone: b.number.clone(),
            message: m.into(),
        };
        if direction(&b.direction).is_err() {
            errors.push(fail("direction must be outbound or inbound"));
            continue;
        }
        let Some(number) = normalise_phone(&b.number, cc.as_deref()) else {
            errors.push(fail(
                "not a phone number (give it in international form, like +994125550100)",
            ));
            continue;
        };
        let n = sqlx::query(
            "INSERT INTO call_blocklist (number, direction, reason, created_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&number)
        .bind(&b.direction)
        .bind(b.reason.chars().take(200).collect::<String>())
        .bind(ctx.user_id())
        .execute(ctx.db())
        .await?
        .rows_affected();
        if n == 0 {
            duplicates += 1;
        } else {
            added += 1;
        }
        dirs.insert(b.direction.clone());
    }
    ctx.audit(
        "blocklist.add",
        Some("blocklist"),
        None,
        serde_json::json!({ "added": added, "rejected": errors.len() }),
    )
    .await?;
    let tenant = ctx.tenant().id;
    let mut lists = Vec::new();
    for d in dirs {
        lists.push((direction(&d)?, numbers(ctx.db(), &d).await?));
    }
    ctx.commit().await?;
    for (d, n) in lists {
        mirror(state, tenant, d, n).await?;
    }
    Ok(ContactsAdded {
        added,
        duplicates,
        errors,
    })
}

/// Blocks one number (`direction` outbound = do not call, inbound = refuse its calls).
#[utoipa::path(post, path = "/api/v1/blocklist", tag = "campaigns", request_body = BlockedNumber,
    responses((status = 201, body = BlockedNumber), (status = 422)))]
pub async fn block(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(b): Json<BlockedNumber>,
) -> ApiResult<(StatusCode, Json<BlockedNumber>)> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    direction(&b.direction)?;
    let cc = crate::crm::country_code(ctx.db()).await?;
    let number = normalise_phone(&b.number, cc.as_deref())
        .ok_or_else(|| ApiError::field("number", "is not a phone number"))?;
    let out = block_many(&state, ctx, vec![(1, b.clone())]).await?;
    if let Some(e) = out.errors.first() {
        return Err(ApiError::field("number", e.message.clone()));
    }
    Ok((
        StatusCode::CREATED,
        Json(BlockedNumber {
            number,
            created_at: None,
            ..b
        }),
    ))
}

/// Blocks the numbers of a CSV or XLSX file: a `number` (or `phone`) column, optional
/// `reason`; `direction` is a query parameter (default outbound).
#[utoipa::path(post, path = "/api/v1/blocklist/import", tag = "campaigns", params(BlocklistQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ContactsAdded), (status = 400), (status = 422)))]
pub async fn import_blocklist(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Query(q): Query<BlocklistQuery>,
    req: axum::extract::Request,
) -> ApiResult<Json<ContactsAdded>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let dir = q.direction.unwrap_or_else(|| "outbound".into());
    direction(&dir)?;
    let table = crate::routes::crm::upload(req).await?;
    let col = |names: &[&str]| table.column(names);
    let Some(num) = col(&["number", "phone", "telephone"]) else {
        return Err(ApiError::field(
            "file",
            "the file needs a column named number (or phone)",
        ));
    };
    let reason = col(&["reason", "note"]);
    let items = table
        .rows
        .iter()
        .map(|r| {
            let cells = r.cells.as_ref().ok();
            let get = |i: Option<usize>| {
                i.and_then(|i| cells.and_then(|c| c.get(i)))
                    .map(imp::Cell::text)
                    .unwrap_or_default()
            };
            (
                r.line,
                BlockedNumber {
                    number: get(Some(num)),
                    direction: dir.clone(),
                    reason: get(reason),
                    created_at: None,
                },
            )
        })
        .collect();
    Ok(Json(block_many(&state, ctx, items).await?))
}

#[utoipa::path(delete, path = "/api/v1/blocklist/{direction}/{number}", tag = "campaigns",
    params(("direction" = String, Path), ("number" = String, Path, description = "E.164")),
    responses((status = 204), (status = 404)))]
pub async fn unblock(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path((dir, number)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let d = direction(&dir)?;
    let n = sqlx::query("DELETE FROM call_blocklist WHERE direction = $1 AND number = $2")
        .bind(&dir)
        .bind(&number)
        .execute(ctx.db())
        .await?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "blocklist.remove",
        Some("blocklist"),
        Some(format!("{dir}/{number}")),
        serde_json::json!({}),
    )
    .await?;
    let tenant = ctx.tenant().id;
    let list = numbers(ctx.db(), &dir).await?;
    ctx.commit().await?;
    mirror(&state, tenant, d, list).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rules_dto(ctx: &mut TenantCtx) -> ApiResult<OutboundRulesDto> {
    let tenant = ctx.tenant().id;
    let r = dial_policy::rules(ctx.db(), tenant)
        .await
        .map_err(ApiError::internal)?;
    let mine = dial_policy::tenant_rules(ctx.db())
        .await
        .map_err(ApiError::internal)?;
    let mut blocked: Vec<String> = dial_policy::BUILTIN_BLOCKED
        .iter()
        .map(|(p, _)| p.to_string())
        .collect();
    let caller_ids = r.caller_ids();
    blocked.extend(r.blocked);
    Ok(OutboundRulesDto {
        trial: r.trial,
        countries: r.countries,
        blocked_prefixes: blocked,
        max_calls: if r.trial {
            r.max_calls.min(dial_policy::TRIAL_LINES)
        } else {
            r.max_calls
        },
        calls_per_day: r.trial.then_some(dial_policy::TRIAL_CALLS_PER_DAY),
        minutes_per_day: r.trial.then_some(dial_policy::TRIAL_MINUTES_PER_DAY),
        caller_ids,
        tenant: mine,
        calls_per_second: r.cps,
    })
}

/// The outbound rules in force: countries that may be called, blocked prefixes, limits, the
/// numbers campaigns may show. Set by the platform operator; the tenant can only narrow them.
#[utoipa::path(get, path = "/api/v1/outbound-rules", tag = "campaigns",
    responses((status = 200, body = OutboundRulesDto), (status = 403)))]
pub async fn outbound_rules(mut ctx: TenantCtx) -> ApiResult<Json<OutboundRulesDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let d = rules_dto(&mut ctx).await?;
    ctx.commit().await?;
    Ok(Json(d))
}

/// The tenant's own narrowing: the countries it wants to call (out of those the platform
/// allows; others given are a 422) and prefixes it refuses besides the platform's.
#[utoipa::path(put, path = "/api/v1/outbound-rules", tag = "campaigns",
    request_body = TenantOutboundRules,
    responses((status = 200, body = OutboundRulesDto), (status = 403), (status = 422)))]
pub async fn put_outbound_rules(
    mut ctx: TenantCtx,
    Json(req): Json<TenantOutboundRules>,
) -> ApiResult<Json<OutboundRulesDto>> {
    ctx.require(perms::CAMPAIGNS_WRITE)?;
    let mut c = Check::new();
    let tenant = ctx.tenant().id;
    let platform: Option<Vec<String>> = sqlx::query_scalar(
        "SELECT coalesce(outbound_countries,
                         (SELECT ARRAY[value->>'country_code'] FROM settings WHERE key = 'crm'
                           AND value->>'country_code' IS NOT NULL),
                         '{}')
           FROM platform.tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(ctx.db())
    .await?;
    let platform = platform.unwrap_or_default();
    if let Some(list) = &req.countries {
        if list.len() > 300 {
            c.fail("countries", "at most 300 country codes");
        }
        for (i, cc) in list.iter().enumerate() {
            if !dial_policy::is_country_code(cc) {
                c.fail(
                    &format!("countries.{i}"),
                    "a country calling code is 1 to 3 digits, like 994",
                );
            } else if !platform.contains(cc) {
                c.fail(
                    &format!("countries.{i}"),
                    format!("+{cc} is not allowed by the platform; only the platform operator can allow it"),
                );
            }
        }
    }
    if req.blocked_prefixes.len() > 1000 {
        c.fail("blocked_prefixes", "at most 1000 prefixes");
    }
    for (i, p) in req.blocked_prefixes.iter().enumerate() {
        if !dial_policy::is_prefix(p) {
            c.fail(
                &format!("blocked_prefixes.{i}"),
                "a prefix is + and 1 to 14 digits, like +99490",
            );
        }
    }
    c.finish()?;
    let value =
        serde_json::to_value(&req).map_err(|e| ApiError::internal(anyhow::Error::from(e)))?;
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('outbound', $1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(&value)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "settings.outbound",
        Some("settings"),
        Some("outbound".into()),
        value,
    )
    .await?;
    let d = rules_dto(&mut ctx).await?;
    ctx.commit().await?;
    Ok(Json(d))
}
