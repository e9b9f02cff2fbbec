//! Request and response bodies of the HTTP API under `/api/v1`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// An error body (`application/problem+json`, RFC 9457) with a stable machine-readable `code`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    /// Stable code, e.g. `validation_failed`, `not_found`, `slug_taken`.
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Per-field errors for `validation_failed` and `malformed_body`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// One invalid field: its JSON path and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// A page of results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

/// Paging and search parameters of list endpoints.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct ListQuery {
    /// 1-based page number (default 1).
    pub page: Option<i64>,
    /// Items per page, 1..=200 (default 50).
    pub per_page: Option<i64>,
    /// Free-text search.
    pub q: Option<String>,
    /// Include deactivated records.
    pub include_inactive: Option<bool>,
}

// ---------------------------------------------------------------- sign-up and sessions

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignupRequest {
    pub company_name: String,
    /// URL-safe tenant name used at login; derived from the company name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    pub admin_name: String,
    pub admin_email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SignupResponse {
    pub tenant: TenantSummary,
    pub user: UserDto,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LoginRequest {
    /// The tenant's slug.
    pub tenant: String,
    pub email: String,
    pub password: String,
}

/// The signed-in user and what they may do. Returned by login and `GET /auth/me`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionInfo {
    pub user: UserDto,
    pub tenant: TenantSummary,
    pub permissions: Vec<String>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ResetPasswordRequest {
    /// The new password; the user must use it at next login.
    pub new_password: String,
}

/// The password policy's limits and the stable codes of its refusals (the `problem` of
/// [`PasswordStrength`]); a refused password is a 422 `validation_failed` on the password
/// field whose message starts with [`password_policy::message`] of the code.
pub mod password_policy {
    /// At least this many characters (Unicode scalar values).
    pub const MIN_CHARS: usize = 10;
    /// At most this many characters.
    pub const MAX_CHARS: usize = 128;
    /// The lowest zxcvbn score (0–4) accepted.
    pub const MIN_SCORE: u8 = 3;
    pub const TOO_SHORT: &str = "too_short";
    pub const TOO_LONG: &str = "too_long";
    /// Contains the e-mail (or its local part), the name or the company name.
    pub const PERSONAL: &str = "personal";
    /// zxcvbn scores it below [`MIN_SCORE`]: common, breached, a pattern or a single word.
    pub const WEAK: &str = "weak";

    /// The server's English message for a refusal code.
    pub fn message(code: &str) -> &'static str {
        match code {
            TOO_SHORT => "must be at least 10 characters",
            TOO_LONG => "must be at most 128 characters",
            PERSONAL => "must not contain your e-mail address, name or company name",
            _ => "is too easy to guess; use a few words that are not about you",
        }
    }

    /// The refusal code a server message stands for, if it is one of the policy's.
    pub fn code_of(message: &str) -> Option<&'static str> {
        [TOO_SHORT, TOO_LONG, PERSONAL, WEAK]
            .into_iter()
            .find(|c| message.starts_with(self::message(c)))
    }
}

/// Asks how strong a password is (the strength meter). The context words are what the
/// password must not be built from: the e-mail, name and company of the person choosing it.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordStrengthRequest {
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
}

/// The policy's verdict on a password, with zxcvbn's feedback as stable keys.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PasswordStrength {
    /// The server would accept it.
    pub ok: bool,
    /// zxcvbn's score, 0 (guessable in a few tries) to 4 (very hard to guess); 3 is needed.
    pub score: u8,
    /// Why it is refused: `too_short`, `too_long`, `personal` or `weak`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// zxcvbn's warning, e.g. `top10`, `straight-rows`, `repeats`, `single-word`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// zxcvbn's suggestions, e.g. `add-word`, `avoid-sequences`.
    #[serde(default)]
    pub suggestions: Vec<String>,
}

