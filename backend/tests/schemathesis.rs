//! Schemathesis (a property-based API fuzzer, from PyPI) against the live OpenAPI document:
//! the real app, a signed-up tenant with a little data, and an administrator's API key. Every
//! operation is sent generated valid and invalid input; not one answer may be a 5xx, and every
//! answer must be one the document describes (status, content type, schema).
//!
//! `infra/test.sh` installs schemathesis into `.local/venv`. Extra arguments for a run by hand:
//! `HOTLINE_SCHEMATHESIS_ARGS` (split on spaces), e.g. `--include-path-regex /tickets`.

mod common;

use common::*;
use hotline_backend::testkit::TestApp;
use hotline_wire::api::CreatedApiKey;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// Test cases per operation and phase: enough to reach every documented answer, bounded so
/// the run stays well under three minutes on two cores.
const MAX_EXAMPLES: &str = "5";
const SEED: &str = "16";
/// The whole run is killed (and the test fails) after this.
const DEADLINE: Duration = Duration::from_secs(420);

/// The checks that must pass: no 5xx, and every answer conforms to the document.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance";

/// Operations not fuzzed, with the reason (also listed in docs/security.md, "Fuzzing the API").
const EXCLUDED: &[(&str, &str)] = &[
    // A WebSocket upgrade (101); an API key has no user to stream events for (403 either
    // way), and a schemathesis client cannot speak the upgrade.
    ("GET", "/api/v1/agent/events"),
    // Revoking a key: schemathesis reuses ids from earlier answers (`GET /api-keys` lists
    // its own key), so it revokes the key it runs with and every later request is a 401.
    ("DELETE", "/api/v1/api-keys/{id}"),
];

fn schemathesis_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.local/venv/bin/schemathesis")
}

#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_undocumented_answer() {
    let bin = schemathesis_bin();
    assert!(
        bin.exists(),
        "schemathesis is not installed at {}: run infra/test.sh (it installs it into .local/venv)",
        bin.display()
    );

    let app = TestApp::spawn().await;
    let t = tenant(&app, "Fuzz Co").await;
    let admin_role = t.role(&app, "Administrator").await;
    let key: CreatedApiKey = created(
        t.admin
            .post(app.url("/api/v1/api-keys"))
            .json(&json!({ "name": "schemathesis", "role_id": admin_role.id }))
            .send()
            .await,
    )
    .await;
    // A little data, so list and lookup operations have rows to return (the ticket type
    // "Service request" and the categories exist from sign-up).
    let _: Value = created(
        t.admin
            .post(app.url("/api/v1/queues"))
            .json(&json!({ "name": "Support", "strategy": "longest_idle",
                "max_wait_seconds": 60, "wrap_up_seconds": 10 }))
            .send()
            .await,
    )
    .await;
    let _: Value = created(
        t.admin
            .post(app.url("/api/v1/customers"))
            .json(&json!({ "name": "Ada Lovelace",
                "phones": [{ "number": "+994125550101", "label": "mobile" }] }))
            .send()
            .await,
    )
    .await;

    // Its working directory: schemathesis reads a `schemathesis.toml` there if any.
    let work = std::env::temp_dir().join(format!("hotline-schemathesis-{}", app.database));
    std::fs::create_dir_all(&work).expect("work dir");
    let mut cmd = tokio::process::Command::new(&bin);
    cmd.current_dir(&work)
        .arg("run")
        .arg(app.url("/api/v1/openapi.json"))
        .args(["--url", &app.url("")])
        .args(["--checks", CHECKS])
        .args(["--max-examples", MAX_EXAMPLES])
        .args(["--seed", SEED])
        .args(["--workers", "2"])
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--request-timeout", "20"])
        .args(["--suppress-health-check", "all"])
        .args(["--generation-database", "none"])
        .args(["--no-color"])
        .args(["-H", &format!("Authorization: Bearer {}", key.secret)]);
    for (method, path) in EXCLUDED {
        cmd.args(["--exclude-name", &format!("{method} {path}")]);
    }
    if let Ok(extra) = std::env::var("HOTLINE_SCHEMATHESIS_ARGS") {
        cmd.args(extra.split_whitespace());
    }
    cmd.stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = std::time::Instant::now();
    let child = cmd.spawn().expect("start schemathesis");
    let out = tokio::time::timeout(DEADLINE, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("schemathesis ran longer than {DEADLINE:?}"))
        .expect("schemathesis output");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("schemathesis took {:?}", started.elapsed());
    assert!(
        out.status.success(),
        "schemathesis failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    println!("{stdout}");
}
