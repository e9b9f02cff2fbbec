//! Sans-IO IVR primitives (play, collect digits, say digits, music on hold, echo, voicemail)
//! and the built-in default flow. Time is passed in as milliseconds since the call was answered.

use crate::media::amd::{AmdConfig, Detector};
use crate::media::jitter::FRAME;
use crate::media::wav;
use hotline_wire::gateway::{AmdResult, CollectEnd};
use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// A prompt's audio, 8 kHz mono.
type Samples = Arc<Vec<i16>>;

/// Tenant prompts: name → (version token, samples).
type TenantPrompts = HashMap<String, (String, Samples)>;

/// Built-in prompt files (`<dir>/<name>.wav`, any WAV format) converted to 8 kHz mono and
/// cached, and tenants' uploaded prompts as last loaded from Redis (see
/// `store::refresh_prompts`; keyed by tenant, so one tenant never hears another's).
pub struct Prompts {
    dir: PathBuf,
    cache: Mutex<HashMap<String, Arc<Vec<i16>>>>,
    tenants: Mutex<HashMap<Uuid, TenantPrompts>>,
}

impl Prompts {
    /// A store reading from `dir`.
    pub fn new(dir: PathBuf) -> Self {
        Prompts {
            dir,
            cache: Mutex::new(HashMap::new()),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    /// The samples of prompt `name` for a call of `tenant`: the tenant's own prompt of that
    /// name if loaded, else the built-in one.
    pub fn get_for(&self, tenant: Option<Uuid>, name: &str) -> Arc<Vec<i16>> {
        if let Some(t) = tenant {
            if let Ok(tenants) = self.tenants.lock() {
                if let Some((_, s)) = tenants.get(&t).and_then(|p| p.get(name)) {
                    return s.clone();
                }
            }
        }
        self.get(name)
    }

    /// The tenant's prompts whose cached version differs from `index` (name → version
    /// token, as read from Redis): the ones to fetch.
    pub fn stale(&self, tenant: Uuid, index: &HashMap<String, String>) -> Vec<String> {
        let tenants = match self.tenants.lock() {
            Ok(t) => t,
            Err(_) => return index.keys().cloned().collect(),
        };
        let cached = tenants.get(&tenant);
        let mut out: Vec<String> = index
            .iter()
            .filter(|(name, token)| {
                cached.and_then(|c| c.get(*name)).map(|(t, _)| t) != Some(*token)
            })
            .map(|(name, _)| name.clone())
            .collect();
        out.sort();
        out
    }

    /// Applies a refresh of the tenant's prompts: `loaded` are (name, version token, WAV
    /// bytes) fetched for the stale names (`None`: gone meanwhile); names no longer in
    /// `index` are forgotten. Calls already playing a prompt keep their samples.
    pub fn apply(
        &self,
        tenant: Uuid,
        index: &HashMap<String, String>,
        loaded: Vec<(String, String, Option<Vec<u8>>)>,
    ) {
        let decoded: Vec<(String, String, Option<Samples>)> = loaded
            .into_iter()
            .map(|(name, token, wav)| {
                let samples = wav.and_then(|w| pcm16_8k_mono(&w).or_else(|| wav::decode_wav_8k_mono(&w)));
                if samples.is_none() {
                    tracing::warn!(%tenant, prompt = %name, "tenant prompt missing or unreadable in Redis");
                }
                (name, token, samples.map(Arc::new))
            })
            .collect();
        let Ok(mut tenants) = self.tenants.lock() else {
            return;
        };
        let entry = tenants.entry(tenant).or_default();
        entry.retain(|name, _| index.contains_key(name));
        for (name, token, samples) in decoded {
            match samples {
                Some(s) => {
                    entry.insert(name, (token, s));
                }
                None => {
                    entry.remove(&name);
                }
            }
        }
        if entry.is_empty() {
            tenants.remove(&tenant);
        }
    }

    /// The samples of built-in prompt `name`. A missing or unreadable file yields a short
    /// tone pattern (logged once) so a call never stalls on a missing prompt.
    pub fn get(&self, name: &str) -> Arc<Vec<i16>> {
        let safe = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if let Ok(cache) = self.cache.lock() {
            if let Some(p) = cache.get(name) {
                return p.clone();
            }
        }
        let samples = if safe {
            wav::read_wav_8k_mono(&self.dir.join(format!("{name}.wav"))).ok()
        } else {
            None
        };
        let samples = Arc::new(samples.unwrap_or_else(|| {
            tracing::warn!(prompt = name, dir = %self.dir.display(), "prompt missing: playing a tone instead");
            fallback_tone(name)
        }));
        if let Ok(mut cache) = self.cache.lock() {
            cache.insert(name.to_string(), samples.clone());
        }
        samples
    }
}

/// The samples of a canonical 8 kHz mono 16-bit PCM WAV (44-byte header), what the backend
/// stores for tenant prompts: taken as they are, bit for bit.
fn pcm16_8k_mono(w: &[u8]) -> Option<Vec<i16>> {
    let le16 = |at: usize| u16::from_le_bytes([w[at], w[at + 1]]);
    let le32 = |at: usize| u32::from_le_bytes([w[at], w[at + 1], w[at + 2], w[at + 3]]);
    let canonical = w.len() >= 44
        && &w[0..4] == b"RIFF"
        && &w[8..16] == b"WAVEfmt "
        && le32(16) == 16
        && (le16(20), le16(22), le32(24), le16(34)) == (1, 1, 8000, 16)
        && &w[36..40] == b"data";
    if !canonical {
        return None;
    }
    let len = (le32(40) as usize).min(w.len() - 44);
    Some(
        w[44..44 + len]
            .chunks_exact(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect(),
    )
}

/// Two 440 Hz beeps (300 ms on, 200 ms off): 1 s in all.
fn fallback_tone(_name: &str) -> Vec<i16> {
    let mut out = Vec::new();
    for _ in 0..2 {
        out.extend((0..2400).map(|i| {
            ((i as f32 * 2.0 * std::f32::consts::PI * 440.0 / 8000.0).sin() * 8000.0) as i16
        }));
        out.extend(std::iter::repeat_n(0i16, 1600));
    }
    out
}

/// A media instruction for one call.
#[derive(Debug, Clone, PartialEq)]
pub enum IvrCommand {
    /// Play a prompt.
    Play {
        /// Prompt name.
        prompt: String,
        /// A digit stops it.
        interruptible: bool,
    },
    /// Collect digits, with an optional prompt (interruptible).
    Collect {
        /// Prompt.
        prompt: Option<String>,
        /// Minimum digits.
        min: u8,
        /// Maximum digits.
        max: u8,
        /// Timeout after the prompt and after each digit.
        timeout_ms: u32,
        /// Terminator key.
        terminator: Option<char>,
    },
    /// Say digits, one `digit-<d>` prompt each.
    SayDigits(String),
    /// Loop a prompt.
    MusicOnHold(String),
    /// Play these prompts over the music on hold, then let the music go on where it was;
    /// ignored when no music on hold is playing (see [`Ivr::announce`]).
    Announce(Vec<String>),
    /// Send back what the caller says (echo test).
    Echo,
    /// Beep, then record the caller until `#` or `max_ms`.
    RecordVoicemail {
        /// Longest message.
        max_ms: u32,
    },
    /// Answering-machine detection: listen (playing silence) until the detector decides
    /// or `timeout_ms` passes; reported once by [`IvrEvent::MachineDetected`]. Another
    /// command, this one included, stops a running detection silently.
    DetectMachine {
        /// Longest time to listen.
        timeout_ms: u32,
    },
    /// Silence.
    Stop,
}

/// What the IVR reports.
#[derive(Debug, Clone, PartialEq)]
pub enum IvrEvent {
    /// A play / say-digits / MOH ended.
    PlaybackFinished {
        /// Prompt name (or `digits:<d>`).
        prompt: String,
        /// Interrupting key.
        interrupted_by: Option<char>,
    },
    /// Collection ended.
    DigitsCollected {
        /// Digits.
        digits: String,
        /// Why.
        end: CollectEnd,
    },
    /// Voicemail ended with these samples (8 kHz mono).
    Voicemail {
        /// Audio.
        samples: Vec<i16>,
    },
    /// Answering-machine detection decided.
    MachineDetected {
        /// The decision.
        result: AmdResult,
        /// A beep was heard.
        beep: bool,
        /// Speech heard, milliseconds.
        speech_ms: u32,
        /// From the command to the decision, milliseconds.
        elapsed_ms: u32,
    },
}

struct Playback {
    name: String,
    samples: Arc<Vec<i16>>,
    pos: usize,
    interruptible: bool,
    looped: bool,
    /// Report PlaybackFinished when this item ends (last item of a say-digits).
    report: bool,
}

struct Collect {
    min: u8,
    max: u8,
    digits: String,
    terminator: Option<char>,
    timeout_ms: u32,
    deadline: Option<u64>,
}

struct Voicemail {
    max_ms: u32,
    started: Option<u64>,
    samples: Vec<i16>,
}

/// Executes IVR commands frame by frame.
pub struct Ivr {
    prompts: Arc<Prompts>,
    /// Whose prompts this call plays (besides the built-in ones).
    tenant: Option<Uuid>,
    queue: VecDeque<Playback>,
    collect: Option<Collect>,
    echo: bool,
    voicemail: Option<Voicemail>,
    amd: Option<Detector>,
    /// Keys pressed while no collection was running and nothing interruptible played
    /// (type-ahead): the next collection starts with them. `(when, key)`.
    typeahead: VecDeque<(u64, char)>,
    events: Vec<IvrEvent>,
}

/// Type-ahead kept: at most this many keys, none older than [`TYPEAHEAD_MS`].
const TYPEAHEAD_MAX: usize = 16;
/// Type-ahead older than this is forgotten when a collection starts.
const TYPEAHEAD_MS: u64 = 10_000;

impl Ivr {
    /// An idle IVR.
    pub fn new(prompts: Arc<Prompts>) -> Self {
        Ivr {
            prompts,
            tenant: None,
            queue: VecDeque::new(),
            collect: None,
            echo: false,
            voicemail: None,
            amd: None,
            typeahead: VecDeque::new(),
            events: Vec::new(),
        }
    }

    /// Plays `tenant`'s own prompts where it has one of the asked name.
    pub fn for_tenant(mut self, tenant: Uuid) -> Self {
        self.tenant = Some(tenant);
        self
    }

    /// Events produced since the last call.
    pub fn drain_events(&mut self) -> Vec<IvrEvent> {
        std::mem::take(&mut self.events)
    }

    fn playback(&self, name: &str, interruptible: bool, looped: bool, report: bool) -> Playback {
        Playback {
            name: name.to_string(),
            samples: self.prompts.get_for(self.tenant, name),
            pos: 0,
            interruptible,
            looped,
            report,
        }
    }

    /// Starts a command; whatever was running stops silently (except for an announcement,
    /// which plays within the music on hold).
    pub fn command(&mut self, now_ms: u64, cmd: IvrCommand) {
        if let IvrCommand::Announce(prompts) = cmd {
            self.announce(&prompts);
            return;
        }
        self.queue.clear();
        self.collect = None;
        self.echo = false;
        self.voicemail = None;
        self.amd = None;
        // Type-ahead carries over prompts into the next question only.
        if !matches!(
            cmd,
            IvrCommand::Play { .. } | IvrCommand::SayDigits(_) | IvrCommand::Collect { .. }
        ) {
            self.typeahead.clear();
        }
        match cmd {
            IvrCommand::Play {
                prompt,
                interruptible,
            } => {
                let p = self.playback(&prompt, interruptible, false, true);
                self.queue.push_back(p);
            }
            IvrCommand::Collect {
                prompt,
                min,
                max,
                timeout_ms,
                terminator,
            } => {
                let deadline = prompt.is_none().then_some(now_ms + timeout_ms as u64);
                if let Some(p) = prompt {
                    let p = self.playback(&p, true, false, false);
                    self.queue.push_back(p);
                }
                self.collect = Some(Collect {
                    min,
                    max: max.max(1),
                    digits: String::new(),
                    terminator,
                    timeout_ms,
                    deadline,
                });
                // Keys pressed ahead answer it at once (and cut its prompt short).
                let ahead: Vec<(u64, char)> = self.typeahead.drain(..).collect();
                for (at, d) in ahead {
                    if now_ms.saturating_sub(at) > TYPEAHEAD_MS {
                        continue;
                    }
                    if self.collect.is_some() {
                        self.on_digit(now_ms, d);
                    } else {
                        self.typeahead.push_back((at, d));
                    }
                }
            }
            IvrCommand::SayDigits(digits) => {
                let ds: Vec<char> = digits.chars().filter(|c| c.is_ascii_digit()).collect();
                for (i, d) in ds.iter().enumerate() {
                    let mut p =
                        self.playback(&format!("digit-{d}"), false, false, i + 1 == ds.len());
                    if p.report {
                        p.name = format!("digits:{digits}");
                    }
                    self.queue.push_back(p);
                }
                if ds.is_empty() {
                    self.events.push(IvrEvent::PlaybackFinished {
                        prompt: format!("digits:{digits}"),
                        interrupted_by: None,
                    });
                }
            }
            IvrCommand::MusicOnHold(prompt) => {
                let p = self.playback(&prompt, false, true, false);
                self.queue.push_back(p);
            }
            // Handled above: it leaves the music on hold running.
            IvrCommand::Announce(_) => {}
            IvrCommand::Echo => self.echo = true,
            IvrCommand::RecordVoicemail { max_ms } => {
                let p = self.playback("beep", false, false, false);
                self.queue.push_back(p);
                self.voicemail = Some(Voicemail {
                    max_ms,
                    started: None,
                    samples: Vec::new(),
                });
            }
            IvrCommand::DetectMachine { timeout_ms } => {
                self.amd = Some(Detector::new(AmdConfig::default(), now_ms, timeout_ms));
            }
            IvrCommand::Stop => {}
        }
    }

    /// A queue announcement: the prompts play in turn, then the music on hold goes on from
    /// where it was. Only while the call hears music on hold and nothing else (no question,
    /// recording or detection): the backend decides to announce from the ACD's state, and the
    /// call may have moved on by the time the command arrives (bridged to its agent, given a
    /// max-wait message); there the announcement is dropped rather than heard over it. A
    /// previous announcement still playing is cut short. Nothing is reported (no
    /// [`IvrEvent::PlaybackFinished`]): a flow's step never ends because of an announcement.
    fn announce(&mut self, prompts: &[String]) {
        let on_hold = self.queue.back().is_some_and(|p| p.looped)
            && self.collect.is_none()
            && !self.echo
            && self.voicemail.is_none()
            && self.amd.is_none();
        if !on_hold {
            return;
        }
        self.queue.retain(|p| p.looped);
        for name in prompts.iter().rev() {
            let p = self.playback(name, false, false, false);
            self.queue.push_front(p);
        }
    }

    /// A DTMF digit from the caller.
    pub fn on_digit(&mut self, now_ms: u64, digit: char) {
        // Not answering a question now: kept for the next one (a key pressed during a prompt
        // that cannot be interrupted, or before the first command after answer).
        let interruptible = self.queue.front().is_some_and(|f| f.interruptible);
        if self.collect.is_none() && !interruptible && !self.echo && self.voicemail.is_none() {
            if self.typeahead.len() == TYPEAHEAD_MAX {
                self.typeahead.pop_front();
            }
            self.typeahead.push_back((now_ms, digit));
        }
        if let Some(front) = self.queue.front() {
            if front.interruptible {
                let name = front.name.clone();
                let report = front.report;
                self.queue.clear();
                if report {
                    self.events.push(IvrEvent::PlaybackFinished {
                        prompt: name,
                        interrupted_by: Some(digit),
                    });
                }
            }
        }
        if let Some(c) = &mut self.collect {
            if Some(digit) == c.terminator {
                self.end_collect(CollectEnd::Terminator);
            } else {
                c.digits.push(digit);
                c.deadline = Some(now_ms + c.timeout_ms as u64);
                if c.digits.len() >= c.max as usize {
                    self.end_collect(CollectEnd::Max);
                }
            }
        }
        if digit == '#' && self.voicemail.as_ref().is_some_and(|v| v.started.is_some()) {
            self.end_voicemail();
        }
    }

    fn end_collect(&mut self, end: CollectEnd) {
        if let Some(c) = self.collect.take() {
            let end = if end == CollectEnd::Terminator && c.digits.len() < c.min as usize {
                CollectEnd::Terminator
            } else {
                end
            };
            self.events.push(IvrEvent::DigitsCollected {
                digits: c.digits,
                end,
            });
        }
    }

    /// The message being recorded when the call ends (the caller hung up after speaking,
    /// which is how most people end a voicemail): its samples, if recording had started.
    pub fn take_voicemail(&mut self) -> Option<Vec<i16>> {
        let v = self.voicemail.take()?;
        (v.started.is_some() && !v.samples.is_empty()).then_some(v.samples)
    }

    fn end_voicemail(&mut self) {
        if let Some(v) = self.voicemail.take() {
            self.events.push(IvrEvent::Voicemail { samples: v.samples });
        }
    }

    /// One 20 ms tick: takes the caller's frame, returns the frame to send.
    pub fn tick(&mut self, now_ms: u64, caller: &[i16]) -> Vec<i16> {
        let mut out = vec![0i16; FRAME];
        if let Some(p) = self.queue.front_mut() {
            let n = (p.samples.len() - p.pos.min(p.samples.len())).min(FRAME);
            out[..n].copy_from_slice(&p.samples[p.pos..p.pos + n]);
            p.pos += n;
            if p.pos >= p.samples.len() {
                if p.looped {
                    p.pos = 0;
                } else if let Some(done) = self.queue.pop_front() {
                    if done.report {
                        self.events.push(IvrEvent::PlaybackFinished {
                            prompt: done.name,
                            interrupted_by: None,
                        });
                    }
                }
            }
        } else if self.echo {
            out.copy_from_slice(&caller[..FRAME.min(caller.len())]);
        }
        if let Some(d) = &mut self.amd {
            if let Some(dec) = d.push(now_ms, caller) {
                self.amd = None;
                self.events.push(IvrEvent::MachineDetected {
                    result: dec.result,
                    beep: dec.beep,
                    speech_ms: dec.speech_ms,
                    elapsed_ms: dec.elapsed_ms,
                });
            }
        }
        if self.queue.is_empty() {
            if let Some(c) = &mut self.collect {
                let deadline = *c.deadline.get_or_insert(now_ms + c.timeout_ms as u64);
                if now_ms >= deadline {
                    self.end_collect(CollectEnd::Timeout);
                }
            }
            if let Some(v) = &mut self.voicemail {
                let start = *v.started.get_or_insert(now_ms);
                v.samples.extend_from_slice(caller);
                if now_ms >= start + v.max_ms as u64 {
                    self.end_voicemail();
                }
            }
        }
        out
    }
}

/// Settings of the built-in flow (per tenant via Redis, defaults from the environment).
#[derive(Debug, Clone, PartialEq)]
pub struct FlowConfig {
    /// First prompt.
    pub greeting: String,
    /// "Press 1 for the echo test…" prompt.
    pub menu: String,
    /// Last prompt before hanging up.
    pub goodbye: String,
    /// Wait for the menu choice.
    pub digit_timeout_ms: u32,
    /// Length of the echo test.
    pub echo_ms: u32,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            greeting: "greeting".into(),
            menu: "menu".into(),
            goodbye: "goodbye".into(),
            digit_timeout_ms: 5000,
            echo_ms: 10_000,
        }
    }
}

/// A step the built-in flow asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowStep {
    /// Run an IVR command.
    Ivr(IvrCommand),
    /// Hang up the call.
    Hangup,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Idle,
    Greeting,
    Menu,
    Echo { until: u64 },
    Goodbye,
    Done,
}

