//! Sans-IO answering-machine detection (AMD): fed what the called party sends us (8 kHz
//! 16-bit PCM, any chunking; analysed in 20 ms frames) it decides whether a person, an
//! answering machine or nobody took the call.
//!
//! The algorithm is the classic energy-based one of Asterisk's `app_amd`, with an adaptive
//! noise floor and a beep detector added:
//!
//! 1. **Voice activity.** Each frame's energy (dBFS) is compared with a noise floor that
//!    drops at once to any quieter frame and rises slowly ([`AmdConfig::floor_rise_db_per_s`]);
//!    a frame is voiced when it is [`AmdConfig::voice_on_db`] above the floor (
//!    [`AmdConfig::voice_off_db`] while already voiced: hysteresis) and louder than
//!    [`AmdConfig::min_voice_dbfs`].
//! 2. **Words.** A voiced run of at least [`AmdConfig::min_word_ms`] starts a word (shorter
//!    runs are clicks and are ignored); [`AmdConfig::between_words_ms`] of silence ends it.
//!    Speech time is the voiced time inside words.
//! 3. **Decision.** No word within [`AmdConfig::initial_silence_ms`]: *silence*. Speech
//!    reaching [`AmdConfig::greeting_ms`], a greeting going on without a pause for
//!    [`AmdConfig::greeting_span_ms`] (on a noisy line little of it counts as speech), more than [`AmdConfig::max_words`] words, or one
//!    word longer than [`AmdConfig::max_word_ms`]: *machine*. A shorter greeting followed by
//!    [`AmdConfig::after_greeting_silence_ms`] of silence: *human*, reported at once.
//!    Undecided after [`AmdConfig::total_analysis_ms`]: *unknown*.
//! 4. **End of a machine's greeting.** Once it is a machine the decision is held back until
//!    the greeting is over, so a message played then is recorded whole: either
//!    [`AmdConfig::machine_end_silence_ms`] of silence, or a beep, reported when the tone stops.
//! 5. **Beep.** Every voiced frame's strongest frequency between 400 and 2000 Hz is found
//!    with Goertzel filters (a 50 Hz grid, then refined to 12.5 Hz); the frame is tonal when
//!    that frequency holds at least [`AmdConfig::tone_purity`] of the frame's energy. Tonal
//!    frames at one frequency (± [`AmdConfig::tone_tolerance_hz`]) for
//!    [`AmdConfig::beep_min_ms`] are a beep, which by itself means *machine*.
//!
//! The command's `timeout_ms` bounds everything: undecided by then is *unknown*; a machine
//! still talking by then is reported *machine* at that moment.

use hotline_wire::gateway::AmdResult;

/// Sample rate of the analysed audio.
const RATE: f32 = 8000.0;
/// Samples per analysis frame (20 ms).
const FRAME: usize = 160;
/// Milliseconds per analysis frame.
const FRAME_MS: u32 = 20;
/// Energy of digital silence, dBFS (the floor of the energy measure).
const SILENT_DB: f32 = -96.0;

