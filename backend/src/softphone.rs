//! The agent's browser softphone: a WebRTC leg on a media gateway that stays up across calls
//! (a "nailed-up" connection). The browser sends its SDP offer here; the backend picks a live
//! gateway, asks it for a leg (`POST /webrtc/legs` on the gateway's HTTP listener, announced
//! in its heartbeat) and returns the answer. Offered calls are then bridged into that leg
//! instead of ringing a SIP phone (see `dispatch`). A browser that reloads sends a new offer:
//! the new leg replaces the old one and, when the agent is on a call, the call is bridged to
//! the new leg at once — the caller hears silence meanwhile, never a hang-up.
//!
//! **Invariant: an agent's leg serves only calls of its own gateway** (a gateway bridges only
//! what it holds). With several gateways the leg follows the call: an offer tells the desktop
//! the call's gateway (`AgentEvent::Offer.gateway_id`); a desktop whose leg is elsewhere
//! renegotiates there while the call rings (`attach` with that gateway), the new leg replacing
//! the old one. Accepting does not wait for the move: a call answered before the leg arrives is
//! not bridged (`call_control` finds no leg on the call's gateway, the caller keeps
//! hearing music) and is bridged by `attach` when the leg arrives. Calls the backend places for
//! the agent (callbacks, click-to-call, preview dialling) go out from the leg's gateway.

use crate::devices::{current, desk_phone_registered, extension, key, SoftLeg};
use crate::{error::ApiError, state::AppState};
use hotline_wire::calls::AgentEvent;
use hotline_wire::gateway as wire;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What a gateway's heartbeat says about it, when it is alive (the heartbeat has not expired)
/// and serves WebRTC (it announces an HTTP listener).
struct Candidate {
    http: String,
    draining: bool,
    /// It publishes its events to the stream this backend reads.
    ours: bool,
}

async fn candidate(state: &AppState, id: &str) -> anyhow::Result<Option<Candidate>> {
    let mut r = state.redis();
    let (http, draining, events): (Option<String>, Option<String>, Option<String>) =
        redis::cmd("HMGET")
            .arg(wire::gateway_key(id))
            .arg("http")
            .arg("draining")
            .arg("events")
            .query_async(&mut r)
            .await?;
    Ok(http.filter(|h| !h.is_empty()).map(|http| Candidate {
        http,
        draining: draining.as_deref() == Some("true"),
        ours: events.as_deref() == Some(state.cfg.call_events_stream.as_str()),
    }))
}

/// Where a new leg goes: `required` (the gateway of a call the leg must serve; draining or
/// not) when it is alive with WebRTC, else `preferred` (where the old leg was) unless it is
/// draining, else a gateway that is not draining and publishes to this backend's event
/// stream, else any live one with WebRTC.
async fn pick_gateway(
    state: &AppState,
    required: Option<&str>,
    preferred: Option<&str>,
) -> anyhow::Result<Option<(String, String)>> {
    if let Some(id) = required {
        if let Some(c) = candidate(state, id).await? {
            return Ok(Some((id.to_string(), c.http)));
        }
    }
    if let Some(id) = preferred {
        if let Some(c) = candidate(state, id).await?.filter(|c| !c.draining) {
            return Ok(Some((id.to_string(), c.http)));
        }
    }
    let mut r = state.redis();
    let mut ids: Vec<String> = r.smembers(wire::GATEWAYS_KEY).await?;
    ids.sort();
    let mut fallback = None;
    for id in ids {
        let Some(c) = candidate(state, &id).await? else {
            continue;
        };
        if c.ours && !c.draining {
            return Ok(Some((id, c.http)));
        }
        fallback.get_or_insert((id, c.http));
    }
    Ok(fallback)
}

/// The gateway the agent's leg must be on when the browser does not name one: that of the
/// call the agent is offered or connected to, else that of their callback in progress.
async fn gateway_of_agent_call(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
) -> anyhow::Result<Option<String>> {
    let rec = crate::agents::agent_rec(state, tenant, user).await?;
    let acd_call = rec
        .filter(|a| a.state == "ringing" || a.state == "on_call")
        .and_then(|a| a.call.parse::<Uuid>().ok());
    if let Some(call) = acd_call {
        if let Some(gw) = crate::call_io::gateway_of(state, tenant, call).await? {
            return Ok(Some(gw));
        }
    }
    crate::callback::gateway_of_agent(state, tenant, user).await
}

#[derive(Serialize)]
struct LegRequest<'a> {
    leg_id: Uuid,
    tenant_id: Uuid,
    user_id: Uuid,
    sdp: &'a str,
}

#[derive(Deserialize)]
struct LegAnswer {
    sdp: String,
}

#[derive(Deserialize)]
struct GatewayProblem {
    #[serde(default)]
    detail: String,
    #[serde(default)]
    title: String,
}

