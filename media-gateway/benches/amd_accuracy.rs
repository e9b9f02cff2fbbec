//! Benchmark program (not a test): the accuracy and decision time of the answering-machine
//! detector (`media::amd`) on a labelled corpus synthesised here with espeak-ng, at the
//! module level (no network).
//!
//! Run: `cargo bench -p hotline-gateway --bench amd_accuracy` (after `--`: `--errors` to
//! list every misclassified clip, `--seed N` for another draw of levels, pauses and noise).
//!
//! The corpus (deterministic for a seed):
//! - humans: short greetings ("Hello?", "Yes?", "Hello, who is this?", "Hi", "Speaking", …,
//!   and Polish / Russian ones), a third of them followed by a second short utterance after
//!   a 1–2 s pause;
//! - machines: voicemail greetings of about 3–12 s, half of them followed (0.2–0.7 s later)
//!   by a 1 kHz or 1.4 kHz beep of 0.3–0.8 s;
//! - silence: digital silence, line noise (white, low-passed), mains hum with harmonics,
//!   noise with clicks;
//!
//! each speech clip in the voices en (British), en-us, pl and ru at speeds 130/170/210
//! words per minute and pitches 30/50/75, at a random level (-26 to -14 dBFS while
//! speaking), after 0.2–1.2 s of line silence, clean and with background noise at 20 dB
//! and 10 dB SNR. Each clip is fed to a fresh detector in 20 ms frames with a 30 s timeout,
//! followed by silence (or the clip's noise) until it decides.
//!
//! Requires the Debian package `espeak-ng`.

use hotline_gateway::media::amd::{AmdConfig, AmdDecision, Detector};
use hotline_gateway::media::wav::decode_wav_8k_mono;
use hotline_wire::gateway::AmdResult;
use std::collections::BTreeMap;
use std::process::Command;

const MS: usize = 8;

/// A language and its texts.
type Texts = (&'static str, &'static [&'static str]);

const HUMAN: [Texts; 3] = [
    (
        "en",
        &[
            "Hello?",
            "Yes?",
            "Hello, who is this?",
            "Hi",
            "Speaking",
            "Yeah, hello?",
            "Hi, this is John.",
        ],
    ),
    ("pl", &["Halo?", "Słucham?", "Tak?", "Halo, kto mówi?"]),
    ("ru", &["Алло?", "Да?", "Слушаю.", "Алло, кто это?"]),
];

const MACHINE: [Texts; 3] = [
    (
        "en",
        &[
            "Hi, it's Tom. I'm not here right now, leave a message.",
            "The person you are calling is not available. Please leave your message after the tone.",
            "Hi, you've reached John. I can't come to the phone right now. Please leave a message and I'll call you back.",
            "Hello, this is Mary. Sorry I missed your call. Leave your name, your number and a short message, and I will get back to you as soon as I can. Thank you.",
            "You have reached the voicemail of Acme customer service. Our office is open Monday to Friday, nine to five. Please leave a message with your account number and we will call you back on the next business day.",
        ],
    ),
    (
        "pl",
        &[
            "Dzień dobry, tu Anna. Nie mogę teraz odebrać. Zostaw wiadomość po sygnale.",
            "Abonent jest chwilowo niedostępny. Prosimy zostawić wiadomość po usłyszeniu sygnału.",
        ],
    ),
    (
        "ru",
        &[
            "Здравствуйте, вы позвонили Ивану. Я не могу сейчас ответить. Оставьте сообщение после сигнала.",
            "Абонент временно недоступен. Пожалуйста, оставьте сообщение после звукового сигнала.",
        ],
    ),
];

/// Stress set: people who answer with a long greeting (the classic false "machine") …
const LONG_HUMAN: [Texts; 1] = [(
    "en",
    &[
        "Good afternoon, Acme Corporation, Mary speaking, how can I help you?",
        "Hello, this is John Smith from the accounts department.",
    ],
)];

/// … and machines with a very short greeting.
const SHORT_MACHINE: [Texts; 1] = [("en", &["Leave a message.", "Not available."])];

const SPEEDS: [u32; 3] = [130, 170, 210];
const PITCHES: [u32; 3] = [30, 50, 75];
/// None: clean; Some(dB): background noise at that SNR.
const SNRS: [Option<f32>; 3] = [None, Some(20.0), Some(10.0)];
/// Stress condition: the main corpus at 5 dB SNR.
const STRESS_SNRS: [Option<f32>; 1] = [Some(5.0)];
const CLASSES: [AmdResult; 4] = [
    AmdResult::Human,
    AmdResult::Machine,
    AmdResult::Silence,
    AmdResult::Unknown,
];

fn voices(lang: &str) -> &'static [&'static str] {
    match lang {
        "en" => &["en", "en-us"],
        "pl" => &["pl"],
        _ => &["ru"],
    }
}

/// espeak-ng's speech as 8 kHz samples, silence trimmed at both ends.
fn say(voice: &str, speed: u32, pitch: u32, text: &str) -> Vec<i16> {
    let out = Command::new("espeak-ng")
        .args([
            "-v",
            voice,
            "-s",
            &speed.to_string(),
            "-p",
            &pitch.to_string(),
        ])
        .arg("--stdout")
        .arg(text)
        .output()
        .expect("espeak-ng (Debian package espeak-ng) must be installed");
    assert!(out.status.success(), "espeak-ng failed for {voice}: {text}");
    let s = decode_wav_8k_mono(&out.stdout).expect("espeak-ng wrote a WAV");
    let loud = |x: &i16| x.unsigned_abs() > 300;
    let a = s.iter().position(loud).unwrap_or(0);
    let b = s.iter().rposition(loud).map_or(a, |i| i + 1);
    s[a..b].to_vec()
}

fn rms(x: &[i16]) -> f32 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&v| (v as f32).powi(2)).sum::<f32>() / x.len() as f32).sqrt()
}

