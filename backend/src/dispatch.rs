//! Connects the ACD to real phones: agents' state changes become ACD operations; an ACD
//! `offered` rings the agent's registered SIP phone (the gateway originates to
//! `ext:<extension>`); its answer connects the two legs (ACD `answer`, then the gateway bridges
//! them); a leg that fails or rings too long goes back to the ACD (`reject` / ring-no-answer,
//! so the call returns to the head of its queue); whichever side hangs up ends the other.
//! A ring-all call rings several agents, so the legs are kept per offer (call and agent): the
//! answered one becomes the call's leg, the others' `offer_cancelled` hangs them up (the phone
//! gets a CANCEL) and withdraws their desktop offers.
//! A once-a-second tick drives ring timeouts, wrap-up ends and overflow.
//! An agent with a browser softphone (`softphone`) is offered the call on the desktop instead;
//! their accept answers it in the ACD and the call is bridged into the softphone's WebRTC leg,
//! which stays up after the call. The offer names the call's gateway: a leg on another gateway
//! moves there (the desktop renegotiates) and the call is bridged once it has.

use crate::call_io::gateway_of;
use crate::{
    call_io::{command, now_ms},
    db,
    state::AppState,
};
use hotline_acd::{redis_acd, AcdError, Event, Op};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway::{self as wire, GatewayCommand};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Prefix of the agent-leg marker of a call offered to a browser softphone
/// (`softphone:<agent id>`).
const SOFTPHONE_LEG: &str = "softphone:";

/// Tenants with ACD activity (ticked every second).
pub const TENANTS_KEY: &str = "acd:tenants";

/// One agent leg: which caller it serves, for which agent.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Leg {
    call: Uuid,
    agent: Uuid,
    answered: bool,
}

fn leg_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:acd:leg:{leg}")
}

/// The leg of the agent connected to `call` (their answered offer's leg).
fn leg_of_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:acd:legof:{call}")
}

/// The leg ringing `agent` for `call` while they are offered it (a SIP phone leg's id or the
/// softphone marker): one per agent, as a ring-all call rings several at once.
fn offer_key(tenant: Uuid, call: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:acd:offer:{call}:{agent}")
}

/// Reads and deletes a key.
async fn take(
    r: &mut redis::aio::ConnectionManager,
    key: String,
) -> redis::RedisResult<Option<String>> {
    redis::cmd("GETDEL").arg(key).query_async(r).await
}

/// Applies one ACD operation for the tenant and acts on its events.
pub async fn acd(state: &AppState, tenant: Uuid, op: Op) -> Result<(), AcdError> {
    let mut con = state.redis();
    let _: Result<(), _> = con.sadd(TENANTS_KEY, tenant.to_string()).await;
    let evs = redis_acd::apply_async(
        &mut con,
        &redis_acd::script(),
        &crate::call_io::acd_keys(tenant),
        now_ms(),
        &op,
    )
    .await
    .map_err(|e| match e {
        redis_acd::RedisAcdError::Acd(a) => a,
        other => {
            tracing::error!(%tenant, error = %other, "ACD step failed");
            AcdError::BadValue
        }
    })?;
    if let Err(e) = on_acd_events(state, tenant, evs).await {
        tracing::error!(%tenant, error = %e, "acting on ACD events failed");
    }
    Ok(())
}

async fn hang_up(state: &AppState, gw: &str, call: Uuid) -> anyhow::Result<()> {
    let cmd = GatewayCommand::Hangup {
        call_id: call,
        status: None,
    };
    command(state, gw, &cmd).await
}

/// Marks a call the agent has put on hold (cleared when it is bridged again or ends).
pub fn held_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:acd:held:{call}")
}

