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

use crate::{call_io::command, db, state::AppState};
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
/// A preview contact goes back to the list when its agent neither dials nor skips it within
/// this time.
pub const PREVIEW_HOLD_SECS: i64 = 15 * 60;
/// Longest answering-machine detection before the call goes on as if a person answered.
const AMD_TIMEOUT_MS: u32 = 6_000;

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

/// How a campaign's leg is handled once answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
enum LegMode {
    /// Plays the prompt (and collects the confirmation key).
    #[default]
    Message,
    /// Offered to a free agent of the campaign's queue; no agent free: a short message.
    Agent,
    /// Dialled by an agent from a preview: the callback module bridges it to their softphone.
    Preview,
    /// Asks the survey's questions.
    Survey,
}

/// What the event handler needs to know about a campaign's leg.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Leg {
    campaign: Uuid,
    contact: Uuid,
    gateway_id: String,
    prompt: String,
    confirm: Option<String>,
    #[serde(default)]
    mode: LegMode,
    /// Agent and preview legs: the agent's queue.
    #[serde(default)]
    queue: Option<Uuid>,
    /// Agent legs: heard when no agent is free.
    #[serde(default)]
    no_agent_prompt: String,
    /// Answering machines: `off`, `hang_up` or `leave_message`.
    #[serde(default)]
    machine_action: String,
    /// Predictive agent campaigns: the abandon limit (a fraction) the pacer steers to; none
    /// for other modes (nothing to pace).
    #[serde(default)]
    pace_to: Option<f64>,
    /// Set once the answered call found no free agent (it hears the message, then ends).
    #[serde(default)]
    abandoned: bool,
    /// Set once answering-machine detection heard a machine.
    #[serde(default)]
    machine: bool,
    /// Survey legs: the question being asked (index in the script; its length once the
    /// last was answered, `usize::MAX` when the survey was given up).
    #[serde(default)]
    question: usize,
    /// Survey legs: the current question was not answered once already.
    #[serde(default)]
    tries: u8,
    /// Preview legs: the agent who dialled.
    #[serde(default)]
    agent: Option<Uuid>,
    /// For the agent's screen pop.
    #[serde(default)]
    campaign_name: String,
    #[serde(default)]
    contact_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    caller_id: String,
}

async fn save_leg(state: &AppState, tenant: Uuid, leg: Uuid, rec: &Leg) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            leg_key(tenant, leg),
            serde_json::to_string(rec)?,
            LEG_TTL_SECS,
        )
        .await?;
    Ok(())
}

async fn load_leg(state: &AppState, tenant: Uuid, leg: Uuid) -> anyhow::Result<Option<Leg>> {
    let mut r = state.redis();
    let raw: Option<String> = r.get(leg_key(tenant, leg)).await?;
    Ok(raw.and_then(|s| serde_json::from_str::<Leg>(&s).ok()))
}

struct Campaign {
    name: String,
    kind: String,
    dial_mode: Option<String>,
    queue_id: Option<Uuid>,
    max_abandon: f64,
    no_agent_prompt: Option<String>,
    machine_action: String,
    work_missed_calls: bool,
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
    #[derive(sqlx::FromRow)]
    struct Row {
        name: String,
        kind: String,
        dial_mode: Option<String>,
        queue_id: Option<Uuid>,
        max_abandon_pct: f32,
        no_agent_prompt: Option<String>,
        machine_action: String,
        work_missed_calls: bool,
        status: String,
        caller_id: String,
        prompt: Option<String>,
        confirm_digit: Option<String>,
        starts_at: Option<DateTime<Utc>>,
        ends_at: Option<DateTime<Utc>>,
        calling_hours: serde_json::Value,
        timezone: String,
        ring_timeout_secs: i32,
        max_lines: i32,
    }
    let row: Option<Row> = sqlx::query_as(
        "SELECT name, kind, dial_mode, queue_id, max_abandon_pct, no_agent_prompt,
                machine_action, work_missed_calls, status, caller_id, prompt, confirm_digit, starts_at, ends_at,
                calling_hours, timezone, ring_timeout_secs, max_lines
           FROM campaigns WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let hours: Vec<Option<[String; 2]>> = serde_json::from_value(r.calling_hours)?;
    Ok(Some(Campaign {
        name: r.name,
        kind: r.kind,
        dial_mode: r.dial_mode,
        queue_id: r.queue_id,
        max_abandon: f64::from(r.max_abandon_pct) / 100.0,
        no_agent_prompt: r.no_agent_prompt,
        machine_action: r.machine_action,
        work_missed_calls: r.work_missed_calls,
        status: r.status,
        caller_id: r.caller_id,
        prompt: r.prompt,
        confirm_digit: r.confirm_digit,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        hours: parse_hours(&hours).map_err(anyhow::Error::msg)?,
        timezone: r.timezone,
        ring_timeout_secs: r.ring_timeout_secs,
        max_lines: r.max_lines,
    }))
}

/// A queue's agents as the ACD has them now.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct QueueAgents {
    /// Ready for a call.
    pub idle: u32,
    /// Ringing, on a call or in wrap-up.
    pub busy: u32,
    /// Logged in but not taking calls (not ready, break).
    pub away: u32,
}

