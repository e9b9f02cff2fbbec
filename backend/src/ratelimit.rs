//! Request limits counted in Redis, so every backend node shares them: fixed windows, one
//! counter per key, a refusal is a 429 `rate_limited` with `Retry-After` (the window's rest).
//!
//! Which limits exist (all per client address as `client_addr` works it out, IPv6 by /64):
//! tenant sign-ups per address and for the whole platform per hour, password-strength
//! estimates per address per minute. Login failures have their own counting
//! (`auth::throttle`).

use crate::{
    client_addr,
    error::{ApiError, ApiResult},
    state::AppState,
};
use std::net::IpAddr;

const HOUR: u64 = 3600;
const MINUTE: u64 = 60;

/// Counts one request against `key` (`max` per `window` seconds; 0: no limit). Over the
/// limit: `RateLimited` with the seconds left in the window. The counter is created with its
/// expiry in one atomic step, so a crash cannot leave a counter that never expires.
pub async fn hit(state: &AppState, key: &str, max: u32, window: u64) -> ApiResult<()> {
    if max == 0 {
        return Ok(());
    }
    let mut r = state.redis();
    let (n, ttl): (u64, i64) = redis::pipe()
        .atomic()
        .cmd("SET")
        .arg(key)
        .arg(0)
        .arg("EX")
        .arg(window)
        .arg("NX")
        .ignore()
        .incr(key, 1)
        .ttl(key)
        .query_async(&mut r)
        .await?;
    if ttl < 0 {
        // Never expected (the counter is made with its expiry), but a counter without one
        // would refuse forever.
        let _: bool = redis::AsyncCommands::expire(&mut r, key, window as i64).await?;
    }
    if n > u64::from(max) {
        return Err(ApiError::RateLimited {
            retry_after_secs: ttl.max(1) as u64,
        });
    }
    Ok(())
}

/// Gives back a request counted by [`hit`] that did not happen after all.
async fn give_back(state: &AppState, key: &str) {
    // Only while the window lasts: a DECR of an expired counter would make one without expiry.
    let script = redis::Script::new(
        "if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('DECR', KEYS[1]) end return 0",
    );
    let mut r = state.redis();
    let done: redis::RedisResult<i64> = script.key(key).invoke_async(&mut r).await;
    if let Err(e) = done {
        tracing::warn!(error = %e, key, "rate limit: could not give a count back");
    }
}

fn address_key(kind: &str, ip: Option<&str>) -> Option<String> {
    let ip: IpAddr = ip?.parse().ok()?;
    Some(format!("ratelimit:{kind}:{}", client_addr::limit_key(ip)))
}

/// The platform-wide sign-up counter.
pub const SIGNUP_GLOBAL_KEY: &str = "ratelimit:signup:all";

/// A sign-up counted against the limits; [`Signup::give_back`] when it did not create a
/// tenant (refused input, a taken company ID), so only real sign-ups use the allowance.
pub struct Signup {
    keys: Vec<String>,
}

impl Signup {
    /// Counts a sign-up from `ip`: the per-address limit first (a refused address does not
    /// use the platform's allowance), then the platform-wide one.
    pub async fn count(state: &AppState, ip: Option<&str>) -> ApiResult<Self> {
        let mut keys = Vec::new();
        if let Some(key) = address_key("signup", ip) {
            hit(state, &key, state.cfg.signup_limit_per_address, HOUR).await?;
            if state.cfg.signup_limit_per_address > 0 {
                keys.push(key);
            }
        }
        let global = hit(
            state,
            SIGNUP_GLOBAL_KEY,
            state.cfg.signup_limit_global,
            HOUR,
        )
        .await;
        if let Err(e) = global {
            Self { keys }.give_back(state).await;
            return Err(e);
        }
        if state.cfg.signup_limit_global > 0 {
            keys.push(SIGNUP_GLOBAL_KEY.into());
        }
        Ok(Self { keys })
    }

    pub async fn give_back(self, state: &AppState) {
        for key in &self.keys {
            give_back(state, key).await;
        }
    }
}

/// Counts a password-strength estimate from `ip` (zxcvbn: milliseconds of CPU each).
pub async fn strength(state: &AppState, ip: Option<&str>) -> ApiResult<()> {
    match address_key("strength", ip) {
        Some(key) => hit(state, &key, state.cfg.strength_limit_per_address, MINUTE).await,
        None => Ok(()),
    }
}
