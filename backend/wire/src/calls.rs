//! Calls as the tenant sees them: recordings, call detail records, the agent's call actions.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// One recorded call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordingDto {
    pub call_id: Uuid,
    pub started_at: DateTime<Utc>,
    pub duration_ms: i64,
    pub size_bytes: i64,
    /// Relative URL of the WAV (`audio/wav`, stereo: left caller, right other party).
    pub audio_url: String,
}

/// Filters of the recordings list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct RecordingQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Started at or after.
    pub from: Option<DateTime<Utc>>,
    /// Started before.
    pub to: Option<DateTime<Utc>>,
}

/// The tenant's recording settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordingSettings {
    /// Days a recording is kept (file and index row deleted after); `null` keeps forever.
    pub retention_days: Option<u32>,
}

/// An IVR flow in the register.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlowDto {
    pub id: Uuid,
    pub name: String,
    /// Used for the tenant's numbers without their own flow.
    pub is_default: bool,
    /// The version new calls run (none: not live).
    pub published_version: Option<i32>,
    pub latest_version: i32,
    /// The latest version's graph (see `hotline-flows`: `{"start": …, "nodes": {…}}`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub graph: serde_json::Value,
}

/// Create a flow, or save a new version of one.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlowSave {
    /// Required when creating; renames otherwise.
    pub name: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub graph: serde_json::Value,
    pub is_default: Option<bool>,
}

/// Publish one version of a flow.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlowPublish {
    pub version: i32,
}

/// Assign a flow to one of the tenant's numbers.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidFlow {
    pub did: String,
    pub flow_id: Uuid,
}

/// One entry of the missed-calls list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MissedCallDto {
    pub id: Uuid,
    pub number: String,
    pub did: String,
    /// `callback_request`, `abandoned`, `voicemail` or `max_wait` (the queue played its
    /// message and hung up at its maximum wait).
    pub reason: String,
    pub call_id: Option<Uuid>,
    /// What the caller chose in the IVR (`menu.<node>` etc.).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub vars: serde_json::Value,
    pub created_at: DateTime<Utc>,
    /// How many times the number was missed while this entry was open (repeats are merged).
    #[serde(default = "one")]
    pub count: i32,
    /// The latest of those calls.
    pub last_at: Option<DateTime<Utc>>,
    /// Callbacks tried so far.
    #[serde(default)]
    pub attempts: i32,
    /// The queue of the latest call, when it reached one.
    #[serde(default)]
    pub queue_name: Option<String>,
    /// When it was handled (called back or marked handled); `null` while open.
    #[serde(default)]
    pub handled_at: Option<DateTime<Utc>>,
    /// Who handled it.
    #[serde(default)]
    pub handled_by_name: Option<String>,
}

/// Filters of the missed-calls list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct MissedCallQuery {
    /// `open` (default), `handled` or `all`.
    pub status: Option<String>,
    /// `callback_request`, `abandoned`, `voicemail` or `max_wait`.
    pub reason: Option<String>,
    /// Part of the caller's number.
    pub number: Option<String>,
    /// Latest call at or after.
    pub from: Option<DateTime<Utc>>,
    /// Latest call before.
    pub to: Option<DateTime<Utc>>,
}

/// The reasons a number lands on the missed-calls list.
pub const MISSED_REASONS: [&str; 4] = ["callback_request", "abandoned", "voicemail", "max_wait"];

fn one() -> i32 {
    1
}

/// Click-to-call: dial `number` and bridge the answer into an agent's softphone.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClickToCall {
    /// The number to call (E.164, or national with the tenant's country code).
    pub number: String,
    /// The agent whose softphone takes the call: oneself when absent (a signed-in agent);
    /// required for API keys, and another agent needs the `supervise` permission.
    #[serde(default)]
    pub agent_id: Option<Uuid>,
}

/// A callback being dialled: the outbound leg's call id (its events reach the softphone).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CallbackStarted {
    pub call_id: Uuid,
}