/// RMS over the 20 ms frames within 30 dB of the loudest (the "while speaking" level).
fn active_rms(x: &[i16]) -> f32 {
    let frames: Vec<f32> = x.chunks(160).map(rms).collect();
    let peak = frames.iter().cloned().fold(0.0, f32::max);
    let act: Vec<f32> = frames.into_iter().filter(|&r| r > peak / 31.6).collect();
    (act.iter().map(|r| r * r).sum::<f32>() / act.len().max(1) as f32).sqrt()
}

fn scale(x: &[i16], gain: f32) -> Vec<f32> {
    x.iter().map(|&v| v as f32 * gain).collect()
}

fn db(dbfs: f32) -> f32 {
    32768.0 * 10f32.powf(dbfs / 20.0)
}

/// Line noise of RMS `level`: white noise through a one-pole low-pass.
fn line_noise(rng: &mut fastrand::Rng, n: usize, level: f32) -> Vec<f32> {
    let mut y = 0.0f32;
    let raw: Vec<f32> = (0..n)
        .map(|_| {
            y = 0.6 * y + 0.4 * (rng.f32() * 2.0 - 1.0);
            y
        })
        .collect();
    let r = (raw.iter().map(|v| v * v).sum::<f32>() / n.max(1) as f32).sqrt();
    raw.into_iter().map(|v| v * level / r.max(1e-9)).collect()
}

fn tone(hz: f32, ms: usize, amp: f32) -> Vec<f32> {
    (0..ms * MS)
        .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * hz / 8000.0).sin() * amp)
        .collect()
}

struct Clip {
    label: AmdResult,
    kind: String,
    cond: &'static str,
    /// Samples, with the background (noise or silence) that continues after them.
    audio: Vec<i16>,
    background: f32,
    /// Where the speech (and beep) ends: a machine's event should not come earlier.
    end_ms: u32,
    beep: bool,
    /// Outside the main corpus: reported on its own.
    stress: bool,
}

fn to_i16(x: &[f32]) -> Vec<i16> {
    x.iter()
        .map(|v| v.round().clamp(-32768.0, 32767.0) as i16)
        .collect()
}

/// Lays `parts` (speech at `level` dBFS active RMS, silence) after a lead-in, adds noise.
fn compose(
    rng: &mut fastrand::Rng,
    speech: &[Vec<f32>],
    level_dbfs: f32,
    snr: Option<f32>,
) -> (Vec<f32>, f32) {
    let lead = rng.usize(200..1200) * MS;
    let mut x = vec![0.0f32; lead];
    for s in speech {
        x.extend_from_slice(s);
    }
    let noise_rms = snr.map_or(db(-70.0), |snr| db(level_dbfs - snr));
    (x, noise_rms)
}

