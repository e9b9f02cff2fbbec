//! The softphone's call controls beyond answer/hang-up — hold, blind transfer, wrap-up with a
//! disposition — and the agent's recent call history with the recordings they may play.

use hotline_wire::api::Page;
use hotline_wire::calls::{
    CallbackStarted, CdrDto, MissedCallDto, ScheduledCallbackDto, TransferDirectory,
    TransferRequest, WrapUpRequest,
};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;

/// Disposition codes offered at wrap-up (stored as the code; labels come from the catalog).
pub const DISPOSITIONS: [&str; 5] = [
    "resolved",
    "info_given",
    "callback_needed",
    "escalated",
    "wrong_number",
];

/// How often the transfer directory is re-read during a call.
const DIRECTORY_REFRESH_MS: u32 = 3_000;

/// After hold is confirmed, how long the softphone's incoming audio stays off: longer than
/// the audio in flight to the browser (its jitter buffer) when the gateway cut the bridge.
const HOLD_PLAYOUT_MS: u32 = 400;

/// Turns what the agent hears on the softphone (`window.hotlineSoftphone`'s received tracks)
/// off or back on.
fn set_incoming_audio(enabled: bool) {
    use js_sys::Reflect;
    use wasm_bindgen::JsCast;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(pc) = Reflect::get(&window, &"hotlineSoftphone".into()) else {
        return;
    };
    if pc.is_null() || pc.is_undefined() {
        return;
    }
    let Some(get) = Reflect::get(&pc, &"getReceivers".into())
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
    else {
        return;
    };
    let Ok(receivers) = get.call0(&pc) else {
        return;
    };
    for r in js_sys::Array::from(&receivers).iter() {
        if let Ok(track) = Reflect::get(&r, &"track".into()) {
            if !track.is_null() && !track.is_undefined() {
                let _ = Reflect::set(&track, &"enabled".into(), &enabled.into());
            }
        }
    }
}

#[derive(Properties, PartialEq)]
pub struct CallControlsProps {
    pub call_id: Uuid,
    pub held: bool,
    /// The consultation's state (`dialling`, `talking`, `conference`), if one is going on.
    #[prop_or_default]
    pub consult: Option<String>,
    pub on_error: Callback<ApiError>,
}

