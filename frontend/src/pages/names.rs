//! Names and translations: the admin gives the tenant's own names — interaction categories,
//! ticket types and their workflow statuses — a name per language (`name_i18n`), shown to
//! each user in their language (`I18n::pick`).

use hotline_wire::crm::{CategoryDto, CategoryInput};
use hotline_wire::names::Translations;
use hotline_wire::permissions as perm;
use hotline_wire::tickets::{TicketTypeDto, TicketTypeInput};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, LANGS};
use crate::route::use_app;

#[derive(Properties, PartialEq)]
struct TranslationsProps {
    /// Prefix of the inputs' ids (`<id>-<lang>`).
    id: AttrValue,
    /// The server's field for these translations (`name_i18n`, `statuses[1].name_i18n`).
    field: AttrValue,
    value: Translations,
    onchange: Callback<Translations>,
    errors: FieldErrors,
}

/// One input per language, collapsed under "Translations" (open when one has an error).
#[function_component]
fn TranslationInputs(p: &TranslationsProps) -> Html {
    let i18n = use_i18n();
    let open = LANGS
        .iter()
        .any(|l| p.errors.contains_key(&format!("{}.{}", p.field, l.code)));
    html! {
        <details class="translations" {open}>
            <summary>{ i18n.t("names-translations") }</summary>
            { for LANGS.iter().map(|l| {
                let oninput = {
                    let (value, onchange, code) = (p.value.clone(), p.onchange.clone(), l.code);
                    Callback::from(move |v: String| {
                        let mut t = value.clone();
                        if v.trim().is_empty() {
                            t.remove(code);
                        } else {
                            t.insert(code.to_string(), v);
                        }
                        onchange.emit(t);
                    })
                };
                html! {
                    <TextField id={format!("{}-{}", p.id, l.code)} label={l.native.to_string()}
                        value={p.value.get(l.code).cloned().unwrap_or_default()} {oninput}
                        error={p.errors.get(&format!("{}.{}", p.field, l.code)).cloned()} />
                }
            }) }
        </details>
    }
}

/// Translations as sent: blank ones dropped, the rest trimmed.
fn cleaned(t: &Translations) -> Translations {
    t.iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| (k.clone(), v.trim().to_string()))
        .collect()
}

#[function_component]
pub fn NamesPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let crm = app.session.can(perm::CRM_ADMIN);
    let tickets = app.session.can(perm::TICKETS_ADMIN);
    let (cats, reload_cats) = use_get::<Vec<CategoryDto>>("/categories".into());
    let (types, reload_types) = use_get::<Vec<TicketTypeDto>>("/ticket-types".into());
    let cat_list = render_load(&cats, &reload_cats, |cs| {
        // Parents before children, each labelled with its path.
        let mut rows: Vec<(String, CategoryDto)> = Vec::new();
        fn walk(
            cs: &[CategoryDto],
            parent: Option<Uuid>,
            prefix: &str,
            out: &mut Vec<(String, CategoryDto)>,
        ) {
            let mut kids: Vec<&CategoryDto> = cs.iter().filter(|c| c.parent_id == parent).collect();
            kids.sort_by(|a, b| (a.position, &a.name).cmp(&(b.position, &b.name)));
            for c in kids {
                let path = if prefix.is_empty() {
                    c.name.clone()
                } else {
                    format!("{prefix} › {}", c.name)
                };
                out.push((path.clone(), c.clone()));
                walk(cs, Some(c.id), &path, out);
            }
        }
        walk(cs, None, "", &mut rows);
        html! {
            <ul class="names" id="names-categories">
                { for rows.into_iter().map(|(path, c)| html! {
                    <li key={c.id.to_string()}><CategoryNames {path} category={c} /></li>
                }) }
            </ul>
        }
    });
    let type_list = render_load(&types, &reload_types, |ts| {
        html! {
            <ul class="names" id="names-ticket-types">
                { for ts.iter().map(|t| html! {
                    <li key={t.id.to_string()}><TypeNames ty={t.clone()} /></li>
                }) }
            </ul>
        }
    });
    html! {
        <>
            <h1>{ i18n.t("names-title") }</h1>
            <p class="muted">{ i18n.t("names-intro") }</p>
            if crm {
                <h2>{ i18n.t("names-categories") }</h2>
                { cat_list }
            }
            if tickets {
                <h2>{ i18n.t("names-ticket-types") }</h2>
                { type_list }
            }
        </>
    }
}

#[derive(Properties, PartialEq)]
struct CategoryNamesProps {
    path: String,
    category: CategoryDto,
}

