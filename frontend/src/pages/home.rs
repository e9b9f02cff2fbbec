//! The home page (`/`), by what the user does: the administrator's first-steps checklist
//! (`/onboarding`, ticked from the tenant's own data), a supervisor's tools, an agent's state,
//! queues and the way to the desk.

use hotline_wire::api::AgentStateDto;
use hotline_wire::onboarding::{MyQueueDto, OnboardingDto};
use hotline_wire::permissions as perm;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::components::{render_load, use_get};
use crate::i18n::use_i18n;
use crate::nav::{icon, visible_items, Group, ICON_CHECK};
use crate::pages::agent::{builtin_reason_key, status_key};
use crate::route::{use_app, Route, Session};

#[function_component]
pub fn HomePage() -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let Session::User(s) = &app.session else {
        return html! {};
    };
    let admin = app.session.can(perm::SETTINGS_WRITE);
    let supervisor = app.session.can(perm::SUPERVISE);
    let agent = app.session.can(perm::AGENT_STATE) && !supervisor && !admin;
    html! {
        <div class="home">
            <h1 id="home-title">{ i18n.ta("home-title", &[("name", s.user.name.clone().into())]) }</h1>
            if admin { <Onboarding tenant={s.tenant.id.to_string()} /> }
            if agent { <AgentHome /> }
            if supervisor || admin { <Tools /> }
        </div>
    }
}

/// One first step: whether it is done, its text, where to do it.
struct Step {
    id: &'static str,
    done: bool,
    key: &'static str,
    hint: &'static str,
    to: Route,
}

fn steps(o: &OnboardingDto) -> [Step; 5] {
    [
        Step {
            id: "agents",
            done: o.agents_added,
            key: "home-step-agents",
            hint: "home-step-agents-hint",
            to: Route::User { id: "new".into() },
        },
        Step {
            id: "queue",
            done: o.queue_created,
            key: "home-step-queue",
            hint: "home-step-queue-hint",
            to: Route::Queues,
        },
        Step {
            id: "flow",
            done: o.flow_published,
            key: "home-step-flow",
            hint: "home-step-flow-hint",
            to: Route::Ivr,
        },
        Step {
            id: "number",
            done: o.number_mapped,
            key: "home-step-number",
            hint: "home-step-number-hint",
            to: Route::Numbers,
        },
        Step {
            id: "call",
            done: o.first_call,
            key: "home-step-call",
            hint: "home-step-call-hint",
            to: Route::Agent,
        },
    ]
}