impl QueueAgents {
    /// Agents logged in to the queue.
    pub fn logged_in(&self) -> u32 {
        self.idle + self.busy + self.away
    }
}

/// Counts the agents serving `queue` by their ACD state.
pub async fn queue_agents(
    state: &AppState,
    tenant: Uuid,
    queue: Uuid,
) -> anyhow::Result<QueueAgents> {
    let mut r = state.redis();
    let all: std::collections::HashMap<String, String> =
        r.hgetall(crate::call_io::acd_keys(tenant).agents).await?;
    let q = queue.to_string();
    let mut out = QueueAgents::default();
    for raw in all.values() {
        let Ok(a) = serde_json::from_str::<hotline_acd::AgentRec>(raw) else {
            continue;
        };
        if !a.queues.split(',').any(|x| x == q) {
            continue;
        }
        match a.state.as_str() {
            "logged_out" => {}
            "ready" => out.idle += 1,
            "ringing" | "on_call" | "wrap_up" | "reserved" => out.busy += 1,
            _ => out.away += 1,
        }
    }
    Ok(out)
}

fn pacer_key(tenant: Uuid, campaign: Uuid) -> String {
    format!("{{t:{tenant}}}:campaign:{campaign}:pacer")
}

async fn load_pacer(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    max_abandon: f64,
) -> anyhow::Result<hotline_dialer::Pacer> {
    let mut r = state.redis();
    let raw: Option<String> = r.get(pacer_key(tenant, campaign)).await?;
    let mut p = raw
        .and_then(|s| serde_json::from_str::<hotline_dialer::Pacer>(&s).ok())
        .unwrap_or_else(|| hotline_dialer::Pacer::new(max_abandon));
    p.max_abandon = max_abandon;
    Ok(p)
}

/// Feeds one answered call (abandoned or connected) to a predictive campaign's pacer.
async fn pace(state: &AppState, tenant: Uuid, rec: &Leg, abandoned: bool) -> anyhow::Result<()> {
    let Some(limit) = rec.pace_to else {
        return Ok(());
    };
    let mut p = load_pacer(state, tenant, rec.campaign, limit).await?;
    p.answered(abandoned);
    let mut r = state.redis();
    let _: () = r
        .set_ex(
            pacer_key(tenant, rec.campaign),
            serde_json::to_string(&p)?,
            7 * 86_400,
        )
        .await?;
    Ok(())
}

/// Lines an agent campaign may place now (progressive or predictive), from the queue's
/// agents, the calls still ringing and, in predictive mode, what the last 200 attempts
/// measured (answer rate, ring and handle times) and the pacer's aggressiveness.
async fn agent_lines(
    state: &AppState,
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    campaign: Uuid,
    c: &Campaign,
    in_progress: i64,
) -> anyhow::Result<i64> {
    let Some(queue) = c.queue_id else {
        return Ok(0);
    };
    let agents = queue_agents(state, tenant, queue).await?;
    let ringing: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM campaign_attempts
          WHERE campaign_id = $1 AND ended_at IS NULL AND answered_at IS NULL",
    )
    .bind(campaign)
    .fetch_one(&mut *conn)
    .await?;
    let (answer_rate, ring_secs, handle_secs, measured): (f64, f64, f64, i64) = sqlx::query_as(
        "SELECT coalesce(count(*) FILTER (WHERE answered_at IS NOT NULL)::float8
                         / nullif(count(*), 0), 0.5),
                coalesce(avg(extract(epoch FROM answered_at - started_at)::float8)
                         FILTER (WHERE answered_at IS NOT NULL), 10),
                coalesce(avg(extract(epoch FROM ended_at - answered_at)::float8)
                         FILTER (WHERE agent_id IS NOT NULL), 120),
                count(*)
           FROM (SELECT * FROM campaign_attempts
                  WHERE campaign_id = $1 AND ended_at IS NOT NULL AND outcome <> ALL ($2)
                  ORDER BY started_at DESC LIMIT 200) a",
    )
    .bind(campaign)
    .bind(REFUSED_OUTCOMES)
    .fetch_one(&mut *conn)
    .await?;
    let wrap: i32 = sqlx::query_scalar("SELECT wrap_up_seconds FROM queues WHERE id = $1")
        .bind(queue)
        .fetch_optional(&mut *conn)
        .await?
        .unwrap_or(0);
    let (mode, g) = match c.dial_mode.as_deref() {
        Some("predictive") => {
            let p = load_pacer(state, tenant, campaign, c.max_abandon).await?;
            (
                hotline_dialer::Mode::Predictive {
                    max_abandon: c.max_abandon,
                },
                p.aggressiveness,
            )
        }
        _ => (hotline_dialer::Mode::Progressive, 1.0),
    };
    // Until ten calls are measured, assume an even chance of an answer.
    let answer_rate = if measured < 10 { 0.5 } else { answer_rate };
    let snap = hotline_dialer::Snapshot {
        idle_agents: agents.idle,
        busy_agents: agents.busy,
        ringing: ringing.max(0) as u32,
        answer_rate,
        ring_secs,
        handle_secs: handle_secs + f64::from(wrap),
        max_lines: c.max_lines.max(0) as u32,
    };
    let n = hotline_dialer::lines_to_dial(mode, &snap, g) as i64;
    tracing::debug!(%tenant, %campaign, ?snap, g, n, "agent campaign pacing");
    Ok(n.min(c.max_lines as i64 - in_progress).max(0))
}