/// Creates the agent's softphone leg from the browser's offer; returns the SDP answer, the
/// gateway the leg is on and the leg's id. `gateway` (from the desktop, told by an offer where the call is) puts
/// the leg on that gateway or fails (422); without it the leg goes where the agent's call is,
/// else where their old leg was, else on any live gateway with WebRTC.
pub async fn attach(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    offer: &str,
    gateway: Option<&str>,
) -> Result<(String, String, Uuid), ApiError> {
    if !offer.trim_start().starts_with("v=0") || !offer.contains("m=audio") {
        return Err(ApiError::field(
            "sdp",
            "must be an SDP offer with an audio section",
        ));
    }
    let old = current(state, tenant, user)
        .await
        .map_err(ApiError::internal)?;
    let (gateway_id, http) = match gateway {
        Some(g) => {
            let c = if g.is_empty() || g.len() > 200 {
                None
            } else {
                candidate(state, g).await.map_err(ApiError::internal)?
            };
            let c = c.ok_or_else(|| {
                ApiError::field(
                    "gateway_id",
                    format!("no live media gateway with WebRTC is called {g:?}"),
                )
            })?;
            // A leg serving a call stays on its gateway.
            if let Some(call) = crate::agents::agent_call(state, tenant, user).await? {
                let at = crate::call_io::gateway_of(state, tenant, call)
                    .await
                    .map_err(ApiError::internal)?;
                if at.as_deref().is_some_and(|at| at != g) {
                    return Err(ApiError::Conflict {
                        code: "call_elsewhere",
                        detail: "your call is on another media gateway: the softphone stays there until it ends".into(),
                    });
                }
            }
            (g.to_string(), c.http)
        }
        None => {
            let required = gateway_of_agent_call(state, tenant, user)
                .await
                .map_err(ApiError::internal)?;
            pick_gateway(
                state,
                required.as_deref(),
                old.as_ref().map(|o| o.gateway_id.as_str()),
            )
            .await
            .map_err(ApiError::internal)?
            .ok_or_else(|| ApiError::Unavailable("no media gateway is running".into()))?
        }
    };
    let leg_id = Uuid::new_v4();
    let resp = state
        .http
        .post(format!("http://{http}/webrtc/legs"))
        .json(&LegRequest {
            leg_id,
            tenant_id: tenant,
            user_id: user,
            sdp: offer,
        })
        .timeout(std::time::Duration::from_secs(5))
        .send()
        .await
        .map_err(|e| ApiError::Unavailable(format!("media gateway unreachable: {e}")))?;
    let status = resp.status();
    if status.is_client_error() {
        let p: Option<GatewayProblem> = resp.json().await.ok();
        let why = p
            .map(|p| {
                if p.detail.is_empty() {
                    p.title
                } else {
                    p.detail
                }
            })
            .unwrap_or_else(|| format!("refused with {status}"));
        return Err(ApiError::field("sdp", why));
    }
    if !status.is_success() {
        return Err(ApiError::Unavailable(format!(
            "media gateway answered {status}"
        )));
    }
    let answer: LegAnswer = resp
        .json()
        .await
        .map_err(|e| ApiError::Unavailable(format!("media gateway answer unreadable: {e}")))?;
    let mut r = state.redis();
    let _: () = r
        .hset_multiple(
            key(tenant, user),
            &[
                ("gateway_id", gateway_id.clone()),
                ("leg_id", leg_id.to_string()),
                ("http", http.clone()),
            ],
        )
        .await?;
    // The browser reloaded during a call, or the leg moved to the gateway of a call answered
    // while it moved: what the agent is connected to is bridged into the new leg. The leg is
    // stored before the agent's call is read, so a call answered meanwhile either finds this
    // leg when it is bridged (`call_control`) or is found here and bridged now.
    let leg = SoftLeg {
        gateway_id: gateway_id.clone(),
        leg_id,
        http,
    };
    reconnect(state, tenant, user, &leg)
        .await
        .map_err(ApiError::internal)?;
    if let Some(old) = old.filter(|o| o.leg_id != leg_id) {
        close_leg(state, &old).await;
    }
    Ok((answer.sdp, gateway_id, leg_id))
}

/// Ends the agent's softphone leg (logout, or the browser says goodbye).
pub async fn detach(state: &AppState, tenant: Uuid, user: Uuid) -> Result<(), ApiError> {
    if let Some(old) = current(state, tenant, user)
        .await
        .map_err(ApiError::internal)?
    {
        let mut r = state.redis();
        let _: () = r.del(key(tenant, user)).await?;
        close_leg(state, &old).await;
    }
    Ok(())
}

