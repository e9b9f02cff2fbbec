//! The call-control shell: one record per queued call in Redis, the pure machine
//! `hotline_calls::control` decides, this module performs.
//!
//! [`feed`] is the only way a queued call changes: it takes the call's lock, loads its record,
//! runs `Call::handle(input)`, stores the new state and then performs the effects — gateway
//! commands, ACD operations, CDR rows, desktop events, the missed-calls entry. The ACD's events
//! about the same call are fed back in the same step (in order, under the same lock); events
//! about other calls are fed to those calls once the lock is released. Inputs come from:
//! - the ACD's events (`on_acd_events`: offered, connected, withdrawn, transferred, max wait);
//! - gateway events on the call's legs ([`on_gateway_event`]) and the caller's hang-up (`ivr`);
//! - the agent's actions (hold, consult, conference, transfer, hang-up: `routes::calls`,
//!   `routes::agent_events`) and a softphone that was lost while ringing (`softphone`).
//!
//! A refused input (stale, or not possible in the call's state) changes nothing and performs
//! nothing: the caller of [`feed`] gets the reason (an agent's action answers 409 with it).
//! Keys: `{t:<tenant>}:ctl:call:<call>` (the record), `{t:<tenant>}:ctl:leg:<leg>` (leg →
//! call) and `{t:<tenant>}:ctl:lock:<call>`.

use crate::{
    call_io::{command, now_ms},
    db,
    state::AppState,
};
use hotline_acd::{redis_acd, AcdError, Event, Op};
use hotline_calls::control::{Call, Device, Effect, Input, LegKind, Member, Owner, Peer, Refused};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway::{self as wire, GatewayCommand};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use uuid::Uuid;

/// One queued call as kept between events: the machine's state and what the shell needs to
/// perform its effects after the flow's own record is gone.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub call: Call,
    pub gateway_id: String,
    /// Where each leg this call dials goes (`+…`, `ext:<ext>`) and for which agent's CDR.
    #[serde(default)]
    pub dials: BTreeMap<Uuid, Dial>,
    /// An agent-first call (callback, click-to-call, preview): whom it dials.
    #[serde(default)]
    pub placed: Option<Placed>,
}

/// What an agent-first call dials and what its end gives back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Placed {
    /// The customer's number, and the tenant's number shown to them.
    pub number: String,
    pub did: String,
    /// The missed-calls entry called back (reopened when nobody answers).
    pub missed: Option<Uuid>,
    /// The agent was Ready before: they are made Ready again afterwards.
    pub was_ready: bool,
    /// An internal call from a desk phone that dialled an extension: that phone's inbound leg
    /// (ringing until the callee answers), the placing agent's device.
    #[serde(default)]
    pub inbound: Option<Uuid>,
    /// An internal call: the colleague it rings (busy meanwhile), and whether they were Ready.
    #[serde(default)]
    pub callee: Option<(Uuid, bool)>,
}

/// The internal call ringing or connected to `user` as the callee, while it lasts.
pub fn callee_key(tenant: Uuid, user: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{user}:internal")
}

/// A leg to place: its destination and the agent it is for (none: a transfer).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Dial {
    pub callee: String,
    pub agent: Option<Uuid>,
}

const TTL_SECS: u64 = 86_400;
const LOCK_MS: u64 = 15_000;

fn rec_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:ctl:call:{call}")
}

fn leg_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:ctl:leg:{leg}")
}

/// Set (for a minute) when the gateway reports a call's bridge cut (`bridge_ended`); hold
/// clears it, asks for the cut and waits for it before the desktop is told "held".
pub fn bridge_ended_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:call:{call}:bridge_ended")
}

/// The agent-first call `agent` is placing (its id), while it lasts.
pub fn placing_key(tenant: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{agent}:callback")
}

fn lock_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:ctl:lock:{call}")
}

