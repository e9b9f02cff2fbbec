//! Every screen of the SPA, in every language, with an accessibility audit (issue 18).
//!
//! The seeded demo call center (`hotline seed-demo`: users, queues, customers, KB, IVR flow,
//! campaign), plus a ticket and a call, so lists are not empty. One Chromium visits every
//! route the SPA publishes in `window.__hotlineRoutes` (built from `Route`'s variants, so a new
//! page is covered without editing this file): the public pages signed out, the tenant pages
//! as the demo admin, the console as the platform operator; parametrised routes with a real
//! id. Each route is visited in English, then in az, pl, ru and zh (switched with the app's
//! language picker), moving inside the SPA (`pushState` + `popstate`) and waiting for the page
//! to settle (no spinner, nothing busy, the DOM quiet for a moment). Four checks:
//!
//! 1. coverage: every published route was visited and stayed there (no redirect), per language;
//! 2. English fallbacks: the ids the SPA showed in English because the active catalog lacks
//!    them (`window.__hotlineFallbacks`, filled by `i18n.rs`), per route and language;
//! 3. text that bypasses the catalogs: visible text identical to the English page's at the
//!    same route that contains Latin words, is not a value of the language's own catalog,
//!    not data the page fetched from the API (names, e-mails…), and not on [`ALLOWED`];
//! 4. axe-core (`tests/axe`, npm, pinned) on every route in English with the WCAG 2.1 A/AA
//!    rules: any violation of impact `serious` or `critical`, with rule, route and target.
//!
//! The failure message gives a compact summary; the full lists go to
//! `tests/artifacts/browser_all_routes.txt`. `HOTLINE_ALL_ROUTES_LANGS=en,pl` limits the
//! languages (English is always visited: it is the reference). How to read a failure and how
//! to allow-list a name: docs/frontend.md, "Every route in every language".

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, ensure, Result};
use common::{eventually, ok};
use hotline_backend::{seed, testkit::TestApp};
use hotline_e2e::browser::{artifacts_dir, repo_root, run, Browser};
use hotline_wire::gateway::{event_stream_for, FlowMode, GatewayEvent, HangupCause, STREAM_FIELD};
use redis::AsyncCommands;
use serde_json::{json, Value};
use uuid::Uuid;

/// Languages in the order visited; English first, as the reference for the text check.
const LANGS: [(&str, &str); 5] = [
    ("en", "English"),
    ("az", "Azərbaycanca"),
    ("pl", "Polski"),
    ("ru", "Русский"),
    ("zh", "简体中文"),
];

/// Routes that only send the visitor elsewhere: `/` leads to the login page or the user's
/// start page. Every other route must stay where it was opened.
const REDIRECTS: &[&str] = &["/"];

/// Latin words that may stay the same in every language. Keep it short; say why.
#[rustfmt::skip]
const ALLOWED: &[&str] = &[
    // The product's name.
    "Hotline",
    // Protocol, format and standard names, written the same in every language.
    "SIP", "IVR", "SLA", "SSO", "API", "CSV", "WAV", "URL", "ID", "UTC", "OpenID",
    // The payment provider.
    "Stripe",
    // A language's name that Polish writes the same (the KB search languages, from `Intl`).
    "Hindi",
    // Browser and system names, as a session's User-Agent gives them.
    "Chrome", "Firefox", "Safari", "Edge", "Linux", "Windows", "macOS", "Android", "iOS",
];

/// How long the DOM must stay unchanged before a page counts as settled.
const QUIET_MS: f64 = 300.0;

/// A route as the SPA publishes it.
struct PublishedRoute {
    path: String,
    audience: String,
}

/// Everything found, gathered over the whole run and reported at the end.
#[derive(Default)]
struct Findings {
    /// (lang, route) → message ids shown in English.
    fallbacks: BTreeMap<(String, String), BTreeSet<String>>,
    /// (lang, route) → text identical to English that no catalog produced.
    bypass: BTreeMap<(String, String), BTreeSet<String>>,
    /// route → "rule (impact): targets".
    axe: BTreeMap<String, Vec<String>>,
    /// Routes that did not stay where they were opened: "lang route → landed".
    redirected: Vec<String>,
    /// (lang, route pattern) visited.
    visited: BTreeSet<(String, String)>,
}

