//! Benchmark program (not a test): the ACD's Lua script (`src/acd.lua`) on a real Redis under a
//! call-center load, measured from the client side.
//!
//! Run: `source infra/services.sh && cargo bench -p hotline-acd --bench acd_load`
//! (options after `--`: `--clients 1,8,32` concurrency levels to run, `--secs 10` seconds per
//! level, `--quick` for 3-second levels, `--script FILE` to measure another version of the Lua
//! script, e.g. `git show HEAD~1:backend/acd/src/acd.lua > /tmp/old.lua`). Uses `REDIS_URL` (default 127.0.0.1:6379) and only
//! keys of its own tenants (`{t:acdbench-<pid>-<n>}:acd:*`), deleted before and after.
//!
//! Loads 100 tenants × (10 queues, 100 agents): 1,000 queues and 10,000 agents. Per tenant,
//! six queues route by skills (two required skills with minimum levels) and four by longest
//! idle (one of them with a required skill); two overflow after 60 s. Every agent serves three
//! queues and has all six skills at random levels 1–10 (so about 70 % meet a queue's minimums); 80 % log in Ready, 20 % stay Not ready, and
//! before measuring a third of the agents are put on calls and a tenth are ringing.
//!
//! Then `N` clients, each with its own Redis connection and one operation in flight at a time
//! (closed loop: the latency of every operation is its own round trip, nothing is batched),
//! drive a mix of call arrivals (offered by the script when an eligible agent is Ready),
//! answers, rejects, caller hang-ups (completed calls, abandoned waits), agent state changes
//! and wrap-up/time-out ticks, each client on its own tenants (as one backend process per
//! tenant group would). Every `Op` is one routing decision: one atomic script run that
//! applies the operation and then dispatches waiting calls.
//!
//! Prints, per concurrency level: decisions per second, offers per second, p50/p99/max
//! client-side latency of one operation, refusals (operations the script rejected, e.g. a
//! state change of an agent who just got an offer), and the server-side time per script run
//! from `INFO commandstats` (shared Redis: other clients' scripts are included in that column).
//!
//! `--rate R` (decisions per second, e.g. `--rate 5000,10000,15000`) switches to an open loop:
//! the clients (32 unless `--clients` says otherwise) together start operations on a fixed
//! schedule of `R` per second, each client every `clients / R` seconds, whatever the earlier
//! ones took. Besides the round trip of each operation it then prints how late operations
//! started against their schedule (p99 lag): a lag that grows means the ACD cannot keep up
//! with the offered rate, so the rate is only sustained when the lag stays small.

use hotline_acd::redis_acd::{self, Keys};
use hotline_acd::{Event, Op, QueueRec};
use std::collections::VecDeque;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const TENANTS: usize = 100;
const QUEUES: usize = 10;
const AGENTS: usize = 100;
const SKILLS: [&str; 6] = ["english", "russian", "billing", "tech", "sales", "vip"];
/// Calls in progress a tenant is kept under (arrivals turn into hang-ups above it).
const MAX_CALLS: usize = 60;

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as u64
}

fn queue_cfg(q: usize) -> QueueRec {
    let (strategy, skills) = if q < 6 {
        (
            "skills",
            format!("{}=3,{}=2", SKILLS[q % 6], SKILLS[(q + 1) % 6]),
        )
    } else if q == 9 {
        ("longest_idle", format!("{}=4", SKILLS[q % 6]))
    } else {
        ("longest_idle", String::new())
    };
    QueueRec {
        strategy: strategy.into(),
        skills,
        ring_timeout_ms: 15_000,
        max_wait_ms: if q % 5 == 4 { 60_000 } else { 0 },
        overflow: if q % 5 == 4 {
            format!("q{}", (q + 1) % QUEUES)
        } else {
            String::new()
        },
        wrapup_ms: 500 + 250 * (q as u64 % 4),
        last_agent: String::new(),
    }
}

fn agent_id(a: usize) -> String {
    format!("a{a:03}")
}

/// What a client believes about one tenant's calls and agents (from the events it got).
#[derive(Default)]
struct TenantView {
    keys: Option<Keys>,
    waiting: Vec<String>,
    offered: VecDeque<(String, String)>,
    connected: VecDeque<String>,
    not_ready: Vec<String>,
    next_call: u64,
}

impl TenantView {
    fn calls(&self) -> usize {
        self.waiting.len() + self.offered.len() + self.connected.len()
    }

