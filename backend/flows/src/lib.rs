//! IVR flows a tenant builds: a graph of nodes (play, menu, collect digits, time-of-day and
//! holiday condition, set variable, HTTP lookup, route to queue, voicemail, callback request,
//! transfer to a number, hang-up), checked by [`Flow::validate`] before it can be saved, and
//! run call by call by the pure interpreter [`Run`]: it takes gateway inputs (playback
//! finished, digits, HTTP result) and the current time, and returns [`Action`]s for the backend
//! to carry out. No I/O here, so a call's [`Run`] can be stored (JSON) between events and a
//! call survives a backend restart.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A flow: named nodes and the one the call starts at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flow {
    pub start: String,
    pub nodes: BTreeMap<String, Node>,
}

/// Opening hours on some weekdays (1 = Monday … 7 = Sunday), `from` ≤ t < `to`, `HH:MM`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    pub days: Vec<u8>,
    pub from: String,
    pub to: String,
}

/// One step of a flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Node {
    /// Play a prompt, then go on.
    Play { prompt: String, next: String },
    /// Play a prompt and branch on one key; after `retries` wrong or missing keys go to
    /// `fallback`. The key chosen is kept as variable `menu.<node id>` (shown on screen pop).
    Menu {
        prompt: String,
        options: BTreeMap<String, String>,
        #[serde(default = "default_timeout")]
        timeout_ms: u32,
        #[serde(default = "default_retries")]
        retries: u8,
        fallback: String,
    },
    /// Collect `min..=max` digits into variable `var` (fewer than `min` → `fallback`).
    Collect {
        prompt: Option<String>,
        var: String,
        min: u8,
        max: u8,
        #[serde(default = "default_timeout")]
        timeout_ms: u32,
        terminator: Option<char>,
        next: String,
        fallback: String,
    },
    /// Open or closed by the tenant's hours and holidays, in a time zone.
    TimeCondition {
        timezone: String,
        hours: Vec<Hours>,
        #[serde(default)]
        holidays: Vec<NaiveDate>,
        open: String,
        closed: String,
    },
    /// Set a variable (`{{name}}` in the value is replaced by that variable).
    SetVar {
        name: String,
        value: String,
        next: String,
    },
    /// GET the tenant's own system (`{{var}}` in the URL is replaced, URL-encoded); the
    /// fields of a JSON object answer become variables `http.<field>`; error or timeout →
    /// `error`.
    HttpLookup {
        url: String,
        #[serde(default = "default_http_timeout")]
        timeout_ms: u32,
        next: String,
        error: String,
    },
    /// Hand the call to the ACD.
    Queue {
        queue: String,
        #[serde(default)]
        priority: u8,
    },
    /// Leave a message (after an optional prompt).
    Voicemail {
        prompt: Option<String>,
        #[serde(default = "default_voicemail")]
        max_ms: u32,
    },
    /// Register a callback request for the caller's number, say the prompt, hang up.
    Callback { prompt: Option<String> },
    /// Blind transfer to an external number (E.164), judged by the tenant's outbound rules
    /// (`dial_policy`) when the flow is saved and when the call is placed. A refused or
    /// undialled transfer goes to `failed` (a node id; empty: hang up).
    Transfer {
        number: String,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        failed: String,
    },
    /// Say an optional goodbye and hang up.
    Hangup { prompt: Option<String> },
}

fn default_timeout() -> u32 {
    5_000
}
fn default_retries() -> u8 {
    2
}
fn default_http_timeout() -> u32 {
    2_000
}
fn default_voicemail() -> u32 {
    120_000
}

/// One problem found by [`Flow::validate`]: the node (empty for the flow itself), the field
/// and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlowError {
    pub node: String,
    pub field: String,
    pub message: String,
}

const MAX_NODES: usize = 500;

fn is_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn is_prompt(s: &str) -> bool {
    is_id(s)
}

fn parse_hhmm(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M").ok()
}

fn is_dtmf(c: char) -> bool {
    c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D')
}

