//! `events`: the gateway-event pipeline of one backend. A stand-in gateway (this program)
//! publishes `call_started` events for 20 tenants (no flow published, so the backend writes the
//! CDR row, looks the flow up and answers each with a `hangup` command) and then each call's
//! `hangup` event; a reader waits for the commands on the gateway's command stream.
//!
//! Two figures: **latency** — event published → the backend's command on the gateway's
//! stream, p50/p99, at a steady 50 calls/s (100 events/s); **throughput** — events handled per
//! second by one backend when 4,000 calls' events (8,000) are published at once.

use hotline_backend::testkit::TestApp;
use hotline_wire::gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent, HangupCause};
use redis::AsyncCommands;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use uuid::Uuid;

const TENANTS: usize = 20;

/// Where a gateway publishes `ev` (its tenant's shard of the stream).
fn stream_for(base: &str, ev: &GatewayEvent) -> String {
    wire::event_stream_for(base, ev)
}

pub async fn run() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|c| c.db_pool_size = 16).await;
    let mut tenants = vec![];
    for i in 0..TENANTS {
        let (_, info) = app.signup(&format!("Events {i}")).await;
        tenants.push(info.tenant.id);
    }
    let gw = format!("bench-gw-{}", Uuid::new_v4().simple());
    let cmd_stream = wire::command_stream(&gw);
    let base = app.state.cfg.call_events_stream.clone();
    // Call id → when its call_started was published; the reader fills in the latency.
    let sent: Arc<Mutex<HashMap<Uuid, Instant>>> = Arc::default();
    let seen: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let reader = {
        let (sent, seen) = (sent.clone(), seen.clone());
        let client = redis::Client::open(app.state.cfg.redis_url.as_str())?;
        let cfg =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
        let mut con = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await?;
        let cmd_stream = cmd_stream.clone();
        tokio::spawn(async move {
            let mut last = "0-0".to_string();
            loop {
                let opts = redis::streams::StreamReadOptions::default()
                    .block(1_000)
                    .count(1_000);
                let reply: redis::streams::StreamReadReply =
                    match con.xread_options(&[&cmd_stream], &[&last], &opts).await {
                        Ok(r) => r,
                        Err(_) => continue,
                    };
                let now = Instant::now();
                for key in reply.keys {
                    for e in key.ids {
                        last = e.id.clone();
                        let Some(m) = e.get::<String>(wire::STREAM_FIELD) else {
                            continue;
                        };
                        let Ok(cmd) = serde_json::from_str::<GatewayCommand>(&m) else {
                            continue;
                        };
                        if let Some(at) = sent.lock().unwrap().remove(&cmd.call_id()) {
                            seen.lock().unwrap().push(now - at);
                        }
                    }
                }
            }
        })
    };
    let mut r = app.state.redis();
    let call = |i: usize| {
        let tenant = tenants[i % TENANTS];
        let call_id = Uuid::new_v4();
        let started = GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id,
            tenant_id: tenant,
            caller: format!("+1555{:07}", i % 10_000_000),
            did: "+15550000000".into(),
            sip_call_id: call_id.to_string(),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        };
        let ended = GatewayEvent::Hangup {
            call_id,
            tenant_id: tenant,
            cause: HangupCause::Rejected,
            status: Some(480),
            at: chrono::Utc::now(),
        };
        (call_id, started, ended)
    };
    async fn publish(
        r: &mut redis::aio::ConnectionManager,
        base: &str,
        evs: &[GatewayEvent],
    ) -> anyhow::Result<()> {
        let mut pipe = redis::pipe();
        for ev in evs {
            pipe.xadd(
                stream_for(base, ev),
                "*",
                &[(wire::STREAM_FIELD, serde_json::to_string(ev)?)],
            )
            .ignore();
        }
        let _: () = pipe.query_async(r).await?;
        Ok(())
    }
    let wait_all = |n: usize, limit: Duration| {
        let seen = seen.clone();
        async move {
            let t0 = Instant::now();
            while seen.lock().unwrap().len() < n && t0.elapsed() < limit {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen.lock().unwrap().len()
        }
    };

    // Warm-up.
    for i in 0..50 {
        let (id, s, e) = call(i);
        sent.lock().unwrap().insert(id, Instant::now());
        publish(&mut r, &base, &[s, e]).await?;
    }
    wait_all(50, Duration::from_secs(30)).await;
    seen.lock().unwrap().clear();

    // Latency at a steady 50 calls/s.
    let n = 1_000;
    let t0 = Instant::now();
    for i in 0..n {
        let due = t0 + Duration::from_millis(20 * i as u64);
        tokio::time::sleep_until(due.into()).await;
        let (id, s, e) = call(1_000 + i);
        sent.lock().unwrap().insert(id, Instant::now());
        publish(&mut r, &base, &[s, e]).await?;
    }
    let got = wait_all(n, Duration::from_secs(60)).await;
    let mut lat = std::mem::take(&mut *seen.lock().unwrap());
    lat.sort();
    let pct = |v: &[Duration], p: f64| v[((v.len() as f64 * p) as usize).min(v.len() - 1)];
    println!("\n## Gateway events → commands, one backend, {TENANTS} tenants");
    println!("| figure | value |\n|---|---|");
    println!("| steady 50 calls/s: commands seen | {got} of {n} |");
    println!(
        "| event → command p50 / p99 / max | {:.1} / {:.1} / {:.1} ms |",
        pct(&lat, 0.5).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3
    );

    // Throughput: 4,000 calls' events published at once.
    let burst = 4_000;
    let mut evs = Vec::with_capacity(burst * 2);
    let t_pub = Instant::now();
    {
        let mut sent = sent.lock().unwrap();
        for i in 0..burst {
            let (id, s, e) = call(10_000 + i);
            sent.insert(id, t_pub);
            evs.push(s);
            evs.push(e);
        }
    }
    for chunk in evs.chunks(500) {
        publish(&mut r, &base, chunk).await?;
    }
    let got = wait_all(burst, Duration::from_secs(300)).await;
    // The hang-ups follow their call's start in the same shard: wait for every group to be
    // drained (nothing pending, nothing unread) before stopping the clock.
    let streams = wire::event_streams(&base);
    loop {
        let mut left = 0u64;
        for s in &streams {
            let groups: redis::RedisResult<Vec<HashMap<String, redis::Value>>> =
                redis::cmd("XINFO")
                    .arg("GROUPS")
                    .arg(s)
                    .query_async(&mut r)
                    .await;
            for g in groups.unwrap_or_default() {
                for k in ["pending", "lag"] {
                    if let Some(redis::Value::Int(v)) = g.get(k) {
                        left += *v as u64;
                    }
                }
            }
        }
        if left == 0 || t_pub.elapsed() > Duration::from_secs(300) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let secs = t_pub.elapsed().as_secs_f64();
    println!("| burst: calls answered | {got} of {burst} |");
    println!(
        "| burst: {} events handled in | {secs:.2} s = **{:.0} events/s** |",
        burst * 2,
        (burst * 2) as f64 / secs
    );
    reader.abort();
    Ok(())
}
