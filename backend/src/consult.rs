//! Consultation before a transfer, and three-way conferences. The agent's connected call goes
//! on hold (music) while the gateway dials an outside number or a colleague's desk phone (the
//! consult leg); answered, the agent's own leg (browser softphone or SIP phone) is bridged to
//! it and they talk. Then the agent:
//! - **completes the transfer**: the caller is bridged to the consulted party and the agent is
//!   released (wrap-up); the two stay connected until either hangs up, which ends both;
//! - **makes a conference**: caller, agent and consulted party join one mixed room on the
//!   gateway (`GatewayCommand::Conference`, room = the caller's call id); the consulted party
//!   leaving keeps caller and agent together; the agent's hang-up ends the whole call; the
//!   agent may also leave the other two together (`transfer`) or drop the consulted party
//!   (`cancel`);
//! - **cancels**: the consult leg is hung up and the caller comes back to the agent.
//!
//! A consult leg that ends on its own leaves the caller on hold (the desktop is told
//! `ended`); a caller who hangs up during the consultation ends the consult leg too
//! (`ivr::outside_key`). State: `{t:<tenant>}:consult:<call>` (the call's consultation) and
//! `{t:<tenant>}:consult:leg:<leg>` (leg → call), in Redis like all call state.

use crate::{call_io::command, dispatch, state::AppState};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway::{GatewayCommand, GatewayEvent};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A call's consultation in progress.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Consult {
    pub leg: Uuid,
    pub agent: Uuid,
    pub gateway_id: String,
    /// `dialling`, `talking`, `conference` or `ended`.
    pub state: String,
}

fn key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:consult:{call}")
}

fn leg_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:consult:leg:{leg}")
}

const TTL_SECS: u64 = 86_400;

/// The call's consultation, if any.
pub async fn current(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> anyhow::Result<Option<Consult>> {
    let mut r = state.redis();
    let raw: Option<String> = r.get(key(tenant, call)).await?;
    Ok(raw.and_then(|s| serde_json::from_str(&s).ok()))
}

async fn save(state: &AppState, tenant: Uuid, call: Uuid, c: &Consult) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(key(tenant, call), serde_json::to_string(c)?, TTL_SECS)
        .await?;
    Ok(())
}

async fn tell(state: &AppState, tenant: Uuid, agent: Uuid, call: Uuid, what: &str) {
    let ev = AgentEvent::Consult {
        call_id: call,
        state: what.into(),
    };
    crate::desktop::publish(state, tenant, agent, &ev).await;
}

/// Starts a consultation: the caller is parked (music), `callee` (`+…` or `ext:<ext>`) is
/// dialled from the call's gateway showing the number the caller had called.
pub async fn start(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
    gw: &str,
    callee: &str,
) -> anyhow::Result<Uuid> {
    let Some(cs) = crate::call_io::load(state, tenant, call).await? else {
        anyhow::bail!("call {call} has no state");
    };
    dispatch::park_caller(state, tenant, gw, call).await?;
    let leg = Uuid::new_v4();
    let c = Consult {
        leg,
        agent,
        gateway_id: gw.to_string(),
        state: "dialling".into(),
    };
    save(state, tenant, call, &c).await?;
    let mut r = state.redis();
    let _: () = r
        .set_ex(leg_key(tenant, leg), call.to_string(), TTL_SECS)
        .await?;
    crate::call_io::watch_outside_leg(state, tenant, call, leg).await?;
    let rec = crate::cdr::OutboundLeg {
        leg,
        parent: Some(call),
        caller: &cs.did,
        callee,
        agent: Some(agent),
        gateway_id: gw,
    };
    crate::call_io::originate(state, tenant, rec).await?;
    let details = serde_json::json!({ "callee": callee });
    crate::cdr::action(state, tenant, call, "consult", agent, details).await?;
    tell(state, tenant, agent, call, "dialling").await;
    Ok(leg)
}

