//! The Lua script against the model on a real Redis (`REDIS_URL`, default 127.0.0.1:6379):
//! the same random operation sequences must give the same events, the same refusals and the
//! same stored state after every step.

mod common;

use common::*;
use hotline_acd::model::Acd;
use hotline_acd::redis_acd::{self, Keys, RedisAcdError};
use proptest::prelude::*;

fn connection() -> redis::Connection {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    redis::Client::open(url)
        .and_then(|c| c.get_connection())
        .expect("Redis must be running for the ACD tests (REDIS_URL)")
}

fn cleanup(con: &mut redis::Connection, keys: &Keys) {
    let _: () = redis::cmd("DEL")
        .arg(&keys.agents)
        .arg(&keys.queues)
        .arg(&keys.calls)
        .arg(&keys.meta)
        .arg(&keys.index)
        .arg(&keys.timers)
        .query(con)
        .unwrap();
}

proptest! {
    // 60 cases unless PROPTEST_CASES says otherwise.
    #![proptest_config(ProptestConfig { cases: cases(60), ..ProptestConfig::default() })]

    #[test]
    fn lua_script_behaves_exactly_like_the_model(
        setup in queues(),
        steps in prop::collection::vec(step(), 1..80),
        // Before which steps the script's index is deleted (as if the data predated it), so
        // the rebuild is compared against the model too.
        drops in prop::collection::vec(prop::bool::weighted(0.05), 80),
    ) {
        let mut con = connection();
        let script = redis_acd::script();
        let keys = Keys::for_tenant(&format!("acd-test-{}", std::process::id() as u64 * 1_000_000 + fastrand_like()));
        cleanup(&mut con, &keys);
        let mut model = Acd::default();
        let mut now = 1_000u64;
        for op in &setup {
            let want = model.apply(now, op).unwrap();
            let got = redis_acd::apply(&mut con, &script, &keys, now, op).unwrap();
            prop_assert_eq!(got, want);
        }
        let mut next_call = 0;
        let result = (|| -> Result<(), TestCaseError> {
            for (i, (dt, st)) in steps.into_iter().enumerate() {
                now += dt;
                if drops[i] {
                    // The index one time, the timers the other (either makes both rebuilt).
                    let key = if i % 2 == 0 { &keys.index } else { &keys.timers };
                    let _: () = redis::cmd("DEL").arg(key).query(&mut con).unwrap();
                }
                let op = resolve(&model, &st, &mut next_call);
                let want = model.apply(now, &op);
                let got = redis_acd::apply(&mut con, &script, &keys, now, &op);
                match (want, got) {
                    (Ok(w), Ok(g)) => prop_assert_eq!(g, w, "events of {:?}", op),
                    (Err(w), Err(RedisAcdError::Acd(g))) => prop_assert_eq!(g, w, "refusal of {:?}", op),
                    (w, g) => prop_assert!(false, "{:?}: model {:?}, redis {:?}", op, w, g),
                }
                let stored = redis_acd::snapshot(&mut con, &keys).unwrap();
                prop_assert_eq!(&stored, &model, "state after {:?}", op);
                let index: std::collections::BTreeSet<Vec<u8>> =
                    redis::cmd("ZRANGE").arg(&keys.index).arg(0).arg(-1).query(&mut con).unwrap();
                prop_assert_eq!(index, expected_index(&model), "index after {:?}", op);
                let timers: Vec<(Vec<u8>, String)> = redis::cmd("ZRANGE")
                    .arg(&keys.timers)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query(&mut con)
                    .unwrap();
                let timers: std::collections::BTreeMap<_, _> = timers.into_iter().collect();
                prop_assert_eq!(timers, expected_timers(&model), "timers after {:?}", op);
            }
            Ok(())
        })();
        cleanup(&mut con, &keys);
        result?;
    }
}

/// The members `acd.lua` keeps in its index for the state `acd`.
fn expected_index(acd: &Acd) -> std::collections::BTreeSet<Vec<u8>> {
    let mut out = std::collections::BTreeSet::from([b"v3".to_vec()]);
    for (id, a) in &acd.agents {
        if a.state == "ready" {
            for q in a.queues.split(',').filter(|q| !q.is_empty()) {
                let tail = format!("{}\0{}\0{}", a.idle_since, a.answered, a.skills);
                out.insert(format!("q\0{q}\0{id}\0{tail}").into_bytes());
            }
        }
    }
    for (id, c) in &acd.calls {
        if c.state == "waiting" {
            out.insert(format!("c\0waiting\0{id}").into_bytes());
        }
    }
    out
}

/// The members and scores `acd.lua` keeps in its timers for the state `acd`.
fn expected_timers(acd: &Acd) -> std::collections::BTreeMap<Vec<u8>, String> {
    let mut out = std::collections::BTreeMap::from([(b"v3".to_vec(), "inf".to_string())]);
    for (id, a) in &acd.agents {
        if a.state == "wrap_up" {
            out.insert(format!("a\0{id}").into_bytes(), a.until.to_string());
        }
    }
    for (id, c) in &acd.calls {
        if c.state == "offered" {
            out.insert(format!("c\0{id}").into_bytes(), c.until.to_string());
        }
    }
    out
}

