//! The outbound dialer at work: every backend process runs [`spawn`], a one-second tick over
//! the running campaigns (listed in Redis under [`RUNNING_KEY`]). One process at a time ticks
//! a campaign (a short Redis lock), so two backends never dial the same contact; contacts are
//! claimed with `FOR UPDATE SKIP LOCKED` besides.
//!
//! A tick of a recorded-message campaign:
//! 1. hangs up attempts that rang longer than the campaign's ring timeout (outcome
//!    `no_answer`), and gives up on attempts whose gateway never reported back;
//! 2. picks due contacts (`pending`, `next_attempt_at` passed) up to the free lines
//!    (`max_lines` minus the calls in progress): a contact outside its calling hours (in its
//!    own time zone) is moved to when they open; a number on the do-not-call list is skipped
//!    and logged (`dnc`); the others are marked `dialing` with a new attempt row;
//! 3. after the commit, originates each call through a live gateway;
//! 4. finishes the campaign when no contact is pending and no call is in progress.
//!
//! The gateway's events of a campaign's legs ([`on_gateway_event`]) play the prompt on answer
//! (or, with a confirmation key, collect one digit while it plays), store the key pressed,
//! hang up when the message is done, and settle the attempt: answered / confirmed /
//! not_confirmed, or busy (486, 600, 603), no_answer (ring timeout, 408, 480, 487), dnc (the
//! gateway's own blocklist check, 403), failed (anything else). Busy, unanswered or failed
//! contacts are tried again after the retry interval while attempts are left and the outcome
//! is one the campaign retries.

use crate::{db, ivr::command, state::AppState};
use chrono::{DateTime, NaiveTime, Utc};
use hotline_dialer::window::CallingHours;
use hotline_wire::gateway::{self as wire, GatewayCommand, GatewayEvent, HangupCause};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Set of `<tenant>/<campaign>` for every running campaign.
pub const RUNNING_KEY: &str = "platform:campaigns:running";

fn leg_key(tenant: Uuid, leg: Uuid) -> String {
    format!("{{t:{tenant}}}:campaign:leg:{leg}")
}

fn lock_key(tenant: Uuid, campaign: Uuid) -> String {
    format!("{{t:{tenant}}}:campaign:{campaign}:tick")
}

const LEG_TTL_SECS: u64 = 6 * 3600;
/// Contacts looked at per tick (those outside their hours are moved on, so the next tick
/// sees others).
const BATCH: i64 = 100;
/// An attempt whose hang-up was requested but never reported is given up after this.
const LOST_AFTER_SECS: i64 = 60;

/// Calling hours as the API carries them (seven entries, Monday first) → the dialer's type.
/// `Err` names the first bad entry.
pub fn parse_hours(v: &[Option<[String; 2]>]) -> Result<CallingHours, String> {
    if v.len() != 7 {
        return Err("give seven entries, Monday first (null for a day without calls)".into());
    }
    let mut days = [None; 7];
    for (i, d) in v.iter().enumerate() {
        if let Some([from, to]) = d {
            let p = |s: &str| NaiveTime::parse_from_str(s, "%H:%M");
            match (p(from), p(to)) {
                (Ok(f), Ok(t)) if f < t => days[i] = Some((f, t)),
                (Ok(_), Ok(_)) => {
                    return Err(format!("day {}: the end must be after the start", i + 1))
                }
                _ => return Err(format!("day {}: times are HH:MM", i + 1)),
            }
        }
    }
    Ok(CallingHours(days))
}

/// Whether `tz` is an IANA time zone name we know.
pub fn is_zone(tz: &str) -> bool {
    tz.parse::<chrono_tz::Tz>().is_ok()
}

/// Marks a campaign running (the tick picks it up) or not.
pub async fn set_running(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    running: bool,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let member = format!("{tenant}/{campaign}");
    if running {
        let _: () = r.sadd(RUNNING_KEY, member).await?;
    } else {
        let _: () = r.srem(RUNNING_KEY, member).await?;
    }
    Ok(())
}

/// What the event handler needs to know about a campaign's leg.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Leg {
    campaign: Uuid,
    contact: Uuid,
    gateway_id: String,
    prompt: String,
    confirm: Option<String>,
}

