//! Telephone numbers: the platform's pool (`/api/v1/platform/numbers`), the operator's view
//! of tenants' requests (`/api/v1/platform/number-requests`) and a tenant's side — the free
//! numbers it may ask for and its own requests (`/api/v1/numbers/…`). Which flow answers one
//! of the tenant's numbers stays in `/api/v1/ivr/dids` ([`crate::calls::DidDto`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// At most this many numbers in one `POST /platform/numbers` (a list and a range together).
pub const MAX_NUMBERS_PER_ADD: usize = 1000;

/// At most this many pending requests per tenant at once.
pub const MAX_PENDING_REQUESTS: i64 = 10;

/// Where a number of the pool stands.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NumberState {
    /// No tenant and nobody asked for it.
    Free,
    /// No tenant yet; a tenant's request for it is pending.
    Requested,
    /// Routed to a tenant.
    Assigned,
}

/// One number as the platform operators see it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolNumber {
    /// E.164, e.g. `+994125550100`.
    pub did: String,
    /// The operator's label: country, city (`Azerbaijan, Baku`).
    pub region: String,
    pub description: String,
    pub state: NumberState,
    /// The tenant it routes to (assigned numbers).
    pub tenant_id: Option<Uuid>,
    pub tenant_name: Option<String>,
    pub tenant_slug: Option<String>,
    /// The pending request for it, if any, and who asked.
    pub request_id: Option<Uuid>,
    pub requested_by_tenant: Option<String>,
    pub created_at: DateTime<Utc>,
    pub assigned_at: Option<DateTime<Utc>>,
}

/// Filters of `GET /platform/numbers`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct PoolQuery {
    /// Only numbers in this state.
    pub state: Option<NumberState>,
    /// Only numbers of this tenant, or asked for by it.
    pub tenant_id: Option<Uuid>,
    /// The number starts with this, or the region contains it (any case).
    pub q: Option<String>,
    /// 1-based page (default 1).
    pub page: Option<i64>,
    /// 1 to 200 (default 50).
    pub per_page: Option<i64>,
}

/// Numbers to add to the pool: a list, a range (`range_first` to `range_last`, the same
/// length, at most [`MAX_NUMBERS_PER_ADD`]) or both; all of them or none are added.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolAdd {
    #[serde(default)]
    pub numbers: Vec<String>,
    #[serde(default)]
    pub range_first: Option<String>,
    #[serde(default)]
    pub range_last: Option<String>,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub description: String,
}

/// Give a free number to a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PoolAssign {
    pub tenant_id: Uuid,
}

/// A free number a tenant may ask for: nothing about anyone else.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FreeNumber {
    pub did: String,
    pub region: String,
}

/// Filter of `GET /numbers/pool`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct FreeNumberQuery {
    /// The number starts with this, or the region contains it (any case).
    pub q: Option<String>,
}

/// What became of a request.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Pending,
    Approved,
    Rejected,
    Cancelled,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Pending => "pending",
            RequestStatus::Approved => "approved",
            RequestStatus::Rejected => "rejected",
            RequestStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => RequestStatus::Pending,
            "approved" => RequestStatus::Approved,
            "rejected" => RequestStatus::Rejected,
            "cancelled" => RequestStatus::Cancelled,
            _ => return None,
        })
    }
}

/// Ask for a free number.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NumberRequestCreate {
    pub did: String,
    /// For the operator (at most 500 characters).
    #[serde(default)]
    pub note: String,
}

/// One of the tenant's own requests.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NumberRequestDto {
    pub id: Uuid,
    pub did: String,
    pub region: String,
    pub status: RequestStatus,
    pub note: String,
    /// Why the operator rejected it.
    pub reason: String,
    /// The user who asked.
    pub requested_name: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
}

/// A request as the operators see it: with the tenant that made it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlatformNumberRequest {
    pub id: Uuid,
    pub did: String,
    pub region: String,
    pub tenant_id: Uuid,
    pub tenant_name: String,
    pub tenant_slug: String,
    pub status: RequestStatus,
    pub note: String,
    pub reason: String,
    pub requested_name: String,
    pub created_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    /// The operator who decided (`system` when the number went to someone else).
    pub decided_by: Option<String>,
}

/// Filter of `GET /platform/number-requests` (default: pending ones).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct NumberRequestQuery {
    pub status: Option<RequestStatus>,
}

/// Reject a request, saying why (1 to 500 characters; the tenant sees it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NumberRequestReject {
    pub reason: String,
}
