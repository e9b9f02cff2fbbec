//! Benchmark program (not a test): the agent desktop's time to interactive on a cold load,
//! in headless Chromium against the real backend serving the built SPA (`frontend/dist`).
//!
//! ```text
//! source infra/services.sh && frontend/build.sh
//! cargo bench -p hotline-e2e --bench desk_tti [-- --runs 7] [--spa DIR]
//! ```
//! `--spa DIR` serves another build of the SPA (e.g. an older commit's `frontend/dist`, for a
//! before/after comparison); its wasm size is printed too.
//! Each run starts Chromium with a fresh profile (empty cache), puts a signed-in agent's
//! session cookie on the origin (through `/healthz`, which is not the SPA), then opens
//! `/agent`. "Interactive" is the desktop's own User Timing mark `hotline-desk-interactive`,
//! set when the agent's state and reason codes are on screen (the state form works). Printed
//! per run and as medians: that mark, DOMContentLoaded, the wasm download (ms, bytes on the
//! wire) — and the size of the wasm in `frontend/dist` (raw and gzip -9).

use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{repo_root, run_with};
use serde_json::json;
use std::sync::{Arc, Mutex};

const PASSWORD: &str = "correct horse battery";

#[derive(Clone, Copy, Default)]
struct Sample {
    interactive: f64,
    dcl: f64,
    wasm_ms: f64,
    wasm_bytes: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    if v.is_empty() {
        return f64::NAN;
    }
    v[v.len() / 2]
}

/// The built wasm: (file, raw bytes, gzip -9 bytes).
fn wasm_size(dist: &std::path::Path) -> Option<(String, u64, u64)> {
    // The desk build (`hotline-desk-*.wasm`) since the split; one `.wasm` before it.
    let files: Vec<_> = std::fs::read_dir(dist).ok()?.flatten().collect();
    let wasm = |e: &&std::fs::DirEntry| e.file_name().to_string_lossy().ends_with(".wasm");
    let f = files
        .iter()
        .filter(wasm)
        .find(|e| e.file_name().to_string_lossy().starts_with("hotline-desk-"))
        .or_else(|| files.iter().find(wasm))?;
    let raw = std::fs::metadata(f.path()).ok()?.len();
    let out = std::process::Command::new("gzip")
        .args(["-9", "-c", "-n"])
        .arg(f.path())
        .output()
        .ok()?;
    Some((
        f.file_name().to_string_lossy().into_owned(),
        raw,
        out.stdout.len() as u64,
    ))
}

async fn bench(runs: usize, spa: std::path::PathBuf) {
    let dir = spa.clone();
    let app = TestApp::spawn_with(move |c| c.spa_dir = dir).await;
    let (admin, info) = app.signup("TTI Bench").await;
    let slug = info.tenant.slug.clone();
    let roles: serde_json::Value = admin
        .get(app.url("/api/v1/roles"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let role = roles
        .as_array()
        .and_then(|rs| rs.iter().find(|r| r["name"] == "Agent"))
        .map(|r| r["id"].clone())
        .expect("the built-in Agent role");
    let r = admin
        .post(app.url("/api/v1/users"))
        .json(
            &json!({ "email": "tti@tti.test", "name": "Tia Agent", "password": PASSWORD,
                       "role_id": role, "extension": "2101" }),
        )
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{}",
        r.text().await.unwrap_or_default()
    );

    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let args: Vec<String> = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for i in 0..=runs {
        let samples = samples.clone();
        let slug = slug.clone();
        run_with("desk_tti", &app.base_url, &args, async move |b| {
            // Sign in from a page that is not the SPA (the browser keeps the session
            // cookie), so that /agent is the first load of the app in this profile.
            b.open("/healthz").await?;
            let status = b
                .js(&format!(
                    "const x = new XMLHttpRequest();
                     x.open('POST', '/api/v1/auth/login', false);
                     x.setRequestHeader('content-type', 'application/json');
                     x.send(JSON.stringify({{ tenant: '{slug}', email: 'tti@tti.test', password: '{PASSWORD}' }}));
                     return x.status;"
                ))
                .await?;
            anyhow::ensure!(status == 200, "login: {status}");
            b.open("/agent").await?;
            b.wait("#agent-state-apply").await?;
            let m = b
                .js("const n = performance.getEntriesByType('navigation')[0];
                     const i = performance.getEntriesByName('hotline-desk-interactive')[0];
                     const w = performance.getEntriesByType('resource').find(r => r.name.endsWith('.wasm'));
                     return [i ? i.startTime : -1, n.domContentLoadedEventEnd,
                             w ? w.responseEnd - w.startTime : -1, w ? w.transferSize : -1];")
                .await?;
            let f = |k: usize| m[k].as_f64().unwrap_or(-1.0);
            anyhow::ensure!(f(0) > 0.0, "no interactive mark: {m}");
            let s = Sample {
                interactive: f(0),
                dcl: f(1),
                wasm_ms: f(2),
                wasm_bytes: f(3),
            };
            // Run 0 warms the server (first SPA read from disk, first queries): not counted.
            if i == 0 {
                println!("warm-up: interactive {:.0} ms", s.interactive);
            } else {
                println!(
                    "run {i}: interactive {:>5.0} ms   DOMContentLoaded {:>5.0} ms   wasm fetch {:>5.0} ms, {:>8.0} bytes on the wire",
                    s.interactive, s.dcl, s.wasm_ms, s.wasm_bytes
                );
                samples.lock().unwrap().push(s);
            }
            Ok(())
        })
        .await;
    }
    let s = samples.lock().unwrap().clone();
    println!(
        "median of {}: interactive {:.0} ms, DOMContentLoaded {:.0} ms, wasm fetch {:.0} ms, {:.0} bytes on the wire",
        s.len(),
        median(s.iter().map(|x| x.interactive).collect()),
        median(s.iter().map(|x| x.dcl).collect()),
        median(s.iter().map(|x| x.wasm_ms).collect()),
        median(s.iter().map(|x| x.wasm_bytes).collect()),
    );
    if let Some((name, raw, gz)) = wasm_size(&spa) {
        println!("wasm {name}: {raw} bytes raw, {gz} bytes gzip -9");
    }
}

fn main() {
    let mut runs = 7;
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--runs") {
        runs = args
            .get(i + 1)
            .and_then(|v| v.parse().ok())
            .expect("--runs N");
    }
    let spa = args
        .iter()
        .position(|a| a == "--spa")
        .map(|i| std::path::PathBuf::from(args.get(i + 1).expect("--spa DIR")))
        .unwrap_or_else(|| repo_root().join("frontend/dist"));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(bench(runs, spa));
}
