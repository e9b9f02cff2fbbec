//! The agent desktop's layout and its own build, in Chromium (issue 18: the desk redesign and
//! the split build).
//!
//! - Signed out, `/agent` loads the desk build, which sends the visitor to the sign-in page of
//!   the console build with "Please sign in to continue." (the message survives the reload
//!   between builds).
//! - The agent signs in on the console build and lands on her desk, served by the desk build.
//! - At 1366×768 and at 1920×1080 the desk fits the window: neither the page nor any pane
//!   scrolls sideways; the softphone is a narrow column on the left, the customer card above
//!   the interaction in the wide middle, the knowledge base at the right, the state bar across
//!   the top; at 1920×1080 the middle grows, not the softphone.
//! - Alt+3 still moves the focus to the customer pane's heading.
//! - "Home" in the sidebar loads the console build again.
//!
//! Same requirements as `browser_spa.rs`; failures leave a screenshot in `tests/artifacts/`.

mod common;

use anyhow::{ensure, Context, Result};
use common::{tenant, PASSWORD};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run};
use serde_json::{json, Value};

/// Which build runs in the page (`window.__hotlineBuild.name`, set by index.html).
const BUILD: &str = "return window.__hotlineBuild && window.__hotlineBuild.name";

/// Each pane's box and whether it (or the page) scrolls sideways.
const GEOMETRY: &str = r#"
const box = (sel) => { const e = document.querySelector(sel); if (!e) return null;
  const r = e.getBoundingClientRect();
  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom, width: r.width,
           sideways: e.scrollWidth > e.clientWidth + 1 }; };
const d = document.documentElement;
return { page_sideways: d.scrollWidth > d.clientWidth,
  state: box('.pane.state'), phone: box('.pane.softphone'), customer: box('.pane.customer'),
  interaction: box('.pane.interaction'), kb: box('.pane.kb') };
"#;

fn f(v: &Value, pane: &str, k: &str) -> f64 {
    v[pane][k].as_f64().unwrap_or(f64::NAN)
}

fn check_layout(g: &Value, size: &str) -> Result<()> {
    ensure!(
        g["page_sideways"] == json!(false),
        "{size}: the page scrolls sideways: {g}"
    );
    for pane in ["state", "phone", "customer", "interaction", "kb"] {
        ensure!(g[pane].is_object(), "{size}: no {pane} pane: {g}");
        ensure!(
            g[pane]["sideways"] == json!(false),
            "{size}: the {pane} pane scrolls sideways: {g}"
        );
    }
    // The softphone at the left, the customer above the interaction in the middle, the KB at
    // the right; the state bar across the top.
    ensure!(
        f(g, "phone", "right") <= f(g, "customer", "left") + 1.0
            && f(g, "customer", "right") <= f(g, "kb", "left") + 1.0,
        "{size}: columns out of order (softphone | customer | knowledge base): {g}"
    );
    ensure!(
        (f(g, "customer", "left") - f(g, "interaction", "left")).abs() < 1.0
            && f(g, "customer", "bottom") <= f(g, "interaction", "top") + 1.0,
        "{size}: the interaction is not under the customer card: {g}"
    );
    ensure!(
        f(g, "customer", "width") > f(g, "phone", "width")
            && f(g, "customer", "width") > f(g, "kb", "width"),
        "{size}: the customer card is not the main area: {g}"
    );
    ensure!(
        f(g, "state", "bottom") <= f(g, "phone", "top") + 1.0
            && f(g, "state", "width") >= f(g, "kb", "right") - f(g, "phone", "left") - 1.0,
        "{size}: the state bar is not across the top: {g}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_fits_common_screens_and_loads_its_own_build() {
    let app = TestApp::spawn().await;
    let t = tenant(&app, "Desk Layout Gas").await;
    t.agent(&app, "leyla@desk-layout.test", "Leyla", None, &[])
        .await;
    let slug = t.slug.clone();

    run("browser_desk_layout", &app.base_url, async |b| {
        b.client.set_window_size(1366, 768).await?;

        // Signed out: the desk build sends the visitor to the console's sign-in page, with
        // the reason.
        b.open("/agent").await?;
        b.wait_path("/login").await?;
        b.wait_text("#flash", "Please sign in to continue.").await?;
        ensure!(b.js(BUILD).await? == json!("console"), "the sign-in page is not the console build");

        b.fill("#tenant", &slug).await?;
        b.fill("#email", "leyla@desk-layout.test").await?;
        b.fill("#password", PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait_path("/agent").await?;
        b.wait("#agent-desktop").await?;
        ensure!(b.js(BUILD).await? == json!("desk"), "the desk is not served by the desk build");
        let desk_wasm = b
            .js("return performance.getEntriesByType('resource').map(r => r.name).filter(n => n.endsWith('.wasm'))")
            .await?;
        ensure!(
            desk_wasm.as_array().is_some_and(|a| a.len() == 1
                && a[0].as_str().is_some_and(|n| n.contains("/hotline-desk-"))),
            "the desk loaded {desk_wasm}"
        );

        let g = b.js(GEOMETRY).await?;
        check_layout(&g, "1366×768").context("1366×768")?;
        let phone_1366 = f(&g, "phone", "width");
        let customer_1366 = f(&g, "customer", "width");
        b.screenshot(&artifacts_dir().join("screens/desk-1366.png")).await?;

        b.client.set_window_size(1920, 1080).await?;
        let g = b.js(GEOMETRY).await?;
        check_layout(&g, "1920×1080").context("1920×1080")?;
        ensure!(
            f(&g, "customer", "width") > customer_1366 + 300.0
                && (f(&g, "phone", "width") - phone_1366).abs() < 2.0,
            "at 1920×1080 the middle should grow, not the softphone: {g}"
        );
        b.screenshot(&artifacts_dir().join("screens/desk-1920.png")).await?;
        b.client.set_window_size(1366, 768).await?;

        // Keyboard shortcuts kept: Alt+3 focuses the customer pane.
        b.js("document.dispatchEvent(new KeyboardEvent('keydown', {key: '3', altKey: true, bubbles: true})); return null")
            .await?;
        let focused = b.js("return document.activeElement && document.activeElement.id").await?;
        ensure!(focused == json!("pane-customer-h"), "Alt+3 focused {focused}");

        // A console screen from the desk's sidebar loads the console build.
        b.click("#nav-home").await?;
        b.wait_path("/").await?;
        b.wait("#home-agent-state").await?;
        ensure!(b.js(BUILD).await? == json!("console"), "home is not the console build");
        Ok(())
    })
    .await;
}
