//! Worked examples of each strategy and timeout, as a supervisor would describe them.

use hotline_acd::model::{Acd, Event, Op, QueueRec};

fn queue(strategy: &str, skills: &str) -> QueueRec {
    QueueRec {
        strategy: strategy.into(),
        skills: skills.into(),
        ring_timeout_ms: 10_000,
        wrapup_ms: 5_000,
        ..QueueRec::default()
    }
}

fn setup(strategy: &str, skills: &str, agents: &[(&str, &str)]) -> Acd {
    let mut acd = Acd::default();
    acd.apply(
        0,
        &Op::Queue {
            id: "q".into(),
            cfg: queue(strategy, skills),
        },
    )
    .unwrap();
    for (i, (a, sk)) in agents.iter().enumerate() {
        acd.apply(
            0,
            &Op::Login {
                agent: a.to_string(),
                queues: "q".into(),
                skills: sk.to_string(),
            },
        )
        .unwrap();
        // a1 becomes ready first, so it has waited longest.
        acd.apply(100 * (i as u64 + 1), &ready(a)).unwrap();
    }
    acd
}

fn ready(a: &str) -> Op {
    Op::SetState {
        agent: a.into(),
        state: "ready".into(),
        reason: String::new(),
    }
}

fn arrive(acd: &mut Acd, now: u64, call: &str, priority: u64) -> Vec<Event> {
    acd.apply(
        now,
        &Op::Arrive {
            call: call.into(),
            queue: "q".into(),
            priority,
        },
    )
    .unwrap()
}

fn offered_to(evs: &[Event]) -> Vec<(String, String)> {
    evs.iter()
        .filter(|e| e.ev == "offered")
        .map(|e| (e.call.clone(), e.agent.clone()))
        .collect()
}

#[test]
fn longest_idle_agent_gets_the_call() {
    let mut acd = setup("longest_idle", "", &[("a2", ""), ("a1", "")]);
    // a2 logged in and became ready first.
    let evs = arrive(&mut acd, 1_000, "c1", 0);
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a2".into())]);
}

#[test]
fn skills_strategy_requires_minimum_then_prefers_best_level() {
    let mut acd = setup(
        "skills",
        "water=3",
        &[("a1", "water=2"), ("a2", "water=5"), ("a3", "water=9")],
    );
    let evs = arrive(&mut acd, 1_000, "c1", 0);
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a3".into())]);
    let evs = arrive(&mut acd, 1_001, "c2", 0);
    assert_eq!(offered_to(&evs), vec![("c2".into(), "a2".into())]);
    // a1 lacks the minimum level: the third call waits.
    let evs = arrive(&mut acd, 1_002, "c3", 0);
    assert!(offered_to(&evs).is_empty());
    assert_eq!(acd.position("c3"), Some(1));
}

#[test]
fn round_robin_cycles_through_agents() {
    let mut acd = setup("round_robin", "", &[("a1", ""), ("a2", ""), ("a3", "")]);
    let mut order = Vec::new();
    for (i, c) in ["c1", "c2", "c3", "c4"].iter().enumerate() {
        let now = 1_000 + i as u64;
        let evs = arrive(&mut acd, now, c, 0);
        let (_, agent) = offered_to(&evs)[0].clone();
        acd.apply(
            now,
            &Op::Answer {
                agent: agent.clone(),
                call: c.to_string(),
            },
        )
        .unwrap();
        acd.apply(
            now,
            &Op::Hangup {
                call: c.to_string(),
            },
        )
        .unwrap();
        acd.apply(now + 10_000, &Op::Tick).unwrap();
        order.push(agent);
    }
    assert_eq!(order, vec!["a1", "a2", "a3", "a1"]);
}

#[test]
fn priority_jumps_the_queue_and_ring_no_answer_returns_the_call_to_the_head() {
    let mut acd = setup("longest_idle", "", &[]);
    arrive(&mut acd, 1_000, "low", 0);
    arrive(&mut acd, 1_001, "vip", 5);
    assert_eq!(acd.position("vip"), Some(1));
    assert_eq!(acd.position("low"), Some(2));
    acd.apply(
        1_002,
        &Op::Login {
            agent: "a1".into(),
            queues: "q".into(),
            skills: String::new(),
        },
    )
    .unwrap();
    let evs = acd.apply(1_003, &ready("a1")).unwrap();
    assert_eq!(offered_to(&evs), vec![("vip".into(), "a1".into())]);
    // Nobody answers within 10 s: the call goes back first in line, the agent to "missed".
    let evs = acd.apply(11_003, &Op::Tick).unwrap();
    assert_eq!(evs[0].ev, "ring_no_answer");
    assert_eq!(acd.agents["a1"].state, "not_ready");
    assert_eq!(acd.agents["a1"].reason, "missed");
    assert_eq!(acd.position("vip"), Some(1));
}