fn corpus(seed: u64) -> Vec<Clip> {
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut clips = Vec::new();
    let mut cache: BTreeMap<(String, u32, u32, String), Vec<i16>> = BTreeMap::new();
    let mut synth = |v: &str, s: u32, p: u32, t: &str| {
        cache
            .entry((v.to_string(), s, p, t.to_string()))
            .or_insert_with(|| say(v, s, p, t))
            .clone()
    };
    let sets = [
        (AmdResult::Human, &HUMAN[..], &SNRS[..], false),
        (AmdResult::Machine, &MACHINE[..], &SNRS[..], false),
        (AmdResult::Human, &HUMAN[..], &STRESS_SNRS[..], true),
        (AmdResult::Machine, &MACHINE[..], &STRESS_SNRS[..], true),
        (AmdResult::Human, &LONG_HUMAN[..], &SNRS[..2], true),
        (AmdResult::Machine, &SHORT_MACHINE[..], &SNRS[..2], true),
    ];
    for (label, table, snrs, stress) in sets {
        for (lang, texts) in table.iter() {
            for voice in voices(lang) {
                for (ti, text) in texts.iter().enumerate() {
                    for speed in SPEEDS {
                        for pitch in PITCHES {
                            for &snr in snrs {
                                let level = -26.0 + rng.f32() * 12.0;
                                let raw = synth(voice, speed, pitch, text);
                                let gain = db(level) / active_rms(&raw).max(1.0);
                                let mut parts = vec![scale(&raw, gain)];
                                let mut beep = false;
                                let mut kind = format!("{voice} #{ti}");
                                if stress && snr != Some(5.0) {
                                    kind = format!(
                                        "{voice} {}",
                                        if label == AmdResult::Human {
                                            "long-human"
                                        } else {
                                            "short-machine"
                                        }
                                    );
                                    kind.push_str(&format!(" #{ti}"));
                                }
                                if label == AmdResult::Human && rng.usize(0..3) == 0 {
                                    let (_, again) = HUMAN[rng.usize(0..HUMAN.len())];
                                    let again = again[rng.usize(0..again.len())];
                                    let second = synth(voice, speed, pitch, again);
                                    let g2 = db(level) / active_rms(&second).max(1.0);
                                    parts.push(vec![0.0; rng.usize(1000..2000) * MS]);
                                    parts.push(scale(&second, g2));
                                    kind.push_str(" + second");
                                }
                                if label == AmdResult::Machine && rng.bool() {
                                    let hz = if rng.bool() { 1000.0 } else { 1400.0 };
                                    parts.push(vec![0.0; rng.usize(200..700) * MS]);
                                    let amp = db(-20.0 + rng.f32() * 8.0) * 2f32.sqrt();
                                    parts.push(tone(hz, rng.usize(300..800), amp));
                                    beep = true;
                                    kind.push_str(" + beep");
                                }
                                let (mut x, noise) = compose(&mut rng, &parts, level, snr);
                                let end_ms = (x.len() / MS) as u32;
                                x.extend(vec![0.0; 500 * MS]);
                                let n = line_noise(&mut rng, x.len(), noise);
                                for (a, b) in x.iter_mut().zip(n) {
                                    *a += b;
                                }
                                clips.push(Clip {
                                    label,
                                    kind,
                                    cond: match snr {
                                        None => "clean",
                                        Some(s) if s > 15.0 => "snr 20 dB",
                                        Some(s) if s > 7.0 => "snr 10 dB",
                                        _ => "snr 5 dB",
                                    },
                                    stress,
                                    audio: to_i16(&x),
                                    background: noise,
                                    end_ms,
                                    beep,
                                });
                            }
                        }
                    }
                }
            }
        }
    }
    // Nobody speaks: 60 clips of 6 s.
    for i in 0..60 {
        let n = 6000 * MS;
        let (kind, x): (&str, Vec<f32>) = match i % 4 {
            0 => ("digital silence", vec![0.0; n]),
            1 => {
                let level = db(-60.0 + rng.f32() * 20.0);
                ("line noise", line_noise(&mut rng, n, level))
            }
            2 => {
                let base = if rng.bool() { 50.0 } else { 60.0 };
                let amp = db(-50.0 + rng.f32() * 15.0);
                let mut x = vec![0.0f32; n];
                for h in 1..=5 {
                    for (j, t) in tone(base * h as f32, 6000, amp / h as f32)
                        .into_iter()
                        .enumerate()
                    {
                        x[j] += t;
                    }
                }
                ("hum", x)
            }
            _ => {
                let mut x = line_noise(&mut rng, n, db(-55.0));
                for _ in 0..rng.usize(2..6) {
                    let at = rng.usize(0..n - 40);
                    for (k, v) in x[at..at + 40].iter_mut().enumerate() {
                        *v += db(-12.0)
                            * (1.0 - k as f32 / 40.0)
                            * if k % 2 == 0 { 1.0 } else { -1.0 };
                    }
                }
                ("noise + clicks", x)
            }
        };
        let background = rms(&to_i16(&x[x.len() - 8000..]));
        clips.push(Clip {
            label: AmdResult::Silence,
            kind: kind.into(),
            cond: "clean",
            audio: to_i16(&x),
            background,
            end_ms: 0,
            beep: false,
            stress: false,
        });
    }
    clips
}

