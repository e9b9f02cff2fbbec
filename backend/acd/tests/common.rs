//! Random ACD workloads shared by the property tests (model only, and model vs. Redis).
#![allow(dead_code)]

use hotline_acd::model::{Acd, Op, QueueRec};
use proptest::prelude::*;

pub const AGENTS: [&str; 4] = ["a1", "a2", "a3", "a4"];
pub const QUEUES: [&str; 2] = ["q1", "q2"];
pub const STRATEGIES: [&str; 5] = [
    "longest_idle",
    "round_robin",
    "fewest_calls",
    "skills",
    "ring_all",
];

/// An abstract step; [`resolve`] turns it into a concrete operation against the current state,
/// so that answers and hang-ups often hit calls that are really offered or connected.
#[derive(Debug, Clone)]
pub enum Step {
    Login(usize, u8, u8),
    Ready(usize),
    NotReady(usize),
    Break(usize),
    Logout(usize),
    Arrive(usize, u64),
    AnswerOffered(usize),
    RejectOffered(usize),
    HangupAny(usize),
    AnswerWrong(usize, usize),
    /// Transfer a connected call: (which, queue index into `["", q1, q2]`, agent index into
    /// `["", a1..a4]`).
    TransferConnected(usize, usize, usize),
    Tick,
}

pub fn step() -> impl Strategy<Value = (u64, Step)> {
    let s = prop_oneof![
        2 => (0..4usize, 0..4u8, 0..11u8).prop_map(|(a, q, l)| Step::Login(a, q, l)),
        6 => (0..4usize).prop_map(Step::Ready),
        1 => (0..4usize).prop_map(Step::NotReady),
        1 => (0..4usize).prop_map(Step::Break),
        1 => (0..4usize).prop_map(Step::Logout),
        6 => (0..2usize, 0..3u64).prop_map(|(q, p)| Step::Arrive(q, p)),
        5 => (0..8usize).prop_map(Step::AnswerOffered),
        1 => (0..8usize).prop_map(Step::RejectOffered),
        4 => (0..16usize).prop_map(Step::HangupAny),
        1 => (0..4usize, 0..16usize).prop_map(|(a, c)| Step::AnswerWrong(a, c)),
        2 => (0..8usize, 0..3usize, 0..5usize)
            .prop_map(|(k, q, a)| Step::TransferConnected(k, q, a)),
        4 => Just(Step::Tick),
    ];
    (0..6_000u64, s)
}

/// Queue configurations for q1 and q2 (q1 may overflow to q2 or voicemail).
pub fn queues() -> impl Strategy<Value = Vec<Op>> {
    (
        0..5usize,
        0..5usize,
        0..3u8,
        0..3u8,
        prop::sample::select(vec![0u64, 3_000, 20_000]),
        prop::sample::select(vec![0u64, 4_000]),
    )
        .prop_map(|(s1, s2, min1, overflow, ring, wrapup)| {
            let cfg = |strategy: &str, skills: String, overflow: &str, max_wait: u64| QueueRec {
                strategy: strategy.into(),
                skills,
                ring_timeout_ms: 5_000 + ring,
                max_wait_ms: max_wait,
                overflow: overflow.into(),
                wrapup_ms: wrapup,
                last_agent: String::new(),
            };
            let ov = ["", "q2", "voicemail"][overflow as usize];
            vec![
                Op::Queue {
                    id: "q1".into(),
                    cfg: cfg(
                        STRATEGIES[s1],
                        if min1 > 0 {
                            format!("water={}", min1 * 3)
                        } else {
                            String::new()
                        },
                        ov,
                        if ov.is_empty() { 0 } else { 15_000 },
                    ),
                },
                Op::Queue {
                    id: "q2".into(),
                    cfg: cfg(STRATEGIES[s2], "billing=2".into(), "", 0),
                },
            ]
        })
}

/// The concrete operation for `step` given the current state; `next_call` numbers new calls.
pub fn resolve(acd: &Acd, step: &Step, next_call: &mut u32) -> Op {
    let agent = |i: usize| AGENTS[i].to_string();
    let set = |i: usize, state: &str, reason: &str| Op::SetState {
        agent: agent(i),
        state: state.into(),
        reason: reason.into(),
    };
    // A call in `state` and its agent (one of a ring-all's ringing agents).
    let pick = |state: &str, k: usize| -> Option<(String, String)> {
        let v: Vec<_> = acd
            .calls
            .iter()
            .filter(|(_, c)| c.state == state)
            .flat_map(|(id, c)| {
                let ringing: Vec<&str> = c.ringing.split(',').filter(|a| !a.is_empty()).collect();
                let agents = if ringing.is_empty() {
                    vec![c.agent.as_str()]
                } else {
                    ringing
                };
                agents.into_iter().map(|a| (id.clone(), a.to_string()))
            })
            .collect();
        (!v.is_empty()).then(|| v[k % v.len()].clone())
    };
    match step {
        Step::Login(a, q, l) => Op::Login {
            agent: agent(*a),
            queues: ["q1", "q2", "q1,q2", "q2,q1"][*q as usize].into(),
            skills: format!("water={l},billing={}", 10 - l),
        },
        Step::Ready(a) => set(*a, "ready", ""),
        Step::NotReady(a) => set(*a, "not_ready", "lunch"),
        Step::Break(a) => set(*a, "break", ""),
        Step::Logout(a) => set(*a, "logged_out", ""),
        Step::Arrive(q, p) => {
            *next_call += 1;
            Op::Arrive {
                call: format!("c{:03}", next_call),
                queue: QUEUES[*q].into(),
                priority: *p,
            }
        }
        Step::AnswerOffered(k) | Step::RejectOffered(k) => match pick("offered", *k) {
            Some((call, agent)) if matches!(step, Step::AnswerOffered(_)) => {
                Op::Answer { agent, call }
            }
            Some((call, agent)) => Op::Reject { agent, call },
            None => Op::Tick,
        },
        Step::HangupAny(k) => {
            let ids: Vec<_> = acd.calls.keys().cloned().collect();
            if ids.is_empty() {
                Op::Hangup {
                    call: "nope".into(),
                }
            } else {
                Op::Hangup {
                    call: ids[k % ids.len()].clone(),
                }
            }
        }
        Step::AnswerWrong(a, c) => Op::Answer {
            agent: agent(*a),
            call: format!("c{:03}", c),
        },
        Step::TransferConnected(k, q, a) => match pick("connected", *k) {
            Some((call, _)) => Op::Transfer {
                call,
                queue: ["", "q1", "q2"][*q].into(),
                agent: if *a == 0 {
                    String::new()
                } else {
                    agent(*a - 1)
                },
            },
            None => Op::Transfer {
                call: "nope".into(),
                queue: String::new(),
                agent: String::new(),
            },
        },
        Step::Tick => Op::Tick,
    }
}