/// Detector settings. The defaults were tuned on the espeak-ng corpus of
/// `benches/amd_accuracy.rs` (see docs/benchmarks.md) starting from Asterisk's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct AmdConfig {
    /// Nobody spoke (no word started) within this long after the start: `silence`. 2500 ms.
    pub initial_silence_ms: u32,
    /// Speech (voiced time in words) reaching this long: a machine. 1500 ms; a person's
    /// "Hello, who is this?" is about 1 s of speech.
    pub greeting_ms: u32,
    /// A greeting still going (no `after_greeting_silence_ms` pause) this long after its
    /// first word started: a machine, however little of it was loud enough to count as
    /// speech (on a noisy line). 3000 ms.
    pub greeting_span_ms: u32,
    /// Silence after a greeting shorter than `greeting_ms` that makes it a person. 800 ms.
    pub after_greeting_silence_ms: u32,
    /// Silence that ends a machine's greeting (the event is sent then). Longer than the
    /// pauses between a greeting's sentences. 1300 ms.
    pub machine_end_silence_ms: u32,
    /// Shortest voiced run that counts as a word (shorter: a click or a line pop). 100 ms.
    pub min_word_ms: u32,
    /// Silence that ends a word. 50 ms.
    pub between_words_ms: u32,
    /// More words than this: a machine. 6.
    pub max_words: u32,
    /// One word (uninterrupted voice) longer than this: a machine (or music). 5000 ms.
    pub max_word_ms: u32,
    /// Undecided after this long: `unknown`. 5000 ms (the command's timeout may cut it
    /// shorter).
    pub total_analysis_ms: u32,
    /// A frame at least this far above the noise floor is voiced. 6 dB (12 dB lost most
    /// speech at 10 dB SNR; the floor sits 1–2 dB under the mean noise energy).
    pub voice_on_db: f32,
    /// While voiced, a frame stays voiced down to this far above the floor. 3 dB.
    pub voice_off_db: f32,
    /// No frame quieter than this is voiced, whatever the floor (about Asterisk's silence
    /// threshold of 256). -45 dBFS.
    pub min_voice_dbfs: f32,
    /// How fast the noise floor may rise (it drops at once). 4 dB/s.
    pub floor_rise_db_per_s: f32,
    /// Share of a frame's energy its strongest frequency must hold for a tonal frame. 0.6.
    pub tone_purity: f32,
    /// Tonal frames within this of the tone's frequency continue it. 30 Hz.
    pub tone_tolerance_hz: f32,
    /// A steady tone at least this long is a beep. 300 ms.
    pub beep_min_ms: u32,
    /// A beep still sounding after this long is reported anyway. 2000 ms.
    pub beep_max_ms: u32,
}

impl Default for AmdConfig {
    fn default() -> Self {
        AmdConfig {
            initial_silence_ms: 2500,
            greeting_ms: 1500,
            greeting_span_ms: 3000,
            after_greeting_silence_ms: 800,
            machine_end_silence_ms: 1300,
            min_word_ms: 100,
            between_words_ms: 50,
            max_words: 6,
            max_word_ms: 5000,
            total_analysis_ms: 5000,
            voice_on_db: 6.0,
            voice_off_db: 3.0,
            min_voice_dbfs: -45.0,
            floor_rise_db_per_s: 4.0,
            tone_purity: 0.6,
            tone_tolerance_hz: 30.0,
            beep_min_ms: 300,
            beep_max_ms: 2000,
        }
    }
}

/// What the detector decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmdDecision {
    /// Human, machine, silence or unknown.
    pub result: AmdResult,
    /// A beep was heard.
    pub beep: bool,
    /// Speech heard (voiced time in words, beep excluded), milliseconds.
    pub speech_ms: u32,
    /// Audio analysed from the start to the decision, milliseconds.
    pub elapsed_ms: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Listening,
    /// A machine: waiting for its greeting to end.
    Machine,
    Done,
}

/// One detection, from its start to its single decision.
#[derive(Debug, Clone)]
pub struct Detector {
    cfg: AmdConfig,
    start_ms: u64,
    timeout_ms: u32,
    phase: Phase,
    /// Samples not yet making a whole frame.
    pending: Vec<i16>,
    audio_ms: u32,
    floor_db: Option<f32>,
    voiced: bool,
    voiced_run_ms: u32,
    silence_run_ms: u32,
    in_word: bool,
    word_ms: u32,
    words: u32,
    speech_ms: u32,
    /// When the first word started (audio time).
    first_word_ms: Option<u32>,
    /// Frequency and length of the current run of tonal frames.
    tone_hz: f32,
    tone_run_ms: u32,
    /// Speech counted during the current tonal run (given back if it turns out a beep).
    tone_speech_ms: u32,
    in_beep: bool,
    beep: bool,
    goertzel: Vec<f32>,
}

impl Detector {
    /// Starts a detection at `now_ms` that gives up after `timeout_ms`.
    pub fn new(cfg: AmdConfig, now_ms: u64, timeout_ms: u32) -> Self {
        let goertzel = (0..=32).map(|i| coeff(400.0 + 50.0 * i as f32)).collect();
        Detector {
            cfg,
            start_ms: now_ms,
            timeout_ms,
            phase: Phase::Listening,
            pending: Vec::with_capacity(FRAME),
            audio_ms: 0,
            floor_db: None,
            voiced: false,
            voiced_run_ms: 0,
            silence_run_ms: 0,
            in_word: false,
            word_ms: 0,
            words: 0,
            speech_ms: 0,
            first_word_ms: None,
            tone_hz: 0.0,
            tone_run_ms: 0,
            tone_speech_ms: 0,
            in_beep: false,
            beep: false,
            goertzel,
        }
    }

