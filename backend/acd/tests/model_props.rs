//! Property tests of the ACD model: random interleavings of arrivals, agent state changes,
//! answers, rejections, hang-ups and timeouts keep the promises the ACD makes (with ring-all
//! queues among the strategies).

mod common;

use common::*;
use hotline_acd::model::{parse_skills, Acd};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn ringing(c: &hotline_acd::CallRec) -> Vec<&str> {
    c.ringing.split(',').filter(|a| !a.is_empty()).collect()
}

fn check_invariants(acd: &Acd) -> Result<(), TestCaseError> {
    // No agent holds two calls (rings for two), and a call is with one agent, or rings the
    // agents of its ring-all: the links agree both ways.
    for (id, a) in &acd.agents {
        match a.state.as_str() {
            "ringing" | "on_call" => {
                let c = acd.calls.get(&a.call);
                prop_assert!(c.is_some(), "agent {id} holds missing call {}", a.call);
                let c = c.unwrap();
                let want = if a.state == "ringing" {
                    "offered"
                } else {
                    "connected"
                };
                prop_assert_eq!(c.state.as_str(), want);
                prop_assert!(
                    c.agent == *id || (a.state == "ringing" && ringing(c).contains(&id.as_str())),
                    "agent {} {} for {} which is with {:?}/{:?}",
                    id,
                    a.state,
                    a.call,
                    c.agent,
                    c.ringing
                );
            }
            _ => prop_assert!(a.call.is_empty(), "agent {id} in {} keeps a call", a.state),
        }
    }
    for (id, c) in &acd.calls {
        match c.state.as_str() {
            "offered" if !c.ringing.is_empty() => {
                prop_assert!(c.agent.is_empty(), "a ring-all offer has no agent yet");
                for aid in ringing(c) {
                    let a = &acd.agents[aid];
                    prop_assert_eq!((a.state.as_str(), &a.call), ("ringing", id));
                }
            }
            "offered" | "connected" => {
                prop_assert!(
                    c.ringing.is_empty(),
                    "{} {} still rings others",
                    id,
                    c.state
                );
                let a = &acd.agents[&c.agent];
                prop_assert_eq!(&a.call, id);
            }
            _ => {
                prop_assert_eq!(c.state.as_str(), "waiting");
                prop_assert!(c.agent.is_empty() && c.ringing.is_empty());
            }
        }
        // A ring-all call is connected to at most one agent.
        let on_it = acd
            .agents
            .values()
            .filter(|a| a.state == "on_call" && a.call == *id)
            .count();
        prop_assert_eq!(on_it, usize::from(c.state == "connected"));
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
        // call → the agents it rings or is connected to, as told by the events.
        let mut holder: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
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
            // The agents ringing for the call answered by this step, before it.
            let rang: BTreeSet<String> = match &op {
                hotline_acd::Op::Answer { call, .. } => {
                    holder.get(call).cloned().unwrap_or_default()
                }
                _ => BTreeSet::new(),
            };
            for e in &evs {
                match e.ev.as_str() {
                    "offered" => {
                        // No agent rings for two calls.
                        prop_assert!(
                            holder.values().all(|h| !h.contains(&e.agent)),
                            "{} offered {} while holding another call", e.agent, e.call
                        );
                        // Never offered while connected, nor twice to one agent.
                        let h = holder.entry(e.call.clone()).or_default();
                        prop_assert!(h.insert(e.agent.clone()));
                        prop_assert_eq!(acd.calls[&e.call].state.as_str(), "offered");
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
                    "connected" => {
                        let h = holder.get_mut(&e.call);
                        prop_assert!(h.is_some_and(|h| h.contains(&e.agent)), "{} not offered", e.call);
                    }
                    "rejected" | "ring_no_answer" | "transferred" | "offer_cancelled" => {
                        let h = holder.get_mut(&e.call);
                        prop_assert!(h.is_some(), "{} {} not held", e.ev, e.call);
                        let h = h.unwrap();
                        prop_assert!(h.remove(&e.agent), "{} {} not by {}", e.ev, e.call, e.agent);
                        if h.is_empty() {
                            holder.remove(&e.call);
                        }
                        if e.ev == "offer_cancelled" {
                            // Never a penalty: the agent waits for calls again.
                            prop_assert!(acd.agents[&e.agent].state != "not_ready", "{} penalised", e.agent);
                        }
                    }
                    "abandoned" | "completed" => {
                        if e.ev == "completed" {
                            prop_assert_eq!(holder.remove(&e.call).map(|h| h.len()), Some(1));
                        }
                        prop_assert!(!holder.contains_key(&e.call), "ringing agents of {} kept", e.call);
                        prop_assert!(ended.insert(e.call.clone()));
                    }
                    "overflowed" if e.to == "voicemail" => {
                        prop_assert!(ended.insert(e.call.clone()));
                    }
                    _ => {}
                }
            }
            // Every other agent ringing for an answered call is released with the answer.
            if let (hotline_acd::Op::Answer { agent, call }, true) = (&op, !evs.is_empty()) {
                let cancelled: BTreeSet<String> = evs
                    .iter()
                    .filter(|e| e.ev == "offer_cancelled" && e.call == *call)
                    .map(|e| e.agent.clone())
                    .collect();
                let others: BTreeSet<String> = rang.iter().filter(|a| *a != agent).cloned().collect();
                prop_assert_eq!(&cancelled, &others);
                for a in &others {
                    prop_assert!(acd.agents[a].call != *call, "{} still rings for {}", a, call);
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