/// Greeting → menu ("press 1 for an echo test") → echo for a while → goodbye → hang up.
/// Any other key or no key: goodbye → hang up.
pub struct DefaultFlow {
    cfg: FlowConfig,
    stage: Stage,
}

impl DefaultFlow {
    /// A flow not yet started.
    pub fn new(cfg: FlowConfig) -> Self {
        DefaultFlow {
            cfg,
            stage: Stage::Idle,
        }
    }

    /// Starts the flow (on answer).
    pub fn start(&mut self) -> Vec<FlowStep> {
        self.stage = Stage::Greeting;
        vec![FlowStep::Ivr(IvrCommand::Play {
            prompt: self.cfg.greeting.clone(),
            interruptible: true,
        })]
    }

    fn choose(&mut self, now_ms: u64, digit: Option<char>) -> Vec<FlowStep> {
        if digit == Some('1') {
            self.stage = Stage::Echo {
                until: now_ms + self.cfg.echo_ms as u64,
            };
            vec![FlowStep::Ivr(IvrCommand::Echo)]
        } else {
            self.goodbye()
        }
    }

    fn goodbye(&mut self) -> Vec<FlowStep> {
        self.stage = Stage::Goodbye;
        vec![FlowStep::Ivr(IvrCommand::Play {
            prompt: self.cfg.goodbye.clone(),
            interruptible: false,
        })]
    }

