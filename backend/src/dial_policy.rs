//! Outbound calls on a shared trunk: which number a tenant may show, which numbers it may
//! call, and how many calls it may have going. [`Rules::judge`] is the one decision; every
//! place that originates a call to an outside number asks it first — through [`check`]
//! (click-to-call, callbacks, preview dialling, consultation, transfer to a number) or, in the
//! campaign dialer, with the rules and usage loaded once per tick.
//!
//! - **E-mail verified**: a tenant made by sign-up calls out only once its administrator has
//!   followed the link e-mailed to them (`crate::verify`; [`Refusal::EmailUnverified`]).
//! - **Caller ID**: one of the tenant's own DIDs (`platform.dids`) or a number it verified by
//!   a call that read a code (`crate::verify`), checked when a campaign is saved and again
//!   when each call is placed (a DID moved to another tenant since).
//! - **Destinations**: the allowed country calling codes (the operator's list,
//!   `platform.tenants.outbound_countries`, else the tenant's own CRM country code), narrowed
//!   by the tenant's own list (settings key `outbound`), minus the blocked prefixes: the
//!   built-in premium list [`BUILTIN_BLOCKED`], the operator's and the tenant's.
//! - **Limits**: outbound calls in progress at once (`max_outbound_calls`, else
//!   [`DEFAULT_MAX_OUTBOUND_CALLS`]); a trial tenant at most [`TRIAL_LINES`] at once and
//!   [`TRIAL_CALLS_PER_DAY`] a day and [`TRIAL_MINUTES_PER_DAY`] minutes of answered outbound
//!   calls a day (UTC).
//! - **Calls per second** (section "Calls per second and the gateways' copy" below): at most
//!   `max_outbound_cps` calls placed per second (else [`DEFAULT_OUTBOUND_CPS`], a trial tenant
//!   [`TRIAL_CPS`]), counted in Redis so every backend shares the count. The effective limits
//!   are also published to Redis ([`publish_gateway_limits`]) where every media gateway checks
//!   them again on each `originate`, whoever sent it.

use crate::{db, error::ApiError, state::AppState};
use sqlx::PgConnection;
use uuid::Uuid;

/// Outbound calls in progress at once for a trial tenant (all campaigns and agents together).
pub const TRIAL_LINES: i64 = 2;
/// Outbound calls a trial tenant may place per day (UTC).
pub const TRIAL_CALLS_PER_DAY: i64 = 50;
/// Minutes of answered outbound calls a trial tenant may use per day (UTC), calls in progress
/// counted up to now.
pub const TRIAL_MINUTES_PER_DAY: i64 = 30;
/// Outbound calls in progress at once for any tenant, unless an operator set another limit.
pub const DEFAULT_MAX_OUTBOUND_CALLS: i64 = 200;
/// An outbound leg without an end this old is not counted as in progress (its gateway never
/// reported the end).
const STALE_SECS: f64 = 4.0 * 3600.0;

/// Prefixes no tenant may call unless an operator lifts… nothing: these stay refused. A
/// starting list of well-known premium-rate, shared-cost and satellite ranges, not a complete
/// one; operators add more per tenant (`outbound_blocked_prefixes`).
pub const BUILTIN_BLOCKED: &[(&str, &str)] = &[
    // International: satellite and international networks, premium and shared cost.
    ("+870", "Inmarsat satellite"),
    ("+881", "global mobile satellite systems"),
    ("+882", "international networks"),
    ("+883", "international networks"),
    ("+979", "international premium rate"),
    ("+808", "international shared cost"),
    // Azerbaijan: 900 premium-rate services.
    ("+994900", "premium rate (Azerbaijan)"),
    // Poland: 70x premium rate, 80x shared cost (800 is freephone and stays callable).
    ("+4870", "premium rate (Poland)"),
    ("+48801", "shared cost (Poland)"),
    ("+48804", "shared cost (Poland)"),
    // Russia: 809 premium rate.
    ("+7809", "premium rate (Russia)"),
    // United Kingdom: 09 premium rate, 087 and 084 shared cost, 070 personal numbers.
    ("+449", "premium rate (United Kingdom)"),
    ("+4487", "shared cost (United Kingdom)"),
    ("+4484", "shared cost (United Kingdom)"),
    ("+4470", "personal numbering (United Kingdom)"),
    // North America: 900 and 976 premium rate.
    ("+1900", "premium rate (North America)"),
    ("+1976", "premium rate (North America)"),
    // Germany: 0900 premium rate, 0137 mass-call services.
    ("+49900", "premium rate (Germany)"),
    ("+49137", "mass-call service (Germany)"),
    // China: 168 information-service (voice premium) numbers.
    ("+86168", "information services (China)"),
];