fn run(cfg: &AmdConfig, clip: &Clip, rng: &mut fastrand::Rng) -> AmdDecision {
    let mut d = Detector::new(cfg.clone(), 0, 30_000);
    let mut now = 0u64;
    let mut frames = clip.audio.chunks(160);
    loop {
        let tail;
        let frame = match frames.next() {
            Some(f) => f,
            None => {
                tail = to_i16(&line_noise(rng, 160, clip.background));
                &tail
            }
        };
        now += 20;
        if let Some(dec) = d.push(now, frame) {
            return dec;
        }
        assert!(now < 40_000, "detector never decided");
    }
}

/// Prints the confusion matrix, accuracy and mean decision time per class, and overall.
fn matrix(pairs: &[(&Clip, &AmdDecision)]) {
    println!("expected \\ decided      human  machine  silence  unknown   accuracy  mean decision");
    let mut right = 0usize;
    for expected in &CLASSES[..3] {
        let of: Vec<_> = pairs.iter().filter(|(c, _)| c.label == *expected).collect();
        if of.is_empty() {
            continue;
        }
        let counts: Vec<usize> = CLASSES
            .iter()
            .map(|r| of.iter().filter(|(_, d)| d.result == *r).count())
            .collect();
        let ok = of.iter().filter(|(_, d)| d.result == *expected).count();
        right += ok;
        let mean = of.iter().map(|(_, d)| d.elapsed_ms as f64).sum::<f64>() / of.len() as f64;
        println!(
            "{:<8} ({:>4})      {:>7}  {:>7}  {:>7}  {:>7}   {:>7.1} %  {:>8.0} ms",
            name(*expected),
            of.len(),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            100.0 * ok as f64 / of.len() as f64,
            mean
        );
    }
    println!(
        "overall: {right}/{} = {:.1} %\n",
        pairs.len(),
        100.0 * right as f64 / pairs.len().max(1) as f64
    );
}

