//! `calls`: call control of one backend — queued calls offered to agents' desk phones,
//! bridged and ended. A stand-in gateway (this program) publishes the gateway's events to the
//! tenants' shards and reads the backend's commands from its command stream, as a gateway does.
//!
//! Set-up, per tenant (10), through the HTTP API: a "Sales" queue (longest idle, no wrap-up),
//! a published default flow that queues every caller there, and 8 agents with desk phone
//! extensions (registered with the stand-in gateway as its registrar records a REGISTER), Ready.
//! Each call then goes: `call_started` → (flow: `answer`, queue, offer) the desk phone's
//! `originate` (callee `ext:…`) → the agent leg's `call_answered` → `bridge` → the caller's
//! `hangup` → the agent leg's `hangup` command → the leg's `hangup` event (the agent is Ready
//! again: no wrap-up). Four events per call.
//!
//! Figures: **latency** at a steady rate (default 20 calls/s, 600 calls, so an agent is always
//! free): `call_started` → `originate` (the offer), the leg's `call_answered` → `bridge`, and
//! the caller's `hangup` → the agent leg's `hangup`, p50/p99/max; **throughput** — events
//! handled per second when 1,000 calls arrive at once (they queue for the 80 agents; the
//! stand-in gateway answers and hangs up as soon as each command arrives).
//!
//! Environment (optional): `BENCH_CALLS_RATE` (calls/s), `BENCH_CALLS_STEADY` (calls),
//! `BENCH_CALLS_BURST` (calls), `BENCH_CALLS_AGENTS` (per tenant).

use hotline_backend::testkit::TestApp;
use hotline_wire::gateway::{self as wire, FlowMode, GatewayCommand, GatewayEvent, HangupCause};
use redis::AsyncCommands;
use serde_json::json;
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use uuid::Uuid;

const TENANTS: usize = 10;
const PASSWORD: &str = "correct horse battery";

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One call as the stand-in gateway follows it.
struct Call {
    tenant: Uuid,
    started: Instant,
    leg: Option<Uuid>,
    answered: Option<Instant>,
    bridged: bool,
    hung: Option<Instant>,
}

#[derive(Default)]
struct Book {
    /// Caller number → call (a desk phone's `originate` shows the caller's number).
    by_caller: HashMap<String, Uuid>,
    /// Agent leg → call.
    by_leg: HashMap<Uuid, Uuid>,
    calls: HashMap<Uuid, Call>,
    offer: Vec<Duration>,
    bridge: Vec<Duration>,
    hangup: Vec<Duration>,
    /// Calls whose agent leg's end was reported back (the call is over).
    done: usize,
    /// Commands this program did not expect (e.g. a caller hung up by the backend).
    odd: usize,
}

async fn publish(
    r: &mut redis::aio::ConnectionManager,
    base: &str,
    evs: &[GatewayEvent],
) -> anyhow::Result<()> {
    if evs.is_empty() {
        return Ok(());
    }
    let mut pipe = redis::pipe();
    for ev in evs {
        pipe.xadd(
            wire::event_stream_for(base, ev),
            "*",
            &[(wire::STREAM_FIELD, serde_json::to_string(ev)?)],
        )
        .ignore();
    }
    let _: () = pipe.query_async(r).await?;
    Ok(())
}

async fn ok(
    r: reqwest::Result<reqwest::Response>,
    what: &str,
) -> anyhow::Result<serde_json::Value> {
    let r = r?;
    let status = r.status();
    let text = r.text().await?;
    anyhow::ensure!(status.is_success(), "{what}: {status}: {text}");
    Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
}