/// A live gateway to place calls through (heartbeat not expired, not draining, publishing
/// its events to the stream this backend reads, not saying it lacks an outbound trunk), the
/// same one for every call of a tick.
pub async fn pick_gateway(state: &AppState) -> anyhow::Result<Option<String>> {
    let mut r = state.redis();
    let mut ids: Vec<String> = r.smembers(wire::GATEWAYS_KEY).await?;
    ids.sort();
    for id in ids {
        let (draining, events, trunk): (Option<String>, Option<String>, Option<String>) =
            redis::cmd("HMGET")
                .arg(wire::gateway_key(&id))
                .arg("draining")
                .arg("events")
                .arg("trunk")
                .query_async(&mut r)
                .await?;
        if draining.as_deref() == Some("false")
            && events.as_deref() == Some(state.cfg.call_events_stream.as_str())
            && trunk.as_deref() != Some("false")
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
    name: String,
}

/// One tick of one campaign; run it through [`tick_locked`] (the campaign's lock). `now` is
/// passed in so tests can move the clock.
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
    if c.work_missed_calls {
        take_missed_calls(&mut tx, campaign, now).await?;
    }
    // Preview contacts an agent left on screen for too long go back to the list.
    sqlx::query(
        "UPDATE campaign_contacts SET status = 'pending', reserved_by = NULL
          WHERE campaign_id = $1 AND status = 'previewing'
            AND updated_at < $2 - make_interval(secs => $3)",
    )
    .bind(campaign)
    .bind(now)
    .bind(PREVIEW_HOLD_SECS as f64)
    .execute(&mut *tx)
    .await?;
    let free = match (c.kind.as_str(), c.dial_mode.as_deref()) {
        // Preview: the agents dial, one contact at a time (`preview_next`).
        ("agent", Some("preview")) => 0,
        ("agent", _) => {
            // The queue's configuration must be in the ACD before its calls are answered.
            crate::call_io::sync_queues(state, tenant).await?;
            agent_lines(state, &mut tx, tenant, campaign, &c, in_progress).await?
        }
        _ => (c.max_lines as i64 - in_progress).max(0),
    };
    let started = c.starts_at.is_none_or(|s| s <= now);
    // The tenant's outbound rules (`dial_policy`): caller ID, destinations, limits. A limit
    // holds the pending contacts back (shown on the campaign as `dial_hold`).
    let mut free = free;
    let mut hold = None;
    let mut policy = None;
    if free > 0 && started {
        let rules = crate::dial_policy::rules(&mut tx, tenant).await?;
        let usage = crate::dial_policy::usage(&mut tx).await?;
        match rules.lines_free(&usage) {
            Ok(n) => free = free.min(n),
            Err(e) => {
                hold = Some(format!("{}: {}", e.code(), e.detail()));
                free = 0;
            }
        }
        policy = Some((rules, usage));
    }
    let gateway = if free > 0 && started {
        pick_gateway(state).await?
    } else {
        None
    };
    // Calls per second (`dial_policy::take_calls`, shared by every backend): the dialer places
    // this second's share and leaves the rest pending for the next ticks, never spending an
    // attempt on a call the limit would refuse.
    let (taken, rate_limit) = match (&gateway, &policy) {
        (Some(_), Some((rules, _))) if free > 0 => {
            let n = crate::dial_policy::take_calls(state, tenant, rules.cps, free).await?;
            (n, (n < free).then_some(rules.cps))
        }
        _ => (0, None),
    };
    if gateway.is_some() && policy.is_some() {
        free = taken;
    }
    let mut dial = Vec::new();
    if let Some(gw) = &gateway {
        let due: Vec<(Uuid, String, Option<String>, bool, String)> = sqlx::query_as(
            "SELECT k.id, k.phone, k.timezone,
                    EXISTS (SELECT 1 FROM call_blocklist b
                             WHERE b.direction = 'outbound' AND b.number = k.phone),
                    k.name
               FROM campaign_contacts k
              WHERE k.campaign_id = $1 AND k.status = 'pending' AND k.next_attempt_at <= $2
              ORDER BY k.next_attempt_at, k.id LIMIT $3 FOR UPDATE SKIP LOCKED",
        )
        .bind(campaign)
        .bind(now)
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        for (contact, phone, tz, blocked, name) in due {
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
            if let Some((rules, usage)) = &policy {
                match rules.judge(Some(&c.caller_id), &phone, usage) {
                    Ok(()) => {}
                    Err(e) if e.is_limit() => {
                        hold = Some(format!("{}: {}", e.code(), e.detail()));
                        continue;
                    }
                    Err(e) => {
                        tracing::info!(%tenant, %campaign, %phone, code = e.code(), "contact refused");
                        skip_refused(&mut tx, campaign, contact, &phone, e.code(), now).await?;
                        continue;
                    }
                }
            }
            if dial.len() as i64 >= free {
                if let Some(cps) = rate_limit {
                    let r = crate::dial_policy::rate_refusal(cps);
                    hold = Some(format!("{}: {}", r.code(), r.detail()));
                }
                continue;
            }
            if let Some((_, usage)) = &mut policy {
                usage.in_progress += 1;
                usage.today += 1;
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
                name,
            });
        }
    }
    crate::dial_policy::give_back(state, tenant, taken - dial.len() as i64).await?;
    // 4. Done when nothing is left to call or in progress.
    let left: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM campaign_contacts
                         WHERE campaign_id = $1 AND status IN ('pending', 'dialing', 'previewing'))",
    )
    .bind(campaign)
    .fetch_one(&mut *tx)
    .await?;
    // A campaign working the missed-calls list waits for the next one.
    let left = left || c.work_missed_calls;
    if !left {
        finish(&mut tx, campaign).await?;
    }
    tx.commit().await?;
    set_hold(state, tenant, campaign, hold.as_deref()).await?;
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
        mode: match c.kind.as_str() {
            "agent" => LegMode::Agent,
            "survey" => LegMode::Survey,
            _ => LegMode::Message,
        },
        queue: c.queue_id,
        no_agent_prompt: c
            .no_agent_prompt
            .clone()
            .unwrap_or_else(|| "goodbye".into()),
        machine_action: c.machine_action.clone(),
        pace_to: (c.dial_mode.as_deref() == Some("predictive")).then_some(c.max_abandon),
        abandoned: false,
        machine: false,
        question: 0,
        tries: 0,
        agent: None,
        campaign_name: c.name.clone(),
        contact_name: d.name.clone(),
        phone: d.phone.clone(),
        caller_id: c.caller_id.clone(),
    };
    save_leg(state, tenant, d.leg, &rec).await?;
    let cdr = crate::cdr::OutboundLeg {
        leg: d.leg,
        parent: None,
        caller: &c.caller_id,
        callee: &d.phone,
        agent: None,
        gateway_id: gw,
    };
    crate::call_io::originate(state, tenant, cdr).await
}

