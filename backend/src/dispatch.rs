//! Connects the ACD to the calls: agents' state changes and ticks become ACD operations, and
//! the ACD's events go to each call's machine (`call_control`), which rings the agent's
//! browser softphone or desk phone, bridges the answer, withdraws ring-all offers, and hangs
//! up what is over. A once-a-second tick drives ring timeouts, wrap-up ends and overflow.

use crate::{call_io::now_ms, db, state::AppState};
use hotline_acd::{redis_acd, AcdError, Op};
use redis::AsyncCommands;
use uuid::Uuid;

pub use crate::call_io::TENANTS_KEY;

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
    if let Err(e) = crate::call_control::on_acd_events(state, tenant, evs).await {
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
