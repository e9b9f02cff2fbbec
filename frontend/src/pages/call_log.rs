//! The call log for supervisors and recording readers: every call of the tenant with filters
//! (date range, queue, agent, number, outcome, disposition) and paging; one call's page with
//! its timeline and the recording player (waveform from the server's peaks, playback speed,
//! download).

use std::collections::HashMap;

use hotline_wire::api::{Page, QueueDto, UserDto};
use hotline_wire::calls::{CdrDetailDto, CdrDto, CdrEventDto, RecordingPeaks, CALL_OUTCOMES};
use hotline_wire::permissions as perm;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::pages::calls::DISPOSITIONS;
use crate::route::{use_app, Route};

const PER_PAGE: i64 = 25;

/// Playback speeds the player offers.
const SPEEDS: [f64; 5] = [0.75, 1.0, 1.25, 1.5, 2.0];

/// How many bars the waveform has.
const BARS: usize = 160;

/// How long the call lasted: from the agent's connect (else arrival) to its end.
fn talk_ms(c: &CdrDto) -> Option<i64> {
    let end = c.ended_at?;
    let start = c.connected_at.unwrap_or(c.arrived_at);
    Some((end - start).num_milliseconds())
}

fn outcome_label(i18n: &I18n, o: Option<&str>) -> String {
    match o {
        None => i18n.t("call-outcome-in-progress"),
        Some(o) => i18n
            .try_t(&format!("call-outcome-{}", o.replace('_', "-")))
            .unwrap_or_else(|| o.to_string()),
    }
}

fn disposition_label(i18n: &I18n, d: &str) -> String {
    i18n.try_t(&format!("disposition-{}", d.replace('_', "-")))
        .unwrap_or_else(|| d.to_string())
}

/// A `date` input's day (local) → the RFC 3339 instant of its local midnight, `days` later.
fn day_start(v: &str, days: u32) -> Option<String> {
    let mut it = v.splitn(3, '-').map(|p| p.parse::<u32>().ok());
    let (y, m, d) = (it.next()??, it.next()??, it.next()??);
    let date = js_sys::Date::new_with_year_month_day(y, m as i32 - 1, (d + days) as i32);
    if date.get_time().is_nan() {
        return None;
    }
    Some(String::from(date.to_iso_string()))
}

#[derive(Clone, PartialEq, Default)]
struct Filters {
    from: String,
    to: String,
    queue_id: String,
    agent_id: String,
    number: String,
    outcome: String,
    disposition: String,
}

impl Filters {
    fn query(&self) -> String {
        let mut q = String::new();
        if let Some(t) = day_start(&self.from, 0) {
            q += &format!("&from={}", api::enc(&t));
        }
        // The "to" day is included: up to the next day's midnight.
        if let Some(t) = day_start(&self.to, 1) {
            q += &format!("&to={}", api::enc(&t));
        }
        for (k, v) in [
            ("queue_id", &self.queue_id),
            ("agent_id", &self.agent_id),
            ("outcome", &self.outcome),
            ("disposition", &self.disposition),
        ] {
            if !v.is_empty() {
                q += &format!("&{k}={}", api::enc(v));
            }
        }
        if !self.number.trim().is_empty() {
            q += &format!("&number={}", api::enc(self.number.trim()));
        }
        q
    }
}

