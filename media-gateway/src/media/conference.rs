//! Conference rooms: one mixer task per room, every 20 ms each member hears the sum of the
//! other members' latest frames (never its own).
//!
//! A member is a call's media (ticked by its media worker) or a WebRTC leg, joined the same way as a two-party bridge
//! (`MediaCtl::Bridge` / `LegCtl::Bridge`): it sends its caller's frames on one channel and
//! plays what arrives on the other, here the room's mix instead of one peer. The member leaves
//! when it drops its channels (the call ended, `unbridge`, bridged elsewhere); the mixer
//! reports that to the SIP task, which owns the membership (the limit, the room's end).
//! The arithmetic is the sans-IO [`Mixer`].

use super::jitter::FRAME;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Most members of one room.
pub const MAX_MEMBERS: usize = 10;

/// Frames queued per member at most (60 ms: the member and the mixer tick independently).
const QUEUE: usize = 3;

/// One member's slot in a room: unique per join, so a call joining again (new channels) is a
/// new slot and its old one leaves on its own.
pub type Slot = u64;

/// The sans-IO mix of one room.
#[derive(Default)]
pub struct Mixer {
    members: Vec<(Slot, VecDeque<Vec<i16>>)>,
}

impl Mixer {
    /// Adds a member (no-op when the slot is already in).
    pub fn join(&mut self, slot: Slot) {
        if !self.members.iter().any(|(s, _)| *s == slot) {
            self.members.push((slot, VecDeque::new()));
        }
    }

    /// Removes a member.
    pub fn leave(&mut self, slot: Slot) {
        self.members.retain(|(s, _)| *s != slot);
    }

    /// Members in the room.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the room is empty.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The member slots, in join order.
    pub fn slots(&self) -> impl Iterator<Item = Slot> + '_ {
        self.members.iter().map(|(s, _)| *s)
    }

    /// A frame from a member (ignored for a slot not in the room); the oldest frames are
    /// dropped beyond a bounded queue.
    pub fn push(&mut self, slot: Slot, frame: Vec<i16>) {
        if let Some((_, q)) = self.members.iter_mut().find(|(s, _)| *s == slot) {
            q.push_back(frame);
            while q.len() > QUEUE {
                q.pop_front();
            }
        }
    }

    /// One 20 ms tick: takes each member's next frame (silence when it has none) and returns
    /// what each member hears, the saturated sum of the others' frames, in join order.
    pub fn mix(&mut self) -> Vec<(Slot, Vec<i16>)> {
        let frames: Vec<Option<Vec<i16>>> = self
            .members
            .iter_mut()
            .map(|(_, q)| q.pop_front())
            .collect();
        let heard = mix_others(&frames);
        self.members.iter().map(|(s, _)| *s).zip(heard).collect()
    }
}

/// For each of `frames` (one per member, `None` = silent), the sum of all the others, clipped
/// to 16 bits once at the end (so the result does not depend on the members' order). Each
/// output is [`FRAME`] samples: shorter frames are padded with silence, longer ones cut.
pub fn mix_others(frames: &[Option<Vec<i16>>]) -> Vec<Vec<i16>> {
    let mut total = [0i32; FRAME];
    for f in frames.iter().flatten() {
        for (t, s) in total.iter_mut().zip(f) {
            *t += i32::from(*s);
        }
    }
    frames
        .iter()
        .map(|own| {
            let mut out: Vec<i32> = total.to_vec();
            if let Some(f) = own {
                for (o, s) in out.iter_mut().zip(f) {
                    *o -= i32::from(*s);
                }
            }
            out.into_iter()
                .map(|v| v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16)
                .collect()
        })
        .collect()
}

/// Instructions to a room's mixer task.
pub enum RoomCtl {
    /// A new member: its caller's audio arrives on `rx`, what it hears goes out on `tx`.
    Join {
        /// The member's slot.
        slot: Slot,
        /// What the member hears, to its task.
        tx: mpsc::Sender<Vec<i16>>,
        /// The member's caller audio, from its task.
        rx: mpsc::Receiver<Vec<i16>>,
    },
}

/// Channels of one member, seen from the mixer.
struct Link {
    slot: Slot,
    tx: mpsc::Sender<Vec<i16>>,
    rx: mpsc::Receiver<Vec<i16>>,
}

