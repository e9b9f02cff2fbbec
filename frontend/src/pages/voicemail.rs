//! Voicemail: the messages callers left (when a queue's wait was too long, or in the IVR),
//! each with who called (number, and the CRM name when known), the queue, when and how long;
//! played in the browser, marked handled, or called back in one click (into the softphone).
//! The page (`/voicemail`) and the agent desktop's panel are the same list.
//!
//! Also the supervisors' list of break requests (`/supervisor/breaks`): approve or deny.

use hotline_wire::api::BreakRequestDto;
use hotline_wire::calls::{CallbackStarted, VoicemailDto};
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;
use crate::route::use_app;

/// How often the lists are re-read.
const REFRESH_MS: u32 = 10_000;

/// `m:ss` of a duration in milliseconds.
fn duration(ms: i64) -> String {
    let s = (ms.max(0) + 999) / 1000;
    format!("{}:{:02}", s / 60, s % 60)
}

#[derive(Properties, PartialEq)]
pub struct VoicemailListProps {
    /// Inside the agent desktop (a smaller heading).
    #[prop_or_default]
    pub embedded: bool,
}

/// The voicemail list with its filters (queue, mine only, handled too).
#[function_component]
pub fn VoicemailList(p: &VoicemailListProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let me = app.session.user_id();
    let show_handled = use_state(|| false);
    let mine_only = use_state(|| false);
    let queue = use_state(String::new);
    let path = format!(
        "/voicemails?status={}",
        if *show_handled { "all" } else { "open" }
    );
    let (list, reload) = use_get::<Vec<VoicemailDto>>(path);
    let calling = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let every = gloo_timers::callback::Interval::new(REFRESH_MS, move || reload.emit(()));
            move || drop(every)
        });
    }
    let act = {
        let (calling, failure, reload) = (calling.clone(), failure.clone(), reload.clone());
        Callback::from(move |(id, caller, call_back): (Uuid, String, bool)| {
            let (calling, failure, reload) = (calling.clone(), failure.clone(), reload.clone());
            failure.set(None);
            spawn(async move {
                let r = if call_back {
                    api::post::<_, CallbackStarted>(
                        &format!("/voicemails/{id}/callback"),
                        &serde_json::json!({}),
                    )
                    .await
                    .map(|_| calling.set(Some(caller)))
                } else {
                    api::post::<_, VoicemailDto>(
                        &format!("/voicemails/{id}/handled"),
                        &serde_json::json!({}),
                    )
                    .await
                    .map(|_| ())
                };
                if let Err(e) = r {
                    failure.set(Some(e));
                }
                reload.emit(());
            });
        })
    };
    let body = render_load(&list, &reload, |items| {
        let mut queues: Vec<(String, String)> = items
            .iter()
            .filter_map(|v| Some((v.queue_id?.to_string(), v.queue_name.clone()?)))
            .collect();
        queues.sort_by(|a, b| a.1.cmp(&b.1));
        queues.dedup();
        let shown: Vec<&VoicemailDto> = items
            .iter()
            .filter(|v| {
                queue.is_empty() || v.queue_id.map(|q| q.to_string()) == Some((*queue).clone())
            })
            .filter(|v| !*mine_only || (me.is_some() && v.assignee_id == me))
            .collect();
        let mut options = vec![(String::new(), i18n.t("voicemail-all-queues"))];
        options.extend(queues);
        html! {
            <>
            <div class="row filters">
                <SelectField id="voicemail-queue" label={i18n.t("voicemail-queue")} value={(*queue).clone()}
                    {options} onchange={let q = queue.clone(); Callback::from(move |v| q.set(v))} />
                <Checkbox id="voicemail-mine" label={i18n.t("voicemail-mine-only")} checked={*mine_only}
                    onchange={let m = mine_only.clone(); Callback::from(move |v| m.set(v))} />
                <Checkbox id="voicemail-show-handled" label={i18n.t("voicemail-show-handled")} checked={*show_handled}
                    onchange={let h = show_handled.clone(); Callback::from(move |v| h.set(v))} />
            </div>
            if shown.is_empty() {
                <p class="muted" id="voicemail-empty">{ i18n.t("voicemail-empty") }</p>
            } else {
                <ul class="voicemails" id="voicemails">
                    { for shown.into_iter().map(|v| {
                        let who = match &v.customer_name {
                            Some(n) => format!("{n} ({})", v.caller),
                            None => v.caller.clone(),
                        };
                        let on_handled = {
                            let (act, id, caller) = (act.clone(), v.id, v.caller.clone());
                            Callback::from(move |_: MouseEvent| act.emit((id, caller.clone(), false)))
                        };
                        let on_call_back = {
                            let (act, id, caller) = (act.clone(), v.id, v.caller.clone());
                            Callback::from(move |_: MouseEvent| act.emit((id, caller.clone(), true)))
                        };
                        html! {
                            <li key={v.id.to_string()} class={classes!("voicemail", v.handled_at.is_some().then_some("handled"))}
                                data-caller={v.caller.clone()} data-id={v.id.to_string()}>
                                <div class="voicemail-head">
                                    <span class="caller">{ who }</span>
                                    if let Some(q) = &v.queue_name { <span class="badge">{ q }</span> }
                                    <span class="when">{ i18n.datetime(&v.recorded_at) }</span>
                                    <span class="duration">{ duration(v.duration_ms) }</span>
                                    if let Some(a) = &v.assignee_name {
                                        <span class="muted small">{ i18n.ta("voicemail-assignee", &[("name", a.clone().into())]) }</span>
                                    }
                                </div>
                                <audio class="voicemail-audio" controls=true preload="metadata" src={v.audio_url.clone()}
                                    aria-label={i18n.ta("voicemail-play", &[("caller", v.caller.clone().into())])}></audio>
                                <div class="actions">
                                    if let Some(at) = &v.handled_at {
                                        <span class="muted small voicemail-handled-by">
                                            { i18n.ta("voicemail-handled-by", &[
                                                ("name", v.handled_by_name.clone().unwrap_or_default().into()),
                                                ("time", i18n.datetime(at).into()),
                                            ]) }
                                        </span>
                                    } else {
                                        <button type="button" class="secondary voicemail-handled" onclick={on_handled}>
                                            { i18n.t("voicemail-mark-handled") }
                                        </button>
                                    }
                                    <button type="button" class="secondary voicemail-callback" onclick={on_call_back}
                                        aria-label={i18n.ta("missed-call-back-to", &[("number", v.caller.clone().into())])}>
                                        { i18n.t("missed-call-back") }
                                    </button>
                                </div>
                            </li>
                        }
                    }) }
                </ul>
            }
            </>
        }
    });
    let title = i18n.t("voicemail-title");
    html! {
        <div class="voicemail-list" id="voicemail-list">
            if p.embedded { <h3>{ title }</h3> } else { <h1>{ title }</h1> }
            if let Some(n) = &*calling {
                <p class="muted" id="voicemail-calling" role="status">{ i18n.ta("missed-calling", &[("number", n.clone().into())]) }</p>
            }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { body }
        </div>
    }
}

