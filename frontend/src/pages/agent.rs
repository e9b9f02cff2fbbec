//! The agent desktop: one window for a 1366×768 screen with the state selector and the
//! panes later issues fill in (softphone, customer card, interaction form, KB search).
//!
//! Keyboard: Tab moves through every control in reading order; Alt+1…5 jump to the panes.

use std::rc::Rc;

use hotline_wire::api::{AgentStateDto, AgentStatus, ReasonCodeDto, SetAgentState};
use uuid::Uuid;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

const PANES: [&str; 5] = [
    "pane-state",
    "pane-softphone",
    "pane-customer",
    "pane-interaction",
    "pane-kb",
];

fn status_key(s: AgentStatus) -> String {
    format!("agent-status-{}", s.as_str().replace('_', "-"))
}

/// The option value of a state: `ready`, `logged_out`, `not_ready:<reason>`, `break:<reason>`.
fn option_value(status: AgentStatus, reason: Option<Uuid>) -> String {
    match reason {
        Some(r) => format!("{}:{r}", status.as_str()),
        None => status.as_str().to_string(),
    }
}

fn parse_option(v: &str) -> Option<SetAgentState> {
    let (s, r) = match v.split_once(':') {
        Some((s, r)) => (s, Some(r)),
        None => (v, None),
    };
    Some(SetAgentState {
        status: AgentStatus::parse(s)?,
        reason_id: r.and_then(|r| r.parse().ok()),
    })
}

fn state_options(i18n: &I18n, reasons: &[ReasonCodeDto]) -> Vec<(String, String)> {
    let mut out = vec![(
        option_value(AgentStatus::Ready, None),
        i18n.t("agent-status-ready"),
    )];
    let not_ready: Vec<&ReasonCodeDto> = reasons.iter().filter(|r| r.kind == "not_ready").collect();
    let breaks: Vec<&ReasonCodeDto> = reasons.iter().filter(|r| r.kind == "break").collect();
    if not_ready.is_empty() {
        out.push((
            option_value(AgentStatus::NotReady, None),
            i18n.t("agent-status-not-ready"),
        ));
    }
    for r in not_ready {
        out.push((
            option_value(AgentStatus::NotReady, Some(r.id)),
            i18n.ta(
                "agent-option-not-ready",
                &[("reason", r.name.clone().into())],
            ),
        ));
    }
    if breaks.is_empty() {
        out.push((
            option_value(AgentStatus::Break, None),
            i18n.t("agent-status-break"),
        ));
    }
    for r in breaks {
        out.push((
            option_value(AgentStatus::Break, Some(r.id)),
            i18n.ta("agent-option-break", &[("reason", r.name.clone().into())]),
        ));
    }
    out.push((
        option_value(AgentStatus::LoggedOut, None),
        i18n.t("agent-status-logged-out"),
    ));
    out
}

#[function_component]
pub fn AgentDesktop() -> Html {
    let i18n = use_i18n();

    // Alt+1…5 focus the panes' headings.
    use_effect_with((), |_| {
        let handler =
            Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(|e: web_sys::KeyboardEvent| {
                if !e.alt_key() || e.ctrl_key() || e.meta_key() {
                    return;
                }
                let Some(n) = e
                    .key()
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=PANES.len()).contains(n))
                else {
                    return;
                };
                let el = web_sys::window()
                    .and_then(|w| w.document())
                    .and_then(|d| d.get_element_by_id(&format!("{}-h", PANES[n - 1])))
                    .and_then(|el| el.dyn_into::<web_sys::HtmlElement>().ok());
                if let Some(el) = el {
                    e.prevent_default();
                    let _ = el.focus();
                }
            });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback("keydown", handler.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = window {
                let _ = w.remove_event_listener_with_callback(
                    "keydown",
                    handler.as_ref().unchecked_ref(),
                );
            }
        }
    });

    html! {
        <div class="desktop" id="agent-desktop">
            <h1 class="sr-only">{ i18n.t("agent-title") }</h1>
            <StatePane />
            <section class="pane softphone" id="pane-softphone" aria-labelledby="pane-softphone-h">
                <h2 id="pane-softphone-h" tabindex="-1">{ i18n.t("agent-softphone") }<kbd>{ "Alt+2" }</kbd></h2>
                <p class="placeholder" id="softphone-note">{ i18n.t("agent-softphone-placeholder") }</p>
                <div class="field">
                    <label for="dial-number">{ i18n.t("agent-dial-number") }</label>
                    <input id="dial-number" type="tel" inputmode="tel" autocomplete="off" />
                </div>
                <div class="button-row">
                    <button type="button" class="primary" disabled=true aria-describedby="softphone-note">{ i18n.t("agent-call") }</button>
                    <button type="button" class="secondary" disabled=true aria-describedby="softphone-note">{ i18n.t("agent-hold") }</button>
                    <button type="button" class="secondary" disabled=true aria-describedby="softphone-note">{ i18n.t("agent-transfer") }</button>
                    <button type="button" class="danger" disabled=true aria-describedby="softphone-note">{ i18n.t("agent-hang-up") }</button>
                </div>
            </section>
            <section class="pane customer" id="pane-customer" aria-labelledby="pane-customer-h">
                <h2 id="pane-customer-h" tabindex="-1">{ i18n.t("agent-customer") }<kbd>{ "Alt+3" }</kbd></h2>
                <p class="placeholder">{ i18n.t("agent-customer-placeholder") }</p>
                <dl class="facts">
                    <dt>{ i18n.t("agent-customer-name") }</dt><dd>{ "—" }</dd>
                    <dt>{ i18n.t("agent-customer-phone") }</dt><dd>{ "—" }</dd>
                    <dt>{ i18n.t("agent-customer-account") }</dt><dd>{ "—" }</dd>
                    <dt>{ i18n.t("agent-customer-history") }</dt><dd>{ "—" }</dd>
                </dl>
            </section>
            <section class="pane interaction" id="pane-interaction" aria-labelledby="pane-interaction-h">
                <h2 id="pane-interaction-h" tabindex="-1">{ i18n.t("agent-interaction") }<kbd>{ "Alt+4" }</kbd></h2>
                <p class="placeholder" id="interaction-note">{ i18n.t("agent-interaction-placeholder") }</p>
                <div class="field">
                    <label for="interaction-category">{ i18n.t("agent-category") }</label>
                    <select id="interaction-category"><option value="">{ "—" }</option></select>
                </div>
                <div class="field">
                    <label for="interaction-notes">{ i18n.t("agent-notes") }</label>
                    <textarea id="interaction-notes" rows="4" />
                </div>
                <button type="button" class="primary" disabled=true aria-describedby="interaction-note">{ i18n.t("agent-save-interaction") }</button>
            </section>
            <section class="pane kb" id="pane-kb" aria-labelledby="pane-kb-h">
                <h2 id="pane-kb-h" tabindex="-1">{ i18n.t("agent-kb") }<kbd>{ "Alt+5" }</kbd></h2>
                <form role="search" onsubmit={|e: SubmitEvent| e.prevent_default()}>
                    <div class="field">
                        <label for="kb-query">{ i18n.t("agent-kb-search") }</label>
                        <input id="kb-query" type="search" autocomplete="off" />
                    </div>
                </form>
                <p class="placeholder">{ i18n.t("agent-kb-placeholder") }</p>
            </section>
        </div>
    }
}

