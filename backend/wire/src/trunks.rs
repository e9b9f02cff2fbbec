//! Tenant SIP trunks ("bring your own carrier"): the API bodies of `/api/v1/trunks` and the
//! copy the media gateways read from Redis.
//!
//! Redis contract (written by the backend, read by every gateway):
//! - [`TRUNKS_KEY`] — hash, field = trunk id, value = [`TrunkConfig`] as JSON. Only enabled
//!   trunks are in it. Gateways re-read it periodically (it is small) and on start.
//!
//! Written by the gateway that registers the trunk (or, for IP trunks, the last gateway that
//! saw traffic from it), read by the backend for the trunks page:
//! - [`TRUNK_STATUS_KEY`] — hash, field = trunk id, value = [`TrunkStatus`] as JSON.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Redis hash of every enabled tenant trunk: trunk id → [`TrunkConfig`] JSON.
pub const TRUNKS_KEY: &str = "platform:trunks";
/// Redis hash of each trunk's live state: trunk id → [`TrunkStatus`] JSON.
pub const TRUNK_STATUS_KEY: &str = "platform:trunk_status";

/// How the carrier knows us.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrunkMode {
    /// We REGISTER to the carrier with digest credentials; it sends calls to our contact.
    Register,
    /// The carrier accepts our traffic by source address and sends calls from `allowed_ips`
    /// (digest credentials, if given, still answer its INVITE challenges).
    Ip,
}

/// An audio codec offered on the trunk, in order of preference.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum TrunkCodec {
    Pcmu,
    Pcma,
}

/// How the called number is written in the Request-URI sent to the carrier.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NumberFormat {
    /// `+48221234567`.
    #[default]
    E164,
    /// `48221234567` (no plus).
    Digits,
    /// `0221234567`: numbers of the trunk's `country_code` without it, after `national_prefix`;
    /// other numbers as `00` + digits.
    National,
}

/// Which caller ID the carrier receives.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CallerIdRule {
    /// Present this number on every call through the trunk (E.164); `None`: the call's own
    /// caller ID (the tenant's verified number or DID chosen by the dial policy).
    pub fixed: Option<String>,
    /// Write the caller ID the way the called number is written (`callee_format`).
    #[serde(default)]
    pub same_format_as_callee: bool,
}

/// What the gateways need to use one trunk (the Redis copy, password included: the gateway
/// answers the carrier's digest challenges with it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrunkConfig {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub name: String,
    pub mode: TrunkMode,
    /// The carrier's SIP host (name or address) and port: registrar and, without an
    /// outbound proxy, the next hop of calls.
    pub host: String,
    pub port: u16,
    /// `host[:port]` every request is sent to instead of `host`, when set.
    pub outbound_proxy: Option<String>,
    /// SIP user (From / To of REGISTER, user part of our contact).
    pub username: String,
    /// Digest user when it differs from `username`.
    pub auth_username: Option<String>,
    /// Digest password ("" : none).
    pub password: String,
    /// Registration interval asked for, seconds.
    pub register_expires: u32,
    /// Addresses or CIDRs the carrier's calls come from (IP trunks; for register trunks the
    /// carrier's resolved `host` is always allowed).
    pub allowed_ips: Vec<String>,
    pub codecs: Vec<TrunkCodec>,
    pub callee_format: NumberFormat,
    /// Country calling code without `+` (`48`), for [`NumberFormat::National`].
    pub country_code: String,
    /// National trunk prefix (`0`), for [`NumberFormat::National`].
    pub national_prefix: String,
    pub caller_id: CallerIdRule,
    /// Numbers (E.164) the carrier delivers on this trunk, routed to the tenant.
    pub inbound_dids: Vec<String>,
    /// The tenant's outbound calls leave through this trunk.
    pub outbound: bool,
}

