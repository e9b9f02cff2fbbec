//! One owner per call across three backends (issue 17, point 3): three real `hotline serve`
//! processes and two real gateways share one Postgres database and one Redis; the agent and
//! the consulted colleague are SIP desk phones (SIPp), the caller is SIPp too.
//!
//! * The caller dials gateway 1 and is answered by Aysel, whose phone is registered through
//!   gateway 2.
//! * Aysel consults her colleague Bob's extension (his phone registered through gateway 1)
//!   through a backend that does **not** own the tenant's shard of the event stream; Bob answers
//!   and they talk (the caller holds).
//! * **The backend owning the tenant's shard is SIGKILLed** in the middle of the consultation:
//!   its events (Bob's answer, the bridges) were in its hands.
//! * One of the two survivors takes the shard over once the lease lapses (2 s here) and drains
//!   what the dead one left pending; then Aysel hands the caller over to Bob, through the third
//!   backend. Caller and Bob hear each other; the caller hangs up.
//! * The call's timeline (the CDR events, written as each event is handled) has every step
//!   exactly once and in the order the call went through them: nothing handled twice, nothing
//!   out of order, even across the kill. Nothing is left pending and nothing dead-lettered.
//!
//! Needs `sipp` (Debian `sip-tester`) and the binaries (`cargo build -p hotline-gateway
//! -p hotline-backend --bins`).

mod common;

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{
    all_events_handled, bridged, cdr, dial_in, eventually, finished, gateway, hangup, recording,
    set_state, talking_caller, tenant, until_event, workdir, ANSWERING_PHONE,
};
use hotline_backend::{app, config::Config, testkit, testkit::TestApp};
use hotline_e2e::telephony::{rms, start_backend, stereo_channels};
use hotline_wire::gateway::{event_shard, event_shard_stream, GatewayEvent, HangupCause};
use serde_json::json;
use uuid::Uuid;

