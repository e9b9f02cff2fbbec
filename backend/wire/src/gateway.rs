//! Gateway ⇄ backend call-control protocol (carried over Redis Streams).
//!
//! Owned by the media-gateway work; the full description is in `docs/gateway.md`.
//!
//! * Commands, backend → gateway: stream [`command_stream`] (`gw:<gateway_id>:cmd`), one entry
//!   per command with a single field [`STREAM_FIELD`] holding the JSON of a [`GatewayCommand`].
//! * Events, gateway → backend: the shards of stream [`EVENTS_STREAM`] (`calls:events`), one
//!   entry per event with field [`STREAM_FIELD`] holding the JSON of a [`GatewayEvent`]. An
//!   event goes to its tenant's shard ([`event_stream_for`]: `calls:events:shard:<n>`), so all
//!   events of one tenant — and so of one call — are in one stream, in order; an event without
//!   a tenant (and anything an older gateway sends) goes to the base stream itself. Each shard
//!   is read by one backend at a time (a lease; see the backend's `call_events.rs`).
//!
//! Both directions are streams (not pub/sub) so a restarting backend resumes from its consumer
//! group position and no call is lost while it is away.
//!
//! Redis keys the gateway reads (maintained by the backend):
//! * [`DIDS_KEY`] — hash, field = DID in E.164, value = JSON [`DidEntry`].
//! * [`TENANT_SLUGS_KEY`] — hash, field = tenant slug, value = JSON [`DidEntry`] (used to map a
//!   REGISTER's domain to its tenant).
//! * [`blacklist_key`] — set of E.164 numbers per tenant and direction.
//! * [`sip_extension_key`] — hash with fields `ha1` (MD5 of `ext:realm:password`, realm = the
//!   tenant slug) and `user_id`: a desk phone's credentials, copied from the tenant's
//!   `sip_accounts` table (the backend's `desk_phones.rs`; in full at every backend start).
//! * [`flow_key`] — hash with the tenant's built-in flow settings (see [`FlowMode`]).
//! * [`outbound_limits_key`] — hash with the tenant's effective outbound limits
//!   ([`OUTBOUND_MAX_CALLS_FIELD`], [`OUTBOUND_CPS_FIELD`]), checked on every `originate`.
//!
//! Redis keys every gateway shares for those limits: [`outbound_calls_key`] (the tenant's
//! outbound calls in progress on any gateway, a sorted set of call ids scored by when their
//! lease ends) and [`outbound_rate_key`] (calls placed in the current second).
//!
//! Redis keys the gateway writes: [`gateway_key`] (heartbeat, with a TTL), [`GATEWAYS_KEY`]
//! (set of gateway ids), [`registration_key`] (an agent phone's current binding, with a TTL).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Stream of events from every gateway to the backend (the base name of its shards).
pub const EVENTS_STREAM: &str = "calls:events";
/// How many shards the event stream has (besides the base stream). Changing it moves tenants
/// between shards: stop the gateways, let the backends drain, then upgrade.
pub const EVENT_SHARDS: u16 = 16;

/// The shard of a tenant's events.
pub fn event_shard(tenant: Uuid) -> u16 {
    (tenant.as_u128() % u128::from(EVENT_SHARDS)) as u16
}

/// The stream of shard `shard` of the event stream `base`.
pub fn event_shard_stream(base: &str, shard: u16) -> String {
    format!("{base}:shard:{shard}")
}

/// Where a gateway publishes `ev`: its tenant's shard, or `base` for an event without a tenant.
pub fn event_stream_for(base: &str, ev: &GatewayEvent) -> String {
    match ev.tenant_id() {
        Some(t) => event_shard_stream(base, event_shard(t)),
        None => base.to_string(),
    }
}

