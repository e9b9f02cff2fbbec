//! The customer list (`/customers`): search (name, phone in any notation, e-mail and the
//! template's fields, as the API's `q` searches them), the user's saved searches (kept on the
//! server, `/saved-filters?screen=customers`), paging, merging two customers (`crm.admin`:
//! pick two, choose which to keep) and the CSV/XLSX export.

use std::collections::BTreeMap;

use hotline_wire::api::{Page, SavedFilterDto, SavedFilterInput};
use hotline_wire::crm::{CustomerDto, CustomerFieldDto, MergeCustomers};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::use_app;

const PER_PAGE: i64 = 25;
/// Template fields shown as columns (the first active ones, in template order).
const FIELD_COLUMNS: usize = 4;

/// A template field's value as a person reads it (dates localized, lists joined).
fn field_text(i18n: &I18n, kind: &str, v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => String::new(),
        serde_json::Value::Bool(b) => i18n.t(if *b { "customers-yes" } else { "customers-no" }),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(s) if kind == "date" => {
            let d = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(s));
            if d.get_time().is_nan() {
                s.clone()
            } else {
                let opts = js_sys::Object::new();
                let _ = js_sys::Reflect::set(&opts, &"timeZone".into(), &"UTC".into());
                d.to_locale_date_string(i18n.locale(), &opts).into()
            }
        }
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .unwrap_or_else(|| x.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[function_component]
pub fn CustomersPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let may_merge = app.session.can(perm::CRM_ADMIN);
    let typed = use_state(String::new);
    let applied = use_state(String::new);
    let page = use_state(|| 1i64);
    let selected = use_state(Vec::<Uuid>::new);
    let keep = use_state(|| None::<Uuid>);
    let filter_name = use_state(String::new);
    let notice = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    let (fields, _) = use_get::<Vec<CustomerFieldDto>>("/customer-fields".into());
    let (saved, reload_saved) =
        use_get::<Vec<SavedFilterDto>>("/saved-filters?screen=customers".into());
    let mut path = format!("/customers?page={}&per_page={PER_PAGE}", *page);
    if !applied.trim().is_empty() {
        path += &format!("&q={}", api::enc(applied.trim()));
    }
    let (list, reload) = use_get::<Page<CustomerDto>>(path);

    let search = {
        let (typed, applied, page, selected) = (
            typed.clone(),
            applied.clone(),
            page.clone(),
            selected.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            applied.set((*typed).clone());
            page.set(1);
            selected.set(vec![]);
        })
    };
    let apply = {
        let (typed, applied, page, selected) = (
            typed.clone(),
            applied.clone(),
            page.clone(),
            selected.clone(),
        );
        Callback::from(move |q: String| {
            typed.set(q.clone());
            applied.set(q);
            page.set(1);
            selected.set(vec![]);
        })
    };
    let save_filter = {
        let (filter_name, applied, notice, failure, reload_saved, i18n) = (
            filter_name.clone(),
            applied.clone(),
            notice.clone(),
            failure.clone(),
            reload_saved.clone(),
            i18n.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let name = filter_name.trim().to_string();
            let body = SavedFilterInput {
                screen: "customers".into(),
                name: name.clone(),
                query: BTreeMap::from([("q".to_string(), (*applied).clone())]),
            };
            let (filter_name, notice, failure, reload_saved, i18n) = (
                filter_name.clone(),
                notice.clone(),
                failure.clone(),
                reload_saved.clone(),
                i18n.clone(),
            );
            failure.set(None);
            spawn(async move {
                match api::post::<_, SavedFilterDto>("/saved-filters", &body).await {
                    Ok(f) => {
                        filter_name.set(String::new());
                        notice.set(Some(
                            i18n.ta("customers-filter-saved", &[("name", f.name.into())]),
                        ));
                        reload_saved.emit(());
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let delete_filter = {
        let (failure, reload_saved) = (failure.clone(), reload_saved.clone());
        Callback::from(move |id: Uuid| {
            let (failure, reload_saved) = (failure.clone(), reload_saved.clone());
            spawn(async move {
                match api::delete(&format!("/saved-filters/{id}")).await {
                    Ok(()) => reload_saved.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let toggle = {
        let (selected, keep) = (selected.clone(), keep.clone());
        Callback::from(move |id: Uuid| {
            let mut s = (*selected).clone();
            if let Some(i) = s.iter().position(|x| *x == id) {
                s.remove(i);
            } else {
                s.push(id);
            }
            keep.set(s.first().copied());
            selected.set(s);
        })
    };

    let active: Vec<CustomerFieldDto> = match &fields {
        Load::Ready(f) => {
            let mut f: Vec<_> = f.iter().filter(|x| x.active).cloned().collect();
            f.sort_by_key(|x| x.position);
            f.truncate(FIELD_COLUMNS);
            f
        }
        _ => vec![],
    };

    // The merge box, once exactly two customers are picked.
    let merge_box = match (&list, selected.len()) {
        (Load::Ready(p), 2) if may_merge => {
            let name_of = |id: Uuid| {
                p.items
                    .iter()
                    .find(|c| c.id == id)
                    .map(|c| c.name.clone())
                    .unwrap_or_default()
            };
            let (a, b) = (selected[0], selected[1]);
            let keep_id = keep.unwrap_or(a);
            let dup = if keep_id == a { b } else { a };
            let onmerge = {
                let (notice, failure, reload, selected, i18n) = (
                    notice.clone(),
                    failure.clone(),
                    reload.clone(),
                    selected.clone(),
                    i18n.clone(),
                );
                let (kept, gone) = (name_of(keep_id), name_of(dup));
                Callback::from(move |_: MouseEvent| {
                    let (notice, failure, reload, selected, i18n) = (
                        notice.clone(),
                        failure.clone(),
                        reload.clone(),
                        selected.clone(),
                        i18n.clone(),
                    );
                    let (kept, gone) = (kept.clone(), gone.clone());
                    failure.set(None);
                    spawn(async move {
                        let body = MergeCustomers { duplicate_id: dup };
                        match api::post::<_, CustomerDto>(
                            &format!("/customers/{keep_id}/merge"),
                            &body,
                        )
                        .await
                        {
                            Ok(_) => {
                                notice.set(Some(i18n.ta(
                                    "customers-merged",
                                    &[("kept", kept.into()), ("merged", gone.into())],
                                )));
                                selected.set(vec![]);
                                reload.emit(());
                            }
                            Err(e) => failure.set(Some(e)),
                        }
                    });
                })
            };
            let radio = |id: Uuid| {
                let keep = keep.clone();
                html! {
                    <label class="inline">
                        <input type="radio" name="customers-keep" class="customers-keep" value={id.to_string()}
                            checked={keep_id == id} onchange={move |_| keep.set(Some(id))} />
                        { " " }{ name_of(id) }
                    </label>
                }
            };
            html! {
                <div class="card" id="customers-merge-box" role="group" aria-labelledby="customers-merge-title">
                    <h2 id="customers-merge-title">{ i18n.t("customers-merge-title") }</h2>
                    <p class="hint">{ i18n.t("customers-merge-hint") }</p>
                    { radio(a) }{ " " }{ radio(b) }
                    <p><button type="button" class="primary" id="customers-merge" onclick={onmerge}>
                        { i18n.ta("customers-merge-into", &[("kept", name_of(keep_id).into()), ("merged", name_of(dup).into())]) }
                    </button></p>
                </div>
            }
        }
        _ => html! {},
    };

    let table = render_load(&list, &reload, |p| {
        if p.items.is_empty() {
            return html! { <p class="empty" id="customers-empty">{ i18n.t("customers-empty") }</p> };
        }
        html! {
            <>
            <table class="data" id="customers-table">
                <thead><tr>
                    if may_merge { <th scope="col"><span class="sr-only">{ i18n.t("customers-pick") }</span></th> }
                    <th scope="col">{ i18n.t("customers-name") }</th>
                    <th scope="col">{ i18n.t("customers-phones") }</th>
                    { for active.iter().map(|f| html! { <th scope="col">{ &f.label }</th> }) }
                    <th scope="col">{ i18n.t("customers-updated") }</th>
                </tr></thead>
                <tbody>{ for p.items.iter().map(|c| {
                    let id = c.id;
                    let on_pick = { let t = toggle.clone(); Callback::from(move |_: Event| t.emit(id)) };
                    html! {
                        <tr class="customer-row" data-name={c.name.clone()}>
                            if may_merge {
                                <td><input type="checkbox" class="customer-pick" checked={selected.contains(&id)}
                                    onchange={on_pick}
                                    aria-label={i18n.ta("customers-pick-one", &[("name", c.name.clone().into())])} /></td>
                            }
                            <td class="customer-name">{ &c.name }</td>
                            <td class="customer-phones">{ c.phones.iter().map(|p| if p.label.is_empty() { p.number.clone() } else { format!("{} ({})", p.number, p.label) }).collect::<Vec<_>>().join(", ") }</td>
                            { for active.iter().map(|f| html! {
                                <td>{ c.fields.get(&f.key).map(|v| field_text(&i18n, &f.kind, v)).unwrap_or_default() }</td>
                            }) }
                            <td>{ i18n.datetime(&c.updated_at) }</td>
                        </tr>
                    }
                }) }</tbody>
            </table>
            <Pager page={p.page} per_page={p.per_page} total={p.total}
                on_page={let (page, selected) = (page.clone(), selected.clone()); Callback::from(move |n| { selected.set(vec![]); page.set(n) })} />
            </>
        }
    });

    let saved_list = match &saved {
        Load::Ready(fs) if !fs.is_empty() => html! {
            <ul class="saved-filters" id="customers-saved" aria-label={i18n.t("customers-saved")}>
                { for fs.iter().map(|f| {
                    let q = f.query.get("q").cloned().unwrap_or_default();
                    let on_apply = { let a = apply.clone(); Callback::from(move |_: MouseEvent| a.emit(q.clone())) };
                    let on_delete = { let d = delete_filter.clone(); let id = f.id; Callback::from(move |_: MouseEvent| d.emit(id)) };
                    html! {
                        <li class="saved-filter" data-name={f.name.clone()}>
                            <button type="button" class="secondary saved-filter-apply" onclick={on_apply}>{ &f.name }</button>
                            <button type="button" class="link saved-filter-delete" onclick={on_delete}
                                aria-label={i18n.ta("customers-filter-delete", &[("name", f.name.clone().into())])}>{ "×" }</button>
                        </li>
                    }
                }) }
            </ul>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} retry={reload_saved.clone()} /> },
        _ => html! {},
    };

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("customers-title") }</h1>
                <span>
                    <a class="button secondary" id="customers-export" href="/api/v1/customers/export?format=csv" download="customers.csv">{ i18n.t("customers-export-csv") }</a>
                    { " " }
                    <a class="button secondary" id="customers-export-xlsx" href="/api/v1/customers/export?format=xlsx" download="customers.xlsx">{ i18n.t("customers-export-xlsx") }</a>
                </span>
            </div>
            <form id="customers-filters" class="filters card" onsubmit={search}>
                <TextField id="customers-q" label={i18n.t("customers-search")} value={(*typed).clone()}
                    hint={i18n.t("customers-search-hint")}
                    oninput={let t = typed.clone(); Callback::from(move |v| t.set(v))} />
                <div class="filter-actions">
                    <button type="submit" class="primary" id="customers-search">{ i18n.t("customers-search-go") }</button>
                    <button type="button" class="secondary" id="customers-clear"
                        onclick={let a = apply.clone(); move |_| a.emit(String::new())}>{ i18n.t("action-clear") }</button>
                </div>
                <TextField id="customers-filter-name" label={i18n.t("customers-filter-name")} value={(*filter_name).clone()}
                    oninput={let f = filter_name.clone(); Callback::from(move |v| f.set(v))} />
                <div class="filter-actions">
                    <button type="button" class="secondary" id="customers-filter-save" onclick={save_filter}
                        disabled={filter_name.trim().is_empty()}>{ i18n.t("customers-filter-save") }</button>
                </div>
            </form>
            { saved_list }
            if let Some(n) = &*notice { <p class="alert ok" role="status" id="customers-notice">{ n }</p> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { merge_box }
            { table }
        </>
    }
}