#[test]
fn overflow_to_voicemail_after_max_wait_and_abandon_is_reported() {
    let mut acd = Acd::default();
    let mut q = queue("longest_idle", "");
    q.max_wait_ms = 30_000;
    q.overflow = "voicemail".into();
    acd.apply(
        0,
        &Op::Queue {
            id: "q".into(),
            cfg: q,
        },
    )
    .unwrap();
    arrive(&mut acd, 0, "c1", 0);
    arrive(&mut acd, 10_000, "c2", 0);
    let evs = acd.apply(30_000, &Op::Tick).unwrap();
    assert_eq!(
        (evs[0].ev.as_str(), evs[0].call.as_str(), evs[0].to.as_str()),
        ("overflowed", "c1", "voicemail")
    );
    let evs = acd
        .apply(32_000, &Op::Hangup { call: "c2".into() })
        .unwrap();
    assert_eq!(
        (evs[0].ev.as_str(), evs[0].waited_ms),
        ("abandoned", 22_000)
    );
    assert!(acd.calls.is_empty());
}

#[test]
fn wrap_up_holds_the_agent_then_returns_them_ready() {
    let mut acd = setup("longest_idle", "", &[("a1", "")]);
    arrive(&mut acd, 1_000, "c1", 0);
    acd.apply(
        1_000,
        &Op::Answer {
            agent: "a1".into(),
            call: "c1".into(),
        },
    )
    .unwrap();
    assert!(acd.apply(1_500, &ready("a1")).is_err(), "busy on a call");
    acd.apply(2_000, &Op::Hangup { call: "c1".into() }).unwrap();
    assert_eq!(acd.agents["a1"].state, "wrap_up");
    let evs = arrive(&mut acd, 3_000, "c2", 0);
    assert!(offered_to(&evs).is_empty(), "no offer during wrap-up");
    let evs = acd.apply(7_000, &Op::Tick).unwrap();
    assert_eq!(evs[0].ev, "wrapup_ended");
    assert_eq!(offered_to(&evs), vec![("c2".into(), "a1".into())]);
}

#[test]
fn blind_transfer_to_a_named_agent_skips_the_others_and_falls_back_when_missed() {
    // a1 has idled longest, so a queue call would go to a1; the transfer names a3.
    let mut acd = setup("longest_idle", "", &[("a1", ""), ("a2", ""), ("a3", "")]);
    let evs = arrive(&mut acd, 1_000, "c1", 0);
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a1".into())]);
    let answer = |agent: &str| Op::Answer {
        agent: agent.into(),
        call: "c1".into(),
    };
    acd.apply(1_001, &answer("a1")).unwrap();
    let transfer = |agent: &str| Op::Transfer {
        call: "c1".into(),
        queue: String::new(),
        agent: agent.into(),
    };
    // Transferring to oneself, or a call that is not connected, is refused.
    assert_eq!(
        acd.apply(1_002, &transfer("a1")),
        Err(hotline_acd::AcdError::BadValue)
    );
    let evs = acd.apply(2_000, &transfer("a3")).unwrap();
    assert_eq!(evs[0].ev, "transferred");
    assert_eq!((evs[0].agent.as_str(), evs[0].to.as_str()), ("a1", "q"));
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a3".into())]);
    // a1 wraps up after letting go; a3 does not answer in time: the call returns to the
    // queue and goes to whoever is free (a2), not back to waiting for a3.
    assert_eq!(acd.agents["a1"].state, "wrap_up");
    let evs = acd.apply(12_001, &Op::Tick).unwrap();
    assert!(evs
        .iter()
        .any(|e| e.ev == "ring_no_answer" && e.agent == "a3"));
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a2".into())]);
    assert_eq!(
        acd.apply(12_002, &transfer("a2")),
        Err(hotline_acd::AcdError::NotConnected)
    );
}

#[test]
fn blind_transfer_to_a_queue_keeps_the_callers_place_in_line() {
    let mut acd = setup("longest_idle", "", &[("a1", "")]);
    acd.apply(
        0,
        &Op::Queue {
            id: "billing".into(),
            cfg: queue("longest_idle", ""),
        },
    )
    .unwrap();
    arrive(&mut acd, 1_000, "first", 0);
    acd.apply(
        1_001,
        &Op::Answer {
            agent: "a1".into(),
            call: "first".into(),
        },
    )
    .unwrap();
    // Another caller is already waiting in billing when the first one is transferred there.
    acd.apply(
        1_500,
        &Op::Arrive {
            call: "later".into(),
            queue: "billing".into(),
            priority: 0,
        },
    )
    .unwrap();
    let evs = acd
        .apply(
            2_000,
            &Op::Transfer {
                call: "first".into(),
                queue: "billing".into(),
                agent: String::new(),
            },
        )
        .unwrap();
    assert_eq!(evs[0].to, "billing");
    assert_eq!(acd.position("first"), Some(1));
    assert_eq!(acd.position("later"), Some(2));
    let unknown = Op::Transfer {
        call: "later".into(),
        queue: "nowhere".into(),
        agent: String::new(),
    };
    assert_eq!(
        acd.apply(2_001, &unknown),
        Err(hotline_acd::AcdError::NotConnected)
    );
}

