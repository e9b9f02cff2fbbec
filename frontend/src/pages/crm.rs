//! The customer template (`crm.admin`): the fields every customer card shows — add, edit
//! (label, required, choices), reorder, deactivate/reactivate. A field's key and kind never
//! change once created (stored values live under the key), so the form locks them.

use hotline_wire::crm::{CustomerFieldDto, CustomerFieldInput, FIELD_KINDS};
use uuid::Uuid;
use yew::prelude::*;

use super::org::{edit_button, editor_head, save, use_selection};
use super::users::other_errors;
use crate::api::{ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

fn kind_text(i18n: &I18n, kind: &str) -> String {
    i18n.try_t(&format!("crm-kind-{}", kind.replace('_', "-")))
        .unwrap_or_else(|| kind.to_string())
}

fn input_of(f: &CustomerFieldDto) -> CustomerFieldInput {
    CustomerFieldInput {
        key: f.key.clone(),
        label: f.label.clone(),
        kind: f.kind.clone(),
        required: f.required,
        options: f.options.clone(),
        position: f.position,
        active: f.active,
    }
}

/// A key from a label: lower case, `_` between words (`Account no.` → `account_no`).
fn key_from(label: &str) -> String {
    let mut out = String::new();
    for ch in label.trim().chars().flat_map(char::to_lowercase) {
        if ch.is_ascii_alphanumeric() {
            out.push(ch);
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    match out.chars().next() {
        Some(c) if c.is_ascii_lowercase() => out.chars().take(40).collect(),
        Some(_) => format!("f_{out}").chars().take(40).collect(),
        None => out,
    }
}

/// Saves every field whose position differs from its place in `order` (×10).
async fn save_order(order: Vec<CustomerFieldDto>) -> Result<(), ApiError> {
    for (i, f) in order.into_iter().enumerate() {
        let position = (i as i32 + 1) * 10;
        if f.position != position {
            let body = CustomerFieldInput {
                position,
                ..input_of(&f)
            };
            save::<_, CustomerFieldDto>("/customer-fields", Some(f.id), &body).await?;
        }
    }
    Ok(())
}

#[function_component]
pub fn CustomerTemplatePage() -> Html {
    let i18n = use_i18n();
    let (fields, reload) = use_get::<Vec<CustomerFieldDto>>("/customer-fields".into());
    let (selected, select) = use_selection();
    let failure = use_state(|| None::<ApiError>);
    // Bumped on every save so the editor starts empty again.
    let saves = use_state(|| 0u32);

    let run = {
        let (failure, reload) = (failure.clone(), reload.clone());
        move |fut: std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), ApiError>>>>| {
            let (failure, reload) = (failure.clone(), reload.clone());
            failure.set(None);
            spawn(async move {
                if let Err(e) = fut.await {
                    failure.set(Some(e));
                }
                reload.emit(());
            });
        }
    };

    let list = render_load(&fields, &reload, |fs| {
        let mut sorted: Vec<CustomerFieldDto> = fs.to_vec();
        sorted.sort_by(|a, b| (a.position, &a.label).cmp(&(b.position, &b.label)));
        if sorted.is_empty() {
            return html! { <p class="empty">{ i18n.t("crm-no-fields") }</p> };
        }
        let n = sorted.len();
        html! {
            <table class="data" id="fields-table">
                <caption class="sr-only">{ i18n.t("crm-template-title") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("crm-field-label") }</th>
                    <th scope="col">{ i18n.t("crm-field-key") }</th>
                    <th scope="col">{ i18n.t("crm-field-kind") }</th>
                    <th scope="col">{ i18n.t("crm-field-required") }</th>
                    <th scope="col">{ i18n.t("crm-field-choices") }</th>
                    <th scope="col">{ i18n.t("user-status") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for sorted.iter().enumerate().map(|(i, f)| {
                    let mover = |to: usize| {
                        let (order, run) = (sorted.clone(), run.clone());
                        Callback::from(move |_: MouseEvent| {
                            let mut order = order.clone();
                            order.swap(i, to);
                            run(Box::pin(save_order(order)));
                        })
                    };
                    let toggle = {
                        let body = CustomerFieldInput { active: !f.active, ..input_of(f) };
                        let (id, run) = (f.id, run.clone());
                        Callback::from(move |_: MouseEvent| {
                            let body = body.clone();
                            run(Box::pin(async move {
                                save::<_, CustomerFieldDto>("/customer-fields", Some(id), &body).await.map(|_| ())
                            }));
                        })
                    };
                    let named = |key: &str| i18n.ta(key, &[("name", f.label.clone().into())]);
                    html! {
                        <tr data-key={f.key.clone()} class={classes!((!f.active).then_some("inactive"))}>
                            <td>{ &f.label }</td>
                            <td><code>{ &f.key }</code></td>
                            <td>{ kind_text(&i18n, &f.kind) }</td>
                            <td>{ if f.required { i18n.t("answer-yes") } else { i18n.t("answer-no") } }</td>
                            <td>{ f.options.join(", ") }</td>
                            <td>{ if f.active { html!{<span class="badge ok">{ i18n.t("status-active") }</span>} } else { html!{<span class="badge">{ i18n.t("status-inactive") }</span>} } }</td>
                            <td class="actions">
                                <button type="button" class="link field-up" disabled={i == 0} onclick={mover(i.saturating_sub(1))}
                                    aria-label={named("crm-move-up-named")}>{ "↑" }</button>
                                <button type="button" class="link field-down" disabled={i + 1 == n} onclick={mover((i + 1).min(n - 1))}
                                    aria-label={named("crm-move-down-named")}>{ "↓" }</button>
                                { edit_button(&i18n, &f.label, f.id, &select) }
                                <button type="button" class={classes!("link", "field-toggle", f.active.then_some("danger"))} onclick={toggle}
                                    aria-label={named(if f.active { "crm-deactivate-named" } else { "crm-reactivate-named" })}>
                                    { if f.active { i18n.t("crm-deactivate") } else { i18n.t("crm-reactivate") } }
                                </button>
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let editor = match &fields {
        Load::Ready(fs) => {
            let current = selected.and_then(|id| fs.iter().find(|f| f.id == id).cloned());
            let next_position = fs.iter().map(|f| f.position).max().unwrap_or(0) + 10;
            let on_saved = {
                let (reload, select, saves) = (reload.clone(), select.clone(), saves.clone());
                Callback::from(move |_| {
                    reload.emit(());
                    select.emit(None);
                    saves.set(*saves + 1);
                })
            };
            let key = format!(
                "{}-{}",
                selected.map(|s| s.to_string()).unwrap_or_default(),
                *saves
            );
            html! { <FieldEditor key={key} {current} {next_position} select={select.clone()} {on_saved} /> }
        }
        _ => html! {},
    };
    html! {
        <>
            <h1>{ i18n.t("crm-template-title") }</h1>
            <p class="muted">{ i18n.t("crm-template-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="two-col">{ list }{ editor }</div>
        </>
    }
}

#[derive(Clone, PartialEq, Default)]
struct FieldForm {
    key: String,
    label: String,
    kind: String,
    required: bool,
    choices: String,
}

#[derive(Properties, PartialEq)]
struct FieldEditorProps {
    current: Option<CustomerFieldDto>,
    next_position: i32,
    select: Callback<Option<Uuid>>,
    on_saved: Callback<()>,
}

#[function_component]
fn FieldEditor(p: &FieldEditorProps) -> Html {
    let i18n = use_i18n();
    let form = {
        let c = p.current.clone();
        use_reducer(move || {
            Form(match c {
                Some(f) => FieldForm {
                    key: f.key,
                    label: f.label,
                    kind: f.kind,
                    required: f.required,
                    choices: f.options.join(", "),
                },
                None => FieldForm {
                    kind: "text".into(),
                    ..FieldForm::default()
                },
            })
        })
    };
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let editing = p.current.clone();
    let onsubmit = {
        let (form, errors, failure, i18n, on_saved) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            i18n.clone(),
            p.on_saved.clone(),
        );
        let next_position = p.next_position;
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "label", &f.label);
            let choice = f.kind == "choice" || f.kind == "multi_choice";
            let options: Vec<String> = if choice {
                f.choices
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            } else {
                vec![]
            };
            if choice && options.is_empty() {
                c.fail("options", i18n.t("crm-choices-needed"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            let key = if f.key.trim().is_empty() {
                key_from(&f.label)
            } else {
                f.key.trim().to_string()
            };
            let body = CustomerFieldInput {
                key,
                label: f.label.trim().to_string(),
                kind: f.kind.clone(),
                required: f.required,
                options,
                position: editing.as_ref().map_or(next_position, |x| x.position),
                active: editing.as_ref().is_none_or(|x| x.active),
            };
            let id = editing.as_ref().map(|x| x.id);
            let (errors, failure, on_saved) = (errors.clone(), failure.clone(), on_saved.clone());
            spawn(async move {
                match save::<_, CustomerFieldDto>("/customer-fields", id, &body).await {
                    Ok(_) => on_saved.emit(()),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let kinds: Vec<(String, String)> = FIELD_KINDS
        .iter()
        .map(|k| (k.to_string(), kind_text(&i18n, k)))
        .collect();
    let f = &form.0;
    let locked = p.current.is_some();
    let choice = f.kind == "choice" || f.kind == "multi_choice";
    let d = form.dispatcher();
    html! {
        <form id="field-form" class="card" {onsubmit} novalidate=true>
            { editor_head(&i18n, locked, "crm-field-new", "crm-field-edit", &p.select) }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { other_errors(&errors, &["label", "key", "kind", "options"]) }
            <TextField id="field-label" label={i18n.t("crm-field-label")} value={f.label.clone()}
                oninput={bind(&form, |t, v| t.label = v)} error={errors.get("label").cloned()} required=true />
            <TextField id="field-key" label={i18n.t("crm-field-key")} value={f.key.clone()}
                oninput={bind(&form, |t, v| t.key = v)} error={errors.get("key").cloned()} disabled={locked}
                hint={Some(i18n.t(if locked { "crm-field-locked" } else { "crm-field-key-hint" }))} />
            if locked {
                <TextField id="field-kind" label={i18n.t("crm-field-kind")} value={kind_text(&i18n, &f.kind)}
                    oninput={Callback::from(|_| ())} disabled=true />
            } else {
                <SelectField id="field-kind" label={i18n.t("crm-field-kind")} value={f.kind.clone()} options={kinds}
                    onchange={bind(&form, |t, v| t.kind = v)} error={errors.get("kind").cloned()} />
            }
            if choice {
                <TextField id="field-choices" label={i18n.t("crm-field-choices")} value={f.choices.clone()}
                    oninput={bind(&form, |t, v| t.choices = v)} error={errors.get("options").cloned()}
                    hint={Some(i18n.t("crm-choices-hint"))} required=true />
            }
            <Checkbox id="field-required" label={i18n.t("crm-field-required")} checked={f.required}
                onchange={Callback::from(move |v: bool| d.dispatch(Box::new(move |t: &mut FieldForm| t.required = v)))} />
            <button type="submit" id="field-save" class="primary">{ i18n.t("action-save") }</button>
        </form>
    }
}