/// Missed-calls campaigns: open missed calls become contacts (a number that was called
/// before and missed again is due again), and contacts whose missed call was called back
/// another way meanwhile are set aside (`handled`).
async fn take_missed_calls(
    conn: &mut sqlx::PgConnection,
    campaign: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO campaign_contacts (campaign_id, phone, name, customer_id, missed_call_id,
                                        next_attempt_at)
         SELECT $1, m.number,
                coalesce((SELECT c.name FROM customer_phones p JOIN customers c ON c.id = p.customer_id
                           WHERE p.number = m.number AND c.merged_into IS NULL
                           ORDER BY c.created_at LIMIT 1), ''),
                (SELECT p.customer_id FROM customer_phones p JOIN customers c ON c.id = p.customer_id
                  WHERE p.number = m.number AND c.merged_into IS NULL
                  ORDER BY c.created_at LIMIT 1),
                m.id, $2
           FROM missed_calls m
          WHERE m.handled_at IS NULL AND m.number ~ '^[+][1-9][0-9]{6,14}$'
         ON CONFLICT (campaign_id, phone) DO UPDATE
            SET status = 'pending', attempts = 0, next_attempt_at = $2,
                missed_call_id = excluded.missed_call_id, reserved_by = NULL, updated_at = $2
          WHERE campaign_contacts.missed_call_id IS DISTINCT FROM excluded.missed_call_id
            AND campaign_contacts.status NOT IN ('dialing', 'previewing')",
    )
    .bind(campaign)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE campaign_contacts k SET status = 'handled', last_outcome = 'handled', updated_at = $2
          WHERE k.campaign_id = $1 AND k.status IN ('pending', 'previewing')
            AND EXISTS (SELECT 1 FROM missed_calls m
                         WHERE m.id = k.missed_call_id AND m.handled_at IS NOT NULL)",
    )
    .bind(campaign)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
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

fn hold_key(tenant: Uuid, campaign: Uuid) -> String {
    format!("{{t:{tenant}}}:campaign:{campaign}:hold")
}

/// Records (for a few seconds, renewed by every tick) why the dialer holds the campaign's
/// pending contacts back: a trial or concurrent-call limit.
async fn set_hold(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    match reason {
        Some(reason) => {
            let _: () = r.set_ex(hold_key(tenant, campaign), reason, 10).await?;
        }
        None => {
            let _: () = r.del(hold_key(tenant, campaign)).await?;
        }
    }
    Ok(())
}