/// What the agent desktop is told live (WebSocket `/api/v1/agent/events`, JSON text frames).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AgentEvent {
    /// Connected; the agent's current ACD state.
    Hello { state: String },
    /// A call is offered: the agent's phone rings now. Screen-pop data included.
    Offer {
        call_id: Uuid,
        /// Caller number (E.164), for the customer lookup.
        caller: String,
        did: String,
        /// IVR choices and variables (`menu.<node>` = key pressed, collected digits…).
        vars: std::collections::BTreeMap<String, String>,
        /// The media gateway holding the call. A browser softphone whose leg is on another
        /// gateway moves there while the call rings (`POST /agent/softphone` with this
        /// `gateway_id`); the call is bridged once the leg is there.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        gateway_id: Option<String>,
        /// The queue the caller waited in (its name), for the caller header.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queue: Option<String>,
        /// When the caller entered that queue: the header shows how long they waited.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        queued_at: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// The agent answered: the caller is connected.
    Connected { call_id: Uuid },
    /// The offer is gone before it was answered: `ring_no_answer`, `rejected` (the agent
    /// declined), `abandoned`, or what failed on the agent's device — `phone_not_registered`
    /// (their desk phone is not registered, SIP 480/404), `phone_busy` (486/600),
    /// `phone_declined` (603 from the desk phone), `phone_no_answer` (408/timeout),
    /// `phone_failed:<status>` (another SIP status), `no_device` (no softphone, no desk
    /// phone extension), `softphone_lost` (the softphone's connection ended while it rang).
    OfferWithdrawn { call_id: Uuid, reason: String },
    /// The agent's browser softphone connection ended (`reason`: the gateway's — e.g.
    /// `ice_disconnected`, `idle`, `error` — or `browser_failed` when the desktop saw its
    /// connection fail). `not_ready`: the agent was ready and has no other device, so they
    /// were set not ready with the built-in reason `softphone_lost`.
    SoftphoneLost { reason: String, not_ready: bool },
    /// The call ended for this agent (hang-up, or they transferred it away); wrap-up starts if
    /// the queue has one.
    Ended { call_id: Uuid },
    /// The call was put on hold (the caller hears music) or taken off hold.
    Held { call_id: Uuid, held: bool },
    /// The agent's consultation on this call: `dialling` (the caller is on hold), `talking`
    /// (the agent and the consulted party hear each other), `conference` (all three),
    /// `ended` (the consulted party is gone; the caller still holds).
    Consult { call_id: Uuid, state: String },
    /// A supervisor decided the agent's break request: `approved` (the agent is now in the
    /// requested state) or denied.
    BreakDecided {
        id: Uuid,
        approved: bool,
        reason: String,
    },
    /// A callback the agent booked (or was booked for) is due now.
    CallbackDue {
        id: Uuid,
        number: String,
        note: String,
        due_at: DateTime<Utc>,
        customer_id: Option<Uuid>,
    },
}

/// A blind transfer of the agent's connected call: to a queue, to a named agent (optionally
/// within a queue), or to an outside number; none of them → 422.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TransferRequest {
    /// Queue the call waits in next (default: the queue it came from).
    pub queue_id: Option<Uuid>,
    /// Agent the call is offered to (only them; if they do not answer, the queue takes over).
    pub agent_id: Option<Uuid>,
    /// An outside number (E.164, or national in the tenant's country): the gateway dials it
    /// through its trunk and bridges the caller to it; the agent is free at once. Not with
    /// `queue_id` / `agent_id`.
    #[serde(default)]
    pub number: Option<String>,
    /// …or an employee's extension (their registered desk phone), like `number`: the caller
    /// is bridged to it when it answers. Not with the others.
    #[serde(default)]
    pub extension: Option<String>,
}

/// A consultation before a transfer or a conference: the agent's connected call goes on hold
/// and the agent talks to an outside number or a colleague's desk phone first.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ConsultRequest {
    /// An outside number (E.164, or national in the tenant's country)…
    #[serde(default)]
    pub number: Option<String>,
    /// …or a colleague's extension (their registered desk phone).
    #[serde(default)]
    pub extension: Option<String>,
}

/// Keys the agent presses on their desktop's keypad during a call: sent to the other party
/// (RFC 4733 events when negotiated, else in-band tones).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DtmfRequest {
    /// 1–32 of `0-9`, `*`, `#`, `A-D`.
    pub digits: String,
}

