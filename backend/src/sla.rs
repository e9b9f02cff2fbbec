//! The SLA clock: business-calendar arithmetic (pure, unit- and property-tested), the due and
//! warning times of a new ticket, and the background job that marks tickets `warning` then
//! `breached` (each exactly once), escalates them and delivers the e-mail outbox.
//!
//! The job runs every `sla_job_interval_secs` (started by [`crate::app::serve`]); tests call
//! [`run_once`]. It is safe with several backend processes: each tenant is processed under a
//! transaction-level advisory lock taken with `pg_try_advisory_xact_lock` (a busy tenant is
//! skipped, the other process has it), and ticket rows are locked `FOR UPDATE SKIP LOCKED`.

use crate::{
    auth::{self, RequestMeta},
    db,
    error::{ApiError, ApiResult},
    notify,
    state::AppState,
    validate::Check,
};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use hotline_wire::{
    permissions as perms,
    sla::{BusinessCalendar, Holiday, WorkingHours},
};
use sqlx::PgConnection;
use std::collections::HashSet;
use uuid::Uuid;

// ------------------------------------------------------------------ the calendar (pure)

/// How far ahead working time is looked for before giving up (a calendar whose holidays
/// cover every working day).
const SEARCH_DAYS: i64 = 3 * 366;

/// A validated business calendar.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    pub tz: Tz,
    /// Working intervals per ISO weekday (index 0 = Monday) as minutes of the local day,
    /// ordered and not overlapping; an end of 1440 is midnight at the end of the day.
    pub week: [Vec<(u32, u32)>; 7],
    /// One-off holidays.
    pub dates: HashSet<NaiveDate>,
    /// Yearly holidays as (month, day).
    pub yearly: HashSet<(u32, u32)>,
}

impl Calendar {
    /// Every day, all day, in UTC (24/7).
    pub fn always() -> Self {
        Calendar {
            tz: Tz::UTC,
            week: std::array::from_fn(|_| vec![(0, 1440)]),
            dates: HashSet::new(),
            yearly: HashSet::new(),
        }
    }

    pub fn is_holiday(&self, day: NaiveDate) -> bool {
        self.dates.contains(&day) || self.yearly.contains(&(day.month(), day.day()))
    }

    /// The instant at which `work` of working time has passed since `start`: working time
    /// left today, then the next working intervals, skipping holidays. `None` when there is
    /// no working time within three years (no hours, or holidays on every working day).
    pub fn add_working(&self, start: DateTime<Utc>, work: Duration) -> Option<DateTime<Utc>> {
        let mut left = work.max(Duration::zero());
        if left.is_zero() {
            return Some(start);
        }
        let first = start.with_timezone(&self.tz).date_naive();
        for offset in -1..SEARCH_DAYS {
            let day = first + Duration::days(offset);
            if self.is_holiday(day) {
                continue;
            }
            for &(s, e) in &self.week[day.weekday().num_days_from_monday() as usize] {
                let from = local_to_utc(self.tz, day, s).max(start);
                let to = local_to_utc(self.tz, day, e);
                if to <= from {
                    continue;
                }
                let span = to - from;
                if left <= span {
                    return Some(from + left);
                }
                left -= span;
            }
        }
        None
    }
}

/// A local wall-clock time as an instant: the earlier one when the clock goes back, the first
/// minute after the gap when it jumps forward.
fn local_to_utc(tz: Tz, day: NaiveDate, minute: u32) -> DateTime<Utc> {
    let mut t: NaiveDateTime =
        day.and_time(chrono::NaiveTime::MIN) + Duration::minutes(minute.into());
    for _ in 0..2 * 1440 {
        match tz.from_local_datetime(&t) {
            chrono::LocalResult::Single(x) | chrono::LocalResult::Ambiguous(x, _) => {
                return x.with_timezone(&Utc)
            }
            chrono::LocalResult::None => t += Duration::minutes(1),
        }
    }
    Utc.from_utc_datetime(&t)
}