/// Hold/unhold and blind transfer of the agent's connected call.
#[function_component]
pub fn CallControls(p: &CallControlsProps) -> Html {
    let i18n = use_i18n();
    let (dir, reload_dir) = use_get::<TransferDirectory>("/agent/directory".into());
    let target = use_state(String::new);
    let busy = use_state(|| false);
    // Colleagues' states change while the call goes on: refresh the list every few seconds.
    {
        let reload = reload_dir.clone();
        use_effect_with((), move |_| {
            let every =
                gloo_timers::callback::Interval::new(DIRECTORY_REFRESH_MS, move || reload.emit(()));
            move || drop(every)
        });
    }
    let call_id = p.call_id;
    let on_hold = {
        let (on_error, busy) = (p.on_error.clone(), busy.clone());
        let path = if p.held { "unhold" } else { "hold" };
        Callback::from(move |_: MouseEvent| {
            let (on_error, busy) = (on_error.clone(), busy.clone());
            busy.set(true);
            // Hold silences the caller in the agent's ear at the click: the gateway's cut
            // (confirmed before the desktop says "held") leaves audio already on its way to
            // the browser, which must not play.
            if path == "hold" {
                set_incoming_audio(false);
            }
            spawn(async move {
                let r = api::post_empty(
                    &format!("/agent/calls/{call_id}/{path}"),
                    &serde_json::json!({}),
                )
                .await;
                busy.set(false);
                if path == "hold" {
                    gloo_timers::callback::Timeout::new(HOLD_PLAYOUT_MS, || {
                        set_incoming_audio(true)
                    })
                    .forget();
                }
                if let Err(e) = r {
                    on_error.emit(e);
                }
            });
        })
    };
    let on_target = {
        let target = target.clone();
        Callback::from(move |v: String| target.set(v))
    };
    let on_transfer = {
        let (on_error, target, busy) = (p.on_error.clone(), target.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let body = match target.split_once(':') {
                Some(("queue", id)) => TransferRequest {
                    queue_id: id.parse().ok(),
                    ..Default::default()
                },
                Some(("agent", id)) => TransferRequest {
                    agent_id: id.parse().ok(),
                    ..Default::default()
                },
                _ => return,
            };
            post_transfer(call_id, body, on_error.clone(), busy.clone());
        })
    };
    let outside = use_state(String::new);
    let on_outside = {
        let (on_error, outside, busy) = (p.on_error.clone(), outside.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let body = TransferRequest {
                number: Some(outside.trim().to_string()),
                ..Default::default()
            };
            post_transfer(call_id, body, on_error.clone(), busy.clone());
        })
    };
    let mut options = vec![(String::new(), i18n.t("call-transfer-choose"))];
    if let Load::Ready(d) = &dir {
        for q in &d.queues {
            options.push((
                format!("queue:{}", q.id),
                i18n.ta("call-transfer-queue", &[("name", q.name.clone().into())]),
            ));
        }
        for a in &d.agents {
            let state = i18n
                .try_t(&format!("agent-status-{}", a.state.replace('_', "-")))
                .unwrap_or_else(|| a.state.clone());
            options.push((
                format!("agent:{}", a.id),
                i18n.ta(
                    "call-transfer-agent",
                    &[("name", a.name.clone().into()), ("state", state.into())],
                ),
            ));
        }
    }
    let refresh = Callback::from(move |_: FocusEvent| reload_dir.emit(()));
    let key = |k: char| {
        let on_error = p.on_error.clone();
        Callback::from(move |_: MouseEvent| {
            let on_error = on_error.clone();
            spawn(async move {
                let body = serde_json::json!({ "digits": k.to_string() });
                if let Err(e) =
                    api::post_empty(&format!("/agent/calls/{call_id}/dtmf"), &body).await
                {
                    on_error.emit(e);
                }
            });
        })
    };
    let consult_to = use_state(String::new);
    let on_consult = {
        let (on_error, to, busy) = (p.on_error.clone(), consult_to.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let v = to.trim().to_string();
            // A short all-digit entry is a colleague's extension; anything else a number.
            let body = if (2..=6).contains(&v.len()) && v.chars().all(|c| c.is_ascii_digit()) {
                serde_json::json!({ "extension": v })
            } else {
                serde_json::json!({ "number": v })
            };
            let (on_error, busy) = (on_error.clone(), busy.clone());
            busy.set(true);
            spawn(async move {
                let r = api::post::<_, CallbackStarted>(
                    &format!("/agent/calls/{call_id}/consult"),
                    &body,
                )
                .await;
                busy.set(false);
                if let Err(e) = r {
                    on_error.emit(e);
                }
            });
        })
    };
    let consult_step = |step: &'static str| {
        let (on_error, busy) = (p.on_error.clone(), busy.clone());
        Callback::from(move |_: MouseEvent| {
            let (on_error, busy) = (on_error.clone(), busy.clone());
            busy.set(true);
            spawn(async move {
                let r = api::post_empty(
                    &format!("/agent/calls/{call_id}/consult/{step}"),
                    &serde_json::json!({}),
                )
                .await;
                busy.set(false);
                if let Err(e) = r {
                    on_error.emit(e);
                }
            });
        })
    };
    let consult_box = match p.consult.as_deref() {
        None => html! {
            <div class="transfer">
                <TextField id="consult-to" label={i18n.t("call-consult-to")} value={(*consult_to).clone()} kind="tel"
                    oninput={{ let c = consult_to.clone(); Callback::from(move |v: String| c.set(v)) }} />
                <button type="button" class="secondary" id="call-consult"
                    disabled={*busy || consult_to.trim().is_empty()} onclick={on_consult}>{ i18n.t("call-consult") }</button>
            </div>
        },
        // In the conference the agent may leave the other two together, or drop the
        // consulted party and stay with the caller.
        Some("conference") => html! {
            <div class="consult" id="consult-box">
                <p class="badge" id="consult-state" data-state="conference" role="status">{ i18n.t("call-consult-conference-on") }</p>
                <div class="button-row">
                    <button type="button" class="primary" id="consult-leave" disabled={*busy}
                        onclick={consult_step("transfer")}>{ i18n.t("call-consult-leave") }</button>
                    <button type="button" class="secondary" id="consult-drop" disabled={*busy}
                        onclick={consult_step("cancel")}>{ i18n.t("call-consult-drop") }</button>
                </div>
            </div>
        },
        Some(state) => html! {
            <div class="consult" id="consult-box">
                <p class="badge" id="consult-state" data-state={state.to_string()} role="status">
                    { i18n.try_t(&format!("call-consult-{state}")).unwrap_or_else(|| state.to_string()) }
                </p>
                <div class="button-row">
                    <button type="button" class="primary" id="consult-transfer" disabled={*busy || state != "talking"}
                        onclick={consult_step("transfer")}>{ i18n.t("call-consult-transfer") }</button>
                    <button type="button" class="secondary" id="consult-conference" disabled={*busy || state != "talking"}
                        onclick={consult_step("conference")}>{ i18n.t("call-consult-conference") }</button>
                    <button type="button" class="secondary" id="consult-cancel" disabled={*busy}
                        onclick={consult_step("cancel")}>{ i18n.t("call-consult-cancel") }</button>
                </div>
            </div>
        },
    };
    html! {
        <div class="call-controls">
            { consult_box }
            <details class="keypad" id="call-keypad">
                <summary>{ i18n.t("call-keypad") }</summary>
                <div class="keypad-grid" role="group" aria-label={i18n.t("call-keypad")}>
                    { for "123456789*0#".chars().map(|k| html! {
                        <button type="button" class="secondary" id={format!("key-{}", match k { '*' => "star".to_string(), '#' => "hash".to_string(), d => d.to_string() })}
                            onclick={key(k)}>{ k }</button>
                    }) }
                </div>
            </details>
            <div class="button-row">
                <button type="button" class="secondary" id="call-hold" aria-pressed={p.held.to_string()}
                    disabled={*busy} onclick={on_hold}>
                    { if p.held { i18n.t("call-unhold") } else { i18n.t("call-hold") } }
                </button>
            </div>
            if p.held { <p class="badge held" id="call-held" role="status">{ i18n.t("call-on-hold") }</p> }
            <div class="transfer" onfocusin={refresh}>
                <SelectField id="transfer-target" label={i18n.t("call-transfer-to")} value={(*target).clone()}
                    options={options} onchange={on_target} />
                <button type="button" class="secondary" id="call-transfer"
                    disabled={*busy || target.is_empty()} onclick={on_transfer}>{ i18n.t("call-transfer") }</button>
            </div>
            <div class="transfer">
                <TextField id="transfer-number" label={i18n.t("call-transfer-number")} value={(*outside).clone()}
                    kind="tel" oninput={{ let o = outside.clone(); Callback::from(move |v: String| o.set(v)) }} />
                <button type="button" class="secondary" id="call-transfer-number"
                    disabled={*busy || outside.trim().is_empty()} onclick={on_outside}>{ i18n.t("call-transfer-out") }</button>
            </div>
        </div>
    }
}

