//! Runs tenants' IVR flows for calls the gateways hand to the backend (`mode: backend`): on
//! `call_started` the number's published flow (or the tenant's default) starts, each gateway
//! event moves it on, and its actions become gateway commands, ACD operations (route to a
//! queue) and rows in the missed-calls list. A call's position (`hotline_flows::Run`, the flow
//! version it started with) lives in its Redis record ([`crate::call_io::CallState`]), so calls
//! survive a backend restart.

use crate::call_io::call_key;
use crate::call_io::{
    bridge_key, command, dial_out, load, missed, outside_key, store, sync_queues, CallState,
};
use crate::{db, state::AppState};
use hotline_acd::Op;
use hotline_flows::{Action, Flow, Input, Run};
use hotline_wire::gateway::{FlowMode, GatewayCommand, GatewayEvent};
use redis::AsyncCommands;
use std::collections::{BTreeMap, VecDeque};
use uuid::Uuid;

/// Handles one gateway event (ignores calls that are not under a backend flow).
pub async fn on_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    match ev {
        GatewayEvent::CallStarted {
            gateway_id,
            call_id,
            tenant_id,
            caller,
            did,
            mode: FlowMode::Backend,
            ..
        } => start(state, gateway_id, *call_id, *tenant_id, caller, did).await,
        GatewayEvent::PlaybackFinished {
            call_id, tenant_id, ..
        } => feed(state, *tenant_id, *call_id, Input::PlaybackFinished).await,
        GatewayEvent::DigitsCollected {
            call_id,
            tenant_id,
            digits,
            ..
        } => {
            let input = Input::Digits {
                digits: digits.clone(),
            };
            feed(state, *tenant_id, *call_id, input).await
        }
        GatewayEvent::CallAnswered {
            call_id, tenant_id, ..
        } => {
            // An outbound leg of a transfer: bridge it to the caller waiting for it.
            let mut r = state.redis();
            let orig: Option<String> = r.get(bridge_key(*tenant_id, *call_id)).await?;
            if let Some(orig) = orig.and_then(|o| o.parse::<Uuid>().ok()) {
                if let Some(cs) = load(state, *tenant_id, orig).await? {
                    command(
                        state,
                        &cs.gateway_id,
                        &GatewayCommand::Bridge {
                            call_id: orig,
                            target: call_id.to_string(),
                        },
                    )
                    .await?;
                }
            }
            Ok(())
        }
        GatewayEvent::Hangup {
            call_id, tenant_id, ..
        } => {
            if let Some(code) = crate::dial_policy::gateway_refusal(ev) {
                if gateway_refused_transfer(state, *tenant_id, *call_id, code).await? {
                    return Ok(());
                }
            }
            hangup(state, *tenant_id, *call_id).await
        }
        _ => Ok(()),
    }
}

/// A transfer the outbound rules refused: a `transfer_refused` entry on the call's timeline
/// (the node, the number, the refusal's code and reason) and the flow's next actions (the
/// transfer node's `failed` branch, else hang-up).
#[allow(clippy::too_many_arguments)]
async fn transfer_refused(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    flow: &Flow,
    cs: &mut CallState,
    number: &str,
    code: &str,
    detail: &str,
) -> anyhow::Result<Vec<Action>> {
    let details = serde_json::json!({ "number": number, "code": code, "detail": detail });
    if let Err(e) = lookup_timeline(state, tenant, call, "transfer_refused", details).await {
        tracing::warn!(%tenant, %call, error = %e, "timeline entry not written");
    }
    Ok(cs.run.transfer_failed(flow, chrono::Utc::now()))
}

/// The outside leg of an IVR transfer was refused by its gateway (the tenant's limits, checked
/// again there): instead of hanging up the caller, their flow goes on at the transfer's
/// `failed` branch. `false` when `leg` is not such a leg.
async fn gateway_refused_transfer(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    code: &str,
) -> anyhow::Result<bool> {
    let mut r = state.redis();
    let orig: Option<String> = r.get(bridge_key(tenant, leg)).await?;
    let Some(call) = orig.and_then(|o| o.parse::<Uuid>().ok()) else {
        return Ok(false);
    };
    let Some(mut cs) = load(state, tenant, call).await? else {
        return Ok(false);
    };
    if cs.campaign.is_some() || cs.flow_id.is_nil() {
        return Ok(false);
    }
    let _: () = r.del(bridge_key(tenant, leg)).await?;
    let _: () = r.del(outside_key(tenant, call)).await?;
    let flow = graph(state, tenant, cs.flow_id, cs.version).await?;
    let detail = match code {
        "outbound_rate_limit" => "the gateway refused the call: calls per second at the limit",
        _ => "the gateway refused the call: outbound calls at once at the limit",
    };
    let callee: Option<String> = {
        let mut t = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
        let c = sqlx::query_scalar("SELECT callee FROM cdrs WHERE call_id = $1")
            .bind(leg)
            .fetch_optional(&mut *t)
            .await?;
        t.commit().await?;
        c
    };
    let actions = transfer_refused(
        state,
        tenant,
        call,
        &flow,
        &mut cs,
        callee.as_deref().unwrap_or(""),
        code,
        detail,
    )
    .await?;
    execute(state, tenant, call, &flow, &mut cs, actions).await?;
    store(state, tenant, call, &cs).await?;
    Ok(true)
}