impl Node {
    /// The nodes this one can lead to, with the field naming each.
    pub fn targets(&self) -> Vec<(String, &str)> {
        match self {
            Node::Play { next, .. } | Node::SetVar { next, .. } => vec![("next".into(), next)],
            Node::Menu {
                options, fallback, ..
            } => options
                .iter()
                .map(|(k, v)| (format!("options.{k}"), v.as_str()))
                .chain([("fallback".to_string(), fallback.as_str())])
                .collect(),
            Node::Collect { next, fallback, .. } => {
                vec![("next".into(), next), ("fallback".into(), fallback)]
            }
            Node::TimeCondition { open, closed, .. } => {
                vec![("open".into(), open), ("closed".into(), closed)]
            }
            Node::HttpLookup { next, error, .. } => {
                vec![("next".into(), next), ("error".into(), error)]
            }
            Node::Transfer { failed, .. } if !failed.is_empty() => {
                vec![("failed".into(), failed)]
            }
            Node::Queue { .. }
            | Node::Voicemail { .. }
            | Node::Callback { .. }
            | Node::Transfer { .. }
            | Node::Hangup { .. } => vec![],
        }
    }

    fn prompts(&self) -> Vec<&str> {
        match self {
            Node::Play { prompt, .. } | Node::Menu { prompt, .. } => vec![prompt],
            Node::Collect { prompt, .. }
            | Node::Voicemail { prompt, .. }
            | Node::Callback { prompt }
            | Node::Hangup { prompt } => prompt.iter().map(String::as_str).collect(),
            _ => vec![],
        }
    }
}

impl Flow {
    /// Every problem at once: missing start, dangling branches, unreachable nodes, bad values.
    pub fn validate(&self) -> Vec<FlowError> {
        let mut errs = Vec::new();
        let mut err = |node: &str, field: &str, message: &str| {
            errs.push(FlowError {
                node: node.into(),
                field: field.into(),
                message: message.into(),
            })
        };
        if self.nodes.is_empty() {
            err("", "nodes", "a flow needs at least one node");
            return errs;
        }
        if self.nodes.len() > MAX_NODES {
            err("", "nodes", "at most 500 nodes");
        }
        if !self.nodes.contains_key(&self.start) {
            err("", "start", "the start node does not exist");
        }
        for (id, node) in &self.nodes {
            if !is_id(id) {
                err(id, "id", "node ids are 1–64 letters, digits, _ or -");
            }
            for (field, target) in node.targets() {
                if !self.nodes.contains_key(target) {
                    err(id, &field, &format!("leads to missing node {target:?}"));
                }
            }
            for p in node.prompts() {
                if !is_prompt(p) {
                    err(
                        id,
                        "prompt",
                        "prompt names are 1–64 letters, digits, _ or -",
                    );
                }
            }
            match node {
                Node::Menu {
                    options,
                    timeout_ms,
                    ..
                } => {
                    if options.is_empty() {
                        err(id, "options", "a menu needs at least one key");
                    }
                    for k in options.keys() {
                        let mut cs = k.chars();
                        if !matches!((cs.next(), cs.next()), (Some(c), None) if is_dtmf(c)) {
                            err(id, &format!("options.{k}"), "a key is one of 0-9 * # A-D");
                        }
                    }
                    if !(1_000..=60_000).contains(timeout_ms) {
                        err(id, "timeout_ms", "between 1000 and 60000");
                    }
                }
                Node::Collect {
                    var,
                    min,
                    max,
                    timeout_ms,
                    terminator,
                    ..
                } => {
                    if !is_id(var) {
                        err(id, "var", "variable names are 1–64 letters, digits, _ or -");
                    }
                    if *max == 0 || *max > 32 || min > max {
                        err(id, "max", "1 ≤ min ≤ max ≤ 32");
                    }
                    if !(1_000..=60_000).contains(timeout_ms) {
                        err(id, "timeout_ms", "between 1000 and 60000");
                    }
                    if terminator.is_some_and(|t| !is_dtmf(t)) {
                        err(id, "terminator", "one of 0-9 * # A-D");
                    }
                }
                Node::TimeCondition {
                    timezone, hours, ..
                } => {
                    if timezone.parse::<chrono_tz::Tz>().is_err() {
                        err(id, "timezone", "not an IANA time zone, e.g. Asia/Baku");
                    }
                    for (i, h) in hours.iter().enumerate() {
                        if h.days.is_empty() || h.days.iter().any(|d| !(1..=7).contains(d)) {
                            err(id, &format!("hours.{i}.days"), "days are 1 (Monday) to 7");
                        }
                        match (parse_hhmm(&h.from), parse_hhmm(&h.to)) {
                            (Some(f), Some(t)) if f < t => {}
                            (Some(_), Some(_)) => {
                                err(id, &format!("hours.{i}.to"), "must be after from")
                            }
                            _ => err(id, &format!("hours.{i}"), "times are HH:MM"),
                        }
                    }
                }
                Node::SetVar { name, .. } if !is_id(name) => {
                    err(
                        id,
                        "name",
                        "variable names are 1–64 letters, digits, _ or -",
                    );
                }
                Node::HttpLookup {
                    url, timeout_ms, ..
                } => {
                    if !(url.starts_with("https://") || url.starts_with("http://")) {
                        err(id, "url", "an http:// or https:// URL");
                    }
                    if !(100..=10_000).contains(timeout_ms) {
                        err(id, "timeout_ms", "between 100 and 10000");
                    }
                }
                Node::Queue { queue, .. } if queue.trim().is_empty() => {
                    err(id, "queue", "required");
                }
                Node::Transfer { number, .. } => {
                    let digits = number.strip_prefix('+').unwrap_or("");
                    if !(8..=15).contains(&digits.len())
                        || !digits.bytes().all(|b| b.is_ascii_digit())
                    {
                        err(id, "number", "an E.164 number, e.g. +994125550100");
                    }
                }
                Node::Voicemail { max_ms, .. } if !(5_000..=600_000).contains(max_ms) => {
                    err(id, "max_ms", "between 5000 and 600000");
                }
                _ => {}
            }
        }
        // Unreachable nodes: everything must be reachable from the start.
        if self.nodes.contains_key(&self.start) {
            let mut seen = BTreeSet::new();
            let mut todo = VecDeque::from([self.start.as_str()]);
            while let Some(id) = todo.pop_front() {
                if !seen.insert(id) {
                    continue;
                }
                if let Some(n) = self.nodes.get(id) {
                    for (_, t) in n.targets() {
                        todo.push_back(t);
                    }
                }
            }
            for id in self.nodes.keys() {
                if !seen.contains(id.as_str()) {
                    err(id, "id", "unreachable from the start node");
                }
            }
        }
        errs
    }
}

