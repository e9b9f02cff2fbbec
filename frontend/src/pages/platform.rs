//! The platform operators' console: every tenant with status and seats; create, suspend,
//! resume; each tenant's outbound call rules (trial, countries, blocked prefixes, calls at
//! once, calls per second). Never shows tenant content.

use std::rc::Rc;

use hotline_wire::api::{
    OperatorInfo, OutboundCalls, PlatformLoginRequest, PlatformTenant, SignupRequest,
};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::use_i18n;
use crate::route::{use_app, Route, Session};

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
    // The tenant whose outbound call rules are open: (id, name).
    let outbound = use_state(|| None::<(uuid::Uuid, String)>);
    let open_outbound = |t: &PlatformTenant| {
        let (outbound, id, name) = (outbound.clone(), t.id, t.name.clone());
        let label = i18n.t("platform-outbound");
        html! {
            <button type="button" class="secondary small" data-action="outbound"
                aria-label={format!("{label}: {}", t.name)}
                onclick={Callback::from(move |_| outbound.set(Some((id, name.clone()))))}>{ label }</button>
        }
    };

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
                            { " " }{ act(t) }{ " " }{ open_outbound(t) }
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
                if let Some((id, name)) = &*outbound {
                    <OutboundPanel key={id.to_string()} tenant={*id} name={name.clone()}
                        on_close={{ let o = outbound.clone(); Callback::from(move |_| o.set(None)) }} />
                }
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

#[derive(Properties, PartialEq)]
struct OutboundPanelProps {
    tenant: uuid::Uuid,
    name: String,
    on_close: Callback<()>,
}

/// The outbound rules form as text: lists comma-separated, limits empty for the platform
/// default.
#[derive(Clone, PartialEq, Default)]
struct OutboundForm {
    trial: bool,
    countries: String,
    blocked: String,
    max_calls: String,
    max_cps: String,
}

impl OutboundForm {
    fn of(o: &OutboundCalls) -> Self {
        OutboundForm {
            trial: o.trial,
            countries: o
                .countries
                .as_ref()
                .map(|c| c.join(", "))
                .unwrap_or_default(),
            blocked: o.blocked_prefixes.join(", "),
            max_calls: o.max_calls.map(|m| m.to_string()).unwrap_or_default(),
            max_cps: o.max_cps.map(|m| m.to_string()).unwrap_or_default(),
        }
    }
}

fn list(s: &str) -> Vec<String> {
    s.split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

/// One tenant's outbound call rules (`/platform/tenants/{id}/outbound-calls`): the operator
/// lifts or imposes the trial, allows countries, blocks prefixes, sets the calls at once and
/// per second (enforced by the backend and by every media gateway).
#[function_component]
fn OutboundPanel(p: &OutboundPanelProps) -> Html {
    let i18n = use_i18n();
    let path = format!("/platform/tenants/{}/outbound-calls", p.tenant);
    let (loaded, _) = use_get::<OutboundCalls>(path.clone());
    let form = use_reducer(|| Form(OutboundForm::default()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    {
        let form = form.clone();
        let current = match &loaded {
            Load::Ready(o) => Some(OutboundForm::of(o)),
            _ => None,
        };
        use_effect_with(current, move |c| {
            if let Some(c) = c.clone() {
                form.dispatch(Box::new(move |f: &mut OutboundForm| *f = c));
            }
        });
    }
    let onsubmit = {
        let (form, errors, failure, saved, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            saved.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            let number = |c: &mut Checks, field: &str, v: &str| -> Option<i32> {
                let v = v.trim();
                if v.is_empty() {
                    return None;
                }
                let n = v.parse::<i32>().ok();
                if n.is_none() {
                    c.fail(field, i18n.t("platform-outbound-whole-number"));
                }
                n
            };
            let max_calls = number(&mut c, "max_calls", &f.max_calls);
            let max_cps = number(&mut c, "max_cps", &f.max_cps);
            errors.set(c.errors.clone());
            failure.set(None);
            saved.set(false);
            if !c.ok() {
                return;
            }
            let req = OutboundCalls {
                trial: f.trial,
                countries: Some(list(&f.countries)).filter(|l| !l.is_empty()),
                blocked_prefixes: list(&f.blocked),
                max_calls,
                max_cps,
            };
            let (errors, failure, saved, path, form) = (
                errors.clone(),
                failure.clone(),
                saved.clone(),
                path.clone(),
                form.clone(),
            );
            spawn(async move {
                match api::put::<_, OutboundCalls>(&path, &req).await {
                    Ok(o) => {
                        let now = OutboundForm::of(&o);
                        form.dispatch(Box::new(move |f: &mut OutboundForm| *f = now));
                        saved.set(true);
                    }
                    Err(e) => {
                        // `countries.3` → the countries field.
                        let mut by_field = FieldErrors::new();
                        for (k, v) in e.field_errors() {
                            let k = k.split('.').next().unwrap_or("").to_string();
                            by_field.entry(k).or_insert(v);
                        }
                        errors.set(by_field);
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let title = i18n.ta(
        "platform-outbound-title",
        &[("tenant", p.name.clone().into())],
    );
    let body = match &loaded {
        Load::Ready(_) => html! {
            <form id="outbound-form" {onsubmit} novalidate=true>
                if *saved { <Notice text={i18n.t("platform-outbound-saved")} /> }
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                <Checkbox id="oc-trial" label={i18n.t("platform-outbound-trial")} checked={form.0.trial}
                    onchange={{ let d = form.dispatcher(); Callback::from(move |v: bool| d.dispatch(Box::new(move |f: &mut OutboundForm| f.trial = v))) }} />
                <p class="hint">{ i18n.t("platform-outbound-trial-hint") }</p>
                <div class="row">
                    <TextField id="oc-countries" label={i18n.t("platform-outbound-countries")} value={form.0.countries.clone()}
                        oninput={bind(&form, |f, v| f.countries = v)} error={errors.get("countries").cloned()}
                        hint={Some(i18n.t("platform-outbound-countries-hint"))} />
                    <TextField id="oc-blocked" label={i18n.t("platform-outbound-blocked")} value={form.0.blocked.clone()}
                        oninput={bind(&form, |f, v| f.blocked = v)} error={errors.get("blocked_prefixes").cloned()}
                        hint={Some(i18n.t("platform-outbound-blocked-hint"))} />
                </div>
                <div class="row">
                    <TextField id="oc-max-calls" kind="number" label={i18n.t("platform-outbound-max-calls")} value={form.0.max_calls.clone()}
                        oninput={bind(&form, |f, v| f.max_calls = v)} error={errors.get("max_calls").cloned()}
                        hint={Some(i18n.t("platform-outbound-max-calls-hint"))} />
                    <TextField id="oc-max-cps" kind="number" label={i18n.t("platform-outbound-max-cps")} value={form.0.max_cps.clone()}
                        oninput={bind(&form, |f, v| f.max_cps = v)} error={errors.get("max_cps").cloned()}
                        hint={Some(i18n.t("platform-outbound-max-cps-hint"))} />
                </div>
                <div class="actions">
                    <button type="submit" class="primary">{ i18n.t("platform-outbound-save") }</button>
                    <button type="button" class="secondary" onclick={{ let c = p.on_close.clone(); Callback::from(move |_| c.emit(())) }}>
                        { i18n.t("platform-outbound-close") }</button>
                </div>
            </form>
        },
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} /> },
        _ => html! { <Loading /> },
    };
    html! {
        <section class="card" id="outbound-panel" aria-labelledby="outbound-title">
            <h2 id="outbound-title">{ title }</h2>
            { body }
        </section>
    }
}
