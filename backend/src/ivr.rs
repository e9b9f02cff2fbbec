//! Runs tenants' IVR flows for calls the gateways hand to the backend (`mode: backend`): on
//! `call_started` the number's published flow (or the tenant's default) starts, each gateway
//! event moves it on, and its actions become gateway commands, ACD operations (route to a
//! queue) and rows in the missed-calls list. A call's position (`hotline_flows::Run`, the flow
//! version it started with) lives in Redis, so calls survive a backend restart and any
//! backend process can take the next event.

use crate::{db, state::AppState};
use hotline_acd::{redis_acd, Op, QueueRec};
use hotline_flows::{Action, Flow, Input, Run};
use hotline_wire::gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use uuid::Uuid;

/// A call under a flow, as kept in Redis between events.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CallState {
    pub gateway_id: String,
    pub flow_id: Uuid,
    pub version: i32,
    pub caller: String,
    pub did: String,
    pub run: Run,
    /// Handed to the ACD (its queue id).
    pub queue: Option<String>,
    /// An outbound campaign's call (no flow): leaving the queue is no missed call.
    #[serde(default)]
    pub campaign: Option<Uuid>,
}

/// Redis key of a call's flow state.
pub fn call_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:ivr:call:{call}")
}

fn bridge_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:ivr:bridge:{leg}")
}

/// The outside leg a call was transferred to (the reverse of [`bridge_key`]).
fn outside_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:ivr:outside:{call}")
}

/// The ACD keys of a tenant.
pub fn acd_keys(tenant: Uuid) -> redis_acd::Keys {
    redis_acd::Keys::for_tenant(&tenant.to_string())
}

const STATE_TTL_SECS: u64 = 86_400;

pub(crate) fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

/// Handles one gateway event (ignores calls that are not under a backend flow).
/// The built-in music on hold.
pub const BUILTIN_MOH: &str = "moh";

/// What `tenant`'s callers hear while they wait (queue, hold, transfer, consultation): the
/// prompt the tenant chose (settings key `music_on_hold`), else the built-in music.
pub async fn music_on_hold(state: &AppState, tenant: Uuid) -> anyhow::Result<String> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let chosen: Option<String> = sqlx::query_scalar(
        "SELECT value->>'prompt' FROM settings WHERE key = 'music_on_hold'
            AND EXISTS (SELECT 1 FROM ivr_prompts WHERE name = value->>'prompt')",
    )
    .fetch_optional(&mut *tx)
    .await?
    .flatten();
    tx.commit().await?;
    Ok(chosen.unwrap_or_else(|| BUILTIN_MOH.to_string()))
}

/// Loops the tenant's music on hold to `call`.
pub async fn play_music_on_hold(
    state: &AppState,
    tenant: Uuid,
    gw: &str,
    call: Uuid,
) -> anyhow::Result<()> {
    let moh = GatewayCommand::MusicOnHold {
        call_id: call,
        prompt: music_on_hold(state, tenant).await?,
    };
    command(state, gw, &moh).await
}

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

/// Appends a command to the gateway's command stream.
pub(crate) async fn command(
    state: &AppState,
    gateway_id: &str,
    cmd: &GatewayCommand,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: String = r
        .xadd(
            wire::command_stream(gateway_id),
            "*",
            &[(wire::STREAM_FIELD, serde_json::to_string(cmd)?)],
        )
        .await?;
    Ok(())
}

/// Places an outbound leg: its CDR row first, then the gateway's `originate`.
pub(crate) async fn originate(
    state: &AppState,
    tenant: Uuid,
    leg: crate::cdr::OutboundLeg<'_>,
) -> anyhow::Result<()> {
    let cmd = GatewayCommand::Originate {
        call_id: leg.leg,
        tenant_id: tenant,
        caller: leg.caller.to_string(),
        callee: leg.callee.to_string(),
    };
    let gw = leg.gateway_id.to_string();
    crate::cdr::outbound_leg(state, tenant, leg).await?;
    command(state, &gw, &cmd).await
}