/// Why a call is not placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The tenant's administrator has not verified their e-mail address yet.
    EmailUnverified,
    /// The number shown is not one of the tenant's DIDs.
    CallerId { number: String },
    /// The number called is outside the allowed countries or on a blocked prefix.
    Destination { number: String, reason: String },
    /// A trial tenant's lines or daily calls are used up.
    TrialLimit(String),
    /// The tenant's outbound calls in progress are at its limit.
    OutboundLimit(String),
    /// The tenant placed its calls for this second (`max_outbound_cps`).
    RateLimit(String),
}

impl Refusal {
    /// The problem code, also the campaign attempt's outcome and contact's `last_outcome`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::EmailUnverified => "email_unverified",
            Refusal::CallerId { .. } => "caller_id_not_owned",
            Refusal::Destination { .. } => "destination_not_allowed",
            Refusal::TrialLimit(_) => "trial_limit",
            Refusal::OutboundLimit(_) => "outbound_limit",
            Refusal::RateLimit(_) => "outbound_rate_limit",
        }
    }

    pub fn detail(&self) -> String {
        match self {
            Refusal::EmailUnverified => "this call center places outbound calls once its \
                administrator has verified their e-mail address: follow the link in the e-mail \
                sent at sign-up, or send it again (Settings → Outbound calling)"
                .into(),
            Refusal::CallerId { number } => format!(
                "{number} is not one of this call center's phone numbers; calls show one of its own numbers"
            ),
            Refusal::Destination { number, reason } => format!("{number} may not be called: {reason}"),
            Refusal::TrialLimit(m) | Refusal::OutboundLimit(m) | Refusal::RateLimit(m) => {
                m.clone()
            }
        }
    }

    /// A limit that lifts (with time, or once the e-mail is verified): the call can wait —
    /// campaign contacts stay pending and the campaign shows why (`dial_hold`) —, not a
    /// refusal of this call for good.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            Refusal::TrialLimit(_)
                | Refusal::OutboundLimit(_)
                | Refusal::EmailUnverified
                | Refusal::RateLimit(_)
        )
    }

    /// The 422 for an interactive call; `number_field` names the number called.
    pub fn into_api(self, number_field: &str) -> ApiError {
        let field = match &self {
            Refusal::CallerId { .. } => Some("caller_id".to_string()),
            Refusal::Destination { .. } => Some(number_field.to_string()),
            _ => None,
        };
        ApiError::Refused {
            code: self.code(),
            detail: self.detail(),
            field,
        }
    }
}

/// A tenant's outbound rules, as loaded by [`rules`].
#[derive(Debug, Clone, Default)]
pub struct Rules {
    pub trial: bool,
    /// Allowed country calling codes (digits).
    pub countries: Vec<String>,
    /// Blocked prefixes on top of [`BUILTIN_BLOCKED`] (`+` and digits).
    pub blocked: Vec<String>,
    pub max_calls: i64,
    /// The tenant's own numbers.
    pub dids: Vec<String>,
    /// Numbers the tenant verified by a call that read a code (`crate::verify`); shown like
    /// its own DIDs.
    pub verified_numbers: Vec<String>,
    /// The administrator's e-mail address is not verified yet: no outside call at all.
    pub email_unverified: bool,
    /// Outbound calls placed per second (trial limit applied; see [`cps_limit`]).
    pub cps: i64,
}

