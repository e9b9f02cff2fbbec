//! Outbound campaigns (`campaigns.write`): the register with live counts, a new-campaign
//! form (recorded message, optional confirmation key, calling hours, retry rules, lines),
//! one campaign's card (contacts from a CSV/XLSX file, start / pause / stop, results by
//! outcome and by hour, CSV export), and the tenant's blocked numbers (do not call /
//! refused callers). The server checks everything; its field errors show under the fields.

use hotline_wire::campaigns::{
    BlockedNumber, CampaignDto, CampaignResults, ContactsAdded, OutboundRulesDto,
};
use hotline_wire::prompts::{PromptDto, BUILTIN_PROMPTS};
use serde_json::json;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};

fn status_text(i18n: &I18n, s: &str) -> String {
    i18n.try_t(&format!("campaign-status-{s}"))
        .unwrap_or_else(|| s.to_string())
}

/// Why the dialer holds a campaign's contacts (`dial_hold`: `<code>: <detail>`), translated
/// by its code; the server's detail when the code has no translation.
fn hold_text(i18n: &I18n, hold: &str) -> String {
    let (code, detail) = hold.split_once(": ").unwrap_or((hold, ""));
    i18n.try_t(&format!("campaign-hold-{}", code.replace('_', "-")))
        .unwrap_or_else(|| {
            if detail.is_empty() {
                hold.to_string()
            } else {
                detail.to_string()
            }
        })
}

fn outcome_text(i18n: &I18n, s: &str) -> String {
    i18n.try_t(&format!("campaign-outcome-{}", s.replace('_', "-")))
        .unwrap_or_else(|| s.to_string())
}