/// A stream entry id (`<ms>-<seq>`) as a sortable pair, to merge the shards' entries in the
/// order Redis stamped them (`(0, 0)` for an id that is not one).
pub fn stream_id_order(id: &str) -> (u64, u64) {
    let (ms, seq) = id.split_once('-').unwrap_or((id, "0"));
    (ms.parse().unwrap_or(0), seq.parse().unwrap_or(0))
}

/// Every stream a backend reading `base` consumes: `base` itself, then the shards in order.
pub fn event_streams(base: &str) -> Vec<String> {
    std::iter::once(base.to_string())
        .chain((0..EVENT_SHARDS).map(|n| event_shard_stream(base, n)))
        .collect()
}
/// The one field of each stream entry; its value is JSON.
pub const STREAM_FIELD: &str = "msg";
/// Hash: DID (E.164) → JSON [`DidEntry`].
pub const DIDS_KEY: &str = "platform:dids";
/// Hash: tenant slug → JSON [`DidEntry`].
pub const TENANT_SLUGS_KEY: &str = "platform:tenant_slugs";
/// Set of the ids of gateways that registered at least once.
pub const GATEWAYS_KEY: &str = "platform:gateways";

/// Namespace of conference room ids (see [`conference_room_id`]).
pub const CONFERENCE_NAMESPACE: Uuid = Uuid::from_u128(0x6f1c_2a4e_8d3b_5c7a_9e10_4b2f_d3a8_c561);

/// The id of a conference room: the v5 UUID of its name in [`CONFERENCE_NAMESPACE`] (the
/// `peer` of the [`GatewayEvent::Bridged`] answering [`GatewayCommand::Conference`]).
pub fn conference_room_id(room: &str) -> Uuid {
    Uuid::new_v5(&CONFERENCE_NAMESPACE, room.as_bytes())
}

/// The command stream of one gateway.
pub fn command_stream(gateway_id: &str) -> String {
    format!("gw:{gateway_id}:cmd")
}

/// The heartbeat hash of one gateway (expires when the gateway stops beating).
pub fn gateway_key(gateway_id: &str) -> String {
    format!("gw:{gateway_id}:heartbeat")
}

/// A tenant's blacklist for one direction: a set of E.164 numbers.
pub fn blacklist_key(tenant_id: Uuid, direction: Direction) -> String {
    let dir = match direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    format!("{{t:{tenant_id}}}:blacklist:{dir}")
}

/// A tenant's SIP extension credentials: hash with `ha1` and `user_id`.
pub fn sip_extension_key(tenant_id: Uuid, ext: &str) -> String {
    format!("{{t:{tenant_id}}}:sip:ext:{ext}")
}

/// The current registration of an extension: hash with `contact`, `gateway_id`, `expires_at`
/// (RFC 3339), `since` (RFC 3339, the first REGISTER of this unbroken registration) and
/// `user_agent` (empty when the phone sent none); it expires with the registration.
pub fn registration_key(tenant_id: Uuid, ext: &str) -> String {
    format!("{{t:{tenant_id}}}:sip:reg:{ext}")
}

/// A tenant's call-flow settings for the gateway: hash with `mode` (`builtin` or `backend`) and
/// optional prompt names `greeting`, `menu`, `goodbye`.
pub fn flow_key(tenant_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:gw:flow")
}

/// A tenant's outbound limits as the gateways enforce them: hash with
/// [`OUTBOUND_MAX_CALLS_FIELD`] and [`OUTBOUND_CPS_FIELD`] (written by the backend from
/// `platform.tenants`, trial limits applied).
pub fn outbound_limits_key(tenant_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:outbound:limits")
}

/// Field of [`outbound_limits_key`]: outbound calls in progress at once (all gateways).
pub const OUTBOUND_MAX_CALLS_FIELD: &str = "max_calls";
/// Field of [`outbound_limits_key`]: outbound calls placed per second (all gateways).
pub const OUTBOUND_CPS_FIELD: &str = "cps";