fn dismissed_key(tenant: &str) -> String {
    format!("hotline.onboarding.dismissed.{tenant}")
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[derive(Properties, PartialEq)]
struct OnboardingProps {
    tenant: AttrValue,
}

/// The checklist; once every step is done, "You're set" with a button that hides it (kept
/// per tenant in `localStorage`), leaving a link that shows it again.
#[function_component]
fn Onboarding(p: &OnboardingProps) -> Html {
    let i18n = use_i18n();
    let (load, retry) = use_get::<OnboardingDto>("/onboarding".into());
    let key = dismissed_key(&p.tenant);
    let dismissed = {
        let key = key.clone();
        use_state(move || {
            storage()
                .and_then(|s| s.get_item(&key).ok().flatten())
                .is_some()
        })
    };
    render_load(&load, &retry, |o| {
        let done = o.done();
        let all = done == OnboardingDto::STEPS;
        if all && *dismissed {
            let show = {
                let dismissed = dismissed.clone();
                let key = key.clone();
                Callback::from(move |_: MouseEvent| {
                    if let Some(s) = storage() {
                        let _ = s.remove_item(&key);
                    }
                    dismissed.set(false);
                })
            };
            return html! {
                <p><button type="button" id="onboarding-show" class="link" onclick={show}>{ i18n.t("home-show-steps") }</button></p>
            };
        }
        let dismiss = {
            let dismissed = dismissed.clone();
            let key = key.clone();
            Callback::from(move |_: MouseEvent| {
                if let Some(s) = storage() {
                    let _ = s.set_item(&key, "1");
                }
                dismissed.set(true);
            })
        };
        let progress = i18n.ta(
            "home-progress",
            &[
                ("done", (done as i64).into()),
                ("total", (OnboardingDto::STEPS as i64).into()),
            ],
        );
        html! {
            <section class="card onboarding" id="onboarding" aria-labelledby="onboarding-h">
                <h2 id="onboarding-h">{ i18n.t("home-onboarding-title") }</h2>
                <div class="onboarding-progress">
                    <progress max={OnboardingDto::STEPS.to_string()} value={done.to_string()} aria-labelledby="onboarding-progress"></progress>
                    <span id="onboarding-progress">{ progress }</span>
                </div>
                if all {
                    <div class="alert ok" id="onboarding-done" role="status">
                        <p><strong>{ i18n.t("home-all-set") }</strong>{ " " }{ i18n.t("home-all-set-body") }</p>
                        <button type="button" id="onboarding-dismiss" class="secondary" onclick={dismiss}>{ i18n.t("home-dismiss") }</button>
                    </div>
                }
                <ol class="checklist">
                    { for steps(o).into_iter().map(|s| html! {
                        <li class={classes!("step", s.done.then_some("done"))} data-step={s.id} data-done={s.done.to_string()}>
                            <span class="step-mark">
                                if s.done { { icon(ICON_CHECK) } }
                                <span class="sr-only">{ i18n.t(if s.done { "home-step-done" } else { "home-step-todo" }) }</span>
                            </span>
                            <span class="step-text">
                                <Link<Route> to={s.to}>{ i18n.t(s.key) }</Link<Route>>
                                <span class="muted small">{ i18n.t(s.hint) }</span>
                            </span>
                        </li>
                    }) }
                </ol>
            </section>
        }
    })
}

/// An agent's panel: their state, the way to the desk, the queues they serve.
#[function_component]
fn AgentHome() -> Html {
    let i18n = use_i18n();
    let (state, retry_state) = use_get::<AgentStateDto>("/agent/state".into());
    let (queues, retry_queues) = use_get::<Vec<MyQueueDto>>("/agent/queues".into());
    html! {
        <section class="card agent-home" id="agent-home" aria-labelledby="agent-home-h">
            <h2 id="agent-home-h">{ i18n.t("home-agent-title") }</h2>
            { render_load(&state, &retry_state, |s| {
                let reason = s
                    .reason_key
                    .as_deref()
                    .and_then(|k| i18n.try_t(&builtin_reason_key(k)))
                    .or_else(|| s.reason.clone());
                let text = match reason {
                    Some(r) => format!("{} — {}", i18n.t(&status_key(s.status)), r),
                    None => i18n.t(&status_key(s.status)),
                };
                html! {
                    <p class="current-state">
                        { i18n.t("home-agent-state") }
                        <span id="home-agent-state" class={classes!("state-badge", s.status.as_str().to_string())}>{ text }</span>
                    </p>
                }
            }) }
            <p><Link<Route> to={Route::Agent} classes="button primary big" >{ i18n.t("home-open-desk") }</Link<Route>></p>
            <h3>{ i18n.t("home-agent-queues") }</h3>
            { render_load(&queues, &retry_queues, |qs| if qs.is_empty() {
                html! { <p class="muted" id="home-queues-none">{ i18n.t("home-agent-no-queues") }</p> }
            } else {
                html! { <ul id="home-queues">{ for qs.iter().map(|q| html! { <li>{ &q.name }</li> }) }</ul> }
            }) }
        </section>
    }
}

/// A supervisor's tools: the screens of the Desk, Supervision and Reports groups they may use.
#[function_component]
fn Tools() -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let items: Vec<_> = visible_items(&app.session)
        .into_iter()
        .filter(|n| matches!(n.group, Group::Desk | Group::Supervision | Group::Reports))
        .collect();
    if items.is_empty() {
        return html! {};
    }
    html! {
        <section class="card" id="home-tools" aria-labelledby="home-tools-h">
            <h2 id="home-tools-h">{ i18n.t("home-tools-title") }</h2>
            <ul class="tool-links">
                { for items.into_iter().map(|n| html! {
                    <li><Link<Route> to={n.route} classes="button secondary">{ i18n.t(n.key) }</Link<Route>></li>
                }) }
            </ul>
        </section>
    }
}