/// Runs one room until its control channel closes (the SIP task drops it once the last
/// member left) and no member is left. Each member that leaves is reported on `left`.
pub async fn run_room(
    room: Uuid,
    mut ctl: mpsc::UnboundedReceiver<RoomCtl>,
    left: mpsc::UnboundedSender<(Uuid, Slot)>,
) {
    use tokio::sync::mpsc::error::{TryRecvError, TrySendError};
    let mut mixer = Mixer::default();
    let mut links: Vec<Link> = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut open = true;
    tracing::info!(%room, "conference room started");
    while open || !links.is_empty() {
        tokio::select! {
            c = ctl.recv(), if open => match c {
                Some(RoomCtl::Join { slot, tx, rx }) => {
                    mixer.join(slot);
                    links.push(Link { slot, tx, rx });
                }
                None => open = false,
            },
            _ = tick.tick() => {
                let mut gone: Vec<Slot> = Vec::new();
                for l in &mut links {
                    loop {
                        match l.rx.try_recv() {
                            Ok(f) => mixer.push(l.slot, f),
                            Err(TryRecvError::Empty) => break,
                            Err(TryRecvError::Disconnected) => {
                                gone.push(l.slot);
                                break;
                            }
                        }
                    }
                }
                for (slot, frame) in mixer.mix() {
                    if let Some(l) = links.iter().find(|l| l.slot == slot) {
                        // A full queue means the member is slow: drop the frame, never block.
                        if let Err(TrySendError::Closed(_)) = l.tx.try_send(frame) {
                            gone.push(slot);
                        }
                    }
                }
                for slot in gone {
                    if links.iter().any(|l| l.slot == slot) {
                        links.retain(|l| l.slot != slot);
                        mixer.leave(slot);
                        let _ = left.send((room, slot));
                    }
                }
            },
        }
    }
    tracing::info!(%room, "conference room ended");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(v: i16) -> Vec<i16> {
        vec![v; FRAME]
    }

    #[test]
    fn each_member_hears_the_others_not_itself() {
        let mut m = Mixer::default();
        for s in 1..=3 {
            m.join(s);
        }
        m.push(1, frame(100));
        m.push(2, frame(20));
        m.push(3, frame(3));
        let out = m.mix();
        assert_eq!(
            out,
            vec![(1, frame(23)), (2, frame(103)), (3, frame(120))],
            "each hears the sum of the other two"
        );
    }

    #[test]
    fn two_members_hear_each_other_like_a_bridge() {
        let mut m = Mixer::default();
        m.join(7);
        m.join(9);
        m.push(7, frame(-5));
        m.push(9, frame(11));
        assert_eq!(m.mix(), vec![(7, frame(11)), (9, frame(-5))]);
    }

    #[test]
    fn a_lone_member_hears_silence() {
        let mut m = Mixer::default();
        m.join(1);
        m.push(1, frame(1234));
        assert_eq!(m.mix(), vec![(1, frame(0))]);
    }

    #[test]
    fn sums_saturate_at_16_bits() {
        let mut m = Mixer::default();
        for s in 1..=4 {
            m.join(s);
        }
        for s in 1..=3 {
            m.push(s, frame(20_000));
        }
        m.push(4, frame(-30_000));
        let out: Vec<Vec<i16>> = m.mix().into_iter().map(|(_, f)| f).collect();
        // 1: 20000 + 20000 - 30000; 4: 60000, clipped.
        assert_eq!(out[0], frame(10_000));
        assert_eq!(out[3], frame(i16::MAX));
        let low = mix_others(&[Some(frame(i16::MIN)), Some(frame(i16::MIN)), None]);
        assert_eq!(low[2], frame(i16::MIN));
        assert_eq!(low[0], frame(i16::MIN));
    }

    #[test]
    fn clipping_does_not_depend_on_the_order_of_members() {
        // Chained saturating adds would give 32767 - 30000; the exact sum is 10000.
        let a = mix_others(&[
            Some(frame(20_000)),
            Some(frame(20_000)),
            Some(frame(-30_000)),
            None,
        ]);
        let b = mix_others(&[
            Some(frame(-30_000)),
            Some(frame(20_000)),
            Some(frame(20_000)),
            None,
        ]);
        assert_eq!(a[3], frame(10_000));
        assert_eq!(b[3], frame(10_000));
    }

    #[test]
    fn a_silent_member_adds_nothing_and_still_hears_the_others() {
        let mut m = Mixer::default();
        for s in 1..=3 {
            m.join(s);
        }
        m.push(1, frame(10));
        m.push(3, frame(1));
        assert_eq!(m.mix(), vec![(1, frame(1)), (2, frame(11)), (3, frame(10))]);
        // Next tick nobody sent anything: silence for all.
        assert!(m.mix().iter().all(|(_, f)| *f == frame(0)));
    }

    #[test]
    fn short_and_long_frames_are_padded_or_cut() {
        let out = mix_others(&[Some(vec![5; 10]), Some(vec![1; FRAME * 2]), None]);
        assert!(out.iter().all(|f| f.len() == FRAME));
        assert_eq!(&out[2][..10], &[6; 10]);
        assert_eq!(&out[2][10..], &vec![1; FRAME - 10][..]);
        assert_eq!(out[1][..10], [5; 10]);
        assert!(out[1][10..].iter().all(|s| *s == 0));
        assert!(mix_others(&[]).is_empty());
    }

    #[test]
    fn members_join_and_leave_between_ticks() {
        let mut m = Mixer::default();
        m.join(1);
        m.join(2);
        m.join(2);
        assert_eq!(m.len(), 2);
        m.push(1, frame(1));
        m.push(2, frame(2));
        assert_eq!(m.mix(), vec![(1, frame(2)), (2, frame(1))]);
        m.join(3);
        m.push(1, frame(1));
        m.push(2, frame(2));
        m.push(3, frame(4));
        assert_eq!(m.mix(), vec![(1, frame(6)), (2, frame(5)), (3, frame(3))]);
        m.leave(2);
        m.push(1, frame(1));
        m.push(2, frame(2)); // gone: ignored
        m.push(3, frame(4));
        assert_eq!(m.mix(), vec![(1, frame(4)), (3, frame(1))]);
        assert_eq!(m.slots().collect::<Vec<_>>(), vec![1, 3]);
        m.leave(1);
        m.leave(3);
        assert!(m.is_empty());
        assert!(m.mix().is_empty());
    }

    #[test]
    fn a_member_queue_is_bounded_to_the_newest_frames() {
        let mut m = Mixer::default();
        m.join(1);
        m.join(2);
        for v in 1..=10 {
            m.push(1, frame(v));
        }
        // Only the newest QUEUE frames are kept, oldest first.
        let heard: Vec<i16> = (0..QUEUE + 1).map(|_| m.mix()[1].1[0]).collect();
        assert_eq!(heard, vec![8, 9, 10, 0]);
    }

    /// What a member received so far: the sum of the first sample of every frame.
    fn drain(rx: &mut mpsc::Receiver<Vec<i16>>) -> i32 {
        let mut sum = 0;
        while let Ok(f) = rx.try_recv() {
            sum += i32::from(f[0]);
        }
        sum
    }

    #[tokio::test]
    async fn the_room_task_mixes_and_reports_members_leaving() {
        let (ctl_tx, ctl_rx) = mpsc::unbounded_channel();
        let (left_tx, mut left_rx) = mpsc::unbounded_channel();
        let room = Uuid::new_v4();
        let task = tokio::spawn(run_room(room, ctl_rx, left_tx));
        let mut ends = Vec::new();
        for slot in 1..=3u64 {
            let (to_member, from_room) = mpsc::channel(8);
            let (to_room, from_member) = mpsc::channel(8);
            let join = RoomCtl::Join {
                slot,
                tx: to_member,
                rx: from_member,
            };
            assert!(ctl_tx.send(join).is_ok());
            ends.push((to_room, from_room));
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
        for (_, rx) in &mut ends {
            assert_eq!(drain(rx), 0, "silence before anyone speaks");
        }
        for (i, (tx, _)) in ends.iter().enumerate() {
            assert!(tx.try_send(frame(10i16.pow(i as u32))).is_ok());
        }
        tokio::time::sleep(Duration::from_millis(80)).await;
        let heard: Vec<i32> = ends.iter_mut().map(|(_, rx)| drain(rx)).collect();
        assert_eq!(heard, vec![110, 101, 11]);
        // Member 2 hangs up: the others stay, the departure is reported.
        drop(ends.remove(1));
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(left_rx.try_recv().ok(), Some((room, 2)));
        assert!(left_rx.try_recv().is_err());
        assert!(ends[0].0.try_send(frame(7)).is_ok());
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert_eq!(drain(&mut ends[1].1), 7, "member 3 still hears member 1");
        assert_eq!(drain(&mut ends[0].1), 0, "member 1 never hears itself");
        // The SIP task drops the room once empty: the task ends.
        drop(ctl_tx);
        ends.clear();
        tokio::time::sleep(Duration::from_millis(80)).await;
        assert!(task.is_finished());
        let mut rest = Vec::new();
        while let Ok((_, slot)) = left_rx.try_recv() {
            rest.push(slot);
        }
        rest.sort();
        assert_eq!(rest, vec![1, 3]);
    }
}