/// Whether `d` is something the keypad may send.
pub fn is_dtmf(d: &str) -> bool {
    (1..=32).contains(&d.len()) && d.chars().all(|c| "0123456789*#ABCD".contains(c))
}

/// The agent's after-call work on a call they handled.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WrapUpRequest {
    /// Disposition code (`resolved`, `callback`, `escalated`… up to 64 characters).
    pub disposition: String,
    /// Free notes.
    pub notes: Option<String>,
    /// End the wrap-up state now and become Ready.
    #[serde(default)]
    pub ready: bool,
}

/// One call leg as recorded (the base of reports and the agent's call history).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CdrDto {
    pub call_id: Uuid,
    /// The inbound call an agent/outbound leg served.
    pub parent_id: Option<Uuid>,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub caller: String,
    /// Dialled number (inbound) or number/extension called (outbound).
    pub callee: String,
    pub arrived_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub queued_at: Option<DateTime<Utc>>,
    pub queue_id: Option<Uuid>,
    pub queue_name: Option<String>,
    pub offered_at: Option<DateTime<Utc>>,
    pub agent_id: Option<Uuid>,
    pub agent_name: Option<String>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub hangup_cause: Option<String>,
    /// `answered`, `abandoned`, `ivr`, `voicemail`, `callback_request`, `max_wait`, `rejected`,
    /// `failed`;
    /// `null` while the call is in progress.
    pub outcome: Option<String>,
    pub disposition: Option<String>,
    pub wrapup_notes: Option<String>,
    pub transfers: i32,
    /// The caller's IVR choices.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub vars: serde_json::Value,
    /// `/api/v1/recordings/{call_id}/audio` when the call was recorded.
    pub recording_url: Option<String>,
    pub recording_ms: Option<i64>,
}

/// One step on a call's timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CdrEventDto {
    pub at: DateTime<Utc>,
    /// `queued`, `offered`, `connected`, `rejected`, `ring_no_answer`, `held`, `unheld`,
    /// `transferred`, `abandoned`, `completed`, `overflowed`, `wrapped_up`, `ended`;
    /// `transfer_refused` (an IVR flow's transfer the outbound rules or a gateway refused:
    /// details `number`, `code` such as `destination_not_allowed` or `outbound_limit`,
    /// `detail`).
    pub kind: String,
    pub agent_id: Option<Uuid>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub details: serde_json::Value,
}

/// A call with its timeline.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CdrDetailDto {
    pub cdr: CdrDto,
    pub events: Vec<CdrEventDto>,
}

/// Filters of the call list. Agents without `supervise` see only calls they handled.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct CdrQuery {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
    /// Arrived at or after.
    pub from: Option<DateTime<Utc>>,
    /// Arrived before.
    pub to: Option<DateTime<Utc>>,
    pub agent_id: Option<Uuid>,
    pub queue_id: Option<Uuid>,
    pub outcome: Option<String>,
    /// `inbound` or `outbound`.
    pub direction: Option<String>,
    /// Caller or called number contains.
    pub number: Option<String>,
    /// The wrap-up disposition code (exact).
    pub disposition: Option<String>,
}

/// The outcomes a call can end with (`CdrDto::outcome`), the values the list filter accepts.
pub const CALL_OUTCOMES: [&str; 8] = [
    "answered",
    "abandoned",
    "ivr",
    "voicemail",
    "callback_request",
    "max_wait",
    "rejected",
    "failed",
];

/// How many bars a recording's waveform has.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct PeaksQuery {
    /// 10–2000, default 200.
    pub buckets: Option<i64>,
}

/// A recording's waveform: the loudest sample of each equal slice of the audio (both
/// channels), as a fraction of full scale.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RecordingPeaks {
    pub duration_ms: i64,
    /// 0.0–1.0, one per slice, in time order.
    pub peaks: Vec<f32>,
}

/// Where an agent can transfer a call: the tenant's queues and the colleagues who take calls,
/// with their live state.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TransferDirectory {
    pub queues: Vec<DirectoryQueue>,
    pub agents: Vec<DirectoryAgent>,
}

/// A queue in the transfer directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectoryQueue {
    pub id: Uuid,
    pub name: String,
}

