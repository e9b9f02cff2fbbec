//! Tenant SIP trunks ("bring your own carrier"): validation, storage and the gateways' Redis
//! copy. The API is `routes/trunks.rs`; the bodies and the Redis contract are
//! `hotline_wire::trunks`.
//!
//! - **Storage**: the tenant schema's `trunks` (tenant migration 0028), the password as given
//!   (the gateway answers the carrier's digest challenges with it; docs/security.md). A
//!   trunk's inbound numbers are rows of `platform.dids` with its `trunk_id` (platform
//!   migration 0009): unique platform-wide, routed to the tenant, mapped to a flow in
//!   `/ivr/dids` like the pool's numbers, usable as caller ID.
//! - **Redis copy**: [`TRUNKS_KEY`] holds every *enabled* trunk as a [`TrunkConfig`] (with the
//!   password); its numbers are in `platform:dids` (`gateway_sync::publish_did`) while they
//!   are on the trunk, enabled or not. After every change the whole tenant's copy is rewritten
//!   from Postgres ([`sync_tenant`], idempotent); if Redis fails, the API answer is still the
//!   committed change and [`sync_later`] retries in the background until it succeeds. At every
//!   start [`publish_all`] rewrites every tenant's copy.
//! - **Live state**: the gateways write [`TRUNK_STATUS_KEY`]; [`statuses`] reads it back.

use crate::{state::AppState, validate::is_e164};
use hotline_wire::trunks::{
    CallerIdRule, NumberFormat, TrunkCodec, TrunkConfig, TrunkInput, TrunkMode, TrunkStatus,
    TRUNKS_KEY, TRUNK_STATUS_KEY,
};
use redis::AsyncCommands;
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::time::Duration;
use uuid::Uuid;

/// Inbound numbers on one trunk, at most.
pub const MAX_DIDS: usize = 200;
/// Entries of `allowed_ips`, at most.
pub const MAX_ALLOWED_IPS: usize = 50;

/// A host name (RFC 1123 labels) or an IPv4/IPv6 address, no scheme, no port.
pub fn is_host(s: &str) -> bool {
    if s.parse::<IpAddr>().is_ok() {
        return true;
    }
    let labels_ok = s.split('.').all(|l| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    });
    // The last label of a name is not all digits (that would be a mistyped address).
    let tld_ok = s
        .rsplit('.')
        .next()
        .is_some_and(|t| !t.bytes().all(|b| b.is_ascii_digit()));
    !s.is_empty() && s.len() <= 253 && labels_ok && tld_ok
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (port 1..=65535).
pub fn is_host_port(s: &str) -> bool {
    let port_ok = |p: &str| p.parse::<u16>().is_ok_and(|p| p > 0);
    if let Some(rest) = s.strip_prefix('[') {
        let Some((addr, after)) = rest.split_once(']') else {
            return false;
        };
        return addr.parse::<std::net::Ipv6Addr>().is_ok()
            && (after.is_empty() || after.strip_prefix(':').is_some_and(port_ok));
    }
    if s.parse::<std::net::Ipv6Addr>().is_ok() {
        return true;
    }
    match s.rsplit_once(':') {
        Some((h, p)) => is_host(h) && port_ok(p),
        None => is_host(s),
    }
}

/// An address or a CIDR block (`203.0.113.7`, `203.0.113.0/24`, `2001:db8::/32`).
pub fn is_cidr(s: &str) -> bool {
    match s.split_once('/') {
        None => s.parse::<IpAddr>().is_ok(),
        Some((a, len)) => match (a.parse::<IpAddr>(), len.parse::<u8>()) {
            (Ok(IpAddr::V4(_)), Ok(l)) => l <= 32 && !len.starts_with('+'),
            (Ok(IpAddr::V6(_)), Ok(l)) => l <= 128 && !len.starts_with('+'),
            _ => false,
        },
    }
}