/// What the backend must do for the call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// Gateway `play` (then [`Input::PlaybackFinished`]).
    Play { prompt: String },
    /// Gateway `collect_digits` (then [`Input::Digits`]).
    Collect {
        prompt: Option<String>,
        min: u8,
        max: u8,
        timeout_ms: u32,
        terminator: Option<char>,
    },
    /// GET this URL within the timeout (then [`Input::Http`]).
    Http { url: String, timeout_ms: u32 },
    /// Hand the call to the ACD (the flow ends).
    Queue { queue: String, priority: u8 },
    /// Gateway `record_voicemail` (the flow ends).
    Voicemail { max_ms: u32 },
    /// Store a callback request for the caller (the flow goes on).
    CallbackRequest,
    /// Transfer to a number (the flow ends).
    Transfer { number: String },
    /// Gateway `hangup` (the flow ends).
    Hangup,
}

/// What came back from the gateway or the HTTP lookup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
pub enum Input {
    PlaybackFinished,
    Digits {
        digits: String,
    },
    Http {
        result: Result<serde_json::Value, String>,
    },
}

/// A call's position in its flow (serialisable between events).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// Current node; empty once the flow ended.
    pub node: String,
    /// Variables: `caller`, `did`, `menu.<node>`, collected digits, `http.<field>`.
    pub vars: BTreeMap<String, String>,
    /// Wrong or missing keys at the current menu.
    pub tries: u8,
    /// After a prompt, this action follows (hang-up or voicemail after its prompt).
    pub then: Option<Box<Action>>,
    /// After a transfer: where the flow goes if it fails ([`Run::transfer_failed`]; empty:
    /// hang up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_fail: Option<String>,
}