struct Campaign {
    status: String,
    caller_id: String,
    prompt: Option<String>,
    confirm_digit: Option<String>,
    starts_at: Option<DateTime<Utc>>,
    ends_at: Option<DateTime<Utc>>,
    hours: CallingHours,
    timezone: String,
    ring_timeout_secs: i32,
    max_lines: i32,
}

async fn load(conn: &mut sqlx::PgConnection, id: Uuid) -> anyhow::Result<Option<Campaign>> {
    type Row = (
        String,
        String,
        Option<String>,
        Option<String>,
        Option<DateTime<Utc>>,
        Option<DateTime<Utc>>,
        serde_json::Value,
        String,
        i32,
        i32,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT status, caller_id, prompt, confirm_digit, starts_at, ends_at, calling_hours,
                timezone, ring_timeout_secs, max_lines
           FROM campaigns WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let hours: Vec<Option<[String; 2]>> = serde_json::from_value(r.6)?;
    Ok(Some(Campaign {
        status: r.0,
        caller_id: r.1,
        prompt: r.2,
        confirm_digit: r.3,
        starts_at: r.4,
        ends_at: r.5,
        hours: parse_hours(&hours).map_err(anyhow::Error::msg)?,
        timezone: r.7,
        ring_timeout_secs: r.8,
        max_lines: r.9,
    }))
}

/// A live gateway to place calls through (heartbeat not expired, not draining, publishing
/// its events to the stream this backend reads), the same one for every call of a tick.
pub async fn pick_gateway(state: &AppState) -> anyhow::Result<Option<String>> {
    let mut r = state.redis();
    let mut ids: Vec<String> = r.smembers(wire::GATEWAYS_KEY).await?;
    ids.sort();
    for id in ids {
        let (draining, events): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(wire::gateway_key(&id))
            .arg("draining")
            .arg("events")
            .query_async(&mut r)
            .await?;
        if draining.as_deref() == Some("false")
            && events.as_deref() == Some(state.cfg.call_events_stream.as_str())
        {
            return Ok(Some(id));
        }
    }
    Ok(None)
}

struct Dial {
    leg: Uuid,
    contact: Uuid,
    phone: String,
}

/// One tick of one campaign, under its lock. `now` is passed in so tests can move the clock.
pub async fn tick(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let Some(c) = load(&mut tx, campaign).await? else {
        set_running(state, tenant, campaign, false).await?;
        return Ok(());
    };
    if c.status != "running" {
        set_running(state, tenant, campaign, false).await?;
        return Ok(());
    }
    if c.ends_at.is_some_and(|e| e <= now) {
        finish(&mut tx, campaign).await?;
        tx.commit().await?;
        return set_running(state, tenant, campaign, false).await;
    }
    // 1. Ring timeouts, and attempts the gateway never reported back on.
    let overdue: Vec<(Uuid, String)> = sqlx::query_as(
        "UPDATE campaign_attempts SET cancelled_at = $3
          WHERE campaign_id = $1 AND ended_at IS NULL AND answered_at IS NULL
            AND cancelled_at IS NULL AND started_at <= $3 - make_interval(secs => $2)
          RETURNING call_id, gateway_id",
    )
    .bind(campaign)
    .bind(c.ring_timeout_secs as f64)
    .bind(now)
    .fetch_all(&mut *tx)
    .await?;
    let lost: Vec<Uuid> = sqlx::query_scalar(
        "SELECT call_id FROM campaign_attempts
          WHERE campaign_id = $1 AND ended_at IS NULL AND cancelled_at <= $2 - make_interval(secs => $3)",
    )
    .bind(campaign)
    .bind(now)
    .bind(LOST_AFTER_SECS as f64)
    .fetch_all(&mut *tx)
    .await?;
    for leg in &lost {
        tracing::warn!(%tenant, %campaign, %leg, "no hang-up reported for a cancelled attempt: failed");
        settle(&mut tx, leg, "failed", None, now).await?;
    }
    // 2. New calls, up to the free lines.
    let in_progress: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_attempts WHERE campaign_id = $1 AND ended_at IS NULL",
    )
    .bind(campaign)
    .fetch_one(&mut *tx)
    .await?;
    let free = (c.max_lines as i64 - in_progress).max(0);
    let started = c.starts_at.is_none_or(|s| s <= now);
    let gateway = if free > 0 && started {
        pick_gateway(state).await?
    } else {
        None
    };
    let mut dial = Vec::new();
    if let Some(gw) = &gateway {
        let due: Vec<(Uuid, String, Option<String>, bool)> = sqlx::query_as(
            "SELECT k.id, k.phone, k.timezone,
                    EXISTS (SELECT 1 FROM call_blocklist b
                             WHERE b.direction = 'outbound' AND b.number = k.phone)
               FROM campaign_contacts k
              WHERE k.campaign_id = $1 AND k.status = 'pending' AND k.next_attempt_at <= $2
              ORDER BY k.next_attempt_at, k.id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(campaign)
        .bind(now)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        for (contact, phone, tz, blocked) in due {
            if blocked {
                skip_dnc(&mut tx, campaign, contact, &phone, now).await?;
                continue;
            }
            let tz = tz.unwrap_or_else(|| c.timezone.clone());
            if !c.hours.is_open(&tz, now) {
                let next = c
                    .hours
                    .next_open(&tz, now)
                    .unwrap_or(now + chrono::Duration::days(1));
                sqlx::query("UPDATE campaign_contacts SET next_attempt_at = $2 WHERE id = $1")
                    .bind(contact)
                    .bind(next)
                    .execute(&mut *tx)
                    .await?;
                continue;
            }
            if dial.len() as i64 >= free {
                continue;
            }
            let leg = Uuid::new_v4();
            sqlx::query(
                "UPDATE campaign_contacts SET status = 'dialing', attempts = attempts + 1,
                        updated_at = $2 WHERE id = $1",
            )
            .bind(contact)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO campaign_attempts (call_id, campaign_id, contact_id, phone, gateway_id,
                                                started_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(leg)
            .bind(campaign)
            .bind(contact)
            .bind(&phone)
            .bind(gw)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            dial.push(Dial {
                leg,
                contact,
                phone,
            });
        }
    }
    // 4. Done when nothing is left to call or in progress.
    let left: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaign_contacts
                         WHERE campaign_id = $1 AND status IN ('pending', 'dialing'))",
    )
    .bind(campaign)
    .fetch_one(&mut *tx)
    .await?;
    if !left {
        finish(&mut tx, campaign).await?;
    }
    tx.commit().await?;
    if !left {
        set_running(state, tenant, campaign, false).await?;
    }
    for (leg, gw) in overdue {
        let cmd = GatewayCommand::Hangup {
            call_id: leg,
            status: None,
        };
        if let Err(e) = command(state, &gw, &cmd).await {
            tracing::warn!(%tenant, %leg, error = %e, "ring timeout hang-up not sent");
        }
    }
    // 3. Place the calls claimed above.
    if let Some(gw) = gateway {
        let prompt = c.prompt.clone().unwrap_or_default();
        for d in dial {
            place(state, tenant, campaign, &c, &gw, &prompt, d).await?;
        }
    }
    Ok(())
}

