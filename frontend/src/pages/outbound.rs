//! Outbound calling: the tenant's settings page (`/admin/outbound`: trial and limits, the
//! e-mail verification, countries and blocked prefixes with the tenant's own narrowing,
//! caller IDs with "verify a number"), the banner every signed-in page shows while the
//! e-mail is not verified, and the page the e-mailed link opens (`/verify-email`).

use hotline_wire::campaigns::OutboundRulesDto;
use hotline_wire::permissions as perm;
use hotline_wire::verify::{CallerIdDto, CallerIdsDto, EmailVerificationDto, EmailVerified};
use serde_json::json;
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::use_i18n;
use crate::route::{use_app, Route, Session};

// ---------------------------------------------------------------- e-mail verification

#[derive(Properties, PartialEq)]
struct ResendProps {
    /// Called with the state after the e-mail was queued.
    sent: Callback<EmailVerificationDto>,
    id: AttrValue,
}

/// "Send the e-mail again", with the server's refusal (already verified, too many) under it.
#[function_component]
fn ResendButton(p: &ResendProps) -> Html {
    let i18n = use_i18n();
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);
    let onclick = {
        let (busy, failure, sent) = (busy.clone(), failure.clone(), p.sent.clone());
        Callback::from(move |_: MouseEvent| {
            let (busy, failure, sent) = (busy.clone(), failure.clone(), sent.clone());
            busy.set(true);
            failure.set(None);
            spawn(async move {
                let r =
                    api::post::<_, EmailVerificationDto>("/email-verification", &json!({})).await;
                busy.set(false);
                match r {
                    Ok(d) => sent.emit(d),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    html! {
        <>
            <button type="button" class="secondary" id={p.id.clone()} {onclick} disabled={*busy}>
                { i18n.t("verify-email-resend") }
            </button>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
        </>
    }
}

/// The banner of an unverified call center, for its administrators: outbound calls wait for
/// the e-mail.
#[function_component]
pub fn EmailBanner() -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let (status, _) = use_get::<EmailVerificationDto>("/email-verification".into());
    let sent = use_state(|| None::<String>);
    // For the administrators, who can act on it (an agent's refused call says why itself).
    let can_send = app.session.can(perm::SETTINGS_WRITE);
    let Load::Ready(s) = status else {
        return html! {};
    };
    if s.verified || !can_send {
        return html! {};
    }
    let on_sent = {
        let sent = sent.clone();
        Callback::from(move |d: EmailVerificationDto| sent.set(d.last_sent_to))
    };
    html! {
        <div class="alert warn" id="verify-email-banner" role="status">
            <p>
                { i18n.t("verify-email-banner") }
                if let Some(to) = &*sent {
                    { " " }<span id="verify-email-sent">{ i18n.ta("verify-email-sent", &[("email", to.clone().into())]) }</span>
                }
            </p>
            if sent.is_none() {
                <ResendButton id="verify-email-banner-resend" sent={on_sent} />
            }
        </div>
    }
}

/// Where the e-mailed link leads: the token is sent, the answer shown.
#[function_component]
pub fn VerifyEmailPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let result = use_state(|| None::<Result<EmailVerified, ApiError>>);
    {
        let result = result.clone();
        use_effect_with((), move |_| {
            let token = super::query_param("token").unwrap_or_default();
            spawn(async move {
                let r =
                    api::post::<_, EmailVerified>("/auth/verify-email", &json!({ "token": token }))
                        .await;
                result.set(Some(r));
            });
        });
    }
    let signed_in = matches!(app.session, Session::User(_));
    let body = match &*result {
        None => html! { <Loading /> },
        Some(Ok(v)) => html! {
            <div class="alert ok" id="verify-email-done" role="status">
                <p>{ i18n.ta("verify-email-done", &[("email", v.email.clone().into()), ("company", v.name.clone().into())]) }</p>
            </div>
        },
        Some(Err(e)) => html! {
            <div id="verify-email-failed"><ErrorBox error={e.clone()} /></div>
        },
    };
    html! {
        <section class="card">
            <h1>{ i18n.t("verify-email-title") }</h1>
            { body }
            if signed_in {
                <Link<Route> to={Route::Outbound}>{ i18n.t("outbound-title") }</Link<Route>>
            } else {
                <Link<Route> to={Route::Login}>{ i18n.t("verify-email-sign-in") }</Link<Route>>
            }
        </section>
    }
}

// ---------------------------------------------------------------- the settings page

#[function_component]
pub fn OutboundPage() -> Html {
    let i18n = use_i18n();
    let (rules, reload_rules) = use_get::<OutboundRulesDto>("/outbound-rules".into());
    let (email, reload_email) = use_get::<EmailVerificationDto>("/email-verification".into());
    let limits = render_load(&rules, &reload_rules, |r| {
        html! {
            <dl class="facts" id="outbound-limits">
                <dt>{ i18n.t("outbound-trial") }</dt>
                <dd id="outbound-trial" data-trial={r.trial.to_string()}>{ i18n.t(if r.trial { "outbound-trial-yes" } else { "outbound-trial-no" }) }</dd>
                <dt>{ i18n.t("outbound-max-calls") }</dt>
                <dd id="outbound-max-calls">{ i18n.number(r.max_calls) }</dd>
                if let Some(n) = r.calls_per_day {
                    <dt>{ i18n.t("outbound-calls-per-day") }</dt>
                    <dd id="outbound-calls-per-day">{ i18n.number(n) }</dd>
                }
                if let Some(n) = r.minutes_per_day {
                    <dt>{ i18n.t("outbound-minutes-per-day") }</dt>
                    <dd id="outbound-minutes-per-day">{ i18n.number(n) }</dd>
                }
            </dl>
        }
    });
    let email_state = render_load(&email, &reload_email, |s| {
        let sent = {
            let reload = reload_email.clone();
            Callback::from(move |_| reload.emit(()))
        };
        html! {
            <div id="outbound-email" data-verified={s.verified.to_string()}>
                if s.verified {
                    <p>{ i18n.t("outbound-email-verified") }</p>
                } else {
                    <p>{ i18n.t("outbound-email-unverified") }</p>
                    if let (Some(to), Some(at)) = (&s.last_sent_to, &s.last_sent_at) {
                        <p class="muted" id="outbound-email-last">{ i18n.ta("outbound-email-last", &[("email", to.clone().into()), ("when", i18n.datetime(at).into())]) }</p>
                    }
                    <ResendButton id="outbound-email-resend" {sent} />
                }
            </div>
        }
    });
    let rules_changed = {
        let reload = reload_rules.clone();
        Callback::from(move |_| reload.emit(()))
    };
    html! {
        <>
            <h1>{ i18n.t("outbound-title") }</h1>
            <p class="muted">{ i18n.t("outbound-intro") }</p>
            <section class="card" aria-labelledby="outbound-limits-h">
                <h2 id="outbound-limits-h">{ i18n.t("outbound-limits") }</h2>
                { limits }
            </section>
            <section class="card" aria-labelledby="outbound-email-h">
                <h2 id="outbound-email-h">{ i18n.t("outbound-email") }</h2>
                { email_state }
            </section>
            if let Load::Ready(r) = &rules {
                <DestinationsCard rules={(**r).clone()} changed={rules_changed.clone()} />
            }
            <CallerIdsCard changed={rules_changed} />
        </>
    }
}

#[derive(Properties, PartialEq)]
struct RulesProps {
    rules: OutboundRulesDto,
    changed: Callback<()>,
}

/// Allowed countries and blocked prefixes, and the tenant's own narrowing of them.
#[function_component]
fn DestinationsCard(p: &RulesProps) -> Html {
    let i18n = use_i18n();
    let r = &p.rules;
    let countries = use_state(|| {
        r.tenant
            .countries
            .as_ref()
            .map(|c| c.join(", "))
            .unwrap_or_default()
    });
    let prefixes = use_state(|| r.tenant.blocked_prefixes.join(", "));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let saved = use_state(|| false);
    let split = |s: &str| -> Vec<String> {
        s.split([',', ' ', '\n'])
            .map(|x| x.trim().trim_start_matches('+').to_string())
            .filter(|x| !x.is_empty())
            .collect()
    };
    let onsubmit = {
        let (countries, prefixes, errors, failure, saved, changed) = (
            countries.clone(),
            prefixes.clone(),
            errors.clone(),
            failure.clone(),
            saved.clone(),
            p.changed.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let cs = split(&countries);
            let body = json!({
                "countries": if cs.is_empty() { serde_json::Value::Null } else { json!(cs) },
                "blocked_prefixes": prefixes
                    .split([',', ' ', '\n'])
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>(),
            });
            let (errors, failure, saved, changed) = (
                errors.clone(),
                failure.clone(),
                saved.clone(),
                changed.clone(),
            );
            errors.set(FieldErrors::new());
            failure.set(None);
            saved.set(false);
            spawn(async move {
                match api::put::<_, OutboundRulesDto>("/outbound-rules", &body).await {
                    Ok(_) => {
                        saved.set(true);
                        changed.emit(());
                    }
                    Err(e) => {
                        let mut fe = FieldErrors::new();
                        for (k, v) in e.field_errors() {
                            let top = k.split('.').next().unwrap_or_default().to_string();
                            fe.entry(top).or_insert(v);
                        }
                        errors.set(fe);
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let err = |f: &str| errors.get(f).cloned();
    html! {
        <section class="card" aria-labelledby="outbound-destinations-h">
            <h2 id="outbound-destinations-h">{ i18n.t("outbound-destinations") }</h2>
            <dl class="facts">
                <dt>{ i18n.t("outbound-countries") }</dt>
                <dd id="outbound-countries">
                    if r.countries.is_empty() { { i18n.t("outbound-countries-none") } }
                    else { { r.countries.iter().map(|c| format!("+{c}")).collect::<Vec<_>>().join(", ") } }
                </dd>
                <dt>{ i18n.t("outbound-blocked") }</dt>
                <dd id="outbound-blocked" class="small">{ r.blocked_prefixes.join(", ") }</dd>
            </dl>
            <form id="outbound-rules-form" {onsubmit} novalidate=true>
                <TextField id="outbound-own-countries" label={i18n.t("outbound-own-countries")} value={(*countries).clone()}
                    oninput={{ let s = countries.clone(); Callback::from(move |v| s.set(v)) }}
                    error={err("countries")} hint={i18n.t("outbound-own-countries-hint")} />
                <TextField id="outbound-own-prefixes" label={i18n.t("outbound-own-prefixes")} value={(*prefixes).clone()}
                    oninput={{ let s = prefixes.clone(); Callback::from(move |v| s.set(v)) }}
                    error={err("blocked_prefixes")} hint={i18n.t("outbound-own-prefixes-hint")} />
                if let Some(e) = &*failure { if e.field_errors().is_empty() { <ErrorBox error={e.clone()} /> } }
                if *saved { <Notice text={i18n.t("outbound-rules-saved")} /> }
                <button type="submit" class="primary" id="outbound-rules-save">{ i18n.t("action-save") }</button>
            </form>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ChangedProps {
    changed: Callback<()>,
}

fn caller_id_status(i18n: &crate::i18n::I18n, s: &str) -> String {
    i18n.try_t(&format!("caller-id-status-{s}"))
        .unwrap_or_else(|| s.to_string())
}

/// Caller IDs: the tenant's own numbers, the verified ones, and "verify a number".
#[function_component]
fn CallerIdsCard(p: &ChangedProps) -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<CallerIdsDto>("/caller-ids".into());
    let number = use_state(String::new);
    let code = use_state(String::new);
    // The verification in progress (its code not typed yet).
    let pending = use_state(|| None::<CallerIdDto>);
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    // While a call is in progress, follow its status every 2 s.
    {
        let reload = reload.clone();
        let calling = pending.is_some();
        use_effect_with(calling, move |calling| {
            let t = calling
                .then(|| gloo_timers::callback::Interval::new(2_000, move || reload.emit(())));
            move || drop(t)
        });
    }
    let pending_now: Option<CallerIdDto> = match (&*pending, &list) {
        (Some(v), Load::Ready(l)) => Some(
            l.numbers
                .iter()
                .find(|n| n.id == v.id)
                .cloned()
                .unwrap_or_else(|| v.clone()),
        ),
        (v, _) => v.clone(),
    };
    let start = {
        let (number, pending, errors, failure, notice, reload, code) = (
            number.clone(),
            pending.clone(),
            errors.clone(),
            failure.clone(),
            notice.clone(),
            reload.clone(),
            code.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({ "number": number.trim() });
            let (pending, errors, failure, notice, reload, code) = (
                pending.clone(),
                errors.clone(),
                failure.clone(),
                notice.clone(),
                reload.clone(),
                code.clone(),
            );
            errors.set(FieldErrors::new());
            failure.set(None);
            notice.set(None);
            spawn(async move {
                match api::post::<_, CallerIdDto>("/caller-ids", &body).await {
                    Ok(v) => {
                        code.set(String::new());
                        pending.set(Some(v));
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
    let confirm = {
        let (code, pending, errors, failure, notice, reload, changed, number, i18n) = (
            code.clone(),
            pending.clone(),
            errors.clone(),
            failure.clone(),
            notice.clone(),
            reload.clone(),
            p.changed.clone(),
            number.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(v) = (*pending).clone() else { return };
            let body = json!({ "code": code.trim() });
            let (pending, errors, failure, notice, reload, changed, number, i18n) = (
                pending.clone(),
                errors.clone(),
                failure.clone(),
                notice.clone(),
                reload.clone(),
                changed.clone(),
                number.clone(),
                i18n.clone(),
            );
            errors.set(FieldErrors::new());
            failure.set(None);
            spawn(async move {
                match api::post::<_, CallerIdDto>(&format!("/caller-ids/{}/confirm", v.id), &body)
                    .await
                {
                    Ok(done) => {
                        pending.set(None);
                        number.set(String::new());
                        notice.set(Some(
                            i18n.ta("caller-id-verified", &[("number", done.number.into())]),
                        ));
                        reload.emit(());
                        changed.emit(());
                    }
                    Err(e) => {
                        let mut fe = e.field_errors();
                        if e.problem().is_some_and(|p| p.code == "code_wrong") {
                            fe.insert("code".into(), i18n.t("problem-code-wrong"));
                        }
                        if e.status() == Some(409) {
                            // A new call is needed: back to the number.
                            pending.set(None);
                        }
                        errors.set(fe);
                        failure.set(Some(e));
                        reload.emit(());
                    }
                }
            });
        })
    };
    let remove = |id: Uuid| {
        let (reload, changed, failure) = (reload.clone(), p.changed.clone(), failure.clone());
        Callback::from(move |_: MouseEvent| {
            let (reload, changed, failure) = (reload.clone(), changed.clone(), failure.clone());
            spawn(async move {
                match api::delete(&format!("/caller-ids/{id}")).await {
                    Ok(()) => {
                        reload.emit(());
                        changed.emit(());
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let table = render_load(&list, &reload, |l| {
        html! {
            <>
                <table class="data" id="caller-ids">
                    <caption class="sr-only">{ i18n.t("outbound-caller-ids") }</caption>
                    <thead><tr>
                        <th scope="col">{ i18n.t("caller-id-number") }</th>
                        <th scope="col">{ i18n.t("caller-id-kind") }</th>
                        <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                    </tr></thead>
                    <tbody>
                        { for l.dids.iter().map(|d| html! {
                            <tr data-number={d.clone()} data-status="own">
                                <td>{ d }</td><td>{ i18n.t("caller-id-own") }</td><td></td>
                            </tr>
                        }) }
                        { for l.numbers.iter().map(|n| html! {
                            <tr data-number={n.number.clone()} data-status={n.status.clone()}>
                                <td>{ &n.number }</td>
                                <td>{ caller_id_status(&i18n, &n.status) }</td>
                                <td class="actions">
                                    if n.status == "verified" {
                                        <button type="button" class="link" onclick={remove(n.id)}>{ i18n.t("action-delete") }</button>
                                    }
                                </td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                <p class="muted small" id="caller-ids-left">{ i18n.ta("caller-id-calls-left", &[("count", l.calls_left_today.into())]) }</p>
            </>
        }
    });
    let err = |f: &str| errors.get(f).cloned();
    html! {
        <section class="card" aria-labelledby="outbound-caller-ids-h">
            <h2 id="outbound-caller-ids-h">{ i18n.t("outbound-caller-ids") }</h2>
            <p class="muted">{ i18n.t("outbound-caller-ids-intro") }</p>
            { table }
            if let Some(n) = &*notice { <Notice text={n.clone()} /> }
            if let Some(e) = &*failure { if errors.is_empty() { <ErrorBox error={e.clone()} /> } }
            if let Some(v) = pending_now {
                <form id="caller-id-confirm-form" onsubmit={confirm} novalidate=true>
                    <p id="caller-id-calling" role="status" data-status={v.status.clone()}>
                        { i18n.ta("caller-id-calling", &[("number", v.number.clone().into())]) }
                        { " " }{ caller_id_status(&i18n, &v.status) }
                    </p>
                    <TextField id="caller-id-code" label={i18n.t("caller-id-code")} value={(*code).clone()}
                        oninput={{ let s = code.clone(); Callback::from(move |v| s.set(v)) }}
                        error={err("code")} autocomplete={AttrValue::Static("one-time-code")}
                        hint={i18n.t("caller-id-code-hint")} />
                    <button type="submit" class="primary" id="caller-id-confirm">{ i18n.t("caller-id-confirm") }</button>
                </form>
            } else {
                <form id="caller-id-form" onsubmit={start} novalidate=true>
                    <TextField id="caller-id-number" label={i18n.t("caller-id-verify-number")} value={(*number).clone()}
                        oninput={{ let s = number.clone(); Callback::from(move |v| s.set(v)) }}
                        error={err("number")} hint={i18n.t("caller-id-verify-hint")} />
                    <button type="submit" class="primary" id="caller-id-call">{ i18n.t("caller-id-call") }</button>
                </form>
            }
        </section>
    }
}