/// The Voicemail page.
#[function_component]
pub fn VoicemailPage() -> Html {
    html! { <div class="card"><VoicemailList /></div> }
}

/// Supervisors: the agents' pending break requests, oldest first, to approve or deny.
#[function_component]
pub fn BreakRequestsPage() -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<BreakRequestDto>>("/break-requests".into());
    let failure = use_state(|| None::<ApiError>);
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            // Polled: a new request shows within five seconds.
            let every = gloo_timers::callback::Interval::new(5_000, move || reload.emit(()));
            move || drop(every)
        });
    }
    let decide = {
        let (failure, reload) = (failure.clone(), reload.clone());
        Callback::from(move |(id, verdict): (Uuid, &'static str)| {
            let (failure, reload) = (failure.clone(), reload.clone());
            failure.set(None);
            spawn(async move {
                if let Err(e) = api::post::<_, BreakRequestDto>(
                    &format!("/break-requests/{id}/{verdict}"),
                    &serde_json::json!({}),
                )
                .await
                {
                    failure.set(Some(e));
                }
                reload.emit(());
            });
        })
    };
    let body = render_load(&list, &reload, |items| {
        if items.is_empty() {
            return html! { <p class="empty card" id="break-requests-empty">{ i18n.t("breaks-empty") }</p> };
        }
        html! {
            <table class="data" id="break-requests">
                <thead><tr>
                    <th scope="col">{ i18n.t("breaks-agent") }</th>
                    <th scope="col">{ i18n.t("breaks-reason") }</th>
                    <th scope="col">{ i18n.t("breaks-requested") }</th>
                    <th scope="col"></th>
                </tr></thead>
                <tbody>
                { for items.iter().map(|r| {
                    let approve = { let (d, id) = (decide.clone(), r.id); Callback::from(move |_: MouseEvent| d.emit((id, "approve"))) };
                    let deny = { let (d, id) = (decide.clone(), r.id); Callback::from(move |_: MouseEvent| d.emit((id, "deny"))) };
                    html! {
                        <tr key={r.id.to_string()} data-agent={r.agent_name.clone()}>
                            <td>{ &r.agent_name }</td>
                            <td>{ &r.reason }</td>
                            <td>{ i18n.datetime(&r.requested_at) }</td>
                            <td class="actions">
                                <button type="button" class="primary break-approve" onclick={approve}>{ i18n.t("breaks-approve") }</button>
                                <button type="button" class="secondary break-deny" onclick={deny}>{ i18n.t("breaks-deny") }</button>
                            </td>
                        </tr>
                    }
                }) }
                </tbody>
            </table>
        }
    });
    html! {
        <>
            <h1>{ i18n.t("breaks-title") }</h1>
            <p class="muted">{ i18n.t("breaks-intro") }</p>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { body }
        </>
    }
}
