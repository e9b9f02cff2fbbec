//! The agent's call control beyond answer/hang-up (hold, unhold, blind transfer, wrap-up) and
//! the call detail records (`/calls`): the agent's own call history, everything for
//! supervisors. The CDRs themselves are written by `crate::cdr`.

use crate::{
    auth::TenantCtx,
    dispatch,
    error::{ApiError, ApiResult, Json},
    routes::paging,
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use hotline_acd::{AcdError, Op};
use hotline_calls::control::{Input, Refused};
use hotline_wire::{
    api::Page,
    calls::{
        AgentEvent, CallbackStarted, CdrDetailDto, CdrDto, CdrEventDto, CdrQuery, ClickToCall,
        DirectoryAgent, DirectoryQueue, TransferDirectory, TransferRequest, WrapUpRequest,
    },
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/agent/calls/{call_id}/hold", post(hold))
        .route("/agent/calls/{call_id}/unhold", post(unhold))
        .route("/agent/calls/{call_id}/transfer", post(transfer))
        .route("/agent/calls/{call_id}/dtmf", post(dtmf))
        .route("/agent/calls/{call_id}/consult", post(consult))
        .route(
            "/agent/calls/{call_id}/consult/{action}",
            post(consult_action),
        )
        .route("/agent/calls/{call_id}/wrapup", post(wrapup))
        .route("/agent/directory", get(directory))
        .route("/missed-calls/{id}/callback", post(callback))
        .route("/click-to-call", post(click_to_call))
        .route("/calls", get(list))
        .route("/calls/{call_id}", get(get_call))
}

/// A number an agent may dial: normalised like the CRM's (the tenant's country code for
/// national numbers; 422 when it is none), and not on the do-not-call list (409).
pub(crate) async fn callable_number(conn: &mut sqlx::PgConnection, raw: &str) -> ApiResult<String> {
    let cc = crate::crm::country_code(&mut *conn).await?;
    let Some(number) = crate::crm::normalise_phone(raw, cc.as_deref()) else {
        return Err(ApiError::field(
            "number",
            "not a phone number (give it in international form, like +994125550100)",
        ));
    };
    let blocked: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM call_blocklist WHERE direction = 'outbound' AND number = $1)",
    )
    .bind(&number)
    .fetch_one(&mut *conn)
    .await?;
    if blocked {
        return Err(ApiError::Conflict {
            code: "do_not_call",
            detail: format!("{number} is on the do-not-call list"),
        });
    }
    Ok(number)
}

/// `ext:<extension>` of an active employee, or a 422 on `extension`.
async fn employee_extension(conn: &mut sqlx::PgConnection, ext: &str) -> ApiResult<String> {
    let ext = ext.trim();
    let known: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE extension = $1 AND active)")
            .bind(ext)
            .fetch_one(&mut *conn)
            .await?;
    if !known {
        return Err(ApiError::field(
            "extension",
            "no active user has this extension",
        ));
    }
    Ok(format!("ext:{ext}"))
}

/// The outbound rules (`dial_policy`) for a consultation or transfer to `callee` from `call`:
/// the leg shows the number the call came in on (or the campaign's caller ID), which must still
/// be the tenant's; the destination and the limits as for any outbound call. 422 when refused.
async fn outside_call_allowed(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    callee: &str,
) -> ApiResult<()> {
    if !crate::dial_policy::is_outside(callee) {
        return Ok(());
    }
    let shown = crate::call_io::load(state, tenant, call)
        .await
        .map_err(ApiError::internal)?
        .map(|cs| cs.did);
    crate::dial_policy::require(state, tenant, shown.as_deref(), callee, "number").await
}