/// The call's record, if it is a queued call (or was, and is not over).
pub async fn load(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<Option<Record>> {
    let mut r = state.redis();
    let raw: Option<String> = r.get(rec_key(tenant, call)).await?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

/// What a call's lock holder owns until it lets go (or the lock expires).
struct Lock {
    key: String,
    token: String,
}

const UNLOCK: &str = r#"if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0"#;

async fn lock(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<Lock> {
    let mut r = state.redis();
    let l = Lock {
        key: lock_key(tenant, call),
        token: Uuid::new_v4().to_string(),
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(LOCK_MS);
    loop {
        let got: Option<String> = redis::cmd("SET")
            .arg(&l.key)
            .arg(&l.token)
            .arg("NX")
            .arg("PX")
            .arg(LOCK_MS)
            .query_async(&mut r)
            .await?;
        if got.is_some() {
            return Ok(l);
        }
        if std::time::Instant::now() > deadline {
            anyhow::bail!("call {call} stayed locked for {LOCK_MS} ms");
        }
        tokio::time::sleep(std::time::Duration::from_millis(3)).await;
    }
}

async fn unlock(state: &AppState, l: Lock) {
    let mut r = state.redis();
    let res: redis::RedisResult<i64> = redis::Script::new(UNLOCK)
        .key(&l.key)
        .arg(&l.token)
        .invoke_async(&mut r)
        .await;
    if let Err(e) = res {
        tracing::warn!(key = %l.key, error = %e, "call lock not released");
    }
}

/// Feeds one input to `call`. `Ok(Err(_))`: refused, nothing done. A call without a record
/// refuses everything but `Queued` (which makes one). `dial` names the leg an agent's action
/// opens (a consultation or a transfer).
pub async fn feed(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    input: Input,
    dial: Option<(Uuid, Dial)>,
) -> anyhow::Result<Result<(), Refused>> {
    let l = lock(state, tenant, call).await?;
    let mut others = Vec::new();
    let res = run(state, tenant, call, input, dial, &mut others).await;
    unlock(state, l).await;
    if !others.is_empty() {
        on_acd_events(state, tenant, others).await?;
    }
    res
}

async fn run(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    input: Input,
    dial: Option<(Uuid, Dial)>,
    others: &mut Vec<Event>,
) -> anyhow::Result<Result<(), Refused>> {
    let mut rec = match load(state, tenant, call).await? {
        Some(rec) => rec,
        None if input == Input::Queued => {
            let Some(cs) = crate::call_io::load(state, tenant, call).await? else {
                return Ok(Err(Refused("no_call")));
            };
            let owner = match cs.campaign {
                Some(_) => Owner::Campaign,
                None => Owner::Inbound,
            };
            Record {
                call: Call::new(owner),
                gateway_id: cs.gateway_id,
                dials: BTreeMap::new(),
                placed: None,
            }
        }
        None => return Ok(Err(Refused("no_call"))),
    };
    if let Some((leg, d)) = dial {
        rec.dials.insert(leg, d);
    }
    let mut todo: VecDeque<(Input, Option<(Uuid, Dial)>)> = VecDeque::from([(input, None)]);
    let mut first = true;
    while let Some((input, dial)) = todo.pop_front() {
        if let Some((leg, d)) = dial {
            rec.dials.insert(leg, d);
        }
        let effects = match rec.call.handle(input.clone()) {
            Ok(fx) => fx,
            Err(why) => {
                tracing::debug!(%tenant, %call, ?input, reason = why.0, "input refused");
                if first {
                    return Ok(Err(why));
                }
                continue;
            }
        };
        first = false;
        tracing::debug!(%tenant, %call, ?input, ?effects, "call control");
        save(state, tenant, call, &rec).await?;
        // Hold and resume are the agent's own: their timeline rows; a conference or a
        // cancelled consultation takes the caller off hold without one.
        let own_hold = matches!(input, Input::Hold | Input::Resume);
        for fx in effects {
            let evs = perform(state, tenant, call, &mut rec, fx, own_hold).await?;
            for e in evs {
                if let Err(err) = crate::cdr::acd_event(state, tenant, e.call.parse()?, &e).await {
                    tracing::warn!(%tenant, call = %e.call, error = %err, "CDR not updated");
                }
                if e.call == call.to_string() {
                    if let Some(i) = acd_input(state, tenant, call, &e).await? {
                        todo.push_back(i);
                    }
                } else {
                    others.push(e);
                }
            }
        }
    }
    if rec.call.ended() {
        forget(state, tenant, call, &rec).await?;
    } else {
        save(state, tenant, call, &rec).await?;
    }
    Ok(Ok(()))
}

async fn save(state: &AppState, tenant: Uuid, call: Uuid, rec: &Record) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(rec_key(tenant, call), serde_json::to_string(rec)?, TTL_SECS)
        .await?;
    Ok(())
}

async fn forget(state: &AppState, tenant: Uuid, call: Uuid, rec: &Record) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(rec_key(tenant, call)).await?;
    for leg in rec.dials.keys() {
        let _: () = r.del(leg_key(tenant, *leg)).await?;
    }
    Ok(())
}

/// The ACD's event about `call` as the machine's input (none: the machine caused it, or it
/// changes nothing for the call), with the destination of a desk-phone leg it opens.
async fn acd_input(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    e: &Event,
) -> anyhow::Result<Option<(Input, Option<(Uuid, Dial)>)>> {
    let agent = e.agent.parse::<Uuid>().ok();
    if let ("offered", Some(agent)) = (e.ev.as_str(), agent) {
        let (device, dial) = device(state, tenant, agent).await?;
        return Ok(Some((Input::Offered { agent, device }, dial)));
    }
    Ok(match (e.ev.as_str(), agent) {
        ("connected", Some(agent)) => Some(Input::AcdConnected { agent }),
        ("offer_cancelled", Some(agent)) => Some(Input::OfferCancelled {
            agent,
            why: match e.reason.as_str() {
                hotline_acd::model::NO_ANSWER => "ring_all_no_answer".into(),
                other => other.to_string(),
            },
        }),
        ("ring_no_answer" | "rejected", Some(agent)) => Some(Input::OfferEnded {
            agent,
            why: match e.ev.as_str() {
                "rejected" => take_failure(state, tenant, call, agent)
                    .await
                    .unwrap_or_else(|| "rejected".into()),
                other => other.to_string(),
            },
        }),
        ("transferred", _) => Some(Input::Requeued),
        ("overflowed", _) if e.to == hotline_calls::queue_exit::LEAVE_ACD => {
            Some(crate::queue_exit::max_wait_input(state, tenant, call).await?)
        }
        _ => None,
    }
    .map(|i| (i, None)))
}

/// How `agent` hears an offer: their browser softphone, else their desk phone (a new leg,
/// with its destination), else nothing (the offer fails at once).
async fn device(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
) -> anyhow::Result<(Device, Option<(Uuid, Dial)>)> {
    if crate::devices::current(state, tenant, agent)
        .await?
        .is_some()
    {
        return Ok((Device::Softphone, None));
    }
    let Some(ext) = crate::devices::extension(state, tenant, agent).await? else {
        tracing::warn!(%tenant, %agent, "offered agent has no softphone and no extension");
        return Ok((Device::Nothing, None));
    };
    let leg = Uuid::new_v4();
    let d = Dial {
        callee: format!("ext:{ext}"),
        agent: Some(agent),
    };
    Ok((Device::Desk { leg }, Some((leg, d))))
}

/// Why the offer of `call` failed on `agent`'s device, for the `rejected` that follows.
fn failure_key(tenant: Uuid, call: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:ctl:offerfail:{call}:{agent}")
}

async fn take_failure(state: &AppState, tenant: Uuid, call: Uuid, agent: Uuid) -> Option<String> {
    redis::cmd("GETDEL")
        .arg(failure_key(tenant, call, agent))
        .query_async(&mut state.redis())
        .await
        .ok()
        .flatten()
}

/// Applies one ACD operation on the call's behalf; its events come back for the caller.
async fn acd_op(state: &AppState, tenant: Uuid, op: Op) -> anyhow::Result<Vec<Event>> {
    let mut con = state.redis();
    let _: Result<(), _> = con
        .sadd(crate::call_io::TENANTS_KEY, tenant.to_string())
        .await;
    Ok(redis_acd::apply_async(
        &mut con,
        &redis_acd::script(),
        &crate::call_io::acd_keys(tenant),
        now_ms(),
        &op,
    )
    .await?)
}

/// The agent's device as a bridge target on the call's gateway, with its leg id (none: a
/// softphone on another gateway, bridged when it moves — `softphone::reconnect`).
async fn agent_target(
    state: &AppState,
    tenant: Uuid,
    rec: &Record,
) -> anyhow::Result<Option<(String, Uuid)>> {
    let Some((agent, device)) = rec.call.agent else {
        return Ok(None);
    };
    match device {
        Device::Desk { leg } => Ok(Some((leg.to_string(), leg))),
        Device::Nothing => Ok(None),
        Device::Softphone => match crate::devices::current(state, tenant, agent).await? {
            Some(l) if l.gateway_id == rec.gateway_id => {
                Ok(Some((crate::devices::target(l.leg_id), l.leg_id)))
            }
            Some(l) => {
                tracing::info!(%tenant, %agent, call_gateway = %rec.gateway_id, leg_gateway = %l.gateway_id,
                    "the agent's softphone is on another gateway: bridged once it moves");
                Ok(None)
            }
            None => Ok(None),
        },
    }
}

/// Performs one effect. Returns the ACD's events when it was an ACD operation.
async fn perform(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    rec: &mut Record,
    fx: Effect,
    own_hold: bool,
) -> anyhow::Result<Vec<Event>> {
    let gw = rec.gateway_id.clone();
    let agent = rec.call.agent.map(|(a, _)| a);
    match fx {
        Effect::MusicOnHold => {
            crate::call_io::play_music_on_hold(state, tenant, &gw, call).await?;
        }
        Effect::BridgeCaller(peer) => {
            let target = match peer {
                Peer::Agent => agent_target(state, tenant, rec).await?.map(|(t, _)| t),
                Peer::Leg(leg) => Some(leg.to_string()),
                Peer::Room => None,
            };
            if let (Peer::Agent, Some((_, Device::Desk { leg }))) = (peer, rec.call.agent) {
                if rec.placed.as_ref().and_then(|p| p.inbound) == Some(leg) {
                    // The calling desk phone heard ringing until now: answered, then joined.
                    command(state, &gw, &GatewayCommand::Answer { call_id: leg }).await?;
                }
            }
            if let Some(target) = target {
                // (An agent-first call's customer leg never plays media.)
                if !rec.call.owner.agent_first() {
                    command(state, &gw, &GatewayCommand::StopMedia { call_id: call }).await?;
                }
                let cmd = GatewayCommand::Bridge {
                    call_id: call,
                    target,
                };
                command(state, &gw, &cmd).await?;
            }
        }
        Effect::UnbridgeCaller | Effect::LeaveRoom(Member::Caller) => {
            let mut r = state.redis();
            let _: () = r.del(bridge_ended_key(tenant, call)).await?;
            command(state, &gw, &GatewayCommand::Unbridge { call_id: call }).await?;
        }
        Effect::UnbridgeAgent | Effect::LeaveRoom(Member::Agent) => {
            if let Some((_, leg)) = agent_target(state, tenant, rec).await? {
                command(state, &gw, &GatewayCommand::Unbridge { call_id: leg }).await?;
            }
        }
        Effect::LeaveRoom(Member::Leg(leg)) => {
            command(state, &gw, &GatewayCommand::Unbridge { call_id: leg }).await?;
        }
        Effect::BridgeAgentTo(leg) => {
            if let Some((target, _)) = agent_target(state, tenant, rec).await? {
                let cmd = GatewayCommand::Bridge {
                    call_id: leg,
                    target,
                };
                command(state, &gw, &cmd).await?;
            }
        }
        Effect::JoinRoom(m) => {
            let member = match m {
                Member::Caller => {
                    command(state, &gw, &GatewayCommand::StopMedia { call_id: call }).await?;
                    Some(call)
                }
                Member::Agent => agent_target(state, tenant, rec).await?.map(|(_, l)| l),
                Member::Leg(leg) => Some(leg),
            };
            if let Some(member) = member {
                let cmd = GatewayCommand::Conference {
                    call_id: member,
                    room: call.to_string(),
                };
                command(state, &gw, &cmd).await?;
            }
        }
        Effect::Offer { agent, device } => offer(state, tenant, call, rec, agent, device).await?,
        Effect::Dial { leg, kind } => {
            if rec.placed.as_ref().and_then(|p| p.inbound) == Some(leg) {
                // The calling desk phone's own leg: already up, only followed.
                watch_leg(state, tenant, call, leg).await?;
                return Ok(vec![]);
            }
            let Some(d) = rec.dials.get(&leg).cloned() else {
                anyhow::bail!("call {call}: no destination for leg {leg}");
            };
            watch_leg(state, tenant, call, leg).await?;
            // An agent-first call's desk phone shows the customer's number; other legs show
            // the number the caller had called.
            let caller = match (
                &rec.placed,
                crate::call_io::load(state, tenant, call).await?,
            ) {
                (Some(p), _) => p.number.clone(),
                (None, Some(cs)) => cs.did,
                (None, None) => String::new(),
            };
            let cdr_agent = match kind {
                LegKind::Consult | LegKind::Agent(_) => d.agent,
                LegKind::Outside => None,
            };
            let leg_rec = crate::cdr::OutboundLeg {
                leg,
                parent: Some(call),
                caller: &caller,
                callee: &d.callee,
                agent: cdr_agent,
                gateway_id: &gw,
            };
            crate::call_io::originate(state, tenant, leg_rec).await?;
        }
        Effect::HangUpLeg(leg) => {
            let mut r = state.redis();
            let _: () = r.del(leg_key(tenant, leg)).await?;
            hang_up(state, &gw, leg).await?;
        }
        Effect::HangUpCaller => hang_up(state, &gw, call).await?,
        Effect::AcdAnswer(agent) => {
            let op = Op::Answer {
                agent: agent.to_string(),
                call: call.to_string(),
            };
            match acd_op(state, tenant, op).await {
                Ok(evs) => return Ok(evs),
                Err(e) => {
                    tracing::info!(%tenant, %call, %agent, error = %e, "answer no longer possible")
                }
            }
        }
        Effect::AcdHangup => {
            out_of_acd(state, tenant, call).await?;
            let op = Op::Hangup {
                call: call.to_string(),
            };
            match acd_op(state, tenant, op).await {
                Ok(evs) => return Ok(evs),
                Err(e) => tracing::info!(%tenant, %call, error = %e, "call already out of the ACD"),
            }
        }
        Effect::AcdReject { agent, why } => {
            let mut r = state.redis();
            let _: () = r.set_ex(failure_key(tenant, call, agent), &why, 60).await?;
            let op = Op::Reject {
                agent: agent.to_string(),
                call: call.to_string(),
            };
            match acd_op(state, tenant, op).await {
                Ok(evs) => return Ok(evs),
                Err(e) => {
                    let _: () = r.del(failure_key(tenant, call, agent)).await?;
                    tracing::info!(%tenant, %call, %agent, error = %e, "failed offer no longer offered")
                }
            }
        }
        Effect::Withdrawn { agent, reason } => {
            let ev = AgentEvent::OfferWithdrawn {
                call_id: call,
                reason,
            };
            crate::desktop::publish(state, tenant, agent, &ev).await;
        }
        Effect::Connected(agent) => {
            if rec.call.owner == Owner::Campaign {
                if let Err(e) = crate::call_io::campaign_connected(state, tenant, call, agent).await
                {
                    tracing::warn!(%tenant, %call, error = %e, "campaign contact not given its agent");
                }
            }
            let ev = AgentEvent::Connected { call_id: call };
            crate::desktop::publish(state, tenant, agent, &ev).await;
        }
        Effect::Ended(agent) => {
            let ev = AgentEvent::Ended { call_id: call };
            crate::desktop::publish(state, tenant, agent, &ev).await;
        }
        Effect::Held(held) => {
            let Some(agent) = agent else {
                return Ok(vec![]);
            };
            if held {
                hold_confirmed(state, tenant, call).await?;
            }
            if own_hold {
                let kind = if held { "held" } else { "unheld" };
                crate::cdr::action(state, tenant, call, kind, agent, serde_json::json!({})).await?;
            }
            let ev = AgentEvent::Held {
                call_id: call,
                held,
            };
            crate::desktop::publish(state, tenant, agent, &ev).await;
        }
        Effect::ConsultState(what) => {
            if let Some(agent) = agent {
                let ev = AgentEvent::Consult {
                    call_id: call,
                    state: what.into(),
                };
                crate::desktop::publish(state, tenant, agent, &ev).await;
            }
        }
        Effect::NotReady { agent, reason } => {
            if let Err(e) = crate::agents::record_acd_not_ready(state, tenant, agent, reason).await
            {
                tracing::warn!(%tenant, %agent, error = %e, "agent state not recorded");
            }
        }
        Effect::Leave(step) => crate::queue_exit::leave(state, tenant, call, &gw, step).await?,
        Effect::Missed(reason) => {
            if let Some(cs) = crate::call_io::load(state, tenant, call).await? {
                crate::call_io::missed(state, tenant, call, &cs, reason).await?;
            }
        }
        Effect::Outcome(outcome) => crate::cdr::outcome(state, tenant, call, outcome).await?,
        Effect::DialCaller => {
            let Some(p) = rec.placed.clone() else {
                anyhow::bail!("call {call}: nobody to dial");
            };
            let leg_rec = crate::cdr::OutboundLeg {
                leg: call,
                parent: None,
                caller: &p.did,
                callee: &p.number,
                agent: rec.call.placed_by,
                gateway_id: &gw,
            };
            if rec.call.owner == Owner::Internal {
                let callee = p.callee.map(|(u, _)| u);
                crate::cdr::internal_leg(state, tenant, &leg_rec, callee).await?;
            }
            crate::call_io::originate(state, tenant, leg_rec).await?;
        }
        Effect::Finished { agent, answered } => {
            finished(state, tenant, call, rec, agent, answered).await?
        }
    }
    Ok(vec![])
}

/// An agent-first call is over: the agent may place another, an unanswered callback reopens
/// its missed call (unless the number missed again meanwhile: then that entry stands), and an
/// agent who was Ready is made Ready again.
async fn finished(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    rec: &Record,
    agent: Uuid,
    answered: bool,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(placing_key(tenant, agent)).await?;
    let Some(p) = &rec.placed else {
        return Ok(());
    };
    if let Some((callee, was_ready)) = p.callee {
        let _: () = r.del(callee_key(tenant, callee)).await?;
        if was_ready && crate::agents::agent_acd_state(state, tenant, callee).await? == "not_ready"
        {
            if let Err(e) = agent_state(state, tenant, callee, "ready", "").await {
                tracing::warn!(%tenant, %callee, error = ?e, "callee not made ready after their call");
            }
        }
    }
    if let (false, Some(missed)) = (answered, p.missed) {
        let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
        sqlx::query(
            "UPDATE missed_calls m SET handled_at = NULL, handled_by = NULL
              WHERE m.id = $1 AND m.callback_call_id = $2
                AND NOT EXISTS (SELECT 1 FROM missed_calls o
                                 WHERE o.number = m.number AND o.handled_at IS NULL)",
        )
        .bind(missed)
        .bind(call)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    if p.was_ready && crate::agents::agent_acd_state(state, tenant, agent).await? == "not_ready" {
        if let Err(e) = agent_state(state, tenant, agent, "ready", "").await {
            tracing::warn!(%tenant, %agent, error = ?e, "agent not made ready after their call");
        }
    }
    Ok(())
}

/// Starts an agent-first call: `agent` places `call` (the customer's leg id) from `device`
/// (`desk_callee`: their desk phone's address, which rings first).
#[allow(clippy::too_many_arguments)]
pub async fn place(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    owner: Owner,
    agent: Uuid,
    gateway_id: &str,
    placed: Placed,
    desk_callee: Option<String>,
) -> anyhow::Result<Result<(), Refused>> {
    let mut rec = Record {
        call: Call::new(owner),
        gateway_id: gateway_id.to_string(),
        dials: BTreeMap::new(),
        placed: Some(placed),
    };
    let inbound = rec.placed.as_ref().and_then(|p| p.inbound);
    let device = match (inbound, desk_callee) {
        (Some(leg), _) => Device::Desk { leg },
        (None, Some(callee)) => {
            let leg = Uuid::new_v4();
            let d = Dial {
                callee,
                agent: Some(agent),
            };
            rec.dials.insert(leg, d);
            Device::Desk { leg }
        }
        (None, None) => Device::Softphone,
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(placing_key(tenant, agent), call.to_string(), TTL_SECS)
        .await?;
    if let Some((callee, _)) = rec.placed.as_ref().and_then(|p| p.callee) {
        let _: () = r
            .set_ex(callee_key(tenant, callee), call.to_string(), TTL_SECS)
            .await?;
    }
    save(state, tenant, call, &rec).await?;
    let placed = feed(state, tenant, call, Input::Placed { agent, device }, None).await?;
    match (placed, inbound) {
        // The calling desk phone is up already: the callee is dialled at once.
        (Ok(()), Some(leg)) => feed(state, tenant, call, Input::LegAnswered(leg), None).await,
        (res, _) => Ok(res),
    }
}

/// The flow's record says the call is no longer the ACD's (a later hang-up is no abandon).
async fn out_of_acd(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    if let Some(mut cs) = crate::call_io::load(state, tenant, call).await? {
        if cs.queue.take().is_some() {
            crate::call_io::store(state, tenant, call, &cs).await?;
        }
    }
    Ok(())
}

/// How long hold waits for the gateway to confirm the cut.
const HOLD_CONFIRM: std::time::Duration = std::time::Duration::from_secs(2);

/// After the cut, how long audio already sent to the agent takes to play out.
const HOLD_PLAYOUT: std::time::Duration = std::time::Duration::from_millis(150);

/// The desktop says "held" only once the gateway has cut the bridge both ways (its
/// `bridge_ended`), so the agent never hears the caller after it shows. A call that was not
/// bridged (its agent leg still moving) reports nothing: after 2 s it counts as held anyway.
/// Audio the gateway sent before the cut is still on its way (jitter buffer, sound card).
async fn hold_confirmed(state: &AppState, tenant: Uuid, call: Uuid) -> anyhow::Result<()> {
    let cut = bridge_ended_key(tenant, call);
    let mut r = state.redis();
    let deadline = std::time::Instant::now() + HOLD_CONFIRM;
    while std::time::Instant::now() < deadline {
        let done: bool = r.exists(&cut).await?;
        if done {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    tokio::time::sleep(HOLD_PLAYOUT).await;
    Ok(())
}

async fn hang_up(state: &AppState, gw: &str, call: Uuid) -> anyhow::Result<()> {
    let cmd = GatewayCommand::Hangup {
        call_id: call,
        status: None,
    };
    command(state, gw, &cmd).await
}

/// Gateway events of this call's legs come back to it.
async fn watch_leg(state: &AppState, tenant: Uuid, call: Uuid, leg: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(leg_key(tenant, leg), call.to_string(), TTL_SECS)
        .await?;
    Ok(())
}

/// The queue an offered call waited in (its name) and when it entered it, for the agent's
/// caller header; nothing when the ACD or the database cannot say (the offer goes on).
async fn offer_queue(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> (Option<String>, Option<chrono::DateTime<chrono::Utc>>) {
    let keys = crate::call_io::acd_keys(tenant);
    let mut r = state.redis();
    let raw: Option<String> = r
        .hget(&keys.calls, call.to_string())
        .await
        .unwrap_or_default();
    let Some(rec) = raw.and_then(|j| serde_json::from_str::<hotline_acd::CallRec>(&j).ok()) else {
        return (None, None);
    };
    let queued_at = chrono::DateTime::from_timestamp_millis(rec.enqueued_at as i64)
        .filter(|_| rec.enqueued_at > 0);
    let name = async {
        let q = rec.queue.parse::<Uuid>().ok()?;
        let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant))
            .await
            .ok()?;
        sqlx::query_scalar::<_, String>("SELECT name FROM queues WHERE id = $1")
            .bind(q)
            .fetch_optional(&mut *tx)
            .await
            .ok()
            .flatten()
    };
    (name.await, queued_at)
}

/// Rings `agent`: their desktop shows the offer; a desk phone's leg is placed.
async fn offer(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    rec: &mut Record,
    agent: Uuid,
    device: Device,
) -> anyhow::Result<()> {
    let Some(cs) = crate::call_io::load(state, tenant, call).await? else {
        return Ok(());
    };
    let (queue, queued_at) = offer_queue(state, tenant, call).await;
    let ev = AgentEvent::Offer {
        call_id: call,
        caller: cs.caller.clone(),
        did: cs.did.clone(),
        vars: cs.run.vars.clone(),
        gateway_id: Some(rec.gateway_id.clone()),
        queue,
        queued_at,
    };
    crate::desktop::publish(state, tenant, agent, &ev).await;
    let Device::Desk { leg } = device else {
        return Ok(());
    };
    let Some(d) = rec.dials.get(&leg).cloned() else {
        anyhow::bail!("call {call}: no destination for the desk phone leg {leg}");
    };
    watch_leg(state, tenant, call, leg).await?;
    let leg_rec = crate::cdr::OutboundLeg {
        leg,
        parent: Some(call),
        caller: &cs.caller,
        callee: &d.callee,
        agent: Some(agent),
        gateway_id: &rec.gateway_id,
    };
    crate::call_io::originate(state, tenant, leg_rec).await
}

/// Acts on ACD events that happened outside any call's step (ticks, an agent's state, a new
/// arrival, the desktop's answer or decline): each goes to its call's machine in turn.
pub fn on_acd_events(
    state: &AppState,
    tenant: Uuid,
    evs: Vec<Event>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<()>> + Send + '_>> {
    Box::pin(async move {
        for e in evs {
            tracing::info!(%tenant, ev = %e.ev, call = %e.call, agent = %e.agent, "ACD event");
            let Ok(call) = e.call.parse::<Uuid>() else {
                continue;
            };
            if let Err(err) = crate::cdr::acd_event(state, tenant, call, &e).await {
                tracing::warn!(%tenant, %call, error = %err, "CDR not updated");
            }
            let l = lock(state, tenant, call).await?;
            let mut others = Vec::new();
            let res = async {
                if load(state, tenant, call).await?.is_none() {
                    return anyhow::Ok(());
                }
                if let Some((input, dial)) = acd_input(state, tenant, call, &e).await? {
                    if let Err(why) = run(state, tenant, call, input, dial, &mut others).await? {
                        tracing::debug!(%tenant, %call, ev = %e.ev, reason = why.0, "ACD event refused");
                    }
                }
                Ok(())
            }
            .await;
            unlock(state, l).await;
            res?;
            if !others.is_empty() {
                on_acd_events(state, tenant, others).await?;
            }
        }
        Ok(())
    })
}

/// Gateway events of a queued call's legs (agents' desk phones, the consulted party, a
/// transfer's outside leg): answered or ended, as the machine's input.
pub async fn on_gateway_event(state: &AppState, ev: &wire::GatewayEvent) -> anyhow::Result<()> {
    let Some((leg, tenant, answered)) = ev.answer_or_end() else {
        return Ok(());
    };
    let mut r = state.redis();
    let call: Option<String> = r.get(leg_key(tenant, leg)).await?;
    let Some(call) = call.and_then(|c| c.parse::<Uuid>().ok()) else {
        return own_leg(state, tenant, leg, answered, ev).await;
    };
    let input = if answered {
        Input::LegAnswered(leg)
    } else {
        let _: () = r.del(leg_key(tenant, leg)).await?;
        let failure = match ev {
            wire::GatewayEvent::Hangup { cause, status, .. } => {
                hotline_calls::offers::device_failure(cause, *status)
            }
            _ => "phone_failed".to_string(),
        };
        Input::LegEnded { leg, failure }
    };
    if let Err(why) = feed(state, tenant, call, input, None).await? {
        tracing::debug!(%tenant, %call, %leg, reason = why.0, "leg event refused");
    }
    Ok(())
}

/// What a calling desk phone is answered when the colleague's leg of its internal call ended
/// unanswered (that leg's final SIP status, when the gateway had one).
fn status_for_caller(status: Option<u16>) -> u16 {
    status
        .filter(|s| matches!(s, 404 | 486 | 600 | 603))
        .unwrap_or(480)
}

/// The customer's leg of an agent-first call answered or ended. Refused by the gateway for the
/// tenant's outbound limits, the desktop is told why (after `ended`, so its note shows the
/// reason rather than a plain end).
async fn own_leg(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    answered: bool,
    ev: &wire::GatewayEvent,
) -> anyhow::Result<()> {
    let Some(rec) = load(state, tenant, call).await? else {
        return Ok(());
    };
    if !rec.call.owner.agent_first() {
        return Ok(());
    }
    if let (false, false, Some(inbound)) = (
        answered,
        rec.call.caller_answered,
        rec.placed.as_ref().and_then(|p| p.inbound),
    ) {
        // The calling desk phone hears why the colleague did not answer (busy, not found…).
        let status = match ev {
            wire::GatewayEvent::Hangup { status, .. } => status_for_caller(*status),
            _ => 480,
        };
        let cmd = GatewayCommand::Hangup {
            call_id: inbound,
            status: Some(status),
        };
        command(state, &rec.gateway_id, &cmd).await?;
    }
    let input = if answered {
        Input::CallerAnswered
    } else {
        Input::CallerHungUp
    };
    if let Err(why) = feed(state, tenant, call, input, None).await? {
        tracing::debug!(%tenant, %call, reason = why.0, "customer leg event refused");
    }
    if let (false, Some(agent), Some(reason)) = (
        answered,
        rec.call.placed_by,
        crate::dial_policy::gateway_refusal(ev),
    ) {
        let why = AgentEvent::OfferWithdrawn {
            call_id: call,
            reason: reason.into(),
        };
        crate::desktop::publish(state, tenant, agent, &why).await;
    }
    Ok(())
}

/// The agent's softphone leg was replaced by `leg` on the call's gateway (a reload, or the
/// move to the call's gateway): what the agent is connected to is bridged into it — the
/// caller (unless on hold), the consulted party while they talk, or the conference room.
pub async fn reattach(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    leg: &crate::devices::SoftLeg,
) -> anyhow::Result<()> {
    let Some(rec) = load(state, tenant, call).await? else {
        return Ok(());
    };
    if rec.gateway_id != leg.gateway_id {
        tracing::warn!(%tenant, %call, call_gateway = %rec.gateway_id, leg_gateway = %leg.gateway_id,
            "the agent's new softphone leg is not on the gateway of their call");
        return Ok(());
    }
    let target = crate::devices::target(leg.leg_id);
    let gw = &rec.gateway_id;
    if let Some(consulted) = rec.call.agent_peer {
        let cmd = GatewayCommand::Bridge {
            call_id: consulted,
            target,
        };
        return command(state, gw, &cmd).await;
    }
    if rec.call.room.contains(&Member::Agent) {
        let cmd = GatewayCommand::Conference {
            call_id: leg.leg_id,
            room: call.to_string(),
        };
        return command(state, gw, &cmd).await;
    }
    if rec.call.peer == Some(Peer::Agent) {
        if !rec.call.owner.agent_first() {
            command(state, gw, &GatewayCommand::StopMedia { call_id: call }).await?;
        }
        let cmd = GatewayCommand::Bridge {
            call_id: call,
            target,
        };
        return command(state, gw, &cmd).await;
    }
    Ok(())
}

/// Whether `call` rings `agent`'s browser softphone right now.
pub async fn offered_to_softphone(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
) -> anyhow::Result<bool> {
    Ok(load(state, tenant, call)
        .await?
        .is_some_and(|r| r.call.offers.get(&agent) == Some(&Device::Softphone)))
}

/// Applies one ACD operation for the tenant and acts on its events.
pub async fn acd(state: &AppState, tenant: Uuid, op: Op) -> Result<(), AcdError> {
    let mut con = state.redis();
    let _: Result<(), _> = con
        .sadd(crate::call_io::TENANTS_KEY, tenant.to_string())
        .await;
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