async fn place(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    c: &Campaign,
    gw: &str,
    prompt: &str,
    d: Dial,
) -> anyhow::Result<()> {
    let rec = Leg {
        campaign,
        contact: d.contact,
        gateway_id: gw.to_string(),
        prompt: prompt.to_string(),
        confirm: c.confirm_digit.clone(),
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            leg_key(tenant, d.leg),
            serde_json::to_string(&rec)?,
            LEG_TTL_SECS,
        )
        .await?;
    let cdr = crate::cdr::OutboundLeg {
        leg: d.leg,
        parent: None,
        caller: &c.caller_id,
        callee: &d.phone,
        agent: None,
        gateway_id: gw,
    };
    crate::cdr::outbound_leg(state, tenant, cdr).await?;
    let cmd = GatewayCommand::Originate {
        call_id: d.leg,
        tenant_id: tenant,
        caller: c.caller_id.clone(),
        callee: d.phone.clone(),
    };
    command(state, gw, &cmd).await
}

async fn finish(conn: &mut sqlx::PgConnection, campaign: Uuid) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE campaigns SET status = 'finished', finished_at = now(), updated_at = now()
          WHERE id = $1 AND status = 'running'",
    )
    .bind(campaign)
    .execute(conn)
    .await?;
    Ok(())
}

