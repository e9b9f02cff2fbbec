//! Calls as the tenant sees them: recordings (and, with the inbound-calls issue, CDRs).

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
    /// `callback_request`, `abandoned` or `voicemail`.
    pub reason: String,
    pub call_id: Option<Uuid>,
    /// What the caller chose in the IVR (`menu.<node>` etc.).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub vars: serde_json::Value,
    pub created_at: DateTime<Utc>,
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
    },
    /// The agent answered: the caller is connected.
    Connected { call_id: Uuid },
    /// The offer is gone before it was answered (`ring_no_answer`, `rejected`, `abandoned`).
    OfferWithdrawn { call_id: Uuid, reason: String },
    /// The call ended (wrap-up starts if the queue has one).
    Ended { call_id: Uuid },
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
    pub flow_id: Option<Uuid>,
}