/// The agent's leg serving `call` on its gateway `gw`, as a bridge target (`webrtc:<leg>` for
/// the softphone as it is now — a reload or a move replaces it — or the SIP phone leg's id)
/// and its id. A softphone leg on another gateway is none: it cannot be bridged from `gw` (it
/// is moving there; `softphone::attach` bridges the call when it arrives).
pub async fn agent_leg(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    gw: &str,
) -> anyhow::Result<Option<(String, Uuid)>> {
    let mut r = state.redis();
    let leg: Option<String> = r.get(leg_of_key(tenant, call)).await?;
    let Some(leg) = leg else { return Ok(None) };
    if let Some(a) = leg.strip_prefix(SOFTPHONE_LEG) {
        let Ok(agent) = a.parse::<Uuid>() else {
            return Ok(None);
        };
        let soft = crate::devices::current(state, tenant, agent).await?;
        return Ok(match soft {
            Some(l) if l.gateway_id == gw => Some((crate::devices::target(l.leg_id), l.leg_id)),
            Some(l) => {
                tracing::info!(%tenant, %call, %agent, call_gateway = %gw, leg_gateway = %l.gateway_id,
                    "the agent's softphone is on another gateway: bridged once it moves");
                None
            }
            None => None,
        });
    }
    Ok(leg.parse::<Uuid>().ok().map(|id| (leg, id)))
}

/// Connects the caller to their agent's leg: the softphone's WebRTC leg as it is now (a reload
/// replaces it), or the answered SIP phone leg. Returns whether there was a leg to bridge on
/// the call's gateway `gw`.
pub async fn bridge_agent(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    gw: &str,
) -> anyhow::Result<bool> {
    let Some((leg, _)) = agent_leg(state, tenant, call, gw).await? else {
        return Ok(false);
    };
    command(state, gw, &GatewayCommand::StopMedia { call_id: call }).await?;
    let cmd = GatewayCommand::Bridge {
        call_id: call,
        target: leg,
    };
    command(state, gw, &cmd).await?;
    Ok(true)
}

/// Takes the caller off their agent (the bridge is cut both ways) and plays music: hold, and
/// a transferred call waiting for its next agent.
pub async fn park_caller(
    state: &AppState,
    tenant: Uuid,
    gw: &str,
    call: Uuid,
) -> anyhow::Result<()> {
    command(state, gw, &GatewayCommand::Unbridge { call_id: call }).await?;
    crate::call_io::play_music_on_hold(state, tenant, gw, call).await
}