/// The tenant's outbound calls in progress on every gateway: sorted set, member = call id,
/// score = when the call's lease ends (ms since the epoch, Redis clock); the gateway holding
/// the call renews it with each heartbeat and removes it when the call ends, so a crashed
/// gateway's calls stop counting once their lease runs out.
pub fn outbound_calls_key(tenant_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:outbound:calls")
}

/// The tenant's outbound calls placed by the gateways in the current second: hash with `sec`
/// (Redis clock) and `n`.
pub fn outbound_rate_key(tenant_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:outbound:rate")
}

/// Value of [`DIDS_KEY`] and [`TENANT_SLUGS_KEY`] entries.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct DidEntry {
    /// Owning tenant.
    pub tenant_id: Uuid,
}

/// Call direction, as seen from the platform.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// A caller dialled one of the tenant's DIDs.
    Inbound,
    /// The platform called out.
    Outbound,
}

/// Who runs a tenant's calls.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum FlowMode {
    /// The gateway's built-in default flow (greeting → menu → echo test / goodbye).
    Builtin,
    /// The backend drives the call with [`GatewayCommand`]s after [`GatewayEvent::CallStarted`].
    Backend,
}

/// A command from the backend to one gateway, about one call.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewayCommand {
    /// Answer the call (200 OK); recording starts.
    Answer {
        /// Hotline call id from [`GatewayEvent::CallStarted`].
        call_id: Uuid,
    },
    /// Play a prompt (a WAV file name in the gateway's prompts directory, without `.wav`).
    Play {
        /// Call.
        call_id: Uuid,
        /// Prompt name.
        prompt: String,
        /// Stop the prompt when the caller presses a key.
        interruptible: bool,
    },
    /// Collect DTMF digits, optionally playing a prompt first (interrupted by the first digit).
    CollectDigits {
        /// Call.
        call_id: Uuid,
        /// Prompt played while waiting, if any.
        prompt: Option<String>,
        /// Minimum number of digits for a successful collection.
        min: u8,
        /// Collection ends when this many digits were pressed.
        max: u8,
        /// Overall timeout after the prompt finished, in milliseconds.
        timeout_ms: u32,
        /// Key that ends collection early (not included in the digits), e.g. `#`.
        terminator: Option<char>,
    },
    /// Speak digits, one prompt `digit-<d>` per digit.
    SayDigits {
        /// Call.
        call_id: Uuid,
        /// Digits 0-9.
        digits: String,
    },
    /// Play a beep and record the caller to a voicemail WAV until `#`, silence or `max_ms`.
    RecordVoicemail {
        /// Call.
        call_id: Uuid,
        /// Longest message in milliseconds.
        max_ms: u32,
    },
    /// Loop a prompt until another media command arrives.
    MusicOnHold {
        /// Call.
        call_id: Uuid,
        /// Prompt name to loop.
        prompt: String,
    },
    /// A queue announcement ("you are caller number three…", `backend/src/announce.rs`):
    /// plays `prompts` in turn over the call's music on hold, then the music goes on where it
    /// was. Taken only while music on hold is playing — a call that meanwhile got another
    /// media command (its agent's bridge, a max-wait message, a voicemail) ignores it, so an
    /// announcement that arrives late never talks over anything. Nothing is reported back:
    /// no `playback_finished`, so a flow waiting for its own prompt is never moved on by one.
    Announce {
        /// Call.
        call_id: Uuid,
        /// Prompt names, played in order (digits and words: see `hotline_wire::prompts`).
        prompts: Vec<String>,
    },
    /// Stop whatever is playing; the caller hears silence.
    StopMedia {
        /// Call.
        call_id: Uuid,
    },
    /// Bridge the call's audio to another answered call on the same gateway (callbacks, transfer
    /// to a number: originate, then bridge). Each party hears the other; both stay recorded
    /// (the right channel of each recording holds what its caller heard). Answered with
    /// [`GatewayEvent::Bridged`] for both legs, or [`GatewayEvent::CommandFailed`]. When one
    /// leg ends, the other gets [`GatewayEvent::BridgeEnded`] and hears silence until the
    /// next media command. (WebRTC agent legs join in the WebRTC issue.)
    Bridge {
        /// Call.
        call_id: Uuid,
        /// The other call's id, or `webrtc:<leg id>` for an agent's browser softphone leg.
        target: String,
    },
    /// Stop exchanging audio with the bridged party (hold): neither hears the other until the
    /// next `Bridge`; media commands (music on hold) go on as usual. Answered with
    /// [`GatewayEvent::BridgeEnded`] for each leg; a call that is not bridged is left as it is.
    /// In a conference it takes only this member out of the room (its `BridgeEnded` has the
    /// room's id as `peer`); the others stay. `call_id` may be a WebRTC leg id.
    Unbridge {
        /// Call.
        call_id: Uuid,
    },
    /// Join a conference on this gateway (created by its first member): every member hears
    /// the sum of the others (not itself); each member's recording keeps what it heard.
    /// `call_id` is an answered call or an agent's WebRTC leg id. A member leaves when it
    /// ends, on `unbridge`, or when bridged elsewhere; the room ends with its last member.
    /// Answered with [`GatewayEvent::Bridged`] (`peer` = the room's id,
    /// [`conference_room_id`] of its name) for the member, or [`GatewayEvent::CommandFailed`]
    /// (unknown or unanswered call, a room of another tenant, a full room: at most
    /// 10 members). Leaving (and `unbridge`) is answered with [`GatewayEvent::BridgeEnded`]
    /// (`peer` = the room's id).
    Conference {
        /// Call or WebRTC leg.
        call_id: Uuid,
        /// Room name, chosen by the backend (e.g. the caller's call id).
        room: String,
    },
    /// Send DTMF digits to the far end: RFC 4733 telephone-events when negotiated, else in-band
    /// tones. Answered with [`GatewayEvent::DtmfSent`] when the last digit went out.
    SendDtmf {
        /// Call.
        call_id: Uuid,
        /// `0-9`, `*`, `#`, `A-D`.
        digits: String,
    },
    /// Place an outbound call (dialer, callbacks) through the gateway's trunk. The gateway
    /// answers with [`GatewayEvent::CallAnswered`] or [`GatewayEvent::Hangup`] (`rejected` with
    /// the trunk's status, 403 when the callee is on the tenant's outbound blacklist;
    /// `outbound_limit` / `outbound_rate_limit` with 503 when a call to an outside number
    /// would exceed the tenant's limits in [`outbound_limits_key`], whoever sent the command).
    /// Once answered, the call takes the same media commands as an inbound one.
    Originate {
        /// Call id chosen by the backend (must be new).
        call_id: Uuid,
        /// Tenant placing the call (its outbound blacklist applies).
        tenant_id: Uuid,
        /// Caller id presented (E.164).
        caller: String,
        /// Number to call (E.164).
        callee: String,
    },
    /// Listen to what the called party says after answer and decide whether a person or an
    /// answering machine took the call (answering-machine detection). Nothing is played while
    /// listening. Answered with one [`GatewayEvent::MachineDetected`]: for a person as soon as
    /// their short greeting ends; for a machine once its greeting has ended (a beep or the
    /// silence after it), so a message played then is recorded whole; `silence` when nobody
    /// spoke at all. Like every media command it stops what was running (a prompt, a
    /// collection…); a later media command stops the detection silently (no event), and a
    /// second `detect_machine` starts it again from the beginning. A call that ends while
    /// detecting just ends (no event). The gateway's detector: `media-gateway/src/media/amd.rs`.
    DetectMachine {
        /// Call.
        call_id: Uuid,
        /// Longest time to listen, in milliseconds; undecided by then is `unknown` (a
        /// machine still talking by then is reported `machine` then). 30 000 leaves room
        /// for a 12 s greeting and its beep.
        timeout_ms: u32,
    },
    /// Hang up (BYE when answered, a final error response otherwise).
    Hangup {
        /// Call.
        call_id: Uuid,
        /// SIP status for an unanswered call (default 480).
        status: Option<u16>,
    },
}