fn is_digits(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// A SIP user part we accept: printable, no spaces, none of `@ : ; < > " /`.
fn is_sip_user(s: &str) -> bool {
    s.chars().count() <= 100
        && s.chars()
            .all(|c| (c.is_ascii_graphic() && !"@:;<>\"/\\".contains(c)) || c.is_alphanumeric())
}

/// The input trimmed (empty optional texts become `None`, numbers sorted and deduplicated
/// later by the check).
pub fn normalize(mut t: TrunkInput) -> TrunkInput {
    t.name = t.name.trim().to_string();
    t.host = t.host.trim().to_ascii_lowercase();
    t.username = t.username.trim().to_string();
    let opt = |o: Option<String>| o.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    t.outbound_proxy = opt(t.outbound_proxy).map(|s| s.to_ascii_lowercase());
    t.auth_username = opt(t.auth_username);
    t.caller_id.fixed = opt(t.caller_id.fixed);
    t.country_code = t.country_code.trim().trim_start_matches('+').to_string();
    t.national_prefix = t.national_prefix.trim().to_string();
    for v in t.allowed_ips.iter_mut().chain(t.inbound_dids.iter_mut()) {
        *v = v.trim().to_string();
    }
    t
}

/// Every field problem of `t` (normalized), `password` being the one the trunk will have.
pub fn check(t: &TrunkInput, password: &str, c: &mut crate::validate::Check) {
    c.text("name", &t.name, 100);
    if t.host.contains("://") || t.host.starts_with("sip:") || t.host.starts_with("sips:") {
        c.fail(
            "host",
            "write the host name or address only, without sip: or a scheme",
        );
    } else if !is_host(&t.host) {
        c.fail(
            "host",
            "must be a host name like sip.carrier.example or an address like 203.0.113.7, without a port",
        );
    }
    if t.port == 0 {
        c.fail("port", "must be between 1 and 65535");
    }
    if let Some(p) = &t.outbound_proxy {
        if !is_host_port(p) {
            c.fail(
                "outbound_proxy",
                "must be host or host:port, like proxy.carrier.example:5060",
            );
        }
    }
    if !is_sip_user(&t.username) {
        c.fail(
            "username",
            "at most 100 characters, no spaces and none of @ : ; < > \" / \\",
        );
    }
    if let Some(a) = &t.auth_username {
        if !is_sip_user(a) {
            c.fail(
                "auth_username",
                "at most 100 characters, no spaces and none of @ : ; < > \" / \\",
            );
        }
    }
    c.max_len("password", password, 200);
    if t.mode == TrunkMode::Register {
        if t.username.is_empty() {
            c.fail("username", "a registering trunk needs the SIP user name");
        }
        if password.is_empty() {
            c.fail("password", "a registering trunk needs the password");
        }
    }
    c.range("register_expires", t.register_expires.into(), 60, 86_400);
    if t.allowed_ips.len() > MAX_ALLOWED_IPS {
        c.fail(
            "allowed_ips",
            format!("at most {MAX_ALLOWED_IPS} addresses"),
        );
    }
    for (i, a) in t.allowed_ips.iter().enumerate() {
        if !is_cidr(a) {
            c.fail(
                &format!("allowed_ips.{i}"),
                format!("{a:?} is not an address or a block like 203.0.113.0/24"),
            );
        }
    }
    if t.mode == TrunkMode::Ip && t.allowed_ips.is_empty() {
        c.fail(
            "allowed_ips",
            "an IP trunk needs the addresses the carrier's calls come from",
        );
    }
    if t.codecs.is_empty() {
        c.fail("codecs", "choose at least one codec");
    } else if t
        .codecs
        .iter()
        .enumerate()
        .any(|(i, c)| t.codecs[..i].contains(c))
    {
        c.fail("codecs", "a codec is listed twice");
    }
    if t.callee_format == NumberFormat::National {
        if !is_digits(&t.country_code, 1, 3) || t.country_code.starts_with('0') {
            c.fail(
                "country_code",
                "the national format needs the country calling code: 1 to 3 digits, like 48",
            );
        }
        if !is_digits(&t.national_prefix, 0, 4) {
            c.fail("national_prefix", "at most 4 digits, like 0");
        }
    } else {
        if !t.country_code.is_empty() && !is_digits(&t.country_code, 1, 3) {
            c.fail("country_code", "1 to 3 digits, like 48");
        }
        if !is_digits(&t.national_prefix, 0, 4) {
            c.fail("national_prefix", "at most 4 digits, like 0");
        }
    }
    if let Some(f) = &t.caller_id.fixed {
        if !is_e164(f) {
            c.fail(
                "caller_id.fixed",
                "must be an E.164 number like +994125550100",
            );
        }
    }
    if t.inbound_dids.len() > MAX_DIDS {
        c.fail("inbound_dids", format!("at most {MAX_DIDS} numbers"));
    }
    let mut seen = HashSet::new();
    for (i, d) in t.inbound_dids.iter().enumerate() {
        if !is_e164(d) {
            c.fail(
                &format!("inbound_dids.{i}"),
                format!("{d:?} is not an E.164 number: + and 7 to 15 digits, like +48221234567"),
            );
        } else if !seen.insert(d) {
            c.fail(&format!("inbound_dids.{i}"), format!("{d} is listed twice"));
        }
    }
}

/// The text stored for a serde unit enum (`"register"`, `"PCMU"`, `"e164"`).
pub fn enum_text<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn enum_from<T: serde::de::DeserializeOwned>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

/// One `trunks` row.
#[derive(sqlx::FromRow)]
pub struct Row {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub mode: String,
    pub host: String,
    pub port: i32,
    pub outbound_proxy: Option<String>,
    pub username: String,
    pub auth_username: Option<String>,
    pub password: String,
    pub register_expires: i32,
    pub allowed_ips: Vec<String>,
    pub codecs: Vec<String>,
    pub callee_format: String,
    pub country_code: String,
    pub national_prefix: String,
    pub caller_id_fixed: Option<String>,
    pub caller_id_same_format: bool,
    pub outbound: bool,
}

impl Row {
    /// The gateways' copy, with the trunk's numbers.
    pub fn config(self, tenant_id: Uuid, inbound_dids: Vec<String>) -> TrunkConfig {
        TrunkConfig {
            id: self.id,
            tenant_id,
            name: self.name,
            mode: enum_from(&self.mode).unwrap_or(TrunkMode::Register),
            host: self.host,
            port: self.port as u16,
            outbound_proxy: self.outbound_proxy,
            username: self.username,
            auth_username: self.auth_username,
            password: self.password,
            register_expires: self.register_expires as u32,
            allowed_ips: self.allowed_ips,
            codecs: self
                .codecs
                .iter()
                .filter_map(|c| enum_from::<TrunkCodec>(c))
                .collect(),
            callee_format: enum_from(&self.callee_format).unwrap_or_default(),
            country_code: self.country_code,
            national_prefix: self.national_prefix,
            caller_id: CallerIdRule {
                fixed: self.caller_id_fixed,
                same_format_as_callee: self.caller_id_same_format,
            },
            inbound_dids,
            outbound: self.outbound,
        }
    }
}

/// The tenant's trunks (`only`: just that one), by name, with their numbers and whether they
/// are enabled. `conn` is in the tenant's schema.
pub async fn load(
    conn: &mut PgConnection,
    tenant: Uuid,
    only: Option<Uuid>,
) -> sqlx::Result<Vec<(TrunkConfig, bool)>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, name, enabled, mode, host, port, outbound_proxy, username, auth_username,
                password, register_expires, allowed_ips, codecs, callee_format, country_code,
                national_prefix, caller_id_fixed, caller_id_same_format, outbound
           FROM trunks WHERE ($1::uuid IS NULL OR id = $1) ORDER BY lower(name), id",
    )
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    let dids: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT trunk_id, did FROM platform.dids
          WHERE tenant_id = $1 AND trunk_id IS NOT NULL AND ($2::uuid IS NULL OR trunk_id = $2)
          ORDER BY did",
    )
    .bind(tenant)
    .bind(only)
    .fetch_all(&mut *conn)
    .await?;
    let mut by: HashMap<Uuid, Vec<String>> = HashMap::new();
    for (t, d) in dids {
        by.entry(t).or_default().push(d);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let (id, enabled) = (r.id, r.enabled);
            (
                r.config(tenant, by.remove(&id).unwrap_or_default()),
                enabled,
            )
        })
        .collect())
}