    /// Reacts to an IVR event.
    pub fn on_event(&mut self, now_ms: u64, ev: &IvrEvent) -> Vec<FlowStep> {
        match (self.stage, ev) {
            (
                Stage::Greeting,
                IvrEvent::PlaybackFinished {
                    interrupted_by: Some(d),
                    ..
                },
            ) => self.choose(now_ms, Some(*d)),
            (Stage::Greeting, IvrEvent::PlaybackFinished { .. }) => {
                self.stage = Stage::Menu;
                vec![FlowStep::Ivr(IvrCommand::Collect {
                    prompt: Some(self.cfg.menu.clone()),
                    min: 1,
                    max: 1,
                    timeout_ms: self.cfg.digit_timeout_ms,
                    terminator: None,
                })]
            }
            (Stage::Menu, IvrEvent::DigitsCollected { digits, .. }) => {
                self.choose(now_ms, digits.chars().next())
            }
            (Stage::Goodbye, IvrEvent::PlaybackFinished { .. }) => {
                self.stage = Stage::Done;
                vec![FlowStep::Hangup]
            }
            _ => Vec::new(),
        }
    }

    /// Time passes (ends the echo test).
    pub fn on_tick(&mut self, now_ms: u64) -> Vec<FlowStep> {
        match self.stage {
            Stage::Echo { until } if now_ms >= until => self.goodbye(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An 8 kHz mono 16-bit WAV of `samples`.
    fn wav_of(samples: &[i16]) -> Vec<u8> {
        let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
        v.extend_from_slice(&16u32.to_le_bytes());
        v.extend_from_slice(&[1, 0, 1, 0]);
        v.extend_from_slice(&8000u32.to_le_bytes());
        v.extend_from_slice(&16000u32.to_le_bytes());
        v.extend_from_slice(&[2, 0, 16, 0]);
        v.extend_from_slice(b"data");
        v.extend_from_slice(&((samples.len() * 2) as u32).to_le_bytes());
        for s in samples {
            v.extend_from_slice(&s.to_le_bytes());
        }
        v
    }

    #[test]
    fn tenant_prompts_are_kept_per_tenant_and_follow_the_version() {
        let p = Prompts::new(PathBuf::from("/nonexistent"));
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let index = HashMap::from([("welcome".to_string(), "v1".to_string())]);
        assert_eq!(p.stale(a, &index), ["welcome"]);
        p.apply(
            a,
            &index,
            vec![("welcome".into(), "v1".into(), Some(wav_of(&[7; 160])))],
        );
        assert!(p.stale(a, &index).is_empty());
        assert_eq!(*p.get_for(Some(a), "welcome"), vec![7i16; 160]);
        // Tenant B (and a call without a tenant) never hear A's prompt: B gets the tone.
        assert_eq!(*p.get_for(Some(b), "welcome"), fallback_tone("welcome"));
        assert_eq!(*p.get_for(None, "welcome"), fallback_tone("welcome"));
        // A new version is fetched again; a deleted prompt is forgotten.
        let v2 = HashMap::from([("welcome".to_string(), "v2".to_string())]);
        assert_eq!(p.stale(a, &v2), ["welcome"]);
        p.apply(
            a,
            &v2,
            vec![("welcome".into(), "v2".into(), Some(wav_of(&[9; 80])))],
        );
        assert_eq!(*p.get_for(Some(a), "welcome"), vec![9i16; 80]);
        p.apply(a, &HashMap::new(), vec![]);
        assert_eq!(*p.get_for(Some(a), "welcome"), fallback_tone("welcome"));
    }

    fn prompts() -> Arc<Prompts> {
        Arc::new(Prompts::new(PathBuf::from("/nonexistent")))
    }

    #[test]
    fn a_voicemail_cut_by_the_hang_up_is_kept_once_recording_started() {
        let mut ivr = Ivr::new(prompts());
        ivr.command(0, IvrCommand::RecordVoicemail { max_ms: 60_000 });
        // Hanging up during the beep: nothing was said.
        assert_eq!(ivr.take_voicemail(), None);
        ivr.command(0, IvrCommand::RecordVoicemail { max_ms: 60_000 });
        let voice = vec![1000i16; FRAME];
        let mut t = 0;
        // The beep plays first, then every frame is recorded.
        while ivr.voicemail.as_ref().is_some_and(|v| v.started.is_none()) {
            ivr.tick(t, &voice);
            t += 20;
        }
        for _ in 0..50 {
            ivr.tick(t, &voice);
            t += 20;
        }
        let kept = ivr.take_voicemail().expect("the message so far");
        assert_eq!(kept.len(), 51 * FRAME);
        assert!(kept.iter().all(|s| *s == 1000));
        assert!(ivr
            .drain_events()
            .iter()
            .all(|e| !matches!(e, IvrEvent::Voicemail { .. })));
        assert_eq!(ivr.take_voicemail(), None, "taken once");
    }

    /// Runs the IVR + flow until hangup, pressing `key` at `press_ms` (if any).
    fn run(press: Option<(u64, char)>) -> (u64, Vec<IvrEvent>) {
        let cfg = FlowConfig {
            digit_timeout_ms: 1000,
            echo_ms: 500,
            ..FlowConfig::default()
        };
        let mut flow = DefaultFlow::new(cfg);
        let mut ivr = Ivr::new(prompts());
        let mut all = Vec::new();
        let mut steps = flow.start();
        let silence = vec![0i16; FRAME];
        for tick in 0..2000u64 {
            let now = tick * 20;
            for s in steps.drain(..) {
                match s {
                    FlowStep::Ivr(c) => ivr.command(now, c),
                    FlowStep::Hangup => return (now, all),
                }
            }
            if press.is_some_and(|(at, _)| at == now) {
                ivr.on_digit(now, press.map(|p| p.1).unwrap_or('1'));
            }
            ivr.tick(now, &silence);
            for ev in ivr.drain_events() {
                steps.extend(flow.on_event(now, &ev));
                all.push(ev);
            }
            steps.extend(flow.on_tick(now));
        }
        panic!("flow never hung up");
    }

    #[test]
    fn no_key_means_goodbye_after_timeout() {
        let (at, evs) = run(None);
        assert!(evs.iter().any(|e| matches!(
            e,
            IvrEvent::DigitsCollected {
                end: CollectEnd::Timeout,
                ..
            }
        )));
        // greeting (1 s fallback tone) + menu (1 s) + 1 s timeout + goodbye (1 s)
        assert!((3900..4200).contains(&at), "{at}");
    }

    #[test]
    fn key_one_during_greeting_starts_echo() {
        let (at, evs) = run(Some((200, '1')));
        assert_eq!(
            evs[0],
            IvrEvent::PlaybackFinished {
                prompt: "greeting".into(),
                interrupted_by: Some('1')
            }
        );
        // 0.2 s + 0.5 s echo + goodbye 1 s
        assert!((1650..1800).contains(&at), "{at}");
    }

    #[test]
    fn collect_with_terminator_and_max() {
        let mut ivr = Ivr::new(prompts());
        ivr.command(
            0,
            IvrCommand::Collect {
                prompt: None,
                min: 1,
                max: 3,
                timeout_ms: 100,
                terminator: Some('#'),
            },
        );
        ivr.on_digit(0, '4');
        ivr.on_digit(0, '#');
        assert_eq!(
            ivr.drain_events(),
            vec![IvrEvent::DigitsCollected {
                digits: "4".into(),
                end: CollectEnd::Terminator
            }]
        );
        ivr.command(
            0,
            IvrCommand::Collect {
                prompt: None,
                min: 1,
                max: 2,
                timeout_ms: 100,
                terminator: None,
            },
        );
        ivr.on_digit(0, '4');
        ivr.on_digit(0, '5');
        assert_eq!(
            ivr.drain_events(),
            vec![IvrEvent::DigitsCollected {
                digits: "45".into(),
                end: CollectEnd::Max
            }]
        );
    }

    #[test]
    fn keys_pressed_during_a_prompt_answer_the_next_question() {
        let mut ivr = Ivr::new(prompts());
        ivr.command(
            0,
            IvrCommand::Play {
                prompt: "greeting".into(),
                interruptible: false,
            },
        );
        ivr.on_digit(100, '1');
        // The prompt is not cut (not interruptible); the question that follows gets the key.
        assert!(ivr.drain_events().is_empty());
        ivr.command(
            500,
            IvrCommand::Collect {
                prompt: Some("menu".into()),
                min: 1,
                max: 1,
                timeout_ms: 5_000,
                terminator: None,
            },
        );
        assert_eq!(
            ivr.drain_events(),
            vec![IvrEvent::DigitsCollected {
                digits: "1".into(),
                end: CollectEnd::Max
            }]
        );
        // Not across other commands, and not when stale.
        ivr.command(
            600,
            IvrCommand::Play {
                prompt: "greeting".into(),
                interruptible: false,
            },
        );
        ivr.on_digit(700, '2');
        ivr.command(800, IvrCommand::MusicOnHold("moh".into()));
        ivr.command(
            900,
            IvrCommand::Collect {
                prompt: None,
                min: 1,
                max: 1,
                timeout_ms: 5_000,
                terminator: None,
            },
        );
        assert!(
            ivr.drain_events().is_empty(),
            "music on hold forgot the key"
        );
        ivr.command(
            1_000,
            IvrCommand::Play {
                prompt: "greeting".into(),
                interruptible: false,
            },
        );
        ivr.on_digit(1_100, '3');
        ivr.command(
            20_000,
            IvrCommand::Collect {
                prompt: None,
                min: 1,
                max: 1,
                timeout_ms: 5_000,
                terminator: None,
            },
        );
        assert!(ivr.drain_events().is_empty(), "a 19 s old key is stale");
    }

    #[test]
    fn an_announcement_plays_over_the_music_which_goes_on_where_it_was() {
        let p = Prompts::new(PathBuf::from("/nonexistent"));
        let t = Uuid::new_v4();
        // The music is a ramp (so where it goes on is visible); the two words are constants.
        let music: Vec<i16> = (0..1_600).map(|i| 1_000 + i as i16).collect();
        let index: HashMap<String, String> = ["music", "you-are", "three"]
            .iter()
            .map(|n| (n.to_string(), "v1".to_string()))
            .collect();
        p.apply(
            t,
            &index,
            vec![
                ("music".into(), "v1".into(), Some(wav_of(&music))),
                ("you-are".into(), "v1".into(), Some(wav_of(&[2; 2 * FRAME]))),
                ("three".into(), "v1".into(), Some(wav_of(&[3; FRAME]))),
            ],
        );
        let mut ivr = Ivr::new(Arc::new(p)).for_tenant(t);
        ivr.command(0, IvrCommand::MusicOnHold("music".into()));
        let quiet = [0i16; FRAME];
        let mut heard = Vec::new();
        for i in 0..3 {
            heard.extend(ivr.tick(i * 20, &quiet));
        }
        ivr.command(
            60,
            IvrCommand::Announce(vec!["you-are".into(), "three".into()]),
        );
        for i in 3..7 {
            heard.extend(ivr.tick(i * 20, &quiet));
        }
        assert_eq!(&heard[..3 * FRAME], &music[..3 * FRAME]);
        assert_eq!(&heard[3 * FRAME..5 * FRAME], &[2; 2 * FRAME][..]);
        assert_eq!(&heard[5 * FRAME..6 * FRAME], &[3; FRAME][..]);
        assert_eq!(
            &heard[6 * FRAME..],
            &music[3 * FRAME..4 * FRAME],
            "music goes on"
        );
        assert!(
            ivr.drain_events().is_empty(),
            "an announcement reports nothing"
        );

        // Anything but music on hold (a prompt of the flow, a question): not announced over.
        ivr.command(
            200,
            IvrCommand::Play {
                prompt: "three".into(),
                interruptible: false,
            },
        );
        ivr.command(200, IvrCommand::Announce(vec!["you-are".into()]));
        assert_eq!(ivr.tick(200, &quiet), vec![3; FRAME]);
        assert_eq!(
            ivr.drain_events(),
            vec![IvrEvent::PlaybackFinished {
                prompt: "three".into(),
                interrupted_by: None
            }],
            "the flow's prompt ends as it would have"
        );
        assert_eq!(
            ivr.tick(220, &quiet),
            vec![0; FRAME],
            "then silence, no announcement"
        );
    }

    #[test]
    fn say_digits_reports_once() {
        let mut ivr = Ivr::new(prompts());
        ivr.command(0, IvrCommand::SayDigits("42".into()));
        let mut evs = Vec::new();
        for t in 0..200 {
            ivr.tick(t * 20, &[0; FRAME]);
            evs.extend(ivr.drain_events());
        }
        assert_eq!(
            evs,
            vec![IvrEvent::PlaybackFinished {
                prompt: "digits:42".into(),
                interrupted_by: None
            }]
        );
    }

    #[test]
    fn detect_machine_plays_silence_reports_once_and_restarts() {
        let mut ivr = Ivr::new(prompts());
        ivr.command(
            0,
            IvrCommand::Play {
                prompt: "greeting".into(),
                interruptible: false,
            },
        );
        ivr.command(0, IvrCommand::DetectMachine { timeout_ms: 10_000 });
        let quiet = [0i16; FRAME];
        let mut evs = Vec::new();
        for t in 0..100u64 {
            // The prompt stopped: only silence goes out while listening.
            assert_eq!(ivr.tick(t * 20, &quiet), vec![0i16; FRAME]);
            evs.extend(ivr.drain_events());
            if t == 50 {
                // A second command restarts the 2.5 s initial-silence count.
                ivr.command(t * 20, IvrCommand::DetectMachine { timeout_ms: 10_000 });
            }
        }
        assert!(evs.is_empty(), "{evs:?}");
        for t in 100..400u64 {
            ivr.tick(t * 20, &quiet);
            evs.extend(ivr.drain_events());
        }
        assert_eq!(
            evs,
            vec![IvrEvent::MachineDetected {
                result: AmdResult::Silence,
                beep: false,
                speech_ms: 0,
                elapsed_ms: 2500
            }]
        );
        // Another command stops a detection silently.
        ivr.command(0, IvrCommand::DetectMachine { timeout_ms: 100 });
        ivr.command(0, IvrCommand::Stop);
        for t in 0..50u64 {
            ivr.tick(t * 20, &quiet);
        }
        assert!(ivr.drain_events().is_empty());
    }
}
