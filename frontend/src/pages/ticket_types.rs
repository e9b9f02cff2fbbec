//! Ticket types and their workflows (`tickets.admin`): the statuses (name, colour, initial,
//! final), the moves between them with the permission a move needs, and a diagram of the
//! graph. Saved whole (`PUT /ticket-types/{id}`); the server checks the graph (one initial
//! status, every status reachable, no dead end) and names the row at fault.
//!
//! Status keys are internal: made from the name when a status is added and never shown or
//! changed afterwards (tickets keep their status across renames).

use std::collections::{HashMap, VecDeque};

use hotline_wire::permissions as perm;
use hotline_wire::tickets::{StatusDef, TicketTypeDto, TicketTypeInput, TransitionDef};
use uuid::Uuid;
use yew::prelude::*;

use super::org::{permission_label, save};
use super::tickets::ink_for;
use crate::api::{ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

/// The keys of a new type's two statuses.
const NEW: &str = "new";
const CLOSED: &str = "closed";

/// Colours offered to a new status, in turn.
const PALETTE: [&str; 8] = [
    "#1f6feb", "#bf8700", "#8250df", "#1a7f37", "#cf222e", "#0969da", "#57606a", "#d4a72c",
];

/// A key from a name: lower case a–z, 0–9 and `_`, unique among `taken`.
fn key_for(name: &str, taken: &[StatusDef]) -> String {
    let mut base = String::new();
    for ch in name.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_lowercase() || ch.is_ascii_digit() {
            base.push(ch);
        } else if !base.is_empty() && !base.ends_with('_') {
            base.push('_');
        }
    }
    let mut base: String = base.trim_end_matches('_').chars().take(30).collect();
    if base.is_empty() {
        base = "status".into();
    }
    let mut key = base.clone();
    let mut n = 2;
    while taken.iter().any(|s| s.key == key) {
        key = format!("{base}_{n}");
        n += 1;
    }
    key
}

#[derive(Clone, PartialEq)]
struct Wf {
    name: String,
    name_i18n: hotline_wire::names::Translations,
    statuses: Vec<StatusDef>,
    transitions: Vec<TransitionDef>,
    new_status: String,
    /// The names as loaded: a renamed status or move drops its translations (they were of
    /// the old name; the Names page fills them in again).
    loaded: Vec<String>,
}

impl Wf {
    fn of(t: Option<&TicketTypeDto>, i18n: &I18n) -> Wf {
        match t {
            Some(t) => Wf {
                name: t.name.clone(),
                name_i18n: t.name_i18n.clone(),
                statuses: t.statuses.clone(),
                transitions: t.transitions.clone(),
                new_status: String::new(),
                loaded: std::iter::once(t.name.clone())
                    .chain(t.statuses.iter().map(|s| format!("s:{}:{}", s.key, s.name)))
                    .chain(
                        t.transitions
                            .iter()
                            .map(|x| format!("t:{}:{}:{}", x.from, x.to, x.name)),
                    )
                    .collect(),
            },
            // A new type starts as the smallest workflow that passes: New → Closed.
            None => {
                let new = i18n.t("wf-default-new");
                let closed = i18n.t("wf-default-closed");
                Wf {
                    name: String::new(),
                    name_i18n: Default::default(),
                    statuses: vec![
                        StatusDef {
                            key: NEW.into(),
                            name: new,
                            name_i18n: Default::default(),
                            color: PALETTE[0].into(),
                            initial: true,
                            is_final: false,
                        },
                        StatusDef {
                            key: CLOSED.into(),
                            name: closed.clone(),
                            name_i18n: Default::default(),
                            color: PALETTE[6].into(),
                            initial: false,
                            is_final: true,
                        },
                    ],
                    transitions: vec![TransitionDef {
                        from: NEW.into(),
                        to: CLOSED.into(),
                        name: i18n.t("wf-default-close"),
                        name_i18n: Default::default(),
                        permission: None,
                    }],
                    new_status: String::new(),
                    loaded: vec![],
                }
            }
        }
    }