/// The live state of each trunk in `ids` (in order) as the gateways reported it.
pub async fn statuses(state: &AppState, ids: &[Uuid]) -> anyhow::Result<Vec<Option<TrunkStatus>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let fields: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let mut r = state.redis();
    let vals: Vec<Option<String>> = redis::cmd("HMGET")
        .arg(TRUNK_STATUS_KEY)
        .arg(&fields)
        .query_async(&mut r)
        .await?;
    Ok(vals
        .into_iter()
        .map(|v| v.and_then(|s| serde_json::from_str(&s).ok()))
        .collect())
}

/// Rewrites `tenant`'s part of the gateways' copy from Postgres: its enabled trunks in
/// [`TRUNKS_KEY`] (the rest of its entries removed), its trunk numbers in `platform:dids`,
/// and `gone` (numbers that left its trunks) removed from it unless still on a trunk or a
/// number of the platform. Idempotent.
pub async fn sync_tenant(state: &AppState, tenant: Uuid, gone: &[String]) -> anyhow::Result<()> {
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    let trunks = load(&mut tx, tenant, None).await?;
    // A number that left a trunk may have become something else since (a pool number given to
    // someone): only those no longer on the platform leave the gateways' copy.
    let still: Vec<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT did, tenant_id FROM platform.dids WHERE did = ANY($1)")
            .bind(gone)
            .fetch_all(&mut *tx)
            .await?;
    tx.commit().await?;
    let still: HashMap<String, Option<Uuid>> = still.into_iter().collect();
    let mut r = state.redis();
    let current: HashMap<String, String> = r.hgetall(TRUNKS_KEY).await?;
    let mut p = redis::pipe();
    p.atomic();
    let mut keep = HashSet::new();
    for (cfg, enabled) in &trunks {
        for d in &cfg.inbound_dids {
            p.hset(
                crate::gateway_sync::DIDS_KEY,
                d,
                serde_json::json!({ "tenant_id": tenant }).to_string(),
            );
        }
        if *enabled {
            keep.insert(cfg.id.to_string());
            p.hset(TRUNKS_KEY, cfg.id.to_string(), serde_json::to_string(cfg)?);
        }
    }
    for (id, v) in &current {
        let ours = serde_json::from_str::<serde_json::Value>(v)
            .ok()
            .and_then(|v| v.get("tenant_id")?.as_str()?.parse::<Uuid>().ok())
            == Some(tenant);
        if ours && !keep.contains(id) {
            p.hdel(TRUNKS_KEY, id);
        }
    }
    for d in gone {
        match still.get(d) {
            None | Some(None) => {
                p.hdel(crate::gateway_sync::DIDS_KEY, d);
            }
            Some(Some(_)) => {}
        }
    }
    let _: () = p.query_async(&mut r).await?;
    Ok(())
}

