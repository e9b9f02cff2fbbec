//! A seeded simulation of an agent campaign: calls are answered with probability
//! `answer_rate` after a ring of 4–20 s (others ring out at 25 s or are busy after 2 s);
//! an answered call with no free agent is abandoned (it hears a short message); handle times
//! are exponential with mean `handle_secs` (at least 20 s), plus `wrap_secs`.

use crate::{lines_to_dial, Mode, Pacer, Snapshot};

/// Traffic and campaign parameters.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    pub agents: u32,
    pub answer_rate: f64,
    pub handle_secs: f64,
    pub wrap_secs: f64,
    pub hours: f64,
    pub max_lines: u32,
    pub seed: u64,
}

/// What a simulated run measured.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Outcome {
    pub placed: u64,
    pub answered: u64,
    pub abandoned: u64,
    /// Abandoned / answered.
    pub abandon_rate: f64,
    /// Share of agent time spent on calls (talk + wrap-up).
    pub occupancy: f64,
    /// Connected calls per agent-hour.
    pub connects_per_agent_hour: f64,
}

/// splitmix64: small, seeded, good enough for traffic.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    }
}

struct Ringing {
    ends: f64,
    answered: bool,
}

/// Runs one mode over the traffic.
pub fn run(mode: Mode, t: &Traffic) -> Outcome {
    const STEP: f64 = 0.5;
    let mut rng = Rng(t.seed);
    let mut agent_free_at = vec![0.0f64; t.agents as usize];
    let mut ringing: Vec<Ringing> = Vec::new();
    let mut pacer = Pacer::new(match mode {
        Mode::Predictive { max_abandon } => max_abandon,
        Mode::Progressive => 0.0,
    });
    let (mut placed, mut answered, mut abandoned, mut failed) = (0u64, 0u64, 0u64, 0u64);
    let (mut ring_sum, mut handle_sum, mut busy_secs) = (0.0f64, 0.0f64, 0.0f64);
    let end = t.hours * 3600.0;
    let mut now = 0.0;
    while now < end {
        // Calls whose ring ended: answered ones take a free agent or are abandoned.
        let mut i = 0;
        while i < ringing.len() {
            if ringing[i].ends > now {
                i += 1;
                continue;
            }
            let call = ringing.swap_remove(i);
            if !call.answered {
                failed += 1;
                continue;
            }
            answered += 1;
            match agent_free_at.iter_mut().find(|f| **f <= now) {
                Some(free_at) => {
                    let talk = (-t.handle_secs * (1.0 - rng.next()).ln()).max(20.0);
                    let work = talk + t.wrap_secs;
                    *free_at = now + work;
                    handle_sum += work;
                    busy_secs += work.min(end - now);
                    pacer.answered(false);
                }
                None => {
                    abandoned += 1;
                    pacer.answered(true);
                }
            }
        }
        let idle = agent_free_at.iter().filter(|f| **f <= now).count() as u32;
        let connected = answered - abandoned;
        let snap = Snapshot {
            idle_agents: idle,
            busy_agents: t.agents - idle,
            ringing: ringing.len() as u32,
            // A prior of 30 % over 20 calls until real figures accumulate.
            answer_rate: (answered as f64 + 6.0) / ((answered + failed) as f64 + 20.0),
            ring_secs: if answered > 0 {
                ring_sum / answered as f64
            } else {
                12.0
            },
            handle_secs: if connected > 0 {
                handle_sum / connected as f64
            } else {
                t.handle_secs + t.wrap_secs
            },
            max_lines: t.max_lines,
        };
        let n = lines_to_dial(mode, &snap, pacer.aggressiveness);
        for _ in 0..n {
            placed += 1;
            let answers = rng.next() < t.answer_rate;
            let ring = if answers {
                4.0 + 16.0 * rng.next()
            } else if rng.next() < 0.3 {
                2.0
            } else {
                25.0
            };
            if answers {
                ring_sum += ring;
            }
            ringing.push(Ringing {
                ends: now + ring,
                answered: answers,
            });
        }
        now += STEP;
    }
    let connected = answered - abandoned;
    Outcome {
        placed,
        answered,
        abandoned,
        abandon_rate: if answered > 0 {
            abandoned as f64 / answered as f64
        } else {
            0.0
        },
        occupancy: busy_secs / (t.agents as f64 * end),
        connects_per_agent_hour: connected as f64 / (t.agents as f64 * t.hours),
    }
}