async fn close_leg(state: &AppState, leg: &SoftLeg) {
    let url = format!("http://{}/webrtc/legs/{}", leg.http, leg.leg_id);
    if let Err(e) = state.http.delete(url).send().await {
        tracing::warn!(leg = %leg.leg_id, error = %e, "closing a softphone leg failed");
    }
}

/// Deletes the agent's softphone record only if it still names `leg` (a reload or a move may
/// have replaced it meanwhile: then the newer leg stays).
const DELETE_IF_LEG: &str = r"
if redis.call('HGET', KEYS[1], 'leg_id') == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0";

/// The agent's softphone leg `leg` is gone: the gateway reported it ended (`WebrtcClosed`:
/// ICE disconnected, the browser idle for 30 s — it vanished —, DTLS closed, an error), or the
/// desktop saw its connection fail (`close`: the gateway is told to drop it too). Nothing
/// happens unless it is still the agent's current leg. Then the record goes (offers no longer
/// ring a dead desktop) and, unless a registered desk phone can take their calls:
/// - a ready agent becomes not ready with the built-in reason `softphone_lost`;
/// - an offer ringing on that desktop fails at once (`OfferWithdrawn` `softphone_lost`).
///
/// An agent on a call keeps it (the caller hears silence; a reconnect re-bridges it). The
/// desktop is told (`AgentEvent::SoftphoneLost`). Returns whether the leg was current.
pub async fn lost(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    leg: Uuid,
    reason: &str,
    close: bool,
) -> anyhow::Result<bool> {
    let old = current(state, tenant, user).await?;
    let mut r = state.redis();
    let removed: i64 = redis::Script::new(DELETE_IF_LEG)
        .key(key(tenant, user))
        .arg(leg.to_string())
        .invoke_async(&mut r)
        .await?;
    if removed == 0 {
        return Ok(false);
    }
    tracing::info!(%tenant, %user, %leg, reason, "softphone lost");
    if close {
        if let Some(old) = old.filter(|o| o.leg_id == leg) {
            close_leg(state, &old).await;
        }
    }
    let ext = extension(state, tenant, user).await?;
    let desk = desk_phone_registered(state, tenant, ext.as_deref()).await?;
    let rec = crate::agents::agent_rec(state, tenant, user).await?;
    let mut not_ready = false;
    match rec {
        Some(a) if a.state == "ready" && !desk => {
            let key = hotline_wire::api::builtin_reasons::SOFTPHONE_LOST;
            match crate::dispatch::agent_state(state, tenant, user, "not_ready", key).await {
                Ok(()) => {
                    crate::agents::record_acd_not_ready(state, tenant, user, key).await?;
                    not_ready = true;
                }
                // An offer arrived meanwhile: it rings a desktop without a leg and fails
                // (ring-no-answer) or the agent reconnects in time.
                Err(e) => {
                    tracing::warn!(%tenant, %user, error = ?e, "softphone lost: state not changed")
                }
            }
        }
        Some(a) if a.state == "ringing" => {
            if let Ok(call) = a.call.parse::<Uuid>() {
                if crate::call_control::offered_to_softphone(state, tenant, call, user).await? {
                    let input = hotline_calls::control::Input::OfferFailed {
                        agent: user,
                        why: "softphone_lost".into(),
                    };
                    crate::call_control::feed(state, tenant, call, input, None)
                        .await?
                        .ok();
                    not_ready = true;
                }
            }
        }
        _ => {}
    }
    let ev = AgentEvent::SoftphoneLost {
        reason: reason.to_string(),
        not_ready,
    };
    crate::desktop::publish(state, tenant, user, &ev).await;
    Ok(true)
}

/// Gateway events about softphone legs: a leg that ended (`WebrtcClosed`) is [`lost`].
pub async fn on_gateway_event(state: &AppState, ev: &wire::GatewayEvent) -> anyhow::Result<()> {
    if let wire::GatewayEvent::WebrtcClosed {
        leg_id,
        tenant_id,
        user_id,
        reason,
    } = ev
    {
        lost(state, *tenant_id, *user_id, *leg_id, reason, false).await?;
    }
    Ok(())
}

/// The agent's softphone leg was replaced by `leg` (a reload, or a move to the gateway of the
/// call they answered): what the agent is connected to is bridged into it — the caller (unless
/// on hold), the consulted party while they talk, or the conference room — or, with no ACD
/// call, the callback they are making. Nothing is done from a gateway the leg is not on.
async fn reconnect(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    leg: &crate::devices::SoftLeg,
) -> anyhow::Result<()> {
    let call = crate::agents::agent_rec(state, tenant, user)
        .await?
        .filter(|a| a.state == "on_call")
        .and_then(|a| a.call.parse::<Uuid>().ok());
    let Some(call) = call else {
        return crate::callback::reconnect_softphone(state, tenant, user, leg).await;
    };
    crate::call_control::reattach(state, tenant, call, leg).await
}
