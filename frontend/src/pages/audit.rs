//! The audit log with filters (action, actor, target, time range) and paging.

use hotline_wire::api::{AuditEntry, Page, UserDto};
use yew::prelude::*;

use crate::api;
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

const PER_PAGE: i64 = 50;

/// Actions the backend records today; the filter also accepts any other text or a prefix
/// ending in `.`.
const KNOWN_ACTIONS: &[&str] = &[
    "auth.",
    "auth.login",
    "auth.login_failed",
    "auth.logout",
    "auth.password_change",
    "user.",
    "user.create",
    "user.update",
    "user.deactivate",
    "user.password_reset",
    "team.",
    "skill.",
    "queue.",
    "role.",
    "reason_code.",
    "api_key.",
    "settings.",
    "agent.state",
];

#[derive(Clone, PartialEq, Default)]
struct Filters {
    action: String,
    actor_id: String,
    target_id: String,
    from: String,
    to: String,
}

/// `datetime-local` input (local time) → RFC 3339 in UTC, via the browser's clock rules.
fn local_to_utc(v: &str) -> Option<String> {
    if v.is_empty() {
        return None;
    }
    let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(v));
    let ms = d.get_time();
    if ms.is_nan() {
        return None;
    }
    Some(String::from(d.to_iso_string()))
}

/// The target as a reader knows it: its kind in words and its name (the id in the tooltip,
/// or shown when the record has no name or is gone).
fn target_view(i18n: &I18n, e: &AuditEntry) -> Html {
    let Some(kind) = &e.target_type else {
        return html! {};
    };
    let kind_text = match i18n.try_t(&format!("audit-target-{}", kind.replace('_', "-"))) {
        Some(t) => html! { { t } },
        // A kind of record the catalog does not name yet: its code.
        None => html! { <code translate="no">{ kind }</code> },
    };
    let id = e.target_id.clone().unwrap_or_default();
    match &e.target_name {
        Some(name) => html! {
            <>{ kind_text }{ ": " }<span class="target-name" title={id}>{ name }</span></>
        },
        None => html! { <>{ kind_text }{ " " }<span class="muted small">{ id }</span></> },
    }
}

/// One value of the details in words: text as is, yes/no, lists joined, a change as
/// "old → new", nested records as "field: value" pairs.
fn value_text(i18n: &I18n, v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "—".into(),
        Value::Bool(b) => i18n.t(if *b { "audit-yes" } else { "audit-no" }),
        Value::Number(n) => n.to_string(),
        Value::String(s) if s.is_empty() => "—".into(),
        Value::String(s) => s.clone(),
        Value::Array(a) => a.iter().map(|x| value_text(i18n, x)).collect::<Vec<_>>().join(", "),
        Value::Object(o) => match (o.get("from").or_else(|| o.get("old")), o.get("to").or_else(|| o.get("new"))) {
            (Some(a), Some(b)) if o.len() == 2 => {
                format!("{} → {}", value_text(i18n, a), value_text(i18n, b))
            }
            _ => o
                .iter()
                .map(|(k, x)| format!("{}: {}", field_label(i18n, k), value_text(i18n, x)))
                .collect::<Vec<_>>()
                .join("; "),
        },
    }
}

fn field_label(i18n: &I18n, key: &str) -> String {
    i18n.try_t(&format!("audit-field-{}", key.replace('_', "-")))
        .unwrap_or_else(|| key.replace('_', " "))
}

/// A field's name: in words when the catalog knows it, else the record's own field code
/// (shown as code, not as a sentence in English).
fn field_name(i18n: &I18n, key: &str) -> Html {
    match i18n.try_t(&format!("audit-field-{}", key.replace('_', "-"))) {
        Some(label) => html! { { label } },
        None => html! { <code translate="no">{ key }</code> },
    }
}

/// Whether a value reads well on one line (text, numbers, lists of them, a change).
fn is_simple(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::Array(a) => a.iter().all(|x| !x.is_object() && !x.is_array()),
        Value::Object(o) => {
            o.len() == 2
                && (o.contains_key("from") && o.contains_key("to")
                    || o.contains_key("old") && o.contains_key("new"))
                && o.values().all(|x| !x.is_object() && !x.is_array())
        }
        _ => true,
    }
}

/// The details of an entry as labelled fields instead of raw JSON; a nested record (a
/// campaign's script, a workflow) folds away as its stored form.
fn details_view(i18n: &I18n, v: &serde_json::Value) -> Html {
    match v {
        serde_json::Value::Null => html! {},
        serde_json::Value::Object(o) if o.is_empty() => html! {},
        serde_json::Value::Object(o) => html! {
            <dl class="audit-details">
                { for o.iter().map(|(k, x)| html! {
                    <><dt>{ field_name(i18n, k) }</dt><dd>{
                        if is_simple(x) {
                            html! { { value_text(i18n, x) } }
                        } else {
                            html! {
                                <details>
                                    <summary>{ i18n.t("audit-show-record") }</summary>
                                    <pre translate="no">{ serde_json::to_string_pretty(x).unwrap_or_default() }</pre>
                                </details>
                            }
                        }
                    }</dd></>
                }) }
            </dl>
        },
        other => html! { { value_text(i18n, other) } },
    }
}