/// `PROPTEST_CASES` when set, else `default`.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A per-case number without another dependency.
fn fastrand_like() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

/// A fresh tenant (`<name>-<pid>`) with one longest-idle queue `q` (10 s ring time-out).
fn tenant_with_queue(name: &str) -> (redis::Script, Keys, redis::Connection) {
    let script = redis_acd::script();
    let keys = Keys::for_tenant(&format!("{name}-{}", std::process::id()));
    let mut con = connection();
    cleanup(&mut con, &keys);
    let q = hotline_acd::QueueRec {
        strategy: "longest_idle".into(),
        ring_timeout_ms: 10_000,
        ..Default::default()
    };
    let op = hotline_acd::Op::Queue {
        id: "q".into(),
        cfg: q,
    };
    redis_acd::apply(&mut con, &script, &keys, 0, &op).unwrap();
    (script, keys, con)
}

#[test]
fn two_processes_racing_for_one_agent_get_one_offer() {
    // Atomicity: many connections arriving calls at once never offer one agent two calls.
    let (script, keys, mut con) = tenant_with_queue("acd-race");
    for a in ["a1", "a2"] {
        redis_acd::apply(
            &mut con,
            &script,
            &keys,
            0,
            &hotline_acd::Op::Login {
                agent: a.into(),
                queues: "q".into(),
                skills: String::new(),
            },
        )
        .unwrap();
        redis_acd::apply(
            &mut con,
            &script,
            &keys,
            1,
            &hotline_acd::Op::SetState {
                agent: a.into(),
                state: "ready".into(),
                reason: String::new(),
            },
        )
        .unwrap();
    }
    let offers: Vec<Vec<hotline_acd::Event>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|i| {
                let (script, keys) = (&script, &keys);
                s.spawn(move || {
                    let mut con = connection();
                    redis_acd::apply(
                        &mut con,
                        script,
                        keys,
                        2,
                        &hotline_acd::Op::Arrive {
                            call: format!("c{i}"),
                            queue: "q".into(),
                            priority: 0,
                        },
                    )
                    .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let mut agents: Vec<String> = offers
        .into_iter()
        .flatten()
        .filter(|e| e.ev == "offered")
        .map(|e| e.agent)
        .collect();
    agents.sort();
    assert_eq!(
        agents,
        vec!["a1", "a2"],
        "two agents, two offers, six calls waiting"
    );
    let snap = redis_acd::snapshot(&mut con, &keys).unwrap();
    assert_eq!(
        snap.calls.values().filter(|c| c.state == "waiting").count(),
        6
    );
    cleanup(&mut con, &keys);
}

#[test]
fn records_not_in_the_scripts_own_json_layout_are_still_found_by_scans() {
    // The script skips decoding records whose JSON cannot hold the state a scan looks for,
    // relying on cjson's `"state":"x"`; a record written in another layout (spaces, another
    // key order) must still be decoded and seen.
    let (script, keys, mut con) = tenant_with_queue("acd-layout");
    let rec = |state: &str, until: u64| {
        serde_json::to_string_pretty(&hotline_acd::AgentRec {
            state: state.into(),
            until,
            idle_since: 5,
            queues: "q".into(),
            ..Default::default()
        })
        .unwrap()
    };
    let _: () = redis::cmd("HSET")
        .arg(&keys.agents)
        .arg("ready1")
        .arg(rec("ready", 0))
        .arg("wrap1")
        .arg(rec("wrap_up", 50))
        .query(&mut con)
        .unwrap();
    // Records written behind the script's back: its index must be rebuilt (see `Keys::index`).
    let _: () = redis::cmd("DEL").arg(&keys.index).query(&mut con).unwrap();
    let evs = redis_acd::apply(&mut con, &script, &keys, 100, &hotline_acd::Op::Tick).unwrap();
    assert_eq!(
        evs.iter()
            .map(|e| (e.ev.as_str(), e.agent.as_str()))
            .collect::<Vec<_>>(),
        vec![("wrapup_ended", "wrap1")]
    );
    let arrive = |call: &str| hotline_acd::Op::Arrive {
        call: call.into(),
        queue: "q".into(),
        priority: 0,
    };
    let evs = redis_acd::apply(&mut con, &script, &keys, 200, &arrive("c1")).unwrap();
    assert_eq!(
        evs.iter()
            .map(|e| (e.ev.as_str(), e.agent.as_str()))
            .collect::<Vec<_>>(),
        vec![("offered", "ready1")],
        "the longest idle agent, stored with spaces, gets the call"
    );
    let evs = redis_acd::apply(&mut con, &script, &keys, 300, &arrive("c2")).unwrap();
    assert_eq!(evs[0].agent, "wrap1");
    cleanup(&mut con, &keys);
}

#[test]
fn a_stale_index_is_noticed_when_it_names_an_agent_the_hashes_do_not_have() {
    // The hashes deleted behind the script's back (the index kept): the index still lists
    // a1 as Ready and longest idle. The offer must go to the agent that exists, and the next
    // step rebuilds the index.
    let (script, keys, mut con) = tenant_with_queue("acd-stale");
    let op = |o: hotline_acd::Op, now: u64, con: &mut redis::Connection| {
        redis_acd::apply(con, &script, &keys, now, &o).unwrap()
    };
    let login = |agent: &str| hotline_acd::Op::Login {
        agent: agent.into(),
        queues: "q".into(),
        skills: String::new(),
    };
    let ready = |agent: &str| hotline_acd::Op::SetState {
        agent: agent.into(),
        state: "ready".into(),
        reason: String::new(),
    };
    op(login("a1"), 10, &mut con);
    op(ready("a1"), 10, &mut con);
    let _: () = redis::cmd("DEL")
        .arg(&keys.agents)
        .arg(&keys.calls)
        .query(&mut con)
        .unwrap();
    op(login("a2"), 20, &mut con);
    op(ready("a2"), 20, &mut con);
    let arrive = hotline_acd::Op::Arrive {
        call: "c1".into(),
        queue: "q".into(),
        priority: 0,
    };
    let evs = op(arrive, 30, &mut con);
    assert_eq!(
        evs.iter()
            .map(|e| (e.ev.as_str(), e.agent.as_str()))
            .collect::<Vec<_>>(),
        vec![("offered", "a2")]
    );
    op(hotline_acd::Op::Tick, 40, &mut con);
    let model = redis_acd::snapshot(&mut con, &keys).unwrap();
    let index: std::collections::BTreeSet<Vec<u8>> = redis::cmd("ZRANGE")
        .arg(&keys.index)
        .arg(0)
        .arg(-1)
        .query(&mut con)
        .unwrap();
    assert_eq!(
        index,
        expected_index(&model),
        "rebuilt after the stale step"
    );
    cleanup(&mut con, &keys);
}

#[test]
fn two_agents_answering_one_ring_all_call_at_once_connect_one() {
    // Atomicity of ring-all: both ringing agents' answers race from separate connections;
    // exactly one connects, the other's is refused and that agent is Ready again.
    let (script, keys, mut con) = tenant_with_queue("acd-ring-all-race");
    let ring_all = hotline_acd::QueueRec {
        strategy: "ring_all".into(),
        ring_timeout_ms: 10_000,
        ..Default::default()
    };
    let op = |o: hotline_acd::Op, con: &mut redis::Connection| {
        redis_acd::apply(con, &script, &keys, 1, &o).unwrap()
    };
    op(
        hotline_acd::Op::Queue {
            id: "q".into(),
            cfg: ring_all,
        },
        &mut con,
    );
    for a in ["a1", "a2"] {
        op(
            hotline_acd::Op::Login {
                agent: a.into(),
                queues: "q".into(),
                skills: String::new(),
            },
            &mut con,
        );
        op(
            hotline_acd::Op::SetState {
                agent: a.into(),
                state: "ready".into(),
                reason: String::new(),
            },
            &mut con,
        );
    }
    let evs = op(
        hotline_acd::Op::Arrive {
            call: "c1".into(),
            queue: "q".into(),
            priority: 0,
        },
        &mut con,
    );
    assert_eq!(evs.iter().filter(|e| e.ev == "offered").count(), 2);
    let answers: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = ["a1", "a2"]
            .map(|a| {
                let (script, keys) = (&script, &keys);
                s.spawn(move || {
                    let mut con = connection();
                    let answer = hotline_acd::Op::Answer {
                        agent: a.into(),
                        call: "c1".into(),
                    };
                    redis_acd::apply(&mut con, script, keys, 2, &answer).ok()
                })
            })
            .into_iter()
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won: Vec<&Vec<hotline_acd::Event>> = answers.iter().flatten().collect();
    assert_eq!(won.len(), 1, "{answers:?}");
    let winner = &won[0][0].agent;
    let loser = if winner == "a1" { "a2" } else { "a1" };
    assert_eq!(
        won[0]
            .iter()
            .map(|e| (e.ev.as_str(), e.agent.as_str(), e.reason.as_str()))
            .collect::<Vec<_>>(),
        vec![
            ("connected", winner.as_str(), ""),
            ("offer_cancelled", loser, "answered_elsewhere")
        ]
    );
    let snap = redis_acd::snapshot(&mut con, &keys).unwrap();
    assert_eq!(snap.agents[loser].state, "ready");
    assert_eq!(snap.calls["c1"].agent, *winner);
    cleanup(&mut con, &keys);
}
