//! Internal calls: one employee calls another by extension, and the company directory with
//! each employee's presence.
//!
//! Two ways in, one call machine (`hotline_calls::control`, owner `Internal`, an agent-first
//! call: the calling side is "the agent", the colleague's leg is the call's own id):
//! - a registered desk phone dials an extension: the gateway authenticates the INVITE with the
//!   extension's digest credentials and publishes `internal_call` ([`on_event`]); the calling
//!   phone's inbound leg keeps ringing (180) while the colleague's desk phone is dialled, and
//!   is answered and bridged when they answer — or refused with their answer (486 busy, 404
//!   unknown extension, 480 not reachable);
//! - the directory's Call button (`POST /agent/internal-call`, [`call_colleague`]): the agent's
//!   softphone (or desk phone, which rings first) calls the colleague's desk phone, like a
//!   click-to-call without the outbound rules (nothing leaves the tenant).
//!
//! A colleague is reached on their registered desk phone; one with only a browser softphone is
//! not reachable by an internal call yet (480 / 409 `colleague_unreachable`). Both sides are
//! busy while the call lasts (`call_control::placing_key`, `callee_key`); a colleague who was
//! Ready in the ACD is set not ready (reason `internal_call`) so no queue call rings them
//! meanwhile, and made Ready again afterwards.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use hotline_calls::control::Owner;
use hotline_wire::calls::presence;
use hotline_wire::gateway::{self as wire, GatewayCommand, GatewayEvent};
use std::collections::HashMap;
use uuid::Uuid;

/// The ACD's not-ready reason while an internal call rings or holds a colleague.
pub const NOT_READY_REASON: &str = crate::callback::INTERNAL_CALL_REASON;

/// A colleague to call: their user id and extension.
struct Colleague {
    id: Uuid,
    extension: String,
}

async fn user_by_extension(
    state: &AppState,
    tenant: Uuid,
    ext: &str,
) -> anyhow::Result<Option<Colleague>> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    let row: Option<(Uuid, String)> =
        sqlx::query_as("SELECT id, extension FROM users WHERE extension = $1 AND active")
            .bind(ext)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(row.map(|(id, extension)| Colleague { id, extension }))
}

/// Whether `user` is on a call or ringing now: an ACD call, a call they place (callback,
/// click-to-call, internal) or an internal call ringing them.
pub async fn busy(state: &AppState, tenant: Uuid, user: Uuid) -> anyhow::Result<bool> {
    let mut r = state.redis();
    let (placing, called): (bool, bool) = redis::pipe()
        .exists(crate::call_control::placing_key(tenant, user))
        .exists(crate::call_control::callee_key(tenant, user))
        .query_async(&mut r)
        .await?;
    if placing || called {
        return Ok(true);
    }
    let acd = crate::agents::agent_acd_state(state, tenant, user).await?;
    Ok(matches!(acd.as_str(), "ringing" | "on_call"))
}

/// Whether extension `ext`'s desk phone is registered (a gateway holds its binding).
async fn registered(state: &AppState, tenant: Uuid, ext: &str) -> anyhow::Result<bool> {
    crate::devices::desk_phone_registered(state, tenant, Some(ext)).await
}

/// Why a colleague cannot be called now (the checks both ways in share).
enum Unreachable {
    Busy,
    NotRegistered,
}

/// Checks the colleague can be rung and takes them out of the ACD's rotation: whether they
/// were Ready (made Ready again when the call ends).
async fn claim_colleague(
    state: &AppState,
    tenant: Uuid,
    c: &Colleague,
) -> anyhow::Result<Result<bool, Unreachable>> {
    if busy(state, tenant, c.id).await? {
        return Ok(Err(Unreachable::Busy));
    }
    if !registered(state, tenant, &c.extension).await? {
        return Ok(Err(Unreachable::NotRegistered));
    }
    let was_ready = crate::agents::agent_acd_state(state, tenant, c.id).await? == "ready";
    if was_ready {
        if let Err(e) =
            crate::dispatch::agent_state(state, tenant, c.id, "not_ready", NOT_READY_REASON).await
        {
            tracing::warn!(%tenant, user = %c.id, error = ?e, "colleague not taken out of the ACD");
        }
    }
    Ok(Ok(was_ready))
}

/// Gateway events: a desk phone dialled an extension.
pub async fn on_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let GatewayEvent::InternalCall {
        gateway_id,
        call_id,
        tenant_id,
        from_ext,
        to,
        ..
    } = ev
    else {
        return Ok(());
    };
    let (tenant, inbound) = (*tenant_id, *call_id);
    let status = match from_desk_phone(state, tenant, gateway_id, inbound, from_ext, to).await {
        Ok(None) => return Ok(()),
        Ok(Some(status)) => status,
        Err(e) => {
            tracing::error!(%tenant, call = %inbound, error = %e, "internal call not placed");
            503
        }
    };
    tracing::info!(%tenant, call = %inbound, from = %from_ext, %to, status, "internal call refused");
    let cmd = GatewayCommand::Hangup {
        call_id: inbound,
        status: Some(status),
    };
    crate::call_io::command(state, gateway_id, &cmd).await
}

