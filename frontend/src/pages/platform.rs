//! The platform operators' console: every tenant with status and seats; create, suspend,
//! resume. Never shows tenant content.

use std::rc::Rc;

use hotline_wire::api::{OperatorInfo, PlatformLoginRequest, PlatformTenant, SignupRequest};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::app::{use_app, Route, Session};
use crate::components::*;
use crate::i18n::use_i18n;

#[function_component]
pub fn PlatformLoginPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let navigator = use_navigator().expect("router");
    let form = use_reducer(|| Form((String::new(), String::new())));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (form, errors, failure, busy, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let (email, password) = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "email", &email);
            c.email(&i18n, "email", &email);
            c.required(&i18n, "password", &password);
            errors.set(c.errors.clone());
            failure.set(None);
            if !c.ok() {
                return;
            }
            busy.set(true);
            let (errors, failure, busy, app, navigator) = (
                errors.clone(),
                failure.clone(),
                busy.clone(),
                app.clone(),
                navigator.clone(),
            );
            spawn(async move {
                let req = PlatformLoginRequest {
                    email: email.trim().into(),
                    password,
                };
                match api::post::<_, OperatorInfo>("/platform/login", &req).await {
                    Ok(o) => {
                        app.set_flash.emit(None);
                        app.set_session.emit(Session::Operator(Rc::new(o)));
                        navigator.replace(&Route::Platform);
                    }
                    Err(e) => {
                        busy.set(false);
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <section class="card auth-card" aria-labelledby="op-title">
            <h1 id="op-title">{ i18n.t("platform-login-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <form id="platform-login-form" {onsubmit} novalidate=true>
                <TextField id="email" kind="email" label={i18n.t("login-email")} value={form.0 .0.clone()}
                    oninput={bind(&form, |f, v| f.0 = v)} error={errors.get("email").cloned()} required=true autocomplete="username" />
                <TextField id="password" kind="password" label={i18n.t("login-password")} value={form.0 .1.clone()}
                    oninput={bind(&form, |f, v| f.1 = v)} error={errors.get("password").cloned()} required=true autocomplete="current-password" />
                <button type="submit" class="primary wide" disabled={*busy}>{ i18n.t("login-submit") }</button>
            </form>
            <p class="muted small"><Link<Route> to={Route::Login}>{ i18n.t("platform-tenant-login-link") }</Link<Route>></p>
        </section>
    }
}

#[function_component]
pub fn TenantsPage() -> Html {
    let i18n = use_i18n();
    let (tenants, reload) = use_get::<Vec<PlatformTenant>>("/platform/tenants".into());
    let failure = use_state(|| None::<ApiError>);

    let act = |t: &PlatformTenant| {
        let suspend = t.status == "active";
        let (id, reload, failure) = (t.id, reload.clone(), failure.clone());
        let onclick = Callback::from(move |_| {
            let (reload, failure) = (reload.clone(), failure.clone());
            spawn(async move {
                let path = format!(
                    "/platform/tenants/{id}/{}",
                    if suspend { "suspend" } else { "resume" }
                );
                match api::post::<_, PlatformTenant>(&path, &serde_json::json!({})).await {
                    Ok(_) => {
                        failure.set(None);
                        reload.emit(())
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        });
        let label = if suspend {
            i18n.t("platform-suspend")
        } else {
            i18n.t("platform-resume")
        };
        html! {
            <button type="button" class={if suspend { "danger small" } else { "secondary small" }} {onclick}
                aria-label={format!("{label}: {}", t.name)}>{ label }</button>
        }
    };

    let table = render_load(&tenants, &reload, |ts| {
        if ts.is_empty() {
            return html! { <p class="empty">{ i18n.t("platform-empty") }</p> };
        }
        html! {
            <table class="data" id="tenants-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("platform-tenant") }</th>
                    <th scope="col">{ i18n.t("platform-slug") }</th>
                    <th scope="col">{ i18n.t("user-status") }</th>
                    <th scope="col">{ i18n.t("platform-plan") }</th>
                    <th scope="col" class="num">{ i18n.t("platform-seats") }</th>
                    <th scope="col" class="num">{ i18n.t("platform-active-users") }</th>
                    <th scope="col">{ i18n.t("user-created") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for ts.iter().map(|t| html! {
                    <tr data-slug={t.slug.clone()}>
                        <td>{ &t.name }</td>
                        <td><code>{ &t.slug }</code></td>
                        <td><span class={classes!("badge", (t.status == "active").then_some("ok"))}>
                            { i18n.try_t(&format!("status-{}", t.status)).unwrap_or_else(|| t.status.clone()) }</span></td>
                        <td>{ &t.plan }</td>
                        <td class="num">{ i18n.number(t.seats) }</td>
                        <td class="num">{ i18n.number(t.active_users) }</td>
                        <td>{ i18n.datetime(&t.created_at) }</td>
                        <td class="actions">
                            <Link<Route> to={Route::PlatformSessions { id: t.id.to_string() }} classes="sessions-link">
                                { i18n.t("sessions-link") }</Link<Route>>
                            { " " }{ act(t) }
                        </td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });

    html! {
        <>
            <h1>{ i18n.t("platform-tenants-title") }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="stack">
                { table }
                <NewTenant on_created={reload.clone()} />
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct NewTenantProps {
    on_created: Callback<()>,
}

#[derive(Clone, PartialEq, Default)]
struct TenantForm {
    company: String,
    slug: String,
    name: String,
    email: String,
    password: String,
}

#[function_component]
fn NewTenant(p: &NewTenantProps) -> Html {
    let i18n = use_i18n();
    let form = use_reducer(|| Form(TenantForm::default()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let created = use_state(|| None::<String>);
    let onsubmit = {
        let (form, errors, failure, created, i18n, done) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            created.clone(),
            i18n.clone(),
            p.on_created.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "company_name", &f.company);
            c.required(&i18n, "admin_name", &f.name);
            c.required(&i18n, "admin_email", &f.email);
            c.email(&i18n, "admin_email", &f.email);
            c.required(&i18n, "password", &f.password);
            errors.set(c.errors.clone());
            failure.set(None);
            created.set(None);
            if !c.ok() {
                return;
            }
            let (errors, failure, created, done, form) = (
                errors.clone(),
                failure.clone(),
                created.clone(),
                done.clone(),
                form.clone(),
            );
            spawn(async move {
                let req = SignupRequest {
                    company_name: f.company.trim().into(),
                    slug: Some(f.slug.trim().to_lowercase()).filter(|s| !s.is_empty()),
                    admin_name: f.name.trim().into(),
                    admin_email: f.email.trim().into(),
                    password: f.password,
                };
                match api::post::<_, PlatformTenant>("/platform/tenants", &req).await {
                    Ok(t) => {
                        created.set(Some(t.slug));
                        form.dispatch(Box::new(|f: &mut TenantForm| *f = TenantForm::default()));
                        done.emit(());
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    html! {
        <form id="tenant-form" class="card" {onsubmit} novalidate=true aria-labelledby="new-tenant">
            <h2 id="new-tenant">{ i18n.t("platform-new-tenant") }</h2>
            if let Some(slug) = &*created { <Notice text={i18n.ta("platform-created", &[("slug", slug.clone().into())])} /> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="row">
                <TextField id="t-company" label={i18n.t("signup-company")} value={form.0.company.clone()}
                    oninput={bind(&form, |f, v| f.company = v)} error={errors.get("company_name").cloned()} required=true />
                <TextField id="t-slug" label={i18n.t("signup-slug")} value={form.0.slug.clone()}
                    oninput={bind(&form, |f, v| f.slug = v)} error={errors.get("slug").cloned()} />
            </div>
            <div class="row">
                <TextField id="t-name" label={i18n.t("signup-name")} value={form.0.name.clone()}
                    oninput={bind(&form, |f, v| f.name = v)} error={errors.get("admin_name").cloned()} required=true />
                <TextField id="t-email" kind="email" label={i18n.t("signup-email")} value={form.0.email.clone()}
                    oninput={bind(&form, |f, v| f.email = v)} error={errors.get("admin_email").cloned()} required=true />
                <TextField id="t-password" kind="password" label={i18n.t("signup-password")} value={form.0.password.clone()}
                    oninput={bind(&form, |f, v| f.password = v)} error={errors.get("password").cloned()} required=true
                    autocomplete="new-password" />
            </div>
            <button type="submit" class="primary">{ i18n.t("platform-create") }</button>
        </form>
    }
}
