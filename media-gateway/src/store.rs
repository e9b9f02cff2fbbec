//! Redis access: DID routing, blacklists, tenant flow settings, SIP credentials, registrations,
//! tenant trunks and their status, the event stream, the command stream and the heartbeat.

use crate::ivr::{FlowConfig, Prompts};
use anyhow::Result;
use hotline_wire::gateway::{
    self as wire, DidEntry, Direction, FlowMode, GatewayCommand, GatewayEvent,
};
use hotline_wire::trunks::{TrunkConfig, TrunkStatus, TRUNKS_KEY, TRUNK_STATUS_KEY};
use redis::aio::ConnectionManager;
use redis::AsyncCommands;
use std::collections::HashMap;
use uuid::Uuid;

/// Decision for an inbound call.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Unknown DID.
    UnknownDid,
    /// Caller is on the tenant's inbound blacklist.
    Blacklisted {
        /// Tenant.
        tenant_id: Uuid,
    },
    /// Accept for this tenant.
    Accept {
        /// Tenant.
        tenant_id: Uuid,
        /// Who drives the call.
        mode: FlowMode,
        /// Built-in flow settings.
        flow: FlowConfig,
    },
}

/// Connects (retrying is the caller's business). The response timeout is generous: under
/// load a slow answer must delay a call, not fail it with 503.
pub async fn connect(url: &str) -> Result<ConnectionManager> {
    let client = redis::Client::open(url)?;
    let cfg = redis::aio::ConnectionManagerConfig::new()
        .set_response_timeout(Some(std::time::Duration::from_secs(5)))
        .set_connection_timeout(Some(std::time::Duration::from_secs(2)));
    Ok(ConnectionManager::new_with_config(client, cfg).await?)
}

/// Looks up a DID and the caller's blacklist status with one pipeline per step. A call that
/// came in on a tenant trunk (`trunk_tenant`) for a number `platform:dids` does not list is
/// that tenant's (the trunk's configuration says the number is theirs).
pub async fn route(
    con: &mut ConnectionManager,
    did: &str,
    caller: &str,
    default_mode: FlowMode,
    default_flow: &FlowConfig,
    trunk_tenant: Option<Uuid>,
) -> Result<Route> {
    let entry: Option<String> = con.hget(wire::DIDS_KEY, did).await?;
    let Some(tenant_id) = entry
        .and_then(|e| serde_json::from_str::<DidEntry>(&e).ok())
        .map(|e| e.tenant_id)
        .or(trunk_tenant)
    else {
        return Ok(Route::UnknownDid);
    };
    let (blocked, settings): (bool, HashMap<String, String>) = redis::pipe()
        .sismember(wire::blacklist_key(tenant_id, Direction::Inbound), caller)
        .hgetall(wire::flow_key(tenant_id))
        .query_async(con)
        .await?;
    if blocked {
        return Ok(Route::Blacklisted { tenant_id });
    }
    let mode = match settings.get("mode").map(String::as_str) {
        Some("backend") => FlowMode::Backend,
        Some("builtin") => FlowMode::Builtin,
        _ => default_mode,
    };
    let mut flow = default_flow.clone();
    for (field, slot) in [
        ("greeting", &mut flow.greeting),
        ("menu", &mut flow.menu),
        ("goodbye", &mut flow.goodbye),
    ] {
        if let Some(v) = settings.get(field) {
            *slot = v.clone();
        }
    }
    Ok(Route::Accept {
        tenant_id,
        mode,
        flow,
    })
}

/// Whether `number` is on the tenant's blacklist for `direction`.
pub async fn is_blacklisted(
    con: &mut ConnectionManager,
    tenant: Uuid,
    direction: Direction,
    number: &str,
) -> Result<bool> {
    Ok(con
        .sismember(wire::blacklist_key(tenant, direction), number)
        .await?)
}

/// What the tenant's outbound limits say about one more call to an outside number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundAdmission {
    /// Placed: counted in the tenant's calls in progress until released.
    Admitted,
    /// The tenant's calls in progress (on every gateway) are at its limit.
    AtLimit,
    /// The tenant placed its calls for this second (on every gateway).
    RateLimited,
}