/// Where the SSO login starts, if the tenant has one configured.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TenantLoginOptions {
    pub tenant: String,
    pub display_name: String,
    pub sso_enabled: bool,
    /// Path to navigate to for SSO, e.g. `/api/v1/auth/sso/acme/start`.
    pub sso_start_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SsoConfig {
    pub enabled: bool,
    /// OpenID Connect issuer URL; its `/.well-known/openid-configuration` is read.
    pub issuer: String,
    pub client_id: String,
    /// Write-only: never returned (responses carry `null`).
    #[serde(default)]
    pub client_secret: Option<String>,
    /// Create an agent account on first SSO login when no user has that e-mail.
    #[serde(default)]
    pub auto_provision: bool,
}

// ---------------------------------------------------------------- tenants

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TenantSummary {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    /// `active` or `suspended`.
    pub status: String,
}

/// A tenant as the platform operators' console sees it (no tenant content).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlatformTenant {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub status: String,
    pub plan: String,
    pub seats: i64,
    pub active_users: i64,
    pub schema_version: i32,
    pub created_at: DateTime<Utc>,
}

/// A tenant's outbound call rules as the platform operator sets them
/// (`GET/PUT /platform/tenants/{id}/outbound-calls`; `backend/src/dial_policy.rs`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OutboundCalls {
    /// Trial: at most 2 calls at once, 50 a day and 2 per second. `false` lifts the trial.
    pub trial: bool,
    /// Country calling codes (digits, like `994`) the tenant may call; `null`: its own
    /// country (its CRM country code) only. The tenant can narrow this list, never widen it.
    #[serde(default)]
    pub countries: Option<Vec<String>>,
    /// Prefixes (`+` and digits) refused on top of the built-in premium-rate list.
    #[serde(default)]
    pub blocked_prefixes: Vec<String>,
    /// Outbound calls in progress at once (0 to 100000); `null`: the platform default (200).
    #[serde(default)]
    pub max_calls: Option<i32>,
    /// Outbound calls placed per second (1 to 10000); `null`: the platform default (10).
    /// Enforced by the backend and again by every media gateway.
    #[serde(default)]
    pub max_cps: Option<i32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PlatformLoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OperatorInfo {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub expires_at: DateTime<Utc>,
}

/// A signed-in session of a tenant user: the user's own (`GET /auth/sessions`) or, for a
/// platform operator, any of a tenant's (`GET /platform/tenants/{id}/sessions`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SessionDto {
    /// The session's id (not its token).
    pub id: Uuid,
    pub user_id: Uuid,
    pub user_email: String,
    pub user_name: String,
    /// When the user signed in.
    pub created_at: DateTime<Utc>,
    /// When the session was last used (written at most once a minute); `null`: not since
    /// sign-in.
    pub last_seen_at: Option<DateTime<Utc>>,
    /// The client address it was last used from.
    pub last_seen_ip: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// The client address and browser it signed in from.
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// This is the session of the request that lists it.
    pub current: bool,
}

/// How many sessions a revocation ended.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RevokedSessions {
    pub revoked: u64,
}

/// A phone number (E.164) routed to a tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidDto {
    pub did: String,
    pub tenant_id: Uuid,
    #[serde(default)]
    pub description: String,
}

// ---------------------------------------------------------------- users

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillLevel {
    pub skill_id: Uuid,
    /// 1 (novice) ..= 10 (expert).
    pub level: i16,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UserDto {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role_id: Uuid,
    pub role_name: String,
    pub team_id: Option<Uuid>,
    pub extension: Option<String>,
    pub active: bool,
    pub skills: Vec<SkillLevel>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateUser {
    pub email: String,
    pub name: String,
    pub password: String,
    pub role_id: Uuid,
    #[serde(default)]
    pub team_id: Option<Uuid>,
    #[serde(default)]
    pub extension: Option<String>,
    #[serde(default)]
    pub skills: Vec<SkillLevel>,
}

/// A partial update: absent fields are left unchanged; `team_id: null` clears the team.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct UpdateUser {
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub role_id: Option<Uuid>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Uuid>))]
    pub team_id: Option<Option<Uuid>>,
    #[serde(
        default,
        with = "double_option",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub extension: Option<Option<String>>,
    #[serde(default)]
    pub active: Option<bool>,
    #[serde(default)]
    pub skills: Option<Vec<SkillLevel>>,
}

