//! Tickets: types with workflows, assignment rules, SLA policies, the register.

use crate::names::Translations;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Ticket priorities, lowest first.
pub const PRIORITIES: [&str; 4] = ["low", "normal", "high", "urgent"];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StatusDef {
    /// Stable key (`a-z0-9_`), unique within the type.
    pub key: String,
    pub name: String,
    /// The label in other languages (language code → label); absent: `name` everywhere.
    #[serde(default)]
    pub name_i18n: Translations,
    /// `#rrggbb`, shown in the register.
    pub color: String,
    /// New tickets start here (exactly one status per type).
    #[serde(default)]
    pub initial: bool,
    /// Closes the ticket (stops its SLA clock).
    #[serde(default, rename = "final")]
    pub is_final: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TransitionDef {
    /// Status keys.
    pub from: String,
    pub to: String,
    /// Button label, e.g. "Approve", "Reject", "Start work".
    pub name: String,
    /// The label in other languages (language code → label); absent: `name` everywhere.
    #[serde(default)]
    pub name_i18n: Translations,
    /// Permission needed to make this move (e.g. `tickets.admin` for an approval step);
    /// absent: anyone who works tickets.
    #[serde(default)]
    pub permission: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketTypeInput {
    pub name: String,
    /// The name in other languages (language code → name: az, en, pl, ru, zh).
    #[serde(default)]
    pub name_i18n: Translations,
    pub statuses: Vec<StatusDef>,
    pub transitions: Vec<TransitionDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketTypeDto {
    pub id: Uuid,
    pub name: String,
    /// The name in other languages (language code → name).
    #[serde(default)]
    pub name_i18n: Translations,
    pub statuses: Vec<StatusDef>,
    pub transitions: Vec<TransitionDef>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AssignmentRuleDto {
    pub id: Uuid,
    pub type_id: Uuid,
    /// Tickets in this category or any sub-category; absent: any category.
    pub category_id: Option<Uuid>,
    pub team_id: Uuid,
    /// `round_robin`, `least_loaded` (fewest open tickets) or `team_only` (the team's queue).
    pub strategy: String,
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AssignmentRuleInput {
    pub type_id: Uuid,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    pub team_id: Uuid,
    pub strategy: String,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SlaPolicyDto {
    pub id: Uuid,
    pub category_id: Option<Uuid>,
    pub priority: Option<String>,
    pub resolve_minutes: i32,
    /// Count only the business calendar's working time (else 24/7).
    #[serde(default)]
    pub business_hours: bool,
    /// Warn when this percentage of the time has elapsed (1–99); absent: no warning.
    #[serde(default)]
    pub warn_percent: Option<i32>,
    /// On breach, reassign the ticket to this team (its least-loaded member).
    #[serde(default)]
    pub escalate_team_id: Option<Uuid>,
    /// On breach, notify the supervisors of the ticket's team (else all supervisors).
    #[serde(default)]
    pub notify_supervisors: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SlaPolicyInput {
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub priority: Option<String>,
    pub resolve_minutes: i32,
    #[serde(default)]
    pub business_hours: bool,
    #[serde(default)]
    pub warn_percent: Option<i32>,
    #[serde(default)]
    pub escalate_team_id: Option<Uuid>,
    #[serde(default)]
    pub notify_supervisors: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketInput {
    pub type_id: Uuid,
    pub subject: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub priority: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    #[serde(default)]
    pub interaction_id: Option<Uuid>,
    /// Manual assignment; when both are absent the type's rules assign.
    #[serde(default)]
    pub assignee_user_id: Option<Uuid>,
    #[serde(default)]
    pub assignee_team_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketDto {
    pub id: Uuid,
    /// Human-friendly number, per tenant.
    pub number: i64,
    pub type_id: Uuid,
    pub status: StatusDef,
    pub category_id: Option<Uuid>,
    pub category_path: Vec<String>,
    /// The translations of each name in `category_path` (parallel to it).
    #[serde(default)]
    pub category_path_i18n: Vec<Translations>,
    pub priority: String,
    pub subject: String,
    pub description: String,
    pub customer_id: Option<Uuid>,
    pub interaction_id: Option<Uuid>,
    pub assignee_user_id: Option<Uuid>,
    pub assignee_team_id: Option<Uuid>,
    pub due_at: Option<DateTime<Utc>>,
    /// Open and past its due time.
    pub breached: bool,
    /// When the SLA warning starts (policy's `warn_percent` of the time elapsed).
    #[serde(default)]
    pub warn_at: Option<DateTime<Utc>>,
    /// `none`, `ok`, `warning` or `breached`: what the register colours by.
    #[serde(default)]
    pub sla_state: crate::sla::SlaState,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketMove {
    /// Target status key.
    pub to: String,
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketCommentInput {
    pub body: String,
    /// An internal note (staff only) rather than a comment.
    #[serde(default)]
    pub internal: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketAssign {
    #[serde(default)]
    pub user_id: Option<Uuid>,
    #[serde(default)]
    pub team_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketEventDto {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// `created`, `status`, `assigned`, `comment`, `note`, `updated`.
    pub kind: String,
    pub body: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct TicketQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Status key.
    pub status: Option<String>,
    pub type_id: Option<Uuid>,
    pub assignee_user_id: Option<Uuid>,
    /// Only tickets assigned to the caller.
    pub mine: Option<bool>,
    pub team_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub priority: Option<String>,
    /// Only open (not final) tickets.
    pub open: Option<bool>,
    /// Only open tickets past their due time.
    pub breached: Option<bool>,
    /// Text in subject, description, comments and notes, or `#number`.
    pub q: Option<String>,
    /// This category or any category below it.
    pub category_id: Option<Uuid>,
    /// A saved view ([`TicketViewDto`]) whose filters apply; parameters given alongside win.
    pub view: Option<Uuid>,
}

/// A stored file: an attachment of a ticket or a knowledge-base article.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FileDto {
    pub id: Uuid,
    /// The file name as uploaded (path parts and control characters removed).
    pub name: String,
    /// Checked against the bytes on upload.
    pub content_type: String,
    /// Bytes.
    pub size: i64,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
    pub uploaded_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
}

/// The filters a saved view keeps: the register's filters without paging.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketViewFilters {
    /// Status key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub type_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_user_id: Option<Uuid>,
    /// Tickets assigned to whoever opens the view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mine: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open: Option<bool>,
    /// Open and past the due time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breached: Option<bool>,
    /// Search text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketViewInput {
    pub name: String,
    /// Visible to everyone in the tenant (needs `tickets.admin`); else only to its owner.
    #[serde(default)]
    pub shared: bool,
    #[serde(default)]
    pub filters: TicketViewFilters,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketViewDto {
    pub id: Uuid,
    pub name: String,
    pub shared: bool,
    pub owner_id: Uuid,
    pub filters: TicketViewFilters,
    pub created_at: DateTime<Utc>,
}