/// The caller's agent, tenant and the gateway of the call, once it is checked that the call is
/// connected to this agent right now.
async fn my_connected_call(
    state: &AppState,
    ctx: TenantCtx,
    call_id: Uuid,
) -> ApiResult<(Uuid, Uuid, String)> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    // An ACD call the agent is connected to, or a call they placed (callback, click-to-call,
    // internal call: not the ACD's).
    let placed = crate::callback::current(state, tenant, user)
        .await
        .map_err(ApiError::internal)?
        == Some(call_id);
    if !placed && crate::agents::agent_call(state, tenant, user).await? != Some(call_id) {
        return Err(ApiError::Conflict {
            code: "not_your_call",
            detail: "this call is not connected to you".into(),
        });
    }
    let gw = match crate::call_io::gateway_of(state, tenant, call_id)
        .await
        .map_err(ApiError::internal)?
    {
        Some(gw) => Some(gw),
        None if placed => crate::call_control::load(state, tenant, call_id)
            .await
            .map_err(ApiError::internal)?
            .map(|r| r.gateway_id),
        None => None,
    };
    let gw = gw.ok_or(ApiError::Conflict {
        code: "call_gone",
        detail: "the call has ended".into(),
    })?;
    Ok((user, tenant, gw))
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/hold", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call")),
    responses((status = 204, description = "On hold: the caller hears music, the agent nothing"),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn hold(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let (_, tenant, _) = my_connected_call(&state, ctx, call_id).await?;
    // The call's machine refuses a second hold (one step at a time under the call's lock);
    // the desktop is told "held" once the gateway has cut the bridge (`call_control`).
    control(&state, tenant, call_id, Input::Hold, None)
        .await
        .map_err(|e| match e {
            ApiError::Conflict {
                code: "already" | "consult_in_progress",
                ..
            } => ApiError::Conflict {
                code: "already_held",
                detail: "the call is already on hold".into(),
            },
            other => other,
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Feeds an agent's action to the call's machine: a refusal is a 409 naming why.
async fn control(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    input: Input,
    dial: Option<(Uuid, crate::call_control::Dial)>,
) -> ApiResult<()> {
    let fed = crate::call_control::feed(state, tenant, call, input, dial)
        .await
        .map_err(ApiError::internal)?;
    let Err(Refused(code)) = fed else {
        return Ok(());
    };
    let detail = match code {
        "consult_in_progress" => "finish the consultation in progress first",
        "no_consult" => "there is no consultation on this call",
        "consult_not_answered" => "the consulted party has not answered yet",
        "in_conference" => "leave the conference first",
        "already" => "the call is already in that state",
        "no_call" | "call_ended" => "the call has ended",
        _ => "this call is not connected to you",
    };
    let code = match code {
        "no_call" | "call_ended" => "call_gone",
        "not_connected" => "not_your_call",
        other => other,
    };
    Err(ApiError::Conflict {
        code,
        detail: detail.into(),
    })
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/unhold", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's held call")),
    responses((status = 204, description = "Off hold: caller and agent hear each other again"),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn unhold(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    let (_, tenant, _) = my_connected_call(&state, ctx, call_id).await?;
    control(&state, tenant, call_id, Input::Resume, None)
        .await
        .map_err(|e| match e {
            ApiError::Conflict {
                code: "already", ..
            } => ApiError::Conflict {
                code: "not_held",
                detail: "the call is not on hold".into(),
            },
            other => other,
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/consult", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call")),
    request_body = hotline_wire::calls::ConsultRequest,
    responses((status = 201, body = CallbackStarted, description = "The caller holds; the consulted party is being dialled"),
        (status = 409, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn consult(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
    Json(body): Json<hotline_wire::calls::ConsultRequest>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    ctx.require(perms::AGENT_STATE)?;
    let callee = match (&body.number, &body.extension) {
        (Some(n), None) => callable_number(ctx.db(), n).await?,
        (None, Some(e)) => employee_extension(ctx.db(), e).await?,
        _ => {
            return Err(ApiError::field(
                "number",
                "give an outside number or a colleague's extension (one of them)",
            ))
        }
    };
    outside_call_allowed(&state, ctx.tenant().id, call_id, &callee).await?;
    let (user, tenant, _) = my_connected_call(&state, ctx, call_id).await?;
    let leg = Uuid::new_v4();
    let dial = crate::call_control::Dial {
        callee: callee.clone(),
        agent: Some(user),
    };
    control(
        &state,
        tenant,
        call_id,
        Input::Consult { leg },
        Some((leg, dial)),
    )
    .await?;
    let details = serde_json::json!({ "callee": callee });
    crate::cdr::action(&state, tenant, call_id, "consult", user, details)
        .await
        .map_err(ApiError::internal)?;
    let ev = AgentEvent::Held {
        call_id,
        held: true,
    };
    crate::desktop::publish(&state, tenant, user, &ev).await;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id: leg })))
}

/// The consultation's next step: `transfer` (the caller goes to the consulted party; from a
/// conference: the agent leaves the other two), `conference` (all three) or `cancel` (the
/// consulted party is hung up, the caller is back with the agent — from a conference too).
#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/consult/{action}", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call"),
           ("action" = String, Path, description = "transfer, conference or cancel")),
    responses((status = 204), (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem)))]
