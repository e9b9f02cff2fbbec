//! IVR prompts: the tenant's uploaded recordings (`/api/v1/ivr/prompts`), the built-in
//! prompts every gateway ships, and the Redis copy the gateways play tenant prompts from.
//!
//! Redis contract (written by the backend, read by the gateways, one hash slot per tenant):
//! - [`prompts_key`] `{t:<tenant>}:prompts` — hash: prompt name → version token (changes
//!   whenever the audio does);
//! - [`prompt_key`] `{t:<tenant>}:prompt:<name>` — the audio: a WAV, 8 kHz mono 16-bit PCM.
//!
//! Both are written in one `MULTI`, so a gateway that sees a token also finds its audio.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// Prompts every gateway has as files (`<prompts dir>/<name>.wav`); a flow may use them
/// without uploading anything, and a tenant prompt may not take their names.
pub const BUILTIN_PROMPTS: &[&str] = &[
    "greeting",
    "menu",
    "menu-demo",
    "goodbye",
    "beep",
    "moh",
    "all-busy",
    "callback-promise",
    "digit-0",
    "digit-1",
    "digit-2",
    "digit-3",
    "digit-4",
    "digit-5",
    "digit-6",
    "digit-7",
    "digit-8",
    "digit-9",
    "verification-code",
    // Queue announcements (backend/src/announce.rs): the phrases, then numbers as words —
    // `digit-1`…`digit-9`, these for 10–19 and the tens, `number-hundred` for 100–999.
    "queue-position",
    "queue-wait",
    "queue-minute",
    "queue-minutes",
    "number-10",
    "number-11",
    "number-12",
    "number-13",
    "number-14",
    "number-15",
    "number-16",
    "number-17",
    "number-18",
    "number-19",
    "number-20",
    "number-30",
    "number-40",
    "number-50",
    "number-60",
    "number-70",
    "number-80",
    "number-90",
    "number-hundred",
];

/// Whether `name` is a built-in prompt.
pub fn is_builtin_prompt(name: &str) -> bool {
    BUILTIN_PROMPTS.contains(&name)
}

/// Whether `name` may name a tenant prompt: 1–64 of `a-z`, `0-9`, `_`, `-`.
pub fn is_prompt_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Redis hash of a tenant's prompts: name → version token.
pub fn prompts_key(tenant_id: Uuid) -> String {
    format!("{{t:{tenant_id}}}:prompts")
}

/// Redis string holding one tenant prompt's audio (WAV, 8 kHz mono 16-bit).
pub fn prompt_key(tenant_id: Uuid, name: &str) -> String {
    format!("{{t:{tenant_id}}}:prompt:{name}")
}

/// One uploaded prompt of the tenant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PromptDto {
    /// What flows use in a node's `prompt` field.
    pub name: String,
    /// 1 when uploaded, +1 on every replacement.
    pub version: i32,
    /// Length of the converted audio.
    pub duration_ms: i64,
    /// Size of the stored WAV (8 kHz mono 16-bit).
    pub size_bytes: i64,
    /// The uploaded file's name.
    pub original_name: String,
    /// What was uploaded, e.g. `44100 Hz, stereo, 24-bit PCM`.
    pub original_format: String,
    pub uploaded_by: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
    /// Relative URL of the stored audio (`audio/wav`), for playback and download.
    pub audio_url: String,
}

/// The tenant's telephony sound settings (`GET/PUT /api/v1/settings/music-on-hold`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MusicOnHoldSettings {
    /// The tenant prompt callers hear while they wait in a queue, on hold or during a
    /// transfer or consultation; `null`: the built-in music (`moh`).
    #[serde(default)]
    pub prompt: Option<String>,
}