// ---------------------------------------------------------------- teams, skills, queues, roles

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TeamDto {
    pub id: Uuid,
    pub name: String,
    /// Parent team; teams form a tree of any depth.
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TeamInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillDto {
    pub id: Uuid,
    pub name: String,
    pub description: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SkillInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
}

/// Queue routing strategy (implemented by the ACD): which Ready agent is offered a waiting call.
/// `longest_idle`: the agent waiting longest; `round_robin`: the next agent after the one
/// offered last; `fewest_calls`: the agent who answered fewest calls since login;
/// `skills_based`: the best total level in the queue's required skills; `ring_all`: every
/// eligible Ready agent rings at once, the first to answer takes the call and the others' offers
/// are withdrawn at once (`answered_elsewhere`, back to Ready); when nobody answers within the
/// ring time-out the call goes back to the head of the queue and rings again, nobody being set
/// Not ready for it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QueueStrategy {
    LongestIdle,
    RingAll,
    RoundRobin,
    FewestCalls,
    SkillsBased,
}

impl QueueStrategy {
    pub const ALL: [QueueStrategy; 5] = [
        QueueStrategy::LongestIdle,
        QueueStrategy::RingAll,
        QueueStrategy::RoundRobin,
        QueueStrategy::FewestCalls,
        QueueStrategy::SkillsBased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueStrategy::LongestIdle => "longest_idle",
            QueueStrategy::RingAll => "ring_all",
            QueueStrategy::RoundRobin => "round_robin",
            QueueStrategy::FewestCalls => "fewest_calls",
            QueueStrategy::SkillsBased => "skills_based",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|q| q.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueDto {
    pub id: Uuid,
    pub name: String,
    pub strategy: QueueStrategy,
    /// Required skills with minimum levels.
    pub required_skills: Vec<SkillLevel>,
    pub max_wait_seconds: i32,
    pub wrap_up_seconds: i32,
    /// Higher is served first when an agent serves several queues (0..=100).
    pub priority: i32,
    /// The queue callers move to when `max_wait_seconds` passes (`max_wait_action` `overflow`).
    pub overflow_queue_id: Option<Uuid>,
    /// What happens when `max_wait_seconds` passes.
    #[serde(default)]
    pub max_wait_action: MaxWaitAction,
    /// The prompt played before the call ends (`callback` and `hangup`; a built-in or the
    /// tenant's own prompt). Absent: `callback-promise` / `all-busy`.
    #[serde(default)]
    pub max_wait_prompt: Option<String>,
    /// Who is told (in-app and by e-mail) about the queue's new voicemails.
    #[serde(default)]
    pub voicemail_user_id: Option<Uuid>,
    /// Waiting callers are told their place in line ("you are caller number 3").
    #[serde(default)]
    pub announce_position: bool,
    /// Waiting callers are told how long they may still wait (in whole minutes).
    #[serde(default)]
    pub announce_wait: bool,
    /// How often (seconds) a waiting caller hears the announcements: 0 (off) or
    /// [`ANNOUNCE_MIN_SECS`]–[`ANNOUNCE_MAX_SECS`].
    #[serde(default)]
    pub announce_interval_seconds: i32,
}

/// Shortest interval between a queue's announcements: more often, a caller hears more talk
/// than music.
pub const ANNOUNCE_MIN_SECS: i32 = 15;
/// Longest interval between a queue's announcements (10 minutes).
pub const ANNOUNCE_MAX_SECS: i32 = 600;

/// Where a caller goes when their queue's maximum wait passes.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MaxWaitAction {
    /// To the queue `overflow_queue_id` (its own maximum wait then applies).
    Overflow,
    /// The caller leaves a voicemail (listed on the Voicemail page).
    #[default]
    Voicemail,
    /// A callback request is registered, the caller is told so, and the call ends.
    Callback,
    /// A message (`max_wait_prompt`), then the call ends.
    Hangup,
}

impl MaxWaitAction {
    pub const ALL: [MaxWaitAction; 4] = [
        MaxWaitAction::Overflow,
        MaxWaitAction::Voicemail,
        MaxWaitAction::Callback,
        MaxWaitAction::Hangup,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MaxWaitAction::Overflow => "overflow",
            MaxWaitAction::Voicemail => "voicemail",
            MaxWaitAction::Callback => "callback",
            MaxWaitAction::Hangup => "hangup",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct QueueInput {
    pub name: String,
    pub strategy: QueueStrategy,
    #[serde(default)]
    pub required_skills: Vec<SkillLevel>,
    pub max_wait_seconds: i32,
    pub wrap_up_seconds: i32,
    #[serde(default)]
    pub priority: i32,
    #[serde(default)]
    pub overflow_queue_id: Option<Uuid>,
    /// Absent: `overflow` when `overflow_queue_id` is given, else `voicemail`.
    #[serde(default)]
    pub max_wait_action: Option<MaxWaitAction>,
    #[serde(default)]
    pub max_wait_prompt: Option<String>,
    #[serde(default)]
    pub voicemail_user_id: Option<Uuid>,
    #[serde(default)]
    pub announce_position: bool,
    #[serde(default)]
    pub announce_wait: bool,
    /// 0 (off) or 15–600; required when either announcement is on.
    #[serde(default)]
    pub announce_interval_seconds: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoleDto {
    pub id: Uuid,
    pub name: String,
    pub permissions: Vec<String>,
    /// Built-in roles (admin, supervisor, agent) cannot be edited or deleted.
    pub builtin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RoleInput {
    pub name: String,
    pub permissions: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PermissionDto {
    pub key: String,
    pub description: String,
}

// ---------------------------------------------------------------- API keys

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ApiKeyDto {
    pub id: Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub role_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreateApiKey {
    pub name: String,
    /// The role whose permissions the key carries.
    pub role_id: Uuid,
}

/// Returned once at creation: the secret is stored only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CreatedApiKey {
    pub key: ApiKeyDto,
    pub secret: String,
}

// ---------------------------------------------------------------- audit

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_id: Option<Uuid>,
    /// E-mail or API key name of whoever acted.
    pub actor: String,
    /// E.g. `user.create`, `auth.login`, `auth.login_failed`, `agent.state`.
    pub action: String,
    pub target_type: Option<String>,
    pub target_id: Option<String>,
    pub details: serde_json::Value,
    pub ip: Option<String>,
    pub request_id: Option<String>,
    /// The client's `User-Agent` (at most 300 characters); none on rows from before it was kept.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// The target's name today (user, team, queue, role, customer, ticket…), shown instead
    /// of its id; none for kinds without one or a record since deleted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_name: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct AuditQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Exact action, or a prefix ending in `.` (e.g. `auth.`).
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub target_id: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

// ---------------------------------------------------------------- agent state

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    LoggedOut,
    Ready,
    NotReady,
    Break,
}

impl AgentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AgentStatus::LoggedOut => "logged_out",
            AgentStatus::Ready => "ready",
            AgentStatus::NotReady => "not_ready",
            AgentStatus::Break => "break",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::LoggedOut, Self::Ready, Self::NotReady, Self::Break]
            .into_iter()
            .find(|a| a.as_str() == s)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AgentStateDto {
    pub status: AgentStatus,
    /// Reason code id, for `not_ready` and `break`.
    pub reason_id: Option<Uuid>,
    /// The reason code's name.
    pub reason: Option<String>,
    /// The reason code's `builtin_key` when it is a system reason (the desktop shows it
    /// translated): see [`builtin_reasons`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_key: Option<String>,
    pub since: DateTime<Utc>,
    /// What the agent is doing inside their status, as the ACD sees it: `ringing`,
    /// `on_call` or `wrap_up` (absent when idle). The desktop's state pill shows this
    /// rather than "Ready" while a call is on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activity: Option<String>,
    /// End of `wrap_up`: the desktop counts down to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wrap_up_until: Option<DateTime<Utc>>,
}

/// The system reasons: reason codes every tenant has, which the ACD and the softphone use to
/// put an agent "not ready" by themselves (`ReasonCodeDto::builtin_key`). They cannot be
/// deleted, renamed or given another kind; the SPA shows them translated
/// (`reason-builtin-<key>` with `_` as `-`).
pub mod builtin_reasons {
    /// The agent did not answer an offer in time.
    pub const MISSED: &str = "missed";
    /// The agent declined an offer.
    pub const REJECTED: &str = "rejected";
    /// The browser softphone's connection ended while the agent was ready.
    pub const SOFTPHONE_LOST: &str = "softphone_lost";
    /// An offer failed on the agent's device (desk phone not registered, busy or failing).
    pub const PHONE_UNREACHABLE: &str = "phone_unreachable";
    pub const ALL: [&str; 4] = [MISSED, REJECTED, SOFTPHONE_LOST, PHONE_UNREACHABLE];
}

/// `code` of the 422 refusing "ready" to an agent with no working audio device (no connected
/// browser softphone and no registered desk phone).
pub const NO_AUDIO_DEVICE: &str = "no_audio_device";

/// An agent's request for a break (a reason code with `needs_approval`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BreakRequestDto {
    pub id: Uuid,
    pub agent_id: Uuid,
    pub agent_name: String,
    pub reason_id: Uuid,
    pub reason: String,
    /// `not_ready` or `break`: the state the agent enters when approved.
    pub kind: String,
    /// `pending`, `approved`, `denied` or `cancelled`.
    pub status: String,
    pub requested_at: DateTime<Utc>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decided_by: Option<Uuid>,
}

/// `POST /agent/break-requests`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct NewBreakRequest {
    pub reason_id: Uuid,
}

/// The 409 `PUT /agent/state` answers for a reason that needs approval.
pub const APPROVAL_REQUIRED: &str = "approval_required";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SetAgentState {
    pub status: AgentStatus,
    #[serde(default)]
    pub reason_id: Option<Uuid>,
}

/// A not-ready / break reason code defined by the tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReasonCodeDto {
    pub id: Uuid,
    pub name: String,
    /// `not_ready` or `break`.
    pub kind: String,
    /// Choosing this reason files a break request a supervisor approves or denies
    /// (`POST /agent/break-requests`); `PUT /agent/state` refuses it (409 `approval_required`).
    pub needs_approval: bool,
    /// Set for the system reasons (see [`builtin_reasons`]): listed as built-in, never
    /// deleted, renamed or given another kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub builtin_key: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReasonCodeInput {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub needs_approval: bool,
}

/// Serde helper telling "absent" (`None`) from "null" (`Some(None)`).
mod double_option {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(
        v: &Option<Option<T>>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(inner) => inner.serialize(s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(d).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn update_user_tells_absent_from_null() {
        let absent: UpdateUser = serde_json::from_str("{}").unwrap();
        assert_eq!(absent.team_id, None);
        let null: UpdateUser = serde_json::from_str(r#"{"team_id":null}"#).unwrap();
        assert_eq!(null.team_id, Some(None));
    }

    #[test]
    fn strategies_round_trip() {
        for s in QueueStrategy::ALL {
            assert_eq!(QueueStrategy::parse(s.as_str()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
    }
}

/// List screens whose filters a user can save (`SavedFilterInput::screen`).
pub const SAVED_FILTER_SCREENS: [&str; 3] = ["customers", "calls", "missed_calls"];

/// A user's named filter on a list screen (only its owner sees it).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SavedFilterDto {
    pub id: Uuid,
    pub screen: String,
    pub name: String,
    /// The screen's filter values, by name.
    pub query: std::collections::BTreeMap<String, String>,
    pub created_at: DateTime<Utc>,
}

/// Saves a filter; a filter of the same screen and name is replaced.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct SavedFilterInput {
    /// One of `SAVED_FILTER_SCREENS`.
    pub screen: String,
    /// 1–80 characters.
    pub name: String,
    /// At most 20 values of at most 200 characters each.
    pub query: std::collections::BTreeMap<String, String>,
}

/// Which screen's saved filters to list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct SavedFilterQuery {
    pub screen: String,
}