pub async fn consult_action(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path((call_id, action)): Path<(Uuid, String)>,
) -> ApiResult<StatusCode> {
    if !matches!(action.as_str(), "transfer" | "conference" | "cancel") {
        return Err(ApiError::NotFound);
    }
    let (user, tenant, _) = my_connected_call(&state, ctx, call_id).await?;
    let (input, kind) = match action.as_str() {
        // From the conference, "transfer" is the agent leaving the other two together.
        "transfer" => (Input::CompleteTransfer, Some("consult_transferred")),
        "conference" => (Input::Conference, Some("conference")),
        _ => (Input::CancelConsult, None),
    };
    control(&state, tenant, call_id, input, None)
        .await
        .map_err(|e| match e {
            ApiError::Conflict {
                code: "consult_not_answered",
                ..
            } => ApiError::Conflict {
                code: "consult_not_answered",
                detail: format!("the consulted party has not answered: nothing to {action} yet"),
            },
            other => other,
        })?;
    if let Some(kind) = kind {
        crate::cdr::action(&state, tenant, call_id, kind, user, serde_json::json!({}))
            .await
            .map_err(ApiError::internal)?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/dtmf", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call")),
    request_body = hotline_wire::calls::DtmfRequest,
    responses((status = 204, description = "Sent to the other party"),
        (status = 409, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn dtmf(
    State(state): State<AppState>,
    ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
    Json(body): Json<hotline_wire::calls::DtmfRequest>,
) -> ApiResult<StatusCode> {
    if !hotline_wire::calls::is_dtmf(&body.digits) {
        return Err(ApiError::field("digits", "1 to 32 keys of 0-9, *, #, A-D"));
    }
    let (_, _, gw) = my_connected_call(&state, ctx, call_id).await?;
    let cmd = hotline_wire::gateway::GatewayCommand::SendDtmf {
        call_id,
        digits: body.digits,
    };
    crate::call_io::command(&state, &gw, &cmd)
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/transfer", tag = "agent",
    params(("call_id" = Uuid, Path, description = "The agent's connected call")),
    request_body = TransferRequest,
    responses((status = 204, description = "Transferred: the caller hears music until the next agent answers; this agent goes to wrap-up"),
        (status = 409, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn transfer(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
    Json(body): Json<TransferRequest>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    if body.number.is_some() || body.extension.is_some() {
        let others = body.queue_id.is_some() || body.agent_id.is_some();
        let number = match (&body.number, &body.extension) {
            (Some(_), Some(_)) => {
                return Err(ApiError::field(
                    "extension",
                    "give an outside number or an extension, not both",
                ))
            }
            _ if others => {
                return Err(ApiError::field(
                    "number",
                    "an outside number or an extension goes alone, without a queue or an agent",
                ))
            }
            (Some(number), _) => callable_number(ctx.db(), number).await?,
            (_, Some(ext)) => employee_extension(ctx.db(), ext).await?,
            (None, None) => return Err(ApiError::field("number", "give a number")),
        };
        outside_call_allowed(&state, ctx.tenant().id, call_id, &number).await?;
        let (user, tenant, _) = my_connected_call(&state, ctx, call_id).await?;
        // The caller leaves the ACD (the agent to wrap-up), hears music while the number
        // rings, and is bridged to it when it answers; either end ends the other.
        let leg = Uuid::new_v4();
        let dial = crate::call_control::Dial {
            callee: number.clone(),
            agent: None,
        };
        control(
            &state,
            tenant,
            call_id,
            Input::TransferOut { leg },
            Some((leg, dial)),
        )
        .await?;
        let details = serde_json::json!({ "number": number });
        crate::cdr::action(&state, tenant, call_id, "transferred_out", user, details)
            .await
            .map_err(ApiError::internal)?;
        tracing::info!(%tenant, call = %call_id, %number, "transferred to an outside number or an extension");
        return Ok(StatusCode::NO_CONTENT);
    }
    let mut c = Check::new();
    if body.queue_id.is_none() && body.agent_id.is_none() {
        c.fail("queue_id", "name a queue, an agent, an outside number");
    }
    if let Some(q) = body.queue_id {
        let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM queues WHERE id = $1)")
            .bind(q)
            .fetch_one(ctx.db())
            .await?;
        if !known {
            c.fail("queue_id", "no such queue");
        }
    }
    if let Some(a) = body.agent_id {
        let known: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND active)")
                .bind(a)
                .fetch_one(ctx.db())
                .await?;
        if !known {
            c.fail("agent_id", "no such active user");
        } else if Some(a) == ctx.user_id() {
            c.fail("agent_id", "you cannot transfer a call to yourself");
        }
    }
    c.finish()?;
    let (user, tenant, _gw) = my_connected_call(&state, ctx, call_id).await?;
    // The target queue must be known to the ACD (queues are loaded when calls use them).
    crate::call_io::sync_queues(&state, tenant)
        .await
        .map_err(ApiError::internal)?;
    let details = serde_json::json!({ "queue_id": body.queue_id, "agent_id": body.agent_id });
    let op = Op::Transfer {
        call: call_id.to_string(),
        queue: body.queue_id.map(|q| q.to_string()).unwrap_or_default(),
        agent: body.agent_id.map(|a| a.to_string()).unwrap_or_default(),
    };
    match dispatch::acd(&state, tenant, op).await {
        Ok(()) => {}
        Err(AcdError::UnknownAgent) => {
            return Err(ApiError::field(
                "agent_id",
                "that agent is not logged in to take calls",
            ))
        }
        Err(AcdError::NotConnected | AcdError::UnknownCall) => {
            return Err(ApiError::Conflict {
                code: "not_your_call",
                detail: "this call is not connected to you".into(),
            })
        }
        Err(e) => return Err(ApiError::internal(anyhow::anyhow!("ACD: {e}"))),
    }
    crate::cdr::action(&state, tenant, call_id, "transfer_requested", user, details)
        .await
        .map_err(ApiError::internal)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/agent/calls/{call_id}/wrapup", tag = "agent",
    params(("call_id" = Uuid, Path, description = "A call this agent handled")),
    request_body = WrapUpRequest,
    responses((status = 204, description = "Disposition saved (and Ready, when asked)"),
        (status = 404, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn wrapup(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
    Json(body): Json<WrapUpRequest>,
) -> ApiResult<StatusCode> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let mut c = Check::new();
    c.text("disposition", &body.disposition, 64);
    if let Some(n) = &body.notes {
        c.max_len("notes", n, 4_000);
    }
    c.finish()?;
    // Only a call the agent handled, within a day of its end. The call's own disposition is
    // the last agent's; an agent who handed the call on adds theirs to the timeline only.
    let handled: Option<bool> = sqlx::query_scalar(
        "SELECT c.agent_id = $2 FROM cdrs c
          WHERE c.call_id = $1
            AND (c.agent_id = $2 OR EXISTS (SELECT 1 FROM cdr_events e WHERE e.call_id = $1
                                              AND e.agent_id = $2 AND e.kind = 'connected'))
            AND (c.ended_at IS NULL OR c.ended_at > now() - make_interval(hours => $3))",
    )
    .bind(call_id)
    .bind(user)
    .bind(crate::cdr::WRAPUP_WINDOW_HOURS)
    .fetch_optional(ctx.db())
    .await?;
    let Some(last_agent) = handled else {
        return Err(ApiError::NotFound);
    };
    if last_agent {
        sqlx::query("UPDATE cdrs SET disposition = $2, wrapup_notes = $3 WHERE call_id = $1")
            .bind(call_id)
            .bind(body.disposition.trim())
            .bind(body.notes.as_deref())
            .execute(ctx.db())
            .await?;
    }
    crate::cdr::timeline(
        ctx.db(),
        call_id,
        "wrapped_up",
        Some(user),
        serde_json::json!({ "disposition": body.disposition.trim(), "notes": body.notes }),
    )
    .await?;
    ctx.audit(
        "call.wrapup",
        Some("call"),
        Some(call_id.to_string()),
        serde_json::json!({ "disposition": body.disposition.trim() }),
    )
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    if body.ready
        && crate::agents::agent_acd_state(&state, tenant, user)
            .await
            .map_err(ApiError::internal)?
            == "wrap_up"
    {
        dispatch::agent_state(&state, tenant, user, "ready", "").await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/api/v1/missed-calls/{id}/callback", tag = "agent",
    params(("id" = Uuid, Path, description = "A missed-calls entry")),
    responses((status = 201, body = CallbackStarted, description = "Dialling the customer; answered, they are bridged into the softphone"),
        (status = 404, body = hotline_wire::api::Problem), (status = 409, body = hotline_wire::api::Problem)))]
pub async fn callback(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let already = || ApiError::Conflict {
        code: "already_handled",
        detail: "someone has already called this number back".into(),
    };
    let open: Option<bool> =
        sqlx::query_scalar("SELECT handled_at IS NULL FROM missed_calls WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    match open {
        None => return Err(ApiError::NotFound),
        Some(false) => return Err(already()),
        Some(true) => {}
    }
    let ready = crate::callback::preflight(&state, tenant, user).await?;
    // Claim the entry: one agent calls back, the list shows it handled.
    let leg = Uuid::new_v4();
    let claimed: Option<(String, String)> = sqlx::query_as(
        "UPDATE missed_calls SET handled_at = now(), handled_by = $2, callback_call_id = $3,
                attempts = attempts + 1
          WHERE id = $1 AND handled_at IS NULL RETURNING number, did",
    )
    .bind(id)
    .bind(user)
    .bind(leg)
    .fetch_optional(ctx.db())
    .await?;
    let Some((number, did)) = claimed else {
        return Err(already());
    };
    ctx.audit(
        "missed_call.callback",
        Some("missed_call"),
        Some(id.to_string()),
        serde_json::json!({ "number": number, "call_id": leg }),
    )
    .await?;
    ctx.commit().await?;
    let c = crate::callback::Claimed {
        owner: hotline_calls::control::Owner::Callback,
        missed: Some(id),
        leg,
        number: &number,
        did: &did,
    };
    crate::callback::dial(&state, tenant, user, ready, c).await?;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id: leg })))
}

/// Click-to-call: the agent's softphone (already connected) takes the call while the gateway
/// dials the number through the trunk, showing the tenant's first number as the caller. A
/// number on the tenant's do-not-call list is refused (409 `do_not_call`).
#[utoipa::path(post, path = "/api/v1/click-to-call", tag = "agent", request_body = ClickToCall,
    responses((status = 201, body = CallbackStarted, description = "Dialling; answered, the customer is bridged into the softphone"),
        (status = 403, body = hotline_wire::api::Problem), (status = 409, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn click_to_call(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<ClickToCall>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    let me = ctx.user_id();
    let agent = match (req.agent_id, me) {
        (None, Some(me)) => {
            ctx.require(perms::AGENT_STATE)?;
            me
        }
        (Some(a), Some(me)) if a == me => {
            ctx.require(perms::AGENT_STATE)?;
            me
        }
        (Some(a), _) => {
            ctx.require(perms::SUPERVISE)?;
            a
        }
        (None, None) => {
            return Err(ApiError::field(
                "agent_id",
                "an API key must name the agent",
            ))
        }
    };
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE id = $1 AND active)")
            .bind(agent)
            .fetch_one(ctx.db())
            .await?;
    if !exists {
        return Err(ApiError::field("agent_id", "no such agent"));
    }
    let number = callable_number(ctx.db(), &req.number).await?;
    let tenant = ctx.tenant().id;
    // The tenant's first own number, else the first number it verified (`verify`).
    let did: Option<String> = sqlx::query_scalar(
        "(SELECT did FROM platform.dids WHERE tenant_id = $1 ORDER BY did LIMIT 1)
         UNION ALL
         (SELECT number FROM caller_id_verifications WHERE verified_at IS NOT NULL
           ORDER BY number LIMIT 1)
         LIMIT 1",
    )
    .bind(tenant)
    .fetch_optional(ctx.db())
    .await?;
    let Some(did) = did else {
        return Err(ApiError::Conflict {
            code: "no_number",
            detail: "the tenant has no phone number to show as the caller (verify one under \
                     Settings → Outbound calling)"
                .into(),
        });
    };
    let ready = crate::callback::preflight(&state, tenant, agent).await?;
    let leg = Uuid::new_v4();
    ctx.audit(
        "call.click_to_call",
        Some("call"),
        Some(leg.to_string()),
        serde_json::json!({ "number": number, "agent_id": agent }),
    )
    .await?;
    ctx.commit().await?;
    let c = crate::callback::Claimed {
        owner: hotline_calls::control::Owner::ClickToCall,
        missed: None,
        leg,
        number: &number,
        did: &did,
    };
    crate::callback::dial(&state, tenant, agent, ready, c).await?;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id: leg })))
}

