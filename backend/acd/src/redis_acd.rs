//! The ACD in Redis: [`crate::model`]'s rules in one Lua script (`acd.lua`), atomic per call.

use crate::model::{AcdError, AgentRec, CallRec, Event, Op, QueueRec};
use std::collections::BTreeMap;

/// The script (loaded once per connection by `EVALSHA`, with `EVAL` fallback).
pub fn script() -> redis::Script {
    redis::Script::new(include_str!("acd.lua"))
}

/// The six keys of one tenant's ACD, sharing a hash tag so they live in one cluster slot.
#[derive(Debug, Clone)]
pub struct Keys {
    pub agents: String,
    pub queues: String,
    pub calls: String,
    pub meta: String,
    /// The script's index of the records it looks up by state (waiting calls, Ready agents
    /// per queue), a sorted set; see `acd.lua`. Derived from the hashes: deleting it makes the
    /// next script run rebuild it and [`Keys::timers`].
    pub index: String,
    /// The script's timers (wrap-up agents and offered calls by their `until`), a sorted set;
    /// derived from the hashes like [`Keys::index`].
    pub timers: String,
}

impl Keys {
    /// Keys of tenant `tenant` (any stable id string).
    pub fn for_tenant(tenant: &str) -> Self {
        let tag = format!("{{t:{tenant}}}:acd");
        Keys {
            agents: format!("{tag}:agents"),
            queues: format!("{tag}:queues"),
            calls: format!("{tag}:calls"),
            meta: format!("{tag}:meta"),
            index: format!("{tag}:index"),
            timers: format!("{tag}:timers"),
        }
    }
}

/// Failure of one ACD step in Redis.
#[derive(Debug, thiserror::Error)]
pub enum RedisAcdError {
    #[error(transparent)]
    Acd(#[from] AcdError),
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("unexpected reply from the ACD script: {0}")]
    Reply(String),
}

fn decode(reply: Vec<String>) -> Result<Vec<Event>, RedisAcdError> {
    match reply.first().map(String::as_str) {
        Some("ok") => reply[1..]
            .iter()
            .map(|e| {
                serde_json::from_str(e).map_err(|err| RedisAcdError::Reply(format!("{err}: {e}")))
            })
            .collect(),
        Some("err") => {
            let code = reply.get(1).cloned().unwrap_or_default();
            Err(AcdError::from_code(&code)
                .map(RedisAcdError::Acd)
                .unwrap_or(RedisAcdError::Reply(code)))
        }
        _ => Err(RedisAcdError::Reply(format!("{reply:?}"))),
    }
}

fn invocation<'a>(
    script: &'a redis::Script,
    keys: &Keys,
    now: u64,
    op: &Op,
) -> redis::ScriptInvocation<'a> {
    let mut inv = script.prepare_invoke();
    inv.key(&keys.agents)
        .key(&keys.queues)
        .key(&keys.calls)
        .key(&keys.meta)
        .key(&keys.index)
        .key(&keys.timers)
        .arg(now);
    for a in op.args() {
        inv.arg(a);
    }
    inv
}

/// Applies `op` at `now` (blocking connection).
pub fn apply(
    con: &mut redis::Connection,
    script: &redis::Script,
    keys: &Keys,
    now: u64,
    op: &Op,
) -> Result<Vec<Event>, RedisAcdError> {
    let reply: Vec<String> = invocation(script, keys, now, op).invoke(con)?;
    decode(reply)
}

/// Applies `op` at `now` (async connection).
pub async fn apply_async<C: redis::aio::ConnectionLike>(
    con: &mut C,
    script: &redis::Script,
    keys: &Keys,
    now: u64,
    op: &Op,
) -> Result<Vec<Event>, RedisAcdError> {
    let reply: Vec<String> = invocation(script, keys, now, op).invoke_async(con).await?;
    decode(reply)
}

/// The whole stored state, in the model's shape (for comparison and supervision screens).
pub fn snapshot(
    con: &mut redis::Connection,
    keys: &Keys,
) -> Result<crate::model::Acd, RedisAcdError> {
    fn hash<T: serde::de::DeserializeOwned>(
        con: &mut redis::Connection,
        key: &str,
    ) -> Result<BTreeMap<String, T>, RedisAcdError> {
        let raw: BTreeMap<String, String> = redis::cmd("HGETALL").arg(key).query(con)?;
        raw.into_iter()
            .map(|(k, v)| {
                serde_json::from_str(&v)
                    .map(|t| (k, t))
                    .map_err(|e| RedisAcdError::Reply(format!("{e}: {v}")))
            })
            .collect()
    }
    let seq: Option<u64> = redis::cmd("HGET").arg(&keys.meta).arg("seq").query(con)?;
    Ok(crate::model::Acd {
        agents: hash::<AgentRec>(con, &keys.agents)?,
        queues: hash::<QueueRec>(con, &keys.queues)?,
        calls: hash::<CallRec>(con, &keys.calls)?,
        seq: seq.unwrap_or(0),
    })
}