impl GatewayCommand {
    /// The call the command is about.
    pub fn call_id(&self) -> Uuid {
        match self {
            Self::Answer { call_id }
            | Self::Play { call_id, .. }
            | Self::CollectDigits { call_id, .. }
            | Self::SayDigits { call_id, .. }
            | Self::RecordVoicemail { call_id, .. }
            | Self::MusicOnHold { call_id, .. }
            | Self::Announce { call_id, .. }
            | Self::StopMedia { call_id }
            | Self::Unbridge { call_id }
            | Self::Bridge { call_id, .. }
            | Self::SendDtmf { call_id, .. }
            | Self::Originate { call_id, .. }
            | Self::DetectMachine { call_id, .. }
            | Self::Conference { call_id, .. }
            | Self::Hangup { call_id, .. } => *call_id,
        }
    }
}

impl GatewayEvent {
    /// The tenant the event belongs to (`None` for `command_failed`, which names only a call).
    pub fn tenant_id(&self) -> Option<Uuid> {
        match self {
            Self::CallStarted { tenant_id, .. }
            | Self::InternalCall { tenant_id, .. }
            | Self::CallAnswered { tenant_id, .. }
            | Self::Dtmf { tenant_id, .. }
            | Self::PlaybackFinished { tenant_id, .. }
            | Self::DigitsCollected { tenant_id, .. }
            | Self::VoicemailRecorded { tenant_id, .. }
            | Self::RecordingFinished { tenant_id, .. }
            | Self::Hangup { tenant_id, .. }
            | Self::DtmfSent { tenant_id, .. }
            | Self::Bridged { tenant_id, .. }
            | Self::BridgeEnded { tenant_id, .. }
            | Self::MachineDetected { tenant_id, .. }
            | Self::WebrtcConnected { tenant_id, .. }
            | Self::WebrtcClosed { tenant_id, .. }
            | Self::Registered { tenant_id, .. } => Some(*tenant_id),
            Self::CommandFailed { .. } => None,
        }
    }

