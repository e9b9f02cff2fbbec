//! Outbound campaigns, their contacts and results, and the tenant's do-not-call / blocked
//! numbers.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Outcomes a campaign may retry.
pub const RETRYABLE: &[&str] = &["busy", "no_answer", "failed"];

/// Create or edit a campaign (only while it is a draft or paused).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignInput {
    pub name: String,
    /// `message` (plays a prompt, optionally asks for a confirmation key) or `agent`.
    pub kind: String,
    /// Number presented to the called party (E.164).
    pub caller_id: String,
    /// Message campaigns: the prompt (a tenant prompt or a built-in one).
    #[serde(default)]
    pub prompt: Option<String>,
    /// The key that confirms (`0-9`, `*`, `#`); none: the message is only played.
    #[serde(default)]
    pub confirm_digit: Option<String>,
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
    /// Seven entries, Monday first: `null` (no calls that day) or `["09:00", "20:00"]`.
    pub calling_hours: Vec<Option<[String; 2]>>,
    /// IANA zone of contacts that have none of their own.
    #[serde(default = "utc")]
    pub timezone: String,
    #[serde(default = "default_attempts")]
    pub max_attempts: i32,
    #[serde(default = "default_retry")]
    pub retry_interval_secs: i32,
    /// Any of `busy`, `no_answer`, `failed`.
    #[serde(default = "default_retry_on")]
    pub retry_on: Vec<String>,
    #[serde(default = "default_ring")]
    pub ring_timeout_secs: i32,
    #[serde(default = "default_lines")]
    pub max_lines: i32,
}

fn utc() -> String {
    "UTC".into()
}
fn default_attempts() -> i32 {
    3
}
fn default_retry() -> i32 {
    1800
}
fn default_retry_on() -> Vec<String> {
    vec!["busy".into(), "no_answer".into()]
}
fn default_ring() -> i32 {
    30
}
fn default_lines() -> i32 {
    5
}

/// A campaign with its live counts.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignDto {
    pub id: Uuid,
    /// `draft`, `running`, `paused`, `stopped` or `finished`.
    pub status: String,
    #[serde(flatten)]
    pub input: CampaignInput,
    pub created_at: DateTime<Utc>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub counts: CampaignCounts,
}

/// Contacts by status, and attempts placed.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignCounts {
    pub contacts: i64,
    pub pending: i64,
    pub dialing: i64,
    pub answered: i64,
    pub confirmed: i64,
    pub not_confirmed: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
    /// Skipped: on the do-not-call list.
    pub dnc: i64,
    /// Calls placed (every attempt).
    pub dialled: i64,
}

/// One contact to add.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactInput {
    pub phone: String,
    #[serde(default)]
    pub name: String,
    /// IANA zone; the campaign's when absent.
    #[serde(default)]
    pub timezone: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
}

/// Contacts added, and the rows refused (with their line in the file, or index in the list).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactsAdded {
    pub added: i64,
    /// Already in the campaign (same number).
    pub duplicates: i64,
    pub errors: Vec<ContactError>,
}

/// Why a contact row was refused.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactError {
    /// Line in the file (header = 1) or index in the JSON list (first = 1).
    pub line: usize,
    pub phone: String,
    pub message: String,
}

/// A contact and how far the campaign got with it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ContactDto {
    pub id: Uuid,
    pub phone: String,
    pub name: String,
    pub timezone: Option<String>,
    pub customer_id: Option<Uuid>,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_outcome: Option<String>,
    /// Keys pressed on the last answered attempt.
    pub dtmf: Option<String>,
}

/// Filters of the contacts list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct ContactQuery {
    pub status: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Attempts per hour, by outcome.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HourRow {
    pub hour: DateTime<Utc>,
    pub dialled: i64,
    pub answered: i64,
    pub confirmed: i64,
    pub busy: i64,
    pub no_answer: i64,
    pub failed: i64,
}

/// A campaign's results: counts and the hourly breakdown.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CampaignResults {
    pub counts: CampaignCounts,
    pub hours: Vec<HourRow>,
}

/// A blocked number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BlockedNumber {
    pub number: String,
    /// `outbound` (do not call) or `inbound` (calls refused with 403).
    pub direction: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub created_at: Option<DateTime<Utc>>,
}

/// Filter of the blocklist.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct BlocklistQuery {
    /// `outbound` or `inbound`; both when absent.
    pub direction: Option<String>,
}