/// [`sync_tenant`] now; when it fails, logged and retried in the background (1 s, 2 s, 4 s…
/// up to a minute apart) until it succeeds — each attempt reads Postgres afresh, so a later
/// change is never overwritten by an older one. Returns whether the copy is written now.
pub async fn sync_or_retry(state: &AppState, tenant: Uuid, gone: Vec<String>) -> bool {
    match sync_tenant(state, tenant, &gone).await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(%tenant, error = %e, "trunks not copied to the gateways; retrying");
            sync_later(state.clone(), tenant, gone);
            false
        }
    }
}

/// Retries [`sync_tenant`] in the background until it succeeds.
pub fn sync_later(state: AppState, tenant: Uuid, gone: Vec<String>) {
    tokio::spawn(async move {
        let mut wait = Duration::from_secs(1);
        loop {
            tokio::time::sleep(wait).await;
            match sync_tenant(&state, tenant, &gone).await {
                Ok(()) => {
                    tracing::info!(%tenant, "trunks copied to the gateways after a retry");
                    return;
                }
                Err(e) => {
                    tracing::warn!(%tenant, error = %e, "trunks still not copied to the gateways")
                }
            }
            wait = (wait * 2).min(Duration::from_secs(60));
        }
    });
}

/// Rewrites every tenant's trunks and trunk numbers in the gateways' copy (at every start:
/// Redis may have been emptied, or a change's copy never written).
pub async fn publish_all(state: &AppState) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM platform.tenants")
        .fetch_all(&state.db)
        .await?;
    for tenant in ids {
        sync_tenant(state, tenant, &[]).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_proxies_and_blocks() {
        for h in [
            "sip.carrier.example",
            "203.0.113.7",
            "2001:db8::1",
            "localhost",
        ] {
            assert!(is_host(h), "{h}");
        }
        for h in [
            "",
            "sip:carrier.example",
            "-a.example",
            "a..b",
            "10.0.0.256",
            "a b",
            "x:5060",
        ] {
            assert!(!is_host(h), "{h}");
        }
        for h in [
            "proxy.example:5060",
            "proxy.example",
            "[2001:db8::1]:5080",
            "10.1.2.3:5062",
        ] {
            assert!(is_host_port(h), "{h}");
        }
        for h in [
            "proxy.example:0",
            "proxy.example:70000",
            "[2001:db8::1",
            "a:b:c",
        ] {
            assert!(!is_host_port(h), "{h}");
        }
        for c in [
            "203.0.113.0/24",
            "203.0.113.7",
            "2001:db8::/32",
            "0.0.0.0/0",
        ] {
            assert!(is_cidr(c), "{c}");
        }
        for c in [
            "203.0.113.0/33",
            "2001:db8::/129",
            "carrier.example",
            "1.2.3.4/+8",
            "1.2.3.4/",
        ] {
            assert!(!is_cidr(c), "{c}");
        }
    }
}