    fn status_name(&self, key: &str) -> String {
        self.statuses
            .iter()
            .find(|s| s.key == key)
            .map(|s| s.name.clone())
            .unwrap_or_default()
    }

    fn input(&self) -> TicketTypeInput {
        let kept = |tag: String, i18n: &hotline_wire::names::Translations| {
            if self.loaded.contains(&tag) {
                i18n.clone()
            } else {
                Default::default()
            }
        };
        TicketTypeInput {
            name: self.name.trim().to_string(),
            name_i18n: if self.loaded.first() == Some(&self.name) {
                self.name_i18n.clone()
            } else {
                Default::default()
            },
            statuses: self
                .statuses
                .iter()
                .map(|s| StatusDef {
                    name: s.name.trim().to_string(),
                    name_i18n: kept(format!("s:{}:{}", s.key, s.name), &s.name_i18n),
                    ..s.clone()
                })
                .collect(),
            transitions: self
                .transitions
                .iter()
                .map(|t| TransitionDef {
                    name: t.name.trim().to_string(),
                    name_i18n: kept(format!("t:{}:{}:{}", t.from, t.to, t.name), &t.name_i18n),
                    ..t.clone()
                })
                .collect(),
        }
    }
}

#[function_component]
pub fn TicketTypesPage() -> Html {
    let i18n = use_i18n();
    let (types, reload) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());
    // `None`: the first type; `Some(None)`: a new type; `Some(Some(id))`: that type.
    let chosen = use_state(|| None::<Option<Uuid>>);
    let saves = use_state(|| 0u32);
    let saved_notice = use_state(|| false);

    let list = render_load(&types, &reload, |ts| {
        let current = match *chosen {
            Some(c) => c,
            None => ts.first().map(|t| t.id),
        };
        html! {
            <nav class="toolbar" id="wf-types" aria-label={i18n.t("wf-types")}>
                { for ts.iter().map(|t| {
                    let id = t.id;
                    let (chosen, notice) = (chosen.clone(), saved_notice.clone());
                    let name = i18n.pick(&t.name, &t.name_i18n).to_string();
                    html! {
                        <button type="button" class={classes!(if current == Some(id) { "primary" } else { "secondary" }, "wf-type")}
                            aria-pressed={(current == Some(id)).to_string()} data-name={t.name.clone()}
                            onclick={move |_| { notice.set(false); chosen.set(Some(Some(id))) }}>{ name }</button>
                    }
                }) }
                <button type="button" id="wf-type-new" class={if current.is_none() { "primary" } else { "secondary" }}
                    onclick={let (chosen, notice) = (chosen.clone(), saved_notice.clone()); move |_| { notice.set(false); chosen.set(Some(None)) }}>
                    { i18n.t("wf-type-new") }</button>
            </nav>
        }
    });
    let editor = match &types {
        Load::Ready(ts) => {
            let current = match *chosen {
                Some(c) => c,
                None => ts.first().map(|t| t.id),
            };
            let t = current
                .and_then(|id| ts.iter().find(|t| t.id == id))
                .cloned();
            let on_saved = {
                let (reload, chosen, saves, notice) = (
                    reload.clone(),
                    chosen.clone(),
                    saves.clone(),
                    saved_notice.clone(),
                );
                Callback::from(move |id: Uuid| {
                    reload.emit(());
                    chosen.set(Some(Some(id)));
                    saves.set(*saves + 1);
                    notice.set(true);
                })
            };
            // Keyed by the saved content too: after a save the form starts again from what
            // the server stored once the list has been re-read (not from the stale copy).
            let fingerprint = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                serde_json::to_string(&t).unwrap_or_default().hash(&mut h);
                h.finish()
            };
            let key = format!(
                "{}-{}-{fingerprint:x}",
                current.map(|c| c.to_string()).unwrap_or_default(),
                *saves
            );
            html! { <WorkflowEditor key={key} current={t} {on_saved} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            <h1>{ i18n.t("wf-title") }</h1>
            <p class="muted">{ i18n.t("wf-intro") }</p>
            { list }
            if *saved_notice { <Notice text={i18n.t("wf-saved")} /> }
            { editor }
        </>
    }
}

