//! One-click callbacks from the missed-calls list: the agent's browser softphone stays where it
//! is, the gateway holding it dials the customer through its trunk (showing the number the
//! customer had called), and the answered call is bridged into the softphone. The agent is
//! taken out of the ACD's rotation (not ready, reason `callback`) while the callback lasts and
//! put back afterwards. A callback nobody answers reopens the missed call (one more attempt).
//! The request (`routes::calls::callback`) claims the entry in its own tenant transaction;
//! this module checks the agent and the outbound rules and hands the call to its machine
//! (`call_control::place`, an agent-first `hotline_calls::control` call), which dials,
//! bridges, ends both sides together and frees the agent.
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
    error::{ApiError, ApiResult},
    state::AppState,
};
use hotline_calls::control::Owner;
use redis::AsyncCommands;
use uuid::Uuid;

/// The not-ready reason of an agent on an internal call (`internal.rs` names it too).
pub const INTERNAL_CALL_REASON: &str = "internal_call";

/// The agent's callback leg in progress, if any.
pub async fn current(state: &AppState, tenant: Uuid, agent: Uuid) -> anyhow::Result<Option<Uuid>> {
    let mut r = state.redis();
    let key = crate::call_control::placing_key(tenant, agent);
    let leg: Option<String> = r.get(key).await?;
    Ok(leg.and_then(|l| l.parse().ok()))
}

/// The gateway placing the agent's callback in progress (their softphone leg must stay there).
pub async fn gateway_of_agent(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
) -> anyhow::Result<Option<String>> {
    let Some(leg) = current(state, tenant, agent).await? else {
        return Ok(None);
    };
    Ok(crate::call_control::load(state, tenant, leg)
        .await?
        .map(|rec| rec.gateway_id))
}

/// The agent's softphone leg was replaced by `soft` (a reload) during an answered callback:
/// the customer is bridged into it, when it is on the callback's gateway.
pub async fn reconnect_softphone(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    soft: &crate::devices::SoftLeg,
) -> anyhow::Result<()> {
    let Some(leg) = current(state, tenant, agent).await? else {
        return Ok(());
    };
    crate::call_control::reattach(state, tenant, leg, soft).await
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
    check_agent(state, tenant, agent, true).await
}

/// Checks that `agent` can call a colleague now (nothing leaves the tenant: no trunk needed).
pub async fn preflight_internal(state: &AppState, tenant: Uuid, agent: Uuid) -> ApiResult<Ready> {
    check_agent(state, tenant, agent, false).await
}

async fn check_agent(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    outside: bool,
) -> ApiResult<Ready> {
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
    if outside && !phone.has_trunk(state).await.map_err(ApiError::internal)? {
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
    /// Which feature places it: a callback, a click-to-call, a preview contact.
    pub owner: Owner,
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
    let placed = crate::call_control::Placed {
        number: c.number.to_string(),
        did: c.did.to_string(),
        missed: c.missed,
        was_ready: ready.was_ready,
        inbound: None,
        callee: None,
    };
    place_from_agent(
        state, tenant, agent, ready, c.leg, c.owner, placed, "callback",
    )
    .await
}

/// Places `placed` (leg `leg`, owned by `owner`) from the agent's phone, the agent not ready
/// with `reason` meanwhile if they were Ready. A desk phone rings first (showing the number
/// called); its answer dials the other side.
#[allow(clippy::too_many_arguments)]
async fn place_from_agent(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    ready: Ready,
    leg: Uuid,
    owner: Owner,
    placed: crate::call_control::Placed,
    reason: &str,
) -> ApiResult<()> {
    if ready.was_ready {
        crate::dispatch::agent_state(state, tenant, agent, "not_ready", reason).await?;
    }
    let gateway_id = ready.gateway_id().to_string();
    let desk = match &ready.phone {
        Phone::Desk { ext, .. } => Some(format!("ext:{ext}")),
        Phone::Soft(_) => None,
    };
    let placed =
        crate::call_control::place(state, tenant, leg, owner, agent, &gateway_id, placed, desk)
            .await
            .map_err(ApiError::internal)?;
    if let Err(why) = placed {
        return Err(ApiError::internal(anyhow::anyhow!(
            "call {leg} not placed: {}",
            why.0
        )));
    }
    Ok(())
}

/// Calls a colleague's desk phone (`callee`, `ext:<extension>`) from the agent's phone: an
/// internal call (no outbound rules: nothing leaves the tenant). `colleague`: their id and
/// whether they were Ready.
#[allow(clippy::too_many_arguments)]
pub async fn dial_internal(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    ready: Ready,
    leg: Uuid,
    callee: String,
    caller_ext: String,
    colleague: (Uuid, bool),
) -> ApiResult<()> {
    let placed = crate::call_control::Placed {
        number: callee,
        did: caller_ext,
        missed: None,
        was_ready: ready.was_ready,
        inbound: None,
        callee: Some(colleague),
    };
    let owner = Owner::Internal;
    place_from_agent(
        state,
        tenant,
        agent,
        ready,
        leg,
        owner,
        placed,
        INTERNAL_CALL_REASON,
    )
    .await
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

/// Hangs up the agent's callback leg (their hang-up button). `false`: not their callback.
pub async fn hang_up(state: &AppState, tenant: Uuid, agent: Uuid, leg: Uuid) -> ApiResult<bool> {
    if current(state, tenant, agent)
        .await
        .map_err(ApiError::internal)?
        != Some(leg)
    {
        return Ok(false);
    }
    let input = hotline_calls::control::Input::AgentHangUp;
    crate::call_control::feed(state, tenant, leg, input, None)
        .await
        .map_err(ApiError::internal)?
        .ok();
    Ok(true)
}
