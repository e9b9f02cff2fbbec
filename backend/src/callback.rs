//! One-click callbacks from the missed-calls list: the agent's browser softphone stays where it
//! is, the gateway holding it dials the customer through its trunk (showing the number the
//! customer had called), and the answered call is bridged into the softphone. The agent is
//! taken out of the ACD's rotation (not ready, reason `callback`) while the callback lasts and
//! put back afterwards. A callback nobody answers reopens the missed call (one more attempt).
//! The request (`routes::calls::callback`) claims the entry in its own tenant transaction;
//! this module does what follows in Redis and at the gateway.
//!
//! Click-to-call (`routes::calls::click_to_call`, from a number shown in the SPA or from the
//! tenant's own software with an API key) is the same call without a missed-calls entry:
//! the agent's softphone is the leg that is already up, the customer is dialled and bridged.
//!
//! An agent without a browser softphone but with a registered desk phone (SIP) is called
//! first: their phone rings (showing the customer's number), and once they pick up the
//! customer is dialled from the same gateway and bridged to it. Either side hanging up ends
//! the other.

use crate::{
    call_io::command,
    error::{ApiError, ApiResult},
    state::AppState,
};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway::{GatewayCommand, GatewayEvent};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A callback in progress, stored under [`key`] for the outbound leg.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Callback {
    agent: Uuid,
    /// The missed-calls entry called back; none for click-to-call.
    #[serde(default)]
    missed: Option<Uuid>,
    gateway_id: String,
    answered: bool,
    /// The agent was Ready before: they are made Ready again afterwards.
    was_ready: bool,
    /// Desk phone calls, on the customer's leg: the agent's desk phone leg it is bridged to.
    #[serde(default)]
    desk: Option<Uuid>,
    /// Desk phone calls, on the desk phone's leg: the customer leg to place once the agent
    /// picks up (set to `None` once placed).
    #[serde(default)]
    then_dial: Option<ThenDial>,
    /// This record is the agent's desk phone leg (not the customer's).
    #[serde(default)]
    is_desk: bool,
}

/// What to dial once the agent's desk phone is answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ThenDial {
    leg: Uuid,
    number: String,
    did: String,
}

fn key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:callback:{leg}")
}

fn agent_key(tenant: Uuid, agent: Uuid) -> String {
    format!("{{t:{tenant}}}:agent:{agent}:callback")
}

const TTL_SECS: u64 = 4 * 3600;

/// The agent's callback leg in progress, if any.
pub async fn current(state: &AppState, tenant: Uuid, agent: Uuid) -> anyhow::Result<Option<Uuid>> {
    let mut r = state.redis();
    let leg: Option<String> = r.get(agent_key(tenant, agent)).await?;
    Ok(leg.and_then(|l| l.parse().ok()))
}

/// The callback the agent is making, if any: its customer leg and record.
async fn current_rec(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
) -> anyhow::Result<Option<(Uuid, Callback)>> {
    let Some(leg) = current(state, tenant, agent).await? else {
        return Ok(None);
    };
    let mut r = state.redis();
    let raw: Option<String> = r.get(key(tenant, leg)).await?;
    Ok(raw
        .and_then(|s| serde_json::from_str::<Callback>(&s).ok())
        .map(|rec| (leg, rec)))
}

/// The gateway placing the agent's callback in progress (their softphone leg must stay there).
pub async fn gateway_of_agent(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
) -> anyhow::Result<Option<String>> {
    Ok(current_rec(state, tenant, agent)
        .await?
        .map(|(_, rec)| rec.gateway_id))
}