/// KEYS: limits, calls, rate (`hotline_wire::gateway::outbound_*_key`); ARGV: call id, lease
/// ms, default max calls, default calls per second. Time is Redis's, so every gateway counts
/// the same seconds. 0 admitted, 1 at the limit, 2 rate-limited.
const ADMIT_OUTBOUND: &str = r#"
local t = redis.call('TIME')
local sec = tonumber(t[1])
local now = sec * 1000 + math.floor(tonumber(t[2]) / 1000)
local max = tonumber(redis.call('HGET', KEYS[1], 'max_calls') or ARGV[3]) or tonumber(ARGV[3])
local cps = tonumber(redis.call('HGET', KEYS[1], 'cps') or ARGV[4]) or tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= max then return 1 end
local cur = redis.call('HMGET', KEYS[3], 'sec', 'n')
local n = 0
if tonumber(cur[1]) == sec then n = tonumber(cur[2]) or 0 end
if n >= cps then return 2 end
redis.call('HSET', KEYS[3], 'sec', sec, 'n', n + 1)
redis.call('PEXPIRE', KEYS[3], 2000)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)
return 0
"#;

/// KEYS: calls; ARGV: lease ms, call ids. Renews the leases of calls still in progress.
const RENEW_OUTBOUND: &str = r#"
local t = redis.call('TIME')
local expiry = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', expiry, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2)
return 0
"#;

/// Counts one more outbound call of `tenant` against its limits, shared by every gateway
/// (`defaults` when the backend published none), or says which limit refuses it.
pub async fn admit_outbound(
    con: &mut ConnectionManager,
    tenant: Uuid,
    call: Uuid,
    lease_ms: u64,
    defaults: (u32, u32),
) -> Result<OutboundAdmission> {
    let r: i64 = redis::Script::new(ADMIT_OUTBOUND)
        .key(wire::outbound_limits_key(tenant))
        .key(wire::outbound_calls_key(tenant))
        .key(wire::outbound_rate_key(tenant))
        .arg(call.to_string())
        .arg(lease_ms)
        .arg(defaults.0)
        .arg(defaults.1)
        .invoke_async(con)
        .await?;
    Ok(match r {
        0 => OutboundAdmission::Admitted,
        1 => OutboundAdmission::AtLimit,
        _ => OutboundAdmission::RateLimited,
    })
}

/// The call no longer counts against its tenant's limit.
pub async fn release_outbound(con: &mut ConnectionManager, tenant: Uuid, call: Uuid) -> Result<()> {
    let _: i64 = con
        .zrem(wire::outbound_calls_key(tenant), call.to_string())
        .await?;
    Ok(())
}

/// Renews the leases of this gateway's outbound calls (per tenant).
pub async fn renew_outbound(
    con: &mut ConnectionManager,
    calls: &HashMap<Uuid, Vec<Uuid>>,
    lease_ms: u64,
) -> Result<()> {
    let script = redis::Script::new(RENEW_OUTBOUND);
    for (tenant, ids) in calls {
        let mut inv = script.prepare_invoke();
        inv.key(wire::outbound_calls_key(*tenant)).arg(lease_ms);
        for id in ids {
            inv.arg(id.to_string());
        }
        let _: i64 = inv.invoke_async(con).await?;
    }
    Ok(())
}

/// Tenant of a slug (REGISTER domains).
pub async fn tenant_by_slug(con: &mut ConnectionManager, slug: &str) -> Result<Option<Uuid>> {
    let entry: Option<String> = con.hget(wire::TENANT_SLUGS_KEY, slug).await?;
    Ok(entry
        .and_then(|e| serde_json::from_str::<DidEntry>(&e).ok())
        .map(|e| e.tenant_id))
}

/// HA1 of an extension.
pub async fn extension_ha1(
    con: &mut ConnectionManager,
    tenant: Uuid,
    ext: &str,
) -> Result<Option<String>> {
    Ok(con
        .hget(wire::sip_extension_key(tenant, ext), "ha1")
        .await?)
}