#[utoipa::path(get, path = "/api/v1/agent/directory", tag = "agent",
    responses((status = 200, body = TransferDirectory), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn directory(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
) -> ApiResult<Json<TransferDirectory>> {
    ctx.require(perms::AGENT_STATE)?;
    let me = ctx.user_id();
    let queues: Vec<(Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM queues ORDER BY lower(name)")
            .fetch_all(ctx.db())
            .await?;
    // Colleagues whose role lets them take calls (built-in or custom roles).
    #[derive(sqlx::FromRow)]
    struct Person {
        id: Uuid,
        name: String,
        extension: Option<String>,
        role_key: Option<String>,
        role_perms: Vec<String>,
    }
    let people: Vec<Person> = sqlx::query_as(
        "SELECT u.id, u.name, u.extension, r.builtin_key AS role_key,
                r.permissions AS role_perms
           FROM users u JOIN roles r ON r.id = u.role_id
          WHERE u.active ORDER BY lower(u.name)",
    )
    .fetch_all(ctx.db())
    .await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    let live = crate::agents::agent_acd_states(&state, tenant)
        .await
        .map_err(ApiError::internal)?;
    let mut agents = vec![];
    for Person {
        id,
        name,
        extension,
        role_key,
        role_perms,
    } in people
    {
        let takes_calls = crate::auth::role_permissions(role_key.as_deref(), role_perms)
            .iter()
            .any(|p| p == perms::AGENT_STATE);
        if !takes_calls || Some(id) == me {
            continue;
        }
        agents.push(DirectoryAgent {
            id,
            name,
            extension,
            state: live
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "logged_out".into()),
        });
    }
    Ok(Json(TransferDirectory {
        queues: queues
            .into_iter()
            .map(|(id, name)| DirectoryQueue { id, name })
            .collect(),
        agents,
    }))
}

#[derive(sqlx::FromRow)]
struct CdrRow {
    call_id: Uuid,
    parent_id: Option<Uuid>,
    direction: String,
    caller: String,
    callee: String,
    arrived_at: chrono::DateTime<chrono::Utc>,
    answered_at: Option<chrono::DateTime<chrono::Utc>>,
    queued_at: Option<chrono::DateTime<chrono::Utc>>,
    queue_id: Option<Uuid>,
    queue_name: Option<String>,
    offered_at: Option<chrono::DateTime<chrono::Utc>>,
    agent_id: Option<Uuid>,
    agent_name: Option<String>,
    connected_at: Option<chrono::DateTime<chrono::Utc>>,
    ended_at: Option<chrono::DateTime<chrono::Utc>>,
    hangup_cause: Option<String>,
    outcome: Option<String>,
    disposition: Option<String>,
    wrapup_notes: Option<String>,
    transfers: i32,
    vars: serde_json::Value,
    recording_ms: Option<i64>,
}

impl From<CdrRow> for CdrDto {
    fn from(r: CdrRow) -> Self {
        CdrDto {
            recording_url: r
                .recording_ms
                .map(|_| format!("/api/v1/recordings/{}/audio", r.call_id)),
            call_id: r.call_id,
            parent_id: r.parent_id,
            direction: r.direction,
            caller: r.caller,
            callee: r.callee,
            arrived_at: r.arrived_at,
            answered_at: r.answered_at,
            queued_at: r.queued_at,
            queue_id: r.queue_id,
            queue_name: r.queue_name,
            offered_at: r.offered_at,
            agent_id: r.agent_id,
            agent_name: r.agent_name,
            connected_at: r.connected_at,
            ended_at: r.ended_at,
            hangup_cause: r.hangup_cause,
            outcome: r.outcome,
            disposition: r.disposition,
            wrapup_notes: r.wrapup_notes,
            transfers: r.transfers,
            vars: r.vars,
            recording_ms: r.recording_ms,
        }
    }
}

const SELECT: &str = "SELECT c.call_id, c.parent_id, c.direction, c.caller, c.callee, c.arrived_at,
        c.answered_at, c.queued_at, c.queue_id, q.name AS queue_name, c.offered_at, c.agent_id,
        u.name AS agent_name, c.connected_at, c.ended_at, c.hangup_cause, c.outcome,
        c.disposition, c.wrapup_notes, c.transfers, c.vars, r.duration_ms AS recording_ms
   FROM cdrs c
   LEFT JOIN queues q ON q.id = c.queue_id
   LEFT JOIN users u ON u.id = c.agent_id
   LEFT JOIN recordings r ON r.call_id = c.call_id";

/// `$1` = the agent whose calls only may be seen (NULL: all).
const MINE: &str = "($1::uuid IS NULL OR c.agent_id = $1 OR EXISTS (
        SELECT 1 FROM cdr_events e WHERE e.call_id = c.call_id AND e.agent_id = $1))";