    fn absorb(&mut self, events: &[Event]) {
        for e in events {
            let call = &e.call;
            match e.ev.as_str() {
                "offered" => {
                    self.waiting.retain(|c| c != call);
                    self.offered.push_back((call.clone(), e.agent.clone()));
                }
                "connected" => {
                    self.offered.retain(|(c, _)| c != call);
                    self.connected.push_back(call.clone());
                }
                "rejected" | "ring_no_answer" => {
                    self.offered.retain(|(c, _)| c != call);
                    self.waiting.push(call.clone());
                    self.not_ready.push(e.agent.clone());
                }
                "completed" | "abandoned" => {
                    self.offered.retain(|(c, _)| c != call);
                    self.connected.retain(|c| c != call);
                    self.waiting.retain(|c| c != call);
                }
                "overflowed" if e.to == "voicemail" => self.waiting.retain(|c| c != call),
                _ => {}
            }
        }
    }

    /// The next operation of the traffic mix for this tenant.
    fn next_op(&mut self, rng: &mut Rng) -> Op {
        let r = rng.below(100);
        let arrive = |v: &mut TenantView, rng: &mut Rng| {
            v.next_call += 1;
            let call = format!("c{}", v.next_call);
            v.waiting.push(call.clone());
            Op::Arrive {
                call,
                queue: format!("q{}", rng.below(QUEUES)),
                priority: if rng.below(10) == 0 { 1 } else { 0 },
            }
        };
        match r {
            // Call arrivals (a hang-up instead when the tenant is at its limit).
            0..=29 if self.calls() < MAX_CALLS => arrive(self, rng),
            0..=29 => match self.connected.pop_front() {
                Some(call) => Op::Hangup { call },
                None => Op::Tick,
            },
            // The offered agent answers (or, 1 in 20, rejects).
            30..=56 => match self.offered.pop_front() {
                Some((call, agent)) if r == 56 => Op::Reject { agent, call },
                Some((call, agent)) => Op::Answer { agent, call },
                None if self.calls() < MAX_CALLS => arrive(self, rng),
                None => Op::Tick,
            },
            // A connected call ends (agent to wrap-up).
            57..=80 => match self.connected.pop_front() {
                Some(call) => Op::Hangup { call },
                None => Op::Tick,
            },
            // A waiting caller gives up.
            81..=83 => match self.waiting.first().cloned() {
                Some(call) => Op::Hangup { call },
                None => Op::Tick,
            },
            // Agents back to Ready after not-ready (rejected, missed, login) ...
            84..=89 if !self.not_ready.is_empty() => {
                let i = rng.below(self.not_ready.len());
                Op::SetState {
                    agent: self.not_ready.swap_remove(i),
                    state: "ready".into(),
                    reason: String::new(),
                }
            }
            // ... and some agents taking a break (refused when ringing or on a call).
            84..=91 => {
                let agent = agent_id(rng.below(AGENTS));
                self.not_ready.push(agent.clone());
                Op::SetState {
                    agent,
                    state: if r & 1 == 0 { "break" } else { "not_ready" }.into(),
                    reason: if r & 1 == 0 { "" } else { "lunch" }.into(),
                }
            }
            // Time passes: wrap-ups end, offers time out, long waits overflow.
            _ => Op::Tick,
        }
    }
}

async fn connect(client: &redis::Client) -> redis::aio::MultiplexedConnection {
    client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must be running (REDIS_URL)")
}

async fn del_tenants(con: &mut redis::aio::MultiplexedConnection, tenants: &[String]) {
    for t in tenants {
        let k = Keys::for_tenant(t);
        let _: () = redis::cmd("DEL")
            .arg(&k.agents)
            .arg(&k.queues)
            .arg(&k.calls)
            .arg(&k.meta)
            .arg(&k.index)
            .arg(&k.timers)
            .query_async(con)
            .await
            .expect("DEL");
    }
}

/// Calls and total µs of script runs so far (`EVALSHA` + `EVAL`), from `INFO commandstats`.
async fn script_stats(con: &mut redis::aio::MultiplexedConnection) -> (u64, u64) {
    let info: String = redis::cmd("INFO")
        .arg("commandstats")
        .query_async(con)
        .await
        .unwrap_or_default();
    let (mut calls, mut usec) = (0, 0);
    for line in info.lines() {
        if line.starts_with("cmdstat_evalsha:") || line.starts_with("cmdstat_eval:") {
            for field in line.split(':').nth(1).unwrap_or("").split(',') {
                match field.split_once('=') {
                    Some(("calls", v)) => calls += v.parse::<u64>().unwrap_or(0),
                    Some(("usec", v)) => usec += v.parse::<u64>().unwrap_or(0),
                    _ => {}
                }
            }
        }
    }
    (calls, usec)
}