/// The agent's own state: shown with its reason and since when, changed through the API.
#[function_component]
fn StatePane() -> Html {
    let i18n = use_i18n();
    let (state, reload_state) = use_get::<AgentStateDto>("/agent/state".into());
    let (reasons, reload_reasons) = use_get::<Vec<ReasonCodeDto>>("/reason-codes".into());
    let current = use_state(|| None::<Rc<AgentStateDto>>);
    let choice = use_state(String::new);
    let busy = use_state(|| false);
    let failure = use_state(|| None::<ApiError>);

    // The freshest known state: the last PUT's answer, else the GET.
    let shown: Option<Rc<AgentStateDto>> = match (&*current, &state) {
        (Some(c), _) => Some(c.clone()),
        (None, Load::Ready(s)) => Some(s.clone()),
        _ => None,
    };

    let onsubmit = {
        let (choice, busy, failure, current) = (
            choice.clone(),
            busy.clone(),
            failure.clone(),
            current.clone(),
        );
        let fallback = shown
            .as_ref()
            .map(|s| option_value(s.status, s.reason_id))
            .unwrap_or_default();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let v = if choice.is_empty() {
                fallback.clone()
            } else {
                (*choice).clone()
            };
            let Some(req) = parse_option(&v) else { return };
            busy.set(true);
            failure.set(None);
            let (busy, failure, current) = (busy.clone(), failure.clone(), current.clone());
            spawn(async move {
                let r = api::put::<_, AgentStateDto>("/agent/state", &req).await;
                busy.set(false);
                match r {
                    Ok(s) => current.set(Some(Rc::new(s))),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };

    let retry = Callback::from(move |_| {
        reload_state.emit(());
        reload_reasons.emit(());
    });
    let body = match (&shown, &reasons) {
        (_, Load::Failed(e)) => html! { <ErrorBox error={e.clone()} retry={retry.clone()} /> },
        (None, _) => match &state {
            Load::Failed(e) => html! { <ErrorBox error={e.clone()} retry={retry.clone()} /> },
            _ => html! { <Loading /> },
        },
        (_, Load::Loading) => html! { <Loading /> },
        (Some(s), Load::Ready(rs)) => {
            let opts = state_options(&i18n, rs);
            let value = if choice.is_empty() {
                option_value(s.status, s.reason_id)
            } else {
                (*choice).clone()
            };
            let status_text = match &s.reason {
                Some(r) => format!("{} — {}", i18n.t(&status_key(s.status)), r),
                None => i18n.t(&status_key(s.status)),
            };
            html! {
                <>
                <p class="current-state">
                    <span id="agent-current-state" class={classes!("state-badge", s.status.as_str().to_string())} role="status" aria-live="polite">
                        { status_text }
                    </span>
                    <span class="muted small">{ i18n.ta("agent-since", &[("time", i18n.time(&s.since).into())]) }</span>
                </p>
                <form class="state-form" {onsubmit}>
                    <SelectField id="agent-state" label={i18n.t("agent-change-state")} {value} options={opts}
                        onchange={let c = choice.clone(); Callback::from(move |v| c.set(v))} />
                    <button type="submit" id="agent-state-apply" class="primary" disabled={*busy}>{ i18n.t("agent-apply-state") }</button>
                </form>
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                </>
            }
        }
    };
    html! {
        <section class="pane state" id="pane-state" aria-labelledby="pane-state-h">
            <h2 id="pane-state-h" tabindex="-1">{ i18n.t("agent-state") }<kbd>{ "Alt+1" }</kbd></h2>
            { body }
            <p class="muted small shortcuts">{ i18n.t("agent-shortcuts") }</p>
        </section>
    }
}