/// A contact on the do-not-call list: never dialled, logged as a skipped attempt.
async fn skip_dnc(
    conn: &mut sqlx::PgConnection,
    campaign: Uuid,
    contact: Uuid,
    phone: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE campaign_contacts SET status = 'dnc', last_outcome = 'dnc', updated_at = $2
          WHERE id = $1",
    )
    .bind(contact)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_attempts (call_id, campaign_id, contact_id, phone, started_at,
                                        ended_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $5, 'dnc')",
    )
    .bind(Uuid::new_v4())
    .bind(campaign)
    .bind(contact)
    .bind(phone)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Ends an attempt with `outcome` and moves its contact on: a final status, or back to
/// `pending` for a retry. Idempotent (an attempt already ended is left alone).
async fn settle(
    conn: &mut sqlx::PgConnection,
    leg: &Uuid,
    outcome: &str,
    sip_status: Option<u16>,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let ended: Option<(Uuid, Uuid)> = sqlx::query_as(
        "UPDATE campaign_attempts SET ended_at = $2, outcome = $3, sip_status = $4
          WHERE call_id = $1 AND ended_at IS NULL RETURNING campaign_id, contact_id",
    )
    .bind(leg)
    .bind(now)
    .bind(outcome)
    .bind(sip_status.map(i32::from))
    .fetch_optional(&mut *conn)
    .await?;
    let Some((campaign, contact)) = ended else {
        return Ok(());
    };
    // Retry when the campaign retries this outcome and attempts are left; else final.
    sqlx::query(
        "UPDATE campaign_contacts k
            SET status = CASE WHEN $3 = ANY (c.retry_on) AND k.attempts < c.max_attempts
                              THEN 'pending' ELSE $3 END,
                next_attempt_at = $4 + make_interval(secs => c.retry_interval_secs),
                last_outcome = $3, updated_at = $4
           FROM campaigns c
          WHERE k.id = $1 AND c.id = $2 AND k.status = 'dialing'",
    )
    .bind(contact)
    .bind(campaign)
    .bind(outcome)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// What an unanswered attempt's end means.
pub fn unanswered_outcome(
    cause: HangupCause,
    status: Option<u16>,
    cancelled: bool,
) -> &'static str {
    match (cause, status) {
        _ if cancelled => "no_answer",
        (_, Some(486 | 600 | 603)) => "busy",
        (_, Some(408 | 480 | 487)) | (HangupCause::Cancelled, _) => "no_answer",
        (_, Some(403)) => "dnc",
        _ => "failed",
    }
}