/// The ids a parametrised route is visited with.
struct Ids {
    ticket: Uuid,
    user: Uuid,
    flow: Uuid,
    call: Uuid,
    tenant: Uuid,
}

impl Ids {
    /// The concrete path to open for a route pattern. A new parametrised route needs its id
    /// here: the test fails naming it until then.
    fn path(&self, pattern: &str) -> Result<String> {
        if !pattern.contains(':') {
            return Ok(pattern.to_string());
        }
        let id = match pattern {
            "/tickets/:id" => self.ticket,
            "/admin/users/:id" => self.user,
            "/admin/ivr/flows/:id" => self.flow,
            "/calls/:id" => self.call,
            "/platform/tenants/:id/sessions" => self.tenant,
            _ => bail!(
                "route {pattern} has a parameter this test has no id for: add one to Ids::path \
                 in tests/tests/browser_all_routes.rs"
            ),
        };
        Ok(pattern.replace(":id", &id.to_string()))
    }
}

/// Single-line `key = value` messages of a catalog (the only form the catalogs use).
fn catalog(lang: &str) -> BTreeMap<String, String> {
    let path = repo_root()
        .join("frontend/i18n")
        .join(format!("{lang}.ftl"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect()
}

/// A message value as a pattern: its literal parts, with `{ … }` placeables between them.
fn literal_parts(value: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut depth = 0;
    for c in value.chars() {
        match c {
            '{' => {
                if depth == 0 {
                    parts.push(String::new());
                }
                depth += 1;
            }
            '}' => depth -= 1,
            _ if depth == 0 => parts.last_mut().expect("one part").push(c),
            _ => {}
        }
    }
    parts
}

/// Whether `text` can be the message `value` with its placeables filled in.
fn matches_message(value: &str, text: &str) -> bool {
    let parts = literal_parts(value);
    if parts.len() == 1 {
        return parts[0].trim() == text;
    }
    // A message that is only placeables says nothing about where a text came from.
    if !parts.iter().any(|p| has_word(p)) {
        return false;
    }
    let text = text.trim();
    let first = parts[0].trim_start();
    let last = parts[parts.len() - 1].trim_end();
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid.as_str()) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

/// Whether `s` has a Latin word (two ASCII letters in a row).
fn has_word(s: &str) -> bool {
    s.as_bytes()
        .windows(2)
        .any(|w| w[0].is_ascii_alphabetic() && w[1].is_ascii_alphabetic())
}

/// `s` without the occurrences of `needle` that are whole words (not "end" in "Suspend").
fn strip_whole(s: &str, needle: &str) -> String {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric());
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find(needle) {
        let (before, after) = (&rest[..i], &rest[i + needle.len()..]);
        let joined_before = word(before.chars().last()) && word(needle.chars().next());
        let joined_after = word(after.chars().next()) && word(needle.chars().last());
        let whole = !joined_before && !joined_after;
        out.push_str(before);
        out.push_str(if whole { " " } else { needle });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The Latin words of `s` that are neither data, nor words of a catalog message (`known`: a
/// label composed with a name, "Suspend: Demo Water Utility"), nor allowed: e-mail addresses,
/// links, numbers and codes (any token with a digit) do not count.
fn foreign_words(s: &str, data: &[String], known: &[String]) -> Vec<String> {
    let mut s = s.to_string();
    for d in data.iter().chain(known) {
        s = strip_whole(&s, d);
    }
    let mut out = vec![];
    for token in s.split_whitespace() {
        if token.contains('@') || token.contains("://") || token.chars().any(|c| c.is_ascii_digit())
        {
            continue;
        }
        for word in token.split(|c: char| !c.is_ascii_alphabetic()) {
            if word.len() >= 2 && !ALLOWED.contains(&word) {
                out.push(word.to_string());
            }
        }
    }
    out
}

/// Installed once per page load: remembers when the DOM last changed, and every string the
/// API answered with (the page's data, which is the same in every language).
const INSTRUMENT: &str = r#"
if (!window.__walkQuiet) {
  window.__walkLast = performance.now();
  window.__walkQuiet = new MutationObserver(() => { window.__walkLast = performance.now(); });
  window.__walkQuiet.observe(document.documentElement,
    { subtree: true, childList: true, characterData: true, attributes: true });
  // Kept across the reload between the SPA's two builds (desk and console).
  window.__walkData = new Set(JSON.parse(sessionStorage.getItem('walkData') || '[]'));
  const collect = v => {
    if (typeof v === 'string') {
      window.__walkData.add(v);
      for (const line of v.split('\n')) window.__walkData.add(line.replace(/^[\s#*>-]+/, '').trim());
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object') Object.values(v).forEach(collect);
  };
  const orig = window.fetch;
  window.fetch = function (...args) {
    return orig.apply(this, args).then(r => {
      if ((r.headers.get('content-type') || '').includes('json')) r.clone().json().then(collect, () => {});
      return r;
    });
  };
}
return true;
"#;

/// The ids that fell back since the last read (then forgotten): what the page rendered, and
/// for the first route of a language also what the switch re-rendered (the shell).
const FALLBACKS: &str = r#"
const s = window.__hotlineFallbacks;
if (!s) return [];
const ids = [...s];
s.clear();
return ids;
"#;

/// The page's state, for deciding whether it has settled.
const STATE: &str = r#"
return {
  path: location.pathname,
  lang: document.documentElement.lang,
  busy: !!document.querySelector('.loading, [aria-busy="true"]'),
  main: !!document.querySelector('main'),
  quiet: performance.now() - window.__walkLast,
};
"#;

/// Visible text (text nodes, options, placeholders, labels for assistive technology), except
/// what is marked as another language (the picker's language names) or as not to be
/// translated (`translate="no"`: codes shown as they are).
const TEXTS: &str = r#"
const out = new Set();
const docLang = document.documentElement.lang;
const clean = s => s.replace(/\s+/g, ' ').trim();
const foreign = el => {
  if (el.closest('[translate="no"]')) return true;
  const l = el.closest('[lang]');
  return l && l !== document.documentElement && l.getAttribute('lang') !== docLang;
};
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
let n;
while ((n = walker.nextNode())) {
  const t = clean(n.nodeValue);
  const el = n.parentElement;
  if (!t || !el || el.closest('script, style, noscript') || foreign(el)) continue;
  if (el.closest('option') || el.checkVisibility({ visibilityProperty: true })) out.add(t);
}
for (const el of document.body.querySelectorAll('[placeholder], [aria-label], [title]')) {
  if (foreign(el)) continue;
  for (const a of ['placeholder', 'aria-label', 'title']) {
    const v = clean(el.getAttribute(a) || '');
    if (v) out.add(v);
  }
}
return [...out];
"#;

const AXE_RUN: &str = r#"
return axe.run(document, {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  resultTypes: ['violations'],
}).then(r => r.violations
  .filter(v => v.impact === 'serious' || v.impact === 'critical')
  .map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 4).map(n => n.target.join(' ')).join(' | ')}${v.nodes.length > 4 ? ` (+${v.nodes.length - 4} more)` : ''}`));
"#;

/// One browser's walk over the routes.
struct Walk<'a> {
    b: &'a Browser,
    ids: &'a Ids,
    axe_src: String,
    langs: Vec<(&'static str, &'static str)>,
    /// lang → its catalog's values.
    catalogs: HashMap<String, Vec<String>>,
    english: BTreeMap<String, String>,
    /// (lang, route) → the page's texts.
    texts: HashMap<(String, String), Vec<String>>,
    found: Findings,
}

impl Walk<'_> {
    /// Waits until the page shows `lang`, nothing is loading and the DOM has been quiet.
    async fn settle(&self, lang: &str, what: &str) -> Result<String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let s = self.b.js(STATE).await?;
            if s["quiet"].is_null() {
                // A route of the SPA's other build reloaded the page (docs/frontend.md, "Two
                // builds"): instrument the new document and wait for it to settle too. Its
                // first requests were not recorded; the data they showed is recorded where
                // another page shows it.
                self.b.js(INSTRUMENT).await?;
                continue;
            }
            if s["main"] == true
                && s["busy"] == false
                && s["lang"] == lang
                && s["quiet"].as_f64().unwrap_or(0.0) >= QUIET_MS
            {
                return Ok(s["path"].as_str().unwrap_or_default().to_string());
            }
            if Instant::now() > deadline {
                bail!("{what} in {lang} did not settle: {s}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens `path` inside the SPA, as a link would.
    async fn go(&self, path: &str) -> Result<()> {
        // Before signing in too: the data the landing page fetches must be recorded.
        self.b.js(INSTRUMENT).await?;
        self.b
            .js(&format!(
                "sessionStorage.setItem('walkData', JSON.stringify([...window.__walkData])); \
                 history.pushState(null, '', {path:?}); \
                 window.dispatchEvent(new PopStateEvent('popstate', {{ state: null }})); \
                 window.__walkLast = performance.now(); return true"
            ))
            .await?;
        Ok(())
    }

    /// Switches the app's language with its picker.
    async fn switch(&self, code: &str, native: &str) -> Result<()> {
        self.b.choose("#lang-picker", native).await?;
        self.settle(code, "the language switch").await?;
        Ok(())
    }

    /// Every route of `audience`, in every language.
    async fn phase(&mut self, audience: &str, routes: &[PublishedRoute]) -> Result<()> {
        let started = Instant::now();
        self.b.js(INSTRUMENT).await?;
        let routes: Vec<&PublishedRoute> =
            routes.iter().filter(|r| r.audience == audience).collect();
        for (code, native) in self.langs.clone() {
            self.switch(code, native).await?;
            for r in &routes {
                let path = self.ids.path(&r.path)?;
                self.go(&path).await?;
                let landed = self.settle(code, &path).await?;
                if landed != path && !REDIRECTS.contains(&r.path.as_str()) {
                    self.found
                        .redirected
                        .push(format!("{code} {path} → {landed}"));
                }
                self.found
                    .visited
                    .insert((code.to_string(), r.path.clone()));
                let fallbacks: Vec<String> = serde_json::from_value(self.b.js(FALLBACKS).await?)?;
                if !fallbacks.is_empty() {
                    self.found
                        .fallbacks
                        .entry((code.to_string(), r.path.clone()))
                        .or_default()
                        .extend(fallbacks);
                }
                let texts: Vec<String> = serde_json::from_value(self.b.js(TEXTS).await?)?;
                self.texts.insert((code.to_string(), r.path.clone()), texts);
                if code == "en" {
                    let violations = self.axe().await?;
                    if !violations.is_empty() {
                        self.found.axe.insert(path.clone(), violations);
                    }
                }
            }
        }
        // Text the other languages share with English, once the page data is all known.
        let mut data: Vec<String> = serde_json::from_value(
            self.b.js("return [...window.__walkData].filter(s => s.length >= 2 && /[A-Za-z]/.test(s))").await?,
        )?;
        data.sort_by_key(|d| std::cmp::Reverse(d.len()));
        // Messages already reported as fallbacks in a language anywhere (the shell renders
        // once, so its fallbacks are recorded on the first route only).
        let mut fell_back_in: HashMap<String, Vec<String>> = HashMap::new();
        for ((lang, _), ids) in &self.found.fallbacks {
            fell_back_in
                .entry(lang.clone())
                .or_default()
                .extend(ids.iter().filter_map(|id| self.english.get(id)).cloned());
        }
        for r in &routes {
            let Some(en) = self.texts.get(&("en".to_string(), r.path.clone())) else {
                continue;
            };
            let en: HashSet<&String> = en.iter().collect();
            for (code, _) in self.langs.iter().filter(|(c, _)| *c != "en") {
                let key = (code.to_string(), r.path.clone());
                let Some(texts) = self.texts.get(&key) else {
                    continue;
                };
                let fell_back = fell_back_in.get(*code).cloned().unwrap_or_default();
                let own = &self.catalogs[*code];
                // The literal words of those messages and of the language's own catalog.
                let mut known: Vec<String> = own
                    .iter()
                    .chain(fell_back.iter())
                    .flat_map(|v| literal_parts(v))
                    .map(|p| p.trim().to_string())
                    .filter(|p| p.len() >= 3 && has_word(p))
                    .collect();
                known.sort_by_key(|d| std::cmp::Reverse(d.len()));
                let bypass: BTreeSet<String> = texts
                    .iter()
                    .filter(|t| en.contains(t) && has_word(t))
                    .filter(|t| !own.iter().any(|v| matches_message(v, t)))
                    .filter(|t| !fell_back.iter().any(|v| matches_message(v, t)))
                    .filter_map(|t| {
                        let words = foreign_words(t, &data, &known);
                        // The text, and the words that made it suspect when not all of it.
                        match words.join(" ") {
                            w if w.is_empty() => None,
                            w if w == *t => Some(t.clone()),
                            w => Some(format!("{t} [{w}]")),
                        }
                    })
                    .collect();
                if !bypass.is_empty() {
                    self.found.bypass.insert(key, bypass);
                }
            }
        }
        println!(
            "{audience}: {} routes × {} languages in {:.1} s",
            routes.len(),
            self.langs.len(),
            started.elapsed().as_secs_f64()
        );
        Ok(())
    }

    /// axe-core's serious and critical WCAG 2.1 A/AA violations on the current page.
    async fn axe(&self) -> Result<Vec<String>> {
        let loaded = self.b.js("return typeof window.axe === 'object'").await?;
        if loaded != true {
            self.b
                .client
                .execute(
                    "const s = document.createElement('script'); s.textContent = arguments[0]; \
                     document.head.appendChild(s); return typeof window.axe",
                    vec![json!(self.axe_src)],
                )
                .await?;
        }
        Ok(serde_json::from_value(self.b.js(AXE_RUN).await?)?)
    }
}

/// Publishes `ev` where a gateway would: the tenant's shard of the call-events stream.
async fn event(app: &TestApp, ev: &GatewayEvent) {
    let mut r = app.state.redis();
    let _: String = r
        .xadd(
            event_stream_for(&app.state.cfg.call_events_stream, ev),
            "*",
            &[(STREAM_FIELD, serde_json::to_string(ev).expect("json"))],
        )
        .await
        .expect("xadd");
}

/// The demo seeded, a ticket, and a call in the call log (fed as gateway events through
/// the backend's own consumer): the ids of the parametrised routes.
async fn seed_everything(app: &TestApp) -> Ids {
    seed::demo(&app.state).await.expect("demo seeded");
    let admin = app.client();
    let me = ok(admin
        .post(app.url("/api/v1/auth/login"))
        .json(
            &json!({ "tenant": seed::DEMO_SLUG, "email": seed::ADMIN_EMAIL,
                       "password": seed::DEMO_PASSWORD }),
        )
        .send()
        .await
        .expect("login"))
    .await;
    let tenant: Uuid = serde_json::from_value(me["tenant"]["id"].clone()).expect("tenant id");
    let get = |p: &'static str| {
        let admin = admin.clone();
        async move { ok(admin.get(app.url(p)).send().await.expect("get")).await }
    };
    let id = |v: &Value| -> Uuid { serde_json::from_value(v["id"].clone()).expect("an id") };

    let types = get("/api/v1/ticket-types").await;
    let customers = get("/api/v1/customers?per_page=200").await;
    let rashad = customers["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == seed::DEMO_CUSTOMER))
        .expect("the demo customer");
    let ticket = ok(admin
        .post(app.url("/api/v1/tickets"))
        .json(
            &json!({ "type_id": types[0]["id"], "subject": "Water leaking in the stairwell",
                       "customer_id": rashad["id"] }),
        )
        .send()
        .await
        .expect("ticket"))
    .await;
    let users = get("/api/v1/users").await;
    let list = users.get("items").unwrap_or(&users);
    let agent = list
        .as_array()
        .and_then(|a| a.iter().find(|u| u["email"] == "agent1@demo.hotline.test"))
        .expect("agent1");
    let flows = get("/api/v1/ivr/flows").await;
    let flow = flows
        .as_array()
        .and_then(|a| a.first())
        .expect("the demo flow");

    // A call from the demo customer to the demo number that the caller ends in the IVR.
    let call = Uuid::new_v4();
    event(
        app,
        &GatewayEvent::CallStarted {
            gateway_id: format!("gw-allroutes-{}", Uuid::new_v4().simple()),
            call_id: call,
            tenant_id: tenant,
            caller: seed::DEMO_CALLER.into(),
            did: seed::DEMO_DID.into(),
            sip_call_id: format!("allroutes-{call}"),
            mode: FlowMode::Backend,
            at: chrono::Utc::now(),
        },
    )
    .await;
    event(
        app,
        &GatewayEvent::Hangup {
            call_id: call,
            tenant_id: tenant,
            cause: HangupCause::CallerBye,
            status: None,
            at: chrono::Utc::now(),
        },
    )
    .await;
    eventually(20, "the call is in the call log", || {
        let admin = admin.clone();
        async move {
            let r = admin
                .get(app.url(&format!("/api/v1/calls/{call}")))
                .send()
                .await
                .ok()?;
            if !r.status().is_success() {
                return None;
            }
            let v: Value = r.json().await.ok()?;
            v["cdr"]["outcome"].is_string().then_some(())
        }
    })
    .await;

    Ids {
        ticket: id(&ticket),
        user: id(agent),
        flow: id(flow),
        call,
        tenant,
    }
}

/// The report: a compact summary first, everything in the artifact file.
fn report(found: &Findings, routes: &[PublishedRoute], langs: &[(&str, &str)]) -> Option<String> {
    let mut full = String::new();
    let mut summary = String::new();
    let mut failed = false;

    let unvisited: Vec<String> = routes
        .iter()
        .flat_map(|r| {
            langs
                .iter()
                .map(move |(c, _)| (c.to_string(), r.path.clone()))
        })
        .filter(|k| !found.visited.contains(k))
        .map(|(c, p)| format!("{c} {p}"))
        .collect();
    if !unvisited.is_empty() {
        failed = true;
        let _ = writeln!(summary, "routes never visited: {}", unvisited.join(", "));
    }
    if !found.redirected.is_empty() {
        failed = true;
        let _ = writeln!(
            summary,
            "routes that sent the admin elsewhere: {}",
            found.redirected.join(", ")
        );
    }

    let _ = writeln!(full, "== English fallbacks (lang route: ids)");
    for lang in langs.iter().map(|(c, _)| *c).filter(|c| *c != "en") {
        let ids: BTreeSet<&String> = found
            .fallbacks
            .iter()
            .filter(|((l, _), _)| l == lang)
            .flat_map(|(_, ids)| ids)
            .collect();
        for ((l, route), ids) in found.fallbacks.iter().filter(|((l, _), _)| l == lang) {
            let _ = writeln!(
                full,
                "{l} {route}: {}",
                ids.iter().cloned().collect::<Vec<_>>().join(" ")
            );
        }
        if !ids.is_empty() {
            failed = true;
            let first: Vec<&str> = ids.iter().take(8).map(|s| s.as_str()).collect();
            let _ = writeln!(
                summary,
                "{lang}: {} messages fall back to English on {} routes, e.g. {}",
                ids.len(),
                found.fallbacks.keys().filter(|(l, _)| l == lang).count(),
                first.join(", ")
            );
        }
    }

    let _ = writeln!(
        full,
        "== Text identical to English that no catalog produced (lang route: texts)"
    );
    for lang in langs.iter().map(|(c, _)| *c).filter(|c| *c != "en") {
        let mine: Vec<(&String, &BTreeSet<String>)> = found
            .bypass
            .iter()
            .filter(|((l, _), _)| l == lang)
            .map(|((_, r), t)| (r, t))
            .collect();
        for (route, texts) in &mine {
            let _ = writeln!(full, "{lang} {route}: {texts:?}");
        }
        if !mine.is_empty() {
            failed = true;
            let all: BTreeSet<&String> = mine.iter().flat_map(|(_, t)| t.iter()).collect();
            let first: Vec<String> = all.iter().take(6).map(|s| format!("{s:?}")).collect();
            let _ = writeln!(
                summary,
                "{lang}: {} English texts outside the catalogs on {} routes, e.g. {}",
                all.len(),
                mine.len(),
                first.join(", ")
            );
        }
    }

    let _ = writeln!(full, "== axe-core: serious and critical WCAG 2.1 A/AA violations (route: rule (impact): targets)");
    for (route, violations) in &found.axe {
        for v in violations {
            let _ = writeln!(full, "{route}: {v}");
            let _ = writeln!(summary, "axe {route}: {v}");
        }
        failed = true;
    }

    let file = artifacts_dir().join("browser_all_routes.txt");
    let _ = std::fs::create_dir_all(artifacts_dir());
    let _ = std::fs::write(&file, &full);
    println!("{full}");
    failed.then(|| format!("{summary}(everything: {})", file.display()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_in_every_language_and_accessible() {
    let started = Instant::now();
    let axe_path = repo_root().join("tests/axe/node_modules/axe-core/axe.min.js");
    let axe_src = std::fs::read_to_string(&axe_path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `(cd tests/axe && npm ci)` (infra/test.sh does)",
            axe_path.display()
        )
    });
    let only: Option<Vec<String>> = std::env::var("HOTLINE_ALL_ROUTES_LANGS")
        .ok()
        .map(|v| v.split(',').map(|s| s.trim().to_string()).collect());
    let langs: Vec<(&str, &str)> = LANGS
        .iter()
        .copied()
        .filter(|(c, _)| *c == "en" || only.as_ref().is_none_or(|o| o.iter().any(|x| x == c)))
        .collect();

    let app = TestApp::spawn().await;
    let ids = seed_everything(&app).await;
    println!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    let english = catalog("en");
    let catalogs: HashMap<String, Vec<String>> = LANGS
        .iter()
        .map(|(c, _)| (c.to_string(), catalog(c).into_values().collect()))
        .collect();

    run("browser_all_routes", &app.base_url, async |b| {
        b.open("/login").await?;
        b.wait("#login-submit").await?;
        let routes: Vec<Value> = serde_json::from_value(
            b.js("return window.__hotlineRoutes || null").await?,
        )
        .map_err(|_| {
            anyhow!("the SPA does not publish window.__hotlineRoutes (route::publish_routes)")
        })?;
        let routes: Vec<PublishedRoute> = routes
            .iter()
            .map(|r| PublishedRoute {
                path: r["path"].as_str().unwrap_or_default().to_string(),
                audience: r["audience"].as_str().unwrap_or_default().to_string(),
            })
            .collect();
        ensure!(routes.len() > 30, "only {} routes published", routes.len());
        for r in &routes {
            ensure!(
                ["anonymous", "user", "operator"].contains(&r.audience.as_str()),
                "route {} has audience {:?}",
                r.path,
                r.audience
            );
        }
        let mut walk = Walk {
            b,
            ids: &ids,
            axe_src,
            langs: langs.clone(),
            catalogs,
            english,
            texts: HashMap::new(),
            found: Findings::default(),
        };

        walk.phase("anonymous", &routes).await?;

        // The demo admin, through the login page.
        walk.switch("en", "English").await?;
        walk.go("/login").await?;
        b.fill("#tenant", seed::DEMO_SLUG).await?;
        b.fill("#email", seed::ADMIN_EMAIL).await?;
        b.fill("#password", seed::DEMO_PASSWORD).await?;
        b.click("#login-submit").await?;
        b.wait("#logout").await?;
        walk.phase("user", &routes).await?;

        // The platform operator, after signing the admin out.
        walk.switch("en", "English").await?;
        b.click("#logout").await?;
        b.wait("#login-submit").await?;
        walk.go("/platform/login").await?;
        b.wait("#platform-login-form").await?;
        b.fill("#email", seed::OPERATOR_EMAIL).await?;
        b.fill("#password", seed::DEMO_PASSWORD).await?;
        b.click("#platform-login-form button[type=submit]").await?;
        b.wait("#logout").await?;
        walk.phase("operator", &routes).await?;

        println!(
            "{} routes in {} languages, audited and compared in {:.1} s",
            routes.len(),
            langs.len(),
            started.elapsed().as_secs_f64()
        );
        if let Some(failure) = report(&walk.found, &routes, &langs) {
            bail!("{failure}");
        }
        Ok(())
    })
    .await;
}