/// Who may see which calls: supervisors and recording readers all, agents their own.
fn visible_to(ctx: &TenantCtx) -> ApiResult<Option<Uuid>> {
    if ctx.can(perms::SUPERVISE) || ctx.can(perms::RECORDINGS_READ) {
        return Ok(None);
    }
    ctx.require(perms::AGENT_STATE)?;
    ctx.user_id().map(Some).ok_or(ApiError::Forbidden)
}

#[utoipa::path(get, path = "/api/v1/calls", tag = "calls", params(CdrQuery),
    responses((status = 200, body = Page<CdrDto>), (status = 403, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn list(mut ctx: TenantCtx, Query(q): Query<CdrQuery>) -> ApiResult<Json<Page<CdrDto>>> {
    let only = visible_to(&ctx)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let mut c = Check::new();
    if let Some(d) = &q.direction {
        if !["inbound", "outbound", "internal"].contains(&d.as_str()) {
            c.fail("direction", "inbound, outbound or internal");
        }
    }
    if let Some(n) = &q.number {
        c.max_len("number", n, 32);
    }
    if let Some(o) = &q.outcome {
        if !hotline_wire::calls::CALL_OUTCOMES.contains(&o.as_str()) {
            c.fail(
                "outcome",
                format!("one of {}", hotline_wire::calls::CALL_OUTCOMES.join(", ")),
            );
        }
    }
    if let Some(d) = &q.disposition {
        c.max_len("disposition", d, 64);
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to <= from {
            c.fail("to", "after from");
        }
    }
    c.finish()?;
    let filter = format!(
        "{MINE} AND ($2::timestamptz IS NULL OR c.arrived_at >= $2)
           AND ($3::timestamptz IS NULL OR c.arrived_at < $3)
           AND ($4::uuid IS NULL OR c.agent_id = $4)
           AND ($5::uuid IS NULL OR c.queue_id = $5)
           AND ($6::text IS NULL OR c.outcome = $6)
           AND ($7::text IS NULL OR c.direction = $7)
           AND ($8::text IS NULL OR strpos(c.caller || ' ' || c.callee, $8) > 0)
           AND ($9::text IS NULL OR c.disposition = $9)"
    );
    let disposition = q
        .disposition
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    let number = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM cdrs c WHERE {filter}"
    )))
    .bind(only)
    .bind(q.from)
    .bind(q.to)
    .bind(q.agent_id)
    .bind(q.queue_id)
    .bind(q.outcome.as_deref())
    .bind(q.direction.as_deref())
    .bind(number)
    .bind(disposition)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<CdrRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {filter} ORDER BY c.arrived_at DESC, c.call_id LIMIT $10 OFFSET $11"
    )))
    .bind(only)
    .bind(q.from)
    .bind(q.to)
    .bind(q.agent_id)
    .bind(q.queue_id)
    .bind(q.outcome.as_deref())
    .bind(q.direction.as_deref())
    .bind(number)
    .bind(disposition)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(CdrDto::from).collect(),
        total,
        page,
        per_page,
    }))
}