fn name(r: AmdResult) -> &'static str {
    match r {
        AmdResult::Human => "human",
        AmdResult::Machine => "machine",
        AmdResult::Silence => "silence",
        AmdResult::Unknown => "unknown",
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let errors = args.iter().any(|a| a == "--errors");
    let seed = args
        .iter()
        .position(|a| a == "--seed")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1);
    let t0 = std::time::Instant::now();
    let clips = corpus(seed);
    let synth_s = t0.elapsed().as_secs_f64();
    let mut cfg = AmdConfig::default();
    // `--set name=value` overrides a setting (for tuning).
    for kv in args.windows(2).filter(|w| w[0] == "--set").map(|w| &w[1]) {
        let (k, v) = kv.split_once('=').expect("--set name=value");
        let f: f32 = v.parse().expect("a number");
        match k {
            "voice_on_db" => cfg.voice_on_db = f,
            "voice_off_db" => cfg.voice_off_db = f,
            "greeting_ms" => cfg.greeting_ms = f as u32,
            "greeting_span_ms" => cfg.greeting_span_ms = f as u32,
            "after_greeting_silence_ms" => cfg.after_greeting_silence_ms = f as u32,
            "machine_end_silence_ms" => cfg.machine_end_silence_ms = f as u32,
            "max_words" => cfg.max_words = f as u32,
            "min_word_ms" => cfg.min_word_ms = f as u32,
            "floor_rise_db_per_s" => cfg.floor_rise_db_per_s = f,
            "tone_purity" => cfg.tone_purity = f,
            "initial_silence_ms" => cfg.initial_silence_ms = f as u32,
            _ => panic!("unknown setting {k}"),
        }
    }
    println!("{cfg:?}");
    let mut rng = fastrand::Rng::with_seed(seed ^ 0x5eed);
    let t1 = std::time::Instant::now();
    let decisions: Vec<AmdDecision> = clips.iter().map(|c| run(&cfg, c, &mut rng)).collect();
    let run_s = t1.elapsed().as_secs_f64();
    let audio_s: f64 = decisions.iter().map(|d| d.elapsed_ms as f64 / 1000.0).sum();

    let all: Vec<(&Clip, &AmdDecision)> = clips.iter().zip(&decisions).collect();
    let (stress, main): (Vec<_>, Vec<_>) = all.iter().copied().partition(|(c, _)| c.stress);
    println!(
        "AMD accuracy, seed {seed}: {} clips in the main corpus, {} in the stress set ({synth_s:.1} s to synthesise; {audio_s:.0} s of audio analysed in {run_s:.2} s)\n",
        main.len(),
        stress.len()
    );
    println!("main corpus:");
    matrix(&main);
    println!("by condition (human and machine clips):");
    for cond in ["clean", "snr 20 dB", "snr 10 dB"] {
        for expected in [AmdResult::Human, AmdResult::Machine] {
            let of: Vec<_> = main
                .iter()
                .filter(|(c, _)| c.cond == cond && c.label == expected)
                .collect();
            let ok = of.iter().filter(|(c, d)| d.result == c.label).count();
            print!(
                "  {cond:<10} {:<8} {:>5.1} % ({ok}/{})",
                name(expected),
                100.0 * ok as f64 / of.len().max(1) as f64,
                of.len()
            );
        }
        println!();
    }
    println!("by voice (human and machine clips):");
    for voice in ["en", "en-us", "pl", "ru"] {
        let of: Vec<_> = main
            .iter()
            .filter(|(c, _)| c.kind.split(' ').next() == Some(voice))
            .collect();
        let ok = of.iter().filter(|(c, d)| d.result == c.label).count();
        println!(
            "  {voice:<6} {:>5.1} % ({ok}/{})",
            100.0 * ok as f64 / of.len().max(1) as f64,
            of.len()
        );
    }

    let machines: Vec<_> = main
        .iter()
        .filter(|(c, d)| c.label == AmdResult::Machine && d.result == AmdResult::Machine)
        .collect();
    let early = machines
        .iter()
        .filter(|(c, d)| d.elapsed_ms < c.end_ms)
        .count();
    let after: f64 = machines
        .iter()
        .map(|(c, d)| d.elapsed_ms as f64 - c.end_ms as f64)
        .sum::<f64>()
        / machines.len().max(1) as f64;
    let with_beep: Vec<_> = machines.iter().filter(|(c, _)| c.beep).collect();
    let heard = with_beep.iter().filter(|(_, d)| d.beep).count();
    let false_beeps = main.iter().filter(|(c, d)| !c.beep && d.beep).count();
    println!(
        "\nmachines decided machine: {} — event before the greeting (and beep) ended: {early}; mean event time after that end: {after:.0} ms",
        machines.len()
    );
    println!(
        "beeps: heard in {heard}/{} machine clips with a beep; beep reported on {false_beeps} clips without one",
        with_beep.len()
    );
    let humans: Vec<_> = main
        .iter()
        .filter(|(c, d)| c.label == AmdResult::Human && d.result == AmdResult::Human)
        .collect();
    let h_after = humans
        .iter()
        .map(|(c, d)| d.elapsed_ms as f64 - c.end_ms as f64)
        .filter(|v| *v >= 0.0)
        .sum::<f64>();
    let first_only = humans
        .iter()
        .filter(|(c, d)| d.elapsed_ms < c.end_ms)
        .count();
    println!(
        "humans decided human: {} ({first_only} of them decided in the pause before a second utterance); mean decision after the end of a one-utterance greeting: {:.0} ms",
        humans.len(),
        h_after / (humans.len() - first_only).max(1) as f64
    );

    println!("\nstress set (not in the figures above):");
    matrix(&stress);
    for (what, f) in [
        (
            "humans, 5 dB SNR",
            (|c: &Clip| c.label == AmdResult::Human && c.cond == "snr 5 dB") as fn(&Clip) -> bool,
        ),
        ("machines, 5 dB SNR", |c: &Clip| {
            c.label == AmdResult::Machine && c.cond == "snr 5 dB"
        }),
        ("long human greetings", |c: &Clip| {
            c.kind.contains("long-human")
        }),
        ("short machine greetings, no beep", |c: &Clip| {
            c.kind.contains("short-machine") && !c.beep
        }),
        ("short machine greetings + beep", |c: &Clip| {
            c.kind.contains("short-machine") && c.beep
        }),
    ] {
        let of: Vec<_> = stress.iter().filter(|(c, _)| f(c)).collect();
        let ok = of.iter().filter(|(c, d)| d.result == c.label).count();
        println!(
            "  {what:<34} {:>5.1} % ({ok}/{})",
            100.0 * ok as f64 / of.len().max(1) as f64,
            of.len()
        );
    }

    if errors {
        println!("\nmisclassified (or beep missed / invented):");
        for (c, d) in &all {
            if d.result != c.label || c.beep != d.beep {
                println!(
                    "  {:<8} {:<28} {:<10} → {:<8}{} speech {} ms at {} ms (speech/beep end {} ms)",
                    name(c.label),
                    c.kind,
                    c.cond,
                    name(d.result),
                    if d.beep { " beep" } else { "" },
                    d.speech_ms,
                    d.elapsed_ms,
                    c.end_ms
                );
            }
        }
    }
}
