//! "Two of everything", and a backend killed mid-call (issue 5, point 7): two real `hotline
//! serve` processes and two real gateways share one Postgres database and one Redis; agents are
//! SIP phones (SIPp) registered through one gateway and set ready through one backend, callers
//! (SIPp) dial the other gateway.
//!
//! * Call A arrives at gateway 1 and is answered by agent 1, whose phone is registered through
//!   gateway 2 and whose state was set through backend 1.
//! * Backend 2 is frozen (SIGSTOP) long enough that its leases on the event stream's shards
//!   lapse, so backend 1 takes every shard, the tenant's included, and alone reads what comes
//!   next; a test transaction holds a lock on the tenant's CDR table, so backend 1 reads call
//!   B's `call_started` (gateway 2) and is stuck handling it, unacknowledged (a live backend
//!   stuck in a handler keeps renewing its leases: nobody takes its shard meanwhile).
//! * **Backend 1 is SIGKILLed** — it is the one holding an unacknowledged event of a live call
//!   and the one agent 1's desktop used, i.e. the worst backend to lose. Then backend 2 resumes:
//!   once the dead backend's leases lapse (`HOTLINE_CALL_EVENTS_LEASE_SECS`, 2 s here, 5 s by
//!   default) it takes the shards over, drains the dead owner's pending event first, answers
//!   call B and queues it (no free agent).
//! * Agent 2 (phone registered through gateway 1) becomes ready through backend 2: call B is
//!   offered to them and answered — gateway 2 originates to a phone registered via gateway 1.
//! * Call A keeps its media throughout: agent 1 still hears the caller after the kill (the
//!   agent leg's recording), and the caller hangs up themselves after the kill.
//! * Both CDRs are complete (ended, answered by the right agent, in the queue), nothing is
//!   left pending in the consumer group and nothing was dead-lettered.
//!
//! Needs `sipp` (Debian `sip-tester`) and the binaries (`cargo build -p hotline-gateway
//! -p hotline-backend --bins`).

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use common::{
    acd_agent, all_events_handled, bridged, cdr, dial_in, eventually, finished, gateway, hangup,
    recording, set_state, talking_caller, tenant, workdir, ANSWERING_PHONE,
};
use hotline_backend::{app, call_events, config::Config, db, testkit, testkit::TestApp};
use hotline_e2e::telephony::{gateway_events, rms, start_backend, stereo_channels};
use hotline_wire::gateway::{
    event_shard, event_shard_stream, GatewayEvent, HangupCause, STREAM_FIELD,
};
use serde_json::json;