#[function_component]
pub fn CallLogPage() -> Html {
    let i18n = use_i18n();
    let form = use_reducer(|| Form(Filters::default()));
    let applied = use_state(Filters::default);
    let page = use_state(|| 1i64);
    let to_error = use_state(|| None::<String>);
    let (queues, _) = use_get::<Vec<QueueDto>>("/queues".into());
    let (users, _) = use_get::<Page<UserDto>>("/users?per_page=200&include_inactive=true".into());
    let path = format!(
        "/calls?page={}&per_page={}{}",
        *page,
        PER_PAGE,
        applied.query()
    );
    let (calls, reload) = use_get::<Page<CdrDto>>(path);

    let onsubmit = {
        let (form, applied, page, i18n, to_error) = (
            form.clone(),
            applied.clone(),
            page.clone(),
            i18n.clone(),
            to_error.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            if !f.from.is_empty() && !f.to.is_empty() && f.to < f.from {
                to_error.set(Some(i18n.t("call-log-to-before-from")));
                return;
            }
            to_error.set(None);
            applied.set(f);
            page.set(1);
        })
    };
    let onreset = {
        let (form, applied, page, to_error) = (
            form.clone(),
            applied.clone(),
            page.clone(),
            to_error.clone(),
        );
        Callback::from(move |_| {
            form.dispatch(Box::new(|f: &mut Filters| *f = Filters::default()));
            applied.set(Filters::default());
            to_error.set(None);
            page.set(1);
        })
    };

    let any = || (String::new(), i18n.t("call-log-any"));
    let mut queue_opts = vec![any()];
    if let Load::Ready(qs) = &queues {
        queue_opts.extend(qs.iter().map(|q| (q.id.to_string(), q.name.clone())));
    }
    let mut agent_opts = vec![any()];
    if let Load::Ready(us) = &users {
        agent_opts.extend(us.items.iter().map(|u| (u.id.to_string(), u.name.clone())));
    }
    let mut outcome_opts = vec![any()];
    outcome_opts.extend(
        CALL_OUTCOMES
            .iter()
            .map(|o| (o.to_string(), outcome_label(&i18n, Some(o)))),
    );
    let mut disposition_opts = vec![any()];
    disposition_opts.extend(
        DISPOSITIONS
            .iter()
            .map(|d| (d.to_string(), disposition_label(&i18n, d))),
    );

    let table = render_load(&calls, &reload, |p| {
        if p.items.is_empty() {
            return html! { <p class="empty" id="call-log-empty">{ i18n.t("call-log-empty") }</p> };
        }
        html! {
            <>
            <table class="data" id="call-log-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("call-log-when") }</th>
                    <th scope="col">{ i18n.t("call-log-direction") }</th>
                    <th scope="col">{ i18n.t("call-log-caller") }</th>
                    <th scope="col">{ i18n.t("call-log-callee") }</th>
                    <th scope="col">{ i18n.t("call-log-queue") }</th>
                    <th scope="col">{ i18n.t("call-log-agent") }</th>
                    <th scope="col">{ i18n.t("call-log-duration") }</th>
                    <th scope="col">{ i18n.t("call-log-outcome") }</th>
                    <th scope="col">{ i18n.t("call-log-disposition") }</th>
                    <th scope="col">{ i18n.t("call-log-recording") }</th>
                </tr></thead>
                <tbody>{ for p.items.iter().map(|c| html! {
                    <tr class="call-row" data-call={c.call_id.to_string()} data-caller={c.caller.clone()}>
                        <td><Link<Route> to={Route::Call { id: c.call_id.to_string() }} classes="call-open">
                            { i18n.datetime(&c.arrived_at) }</Link<Route>></td>
                        <td>{ i18n.t(&format!("call-direction-{}", if c.direction == "outbound" { "outbound" } else { "inbound" })) }</td>
                        <td class="call-caller">{ &c.caller }</td>
                        <td>{ &c.callee }</td>
                        <td class="call-queue">{ c.queue_name.clone().unwrap_or_default() }</td>
                        <td class="call-agent">{ c.agent_name.clone().unwrap_or_default() }</td>
                        <td class="call-duration">{ talk_ms(c).map(duration).unwrap_or_default() }</td>
                        <td class="call-outcome">{ outcome_label(&i18n, c.outcome.as_deref()) }</td>
                        <td class="call-disposition">{ c.disposition.as_deref().map(|d| disposition_label(&i18n, d)).unwrap_or_default() }</td>
                        <td>{ c.recording_ms.map(|ms| html! {
                            <span class="call-has-recording" title={i18n.t("call-log-recording")}>{ "▶ " }{ duration(ms) }</span>
                        }).unwrap_or_default() }</td>
                    </tr>
                }) }</tbody>
            </table>
            <Pager page={p.page} per_page={p.per_page} total={p.total}
                on_page={let page = page.clone(); Callback::from(move |n| page.set(n))} />
            </>
        }
    });

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("call-log-title") }</h1>
                <button type="button" class="secondary" onclick={let r = reload.clone(); move |_| r.emit(())}>{ i18n.t("action-refresh") }</button>
            </div>
            <form id="call-log-filters" class="filters card" {onsubmit}>
                <TextField id="call-log-from" kind="date" label={i18n.t("call-log-from")} value={form.0.from.clone()}
                    oninput={bind(&form, |f, v| f.from = v)} />
                <TextField id="call-log-to" kind="date" label={i18n.t("call-log-to")} value={form.0.to.clone()}
                    error={(*to_error).clone()} oninput={bind(&form, |f, v| f.to = v)} />
                <SelectField id="call-log-queue" label={i18n.t("call-log-queue")} value={form.0.queue_id.clone()}
                    options={queue_opts} onchange={bind(&form, |f, v| f.queue_id = v)} />
                <SelectField id="call-log-agent" label={i18n.t("call-log-agent")} value={form.0.agent_id.clone()}
                    options={agent_opts} onchange={bind(&form, |f, v| f.agent_id = v)} />
                <TextField id="call-log-number" label={i18n.t("call-log-number")} value={form.0.number.clone()}
                    hint={i18n.t("call-log-number-hint")} oninput={bind(&form, |f, v| f.number = v)} />
                <SelectField id="call-log-outcome" label={i18n.t("call-log-outcome")} value={form.0.outcome.clone()}
                    options={outcome_opts} onchange={bind(&form, |f, v| f.outcome = v)} />
                <SelectField id="call-log-disposition" label={i18n.t("call-log-disposition")} value={form.0.disposition.clone()}
                    options={disposition_opts} onchange={bind(&form, |f, v| f.disposition = v)} />
                <div class="filter-actions">
                    <button type="submit" class="primary" id="call-log-apply">{ i18n.t("action-filter") }</button>
                    <button type="button" class="secondary" id="call-log-clear" onclick={onreset}>{ i18n.t("action-clear") }</button>
                </div>
            </form>
            { table }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct CallPageProps {
    pub id: String,
}