#[function_component]
pub fn CampaignsPage() -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<CampaignDto>>("/campaigns".into());
    let selected = use_state(|| None::<Uuid>);
    // Running campaigns change by the second: refresh the register every 3 s.
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let t = gloo_timers::callback::Interval::new(3_000, move || reload.emit(()));
            move || drop(t)
        });
    }
    let table = render_load(&list, &reload, |cs| {
        if cs.is_empty() {
            return html! { <p class="empty" id="campaigns-empty">{ i18n.t("campaigns-none") }</p> };
        }
        html! {
            <table class="data" id="campaigns-table">
                <caption class="sr-only">{ i18n.t("campaigns-title") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("campaign-name") }</th>
                    <th scope="col">{ i18n.t("campaign-status") }</th>
                    <th scope="col">{ i18n.t("campaign-contacts") }</th>
                    <th scope="col">{ i18n.t("campaign-dialled") }</th>
                    <th scope="col">{ outcome_text(&i18n, "confirmed") }</th>
                    <th scope="col">{ outcome_text(&i18n, "answered") }</th>
                    <th scope="col">{ outcome_text(&i18n, "busy") }</th>
                    <th scope="col">{ outcome_text(&i18n, "no_answer") }</th>
                    <th scope="col">{ outcome_text(&i18n, "pending") }</th>
                </tr></thead>
                <tbody>{ for cs.iter().map(|c| {
                    let pick = { let selected = selected.clone(); let id = c.id; move |_| selected.set(Some(id)) };
                    let k = &c.counts;
                    html! {
                        <tr data-name={c.input.name.clone()} data-status={c.status.clone()}>
                            <td><button type="button" class="link" onclick={pick}>{ &c.input.name }</button></td>
                            <td><span class={classes!("badge", (c.status == "running").then_some("ok"))}>{ status_text(&i18n, &c.status) }</span></td>
                            <td class="num">{ i18n.number(k.contacts) }</td>
                            <td class="num">{ i18n.number(k.dialled) }</td>
                            <td class="num" data-count="confirmed">{ i18n.number(k.confirmed) }</td>
                            <td class="num" data-count="answered">{ i18n.number(k.answered + k.not_confirmed) }</td>
                            <td class="num" data-count="busy">{ i18n.number(k.busy) }</td>
                            <td class="num" data-count="no_answer">{ i18n.number(k.no_answer) }</td>
                            <td class="num" data-count="pending">{ i18n.number(k.pending + k.dialing) }</td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });
    let current = match (&list, *selected) {
        (Load::Ready(cs), Some(id)) => cs.iter().find(|c| c.id == id).cloned(),
        _ => None,
    };
    html! {
        <>
            <h1>{ i18n.t("campaigns-title") }</h1>
            <p class="muted">{ i18n.t("campaigns-intro") }</p>
            <section class="card" aria-labelledby="campaigns-h">
                <h2 id="campaigns-h">{ i18n.t("campaigns-register") }</h2>
                { table }
            </section>
            if let Some(c) = current {
                <CampaignCard key={c.id.to_string()} campaign={c.clone()} changed={reload.clone()} />
            }
            <NewCampaign created={{
                let (reload, selected) = (reload.clone(), selected.clone());
                Callback::from(move |id: Uuid| { selected.set(Some(id)); reload.emit(()) })
            }} />
            <BlocklistCard />
        </>
    }
}

// ---------------------------------------------------------------- new campaign

#[derive(Clone, PartialEq)]
struct Draft {
    kind: String,
    dial_mode: String,
    queue: String,
    abandon: String,
    no_agent_prompt: String,
    machine: String,
    script: String,
    missed: bool,
    name: String,
    caller_id: String,
    prompt: String,
    confirm: String,
    from: String,
    to: String,
    weekends: bool,
    timezone: String,
    attempts: String,
    retry_minutes: String,
    ring: String,
    lines: String,
}

impl Default for Draft {
    fn default() -> Self {
        Draft {
            kind: "message".into(),
            dial_mode: "progressive".into(),
            queue: String::new(),
            abandon: "3".into(),
            no_agent_prompt: "goodbye".into(),
            machine: "off".into(),
            script: String::new(),
            missed: false,
            name: String::new(),
            caller_id: "+".into(),
            prompt: "greeting".into(),
            confirm: String::new(),
            from: "09:00".into(),
            to: "20:00".into(),
            weekends: false,
            timezone: "UTC".into(),
            attempts: "3".into(),
            retry_minutes: "30".into(),
            ring: "30".into(),
            lines: "5".into(),
        }
    }
}

fn int(s: &str) -> serde_json::Value {
    s.trim()
        .parse::<i64>()
        .map(serde_json::Value::from)
        .unwrap_or_else(|_| serde_json::Value::from(s))
}

#[derive(Properties, PartialEq)]
struct NewCampaignProps {
    created: Callback<Uuid>,
}

#[function_component]
fn NewCampaign(p: &NewCampaignProps) -> Html {
    let i18n = use_i18n();
    let form = use_reducer(Form::<Draft>::default);
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let (prompts, _) = use_get::<Vec<PromptDto>>("/ivr/prompts".into());
    let d = form.0.clone();
    let mut prompt_options: Vec<(String, String)> = match &prompts {
        Load::Ready(ps) => ps
            .iter()
            .map(|p| (p.name.clone(), p.name.clone()))
            .collect(),
        _ => vec![],
    };
    prompt_options.extend(
        BUILTIN_PROMPTS
            .iter()
            .map(|b| (b.to_string(), super::ivr::builtin_prompt_label(&i18n, b))),
    );
    // The numbers a campaign may show (own and verified, `/caller-ids`): picked from a
    // list when there are any; the first is chosen until the user picks another.
    let (rules, _) = use_get::<OutboundRulesDto>("/outbound-rules".into());
    let caller_ids: Vec<String> = match &rules {
        Load::Ready(r) => r.caller_ids.clone(),
        _ => vec![],
    };
    {
        let form = form.clone();
        use_effect_with(
            (caller_ids.clone(), d.caller_id.clone()),
            move |(ids, chosen)| {
                if let Some(first) = ids.first().cloned() {
                    if !ids.contains(chosen) {
                        form.dispatch(Box::new(move |d: &mut Draft| d.caller_id = first));
                    }
                }
            },
        );
    }
    let (queues, _) = use_get::<Vec<hotline_wire::api::QueueDto>>("/queues".into());
    let mut queue_options = vec![(String::new(), i18n.t("campaign-choose-queue"))];
    if let Load::Ready(qs) = &queues {
        queue_options.extend(qs.iter().map(|q| (q.id.to_string(), q.name.clone())));
    }
    let kind_options: Vec<(String, String)> = ["message", "agent", "survey"]
        .iter()
        .map(|k| (k.to_string(), i18n.t(&format!("campaign-kind-{k}"))))
        .collect();
    let mode_options: Vec<(String, String)> = ["preview", "progressive", "predictive"]
        .iter()
        .map(|k| (k.to_string(), i18n.t(&format!("campaign-mode-{k}"))))
        .collect();
    let machine_options: Vec<(String, String)> = ["off", "hang_up", "leave_message"]
        .iter()
        .filter(|k| d.kind == "message" || **k != "leave_message")
        .map(|k| {
            (
                k.to_string(),
                i18n.t(&format!("campaign-machine-{}", k.replace('_', "-"))),
            )
        })
        .collect();
    let mut confirm_options = vec![(String::new(), i18n.t("campaign-no-confirm"))];
    confirm_options.extend("1234567890".chars().map(|c| (c.to_string(), c.to_string())));
    let submit = {
        let (errors, failure, busy, created, form) = (
            errors.clone(),
            failure.clone(),
            busy.clone(),
            p.created.clone(),
            form.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let d = form.0.clone();
            let day = json!([d.from.trim(), d.to.trim()]);
            let hours: Vec<serde_json::Value> = (0..7)
                .map(|i| {
                    if i < 5 || d.weekends {
                        day.clone()
                    } else {
                        serde_json::Value::Null
                    }
                })
                .collect();
            let retry = d
                .retry_minutes
                .trim()
                .parse::<i64>()
                .map(|m| serde_json::Value::from(m * 60))
                .unwrap_or_else(|_| serde_json::Value::from(d.retry_minutes.clone()));
            let script = match hotline_wire::campaigns::parse_script(&d.script) {
                Ok(s) => s,
                Err(e) => {
                    let mut fe = FieldErrors::new();
                    fe.insert("script".into(), e);
                    errors.set(fe);
                    return;
                }
            };
            let message = d.kind == "message";
            let agent = d.kind == "agent";
            let body = json!({
                "name": d.name, "kind": d.kind, "caller_id": d.caller_id.trim(),
                "prompt": if message { serde_json::Value::from(d.prompt.clone()) } else { serde_json::Value::Null },
                "confirm_digit": if d.confirm.is_empty() || !message { serde_json::Value::Null } else { d.confirm.clone().into() },
                "dial_mode": if agent { serde_json::Value::from(d.dial_mode.clone()) } else { serde_json::Value::Null },
                "queue_id": if agent && !d.queue.is_empty() { serde_json::Value::from(d.queue.clone()) } else { serde_json::Value::Null },
                "max_abandon_pct": d.abandon.trim().parse::<f64>().map(serde_json::Value::from).unwrap_or_else(|_| d.abandon.clone().into()),
                "no_agent_prompt": if agent { serde_json::Value::from(d.no_agent_prompt.clone()) } else { serde_json::Value::Null },
                "machine_action": d.machine, "script": script, "work_missed_calls": d.missed,
                "calling_hours": hours, "timezone": d.timezone.trim(),
                "max_attempts": int(&d.attempts), "retry_interval_secs": retry,
                "retry_on": ["busy", "no_answer"], "ring_timeout_secs": int(&d.ring),
                "max_lines": int(&d.lines),
            });
            let (errors, failure, busy, created, form) = (
                errors.clone(),
                failure.clone(),
                busy.clone(),
                created.clone(),
                form.clone(),
            );
            busy.set(true);
            errors.set(FieldErrors::new());
            failure.set(None);
            spawn(async move {
                let r = api::post::<_, CampaignDto>("/campaigns", &body).await;
                busy.set(false);
                match r {
                    Ok(c) => {
                        form.dispatch(Box::new(|d: &mut Draft| *d = Draft::default()));
                        created.emit(c.id);
                    }
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let err = |f: &str| errors.get(f).cloned();
    html! {
        <section class="card" aria-labelledby="new-campaign-h">
            <h2 id="new-campaign-h">{ i18n.t("campaign-new") }</h2>
            <form onsubmit={submit} id="campaign-form" novalidate=true>
                <div class="grid2">
                    <TextField id="campaign-name" label={i18n.t("campaign-name")} value={d.name.clone()}
                        oninput={bind(&form, |d, v| d.name = v)} error={err("name")} required=true />
                    if caller_ids.is_empty() {
                        <TextField id="campaign-caller-id" label={i18n.t("campaign-caller-id")} value={d.caller_id.clone()}
                            oninput={bind(&form, |d, v| d.caller_id = v)} error={err("caller_id")} required=true
                            hint={i18n.t("campaign-caller-id-hint")} />
                    } else {
                        <SelectField id="campaign-caller-id" label={i18n.t("campaign-caller-id")} value={d.caller_id.clone()}
                            options={caller_ids.iter().map(|n| (n.clone(), n.clone())).collect::<Vec<_>>()}
                            onchange={bind(&form, |d, v| d.caller_id = v)} error={err("caller_id")} required=true />
                    }
                    <SelectField id="campaign-kind" label={i18n.t("campaign-kind")} value={d.kind.clone()}
                        options={kind_options} onchange={bind(&form, |d, v| d.kind = v)} error={err("kind")} />
                    if d.kind == "message" {
                        <SelectField id="campaign-prompt" label={i18n.t("campaign-prompt")} value={d.prompt.clone()}
                            options={prompt_options.clone()} onchange={bind(&form, |d, v| d.prompt = v)} error={err("prompt")} />
                        <SelectField id="campaign-confirm" label={i18n.t("campaign-confirm")} value={d.confirm.clone()}
                            options={confirm_options} onchange={bind(&form, |d, v| d.confirm = v)} error={err("confirm_digit")} />
                    }
                    if d.kind == "agent" {
                        <SelectField id="campaign-mode" label={i18n.t("campaign-mode")} value={d.dial_mode.clone()}
                            options={mode_options} onchange={bind(&form, |d, v| d.dial_mode = v)} error={err("dial_mode")} />
                        <SelectField id="campaign-queue" label={i18n.t("campaign-queue")} value={d.queue.clone()}
                            options={queue_options} onchange={bind(&form, |d, v| d.queue = v)} error={err("queue_id")} />
                        <TextField id="campaign-abandon" label={i18n.t("campaign-abandon")} kind="number" value={d.abandon.clone()}
                            oninput={bind(&form, |d, v| d.abandon = v)} error={err("max_abandon_pct")}
                            hint={i18n.t("campaign-abandon-hint")} />
                        <SelectField id="campaign-no-agent" label={i18n.t("campaign-no-agent-prompt")} value={d.no_agent_prompt.clone()}
                            options={prompt_options} onchange={bind(&form, |d, v| d.no_agent_prompt = v)} error={err("no_agent_prompt")} />
                    }
                    <SelectField id="campaign-machine" label={i18n.t("campaign-machine")} value={d.machine.clone()}
                        options={machine_options} onchange={bind(&form, |d, v| d.machine = v)} error={err("machine_action")} />
                    <TextField id="campaign-from" label={i18n.t("campaign-hours-from")} kind="time" value={d.from.clone()}
                        oninput={bind(&form, |d, v| d.from = v)} error={err("calling_hours")} />
                    <TextField id="campaign-to" label={i18n.t("campaign-hours-to")} kind="time" value={d.to.clone()}
                        oninput={bind(&form, |d, v| d.to = v)} />
                    <TextField id="campaign-timezone" label={i18n.t("campaign-timezone")} value={d.timezone.clone()}
                        oninput={bind(&form, |d, v| d.timezone = v)} error={err("timezone")}
                        hint={i18n.t("campaign-timezone-hint")} />
                    <TextField id="campaign-attempts" label={i18n.t("campaign-attempts")} kind="number" value={d.attempts.clone()}
                        oninput={bind(&form, |d, v| d.attempts = v)} error={err("max_attempts")} />
                    <TextField id="campaign-retry" label={i18n.t("campaign-retry-minutes")} kind="number" value={d.retry_minutes.clone()}
                        oninput={bind(&form, |d, v| d.retry_minutes = v)} error={err("retry_interval_secs")} />
                    <TextField id="campaign-ring" label={i18n.t("campaign-ring-timeout")} kind="number" value={d.ring.clone()}
                        oninput={bind(&form, |d, v| d.ring = v)} error={err("ring_timeout_secs")} />
                    <TextField id="campaign-lines" label={i18n.t("campaign-lines")} kind="number" value={d.lines.clone()}
                        oninput={bind(&form, |d, v| d.lines = v)} error={err("max_lines")} />
                </div>
                if d.kind != "message" {
                    <div class={classes!("field", err("script").is_some().then_some("invalid"))}>
                        <label for="campaign-script">{ i18n.t(if d.kind == "survey" { "campaign-survey-questions" } else { "campaign-script" }) }</label>
                        <textarea id="campaign-script" rows="6" value={d.script.clone()}
                            aria-describedby="campaign-script-hint"
                            oninput={{ let f = form.dispatcher(); Callback::from(move |e: InputEvent| {
                                let v = e.target_unchecked_into::<web_sys::HtmlTextAreaElement>().value();
                                f.dispatch(Box::new(move |d: &mut Draft| d.script = v)) }) }}
                            onchange={{ let f = form.dispatcher(); Callback::from(move |e: Event| {
                                let v = e.target_unchecked_into::<web_sys::HtmlTextAreaElement>().value();
                                f.dispatch(Box::new(move |d: &mut Draft| d.script = v)) }) }} />
                        <p class="hint" id="campaign-script-hint">{ i18n.t("campaign-script-hint") }</p>
                        if let Some(e) = err("script") { <p class="field-error" id="campaign-script-error">{ e }</p> }
                    </div>
                }
                <Checkbox id="campaign-missed" label={i18n.t("campaign-work-missed")} checked={d.missed}
                    onchange={{ let f = form.dispatcher(); Callback::from(move |b: bool| f.dispatch(Box::new(move |d: &mut Draft| d.missed = b))) }} />
                <Checkbox id="campaign-weekends" label={i18n.t("campaign-weekends")} checked={d.weekends}
                    onchange={{ let f = form.dispatcher(); Callback::from(move |b: bool| f.dispatch(Box::new(move |d: &mut Draft| d.weekends = b))) }} />
                if let Some(e) = &*failure { if e.field_errors().is_empty() { <ErrorBox error={e.clone()} /> } }
                <button type="submit" class="primary" id="campaign-create" disabled={*busy}>{ i18n.t("campaign-create") }</button>
            </form>
        </section>
    }
}

// ---------------------------------------------------------------- one campaign

/// What an import or a CRM selection added: the notice and the rows refused.
fn report_added(
    i18n: &I18n,
    a: &ContactsAdded,
    notice: &UseStateHandle<Option<String>>,
    errors: &UseStateHandle<Vec<String>>,
) {
    notice.set(Some(i18n.ta(
        "campaign-imported",
        &[
            ("added", a.added.into()),
            ("duplicates", a.duplicates.into()),
            ("errors", (a.errors.len() as i64).into()),
        ],
    )));
    errors.set(
        a.errors
            .iter()
            .map(|e| {
                i18n.ta(
                    "campaign-import-error",
                    &[
                        ("line", (e.line as i64).into()),
                        ("phone", e.phone.clone().into()),
                        ("message", e.message.clone().into()),
                    ],
                )
            })
            .collect(),
    );
}

#[derive(Properties, PartialEq)]
struct CardProps {
    campaign: CampaignDto,
    changed: Callback<()>,
}

#[function_component]
fn CampaignCard(p: &CardProps) -> Html {
    let i18n = use_i18n();
    let c = &p.campaign;
    let (results, reload_results) =
        use_get::<CampaignResults>(format!("/campaigns/{}/results", c.id));
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    let import_errors = use_state(Vec::<String>::new);
    let input = use_node_ref();
    // The card's figures follow the register's refresh.
    {
        let reload_results = reload_results.clone();
        use_effect_with(c.counts.clone(), move |_| reload_results.emit(()));
    }
    let action = |verb: &'static str| {
        let (failure, changed, id) = (failure.clone(), p.changed.clone(), c.id);
        Callback::from(move |_: MouseEvent| {
            let (failure, changed) = (failure.clone(), changed.clone());
            failure.set(None);
            spawn(async move {
                match api::post::<_, CampaignDto>(&format!("/campaigns/{id}/{verb}"), &json!({}))
                    .await
                {
                    Ok(_) => changed.emit(()),
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let on_import = {
        let (failure, notice, import_errors, input, changed, id, i18n) = (
            failure.clone(),
            notice.clone(),
            import_errors.clone(),
            input.clone(),
            p.changed.clone(),
            c.id,
            i18n.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(el) = input.cast::<web_sys::HtmlInputElement>() else {
                return;
            };
            let Some(file) = el.files().and_then(|l| l.get(0)) else {
                notice.set(Some(i18n.t("campaign-choose-file")));
                return;
            };
            let (failure, notice, import_errors, changed, i18n) = (
                failure.clone(),
                notice.clone(),
                import_errors.clone(),
                changed.clone(),
                i18n.clone(),
            );
            failure.set(None);
            notice.set(None);
            spawn(async move {
                let r = api::upload_body::<ContactsAdded>(
                    &format!("/campaigns/{id}/contacts/import"),
                    &file,
                    "text/csv",
                )
                .await;
                match r {
                    Ok(a) => {
                        report_added(&i18n, &a, &notice, &import_errors);
                        el.set_value("");
                        changed.emit(());
                    }
                    Err(e) => failure.set(Some(e)),
                }
            });
        })
    };
    let can_start = matches!(c.status.as_str(), "draft" | "paused");
    let res = render_load(&results, &reload_results, |r| {
        let k = &r.counts;
        let rows = [
            ("confirmed", k.confirmed),
            ("not_confirmed", k.not_confirmed),
            ("answered", k.answered),
            ("busy", k.busy),
            ("no_answer", k.no_answer),
            ("failed", k.failed),
            ("dnc", k.dnc),
            ("abandoned", k.abandoned),
            ("machine", k.machine),
            ("completed", k.completed),
            ("handled", k.handled),
            ("pending", k.pending + k.dialing + k.previewing),
        ];
        html! {
            <>
                <table class="data" id="campaign-results">
                    <caption>{ i18n.t("campaign-results") }</caption>
                    <tbody>
                        <tr data-outcome="dialled"><th scope="row">{ i18n.t("campaign-dialled") }</th><td class="num">{ i18n.number(k.dialled) }</td></tr>
                        { for rows.iter().map(|(o, n)| html! {
                            <tr data-outcome={*o}><th scope="row">{ outcome_text(&i18n, o) }</th><td class="num">{ i18n.number(*n) }</td></tr>
                        }) }
                    </tbody>
                </table>
                if !r.hours.is_empty() {
                    <table class="data" id="campaign-hours">
                        <caption>{ i18n.t("campaign-by-hour") }</caption>
                        <thead><tr>
                            <th scope="col">{ i18n.t("campaign-hour") }</th>
                            <th scope="col">{ i18n.t("campaign-dialled") }</th>
                            <th scope="col">{ outcome_text(&i18n, "answered") }</th>
                            <th scope="col">{ outcome_text(&i18n, "confirmed") }</th>
                            <th scope="col">{ outcome_text(&i18n, "busy") }</th>
                            <th scope="col">{ outcome_text(&i18n, "no_answer") }</th>
                        </tr></thead>
                        <tbody>{ for r.hours.iter().map(|h| html! {
                            <tr>
                                <td>{ i18n.datetime(&h.hour) }</td>
                                <td class="num">{ i18n.number(h.dialled) }</td>
                                <td class="num">{ i18n.number(h.answered) }</td>
                                <td class="num">{ i18n.number(h.confirmed) }</td>
                                <td class="num">{ i18n.number(h.busy) }</td>
                                <td class="num">{ i18n.number(h.no_answer) }</td>
                            </tr>
                        }) }</tbody>
                    </table>
                }
                { for r.answers.iter().map(|q| html! {
                    <table class="data campaign-answers" data-question={q.id.clone()}>
                        <caption>{ i18n.ta("campaign-question-answered", &[("question", q.text.clone().into()), ("answered", q.answered.into())]) }</caption>
                        <tbody>
                            { for q.options.iter().map(|(v, label, n)| html! {
                                <tr data-value={v.clone()}><th scope="row">{ label }</th><td class="num">{ i18n.number(*n) }</td></tr>
                            }) }
                        </tbody>
                    </table>
                }) }
            </>
        }
    });
    html! {
        <section class="card" id="campaign-card" aria-labelledby="campaign-card-h" data-status={c.status.clone()}>
            <div class="card-head">
                <h2 id="campaign-card-h">{ &c.input.name }{ " — " }{ status_text(&i18n, &c.status) }</h2>
                <div class="actions">
                    if can_start { <button type="button" class="primary" id="campaign-start" onclick={action("start")}>{ i18n.t("campaign-start") }</button> }
                    if c.status == "running" { <button type="button" class="secondary" id="campaign-pause" onclick={action("pause")}>{ i18n.t("campaign-pause") }</button> }
                    if matches!(c.status.as_str(), "running" | "paused" | "draft") {
                        <button type="button" class="danger" id="campaign-stop" onclick={action("stop")}>{ i18n.t("campaign-stop") }</button>
                    }
                    <a class="button secondary" id="campaign-export" href={format!("/api/v1/campaigns/{}/export", c.id)} download="">{ i18n.t("campaign-export") }</a>
                </div>
            </div>
            if let Some(hold) = &c.dial_hold {
                <div class="alert warn" id="campaign-dial-hold" role="status">
                    <p>{ hold_text(&i18n, hold) }</p>
                </div>
            }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if let Some(n) = &*notice { <Notice text={n.clone()} /> }
            if !import_errors.is_empty() {
                <ul class="field-error" id="campaign-import-errors">{ for import_errors.iter().map(|e| html! { <li>{ e }</li> }) }</ul>
            }
            if !matches!(c.status.as_str(), "stopped" | "finished") {
                <div class="field">
                    <label for="campaign-file">{ i18n.t("campaign-contacts-file") }</label>
                    <input type="file" id="campaign-file" ref={input} accept=".csv,.xlsx,text/csv" />
                    <p class="hint">{ i18n.t("campaign-contacts-hint") }</p>
                    <button type="button" class="secondary" id="campaign-import" onclick={on_import}>{ i18n.t("campaign-import") }</button>
                </div>
                <CrmSelection campaign={c.id} on_added={{
                    let (notice, import_errors, changed, i18n) = (notice.clone(), import_errors.clone(), p.changed.clone(), i18n.clone());
                    Callback::from(move |a: ContactsAdded| { report_added(&i18n, &a, &notice, &import_errors); changed.emit(()) })
                }} />
            }
            { res }
            <CampaignContacts key={format!("{}-{}", c.id, c.counts.dialled)} campaign={c.id} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ContactsProps {
    campaign: Uuid,
}

/// The campaign's contacts (first 50, or one status): status, attempts, last outcome, the
/// key pressed or the script's answers, and each one's attempt log on demand.
#[function_component]
fn CampaignContacts(p: &ContactsProps) -> Html {
    let i18n = use_i18n();
    let status = use_state(String::new);
    let path = if status.is_empty() {
        format!("/campaigns/{}/contacts?per_page=50", p.campaign)
    } else {
        format!(
            "/campaigns/{}/contacts?per_page=50&status={}",
            p.campaign, *status
        )
    };
    let (page, reload) =
        use_get::<hotline_wire::api::Page<hotline_wire::campaigns::ContactDto>>(path);
    let open = use_state(|| None::<Uuid>);
    let statuses = [
        "",
        "pending",
        "dialing",
        "answered",
        "confirmed",
        "not_confirmed",
        "completed",
        "busy",
        "no_answer",
        "failed",
        "abandoned",
        "machine",
        "dnc",
        "handled",
    ];
    let options: Vec<(String, String)> = statuses
        .iter()
        .map(|s| {
            let label = if s.is_empty() {
                i18n.t("campaign-contacts-all")
            } else {
                outcome_text(&i18n, s)
            };
            (s.to_string(), label)
        })
        .collect();
    let table = render_load(&page, &reload, |pg| {
        html! {
            <table class="data" id="campaign-contacts">
                <caption>{ i18n.ta("campaign-contacts-shown", &[("shown", (pg.items.len() as i64).into()), ("total", pg.total.into())]) }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("desk-preview-phone") }</th>
                    <th scope="col">{ i18n.t("campaign-name") }</th>
                    <th scope="col">{ i18n.t("campaign-status") }</th>
                    <th scope="col">{ i18n.t("campaign-attempts") }</th>
                    <th scope="col">{ i18n.t("campaign-answers") }</th>
                    <th scope="col"></th>
                </tr></thead>
                <tbody>{ for pg.items.iter().map(|k| {
                    let toggle = { let open = open.clone(); let id = k.id; Callback::from(move |_: MouseEvent| open.set(if *open == Some(id) { None } else { Some(id) })) };
                    let answers = if k.answers.is_empty() { k.dtmf.clone().unwrap_or_default() } else {
                        k.answers.iter().map(|(q, a)| format!("{q}: {a}")).collect::<Vec<_>>().join("; ")
                    };
                    html! {
                        <>
                            <tr data-phone={k.phone.clone()} data-status={k.status.clone()}>
                                <td>{ &k.phone }</td>
                                <td>{ &k.name }</td>
                                <td>{ outcome_text(&i18n, &k.status) }</td>
                                <td class="num">{ k.attempts }</td>
                                <td>{ answers }</td>
                                <td><button type="button" class="link" onclick={toggle}>{ i18n.t("campaign-attempt-log") }</button></td>
                            </tr>
                            if *open == Some(k.id) {
                                <tr class="attempt-log"><td colspan="6"><AttemptLog campaign={p.campaign} contact={k.id} /></td></tr>
                            }
                        </>
                    }
                }) }</tbody>
            </table>
        }
    });
    html! {
        <div class="campaign-contacts">
            <SelectField id="campaign-contacts-status" label={i18n.t("campaign-contacts-filter")} value={(*status).clone()}
                {options} onchange={{ let s = status.clone(); Callback::from(move |v: String| s.set(v)) }} />
            { table }
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct AttemptLogProps {
    campaign: Uuid,
    contact: Uuid,
}

#[function_component]
fn AttemptLog(p: &AttemptLogProps) -> Html {
    let i18n = use_i18n();
    let (log, reload) = use_get::<Vec<hotline_wire::campaigns::AttemptDto>>(format!(
        "/campaigns/{}/contacts/{}/attempts",
        p.campaign, p.contact
    ));
    render_load(&log, &reload, |log| html! {
        <ol class="attempts" id={format!("attempts-{}", p.contact)}>
            { for log.iter().map(|a| html! {
                <li data-outcome={a.outcome.clone().unwrap_or_default()}>
                    { i18n.datetime(&a.started_at) }{ " · " }
                    { a.outcome.as_deref().map(|o| outcome_text(&i18n, o)).unwrap_or_else(|| i18n.t("campaign-attempt-in-progress")) }
                    if let Some(s) = a.sip_status { { format!(" (SIP {s})") } }
                    if let Some(m) = &a.amd { { " · " }{ i18n.ta("campaign-amd", &[("result", i18n.try_t(&format!("campaign-amd-{m}")).unwrap_or_else(|| m.clone()).into())]) } }
                </li>
            }) }
        </ol>
    })
}

#[derive(Properties, PartialEq)]
struct CrmSelectionProps {
    campaign: Uuid,
    on_added: Callback<ContactsAdded>,
}

/// Adds the customers a CRM search finds: free text and one of the tenant's fields.
#[function_component]
fn CrmSelection(p: &CrmSelectionProps) -> Html {
    let i18n = use_i18n();
    let (fields, _) =
        use_get::<Vec<hotline_wire::crm::CustomerFieldDto>>("/customer-fields".into());
    let q = use_state(String::new);
    let key = use_state(String::new);
    let value = use_state(String::new);
    let label = use_state(String::new);
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let mut keys = vec![(String::new(), i18n.t("campaign-crm-any-field"))];
    if let Load::Ready(fs) = &fields {
        keys.extend(
            fs.iter()
                .filter(|f| f.active)
                .map(|f| (f.key.clone(), f.label.clone())),
        );
    }
    let add = {
        let (q, key, value, label, errors, failure, on_added, id) = (
            q.clone(),
            key.clone(),
            value.clone(),
            label.clone(),
            errors.clone(),
            failure.clone(),
            p.on_added.clone(),
            p.campaign,
        );
        Callback::from(move |_: MouseEvent| {
            let mut fields = serde_json::Map::new();
            if !key.is_empty() {
                fields.insert((*key).clone(), value.trim().into());
            }
            let body = json!({
                "q": if q.trim().is_empty() { serde_json::Value::Null } else { q.trim().into() },
                "fields": fields,
                "phone_label": if label.trim().is_empty() { serde_json::Value::Null } else { label.trim().into() },
            });
            let (errors, failure, on_added) = (errors.clone(), failure.clone(), on_added.clone());
            errors.set(FieldErrors::new());
            failure.set(None);
            spawn(async move {
                match api::post::<_, ContactsAdded>(
                    &format!("/campaigns/{id}/contacts/from-customers"),
                    &body,
                )
                .await
                {
                    Ok(a) => on_added.emit(a),
                    Err(e) => {
                        errors.set(e.field_errors());
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let set = |h: &UseStateHandle<String>| {
        let h = h.clone();
        Callback::from(move |v: String| h.set(v))
    };
    html! {
        <fieldset class="crm-selection" id="campaign-crm">
            <legend>{ i18n.t("campaign-crm-title") }</legend>
            <div class="grid2">
                <TextField id="campaign-crm-q" label={i18n.t("campaign-crm-search")} value={(*q).clone()} oninput={set(&q)}
                    error={errors.get("q").cloned()} />
                <SelectField id="campaign-crm-field" label={i18n.t("campaign-crm-field")} value={(*key).clone()}
                    options={keys} onchange={set(&key)} error={errors.get("fields").cloned()} />
                if !key.is_empty() {
                    <TextField id="campaign-crm-value" label={i18n.t("campaign-crm-value")} value={(*value).clone()} oninput={set(&value)} />
                }
                <TextField id="campaign-crm-label" label={i18n.t("campaign-crm-phone-label")} value={(*label).clone()} oninput={set(&label)}
                    hint={i18n.t("campaign-crm-phone-label-hint")} />
            </div>
            if let Some(e) = &*failure { if e.field_errors().is_empty() { <ErrorBox error={e.clone()} /> } }
            <button type="button" class="secondary" id="campaign-crm-add" onclick={add}>{ i18n.t("campaign-crm-add") }</button>
        </fieldset>
    }
}

// ---------------------------------------------------------------- blocked numbers

#[function_component]
fn BlocklistCard() -> Html {
    let i18n = use_i18n();
    let (list, reload) = use_get::<Vec<BlockedNumber>>("/blocklist".into());
    let number = use_state(String::new);
    let dir = use_state(|| "outbound".to_string());
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let add = {
        let (number, dir, errors, failure, reload) = (
            number.clone(),
            dir.clone(),
            errors.clone(),
            failure.clone(),
            reload.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let body = json!({ "number": number.trim(), "direction": *dir });
            let (number, errors, failure, reload) = (
                number.clone(),
                errors.clone(),
                failure.clone(),
                reload.clone(),
            );
            errors.set(FieldErrors::new());
            failure.set(None);
            spawn(async move {
                match api::post::<_, BlockedNumber>("/blocklist", &body).await {
                    Ok(_) => {
                        number.set(String::new());
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
    let remove = {
        let (failure, reload) = (failure.clone(), reload.clone());
        move |b: &BlockedNumber| {
            let path = format!("/blocklist/{}/{}", b.direction, api::enc(&b.number));
            let (failure, reload) = (failure.clone(), reload.clone());
            Callback::from(move |_: MouseEvent| {
                let (failure, reload, path) = (failure.clone(), reload.clone(), path.clone());
                spawn(async move {
                    match api::delete(&path).await {
                        Ok(()) => reload.emit(()),
                        Err(e) => failure.set(Some(e)),
                    }
                });
            })
        }
    };
    let table = render_load(&list, &reload, |bs| {
        if bs.is_empty() {
            return html! { <p class="empty" id="blocklist-empty">{ i18n.t("blocklist-none") }</p> };
        }
        html! {
            <table class="data" id="blocklist-table">
                <caption class="sr-only">{ i18n.t("blocklist-title") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("blocklist-number") }</th>
                    <th scope="col">{ i18n.t("blocklist-direction") }</th>
                    <th scope="col">{ i18n.t("blocklist-reason") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for bs.iter().map(|b| html! {
                    <tr data-number={b.number.clone()}>
                        <td>{ &b.number }</td>
                        <td>{ i18n.t(&format!("blocklist-{}", b.direction)) }</td>
                        <td>{ &b.reason }</td>
                        <td><button type="button" class="secondary" onclick={remove(b)}>{ i18n.t("action-delete") }</button></td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });
    html! {
        <section class="card" aria-labelledby="blocklist-h">
            <h2 id="blocklist-h">{ i18n.t("blocklist-title") }</h2>
            <p class="muted">{ i18n.t("blocklist-intro") }</p>
            { table }
            <form onsubmit={add} id="blocklist-form" novalidate=true class="inline">
                <TextField id="blocklist-number" label={i18n.t("blocklist-number")} value={(*number).clone()}
                    oninput={{ let n = number.clone(); Callback::from(move |v| n.set(v)) }} error={errors.get("number").cloned()} />
                <SelectField id="blocklist-direction" label={i18n.t("blocklist-direction")} value={(*dir).clone()}
                    options={vec![("outbound".into(), i18n.t("blocklist-outbound")), ("inbound".into(), i18n.t("blocklist-inbound"))]}
                    onchange={{ let d = dir.clone(); Callback::from(move |v| d.set(v)) }} />
                <button type="submit" class="primary" id="blocklist-add">{ i18n.t("blocklist-add") }</button>
            </form>
            if let Some(e) = &*failure { if e.field_errors().is_empty() { <ErrorBox error={e.clone()} /> } }
        </section>
    }
}