    /// `(call, tenant, answered)` for `call_answered` (true) and `hangup` (false) — the two
    /// events every leg handler in the backend follows.
    pub fn answer_or_end(&self) -> Option<(Uuid, Uuid, bool)> {
        match self {
            Self::CallAnswered {
                call_id, tenant_id, ..
            } => Some((*call_id, *tenant_id, true)),
            Self::Hangup {
                call_id, tenant_id, ..
            } => Some((*call_id, *tenant_id, false)),
            _ => None,
        }
    }
}

/// What answering-machine detection decided.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum AmdResult {
    /// A short greeting followed by a pause: a person.
    Human,
    /// A long greeting (or a beep): an answering machine or voicemail.
    Machine,
    /// Nobody spoke.
    Silence,
    /// No decision within the time given.
    Unknown,
}

/// Why a digit collection ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CollectEnd {
    /// `max` digits were pressed.
    Max,
    /// The terminator key was pressed.
    Terminator,
    /// Time ran out.
    Timeout,
}

/// How a DTMF digit reached the gateway.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum DtmfSource {
    /// RFC 4733 telephone-event RTP packets.
    Rfc4733,
    /// SIP INFO (`application/dtmf-relay` or `application/dtmf`).
    SipInfo,
}

/// Why a call ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HangupCause {
    /// The caller sent BYE.
    CallerBye,
    /// The gateway sent BYE (flow ended or a `hangup` command).
    GatewayBye,
    /// The caller cancelled before answer.
    Cancelled,
    /// The call was rejected before answer (see `status`).
    Rejected,
    /// No ACK for our 200 OK or no response to our BYE.
    Timeout,
    /// The gateway is shutting down.
    Shutdown,
    /// An `originate` refused by the gateway: the tenant's outbound calls in progress are at
    /// its limit ([`outbound_limits_key`]). Nothing was dialled (`status` 503).
    OutboundLimit,
    /// An `originate` refused by the gateway: the tenant placed its calls per second
    /// already. Nothing was dialled (`status` 503).
    OutboundRateLimit,
}

