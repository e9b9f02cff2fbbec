//! One owner per call across three backends, with a browser agent (issue 17, point 3): three
//! real `hotline serve` processes and two real gateways (both with WebRTC) share one Postgres
//! database and one Redis. Aysel works in Chromium (softphone over WebRTC, her desktop served
//! by a backend that does **not** own the tenant's shard of the event stream); the caller and
//! her colleague Bob's desk phone are SIPp.
//!
//! * The caller dials gateway 1; Aysel answers on her desktop.
//! * From the desktop she consults Bob's extension (registered through gateway 2). As soon as
//!   Bob answers, **the backend owning the tenant's shard is SIGKILLed**: his answer and the
//!   bridge to Aysel were in its hands.
//! * A survivor takes the shard over; the desktop shows the consultation talking; Aysel hands
//!   the caller over to Bob from the desktop, which then has no call.
//! * The call's timeline has every step exactly once, in order, the hand-over after the kill;
//!   nothing is left pending and nothing dead-lettered.
//!
//! Needs Chromium + chromedriver, SIPp, the binaries and a built `frontend/dist`.

mod common;

use std::time::Instant;

use anyhow::ensure;
use chrono::{DateTime, Utc};
use common::{
    all_events_handled, bridged, cdr, dial_in, eventually, finished, gateway, talking_caller,
    tenant, until_event, workdir, PASSWORD,
};
use hotline_backend::{app, config::Config, testkit, testkit::TestApp};
use hotline_e2e::browser::{fake_microphone_args, repo_root, run_with};
use hotline_e2e::telephony::start_backend;
use hotline_wire::gateway::{event_shard, event_shard_stream, GatewayEvent};
use serde_json::json;
use uuid::Uuid;

const CALLER: &str = "+15550007601";
const AYSEL: &str = "aysel@three-browser.test";
const BOB_EXT: &str = "2001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_agent_consults_and_transfers_while_the_shards_owner_is_killed() {
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
    let work = workdir("browser-three-backends");
    let settings = [
        ("HOTLINE_CALL_EVENTS_LEASE_SECS", "2".to_string()),
        (
            "HOTLINE_SPA_DIR",
            repo_root().join("frontend/dist").display().to_string(),
        ),
    ];
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
    let apps: Vec<TestApp> = backends
        .iter()
        .map(|b| TestApp {
            base_url: b.as_ref().unwrap().url.clone(),
            state: state.clone(),
            database: database.clone(),
        })
        .collect();
    let consumers: Vec<String> = backends
        .iter()
        .map(|b| b.as_ref().unwrap().consumer.clone())
        .collect();

    let t = tenant(&apps[0], "Three Windows").await;
    let did = format!("+99412{:07}", Uuid::new_v4().as_u128() % 10_000_000);
    t.queue_on_number(
        &apps[0],
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        &did,
    )
    .await;
    t.agent(&apps[0], AYSEL, "Aysel", None, &[]).await;
    t.agent(
        &apps[1],
        "bob@three-browser.test",
        "Bob",
        Some(BOB_EXT),
        &[],
    )
    .await;
    let (work1, work2) = (work.join("gw1"), work.join("gw2"));
    std::fs::create_dir_all(&work1).unwrap();
    std::fs::create_dir_all(&work2).unwrap();
    let gw1 = gateway(&apps[0], &work1, 0, true);
    let gw2 = gateway(&apps[0], &work2, 1, true);
    let dir_bob = work.join("bob");
    let phone_bob = t
        .sip_phone(
            &apps[1],
            &gw2.addr,
            &dir_bob,
            BOB_EXT,
            &common::talking_phone(),
        )
        .await;

    // The tenant's shard and its owner; Aysel's desktop is served by another backend.
    let shard = event_shard_stream(&stream, event_shard(t.id));
    let r = state.redis();
    let first_owner = eventually(15, "an owner of the tenant's shard", || {
        let (mut r, shard) = (r.clone(), shard.clone());
        async move { common::shard_owner(&mut r, &shard).await }
    })
    .await;
    let dead = consumers
        .iter()
        .position(|c| *c == first_owner)
        .expect("the owner is one of the three");
    let desk_at = (dead + 1) % 3;

    let dir_caller = work.join("caller");
    let killed_at: std::sync::Arc<std::sync::Mutex<Option<DateTime<Utc>>>> = Default::default();
    let caller: std::sync::Arc<std::sync::Mutex<Option<std::process::Child>>> = Default::default();
    let args = fake_microphone_args(&work);
    {
        let (apps, slug, did, gw1_addr, dir_caller, stream, shard, r) = (
            &apps,
            t.slug.clone(),
            did.clone(),
            gw1.addr.clone(),
            dir_caller.clone(),
            stream.clone(),
            shard.clone(),
            r.clone(),
        );
        let (consumers, backends, killed_at, caller) =
            (&consumers, &mut backends, killed_at.clone(), caller.clone());
        run_with(
            "a_browser_agent_consults_and_transfers_while_the_shards_owner_is_killed",
            &apps[desk_at].base_url,
            &args,
            async move |b| {
                b.agent_ready(&slug, AYSEL, PASSWORD).await?;
                *caller.lock().unwrap() = Some(dial_in(
                    &dir_caller,
                    &talking_caller(CALLER, 500, 8, 7_000, 3_000),
                    &did,
                    &gw1_addr,
                ));
                b.wait_text("#incoming-caller", CALLER).await?;
                b.click("#call-accept").await?;
                b.wait("#in-call").await?;
                let call = bridged(&apps[desk_at], CALLER).await.0;
                b.hears_caller().await?;
                // Consult Bob from the desktop; kill the shard's owner the moment he answers.
                b.fill("#consult-to", BOB_EXT).await?;
                b.click("#call-consult").await?;
                until_event(&r, &stream, 20, "Bob answering", move |e| {
                    matches!(e, GatewayEvent::CallAnswered { call_id, .. } if *call_id != call)
                })
                .await;
                backends[dead].take().unwrap().signal("KILL");
                *killed_at.lock().unwrap() = Some(Utc::now());
                let new_owner = eventually(15, "a survivor owning the shard", || {
                    let (mut r, shard, gone) = (r.clone(), shard.clone(), consumers[dead].clone());
                    async move {
                        common::shard_owner(&mut r, &shard)
                            .await
                            .filter(|o| *o != gone)
                    }
                })
                .await;
                ensure!(new_owner != consumers[dead], "{new_owner}");
                // The consultation went on: the desktop shows Aysel talking to Bob.
                b.wait("#consult-state[data-state='talking']").await?;
                b.click("#consult-transfer").await?;
                b.wait("#wrapup-form").await?;
                Ok(())
            },
        )
        .await;
    }
    let caller = caller.lock().unwrap().take().expect("the caller dialled");
    finished(caller, &dir_caller, "the caller").await;
    finished(phone_bob, &dir_bob, "Bob's phone").await;
    let survivor = &apps[desk_at];
    let call = common::caller_call(survivor, CALLER).await;

    // The timeline: every step once, in the order the call went through them.
    let c = cdr(survivor, &t.admin, call).await;
    assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
    assert_eq!(c["cdr"]["agent_name"], "Aysel", "{c:#}");
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
    let killed_at = killed_at.lock().unwrap().expect("the owner was killed");
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
        "three backends, a browser agent, one killed mid-consultation: {:?}",
        started.elapsed()
    );
    drop((gw1, gw2, backends));
    let _ = std::fs::remove_dir_all(&work);
}