/// One timeline step in words: what happened, who, and the details that mean something to a
/// person (queue names instead of ids, durations, hang-up causes).
fn event_line(
    i18n: &I18n,
    e: &CdrEventDto,
    people: &HashMap<String, String>,
    queues: &HashMap<String, String>,
) -> Html {
    let kind = i18n
        .try_t(&format!("call-event-{}", e.kind.replace('_', "-")))
        .unwrap_or_else(|| e.kind.replace('_', " "));
    let who = e.agent_id.and_then(|a| people.get(&a.to_string()).cloned());
    let mut details = vec![];
    for key in ["queue", "to"] {
        if let Some(v) = e.details.get(key).and_then(|v| v.as_str()) {
            if let Some(name) = queues.get(v).or_else(|| people.get(v)) {
                details.push(name.clone());
            } else if uuid::Uuid::parse_str(v).is_err() {
                details.push(v.to_string());
            }
        }
    }
    if let Some(ms) = e.details.get("waited_ms").and_then(|v| v.as_i64()) {
        details.push(i18n.ta("call-event-waited", &[("duration", duration(ms).into())]));
    }
    if let Some(c) = e.details.get("cause").and_then(|v| v.as_str()) {
        details.push(
            i18n.try_t(&format!("call-cause-{}", c.replace('_', "-")))
                .unwrap_or_else(|| c.replace('_', " ")),
        );
    }
    if let Some(d) = e.details.get("disposition").and_then(|v| v.as_str()) {
        details.push(disposition_label(i18n, d));
    }
    if let Some(n) = e.details.get("number").and_then(|v| v.as_str()) {
        details.push(n.to_string());
    }
    html! {
        <li class="call-event" data-kind={e.kind.clone()}>
            <time>{ i18n.time(&e.at) }</time>{ " " }
            <strong class="call-event-kind">{ kind }</strong>
            if let Some(w) = who { { " · " }<span class="call-event-agent">{ w }</span> }
            if !details.is_empty() { { " · " }<span class="muted">{ details.join(", ") }</span> }
        </li>
    }
}