/// Acts on ACD events (ring the agent, bridge, hang up the other leg).
pub fn on_acd_events(
    state: &AppState,
    tenant: Uuid,
    evs: Vec<Event>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + '_>> {
    Box::pin(async move {
        for e in evs {
            tracing::info!(%tenant, ev = %e.ev, call = %e.call, agent = %e.agent, "ACD event");
            let (Ok(call), agent) = (e.call.parse::<Uuid>(), e.agent.parse::<Uuid>().ok()) else {
                continue;
            };
            if let Err(err) = crate::cdr::acd_event(state, tenant, call, &e).await {
                tracing::warn!(%tenant, %call, error = %err, "CDR not updated");
            }
            let Some(cs) = crate::call_io::load(state, tenant, call).await? else {
                continue;
            };
            let gw = cs.gateway_id.clone();
            let mut r = state.redis();
            match e.ev.as_str() {
                "offered" => {
                    let Some(agent) = agent else { continue };
                    let (caller, did, vars) =
                        (cs.caller.clone(), cs.did.clone(), cs.run.vars.clone());
                    let offer = AgentEvent::Offer {
                        call_id: call,
                        caller: caller.clone(),
                        did,
                        vars,
                        gateway_id: Some(gw.clone()),
                    };
                    // A browser softphone: the desktop rings; its accept bridges the call.
                    if crate::devices::current(state, tenant, agent)
                        .await?
                        .is_some()
                    {
                        let marker = format!("{SOFTPHONE_LEG}{agent}");
                        let _: () = r
                            .set_ex(offer_key(tenant, call, agent), marker, 86_400)
                            .await?;
                        crate::desktop::publish(state, tenant, agent, &offer).await;
                        continue;
                    }
                    let ext = crate::devices::extension(state, tenant, agent).await?;
                    let Some(ext) = ext else {
                        // No softphone and no desk phone: the offer fails on the agent's side
                        // (never "declined"), and says so.
                        tracing::warn!(%tenant, %agent, "offered agent has no softphone and no extension");
                        offer_failed(state, tenant, call, agent, "no_device").await?;
                        continue;
                    };
                    let leg = Uuid::new_v4();
                    let rec = Leg {
                        call,
                        agent,
                        answered: false,
                    };
                    let _: () = r
                        .set_ex(leg_key(tenant, leg), serde_json::to_string(&rec)?, 86_400)
                        .await?;
                    let _: () = r
                        .set_ex(offer_key(tenant, call, agent), leg.to_string(), 86_400)
                        .await?;
                    crate::desktop::publish(state, tenant, agent, &offer).await;
                    let callee = format!("ext:{ext}");
                    let rec = crate::cdr::OutboundLeg {
                        leg,
                        parent: Some(call),
                        caller: &caller,
                        callee: &callee,
                        agent: Some(agent),
                        gateway_id: &gw,
                    };
                    if let Err(err) = crate::cdr::outbound_leg(state, tenant, rec).await {
                        tracing::warn!(%tenant, %leg, error = %err, "CDR of the agent leg not written");
                    }
                    let cmd = GatewayCommand::Originate {
                        call_id: leg,
                        tenant_id: tenant,
                        caller,
                        callee,
                    };
                    command(state, &gw, &cmd).await?;
                }
                "connected" => {
                    if let Some(agent) = agent {
                        if cs.campaign.is_some() {
                            if let Err(err) =
                                crate::call_io::campaign_connected(state, tenant, call, agent).await
                            {
                                tracing::warn!(%tenant, %call, error = %err, "campaign contact not given its agent");
                            }
                        }
                        let ev = AgentEvent::Connected { call_id: call };
                        crate::desktop::publish(state, tenant, agent, &ev).await;
                        // The answered offer's leg becomes the call's.
                        if let Some(leg) = take(&mut r, offer_key(tenant, call, agent)).await? {
                            let _: () = r.set_ex(leg_of_key(tenant, call), leg, 86_400).await?;
                        }
                    }
                    let _: () = r.del(held_key(tenant, call)).await?;
                    bridge_agent(state, tenant, call, &gw).await?;
                }
                "overflowed" if e.to == hotline_calls::queue_exit::LEAVE_ACD => {
                    // The queue's maximum wait passed and it has no queue to overflow to:
                    // voicemail, a callback request or a message and hang-up, as configured.
                    crate::queue_exit::max_wait_passed(state, tenant, call).await?;
                }
                "transferred" => {
                    // The agent let go: their desktop (or SIP phone leg) is done with the call,
                    // which hears music again while it waits for the next agent.
                    let leg: Option<String> = r.get(leg_of_key(tenant, call)).await?;
                    let _: () = r.del(leg_of_key(tenant, call)).await?;
                    let _: () = r.del(held_key(tenant, call)).await?;
                    park_caller(state, tenant, &gw, call).await?;
                    if let Some(a) = agent {
                        crate::desktop::publish(
                            state,
                            tenant,
                            a,
                            &AgentEvent::Ended { call_id: call },
                        )
                        .await;
                    }
                    if let Some(leg) = leg.and_then(|l| l.parse::<Uuid>().ok()) {
                        let _: () = r.del(leg_key(tenant, leg)).await?;
                        hang_up(state, &gw, leg).await?;
                    }
                }
                "offer_cancelled" => {
                    // Not the agent's doing (another agent of a ring-all answered, nobody did,
                    // or the caller left): their phone stops ringing, their state stays Ready.
                    let Some(agent) = agent else { continue };
                    let leg = take(&mut r, offer_key(tenant, call, agent)).await?;
                    let reason = match e.reason.as_str() {
                        hotline_acd::model::NO_ANSWER => "ring_all_no_answer",
                        other => other,
                    };
                    let ev = AgentEvent::OfferWithdrawn {
                        call_id: call,
                        reason: reason.to_string(),
                    };
                    crate::desktop::publish(state, tenant, agent, &ev).await;
                    if let Some(leg) = leg.and_then(|l| l.parse::<Uuid>().ok()) {
                        let _: () = r.del(leg_key(tenant, leg)).await?;
                        hang_up(state, &gw, leg).await?;
                    }
                }
                "ring_no_answer" | "rejected" | "completed" | "abandoned" => {
                    // The agent leg (if any) is over: hang it up. (An abandoned call's offers
                    // were cancelled just before: it has none left.)
                    let leg = match (e.ev.as_str(), agent) {
                        ("completed", _) => take(&mut r, leg_of_key(tenant, call)).await?,
                        ("ring_no_answer" | "rejected", Some(a)) => {
                            take(&mut r, offer_key(tenant, call, a)).await?
                        }
                        _ => None,
                    };
                    // A "rejected" that is a failure of the agent's device (their desk phone
                    // not registered, busy…, the softphone gone), not their decline.
                    let failure = match (agent, e.ev.as_str()) {
                        (Some(a), "rejected") => take_offer_failure(state, tenant, call, a).await,
                        _ => None,
                    };
                    // The ACD set the agent not ready: say so, with the built-in reason code,
                    // where the desktop and supervisors read the agent's state.
                    if let (Some(a), "ring_no_answer" | "rejected") = (agent, e.ev.as_str()) {
                        use hotline_wire::api::builtin_reasons as builtin;
                        let key = match (e.ev.as_str(), &failure) {
                            ("ring_no_answer", _) => builtin::MISSED,
                            (_, Some(why)) => hotline_calls::offers::failure_reason_code(why),
                            _ => builtin::REJECTED,
                        };
                        if let Err(err) =
                            crate::agents::record_acd_not_ready(state, tenant, a, key).await
                        {
                            tracing::warn!(%tenant, agent = %a, error = %err, "agent state not recorded");
                        }
                    }
                    if let Some(a) = agent {
                        let ev = if e.ev == "completed" {
                            AgentEvent::Ended { call_id: call }
                        } else {
                            AgentEvent::OfferWithdrawn {
                                call_id: call,
                                reason: failure.clone().unwrap_or_else(|| e.ev.clone()),
                            }
                        };
                        crate::desktop::publish(state, tenant, a, &ev).await;
                    }
                    // A SIP phone's leg is hung up; a softphone's stays up for the next call.
                    if let Some(leg) = leg.and_then(|l| l.parse::<Uuid>().ok()) {
                        let _: () = r.del(leg_key(tenant, leg)).await?;
                        hang_up(state, &gw, leg).await?;
                    }
                    if e.ev == "completed" || e.ev == "abandoned" {
                        let _: () = r.del(held_key(tenant, call)).await?;
                    }
                    if e.ev == "completed" {
                        hang_up(state, &gw, call).await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    })
}

/// Why the offer of `call` failed on `agent`'s device, for `AgentEvent::OfferWithdrawn` (kept
/// a minute, until the ACD's `rejected` that follows reads it).
fn offer_failure_key(tenant: Uuid, call: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:acd:offerfail:{call}:{agent}")
}

/// The offer of `call` to `agent` failed on their device (`why`, an `OfferWithdrawn` reason
/// such as `phone_not_registered`): the call goes back to the head of its queue (ACD `reject`)
/// and the agent's desktop and state say what failed rather than "declined".
pub async fn offer_failed(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
    why: &str,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(offer_failure_key(tenant, call, agent), why, 60)
        .await?;
    let op = Op::Reject {
        agent: agent.to_string(),
        call: call.to_string(),
    };
    if let Err(e) = acd(state, tenant, op).await {
        // The caller left or the offer timed out meanwhile.
        tracing::info!(%tenant, %call, %agent, error = %e, "failed offer no longer offered");
        let _: () = r.del(offer_failure_key(tenant, call, agent)).await?;
    }
    Ok(())
}

/// The device failure recorded for this offer to `agent`, if any (read once).
async fn take_offer_failure(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
) -> Option<String> {
    take(&mut state.redis(), offer_failure_key(tenant, call, agent))
        .await
        .ok()
        .flatten()
}

/// Whether `call`, offered to `agent`, rings their browser softphone (not a desk phone).
pub async fn offered_to_softphone(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
) -> anyhow::Result<bool> {
    let mut r = state.redis();
    let leg: Option<String> = r.get(offer_key(tenant, call, agent)).await?;
    Ok(leg.as_deref() == Some(format!("{SOFTPHONE_LEG}{agent}").as_str()))
}

/// Blind transfer to an outside number: the caller leaves the ACD (the agent goes to wrap-up,
/// their desktop is told the call ended, a SIP phone leg is hung up, a softphone stays up),
/// hears music while the number rings, and is bridged to it when it answers. The caller's
/// call ends with the outside leg (`ivr`).
pub async fn transfer_out(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
    gw: &str,
    number: &str,
) -> anyhow::Result<()> {
    let did = release_agent(state, tenant, call, agent, gw).await?;
    park_caller(state, tenant, gw, call).await?;
    let details = serde_json::json!({ "number": number });
    crate::cdr::action(state, tenant, call, "transferred_out", agent, details).await?;
    crate::call_io::dial_out(state, tenant, call, gw, &did, number).await?;
    tracing::info!(%tenant, %call, %number, "transferred to an outside number");
    Ok(())
}

/// Takes a connected call out of the ACD without ending it: the agent goes to wrap-up and is
/// told the call ended, a SIP phone leg is hung up (a softphone stays up). Returns the number
/// the caller had called.
pub async fn release_agent(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
    gw: &str,
) -> anyhow::Result<String> {
    let Some(mut cs) = crate::call_io::load(state, tenant, call).await? else {
        anyhow::bail!("call {call} has no state");
    };
    // Out of the ACD's hands first: its end must not hang up the caller, nor a later hang-up
    // reach the ACD again.
    cs.queue = None;
    crate::call_io::store(state, tenant, call, &cs).await?;
    let mut con = state.redis();
    let evs = redis_acd::apply_async(
        &mut con,
        &redis_acd::script(),
        &crate::call_io::acd_keys(tenant),
        now_ms(),
        &Op::Hangup {
            call: call.to_string(),
        },
    )
    .await?;
    for e in &evs {
        if let Err(err) = crate::cdr::acd_event(state, tenant, call, e).await {
            tracing::warn!(%tenant, %call, error = %err, "CDR not updated");
        }
    }
    let leg: Option<String> = con.get(leg_of_key(tenant, call)).await?;
    let _: () = con.del(leg_of_key(tenant, call)).await?;
    let _: () = con.del(held_key(tenant, call)).await?;
    if let Some(leg) = leg.and_then(|l| l.parse::<Uuid>().ok()) {
        let _: () = con.del(leg_key(tenant, leg)).await?;
        hang_up(state, gw, leg).await?;
    }
    crate::desktop::publish(state, tenant, agent, &AgentEvent::Ended { call_id: call }).await;
    Ok(cs.did)
}

/// Gateway events about agent legs (called by `call_events` for every event).
pub async fn on_gateway_event(state: &AppState, ev: &wire::GatewayEvent) -> anyhow::Result<()> {
    let Some((leg, tenant, answered)) = ev.answer_or_end() else {
        return Ok(());
    };
    let mut r = state.redis();
    let raw: Option<String> = r.get(leg_key(tenant, leg)).await?;
    let Some(mut rec) = raw.and_then(|s| serde_json::from_str::<Leg>(&s).ok()) else {
        return Ok(());
    };
    let (agent, call) = (rec.agent.to_string(), rec.call.to_string());
    if answered {
        rec.answered = true;
        let _: () = r
            .set_ex(leg_key(tenant, leg), serde_json::to_string(&rec)?, 86_400)
            .await?;
        if acd(state, tenant, Op::Answer { agent, call })
            .await
            .is_err()
        {
            // Another agent of a ring-all answered first, the caller left or the offer timed
            // out meanwhile: the leg serves no call (nor does its end).
            let _: () = r.del(leg_key(tenant, leg)).await?;
            if let Some(gw) = gateway_of(state, tenant, rec.call).await? {
                hang_up(state, &gw, leg).await?;
            }
        }
        return Ok(());
    }
    let _: () = r.del(leg_key(tenant, leg)).await?;
    if !rec.answered {
        let _: () = r.del(offer_key(tenant, rec.call, rec.agent)).await?;
        // The desk phone never answered: what it said is the offer's failure.
        let why = match ev {
            wire::GatewayEvent::Hangup { cause, status, .. } => {
                hotline_calls::offers::device_failure(cause, *status)
            }
            _ => "phone_failed".to_string(),
        };
        return offer_failed(state, tenant, rec.call, rec.agent, &why).await;
    }
    let _: () = r.del(leg_of_key(tenant, rec.call)).await?;
    let _ = acd(state, tenant, Op::Hangup { call }).await;
    Ok(())
}

/// The agent's new state, in the ACD. Logging in reads the agent's skills; an agent serves
/// every queue of the tenant whose required skills they have.
pub async fn agent_state(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    status: &str,
    reason: &str,
) -> Result<(), crate::error::ApiError> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let skills: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(s.name || '=' || us.level, ',' ORDER BY s.name), '')
           FROM user_skills us JOIN skills s ON s.id = us.skill_id WHERE us.user_id = $1",
    )
    .bind(user)
    .fetch_one(&mut *tx)
    .await?;
    let queues: String = sqlx::query_scalar(
        "SELECT coalesce(string_agg(id::text, ',' ORDER BY id), '') FROM queues",
    )
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    let agent = user.to_string();
    let set = |state: &str| Op::SetState {
        agent: agent.clone(),
        state: state.into(),
        reason: reason.into(),
    };
    let busy = |e: AcdError| match e {
        AcdError::Busy => crate::error::ApiError::Conflict {
            code: "agent_busy",
            detail: "finish the current call first".into(),
        },
        other => crate::error::ApiError::internal(anyhow::anyhow!("ACD: {other}")),
    };
    if status == "logged_out" {
        return match acd(state, tenant, set("logged_out")).await {
            Ok(()) | Err(AcdError::UnknownAgent) => Ok(()),
            Err(e) => Err(busy(e)),
        };
    }
    // (Re-)login when the ACD does not know the agent or had them logged out.
    let login = Op::Login {
        agent: agent.clone(),
        queues,
        skills,
    };
    match acd(state, tenant, login).await {
        Ok(()) | Err(AcdError::Busy) => {}
        Err(e) => return Err(busy(e)),
    }
    acd(state, tenant, set(status)).await.map_err(busy)
}

/// Ticks every tenant's ACD once a second (ring timeouts, wrap-up, overflow).
pub fn spawn_ticker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let mut r = state.redis();
            let tenants: Vec<String> = r.smembers(TENANTS_KEY).await.unwrap_or_default();
            let tenants: Vec<Uuid> = tenants.iter().filter_map(|t| t.parse().ok()).collect();
            let known = db::own_tenants(&state.db, &tenants).await;
            for t in tenants {
                if known.as_ref().is_some_and(|k| !k.contains(&t)) {
                    continue;
                }
                let _ = acd(&state, t, Op::Tick).await;
                crate::announce::tick(&state, t).await;
            }
        }
    })
}