/// Gateway events of campaign legs (others are ignored).
pub async fn on_gateway_event(state: &AppState, ev: &GatewayEvent) -> anyhow::Result<()> {
    let (leg, tenant) = match ev {
        GatewayEvent::CallAnswered {
            call_id, tenant_id, ..
        }
        | GatewayEvent::PlaybackFinished {
            call_id, tenant_id, ..
        }
        | GatewayEvent::DigitsCollected {
            call_id, tenant_id, ..
        }
        | GatewayEvent::Hangup {
            call_id, tenant_id, ..
        } => (*call_id, *tenant_id),
        _ => return Ok(()),
    };
    let mut r = state.redis();
    let raw: Option<String> = r.get(leg_key(tenant, leg)).await?;
    let Some(rec) = raw.and_then(|s| serde_json::from_str::<Leg>(&s).ok()) else {
        return Ok(());
    };
    let now = Utc::now();
    let schema = db::schema_name(tenant);
    match ev {
        GatewayEvent::CallAnswered { .. } => {
            let mut tx = db::begin_in_schema(&state.db, &schema).await?;
            sqlx::query(
                "UPDATE campaign_attempts SET answered_at = coalesce(answered_at, $2)
                  WHERE call_id = $1",
            )
            .bind(leg)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            let cmd = match &rec.confirm {
                Some(_) => GatewayCommand::CollectDigits {
                    call_id: leg,
                    prompt: Some(rec.prompt.clone()),
                    min: 1,
                    max: 1,
                    timeout_ms: 8_000,
                    terminator: None,
                },
                None => GatewayCommand::Play {
                    call_id: leg,
                    prompt: rec.prompt.clone(),
                    interruptible: false,
                },
            };
            command(state, &rec.gateway_id, &cmd).await?;
        }
        GatewayEvent::DigitsCollected { digits, .. } => {
            let confirmed = rec.confirm.as_deref().is_some_and(|d| d == digits);
            let mut tx = db::begin_in_schema(&state.db, &schema).await?;
            sqlx::query("UPDATE campaign_attempts SET dtmf = nullif($2, '') WHERE call_id = $1")
                .bind(leg)
                .bind(digits)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE campaign_contacts SET dtmf = nullif($2, '') WHERE id = $1")
                .bind(rec.contact)
                .bind(digits)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            tracing::info!(%tenant, %leg, confirmed, "campaign call: key pressed");
            // A short goodbye, then the call ends (on its playback_finished).
            let cmd = GatewayCommand::Play {
                call_id: leg,
                prompt: "goodbye".into(),
                interruptible: false,
            };
            command(state, &rec.gateway_id, &cmd).await?;
        }
        GatewayEvent::PlaybackFinished { .. } => {
            let cmd = GatewayCommand::Hangup {
                call_id: leg,
                status: None,
            };
            command(state, &rec.gateway_id, &cmd).await?;
        }
        GatewayEvent::Hangup { cause, status, .. } => {
            let mut tx = db::begin_in_schema(&state.db, &schema).await?;
            let row: Option<(bool, bool, Option<String>)> = sqlx::query_as(
                "SELECT answered_at IS NOT NULL, cancelled_at IS NOT NULL, dtmf
                   FROM campaign_attempts WHERE call_id = $1",
            )
            .bind(leg)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((answered, cancelled, dtmf)) = row else {
                return Ok(());
            };
            let outcome = match (&rec.confirm, answered) {
                (None, true) => "answered",
                (Some(d), true) if dtmf.as_deref() == Some(d.as_str()) => "confirmed",
                (Some(_), true) => "not_confirmed",
                (_, false) => unanswered_outcome(*cause, *status, cancelled),
            };
            settle(&mut tx, &leg, outcome, *status, now).await?;
            tx.commit().await?;
            let _: () = r.del(leg_key(tenant, leg)).await?;
        }
        _ => {}
    }
    Ok(())
}

/// Ticks every running campaign once (those another process is ticking are skipped).
pub async fn tick_all(state: &AppState) -> anyhow::Result<()> {
    let mut r = state.redis();
    let running: Vec<String> = r.smembers(RUNNING_KEY).await?;
    for m in running {
        let Some((t, c)) = m.split_once('/') else {
            continue;
        };
        let (Ok(tenant), Ok(campaign)) = (t.parse::<Uuid>(), c.parse::<Uuid>()) else {
            continue;
        };
        let got: Option<String> = redis::cmd("SET")
            .arg(lock_key(tenant, campaign))
            .arg(1)
            .arg("NX")
            .arg("PX")
            .arg(5_000)
            .query_async(&mut r)
            .await?;
        if got.is_none() {
            continue;
        }
        let res = tick(state, tenant, campaign, Utc::now()).await;
        let _: () = r.del(lock_key(tenant, campaign)).await?;
        if let Err(e) = res {
            tracing::warn!(%tenant, %campaign, error = ?e, "campaign tick failed");
        }
    }
    Ok(())
}

/// Runs [`tick_all`] every second until aborted.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut t = tokio::time::interval(std::time::Duration::from_secs(1));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            t.tick().await;
            if let Err(e) = tick_all(&state).await {
                tracing::warn!(error = %e, "campaign ticker failed");
            }
        }
    })
}