async fn graph(state: &AppState, tenant: Uuid, flow: Uuid, version: i32) -> anyhow::Result<Flow> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let g: serde_json::Value = sqlx::query_scalar(
        "SELECT graph FROM ivr_flow_versions WHERE flow_id = $1 AND version = $2",
    )
    .bind(flow)
    .bind(version)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(serde_json::from_value(g)?)
}

async fn start(
    state: &AppState,
    gateway_id: &str,
    call: Uuid,
    tenant: Uuid,
    caller: &str,
    did: &str,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let chosen: Option<(Uuid, i32, serde_json::Value)> = sqlx::query_as(
        "SELECT f.id, f.published_version, v.graph
           FROM ivr_flows f
           JOIN ivr_flow_versions v ON v.flow_id = f.id AND v.version = f.published_version
          WHERE f.id = COALESCE((SELECT flow_id FROM ivr_did_flows WHERE did = $1),
                                (SELECT id FROM ivr_flows WHERE is_default))",
    )
    .bind(did)
    .fetch_optional(&mut *tx)
    .await?;
    tx.commit().await?;
    let Some((flow_id, version, g)) = chosen else {
        tracing::warn!(%tenant, %did, "no published flow for this number: 480");
        return command(
            state,
            gateway_id,
            &GatewayCommand::Hangup {
                call_id: call,
                status: Some(480),
            },
        )
        .await;
    };
    let flow: Flow = serde_json::from_value(g)?;
    command(state, gateway_id, &GatewayCommand::Answer { call_id: call }).await?;
    let vars = BTreeMap::from([
        ("caller".to_string(), caller.to_string()),
        ("did".to_string(), did.to_string()),
    ]);
    let (run, actions) = Run::start(&flow, vars, chrono::Utc::now());
    let mut cs = CallState {
        gateway_id: gateway_id.to_string(),
        flow_id,
        version,
        caller: caller.to_string(),
        did: did.to_string(),
        run,
        queue: None,
        campaign: None,
    };
    execute(state, tenant, call, &flow, &mut cs, actions).await?;
    store(state, tenant, call, &cs).await
}

async fn feed(state: &AppState, tenant: Uuid, call: Uuid, input: Input) -> anyhow::Result<()> {
    let Some(mut cs) = load(state, tenant, call).await? else {
        return Ok(());
    };
    if cs.run.ended() {
        return Ok(());
    }
    let flow = graph(state, tenant, cs.flow_id, cs.version).await?;
    let actions = cs.run.on_input(&flow, &input, chrono::Utc::now());
    execute(state, tenant, call, &flow, &mut cs, actions).await?;
    store(state, tenant, call, &cs).await
}

/// A failed or refused HTTP lookup on the call's timeline.
async fn lookup_timeline(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    kind: &str,
    details: serde_json::Value,
) -> anyhow::Result<()> {
    let mut t = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    crate::cdr::timeline(&mut t, call, kind, None, details).await?;
    t.commit().await?;
    Ok(())
}