/// An event from a gateway to the backend.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewayEvent {
    /// A new inbound call passed DID and blacklist checks.
    CallStarted {
        /// Gateway holding the call (send commands to its stream).
        gateway_id: String,
        /// Hotline call id.
        call_id: Uuid,
        /// Owning tenant.
        tenant_id: Uuid,
        /// Caller number (From user part).
        caller: String,
        /// Dialled DID in E.164.
        did: String,
        /// SIP Call-ID of the caller's leg.
        sip_call_id: String,
        /// Who drives the call.
        mode: FlowMode,
        /// When the INVITE arrived.
        at: DateTime<Utc>,
    },
    /// A registered desk phone (digest-authenticated with its extension's credentials) calls
    /// another extension of its tenant: an internal call, never routed through the tenant's
    /// DIDs or IVR. The gateway rings the caller (180) until the backend answers or hangs up
    /// the call, like a `call_started` in backend mode.
    InternalCall {
        /// Gateway holding the call (send commands to its stream).
        gateway_id: String,
        /// Hotline call id of the caller's leg.
        call_id: Uuid,
        /// Owning tenant (from the request's domain, like REGISTER).
        tenant_id: Uuid,
        /// The calling extension (the authenticated digest user).
        from_ext: String,
        /// What it dialled (the Request-URI's user part, as sent).
        to: String,
        /// SIP Call-ID of the caller's leg.
        sip_call_id: String,
        /// When the INVITE arrived.
        at: DateTime<Utc>,
    },
    /// The call was answered (200 OK sent).
    CallAnswered {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// When.
        at: DateTime<Utc>,
    },
    /// The caller pressed a key.
    Dtmf {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// `0-9`, `*`, `#`, `A-D`.
        digit: char,
        /// Transport of the digit.
        source: DtmfSource,
    },
    /// A `play`, `say_digits` or `music_on_hold` ended.
    PlaybackFinished {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// Prompt name.
        prompt: String,
        /// The key that interrupted it, if any.
        interrupted_by: Option<char>,
    },
    /// A `collect_digits` ended.
    DigitsCollected {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// Digits pressed (without the terminator).
        digits: String,
        /// Why it ended.
        end: CollectEnd,
    },
    /// A voicemail recording ended.
    VoicemailRecorded {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// Absolute path of the mono WAV.
        path: String,
        /// Length in milliseconds.
        duration_ms: u64,
    },
    /// The call's recording file is complete; index it in the tenant's schema.
    RecordingFinished {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// When recording started (answer time).
        started_at: DateTime<Utc>,
        /// Length in milliseconds.
        duration_ms: u64,
        /// Absolute path of the stereo WAV (left: caller, right: other party).
        path: String,
        /// File size in bytes.
        size_bytes: u64,
    },
    /// The call ended.
    Hangup {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// Why.
        cause: HangupCause,
        /// SIP status sent when rejected before answer.
        status: Option<u16>,
        /// When.
        at: DateTime<Utc>,
    },
    /// Digits of a `send_dtmf` command were sent.
    DtmfSent {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The digits.
        digits: String,
    },
    /// The call's audio is now bridged to `peer` (sent for both legs).
    Bridged {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The other leg.
        peer: Uuid,
    },
    /// The bridged peer left; this call now hears silence.
    BridgeEnded {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The leg that left.
        peer: Uuid,
    },
    /// The answering-machine detection of a `detect_machine` command decided.
    MachineDetected {
        /// Call.
        call_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The decision.
        result: AmdResult,
        /// A beep (the machine's "leave your message now" tone) was heard.
        beep: bool,
        /// Speech heard in total, in milliseconds.
        speech_ms: u32,
        /// Time from the command to the decision, in milliseconds (audio analysed).
        elapsed_ms: u32,
    },
    /// A command could not be executed.
    CommandFailed {
        /// Call.
        call_id: Uuid,
        /// Human-readable reason.
        reason: String,
    },
    /// An agent's browser softphone (WebRTC leg) finished ICE and DTLS: audio can flow.
    WebrtcConnected {
        /// The leg.
        leg_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The agent.
        user_id: Uuid,
    },
    /// A WebRTC leg ended (`ice_disconnected`, `closed`, `closed_by_gateway`, `idle`,
    /// `error`). A call bridged to it stays up (it hears silence until bridged again).
    WebrtcClosed {
        /// The leg.
        leg_id: Uuid,
        /// Tenant.
        tenant_id: Uuid,
        /// The agent.
        user_id: Uuid,
        /// Why.
        reason: String,
    },
    /// An agent's SIP phone registered (or refreshed / removed with `expires` = 0).
    Registered {
        /// Tenant.
        tenant_id: Uuid,
        /// Extension.
        ext: String,
        /// Contact URI.
        contact: String,
        /// Seconds.
        expires: u32,
    },
}