const CALLER: &str = "+15550007501";
const AYSEL: &str = "aysel@three.test";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_backends_a_kill_mid_consultation_keeps_each_calls_events_in_order() {
    let started = Instant::now();
    let database = testkit::create_database().await.unwrap();
    let cfg = Config {
        database_url: testkit::database_url(&database),
        redis_url: std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
        call_events_stream: format!("calls:events:{database}"),
        ..Config::default()
    };
    // This process only reads and seeds: it runs no consumer, ticker or API.
    let state = app::state(cfg).await.unwrap();
    let stream = state.cfg.call_events_stream.clone();
    let work = workdir("three-backends");
    let settings = [("HOTLINE_CALL_EVENTS_LEASE_SECS", "2".to_string())];
    let mut backends: Vec<Option<_>> = ["backend1", "backend2", "backend3"]
        .iter()
        .map(|name| {
            Some(start_backend(
                &work,
                name,
                &state.cfg.database_url,
                &state.cfg.redis_url,
                &stream,
                &settings,
            ))
        })
        .collect();
    let via = |url: &str| TestApp {
        base_url: url.to_string(),
        state: state.clone(),
        database: database.clone(),
    };
    let apps: Vec<TestApp> = backends
        .iter()
        .map(|b| via(&b.as_ref().unwrap().url))
        .collect();
    let consumers: Vec<String> = backends
        .iter()
        .map(|b| b.as_ref().unwrap().consumer.clone())
        .collect();

    let t = tenant(&apps[0], "Three Lines").await;
    let did = &format!("+99412{:07}", Uuid::new_v4().as_u128() % 10_000_000);
    t.queue_on_number(
        &apps[0],
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    t.agent(&apps[0], AYSEL, "Aysel", Some("1001"), &[]).await;
    t.agent(&apps[1], "bob@three.test", "Bob", Some("2001"), &[])
        .await;
    let (work1, work2) = (work.join("gw1"), work.join("gw2"));
    std::fs::create_dir_all(&work1).unwrap();
    std::fs::create_dir_all(&work2).unwrap();
    let gw1 = gateway(&apps[0], &work1, 0, false);
    let gw2 = gateway(&apps[0], &work2, 1, false);
    let (dir_aysel, dir_bob) = (work.join("aysel"), work.join("bob"));
    let phone_aysel = t
        .sip_phone(&apps[0], &gw2.addr, &dir_aysel, "1001", ANSWERING_PHONE)
        .await;
    let phone_bob = t
        .sip_phone(
            &apps[1],
            &gw1.addr,
            &dir_bob,
            "2001",
            &common::talking_phone(),
        )
        .await;
    let desk = t.login(&apps[0], AYSEL).await;
    set_state(&apps[0], &desk, "ready").await;

    // The caller talks every 7 s for about a minute, then hangs up.
    let dir_caller = work.join("caller");
    let caller = dial_in(
        &dir_caller,
        &talking_caller(CALLER, 500, 8, 7_000, 3_000),
        did,
        &gw1.addr,
    );
    let (call, _agent_leg, _) = bridged(&apps[0], CALLER).await;

    // Who owns the tenant's shard now, and a backend that does not.
    let shard = event_shard_stream(&stream, event_shard(t.id));
    let mut r = state.redis();
    let first_owner = common::shard_owner(&mut r, &shard)
        .await
        .expect("the shard has an owner");
    let dead = consumers
        .iter()
        .position(|c| *c == first_owner)
        .expect("the owner is one of the three");
    let (other, third) = ((dead + 1) % 3, (dead + 2) % 3);

    // Consult Bob through a backend that does not own the shard.
    let desk_other = t.login(&apps[other], AYSEL).await;
    let started_consult: serde_json::Value = common::ok(
        desk_other
            .post(apps[other].url(&format!("/api/v1/agent/calls/{call}/consult")))
            .json(&json!({ "extension": "2001" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let consult_leg: Uuid = started_consult["call_id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    // Bob answered: the consult leg is up (and, once handled, bridged to Aysel).
    until_event(
        &r,
        &stream,
        20,
        "Bob answering",
        move |e| matches!(e, GatewayEvent::CallAnswered { call_id, .. } if *call_id == consult_leg),
    )
    .await;

    // Kill the shard's owner mid-consultation.
    backends[dead].take().unwrap().signal("KILL");
    let killed_at = Utc::now();

    // A survivor takes the shard over once the dead one's lease lapses.
    let new_owner = eventually(15, "a survivor owning the shard", || {
        let (mut r, shard, gone) = (r.clone(), shard.clone(), first_owner.clone());
        async move {
            common::shard_owner(&mut r, &shard)
                .await
                .filter(|o| *o != gone)
        }
    })
    .await;
    assert!(
        [&consumers[other], &consumers[third]].contains(&&new_owner),
        "{new_owner}"
    );
    // The consultation went on: Aysel talks with Bob.
    until_event(
        &r,
        &stream,
        20,
        "Aysel bridged to Bob",
        move |e| matches!(e, GatewayEvent::Bridged { peer, .. } if *peer == consult_leg),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    // Hand the caller over to Bob, through the third backend.
    let desk_third = t.login(&apps[third], AYSEL).await;
    let handed_over_at = Utc::now();
    let res = desk_third
        .post(apps[third].url(&format!("/api/v1/agent/calls/{call}/consult/transfer")))
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "{}: {}",
        res.status(),
        res.text().await.unwrap_or_default()
    );
    until_event(&r, &stream, 20, "the caller bridged to Bob", move |e| {
        matches!(e, GatewayEvent::Bridged { call_id, peer, .. }
            if *call_id == call && *peer == consult_leg)
    })
    .await;

    finished(caller, &dir_caller, "the caller").await;
    finished(phone_bob, &dir_bob, "Bob's phone").await;
    finished(phone_aysel, &dir_aysel, "Aysel's phone").await;
    let survivor = &apps[third];
    let (cause, _) = hangup(survivor, call).await;
    assert_eq!(cause, HangupCause::CallerBye);

    // The caller heard Bob after the hand-over (the caller leg's recording, right channel).
    let (path, rec_start): (_, DateTime<Utc>) = recording(survivor, call).await;
    let (_, heard) = stereo_channels(&path);
    let from = ((handed_over_at - rec_start).num_milliseconds().max(0) as usize + 1_000) * 8;
    assert!(
        from < heard.len(),
        "the recording ends before the hand-over"
    );
    let level = rms(&heard[from..]);
    assert!(level > 300.0, "the caller heard nothing from Bob: {level}");

    // The timeline: every step once, in the order the call went through them.
    let c = cdr(survivor, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    let events = c["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    let mut last = 0;
    for step in [
        "queued",
        "offered",
        "connected",
        "consult",
        "consult_transferred",
        "ended",
    ] {
        let at: Vec<usize> = kinds
            .iter()
            .enumerate()
            .filter(|(_, k)| **k == step)
            .map(|(i, _)| i)
            .collect();
        assert_eq!(at.len(), 1, "{step} once on the timeline: {kinds:?}");
        assert!(at[0] >= last, "{step} out of order: {kinds:?}");
        last = at[0];
    }
    let times: Vec<DateTime<Utc>> = events
        .iter()
        .map(|e| serde_json::from_value(e["at"].clone()).unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "timeline times go back: {kinds:?} {times:?}"
    );
    // The hand-over was handled after the kill, by a survivor.
    let handed: DateTime<Utc> = serde_json::from_value(
        events[kinds
            .iter()
            .position(|k| *k == "consult_transferred")
            .unwrap()]["at"]
            .clone(),
    )
    .unwrap();
    assert!(handed > killed_at, "{handed} vs kill at {killed_at}");

    // Nothing pending in any shard's group, nothing dead-lettered.
    all_events_handled(&r, &stream).await;
    eprintln!(
        "three backends, one killed mid-consultation: {:?}",
        started.elapsed()
    );
    drop((gw1, gw2, backends));
    let _ = std::fs::remove_dir_all(&work);
}