/// `HH:MM` as minutes of the day; `24:00` only when `allow_midnight_end`.
fn parse_hhmm(s: &str, allow_midnight_end: bool) -> Option<u32> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (24, 0) if allow_midnight_end => Some(1440),
        (0..=23, 0..=59) => Some(h * 60 + m),
        _ => None,
    }
}

fn hhmm(minutes: u32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// Validates a calendar from the API, naming every field at fault.
pub fn check_calendar(req: &BusinessCalendar) -> ApiResult<Calendar> {
    let mut c = Check::new();
    let tz: Option<Tz> = req.time_zone.parse().ok();
    if tz.is_none() {
        c.fail(
            "time_zone",
            "must be an IANA time zone like Europe/Berlin or UTC",
        );
    }
    if req.hours.is_empty() {
        c.fail("hours", "needs at least one working interval");
    } else if req.hours.len() > 7 * 12 {
        c.fail("hours", "at most 84 intervals (12 a day)");
    }
    let mut week: [Vec<(u32, u32)>; 7] = Default::default();
    // Per weekday: (index in `hours`, end) of the previous interval.
    let mut last: [Option<(usize, u32)>; 7] = [None; 7];
    for (i, h) in req.hours.iter().enumerate() {
        if !(1..=7).contains(&h.weekday) {
            c.fail(
                &format!("hours[{i}].weekday"),
                "must be 1 (Monday) to 7 (Sunday)",
            );
            continue;
        }
        let start = parse_hhmm(&h.start, false);
        let end = parse_hhmm(&h.end, true);
        if start.is_none() {
            c.fail(
                &format!("hours[{i}].start"),
                "must be a time like 09:00 (00:00–23:59)",
            );
        }
        if end.is_none() {
            c.fail(
                &format!("hours[{i}].end"),
                "must be a time like 18:00 (up to 24:00)",
            );
        }
        let (Some(start), Some(end)) = (start, end) else {
            continue;
        };
        if start >= end {
            c.fail(&format!("hours[{i}].end"), "must be after start");
            continue;
        }
        let d = usize::from(h.weekday - 1);
        if let Some((j, prev_end)) = last[d] {
            let prev_start = week[d].last().map_or(0, |x| x.0);
            if start < prev_start {
                c.fail(
                    &format!("hours[{i}]"),
                    format!("must come after hours[{j}]: list each day's intervals in order"),
                );
                continue;
            }
            if start < prev_end {
                c.fail(&format!("hours[{i}]"), format!("overlaps hours[{j}]"));
                continue;
            }
        }
        last[d] = Some((i, end));
        week[d].push((start, end));
    }
    if req.holidays.len() > 400 {
        c.fail("holidays", "at most 400 holidays");
    }
    let mut dates = HashSet::new();
    let mut yearly = HashSet::new();
    for (i, h) in req.holidays.iter().enumerate() {
        c.max_len(&format!("holidays[{i}].name"), &h.name, 80);
        match NaiveDate::parse_from_str(&h.date, "%Y-%m-%d") {
            Ok(d) if h.recurring => {
                if !yearly.insert((d.month(), d.day())) {
                    c.fail(&format!("holidays[{i}].date"), "is listed twice");
                }
            }
            Ok(d) => {
                if !dates.insert(d) {
                    c.fail(&format!("holidays[{i}].date"), "is listed twice");
                }
            }
            Err(_) => c.fail(
                &format!("holidays[{i}].date"),
                "must be a date like 2025-12-31",
            ),
        }
    }
    c.finish()?;
    Ok(Calendar {
        tz: tz.unwrap_or(Tz::UTC),
        week,
        dates,
        yearly,
    })
}

/// The tenant's calendar as stored (rows were validated on the way in).
pub async fn load_calendar(conn: &mut PgConnection) -> ApiResult<(BusinessCalendar, Calendar)> {
    let tz: Option<String> = sqlx::query_scalar("SELECT time_zone FROM business_calendar")
        .fetch_optional(&mut *conn)
        .await?;
    let hours: Vec<(i16, i16, i16)> = sqlx::query_as(
        "SELECT weekday, start_minute, end_minute FROM business_hours ORDER BY weekday, start_minute",
    )
    .fetch_all(&mut *conn)
    .await?;
    let holidays: Vec<(NaiveDate, String, bool)> =
        sqlx::query_as("SELECT day, name, recurring FROM holidays ORDER BY day")
            .fetch_all(&mut *conn)
            .await?;
    let time_zone = tz.unwrap_or_else(|| "UTC".into());
    let mut cal = Calendar {
        tz: time_zone.parse().unwrap_or(Tz::UTC),
        week: Default::default(),
        dates: HashSet::new(),
        yearly: HashSet::new(),
    };
    let minutes = |m: i16| u32::try_from(m).unwrap_or(0);
    for &(d, s, e) in &hours {
        if let Some(day) = cal.week.get_mut(usize::try_from(d - 1).unwrap_or(7)) {
            day.push((minutes(s), minutes(e)));
        }
    }
    for (day, _, recurring) in &holidays {
        if *recurring {
            cal.yearly.insert((day.month(), day.day()));
        } else {
            cal.dates.insert(*day);
        }
    }
    let wire = BusinessCalendar {
        time_zone,
        hours: hours
            .iter()
            .map(|&(d, s, e)| WorkingHours {
                weekday: u8::try_from(d).unwrap_or(0),
                start: hhmm(minutes(s)),
                end: hhmm(minutes(e)),
            })
            .collect(),
        holidays: holidays
            .into_iter()
            .map(|(day, name, recurring)| Holiday {
                date: day.format("%Y-%m-%d").to_string(),
                name,
                recurring,
            })
            .collect(),
    };
    Ok((wire, cal))
}

/// Replaces the stored calendar with a validated one.
pub async fn save_calendar(
    conn: &mut PgConnection,
    req: &BusinessCalendar,
    cal: &Calendar,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO business_calendar (id, time_zone) VALUES (true, $1)
         ON CONFLICT (id) DO UPDATE SET time_zone = excluded.time_zone, updated_at = now()",
    )
    .bind(cal.tz.name())
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM business_hours")
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM holidays")
        .execute(&mut *conn)
        .await?;
    for (d, intervals) in cal.week.iter().enumerate() {
        for &(s, e) in intervals {
            sqlx::query(
                "INSERT INTO business_hours (weekday, start_minute, end_minute) VALUES ($1, $2, $3)",
            )
            .bind(d as i16 + 1)
            .bind(s as i16)
            .bind(e as i16)
            .execute(&mut *conn)
            .await?;
        }
    }
    for h in &req.holidays {
        let day = NaiveDate::parse_from_str(&h.date, "%Y-%m-%d")
            .map_err(|_| ApiError::field("holidays", "must be dates like 2025-12-31"))?;
        sqlx::query("INSERT INTO holidays (day, name, recurring) VALUES ($1, $2, $3)")
            .bind(day)
            .bind(h.name.trim())
            .bind(h.recurring)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

// ------------------------------------------------------------------ deadlines of new tickets

/// What the SLA sets on a new ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Deadline {
    pub policy_id: Uuid,
    pub due_at: DateTime<Utc>,
    pub warn_at: Option<DateTime<Utc>>,
}

/// The most specific SLA policy (category depth, then priority) and the due and warning
/// times it gives a ticket created at `now`, counted in working time for business-hours
/// policies.
pub async fn deadline(
    conn: &mut PgConnection,
    lineage: &[Uuid],
    priority: &str,
    now: DateTime<Utc>,
) -> ApiResult<Option<Deadline>> {
    // (id, category, priority, minutes, business hours, warn percent)
    type Policy = (Uuid, Option<Uuid>, Option<String>, i32, bool, Option<i32>);
    let rows: Vec<Policy> = sqlx::query_as(
        "SELECT id, category_id, priority, resolve_minutes, business_hours, warn_percent FROM sla_policies",
    )
    .fetch_all(&mut *conn)
    .await?;
    let best = rows
        .iter()
        .filter(|p| p.2.as_deref().is_none_or(|p| p == priority))
        .filter_map(|p| {
            let depth = match p.1 {
                Some(c) => lineage.iter().position(|x| *x == c)?,
                None => usize::MAX,
            };
            Some(((depth, p.2.is_none()), p))
        })
        .min_by_key(|(k, _)| *k)
        .map(|(_, p)| p);
    let Some(&(policy_id, _, _, minutes, business_hours, warn_percent)) = best else {
        return Ok(None);
    };
    let cal = if business_hours {
        load_calendar(conn).await?.1
    } else {
        Calendar::always()
    };
    let work = Duration::minutes(minutes.into());
    let add = |d: Duration| {
        cal.add_working(now, d).unwrap_or_else(|| {
            tracing::warn!("business calendar has no working time ahead; counting 24/7");
            now + d
        })
    };
    Ok(Some(Deadline {
        policy_id,
        due_at: add(work),
        warn_at: warn_percent.map(|p| add(work * p / 100)),
    }))
}

// ------------------------------------------------------------------ the job

/// What one pass of the job did (summed over tenants).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct JobReport {
    pub warnings: usize,
    pub breaches: usize,
    pub escalations: usize,
    pub emails_sent: usize,
    pub emails_failed: usize,
}