#[function_component]
pub fn CallPage(p: &CallPageProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (call, reload) = use_get::<CdrDetailDto>(format!("/calls/{}", api::enc(&p.id)));
    let (queues, _) = use_get::<Vec<QueueDto>>("/queues".into());
    let (users, _) = use_get::<Page<UserDto>>("/users?per_page=200&include_inactive=true".into());
    let mut queue_names = HashMap::new();
    if let Load::Ready(qs) = &queues {
        queue_names.extend(qs.iter().map(|q| (q.id.to_string(), q.name.clone())));
    }
    let mut people = HashMap::new();
    if let Load::Ready(us) = &users {
        people.extend(us.items.iter().map(|u| (u.id.to_string(), u.name.clone())));
    }
    let may_play = app.session.can(perm::RECORDINGS_READ);

    let body = render_load(&call, &reload, |d| {
        let c = &d.cdr;
        if let (Some(a), Some(n)) = (c.agent_id, &c.agent_name) {
            people.entry(a.to_string()).or_insert_with(|| n.clone());
        }
        if let (Some(q), Some(n)) = (c.queue_id, &c.queue_name) {
            queue_names
                .entry(q.to_string())
                .or_insert_with(|| n.clone());
        }
        let row = |key: &str, value: String| {
            html! { <><dt>{ i18n.t(key) }</dt><dd>{ value }</dd></> }
        };
        html! {
            <>
            <dl class="call-summary card" id="call-summary">
                { row("call-log-caller", c.caller.clone()) }
                { row("call-log-callee", c.callee.clone()) }
                { row("call-log-direction", i18n.t(&format!("call-direction-{}", if c.direction == "outbound" { "outbound" } else { "inbound" }))) }
                { row("call-log-when", i18n.datetime(&c.arrived_at)) }
                { row("call-log-queue", c.queue_name.clone().unwrap_or_else(|| "—".into())) }
                { row("call-log-agent", c.agent_name.clone().unwrap_or_else(|| "—".into())) }
                { row("call-log-duration", talk_ms(c).map(duration).unwrap_or_else(|| "—".into())) }
                { row("call-log-outcome", outcome_label(&i18n, c.outcome.as_deref())) }
                { row("call-log-disposition", c.disposition.as_deref().map(|d| disposition_label(&i18n, d)).unwrap_or_else(|| "—".into())) }
                if let Some(n) = &c.wrapup_notes { { row("call-log-notes", n.clone()) } }
                if c.transfers > 0 { { row("call-log-transfers", i18n.number(c.transfers as i64)) } }
            </dl>
            <h2>{ i18n.t("call-log-recording") }</h2>
            {
                match (&c.recording_url, may_play) {
                    (Some(url), true) => html! {
                        <RecordingPlayer call_id={c.call_id.to_string()} url={url.clone()}
                            duration_ms={c.recording_ms.unwrap_or(0)} />
                    },
                    (Some(_), false) => html! { <p class="muted" id="call-recording-denied">{ i18n.t("call-log-recording-denied") }</p> },
                    (None, _) => html! { <p class="muted" id="call-recording-none">{ i18n.t("call-log-no-recording") }</p> },
                }
            }
            <h2>{ i18n.t("call-log-timeline") }</h2>
            if d.events.is_empty() {
                <p class="empty">{ i18n.t("call-log-timeline-empty") }</p>
            } else {
                <ol class="call-timeline" id="call-timeline">
                    { for d.events.iter().map(|e| event_line(&i18n, e, &people, &queue_names)) }
                </ol>
            }
            </>
        }
    });
    html! {
        <>
            <p class="crumbs"><Link<Route> to={Route::CallLog}>{ i18n.t("call-log-back") }</Link<Route>></p>
            <h1>{ i18n.t("call-log-call-title") }</h1>
            { body }
        </>
    }
}

#[derive(Properties, PartialEq)]
pub struct RecordingPlayerProps {
    pub call_id: String,
    pub url: String,
    pub duration_ms: i64,
}