/// Outbound calls to outside numbers: in progress now, and placed today (UTC).
#[derive(Debug, Clone, Copy, Default)]
pub struct Usage {
    pub in_progress: i64,
    pub today: i64,
    /// Seconds of answered outbound calls today (those in progress counted up to now).
    pub seconds_today: i64,
}

/// A country calling code: 1 to 3 digits, not starting with 0.
pub fn is_country_code(s: &str) -> bool {
    (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) && !s.starts_with('0')
}

/// A blocked prefix: `+` and 1 to 14 digits.
pub fn is_prefix(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 15
        && s.starts_with('+')
        && s[1..].bytes().all(|b| b.is_ascii_digit())
}

impl Rules {
    /// Whether `number` (E.164) may be called.
    pub fn destination(&self, number: &str) -> Result<(), Refusal> {
        let refuse = |reason: String| {
            Err(Refusal::Destination {
                number: number.to_string(),
                reason,
            })
        };
        if let Some((p, what)) = BUILTIN_BLOCKED.iter().find(|(p, _)| number.starts_with(p)) {
            return refuse(format!("{p} is a blocked prefix ({what})"));
        }
        if let Some(p) = self.blocked.iter().find(|p| number.starts_with(p.as_str())) {
            return refuse(format!("{p} is a blocked prefix"));
        }
        let digits = number.strip_prefix('+').unwrap_or(number);
        if !self
            .countries
            .iter()
            .any(|cc| digits.starts_with(cc.as_str()))
        {
            return refuse(if self.countries.is_empty() {
                "no country may be called yet: set the call center's country code (CRM settings), \
                 or ask the platform operator to allow countries"
                    .into()
            } else {
                format!(
                    "only numbers in country codes {} may be called (the platform operator can allow more)",
                    self.countries
                        .iter()
                        .map(|c| format!("+{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
        }
        Ok(())
    }

    /// How many more calls may start now.
    pub fn lines_free(&self, u: &Usage) -> Result<i64, Refusal> {
        if self.trial && u.seconds_today >= TRIAL_MINUTES_PER_DAY * 60 {
            return Err(Refusal::TrialLimit(format!(
                "a trial call center has {TRIAL_MINUTES_PER_DAY} minutes of outbound calls a day, \
                 used up today; the platform operator can lift the trial"
            )));
        }
        if self.trial && u.today >= TRIAL_CALLS_PER_DAY {
            return Err(Refusal::TrialLimit(format!(
                "a trial call center places at most {TRIAL_CALLS_PER_DAY} outbound calls a day; \
                 the platform operator can lift the trial"
            )));
        }
        if self.trial && u.in_progress >= TRIAL_LINES {
            return Err(Refusal::TrialLimit(format!(
                "a trial call center has at most {TRIAL_LINES} outbound calls at once; \
                 the platform operator can lift the trial"
            )));
        }
        if u.in_progress >= self.max_calls {
            return Err(Refusal::OutboundLimit(format!(
                "at most {} outbound calls at once for this call center",
                self.max_calls
            )));
        }
        let mut free = self.max_calls - u.in_progress;
        if self.trial {
            free = free
                .min(TRIAL_LINES - u.in_progress)
                .min(TRIAL_CALLS_PER_DAY - u.today);
        }
        Ok(free)
    }

    /// The decision for one call to an outside number showing `caller` (when the tenant chose
    /// it): caller ID, destination, then the limits.
    pub fn judge(&self, caller: Option<&str>, callee: &str, u: &Usage) -> Result<(), Refusal> {
        self.verified_owner()?;
        if let Some(caller) = caller {
            if !self.may_show(caller) {
                return Err(Refusal::CallerId {
                    number: caller.to_string(),
                });
            }
        }
        self.destination(callee)?;
        self.lines_free(u).map(|_| ())
    }
}

impl Rules {
    /// Refused while the tenant's e-mail address is not verified.
    pub fn verified_owner(&self) -> Result<(), Refusal> {
        if self.email_unverified {
            return Err(Refusal::EmailUnverified);
        }
        Ok(())
    }

    /// Whether `caller` may be shown: one of the tenant's DIDs or a number it verified.
    pub fn may_show(&self, caller: &str) -> bool {
        self.dids
            .iter()
            .chain(&self.verified_numbers)
            .any(|d| d == caller)
    }

    /// Every number the tenant may show: its DIDs, then its verified numbers.
    pub fn caller_ids(&self) -> Vec<String> {
        let mut all = self.dids.clone();
        all.extend(
            self.verified_numbers
                .iter()
                .filter(|n| !self.dids.contains(n))
                .cloned(),
        );
        all
    }
}

/// What the tenant proved it owns (`crate::verify`): whether its e-mail is verified, and the
/// caller IDs it verified. `conn` is in the tenant's schema.
pub async fn ownership(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> anyhow::Result<(bool, Vec<String>)> {
    let verified: Option<bool> = sqlx::query_scalar(
        "SELECT email_verified_at IS NOT NULL FROM platform.tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let numbers: Vec<String> = sqlx::query_scalar(
        "SELECT number FROM caller_id_verifications WHERE verified_at IS NOT NULL ORDER BY number",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok((verified.unwrap_or(false), numbers))
}

/// Whether a callee goes through the trunk (an extension does not).
pub fn is_outside(callee: &str) -> bool {
    callee.starts_with('+')
}

/// `platform.tenants`' outbound columns: trial, outbound_countries,
/// outbound_blocked_prefixes, max_outbound_calls.
pub type TenantRow = (bool, Option<Vec<String>>, Vec<String>, Option<i32>);

/// The tenant's rules. `conn` is in the tenant's schema (its settings are read).
pub async fn rules(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<Rules> {
    let row: Option<crate::dial_policy::TenantRow> = sqlx::query_as(
        "SELECT trial, outbound_countries, outbound_blocked_prefixes, max_outbound_calls
           FROM platform.tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let (trial, countries, mut blocked, max) = row.unwrap_or((true, Some(vec![]), vec![], Some(0)));
    let dids: Vec<String> =
        sqlx::query_scalar("SELECT did FROM platform.dids WHERE tenant_id = $1 ORDER BY did")
            .bind(tenant)
            .fetch_all(&mut *conn)
            .await?;
    let own: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value->'country_code' FROM settings WHERE key = 'crm'")
            .fetch_optional(&mut *conn)
            .await?;
    let own = own.and_then(|v| v.as_str().map(str::to_string));
    let mut countries = match countries {
        Some(c) => c,
        None => own.into_iter().filter(|c| is_country_code(c)).collect(),
    };
    let narrow = tenant_rules(conn).await?;
    if let Some(mine) = narrow.countries {
        countries.retain(|c| mine.contains(c));
    }
    blocked.extend(narrow.blocked_prefixes);
    let (email_verified, verified_numbers) = ownership(conn, tenant).await?;
    Ok(Rules {
        trial,
        countries,
        blocked,
        max_calls: max.map(i64::from).unwrap_or(DEFAULT_MAX_OUTBOUND_CALLS),
        dids,
        verified_numbers,
        email_unverified: !email_verified,
        cps: cps_limit(&mut *conn, tenant).await?,
    })
}

/// The tenant's own narrowing (settings key `outbound`).
pub async fn tenant_rules(
    conn: &mut PgConnection,
) -> anyhow::Result<hotline_wire::campaigns::TenantOutboundRules> {
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT value FROM settings WHERE key = 'outbound'")
            .fetch_optional(&mut *conn)
            .await?;
    Ok(v.and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

/// The tenant's outbound calls to outside numbers (CDR legs). `conn` is in the tenant's schema.
pub async fn usage(conn: &mut PgConnection) -> anyhow::Result<Usage> {
    let (in_progress, today, seconds_today): (i64, i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE ended_at IS NULL
                                   AND arrived_at > now() - make_interval(secs => $1)),
                count(*) FILTER (WHERE arrived_at >= date_trunc('day', now() AT TIME ZONE 'UTC')
                                                      AT TIME ZONE 'UTC'),
                coalesce(sum(extract(epoch FROM
                    coalesce(ended_at, least(now(), answered_at + make_interval(secs => $1)))
                      - answered_at))
                  FILTER (WHERE answered_at IS NOT NULL
                            AND arrived_at >= date_trunc('day', now() AT TIME ZONE 'UTC')
                                                AT TIME ZONE 'UTC'), 0)::bigint
           FROM cdrs
          WHERE direction = 'outbound' AND callee LIKE '+%'
            AND arrived_at > least(now() - make_interval(secs => $1),
                                   date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')",
    )
    .bind(STALE_SECS)
    .fetch_one(&mut *conn)
    .await?;
    Ok(Usage {
        in_progress,
        today,
        seconds_today,
    })
}

/// The one check before an interactive call to `callee` showing `caller` (`None`: the
/// platform chose it). An extension is not an outside call: always allowed.
pub async fn check(
    state: &AppState,
    tenant: Uuid,
    caller: Option<&str>,
    callee: &str,
) -> anyhow::Result<Result<(), Refusal>> {
    if !is_outside(callee) {
        return Ok(Ok(()));
    }
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let r = rules(&mut tx, tenant).await?;
    let u = usage(&mut tx).await?;
    tx.rollback().await?;
    if let Err(refusal) = r.judge(caller, callee, &u) {
        return Ok(Err(refusal));
    }
    take_one(state, tenant, r.cps).await
}

/// [`check`] as an API answer: 422 with the refusal's code.
pub async fn require(
    state: &AppState,
    tenant: Uuid,
    caller: Option<&str>,
    callee: &str,
    number_field: &str,
) -> Result<(), ApiError> {
    check(state, tenant, caller, callee)
        .await
        .map_err(ApiError::internal)?
        .map_err(|r| r.into_api(number_field))
}

// ------------------------------------------------- calls per second and the gateways' copy

/// Outbound calls a tenant places per second, unless an operator set another limit.
pub const DEFAULT_OUTBOUND_CPS: i64 = 10;
/// Outbound calls per second for a trial tenant.
pub const TRIAL_CPS: i64 = 2;

/// The backend's count of calls placed in the current second (Redis clock), shared by every
/// backend process: hash with `sec` and `n`. (The gateways count their own, in
/// `hotline_wire::gateway::outbound_rate_key`.)
pub fn rate_key(tenant: Uuid) -> String {
    format!("{{t:{tenant}}}:dial:rate")
}

/// KEYS[1] = [`rate_key`]; ARGV = wanted, limit. Grants up to `wanted` calls of the current
/// second's `limit` and returns how many.
const TAKE_RATE: &str = r#"
local sec = tonumber(redis.call('TIME')[1])
local cur = redis.call('HMGET', KEYS[1], 'sec', 'n')
local n = 0
if tonumber(cur[1]) == sec then n = tonumber(cur[2]) or 0 end
local grant = math.max(0, math.min(tonumber(ARGV[1]), tonumber(ARGV[2]) - n))
redis.call('HSET', KEYS[1], 'sec', sec, 'n', n + grant)
redis.call('PEXPIRE', KEYS[1], 2000)
return grant
"#;

/// KEYS[1] = [`rate_key`]; ARGV = count. Gives back calls taken this second but not placed.
const GIVE_BACK: &str = r#"
local sec = tonumber(redis.call('TIME')[1])
local cur = redis.call('HMGET', KEYS[1], 'sec', 'n')
if tonumber(cur[1]) == sec then
  redis.call('HSET', KEYS[1], 'n', math.max(0, (tonumber(cur[2]) or 0) - tonumber(ARGV[1])))
end
return 0
"#;

/// The tenant's calls per second: the operator's `max_outbound_cps`, else
/// [`DEFAULT_OUTBOUND_CPS`]; a trial tenant at most [`TRIAL_CPS`].
pub async fn cps_limit(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<i64> {
    Ok(gateway_limits(conn, tenant).await?.1)
}

/// `(max calls at once, calls per second)` with the trial's limits applied: what the
/// gateways enforce. A tenant that does not exist gets `(0, 0)`.
pub async fn gateway_limits(conn: &mut PgConnection, tenant: Uuid) -> anyhow::Result<(i64, i64)> {
    let row: Option<(bool, Option<i32>, Option<i32>)> = sqlx::query_as(
        "SELECT trial, max_outbound_calls, max_outbound_cps FROM platform.tenants WHERE id = $1",
    )
    .bind(tenant)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((trial, max, cps)) = row else {
        return Ok((0, 0));
    };
    let max = max.map(i64::from).unwrap_or(DEFAULT_MAX_OUTBOUND_CALLS);
    let cps = cps.map(i64::from).unwrap_or(DEFAULT_OUTBOUND_CPS);
    Ok(if trial {
        (max.min(TRIAL_LINES), cps.min(TRIAL_CPS))
    } else {
        (max, cps)
    })
}

/// Takes up to `wanted` of this second's `limit` calls; returns how many may be placed now.
pub async fn take_calls(
    state: &AppState,
    tenant: Uuid,
    limit: i64,
    wanted: i64,
) -> anyhow::Result<i64> {
    if wanted <= 0 {
        return Ok(0);
    }
    let granted: i64 = redis::Script::new(TAKE_RATE)
        .key(rate_key(tenant))
        .arg(wanted)
        .arg(limit)
        .invoke_async(&mut state.redis())
        .await?;
    Ok(granted)
}

/// Returns `n` calls taken with [`take_calls`] but not placed (still this second).
pub async fn give_back(state: &AppState, tenant: Uuid, n: i64) -> anyhow::Result<()> {
    if n > 0 {
        let _: i64 = redis::Script::new(GIVE_BACK)
            .key(rate_key(tenant))
            .arg(n)
            .invoke_async(&mut state.redis())
            .await?;
    }
    Ok(())
}

/// The refusal when this second's calls are used up.
pub fn rate_refusal(limit: i64) -> Refusal {
    Refusal::RateLimit(format!(
        "at most {limit} outbound calls per second for this call center; try again in a moment"
    ))
}

/// One call of this second's `limit`, or the refusal.
async fn take_one(
    state: &AppState,
    tenant: Uuid,
    limit: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    Ok(if take_calls(state, tenant, limit, 1).await? == 1 {
        Ok(())
    } else {
        Err(rate_refusal(limit))
    })
}

/// Publishes the tenant's effective limits ([`gateway_limits`]) to
/// `hotline_wire::gateway::outbound_limits_key`, where every gateway checks each `originate`.
/// Called when an operator changes them, when a tenant is provisioned and, for every tenant,
/// when a backend starts.
pub async fn publish_gateway_limits(state: &AppState, tenant: Uuid) -> anyhow::Result<()> {
    use hotline_wire::gateway as wire;
    let mut conn = state.db.acquire().await?;
    let (max, cps) = gateway_limits(&mut conn, tenant).await?;
    let _: () = redis::cmd("HSET")
        .arg(wire::outbound_limits_key(tenant))
        .arg(wire::OUTBOUND_MAX_CALLS_FIELD)
        .arg(max)
        .arg(wire::OUTBOUND_CPS_FIELD)
        .arg(cps)
        .query_async(&mut state.redis())
        .await?;
    Ok(())
}

/// The refusal code when a gateway refused an `originate` for the tenant's limits (a
/// `hangup` with cause `outbound_limit` / `outbound_rate_limit`): the campaign attempt's
/// outcome, the callback's or click-to-call's note on the agent's desktop, the IVR
/// transfer's timeline entry.
pub fn gateway_refusal(ev: &hotline_wire::gateway::GatewayEvent) -> Option<&'static str> {
    use hotline_wire::gateway::{GatewayEvent, HangupCause};
    match ev {
        GatewayEvent::Hangup {
            cause: HangupCause::OutboundLimit,
            ..
        } => Some("outbound_limit"),
        GatewayEvent::Hangup {
            cause: HangupCause::OutboundRateLimit,
            ..
        } => Some("outbound_rate_limit"),
        _ => None,
    }
}

/// [`publish_gateway_limits`] for every tenant.
pub async fn publish_all_gateway_limits(state: &AppState) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM platform.tenants")
        .fetch_all(&state.db)
        .await?;
    for id in ids {
        publish_gateway_limits(state, id).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules {
            trial: true,
            countries: vec!["994".into()],
            blocked: vec!["+99412555".into()],
            max_calls: 10,
            dids: vec!["+994125550100".into()],
            verified_numbers: vec!["+994505550199".into()],
            email_unverified: false,
            cps: 1,
        }
    }

    #[test]
    fn destinations() {
        let r = rules();
        assert!(r.destination("+994505550101").is_ok());
        for n in [
            "+994900123456",
            "+99412555010",
            "+15550001001",
            "+8816123456",
            "+97912345678",
            "+4870012345",
        ] {
            let e = r.destination(n).unwrap_err();
            assert_eq!(e.code(), "destination_not_allowed", "{n}");
        }
        let wide = Rules {
            countries: vec!["994".into(), "1".into(), "48".into()],
            ..rules()
        };
        assert!(wide.destination("+12125550100").is_ok());
        assert!(wide.destination("+19005550100").is_err());
        assert!(wide.destination("+48700123456").is_err());
        assert!(wide.destination("+48221234567").is_ok());
    }

    #[test]
    fn limits_and_caller_id() {
        let r = rules();
        let u = |in_progress, today| Usage {
            in_progress,
            today,
            seconds_today: 0,
        };
        assert_eq!(r.lines_free(&u(0, 0)), Ok(2));
        // A trial's minutes a day: 29:59 talked leaves room, 30:00 does not; lifted with it.
        let talked = |secs| Usage {
            seconds_today: secs,
            ..u(0, 1)
        };
        assert_eq!(r.lines_free(&talked(TRIAL_MINUTES_PER_DAY * 60 - 1)), Ok(2));
        let used = r
            .lines_free(&talked(TRIAL_MINUTES_PER_DAY * 60))
            .unwrap_err();
        assert_eq!(used.code(), "trial_limit");
        assert!(
            matches!(&used, Refusal::TrialLimit(m) if m.contains("30 minutes")),
            "{used:?}"
        );
        let lifted = Rules {
            trial: false,
            ..rules()
        };
        assert!(lifted.lines_free(&talked(10 * 3600)).is_ok());
        assert_eq!(r.lines_free(&u(1, 49)), Ok(1));
        assert_eq!(r.lines_free(&u(2, 0)).unwrap_err().code(), "trial_limit");
        assert_eq!(r.lines_free(&u(0, 50)).unwrap_err().code(), "trial_limit");
        let full = Rules {
            trial: false,
            ..rules()
        };
        assert_eq!(full.lines_free(&u(3, 500)), Ok(7));
        assert_eq!(
            full.lines_free(&u(10, 0)).unwrap_err().code(),
            "outbound_limit"
        );
        let spoofed = r.judge(Some("+994125550199"), "+994505550101", &u(0, 0));
        assert_eq!(spoofed.unwrap_err().code(), "caller_id_not_owned");
        assert!(r
            .judge(Some("+994125550100"), "+994505550101", &u(0, 0))
            .is_ok());
        assert!(r
            .judge(Some("+994505550199"), "+994505550101", &u(0, 0))
            .is_ok());
        assert_eq!(r.caller_ids(), ["+994125550100", "+994505550199"]);
        let unverified = Rules {
            email_unverified: true,
            ..rules()
        };
        let e = unverified
            .judge(Some("+994125550100"), "+994505550101", &u(0, 0))
            .unwrap_err();
        assert_eq!(e.code(), "email_unverified");
        assert!(e.is_limit(), "contacts wait for the verification");
        assert!(is_country_code("994") && !is_country_code("0") && !is_country_code("9944"));
        assert!(is_prefix("+4870") && !is_prefix("4870") && !is_prefix("+"));
    }
}