/// Completes the transfer — from the consultation, or by the agent leaving the conference: the
/// caller is bridged to the consulted party, the agent released.
pub async fn complete(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    c: Consult,
) -> anyhow::Result<()> {
    // Leaving a conference: the softphone leg (which stays up) must leave the room too, or
    // the agent would stay in it alone, the room open until their next call.
    let softphone_in_room = match c.state.as_str() {
        "conference" => dispatch::agent_leg(state, tenant, call, &c.gateway_id)
            .await?
            .filter(|(target, _)| target.starts_with("webrtc:"))
            .map(|(_, leg)| leg),
        _ => None,
    };
    dispatch::release_agent(state, tenant, call, c.agent, &c.gateway_id).await?;
    if let Some(leg) = softphone_in_room {
        let cmd = GatewayCommand::Unbridge { call_id: leg };
        command(state, &c.gateway_id, &cmd).await?;
    }
    command(
        state,
        &c.gateway_id,
        &GatewayCommand::StopMedia { call_id: call },
    )
    .await?;
    let cmd = GatewayCommand::Bridge {
        call_id: call,
        target: c.leg.to_string(),
    };
    command(state, &c.gateway_id, &cmd).await?;
    // From now on the two are one call: either hanging up ends the other.
    crate::call_io::join_outside_leg(state, tenant, call, c.leg).await?;
    forget(state, tenant, call, c.leg).await?;
    crate::cdr::action(
        state,
        tenant,
        call,
        "consult_transferred",
        c.agent,
        serde_json::json!({}),
    )
    .await?;
    Ok(())
}

/// Makes a three-way conference of caller, agent and consulted party.
pub async fn conference(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    mut c: Consult,
) -> anyhow::Result<()> {
    let Some((_, agent_leg)) = dispatch::agent_leg(state, tenant, call, &c.gateway_id).await?
    else {
        anyhow::bail!("the agent has no leg to join");
    };
    command(
        state,
        &c.gateway_id,
        &GatewayCommand::StopMedia { call_id: call },
    )
    .await?;
    let room = call.to_string();
    for member in [call, agent_leg, c.leg] {
        let cmd = GatewayCommand::Conference {
            call_id: member,
            room: room.clone(),
        };
        command(state, &c.gateway_id, &cmd).await?;
    }
    c.state = "conference".into();
    save(state, tenant, call, &c).await?;
    off_hold(state, tenant, c.agent, call).await?;
    crate::cdr::action(
        state,
        tenant,
        call,
        "conference",
        c.agent,
        serde_json::json!({}),
    )
    .await?;
    tell(state, tenant, c.agent, call, "conference").await;
    Ok(())
}

/// Ends the consultation: the consult leg is hung up, the caller is back with the agent.
pub async fn cancel(state: &AppState, tenant: Uuid, call: Uuid, c: Consult) -> anyhow::Result<()> {
    forget(state, tenant, call, c.leg).await?;
    crate::call_io::unwatch_outside_leg(state, tenant, call).await?;
    let hang = GatewayCommand::Hangup {
        call_id: c.leg,
        status: None,
    };
    command(state, &c.gateway_id, &hang).await?;
    dispatch::bridge_agent(state, tenant, call, &c.gateway_id).await?;
    off_hold(state, tenant, c.agent, call).await?;
    tell(state, tenant, c.agent, call, "cancelled").await;
    Ok(())
}

/// The caller is no longer on hold (back with the agent, or in the conference): the mark is
/// cleared and the desktop told, as after "Resume".
async fn off_hold(state: &AppState, tenant: Uuid, agent: Uuid, call: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(dispatch::held_key(tenant, call)).await?;
    let ev = AgentEvent::Held {
        call_id: call,
        held: false,
    };
    crate::desktop::publish(state, tenant, agent, &ev).await;
    Ok(())
}

async fn forget(state: &AppState, tenant: Uuid, call: Uuid, leg: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(key(tenant, call)).await?;
    let _: () = r.del(leg_key(tenant, leg)).await?;
    Ok(())
}

/// Gateway events of consult legs: answered → the agent talks to them; ended → the desktop
/// is told (the caller stays on hold, or in the conference with the agent).
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let Some((leg, tenant, answered)) = ev.answer_or_end() else {
        return Ok(());
    };
    let mut r = state.redis();
    let call: Option<String> = r.get(leg_key(tenant, leg)).await?;
    let Some(call) = call.and_then(|c| c.parse::<Uuid>().ok()) else {
        return Ok(());
    };
    let Some(mut c) = current(state, tenant, call).await? else {
        return Ok(());
    };
    if answered {
        if let Some((target, _)) = dispatch::agent_leg(state, tenant, call, &c.gateway_id).await? {
            let cmd = GatewayCommand::Bridge {
                call_id: leg,
                target,
            };
            command(state, &c.gateway_id, &cmd).await?;
        }
        c.state = "talking".into();
        save(state, tenant, call, &c).await?;
        tell(state, tenant, c.agent, call, "talking").await;
        return Ok(());
    }
    let was = std::mem::replace(&mut c.state, "ended".into());
    forget(state, tenant, call, leg).await?;
    crate::call_io::unwatch_outside_leg(state, tenant, call).await?;
    tell(state, tenant, c.agent, call, "ended").await;
    tracing::info!(%tenant, %call, %leg, was = %was, "consulted party left");
    Ok(())
}
