//! Benchmark program (not a test): screen-pop latency, from a caller's INVITE to the agent
//! desktop receiving the `offer` event, with the real gateway, the real backend (in-process,
//! as the tests run it) and SIPp callers.
//!
//! ```text
//! source infra/services.sh
//! cargo build --release -p hotline-gateway
//! cargo bench -p hotline-e2e --bench screen_pop [-- --agents 40 --rates 2,5,10 --calls 150 --hold-ms 2000]
//! ```
//! Needs `sipp` (Debian `sip-tester`), Postgres and Redis (`infra/services.sh`). Uses a fresh
//! database of its own (dropped at the end) and its own tenant's Redis keys (deleted at the end).
//!
//! Set-up: one tenant with a longest-idle queue (no wrap-up), an IVR flow that sends every call
//! straight to that queue, the number published to the gateway; `--agents` agents, each with a
//! desktop WebSocket (`/api/v1/agent/events`, session cookie of a real login), a browser
//! softphone record (so the backend offers the call on the desktop instead of dialling a SIP
//! phone) and state Ready. The agents never answer: each caller (SIPp, calls at `--rate`
//! per second, caller number unique per call) is answered by the IVR, waits `--hold-ms` and
//! hangs up, which withdraws the offer and makes the agent Ready again; with
//! agents > rate × hold every call finds a free agent, so the figure is the pipeline's own
//! latency (gateway → event stream → backend IVR → ACD → desktop), not queueing.
//!
//! Measured: the INVITE's send time from SIPp's message trace (`-trace_msg`, wall clock, µs)
//! and the arrival time of the offer on the WebSocket (wall clock), matched by caller number.
//! Both clocks are this machine's. A warm-up of 5 calls comes first (not reported). Prints per rate: calls, offers matched, p50/p99/max
//! latency and the call rate SIPp achieved.

use futures::StreamExt;
use hotline_backend::testkit::TestApp;
use hotline_e2e::telephony::{free_port, scenario, start_gateway};
use redis::AsyncCommands;
use serde_json::json;
use std::collections::HashMap;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use uuid::Uuid;

const DID: &str = "+994125558800";
const PASSWORD: &str = "correct horse battery";