async fn apply(
    con: &mut redis::aio::MultiplexedConnection,
    script: &redis::Script,
    keys: &Keys,
    now: u64,
    op: Op,
    view: &mut TenantView,
) {
    let evs = redis_acd::apply_async(con, script, keys, now, &op)
        .await
        .expect("setup op");
    view.absorb(&evs);
}

async fn setup(
    client: &redis::Client,
    script: &redis::Script,
    tenants: &[String],
) -> Vec<TenantView> {
    let mut con = connect(client).await;
    let script = script.clone();
    del_tenants(&mut con, tenants).await;
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut views = vec![];
    for t in tenants {
        let keys = Keys::for_tenant(t);
        let mut view = TenantView::default();
        let now = now_ms();
        for q in 0..QUEUES {
            let op = Op::Queue {
                id: format!("q{q}"),
                cfg: queue_cfg(q),
            };
            apply(&mut con, &script, &keys, now, op, &mut view).await;
        }
        for a in 0..AGENTS {
            let queues = format!(
                "q{},q{},q{}",
                a % QUEUES,
                (a + 3) % QUEUES,
                (a + 7) % QUEUES
            );
            let skills = SKILLS
                .iter()
                .map(|s| format!("{s}={}", 1 + rng.below(10)))
                .collect::<Vec<_>>()
                .join(",");
            let agent = agent_id(a);
            let op = Op::Login {
                agent: agent.clone(),
                queues,
                skills,
            };
            apply(&mut con, &script, &keys, now, op, &mut view).await;
            if rng.below(5) == 0 {
                view.not_ready.push(agent);
            } else {
                let op = Op::SetState {
                    agent,
                    state: "ready".into(),
                    reason: String::new(),
                };
                apply(&mut con, &script, &keys, now, op, &mut view).await;
            }
        }
        // Busy mix: about a third of the agents on calls, a tenth ringing.
        for i in 0..45 {
            view.next_call += 1;
            let op = Op::Arrive {
                call: format!("c{}", view.next_call),
                queue: format!("q{}", i % QUEUES),
                priority: 0,
            };
            view.waiting.push(format!("c{}", view.next_call));
            apply(&mut con, &script, &keys, now, op, &mut view).await;
        }
        while view.offered.len() > 10 {
            let (call, agent) = view.offered.pop_front().expect("offered");
            apply(
                &mut con,
                &script,
                &keys,
                now,
                Op::Answer { agent, call },
                &mut view,
            )
            .await;
        }
        view.keys = Some(keys);
        views.push(view);
    }
    views
}

struct Run {
    clients: usize,
    /// Offered decisions per second (open loop), or `None` (closed loop).
    rate: Option<f64>,
    /// How late each operation started against its schedule (open loop), in µs.
    lag_us: Vec<u32>,
    decisions: usize,
    offers: usize,
    refusals: usize,
    secs: f64,
    lat_us: Vec<u32>,
    server_us_per_run: f64,
    /// Waiting, offered, connected calls (all tenants) when the level ended.
    calls_at_end: [usize; 3],
}

