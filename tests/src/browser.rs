//! Real headless Chromium driven over WebDriver (chromedriver + fantoccini).
//!
//! Every [`Browser`] gets its own chromedriver process on a free port and a fresh, empty
//! `--user-data-dir`, so tests share no cookies or storage. [`run`] wraps a test body: on
//! failure (an error or a panic) it saves a screenshot and the page's HTML under
//! `tests/artifacts/` before failing the test.

use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::{Client, ClientBuilder, Locator};
use futures::FutureExt;

/// How long a step may wait for the page to reach the expected state.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);

/// The repository root (this crate lives in `tests/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// Where failure screenshots go (git-ignored).
pub fn artifacts_dir() -> PathBuf {
    repo_root().join("tests").join("artifacts")
}

fn find_on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path).chain([
        PathBuf::from("/usr/bin"),
        PathBuf::from("/usr/lib/chromium"),
    ]) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Checks everything a browser test needs and says how to fix what is missing — the
/// tests never skip silently.
pub fn preflight() -> Result<(PathBuf, PathBuf)> {
    let chromium = std::env::var_os("HOTLINE_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| find_on_path(&["chromium", "chromium-browser", "google-chrome"]))
        .ok_or_else(|| anyhow!("Chromium is not installed: run `apt-get install -y chromium chromium-driver` (listed in infra/apt-packages.txt)"))?;
    let driver = std::env::var_os("HOTLINE_CHROMEDRIVER")
        .map(PathBuf::from)
        .or_else(|| find_on_path(&["chromedriver"]))
        .ok_or_else(|| anyhow!("chromedriver is not installed: run `apt-get install -y chromium-driver` (listed in infra/apt-packages.txt)"))?;
    let spa = std::env::var_os("HOTLINE_SPA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("frontend").join("dist"));
    if !spa.join("index.html").is_file() {
        bail!(
            "the SPA is not built ({} has no index.html): run `frontend/build.sh` (the README's test command does)",
            spa.display()
        );
    }
    Ok((chromium, driver))
}

fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The chromedriver process and the profile directory: killed and removed on drop, so a
/// failing or panicking test leaves nothing running.
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One headless Chromium with its own chromedriver and profile.
pub struct Browser {
    pub client: Client,
    base_url: String,
    driver: Driver,
}

impl Browser {
    /// Starts Chromium at 1366×768 with a fresh profile, pointed at `base_url`.
    pub async fn start(base_url: &str) -> Result<Browser> {
        Self::start_with(base_url, &[]).await
    }

    /// Like [`Browser::start`], with extra Chromium switches (e.g. a fake microphone:
    /// `--use-fake-device-for-media-stream`, `--use-file-for-fake-audio-capture=<wav>`).
    pub async fn start_with(base_url: &str, extra_args: &[String]) -> Result<Browser> {
        let (chromium, driver_bin) = preflight()?;
        // Several crates enable different rustls providers; choose one for the process (an
        // error only means another test already did).
        let _ = rustls::crypto::ring::default_provider().install_default();
        let port = free_port()?;
        let profile = std::env::temp_dir().join(format!(
            "hotline-e2e-profile-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&profile)?;
        let child = Command::new(&driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", driver_bin.display()))?;
        let mut driver = Driver {
            child,
            profile: profile.clone(),
        };
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1366,768",
            "--lang=en-GB",
        ]
        .iter()
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        args.extend(extra_args.iter().cloned());
        let caps = serde_json::json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium.to_string_lossy(),
                "args": args,
                "prefs": { "intl.accept_languages": "en-GB,en" },
            }
        });
        let caps = match caps {
            serde_json::Value::Object(m) => m,
            _ => unreachable!("a JSON object literal"),
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match ClientBuilder::rustls()?
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    if let Ok(Some(status)) = driver.child.try_wait() {
                        bail!("chromedriver exited with {status}");
                    }
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(150)).await;
                }
                Err(e) => return Err(anyhow!("cannot start Chromium through chromedriver: {e}")),
            }
        };
        let browser = Browser {
            client,
            base_url: base_url.trim_end_matches('/').to_string(),
            driver,
        };
        // Headless Chromium counts window decorations: size the window so the *viewport*
        // is 1366×768, the agent desktop's design size.
        let sized = async {
            let extra = browser
                .js("return [window.outerWidth - window.innerWidth, window.outerHeight - window.innerHeight]")
                .await?;
            let dw = extra[0].as_u64().unwrap_or(0) as u32;
            let dh = extra[1].as_u64().unwrap_or(0) as u32;
            browser.client.set_window_size(1366 + dw, 768 + dh).await?;
            anyhow::Ok(())
        }
        .await;
        match sized {
            Ok(()) => Ok(browser),
            Err(e) => {
                browser.shutdown().await;
                Err(e)
            }
        }
    }

    /// Opens a path of the app (e.g. `/login`).
    pub async fn open(&self, path: &str) -> Result<()> {
        self.client
            .goto(&format!("{}{}", self.base_url, path))
            .await?;
        Ok(())
    }

    /// The current path (without origin).
    pub async fn path(&self) -> Result<String> {
        Ok(self.client.current_url().await?.path().to_string())
    }

    /// Waits until `css` matches a displayed element.
    pub async fn wait(&self, css: &str) -> Result<Element> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if el.is_displayed().await.unwrap_or(false) {
                    return Ok(el);
                }
            }
            if Instant::now() > deadline {
                bail!(
                    "timed out waiting for `{css}` on {}",
                    self.path().await.unwrap_or_default()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element at `css` has text containing `text`; returns the full text.
    pub async fn wait_text(&self, css: &str, text: &str) -> Result<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if t.contains(text) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for `{css}` to contain {text:?}; it said {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the element at `css` exists and its text no longer contains `text` (a list
    /// that must lose a row after a search); returns the full text.
    pub async fn wait_text_without(&self, css: &str, text: &str) -> Result<String> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        let mut last = String::new();
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(t) = el.text().await {
                    if !t.contains(text) {
                        return Ok(t);
                    }
                    last = t;
                }
            }
            if Instant::now() > deadline {
                bail!("timed out waiting for `{css}` to lose {text:?}; it said {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the app is at `path`.
    pub async fn wait_path(&self, path: &str) -> Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            let now = self.path().await?;
            if now == path {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!("timed out waiting to reach {path}; still at {now}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces an input's text, typing it like a user (select all, delete, type), and
    /// checks the field holds exactly `value` afterwards — a re-render racing the typing is
    /// retried rather than left as a half-typed field.
    pub async fn fill(&self, css: &str, value: &str) -> Result<()> {
        const SELECT_ALL_DELETE: &str = "\u{E009}a\u{E000}\u{E003}";
        let mut now = String::new();
        for _ in 0..3 {
            let el = self.wait(css).await?;
            let typed = async {
                el.send_keys(SELECT_ALL_DELETE).await?;
                el.send_keys(value).await
            };
            match typed.await {
                Ok(()) => {}
                // Re-rendered while typing: find it again and type again.
                Err(e) if is_stale(&e) => continue,
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
            now = self.value(css).await?;
            if now == value {
                return Ok(());
            }
        }
        bail!("`{css}` holds {now:?} after typing {value:?}")
    }

    /// Clicks the element at `css`; an element the app re-rendered between finding and
    /// clicking ("stale element") is found again.
    pub async fn click(&self, css: &str) -> Result<()> {
        let mut tries = 0;
        loop {
            let r = self.wait(css).await?.click().await;
            match r {
                Ok(()) => return Ok(()),
                Err(e) if is_stale(&e) && tries < 5 => tries += 1,
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Picks the `<option>` of the select at `css` whose visible text contains `label` (the
    /// select is found again when the app re-renders it meanwhile).
    pub async fn choose(&self, css: &str, label: &str) -> Result<()> {
        let deadline = Instant::now() + STEP_TIMEOUT;
        loop {
            match self.try_choose(css, label).await {
                Ok(true) => return Ok(()),
                Ok(false) => {}
                Err(e) if is_stale(&e) => {}
                Err(e) => return Err(e.into()),
            }
            if Instant::now() > deadline {
                bail!("`{css}` has no option containing {label:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn try_choose(&self, css: &str, label: &str) -> Result<bool, CmdError> {
        let Ok(select) = self.wait(css).await else {
            return Ok(false);
        };
        for opt in select.find_all(Locator::Css("option")).await? {
            if opt.text().await?.contains(label) {
                opt.click().await?;
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The value of an input (what the user typed).
    pub async fn value(&self, css: &str) -> Result<String> {
        let mut tries = 0;
        loop {
            match self.wait(css).await?.prop("value").await {
                Ok(v) => return Ok(v.unwrap_or_default()),
                Err(e) if is_stale(&e) && tries < 5 => tries += 1,
                Err(e) => return Err(e.into()),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs JavaScript in the page; a returned promise is awaited.
    pub async fn js(&self, script: &str) -> Result<serde_json::Value> {
        Ok(self.client.execute(script, vec![]).await?)
    }

    pub async fn screenshot(&self, to: &Path) -> Result<()> {
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(to, self.client.screenshot().await?)?;
        Ok(())
    }

    /// Ends the WebDriver session (Chromium quits), then drops chromedriver and the profile.
    async fn shutdown(self) {
        let _ = self.client.clone().close().await;
        drop(self.driver);
    }
}

/// Whether WebDriver said the element is gone from the page (re-rendered since found).
fn is_stale(e: &CmdError) -> bool {
    e.to_string().to_lowercase().contains("stale element")
}

/// Runs a browser test body; on failure saves `tests/artifacts/<name>.png` and `.html`,
/// then fails with the original error.
pub async fn run<F>(name: &str, base_url: &str, body: F)
where
    F: AsyncFnOnce(&Browser) -> Result<()>,
{
    run_with(name, base_url, &[], body).await
}

/// [`run`] with extra Chromium switches (see [`Browser::start_with`]).
pub async fn run_with<F>(name: &str, base_url: &str, extra_args: &[String], body: F)
where
    F: AsyncFnOnce(&Browser) -> Result<()>,
{
    let browser = match Browser::start_with(base_url, extra_args).await {
        Ok(b) => b,
        Err(e) => panic!("{name}: {e:#}"),
    };
    let outcome = AssertUnwindSafe(body(&browser)).catch_unwind().await;
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(format!("{e:#}")),
        Err(panic) => Some(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into()),
        ),
    };
    if let Some(msg) = &failure {
        let png = artifacts_dir().join(format!("{name}.png"));
        let saved = browser.screenshot(&png).await.is_ok();
        if let Ok(src) = browser.client.source().await {
            let _ = std::fs::write(artifacts_dir().join(format!("{name}.html")), src);
        }
        browser.shutdown().await;
        panic!(
            "{name} failed: {msg}{}",
            if saved {
                format!("\n  screenshot: {}", png.display())
            } else {
                String::new()
            }
        );
    }
    browser.shutdown().await;
}

/// Chromium flags for an agent whose microphone plays a 1 kHz tone (30 s, looped), written
/// to `work/agent-tone.wav` with sox; media permissions granted, autoplay allowed.
pub fn fake_microphone_args(work: &Path) -> Vec<String> {
    let mic = work.join("agent-tone.wav");
    let st = Command::new("sox")
        .args(["-n", "-r", "48000", "-c", "1", "-b", "16"])
        .arg(&mic)
        .args(["synth", "30", "sine", "1000", "vol", "0.5"])
        .status()
        .expect("sox (Debian package sox) must be installed");
    assert!(st.success(), "sox failed");
    vec![
        "--use-fake-device-for-media-stream".to_string(),
        "--use-fake-ui-for-media-stream".to_string(),
        format!("--use-file-for-fake-audio-capture={}", mic.display()),
        "--autoplay-policy=no-user-gesture-required".to_string(),
    ]
}

impl Browser {
    /// Waits up to 25 s until the agent's softphone plays the caller's audio: an analyser on
    /// the track its current connection receives (a move to another gateway makes a new one)
    /// measures the level. Fails with the connection's inbound RTP stats.
    pub async fn hears_caller(&self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(25);
        let mut best = 0.0f64;
        loop {
            let level = self
                .js(r#"const pc = window.hotlineSoftphone;
                       if (!pc) return -1;
                       if (window.__levelPc !== pc) {
                         const ctx = new AudioContext();
                         const track = pc.getReceivers()[0].track;
                         const src = ctx.createMediaStreamSource(new MediaStream([track]));
                         const an = ctx.createAnalyser();
                         an.fftSize = 2048;
                         src.connect(an);
                         const buf = new Float32Array(2048);
                         window.__level = () => { an.getFloatTimeDomainData(buf); let s = 0; for (const x of buf) s += x * x; return Math.sqrt(s / buf.length); };
                         window.__levelPc = pc;
                         ctx.resume();
                       }
                       return window.__level();"#)
                .await?
                .as_f64()
                .unwrap_or(0.0);
            best = best.max(level);
            if level > 0.01 {
                return Ok(());
            }
            if Instant::now() >= deadline {
                let stats = self
                    .js(r#"return window.hotlineSoftphone.getStats().then(r => {
                             const out = []; r.forEach(s => { if (s.type === 'inbound-rtp') out.push(s); }); return JSON.stringify(out);
                           });"#)
                    .await?;
                bail!("the browser heard no caller audio (best level {best}): {stats}");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Signs in as an agent, waits for the softphone to connect and makes them Ready.
    pub async fn agent_ready(&self, tenant: &str, email: &str, password: &str) -> Result<()> {
        self.open("/login").await?;
        self.fill("#tenant", tenant).await?;
        self.fill("#email", email).await?;
        self.fill("#password", password).await?;
        self.click("#login-submit").await?;
        self.wait_path("/agent").await?;
        self.wait("#softphone-status[data-state='ready']").await?;
        self.choose("#agent-state", "Ready").await?;
        self.click("#agent-state-apply").await?;
        self.wait_text("#agent-current-state", "Ready").await?;
        Ok(())
    }
}