/// Why the dialer holds the campaign's pending contacts back now, if it does.
pub async fn hold_reason(state: &AppState, tenant: Uuid, campaign: Uuid) -> Option<String> {
    let mut r = state.redis();
    r.get(hold_key(tenant, campaign)).await.ok().flatten()
}

/// Outcomes of attempts that were refused before dialling (not dialled).
pub const REFUSED_OUTCOMES: &[&str] = &[
    "dnc",
    "destination_not_allowed",
    "caller_id_not_owned",
    "outbound_limit",
    "outbound_rate_limit",
];

/// Outcomes of attempts a gateway refused for the tenant's limits (`HangupCause`
/// `OutboundLimit` / `OutboundRateLimit`): not dialled, the contact is called later.
pub const GATEWAY_LIMIT_OUTCOMES: &[&str] = &["outbound_limit", "outbound_rate_limit"];

/// A contact the outbound rules refuse (`dial_policy`: a destination not allowed, or the
/// campaign's caller ID no longer the tenant's): never dialled, `failed` with the reason as
/// its last outcome and a skipped attempt, like a do-not-call contact.
pub(crate) async fn skip_refused(
    conn: &mut sqlx::PgConnection,
    campaign: Uuid,
    contact: Uuid,
    phone: &str,
    reason: &str,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE campaign_contacts SET status = 'failed', last_outcome = $3, updated_at = $2
          WHERE id = $1",
    )
    .bind(contact)
    .bind(now)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO campaign_attempts (call_id, campaign_id, contact_id, phone, started_at,
                                        ended_at, outcome)
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
    )
    .bind(Uuid::new_v4())
    .bind(campaign)
    .bind(contact)
    .bind(phone)
    .bind(now)
    .bind(reason)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// A contact on the do-not-call list: never dialled, logged as a skipped attempt.
pub(crate) async fn skip_dnc(
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
    // Refused by a gateway's limits (`outbound_limit`, `outbound_rate_limit`): nothing was
    // dialled, so the contact waits for the next free line without losing an attempt.
    if GATEWAY_LIMIT_OUTCOMES.contains(&outcome) {
        sqlx::query(
            "UPDATE campaign_contacts
                SET status = 'pending', attempts = greatest(attempts - 1, 0),
                    next_attempt_at = $3 + interval '2 seconds', last_outcome = $2, updated_at = $3
              WHERE id = $1 AND status = 'dialing'",
        )
        .bind(contact)
        .bind(outcome)
        .bind(now)
        .execute(&mut *conn)
        .await?;
        return Ok(());
    }
    // A missed call reached by the campaign is handled (by the agent who talked to them).
    if matches!(
        outcome,
        "answered" | "confirmed" | "not_confirmed" | "completed"
    ) {
        sqlx::query(
            "UPDATE missed_calls m SET handled_at = $3, callback_call_id = $2,
                    handled_by = (SELECT agent_id FROM campaign_attempts WHERE call_id = $2),
                    attempts = m.attempts + 1
               FROM campaign_contacts k
              WHERE k.id = $1 AND m.id = k.missed_call_id AND m.handled_at IS NULL",
        )
        .bind(contact)
        .bind(leg)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    }
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
        (HangupCause::OutboundLimit, _) => "outbound_limit",
        (HangupCause::OutboundRateLimit, _) => "outbound_rate_limit",
        _ if cancelled => "no_answer",
        (_, Some(486 | 600 | 603)) => "busy",
        (_, Some(408 | 480 | 487)) | (HangupCause::Cancelled, _) => "no_answer",
        (_, Some(403)) => "dnc",
        _ => "failed",
    }
}

/// Runs a statement about one attempt or contact in the tenant's schema.
async fn exec_in(
    state: &AppState,
    tenant: Uuid,
    q: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
) -> anyhow::Result<()> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    q.execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn hang_up(state: &AppState, gw: &str, leg: Uuid) -> anyhow::Result<()> {
    let cmd = GatewayCommand::Hangup {
        call_id: leg,
        status: None,
    };
    command(state, gw, &cmd).await
}

/// What follows an answer by a person (or, for `leave_message`, the end of a machine's
/// greeting): the message, the survey's first question, or an agent.
async fn after_answer(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    rec: &mut Leg,
) -> anyhow::Result<()> {
    match rec.mode {
        LegMode::Message => {
            let cmd = match &rec.confirm {
                Some(_) if !rec.machine => GatewayCommand::CollectDigits {
                    call_id: leg,
                    prompt: Some(rec.prompt.clone()),
                    min: 1,
                    max: 1,
                    timeout_ms: 8_000,
                    terminator: None,
                },
                _ => GatewayCommand::Play {
                    call_id: leg,
                    prompt: rec.prompt.clone(),
                    interruptible: false,
                },
            };
            command(state, &rec.gateway_id, &cmd).await
        }
        LegMode::Survey => ask(state, tenant, leg, rec).await,
        LegMode::Agent => connect_to_agent(state, tenant, leg, rec).await,
        LegMode::Preview => Ok(()),
    }
}

