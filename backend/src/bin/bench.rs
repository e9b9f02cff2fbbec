//! `hotline-bench` — measures the API at concurrency 64 with 100 tenants and prints figures.
//!
//! ```text
//! source infra/services.sh && cargo run --release -p hotline-backend --bin hotline-bench
//! ```
//! It spawns the real server (in this process) on a fresh database, signs up 100 tenants with
//! 10 agents each, then measures (1) password login and (2) an authenticated, tenant-scoped
//! list (`GET /api/v1/users`, 11 rows per tenant) with 64 concurrent clients, printing p50,
//! p99 and requests per second. Not a test: it asserts nothing, it reports.

use hotline_backend::{auth, db, testkit::TestApp};
use std::{
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

const TENANTS: usize = 100;
const AGENTS_PER_TENANT: usize = 10;
const CONCURRENCY: usize = 64;
const PASSWORD: &str = "bench password 1";

struct Figures {
    name: &'static str,
    requests: usize,
    errors: usize,
    p50: Duration,
    p99: Duration,
    rps: f64,
}

async fn run<F, Fut>(name: &'static str, total: usize, f: F) -> Figures
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = vec![];
    for _ in 0..CONCURRENCY {
        let (f, next) = (f.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = vec![];
            let mut errors = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let t = Instant::now();
                if !f(i).await {
                    errors += 1;
                }
                lat.push(t.elapsed());
            }
            (lat, errors)
        }));
    }
    let mut all = vec![];
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("bench task");
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    Figures {
        name,
        requests: all.len(),
        errors,
        p50: pct(0.50),
        p99: pct(0.99),
        rps: all.len() as f64 / elapsed.as_secs_f64(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let app = TestApp::spawn_with(|c| {
        c.db_pool_size = 32;
        c.login_max_failures = 1_000_000;
    })
    .await;
    let app = Arc::new(app);
    eprintln!("signing up {TENANTS} tenants with {AGENTS_PER_TENANT} agents each…");
    let hash = auth::hash_password(PASSWORD.into())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut slugs = vec![];
    let mut clients = vec![];
    for i in 0..TENANTS {
        let (client, info) = app.signup(&format!("Bench {i}")).await;
        let mut tx = db::begin_in_schema(&app.state.db, &db::schema_name(info.tenant.id)).await?;
        for a in 0..AGENTS_PER_TENANT {
            sqlx::query(
                "INSERT INTO users (email, name, password_hash, role_id)
                 SELECT $1, $2, $3, id FROM roles WHERE builtin_key = 'agent'",
            )
            .bind(format!("agent{a}@bench.test"))
            .bind(format!("Agent {a}"))
            .bind(&hash)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        slugs.push(info.tenant.slug);
        clients.push(client);
    }
    let slugs = Arc::new(slugs);
    let clients = Arc::new(clients);

    let login = {
        let (app, slugs) = (app.clone(), slugs.clone());
        let http = reqwest::Client::new();
        run("POST /api/v1/auth/login (argon2id)", 1_000, move |i| {
            let (app, slugs, http) = (app.clone(), slugs.clone(), http.clone());
            async move {
                let body = serde_json::json!({
                    "tenant": slugs[i % TENANTS], "email": format!("agent{}@bench.test", i % AGENTS_PER_TENANT), "password": PASSWORD });
                matches!(http.post(app.url("/api/v1/auth/login")).json(&body).send().await, Ok(r) if r.status() == 200)
            }
        })
        .await
    };
    let list = {
        let (app, clients) = (app.clone(), clients.clone());
        run("GET /api/v1/users (tenant admin)", 20_000, move |i| {
            let (app, clients) = (app.clone(), clients.clone());
            async move {
                matches!(clients[i % TENANTS].get(app.url("/api/v1/users")).send().await, Ok(r) if r.status() == 200)
            }
        })
        .await
    };
    println!(
        "Hotline API benchmark: {TENANTS} tenants, concurrency {CONCURRENCY}, {} cores",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    println!("| endpoint | requests | errors | p50 ms | p99 ms | req/s |");
    println!("|---|---:|---:|---:|---:|---:|");
    for f in [login, list] {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} | {:.0} |",
            f.name,
            f.requests,
            f.errors,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.rps
        );
    }
    Ok(())
}
