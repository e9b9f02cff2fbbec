//! The IVR admin screens in the browser: an admin builds a flow with a menu → queue branch,
//! sees the server's validation errors next to the node fields (a dangling branch, an
//! unreachable node), fixes them, uploads a WAV prompt (a refused file first), plays it in
//! the page, uses it in the flow, publishes, and assigns one of the tenant's numbers; the
//! API then shows the published version, its graph and the number's flow.
//!
//! Same requirements as `browser_spa.rs` (Chromium, chromedriver, a built `frontend/dist`,
//! Postgres and Redis); failures leave a screenshot in `tests/artifacts/`.

use std::time::{Duration, Instant};

use anyhow::{ensure, Result};
use hotline_backend::testkit::TestApp;
use hotline_e2e::browser::{artifacts_dir, run, Browser};
use hotline_wire::calls::{DidDto, FlowDto, FlowVersionDto};
use hotline_wire::prompts::{prompts_key, PromptDto};
use redis::AsyncCommands;
use serde_json::json;

const PASSWORD: &str = "correct horse battery";
const DID: &str = "+994125550300";

/// A 16 kHz mono 16-bit WAV: a 1 s, 700 Hz tone.
fn wav_file() -> Vec<u8> {
    let rate = 16_000u32;
    let samples: Vec<i16> = (0..rate)
        .map(|i| {
            ((i as f64 * 2.0 * std::f64::consts::PI * 700.0 / rate as f64).sin() * 12_000.0) as i16
        })
        .collect();
    let mut v = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&[1, 0, 1, 0]);
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * 2).to_le_bytes());
    v.extend_from_slice(&[2, 0, 16, 0]);
    v.extend_from_slice(b"data");
    v.extend_from_slice(&((samples.len() * 2) as u32).to_le_bytes());
    for s in samples {
        v.extend_from_slice(&s.to_le_bytes());
    }
    let riff = (v.len() - 8) as u32;
    v[4..8].copy_from_slice(&riff.to_le_bytes());
    v
}