/// The address of an extension's registered phone (`sip:user@host:port` contact), if any.
pub async fn registered_contact(
    con: &mut ConnectionManager,
    tenant: Uuid,
    ext: &str,
) -> Result<Option<std::net::SocketAddr>> {
    let contact: Option<String> = con
        .hget(wire::registration_key(tenant, ext), "contact")
        .await?;
    Ok(contact.and_then(|c| {
        let hostport = c.strip_prefix("sip:")?.rsplit('@').next()?;
        let hostport = hostport.split(';').next()?;
        use std::net::ToSocketAddrs;
        let with_port = if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:5060")
        };
        with_port.to_socket_addrs().ok()?.next()
    }))
}

/// Stores (or removes, when `expires` is 0) an extension's binding: `contact`, `gateway_id`,
/// `expires_at`, `user_agent` (the phone's, cut to 200 bytes) and `since` (set by the first
/// REGISTER of an unbroken registration; refreshes keep it).
pub async fn save_registration(
    con: &mut ConnectionManager,
    tenant: Uuid,
    ext: &str,
    contact: &str,
    gateway_id: &str,
    expires: u32,
    user_agent: Option<&str>,
) -> Result<()> {
    let key = wire::registration_key(tenant, ext);
    if expires == 0 {
        let _: () = con.del(&key).await?;
        return Ok(());
    }
    let now = chrono::Utc::now();
    let expires_at = (now + chrono::Duration::seconds(expires as i64)).to_rfc3339();
    let mut ua: String = user_agent.unwrap_or_default().to_string();
    if ua.len() > 200 {
        let mut cut = 200;
        while !ua.is_char_boundary(cut) {
            cut -= 1;
        }
        ua.truncate(cut);
    }
    let _: () = redis::pipe()
        .hset_multiple(
            &key,
            &[
                ("contact", contact),
                ("gateway_id", gateway_id),
                ("expires_at", expires_at.as_str()),
                ("user_agent", ua.as_str()),
            ],
        )
        .hset_nx(&key, "since", now.to_rfc3339())
        .expire(&key, expires as i64)
        .query_async(con)
        .await?;
    Ok(())
}

/// Appends events to the event stream `stream` (normally [`wire::EVENTS_STREAM`]) in one
/// pipeline, each to its tenant's shard ([`wire::event_stream_for`]), so one tenant's events
/// stay in order in one stream.
pub async fn publish(
    con: &mut ConnectionManager,
    stream: &str,
    events: &[GatewayEvent],
) -> Result<()> {
    let mut pipe = redis::pipe();
    for ev in events {
        let json = serde_json::to_string(ev)?;
        pipe.cmd("XADD")
            .arg(wire::event_stream_for(stream, ev))
            .arg("MAXLEN")
            .arg("~")
            .arg(1_000_000)
            .arg("*")
            .arg(wire::STREAM_FIELD)
            .arg(json)
            .ignore();
    }
    let _: () = pipe.query_async(con).await?;
    Ok(())
}

/// Reads commands after `last_id` (blocking up to `block_ms`); returns them and the new last id.
/// Entries that are not valid commands are skipped (and logged).
pub async fn read_commands(
    con: &mut ConnectionManager,
    stream: &str,
    last_id: &str,
    block_ms: usize,
) -> Result<(Vec<GatewayCommand>, String)> {
    let opts = redis::streams::StreamReadOptions::default()
        .block(block_ms)
        .count(256);
    let reply: redis::streams::StreamReadReply =
        con.xread_options(&[stream], &[last_id], &opts).await?;
    let mut last = last_id.to_string();
    let mut out = Vec::new();
    for key in reply.keys {
        for entry in key.ids {
            last = entry.id.clone();
            let json: Option<String> = entry.get(wire::STREAM_FIELD);
            match json.as_deref().map(serde_json::from_str::<GatewayCommand>) {
                Some(Ok(cmd)) => out.push(cmd),
                other => tracing::warn!(id = %entry.id, ?other, "ignoring malformed command"),
            }
        }
    }
    Ok((out, last))
}

