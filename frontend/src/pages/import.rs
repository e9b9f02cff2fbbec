//! Customer import (`crm.write`): pick a CSV or XLSX file, see its columns and first rows,
//! map columns to the name, a phone and the template's fields (guessed from the headers), then
//! import in the background with a progress bar; bad rows are listed with their line and
//! reason while the good ones are kept. Export links sit alongside.

use std::collections::BTreeMap;

use hotline_wire::crm::{CustomerFieldDto, ImportPreview};
use hotline_wire::crm_import::ImportJobDto;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;

/// How often a running import is asked for its progress.
const POLL_MS: u32 = 1_000;

/// The column whose header matches `want` (case and spacing ignored), if any.
fn guess(columns: &[String], want: &[&str]) -> String {
    let norm = |s: &str| {
        s.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect::<String>()
    };
    columns
        .iter()
        .find(|c| want.iter().any(|w| norm(c) == norm(w)))
        .cloned()
        .unwrap_or_default()
}

/// Adds a guessed column for every template field not mapped yet.
fn guess_fields(m: &mut BTreeMap<String, String>, columns: &[String], fields: &[CustomerFieldDto]) {
    for fd in fields {
        m.entry(format!("field.{}", fd.key))
            .or_insert_with(|| guess(columns, &[fd.key.as_str(), fd.label.as_str()]));
    }
}

