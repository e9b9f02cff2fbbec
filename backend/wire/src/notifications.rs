//! In-app notifications (the SPA polls them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Kinds of notification.
pub const NOTIFICATION_KINDS: [&str; 5] = [
    "assigned",
    "comment",
    "sla_warning",
    "sla_breached",
    "escalated",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationDto {
    pub id: i64,
    /// `assigned`, `comment`, `sla_warning`, `sla_breached` or `escalated`.
    pub kind: String,
    pub ticket_id: Option<Uuid>,
    /// The ticket's number, for display (`#42`).
    pub ticket_number: Option<i64>,
    pub text: String,
    pub created_at: DateTime<Utc>,
    /// Absent while unread.
    pub read_at: Option<DateTime<Utc>>,
}

/// The caller's notifications, unread first, newest first within each group.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NotificationList {
    pub items: Vec<NotificationDto>,
    pub total: i64,
    /// How many are unread (for the badge).
    pub unread: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct NotificationQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Only unread ones.
    pub unread: Option<bool>,
}

/// How many were marked read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MarkedRead {
    pub marked: i64,
}