type Dispatch = yew::functional::UseReducerDispatcher<Form<Wf>>;

/// A callback that writes an input's value into the form (`i`: the row).
fn edit_cb(d: &Dispatch, f: fn(&mut Wf, usize, String), i: usize) -> Callback<String> {
    let d = d.clone();
    Callback::from(move |v: String| d.dispatch(Box::new(move |w: &mut Wf| f(w, i, v))))
}

/// A click that changes the form (`i`: the row).
fn act_cb(d: &Dispatch, f: fn(&mut Wf, usize), i: usize) -> Callback<MouseEvent> {
    let d = d.clone();
    Callback::from(move |_: MouseEvent| d.dispatch(Box::new(move |w: &mut Wf| f(w, i))))
}

#[derive(Properties, PartialEq)]
struct EditorProps {
    current: Option<TicketTypeDto>,
    on_saved: Callback<Uuid>,
}

/// A `<select>` labelled for screen readers only (it sits in a table row whose header names it).
fn row_select(
    id: String,
    label: String,
    value: &str,
    options: &[(String, String)],
    onchange: Callback<String>,
) -> Html {
    let onchange = Callback::from(move |e: Event| {
        let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
        onchange.emit(el.value());
    });
    html! {
        <select {id} aria-label={label} {onchange}>
            { for options.iter().map(|(v, l)| html! { <option value={v.clone()} selected={v == value}>{ l }</option> }) }
        </select>
    }
}

/// Server field errors as sentences that name the status or move (never an index or key).
fn error_lines(i18n: &I18n, wf: &Wf, errors: &FieldErrors) -> Vec<String> {
    let mut out = vec![];
    let mut keys: Vec<&String> = errors.keys().collect();
    keys.sort();
    for k in keys {
        let mut msg = errors[k].clone();
        for s in &wf.statuses {
            msg = msg.replace(&format!("'{}'", s.key), &format!("“{}”", s.name));
        }
        let index = |prefix: &str| -> Option<usize> {
            k.strip_prefix(prefix)?.split(']').next()?.parse().ok()
        };
        let line = if k == "name" {
            continue; // shown under the name field
        } else if let Some(i) = index("statuses[") {
            let name = wf
                .statuses
                .get(i)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let what = if k.ends_with(".color") {
                i18n.t("wf-colour")
            } else if k.ends_with(".name") {
                i18n.t("wf-status-name")
            } else {
                String::new()
            };
            let head = i18n.ta("wf-error-status", &[("name", name.into())]);
            if what.is_empty() {
                format!("{head}: {msg}")
            } else {
                format!("{head} ({what}): {msg}")
            }
        } else if let Some(i) = index("transitions[") {
            let mv = wf
                .transitions
                .get(i)
                .map(|t| format!("{} → {}", wf.status_name(&t.from), wf.status_name(&t.to)))
                .unwrap_or_default();
            format!(
                "{}: {msg}",
                i18n.ta("wf-error-move", &[("move", mv.into())])
            )
        } else if k == "statuses" {
            format!("{}: {msg}", i18n.t("wf-statuses"))
        } else {
            msg
        };
        out.push(line);
    }
    out
}