async fn script_of(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
) -> anyhow::Result<Vec<hotline_wire::campaigns::ScriptQuestion>> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let v: Option<serde_json::Value> =
        sqlx::query_scalar("SELECT script FROM campaigns WHERE id = $1")
            .bind(campaign)
            .fetch_optional(&mut *tx)
            .await?;
    tx.commit().await?;
    Ok(v.map(serde_json::from_value)
        .transpose()?
        .unwrap_or_default())
}

/// Survey: asks the current question (its prompt, one key), or says goodbye after the last.
async fn ask(state: &AppState, tenant: Uuid, leg: Uuid, rec: &mut Leg) -> anyhow::Result<()> {
    let script = script_of(state, tenant, rec.campaign).await?;
    let cmd = match script.get(rec.question) {
        Some(q) => GatewayCommand::CollectDigits {
            call_id: leg,
            prompt: q.prompt.clone(),
            min: 1,
            max: 1,
            timeout_ms: 8_000,
            terminator: None,
        },
        None => GatewayCommand::Play {
            call_id: leg,
            prompt: "goodbye".into(),
            interruptible: false,
        },
    };
    command(state, &rec.gateway_id, &cmd).await
}

/// Survey: stores a key pressed for the current question and moves on by the script's
/// branches; a key that is no answer (or none) repeats the question once, then the survey
/// ends.
async fn survey_answer(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    rec: &mut Leg,
    digits: &str,
) -> anyhow::Result<()> {
    let script = script_of(state, tenant, rec.campaign).await?;
    let Some(q) = script.get(rec.question) else {
        return Ok(());
    };
    if q.options.iter().any(|o| o.value == digits) {
        exec_in(
            state,
            tenant,
            sqlx::query(
                "UPDATE campaign_contacts SET answers = answers || jsonb_build_object($2::text, $3::text)
                  WHERE id = $1",
            )
            .bind(rec.contact)
            .bind(&q.id)
            .bind(digits),
        )
        .await?;
        rec.tries = 0;
        rec.question = hotline_wire::campaigns::next_question(&script, rec.question, Some(digits))
            .unwrap_or(script.len());
    } else if rec.tries == 0 {
        rec.tries = 1;
    } else {
        // Two tries without an answer: the survey ends here (answered, not completed).
        rec.tries = 0;
        rec.question = usize::MAX;
    }
    save_leg(state, tenant, leg, rec).await?;
    if rec.question == usize::MAX {
        let bye = GatewayCommand::Play {
            call_id: leg,
            prompt: "goodbye".into(),
            interruptible: false,
        };
        return command(state, &rec.gateway_id, &bye).await;
    }
    ask(state, tenant, leg, rec).await
}

/// Agent campaigns: the answered call joins the campaign's queue at high priority. Offered at
/// once to a free agent (who sees the contact and the script), it hears music until they
/// take it; with no agent free it leaves the queue, hears the short message and counts as
/// abandoned. Either way the predictive pacer learns of it.
async fn connect_to_agent(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    rec: &mut Leg,
) -> anyhow::Result<()> {
    let Some(queue) = rec.queue else {
        return hang_up(state, &rec.gateway_id, leg).await;
    };
    let vars = std::collections::BTreeMap::from([
        ("campaign".to_string(), rec.campaign_name.clone()),
        ("campaign_contact".to_string(), rec.contact.to_string()),
        ("contact_name".to_string(), rec.contact_name.clone()),
    ]);
    let cs = crate::call_io::CallState {
        gateway_id: rec.gateway_id.clone(),
        flow_id: Uuid::nil(),
        version: 0,
        caller: rec.phone.clone(),
        did: rec.caller_id.clone(),
        run: hotline_flows::Run {
            node: String::new(),
            vars: vars.clone(),
            tries: 0,
            then: None,
            on_fail: None,
        },
        queue: Some(queue.to_string()),
        campaign: Some(rec.campaign),
    };
    // Stored before the ACD sees the call: an immediate offer needs its gateway.
    crate::call_io::store(state, tenant, leg, &cs).await?;
    crate::cdr::queued(state, tenant, leg, &queue.to_string(), &vars).await?;
    let mut con = state.redis();
    let _: () = con
        .sadd(crate::dispatch::TENANTS_KEY, tenant.to_string())
        .await?;
    let script = hotline_acd::redis_acd::script();
    let keys = crate::call_io::acd_keys(tenant);
    // Ahead of the queue's inbound callers (who get 0 from most flows), behind higher queues'.
    let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
    let queue_priority: i32 = sqlx::query_scalar("SELECT priority FROM queues WHERE id = $1")
        .bind(queue)
        .fetch_optional(&mut *tx)
        .await?
        .unwrap_or(0);
    tx.commit().await?;
    let arrive = hotline_acd::Op::Arrive {
        call: leg.to_string(),
        queue: queue.to_string(),
        priority: hotline_calls::call_priority(queue_priority, 10),
    };
    let evs = hotline_acd::redis_acd::apply_async(
        &mut con,
        &script,
        &keys,
        crate::call_io::now_ms(),
        &arrive,
    )
    .await?;
    let me = leg.to_string();
    let offered = evs
        .iter()
        .find(|e| e.ev == "offered" && e.call == me)
        .and_then(|e| e.agent.parse::<Uuid>().ok());
    match offered {
        Some(agent) => {
            // The call's machine takes it (music on hold) before it acts on the offer.
            let queued = hotline_calls::control::Input::Queued;
            if let Err(why) = crate::call_control::feed(state, tenant, leg, queued, None).await? {
                tracing::warn!(%tenant, %leg, reason = why.0, "campaign call not queued");
            }
            exec_in(
                state,
                tenant,
                sqlx::query("UPDATE campaign_contacts SET agent_id = $2 WHERE id = $1")
                    .bind(rec.contact)
                    .bind(agent),
            )
            .await?;
            crate::call_control::on_acd_events(state, tenant, evs).await?;
            tracing::info!(%tenant, %leg, %agent, "campaign call offered to an agent");
            pace(state, tenant, rec, false).await?;
        }
        None => {
            let out = hotline_acd::Op::Hangup { call: me };
            if let Err(e) = hotline_acd::redis_acd::apply_async(
                &mut con,
                &script,
                &keys,
                crate::call_io::now_ms(),
                &out,
            )
            .await
            {
                tracing::warn!(%tenant, %leg, error = %e, "campaign call not taken out of its queue");
            }
            let _: () = con.del(crate::call_io::call_key(tenant, leg)).await?;
            rec.abandoned = true;
            save_leg(state, tenant, leg, rec).await?;
            tracing::info!(%tenant, %leg, "campaign call answered with no agent free: abandoned");
            let msg = GatewayCommand::Play {
                call_id: leg,
                prompt: rec.no_agent_prompt.clone(),
                interruptible: false,
            };
            command(state, &rec.gateway_id, &msg).await?;
            pace(state, tenant, rec, true).await?;
        }
    }
    Ok(())
}

