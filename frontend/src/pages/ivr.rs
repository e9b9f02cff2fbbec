//! IVR administration (`ivr.write`): the tenant's flows, the flow editor (a form per node
//! with kind-specific fields, branch targets chosen from the other nodes, an outline of the
//! graph from the start node, versions and publishing), prompt upload with playback, and
//! which flow answers each of the tenant's numbers.
//!
//! The server validates every save (dangling branches, unreachable nodes, missing prompts,
//! bad values): its field errors (`graph.nodes.<node>.<field>`) are shown next to that
//! node's field.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

use hotline_wire::api::QueueDto;
use hotline_wire::calls::{FlowDto, FlowPublish, FlowSave, FlowVersionDto};
use hotline_wire::prompts::{MusicOnHoldSettings, PromptDto, BUILTIN_PROMPTS};
use serde_json::{json, Map, Value};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::{use_app, Flash, Route};

/// Node kinds, in the order the "add node" list offers them.
const KINDS: &[&str] = &[
    "play",
    "menu",
    "collect",
    "time_condition",
    "set_var",
    "http_lookup",
    "queue",
    "voicemail",
    "callback",
    "transfer",
    "hangup",
];

const KEYS: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "*", "#", "A", "B", "C", "D",
];

fn kind_text(i18n: &I18n, kind: &str) -> String {
    i18n.try_t(&format!("ivr-kind-{}", kind.replace('_', "-")))
        .unwrap_or_else(|| kind.to_string())
}

/// A readable message for a failed request: the server's own detail when it gives one (a
/// refused WAV says exactly why), else the usual translation.
fn detail_text(i18n: &I18n, e: &ApiError) -> String {
    match e.problem().and_then(|p| p.detail.clone()) {
        Some(d) if matches!(e.status(), Some(409) | Some(415)) => d,
        _ => error_text(i18n, e),
    }
}

/// A new node of `kind` with its defaults (targets left to choose).
fn new_node(kind: &str, queue: Option<&str>) -> Value {
    match kind {
        "play" => json!({ "type": "play", "prompt": "greeting", "next": "" }),
        "menu" => json!({ "type": "menu", "prompt": "menu", "options": { "1": "" },
                          "timeout_ms": 5000, "retries": 2, "fallback": "" }),
        "collect" => {
            json!({ "type": "collect", "prompt": null, "var": "digits", "min": 1, "max": 10,
                             "timeout_ms": 5000, "terminator": "#", "next": "", "fallback": "" })
        }
        "time_condition" => json!({ "type": "time_condition", "timezone": "UTC",
            "hours": [{ "days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00" }],
            "holidays": [], "open": "", "closed": "" }),
        "set_var" => json!({ "type": "set_var", "name": "", "value": "", "next": "" }),
        "http_lookup" => json!({ "type": "http_lookup", "url": "https://", "timeout_ms": 2000,
                                 "next": "", "error": "" }),
        "queue" => json!({ "type": "queue", "queue": queue.unwrap_or(""), "priority": 0 }),
        "voicemail" => json!({ "type": "voicemail", "prompt": null, "max_ms": 120000 }),
        "callback" => json!({ "type": "callback", "prompt": null }),
        "transfer" => json!({ "type": "transfer", "number": "+" }),
        _ => json!({ "type": "hangup", "prompt": "goodbye" }),
    }
}

/// The nodes a node leads to: (field, target).
fn targets(node: &Value) -> Vec<(String, String)> {
    let s = |f: &str| node[f].as_str().unwrap_or("").to_string();
    match node["type"].as_str().unwrap_or("") {
        "play" | "set_var" => vec![("next".into(), s("next"))],
        "menu" => {
            let mut v: Vec<(String, String)> = node["options"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, t)| (format!("options.{k}"), t.as_str().unwrap_or("").into()))
                        .collect()
                })
                .unwrap_or_default();
            v.push(("fallback".into(), s("fallback")));
            v
        }
        "collect" => vec![
            ("next".into(), s("next")),
            ("fallback".into(), s("fallback")),
        ],
        "time_condition" => vec![("open".into(), s("open")), ("closed".into(), s("closed"))],
        "http_lookup" => vec![("next".into(), s("next")), ("error".into(), s("error"))],
        "transfer" if !s("failed").is_empty() => vec![("failed".into(), s("failed"))],
        _ => vec![],
    }
}

/// The flow being edited.
#[derive(Clone, PartialEq, Default)]
struct Draft {
    name: String,
    is_default: bool,
    start: String,
    /// Nodes in display order (the start's reach first).
    nodes: Vec<(String, Value)>,
    new_id: String,
    new_kind: String,
}

impl Draft {
    fn from_graph(name: &str, is_default: bool, graph: &Value) -> Draft {
        let start = graph["start"].as_str().unwrap_or("").to_string();
        let all: Map<String, Value> = graph["nodes"].as_object().cloned().unwrap_or_default();
        // Breadth-first from the start, then whatever is left.
        let mut order: Vec<String> = Vec::new();
        let mut todo = std::collections::VecDeque::from([start.clone()]);
        while let Some(id) = todo.pop_front() {
            if order.contains(&id) || !all.contains_key(&id) {
                continue;
            }
            for (_, t) in targets(&all[&id]) {
                todo.push_back(t);
            }
            order.push(id);
        }
        for id in all.keys() {
            if !order.contains(id) {
                order.push(id.clone());
            }
        }
        Draft {
            name: name.to_string(),
            is_default,
            start,
            nodes: order
                .into_iter()
                .map(|id| {
                    let n = all[&id].clone();
                    (id, n)
                })
                .collect(),
            new_id: String::new(),
            new_kind: "play".into(),
        }
    }

    fn graph(&self) -> Value {
        let nodes: Map<String, Value> = self.nodes.iter().cloned().collect();
        json!({ "start": self.start, "nodes": nodes })
    }

    fn node_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.nodes.iter_mut().find(|(i, _)| i == id).map(|(_, n)| n)
    }
}

fn is_node_id(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// A number field's JSON: a number when it is one, else the text (the server says why).
fn num(v: &str) -> Value {
    v.trim()
        .parse::<u64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(v))
}

fn num_text(v: &Value) -> String {
    match v {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        _ => String::new(),
    }
}

/// A built-in prompt's name in the UI's language ("Music on hold", "Digit 5", "Number 40").
pub fn builtin_prompt_label(i18n: &I18n, name: &str) -> String {
    if let Some(d) = name.strip_prefix("digit-") {
        return i18n.ta("prompt-builtin-digit", &[("n", d.to_string().into())]);
    }
    if let Some(n) = name.strip_prefix("number-").filter(|n| n.parse::<u32>().is_ok()) {
        return i18n.ta("prompt-builtin-number", &[("n", n.to_string().into())]);
    }
    i18n.try_t(&format!("prompt-builtin-{name}"))
        .unwrap_or_else(|| name.to_string())
}