/// A trunk's live state.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TrunkState {
    /// Registration in progress (first attempt or a retry).
    Registering,
    /// Registered; `expires_at` says until when.
    Registered,
    /// The carrier refused the registration (`status`, `reason`), or did not answer.
    Failed,
    /// An IP trunk: nothing to register.
    Ip,
}

/// What a gateway last saw of a trunk ([`TRUNK_STATUS_KEY`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrunkStatus {
    pub state: TrunkState,
    /// The carrier's final SIP status, if any (`200`, `403`…).
    pub status: Option<u16>,
    /// A short reason: the carrier's reason phrase, or `timeout`, `no route`…
    pub reason: Option<String>,
    pub gateway_id: String,
    pub at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A trunk as the API shows it (`GET /api/v1/trunks`): never the password.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrunkDto {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub mode: TrunkMode,
    pub host: String,
    pub port: u16,
    pub outbound_proxy: Option<String>,
    pub username: String,
    pub auth_username: Option<String>,
    /// Whether a password is set (the password itself is write-only).
    pub has_password: bool,
    pub register_expires: u32,
    pub allowed_ips: Vec<String>,
    pub codecs: Vec<TrunkCodec>,
    pub callee_format: NumberFormat,
    pub country_code: String,
    pub national_prefix: String,
    pub caller_id: CallerIdRule,
    pub inbound_dids: Vec<String>,
    pub outbound: bool,
    /// The live state; `None`: no gateway has reported on it yet.
    pub status: Option<TrunkStatus>,
}

/// Create or replace a trunk (`POST /api/v1/trunks`, `PUT /api/v1/trunks/{id}`).
/// `password`: `None` on PUT keeps the stored one; `Some("")` clears it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TrunkInput {
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    pub mode: TrunkMode,
    pub host: String,
    #[serde(default = "sip_port")]
    pub port: u16,
    #[serde(default)]
    pub outbound_proxy: Option<String>,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub auth_username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    #[serde(default = "register_expires")]
    pub register_expires: u32,
    #[serde(default)]
    pub allowed_ips: Vec<String>,
    #[serde(default = "default_codecs")]
    pub codecs: Vec<TrunkCodec>,
    #[serde(default)]
    pub callee_format: NumberFormat,
    #[serde(default)]
    pub country_code: String,
    #[serde(default)]
    pub national_prefix: String,
    #[serde(default)]
    pub caller_id: CallerIdRule,
    #[serde(default)]
    pub inbound_dids: Vec<String>,
    #[serde(default)]
    pub outbound: bool,
}

fn yes() -> bool {
    true
}
fn sip_port() -> u16 {
    5060
}
fn register_expires() -> u32 {
    300
}
fn default_codecs() -> Vec<TrunkCodec> {
    vec![TrunkCodec::Pcmu, TrunkCodec::Pcma]
}

/// `number` (E.164, `+` optional) as the trunk writes it in a Request-URI or From.
pub fn format_number(
    number: &str,
    format: NumberFormat,
    country_code: &str,
    national_prefix: &str,
) -> String {
    let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
    match format {
        NumberFormat::E164 => format!("+{digits}"),
        NumberFormat::Digits => digits,
        NumberFormat::National => match digits.strip_prefix(country_code) {
            Some(rest) if !country_code.is_empty() => format!("{national_prefix}{rest}"),
            _ => format!("00{digits}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_the_carrier_wants() {
        assert_eq!(
            format_number("+48221234567", NumberFormat::E164, "48", "0"),
            "+48221234567"
        );
        assert_eq!(
            format_number("+48221234567", NumberFormat::Digits, "48", "0"),
            "48221234567"
        );
        assert_eq!(
            format_number("+48221234567", NumberFormat::National, "48", "0"),
            "0221234567"
        );
        assert_eq!(
            format_number("+994125550100", NumberFormat::National, "48", "0"),
            "00994125550100"
        );
        assert_eq!(
            format_number("+994125550100", NumberFormat::National, "", "0"),
            "00994125550100"
        );
    }
}
