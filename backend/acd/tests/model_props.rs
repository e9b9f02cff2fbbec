//! Property tests of the ACD model: random interleavings of arrivals, agent state changes,
//! answers, rejections, hang-ups and timeouts keep the promises the ACD makes.

mod common;

use common::*;
use hotline_acd::model::{parse_skills, Acd};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn check_invariants(acd: &Acd) -> Result<(), TestCaseError> {
    // No agent holds two calls and no call is with two agents: the links are a bijection.
    for (id, a) in &acd.agents {
        match a.state.as_str() {
            "ringing" | "on_call" => {
                let c = acd.calls.get(&a.call);
                prop_assert!(c.is_some(), "agent {id} holds missing call {}", a.call);
                let c = c.unwrap();
                prop_assert_eq!(&c.agent, id);
                let want = if a.state == "ringing" {
                    "offered"
                } else {
                    "connected"
                };
                prop_assert_eq!(c.state.as_str(), want);
            }
            _ => prop_assert!(a.call.is_empty(), "agent {id} in {} keeps a call", a.state),
        }
    }
    for (id, c) in &acd.calls {
        if c.state == "offered" || c.state == "connected" {
            let a = &acd.agents[&c.agent];
            prop_assert_eq!(&a.call, id);
        } else {
            prop_assert_eq!(c.state.as_str(), "waiting");
            prop_assert!(c.agent.is_empty());
        }
    }
    // Work conservation: no waiting call while an eligible agent is ready (for a call
    // transferred to a named agent, that agent is the only eligible one).
    for c in acd.calls.values().filter(|c| c.state == "waiting") {
        if !c.target.is_empty() {
            let t = &acd.agents[&c.target];
            prop_assert!(
                t.state != "ready",
                "{} idle while a call waits for them",
                c.target
            );
            continue;
        }
        let q = &acd.queues[&c.queue];
        for (id, a) in &acd.agents {
            let eligible = a.state == "ready"
                && a.queues.split(',').any(|x| x == c.queue)
                && parse_skills(&q.skills).iter().all(|(n, min)| {
                    parse_skills(&a.skills)
                        .iter()
                        .any(|(m, l)| m == n && l >= min)
                });
            prop_assert!(
                !eligible,
                "agent {id} idle while a call waits in {}",
                c.queue
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_keep_the_acd_promises(
        setup in queues(),
        steps in prop::collection::vec(step(), 1..120),
    ) {
        let mut acd = Acd::default();
        let mut now = 1_000u64;
        for op in &setup {
            acd.apply(now, op).unwrap();
        }
        let mut next_call = 0;
        let mut arrived = BTreeSet::new();
        let mut ended = BTreeSet::new();
        // call → agent while offered or connected, as told by the events.
        let mut holder: BTreeMap<String, String> = BTreeMap::new();
        for (dt, st) in steps {
            now += dt;
            let op = resolve(&acd, &st, &mut next_call);
            let before = acd.clone();
            let Ok(evs) = acd.apply(now, &op) else {
                prop_assert_eq!(&before, &acd, "a refused operation changes nothing");
                continue;
            };
            if let hotline_acd::Op::Arrive { call, .. } = &op {
                arrived.insert(call.clone());
            }
            for e in &evs {
                match e.ev.as_str() {
                    "offered" => {
                        // Never offered while already with an agent.
                        prop_assert!(holder.insert(e.call.clone(), e.agent.clone()).is_none());
                        // FIFO within priority: nobody earlier or more urgent still waits in
                        // the same queue (all its calls need the same agents).
                        let c = &acd.calls[&e.call];
                        if !c.target.is_empty() {
                            prop_assert_eq!(&c.target, &e.agent, "a transfer goes to its agent");
                            continue;
                        }
                        for (wid, w) in &acd.calls {
                            if w.state == "waiting" && w.queue == c.queue && w.target.is_empty() {
                                prop_assert!(
                                    !(w.priority > c.priority
                                        || (w.priority == c.priority && w.seq < c.seq)),
                                    "{} offered before {}", e.call, wid
                                );
                            }
                        }
                    }
                    "rejected" | "ring_no_answer" | "transferred" => {
                        prop_assert_eq!(holder.remove(&e.call), Some(e.agent.clone()));
                    }
                    "abandoned" | "completed" => {
                        holder.remove(&e.call);
                        prop_assert!(ended.insert(e.call.clone()));
                    }
                    "overflowed" if e.to == "voicemail" => {
                        prop_assert!(ended.insert(e.call.clone()));
                    }
                    _ => {}
                }
            }
            check_invariants(&acd)?;
            // No call lost: every arrival is still in the ACD or ended exactly once.
            let live: BTreeSet<String> = acd.calls.keys().cloned().collect();
            prop_assert!(live.is_disjoint(&ended));
            let all: BTreeSet<String> = live.union(&ended).cloned().collect();
            prop_assert_eq!(&all, &arrived);
        }
    }
}