#[function_component]
pub fn AuditPage() -> Html {
    let i18n = use_i18n();
    let form = use_reducer(|| Form(Filters::default()));
    let applied = use_state(Filters::default);
    let page = use_state(|| 1i64);
    let (users, _) = use_get::<Page<UserDto>>("/users?per_page=200&include_inactive=true".into());

    let mut path = format!("/audit?page={}&per_page={}", *page, PER_PAGE);
    let f = &*applied;
    if !f.action.trim().is_empty() {
        path += &format!("&action={}", api::enc(f.action.trim()));
    }
    if !f.actor_id.is_empty() {
        path += &format!("&actor_id={}", api::enc(&f.actor_id));
    }
    if !f.target_id.trim().is_empty() {
        path += &format!("&target_id={}", api::enc(f.target_id.trim()));
    }
    if let Some(t) = local_to_utc(&f.from) {
        path += &format!("&from={}", api::enc(&t));
    }
    if let Some(t) = local_to_utc(&f.to) {
        path += &format!("&to={}", api::enc(&t));
    }
    let (entries, reload) = use_get::<Page<AuditEntry>>(path);

    let onsubmit = {
        let (form, applied, page) = (form.clone(), applied.clone(), page.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            applied.set(form.0.clone());
            page.set(1);
        })
    };
    let onreset = {
        let (form, applied, page) = (form.clone(), applied.clone(), page.clone());
        Callback::from(move |_| {
            form.dispatch(Box::new(|f: &mut Filters| *f = Filters::default()));
            applied.set(Filters::default());
            page.set(1);
        })
    };

    let mut actors = vec![(String::new(), i18n.t("audit-anyone"))];
    if let Load::Ready(us) = &users {
        actors.extend(
            us.items
                .iter()
                .map(|u| (u.id.to_string(), format!("{} <{}>", u.name, u.email))),
        );
    }

    let table = render_load(&entries, &reload, |p| {
        if p.items.is_empty() {
            return html! { <p class="empty">{ i18n.t("audit-empty") }</p> };
        }
        html! {
            <>
            <table class="data" id="audit-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("audit-when") }</th>
                    <th scope="col">{ i18n.t("audit-actor") }</th>
                    <th scope="col">{ i18n.t("audit-action") }</th>
                    <th scope="col">{ i18n.t("audit-target") }</th>
                    <th scope="col">{ i18n.t("audit-details") }</th>
                    <th scope="col">{ i18n.t("audit-ip") }</th>
                </tr></thead>
                <tbody>{ for p.items.iter().map(|e| {
                    let label = i18n.try_t(&format!("audit-label-{}", e.action.replace(['.', '_'], "-")));
                    html! {
                        <tr class="audit-row" data-action={e.action.clone()}>
                            <td>{ i18n.datetime(&e.at) }</td>
                            <td>{ &e.actor }</td>
                            <td><code class="action-code">{ &e.action }</code>
                                if let Some(l) = label { <span class="muted small">{ " " }{ l }</span> }</td>
                            <td>{ target_view(&i18n, e) }</td>
                            <td class="details">{ details_view(&i18n, &e.details) }</td>
                            <td>{ e.ip.clone().unwrap_or_default() }</td>
                        </tr>
                    }
                }) }</tbody>
            </table>
            <Pager page={p.page} per_page={p.per_page} total={p.total}
                on_page={let page = page.clone(); Callback::from(move |n| page.set(n))} />
            </>
        }
    });

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("audit-title") }</h1>
                <button type="button" class="secondary" onclick={let r = reload.clone(); move |_| r.emit(())}>{ i18n.t("action-refresh") }</button>
            </div>
            <form id="audit-filters" class="filters card" {onsubmit}>
                <div class="field">
                    <label for="audit-action">{ i18n.t("audit-action") }</label>
                    <input id="audit-action" list="audit-actions" value={form.0.action.clone()}
                        oninput={let b = bind(&form, |f, v| f.action = v); move |e: InputEvent| b.emit(e.target_unchecked_into::<web_sys::HtmlInputElement>().value())}
                        aria-describedby="audit-action-hint" />
                    <datalist id="audit-actions">{ for KNOWN_ACTIONS.iter().map(|a| html!{ <option value={*a} /> }) }</datalist>
                    <p class="hint" id="audit-action-hint">{ i18n.t("audit-action-hint") }</p>
                </div>
                <SelectField id="audit-actor" label={i18n.t("audit-actor")} value={form.0.actor_id.clone()} options={actors}
                    onchange={bind(&form, |f, v| f.actor_id = v)} />
                <TextField id="audit-target" label={i18n.t("audit-target-id")} value={form.0.target_id.clone()}
                    oninput={bind(&form, |f, v| f.target_id = v)} />
                <TextField id="audit-from" kind="datetime-local" label={i18n.t("audit-from")} value={form.0.from.clone()}
                    oninput={bind(&form, |f, v| f.from = v)} />
                <TextField id="audit-to" kind="datetime-local" label={i18n.t("audit-to")} value={form.0.to.clone()}
                    oninput={bind(&form, |f, v| f.to = v)} />
                <div class="filter-actions">
                    <button type="submit" class="primary" id="audit-apply">{ i18n.t("action-filter") }</button>
                    <button type="button" class="secondary" onclick={onreset}>{ i18n.t("action-clear") }</button>
                </div>
            </form>
            { table }
        </>
    }
}