/// A colleague in the transfer directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectoryAgent {
    pub id: Uuid,
    pub name: String,
    pub extension: Option<String>,
    /// ACD state (`ready`, `on_call`, `logged_out`…).
    pub state: String,
}

/// One saved version of a flow (every save is a new one).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FlowVersionDto {
    pub version: i32,
    /// This is the version new calls run.
    pub published: bool,
    pub created_by: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub graph: serde_json::Value,
}

/// One of the tenant's numbers and the flow answering it (none: the default flow).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DidDto {
    pub did: String,
    /// The tenant the number is routed to (the caller's own).
    pub tenant_id: Uuid,
    /// The platform's description of the number.
    #[serde(default)]
    pub description: String,
    /// The platform's region label of the number (country, city).
    #[serde(default)]
    pub region: String,
    pub flow_id: Option<Uuid>,
}

/// Book a callback for a date and time.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScheduledCallbackInput {
    /// The number to call (E.164, or national with the tenant's country code).
    pub number: String,
    /// When; must be in the future.
    pub due_at: DateTime<Utc>,
    #[serde(default)]
    pub note: String,
    /// Who will call: oneself when absent; a team member needs the `supervise` permission.
    #[serde(default)]
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
}

/// A booked callback.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ScheduledCallbackDto {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub owner_name: String,
    pub number: String,
    pub customer_id: Option<Uuid>,
    pub due_at: DateTime<Utc>,
    pub note: String,
    /// `scheduled`, `due` (the reminder was shown), `done` or `cancelled`.
    pub status: String,
    pub reminded_at: Option<DateTime<Utc>>,
    pub done_at: Option<DateTime<Utc>>,
}

/// Filters of the scheduled callbacks list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct ScheduledCallbackQuery {
    /// Another user's callbacks (`supervise`); one's own when absent.
    pub owner_id: Option<Uuid>,
    /// Include done and cancelled ones.
    pub all: Option<bool>,
}

/// One voicemail message (left when a queue's maximum wait passed, or by an IVR voicemail
/// node), as the Voicemail page lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct VoicemailDto {
    pub id: Uuid,
    pub call_id: Uuid,
    /// The caller's number.
    pub caller: String,
    /// The CRM customer with that number, when there is one.
    pub customer_id: Option<Uuid>,
    pub customer_name: Option<String>,
    /// The number they called.
    pub did: String,
    pub queue_id: Option<Uuid>,
    pub queue_name: Option<String>,
    /// Who is to deal with it (the queue's voicemail owner when it was left).
    pub assignee_id: Option<Uuid>,
    pub assignee_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
    pub duration_ms: i64,
    /// Set once someone marked it handled (or called back).
    pub handled_at: Option<DateTime<Utc>>,
    pub handled_by: Option<Uuid>,
    pub handled_by_name: Option<String>,
    /// Relative URL of the message (`audio/wav`, mono).
    pub audio_url: String,
}

/// Filters of the voicemail list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct VoicemailQuery {
    /// Only this queue's messages.
    pub queue_id: Option<Uuid>,
    /// Only messages assigned to this user.
    pub assignee_id: Option<Uuid>,
    /// `open` (default), `handled` or `all`.
    pub status: Option<String>,
}

/// Presence of an employee in the company directory.
pub mod presence {
    /// Signed in (softphone or registered desk phone) and free.
    pub const AVAILABLE: &str = "available";
    /// On a call or ringing (an ACD call, a callback, an internal call).
    pub const BUSY: &str = "busy";
    /// Not ready, on a break or in wrap-up.
    pub const AWAY: &str = "away";
    /// No softphone session and no registered desk phone.
    pub const OFFLINE: &str = "offline";
    pub const ALL: [&str; 4] = [AVAILABLE, BUSY, AWAY, OFFLINE];
}

/// An employee in the company directory (`GET /directory`): every active user with an
/// extension.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DirectoryEntry {
    pub user_id: Uuid,
    pub name: String,
    pub extension: String,
    /// Their team's name, if they are in one.
    pub team: Option<String>,
    /// One of [`presence::ALL`].
    pub presence: String,
}

/// A call to a colleague (`POST /agent/internal-call`): the agent's own softphone (or desk
/// phone) is the calling side, the colleague's registered desk phone rings.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InternalCallRequest {
    pub user_id: Uuid,
}