/// Steps through nodes that need no input before giving up (a loop of set-var / time nodes).
const MAX_INSTANT_STEPS: usize = 100;

fn render(template: &str, vars: &BTreeMap<String, String>, url: bool) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        match rest[i + 2..].find("}}") {
            Some(j) => {
                let name = rest[i + 2..i + 2 + j].trim();
                let v = vars.get(name).map(String::as_str).unwrap_or("");
                if url {
                    for b in v.bytes() {
                        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                            out.push(b as char);
                        } else {
                            out.push_str(&format!("%{b:02X}"));
                        }
                    }
                } else {
                    out.push_str(v);
                }
                rest = &rest[i + 2 + j + 2..];
            }
            None => {
                out.push_str(&rest[i..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `now` is inside the hours and not on a holiday, in `timezone`.
pub fn is_open(
    timezone: &str,
    hours: &[Hours],
    holidays: &[NaiveDate],
    now: DateTime<Utc>,
) -> bool {
    let Ok(tz) = timezone.parse::<chrono_tz::Tz>() else {
        return false;
    };
    let local = now.with_timezone(&tz);
    if holidays.contains(&local.date_naive()) {
        return false;
    }
    let day = local.weekday().number_from_monday() as u8;
    let t = NaiveTime::from_hms_opt(local.hour(), local.minute(), local.second())
        .unwrap_or(NaiveTime::MIN);
    hours.iter().any(|h| {
        h.days.contains(&day)
            && matches!((parse_hhmm(&h.from), parse_hhmm(&h.to)), (Some(f), Some(to)) if f <= t && t < to)
    })
}

impl Run {
    /// Starts `flow` for a call (variables such as `caller` and `did` given).
    pub fn start(
        flow: &Flow,
        vars: BTreeMap<String, String>,
        now: DateTime<Utc>,
    ) -> (Run, Vec<Action>) {
        let mut run = Run {
            node: flow.start.clone(),
            vars,
            tries: 0,
            then: None,
            on_fail: None,
        };
        let actions = run.enter(flow, now);
        (run, actions)
    }

    /// Whether the flow has ended (the call is queued, transferred, in voicemail or hung up).
    pub fn ended(&self) -> bool {
        self.node.is_empty() && self.then.is_none()
    }

    /// The last transfer was refused or not placed: the flow goes on at the transfer node's
    /// `failed` branch, or hangs up when it has none.
    pub fn transfer_failed(&mut self, flow: &Flow, now: DateTime<Utc>) -> Vec<Action> {
        match self.on_fail.take().filter(|t| !t.is_empty()) {
            Some(target) => self.goto(&target, flow, now),
            None => vec![Action::Hangup],
        }
    }

    fn goto(&mut self, target: &str, flow: &Flow, now: DateTime<Utc>) -> Vec<Action> {
        self.node = target.to_string();
        self.tries = 0;
        self.enter(flow, now)
    }

    /// Runs instant nodes and returns the actions of the first node that waits or ends.
    fn enter(&mut self, flow: &Flow, now: DateTime<Utc>) -> Vec<Action> {
        for _ in 0..MAX_INSTANT_STEPS {
            let Some(node) = flow.nodes.get(&self.node) else {
                self.node.clear();
                return vec![Action::Hangup];
            };
            match node {
                Node::TimeCondition {
                    timezone,
                    hours,
                    holidays,
                    open,
                    closed,
                } => {
                    self.node = if is_open(timezone, hours, holidays, now) {
                        open.clone()
                    } else {
                        closed.clone()
                    };
                }
                Node::SetVar { name, value, next } => {
                    let v = render(value, &self.vars, false);
                    self.vars.insert(name.clone(), v);
                    self.node = next.clone();
                }
                Node::Play { prompt, .. } => {
                    return vec![Action::Play {
                        prompt: prompt.clone(),
                    }]
                }
                Node::Menu {
                    prompt, timeout_ms, ..
                } => {
                    return vec![Action::Collect {
                        prompt: Some(prompt.clone()),
                        min: 1,
                        max: 1,
                        timeout_ms: *timeout_ms,
                        terminator: None,
                    }]
                }
                Node::Collect {
                    prompt,
                    min,
                    max,
                    timeout_ms,
                    terminator,
                    ..
                } => {
                    return vec![Action::Collect {
                        prompt: prompt.clone(),
                        min: *min,
                        max: *max,
                        timeout_ms: *timeout_ms,
                        terminator: *terminator,
                    }]
                }
                Node::HttpLookup {
                    url, timeout_ms, ..
                } => {
                    return vec![Action::Http {
                        url: render(url, &self.vars, true),
                        timeout_ms: *timeout_ms,
                    }]
                }
                Node::Queue { queue, priority } => {
                    self.node.clear();
                    return vec![Action::Queue {
                        queue: queue.clone(),
                        priority: *priority,
                    }];
                }
                Node::Transfer { number, failed } => {
                    self.node.clear();
                    self.on_fail = Some(failed.clone());
                    return vec![Action::Transfer {
                        number: number.clone(),
                    }];
                }
                Node::Voicemail { prompt, max_ms } => {
                    self.node.clear();
                    let vm = Action::Voicemail { max_ms: *max_ms };
                    return self.after_prompt(prompt, vm, vec![]);
                }
                Node::Callback { prompt } => {
                    self.node.clear();
                    return self.after_prompt(
                        prompt,
                        Action::Hangup,
                        vec![Action::CallbackRequest],
                    );
                }
                Node::Hangup { prompt } => {
                    self.node.clear();
                    return self.after_prompt(prompt, Action::Hangup, vec![]);
                }
            }
        }
        self.node.clear();
        vec![Action::Hangup]
    }

    fn after_prompt(
        &mut self,
        prompt: &Option<String>,
        then: Action,
        mut first: Vec<Action>,
    ) -> Vec<Action> {
        match prompt {
            Some(p) => {
                self.then = Some(Box::new(then));
                first.push(Action::Play { prompt: p.clone() });
            }
            None => first.push(then),
        }
        first
    }

    /// Feeds one input; returns the next actions (empty when the input is not awaited).
    pub fn on_input(&mut self, flow: &Flow, input: &Input, now: DateTime<Utc>) -> Vec<Action> {
        if let Some(then) = self.then.take() {
            if matches!(input, Input::PlaybackFinished) {
                return vec![*then];
            }
            self.then = Some(then);
            return vec![];
        }
        let Some(node) = flow.nodes.get(&self.node).cloned() else {
            return vec![];
        };
        match (&node, input) {
            (Node::Play { next, .. }, Input::PlaybackFinished) => self.goto(next, flow, now),
            (
                Node::Menu {
                    options,
                    retries,
                    fallback,
                    ..
                },
                Input::Digits { digits },
            ) => match options.get(digits.as_str()) {
                Some(target) => {
                    self.vars
                        .insert(format!("menu.{}", self.node), digits.clone());
                    let target = target.clone();
                    self.goto(&target, flow, now)
                }
                None if self.tries < *retries => {
                    self.tries += 1;
                    self.enter(flow, now)
                }
                None => self.goto(fallback, flow, now),
            },
            (
                Node::Collect {
                    var,
                    min,
                    next,
                    fallback,
                    ..
                },
                Input::Digits { digits },
            ) => {
                if digits.len() >= *min as usize {
                    self.vars.insert(var.clone(), digits.clone());
                    self.goto(next, flow, now)
                } else {
                    self.goto(fallback, flow, now)
                }
            }
            (Node::HttpLookup { next, error, .. }, Input::Http { result }) => match result {
                Ok(serde_json::Value::Object(map)) => {
                    for (k, v) in map {
                        let v = match v {
                            serde_json::Value::String(s) => s.clone(),
                            serde_json::Value::Null => String::new(),
                            other => other.to_string(),
                        };
                        self.vars.insert(format!("http.{k}"), v);
                    }
                    self.goto(next, flow, now)
                }
                _ => self.goto(error, flow, now),
            },
            _ => vec![],
        }
    }
}