#[derive(sqlx::FromRow)]
struct EventRow {
    at: chrono::DateTime<chrono::Utc>,
    kind: String,
    agent_id: Option<Uuid>,
    details: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/calls/{call_id}", tag = "calls",
    params(("call_id" = Uuid, Path, description = "Call id")),
    responses((status = 200, body = CdrDetailDto), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn get_call(
    mut ctx: TenantCtx,
    Path(call_id): Path<Uuid>,
) -> ApiResult<Json<CdrDetailDto>> {
    let only = visible_to(&ctx)?;
    let row: Option<CdrRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {MINE} AND c.call_id = $2"
    )))
    .bind(only)
    .bind(call_id)
    .fetch_optional(ctx.db())
    .await?;
    let Some(row) = row else {
        return Err(ApiError::NotFound);
    };
    let events: Vec<EventRow> = sqlx::query_as(
        "SELECT at, kind, agent_id, details FROM cdr_events WHERE call_id = $1 ORDER BY id",
    )
    .bind(call_id)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(CdrDetailDto {
        cdr: row.into(),
        events: events
            .into_iter()
            .map(|e| CdrEventDto {
                at: e.at,
                kind: e.kind,
                agent_id: e.agent_id,
                details: e.details,
            })
            .collect(),
    }))
}

/// Whether the caller may play this call's recording: `recordings.read`, or an agent who
/// handled the call.
pub async fn may_play(ctx: &mut TenantCtx, call_id: Uuid) -> ApiResult<()> {
    if ctx.can(perms::RECORDINGS_READ) {
        return Ok(());
    }
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let mine: bool = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM cdrs c WHERE {MINE} AND c.call_id = $2)"
    )))
    .bind(Some(user))
    .bind(call_id)
    .fetch_one(ctx.db())
    .await?;
    if mine {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}