/// Heartbeat hash fields written every few seconds to [`gateway_key`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GatewayHeartbeat {
    /// Gateway id.
    pub gateway_id: String,
    /// SIP listen address.
    pub sip_addr: String,
    /// Calls in progress.
    pub calls: u64,
    /// RTP ports in use.
    pub ports_used: u64,
    /// Process CPU use since the previous beat, percent of one core.
    pub cpu_percent: f64,
    /// True while draining (SIGTERM received: no new calls).
    pub draining: bool,
    /// When.
    pub at: DateTime<Utc>,
    /// `host:port` of the WebRTC signalling listener (empty when WebRTC is off).
    #[serde(default)]
    pub http: String,
    /// The event stream the gateway publishes to: a backend places calls only through
    /// gateways whose events it reads.
    #[serde(default)]
    pub events_stream: String,
    /// Whether an outbound trunk is configured (`HOTLINE_GW_TRUNK`): without one, calls to
    /// outside numbers (callbacks, click-to-call, campaigns) cannot leave this gateway.
    #[serde(default)]
    pub trunk: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conference_room_ids_are_v5_uuids_of_the_name() {
        let id = conference_room_id("room-1");
        assert_eq!(id.get_version_num(), 5);
        assert_eq!(id, conference_room_id("room-1"));
        assert_ne!(id, conference_room_id("room-2"));
        // Pinned: the backend and every gateway must compute the same id for a name.
        assert_eq!(id.to_string(), "6beac2d0-6344-5163-8f32-dd9cf62d45d6");
    }

    #[test]
    fn command_round_trips_as_tagged_json() {
        let id = Uuid::nil();
        let cmd = GatewayCommand::CollectDigits {
            call_id: id,
            prompt: Some("menu".into()),
            min: 1,
            max: 4,
            timeout_ms: 5000,
            terminator: Some('#'),
        };
        let json = serde_json::to_string(&cmd).unwrap();
        assert!(json.contains("\"type\":\"collect_digits\""));
        let back: GatewayCommand = serde_json::from_str(&json).unwrap();
        assert_eq!(back, cmd);
        assert_eq!(back.call_id(), id);
    }

    #[test]
    fn keys_carry_the_tenant_hash_tag() {
        let t = Uuid::nil();
        assert_eq!(
            blacklist_key(t, Direction::Inbound),
            "{t:00000000-0000-0000-0000-000000000000}:blacklist:in"
        );
        assert_eq!(
            sip_extension_key(t, "1001"),
            "{t:00000000-0000-0000-0000-000000000000}:sip:ext:1001"
        );
    }
}
