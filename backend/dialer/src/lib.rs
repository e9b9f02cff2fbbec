//! The outbound dialer's arithmetic, free of I/O so it can be tested and simulated:
//!
//! - [`lines_to_dial`]: how many new calls to place now, for progressive or predictive mode;
//! - [`Pacer`]: the predictive mode's feedback on the measured abandon rate;
//! - [`sim`]: a seeded traffic simulator (answer rate, ring and handle times) that runs both
//!   modes against the same traffic, used by the tests and by the `dialer-sim` benchmark;
//! - [`window`]: calling hours per weekday in the contact's own time zone.
//!
//! ## The predictive formula
//!
//! With `I` idle agents, `B` busy agents, `R` calls still ringing, measured answer rate `p`,
//! mean ring time `r` and mean handle time `h` (talk + wrap-up):
//!
//! - agents expected free when a call placed now is answered (handle times taken as
//!   exponential, so memoryless): `A = I + B · (1 − e^(−r/h))`;
//! - answers still expected from the ringing calls: `R · p`;
//! - lines to place: `n = ⌊(g · A − R · p) / p⌋`, at least 0, at most the campaign's lines.
//!
//! `g` (aggressiveness) starts at 0.7 (cautious until calls are measured) and follows the abandon rate measured over the last answered
//! calls: after an abandon that leaves the rate above ¾ of the limit (default limit 3 %) it
//! drops by 20 %; every 20 answers with the rate under half of that it grows by 2 % (bounds
//! 0.3–2). Progressive mode places exactly one line per idle agent not already
//! covered by a ringing call (`n = I − R`), which never abandons but leaves agents waiting
//! through every ring.

pub mod sim;
pub mod window;

/// Dialing mode of an agent campaign.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Mode {
    /// One line per idle agent.
    Progressive,
    /// Dial ahead, keeping abandoned calls under `max_abandon` (a fraction, e.g. 0.03).
    Predictive { max_abandon: f64 },
}

/// What the pacer knows right now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    pub idle_agents: u32,
    pub busy_agents: u32,
    pub ringing: u32,
    /// Measured fraction of placed calls answered by a person.
    pub answer_rate: f64,
    /// Mean seconds from dialling to answer.
    pub ring_secs: f64,
    /// Mean seconds an agent spends per connected call (talk + wrap-up).
    pub handle_secs: f64,
    /// The campaign's line limit (concurrent calls).
    pub max_lines: u32,
}

/// New calls to place now.
pub fn lines_to_dial(mode: Mode, s: &Snapshot, aggressiveness: f64) -> u32 {
    let room = s.max_lines.saturating_sub(s.ringing);
    let n = match mode {
        Mode::Progressive => s.idle_agents.saturating_sub(s.ringing),
        Mode::Predictive { .. } => {
            let p = s.answer_rate.clamp(0.05, 1.0);
            let free_soon = if s.handle_secs > 0.0 {
                1.0 - (-s.ring_secs / s.handle_secs).exp()
            } else {
                1.0
            };
            let available = s.idle_agents as f64 + s.busy_agents as f64 * free_soon;
            let want = (aggressiveness * available - s.ringing as f64 * p) / p;
            if want <= 0.0 {
                0
            } else {
                want.floor() as u32
            }
        }
    };
    n.min(room)
}

/// Predictive mode's feedback: the abandon rate over the last answered calls steers `g`.
/// Serialisable, so a campaign's pacer can live in Redis between dialer ticks.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Pacer {
    pub max_abandon: f64,
    pub aggressiveness: f64,
    window: std::collections::VecDeque<bool>,
    since_adjust: u32,
}

impl Pacer {
    /// Window of answered calls the abandon rate is measured over.
    pub const WINDOW: usize = 200;

    pub fn new(max_abandon: f64) -> Self {
        Pacer {
            max_abandon,
            aggressiveness: 0.7,
            window: Default::default(),
            since_adjust: 0,
        }
    }

    /// Abandon rate over the window (0 when nothing was answered yet).
    pub fn abandon_rate(&self) -> f64 {
        if self.window.is_empty() {
            return 0.0;
        }
        self.window.iter().filter(|a| **a).count() as f64 / self.window.len() as f64
    }

    /// Records one answered call (`abandoned`: nobody was free to take it).
    pub fn answered(&mut self, abandoned: bool) {
        self.window.push_back(abandoned);
        while self.window.len() > Self::WINDOW {
            self.window.pop_front();
        }
        self.since_adjust += 1;
        // An abandon reacts at once; a good run is rewarded every 20 answers.
        // Steer at 3/4 of the limit: the measured rate wanders around the set point.
        let rate = self.abandon_rate();
        let set_point = self.max_abandon * 0.75;
        if abandoned && rate > set_point {
            self.aggressiveness = (self.aggressiveness * 0.8).max(0.3);
            self.since_adjust = 0;
        } else if self.since_adjust >= 20 {
            self.since_adjust = 0;
            if rate < set_point / 2.0 {
                self.aggressiveness = (self.aggressiveness * 1.02).min(2.0);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap() -> Snapshot {
        Snapshot {
            idle_agents: 4,
            busy_agents: 6,
            ringing: 0,
            answer_rate: 0.25,
            ring_secs: 15.0,
            handle_secs: 180.0,
            max_lines: 100,
        }
    }

    #[test]
    fn progressive_places_one_line_per_idle_agent_not_already_covered() {
        assert_eq!(lines_to_dial(Mode::Progressive, &snap(), 1.0), 4);
        let s = Snapshot {
            ringing: 3,
            ..snap()
        };
        assert_eq!(lines_to_dial(Mode::Progressive, &s, 1.0), 1);
    }

    #[test]
    fn predictive_dials_ahead_by_the_answer_rate_and_counts_ringing_calls() {
        let m = Mode::Predictive { max_abandon: 0.03 };
        // A = 4 + 6·(1 − e^(−15/180)) ≈ 4.48 → 4.48 / 0.25 = 17.9 → 17 lines.
        assert_eq!(lines_to_dial(m, &snap(), 1.0), 17);
        // Ringing calls are expected answers already: 8 ringing ≈ 2 answers.
        let s = Snapshot {
            ringing: 8,
            ..snap()
        };
        assert_eq!(lines_to_dial(m, &s, 1.0), 9);
        // The campaign's line limit is respected.
        let s = Snapshot {
            max_lines: 10,
            ringing: 8,
            ..snap()
        };
        assert_eq!(lines_to_dial(m, &s, 1.0), 2);
        // No agent at all: nothing to dial.
        let s = Snapshot {
            idle_agents: 0,
            busy_agents: 0,
            ..snap()
        };
        assert_eq!(lines_to_dial(m, &s, 1.0), 0);
    }

    #[test]
    fn pacer_backs_off_when_abandons_exceed_the_target_and_recovers_slowly() {
        let mut p = Pacer::new(0.03);
        for _ in 0..10 {
            p.answered(false);
        }
        p.answered(true);
        assert!(
            p.aggressiveness < 1.0,
            "backs off after an abandon above target"
        );
        let low = p.aggressiveness;
        for _ in 0..Pacer::WINDOW {
            p.answered(false);
        }
        assert!(p.aggressiveness > low, "recovers when abandons are rare");
    }
}
