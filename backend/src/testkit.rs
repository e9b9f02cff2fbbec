//! Spawns the real application for tests: a fresh Postgres database with the real
//! migrations, the shared Redis, and the HTTP server on a random loopback port.
//!
//! Environment: `HOTLINE_TEST_DATABASE_URL` (an admin connection used to create databases,
//! default `postgres://postgres@127.0.0.1:5432/postgres`), `REDIS_URL`, `HOTLINE_SPA_DIR`.

use crate::{app, config::Config, state::AppState};
use hotline_wire::api::{SignupRequest, SignupResponse};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use uuid::Uuid;

pub struct TestApp {
    pub base_url: String,
    pub state: AppState,
    pub database: String,
}

/// Databases made by the test kit start with this (the test command drops leftovers).
pub const DB_PREFIX: &str = "hotline_test_";

pub fn admin_url() -> String {
    std::env::var("HOTLINE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// The URL of database `name` on the admin URL's server.
pub fn database_url(name: &str) -> String {
    let mut u = url::Url::parse(&admin_url()).expect("HOTLINE_TEST_DATABASE_URL is a URL");
    u.set_path(&format!("/{name}"));
    u.to_string()
}

/// Creates an empty database and returns its name.
pub async fn create_database() -> anyhow::Result<String> {
    let name = format!("{DB_PREFIX}{}", Uuid::new_v4().simple());
    let mut conn = PgConnection::connect(&admin_url()).await.map_err(|e| {
        anyhow::anyhow!(
            "test Postgres at {}: {e} (run infra/services.sh)",
            admin_url()
        )
    })?;
    sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await?;
    Ok(name)
}

impl TestApp {
    /// A fresh database and server with default test settings.
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Like [`spawn`](Self::spawn), letting the test adjust the configuration.
    pub async fn spawn_with(adjust: impl FnOnce(&mut Config)) -> Self {
        let database = create_database().await.expect("create test database");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut cfg = Config {
            database_url: database_url(&database),
            redis_url: std::env::var("REDIS_URL")
                .unwrap_or_else(|_| "redis://127.0.0.1:6379/".into()),
            http_addr: addr,
            public_url: format!("http://{addr}"),
            spa_dir: std::env::var("HOTLINE_SPA_DIR")
                .map(Into::into)
                .unwrap_or_else(|_| {
                    concat!(env!("CARGO_MANIFEST_DIR"), "/../frontend/dist").into()
                }),
            db_pool_size: 10,
            files_dir: std::env::temp_dir().join(format!("hotline-files-{database}")),
            call_events_stream: format!("calls:events:{database}"),
            // Every test signs up from 127.0.0.1 against one shared Redis: the sign-up and
            // strength limits would count across tests and runs. Tests of the limits turn
            // them on (`backend/tests/sessions.rs`).
            signup_limit_per_address: 0,
            signup_limit_global: 0,
            strength_limit_per_address: 0,
            ..Config::default()
        };
        adjust(&mut cfg);
        if std::env::var_os("HOTLINE_TEST_LOG").is_some() {
            crate::telemetry::init_logs("pretty");
        }
        let state = app::state(cfg).await.expect("app state");
        let served = state.clone();
        tokio::spawn(async move {
            let _ = app::serve(listener, served, std::future::pending()).await;
        });
        TestApp {
            base_url: format!("http://{addr}"),
            state,
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// An HTTP client with its own cookie jar (one browser, one user).
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Signs a new tenant up; returns the admin's signed-in client and the response.
    pub async fn signup(&self, company: &str) -> (reqwest::Client, SignupResponse) {
        let client = self.client();
        let slug = format!(
            "{}-{}",
            crate::validate::slugify(company),
            &Uuid::new_v4().simple().to_string()[..8]
        );
        let resp = client
            .post(self.url("/api/v1/signup"))
            .json(&SignupRequest {
                company_name: company.into(),
                slug: Some(slug),
                admin_name: format!("{company} Admin"),
                admin_email: format!("admin@{}.test", crate::validate::slugify(company)),
                password: "correct horse battery".into(),
            })
            .send()
            .await
            .expect("signup request");
        assert_eq!(
            resp.status(),
            201,
            "signup: {}",
            resp.text().await.unwrap_or_default()
        );
        let body = resp.json().await.expect("signup body");
        (client, body)
    }
}