    /// Whether the decision was already returned.
    pub fn is_done(&self) -> bool {
        self.phase == Phase::Done
    }

    /// Feeds the audio received by `now_ms` (any length, empty included). Returns the
    /// decision once; `None` before and after.
    pub fn push(&mut self, now_ms: u64, samples: &[i16]) -> Option<AmdDecision> {
        if self.phase == Phase::Done {
            return None;
        }
        let mut rest = samples;
        while !rest.is_empty() {
            let take = (FRAME - self.pending.len()).min(rest.len());
            self.pending.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if self.pending.len() == FRAME {
                let frame = std::mem::take(&mut self.pending);
                let decided = self.frame(&frame);
                self.pending = frame;
                self.pending.clear();
                if let Some(result) = decided {
                    return Some(self.finish(result));
                }
            }
        }
        let wall = now_ms.saturating_sub(self.start_ms).min(u32::MAX as u64) as u32;
        if wall.max(self.audio_ms) >= self.timeout_ms {
            let result = match self.phase {
                Phase::Machine => AmdResult::Machine,
                _ => AmdResult::Unknown,
            };
            self.audio_ms = self.audio_ms.max(wall);
            return Some(self.finish(result));
        }
        None
    }

    fn finish(&mut self, result: AmdResult) -> AmdDecision {
        self.phase = Phase::Done;
        AmdDecision {
            result,
            beep: self.beep,
            speech_ms: self.speech_ms,
            elapsed_ms: self.audio_ms,
        }
    }

    /// Analyses one 20 ms frame; the result when decided.
    fn frame(&mut self, x: &[i16]) -> Option<AmdResult> {
        let c = &self.cfg;
        self.audio_ms = self.audio_ms.saturating_add(FRAME_MS);
        let energy: f32 = x.iter().map(|&s| (s as f32) * (s as f32)).sum();
        let e_db = (10.0 * (energy / FRAME as f32 / (32768.0 * 32768.0)).log10()).max(SILENT_DB);
        let floor = *self.floor_db.get_or_insert(e_db);
        let above = if self.voiced {
            c.voice_off_db
        } else {
            c.voice_on_db
        };
        self.voiced = e_db >= c.min_voice_dbfs && e_db >= floor + above;
        let rise = c.floor_rise_db_per_s * FRAME_MS as f32 / 1000.0;
        self.floor_db = Some(if e_db < floor {
            e_db
        } else {
            (floor + rise).min(e_db)
        });

        // Beep: a steady pure tone.
        let tone = if self.voiced {
            self.dominant(x, energy)
        } else {
            None
        };
        match tone {
            Some(hz)
                if self.tone_run_ms > 0 && (hz - self.tone_hz).abs() <= c.tone_tolerance_hz =>
            {
                let n = (self.tone_run_ms / FRAME_MS) as f32;
                self.tone_hz = (self.tone_hz * n + hz) / (n + 1.0);
                self.tone_run_ms += FRAME_MS;
            }
            Some(hz) => {
                if self.in_beep {
                    return Some(AmdResult::Machine);
                }
                self.tone_hz = hz;
                self.tone_run_ms = FRAME_MS;
                self.tone_speech_ms = 0;
            }
            None => {
                if self.in_beep {
                    return Some(AmdResult::Machine);
                }
                self.tone_run_ms = 0;
                self.tone_speech_ms = 0;
            }
        }
        if self.in_beep {
            return (self.tone_run_ms >= c.beep_max_ms).then_some(AmdResult::Machine);
        }

        // Words and speech time.
        let before = self.speech_ms;
        if self.voiced {
            self.voiced_run_ms += FRAME_MS;
            self.silence_run_ms = 0;
            if self.in_word {
                self.speech_ms += FRAME_MS;
                self.word_ms += FRAME_MS;
            } else if self.voiced_run_ms >= c.min_word_ms {
                self.in_word = true;
                self.words += 1;
                self.first_word_ms
                    .get_or_insert(self.audio_ms - self.voiced_run_ms);
                self.speech_ms += self.voiced_run_ms;
                self.word_ms = self.voiced_run_ms;
            }
        } else {
            self.silence_run_ms += FRAME_MS;
            if !self.in_word || self.silence_run_ms >= c.between_words_ms {
                self.in_word = false;
                self.voiced_run_ms = 0;
            }
        }
        if self.tone_run_ms > 0 {
            self.tone_speech_ms += self.speech_ms - before;
        }
        if self.tone_run_ms >= c.beep_min_ms {
            self.in_beep = true;
            self.beep = true;
            self.speech_ms -= self.tone_speech_ms.min(self.speech_ms);
            self.phase = Phase::Machine;
            return None;
        }

        match self.phase {
            Phase::Listening => {
                if self.words == 0
                    && self.voiced_run_ms == 0
                    && self.audio_ms >= c.initial_silence_ms
                {
                    Some(AmdResult::Silence)
                } else if self.speech_ms >= c.greeting_ms
                    || self
                        .first_word_ms
                        .is_some_and(|t| self.audio_ms - t >= c.greeting_span_ms)
                    || self.words > c.max_words
                    || self.word_ms >= c.max_word_ms
                {
                    self.phase = Phase::Machine;
                    None
                } else if self.words > 0
                    && !self.in_word
                    && self.silence_run_ms >= c.after_greeting_silence_ms
                {
                    Some(AmdResult::Human)
                } else if self.audio_ms >= c.total_analysis_ms {
                    Some(AmdResult::Unknown)
                } else {
                    None
                }
            }
            Phase::Machine => (!self.in_word
                && self.tone_run_ms == 0
                && self.silence_run_ms >= c.machine_end_silence_ms)
                .then_some(AmdResult::Machine),
            Phase::Done => None,
        }
    }

