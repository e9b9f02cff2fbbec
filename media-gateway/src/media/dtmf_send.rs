//! Sending DTMF: RFC 4733 telephone-events when the peer negotiated them, else in-band dual
//! tones mixed into the outgoing audio. Sans-IO: driven by the call's 20 ms tick on its media worker.

use super::jitter::FRAME;
use super::rtp::{digit_to_event, TelephoneEvent};
use std::collections::VecDeque;

/// Tone length of one digit (100 ms, 5 packets).
const TONE_SAMPLES: u16 = 800;
/// Final (end-bit) packets sent per digit, as RFC 4733 §2.5.1.4 recommends (three).
const END_PACKETS: u8 = 3;
/// Silence between digits, in ticks (60 ms).
const GAP_TICKS: u8 = 3;

/// What the call sends on this tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DtmfOut {
    /// Normal audio.
    Audio,
    /// A telephone-event packet instead of audio: payload, marker bit, RTP timestamp.
    Event {
        /// 4-byte RFC 4733 payload.
        payload: [u8; 4],
        /// Marker bit (first packet of the event).
        marker: bool,
        /// The event's RTP timestamp (its start).
        timestamp: u32,
    },
    /// Audio with this digit's in-band tone mixed in, starting at sample offset `at`.
    Tone {
        /// Digit.
        digit: char,
        /// Samples of this digit's tone already played.
        at: u16,
    },
}

#[derive(Debug)]
struct Active {
    digit: char,
    event: u8,
    start_ts: u32,
    /// Samples of tone sent so far.
    elapsed: u16,
    ends_sent: u8,
}

/// Queue of digits being sent on one call.
#[derive(Debug, Default)]
pub struct DtmfSender {
    queue: VecDeque<char>,
    active: Option<Active>,
    gap: u8,
    batch: String,
    finished: Vec<String>,
}

impl DtmfSender {
    /// Queues `digits` (invalid characters are refused with the first one found).
    pub fn send(&mut self, digits: &str) -> Result<(), char> {
        if let Some(bad) = digits.chars().find(|c| digit_to_event(*c).is_none()) {
            return Err(bad);
        }
        self.queue
            .extend(digits.chars().map(|c| c.to_ascii_uppercase()));
        Ok(())
    }

    /// Whether nothing is queued or playing.
    pub fn idle(&self) -> bool {
        self.queue.is_empty() && self.active.is_none() && self.gap == 0
    }

    /// Digit strings fully sent since the last call (one per idle-to-idle batch).
    pub fn take_finished(&mut self) -> Vec<String> {
        std::mem::take(&mut self.finished)
    }

    /// Advances one 20 ms frame whose RTP timestamp is `ts`; `rfc4733` says whether the peer
    /// accepts telephone-events.
    pub fn tick(&mut self, ts: u32, rfc4733: bool) -> DtmfOut {
        if self.gap > 0 {
            self.gap -= 1;
            if self.gap == 0 && self.queue.is_empty() && self.active.is_none() {
                self.finished.push(std::mem::take(&mut self.batch));
            }
            return DtmfOut::Audio;
        }
        if self.active.is_none() {
            let Some(digit) = self.queue.pop_front() else {
                return DtmfOut::Audio;
            };
            self.batch.push(digit);
            self.active = Some(Active {
                digit,
                event: digit_to_event(digit).unwrap_or(0),
                start_ts: ts,
                elapsed: 0,
                ends_sent: 0,
            });
        }
        let a = self.active.as_mut().expect("set above");
        let out = if a.elapsed < TONE_SAMPLES {
            let first = a.elapsed == 0;
            let at = a.elapsed;
            a.elapsed += FRAME as u16;
            if rfc4733 {
                DtmfOut::Event {
                    payload: TelephoneEvent {
                        event: a.event,
                        end: false,
                        volume: 10,
                        duration: a.elapsed,
                    }
                    .to_bytes(),
                    marker: first,
                    timestamp: a.start_ts,
                }
            } else {
                DtmfOut::Tone { digit: a.digit, at }
            }
        } else if rfc4733 && a.ends_sent < END_PACKETS {
            a.ends_sent += 1;
            DtmfOut::Event {
                payload: TelephoneEvent {
                    event: a.event,
                    end: true,
                    volume: 10,
                    duration: a.elapsed,
                }
                .to_bytes(),
                marker: false,
                timestamp: a.start_ts,
            }
        } else {
            DtmfOut::Audio
        };
        let done = a.elapsed >= TONE_SAMPLES && (!rfc4733 || a.ends_sent >= END_PACKETS);
        if done {
            self.active = None;
            self.gap = GAP_TICKS;
        }
        out
    }
}