async fn execute(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    flow: &Flow,
    cs: &mut CallState,
    actions: Vec<Action>,
) -> anyhow::Result<()> {
    let mut todo: VecDeque<Action> = actions.into();
    let gw = cs.gateway_id.clone();
    while let Some(action) = todo.pop_front() {
        match action {
            Action::Play { prompt } => {
                let cmd = GatewayCommand::Play {
                    call_id: call,
                    prompt,
                    interruptible: false,
                };
                command(state, &gw, &cmd).await?
            }
            Action::Collect {
                prompt,
                min,
                max,
                timeout_ms,
                terminator,
            } => {
                let cmd = GatewayCommand::CollectDigits {
                    call_id: call,
                    prompt,
                    min,
                    max,
                    timeout_ms,
                    terminator,
                };
                command(state, &gw, &cmd).await?
            }
            Action::Http { url, timeout_ms } => {
                // Through the one outbound policy: a refused destination is never contacted,
                // goes on the call's timeline, and the flow takes its error branch.
                let timeout = std::time::Duration::from_millis(timeout_ms as u64);
                let result = match crate::outbound::Policy::for_tenant(state, tenant).await {
                    Ok(policy) => policy
                        .get_json::<serde_json::Value>(&url, None, timeout)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(format!("outbound policy: {e}")),
                };
                if let Err(e) = &result {
                    tracing::info!(%tenant, %call, error = %e, "IVR HTTP lookup failed");
                    let host = url::Url::parse(&url)
                        .ok()
                        .and_then(|u| u.host_str().map(String::from))
                        .unwrap_or_default();
                    let kind = if e.starts_with("refused:") {
                        "http_lookup_refused"
                    } else {
                        "http_lookup_failed"
                    };
                    let details = serde_json::json!({
                        "node": cs.run.node.clone(),
                        "host": host,
                        "error": e,
                    });
                    if let Err(err) = lookup_timeline(state, tenant, call, kind, details).await {
                        tracing::warn!(%tenant, %call, error = %err, "timeline entry not written");
                    }
                }
                let more = cs
                    .run
                    .on_input(flow, &Input::Http { result }, chrono::Utc::now());
                todo.extend(more);
            }
            Action::Queue { queue, priority } => {
                let queues = sync_queues(state, tenant).await?;
                let Some((_, qid, queue_priority)) = queues
                    .iter()
                    .find(|(name, id, _)| name.eq_ignore_ascii_case(&queue) || *id == queue)
                else {
                    tracing::warn!(%tenant, %call, %queue, "flow routes to a missing queue: voicemail");
                    let vm = GatewayCommand::RecordVoicemail {
                        call_id: call,
                        max_ms: 120_000,
                    };
                    missed(state, tenant, call, cs, "voicemail").await?;
                    command(state, &gw, &vm).await?;
                    continue;
                };
                // Stored before the ACD sees the call: an immediate offer needs its gateway.
                cs.queue = Some(qid.clone());
                store(state, tenant, call, cs).await?;
                // The call's machine takes it (music on hold) before the ACD offers it.
                let queued = crate::call_control::feed(
                    state,
                    tenant,
                    call,
                    hotline_calls::control::Input::Queued,
                    None,
                )
                .await?;
                if let Err(why) = queued {
                    tracing::warn!(%tenant, %call, reason = why.0, "call not queued");
                    continue;
                }
                crate::cdr::queued(state, tenant, call, qid, &cs.run.vars).await?;
                let arrive = Op::Arrive {
                    call: call.to_string(),
                    queue: qid.clone(),
                    priority: hotline_calls::call_priority(*queue_priority, priority),
                };
                if let Err(e) = crate::dispatch::acd(state, tenant, arrive).await {
                    tracing::error!(%tenant, %call, error = %e, "ACD refused the call");
                }
            }
            Action::Voicemail { max_ms } => {
                missed(state, tenant, call, cs, "voicemail").await?;
                let cmd = GatewayCommand::RecordVoicemail {
                    call_id: call,
                    max_ms,
                };
                command(state, &gw, &cmd).await?
            }
            Action::CallbackRequest => missed(state, tenant, call, cs, "callback_request").await?,
            Action::Transfer { number } => {
                // Judged like any call to an outside number (`dial_policy`: destination,
                // caller ID, limits, trial, calls per second); refused → the call's timeline
                // says why and the flow takes the transfer's `failed` branch.
                let verdict =
                    crate::dial_policy::check(state, tenant, Some(&cs.did), &number).await?;
                match verdict {
                    Ok(()) => {
                        dial_out(state, tenant, call, &gw, &cs.did, &number).await?;
                    }
                    Err(refusal) => {
                        tracing::info!(%tenant, %call, %number, code = refusal.code(), "IVR transfer refused");
                        let more = transfer_refused(
                            state,
                            tenant,
                            call,
                            flow,
                            cs,
                            &number,
                            refusal.code(),
                            &refusal.detail(),
                        )
                        .await?;
                        todo.extend(more);
                    }
                }
            }
            Action::Hangup => {
                let cmd = GatewayCommand::Hangup {
                    call_id: call,
                    status: None,
                };
                command(state, &gw, &cmd).await?
            }
        }
    }
    Ok(())
}

async fn hangup(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    crate::call_io::outside_leg_ended(state, tenant, call).await?;
    let Some(cs) = load(state, tenant, call).await? else {
        return Ok(());
    };
    // A queued call's machine ends it: the ACD, the agent, the other legs, the missed call.
    let input = hotline_calls::control::Input::CallerHungUp;
    let fed = crate::call_control::feed(state, tenant, call, input, None).await?;
    if fed.is_err() && cs.queue.is_some() {
        // Queued before the call had a machine (an upgrade in flight): the ACD lets it go.
        let op = Op::Hangup {
            call: call.to_string(),
        };
        if let Err(e) = crate::dispatch::acd(state, tenant, op).await {
            tracing::info!(%tenant, %call, error = ?e, "call already out of the ACD");
        }
    }
    let mut r = state.redis();
    let _: () = r.del(call_key(tenant, call)).await?;
    Ok(())
}