/// The desk phone of `ext` registered with gateway `gw` (as the gateway's registrar records it).
async fn register(
    r: &mut redis::aio::ConnectionManager,
    tenant: Uuid,
    ext: &str,
    gw: &str,
) -> anyhow::Result<()> {
    let key = wire::registration_key(tenant, ext);
    let expires = 3_600;
    let expires_at = (chrono::Utc::now() + chrono::Duration::seconds(expires)).to_rfc3339();
    let contact = format!("sip:{ext}@127.0.0.1:5099");
    let _: () = r
        .hset_multiple(
            &key,
            &[
                ("contact", contact.as_str()),
                ("gateway_id", gw),
                ("expires_at", expires_at.as_str()),
            ],
        )
        .await?;
    let _: () = r.expire(&key, expires).await?;
    Ok(())
}

/// A tenant with its queue, flow and `agents` Ready agents on desk phones.
async fn tenant(app: &TestApp, i: usize, agents: usize, gw: &str) -> anyhow::Result<Uuid> {
    let (admin, info) = app.signup(&format!("Calls {i}")).await;
    let t = info.tenant.id;
    ok(
        admin
            .post(app.url("/api/v1/queues"))
            .json(&json!({ "name": "Sales", "strategy": "longest_idle",
                           "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
            .send()
            .await,
        "queue",
    )
    .await?;
    let graph = json!({
        "start": "sales",
        "nodes": { "sales": { "type": "queue", "queue": "Sales", "priority": 0 } }
    });
    let f = ok(
        admin
            .post(app.url("/api/v1/ivr/flows"))
            .json(&json!({ "name": "Main", "graph": graph, "is_default": true }))
            .send()
            .await,
        "flow",
    )
    .await?;
    let flow = f["id"].as_str().unwrap_or_default().to_string();
    ok(
        admin
            .post(app.url(&format!("/api/v1/ivr/flows/{flow}/publish")))
            .json(&json!({ "version": 1 }))
            .send()
            .await,
        "publish",
    )
    .await?;
    let roles = ok(admin.get(app.url("/api/v1/roles")).send().await, "roles").await?;
    let role = roles
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "Agent"))
        .and_then(|r| r["id"].as_str())
        .unwrap_or_default()
        .to_string();
    let mut r = app.state.redis();
    for j in 0..agents {
        let ext = format!("{}", 2001 + j);
        let email = format!("agent{j}@calls{i}.test");
        ok(
            admin
                .post(app.url("/api/v1/users"))
                .json(&json!({ "email": email, "name": format!("Agent {j}"),
                               "password": PASSWORD, "role_id": role, "extension": ext }))
                .send()
                .await,
            "agent",
        )
        .await?;
        register(&mut r, t, &ext, gw).await?;
        let c = app.client();
        ok(
            c.post(app.url("/api/v1/auth/login"))
                .json(&json!({ "tenant": info.tenant.slug, "email": email, "password": PASSWORD }))
                .send()
                .await,
            "login",
        )
        .await?;
        ok(
            c.put(app.url("/api/v1/agent/state"))
                .json(&json!({ "status": "ready" }))
                .send()
                .await,
            "ready",
        )
        .await?;
    }
    Ok(t)
}

pub async fn run() -> anyhow::Result<()> {
    let rate = env_or("BENCH_CALLS_RATE", 20).max(1);
    let steady = env_or("BENCH_CALLS_STEADY", 600);
    let burst = env_or("BENCH_CALLS_BURST", 1_000);
    let agents = env_or("BENCH_CALLS_AGENTS", 8);
    let app = TestApp::spawn_with(|c| c.db_pool_size = 16).await;
    let gw = format!("bench-gw-{}", Uuid::new_v4().simple());
    let base = app.state.cfg.call_events_stream.clone();
    let t_setup = Instant::now();
    let mut tenants = vec![];
    for i in 0..TENANTS {
        tenants.push(tenant(&app, i, agents, &gw).await?);
    }
    eprintln!(
        "set-up: {TENANTS} tenants × {agents} agents in {:.1} s",
        t_setup.elapsed().as_secs_f64()
    );

    let book: Arc<Mutex<Book>> = Arc::default();
    // The stand-in gateway: reads the commands and answers them with the next event.
    let reader = {
        let book = book.clone();
        let client = redis::Client::open(app.state.cfg.redis_url.as_str())?;
        let cfg =
            redis::AsyncConnectionConfig::new().set_response_timeout(Some(Duration::from_secs(30)));
        let mut con = client
            .get_multiplexed_async_connection_with_config(&cfg)
            .await?;
        let mut out = app.state.redis();
        let cmd_stream = wire::command_stream(&gw);
        let base = base.clone();
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
                let mut evs = vec![];
                {
                    let mut b = book.lock().unwrap();
                    let b = &mut *b;
                    for key in reply.keys {
                        for e in key.ids {
                            last = e.id.clone();
                            let Some(m) = e.get::<String>(wire::STREAM_FIELD) else {
                                continue;
                            };
                            let Ok(cmd) = serde_json::from_str::<GatewayCommand>(&m) else {
                                continue;
                            };
                            match cmd {
                                GatewayCommand::Originate {
                                    call_id: leg,
                                    caller,
                                    callee,
                                    ..
                                } if callee.starts_with("ext:") => {
                                    let Some(id) = b.by_caller.get(&caller).copied() else {
                                        b.odd += 1;
                                        continue;
                                    };
                                    let Some(c) = b.calls.get_mut(&id) else {
                                        continue;
                                    };
                                    if c.leg.is_some() {
                                        // A second offer (the first was withdrawn): not timed.
                                        b.odd += 1;
                                        continue;
                                    }
                                    c.leg = Some(leg);
                                    c.answered = Some(now);
                                    b.offer.push(now - c.started);
                                    evs.push(GatewayEvent::CallAnswered {
                                        call_id: leg,
                                        tenant_id: c.tenant,
                                        at: chrono::Utc::now(),
                                    });
                                    b.by_leg.insert(leg, id);
                                }
                                GatewayCommand::Bridge { call_id, .. } => {
                                    let Some(c) = b.calls.get_mut(&call_id) else {
                                        continue;
                                    };
                                    if c.bridged {
                                        continue;
                                    }
                                    c.bridged = true;
                                    if let Some(at) = c.answered {
                                        b.bridge.push(now - at);
                                    }
                                    c.hung = Some(now);
                                    evs.push(GatewayEvent::Hangup {
                                        call_id,
                                        tenant_id: c.tenant,
                                        cause: HangupCause::CallerBye,
                                        status: None,
                                        at: chrono::Utc::now(),
                                    });
                                }
                                GatewayCommand::Hangup { call_id, .. } => {
                                    if let Some(id) = b.by_leg.remove(&call_id) {
                                        if let Some(c) = b.calls.remove(&id) {
                                            if let Some(at) = c.hung {
                                                b.hangup.push(now - at);
                                            }
                                            evs.push(GatewayEvent::Hangup {
                                                call_id,
                                                tenant_id: c.tenant,
                                                cause: HangupCause::GatewayBye,
                                                status: None,
                                                at: chrono::Utc::now(),
                                            });
                                            b.done += 1;
                                        }
                                    } else if b.calls.contains_key(&call_id) {
                                        // The backend hung a caller up.
                                        b.odd += 1;
                                    }
                                }
                                _ => {}
                            }
                        }
                    }
                }
                if let Err(e) = publish(&mut out, &base, &evs).await {
                    eprintln!("stand-in gateway: publish failed: {e}");
                }
            }
        })
    };

    let mut r = app.state.redis();
    let mut serial = 0usize;
    let mut new_call = |book: &mut Book, started: Instant| {
        serial += 1;
        let tenant = tenants[serial % TENANTS];
        let id = Uuid::new_v4();
        let caller = format!("+1555{serial:07}");
        book.by_caller.insert(caller.clone(), id);
        book.calls.insert(
            id,
            Call {
                tenant,
                started,
                leg: None,
                answered: None,
                bridged: false,
                hung: None,
            },
        );
        GatewayEvent::CallStarted {
            gateway_id: gw.clone(),
            call_id: id,
            tenant_id: tenant,
            caller,
            did: "+15550000000".into(),
            sip_call_id: id.to_string(),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        }
    };
    let wait_done = |n: usize, limit: Duration| {
        let book = book.clone();
        async move {
            let t0 = Instant::now();
            while book.lock().unwrap().done < n && t0.elapsed() < limit {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            book.lock().unwrap().done
        }
    };
    let reset = |book: &Arc<Mutex<Book>>| {
        let mut b = book.lock().unwrap();
        b.offer.clear();
        b.bridge.clear();
        b.hangup.clear();
        b.done = 0;
        b.odd = 0;
        b.by_caller.clear();
        b.calls.clear();
        b.by_leg.clear();
    };

    // Warm-up: 40 calls, one at a time per 50 ms.
    for _ in 0..40 {
        let ev = new_call(&mut book.lock().unwrap(), Instant::now());
        publish(&mut r, &base, &[ev]).await?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let warm = wait_done(40, Duration::from_secs(60)).await;
    eprintln!("warm-up: {warm} of 40 calls done");
    reset(&book);

    // Latency at a steady rate.
    let t0 = Instant::now();
    let step = Duration::from_secs_f64(1.0 / rate as f64);
    for i in 0..steady {
        tokio::time::sleep_until((t0 + step * i as u32).into()).await;
        let ev = new_call(&mut book.lock().unwrap(), Instant::now());
        publish(&mut r, &base, &[ev]).await?;
    }
    let got = wait_done(steady, Duration::from_secs(120)).await;
    let (mut offer, mut bridge, mut hangup, odd, open) = {
        let mut b = book.lock().unwrap();
        (
            std::mem::take(&mut b.offer),
            std::mem::take(&mut b.bridge),
            std::mem::take(&mut b.hangup),
            b.odd,
            b.calls.len(),
        )
    };
    offer.sort();
    bridge.sort();
    hangup.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let fig = |v: &[Duration]| {
        if v.is_empty() {
            return "—".to_string();
        }
        let p = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
        format!(
            "{:.1} / {:.1} / {:.1} ms (n={})",
            ms(p(0.5)),
            ms(p(0.99)),
            ms(*v.last().unwrap()),
            v.len()
        )
    };
    println!("\n## Call control, one backend, {TENANTS} tenants × {agents} agents (desk phones)");
    println!("| figure | value |\n|---|---|");
    println!("| steady {rate} calls/s: calls completed | {got} of {steady} (unexpected commands: {odd}; calls left open: {open}) |");
    println!(
        "| `call_started` → desk phone `originate` p50 / p99 / max | {} |",
        fig(&offer)
    );
    println!(
        "| leg `call_answered` → `bridge` p50 / p99 / max | {} |",
        fig(&bridge)
    );
    println!(
        "| caller `hangup` → agent leg `hangup` p50 / p99 / max | {} |",
        fig(&hangup)
    );
    reset(&book);

    // Throughput: `burst` calls arrive at once and queue for the agents.
    let t_pub = Instant::now();
    let evs: Vec<GatewayEvent> = {
        let mut b = book.lock().unwrap();
        (0..burst).map(|_| new_call(&mut b, t_pub)).collect()
    };
    for chunk in evs.chunks(500) {
        publish(&mut r, &base, chunk).await?;
    }
    let got = wait_done(burst, Duration::from_secs(600)).await;
    // The last leg's `hangup` event: wait for every group to be drained (nothing pending,
    // nothing unread) before stopping the clock.
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
        if left == 0 || t_pub.elapsed() > Duration::from_secs(600) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let secs = t_pub.elapsed().as_secs_f64();
    let odd = book.lock().unwrap().odd;
    println!("| burst: calls completed | {got} of {burst} (unexpected commands: {odd}) |");
    println!(
        "| burst: {} events handled in | {secs:.2} s = **{:.0} events/s** ({:.0} calls/s) |",
        got * 4,
        (got * 4) as f64 / secs,
        got as f64 / secs
    );
    reader.abort();
    Ok(())
}