/// The agent's softphone leg was replaced by `soft` (a reload) during an answered callback:
/// the customer is bridged into it, when it is on the callback's gateway.
pub async fn reconnect_softphone(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    soft: &crate::devices::SoftLeg,
) -> anyhow::Result<()> {
    let Some((leg, rec)) = current_rec(state, tenant, agent).await? else {
        return Ok(());
    };
    if !rec.answered || rec.desk.is_some() || rec.is_desk {
        return Ok(());
    }
    if rec.gateway_id != soft.gateway_id {
        tracing::warn!(%tenant, %leg, %agent, "the agent's new softphone leg is not on the callback's gateway");
        return Ok(());
    }
    let cmd = GatewayCommand::Bridge {
        call_id: leg,
        target: crate::devices::target(soft.leg_id),
    };
    command(state, &rec.gateway_id, &cmd).await
}

/// The agent's phone for a callback.
enum Phone {
    /// The browser softphone's WebRTC leg (already up).
    Soft(crate::devices::SoftLeg),
    /// A registered desk phone: its extension and the gateway it registered through.
    Desk { ext: String, gateway_id: String },
}

impl Phone {
    fn gateway_id(&self) -> &str {
        match self {
            Phone::Soft(s) => &s.gateway_id,
            Phone::Desk { gateway_id, .. } => gateway_id,
        }
    }

    /// Whether the phone's gateway announces an outbound trunk (a gateway too old to say is
    /// taken at its word).
    async fn has_trunk(&self, state: &AppState) -> anyhow::Result<bool> {
        let mut r = state.redis();
        let trunk: Option<String> = r
            .hget(
                hotline_wire::gateway::gateway_key(self.gateway_id()),
                "trunk",
            )
            .await?;
        Ok(trunk.as_deref() != Some("false"))
    }
}

/// An agent checked free to call back (their softphone is connected or their desk phone
/// registered, no call or callback in progress), from [`preflight`].
pub struct Ready {
    phone: Phone,
    was_ready: bool,
}

impl Ready {
    /// The gateway that places the call (the softphone's, or the desk phone's registrar).
    pub fn gateway_id(&self) -> &str {
        self.phone.gateway_id()
    }
}

/// The agent's desk phone, when their extension is registered: `(ext, gateway)`.
async fn desk_phone(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
) -> anyhow::Result<Option<(String, String)>> {
    let Some(ext) = crate::devices::extension(state, tenant, agent).await? else {
        return Ok(None);
    };
    let mut r = state.redis();
    let (contact, gw): (Option<String>, Option<String>) = redis::cmd("HMGET")
        .arg(hotline_wire::gateway::registration_key(tenant, &ext))
        .arg("contact")
        .arg("gateway_id")
        .query_async(&mut r)
        .await?;
    Ok(match (contact, gw) {
        (Some(_), Some(gw)) if !gw.is_empty() => Some((ext, gw)),
        _ => None,
    })
}

/// Checks that `agent` can make a callback now.
pub async fn preflight(state: &AppState, tenant: Uuid, agent: Uuid) -> ApiResult<Ready> {
    let busy = |detail: &str| ApiError::Conflict {
        code: "agent_busy",
        detail: detail.into(),
    };
    let phone = match crate::devices::current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
    {
        Some(soft) => Phone::Soft(soft),
        None => match desk_phone(state, tenant, agent)
            .await
            .map_err(ApiError::internal)?
        {
            Some((ext, gateway_id)) => Phone::Desk { ext, gateway_id },
            None => {
                return Err(ApiError::Conflict {
                    code: "no_softphone",
                    detail: "connect the browser softphone (or register your desk phone) first"
                        .into(),
                })
            }
        },
    };
    if !phone.has_trunk(state).await.map_err(ApiError::internal)? {
        return Err(ApiError::Conflict {
            code: "no_trunk",
            detail: "no outbound trunk is configured on the media gateway, so calls to outside \
                     numbers cannot be placed: the platform operator sets one \
                     (HOTLINE_GW_TRUNK, see docs/gateway.md)"
                .into(),
        });
    }
    if current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
        .is_some()
    {
        return Err(busy("finish the current callback first"));
    }
    let acd = crate::agents::agent_acd_state(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?;
    if matches!(acd.as_str(), "ringing" | "on_call") {
        return Err(busy("finish the current call first"));
    }
    Ok(Ready {
        phone,
        was_ready: acd == "ready",
    })
}

/// What to dial for a claimed missed-calls entry.
pub struct Claimed<'a> {
    /// The entry claimed; `None` for a click-to-call.
    pub missed: Option<Uuid>,
    /// The outbound leg's call id.
    pub leg: Uuid,
    /// The customer's number.
    pub number: &'a str,
    /// The number they had called (shown to them as the caller).
    pub did: &'a str,
}