/// Starts the periodic job; `interval_secs == 0` disables it.
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let secs = state.cfg.sla_job_interval_secs;
    if secs == 0 {
        return None;
    }
    Some(tokio::spawn(async move {
        let period = std::time::Duration::from_secs(secs);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match run_once(&state).await {
                Ok(r) if r != JobReport::default() => tracing::info!(?r, "SLA job"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "SLA job failed"),
            }
        }
    }))
}

/// One pass over every active tenant: SLA warnings, breaches and escalations, then e-mail.
/// A failing tenant is logged and skipped; the others go on.
pub async fn run_once(state: &AppState) -> anyhow::Result<JobReport> {
    let tenants: Vec<Uuid> =
        sqlx::query_scalar("SELECT id FROM platform.tenants WHERE status = 'active' ORDER BY id")
            .fetch_all(&state.db)
            .await?;
    let mailer = notify::Mailer::from_config(&state.cfg)?;
    let mut report = JobReport::default();
    for tenant in tenants {
        if let Err(e) = tenant_pass(state, tenant, &mut report).await {
            tracing::warn!(%tenant, error = ?e, "SLA pass failed for tenant");
        }
        match notify::deliver(state, tenant, mailer.as_ref()).await {
            Ok((sent, failed)) => {
                report.emails_sent += sent;
                report.emails_failed += failed;
            }
            Err(e) => tracing::warn!(%tenant, error = ?e, "e-mail delivery failed for tenant"),
        }
    }
    Ok(report)
}