/// A call's flow state, if it is under a backend flow.
pub(crate) async fn load(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> anyhow::Result<Option<CallState>> {
    let mut r = state.redis();
    let raw: Option<String> = r.get(call_key(tenant, call)).await?;
    Ok(raw.map(|s| serde_json::from_str(&s)).transpose()?)
}

pub(crate) async fn store(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    cs: &CallState,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            call_key(tenant, call),
            serde_json::to_string(cs)?,
            STATE_TTL_SECS,
        )
        .await?;
    Ok(())
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

/// Writes (or bumps) the caller's missed-calls entry with `reason` (`abandoned`,
/// `callback_request`, `voicemail`, `max_wait`); every reason but `abandoned` is also the
/// call's CDR outcome.
pub(crate) async fn missed(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    cs: &CallState,
    reason: &str,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    // One open entry per number: a repeat caller bumps its count and latest call; a callback
    // request or voicemail outranks an abandoned call (or one the queue gave up on) as the
    // reason shown.
    sqlx::query(
        "INSERT INTO missed_calls (number, did, reason, call_id, vars) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (number) WHERE handled_at IS NULL DO UPDATE
            SET count = missed_calls.count + 1, last_at = now(), did = excluded.did,
                call_id = excluded.call_id, vars = missed_calls.vars || excluded.vars,
                reason = CASE WHEN excluded.reason = 'abandoned' THEN missed_calls.reason
                              WHEN excluded.reason = 'max_wait'
                               AND missed_calls.reason IN ('callback_request', 'voicemail')
                              THEN missed_calls.reason
                              ELSE excluded.reason END",
    )
    .bind(&cs.caller)
    .bind(&cs.did)
    .bind(reason)
    .bind(call)
    .bind(serde_json::to_value(&cs.run.vars)?)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    if reason != "abandoned" {
        crate::cdr::outcome(state, tenant, call, reason).await?;
    }
    Ok(())
}

/// A call's priority in the ACD, which offers waiting calls highest priority first across
/// every queue (then in arrival order): the queue's own priority (0–100) first — an agent
/// serving several queues takes the higher queue's callers first — then the priority the flow
/// (or a campaign) gives the call within it (0–255).
pub fn call_priority(queue_priority: i32, within: u8) -> u64 {
    queue_priority.clamp(0, 100) as u64 * 1_000 + u64::from(within)
}

/// Loads the tenant's queues into the ACD (configuration only; calls and agents stay).
/// Returns each queue's name, id and priority.
pub(crate) async fn sync_queues(
    state: &AppState,
    tenant: Uuid,
) -> anyhow::Result<Vec<(String, String, i32)>> {
    #[derive(sqlx::FromRow)]
    struct Q {
        id: Uuid,
        name: String,
        strategy: String,
        max_wait_seconds: i32,
        wrap_up_seconds: i32,
        overflow_queue_id: Option<Uuid>,
        max_wait_action: String,
        priority: i32,
        skills: String,
    }
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let queues: Vec<Q> = sqlx::query_as(
        "SELECT q.id, q.name, q.strategy, q.max_wait_seconds, q.wrap_up_seconds,
                q.overflow_queue_id, q.max_wait_action, q.priority,
                coalesce(string_agg(s.name || '=' || qs.min_level, ',' ORDER BY s.name), '') AS skills
           FROM queues q
           LEFT JOIN queue_skills qs ON qs.queue_id = q.id
           LEFT JOIN skills s ON s.id = qs.skill_id
          GROUP BY q.id",
    )
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut con = state.redis();
    let script = redis_acd::script();
    let keys = acd_keys(tenant);
    let mut names = Vec::new();
    for q in queues {
        let cfg = QueueRec {
            // Ring-all is not in the ACD model yet: such queues offer to the longest idle.
            strategy: match q.strategy.as_str() {
                "skills_based" => "skills",
                "round_robin" => "round_robin",
                "fewest_calls" => "fewest_calls",
                _ => "longest_idle",
            }
            .into(),
            skills: q.skills,
            ring_timeout_ms: state.cfg.ring_timeout_secs.max(1) * 1000,
            max_wait_ms: q.max_wait_seconds as u64 * 1000,
            overflow: crate::queue_exit::acd_overflow(
                q.max_wait_seconds,
                hotline_wire::api::MaxWaitAction::parse(&q.max_wait_action).unwrap_or_default(),
                q.overflow_queue_id,
            ),
            wrapup_ms: q.wrap_up_seconds as u64 * 1000,
            last_agent: String::new(),
        };
        redis_acd::apply_async(
            &mut con,
            &script,
            &keys,
            now_ms(),
            &Op::Queue {
                id: q.id.to_string(),
                cfg,
            },
        )
        .await?;
        names.push((q.name, q.id.to_string(), q.priority));
    }
    Ok(names)
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
                play_music_on_hold(state, tenant, &gw, call).await?;
                // Stored before the ACD sees the call: an immediate offer needs its gateway.
                cs.queue = Some(qid.clone());
                store(state, tenant, call, cs).await?;
                crate::cdr::queued(state, tenant, call, qid, &cs.run.vars).await?;
                let arrive = Op::Arrive {
                    call: call.to_string(),
                    queue: qid.clone(),
                    priority: call_priority(*queue_priority, priority),
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

/// Dials `number` through the gateway's trunk for `call` (showing `did`, the number the caller
/// called); answered, the caller is bridged to it (see `on_event`). Returns the new leg.
pub(crate) async fn dial_out(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    gw: &str,
    did: &str,
    number: &str,
) -> anyhow::Result<Uuid> {
    let leg = Uuid::new_v4();
    let mut r = state.redis();
    let _: () = r
        .set_ex(bridge_key(tenant, leg), call.to_string(), STATE_TTL_SECS)
        .await?;
    let _: () = r
        .set_ex(outside_key(tenant, call), leg.to_string(), STATE_TTL_SECS)
        .await?;
    let rec = crate::cdr::OutboundLeg {
        leg,
        parent: Some(call),
        caller: did,
        callee: number,
        agent: None,
        gateway_id: gw,
    };
    originate(state, tenant, rec).await?;
    Ok(leg)
}

/// Hangs up `leg` when `call` ends (a consultation in progress), without the reverse.
pub(crate) async fn watch_outside_leg(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    leg: Uuid,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(outside_key(tenant, call), leg.to_string(), STATE_TTL_SECS)
        .await?;
    Ok(())
}

/// Forgets [`watch_outside_leg`].
pub(crate) async fn unwatch_outside_leg(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(outside_key(tenant, call)).await?;
    Ok(())
}

/// `call` and `leg` are now one conversation: either ending ends the other.
pub(crate) async fn join_outside_leg(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    leg: Uuid,
) -> anyhow::Result<()> {
    watch_outside_leg(state, tenant, call, leg).await?;
    let mut r = state.redis();
    let _: () = r
        .set_ex(bridge_key(tenant, leg), call.to_string(), STATE_TTL_SECS)
        .await?;
    Ok(())
}

/// A transfer to an outside number ends whole: when the outside leg ends (after talking, or
/// because the number did not answer) the caller is hung up too, not left hearing nothing;
/// when the caller hangs up, so is the outside leg.
async fn outside_leg_ended(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    let orig: Option<String> = r.get(bridge_key(tenant, call)).await?;
    let outside: Option<String> = r.get(outside_key(tenant, call)).await?;
    let (other, gw) = match (orig.and_then(|o| o.parse::<Uuid>().ok()), outside) {
        (Some(orig), _) => {
            let _: () = r.del(bridge_key(tenant, call)).await?;
            let _: () = r.del(outside_key(tenant, orig)).await?;
            (
                orig,
                load(state, tenant, orig).await?.map(|cs| cs.gateway_id),
            )
        }
        (None, Some(leg)) => {
            let Ok(leg) = leg.parse::<Uuid>() else {
                return Ok(());
            };
            let _: () = r.del(outside_key(tenant, call)).await?;
            let _: () = r.del(bridge_key(tenant, leg)).await?;
            (
                leg,
                load(state, tenant, call).await?.map(|cs| cs.gateway_id),
            )
        }
        (None, None) => return Ok(()),
    };
    if let Some(gw) = gw {
        let cmd = GatewayCommand::Hangup {
            call_id: other,
            status: None,
        };
        command(state, &gw, &cmd).await?;
    }
    Ok(())
}

async fn hangup(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    outside_leg_ended(state, tenant, call).await?;
    let Some(cs) = load(state, tenant, call).await? else {
        return Ok(());
    };
    if cs.queue.is_some() {
        let mut con = state.redis();
        let res = redis_acd::apply_async(
            &mut con,
            &redis_acd::script(),
            &acd_keys(tenant),
            now_ms(),
            &Op::Hangup {
                call: call.to_string(),
            },
        )
        .await;
        match res {
            Ok(evs) => {
                if cs.campaign.is_none()
                    && evs
                        .iter()
                        .any(|e| e.ev == "abandoned" && e.call == call.to_string())
                {
                    missed(state, tenant, call, &cs, "abandoned").await?;
                }
                crate::dispatch::on_acd_events(state, tenant, evs).await?;
            }
            Err(redis_acd::RedisAcdError::Acd(hotline_acd::AcdError::UnknownCall)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let mut r = state.redis();
    let _: () = r.del(call_key(tenant, call)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::call_priority;

    #[test]
    fn the_queue_priority_comes_first_then_the_flows() {
        assert!(call_priority(1, 0) > call_priority(0, 255));
        assert!(call_priority(5, 2) > call_priority(5, 1));
        assert_eq!(call_priority(0, 0), 0);
        // Out-of-range queue priorities (the API keeps 0–100) are clamped, never wrap.
        assert_eq!(call_priority(-3, 7), 7);
        assert_eq!(call_priority(1_000, 0), call_priority(100, 0));
    }
}
