//! A timestamp-driven playout (jitter) buffer producing one 20 ms frame per tick, whatever
//! the sender's packetisation (10, 20, 30 ms…), reordering packets and concealing gaps with
//! silence.

use std::collections::BTreeMap;

/// Samples per 20 ms frame at 8 kHz.
pub const FRAME: usize = 160;

/// Playout starts once this much audio is buffered (40 ms).
const PREBUFFER: u64 = 2 * FRAME as u64;
/// More buffered than this (200 ms) and playout skips ahead to bound the delay.
const MAX_DEPTH: u64 = 10 * FRAME as u64;
/// A timestamp further than this from the playout point (1 s) starts a new stream.
const RESYNC: u64 = 8000;

/// Sans-IO: `push` on every received packet, `pop` once per 20 ms tick.
#[derive(Debug, Default)]
pub struct JitterBuffer {
    packets: BTreeMap<u64, Vec<i16>>,
    last_ext: Option<u64>,
    play: Option<u64>,
    /// 20 ms frames with no audio while later audio was already queued.
    pub lost: u64,
    /// Packets that arrived after their playout time.
    pub late: u64,
    /// Keys played out in a `pop` (kept to reuse its allocation).
    done: Vec<u64>,
}

impl JitterBuffer {
    /// Extends a 32-bit RTP timestamp relative to the newest one seen.
    fn extend(&mut self, ts: u32) -> u64 {
        let ext = match self.last_ext {
            None => ts as u64 + (1 << 32),
            Some(last) => {
                let cand = (last & !0xFFFF_FFFF) | ts as u64;
                [cand.saturating_sub(1 << 32), cand, cand + (1 << 32)]
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

    fn end_of_queue(&self) -> Option<u64> {
        self.packets
            .iter()
            .next_back()
            .map(|(k, v)| k + v.len() as u64)
    }

    /// Adds a decoded packet (any number of samples) with its RTP timestamp.
    pub fn push(&mut self, timestamp: u32, samples: Vec<i16>) {
        if samples.is_empty() {
            return;
        }
        let ext = self.extend(timestamp);
        if let Some(play) = self.play {
            if ext.abs_diff(play) > RESYNC {
                // A new stream (re-INVITE, SSRC change, long silence): start over.
                self.packets.clear();
                self.play = None;
                self.last_ext = None;
                let ext = self.extend(timestamp);
                self.packets.insert(ext, samples);
                return;
            }
            if ext + samples.len() as u64 <= play {
                self.late += 1;
                return;
            }
        }
        if self.packets.len() < 256 {
            self.packets.insert(ext, samples);
        }
    }

    /// Takes the next 20 ms frame (silence where nothing is due).
    pub fn pop(&mut self) -> Vec<i16> {
        let mut out = vec![0i16; FRAME];
        let play = match self.play {
            Some(p) => p,
            None => {
                let (Some(start), Some(end)) =
                    (self.packets.keys().next().copied(), self.end_of_queue())
                else {
                    return out;
                };
                if end - start < PREBUFFER {
                    return out;
                }
                start
            }
        };
        let mut play = play;
        if let Some(end) = self.end_of_queue() {
            if end > play + MAX_DEPTH {
                play = end - PREBUFFER;
            }
        }
        let window_end = play + FRAME as u64;
        let mut filled = false;
        let mut done = std::mem::take(&mut self.done);
        for (&start, samples) in self.packets.range(..window_end) {
            let end = start + samples.len() as u64;
            if end <= play {
                done.push(start);
                continue;
            }
            let from = play.max(start);
            let to = window_end.min(end);
            out[(from - play) as usize..(to - play) as usize]
                .copy_from_slice(&samples[(from - start) as usize..(to - start) as usize]);
            filled = true;
            if end <= window_end {
                done.push(start);
            }
        }
        for k in done.drain(..) {
            self.packets.remove(&k);
        }
        self.done = done;
        if !filled && !self.packets.is_empty() {
            self.lost += 1;
        }
        if self.packets.is_empty() && !filled {
            // Underrun (the sender paused or stopped): wait for audio and prebuffer again.
            self.play = None;
        } else {
            self.play = Some(window_end);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pkt(v: i16, n: usize) -> Vec<i16> {
        vec![v; n]
    }

    #[test]
    fn reorders_and_counts_loss() {
        let mut jb = JitterBuffer::default();
        jb.push(160, pkt(1, 160));
        jb.push(0, pkt(9, 160));
        jb.push(480, pkt(3, 160));
        assert_eq!(jb.pop()[0], 9);
        assert_eq!(jb.pop()[0], 1);
        assert_eq!(jb.pop()[0], 0); // ts 320 lost
        assert_eq!(jb.lost, 1);
        assert_eq!(jb.pop()[0], 3);
        jb.push(320, pkt(2, 160));
        assert_eq!(jb.late, 1);
    }

    #[test]
    fn thirty_ms_packets_play_continuously() {
        let mut jb = JitterBuffer::default();
        let mut out = Vec::new();
        for i in 0..20u32 {
            // 30 ms packets arrive every 30 ms; we pop every 20 ms.
            jb.push(i * 240, pkt(i as i16 + 1, 240));
            out.extend(jb.pop());
            if i % 2 == 1 {
                out.extend(jb.pop());
            }
        }
        let start = out.iter().position(|&s| s != 0).unwrap();
        let audio = &out[start..start + 240 * 15];
        assert!(audio.iter().all(|&s| s != 0), "gap in continuous audio");
        assert_eq!(jb.lost, 0);
    }

    #[test]
    fn timestamp_wraps() {
        let mut jb = JitterBuffer::default();
        let base = u32::MAX - 159;
        jb.push(base, pkt(1, 160));
        jb.push(base.wrapping_add(160), pkt(2, 160));
        jb.push(base.wrapping_add(320), pkt(3, 160));
        assert_eq!(jb.pop()[0], 1);
        assert_eq!(jb.pop()[0], 2);
        assert_eq!(jb.pop()[0], 3);
        assert_eq!(jb.lost, 0);
    }

    proptest! {
        #[test]
        fn any_order_never_panics(ops in proptest::collection::vec((any::<bool>(), any::<u32>(), 0usize..400), 0..400)) {
            let mut jb = JitterBuffer::default();
            for (push, ts, n) in ops {
                if push { jb.push(ts, pkt(1, n)); } else { prop_assert_eq!(jb.pop().len(), FRAME); }
            }
        }

        /// 20 ms packets, each displaced by up to one packet (within the 40 ms prebuffer),
        /// play out completely without loss.
        #[test]
        fn reordered_stream_has_no_loss(swaps in proptest::collection::btree_set(0usize..49, 0..20)) {
            let mut order: Vec<u32> = (0..100).collect();
            for s in swaps { order.swap(2 * s, 2 * s + 1); }
            let mut jb = JitterBuffer::default();
            let mut nonzero = 0;
            for (i, seq) in order.iter().enumerate() {
                jb.push(seq * 160, pkt(*seq as i16 + 1, 160));
                if i >= 1 { nonzero += jb.pop().iter().filter(|&&s| s != 0).count() / FRAME; }
            }
            for _ in 0..5 { nonzero += jb.pop().iter().filter(|&&s| s != 0).count() / FRAME; }
            prop_assert_eq!(jb.lost, 0);
            prop_assert_eq!(nonzero, 100);
        }
    }
}
