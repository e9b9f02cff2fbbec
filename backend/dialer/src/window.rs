//! Calling hours: a contact is dialled only inside the campaign's hours for that weekday in
//! the contact's own time zone.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike, Utc};

/// Hours per weekday (index 0 = Monday): `None` = no calls that day.
#[derive(Debug, Clone, PartialEq)]
pub struct CallingHours(pub [Option<(NaiveTime, NaiveTime)>; 7]);

impl CallingHours {
    /// The same hours Monday–Friday, none at the weekend.
    pub fn weekdays(from: NaiveTime, to: NaiveTime) -> Self {
        let mut d = [None; 7];
        for slot in d.iter_mut().take(5) {
            *slot = Some((from, to));
        }
        CallingHours(d)
    }

    /// Whether `now` is inside the hours in `tz` (an IANA name; an unknown zone is never open).
    pub fn is_open(&self, tz: &str, now: DateTime<Utc>) -> bool {
        let Ok(tz) = tz.parse::<chrono_tz::Tz>() else {
            return false;
        };
        let local = now.with_timezone(&tz);
        let t = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second())
            .unwrap_or(NaiveTime::MIN);
        matches!(self.0[local.weekday().num_days_from_monday() as usize],
            Some((from, to)) if from <= t && t < to)
    }

    /// The next moment at or after `now` when calls may be placed (within two weeks).
    pub fn next_open(&self, tz: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if self.is_open(tz, now) {
            return Some(now);
        }
        let zone = tz.parse::<chrono_tz::Tz>().ok()?;
        let local_day = now.with_timezone(&zone).date_naive();
        (0..15).find_map(|d| {
            let day = local_day + Duration::days(d);
            let (from, _) = self.0[day.weekday().num_days_from_monday() as usize]?;
            let start = zone
                .from_local_datetime(&day.and_time(from))
                .earliest()?
                .with_timezone(&Utc);
            (start >= now).then_some(start)
        })
    }
}
