//! Sign-up, login (password and SSO), the user's own account, and SSO settings.

use std::rc::Rc;

use hotline_wire::api::{
    password_policy as policy, ChangePasswordRequest, LoginRequest, PasswordStrength,
    PasswordStrengthRequest, SessionInfo, SignupRequest, SignupResponse, SsoConfig,
    TenantLoginOptions,
};
use yew::prelude::*;
use yew_router::prelude::*;

use super::query_param;
use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::{home_for, use_app, Flash, Route, Session};

const LAST_TENANT_KEY: &str = "hotline.tenant";

fn remembered_tenant() -> Option<String> {
    web_sys::window()?
        .local_storage()
        .ok()??
        .get_item(LAST_TENANT_KEY)
        .ok()?
}

fn remember_tenant(slug: &str) {
    if let Some(s) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = s.set_item(LAST_TENANT_KEY, slug);
    }
}

#[derive(Clone, PartialEq, Default)]
struct LoginForm {
    tenant: String,
    email: String,
    password: String,
}

#[function_component]
pub fn LoginPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let navigator = use_navigator().expect("router");
    let form = use_reducer(|| {
        Form(LoginForm {
            tenant: query_param("tenant")
                .or_else(remembered_tenant)
                .unwrap_or_default(),
            ..Default::default()
        })
    });
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let options = use_state(|| None::<TenantLoginOptions>);
    let sso_error = use_memo((), |_| query_param("error"));

    // Look up the tenant's login options (SSO) shortly after the company ID stops changing.
    {
        let options = options.clone();
        let slug = form.0.tenant.trim().to_lowercase();
        use_effect_with(slug, move |slug| {
            let slug = slug.clone();
            let timer = (!slug.is_empty()).then(|| {
                gloo_timers::callback::Timeout::new(350, move || {
                    wasm_bindgen_futures::spawn_local(async move {
                        let path = format!("/auth/options?tenant={}", api::enc(&slug));
                        options.set(api::get::<TenantLoginOptions>(&path).await.ok());
                    });
                })
            });
            move || drop(timer)
        });
    }

    let onsubmit = {
        let form = form.clone();
        let errors = errors.clone();
        let failure = failure.clone();
        let busy = busy.clone();
        let i18n = i18n.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "tenant", &f.tenant);
            c.required(&i18n, "email", &f.email);
            c.email(&i18n, "email", &f.email);
            c.required(&i18n, "password", &f.password);
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
                let req = LoginRequest {
                    tenant: f.tenant.trim().to_lowercase(),
                    email: f.email.trim().to_string(),
                    password: f.password.clone(),
                };
                match api::post::<_, SessionInfo>("/auth/login", &req).await {
                    Ok(s) => {
                        remember_tenant(&req.tenant);
                        let session = Session::User(Rc::new(s));
                        let home = home_for(&session);
                        app.set_flash.emit(None);
                        app.set_session.emit(session);
                        navigator.replace(&home);
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

    let sso = options.as_ref().filter(|o| o.sso_enabled).and_then(|o| {
        o.sso_start_url.clone().map(|url| {
            html! {
                <div class="sso">
                    <p class="or"><span>{ i18n.t("login-or") }</span></p>
                    <a id="sso-login" class="button secondary wide" href={url}>
                        { i18n.ta("login-sso", &[("company", o.display_name.clone().into())]) }
                    </a>
                </div>
            }
        })
    });

    html! {
        <section class="card auth-card" aria-labelledby="login-title">
            <h1 id="login-title">{ i18n.t("login-title") }</h1>
            if let Some(code) = (*sso_error).clone() {
                <div class="alert error" role="alert">{
                    i18n.try_t(&format!("sso-error-{}", code.replace('_', "-")))
                        .unwrap_or_else(|| i18n.ta("sso-error-generic", &[("code", code.clone().into())]))
                }</div>
            }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <form id="login-form" onsubmit={onsubmit} novalidate=true>
                <TextField id="tenant" label={i18n.t("login-tenant")} value={form.0.tenant.clone()}
                    oninput={bind(&form, |f, v| f.tenant = v)} error={errors.get("tenant").cloned()}
                    required=true autocomplete="organization" hint={i18n.t("login-tenant-hint")} />
                <TextField id="email" kind="email" label={i18n.t("login-email")} value={form.0.email.clone()}
                    oninput={bind(&form, |f, v| f.email = v)} error={errors.get("email").cloned()}
                    required=true autocomplete="username" />
                <TextField id="password" kind="password" label={i18n.t("login-password")} value={form.0.password.clone()}
                    oninput={bind(&form, |f, v| f.password = v)} error={errors.get("password").cloned()}
                    required=true autocomplete="current-password" />
                <button type="submit" id="login-submit" class="primary wide" disabled={*busy}>
                    { if *busy { i18n.t("login-submitting") } else { i18n.t("login-submit") } }
                </button>
            </form>
            { for sso }
            <p class="muted">{ i18n.t("login-no-account") }{" "}
                <Link<Route> to={Route::Signup}>{ i18n.t("login-signup-link") }</Link<Route>></p>
            <p class="muted small"><Link<Route> to={Route::PlatformLogin}>{ i18n.t("login-operator-link") }</Link<Route>></p>
        </section>
    }
}

/// The server's refusal of a password (a field message of the password policy) in the
/// user's language; other messages are shown as the server wrote them.
pub fn password_message(i18n: &I18n, message: &str) -> String {
    match policy::code_of(message) {
        Some(code) => i18n.t(&format!("password-problem-{}", code.replace('_', "-"))),
        None => message.to_string(),
    }
}

/// Translates the password fields' server messages among a form's field errors.
pub fn translate_password_errors(i18n: &I18n, mut e: FieldErrors) -> FieldErrors {
    for field in ["password", "new_password"] {
        if let Some(m) = e.get_mut(field) {
            *m = password_message(i18n, m);
        }
    }
    e
}

#[derive(Properties, PartialEq)]
pub struct PasswordMeterProps {
    /// The id of the password input this meter describes.
    pub for_id: AttrValue,
    pub password: String,
    /// What the password must not be built from (the person's e-mail, name, company).
    #[prop_or_default]
    pub email: String,
    #[prop_or_default]
    pub name: String,
    #[prop_or_default]
    pub company: String,
}

/// A strength meter under a new-password field: the server's policy verdict
/// (`POST /auth/password-strength`, zxcvbn) shortly after typing stops, with zxcvbn's
/// warning and suggestions, translated.
#[function_component]
pub fn PasswordMeter(p: &PasswordMeterProps) -> Html {
    let i18n = use_i18n();
    let verdict = use_state(|| None::<PasswordStrength>);
    // The password the latest answer must be for (an older, slower answer is dropped).
    let latest = use_mut_ref(String::new);
    {
        let verdict = verdict.clone();
        let latest = latest.clone();
        let deps = (
            p.password.clone(),
            p.email.clone(),
            p.name.clone(),
            p.company.clone(),
        );
        use_effect_with(deps, move |(password, email, name, company)| {
            *latest.borrow_mut() = password.clone();
            let timer = if password.is_empty() {
                verdict.set(None);
                None
            } else {
                let some = |s: &String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
                let req = PasswordStrengthRequest {
                    password: password.clone(),
                    email: some(email),
                    name: some(name),
                    company: some(company),
                };
                Some(gloo_timers::callback::Timeout::new(250, move || {
                    wasm_bindgen_futures::spawn_local(async move {
                        let answer =
                            api::post::<_, PasswordStrength>("/auth/password-strength", &req)
                                .await
                                .ok();
                        if *latest.borrow() == req.password {
                            verdict.set(answer);
                        }
                    });
                }))
            };
            move || drop(timer)
        });
    }
    let Some(v) = (*verdict).clone().filter(|_| !p.password.is_empty()) else {
        return html! {};
    };
    let id = format!("{}-strength", p.for_id);
    let label_id = format!("{id}-label");
    let level = i18n.t(&format!("password-strength-{}", v.score.min(4)));
    let problem = v
        .problem
        .as_deref()
        .map(|c| i18n.t(&format!("password-problem-{}", c.replace('_', "-"))));
    let warning = v
        .warning
        .as_deref()
        .filter(|_| !v.ok)
        .and_then(|w| i18n.try_t(&format!("password-warning-{w}")));
    let suggestions: Vec<String> = if v.ok {
        Vec::new()
    } else {
        v.suggestions
            .iter()
            .filter_map(|s| i18n.try_t(&format!("password-suggestion-{s}")))
            .collect()
    };
    html! {
        <div class={classes!("pw-meter", if v.ok { "ok" } else { "weak" })} id={id}
            data-score={v.score.to_string()} data-ok={v.ok.to_string()}
            data-problem={v.problem.clone().unwrap_or_default()} aria-live="polite">
            <meter min="0" max="4" low="2.5" high="3.5" optimum="4" value={v.score.to_string()}
                aria-labelledby={label_id.clone()} />
            <span class="pw-level" id={label_id}>
                { i18n.ta("password-strength", &[("level", level.into())]) }
            </span>
            if let Some(t) = problem { <p class="pw-problem">{ t }</p> }
            if let Some(t) = warning { <p class="pw-warning">{ t }</p> }
            if !suggestions.is_empty() {
                <ul class="pw-suggestions">{ for suggestions.iter().map(|s| html! { <li>{ s }</li> }) }</ul>
            }
        </div>
    }
}

#[derive(Clone, PartialEq, Default)]
struct SignupForm {
    company: String,
    slug: String,
    name: String,
    email: String,
    password: String,
}

/// Maps the server's field names (wire DTO) onto this form's inputs.
fn signup_errors(mut e: FieldErrors) -> FieldErrors {
    for (from, to) in [
        ("company_name", "company"),
        ("admin_name", "name"),
        ("admin_email", "email"),
    ] {
        if let Some(m) = e.remove(from) {
            e.insert(to.into(), m);
        }
    }
    e
}

#[function_component]
pub fn SignupPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let navigator = use_navigator().expect("router");
    let form = use_reducer(|| Form(SignupForm::default()));
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
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "company", &f.company);
            c.required(&i18n, "name", &f.name);
            c.required(&i18n, "email", &f.email);
            c.email(&i18n, "email", &f.email);
            c.required(&i18n, "password", &f.password);
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
            let i18n = i18n.clone();
            spawn(async move {
                let req = SignupRequest {
                    company_name: f.company.trim().into(),
                    slug: Some(f.slug.trim().to_lowercase()).filter(|s| !s.is_empty()),
                    admin_name: f.name.trim().into(),
                    admin_email: f.email.trim().into(),
                    password: f.password.clone(),
                };
                match api::post::<_, SignupResponse>("/signup", &req).await {
                    Ok(done) => {
                        remember_tenant(&done.tenant.slug);
                        let session = match api::get::<SessionInfo>("/auth/me").await {
                            Ok(s) => Session::User(Rc::new(s)),
                            Err(_) => Session::Anonymous,
                        };
                        app.set_flash.emit(Some(Flash {
                            key: "flash-signed-up".into(),
                            error: false,
                            arg: Some(done.tenant.slug.clone()),
                        }));
                        let home = home_for(&session);
                        app.set_session.emit(session);
                        navigator.replace(&home);
                    }
                    Err(e) => {
                        busy.set(false);
                        errors.set(translate_password_errors(
                            &i18n,
                            signup_errors(e.field_errors()),
                        ));
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    html! {
        <section class="card auth-card" aria-labelledby="signup-title">
            <h1 id="signup-title">{ i18n.t("signup-title") }</h1>
            <p class="muted">{ i18n.t("signup-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <form id="signup-form" {onsubmit} novalidate=true>
                <TextField id="company" label={i18n.t("signup-company")} value={form.0.company.clone()}
                    oninput={bind(&form, |f, v| f.company = v)} error={errors.get("company").cloned()}
                    required=true autocomplete="organization" />
                <TextField id="slug" label={i18n.t("signup-slug")} value={form.0.slug.clone()}
                    oninput={bind(&form, |f, v| f.slug = v)} error={errors.get("slug").cloned()}
                    hint={i18n.t("signup-slug-hint")} />
                <TextField id="name" label={i18n.t("signup-name")} value={form.0.name.clone()}
                    oninput={bind(&form, |f, v| f.name = v)} error={errors.get("name").cloned()}
                    required=true autocomplete="name" />
                <TextField id="email" kind="email" label={i18n.t("signup-email")} value={form.0.email.clone()}
                    oninput={bind(&form, |f, v| f.email = v)} error={errors.get("email").cloned()}
                    required=true autocomplete="email" />
                <TextField id="password" kind="password" label={i18n.t("signup-password")} value={form.0.password.clone()}
                    oninput={bind(&form, |f, v| f.password = v)} error={errors.get("password").cloned()}
                    required=true autocomplete="new-password" hint={i18n.t("password-hint")} />
                <PasswordMeter for_id="password" password={form.0.password.clone()} email={form.0.email.clone()}
                    name={form.0.name.clone()} company={form.0.company.clone()} />
                <button type="submit" id="signup-submit" class="primary wide" disabled={*busy}>
                    { if *busy { i18n.t("signup-submitting") } else { i18n.t("signup-submit") } }
                </button>
            </form>
            <p class="muted">{ i18n.t("signup-have-account") }{" "}
                <Link<Route> to={Route::Login}>{ i18n.t("signup-login-link") }</Link<Route>></p>
        </section>
    }
}

#[derive(Clone, PartialEq, Default)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
}

/// The signed-in user's own account: who they are, and a password change.
#[function_component]
pub fn AccountPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let form = use_reducer(|| Form(PasswordForm::default()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let done = use_state(|| false);
    let busy = use_state(|| false);
    let Session::User(s) = &app.session else {
        return html! {};
    };

    let onsubmit = {
        let (form, errors, failure, busy, done, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            busy.clone(),
            done.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            c.required(&i18n, "current_password", &f.current);
            c.required(&i18n, "new_password", &f.new);
            if f.new != f.confirm {
                c.fail("confirm", i18n.t("form-password-mismatch"));
            }
            errors.set(c.errors.clone());
            failure.set(None);
            done.set(false);
            if !c.ok() {
                return;
            }
            busy.set(true);
            let (errors, failure, busy, done, form) = (
                errors.clone(),
                failure.clone(),
                busy.clone(),
                done.clone(),
                form.clone(),
            );
            let i18n = i18n.clone();
            spawn(async move {
                let req = ChangePasswordRequest {
                    current_password: f.current,
                    new_password: f.new,
                };
                let r = api::post_empty("/auth/password", &req).await;
                busy.set(false);
                match r {
                    Ok(()) => {
                        done.set(true);
                        form.dispatch(Box::new(|f: &mut PasswordForm| {
                            *f = PasswordForm::default()
                        }));
                    }
                    Err(e) => {
                        errors.set(translate_password_errors(&i18n, e.field_errors()));
                        failure.set(Some(e));
                    }
                }
            });
        })
    };

    html! {
        <>
        <h1>{ i18n.t("account-title") }</h1>
        <div class="two-col">
            <section class="card" aria-labelledby="account-me">
                <h2 id="account-me">{ i18n.t("account-you") }</h2>
                <dl class="facts">
                    <dt>{ i18n.t("user-name") }</dt><dd>{ &s.user.name }</dd>
                    <dt>{ i18n.t("user-email") }</dt><dd>{ &s.user.email }</dd>
                    <dt>{ i18n.t("user-role") }</dt><dd>{ &s.user.role_name }</dd>
                    <dt>{ i18n.t("account-company") }</dt><dd>{ format!("{} ({})", s.tenant.name, s.tenant.slug) }</dd>
                    <dt>{ i18n.t("account-session-until") }</dt><dd>{ i18n.datetime(&s.expires_at) }</dd>
                </dl>
            </section>
            <section class="card" aria-labelledby="account-pw">
                <h2 id="account-pw">{ i18n.t("account-change-password") }</h2>
                if *done { <Notice text={i18n.t("account-password-changed")} /> }
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                <form {onsubmit} novalidate=true>
                    <TextField id="current_password" kind="password" label={i18n.t("account-current-password")}
                        value={form.0.current.clone()} oninput={bind(&form, |f, v| f.current = v)}
                        error={errors.get("current_password").cloned()} required=true autocomplete="current-password" />
                    <TextField id="new_password" kind="password" label={i18n.t("account-new-password")}
                        value={form.0.new.clone()} oninput={bind(&form, |f, v| f.new = v)}
                        error={errors.get("new_password").cloned()} required=true autocomplete="new-password"
                        hint={i18n.t("password-hint")} />
                    <PasswordMeter for_id="new_password" password={form.0.new.clone()} email={s.user.email.clone()}
                        name={s.user.name.clone()} company={s.tenant.name.clone()} />
                    <TextField id="confirm" kind="password" label={i18n.t("account-confirm-password")}
                        value={form.0.confirm.clone()} oninput={bind(&form, |f, v| f.confirm = v)}
                        error={errors.get("confirm").cloned()} required=true autocomplete="new-password" />
                    <button type="submit" class="primary" disabled={*busy}>{ i18n.t("action-save") }</button>
                </form>
            </section>
        </div>
        <super::sessions::OwnSessions key={(*done).to_string()} />
        </>
    }
}

#[derive(Clone, PartialEq, Default)]
struct SsoForm {
    enabled: bool,
    issuer: String,
    client_id: String,
    client_secret: String,
    auto_provision: bool,
}

/// The tenant's OpenID Connect single sign-on.
#[function_component]
pub fn SsoSettingsPage() -> Html {
    let i18n = use_i18n();
    let (load, reload) = use_get::<SsoConfig>("/settings/sso".into());
    let form = use_reducer(|| Form(SsoForm::default()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let busy = use_state(|| false);

    // Fill the form once the settings arrive (404: nothing configured yet).
    {
        let form = form.clone();
        let cfg = match &load {
            Load::Ready(c) => Some((**c).clone()),
            _ => None,
        };
        use_effect_with(cfg, move |cfg| {
            if let Some(c) = cfg.clone() {
                form.dispatch(Box::new(move |f: &mut SsoForm| {
                    *f = SsoForm {
                        enabled: c.enabled,
                        issuer: c.issuer,
                        client_id: c.client_id,
                        client_secret: String::new(),
                        auto_provision: c.auto_provision,
                    }
                }));
            }
        });
    }

    let onsubmit = {
        let (form, errors, failure, saved, busy, i18n, reload) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            saved.clone(),
            busy.clone(),
            i18n.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let mut c = Checks::default();
            if f.enabled {
                c.required(&i18n, "issuer", &f.issuer);
                c.required(&i18n, "client_id", &f.client_id);
            }
            errors.set(c.errors.clone());
            failure.set(None);
            saved.set(false);
            if !c.ok() {
                return;
            }
            busy.set(true);
            let (errors, failure, saved, busy, reload) = (
                errors.clone(),
                failure.clone(),
                saved.clone(),
                busy.clone(),
                reload.clone(),
            );
            spawn(async move {
                let req = SsoConfig {
                    enabled: f.enabled,
                    issuer: f.issuer.trim().into(),
                    client_id: f.client_id.trim().into(),
                    client_secret: Some(f.client_secret).filter(|s| !s.is_empty()),
                    auto_provision: f.auto_provision,
                };
                let r = api::put::<_, SsoConfig>("/settings/sso", &req).await;
                busy.set(false);
                match r {
                    Ok(_) => {
                        saved.set(true);
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

    let not_configured = matches!(&load, Load::Failed(e) if e.status() == Some(404));
    let body = if matches!(load, Load::Ready(_)) || not_configured {
        let d = form.dispatcher();
        let d2 = form.dispatcher();
        html! {
            <form class="card narrow" {onsubmit} novalidate=true>
                if *saved { <Notice text={i18n.t("notice-saved")} /> }
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                <Checkbox id="sso-enabled" label={i18n.t("sso-enabled")} checked={form.0.enabled}
                    onchange={Callback::from(move |v: bool| d.dispatch(Box::new(move |f: &mut SsoForm| f.enabled = v)))} />
                <TextField id="issuer" label={i18n.t("sso-issuer")} value={form.0.issuer.clone()}
                    oninput={bind(&form, |f, v| f.issuer = v)} error={errors.get("issuer").cloned()}
                    hint={i18n.t("sso-issuer-hint")} />
                <TextField id="client_id" label={i18n.t("sso-client-id")} value={form.0.client_id.clone()}
                    oninput={bind(&form, |f, v| f.client_id = v)} error={errors.get("client_id").cloned()} />
                <TextField id="client_secret" kind="password" label={i18n.t("sso-client-secret")}
                    value={form.0.client_secret.clone()} oninput={bind(&form, |f, v| f.client_secret = v)}
                    error={errors.get("client_secret").cloned()} hint={i18n.t("sso-client-secret-hint")}
                    autocomplete="off" />
                <Checkbox id="sso-auto" label={i18n.t("sso-auto-provision")} checked={form.0.auto_provision}
                    onchange={Callback::from(move |v: bool| d2.dispatch(Box::new(move |f: &mut SsoForm| f.auto_provision = v)))} />
                <button type="submit" class="primary" disabled={*busy}>{ i18n.t("action-save") }</button>
            </form>
        }
    } else {
        render_load(&load, &reload, |_| html! {})
    };

    html! {
        <>
            <h1>{ i18n.t("sso-title") }</h1>
            <p class="muted">{ i18n.t("sso-intro") }</p>
            { body }
        </>
    }
}