/// `<audio>` with a waveform (bars from `/recordings/{id}/peaks`; the played part coloured,
/// a click seeks), a speed choice and a download link.
#[function_component]
pub fn RecordingPlayer(p: &RecordingPlayerProps) -> Html {
    let i18n = use_i18n();
    let audio = use_node_ref();
    let at = use_state(|| 0f64);
    let speed = use_state(|| 1.0f64);
    let (peaks, reload) = use_get::<RecordingPeaks>(format!(
        "/recordings/{}/peaks?buckets={BARS}",
        api::enc(&p.call_id)
    ));
    let total_s = (p.duration_ms as f64 / 1000.0).max(0.001);
    let ontimeupdate = {
        let (audio, at) = (audio.clone(), at.clone());
        Callback::from(move |_: Event| {
            if let Some(a) = audio.cast::<web_sys::HtmlMediaElement>() {
                at.set(a.current_time());
            }
        })
    };
    // A new source resets the element's rate: apply the chosen one again.
    let onloadedmetadata = {
        let (audio, speed) = (audio.clone(), speed.clone());
        Callback::from(move |_: Event| {
            if let Some(a) = audio.cast::<web_sys::HtmlMediaElement>() {
                a.set_playback_rate(*speed);
            }
        })
    };
    let onspeed = {
        let (audio, speed) = (audio.clone(), speed.clone());
        Callback::from(move |e: Event| {
            let el: web_sys::HtmlSelectElement = e.target_unchecked_into();
            let v: f64 = el.value().parse().unwrap_or(1.0);
            speed.set(v);
            if let Some(a) = audio.cast::<web_sys::HtmlMediaElement>() {
                a.set_playback_rate(v);
            }
        })
    };
    let onseek = {
        let audio = audio.clone();
        Callback::from(move |e: MouseEvent| {
            use wasm_bindgen::JsCast;
            let Some(el) = e
                .current_target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            else {
                return;
            };
            let w = el.client_width().max(1) as f64;
            if let Some(a) = audio.cast::<web_sys::HtmlMediaElement>() {
                let d = a.duration();
                let d = if d.is_finite() { d } else { total_s };
                a.set_current_time((e.offset_x() as f64 / w).clamp(0.0, 1.0) * d);
            }
        })
    };
    let played = (*at / total_s).clamp(0.0, 1.0);
    let wave = match &peaks {
        Load::Ready(pk) => {
            let n = pk.peaks.len().max(1);
            html! {
                <svg class="waveform" id="call-waveform" viewBox={format!("0 0 {n} 100")}
                    preserveAspectRatio="none" role="img" aria-label={i18n.t("call-log-waveform")}
                    onclick={onseek}>
                    { for pk.peaks.iter().enumerate().map(|(i, v)| {
                        let h = (v.clamp(0.0, 1.0) * 96.0).max(1.0);
                        let done = (i as f64 + 0.5) / n as f64 <= played;
                        html! { <rect class={if done { "bar played" } else { "bar" }}
                            x={format!("{}.1", i)} y={format!("{:.1}", 50.0 - h as f64 / 2.0)}
                            width="0.8" height={format!("{h:.1}")} /> }
                    }) }
                </svg>
            }
        }
        Load::Failed(e) => html! { <ErrorBox error={e.clone()} retry={reload.clone()} /> },
        Load::Loading => html! { <Loading /> },
    };
    html! {
        <div class="recording-player card" id="call-player">
            { wave }
            <audio id="call-audio" ref={audio} controls=true preload="metadata" src={p.url.clone()}
                {ontimeupdate} {onloadedmetadata} aria-label={i18n.t("call-log-recording")} />
            <div class="player-controls">
                <label for="call-speed">{ i18n.t("call-log-speed") }</label>
                <select id="call-speed" onchange={onspeed}>
                    { for SPEEDS.iter().map(|s| html! {
                        <option value={s.to_string()} selected={(*s - *speed).abs() < 1e-9}>{ i18n.ta("call-log-speed-x", &[("speed", i18n.decimal(*s, 0, 2).into())]) }</option>
                    }) }
                </select>
                <a class="button secondary" id="call-download" href={p.url.clone()}
                    download={format!("call-{}.wav", p.call_id)}>{ i18n.t("call-log-download") }</a>
            </div>
        </div>
    }
}