async fn run(
    client: &redis::Client,
    script: &redis::Script,
    clients: usize,
    secs: u64,
    rate: Option<f64>,
) -> Run {
    let tenants: Vec<String> = (0..TENANTS)
        .map(|t| format!("acdbench-{}-{t}", std::process::id()))
        .collect();
    let views = setup(client, script, &tenants).await;
    let mut per_client: Vec<Vec<TenantView>> = (0..clients).map(|_| vec![]).collect();
    for (i, v) in views.into_iter().enumerate() {
        per_client[i % clients].push(v);
    }
    let mut stats_con = connect(client).await;
    let before = script_stats(&mut stats_con).await;
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut tasks = vec![];
    for (c, mut views) in per_client.into_iter().enumerate() {
        let mut con = connect(client).await;
        let script = script.clone();
        tasks.push(tokio::spawn(async move {
            let mut rng = Rng(0xD1B5_4A32_D192_ED03 ^ (c as u64 + 1));
            let (mut lat, mut offers, mut refusals) = (Vec::with_capacity(200_000), 0, 0);
            let mut lag = Vec::new();
            // Open loop: this client's k-th operation is due at start + offset + k * period.
            let period = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
            let mut due =
                start + period.map_or(Duration::ZERO, |p| p.mul_f64(c as f64 / clients as f64));
            while Instant::now() < deadline {
                if let Some(p) = period {
                    tokio::time::sleep_until(due.into()).await;
                    lag.push(due.elapsed().as_micros() as u32);
                    due += p;
                }
                let v = rng.below(views.len());
                let view = &mut views[v];
                let op = view.next_op(&mut rng);
                let keys = view.keys.as_ref().expect("keys");
                let t = Instant::now();
                let res = redis_acd::apply_async(&mut con, &script, keys, now_ms(), &op).await;
                lat.push(t.elapsed().as_micros() as u32);
                match res {
                    Ok(evs) => {
                        offers += evs.iter().filter(|e| e.ev == "offered").count();
                        view.absorb(&evs);
                    }
                    Err(redis_acd::RedisAcdError::Acd(_)) => refusals += 1,
                    Err(e) => panic!("{op:?}: {e}"),
                }
            }
            let mut calls = [0usize; 3];
            for v in &views {
                calls[0] += v.waiting.len();
                calls[1] += v.offered.len();
                calls[2] += v.connected.len();
            }
            (lat, lag, offers, refusals, calls)
        }));
    }
    let mut out = Run {
        clients,
        rate,
        lag_us: vec![],
        decisions: 0,
        offers: 0,
        refusals: 0,
        secs: 0.0,
        lat_us: vec![],
        server_us_per_run: 0.0,
        calls_at_end: [0; 3],
    };
    for t in tasks {
        let (lat, lag, offers, refusals, calls) = t.await.expect("client");
        out.lag_us.extend(lag);
        for (sum, n) in out.calls_at_end.iter_mut().zip(calls) {
            *sum += n;
        }
        out.lat_us.extend(lat);
        out.offers += offers;
        out.refusals += refusals;
    }
    out.secs = start.elapsed().as_secs_f64();
    let after = script_stats(&mut stats_con).await;
    out.decisions = out.lat_us.len();
    out.server_us_per_run = (after.1 - before.1) as f64 / (after.0 - before.0).max(1) as f64;
    out.lat_us.sort_unstable();
    out.lag_us.sort_unstable();
    del_tenants(&mut stats_con, &tenants).await;
    out
}

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let opt = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let quick = args.iter().any(|a| a == "--quick");
    let secs: u64 = opt("--secs")
        .and_then(|s| s.parse().ok())
        .unwrap_or(if quick { 3 } else { 10 });
    let rates: Vec<f64> = opt("--rate")
        .map(|r| r.split(',').filter_map(|s| s.parse().ok()).collect())
        .unwrap_or_default();
    let default_clients = if rates.is_empty() { "1,8,32" } else { "32" };
    let levels: Vec<usize> = opt("--clients")
        .unwrap_or_else(|| default_clients.into())
        .split(',')
        .filter_map(|s| s.parse().ok())
        .collect();
    // (clients, offered rate) pairs: every level once per rate in an open loop.
    let runs: Vec<(usize, Option<f64>)> = if rates.is_empty() {
        levels.iter().map(|&c| (c, None)).collect()
    } else {
        levels
            .iter()
            .flat_map(|&c| rates.iter().map(move |&r| (c, Some(r))))
            .collect()
    };
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/".into());
    let client = redis::Client::open(url).expect("REDIS_URL");
    let script = match opt("--script") {
        Some(file) => redis::Script::new(&std::fs::read_to_string(&file).expect("--script file")),
        None => redis_acd::script(),
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "ACD load: {TENANTS} tenants, {} queues, {} agents; {secs} s per level",
        TENANTS * QUEUES,
        TENANTS * AGENTS
    );
    println!(
        "| clients | offered/s | decisions | decisions/s | offers/s | refusals | p50 ms | p99 ms | max ms | p99 start lag ms | server µs/run | waiting/offered/connected at end |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for (clients, rate) in runs {
        let r = rt.block_on(run(&client, &script, clients, secs, rate));
        let offered = r.rate.map_or("closed loop".into(), |r| format!("{r:.0}"));
        let lag = if r.rate.is_some() {
            format!("{:.3}", pct(&r.lag_us, 0.99))
        } else {
            "—".into()
        };
        println!(
            "| {} | {} | {} | {:.0} | {:.0} | {} | {:.3} | {:.3} | {:.3} | {} | {:.0} | {}/{}/{} |",
            r.clients,
            offered,
            r.decisions,
            r.decisions as f64 / r.secs,
            r.offers as f64 / r.secs,
            r.refusals,
            pct(&r.lat_us, 0.50),
            pct(&r.lat_us, 0.99),
            r.lat_us.last().copied().unwrap_or(0) as f64 / 1000.0,
            lag,
            r.server_us_per_run,
            r.calls_at_end[0],
            r.calls_at_end[1],
            r.calls_at_end[2],
        );
    }
}