#[function_component]
fn CategoryNames(p: &CategoryNamesProps) -> Html {
    let i18n = use_i18n();
    let value = use_state(|| p.category.name_i18n.clone());
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let onsubmit = {
        let (c, value, errors, failure, saved) = (
            p.category.clone(),
            value.clone(),
            errors.clone(),
            failure.clone(),
            saved.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = CategoryInput {
                name: c.name.clone(),
                name_i18n: cleaned(&value),
                parent_id: c.parent_id,
                position: c.position,
                active: c.active,
            };
            let (id, errors, failure, saved) =
                (c.id, errors.clone(), failure.clone(), saved.clone());
            saved.set(false);
            failure.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::put::<_, CategoryDto>(&format!("/categories/{id}"), &body).await {
                    Ok(_) => {
                        errors.set(FieldErrors::new());
                        saved.set(true);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let id = format!("cat-{}", p.category.id);
    html! {
        <form class="card names-form" id={id.clone()} data-name={p.path.clone()} {onsubmit} novalidate=true>
            <h3>{ &p.path }</h3>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <TranslationInputs id={format!("{id}-name")} field="name_i18n" value={(*value).clone()}
                onchange={let v = value.clone(); Callback::from(move |t| v.set(t))} errors={(*errors).clone()} />
            <button type="submit" class="secondary">{ i18n.t("action-save") }</button>
            if *saved { <Notice text={i18n.t("names-saved")} /> }
        </form>
    }
}

#[derive(Properties, PartialEq)]
struct TypeNamesProps {
    ty: TicketTypeDto,
}

#[function_component]
fn TypeNames(p: &TypeNamesProps) -> Html {
    let i18n = use_i18n();
    let ty = use_state(|| p.ty.clone());
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let onsubmit = {
        let (ty, errors, failure, saved) =
            (ty.clone(), errors.clone(), failure.clone(), saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let t = (*ty).clone();
            let body = TicketTypeInput {
                name: t.name.clone(),
                name_i18n: cleaned(&t.name_i18n),
                statuses: t
                    .statuses
                    .iter()
                    .map(|s| {
                        let mut s = s.clone();
                        s.name_i18n = cleaned(&s.name_i18n);
                        s
                    })
                    .collect(),
                transitions: t
                    .transitions
                    .iter()
                    .map(|m| {
                        let mut m = m.clone();
                        m.name_i18n = cleaned(&m.name_i18n);
                        m
                    })
                    .collect(),
            };
            let (errors, failure, saved) = (errors.clone(), failure.clone(), saved.clone());
            saved.set(false);
            failure.set(None);
            wasm_bindgen_futures::spawn_local(async move {
                match api::put::<_, TicketTypeDto>(&format!("/ticket-types/{}", t.id), &body).await
                {
                    Ok(_) => {
                        errors.set(FieldErrors::new());
                        saved.set(true);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let id = format!("type-{}", p.ty.id);
    let on_type = {
        let ty = ty.clone();
        Callback::from(move |v: Translations| {
            let mut t = (*ty).clone();
            t.name_i18n = v;
            ty.set(t);
        })
    };
    html! {
        <form class="card names-form" id={id.clone()} data-name={p.ty.name.clone()} {onsubmit} novalidate=true>
            <h3>{ &p.ty.name }</h3>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <TranslationInputs id={format!("{id}-name")} field="name_i18n" value={ty.name_i18n.clone()}
                onchange={on_type} errors={(*errors).clone()} />
            <h4>{ i18n.t("names-statuses") }</h4>
            { for ty.statuses.iter().enumerate().map(|(i, s)| {
                let onchange = {
                    let ty = ty.clone();
                    Callback::from(move |v: Translations| {
                        let mut t = (*ty).clone();
                        t.statuses[i].name_i18n = v;
                        ty.set(t);
                    })
                };
                html! {
                    <div class="names-status" data-status={s.key.clone()}>
                        <p><strong>{ &s.name }</strong></p>
                        <TranslationInputs id={format!("{id}-status-{}", s.key)} field={format!("statuses[{i}].name_i18n")}
                            value={s.name_i18n.clone()} {onchange} errors={(*errors).clone()} />
                    </div>
                }
            }) }
            <h4>{ i18n.t("names-moves") }</h4>
            { for ty.transitions.iter().enumerate().map(|(i, m)| {
                let onchange = {
                    let ty = ty.clone();
                    Callback::from(move |v: Translations| {
                        let mut t = (*ty).clone();
                        t.transitions[i].name_i18n = v;
                        ty.set(t);
                    })
                };
                let from = ty.statuses.iter().find(|s| s.key == m.from).map(|s| s.name.clone()).unwrap_or_else(|| m.from.clone());
                let to = ty.statuses.iter().find(|s| s.key == m.to).map(|s| s.name.clone()).unwrap_or_else(|| m.to.clone());
                html! {
                    <div class="names-move" data-from={m.from.clone()} data-to={m.to.clone()}>
                        <p><strong>{ &m.name }</strong>{ " " }<span class="muted small">{ format!("{from} → {to}") }</span></p>
                        <TranslationInputs id={format!("{id}-move-{}-{}", m.from, m.to)} field={format!("transitions[{i}].name_i18n")}
                            value={m.name_i18n.clone()} {onchange} errors={(*errors).clone()} />
                    </div>
                }
            }) }
            <button type="submit" class="secondary">{ i18n.t("action-save") }</button>
            if *saved { <Notice text={i18n.t("names-saved")} /> }
        </form>
    }
}