/// The (low, high) frequencies of a DTMF digit.
pub fn frequencies(digit: char) -> Option<(f32, f32)> {
    const ROWS: [f32; 4] = [697.0, 770.0, 852.0, 941.0];
    const COLS: [f32; 4] = [1209.0, 1336.0, 1477.0, 1633.0];
    let (r, c) = match digit.to_ascii_uppercase() {
        '1' => (0, 0),
        '2' => (0, 1),
        '3' => (0, 2),
        'A' => (0, 3),
        '4' => (1, 0),
        '5' => (1, 1),
        '6' => (1, 2),
        'B' => (1, 3),
        '7' => (2, 0),
        '8' => (2, 1),
        '9' => (2, 2),
        'C' => (2, 3),
        '*' => (3, 0),
        '0' => (3, 1),
        '#' => (3, 2),
        'D' => (3, 3),
        _ => return None,
    };
    Some((ROWS[r], COLS[c]))
}

/// Mixes one frame of `digit`'s dual tone (from sample `at`) into `frame` (8 kHz).
pub fn mix_tone(frame: &mut [i16], digit: char, at: u16) {
    let Some((lo, hi)) = frequencies(digit) else {
        return;
    };
    for (i, s) in frame.iter_mut().enumerate() {
        let t = (at as usize + i) as f32 / 8000.0;
        let v = 6000.0 * (2.0 * std::f32::consts::PI * lo * t).sin()
            + 6000.0 * (2.0 * std::f32::consts::PI * hi * t).sin();
        *s = s.saturating_add(v as i16);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::rtp::DtmfReceiver;

    #[test]
    fn rfc4733_packets_are_understood_by_our_receiver() {
        let mut tx = DtmfSender::default();
        tx.send("1#").unwrap();
        let mut rx = DtmfReceiver::default();
        let mut got = String::new();
        let mut ts = 1000u32;
        let mut markers = 0;
        for _ in 0..40 {
            if let DtmfOut::Event {
                payload,
                marker,
                timestamp,
            } = tx.tick(ts, true)
            {
                markers += marker as u32;
                if let Some(d) = rx.on_packet(timestamp, &payload) {
                    got.push(d);
                }
            }
            ts = ts.wrapping_add(FRAME as u32);
        }
        assert_eq!(got, "1#");
        assert_eq!(markers, 2, "one marker per event");
        assert!(tx.idle());
        assert_eq!(tx.take_finished(), vec!["1#".to_string()]);
    }

    #[test]
    fn each_event_lasts_100_ms_and_ends_three_times() {
        let mut tx = DtmfSender::default();
        tx.send("5").unwrap();
        let evs: Vec<TelephoneEvent> = (0..12)
            .filter_map(|i| match tx.tick(i * 160, true) {
                DtmfOut::Event { payload, .. } => TelephoneEvent::parse(&payload),
                _ => None,
            })
            .collect();
        assert_eq!(evs.len(), 8);
        assert!(evs[..5].iter().all(|e| !e.end && e.event == 5));
        assert!(evs[5..].iter().all(|e| e.end && e.duration == 800));
    }

    #[test]
    fn inband_fallback_produces_the_digit_frequencies() {
        let mut tx = DtmfSender::default();
        tx.send("9").unwrap();
        let mut audio = Vec::new();
        for i in 0..5 {
            let mut frame = vec![0i16; FRAME];
            if let DtmfOut::Tone { digit, at } = tx.tick(i * 160, false) {
                mix_tone(&mut frame, digit, at);
            }
            audio.extend(frame);
        }
        let power = |f: f32| {
            let k = 2.0 * (2.0 * std::f32::consts::PI * f / 8000.0).cos();
            let (mut s1, mut s2) = (0f32, 0f32);
            for x in &audio {
                let s = *x as f32 + k * s1 - s2;
                s2 = s1;
                s1 = s;
            }
            s1 * s1 + s2 * s2 - k * s1 * s2
        };
        // 9 = 852 Hz + 1477 Hz.
        assert!(power(852.0) > 100.0 * power(697.0));
        assert!(power(1477.0) > 100.0 * power(1209.0));
    }

    #[test]
    fn invalid_digits_are_refused() {
        let mut tx = DtmfSender::default();
        assert_eq!(tx.send("12x"), Err('x'));
        assert!(tx.idle());
    }
}