/// The id of the newest entry of `stream` (`0-0` when empty), to read only what follows.
pub async fn last_stream_id(con: &mut ConnectionManager, stream: &str) -> Result<String> {
    let reply: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
        .arg(stream)
        .arg("+")
        .arg("-")
        .arg("COUNT")
        .arg(1)
        .query_async(con)
        .await?;
    Ok(reply
        .ids
        .first()
        .map(|e| e.id.clone())
        .unwrap_or_else(|| "0-0".into()))
}

/// Writes the heartbeat hash (expiring after `ttl_s`) and adds the gateway to the registry set.
pub async fn heartbeat(
    con: &mut ConnectionManager,
    hb: &wire::GatewayHeartbeat,
    ttl_s: i64,
) -> Result<()> {
    let key = wire::gateway_key(&hb.gateway_id);
    let fields = [
        ("gateway_id", hb.gateway_id.clone()),
        ("sip_addr", hb.sip_addr.clone()),
        ("calls", hb.calls.to_string()),
        ("ports_used", hb.ports_used.to_string()),
        ("cpu_percent", format!("{:.1}", hb.cpu_percent)),
        ("draining", hb.draining.to_string()),
        ("at", hb.at.to_rfc3339()),
        ("http", hb.http.clone()),
        ("events", hb.events_stream.clone()),
        ("trunk", hb.trunk.to_string()),
    ];
    let _: () = redis::pipe()
        .hset_multiple(&key, &fields)
        .expire(&key, ttl_s)
        .sadd(wire::GATEWAYS_KEY, &hb.gateway_id)
        .query_async(con)
        .await?;
    Ok(())
}

/// Brings the tenant's uploaded prompts in `prompts` up to date with Redis (written by the
/// backend: `hotline_wire::prompts`): one `HGETALL` of the index, then one `MGET` of the
/// audio whose version token changed. Run when a call of the tenant is routed, so every call
/// hears the prompts as they were when it arrived. Returns how many were fetched.
pub async fn refresh_prompts(
    con: &mut ConnectionManager,
    prompts: &Prompts,
    tenant: Uuid,
) -> Result<usize> {
    use hotline_wire::prompts as wp;
    let index: HashMap<String, String> = con.hgetall(wp::prompts_key(tenant)).await?;
    let stale = prompts.stale(tenant, &index);
    let mut loaded = Vec::with_capacity(stale.len());
    if !stale.is_empty() {
        let keys: Vec<String> = stale.iter().map(|n| wp::prompt_key(tenant, n)).collect();
        let bodies: Vec<Option<Vec<u8>>> = redis::cmd("MGET").arg(&keys).query_async(con).await?;
        for (name, body) in stale.into_iter().zip(bodies) {
            let token = index.get(&name).cloned().unwrap_or_default();
            loaded.push((name, token, body));
        }
    }
    let n = loaded.len();
    prompts.apply(tenant, &index, loaded);
    Ok(n)
}

/// Every tenant trunk in `platform:trunks` (one `HGETALL`; the hash is small). Entries that
/// do not parse are skipped and logged.
pub async fn load_trunks(con: &mut ConnectionManager) -> Result<Vec<TrunkConfig>> {
    let all: HashMap<String, String> = con.hgetall(TRUNKS_KEY).await?;
    let mut out = Vec::with_capacity(all.len());
    for (id, json) in all {
        match serde_json::from_str::<TrunkConfig>(&json) {
            Ok(t) => out.push(t),
            Err(e) => tracing::warn!(trunk = %id, error = %e, "ignoring a malformed tenant trunk"),
        }
    }
    Ok(out)
}

/// Writes a trunk's status to `platform:trunk_status` (`None`: removes it).
pub async fn save_trunk_status(
    con: &mut ConnectionManager,
    trunk: Uuid,
    status: Option<&TrunkStatus>,
) -> Result<()> {
    match status {
        Some(s) => {
            let _: () = con
                .hset(
                    TRUNK_STATUS_KEY,
                    trunk.to_string(),
                    serde_json::to_string(s)?,
                )
                .await?;
        }
        None => {
            let _: () = con.hdel(TRUNK_STATUS_KEY, trunk.to_string()).await?;
        }
    }
    Ok(())
}