/// The caller: dials, is answered by the IVR, waits, hangs up. `{prefix}` makes the caller
/// number (`{prefix}<call number>`) unique per call of the whole run.
fn caller(prefix: &str, hold_ms: u64) -> String {
    scenario(&format!(
        r#"  <send retrans="500"><![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:caller@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=caller 1 1 IN IP4 [local_ip]
      s=-
      c=IN IP4 [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 8
      a=rtpmap:8 PCMA/8000
    ]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rrs="true"/>
  <send><![CDATA[
      ACK [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <pause milliseconds="{hold_ms}"/>
  <send retrans="500"><![CDATA[
      BYE [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:{prefix}[call_number]@[local_ip]:[local_port]>;tag=[pid]c[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Max-Forwards: 70
      Content-Length: 0

    ]]></send>
  <recv response="200" crlf="true"/>
"#
    ))
}

fn unix_us(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH).expect("clock").as_micros() as i64
}

/// First send time (µs since the epoch, UTC) of each INVITE in a SIPp `-trace_msg` log, by the
/// caller number in its From header.
fn invite_times(log: &str) -> HashMap<String, i64> {
    let mut out = HashMap::new();
    let mut stamp: Option<i64> = None;
    let mut lines = log.lines().peekable();
    while let Some(line) = lines.next() {
        if let Some(rest) = line.strip_prefix("-----------------------------------------------") {
            // " 2026-12-01\t15:30:00.123456" (SIPp writes local time; we run it with TZ=UTC).
            let rest = rest.trim().replace('\t', " ");
            stamp = chrono::NaiveDateTime::parse_from_str(&rest, "%Y-%m-%d %H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc().timestamp_micros());
            continue;
        }
        if line.contains("message sent") {
            let mut is_invite = false;
            for l in lines.by_ref() {
                let l = l.trim();
                if l.is_empty() && !is_invite {
                    continue;
                }
                if l.starts_with("INVITE ") {
                    is_invite = true;
                } else if !is_invite {
                    break;
                }
                if is_invite && l.starts_with("From:") {
                    let user = l
                        .split("sip:")
                        .nth(1)
                        .and_then(|s| s.split('@').next())
                        .unwrap_or("");
                    if let Some(t) = stamp {
                        out.entry(user.to_string()).or_insert(t);
                    }
                    break;
                }
            }
        }
    }
    out
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

struct Opts {
    agents: usize,
    rates: Vec<u32>,
    calls: u32,
    hold_ms: u64,
}

fn opts() -> Opts {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    Opts {
        agents: opt("--agents").and_then(|s| s.parse().ok()).unwrap_or(40),
        rates: opt("--rates")
            .unwrap_or_else(|| if quick { "5" } else { "2,5,10" }.into())
            .split(',')
            .filter_map(|s| s.parse().ok())
            .collect(),
        calls: opt("--calls")
            .and_then(|s| s.parse().ok())
            .unwrap_or(if quick { 30 } else { 150 }),
        hold_ms: opt("--hold-ms")
            .and_then(|s| s.parse().ok())
            .unwrap_or(2000),
    }
}

async fn ok(r: reqwest::Response) -> serde_json::Value {
    let s = r.status();
    let body = r.text().await.unwrap_or_default();
    assert!(s.is_success(), "{s}: {body}");
    serde_json::from_str(&body).unwrap_or_default()
}

type Offers = Arc<Mutex<Vec<(String, i64)>>>;

/// Logs in as `email`, opens the desktop WebSocket with that session and records every offer
/// (caller, arrival µs) into `offers`; returns the logged-in client.
async fn desktop(app: &TestApp, slug: &str, email: &str, offers: Offers) -> reqwest::Client {
    let client = app.client();
    let resp = client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "tenant": slug, "email": email, "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    let cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
        .collect::<Vec<_>>()
        .join("; ");
    ok(resp).await;
    let mut req = tokio_tungstenite::tungstenite::client::IntoClientRequest::into_client_request(
        app.url("/api/v1/agent/events").replace("http://", "ws://"),
    )
    .unwrap();
    req.headers_mut().insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = ws.next().await {
            let now = unix_us(SystemTime::now());
            if let tokio_tungstenite::tungstenite::Message::Text(t) = msg {
                let v: serde_json::Value = serde_json::from_str(t.as_str()).unwrap_or_default();
                if v["type"] == "offer" {
                    let caller = v["caller"].as_str().unwrap_or("").to_string();
                    offers.lock().unwrap().push((caller, now));
                }
            }
        }
    });
    client
}

/// Runs the benchmark; returns the event streams to delete once the backend's background tasks
/// (which recreate a missing stream) have stopped.
async fn bench(o: &Opts) -> Vec<String> {
    let verbose = std::env::args().any(|a| a == "--verbose");
    let app = TestApp::spawn().await;
    eprintln!(
        "database {} (dropped at the end; drop it by hand if this run fails)",
        app.database
    );
    let (admin, info) = app.signup("Screen Pop Bench").await;
    let tenant = info.tenant.id;
    // Enough seats for the agents (the sign-up plan allows 10 users).
    sqlx::query(
        "UPDATE platform.plans SET seats = $2 WHERE id = (SELECT plan_id FROM platform.tenants WHERE id = $1)",
    )
    .bind(tenant)
    .bind(o.agents as i32 + 10)
    .execute(&app.state.db)
    .await
    .unwrap();
    let slug = info.tenant.slug.clone();
    let url = |p: &str| app.url(p);
    ok(admin
        .post(url("/api/v1/queues"))
        .json(&json!({ "name": "Bench", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
        .send()
        .await
        .unwrap())
    .await;
    let roles = ok(admin.get(url("/api/v1/roles")).send().await.unwrap()).await;
    let agent_role = roles
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "Agent")
        .unwrap()["id"]
        .clone();
    let flow = ok(admin
        .post(url("/api/v1/ivr/flows"))
        .json(
            &json!({ "name": "Straight to the queue", "is_default": true, "graph": {
                "start": "q", "nodes": { "q": { "type": "queue", "queue": "Bench" } }
            }}),
        )
        .send()
        .await
        .unwrap())
    .await;
    let publish = format!("/api/v1/ivr/flows/{}/publish", flow["id"].as_str().unwrap());
    ok(admin
        .post(url(&publish))
        .json(&json!({ "version": 1 }))
        .send()
        .await
        .unwrap())
    .await;
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(DID)
        .bind(tenant)
        .execute(&app.state.db)
        .await
        .unwrap();
    hotline_backend::gateway_sync::publish_did(&app.state, DID, Some(tenant))
        .await
        .unwrap();
    hotline_backend::gateway_sync::publish_slug(&app.state, &slug, tenant)
        .await
        .unwrap();

    let work = std::env::temp_dir().join(format!("hotline-screenpop-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&work).unwrap();
    let rtp = 30_000 + (std::process::id() % 50) as u16 * 400;
    let ports = format!("{rtp}-{}", rtp + 399);
    let gw = start_gateway(
        &work,
        &app.state.cfg.redis_url,
        &app.state.cfg.call_events_stream,
        rtp,
        &[("HOTLINE_GW_RTP_PORTS", ports)],
    );

    let offers: Offers = Arc::default();
    let mut r = app.state.redis();
    for i in 0..o.agents {
        let email = format!("agent{i}@screenpop.test");
        let user = ok(admin
            .post(url("/api/v1/users"))
            .json(
                &json!({ "email": email, "name": format!("Agent {i}"), "password": PASSWORD,
                           "role_id": agent_role }),
            )
            .send()
            .await
            .unwrap())
        .await;
        let user_id: Uuid = user["id"].as_str().unwrap().parse().unwrap();
        let client = desktop(&app, &slug, &email, offers.clone()).await;
        // A browser softphone record (as the softphone's connect leaves it): offers go to the
        // desktop. The leg itself is never bridged: the agents do not answer.
        let _: () = r
            .hset_multiple(
                hotline_backend::devices::key(tenant, user_id),
                &[
                    ("gateway_id", gw.id.as_str()),
                    ("leg_id", &Uuid::new_v4().to_string()),
                    ("http", "127.0.0.1:9"),
                ],
            )
            .await
            .unwrap();
        ok(client
            .put(url("/api/v1/agent/state"))
            .json(&json!({ "status": "ready" }))
            .send()
            .await
            .unwrap())
        .await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    println!(
        "Screen pop: {} agents Ready, calls held {} ms then hung up; {} calls per level",
        o.agents, o.hold_ms, o.calls
    );
    println!(
        "| calls/s asked | calls/s made | calls | offers matched | p50 ms | p99 ms | max ms |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    // Level 0 is a warm-up (5 calls at 2/s, not reported): the first calls pay for cold
    // connections, caches and the script load.
    let levels = std::iter::once((2, 5)).chain(o.rates.iter().map(|&r| (r, o.calls)));
    for (level, (rate, n)) in levels.enumerate() {
        let dir = work.join(format!("sipp-{level}"));
        std::fs::create_dir_all(&dir).unwrap();
        let prefix = format!("+1555{:02}", level + 10);
        let sf = dir.join("caller.xml");
        std::fs::write(&sf, caller(&prefix, o.hold_ms)).unwrap();
        offers.lock().unwrap().clear();
        let started = Instant::now();
        let (calls, rate_s, gw_addr) = (n.to_string(), rate.to_string(), gw.addr.clone());
        let mp = free_port().to_string();
        let status = tokio::task::spawn_blocking(move || {
            Command::new("sipp")
                .current_dir(&dir)
                .env("TZ", "UTC")
                .arg("-sf")
                .arg(&sf)
                .args(["-i", "127.0.0.1", "-mi", "127.0.0.1", "-nostdin"])
                .args(["-s", DID, "-r", &rate_s, "-m", &calls, "-mp", &mp])
                .args(["-timeout", "300s", "-trace_msg", "-trace_err", &gw_addr])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("sipp (Debian package sip-tester) must be installed")
        })
        .await
        .unwrap();
        let elapsed = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let dir = work.join(format!("sipp-{level}"));
        let mut invites = HashMap::new();
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            if e.file_name().to_string_lossy().ends_with("_messages.log") {
                invites.extend(invite_times(
                    &std::fs::read_to_string(e.path()).unwrap_or_default(),
                ));
            }
        }
        let got = offers.lock().unwrap().clone();
        let mut by_call: Vec<(f64, &str)> = got
            .iter()
            .filter_map(|(caller, at)| {
                let t = invites.get(caller)?;
                Some(((at - t) as f64 / 1000.0, caller.as_str()))
            })
            .collect();
        by_call.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
        if verbose {
            eprintln!("slowest: {:?}", &by_call[by_call.len().saturating_sub(5)..]);
        }
        let lat: Vec<f64> = by_call.iter().map(|(l, _)| *l).collect();
        if !status.success() {
            eprintln!("SIPp reported failed calls at {rate} calls/s ({status}); see {dir:?}");
        }
        // The calls' duration is hold time plus set-up; the last call ends hold_ms after it starts.
        let made = n as f64 / (elapsed - o.hold_ms as f64 / 1000.0).max(0.001);
        if level == 0 {
            continue;
        }
        println!(
            "| {rate} | {made:.1} | {} | {} | {:.1} | {:.1} | {:.1} |",
            invites.len(),
            lat.len(),
            pct(&lat, 0.50),
            pct(&lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN),
        );
    }

    // Clean up: the gateway, this tenant's Redis keys and event stream, the database.
    drop(gw);
    let mut keys: Vec<String> = vec![];
    for pat in [
        format!("*{tenant}*"),
        format!("*{}*", app.database),
        format!("*{DID}*"),
        format!("*{slug}*"),
    ] {
        let mut cursor = 0u64;
        loop {
            let (next, found): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(&pat)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut r)
                .await
                .unwrap_or_default();
            keys.extend(found);
            if next == 0 {
                break;
            }
            cursor = next;
        }
    }
    if !keys.is_empty() {
        let _: () = r.del(&keys).await.unwrap_or(());
    }
    let _: () = r
        .srem(hotline_backend::dispatch::TENANTS_KEY, tenant.to_string())
        .await
        .unwrap_or(());
    if verbose {
        eprintln!("kept {}", work.display());
    } else {
        let _ = std::fs::remove_dir_all(&work);
    }
    let database = app.database.clone();
    let stream = app.state.cfg.call_events_stream.clone();
    app.state.db.close().await;
    drop(app);
    if let Ok(mut conn) =
        <sqlx::PgConnection as sqlx::Connection>::connect(&hotline_backend::testkit::admin_url())
            .await
    {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {database} WITH (FORCE)"
        )))
        .execute(&mut conn)
        .await;
    }
    let mut keys = hotline_wire::gateway::event_streams(&stream);
    keys.extend(
        keys.clone()
            .iter()
            .map(|s| hotline_backend::call_events::lease_key(s)),
    );
    keys.push(hotline_backend::call_events::backends_key(&stream));
    keys.push(hotline_backend::call_events::dead_letter_stream(&stream));
    keys
}

fn main() {
    let o = opts();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let streams = rt.block_on(bench(&o));
    drop(rt);
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    if let Ok(mut con) = redis::Client::open(url).and_then(|c| c.get_connection()) {
        let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&streams).query(&mut con);
    }
}