async fn add_node(b: &Browser, id: &str, kind: &str) -> Result<()> {
    b.fill("#new-node-id", id).await?;
    b.choose("#new-node-kind", kind).await?;
    b.click("#new-node-add").await?;
    b.wait(&format!("#node-{id}")).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_ivr_flow_editor_prompt_upload_publish_and_number() {
    let app = TestApp::spawn().await;
    let (admin, signup) = app.signup("Water Line").await;
    let tenant = signup.tenant.id;
    let slug = signup.tenant.slug.clone();
    let r = admin
        .post(app.url("/api/v1/queues"))
        .json(&json!({ "name": "Sales", "strategy": "longest_idle", "max_wait_seconds": 0, "wrap_up_seconds": 0 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    sqlx::query("INSERT INTO platform.dids (did, tenant_id) VALUES ($1, $2)")
        .bind(DID)
        .bind(tenant)
        .execute(&app.state.db)
        .await
        .unwrap();
    let dir = artifacts_dir().join(format!("ivr-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("Welcome.wav");
    std::fs::write(&good, wav_file()).unwrap();
    let bad = dir.join("notes.wav");
    std::fs::write(&bad, "this is text, not audio\n").unwrap();

    run(
        "browser_ivr_flow_editor_prompt_upload_publish_and_number",
        &app.base_url,
        async move |b| {
            b.open("/login").await?;
            b.fill("#tenant", &slug).await?;
            b.fill("#email", "admin@water-line.test").await?;
            b.fill("#password", PASSWORD).await?;
            b.click("#login-submit").await?;
            b.click("nav.mainnav a[href='/admin/ivr']").await?;
            b.wait_path("/admin/ivr").await?;
            b.wait("#flows-empty").await?;

            // A new flow: a menu whose key 1 should go to the Sales queue, left unset.
            b.click("#flow-new").await?;
            b.wait_path("/admin/ivr/flows/new").await?;
            b.fill("#flow-name", "Main line").await?;
            add_node(b, "main", "Menu (press a key)").await?;
            add_node(b, "sales", "Route to a queue").await?;
            add_node(b, "bye", "Hang up").await?;
            b.wait_text("#node-main legend", "Start node").await?;
            b.choose("#node-main-fallback", "bye").await?;
            b.choose("#node-sales-queue", "Sales").await?;
            b.click("#flow-save").await?;
            // The server's errors, next to the node fields they concern.
            b.wait_text("#node-main-options-1-error", "leads to missing node")
                .await?;
            b.wait_text("#node-sales-id-error", "unreachable").await?;
            ensure!(b.path().await? == "/admin/ivr/flows/new", "not saved");
            // The outline shows the dangling branch.
            b.wait_text("#flow-outline", "missing").await?;
            b.choose("#node-main-options-1", "sales").await?;
            b.click("#flow-save").await?;
            b.wait_text("#flash", "Saved as version 1").await?;
            let deadline = Instant::now() + Duration::from_secs(30);
            while !b.path().await?.starts_with("/admin/ivr/flows/") || b.path().await?.ends_with("/new") {
                ensure!(Instant::now() < deadline, "still on the new-flow page");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let flow_path = b.path().await?;
            b.wait_text("#flow-outline", "key 1 → sales").await?;
            b.wait_text("#flow-status", "Not live").await?;
            // Two branches meeting at one node is no loop: the outline says "see above",
            // without the loop sign (the draft only; put back before anything is saved).
            b.choose("#node-main-fallback", "sales").await?;
            let outline = b.wait_text("#flow-outline", "otherwise → sales (see above)").await?;
            ensure!(!outline.contains('↩'), "a loop sign without a loop: {outline}");
            b.choose("#node-main-fallback", "bye").await?;
            b.wait_text("#flow-outline", "otherwise → bye").await?;

            // Prompts: a text file named .wav is refused with the reason; a WAV is stored
            // and plays in the page.
            b.click(".crumbs a").await?;
            b.wait_path("/admin/ivr").await?;
            b.wait("#prompts-empty").await?;
            b.fill("#prompt-name", "welcome").await?;
            b.wait("#prompt-file").await?.send_keys(&bad.display().to_string()).await?;
            b.click("#prompt-upload").await?;
            b.wait_text("#prompt-error", "not a WAV file").await?;
            b.wait("#prompt-file").await?.send_keys(&good.display().to_string()).await?;
            b.click("#prompt-upload").await?;
            b.wait_text("#prompt-notice", "Prompt welcome saved (version 1)").await?;
            let row = b.wait("#prompts-table tr[data-name='welcome']").await?.text().await?;
            ensure!(
                row.contains("Welcome.wav")
                    && row.contains("16000 Hz, mono, 16-bit PCM")
                    && row.contains("1.0 s"),
                "{row}"
            );
            let duration = b
                .js("const a = document.querySelector('#prompt-audio-welcome');
                     return new Promise((ok, fail) => {
                       a.addEventListener('loadedmetadata', () => ok(a.duration));
                       a.addEventListener('error', () => fail('cannot play: ' + (a.error && a.error.code)));
                       a.preload = 'auto'; a.load();
                     });")
                .await?;
            let secs = duration.as_f64().unwrap_or(0.0);
            ensure!((secs - 1.0).abs() < 0.05, "the browser plays {secs} s");

            // Use it: a greeting before the menu, made the start; save version 2, publish it.
            b.click("#flows-table tr[data-name='Main line'] a").await?;
            b.wait_path(&flow_path).await?;
            add_node(b, "hello", "Play a prompt").await?;
            b.choose("#node-hello-prompt", "welcome").await?;
            b.choose("#node-hello-next", "main").await?;
            b.click("#node-hello-make-start").await?;
            b.wait_text("#node-hello legend", "Start node").await?;
            b.click("#flow-save").await?;
            b.wait_text("#flash", "Saved as version 2").await?;
            b.wait("#flow-versions li[data-version='2']").await?;
            b.click("#version-2-publish").await?;
            b.wait_text("#flash", "Version 2 is live").await?;
            b.wait_text("#flow-status", "Version 2 live").await?;
            b.wait_text("#flow-versions li[data-version='2']", "Live").await?;
            b.js("window.scrollTo(0, 0)").await?;
            b.screenshot(&artifacts_dir().join("screens/ivr-flow-editor.png"))
                .await?;

            // The number: answered by this flow.
            b.click(".crumbs a").await?;
            b.choose("#did-flow-994125550300", "Main line").await?;
            b.wait_text("#toasts [role=status]", "+994125550300 is now answered by Main line")
                .await?;
            b.screenshot(&artifacts_dir().join("screens/ivr-admin.png"))
                .await?;
            Ok(())
        },
    )
    .await;
    let _ = std::fs::remove_dir_all(&dir);

    // The API agrees: version 2 is live, with the prompt, the menu → queue branch and the
    // number assigned; the prompt is converted and published for the gateways.
    let get = |p: &str| admin.get(app.url(&format!("/api/v1{p}"))).send();
    let flows: Vec<FlowDto> = get("/ivr/flows").await.unwrap().json().await.unwrap();
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(
        (f.name.as_str(), f.published_version, f.latest_version),
        ("Main line", Some(2), 2)
    );
    let versions: Vec<FlowVersionDto> = get(&format!("/ivr/flows/{}/versions", f.id))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let live = versions
        .iter()
        .find(|v| v.published)
        .expect("a live version");
    assert_eq!(live.version, 2);
    let g = &live.graph;
    assert_eq!(g["start"], "hello");
    assert_eq!(g["nodes"]["hello"]["prompt"], "welcome");
    assert_eq!(g["nodes"]["hello"]["next"], "main");
    assert_eq!(g["nodes"]["main"]["options"]["1"], "sales");
    assert_eq!(g["nodes"]["main"]["fallback"], "bye");
    assert_eq!(g["nodes"]["sales"]["queue"], "Sales");
    assert_eq!(
        versions.iter().find(|v| v.version == 1).unwrap().graph["start"],
        "main"
    );
    let dids: Vec<DidDto> = get("/ivr/dids").await.unwrap().json().await.unwrap();
    let pairs: Vec<(&str, Option<uuid::Uuid>)> =
        dids.iter().map(|d| (d.did.as_str(), d.flow_id)).collect();
    assert_eq!(pairs, [(DID, Some(f.id))]);
    let prompts: Vec<PromptDto> = get("/ivr/prompts").await.unwrap().json().await.unwrap();
    assert_eq!(prompts.len(), 1);
    assert_eq!(
        (prompts[0].name.as_str(), prompts[0].duration_ms),
        ("welcome", 1000)
    );
    let mut r = app.state.redis();
    let published: Option<String> = r.hget(prompts_key(tenant), "welcome").await.unwrap();
    assert!(published.is_some(), "the gateways' copy has the prompt");
}