#[function_component]
pub fn CustomerImportPage() -> Html {
    let i18n = use_i18n();
    let (fields, _) = use_get::<Vec<CustomerFieldDto>>("/customer-fields".into());
    let file = use_state(|| None::<web_sys::File>);
    let preview = use_state(|| None::<ImportPreview>);
    // Mapping: "name", "phone", "field.<key>" → column header ("" = not imported).
    let mapping = use_state(BTreeMap::<String, String>::new);
    let job = use_state(|| None::<ImportJobDto>);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let input = use_node_ref();

    let active: Vec<CustomerFieldDto> = match &fields {
        Load::Ready(f) => f.iter().filter(|f| f.active).cloned().collect(),
        _ => vec![],
    };

    // The template may arrive after the file was chosen: guess its fields then too (without
    // undoing a choice the user already made).
    {
        let (mapping, preview, active) = (mapping.clone(), preview.clone(), active.clone());
        let keys: Vec<String> = active.iter().map(|f| f.key.clone()).collect();
        use_effect_with(
            (keys, preview.as_ref().map(|p| p.columns.clone())),
            move |(_, cols)| {
                if let Some(cols) = cols {
                    let mut m = (*mapping).clone();
                    let before = m.len();
                    guess_fields(&mut m, cols, &active);
                    if m.len() != before {
                        mapping.set(m);
                    }
                }
            },
        );
    }

    let on_file = {
        let (input, file, preview, mapping, job, failure, busy, active) = (
            input.clone(),
            file.clone(),
            preview.clone(),
            mapping.clone(),
            job.clone(),
            failure.clone(),
            busy.clone(),
            active.clone(),
        );
        Callback::from(move |_: Event| {
            let Some(f) = input
                .cast::<web_sys::HtmlInputElement>()
                .and_then(|el| el.files())
                .and_then(|l| l.get(0))
            else {
                return;
            };
            let (file, preview, mapping, job, failure, busy, active) = (
                file.clone(),
                preview.clone(),
                mapping.clone(),
                job.clone(),
                failure.clone(),
                busy.clone(),
                active.clone(),
            );
            busy.set(true);
            failure.set(None);
            job.set(None);
            preview.set(None);
            spawn(async move {
                let r =
                    api::upload_body::<ImportPreview>("/customers/import/preview", &f, "text/csv")
                        .await;
                busy.set(false);
                match r {
                    Ok(p) => {
                        let mut m = BTreeMap::new();
                        m.insert(
                            "name".into(),
                            guess(&p.columns, &["name", "full name", "customer"]),
                        );
                        m.insert(
                            "phone".into(),
                            guess(&p.columns, &["phone", "phone number", "tel", "mobile"]),
                        );
                        guess_fields(&mut m, &p.columns, &active);
                        mapping.set(m);
                        preview.set(Some(p));
                        file.set(Some(f));
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };

    // While a job runs, ask for its progress every second.
    {
        let job = job.clone();
        let running = job.as_ref().filter(|j| j.status == "running").map(|j| j.id);
        use_effect_with(running, move |running| {
            let timer = running.map(|id| {
                gloo_timers::callback::Interval::new(POLL_MS, move || {
                    let job = job.clone();
                    spawn(async move {
                        if let Ok(j) =
                            api::get::<ImportJobDto>(&format!("/customers/import/jobs/{id}")).await
                        {
                            job.set(Some(j));
                        }
                    });
                })
            });
            move || drop(timer)
        });
    }

    let start = {
        let (file, mapping, job, failure, busy) = (
            file.clone(),
            mapping.clone(),
            job.clone(),
            failure.clone(),
            busy.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(f) = (*file).clone() else { return };
            let mut q = String::from("/customers/import?mode=job");
            for (k, col) in mapping.iter().filter(|(_, c)| !c.is_empty()) {
                q += &format!("&{}={}", api::enc(k), api::enc(col));
            }
            let (job, failure, busy) = (job.clone(), failure.clone(), busy.clone());
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r = api::upload_body::<ImportJobDto>(&q, &f, "text/csv").await;
                busy.set(false);
                match r {
                    Ok(j) => job.set(Some(j)),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };

    let column_options = |cols: &[String]| {
        let mut o = vec![(String::new(), i18n.t("import-skip-column"))];
        o.extend(cols.iter().map(|c| (c.clone(), c.clone())));
        o
    };
    let select_for = |key: String, id: String, label: String, cols: &[String]| {
        let value = mapping.get(&key).cloned().unwrap_or_default();
        let mapping = mapping.clone();
        let onchange = Callback::from(move |v: String| {
            let mut m = (*mapping).clone();
            m.insert(key.clone(), v);
            mapping.set(m);
        });
        html! { <SelectField {id} {label} {value} options={column_options(cols)} {onchange} /> }
    };

    let mapping_form = preview.as_ref().map(|p| {
        html! {
            <form class="card" id="import-mapping" onsubmit={start.clone()}>
                <h2>{ i18n.t("import-mapping") }</h2>
                <p class="muted" id="import-rows">{ i18n.ta("import-rows", &[("rows", p.rows.into())]) }</p>
                { select_for("name".into(), "import-map-name".into(), i18n.t("import-name-column"), &p.columns) }
                { select_for("phone".into(), "import-map-phone".into(), i18n.t("import-phone-column"), &p.columns) }
                { for active.iter().map(|f| select_for(
                    format!("field.{}", f.key),
                    format!("import-map-field-{}", f.key),
                    f.label.clone(),
                    &p.columns,
                )) }
                <table class="data" id="import-sample">
                    <caption>{ i18n.t("import-sample") }</caption>
                    <thead><tr>{ for p.columns.iter().map(|c| html! { <th scope="col">{ c }</th> }) }</tr></thead>
                    <tbody>
                        { for p.sample.iter().map(|r| html! {
                            <tr>{ for r.iter().map(|c| html! { <td>{ c }</td> }) }</tr>
                        }) }
                    </tbody>
                </table>
                <div class="button-row">
                    <button type="submit" class="primary" id="import-start"
                        disabled={*busy || job.as_ref().is_some_and(|j| j.status == "running")}>
                        { i18n.t("import-start") }
                    </button>
                </div>
            </form>
        }
    });

    let progress = job.as_ref().map(|j| {
        let state_key = format!("import-status-{}", j.status);
        html! {
            <section class="card" id="import-job" data-status={j.status.clone()} aria-live="polite">
                <h2>{ i18n.t(&state_key) }</h2>
                <progress id="import-progress" max={j.total.max(1).to_string()} value={j.processed.to_string()} />
                <p id="import-counts">{ i18n.ta("import-counts", &[
                    ("processed", j.processed.into()),
                    ("total", j.total.into()),
                    ("imported", j.imported.into()),
                    ("failed", j.failed_count.into()),
                ]) }</p>
                if let Some(e) = &j.error { <div class="alert error" role="alert">{ e }</div> }
                if !j.failed.is_empty() {
                    <table class="data" id="import-failed">
                        <caption>{ i18n.t("import-failed-rows") }</caption>
                        <thead><tr>
                            <th scope="col" class="num">{ i18n.t("import-line") }</th>
                            <th scope="col">{ i18n.t("import-reason") }</th>
                        </tr></thead>
                        <tbody>
                            { for j.failed.iter().map(|r| html! {
                                <tr data-line={r.line.to_string()}>
                                    <td class="num">{ r.line }</td>
                                    <td>{ r.errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; ") }</td>
                                </tr>
                            }) }
                        </tbody>
                    </table>
                }
            </section>
        }
    });

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("import-title") }</h1>
                <div class="button-row">
                    <a class="button secondary" id="export-csv" href="/api/v1/customers/export?format=csv">{ i18n.t("import-export-csv") }</a>
                    <a class="button secondary" id="export-xlsx" href="/api/v1/customers/export?format=xlsx">{ i18n.t("import-export-xlsx") }</a>
                </div>
            </div>
            <section class="card">
                <div class="field">
                    <label for="import-file">{ i18n.t("import-file") }</label>
                    <input type="file" id="import-file" ref={input} accept=".csv,.xlsx,text/csv"
                        onchange={on_file} disabled={*busy} />
                    <p class="hint">{ i18n.t("import-file-hint") }</p>
                </div>
                if *busy { <Loading /> }
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            </section>
            { for mapping_form }
            { for progress }
        </>
    }
}