#[derive(sqlx::FromRow)]
struct Pending {
    id: Uuid,
    number: i64,
    subject: String,
    assignee_user_id: Option<Uuid>,
    assignee_team_id: Option<Uuid>,
    sla_stage: String,
    due_at: DateTime<Utc>,
    is_due: bool,
    escalate_team_id: Option<Uuid>,
    notify_supervisors: bool,
}

const SYSTEM_ACTOR: &str = "system:sla";

async fn tenant_pass(state: &AppState, tenant: Uuid, report: &mut JobReport) -> ApiResult<()> {
    let schema = db::schema_name(tenant);
    let mut tx = db::begin_in_schema(&state.db, &schema).await?;
    let mine: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock(hashtext($1))")
        .bind(format!("hotline.sla.{schema}"))
        .fetch_one(&mut *tx)
        .await?;
    if !mine {
        return Ok(());
    }
    let pending: Vec<Pending> = sqlx::query_as(
        "SELECT t.id, t.number, t.subject, t.assignee_user_id, t.assignee_team_id, t.sla_stage, t.due_at,
                t.due_at <= now() AS is_due, p.escalate_team_id, COALESCE(p.notify_supervisors, false) AS notify_supervisors
           FROM tickets t LEFT JOIN sla_policies p ON p.id = t.sla_policy_id
          WHERE t.closed_at IS NULL AND t.sla_stage <> 'breached' AND t.due_at IS NOT NULL
            AND (t.due_at <= now() OR (t.sla_stage = 'ok' AND t.warn_at <= now()))
          ORDER BY t.due_at LIMIT 500
          FOR UPDATE OF t SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    for t in pending {
        if t.is_due {
            breach(&mut tx, &t).await?;
            report.breaches += 1;
            report.escalations += usize::from(t.escalate_team_id.is_some());
        } else if t.sla_stage == "ok" {
            warn(&mut tx, &t).await?;
            report.warnings += 1;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Records a change the job made to a ticket: a history row and an audit row.
async fn record(
    conn: &mut PgConnection,
    ticket: Uuid,
    kind: &str,
    body: &str,
    action: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, kind, body, details) VALUES ($1, $2, $3, $4)",
    )
    .bind(ticket)
    .bind(kind)
    .bind(body)
    .bind(&details)
    .execute(&mut *conn)
    .await?;
    auth::write_audit(
        conn,
        None,
        SYSTEM_ACTOR,
        action,
        Some("ticket"),
        Some(ticket.to_string()),
        details,
        &RequestMeta::default(),
    )
    .await
}

/// Moves the ticket's stage on and records it in its history and the audit log.
async fn mark(conn: &mut PgConnection, t: &Pending, stage: &str, body: String) -> ApiResult<()> {
    sqlx::query("UPDATE tickets SET sla_stage = $2 WHERE id = $1")
        .bind(t.id)
        .bind(stage)
        .execute(&mut *conn)
        .await?;
    let details = serde_json::json!({ "sla": stage, "due_at": t.due_at });
    let action = format!("ticket.sla_{stage}");
    record(conn, t.id, "updated", &body, &action, details).await
}

async fn warn(conn: &mut PgConnection, t: &Pending) -> ApiResult<()> {
    let due = t.due_at.format("%Y-%m-%d %H:%M UTC");
    mark(conn, t, "warning", format!("SLA warning: due at {due}")).await?;
    if let Some(user) = t.assignee_user_id {
        let text = format!(
            "Ticket #{} is nearly due (SLA due {due}): {}",
            t.number, t.subject
        );
        notify::ticket(conn, user, "sla_warning", t.id, &text).await?;
    }
    Ok(())
}

async fn breach(conn: &mut PgConnection, t: &Pending) -> ApiResult<()> {
    let due = t.due_at.format("%Y-%m-%d %H:%M UTC");
    mark(
        conn,
        t,
        "breached",
        format!("SLA breached: was due at {due}"),
    )
    .await?;
    let text = format!(
        "Ticket #{} breached its SLA (due {due}): {}",
        t.number, t.subject
    );
    let mut told = HashSet::new();
    if let Some(user) = t.assignee_user_id {
        notify::ticket(conn, user, "sla_breached", t.id, &text).await?;
        told.insert(user);
    }
    let mut team = t.assignee_team_id;
    if let Some(to_team) = t.escalate_team_id {
        let to_user = least_loaded(conn, to_team).await?;
        sqlx::query("UPDATE tickets SET assignee_user_id = $2, assignee_team_id = $3, updated_at = now() WHERE id = $1")
            .bind(t.id)
            .bind(to_user)
            .bind(to_team)
            .execute(&mut *conn)
            .await?;
        let details = serde_json::json!({ "from_user": t.assignee_user_id, "to_user": to_user, "to_team": to_team, "escalated": true });
        let body = "Escalated: SLA breached";
        record(conn, t.id, "assigned", body, "ticket.escalate", details).await?;
        if let Some(u) = to_user.filter(|u| !told.contains(u)) {
            let text = format!(
                "Ticket #{} was escalated to you: SLA breached (due {due}): {}",
                t.number, t.subject
            );
            notify::ticket(conn, u, "escalated", t.id, &text).await?;
            told.insert(u);
        }
        team = Some(to_team);
    }
    if t.notify_supervisors {
        for u in supervisors(conn, team).await? {
            if told.insert(u) {
                notify::ticket(conn, u, "sla_breached", t.id, &text).await?;
            }
        }
    }
    Ok(())
}

/// Active users whose role grants `supervise`: those in `team` when it has any, else all.
async fn supervisors(conn: &mut PgConnection, team: Option<Uuid>) -> ApiResult<Vec<Uuid>> {
    // (user, team, built-in role key, custom role's permissions)
    type Row = (Uuid, Option<Uuid>, Option<String>, Vec<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT u.id, u.team_id, r.builtin_key, r.permissions FROM users u JOIN roles r ON r.id = u.role_id
          WHERE u.active ORDER BY u.id",
    )
    .fetch_all(conn)
    .await?;
    let all: Vec<(Uuid, Option<Uuid>)> = rows
        .into_iter()
        .filter(|(_, _, builtin, granted)| {
            auth::role_permissions(builtin.as_deref(), granted.clone())
                .iter()
                .any(|p| p == perms::SUPERVISE)
        })
        .map(|(id, team, _, _)| (id, team))
        .collect();
    let in_team: Vec<Uuid> = all
        .iter()
        .filter(|(_, t)| team.is_some() && *t == team)
        .map(|(id, _)| *id)
        .collect();
    Ok(if in_team.is_empty() {
        all.into_iter().map(|(id, _)| id).collect()
    } else {
        in_team
    })
}

/// The active member of `team` with the fewest open tickets (the
/// escalation's pick, and the ticket assignment rules' `least_loaded` strategy).
pub async fn least_loaded(conn: &mut PgConnection, team: Uuid) -> ApiResult<Option<Uuid>> {
    Ok(sqlx::query_scalar(
        "SELECT u.id FROM users u LEFT JOIN tickets t ON t.assignee_user_id = u.id AND t.closed_at IS NULL
          WHERE u.team_id = $1 AND u.active GROUP BY u.id ORDER BY count(t.id), u.id LIMIT 1",
    )
    .bind(team)
    .fetch_optional(conn)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cal(tz: &str, hours: &[(u8, &str, &str)], holidays: &[(&str, bool)]) -> Calendar {
        check_calendar(&BusinessCalendar {
            time_zone: tz.into(),
            hours: hours
                .iter()
                .map(|&(weekday, start, end)| WorkingHours {
                    weekday,
                    start: start.into(),
                    end: end.into(),
                })
                .collect(),
            holidays: holidays
                .iter()
                .map(|&(date, recurring)| Holiday {
                    date: date.into(),
                    name: String::new(),
                    recurring,
                })
                .collect(),
        })
        .expect("valid calendar")
    }

    fn office(tz: &str, holidays: &[(&str, bool)]) -> Calendar {
        let days: Vec<_> = (1..=5).map(|d| (d, "09:00", "18:00")).collect();
        cal(tz, &days, holidays)
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn fields(r: ApiResult<Calendar>) -> Vec<String> {
        match r {
            Err(ApiError::Validation(e)) => e.into_iter().map(|f| f.field).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn friday_afternoon_runs_into_monday() {
        // 2025-01-03 is a Friday.
        let c = office("UTC", &[]);
        let due = c.add_working(utc("2025-01-03T16:00:00Z"), Duration::hours(4));
        assert_eq!(due, Some(utc("2025-01-06T11:00:00Z")));
    }

    #[test]
    fn local_time_zone_and_holidays_count() {
        // Berlin is UTC+1 in January: Friday 16:00 local is 15:00 UTC. Monday the 6th is a
        // one-off holiday, so the remaining two hours fall on Tuesday 09:00–11:00 local.
        let c = office("Europe/Berlin", &[("2025-01-06", false)]);
        let due = c.add_working(utc("2025-01-03T15:00:00Z"), Duration::hours(4));
        assert_eq!(due, Some(utc("2025-01-07T10:00:00Z")));
        // A recurring holiday set in another year applies this year too.
        let c = office("UTC", &[("1999-01-06", true)]);
        let due = c.add_working(utc("2025-01-03T16:00:00Z"), Duration::hours(4));
        assert_eq!(due, Some(utc("2025-01-07T11:00:00Z")));
    }

    #[test]
    fn before_opening_and_lunch_breaks() {
        let c = cal(
            "UTC",
            &[
                (1, "09:00", "12:00"),
                (1, "13:00", "17:00"),
                (2, "09:00", "17:00"),
            ],
            &[],
        );
        // Monday 2025-01-06, 07:30: starts at 09:00, 3 h until lunch, 1 h after.
        let due = c.add_working(utc("2025-01-06T07:30:00Z"), Duration::hours(4));
        assert_eq!(due, Some(utc("2025-01-06T14:00:00Z")));
        // Exactly the working time left in the day ends at closing time.
        let due = c.add_working(utc("2025-01-06T16:00:00Z"), Duration::hours(1));
        assert_eq!(due, Some(utc("2025-01-06T17:00:00Z")));
    }

    #[test]
    fn daylight_saving_jump_is_respected() {
        // 2025-03-30 Berlin moves 02:00 → 03:00; a Sunday shift 00:00–06:00 holds 5 real hours.
        let c = cal("Europe/Berlin", &[(7, "00:00", "06:00")], &[]);
        let start = utc("2025-03-29T23:00:00Z"); // Sunday 00:00 local (UTC+1)
        assert_eq!(
            c.add_working(start, Duration::hours(5)),
            Some(utc("2025-03-30T04:00:00Z")) // 06:00 local (UTC+2)
        );
        assert_eq!(
            c.add_working(start, Duration::hours(6)),
            Some(utc("2025-04-05T23:00:00Z")) // next Sunday 01:00 local
        );
    }

    #[test]
    fn no_working_time_at_all_gives_none() {
        let days: Vec<(&str, bool)> = vec![];
        let mut c = cal("UTC", &[(1, "09:00", "10:00")], &days);
        c.week = Default::default();
        assert_eq!(
            c.add_working(utc("2025-01-06T00:00:00Z"), Duration::hours(1)),
            None
        );
        assert_eq!(
            Calendar::always().add_working(utc("2025-01-06T00:00:00Z"), Duration::hours(30)),
            Some(utc("2025-01-07T06:00:00Z"))
        );
    }

    #[test]
    fn bad_calendars_are_refused_field_by_field() {
        let r = check_calendar(&BusinessCalendar {
            time_zone: "Mars/Olympus".into(),
            hours: vec![
                WorkingHours {
                    weekday: 1,
                    start: "09:00".into(),
                    end: "12:00".into(),
                },
                WorkingHours {
                    weekday: 1,
                    start: "11:00".into(),
                    end: "14:00".into(),
                },
                WorkingHours {
                    weekday: 2,
                    start: "13:00".into(),
                    end: "14:00".into(),
                },
                WorkingHours {
                    weekday: 2,
                    start: "09:00".into(),
                    end: "10:00".into(),
                },
                WorkingHours {
                    weekday: 3,
                    start: "18:00".into(),
                    end: "09:00".into(),
                },
                WorkingHours {
                    weekday: 8,
                    start: "09:00".into(),
                    end: "10:00".into(),
                },
                WorkingHours {
                    weekday: 4,
                    start: "9am".into(),
                    end: "24:01".into(),
                },
            ],
            holidays: vec![
                Holiday {
                    date: "2025-02-30".into(),
                    name: "".into(),
                    recurring: false,
                },
                Holiday {
                    date: "2025-05-01".into(),
                    name: "".into(),
                    recurring: true,
                },
                Holiday {
                    date: "2026-05-01".into(),
                    name: "".into(),
                    recurring: true,
                },
            ],
        });
        assert_eq!(
            fields(r),
            [
                "time_zone",
                "hours[1]",
                "hours[3]",
                "hours[4].end",
                "hours[5].weekday",
                "hours[6].start",
                "hours[6].end",
                "holidays[0].date",
                "holidays[2].date"
            ]
        );
        let empty = BusinessCalendar {
            time_zone: "UTC".into(),
            hours: vec![],
            holidays: vec![],
        };
        assert_eq!(fields(check_calendar(&empty)), ["hours"]);
        // Touching intervals and a day ending at midnight are fine.
        cal("UTC", &[(5, "09:00", "12:00"), (5, "12:00", "24:00")], &[]);
    }

    fn arb_calendar() -> impl Strategy<Value = Calendar> {
        let day = prop::collection::vec((0u32..1440, 1u32..600), 0..3);
        (
            prop::collection::vec(day, 7),
            prop::sample::select(vec![
                "UTC",
                "Europe/Berlin",
                "America/New_York",
                "Asia/Baku",
            ]),
            prop::collection::vec(0i64..60, 0..4),
        )
            .prop_map(|(days, tz, holiday_offsets)| {
                let mut week: [Vec<(u32, u32)>; 7] = Default::default();
                for (d, spans) in days.into_iter().enumerate() {
                    let mut cursor = 0;
                    for (gap, len) in spans {
                        let start = cursor + gap % 240;
                        let end = (start + len).min(1440);
                        if start >= end {
                            break;
                        }
                        week[d].push((start, end));
                        cursor = end;
                    }
                }
                // At least five working hours a week, so the largest addition fits well
                // within the search horizon.
                let total: u32 = week.iter().flatten().map(|(s, e)| e - s).sum();
                if total < 300 {
                    week[0] = vec![(540, 1080)];
                }
                let base = NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
                Calendar {
                    tz: tz.parse().unwrap(),
                    week,
                    dates: holiday_offsets
                        .into_iter()
                        .map(|o| base + Duration::days(o))
                        .collect(),
                    yearly: HashSet::new(),
                }
            })
    }

    fn arb_instant() -> impl Strategy<Value = DateTime<Utc>> {
        // 2024-12-01 .. ~2025-04-01, across the spring DST change.
        (1_733_011_200i64..1_743_465_600).prop_map(|s| Utc.timestamp_opt(s, 0).unwrap())
    }

    proptest! {
        #[test]
        fn due_is_never_before_start(c in arb_calendar(), start in arb_instant(), m in 0i64..20_000) {
            let due = c.add_working(start, Duration::minutes(m)).unwrap();
            prop_assert!(due >= start);
            prop_assert!(due - start >= Duration::minutes(m));
        }

        #[test]
        fn adding_working_time_is_monotonic(
            c in arb_calendar(),
            a in arb_instant(),
            b in arb_instant(),
            m1 in 0i64..10_000,
            m2 in 0i64..10_000,
        ) {
            let (s1, s2) = (a.min(b), a.max(b));
            let (w1, w2) = (Duration::minutes(m1.min(m2)), Duration::minutes(m1.max(m2)));
            prop_assert!(c.add_working(s1, w1).unwrap() <= c.add_working(s2, w1).unwrap());
            prop_assert!(c.add_working(s1, w1).unwrap() <= c.add_working(s1, w2).unwrap());
        }
    }
}