/// Remembers a preview call an agent placed (the callback module bridges it): its end
/// settles the attempt.
pub async fn preview_leg(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    campaign: Uuid,
    contact: Uuid,
    agent: Uuid,
    gateway_id: &str,
) -> anyhow::Result<()> {
    let rec = Leg {
        campaign,
        contact,
        gateway_id: gateway_id.to_string(),
        prompt: String::new(),
        confirm: None,
        mode: LegMode::Preview,
        queue: None,
        no_agent_prompt: String::new(),
        machine_action: "off".into(),
        pace_to: None,
        abandoned: false,
        machine: false,
        question: 0,
        tries: 0,
        agent: Some(agent),
        campaign_name: String::new(),
        contact_name: String::new(),
        phone: String::new(),
        caller_id: String::new(),
    };
    save_leg(state, tenant, leg, &rec).await
}

/// Sets `column` (`agent_id`, `dtmf`) to `value` on an attempt and on its contact.
async fn mark<T>(
    state: &AppState,
    tenant: Uuid,
    leg: Uuid,
    contact: Uuid,
    column: &'static str,
    value: T,
) -> anyhow::Result<()>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres>
        + sqlx::Type<sqlx::Postgres>
        + Send
        + Clone
        + 'static,
{
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    for (table, key, id) in [
        ("campaign_attempts", "call_id", leg),
        ("campaign_contacts", "id", contact),
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET {column} = $2 WHERE {key} = $1"
        )))
        .bind(id)
        .bind(value.clone())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
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
        | GatewayEvent::MachineDetected {
            call_id, tenant_id, ..
        }
        | GatewayEvent::Hangup {
            call_id, tenant_id, ..
        } => (*call_id, *tenant_id),
        _ => return Ok(()),
    };
    let Some(mut rec) = load_leg(state, tenant, leg).await? else {
        return Ok(());
    };
    let now = Utc::now();
    let schema = db::schema_name(tenant);
    match ev {
        GatewayEvent::CallAnswered { .. } => {
            exec_in(
                state,
                tenant,
                sqlx::query(
                    "UPDATE campaign_attempts SET answered_at = coalesce(answered_at, $2),
                            agent_id = coalesce(agent_id, $3)
                      WHERE call_id = $1",
                )
                .bind(leg)
                .bind(now)
                .bind(rec.agent),
            )
            .await?;
            if rec.mode == LegMode::Preview {
                return Ok(());
            }
            if rec.machine_action != "off" && !rec.machine_action.is_empty() {
                // Listen first; `machine_detected` says what follows.
                let cmd = GatewayCommand::DetectMachine {
                    call_id: leg,
                    timeout_ms: AMD_TIMEOUT_MS,
                };
                return command(state, &rec.gateway_id, &cmd).await;
            }
            after_answer(state, tenant, leg, &mut rec).await?;
        }
        GatewayEvent::MachineDetected {
            result,
            beep,
            speech_ms,
            ..
        } => {
            let label = serde_json::to_value(result)?
                .as_str()
                .unwrap_or("unknown")
                .to_string();
            exec_in(
                state,
                tenant,
                sqlx::query("UPDATE campaign_attempts SET amd = $2 WHERE call_id = $1")
                    .bind(leg)
                    .bind(&label),
            )
            .await?;
            tracing::info!(%tenant, %leg, result = %label, beep, speech_ms, "answering-machine detection");
            if *result == hotline_wire::gateway::AmdResult::Machine {
                rec.machine = true;
                save_leg(state, tenant, leg, &rec).await?;
                if rec.machine_action == "leave_message" && rec.mode == LegMode::Message {
                    return after_answer(state, tenant, leg, &mut rec).await;
                }
                return hang_up(state, &rec.gateway_id, leg).await;
            }
            after_answer(state, tenant, leg, &mut rec).await?;
        }
        GatewayEvent::DigitsCollected { digits, .. } => match rec.mode {
            LegMode::Message => {
                let confirmed = rec.confirm.as_deref().is_some_and(|d| d == digits);
                let pressed = Some(digits.clone()).filter(|d| !d.is_empty());
                mark(state, tenant, leg, rec.contact, "dtmf", pressed).await?;
                tracing::info!(%tenant, %leg, confirmed, "campaign call: key pressed");
                // A short goodbye, then the call ends (on its playback_finished).
                let cmd = GatewayCommand::Play {
                    call_id: leg,
                    prompt: "goodbye".into(),
                    interruptible: false,
                };
                command(state, &rec.gateway_id, &cmd).await?;
            }
            LegMode::Survey => survey_answer(state, tenant, leg, &mut rec, digits).await?,
            _ => {}
        },
        GatewayEvent::PlaybackFinished { prompt, .. } => {
            let done = match rec.mode {
                LegMode::Message => true,
                LegMode::Survey => prompt == "goodbye",
                LegMode::Agent => rec.abandoned,
                LegMode::Preview => false,
            };
            if done {
                hang_up(state, &rec.gateway_id, leg).await?;
            }
        }
        GatewayEvent::Hangup { cause, status, .. } => {
            let mut tx = db::begin_in_schema(&state.db, &schema).await?;
            let row: Option<(bool, bool, Option<String>, Option<Uuid>)> = sqlx::query_as(
                "SELECT answered_at IS NOT NULL, cancelled_at IS NOT NULL, dtmf, agent_id
                   FROM campaign_attempts WHERE call_id = $1",
            )
            .bind(leg)
            .fetch_optional(&mut *tx)
            .await?;
            let Some((answered, cancelled, dtmf, agent)) = row else {
                return Ok(());
            };
            let outcome = match (rec.mode, answered) {
                (_, false) => unanswered_outcome(*cause, *status, cancelled),
                _ if rec.machine => "machine",
                (LegMode::Message, true) => match &rec.confirm {
                    None => "answered",
                    Some(d) if dtmf.as_deref() == Some(d.as_str()) => "confirmed",
                    Some(_) => "not_confirmed",
                },
                (LegMode::Survey, true) if rec.question != usize::MAX && rec.question > 0 => {
                    let len = script_of(state, tenant, rec.campaign).await?.len();
                    if rec.question >= len {
                        "completed"
                    } else {
                        "answered"
                    }
                }
                (LegMode::Survey | LegMode::Preview, true) => "answered",
                (LegMode::Agent, true) if agent.is_some() && !rec.abandoned => "answered",
                (LegMode::Agent, true) => "abandoned",
            };
            settle(&mut tx, &leg, outcome, *status, now).await?;
            tx.commit().await?;
            let mut r = state.redis();
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
    let running: Vec<(Uuid, Uuid)> = running
        .iter()
        .filter_map(|m| {
            let (t, c) = m.split_once('/')?;
            Some((t.parse().ok()?, c.parse().ok()?))
        })
        .collect();
    let tenants: Vec<Uuid> = running.iter().map(|(t, _)| *t).collect();
    let known = db::own_tenants(&state.db, &tenants).await;
    for (tenant, campaign) in running {
        if known.as_ref().is_some_and(|k| !k.contains(&tenant)) {
            continue;
        }
        if let Err(e) = tick_locked(state, tenant, campaign, Utc::now()).await {
            tracing::warn!(%tenant, %campaign, error = ?e, "campaign tick failed");
        }
    }
    Ok(())
}

/// [`tick`] under the campaign's lock, so that two backends' tickers (or a ticker and anything
/// else ticking) never dial for one campaign at once; `false` when another tick holds it.
pub async fn tick_locked(
    state: &AppState,
    tenant: Uuid,
    campaign: Uuid,
    now: DateTime<Utc>,
) -> anyhow::Result<bool> {
    let mut r = state.redis();
    let got: Option<String> = redis::cmd("SET")
        .arg(lock_key(tenant, campaign))
        .arg(1)
        .arg("NX")
        .arg("PX")
        .arg(5_000)
        .query_async(&mut r)
        .await?;
    if got.is_none() {
        return Ok(false);
    }
    let res = tick(state, tenant, campaign, now).await;
    let _: () = r.del(lock_key(tenant, campaign)).await?;
    res.map(|()| true)
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
