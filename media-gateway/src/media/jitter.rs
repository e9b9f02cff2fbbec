//! A small reordering jitter buffer producing one 20 ms frame per tick.

use std::collections::BTreeMap;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;

/// Reorders incoming frames by sequence number and plays them out at the tick rate.
///
/// Sans-IO: `push` on every received packet, `pop` once per 20 ms tick. Missing frames play
/// as silence and are counted as lost; frames arriving after their slot was played are late.
#[derive(Debug, Default)]
pub struct JitterBuffer {
    frames: BTreeMap<u64, Vec<i16>>,
    next: Option<u64>,
    last_ext: Option<u64>,
    started: bool,
    /// Frames that never arrived in time.
    pub lost: u64,
    /// Frames that arrived after their playout slot.
    pub late: u64,
}

/// Packets kept before playout starts (40 ms).
const PREBUFFER: usize = 2;
/// Beyond this many queued frames the oldest gap is skipped to bound delay (200 ms).
const MAX_DEPTH: usize = 10;

impl JitterBuffer {
    /// Extends a 16-bit sequence number to 64 bits relative to the last one seen.
    fn extend(&mut self, seq: u16) -> u64 {
        let ext = match self.last_ext {
            None => seq as u64 + (1 << 16),
            Some(last) => {
                let cand = (last & !0xFFFF) | seq as u64;
                let options = [cand.wrapping_sub(1 << 16), cand, cand + (1 << 16)];
                options
                    .into_iter()
                    .min_by_key(|c| c.abs_diff(last))
                    .unwrap_or(cand)
            }
        };
        if self.last_ext.is_none_or(|l| ext > l) {
            self.last_ext = Some(ext);
        }
        ext
    }

    /// Adds a decoded frame.
    pub fn push(&mut self, seq: u16, samples: Vec<i16>) {
        let ext = self.extend(seq);
        if let Some(next) = self.next {
            if ext < next {
                self.late += 1;
                return;
            }
        }
        if self.frames.len() < 4 * MAX_DEPTH {
            self.frames.insert(ext, samples);
        }
    }

    /// Takes the next 20 ms frame (silence when nothing is due).
    pub fn pop(&mut self) -> Vec<i16> {
        if !self.started {
            if self.frames.len() < PREBUFFER {
                return vec![0; FRAME];
            }
            self.started = true;
            self.next = self.frames.keys().next().copied();
        }
        let Some(next) = self.next else {
            return vec![0; FRAME];
        };
        if let Some(mut f) = self.frames.remove(&next) {
            self.next = Some(next + 1);
            f.resize(FRAME, 0);
            return f;
        }
        if self.frames.is_empty() {
            // Underrun: the sender paused (or stopped); wait without counting loss.
            return vec![0; FRAME];
        }
        // A gap with later frames queued: the frame is lost.
        self.lost += 1;
        self.next = Some(next + 1);
        if self.frames.len() > MAX_DEPTH {
            self.next = self.frames.keys().next().copied();
        }
        vec![0; FRAME]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn frame(v: i16) -> Vec<i16> {
        vec![v; FRAME]
    }

    #[test]
    fn reorders_and_counts_loss() {
        let mut jb = JitterBuffer::default();
        jb.push(1, frame(1));
        jb.push(0, frame(0));
        jb.push(3, frame(3));
        assert_eq!(jb.pop()[0], 0);
        assert_eq!(jb.pop()[0], 1);
        assert_eq!(jb.pop()[0], 0); // seq 2 lost
        assert_eq!(jb.lost, 1);
        assert_eq!(jb.pop()[0], 3);
        jb.push(2, frame(2));
        assert_eq!(jb.late, 1);
    }

    #[test]
    fn sequence_wraps() {
        let mut jb = JitterBuffer::default();
        jb.push(65534, frame(1));
        jb.push(65535, frame(2));
        jb.push(0, frame(3));
        assert_eq!(jb.pop()[0], 1);
        assert_eq!(jb.pop()[0], 2);
        assert_eq!(jb.pop()[0], 3);
        assert_eq!(jb.lost, 0);
    }

    proptest! {
        #[test]
        fn any_order_never_panics(ops in proptest::collection::vec((any::<bool>(), any::<u16>()), 0..400)) {
            let mut jb = JitterBuffer::default();
            for (push, seq) in ops {
                if push { jb.push(seq, frame(1)); } else { prop_assert_eq!(jb.pop().len(), FRAME); }
            }
        }
    }
}