/// Dials the customer of an entry the request has claimed (its transaction committed): the
/// agent leaves the ACD's rotation, the gateway of their softphone places the call.
pub async fn dial(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    ready: Ready,
    c: Claimed<'_>,
) -> ApiResult<()> {
    // The outbound rules (caller ID, destination, limits) before anything changes.
    let verdict = crate::dial_policy::check(state, tenant, Some(c.did), c.number)
        .await
        .map_err(ApiError::internal)?;
    if let Err(refusal) = verdict {
        undo_claim(state, tenant, &c, &refusal)
            .await
            .map_err(ApiError::internal)?;
        return Err(refusal.into_api("number"));
    }
    if ready.was_ready {
        crate::dispatch::agent_state(state, tenant, agent, "not_ready", "callback").await?;
    }
    let gateway_id = ready.gateway_id().to_string();
    let rec = Callback {
        agent,
        missed: c.missed,
        gateway_id: gateway_id.clone(),
        answered: false,
        was_ready: ready.was_ready,
        desk: None,
        then_dial: None,
        is_desk: false,
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(agent_key(tenant, agent), c.leg.to_string(), TTL_SECS)
        .await?;
    if let Phone::Desk { ext, .. } = &ready.phone {
        // The desk phone rings first (showing the customer's number); its answer places the
        // customer's leg.
        let desk_leg = Uuid::new_v4();
        let first = Callback {
            is_desk: true,
            then_dial: Some(ThenDial {
                leg: c.leg,
                number: c.number.to_string(),
                did: c.did.to_string(),
            }),
            ..rec
        };
        save(state, tenant, desk_leg, &first).await?;
        let callee = format!("ext:{ext}");
        let cdr = crate::cdr::OutboundLeg {
            leg: desk_leg,
            parent: None,
            caller: c.number,
            callee: &callee,
            agent: Some(agent),
            gateway_id: &gateway_id,
        };
        crate::call_io::originate(state, tenant, cdr)
            .await
            .map_err(ApiError::internal)?;
        return Ok(());
    }
    save(state, tenant, c.leg, &rec).await?;
    place(state, tenant, agent, &gateway_id, c.leg, c.number, c.did)
        .await
        .map_err(ApiError::internal)
}

/// A call the outbound rules refused after its request claimed something: a missed-calls
/// entry is open again; a preview contact's attempt is settled with the refusal (`failed`,
/// like the dialer's refused contacts) or, for a limit, the contact goes back to `pending`.
async fn undo_claim(
    state: &AppState,
    tenant: Uuid,
    c: &Claimed<'_>,
    refusal: &crate::dial_policy::Refusal,
) -> anyhow::Result<()> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    if let Some(missed) = c.missed {
        sqlx::query(
            "UPDATE missed_calls SET handled_at = NULL, handled_by = NULL, callback_call_id = NULL
              WHERE id = $1 AND callback_call_id = $2",
        )
        .bind(missed)
        .bind(c.leg)
        .execute(&mut *tx)
        .await?;
    }
    let contact: Option<Uuid> = if refusal.is_limit() {
        sqlx::query_scalar("DELETE FROM campaign_attempts WHERE call_id = $1 RETURNING contact_id")
            .bind(c.leg)
            .fetch_optional(&mut *tx)
            .await?
    } else {
        sqlx::query_scalar(
            "UPDATE campaign_attempts SET ended_at = now(), outcome = $2
              WHERE call_id = $1 AND ended_at IS NULL RETURNING contact_id",
        )
        .bind(c.leg)
        .bind(refusal.code())
        .fetch_optional(&mut *tx)
        .await?
    };
    if let Some(contact) = contact {
        if refusal.is_limit() {
            sqlx::query(
                "UPDATE campaign_contacts SET status = 'pending', reserved_by = NULL,
                        attempts = greatest(attempts - 1, 0), updated_at = now()
                  WHERE id = $1 AND status = 'dialing' AND $2::text IS NOT NULL",
            )
        } else {
            sqlx::query(
                "UPDATE campaign_contacts SET status = 'failed', last_outcome = $2,
                        reserved_by = NULL, updated_at = now()
                  WHERE id = $1 AND status = 'dialing'",
            )
        }
        .bind(contact)
        .bind(refusal.code())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn save(state: &AppState, tenant: Uuid, leg: Uuid, rec: &Callback) -> ApiResult<()> {
    let json =
        serde_json::to_string(rec).map_err(|e| ApiError::internal(anyhow::Error::from(e)))?;
    let mut r = state.redis();
    let _: () = r.set_ex(key(tenant, leg), json, TTL_SECS).await?;
    Ok(())
}

/// Dials the customer's leg (its CDR first).
async fn place(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    gateway_id: &str,
    leg: Uuid,
    number: &str,
    did: &str,
) -> anyhow::Result<()> {
    let cdr = crate::cdr::OutboundLeg {
        leg,
        parent: None,
        caller: did,
        callee: number,
        agent: Some(agent),
        gateway_id,
    };
    crate::call_io::originate(state, tenant, cdr).await
}

/// Hangs up the agent's callback leg (their hang-up button).
pub async fn hang_up(state: &AppState, tenant: Uuid, agent: Uuid, leg: Uuid) -> ApiResult<bool> {
    let Some((_, rec)) = current_rec(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
        .filter(|(current, _)| *current == leg)
    else {
        return Ok(false);
    };
    let cmd = GatewayCommand::Hangup {
        call_id: leg,
        status: None,
    };
    command(state, &rec.gateway_id, &cmd)
        .await
        .map_err(ApiError::internal)?;
    Ok(true)
}

/// Gateway events of callback legs: answered → bridged into the softphone; ended → the agent
/// is told, put back in rotation, and an unanswered callback reopens the missed call.
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let Some((leg, tenant, answered)) = ev.answer_or_end() else {
        return Ok(());
    };
    let mut r = state.redis();
    let raw: Option<String> = r.get(key(tenant, leg)).await?;
    let Some(mut rec) = raw.and_then(|s| serde_json::from_str::<Callback>(&s).ok()) else {
        return Ok(());
    };
    // The agent's desk phone leg: picked up → dial the customer; put down → end it all.
    if let Some(next) = rec.then_dial.clone() {
        if answered {
            rec.then_dial = None;
            rec.answered = true;
            let _: () = r
                .set_ex(key(tenant, leg), serde_json::to_string(&rec)?, TTL_SECS)
                .await?;
            let customer = Callback {
                desk: Some(leg),
                answered: false,
                is_desk: false,
                ..rec.clone()
            };
            let _: () = r
                .set_ex(
                    key(tenant, next.leg),
                    serde_json::to_string(&customer)?,
                    TTL_SECS,
                )
                .await?;
            return place(
                state,
                tenant,
                rec.agent,
                &rec.gateway_id,
                next.leg,
                &next.number,
                &next.did,
            )
            .await;
        }
        // Never picked up: the customer was not dialled; the callback ends here.
        let _: () = r.del(key(tenant, leg)).await?;
        return finish(state, tenant, next.leg, rec).await;
    }
    if rec.is_desk {
        if !answered {
            // The agent put the desk phone down: the customer's leg ends too (its own
            // hang-up event finishes the callback).
            let _: () = r.del(key(tenant, leg)).await?;
            let customer: Option<String> = r.get(agent_key(tenant, rec.agent)).await?;
            if let Some(c) = customer.and_then(|c| c.parse::<Uuid>().ok()) {
                hang(state, &rec.gateway_id, c).await?;
            }
        }
        return Ok(());
    }
    if answered {
        rec.answered = true;
        let _: () = r
            .set_ex(key(tenant, leg), serde_json::to_string(&rec)?, TTL_SECS)
            .await?;
        if let Some(desk) = rec.desk {
            let cmd = GatewayCommand::Bridge {
                call_id: leg,
                target: desk.to_string(),
            };
            command(state, &rec.gateway_id, &cmd).await?;
            let connected = AgentEvent::Connected { call_id: leg };
            crate::desktop::publish(state, tenant, rec.agent, &connected).await;
            return Ok(());
        }
        match crate::devices::current(state, tenant, rec.agent).await? {
            Some(soft) if soft.gateway_id == rec.gateway_id => {
                let cmd = GatewayCommand::Bridge {
                    call_id: leg,
                    target: crate::devices::target(soft.leg_id),
                };
                command(state, &rec.gateway_id, &cmd).await?;
            }
            // (A reload re-attaches the leg on the callback's gateway, then bridges it.)
            Some(_) | None => {
                tracing::warn!(%tenant, %leg, "callback answered but the agent's softphone is gone or on another gateway");
            }
        }
        let connected = AgentEvent::Connected { call_id: leg };
        crate::desktop::publish(state, tenant, rec.agent, &connected).await;
        return Ok(());
    }
    let _: () = r.del(key(tenant, leg)).await?;
    if let Some(desk) = rec.desk {
        hang(state, &rec.gateway_id, desk).await?;
    }
    let agent = rec.agent;
    finish(state, tenant, leg, rec).await?;
    // Refused by the gateway for the tenant's outbound limits: the desktop says so (after
    // `ended`, so its note shows the reason rather than a plain end).
    if let Some(reason) = crate::dial_policy::gateway_refusal(ev) {
        let why = AgentEvent::OfferWithdrawn {
            call_id: leg,
            reason: reason.into(),
        };
        crate::desktop::publish(state, tenant, agent, &why).await;
    }
    Ok(())
}

async fn hang(state: &AppState, gw: &str, leg: Uuid) -> anyhow::Result<()> {
    let cmd = GatewayCommand::Hangup {
        call_id: leg,
        status: None,
    };
    command(state, gw, &cmd).await
}

/// The callback (customer leg `leg`) is over: the agent is told and put back in rotation;
/// an unanswered callback reopens its missed call.
async fn finish(state: &AppState, tenant: Uuid, leg: Uuid, rec: Callback) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r.del(agent_key(tenant, rec.agent)).await?;
    if let (false, Some(missed)) = (rec.answered, rec.missed) {
        let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
        // Reopen unless the number missed again meanwhile (then that entry stands).
        sqlx::query(
            "UPDATE missed_calls m SET handled_at = NULL, handled_by = NULL
              WHERE m.id = $1 AND m.callback_call_id = $2
                AND NOT EXISTS (SELECT 1 FROM missed_calls o
                                 WHERE o.number = m.number AND o.handled_at IS NULL)",
        )
        .bind(missed)
        .bind(leg)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    let ended = AgentEvent::Ended { call_id: leg };
    crate::desktop::publish(state, tenant, rec.agent, &ended).await;
    if rec.was_ready
        && crate::agents::agent_acd_state(state, tenant, rec.agent).await? == "not_ready"
    {
        if let Err(e) = crate::dispatch::agent_state(state, tenant, rec.agent, "ready", "").await {
            tracing::warn!(%tenant, agent = %rec.agent, error = ?e, "agent not made ready after callback");
        }
    }
    Ok(())
}
