//! Proof of ownership before outbound calls: the administrator's e-mail address (a link
//! e-mailed at sign-up) and caller IDs beyond the tenant's own numbers (a call that reads a
//! code).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Digits of a caller-ID verification code.
pub const CODE_DIGITS: usize = 6;

/// The tenant's e-mail verification (`GET /api/v1/email-verification`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EmailVerificationDto {
    /// Verified: outbound calls are allowed (subject to the other rules).
    pub verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    /// Where the last link went, and when.
    pub last_sent_to: Option<String>,
    pub last_sent_at: Option<DateTime<Utc>>,
}

/// The token from the link (`POST /api/v1/auth/verify-email`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyEmailRequest {
    pub token: String,
}

/// A followed link: the call center now verified.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EmailVerified {
    /// The call center's slug (to sign in).
    pub tenant: String,
    pub name: String,
    pub email: String,
}

/// A number the tenant asked to verify (`/api/v1/caller-ids`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CallerIdDto {
    pub id: Uuid,
    /// E.164.
    pub number: String,
    /// `verified`, or for a pending one: `calling` (ringing), `answered` (the code is being
    /// read), `finished` (the call ended: type the code), `failed` (not answered), `expired`
    /// (the code's 10 minutes are over) or `locked` (too many wrong codes).
    pub status: String,
    /// Wrong codes still allowed.
    pub attempts_left: i32,
    pub expires_at: DateTime<Utc>,
    pub verified_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// Every number the tenant may show, and its verifications.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CallerIdsDto {
    /// The tenant's own numbers (assigned by the platform).
    pub dids: Vec<String>,
    /// Verified numbers, then the latest pending verification of each other number.
    pub numbers: Vec<CallerIdDto>,
    /// Verification calls left today (UTC).
    pub calls_left_today: i64,
}

/// Start a verification: the platform calls `number` and reads a code.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VerifyNumberRequest {
    /// E.164, or a national number (the tenant's country code is added).
    pub number: String,
}

/// The code the call read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConfirmCodeRequest {
    pub code: String,
}
