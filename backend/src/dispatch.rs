//! Drives the ACD: a once-a-second tick per tenant with ACD activity (ring timeouts, wrap-up
//! ends, overflow, queue announcements). ACD operations and agents' states are applied by
//! `call_control` (re-exported here), whose calls' machines act on the ACD's events: they ring
//! the agent's browser softphone or desk phone, bridge the answer, withdraw ring-all offers,
//! and hang up what is over.

use crate::{db, state::AppState};
use hotline_acd::Op;
use redis::AsyncCommands;
use uuid::Uuid;

pub use crate::call_io::TENANTS_KEY;

pub use crate::call_control::{acd, agent_state};

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
