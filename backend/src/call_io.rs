//! The call-control shell's primitives on one call, below every feature that handles calls
//! (IVR flows, ACD dispatch, consultation, callbacks, campaigns): the call's record in Redis
//! ([`CallState`]), gateway commands, the tenant's ACD keys and queue sync, music on hold, the
//! missed-calls list, and the outside legs an IVR transfer joins a call to.
//! Nothing here reacts to events: the features above decide, these perform.

use crate::{db, state::AppState};
use hotline_acd::{redis_acd, Op, QueueRec};
use hotline_flows::Run;
use hotline_wire::gateway::{self as wire, GatewayCommand};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
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

pub(crate) fn bridge_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:ivr:bridge:{leg}")
}

/// The outside leg a call was transferred to (the reverse of [`bridge_key`]).
pub(crate) fn outside_key(tenant: Uuid, call: Uuid) -> String {
    format!("{{t:{tenant}}}:ivr:outside:{call}")
}

/// Tenants with ACD activity (ticked every second).
pub const TENANTS_KEY: &str = "acd:tenants";

/// The ACD keys of a tenant.
pub fn acd_keys(tenant: Uuid) -> redis_acd::Keys {
    redis_acd::Keys::for_tenant(&tenant.to_string())
}

pub(crate) const STATE_TTL_SECS: u64 = 86_400;

pub(crate) fn now_ms() -> u64 {
    chrono::Utc::now().timestamp_millis().max(0) as u64
}

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
            strategy: match q.strategy.as_str() {
                "skills_based" => "skills",
                "round_robin" => "round_robin",
                "fewest_calls" => "fewest_calls",
                "ring_all" => "ring_all",
                _ => "longest_idle",
            }
            .into(),
            skills: q.skills,
            ring_timeout_ms: state.cfg.ring_timeout_secs.max(1) * 1000,
            max_wait_ms: q.max_wait_seconds as u64 * 1000,
            overflow: hotline_calls::queue_exit::acd_overflow(
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

/// A transfer to an outside number ends whole: when the outside leg ends (after talking, or
/// because the number did not answer) the caller is hung up too, not left hearing nothing;
/// when the caller hangs up, so is the outside leg.
pub(crate) async fn outside_leg_ended(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> anyhow::Result<()> {
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

/// The gateway holding a call.
pub async fn gateway_of(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
) -> anyhow::Result<Option<String>> {
    Ok(crate::call_io::load(state, tenant, call)
        .await?
        .map(|c| c.gateway_id))
}

/// The ACD connected an outbound campaign's `call` to `agent`: its attempt and its contact
/// remember the agent (whose desktop shows the contact and the script).
pub async fn campaign_connected(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    agent: Uuid,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let contact: Option<Uuid> = sqlx::query_scalar(
        "UPDATE campaign_attempts SET agent_id = $2 WHERE call_id = $1 RETURNING contact_id",
    )
    .bind(call)
    .bind(agent)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(contact) = contact {
        sqlx::query("UPDATE campaign_contacts SET agent_id = $2 WHERE id = $1")
            .bind(contact)
            .bind(agent)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
