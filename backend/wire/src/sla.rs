//! SLA business calendar (working hours, holidays) and a ticket's SLA state.

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Where a ticket stands against its SLA, for the register's colours.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// No SLA applies (no due time).
    #[default]
    None,
    /// Within its time (or closed in time).
    Ok,
    /// Open and past the policy's warning threshold, not yet due.
    Warning,
    /// Open and past its due time (or closed late).
    Breached,
}

/// One working interval on one weekday, in the calendar's time zone.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WorkingHours {
    /// ISO weekday: 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// `HH:MM`, 00:00–23:59.
    pub start: String,
    /// `HH:MM`, after `start`; `24:00` for the end of the day.
    pub end: String,
}

/// A day off. Recurring holidays repeat every year on the same month and day.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Holiday {
    /// `YYYY-MM-DD` (for recurring ones only the month and day matter).
    pub date: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub recurring: bool,
}

/// The tenant's business calendar: business-hours SLAs count only this working time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BusinessCalendar {
    /// IANA time zone, e.g. `Asia/Baku`, `Europe/Berlin`, `UTC`.
    pub time_zone: String,
    /// Working intervals; each weekday's intervals in order and not overlapping.
    pub hours: Vec<WorkingHours>,
    #[serde(default)]
    pub holidays: Vec<Holiday>,
}