// ---------------------------------------------------------------- the IVR page

#[function_component]
pub fn IvrPage() -> Html {
    let i18n = use_i18n();
    let (flows, reload) = use_get::<Vec<FlowDto>>("/ivr/flows".into());
    let list = render_load(&flows, &reload, |fs| {
        if fs.is_empty() {
            return html! { <p class="empty" id="flows-empty">{ i18n.t("ivr-no-flows") }</p> };
        }
        html! {
            <table class="data" id="flows-table">
                <caption class="sr-only">{ i18n.t("ivr-flows") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("ivr-flow-name") }</th>
                    <th scope="col">{ i18n.t("ivr-live-version") }</th>
                    <th scope="col">{ i18n.t("ivr-latest-version") }</th>
                </tr></thead>
                <tbody>{ for fs.iter().map(|f| html! {
                    <tr data-name={f.name.clone()}>
                        <td>
                            <Link<Route> to={Route::IvrFlow { id: f.id.to_string() }}>{ &f.name }</Link<Route>>
                            if f.is_default { { " " }<span class="badge">{ i18n.t("ivr-default") }</span> }
                        </td>
                        <td>{ match f.published_version {
                            Some(v) => html! { <span class="badge ok">{ i18n.ta("ivr-version-n", &[("version", (v as i64).into())]) }</span> },
                            None => html! { <span class="badge">{ i18n.t("ivr-not-live") }</span> },
                        } }</td>
                        <td>{ i18n.ta("ivr-version-n", &[("version", (f.latest_version as i64).into())]) }</td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    let flow_list = match &flows {
        Load::Ready(fs) => fs.clone(),
        _ => Rc::new(vec![]),
    };
    html! {
        <>
            <h1>{ i18n.t("ivr-title") }</h1>
            <p class="muted">{ i18n.t("ivr-intro") }</p>
            <section class="card" aria-labelledby="flows-h">
                <div class="card-head">
                    <h2 id="flows-h">{ i18n.t("ivr-flows") }</h2>
                    <Link<Route> to={Route::IvrFlow { id: "new".into() }} classes="button primary" >
                        <span id="flow-new">{ i18n.t("ivr-flow-new") }</span>
                    </Link<Route>>
                </div>
                { list }
            </section>
            <PromptsCard />
            <section class="card" aria-labelledby="numbers-h">
                <h2 id="numbers-h">{ i18n.t("ivr-numbers") }</h2>
                <p class="muted small">{ i18n.t("ivr-numbers-intro") }</p>
                <DidFlowPicker flows={flow_list} empty_key="ivr-no-numbers" />
            </section>
        </>
    }
}

// ---------------------------------------------------------------- prompts

#[function_component]
fn PromptsCard() -> Html {
    let i18n = use_i18n();
    let (prompts, reload) = use_get::<Vec<PromptDto>>("/ivr/prompts".into());
    let name = use_state(String::new);
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let input = use_node_ref();

    let on_upload = {
        let (name, errors, failure, notice, busy, reload, input, i18n) = (
            name.clone(),
            errors.clone(),
            failure.clone(),
            notice.clone(),
            busy.clone(),
            reload.clone(),
            input.clone(),
            i18n.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(el) = input.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(file) = el.files().and_then(|l| l.get(0)) else {
                errors.set(FieldErrors::from([(
                    "file".to_string(),
                    i18n.t("ivr-prompt-choose-file"),
                )]));
                return;
            };
            let n = name.trim().to_string();
            let (name, errors, failure, notice, busy, reload, i18n, el) = (
                name.clone(),
                errors.clone(),
                failure.clone(),
                notice.clone(),
                busy.clone(),
                reload.clone(),
                i18n.clone(),
                el.clone(),
            );
            busy.set(true);
            errors.set(FieldErrors::new());
            failure.set(None);
            notice.set(None);
            spawn(async move {
                // Multipart, so the server keeps the file's own name; `?name=` when given.
                let path = if n.is_empty() {
                    "/ivr/prompts".to_string()
                } else {
                    format!("/ivr/prompts?name={}", api::enc(&n))
                };
                let r = api::upload_form::<PromptDto>(&path, &file).await;
                busy.set(false);
                match r {
                    Ok(p) => {
                        notice.set(Some(i18n.ta(
                            "ivr-prompt-saved",
                            &[
                                ("name", p.name.clone().into()),
                                ("version", (p.version as i64).into()),
                            ],
                        )));
                        name.set(String::new());
                        el.set_value("");
                        reload.emit(());
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let remove = {
        let (failure, notice, reload) = (failure.clone(), notice.clone(), reload.clone());
        move |n: String| {
            let (failure, notice, reload) = (failure.clone(), notice.clone(), reload.clone());
            Callback::from(move |_: MouseEvent| {
                let (failure, notice, reload, n) =
                    (failure.clone(), notice.clone(), reload.clone(), n.clone());
                failure.set(None);
                notice.set(None);
                spawn(async move {
                    match api::delete(&format!("/ivr/prompts/{}", api::enc(&n))).await {
                        Ok(()) => reload.emit(()),
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        }
    };

    let list = render_load(&prompts, &reload, |ps| {
        if ps.is_empty() {
            return html! { <p class="empty" id="prompts-empty">{ i18n.t("ivr-no-prompts") }</p> };
        }
        html! {
            <table class="data" id="prompts-table">
                <caption class="sr-only">{ i18n.t("ivr-prompts") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("ivr-prompt-name") }</th>
                    <th scope="col">{ i18n.t("ivr-prompt-length") }</th>
                    <th scope="col">{ i18n.t("ivr-prompt-uploaded") }</th>
                    <th scope="col">{ i18n.t("ivr-prompt-listen") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for ps.iter().map(|p| html! {
                    <tr data-name={p.name.clone()}>
                        <td><code>{ &p.name }</code>{ " " }<span class="muted small">{ i18n.ta("ivr-version-n", &[("version", (p.version as i64).into())]) }</span></td>
                        <td>{ i18n.ta("ivr-seconds", &[("seconds", i18n.decimal(p.duration_ms as f64 / 1000.0, 1, 1).into())]) }</td>
                        <td class="small">{ &p.original_name }<br /><span class="muted">{ &p.original_format }</span></td>
                        <td><audio controls=true preload="none" src={p.audio_url.clone()} id={format!("prompt-audio-{}", p.name)}
                            aria-label={i18n.ta("ivr-prompt-play-named", &[("name", p.name.clone().into())])}></audio></td>
                        <td class="actions">
                            <a href={p.audio_url.clone()} download={format!("{}.wav", p.name)}>{ i18n.t("ivr-prompt-download") }</a>
                            { " " }
                            <button type="button" class="link danger" id={format!("prompt-delete-{}", p.name)} onclick={remove(p.name.clone())}
                                aria-label={i18n.ta("action-delete-named", &[("name", p.name.clone().into())])}>{ i18n.t("action-delete") }</button>
                        </td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    let names: Vec<String> = match &prompts {
        Load::Ready(ps) => ps.iter().map(|p| p.name.clone()).collect(),
        _ => Vec::new(),
    };
    let set_name = {
        let name = name.clone();
        Callback::from(move |v: String| name.set(v))
    };
    // Field errors go under their field; anything else (415, 409, …) in the box.
    let general = failure
        .as_ref()
        .filter(|e| e.field_errors().is_empty())
        .map(|e| html! { <div class="alert error" role="alert" id="prompt-error"><p>{ detail_text(&i18n, e) }</p></div> });
    html! {
        <section class="card" aria-labelledby="prompts-h">
            <h2 id="prompts-h">{ i18n.t("ivr-prompts") }</h2>
            <p class="muted small">{ i18n.ta("ivr-prompts-builtin", &[("names", BUILTIN_PROMPTS.iter().map(|p| builtin_prompt_label(&i18n, p)).collect::<Vec<_>>().join(", ").into())]) }</p>
            { list }
            if let Some(n) = &*notice { <div class="alert ok" role="status" id="prompt-notice">{ n }</div> }
            { for general }
            <h3>{ i18n.t("ivr-prompt-upload-title") }</h3>
            <div class="row">
                <TextField id="prompt-name" label={i18n.t("ivr-prompt-name")} value={(*name).clone()}
                    oninput={set_name} error={errors.get("name").cloned()} hint={Some(i18n.t("ivr-prompt-name-hint"))} />
                <div class={classes!("field", errors.contains_key("file").then_some("invalid"))}>
                    <label for="prompt-file">{ i18n.t("ivr-prompt-file") }</label>
                    <input type="file" id="prompt-file" ref={input} accept=".wav,audio/wav,audio/x-wav"
                        aria-invalid={errors.contains_key("file").then_some("true")}
                        aria-describedby={errors.contains_key("file").then_some("prompt-file-error")} />
                    if let Some(e) = errors.get("file") { <p class="field-error" id="prompt-file-error">{ e }</p> }
                </div>
            </div>
            <button type="button" class="primary" id="prompt-upload" onclick={on_upload} disabled={*busy}>
                { if *busy { i18n.t("ivr-prompt-uploading") } else { i18n.t("ivr-prompt-upload") } }
            </button>
            <MusicOnHoldField names={names} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct MusicOnHoldProps {
    /// The tenant's prompts, any of which may be the music on hold.
    names: Vec<String>,
}

/// Which music callers hear while they wait (queue, hold, transfer): built in, or one of the
/// tenant's prompts. Saved at once when chosen.
#[function_component]
fn MusicOnHoldField(p: &MusicOnHoldProps) -> Html {
    let i18n = use_i18n();
    let (current, reload) = use_get::<MusicOnHoldSettings>("/settings/music-on-hold".into());
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let value = match &current {
        Load::Ready(s) => s.prompt.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let onchange = {
        let (failure, saved, reload) = (failure.clone(), saved.clone(), reload.clone());
        Callback::from(move |v: String| {
            let (failure, saved, reload) = (failure.clone(), saved.clone(), reload.clone());
            failure.set(None);
            saved.set(false);
            spawn(async move {
                let body = MusicOnHoldSettings {
                    prompt: (!v.is_empty()).then_some(v),
                };
                match api::put::<_, MusicOnHoldSettings>("/settings/music-on-hold", &body).await {
                    Ok(_) => {
                        saved.set(true);
                        reload.emit(());
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let mut options = vec![(String::new(), i18n.t("ivr-moh-builtin"))];
    options.extend(p.names.iter().map(|n| (n.clone(), n.clone())));
    html! {
        <>
            <h3>{ i18n.t("ivr-moh-title") }</h3>
            <p class="muted small">{ i18n.t("ivr-moh-hint") }</p>
            <SelectField id="moh-prompt" label={i18n.t("ivr-moh-label")} value={value}
                {options} {onchange}
                error={failure.as_ref().map(|e| detail_text(&i18n, e))} />
            if *saved { <div class="alert ok" role="status" id="moh-saved">{ i18n.t("ivr-moh-saved") }</div> }
        </>
    }
}

// ---------------------------------------------------------------- numbers

// ---------------------------------------------------------------- the flow editor

#[derive(Properties, PartialEq)]
pub struct FlowEditorProps {
    /// A flow id, or `new`.
    pub id: String,
}

#[function_component]
pub fn FlowEditorPage(p: &FlowEditorProps) -> Html {
    let i18n = use_i18n();
    let id = p.id.parse::<Uuid>().ok();
    let path = match id {
        Some(id) => format!("/ivr/flows/{id}"),
        None => "/ivr/prompts".into(),
    };
    // For a new flow there is nothing to load: the prompts list stands in (and is reused).
    let (flow, reload) = use_get::<Value>(path);
    let (prompts, _) = use_get::<Vec<PromptDto>>("/ivr/prompts".into());
    let (queues, _) = use_get::<Vec<QueueDto>>("/queues".into());
    let mut prompt_names: Vec<String> = match &prompts {
        Load::Ready(ps) => ps.iter().map(|p| p.name.clone()).collect(),
        _ => vec![],
    };
    prompt_names.sort();
    let queue_names: Vec<String> = match &queues {
        Load::Ready(qs) => qs.iter().map(|q| q.name.clone()).collect(),
        _ => vec![],
    };
    let back = html! {
        <p class="crumbs"><Link<Route> to={Route::Ivr}>{ i18n.t("ivr-title") }</Link<Route>></p>
    };
    if id.is_none() {
        if p.id != "new" {
            return html! { <>{ back }<p>{ i18n.t("notfound-body") }</p></> };
        }
        return html! {
            <>
                { back }
                <FlowForm key="new" flow={None::<FlowDto>} prompts={prompt_names} queues={queue_names} />
            </>
        };
    }
    let body = render_load(&flow, &reload, |v| {
        match serde_json::from_value::<FlowDto>(v.clone()) {
            Ok(f) => {
                let key = f.id.to_string();
                html! {
                    <FlowForm {key} flow={Some(f)} prompts={prompt_names.clone()} queues={queue_names.clone()} />
                }
            }
            Err(e) => html! { <ErrorBox error={ApiError::Decode(e.to_string())} /> },
        }
    });
    html! { <>{ back }{ body }</> }
}

#[derive(Properties, PartialEq)]
struct FlowFormProps {
    flow: Option<FlowDto>,
    prompts: Vec<String>,
    queues: Vec<String>,
}

/// What node cards need to render and change their node.
struct NodeCtx<'a> {
    i18n: &'a I18n,
    dispatch: UseReducerDispatcher<Form<Draft>>,
    ids: Vec<String>,
    prompts: &'a [String],
    queues: &'a [String],
    errors: &'a FieldErrors,
    /// Error keys shown next to a field (the rest are listed with their node).
    shown: RefCell<BTreeSet<String>>,
}

impl NodeCtx<'_> {
    fn err(&self, node: &str, field: &str) -> Option<String> {
        let key = format!("graph.nodes.{node}.{field}");
        let e = self.errors.get(&key).cloned();
        if e.is_some() {
            self.shown.borrow_mut().insert(key);
        }
        e
    }

    fn setter(&self, node: &str, f: fn(&mut Value, String)) -> Callback<String> {
        let (node, dispatch) = (node.to_string(), self.dispatch.clone());
        Callback::from(move |v: String| {
            let node = node.clone();
            dispatch.dispatch(Box::new(move |d: &mut Draft| {
                if let Some(n) = d.node_mut(&node) {
                    f(n, v);
                }
            }))
        })
    }

    fn field_setter(&self, node: &str, field: &'static str, number: bool) -> Callback<String> {
        let (node, dispatch) = (node.to_string(), self.dispatch.clone());
        Callback::from(move |v: String| {
            let node = node.clone();
            dispatch.dispatch(Box::new(move |d: &mut Draft| {
                if let Some(n) = d.node_mut(&node) {
                    n[field] = if number { num(&v) } else { Value::from(v) };
                }
            }))
        })
    }

    fn text(&self, node: &str, value: &Value, field: &'static str, label: &str) -> Html {
        html! {
            <TextField id={format!("node-{node}-{field}")} label={self.i18n.t(label)}
                value={value[field].as_str().unwrap_or("").to_string()}
                oninput={self.field_setter(node, field, false)} error={self.err(node, field)} />
        }
    }

    fn number(&self, node: &str, value: &Value, field: &'static str, label: &str) -> Html {
        html! {
            <TextField id={format!("node-{node}-{field}")} label={self.i18n.t(label)} kind="number"
                value={num_text(&value[field])}
                oninput={self.field_setter(node, field, true)} error={self.err(node, field)} />
        }
    }

    /// A prompt picker: built-in and the tenant's prompts (`optional`: "none" too).
    fn prompt(&self, node: &str, value: &Value, optional: bool) -> Html {
        let current = value["prompt"].as_str().unwrap_or("").to_string();
        let mut options = Vec::new();
        if optional {
            options.push((String::new(), self.i18n.t("ivr-prompt-none")));
        }
        options.extend(self.prompts.iter().map(|p| (p.clone(), p.clone())));
        options.extend(BUILTIN_PROMPTS.iter().map(|p| {
            (
                p.to_string(),
                self.i18n.ta(
                    "ivr-prompt-builtin",
                    &[("name", builtin_prompt_label(self.i18n, p).into())],
                ),
            )
        }));
        if !current.is_empty() && !options.iter().any(|(v, _)| *v == current) {
            options.push((
                current.clone(),
                self.i18n
                    .ta("ivr-prompt-missing", &[("name", current.clone().into())]),
            ));
        }
        let (node_id, dispatch) = (node.to_string(), self.dispatch.clone());
        let onchange = Callback::from(move |v: String| {
            let node_id = node_id.clone();
            dispatch.dispatch(Box::new(move |d: &mut Draft| {
                if let Some(n) = d.node_mut(&node_id) {
                    n["prompt"] = if v.is_empty() {
                        Value::Null
                    } else {
                        Value::from(v)
                    };
                }
            }))
        });
        html! {
            <SelectField id={format!("node-{node}-prompt")} label={self.i18n.t("ivr-field-prompt")}
                value={current} {options} {onchange} error={self.err(node, "prompt")} />
        }
    }

    /// A branch target: one of the other nodes.
    fn target(
        &self,
        node: &str,
        field: &str,
        current: &str,
        label: String,
        set: Callback<String>,
    ) -> Html {
        let mut options = vec![(String::new(), self.i18n.t("ivr-target-choose"))];
        options.extend(
            self.ids
                .iter()
                .filter(|i| i.as_str() != node)
                .map(|i| (i.clone(), i.clone())),
        );
        if !current.is_empty() && !self.ids.iter().any(|i| i == current) {
            options.push((
                current.to_string(),
                self.i18n.ta(
                    "ivr-target-missing",
                    &[("name", current.to_string().into())],
                ),
            ));
        }
        html! {
            <SelectField id={format!("node-{node}-{}", field.replace('.', "-"))} {label}
                value={current.to_string()} {options} onchange={set} error={self.err(node, field)} />
        }
    }

    fn simple_target(&self, node: &str, value: &Value, field: &'static str, label: &str) -> Html {
        let current = value[field].as_str().unwrap_or("").to_string();
        self.target(
            node,
            field,
            &current,
            self.i18n.t(label),
            self.field_setter(node, field, false),
        )
    }
}

fn node_fields(c: &NodeCtx, id: &str, n: &Value) -> Html {
    let kind = n["type"].as_str().unwrap_or("");
    match kind {
        "play" => {
            html! { <div class="row">{ c.prompt(id, n, false) }{ c.simple_target(id, n, "next", "ivr-field-next") }</div> }
        }
        "menu" => {
            let options: Vec<(String, String)> = n["options"]
                .as_object()
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                        .collect()
                })
                .unwrap_or_default();
            let used: Vec<String> = options.iter().map(|(k, _)| k.clone()).collect();
            let rows = options.iter().map(|(key, target)| {
                let key_options: Vec<(String, String)> = KEYS
                    .iter()
                    .filter(|k| **k == key.as_str() || !used.iter().any(|u| u == *k))
                    .map(|k| (k.to_string(), k.to_string()))
                    .collect();
                let rekey = {
                    let (node, old, dispatch) = (id.to_string(), key.clone(), c.dispatch.clone());
                    Callback::from(move |new: String| {
                        let (node, old) = (node.clone(), old.clone());
                        dispatch.dispatch(Box::new(move |d: &mut Draft| {
                            if let Some(o) = d.node_mut(&node).and_then(|n| n["options"].as_object_mut()) {
                                if let Some(t) = o.remove(&old) {
                                    o.insert(new, t);
                                }
                            }
                        }))
                    })
                };
                let retarget = {
                    let (node, key, dispatch) = (id.to_string(), key.clone(), c.dispatch.clone());
                    Callback::from(move |t: String| {
                        let (node, key) = (node.clone(), key.clone());
                        dispatch.dispatch(Box::new(move |d: &mut Draft| {
                            if let Some(n) = d.node_mut(&node) {
                                n["options"][key.as_str()] = Value::from(t);
                            }
                        }))
                    })
                };
                let remove = {
                    let (node, key, dispatch) = (id.to_string(), key.clone(), c.dispatch.clone());
                    Callback::from(move |_: MouseEvent| {
                        let (node, key) = (node.clone(), key.clone());
                        dispatch.dispatch(Box::new(move |d: &mut Draft| {
                            if let Some(o) = d.node_mut(&node).and_then(|n| n["options"].as_object_mut()) {
                                o.remove(&key);
                            }
                        }))
                    })
                };
                let key_id = format!("node-{id}-key-{}", key_slug(key));
                html! {
                    <div class="row menu-option" data-key={key.clone()}>
                        <SelectField id={key_id} label={c.i18n.t("ivr-field-key")} value={key.clone()} options={key_options} onchange={rekey} />
                        { c.target(id, &format!("options.{key}"), target, c.i18n.ta("ivr-field-key-target", &[("key", key.clone().into())]), retarget) }
                        <div class="field">
                            <button type="button" class="link danger" id={format!("node-{id}-key-{}-remove", key_slug(key))} onclick={remove}
                                aria-label={c.i18n.ta("ivr-key-remove", &[("key", key.clone().into())])}>{ "×" }</button>
                        </div>
                    </div>
                }
            });
            let add_key = {
                let (node, used) = (id.to_string(), used.clone());
                let dispatch = c.dispatch.clone();
                Callback::from(move |_: MouseEvent| {
                    let Some(k) = KEYS.iter().find(|k| !used.iter().any(|u| u == *k)) else {
                        return;
                    };
                    let (node, k) = (node.clone(), k.to_string());
                    dispatch.dispatch(Box::new(move |d: &mut Draft| {
                        if let Some(n) = d.node_mut(&node) {
                            if !n["options"].is_object() {
                                n["options"] = json!({});
                            }
                            n["options"][k.as_str()] = Value::from("");
                        }
                    }))
                })
            };
            let options_err = c.err(id, "options");
            html! {
                <>
                    <div class="row">{ c.prompt(id, n, false) }{ c.number(id, n, "timeout_ms", "ivr-field-timeout") }{ c.number(id, n, "retries", "ivr-field-retries") }</div>
                    <fieldset>
                        <legend>{ c.i18n.t("ivr-field-options") }</legend>
                        { for rows }
                        if let Some(e) = options_err { <p class="field-error" id={format!("node-{id}-options-error")}>{ e }</p> }
                        <button type="button" class="secondary" id={format!("node-{id}-add-key")} onclick={add_key}>{ c.i18n.t("ivr-key-add") }</button>
                    </fieldset>
                    <div class="row">{ c.simple_target(id, n, "fallback", "ivr-field-fallback") }</div>
                </>
            }
        }
        "collect" => {
            let terminator = n["terminator"].as_str().unwrap_or("").to_string();
            let set_term = c.setter(id, |n, v| {
                n["terminator"] = match v.trim().chars().next() {
                    Some(ch) => Value::from(ch.to_string()),
                    None => Value::Null,
                }
            });
            html! {
                <>
                    <div class="row">{ c.prompt(id, n, true) }{ c.text(id, n, "var", "ivr-field-var") }</div>
                    <div class="row">
                        { c.number(id, n, "min", "ivr-field-min") }{ c.number(id, n, "max", "ivr-field-max") }
                        { c.number(id, n, "timeout_ms", "ivr-field-timeout") }
                        <TextField id={format!("node-{id}-terminator")} label={c.i18n.t("ivr-field-terminator")} value={terminator}
                            oninput={set_term} error={c.err(id, "terminator")} />
                    </div>
                    <div class="row">{ c.simple_target(id, n, "next", "ivr-field-next") }{ c.simple_target(id, n, "fallback", "ivr-field-fallback") }</div>
                </>
            }
        }
        "time_condition" => {
            let hours: Vec<Value> = n["hours"].as_array().cloned().unwrap_or_default();
            let rows = hours.iter().enumerate().map(|(i, h)| {
                let days = h["days"]
                    .as_array()
                    .map(|d| d.iter().map(num_text).collect::<Vec<_>>().join(","))
                    .unwrap_or_default();
                let set = |field: &'static str| {
                    let (node, dispatch) = (id.to_string(), c.dispatch.clone());
                    Callback::from(move |v: String| {
                        let node = node.clone();
                        dispatch.dispatch(Box::new(move |d: &mut Draft| {
                            if let Some(n) = d.node_mut(&node) {
                                n["hours"][i][field] = if field == "days" {
                                    Value::from(
                                        v.split([',', ' '])
                                            .filter_map(|s| s.trim().parse::<u64>().ok())
                                            .collect::<Vec<_>>(),
                                    )
                                } else {
                                    Value::from(v)
                                };
                            }
                        }))
                    })
                };
                let remove = {
                    let (node, dispatch) = (id.to_string(), c.dispatch.clone());
                    Callback::from(move |_: MouseEvent| {
                        let node = node.clone();
                        dispatch.dispatch(Box::new(move |d: &mut Draft| {
                            if let Some(a) = d.node_mut(&node).and_then(|n| n["hours"].as_array_mut()) {
                                if i < a.len() {
                                    a.remove(i);
                                }
                            }
                        }))
                    })
                };
                let row_err = c.err(id, &format!("hours.{i}"));
                html! {
                    <div class="row">
                        <TextField id={format!("node-{id}-hours-{i}-days")} label={c.i18n.t("ivr-field-days")} value={days}
                            oninput={set("days")} error={c.err(id, &format!("hours.{i}.days"))} hint={Some(c.i18n.t("ivr-field-days-hint"))} />
                        <TextField id={format!("node-{id}-hours-{i}-from")} label={c.i18n.t("ivr-field-from")} value={h["from"].as_str().unwrap_or("").to_string()}
                            oninput={set("from")} error={row_err} />
                        <TextField id={format!("node-{id}-hours-{i}-to")} label={c.i18n.t("ivr-field-to")} value={h["to"].as_str().unwrap_or("").to_string()}
                            oninput={set("to")} error={c.err(id, &format!("hours.{i}.to"))} />
                        <div class="field"><button type="button" class="link danger" onclick={remove}>{ c.i18n.t("ivr-hours-remove") }</button></div>
                    </div>
                }
            });
            let add = {
                let (node, dispatch) = (id.to_string(), c.dispatch.clone());
                Callback::from(move |_: MouseEvent| {
                    let node = node.clone();
                    dispatch.dispatch(Box::new(move |d: &mut Draft| {
                        if let Some(n) = d.node_mut(&node) {
                            if !n["hours"].is_array() {
                                n["hours"] = json!([]);
                            }
                            if let Some(a) = n["hours"].as_array_mut() {
                                a.push(json!({ "days": [1, 2, 3, 4, 5], "from": "09:00", "to": "18:00" }));
                            }
                        }
                    }))
                })
            };
            let holidays = n["holidays"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            let set_holidays = c.setter(id, |n, v| {
                n["holidays"] = Value::from(
                    v.split([',', ' '])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect::<Vec<_>>(),
                )
            });
            html! {
                <>
                    <div class="row">{ c.text(id, n, "timezone", "ivr-field-timezone") }
                        <TextField id={format!("node-{id}-holidays")} label={c.i18n.t("ivr-field-holidays")} value={holidays}
                            oninput={set_holidays} error={c.err(id, "holidays")} hint={Some(c.i18n.t("ivr-field-holidays-hint"))} />
                    </div>
                    <fieldset>
                        <legend>{ c.i18n.t("ivr-field-hours") }</legend>
                        { for rows }
                        <button type="button" class="secondary" onclick={add}>{ c.i18n.t("ivr-hours-add") }</button>
                    </fieldset>
                    <div class="row">{ c.simple_target(id, n, "open", "ivr-field-open") }{ c.simple_target(id, n, "closed", "ivr-field-closed") }</div>
                </>
            }
        }
        "set_var" => html! {
            <div class="row">{ c.text(id, n, "name", "ivr-field-var") }{ c.text(id, n, "value", "ivr-field-value") }{ c.simple_target(id, n, "next", "ivr-field-next") }</div>
        },
        "http_lookup" => html! {
            <>
                <div class="row">{ c.text(id, n, "url", "ivr-field-url") }{ c.number(id, n, "timeout_ms", "ivr-field-timeout") }</div>
                <div class="row">{ c.simple_target(id, n, "next", "ivr-field-next") }{ c.simple_target(id, n, "error", "ivr-field-error-branch") }</div>
            </>
        },
        "queue" => {
            let current = n["queue"].as_str().unwrap_or("").to_string();
            let field = if c.queues.is_empty() {
                c.text(id, n, "queue", "ivr-field-queue")
            } else {
                let mut options = vec![(String::new(), c.i18n.t("ivr-target-choose"))];
                options.extend(c.queues.iter().map(|q| (q.clone(), q.clone())));
                if !current.is_empty() && !c.queues.iter().any(|q| q.eq_ignore_ascii_case(&current))
                {
                    options.push((
                        current.clone(),
                        c.i18n
                            .ta("ivr-target-missing", &[("name", current.clone().into())]),
                    ));
                }
                html! {
                    <SelectField id={format!("node-{id}-queue")} label={c.i18n.t("ivr-field-queue")} value={current}
                        {options} onchange={c.field_setter(id, "queue", false)} error={c.err(id, "queue")} />
                }
            };
            html! { <div class="row">{ field }{ c.number(id, n, "priority", "ivr-field-priority") }</div> }
        }
        "voicemail" => {
            html! { <div class="row">{ c.prompt(id, n, true) }{ c.number(id, n, "max_ms", "ivr-field-max-ms") }</div> }
        }
        "callback" | "hangup" => html! { <div class="row">{ c.prompt(id, n, true) }</div> },
        "transfer" => {
            html! { <div class="row">{ c.text(id, n, "number", "ivr-field-number") }{ c.simple_target(id, n, "failed", "ivr-field-transfer-failed") }</div> }
        }
        _ => html! {},
    }
}

/// `*` and `#` in element ids.
fn key_slug(k: &str) -> String {
    match k {
        "*" => "star".into(),
        "#" => "hash".into(),
        k => k.to_string(),
    }
}

/// The graph as a tree from the start node. A node already drawn is named, not drawn
/// again: with a loop sign only when it is on the way to itself (a real loop, like "press 9
/// to hear the menu again"), else as "see above" (two branches meeting).
fn outline(i18n: &I18n, d: &Draft) -> Html {
    fn walk(
        i18n: &I18n,
        d: &Draft,
        id: &str,
        via: String,
        seen: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Html {
        let node = d.nodes.iter().find(|(i, _)| i == id).map(|(_, n)| n);
        let Some(node) = node else {
            return html! {
                <li class="outline-missing">{ via }<strong>{ if id.is_empty() { "?".to_string() } else { id.to_string() } }</strong>
                    { " " }<span class="badge">{ i18n.t("ivr-outline-missing") }</span></li>
            };
        };
        let kind = kind_text(i18n, node["type"].as_str().unwrap_or(""));
        if path.iter().any(|p| p == id) {
            return html! {
                <li class="outline-loop" data-loop="true">{ via }{ "↩ " }<strong>{ id }</strong>
                    { " " }<span class="muted small">{ i18n.t("ivr-outline-loop") }</span></li>
            };
        }
        if !seen.insert(id.to_string()) {
            return html! {
                <li class="outline-again">{ via }<strong>{ id }</strong>
                    { " " }<span class="muted small">{ i18n.t("ivr-outline-see-above") }</span></li>
            };
        }
        path.push(id.to_string());
        let children: Vec<Html> = targets(node)
            .into_iter()
            .map(|(field, t)| {
                let label = match field.strip_prefix("options.") {
                    Some(k) => i18n.ta("ivr-outline-key", &[("key", k.to_string().into())]),
                    None => i18n.t(&format!("ivr-outline-{field}")),
                };
                walk(i18n, d, &t, format!("{label} → "), seen, path)
            })
            .collect();
        path.pop();
        html! {
            <li>{ via }<strong>{ id }</strong>{ " " }<span class="muted small">{ kind }</span>
                if !children.is_empty() { <ul class="tree">{ for children }</ul> }
            </li>
        }
    }
    let mut seen = BTreeSet::new();
    html! {
        <ul class="tree" id="flow-outline">{ walk(i18n, d, &d.start, String::new(), &mut seen, &mut Vec::new()) }</ul>
    }
}

#[function_component]
fn FlowForm(p: &FlowFormProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let navigator = use_navigator().expect("inside BrowserRouter");
    let flow = use_state(|| p.flow.clone());
    let draft = {
        let f = p.flow.clone();
        use_reducer(move || {
            Form(match f {
                Some(f) => Draft::from_graph(&f.name, f.is_default, &f.graph),
                None => Draft {
                    new_kind: "play".into(),
                    ..Draft::default()
                },
            })
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let versions_version = use_state(|| 0u32);
    let flow_id = flow.as_ref().map(|f| f.id);

    let save = {
        let (draft, flow, errors, failure, busy, app, navigator, versions_version, i18n) = (
            draft.clone(),
            flow.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            app.clone(),
            navigator.clone(),
            versions_version.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let d = draft.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &d.name);
            if d.nodes.is_empty() {
                c.fail("graph.nodes", i18n.t("ivr-needs-node"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let body = FlowSave {
                name: Some(d.name.trim().to_string()),
                graph: d.graph(),
                is_default: Some(d.is_default),
            };
            let existing = flow.as_ref().map(|f| f.id);
            let (flow, errors, failure, busy, app, navigator, versions_version) = (
                flow.clone(),
                errors.clone(),
                failure.clone(),
                busy.clone(),
                app.clone(),
                navigator.clone(),
                versions_version.clone(),
            );
            busy.set(true);
            spawn(async move {
                let r = match existing {
                    Some(id) => api::put::<_, FlowDto>(&format!("/ivr/flows/{id}"), &body).await,
                    None => api::post::<_, FlowDto>("/ivr/flows", &body).await,
                };
                busy.set(false);
                match r {
                    Ok(f) => {
                        app.set_flash.emit(Some(Flash {
                            key: "ivr-flow-saved".into(),
                            error: false,
                            arg: Some(f.latest_version.to_string()),
                        }));
                        if existing.is_none() {
                            navigator.replace(&Route::IvrFlow {
                                id: f.id.to_string(),
                            });
                        }
                        flow.set(Some(f));
                        versions_version.set(*versions_version + 1);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    let d = &draft.0;
    let dispatch = draft.dispatcher();
    let ids: Vec<String> = d.nodes.iter().map(|(i, _)| i.clone()).collect();
    let ctx = NodeCtx {
        i18n: &i18n,
        dispatch: dispatch.clone(),
        ids: ids.clone(),
        prompts: &p.prompts,
        queues: &p.queues,
        errors: &errors,
        shown: RefCell::new(BTreeSet::new()),
    };
    let cards: Vec<Html> = d
        .nodes
        .iter()
        .map(|(id, n)| {
            let kind = n["type"].as_str().unwrap_or("");
            let fields = node_fields(&ctx, id, n);
            let id_err = ctx.err(id, "id");
            let prefix = format!("graph.nodes.{id}.");
            let mut rest: Vec<(String, String)> = errors
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix) && !ctx.shown.borrow().contains(*k))
                .map(|(k, v)| (k[prefix.len()..].to_string(), v.clone()))
                .collect();
            rest.sort();
            let remove = {
                let (node, dispatch) = (id.clone(), dispatch.clone());
                Callback::from(move |_: MouseEvent| {
                    let node = node.clone();
                    dispatch.dispatch(Box::new(move |d: &mut Draft| {
                        d.nodes.retain(|(i, _)| *i != node);
                        if d.start == node {
                            d.start = d.nodes.first().map(|(i, _)| i.clone()).unwrap_or_default();
                        }
                    }))
                })
            };
            let make_start = {
                let (node, dispatch) = (id.clone(), dispatch.clone());
                Callback::from(move |_: MouseEvent| {
                    let node = node.clone();
                    dispatch.dispatch(Box::new(move |d: &mut Draft| d.start = node))
                })
            };
            let invalid = id_err.is_some() || !rest.is_empty() || errors.keys().any(|k| k.starts_with(&prefix));
            html! {
                <fieldset class={classes!("ivr-node", invalid.then_some("invalid"))} id={format!("node-{id}")} data-kind={kind.to_string()}>
                    <legend>
                        <code>{ id }</code>{ " · " }{ kind_text(&i18n, kind) }
                        if d.start == *id { { " " }<span class="badge ok">{ i18n.t("ivr-start") }</span> }
                    </legend>
                    if let Some(e) = id_err { <p class="field-error" id={format!("node-{id}-id-error")}>{ e }</p> }
                    { fields }
                    if !rest.is_empty() {
                        <ul class="field-errors-list" role="alert">
                            { for rest.into_iter().map(|(k, v)| html! { <li><code>{ k }</code>{ ": " }{ v }</li> }) }
                        </ul>
                    }
                    <div class="button-row">
                        if d.start != *id {
                            <button type="button" class="link" id={format!("node-{id}-make-start")} onclick={make_start}>{ i18n.t("ivr-make-start") }</button>
                        }
                        <button type="button" class="link danger" id={format!("node-{id}-remove")} onclick={remove}
                            aria-label={i18n.ta("ivr-node-remove-named", &[("name", id.clone().into())])}>{ i18n.t("ivr-node-remove") }</button>
                    </div>
                </fieldset>
            }
        })
        .collect();
    // Errors not about a node (name, start, the graph as a whole).
    let top: Vec<(String, String)> = {
        let mut v: Vec<(String, String)> = errors
            .iter()
            .filter(|(k, _)| !k.starts_with("graph.nodes.") && k.as_str() != "name")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        v.sort();
        v
    };

    let new_id_error = use_state(|| None::<String>);
    let add_node = {
        let (draft, new_id_error, i18n, queues) = (
            draft.clone(),
            new_id_error.clone(),
            i18n.clone(),
            p.queues.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let d = &draft.0;
            let id = d.new_id.trim().to_string();
            if !is_node_id(&id) {
                new_id_error.set(Some(i18n.t("ivr-node-id-invalid")));
                return;
            }
            if d.nodes.iter().any(|(i, _)| *i == id) {
                new_id_error.set(Some(i18n.t("ivr-node-id-taken")));
                return;
            }
            new_id_error.set(None);
            let node = new_node(&d.new_kind, queues.first().map(String::as_str));
            draft.dispatch(Box::new(move |d: &mut Draft| {
                if d.start.is_empty() {
                    d.start = id.clone();
                }
                d.nodes.push((id, node));
                d.new_id.clear();
            }));
        })
    };
    let kinds: Vec<(String, String)> = KINDS
        .iter()
        .map(|k| (k.to_string(), kind_text(&i18n, k)))
        .collect();
    let starts: Vec<(String, String)> = ids.iter().map(|i| (i.clone(), i.clone())).collect();
    let set_default = {
        let dispatch = dispatch.clone();
        Callback::from(move |v: bool| {
            dispatch.dispatch(Box::new(move |d: &mut Draft| d.is_default = v))
        })
    };

    html! {
        <>
            <div class="page-head">
                <h1>{ match &*flow { Some(f) => f.name.clone(), None => i18n.t("ivr-flow-new") } }</h1>
                if let Some(f) = &*flow {
                    <span id="flow-status">{ match f.published_version {
                        Some(v) => html! { <span class="badge ok">{ i18n.ta("ivr-live-n", &[("version", (v as i64).into())]) }</span> },
                        None => html! { <span class="badge">{ i18n.t("ivr-not-live") }</span> },
                    } }</span>
                }
            </div>
            <div class="two-col">
                <form id="flow-form" class="card" onsubmit={save} novalidate=true>
                    if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                    if !top.is_empty() {
                        <ul class="field-errors-list" role="alert" id="flow-errors">
                            { for top.iter().map(|(k, v)| html! { <li><code>{ k }</code>{ ": " }{ v }</li> }) }
                        </ul>
                    }
                    <div class="row">
                        <TextField id="flow-name" label={i18n.t("ivr-flow-name")} value={d.name.clone()} required=true
                            oninput={bind(&draft, |t, v| t.name = v)} error={errors.get("name").cloned()} />
                        <SelectField id="flow-start" label={i18n.t("ivr-start")} value={d.start.clone()} options={starts}
                            onchange={bind(&draft, |t, v| t.start = v)} error={errors.get("graph.start").cloned()} />
                    </div>
                    <Checkbox id="flow-default" label={i18n.t("ivr-flow-default")} checked={d.is_default} onchange={set_default} />
                    <h2>{ i18n.t("ivr-nodes") }</h2>
                    if d.nodes.is_empty() { <p class="empty">{ i18n.t("ivr-no-nodes") }</p> }
                    { for cards }
                    <fieldset id="new-node">
                        <legend>{ i18n.t("ivr-node-add-title") }</legend>
                        <div class="row">
                            <TextField id="new-node-id" label={i18n.t("ivr-node-id")} value={d.new_id.clone()}
                                oninput={bind(&draft, |t, v| t.new_id = v)} error={(*new_id_error).clone()}
                                hint={Some(i18n.t("ivr-node-id-hint"))} />
                            <SelectField id="new-node-kind" label={i18n.t("ivr-node-kind")} value={d.new_kind.clone()} options={kinds}
                                onchange={bind(&draft, |t, v| t.new_kind = v)} />
                        </div>
                        <button type="button" class="secondary" id="new-node-add" onclick={add_node}>{ i18n.t("ivr-node-add") }</button>
                    </fieldset>
                    <button type="submit" class="primary" id="flow-save" disabled={*busy}>{ i18n.t("ivr-flow-save") }</button>
                </form>
                <div class="stack">
                    <section class="card" aria-labelledby="outline-h">
                        <h2 id="outline-h">{ i18n.t("ivr-outline") }</h2>
                        if d.nodes.is_empty() { <p class="muted">{ i18n.t("ivr-no-nodes") }</p> } else { { outline(&i18n, d) } }
                    </section>
                    if let Some(id) = flow_id {
                        <Versions key={format!("{id}-{}", *versions_version)} {id}
                            on_published={{
                                let flow = flow.clone();
                                Callback::from(move |f: FlowDto| flow.set(Some(f)))
                            }}
                            on_load={{
                                let dispatch = dispatch.clone();
                                Callback::from(move |v: FlowVersionDto| {
                                    dispatch.dispatch(Box::new(move |d: &mut Draft| {
                                        let fresh = Draft::from_graph(&d.name, d.is_default, &v.graph);
                                        d.start = fresh.start;
                                        d.nodes = fresh.nodes;
                                    }))
                                })
                            }} />
                    }
                </div>
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct VersionsProps {
    id: Uuid,
    on_published: Callback<FlowDto>,
    on_load: Callback<FlowVersionDto>,
}

#[function_component]
fn Versions(p: &VersionsProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (versions, reload) =
        use_get::<Vec<FlowVersionDto>>(format!("/ivr/flows/{}/versions", p.id));
    let failure = use_state(|| None::<ApiError>);
    let publish = {
        let (failure, reload, app, on_published, id) = (
            failure.clone(),
            reload.clone(),
            app.clone(),
            p.on_published.clone(),
            p.id,
        );
        move |version: i32| {
            let (failure, reload, app, on_published) = (
                failure.clone(),
                reload.clone(),
                app.clone(),
                on_published.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                let (failure, reload, app, on_published) = (
                    failure.clone(),
                    reload.clone(),
                    app.clone(),
                    on_published.clone(),
                );
                failure.set(None);
                spawn(async move {
                    match api::post::<_, FlowDto>(
                        &format!("/ivr/flows/{id}/publish"),
                        &FlowPublish { version },
                    )
                    .await
                    {
                        Ok(f) => {
                            app.set_flash.emit(Some(Flash {
                                key: "ivr-published".into(),
                                error: false,
                                arg: Some(version.to_string()),
                            }));
                            on_published.emit(f);
                            reload.emit(());
                        }
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        }
    };
    let list = render_load(&versions, &reload, |vs| {
        html! {
            <ul class="kb-versions" id="flow-versions">
                { for vs.iter().map(|v| {
                    let load = {
                        let (cb, v) = (p.on_load.clone(), v.clone());
                        Callback::from(move |_: MouseEvent| cb.emit(v.clone()))
                    };
                    html! {
                        <li data-version={v.version.to_string()}>
                            <strong>{ i18n.ta("ivr-version-n", &[("version", (v.version as i64).into())]) }</strong>
                            { " · " }<span class="muted small">{ i18n.datetime(&v.created_at) }</span>
                            if v.published { { " " }<span class="badge ok">{ i18n.t("ivr-live") }</span> }
                            { " " }
                            <button type="button" class="link" id={format!("version-{}-load", v.version)} onclick={load}>{ i18n.t("ivr-version-load") }</button>
                            if !v.published {
                                { " " }
                                <button type="button" class="link" id={format!("version-{}-publish", v.version)} onclick={publish(v.version)}>{ i18n.t("ivr-publish") }</button>
                            }
                        </li>
                    }
                }) }
            </ul>
        }
    });
    let problems: Vec<String> = failure
        .as_ref()
        .and_then(|e| e.problem())
        .map(|p| {
            p.errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect()
        })
        .unwrap_or_default();
    html! {
        <section class="card" aria-labelledby="versions-h">
            <h2 id="versions-h">{ i18n.t("ivr-versions") }</h2>
            if let Some(e) = &*failure {
                <div class="alert error" role="alert" id="publish-error">
                    <p>{ detail_text(&i18n, e) }</p>
                    if !problems.is_empty() { <ul>{ for problems.iter().map(|m| html! { <li>{ m }</li> }) }</ul> }
                </div>
            }
            { list }
        </section>
    }
}