    /// The frame's dominant frequency in 400–2000 Hz if it holds at least `tone_purity` of
    /// the frame's energy.
    fn dominant(&self, x: &[i16], energy: f32) -> Option<f32> {
        if energy <= 0.0 {
            return None;
        }
        let (mut best_hz, mut best) = (0.0f32, 0.0f32);
        for (i, &k) in self.goertzel.iter().enumerate() {
            let p = power(x, k);
            if p > best {
                (best_hz, best) = (400.0 + 50.0 * i as f32, p);
            }
        }
        for d in [-25.0, -12.5, 12.5, 25.0] {
            let hz = best_hz + d;
            let p = power(x, coeff(hz));
            if p > best {
                (best_hz, best) = (hz, p);
            }
        }
        // A pure tone of amplitude A over N samples: power (A·N/2)², energy N·A²/2.
        let purity = 2.0 * best / (FRAME as f32 * energy);
        (purity >= self.cfg.tone_purity).then_some(best_hz)
    }
}

/// Goertzel coefficient for `hz`.
fn coeff(hz: f32) -> f32 {
    2.0 * (2.0 * std::f32::consts::PI * hz / RATE).cos()
}

/// Goertzel power of `x` at the frequency of `k`.
fn power(x: &[i16], k: f32) -> f32 {
    let (mut s1, mut s2) = (0.0f32, 0.0f32);
    for &v in x {
        let s = v as f32 + k * s1 - s2;
        s2 = s1;
        s1 = s;
    }
    s1 * s1 + s2 * s2 - k * s1 * s2
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: usize = 8;

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * MS]
    }

    /// Deterministic white noise of RMS `rms`.
    fn noise(ms: usize, rms: f32, seed: u64) -> Vec<i16> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let a = rms * 3f32.sqrt();
        (0..ms * MS)
            .map(|_| ((rng.f32() * 2.0 - 1.0) * a) as i16)
            .collect()
    }

    fn tone(hz: f32, ms: usize, amp: f32) -> Vec<i16> {
        (0..ms * MS)
            .map(|i| ((i as f32 * 2.0 * std::f32::consts::PI * hz / RATE).sin() * amp) as i16)
            .collect()
    }

    /// Speech-like sound: a 130 Hz buzz with harmonics, its pitch wobbling, in syllables of
    /// `syllable_ms` loud / 40 ms quiet, a 250 ms pause every fifth syllable.
    fn speech(ms: usize, syllable_ms: usize, seed: u64) -> Vec<i16> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut out = Vec::with_capacity(ms * MS);
        let mut phase = 0.0f32;
        let mut syllable = 0;
        while out.len() < ms * MS {
            let f0 = 110.0 + rng.f32() * 60.0;
            let loud = (syllable_ms * MS) as f32;
            for i in 0..syllable_ms * MS {
                let env = (std::f32::consts::PI * i as f32 / loud).sin();
                phase += 2.0 * std::f32::consts::PI * (f0 + 10.0 * (i as f32 / 400.0).sin()) / RATE;
                let v: f32 = (1..12).map(|h| (phase * h as f32).sin() / h as f32).sum();
                out.push((v * env * 6000.0) as i16);
            }
            syllable += 1;
            let gap = if syllable % 5 == 0 { 250 } else { 40 };
            out.extend(noise(gap, 20.0, seed + syllable as u64));
        }
        out.truncate(ms * MS);
        out
    }

    /// Runs `audio` through a detector in 20 ms frames, then silence until it decides.
    fn detect(audio: &[i16]) -> AmdDecision {
        detect_with(audio, FRAME, 30_000)
    }

    fn detect_with(audio: &[i16], chunk: usize, timeout_ms: u32) -> AmdDecision {
        let mut d = Detector::new(AmdConfig::default(), 1000, timeout_ms);
        let mut now = 1000u64;
        let tail = silence(30_000);
        for c in audio.chunks(chunk.max(1)).chain(tail.chunks(FRAME)) {
            now += (c.len() / MS) as u64;
            if let Some(dec) = d.push(now, c) {
                assert!(d.push(now + 20, c).is_none(), "decided twice");
                return dec;
            }
        }
        panic!("no decision");
    }

    fn cat(parts: &[Vec<i16>]) -> Vec<i16> {
        parts.concat()
    }

    #[test]
    fn digital_silence_is_silence_at_the_initial_limit() {
        let d = detect(&[]);
        assert_eq!(
            (d.result, d.beep, d.speech_ms),
            (AmdResult::Silence, false, 0)
        );
        assert_eq!(d.elapsed_ms, 2500);
    }

    #[test]
    fn steady_line_noise_is_silence() {
        let d = detect(&noise(5000, 300.0, 1));
        assert_eq!(d.result, AmdResult::Silence, "{d:?}");
        assert_eq!(d.speech_ms, 0);
    }

    #[test]
    fn hum_is_not_a_beep() {
        // A steady 450 Hz hum from the start is line noise (the floor learns it), not a beep.
        let d = detect(&tone(450.0, 6000, 2000.0));
        assert_eq!((d.result, d.beep), (AmdResult::Silence, false), "{d:?}");
    }

    #[test]
    fn short_burst_then_silence_is_a_human_decided_when_it_ends() {
        let audio = cat(&[silence(400), speech(600, 180, 2), silence(3000)]);
        let d = detect(&audio);
        assert_eq!((d.result, d.beep), (AmdResult::Human, false), "{d:?}");
        assert!((300..=700).contains(&d.speech_ms), "{d:?}");
        // 0.4 s + 0.6 s greeting + 0.8 s of silence after it.
        assert!((1700..=2000).contains(&d.elapsed_ms), "{d:?}");
    }

    #[test]
    fn human_in_noise_is_still_human() {
        let talk = cat(&[silence(500), speech(700, 180, 3), silence(3000)]);
        let n = noise(talk.len() / MS, 150.0, 4);
        let mixed: Vec<i16> = talk
            .iter()
            .zip(&n)
            .map(|(a, b)| a.saturating_add(*b))
            .collect();
        let d = detect(&mixed);
        assert_eq!(d.result, AmdResult::Human, "{d:?}");
    }

    #[test]
    fn long_greeting_is_a_machine_reported_after_it_ends() {
        let audio = cat(&[silence(300), speech(6000, 200, 5), silence(4000)]);
        let d = detect(&audio);
        assert_eq!((d.result, d.beep), (AmdResult::Machine, false), "{d:?}");
        assert!(d.speech_ms > 3000, "{d:?}");
        // Not before the greeting ended (6.3 s), soon after (end silence 1.3 s).
        assert!((6300..=7800).contains(&d.elapsed_ms), "{d:?}");
    }

    #[test]
    fn machine_with_beep_is_reported_when_the_beep_stops() {
        let audio = cat(&[
            silence(300),
            speech(4000, 200, 6),
            silence(400),
            tone(1000.0, 500, 8000.0),
            silence(3000),
        ]);
        let d = detect(&audio);
        assert_eq!((d.result, d.beep), (AmdResult::Machine, true), "{d:?}");
        // The beep ends at 5.2 s.
        assert!((5200..=5300).contains(&d.elapsed_ms), "{d:?}");
        assert!(d.speech_ms < 4100, "beep counted as speech: {d:?}");
    }

    #[test]
    fn beep_alone_is_a_machine() {
        let audio = cat(&[silence(500), tone(1400.0, 600, 6000.0), silence(3000)]);
        let d = detect(&audio);
        assert_eq!((d.result, d.beep), (AmdResult::Machine, true), "{d:?}");
        assert!((1100..=1200).contains(&d.elapsed_ms), "{d:?}");
    }

    #[test]
    fn short_tone_is_not_a_beep() {
        // 200 ms of tone is below beep_min_ms: a short "word", then silence → human.
        let audio = cat(&[silence(500), tone(1000.0, 200, 6000.0), silence(3000)]);
        let d = detect(&audio);
        assert_eq!((d.result, d.beep), (AmdResult::Human, false), "{d:?}");
    }

    #[test]
    fn timeout_while_the_machine_talks_reports_machine_then_unknown_when_undecided() {
        let d = detect_with(&speech(20_000, 200, 7), FRAME, 4000);
        assert_eq!(
            (d.result, d.elapsed_ms),
            (AmdResult::Machine, 4000),
            "{d:?}"
        );
        let d = detect_with(&[], FRAME, 1000);
        assert_eq!(
            (d.result, d.elapsed_ms),
            (AmdResult::Unknown, 1000),
            "{d:?}"
        );
    }

    #[test]
    fn odd_and_empty_chunks_give_the_same_decision() {
        let audio = cat(&[silence(300), speech(600, 180, 8), silence(3000)]);
        let framed = detect(&audio);
        for chunk in [1, 7, 159, 161, 1000] {
            assert_eq!(detect_with(&audio, chunk, 30_000), framed, "chunk {chunk}");
        }
        // Empty pushes: only the wall clock moves, and the deadline still holds.
        let mut d = Detector::new(AmdConfig::default(), 0, 500);
        assert!(d.push(100, &[]).is_none());
        let dec = d.push(600, &[]).expect("timed out");
        assert_eq!(dec.result, AmdResult::Unknown);
        assert!(d.is_done() && d.push(700, &[1, 2, 3]).is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_input_decides_at_most_once_and_by_the_timeout(
            chunks in proptest::collection::vec(
                proptest::collection::vec(proptest::num::i16::ANY, 0..400), 0..60),
            timeout_ms in 0u32..3000,
        ) {
            let mut d = Detector::new(AmdConfig::default(), 0, timeout_ms);
            let (mut now, mut decisions) = (0u64, 0);
            for c in &chunks {
                now += 20;
                if let Some(dec) = d.push(now, c) {
                    decisions += 1;
                    proptest::prop_assert!(dec.elapsed_ms <= timeout_ms.max(now as u32) + 400);
                }
            }
            let late = d.push(now + timeout_ms as u64 + 1, &[]);
            proptest::prop_assert!(decisions + usize::from(late.is_some()) == 1);
        }
    }

    #[test]
    fn extreme_samples_do_not_panic() {
        let mut d = Detector::new(AmdConfig::default(), 0, 60_000);
        let loud: Vec<i16> = (0..40_000)
            .map(|i| if i % 2 == 0 { i16::MAX } else { i16::MIN })
            .collect();
        let mut now = 0;
        for c in loud.chunks(333) {
            now += 40;
            let _ = d.push(now, c);
        }
    }
}