/// Places a desk phone's call to extension `to`: `Some(status)` to refuse it with.
async fn from_desk_phone(
    state: &AppState,
    tenant: Uuid,
    gateway_id: &str,
    inbound: Uuid,
    from_ext: &str,
    to: &str,
) -> anyhow::Result<Option<u16>> {
    let Some(caller) = user_by_extension(state, tenant, from_ext).await? else {
        return Ok(Some(403));
    };
    let Some(callee) = user_by_extension(state, tenant, to).await? else {
        return Ok(Some(404));
    };
    if callee.id == caller.id || busy(state, tenant, caller.id).await? {
        return Ok(Some(486));
    }
    let was_ready = match claim_colleague(state, tenant, &callee).await? {
        Ok(r) => r,
        Err(Unreachable::Busy) => return Ok(Some(486)),
        Err(Unreachable::NotRegistered) => return Ok(Some(480)),
    };
    // The caller is on the phone too: no queue call offered to them meanwhile.
    let caller_ready = crate::agents::agent_acd_state(state, tenant, caller.id).await? == "ready";
    if caller_ready {
        if let Err(e) =
            crate::dispatch::agent_state(state, tenant, caller.id, "not_ready", NOT_READY_REASON)
                .await
        {
            tracing::warn!(%tenant, user = %caller.id, error = ?e, "caller not taken out of the ACD");
        }
    }
    let placed = crate::call_control::Placed {
        number: format!("ext:{}", callee.extension),
        did: caller.extension.clone(),
        missed: None,
        was_ready: caller_ready,
        inbound: Some(inbound),
        callee: Some((callee.id, was_ready)),
    };
    let leg = Uuid::new_v4();
    let res = crate::call_control::place(
        state,
        tenant,
        leg,
        Owner::Internal,
        caller.id,
        gateway_id,
        placed,
        None,
    )
    .await?;
    if let Err(why) = res {
        anyhow::bail!("internal call {leg} not placed: {}", why.0);
    }
    tracing::info!(%tenant, call = %leg, %inbound, from = %from_ext, %to, "internal call from a desk phone");
    Ok(None)
}

/// The directory's Call button: `agent` calls colleague `user` from their softphone (or desk
/// phone, which rings first); the colleague (checked active, with `extension`) is rung on
/// their desk phone. The new leg's id.
pub async fn call_colleague(
    state: &AppState,
    tenant: Uuid,
    agent: Uuid,
    my_extension: Option<String>,
    (id, extension): (Uuid, String),
) -> ApiResult<Uuid> {
    let ready = crate::callback::preflight_internal(state, tenant, agent).await?;
    let callee = Colleague { id, extension };
    let was_ready = match claim_colleague(state, tenant, &callee)
        .await
        .map_err(ApiError::internal)?
    {
        Ok(r) => r,
        Err(Unreachable::Busy) => {
            return Err(ApiError::Conflict {
                code: "colleague_busy",
                detail: "this colleague is on a call; try again later".into(),
            })
        }
        Err(Unreachable::NotRegistered) => {
            return Err(ApiError::Conflict {
                code: "colleague_unreachable",
                detail: "this colleague's desk phone is not registered".into(),
            })
        }
    };
    let leg = Uuid::new_v4();
    crate::callback::dial_internal(
        state,
        tenant,
        agent,
        ready,
        leg,
        format!("ext:{}", callee.extension),
        my_extension.unwrap_or_default(),
        (callee.id, was_ready),
    )
    .await?;
    Ok(leg)
}

/// One directory row before its presence: id, name, extension, team.
pub type Person = (Uuid, String, String, Option<String>);

/// Each person's presence ([`presence`]), in one Redis round trip plus the ACD's agents hash.
pub async fn presences(
    state: &AppState,
    tenant: Uuid,
    people: &[Person],
) -> anyhow::Result<HashMap<Uuid, &'static str>> {
    let acd = crate::agents::agent_acd_states(state, tenant).await?;
    let mut pipe = redis::pipe();
    for (id, _, ext, _) in people {
        pipe.exists(crate::call_control::placing_key(tenant, *id))
            .exists(crate::call_control::callee_key(tenant, *id))
            .exists(crate::devices::key(tenant, *id))
            .exists(wire::registration_key(tenant, ext));
    }
    let flags: Vec<bool> = if people.is_empty() {
        Vec::new()
    } else {
        pipe.query_async(&mut state.redis()).await?
    };
    Ok(people
        .iter()
        .zip(flags.chunks(4))
        .map(|((id, ..), f)| {
            let acd = acd.get(id).map(String::as_str).unwrap_or("logged_out");
            let p = if f[0] || f[1] || matches!(acd, "ringing" | "on_call") {
                presence::BUSY
            } else if !f[2] && !f[3] {
                presence::OFFLINE
            } else if matches!(acd, "not_ready" | "break" | "wrap_up") {
                presence::AWAY
            } else {
                presence::AVAILABLE
            };
            (*id, p)
        })
        .collect())
}