/// Sends a transfer request; a refusal is shown by `on_error`.
fn post_transfer(
    call_id: Uuid,
    body: TransferRequest,
    on_error: Callback<ApiError>,
    busy: UseStateHandle<bool>,
) {
    busy.set(true);
    spawn(async move {
        let r = api::post_empty(&format!("/agent/calls/{call_id}/transfer"), &body).await;
        busy.set(false);
        if let Err(e) = r {
            on_error.emit(e);
        }
    });
}

#[derive(Properties, PartialEq)]
pub struct WrapUpProps {
    pub call_id: Uuid,
    pub on_done: Callback<()>,
}

/// After-call work: a disposition code and notes, saved on the call's record.
#[function_component]
pub fn WrapUpForm(p: &WrapUpProps) -> Html {
    let i18n = use_i18n();
    let disposition = use_state(|| DISPOSITIONS[0].to_string());
    let notes = use_state(String::new);
    let ready = use_state(|| true);
    let failure = use_state(|| None::<ApiError>);
    let call_id = p.call_id;
    let on_save = {
        let (disposition, notes, ready, failure, done) = (
            disposition.clone(),
            notes.clone(),
            ready.clone(),
            failure.clone(),
            p.on_done.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = WrapUpRequest {
                disposition: (*disposition).clone(),
                notes: Some((*notes).clone()).filter(|n| !n.trim().is_empty()),
                ready: *ready,
            };
            let (failure, done) = (failure.clone(), done.clone());
            spawn(async move {
                match api::post_empty(&format!("/agent/calls/{call_id}/wrapup"), &body).await {
                    Ok(()) => done.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let set = |h: &UseStateHandle<String>| {
        let h = h.clone();
        Callback::from(move |v: String| h.set(v))
    };
    let on_ready = {
        let ready = ready.clone();
        Callback::from(move |v: bool| ready.set(v))
    };
    let options: Vec<(String, String)> = DISPOSITIONS
        .iter()
        .map(|d| {
            (
                d.to_string(),
                i18n.t(&format!("disposition-{}", d.replace('_', "-"))),
            )
        })
        .collect();
    html! {
        <form class="wrapup" id="wrapup-form" onsubmit={on_save} aria-labelledby="wrapup-h">
            <h3 id="wrapup-h">{ i18n.t("wrapup-title") }</h3>
            <SelectField id="wrapup-disposition" label={i18n.t("wrapup-disposition")} value={(*disposition).clone()}
                options={options} onchange={set(&disposition)} />
            <TextField id="wrapup-notes" label={i18n.t("wrapup-notes")} value={(*notes).clone()} oninput={set(&notes)} />
            <Checkbox id="wrapup-ready" label={i18n.t("wrapup-ready")} checked={*ready} onchange={on_ready} />
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <button type="submit" class="primary" id="wrapup-save">{ i18n.t("wrapup-save") }</button>
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub struct HistoryProps {
    /// Bumped by the softphone when a call ends, to reload.
    pub version: u32,
}

/// The agent's latest calls (their own only, unless they supervise), newest first.
#[function_component]
pub fn CallHistory(p: &HistoryProps) -> Html {
    let i18n = use_i18n();
    let (calls, reload) = use_get::<Page<CdrDto>>(format!(
        "/calls?per_page=8&direction=inbound&v={}",
        p.version
    ));
    let body = render_load(&calls, &reload, |page| {
        if page.items.is_empty() {
            return html! { <p class="muted" id="call-history-empty">{ i18n.t("call-history-empty") }</p> };
        }
        html! {
            <ul class="call-history" id="call-history">
                { for page.items.iter().map(|c| {
                    let outcome = c.outcome.clone().unwrap_or_else(|| "in_progress".into());
                    let outcome_label = i18n
                        .try_t(&format!("call-outcome-{}", outcome.replace('_', "-")))
                        .unwrap_or_else(|| outcome.clone());
                    let disposition = c.disposition.as_ref().map(|d| i18n
                        .try_t(&format!("disposition-{}", d.replace('_', "-")))
                        .unwrap_or_else(|| d.clone()));
                    html! {
                        <li data-call={c.call_id.to_string()} data-outcome={outcome.clone()}>
                            <span class="when">{ i18n.datetime(&c.arrived_at) }</span>
                            <span class="caller">{ &c.caller }</span>
                            <span class="badge">{ outcome_label }</span>
                            if let Some(d) = disposition { <span class="disposition">{ d }</span> }
                            if let Some(url) = &c.recording_url {
                                <audio controls=true preload="none" src={url.clone()}
                                    aria-label={i18n.ta("call-history-recording", &[("caller", c.caller.clone().into())])} />
                            }
                        </li>
                    }
                }) }
            </ul>
        }
    });
    html! {
        <div class="history">
            <h3>{ i18n.t("call-history") }</h3>
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ClickToCallProps {
    pub number: String,
    /// Element id of the button.
    pub id: AttrValue,
}

/// A "Call" button for a number shown on screen: the gateway dials it and bridges the answer
/// into this agent's softphone (which must be connected). Says what happened next to it.
#[function_component]
pub fn ClickToCall(p: &ClickToCallProps) -> Html {
    let i18n = use_i18n();
    let status = use_state(|| None::<Result<(), ApiError>>);
    let onclick = {
        let (status, number) = (status.clone(), p.number.clone());
        Callback::from(move |_: MouseEvent| {
            let (status, number) = (status.clone(), number.clone());
            status.set(None);
            spawn(async move {
                let body = serde_json::json!({ "number": number });
                match api::post::<_, CallbackStarted>("/click-to-call", &body).await {
                    Ok(_) => status.set(Some(Ok(()))),
                    Err(e) => status.set(Some(Err(e))),
                }
            });
        })
    };
    html! {
        <span class="click-to-call">
            <button type="button" class="secondary" id={p.id.clone()} {onclick}
                aria-label={i18n.ta("click-to-call-number", &[("number", p.number.clone().into())])}>
                { i18n.t("click-to-call") }
            </button>
            { match &*status {
                Some(Ok(())) => html! { <span class="muted" role="status">{ i18n.ta("click-to-call-calling", &[("number", p.number.clone().into())]) }</span> },
                Some(Err(e)) => html! { <span class="field-error" role="alert">{ error_text(&i18n, e) }</span> },
                None => html! {},
            } }
        </span>
    }
}

/// How often the missed-calls list is re-read.
const MISSED_REFRESH_MS: u32 = 10_000;

/// The tenant's open missed calls (repeats merged), newest first, each with a one-click
/// callback into the softphone.
#[function_component]
pub fn MissedCalls() -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<MissedCallDto>>("/missed-calls".into());
    let calling = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let every =
                gloo_timers::callback::Interval::new(MISSED_REFRESH_MS, move || reload.emit(()));
            move || drop(every)
        });
    }
    let call_back = {
        let (calling, failure, reload) = (calling.clone(), failure.clone(), reload.clone());
        Callback::from(move |(id, number): (Uuid, String)| {
            let (calling, failure, reload) = (calling.clone(), failure.clone(), reload.clone());
            failure.set(None);
            spawn(async move {
                match api::post::<_, CallbackStarted>(
                    &format!("/missed-calls/{id}/callback"),
                    &serde_json::json!({}),
                )
                .await
                {
                    Ok(_) => calling.set(Some(number)),
                    Err(e) => failure.set(Some(e)),
                }
                reload.emit(());
            });
        })
    };
    let body = render_load(&list, &reload, |items| {
        if items.is_empty() {
            return html! { <p class="muted" id="missed-empty">{ i18n.t("missed-empty") }</p> };
        }
        html! {
            <ul class="missed-calls" id="missed-calls">
                { for items.iter().map(|m| {
                    let reason = i18n
                        .try_t(&format!("missed-reason-{}", m.reason.replace('_', "-")))
                        .unwrap_or_else(|| m.reason.clone());
                    let at = m.last_at.unwrap_or(m.created_at);
                    let onclick = {
                        let (cb, id, number) = (call_back.clone(), m.id, m.number.clone());
                        Callback::from(move |_: MouseEvent| cb.emit((id, number.clone())))
                    };
                    html! {
                        <li data-number={m.number.clone()} data-count={m.count.to_string()}>
                            <span class="caller">{ &m.number }</span>
                            <span class="badge">{ reason }</span>
                            if m.count > 1 {
                                <span class="count">{ i18n.ta("missed-count", &[("count", m.count.into())]) }</span>
                            }
                            <span class="when">{ i18n.datetime(&at) }</span>
                            <button type="button" class="secondary missed-callback" {onclick}
                                aria-label={i18n.ta("missed-call-back-to", &[("number", m.number.clone().into())])}>
                                { i18n.t("missed-call-back") }
                            </button>
                        </li>
                    }
                }) }
            </ul>
        }
    });
    html! {
        <div class="missed">
            <h3>{ i18n.t("missed-title") }</h3>
            if let Some(n) = &*calling {
                <p class="muted" id="missed-calling" role="status">{ i18n.ta("missed-calling", &[("number", n.clone().into())]) }</p>
            }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { body }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub struct ScheduledCallbacksProps {
    /// The reminder pushed by the server (`callback_due`), shown until handled.
    pub reminder: Option<(Uuid, String, String)>,
    pub on_handled: Callback<()>,
}

/// The agent's booked callbacks: a form to book one (number, local date and time, note),
/// the list with Call and Done, and the reminder that pops up when one is due.
#[function_component]
pub fn ScheduledCallbacks(p: &ScheduledCallbacksProps) -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<ScheduledCallbackDto>>("/scheduled-callbacks".into());
    let number = use_state(String::new);
    let when = use_state(String::new);
    let note = use_state(String::new);
    let errors = use_state(crate::api::FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    {
        let reload = reload.clone();
        use_effect_with(p.reminder.clone(), move |_| {
            reload.emit(());
            let every = gloo_timers::callback::Interval::new(30_000, move || reload.emit(()));
            move || drop(every)
        });
    }
    let book = {
        let (number, when, note, errors, failure, reload) = (
            number.clone(),
            when.clone(),
            note.clone(),
            errors.clone(),
            failure.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            // The picker's local date and time, sent as UTC.
            let local = js_sys::Date::new(&wasm_bindgen::JsValue::from_str(&when));
            let due = if local.get_time().is_nan() {
                String::new()
            } else {
                String::from(local.to_iso_string())
            };
            let body =
                serde_json::json!({ "number": number.trim(), "due_at": due, "note": note.trim() });
            let (number, when, note, errors, failure, reload) = (
                number.clone(),
                when.clone(),
                note.clone(),
                errors.clone(),
                failure.clone(),
                reload.clone(),
            );
            errors.set(Default::default());
            failure.set(None);
            spawn(async move {
                match api::post::<_, ScheduledCallbackDto>("/scheduled-callbacks", &body).await {
                    Ok(_) => {
                        number.set(String::new());
                        when.set(String::new());
                        note.set(String::new());
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
    let mark_done = {
        let (failure, reload, handled) = (failure.clone(), reload.clone(), p.on_handled.clone());
        move |id: Uuid| {
            let (failure, reload, handled) = (failure.clone(), reload.clone(), handled.clone());
            Callback::from(move |_: MouseEvent| {
                let (failure, reload, handled) = (failure.clone(), reload.clone(), handled.clone());
                spawn(async move {
                    match api::post_empty(
                        &format!("/scheduled-callbacks/{id}/done"),
                        &serde_json::json!({}),
                    )
                    .await
                    {
                        Ok(()) => {
                            handled.emit(());
                            reload.emit(());
                        }
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        }
    };
    let body = render_load(&list, &reload, |items| {
        if items.is_empty() {
            return html! { <p class="muted" id="scheduled-empty">{ i18n.t("scheduled-empty") }</p> };
        }
        html! {
            <ul class="scheduled" id="scheduled-callbacks">
                { for items.iter().map(|c| html! {
                    <li data-number={c.number.clone()} data-status={c.status.clone()}>
                        <span class="when">{ i18n.datetime(&c.due_at) }</span>
                        <span class="caller">{ &c.number }</span>
                        if c.status == "due" { <span class="badge warn">{ i18n.t("scheduled-due") }</span> }
                        <span class="note">{ &c.note }</span>
                        <ClickToCall number={c.number.clone()} id={format!("scheduled-call-{}", c.id)} />
                        <button type="button" class="secondary" onclick={mark_done(c.id)}>{ i18n.t("scheduled-done") }</button>
                    </li>
                }) }
            </ul>
        }
    });
    html! {
        <div class="scheduled-callbacks">
            <h3>{ i18n.t("scheduled-title") }</h3>
            if let Some((id, number, note)) = &p.reminder {
                <div class="alert warn" role="alert" id="scheduled-reminder">
                    <p>{ i18n.ta("scheduled-reminder", &[("number", number.clone().into()), ("note", note.clone().into())]) }</p>
                    <ClickToCall number={number.clone()} id="scheduled-reminder-call" />
                    <button type="button" class="secondary" onclick={mark_done(*id)}>{ i18n.t("scheduled-done") }</button>
                </div>
            }
            if let Some(e) = &*failure { if e.field_errors().is_empty() { <ErrorBox error={e.clone()} /> } }
            { body }
            <form onsubmit={book} id="scheduled-form" novalidate=true class="inline">
                <TextField id="scheduled-number" label={i18n.t("scheduled-number")} kind="tel" value={(*number).clone()}
                    oninput={{ let s = number.clone(); Callback::from(move |v| s.set(v)) }} error={errors.get("number").cloned()} />
                <TextField id="scheduled-when" label={i18n.t("scheduled-when")} kind="datetime-local" value={(*when).clone()}
                    oninput={{ let s = when.clone(); Callback::from(move |v| s.set(v)) }} error={errors.get("due_at").cloned()} />
                <TextField id="scheduled-note" label={i18n.t("scheduled-note")} value={(*note).clone()}
                    oninput={{ let s = note.clone(); Callback::from(move |v| s.set(v)) }} error={errors.get("note").cloned()} />
                <button type="submit" class="secondary" id="scheduled-book">{ i18n.t("scheduled-book") }</button>
            </form>
        </div>
    }
}
