//! Missed calls for supervisors (`/supervisor/missed-calls`): the list with filters (open,
//! handled or all; reason; number; days), who handled each entry, "Mark handled", and "Call
//! back" for supervisors who also take calls (the callback rings their softphone).

use hotline_wire::calls::{CallbackStarted, MissedCallDto, MISSED_REASONS};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::use_app;

fn reason_label(i18n: &I18n, r: &str) -> String {
    i18n.try_t(&format!("missed-reason-{}", r.replace('_', "-")))
        .unwrap_or_else(|| r.to_string())
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

#[derive(Clone, PartialEq)]
struct Filters {
    status: String,
    reason: String,
    number: String,
    from: String,
    to: String,
}

impl Default for Filters {
    fn default() -> Self {
        Filters {
            status: "open".into(),
            reason: String::new(),
            number: String::new(),
            from: String::new(),
            to: String::new(),
        }
    }
}

impl Filters {
    fn path(&self) -> String {
        let mut p = format!("/missed-calls?status={}", api::enc(&self.status));
        if !self.reason.is_empty() {
            p += &format!("&reason={}", api::enc(&self.reason));
        }
        if !self.number.trim().is_empty() {
            p += &format!("&number={}", api::enc(self.number.trim()));
        }
        if let Some(t) = day_start(&self.from, 0) {
            p += &format!("&from={}", api::enc(&t));
        }
        if let Some(t) = day_start(&self.to, 1) {
            p += &format!("&to={}", api::enc(&t));
        }
        p
    }
}

#[function_component]
pub fn MissedCallsPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let form = use_reducer(|| Form(Filters::default()));
    let applied = use_state(Filters::default);
    let to_error = use_state(|| None::<String>);
    let (list, reload) = use_get::<Vec<MissedCallDto>>(applied.path());
    let notice = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    let takes_calls = app.session.can(perm::AGENT_STATE);

    let onsubmit = {
        let (form, applied, i18n, to_error) = (
            form.clone(),
            applied.clone(),
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
        })
    };
    let onreset = {
        let (form, applied, to_error) = (form.clone(), applied.clone(), to_error.clone());
        Callback::from(move |_| {
            form.dispatch(Box::new(|f: &mut Filters| *f = Filters::default()));
            applied.set(Filters::default());
            to_error.set(None);
        })
    };
    let handled = {
        let (notice, failure, reload, i18n) = (
            notice.clone(),
            failure.clone(),
            reload.clone(),
            i18n.clone(),
        );
        Callback::from(move |(id, number): (Uuid, String)| {
            let (notice, failure, reload, i18n) = (
                notice.clone(),
                failure.clone(),
                reload.clone(),
                i18n.clone(),
            );
            failure.set(None);
            spawn(async move {
                match api::post_empty(
                    &format!("/missed-calls/{id}/handled"),
                    &serde_json::json!({}),
                )
                .await
                {
                    Ok(()) => notice.set(Some(
                        i18n.ta("missed-admin-marked", &[("number", number.into())]),
                    )),
                    Err(e) => failure.set(Some(e)),
                }
                reload.emit(());
            });
        })
    };
    let call_back = {
        let (notice, failure, reload, i18n) = (
            notice.clone(),
            failure.clone(),
            reload.clone(),
            i18n.clone(),
        );
        Callback::from(move |(id, number): (Uuid, String)| {
            let (notice, failure, reload, i18n) = (
                notice.clone(),
                failure.clone(),
                reload.clone(),
                i18n.clone(),
            );
            failure.set(None);
            spawn(async move {
                match api::post::<_, CallbackStarted>(
                    &format!("/missed-calls/{id}/callback"),
                    &serde_json::json!({}),
                )
                .await
                {
                    Ok(_) => notice.set(Some(
                        i18n.ta("missed-calling", &[("number", number.into())]),
                    )),
                    Err(e) => failure.set(Some(e)),
                }
                reload.emit(());
            });
        })
    };

    let status_opts = ["open", "handled", "all"]
        .iter()
        .map(|s| (s.to_string(), i18n.t(&format!("missed-admin-status-{s}"))))
        .collect::<Vec<_>>();
    let mut reason_opts = vec![(String::new(), i18n.t("call-log-any"))];
    reason_opts.extend(
        MISSED_REASONS
            .iter()
            .map(|r| (r.to_string(), reason_label(&i18n, r))),
    );

    let table = render_load(&list, &reload, |items| {
        if items.is_empty() {
            return html! { <p class="empty" id="missed-admin-empty">{ i18n.t("missed-admin-empty") }</p> };
        }
        html! {
            <table class="data" id="missed-admin-table">
                <thead><tr>
                    <th scope="col">{ i18n.t("call-log-caller") }</th>
                    <th scope="col">{ i18n.t("missed-admin-reason") }</th>
                    <th scope="col">{ i18n.t("missed-admin-calls") }</th>
                    <th scope="col">{ i18n.t("missed-admin-last") }</th>
                    <th scope="col">{ i18n.t("call-log-queue") }</th>
                    <th scope="col">{ i18n.t("missed-admin-attempts") }</th>
                    <th scope="col">{ i18n.t("missed-admin-handled") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("missed-admin-actions") }</span></th>
                </tr></thead>
                <tbody>{ for items.iter().map(|m| {
                    let at = m.last_at.unwrap_or(m.created_at);
                    let arg = (m.id, m.number.clone());
                    let on_handled = { let (cb, a) = (handled.clone(), arg.clone()); Callback::from(move |_: MouseEvent| cb.emit(a.clone())) };
                    let on_call = { let (cb, a) = (call_back.clone(), arg); Callback::from(move |_: MouseEvent| cb.emit(a.clone())) };
                    html! {
                        <tr class="missed-row" data-number={m.number.clone()}>
                            <td class="missed-number">{ &m.number }</td>
                            <td class="missed-reason">{ reason_label(&i18n, &m.reason) }</td>
                            <td>{ i18n.number(m.count as i64) }</td>
                            <td>{ i18n.datetime(&at) }</td>
                            <td class="missed-queue">{ m.queue_name.clone().unwrap_or_default() }</td>
                            <td>{ i18n.number(m.attempts as i64) }</td>
                            <td class="missed-handled-by">{ match (&m.handled_at, &m.handled_by_name) {
                                (Some(t), Some(n)) => i18n.ta("voicemail-handled-by", &[("name", n.clone().into()), ("time", i18n.datetime(t).into())]),
                                (Some(t), None) => i18n.datetime(t),
                                _ => String::new(),
                            } }</td>
                            <td class="actions">
                                if m.handled_at.is_none() {
                                    <button type="button" class="secondary missed-mark-handled" onclick={on_handled}
                                        aria-label={i18n.ta("missed-admin-mark-for", &[("number", m.number.clone().into())])}>
                                        { i18n.t("missed-admin-mark") }</button>
                                    if takes_calls {
                                        { " " }
                                        <button type="button" class="secondary missed-callback" onclick={on_call}
                                            aria-label={i18n.ta("missed-call-back-to", &[("number", m.number.clone().into())])}>
                                            { i18n.t("missed-call-back") }</button>
                                    }
                                }
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });

    html! {
        <>
            <div class="page-head">
                <h1>{ i18n.t("missed-admin-title") }</h1>
                <button type="button" class="secondary" onclick={let r = reload.clone(); move |_| r.emit(())}>{ i18n.t("action-refresh") }</button>
            </div>
            <form id="missed-admin-filters" class="filters card" {onsubmit}>
                <SelectField id="missed-admin-status" label={i18n.t("missed-admin-status")} value={form.0.status.clone()}
                    options={status_opts} onchange={bind(&form, |f, v| f.status = v)} />
                <SelectField id="missed-admin-reason" label={i18n.t("missed-admin-reason")} value={form.0.reason.clone()}
                    options={reason_opts} onchange={bind(&form, |f, v| f.reason = v)} />
                <TextField id="missed-admin-number" label={i18n.t("call-log-number")} value={form.0.number.clone()}
                    oninput={bind(&form, |f, v| f.number = v)} />
                <TextField id="missed-admin-from" kind="date" label={i18n.t("call-log-from")} value={form.0.from.clone()}
                    oninput={bind(&form, |f, v| f.from = v)} />
                <TextField id="missed-admin-to" kind="date" label={i18n.t("call-log-to")} value={form.0.to.clone()}
                    error={(*to_error).clone()} oninput={bind(&form, |f, v| f.to = v)} />
                <div class="filter-actions">
                    <button type="submit" class="primary" id="missed-admin-apply">{ i18n.t("action-filter") }</button>
                    <button type="button" class="secondary" onclick={onreset}>{ i18n.t("action-clear") }</button>
                </div>
            </form>
            if let Some(n) = &*notice { <p class="alert ok" role="status" id="missed-admin-notice">{ n }</p> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { table }
        </>
    }
}