#[function_component]
fn WorkflowEditor(p: &EditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let (c, i18n) = (p.current.clone(), i18n.clone());
        use_reducer(move || Form(Wf::of(c.as_ref(), &i18n)))
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let wf = form.0.clone();
    let d = form.dispatcher();
    let edit = |f: fn(&mut Wf, usize, String), i: usize| edit_cb(&d, f, i);
    let act = |f: fn(&mut Wf, usize), i: usize| act_cb(&d, f, i);

    let status_options: Vec<(String, String)> = wf
        .statuses
        .iter()
        .map(|s| (s.key.clone(), s.name.clone()))
        .collect();
    let mut perm_options = vec![(String::new(), i18n.t("wf-perm-anyone"))];
    perm_options.extend(perm::ALL.iter().map(|x| {
        (
            x.key.to_string(),
            permission_label(&i18n, x.key, x.description),
        )
    }));

    let status_rows = wf.statuses.iter().enumerate().map(|(i, s)| {
        let n = wf.statuses.len();
        let label = |k: &str| i18n.ta(k, &[("name", s.name.clone().into())]);
        let on_name = edit(|w, i, v| w.statuses[i].name = v, i);
        let on_colour = edit(|w, i, v| w.statuses[i].color = v, i);
        let on_initial = act(
            |w, i| {
                for (j, s) in w.statuses.iter_mut().enumerate() {
                    s.initial = j == i;
                }
            },
            i,
        );
        let on_final = act(|w, i| w.statuses[i].is_final = !w.statuses[i].is_final, i);
        let on_remove = act(
            |w, i| {
                let key = w.statuses.remove(i).key;
                w.transitions.retain(|t| t.from != key && t.to != key);
            },
            i,
        );
        let up = act(|w, i| if i > 0 { w.statuses.swap(i, i - 1) }, i);
        let down = act(|w, i| if i + 1 < w.statuses.len() { w.statuses.swap(i, i + 1) }, i);
        let name_err = errors.get(&format!("statuses[{i}].name")).cloned();
        let oninput = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_name.emit(el.value());
        });
        let oncolour = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_colour.emit(el.value());
        });
        html! {
            <tr data-status={s.key.clone()}>
                <td>
                    <input id={format!("status-name-{i}")} class="status-name" value={s.name.clone()} {oninput}
                        aria-label={i18n.ta("wf-status-name-of", &[("n", (i as i64 + 1).into())])}
                        aria-invalid={name_err.is_some().then_some("true")} />
                    if let Some(e) = name_err { <p class="field-error">{ e }</p> }
                </td>
                <td><input type="color" class="status-colour" value={s.color.clone()} oninput={oncolour}
                    aria-label={label("wf-colour-of")} /></td>
                <td><input type="radio" name="wf-initial" class="status-initial" checked={s.initial}
                    onclick={on_initial} aria-label={label("wf-initial-of")} /></td>
                <td><input type="checkbox" class="status-final" checked={s.is_final}
                    onclick={on_final} aria-label={label("wf-final-of")} /></td>
                <td class="actions">
                    <button type="button" class="link status-up" disabled={i == 0} onclick={up}
                        aria-label={label("wf-move-up-of")}>{ "↑" }</button>
                    <button type="button" class="link status-down" disabled={i + 1 == n} onclick={down}
                        aria-label={label("wf-move-down-of")}>{ "↓" }</button>
                    <button type="button" class="link danger status-remove" disabled={n == 1} onclick={on_remove}
                        aria-label={label("wf-remove-status-of")}>{ i18n.t("wf-remove") }</button>
                </td>
            </tr>
        }
    });

    let transition_rows = wf.transitions.iter().enumerate().map(|(i, t)| {
        let mv = format!("{} → {}", wf.status_name(&t.from), wf.status_name(&t.to));
        let label = |k: &str| i18n.ta(k, &[("move", mv.clone().into())]);
        let on_from = edit(|w, i, v| w.transitions[i].from = v, i);
        let on_to = edit(|w, i, v| w.transitions[i].to = v, i);
        let on_perm = edit(|w, i, v| w.transitions[i].permission = (!v.is_empty()).then_some(v), i);
        let on_name = edit(|w, i, v| w.transitions[i].name = v, i);
        let on_remove = act(
            |w, i| {
                w.transitions.remove(i);
            },
            i,
        );
        let oninput = Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlInputElement = e.target_unchecked_into();
            on_name.emit(el.value());
        });
        html! {
            <tr class="transition" data-from={t.from.clone()} data-to={t.to.clone()}>
                <td>{ row_select(format!("move-from-{i}"), label("wf-from-of"), &t.from, &status_options, on_from) }</td>
                <td>{ row_select(format!("move-to-{i}"), label("wf-to-of"), &t.to, &status_options, on_to) }</td>
                <td><input id={format!("move-name-{i}")} class="move-name" value={t.name.clone()} {oninput}
                    aria-label={label("wf-button-of")} /></td>
                <td>{ row_select(format!("move-perm-{i}"), label("wf-permission-of"),
                        t.permission.as_deref().unwrap_or(""), &perm_options, on_perm) }</td>
                <td class="actions"><button type="button" class="link danger move-remove" onclick={on_remove}
                    aria-label={label("wf-remove-move-of")}>{ i18n.t("wf-remove") }</button></td>
            </tr>
        }
    });

    let add_status = {
        let (d, i18n) = (d.clone(), i18n.clone());
        let errors = errors.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let i18n = i18n.clone();
            let errors = errors.clone();
            d.dispatch(Box::new(move |w: &mut Wf| {
                let name = w.new_status.trim().to_string();
                if name.is_empty() {
                    let mut errs = (*errors).clone();
                    errs.insert("new_status".into(), i18n.t("form-required"));
                    errors.set(errs);
                    return;
                }
                let key = key_for(&name, &w.statuses);
                let color = PALETTE[w.statuses.len() % PALETTE.len()].to_string();
                let initial = !w.statuses.iter().any(|s| s.initial);
                w.statuses.push(StatusDef {
                    key,
                    name,
                    name_i18n: Default::default(),
                    color,
                    initial,
                    is_final: false,
                });
                w.new_status.clear();
                let mut errs = (*errors).clone();
                errs.remove("new_status");
                errors.set(errs);
            }));
        })
    };
    let add_move = act(
        |w, _| {
            // The first pair of statuses without a move yet, in list order.
            let pair = w.statuses.iter().find_map(|a| {
                w.statuses
                    .iter()
                    .find(|b| {
                        b.key != a.key
                            && !w
                                .transitions
                                .iter()
                                .any(|t| t.from == a.key && t.to == b.key)
                    })
                    .map(|b| (a.clone(), b.clone()))
            });
            if let Some((a, b)) = pair {
                w.transitions.push(TransitionDef {
                    from: a.key,
                    to: b.key,
                    name: b.name,
                    name_i18n: Default::default(),
                    permission: None,
                });
            }
        },
        0,
    );

    let onsave = {
        let (form, errors, failure, busy, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        let id = p.current.as_ref().map(|t| t.id);
        Callback::from(move |_: MouseEvent| {
            let w = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "name", &w.name);
            for (i, s) in w.statuses.iter().enumerate() {
                c.required(&i18n, &format!("statuses[{i}].name"), &s.name);
            }
            for (i, t) in w.transitions.iter().enumerate() {
                if t.name.trim().is_empty() {
                    c.fail(
                        &format!("transitions[{i}].name"),
                        i18n.t("wf-button-needed"),
                    );
                }
            }
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let body = w.input();
            let (errors, failure, busy, on_saved) = (
                errors.clone(),
                failure.clone(),
                busy.clone(),
                on_saved.clone(),
            );
            busy.set(true);
            spawn(async move {
                let r = save::<_, TicketTypeDto>("/ticket-types", id, &body).await;
                busy.set(false);
                match r {
                    Ok(t) => on_saved.emit(t.id),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    let lines = error_lines(&i18n, &wf, &errors);
    let on_new_status = edit(|w, _, v| w.new_status = v, 0);
    let on_type_name = edit(|w, _, v| w.name = v, 0);
    html! {
        <section class="card" id="wf-editor">
            <div class="card-head">
                <h2>{ if p.current.is_some() { i18n.t("wf-edit") } else { i18n.t("wf-type-new") } }</h2>
            </div>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if !lines.is_empty() {
                <ul class="field-errors-list" id="wf-errors" role="alert">
                    { for lines.iter().map(|l| html! { <li>{ l }</li> }) }
                </ul>
            }
            <TextField id="wf-name" label={i18n.t("wf-type-name")} value={wf.name.clone()} oninput={on_type_name}
                error={errors.get("name").cloned()} required=true />

            <h3>{ i18n.t("wf-statuses") }</h3>
            <table class="data" id="wf-statuses">
                <thead><tr>
                    <th scope="col">{ i18n.t("wf-status-name") }</th>
                    <th scope="col">{ i18n.t("wf-colour") }</th>
                    <th scope="col">{ i18n.t("wf-initial") }</th>
                    <th scope="col">{ i18n.t("wf-final") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for status_rows }</tbody>
            </table>
            <form class="toolbar" id="wf-add-status-form" onsubmit={add_status} novalidate=true>
                <TextField id="wf-new-status" label={i18n.t("wf-new-status")} value={wf.new_status.clone()}
                    oninput={on_new_status} error={errors.get("new_status").cloned()} />
                <button type="submit" id="wf-add-status" class="secondary">{ i18n.t("wf-add-status") }</button>
            </form>

            <h3>{ i18n.t("wf-moves") }</h3>
            <p class="hint">{ i18n.t("wf-moves-hint") }</p>
            if wf.transitions.is_empty() {
                <p class="empty">{ i18n.t("wf-no-moves") }</p>
            } else {
                <table class="data" id="wf-transitions">
                    <thead><tr>
                        <th scope="col">{ i18n.t("wf-from") }</th>
                        <th scope="col">{ i18n.t("wf-to") }</th>
                        <th scope="col">{ i18n.t("wf-button") }</th>
                        <th scope="col">{ i18n.t("wf-permission") }</th>
                        <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                    </tr></thead>
                    <tbody>{ for transition_rows }</tbody>
                </table>
            }
            <div class="button-row">
                <button type="button" id="wf-add-move" class="secondary" onclick={add_move}
                    disabled={wf.statuses.len() < 2}>{ i18n.t("wf-add-move") }</button>
            </div>

            <h3>{ i18n.t("wf-diagram") }</h3>
            { diagram(&i18n, &wf) }

            <div class="button-row">
                <button type="button" id="wf-save" class="primary" onclick={onsave} disabled={*busy}>{ i18n.t("action-save") }</button>
            </div>
        </section>
    }
}

// ---------------------------------------------------------------- diagram

const BOX_W: i32 = 150;
const BOX_H: i32 = 40;
const GAP_X: i32 = 70;
const GAP_Y: i32 = 34;
const PAD: i32 = 24;

/// Layers by distance from the initial status (breadth first); statuses it cannot reach go
/// in one more layer at the end, so a broken graph still draws.
fn layers(wf: &Wf) -> HashMap<String, (usize, usize)> {
    let mut layer: HashMap<&str, usize> = HashMap::new();
    let mut queue = VecDeque::new();
    if let Some(s) = wf
        .statuses
        .iter()
        .find(|s| s.initial)
        .or(wf.statuses.first())
    {
        layer.insert(&s.key, 0);
        queue.push_back(s.key.as_str());
    }
    while let Some(k) = queue.pop_front() {
        let l = layer[k];
        for t in wf.transitions.iter().filter(|t| t.from == k) {
            if !layer.contains_key(t.to.as_str()) && wf.statuses.iter().any(|s| s.key == t.to) {
                layer.insert(&t.to, l + 1);
                queue.push_back(&t.to);
            }
        }
    }
    let last = layer.values().max().map_or(0, |m| m + 1);
    let mut rows: HashMap<usize, usize> = HashMap::new();
    let mut out = HashMap::new();
    for s in &wf.statuses {
        let l = *layer.get(s.key.as_str()).unwrap_or(&last);
        let r = rows.entry(l).or_insert(0);
        out.insert(s.key.clone(), (l, *r));
        *r += 1;
    }
    out
}

fn diagram(i18n: &I18n, wf: &Wf) -> Html {
    let pos = layers(wf);
    let at = |k: &str| -> Option<(i32, i32)> {
        pos.get(k).map(|(l, r)| {
            (
                PAD + 16 + *l as i32 * (BOX_W + GAP_X),
                PAD + *r as i32 * (BOX_H + GAP_Y),
            )
        })
    };
    let cols = pos.values().map(|(l, _)| l + 1).max().unwrap_or(1) as i32;
    let rows = pos.values().map(|(_, r)| r + 1).max().unwrap_or(1) as i32;
    let width = 2 * PAD + 16 + cols * BOX_W + (cols - 1) * GAP_X;
    let height = 2 * PAD + rows * BOX_H + (rows - 1) * GAP_Y + 40;
    let edges = wf.transitions.iter().filter_map(|t| {
        let (fx, fy) = at(&t.from)?;
        let (tx, ty) = at(&t.to)?;
        let (fl, _) = pos[&t.from];
        let (tl, _) = pos[&t.to];
        let (d, lx, ly) = if tl > fl {
            // Forward: right side to left side, a gentle curve.
            let (x1, y1, x2, y2) = (fx + BOX_W, fy + BOX_H / 2, tx - 2, ty + BOX_H / 2);
            let mx = (x1 + x2) / 2;
            (
                format!("M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}"),
                mx,
                (y1 + y2) / 2 - 5,
            )
        } else {
            // Back (or within a layer): bottom to bottom, bowing downwards.
            let (x1, y1, x2, y2) = (fx + BOX_W / 2 + 12, fy + BOX_H, tx + BOX_W / 2 - 12, ty + BOX_H + 2);
            let dip = y1.max(y2) + 30 + (fl.abs_diff(tl) as i32) * 6;
            (
                format!("M{x1},{y1} C{x1},{dip} {x2},{dip} {x2},{y2}"),
                (x1 + x2) / 2,
                dip - 2,
            )
        };
        let gated = t.permission.is_some();
        let label = match &t.permission {
            Some(_) => format!("{} *", t.name),
            None => t.name.clone(),
        };
        let needs = t.permission.as_deref().map(|key| {
            let desc = perm::ALL.iter().find(|x| x.key == key).map_or(key, |x| x.description);
            i18n.ta("wf-needs", &[("permission", permission_label(i18n, key, desc).into())])
        });
        Some(html! {
            <g class={classes!("wf-edge", gated.then_some("gated"))} data-from={t.from.clone()} data-to={t.to.clone()}>
                if let Some(n) = needs { <title>{ n }</title> }
                <path {d} fill="none" stroke={if gated { "#8250df" } else { "#57606a" }} stroke-width="1.6"
                    stroke-dasharray={gated.then_some("5 3")} marker-end="url(#wf-arrow)" />
                <text x={lx.to_string()} y={ly.to_string()} text-anchor="middle" font-size="11" fill="#24292f">{ label }</text>
            </g>
        })
    });
    let nodes = wf.statuses.iter().filter_map(|s| {
        let (x, y) = at(&s.key)?;
        let ink = ink_for(&s.color);
        Some(html! {
            <g class={classes!("wf-node", s.initial.then_some("initial"), s.is_final.then_some("final"))} data-status={s.key.clone()}>
                if s.initial {
                    <circle cx={(x - 12).to_string()} cy={(y + BOX_H / 2).to_string()} r="5" fill="#24292f" />
                }
                <rect x={x.to_string()} y={y.to_string()} width={BOX_W.to_string()} height={BOX_H.to_string()} rx="8"
                    fill={s.color.clone()} stroke="#24292f" stroke-width={if s.is_final { "3" } else { "1" }} />
                <text x={(x + BOX_W / 2).to_string()} y={(y + BOX_H / 2 + 4).to_string()} text-anchor="middle"
                    font-size="13" font-weight="600" fill={ink}>{ s.name.clone() }</text>
            </g>
        })
    });
    html! {
        <figure class="wf-diagram">
            <svg id="wf-diagram" role="img" aria-label={i18n.t("wf-diagram")} width={width.to_string()} height={height.to_string()}
                viewBox={format!("0 0 {width} {height}")}>
                <defs>
                    <marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">
                        <path d="M0,0 L10,5 L0,10 z" fill="#57606a" />
                    </marker>
                </defs>
                { for edges }
                { for nodes }
            </svg>
            <figcaption class="hint">{ i18n.t("wf-diagram-legend") }</figcaption>
        </figure>
    }
}