/// `(event, agent, reason)` of each event.
fn told(evs: &[Event]) -> Vec<(&str, &str, &str)> {
    evs.iter()
        .map(|e| (e.ev.as_str(), e.agent.as_str(), e.reason.as_str()))
        .collect()
}

#[test]
fn ring_all_rings_everyone_and_the_first_answer_stops_the_others() {
    let mut acd = setup("ring_all", "", &[("a1", ""), ("a2", ""), ("a3", "")]);
    acd.apply(
        500,
        &Op::SetState {
            agent: "a3".into(),
            state: "break".into(),
            reason: String::new(),
        },
    )
    .unwrap();
    let evs = arrive(&mut acd, 1_000, "c1", 0);
    assert_eq!(
        offered_to(&evs),
        vec![("c1".into(), "a1".into()), ("c1".into(), "a2".into())],
        "every Ready agent rings, not the one on a break"
    );
    // A second caller waits: nobody is free to ring for them.
    assert!(offered_to(&arrive(&mut acd, 1_100, "c2", 0)).is_empty());
    let answer = |agent: &str| Op::Answer {
        agent: agent.into(),
        call: "c1".into(),
    };
    let evs = acd.apply(3_000, &answer("a2")).unwrap();
    // a1 stops ringing for c1, is Ready again (not penalised) and rings for c2 at once.
    assert_eq!(
        told(&evs),
        vec![
            ("connected", "a2", ""),
            ("offer_cancelled", "a1", "answered_elsewhere"),
            ("offered", "a1", ""),
        ]
    );
    assert_eq!(evs[2].call, "c2");
    assert_eq!(acd.calls["c1"].agent, "a2");
    // Answering a call that someone else took is refused.
    assert_eq!(
        acd.apply(3_001, &answer("a1")),
        Err(hotline_acd::AcdError::NotOffered)
    );
}

#[test]
fn ring_all_without_an_answer_rings_again_and_penalises_nobody() {
    let mut acd = setup("ring_all", "", &[("a1", ""), ("a2", "")]);
    arrive(&mut acd, 1_000, "c1", 0);
    let evs = acd.apply(11_000, &Op::Tick).unwrap();
    assert_eq!(
        told(&evs),
        vec![
            ("offer_cancelled", "a1", "no_answer"),
            ("offer_cancelled", "a2", "no_answer"),
            ("offered", "a1", ""),
            ("offered", "a2", ""),
        ],
        "the call went back to the head of its queue and rings the Ready agents again"
    );
    assert_eq!(acd.calls["c1"].until, 21_000);
    // One agent declines: the other keeps ringing; the caller hangs up: it stops, Ready.
    let evs = acd
        .apply(
            12_000,
            &Op::Reject {
                agent: "a1".into(),
                call: "c1".into(),
            },
        )
        .unwrap();
    assert_eq!(told(&evs), vec![("rejected", "a1", "")]);
    assert_eq!(acd.calls["c1"].ringing, "a2");
    assert_eq!(acd.agents["a1"].state, "not_ready");
    let evs = acd
        .apply(13_000, &Op::Hangup { call: "c1".into() })
        .unwrap();
    assert_eq!(
        told(&evs),
        vec![
            ("offer_cancelled", "a2", "abandoned"),
            ("abandoned", "", "")
        ]
    );
    assert_eq!(acd.agents["a2"].state, "ready");
}

#[test]
fn ring_all_declined_by_everyone_goes_back_to_the_head_of_the_queue() {
    let mut acd = setup("ring_all", "", &[("a1", ""), ("a2", "")]);
    arrive(&mut acd, 1_000, "c1", 0);
    for a in ["a1", "a2"] {
        acd.apply(
            2_000,
            &Op::Reject {
                agent: a.into(),
                call: "c1".into(),
            },
        )
        .unwrap();
    }
    assert_eq!(acd.calls["c1"].state, "waiting");
    assert_eq!(acd.position("c1"), Some(1));
    let evs = acd.apply(3_000, &ready("a2")).unwrap();
    assert_eq!(offered_to(&evs), vec![("c1".into(), "a2".into())]);
}