/// The entries `consumer` has read and not acknowledged: `(id, event)`.
async fn pending(
    r: &mut redis::aio::ConnectionManager,
    stream: &str,
    consumer: &str,
) -> Vec<(String, Option<GatewayEvent>)> {
    let rows: Vec<(String, String, u64, u64)> = redis::cmd("XPENDING")
        .arg(stream)
        .arg(call_events::GROUP)
        .arg("-")
        .arg("+")
        .arg(100)
        .arg(consumer)
        .query_async(r)
        .await
        .unwrap();
    let mut out = Vec::new();
    for (id, ..) in rows {
        let reply: redis::streams::StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg(&id)
            .arg(&id)
            .query_async(r)
            .await
            .unwrap();
        let ev = reply.ids.first().and_then(|e| {
            let m: String = e.get(STREAM_FIELD)?;
            serde_json::from_str(&m).ok()
        });
        out.push((id, ev));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_backends_two_gateways_and_a_backend_killed_mid_call() {
    let started = Instant::now();
    // One database (migrated here), one Redis, one event stream for all four processes.
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
    let work = workdir("two-backends");
    let settings = [("HOTLINE_CALL_EVENTS_LEASE_SECS", "2".to_string())];
    let start = |name: &str| {
        start_backend(
            &work,
            name,
            &state.cfg.database_url,
            &state.cfg.redis_url,
            &stream,
            &settings,
        )
    };
    let (backend1, backend2) = (start("backend1"), start("backend2"));
    // The test's helpers talk to "an app": one view per backend over the same state.
    let via = |url: &str| TestApp {
        base_url: url.to_string(),
        state: state.clone(),
        database: database.clone(),
    };
    let (app1, app2) = (via(&backend1.url), via(&backend2.url));

    let t = tenant(&app1, "Twin Lines").await;
    // DIDs are platform-wide (one Redis hash for every test run, including other checkouts'
    // concurrent ones): a random one cannot be taken over by another run's tenant.
    let did = &format!("+99412{:07}", uuid::Uuid::new_v4().as_u128() % 10_000_000);
    let (number_a, number_b) = ("+15550007401", "+15550007402");
    t.queue_on_number(
        &app1,
        json!({ "name": "Help", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }),
        did,
    )
    .await;
    let agent1 = t
        .agent(&app1, "aysel@twin.test", "Aysel", Some("1001"), &[])
        .await;
    let agent2 = t
        .agent(&app2, "bob@twin.test", "Bob", Some("1002"), &[])
        .await;
    let (work1, work2) = (work.join("gw1"), work.join("gw2"));
    std::fs::create_dir_all(&work1).unwrap();
    std::fs::create_dir_all(&work2).unwrap();
    let gw1 = gateway(&app1, &work1, 0, false);
    let gw2 = gateway(&app1, &work2, 1, false);
    // Each agent's phone registers through the gateway their calls will not arrive at.
    let (dir1, dir2) = (work.join("aysel"), work.join("bob"));
    let phone1 = t
        .sip_phone(&app1, &gw2.addr, &dir1, "1001", ANSWERING_PHONE)
        .await;
    let phone2 = t
        .sip_phone(&app2, &gw1.addr, &dir2, "1002", ANSWERING_PHONE)
        .await;
    let desk1 = t.login(&app1, "aysel@twin.test").await;
    let desk2 = t.login(&app2, "bob@twin.test").await;
    set_state(&app1, &desk1, "ready").await;

    // Call A at gateway 1: Aysel (backend 1, phone via gateway 2) answers. The caller speaks
    // every 7 s for about 35 s, well past the kill, then hangs up.
    let dir_a = work.join("caller-a");
    let caller_a = dial_in(
        &dir_a,
        &talking_caller(number_a, 500, 5, 7_000, 6_000),
        did,
        &gw1.addr,
    );
    let (call_a, leg_a, _) = bridged(&app1, number_a).await;

    // Freeze backend 2 until its leases (2 s) lapse and backend 1 holds every shard.
    backend2.signal("STOP");
    let shard = event_shard_stream(&stream, event_shard(t.id));
    let lease_key = call_events::lease_key(&shard);
    let mut r = state.redis();
    eventually(15, "backend 1 holding the tenant's shard", || {
        let (mut r, key, me) = (r.clone(), lease_key.clone(), backend1.consumer.clone());
        async move {
            let owner: Option<String> = redis::cmd("GET")
                .arg(&key)
                .query_async(&mut r)
                .await
                .unwrap();
            (owner.as_deref() == Some(me.as_str())).then_some(())
        }
    })
    .await;
    // Backend 1 will be stuck writing call B's CDR.
    let mut lock = state.db.begin().await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "LOCK TABLE {}.cdrs IN SHARE MODE",
        db::schema_name(t.id)
    )))
    .execute(&mut *lock)
    .await
    .unwrap();

    // Call B at gateway 2.
    let dir_b = work.join("caller-b");
    let caller_b = dial_in(
        &dir_b,
        &talking_caller(number_b, 500, 3, 4_000, 5_000),
        did,
        &gw2.addr,
    );
    let held = eventually(10, "backend 1 holding call B's arrival", || {
        let (mut r, stream, consumer) = (r.clone(), shard.clone(), backend1.consumer.clone());
        async move {
            let p = pending(&mut r, &stream, &consumer).await;
            p.iter().find_map(|(id, ev)| match ev {
                Some(GatewayEvent::CallStarted {
                    call_id, caller, ..
                }) if caller == number_b => Some((id.clone(), *call_id)),
                _ => None,
            })
        }
    })
    .await;
    let (held_id, call_b) = held;
    // Stuck for longer than a lease, backend 1 still holds the shard: it is alive.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let owner: Option<String> = redis::cmd("GET")
        .arg(&lease_key)
        .query_async(&mut r)
        .await
        .unwrap();
    assert_eq!(owner.as_deref(), Some(backend1.consumer.as_str()));
    // Kill it mid-handling.
    backend1.signal("KILL");
    let killed_at = Utc::now();
    drop(backend1);
    lock.rollback().await.unwrap();
    backend2.signal("CONT");

    // Backend 2 takes the shard over and drains the dead backend's event: call B is answered
    // and queued (no free agent).
    let c = eventually(15, "call B queued by backend 2", || {
        let (admin, url) = (
            t.admin.clone(),
            app2.url(&format!("/api/v1/calls/{call_b}")),
        );
        async move {
            // 404 until the claimed arrival is handled.
            let r = admin.get(url).send().await.unwrap();
            let c: serde_json::Value = r.json().await.unwrap_or_default();
            (!c["cdr"]["queued_at"].is_null()).then_some(c)
        }
    })
    .await;
    assert!(c["cdr"]["agent_name"].is_null(), "{c:#}");
    let claimed = pending(&mut r, &shard, &backend2.consumer).await;
    assert!(
        !claimed.iter().any(|(id, _)| *id == held_id),
        "the claimed event was handled and acknowledged: {claimed:?}"
    );

    // Bob becomes ready through backend 2: call B (gateway 2) rings his phone (via gateway 1).
    set_state(&app2, &desk2, "ready").await;
    let (_, leg_b, _) = bridged(&app2, number_b).await;
    finished(caller_b, &dir_b, "caller B").await;
    finished(phone2, &dir2, "Bob's phone").await;

    // Call A went on: its caller hung up themselves, after the kill, and Aysel's phone was
    // hung up by the gateway.
    finished(caller_a, &dir_a, "caller A").await;
    finished(phone1, &dir1, "Aysel's phone").await;
    let (cause, ended_a) = hangup(&app2, call_a).await;
    assert_eq!(cause, HangupCause::CallerBye);
    assert!(
        ended_a > killed_at + chrono::Duration::seconds(3),
        "{ended_a} vs {killed_at}"
    );

    // Aysel heard the caller after the kill (her leg's recording, from the kill on), and Bob
    // heard caller B.
    let (path_a, rec_start) = recording(&app2, leg_a).await;
    let (_, heard_a) = stereo_channels(&path_a);
    let from = ((killed_at - rec_start).num_milliseconds().max(0) as usize) * 8;
    assert!(from < heard_a.len(), "recording ends before the kill");
    let after_kill = rms(&heard_a[from..]);
    assert!(
        after_kill > 300.0,
        "Aysel heard nothing after the kill: {after_kill}"
    );
    let (path_b, _) = recording(&app2, leg_b).await;
    let (_, heard_b) = stereo_channels(&path_b);
    assert!(rms(&heard_b) > 300.0, "Bob heard nothing");

    // The CDRs, read through the surviving backend: both complete.
    for (call, agent) in [(call_a, "Aysel"), (call_b, "Bob")] {
        let c = cdr(&app2, &t.admin, call).await;
        assert_eq!(c["cdr"]["outcome"], "answered", "{c:#}");
        assert_eq!(c["cdr"]["agent_name"], agent, "{c:#}");
        assert_eq!(c["cdr"]["queue_name"], "Help", "{c:#}");
        assert_eq!(c["cdr"]["hangup_cause"], "caller_bye", "{c:#}");
        assert!(!c["cdr"]["connected_at"].is_null(), "{c:#}");
    }
    // Each call was held by the gateway it arrived at.
    let evs = gateway_events(&mut r, &stream).await;
    for (call, gw) in [(call_a, &gw1.id), (call_b, &gw2.id)] {
        let held_by = evs.iter().find_map(|e| match e {
            GatewayEvent::CallStarted {
                call_id,
                gateway_id,
                ..
            } if *call_id == call => Some(gateway_id.clone()),
            _ => None,
        });
        assert_eq!(held_by.as_ref(), Some(gw));
    }
    // The ACD: both agents took one call and are free again.
    for agent in [agent1, agent2] {
        let a = acd_agent(&app2, t.id, agent);
        assert_eq!((a.state.as_str(), a.answered), ("ready", 1), "{a:?}");
    }
    // Nothing pending in the group, nothing dead-lettered.
    // (The last events, e.g. a recording's, may still be in hand for a moment.)
    all_events_handled(&r, &stream).await;
    eprintln!("two backends, one killed: {:?}", started.elapsed());
    drop((gw1, gw2, backend2));
    let _ = std::fs::remove_dir_all(&work);
}
