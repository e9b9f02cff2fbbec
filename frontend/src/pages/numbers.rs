//! Telephone numbers (issue 18, "Numbers").
//!
//! The tenant's page (`/admin/numbers`): its numbers with the published flow answering each
//! (`ivr.write`, through `/ivr/dids`), the platform's free numbers to ask for with a note, and
//! its requests with the operator's answer — a rejection's reason —, a pending one cancellable
//! (`settings.write`, `/numbers/…`).
//!
//! The operators' console (`/platform/numbers`): tenants' requests to approve or reject with a
//! reason, the pool with filters (state, call center, number or region) and paging, giving a
//! number to a call center, taking it back, deleting a free one (each confirmed in the page),
//! and adding numbers as a list or a range with a region and a description.

use std::rc::Rc;

use hotline_wire::api::{Page, PlatformTenant};
use hotline_wire::calls::FlowDto;
use hotline_wire::numbers::{
    FreeNumber, NumberRequestCreate, NumberRequestDto, NumberRequestReject, NumberState,
    PlatformNumberRequest, PoolAdd, PoolAssign, PoolNumber, RequestStatus,
};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError, FieldErrors};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::use_app;

fn state_word(i18n: &I18n, s: NumberState) -> String {
    i18n.t(match s {
        NumberState::Free => "numbers-state-free",
        NumberState::Requested => "numbers-state-requested",
        NumberState::Assigned => "numbers-state-assigned",
    })
}

fn status_word(i18n: &I18n, s: RequestStatus) -> String {
    i18n.t(match s {
        RequestStatus::Pending => "numbers-status-pending",
        RequestStatus::Approved => "numbers-status-approved",
        RequestStatus::Rejected => "numbers-status-rejected",
        RequestStatus::Cancelled => "numbers-status-cancelled",
    })
}

fn status_badge(i18n: &I18n, s: RequestStatus) -> Html {
    let class = match s {
        RequestStatus::Approved => Some("ok"),
        RequestStatus::Rejected => Some("bad"),
        _ => None,
    };
    html! { <span class={classes!("badge", "request-status", class)}>{ status_word(i18n, s) }</span> }
}

/// The messages of `field` and of its items (`numbers.3`), one after the other.
fn errors_under(e: &ApiError, field: &str) -> Option<String> {
    let p = e.problem()?;
    let all: Vec<&str> = p
        .errors
        .iter()
        .filter(|x| x.field == field || x.field.starts_with(&format!("{field}.")))
        .map(|x| x.message.as_str())
        .collect();
    (!all.is_empty()).then(|| all.join("; "))
}

// ---------------------------------------------------------------- the tenant's page

#[function_component]
pub fn NumbersPage() -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let version = use_state(|| 0u32);
    let bump = {
        let v = version.clone();
        Callback::from(move |_| v.set(*v + 1))
    };
    html! {
        <>
            <h1>{ i18n.t("numbers-title") }</h1>
            <p class="muted">{ i18n.t("numbers-intro") }</p>
            <div class="stack">
                if app.session.can(perm::IVR_WRITE) { <MyNumbers version={*version} /> }
                if app.session.can(perm::SETTINGS_WRITE) { <PoolRequests on_change={bump} /> }
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct VersionProps {
    version: u32,
}

/// The tenant's numbers and the published flow answering each.
#[function_component]
fn MyNumbers(p: &VersionProps) -> Html {
    let i18n = use_i18n();
    let (flows, _) = use_get::<Vec<FlowDto>>("/ivr/flows".into());
    let flows = match &flows {
        Load::Ready(f) => f.clone(),
        _ => Rc::new(Vec::new()),
    };
    html! {
        <section class="card" aria-labelledby="my-numbers-h">
            <h2 id="my-numbers-h">{ i18n.t("numbers-mine-title") }</h2>
            <p class="muted small">{ i18n.t("numbers-mine-intro") }</p>
            <DidFlowPicker {flows} empty_key="numbers-mine-empty" version={p.version} />
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ChangeProps {
    on_change: Callback<()>,
}

/// The free numbers to ask for, and the tenant's requests.
#[function_component]
fn PoolRequests(p: &ChangeProps) -> Html {
    let i18n = use_i18n();
    let search = use_state(String::new);
    let applied = use_state(String::new);
    let path = if applied.trim().is_empty() {
        "/numbers/pool".to_string()
    } else {
        format!("/numbers/pool?q={}", api::enc(applied.trim()))
    };
    let (free, reload_free) = use_get::<Vec<FreeNumber>>(path);
    let (mine, reload_mine) = use_get::<Vec<NumberRequestDto>>("/numbers/requests".into());
    let asking = use_state(|| None::<String>);
    let note = use_state(String::new);
    let note_error = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let reload_all = {
        let (a, b, changed) = (
            reload_free.clone(),
            reload_mine.clone(),
            p.on_change.clone(),
        );
        Callback::from(move |_: ()| {
            a.emit(());
            b.emit(());
            changed.emit(());
        })
    };

    let on_search = {
        let (search, applied) = (search.clone(), applied.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            applied.set((*search).clone());
        })
    };
    let send = {
        let (asking, note, note_error, failure, notice, busy, reload_all, i18n) = (
            asking.clone(),
            note.clone(),
            note_error.clone(),
            failure.clone(),
            notice.clone(),
            busy.clone(),
            reload_all.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(did) = (*asking).clone() else { return };
            let req = NumberRequestCreate {
                did: did.clone(),
                note: note.trim().to_string(),
            };
            let (asking, note, note_error, failure, notice, busy, reload_all, i18n) = (
                asking.clone(),
                note.clone(),
                note_error.clone(),
                failure.clone(),
                notice.clone(),
                busy.clone(),
                reload_all.clone(),
                i18n.clone(),
            );
            busy.set(true);
            failure.set(None);
            notice.set(None);
            note_error.set(None);
            spawn(async move {
                let r = api::post::<_, NumberRequestDto>("/numbers/requests", &req).await;
                busy.set(false);
                match r {
                    Ok(_) => {
                        asking.set(None);
                        note.set(String::new());
                        notice.set(Some(
                            i18n.ta("numbers-request-sent", &[("did", did.into())]),
                        ));
                    }
                    Err(e) => {
                        note_error.set(e.field_errors().get("note").cloned());
                        if e.status() == Some(409) || e.status() == Some(404) {
                            // The number went meanwhile: the list is read again.
                            asking.set(None);
                        }
                        failure.set(Some(e));
                    }
                }
                reload_all.emit(());
            });
        })
    };
    let cancel = {
        let (failure, notice, reload_all, i18n) = (
            failure.clone(),
            notice.clone(),
            reload_all.clone(),
            i18n.clone(),
        );
        move |r: &NumberRequestDto| {
            let (failure, notice, reload_all, i18n, id, did) = (
                failure.clone(),
                notice.clone(),
                reload_all.clone(),
                i18n.clone(),
                r.id,
                r.did.clone(),
            );
            Callback::from(move |_: MouseEvent| {
                let (failure, notice, reload_all, i18n, did) = (
                    failure.clone(),
                    notice.clone(),
                    reload_all.clone(),
                    i18n.clone(),
                    did.clone(),
                );
                failure.set(None);
                notice.set(None);
                spawn(async move {
                    match api::post::<_, NumberRequestDto>(
                        &format!("/numbers/requests/{id}/cancel"),
                        &serde_json::json!({}),
                    )
                    .await
                    {
                        Ok(_) => notice.set(Some(
                            i18n.ta("numbers-request-cancelled", &[("did", did.into())]),
                        )),
                        Err(e) => failure.set(Some(e)),
                    }
                    reload_all.emit(());
                });
            })
        }
    };

    let free_list = render_load(&free, &reload_free, |fs| {
        if fs.is_empty() {
            return html! { <p class="empty" id="free-numbers-empty">{ i18n.t("numbers-free-empty") }</p> };
        }
        html! {
            <table class="data" id="free-numbers">
                <caption class="sr-only">{ i18n.t("numbers-free-title") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("numbers-number") }</th>
                    <th scope="col">{ i18n.t("numbers-region") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for fs.iter().map(|f| {
                    let onclick = {
                        let (asking, did, note) = (asking.clone(), f.did.clone(), note.clone());
                        Callback::from(move |_: MouseEvent| {
                            note.set(String::new());
                            asking.set(Some(did.clone()));
                        })
                    };
                    html! {
                        <tr data-did={f.did.clone()}>
                            <td>{ &f.did }</td>
                            <td>{ &f.region }</td>
                            <td class="actions">
                                <button type="button" class="secondary small ask" {onclick}>
                                    { i18n.t("numbers-ask") }<span class="sr-only">{ format!(" ({})", f.did) }</span></button>
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });

    let ask_form = (*asking).clone().map(|did| {
        let on_note = {
            let note = note.clone();
            Callback::from(move |e: InputEvent| {
                let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
                note.set(el.value());
            })
        };
        let on_close = {
            let asking = asking.clone();
            Callback::from(move |_: MouseEvent| asking.set(None))
        };
        html! {
            <form id="ask-form" class="card inset" onsubmit={send.clone()} novalidate=true aria-labelledby="ask-form-h">
                <h3 id="ask-form-h">{ i18n.ta("numbers-ask-for", &[("did", did.into())]) }</h3>
                <div class={classes!("field", note_error.is_some().then_some("invalid"))}>
                    <label for="ask-note">{ i18n.t("numbers-note") }</label>
                    <textarea id="ask-note" rows="3" value={(*note).clone()} oninput={on_note}
                        aria-describedby={if note_error.is_some() { "ask-note-error" } else { "ask-note-hint" }}
                        aria-invalid={note_error.is_some().then_some("true")} />
                    <p class="hint" id="ask-note-hint">{ i18n.t("numbers-note-hint") }</p>
                    if let Some(m) = &*note_error { <p class="field-error" id="ask-note-error">{ m }</p> }
                </div>
                <div class="actions">
                    <button type="submit" id="ask-send" class="primary" disabled={*busy}>{ i18n.t("numbers-send-request") }</button>
                    <button type="button" id="ask-close" class="secondary" onclick={on_close}>{ i18n.t("numbers-keep-looking") }</button>
                </div>
            </form>
        }
    });

    let requests = render_load(&mine, &reload_mine, |rs| {
        if rs.is_empty() {
            return html! { <p class="empty" id="my-requests-empty">{ i18n.t("numbers-requests-empty") }</p> };
        }
        html! {
            <table class="data" id="my-requests">
                <caption class="sr-only">{ i18n.t("numbers-requests-title") }</caption>
                <thead><tr>
                    <th scope="col">{ i18n.t("numbers-number") }</th>
                    <th scope="col">{ i18n.t("numbers-region") }</th>
                    <th scope="col">{ i18n.t("numbers-status") }</th>
                    <th scope="col">{ i18n.t("numbers-asked") }</th>
                    <th scope="col">{ i18n.t("numbers-note") }</th>
                    <th scope="col">{ i18n.t("numbers-answer") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for rs.iter().map(|r| html! {
                    <tr key={r.id.to_string()} data-did={r.did.clone()} data-status={status_word(&i18n, r.status)}>
                        <td>{ &r.did }</td>
                        <td>{ &r.region }</td>
                        <td>{ status_badge(&i18n, r.status) }</td>
                        <td>{ i18n.ta("numbers-asked-by", &[
                            ("time", i18n.datetime(&r.created_at).into()),
                            ("name", r.requested_name.clone().into()),
                        ]) }</td>
                        <td>{ &r.note }</td>
                        <td class="request-answer">{
                            match (r.status, &r.decided_at) {
                                (RequestStatus::Rejected, _) => i18n.ta("numbers-rejected-because", &[("reason", r.reason.clone().into())]),
                                (_, Some(at)) => i18n.datetime(at),
                                _ => String::new(),
                            }
                        }</td>
                        <td class="actions">
                            if r.status == RequestStatus::Pending {
                                <button type="button" class="secondary small cancel-request"
                                    onclick={cancel(r)}>{ i18n.t("numbers-cancel-request") }<span class="sr-only">{ format!(" ({})", r.did) }</span></button>
                            }
                        </td>
                    </tr>
                }) }</tbody>
            </table>
        }
    });

    html! {
        <>
            <section class="card" aria-labelledby="free-numbers-h">
                <h2 id="free-numbers-h">{ i18n.t("numbers-free-title") }</h2>
                <p class="muted small">{ i18n.t("numbers-free-intro") }</p>
                if let Some(n) = &*notice { <div class="alert ok" role="status" id="numbers-notice">{ n }</div> }
                if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
                <form id="pool-search-form" class="row" onsubmit={on_search} role="search">
                    <TextField id="pool-search" label={i18n.t("numbers-search")} value={(*search).clone()}
                        oninput={{ let s = search.clone(); Callback::from(move |v: String| s.set(v)) }}
                        hint={Some(i18n.t("numbers-search-hint"))} />
                    <div class="actions"><button type="submit" class="secondary" id="pool-search-submit">{ i18n.t("numbers-search-submit") }</button></div>
                </form>
                { for ask_form }
                { free_list }
            </section>
            <section class="card" aria-labelledby="my-requests-h">
                <h2 id="my-requests-h">{ i18n.t("numbers-requests-title") }</h2>
                { requests }
            </section>
        </>
    }
}

// ---------------------------------------------------------------- the operators' console

#[function_component]
pub fn PlatformNumbersPage() -> Html {
    let i18n = use_i18n();
    let version = use_state(|| 0u32);
    let bump = {
        let v = version.clone();
        Callback::from(move |_| v.set(*v + 1))
    };
    let (tenants, _) = use_get::<Vec<PlatformTenant>>("/platform/tenants".into());
    let tenants: Rc<Vec<PlatformTenant>> = match &tenants {
        Load::Ready(t) => t.clone(),
        _ => Rc::new(Vec::new()),
    };
    html! {
        <>
            <h1>{ i18n.t("pool-title") }</h1>
            <p class="muted">{ i18n.t("pool-intro") }</p>
            <div class="stack">
                <RequestsCard version={*version} on_change={bump.clone()} />
                <PoolCard version={*version} on_change={bump.clone()} tenants={tenants} />
                <AddNumbers on_change={bump} />
            </div>
        </>
    }
}

#[derive(Properties, PartialEq)]
struct OpCardProps {
    version: u32,
    on_change: Callback<()>,
}

/// Tenants' requests: pending ones to approve or reject (with a reason), or the decided ones.
#[function_component]
fn RequestsCard(p: &OpCardProps) -> Html {
    let i18n = use_i18n();
    let status = use_state(|| "pending".to_string());
    let (list, reload) = use_get::<Vec<PlatformNumberRequest>>(format!(
        "/platform/number-requests?status={}",
        *status
    ));
    use_reload_on(p.version, reload.clone());
    let rejecting = use_state(|| None::<Uuid>);
    let reason = use_state(String::new);
    let reason_error = use_state(|| None::<String>);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);

    let approve = {
        let (failure, notice, changed, i18n) = (
            failure.clone(),
            notice.clone(),
            p.on_change.clone(),
            i18n.clone(),
        );
        move |r: &PlatformNumberRequest| {
            let (failure, notice, changed, i18n, id) = (
                failure.clone(),
                notice.clone(),
                changed.clone(),
                i18n.clone(),
                r.id,
            );
            Callback::from(move |_: MouseEvent| {
                let (failure, notice, changed, i18n) = (
                    failure.clone(),
                    notice.clone(),
                    changed.clone(),
                    i18n.clone(),
                );
                failure.set(None);
                notice.set(None);
                spawn(async move {
                    match api::post::<_, PlatformNumberRequest>(
                        &format!("/platform/number-requests/{id}/approve"),
                        &serde_json::json!({}),
                    )
                    .await
                    {
                        Ok(r) => notice.set(Some(i18n.ta(
                            "pool-request-approved",
                            &[("did", r.did.into()), ("tenant", r.tenant_name.into())],
                        ))),
                        Err(e) => failure.set(Some(e)),
                    }
                    changed.emit(());
                });
            })
        }
    };
    let reject = {
        let (rejecting, reason, reason_error, failure, notice, changed, i18n) = (
            rejecting.clone(),
            reason.clone(),
            reason_error.clone(),
            failure.clone(),
            notice.clone(),
            p.on_change.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let Some(id) = *rejecting else { return };
            let text = reason.trim().to_string();
            if text.is_empty() {
                reason_error.set(Some(i18n.t("form-required")));
                return;
            }
            let (rejecting, reason, reason_error, failure, notice, changed, i18n) = (
                rejecting.clone(),
                reason.clone(),
                reason_error.clone(),
                failure.clone(),
                notice.clone(),
                changed.clone(),
                i18n.clone(),
            );
            failure.set(None);
            notice.set(None);
            reason_error.set(None);
            spawn(async move {
                match api::post::<_, PlatformNumberRequest>(
                    &format!("/platform/number-requests/{id}/reject"),
                    &NumberRequestReject { reason: text },
                )
                .await
                {
                    Ok(r) => {
                        rejecting.set(None);
                        reason.set(String::new());
                        notice.set(Some(i18n.ta(
                            "pool-request-rejected",
                            &[("did", r.did.into()), ("tenant", r.tenant_name.into())],
                        )));
                    }
                    Err(e) => {
                        reason_error.set(e.field_errors().get("reason").cloned());
                        failure.set(Some(e));
                    }
                }
                changed.emit(());
            });
        })
    };

    let statuses = vec![
        ("pending".to_string(), i18n.t("numbers-status-pending")),
        ("approved".to_string(), i18n.t("numbers-status-approved")),
        ("rejected".to_string(), i18n.t("numbers-status-rejected")),
        ("cancelled".to_string(), i18n.t("numbers-status-cancelled")),
    ];
    let pending_view = *status == "pending";
    let table = render_load(&list, &reload, |rs| {
        if rs.is_empty() {
            return html! { <p class="empty" id="number-requests-empty">{ i18n.t("pool-requests-empty") }</p> };
        }
        html! {
            <table class="data" id="number-requests">
                <thead><tr>
                    <th scope="col">{ i18n.t("numbers-number") }</th>
                    <th scope="col">{ i18n.t("numbers-region") }</th>
                    <th scope="col">{ i18n.t("pool-tenant") }</th>
                    <th scope="col">{ i18n.t("numbers-asked") }</th>
                    <th scope="col">{ i18n.t("numbers-note") }</th>
                    if pending_view {
                        <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                    } else {
                        <th scope="col">{ i18n.t("numbers-answer") }</th>
                    }
                </tr></thead>
                <tbody>{ for rs.iter().map(|r| {
                    let start_reject = {
                        let (rejecting, reason, reason_error, id) = (rejecting.clone(), reason.clone(), reason_error.clone(), r.id);
                        Callback::from(move |_: MouseEvent| {
                            reason.set(String::new());
                            reason_error.set(None);
                            rejecting.set(Some(id));
                        })
                    };
                    html! {
                        <tr key={r.id.to_string()} data-did={r.did.clone()} data-tenant={r.tenant_slug.clone()}>
                            <td>{ &r.did }</td>
                            <td>{ &r.region }</td>
                            <td>{ &r.tenant_name }{ " " }<code>{ &r.tenant_slug }</code></td>
                            <td>{ i18n.ta("numbers-asked-by", &[
                                ("time", i18n.datetime(&r.created_at).into()),
                                ("name", r.requested_name.clone().into()),
                            ]) }</td>
                            <td>{ &r.note }</td>
                            if r.status == RequestStatus::Pending {
                                <td class="actions">
                                    <button type="button" class="primary small approve"
                                        onclick={approve(r)}>{ i18n.t("pool-approve") }<span class="sr-only">{ format!(" ({}, {})", r.did, r.tenant_name) }</span></button>
                                    { " " }
                                    <button type="button" class="secondary small reject"
                                        onclick={start_reject}>{ i18n.t("pool-reject") }<span class="sr-only">{ format!(" ({}, {})", r.did, r.tenant_name) }</span></button>
                                </td>
                            } else {
                                <td class="request-answer">
                                    { status_badge(&i18n, r.status) }{ " " }
                                    if r.status == RequestStatus::Rejected { { &r.reason }{ " " } }
                                    if let Some(at) = &r.decided_at { <span class="muted small">{ i18n.datetime(at) }</span> }
                                    if let Some(by) = &r.decided_by { <span class="muted small">{ " · " }{ by }</span> }
                                </td>
                            }
                        </tr>
                    }
                }) }</tbody>
            </table>
        }
    });

    let reject_form = (*rejecting).and_then(|id| {
        let r = match &list {
            Load::Ready(rs) => rs.iter().find(|r| r.id == id).cloned(),
            _ => None,
        }?;
        let on_close = {
            let rejecting = rejecting.clone();
            Callback::from(move |_: MouseEvent| rejecting.set(None))
        };
        Some(html! {
            <form id="reject-form" class="card inset" onsubmit={reject.clone()} novalidate=true aria-labelledby="reject-h">
                <h3 id="reject-h">{ i18n.ta("pool-reject-title", &[("did", r.did.clone().into()), ("tenant", r.tenant_name.clone().into())]) }</h3>
                <TextField id="reject-reason" label={i18n.t("pool-reject-reason")} value={(*reason).clone()}
                    oninput={{ let s = reason.clone(); Callback::from(move |v: String| s.set(v)) }}
                    error={(*reason_error).clone()} required=true hint={Some(i18n.t("pool-reject-reason-hint"))} />
                <div class="actions">
                    <button type="submit" id="reject-confirm" class="danger">{ i18n.t("pool-reject") }</button>
                    <button type="button" id="reject-cancel" class="secondary" onclick={on_close}>{ i18n.t("pool-keep") }</button>
                </div>
            </form>
        })
    });

    html! {
        <section class="card" aria-labelledby="requests-h">
            <h2 id="requests-h">{ i18n.t("pool-requests-title") }</h2>
            if let Some(n) = &*notice { <div class="alert ok" role="status" id="requests-notice">{ n }</div> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class="row">
                <SelectField id="requests-status" label={i18n.t("numbers-status")} value={(*status).clone()}
                    options={statuses} onchange={{ let s = status.clone(); let r = rejecting.clone(); Callback::from(move |v: String| { r.set(None); s.set(v) }) }} />
            </div>
            { for reject_form }
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct PoolCardProps {
    version: u32,
    on_change: Callback<()>,
    tenants: Rc<Vec<PlatformTenant>>,
}

/// What the operator is confirming on one number.
#[derive(Clone, PartialEq)]
enum Pending {
    Assign(String),
    Release(String),
    Delete(String),
}

/// The pool with its filters and paging, and each number's actions.
#[function_component]
fn PoolCard(p: &PoolCardProps) -> Html {
    let i18n = use_i18n();
    let state = use_state(String::new);
    let tenant = use_state(String::new);
    let search = use_state(String::new);
    let applied = use_state(String::new);
    let page = use_state(|| 1i64);
    let mut query = vec![format!("page={}", *page), "per_page=50".to_string()];
    if !state.is_empty() {
        query.push(format!("state={}", *state));
    }
    if !tenant.is_empty() {
        query.push(format!("tenant_id={}", *tenant));
    }
    if !applied.trim().is_empty() {
        query.push(format!("q={}", api::enc(applied.trim())));
    }
    let (list, reload) =
        use_get::<Page<PoolNumber>>(format!("/platform/numbers?{}", query.join("&")));
    use_reload_on(p.version, reload.clone());
    let pending = use_state(|| None::<Pending>);
    let assign_to = use_state(String::new);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);

    let tenant_name = {
        let tenants = p.tenants.clone();
        move |id: &str| {
            tenants
                .iter()
                .find(|t| t.id.to_string() == id)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        }
    };
    let confirm = {
        let (pending, assign_to, failure, notice, changed, i18n, tenant_name) = (
            pending.clone(),
            assign_to.clone(),
            failure.clone(),
            notice.clone(),
            p.on_change.clone(),
            i18n.clone(),
            tenant_name.clone(),
        );
        Callback::from(move |_: MouseEvent| {
            let Some(action) = (*pending).clone() else {
                return;
            };
            let to = (*assign_to).clone();
            let (pending, failure, notice, changed, i18n) = (
                pending.clone(),
                failure.clone(),
                notice.clone(),
                changed.clone(),
                i18n.clone(),
            );
            let to_name = tenant_name(&to);
            failure.set(None);
            notice.set(None);
            spawn(async move {
                let r = match &action {
                    Pending::Assign(did) => match to.parse::<Uuid>() {
                        Ok(tenant_id) => api::post::<_, PoolNumber>(
                            &format!("/platform/numbers/{}/assign", api::enc(did)),
                            &PoolAssign { tenant_id },
                        )
                        .await
                        .map(|_| {
                            i18n.ta(
                                "pool-assigned",
                                &[("did", did.clone().into()), ("tenant", to_name.into())],
                            )
                        }),
                        Err(_) => {
                            failure.set(None);
                            return;
                        }
                    },
                    Pending::Release(did) => api::post::<_, PoolNumber>(
                        &format!("/platform/numbers/{}/release", api::enc(did)),
                        &serde_json::json!({}),
                    )
                    .await
                    .map(|_| i18n.ta("pool-released", &[("did", did.clone().into())])),
                    Pending::Delete(did) => {
                        api::delete(&format!("/platform/numbers/{}", api::enc(did)))
                            .await
                            .map(|_| i18n.ta("pool-deleted", &[("did", did.clone().into())]))
                    }
                };
                match r {
                    Ok(text) => {
                        pending.set(None);
                        notice.set(Some(text));
                    }
                    Err(e) => failure.set(Some(e)),
                }
                changed.emit(());
            });
        })
    };
    let start = |action: Pending| {
        let (pending, assign_to) = (pending.clone(), assign_to.clone());
        Callback::from(move |_: MouseEvent| {
            assign_to.set(String::new());
            pending.set(Some(action.clone()));
        })
    };

    let mut state_options = vec![(String::new(), i18n.t("pool-any-state"))];
    for (v, s) in [
        ("free", NumberState::Free),
        ("requested", NumberState::Requested),
        ("assigned", NumberState::Assigned),
    ] {
        state_options.push((v.to_string(), state_word(&i18n, s)));
    }
    let mut tenant_options = vec![(String::new(), i18n.t("pool-any-tenant"))];
    tenant_options.extend(p.tenants.iter().map(|t| (t.id.to_string(), t.name.clone())));
    let on_search = {
        let (search, applied, page) = (search.clone(), applied.clone(), page.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            page.set(1);
            applied.set((*search).clone());
        })
    };

    let confirm_box = (*pending).clone().map(|action| {
        let close = {
            let pending = pending.clone();
            Callback::from(move |_: MouseEvent| pending.set(None))
        };
        let (title, body, button, class) = match &action {
            Pending::Assign(did) => (
                i18n.ta("pool-assign-title", &[("did", did.clone().into())]),
                html! {
                    <SelectField id="assign-tenant" label={i18n.t("pool-tenant")} value={(*assign_to).clone()}
                        options={{
                            let mut o = vec![(String::new(), i18n.t("pool-choose-tenant"))];
                            o.extend(p.tenants.iter().filter(|t| t.status == "active").map(|t| (t.id.to_string(), format!("{} ({})", t.name, t.slug))));
                            o
                        }}
                        onchange={{ let a = assign_to.clone(); Callback::from(move |v: String| a.set(v)) }} />
                },
                i18n.t("pool-assign"),
                "primary",
            ),
            Pending::Release(did) => (
                i18n.ta("pool-release-title", &[("did", did.clone().into())]),
                html! { <p>{ i18n.t("pool-release-warning") }</p> },
                i18n.t("pool-release"),
                "danger",
            ),
            Pending::Delete(did) => (
                i18n.ta("pool-delete-title", &[("did", did.clone().into())]),
                html! { <p>{ i18n.t("pool-delete-warning") }</p> },
                i18n.t("pool-delete"),
                "danger",
            ),
        };
        let disabled = matches!(action, Pending::Assign(_)) && assign_to.is_empty();
        html! {
            <div class="card inset" id="pool-confirm" role="group" aria-labelledby="pool-confirm-h">
                <h3 id="pool-confirm-h">{ title }</h3>
                { body }
                <div class="actions">
                    <button type="button" id="pool-confirm-yes" class={class} onclick={confirm.clone()} {disabled}>{ button }</button>
                    <button type="button" id="pool-confirm-no" class="secondary" onclick={close}>{ i18n.t("pool-keep") }</button>
                </div>
            </div>
        }
    });

    let table = render_load(&list, &reload, |pg| {
        if pg.items.is_empty() {
            return html! { <p class="empty" id="pool-empty">{ i18n.t("pool-empty") }</p> };
        }
        let on_page = {
            let page = page.clone();
            Callback::from(move |n: i64| page.set(n))
        };
        html! {
            <>
                <table class="data" id="pool-table">
                    <thead><tr>
                        <th scope="col">{ i18n.t("numbers-number") }</th>
                        <th scope="col">{ i18n.t("numbers-region") }</th>
                        <th scope="col">{ i18n.t("pool-description") }</th>
                        <th scope="col">{ i18n.t("pool-state") }</th>
                        <th scope="col">{ i18n.t("pool-tenant") }</th>
                        <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                    </tr></thead>
                    <tbody>{ for pg.items.iter().map(|n| {
                        let who = match (n.state, &n.tenant_name, &n.requested_by_tenant) {
                            (NumberState::Assigned, Some(t), _) => t.clone(),
                            (NumberState::Requested, _, Some(t)) => i18n.ta("pool-asked-for-by", &[("tenant", t.clone().into())]),
                            _ => String::new(),
                        };
                        html! {
                            <tr key={n.did.clone()} data-did={n.did.clone()} data-state={state_word(&i18n, n.state)}>
                                <td>{ &n.did }</td>
                                <td>{ &n.region }</td>
                                <td>{ &n.description }</td>
                                <td><span class={classes!("badge", (n.state == NumberState::Assigned).then_some("ok"))}>{ state_word(&i18n, n.state) }</span></td>
                                <td>{ who }</td>
                                <td class="actions">
                                    if n.state == NumberState::Assigned {
                                        <button type="button" class="secondary small release"
                                            aria-label={i18n.ta("pool-release-title", &[("did", n.did.clone().into())])}
                                            onclick={start(Pending::Release(n.did.clone()))}>{ i18n.t("pool-release") }</button>
                                    } else {
                                        <button type="button" class="secondary small assign"
                                            aria-label={i18n.ta("pool-assign-title", &[("did", n.did.clone().into())])}
                                            onclick={start(Pending::Assign(n.did.clone()))}>{ i18n.t("pool-assign") }</button>
                                        { " " }
                                        <button type="button" class="danger small delete"
                                            aria-label={i18n.ta("pool-delete-title", &[("did", n.did.clone().into())])}
                                            onclick={start(Pending::Delete(n.did.clone()))}>{ i18n.t("pool-delete") }</button>
                                    }
                                </td>
                            </tr>
                        }
                    }) }</tbody>
                </table>
                if pg.total > pg.per_page {
                    <Pager page={pg.page} per_page={pg.per_page} total={pg.total} {on_page} />
                }
            </>
        }
    });

    html! {
        <section class="card" aria-labelledby="pool-h">
            <h2 id="pool-h">{ i18n.t("pool-list-title") }</h2>
            if let Some(n) = &*notice { <div class="alert ok" role="status" id="pool-notice">{ n }</div> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <form id="pool-filters" class="row" onsubmit={on_search} role="search">
                <SelectField id="pool-state" label={i18n.t("pool-state")} value={(*state).clone()} options={state_options}
                    onchange={{ let (s, pg) = (state.clone(), page.clone()); Callback::from(move |v: String| { pg.set(1); s.set(v) }) }} />
                <SelectField id="pool-tenant" label={i18n.t("pool-tenant")} value={(*tenant).clone()} options={tenant_options}
                    onchange={{ let (t, pg) = (tenant.clone(), page.clone()); Callback::from(move |v: String| { pg.set(1); t.set(v) }) }} />
                <TextField id="pool-q" label={i18n.t("numbers-search")} value={(*search).clone()}
                    oninput={{ let s = search.clone(); Callback::from(move |v: String| s.set(v)) }} />
                <div class="actions"><button type="submit" class="secondary" id="pool-filter">{ i18n.t("numbers-search-submit") }</button></div>
            </form>
            { for confirm_box }
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct AddProps {
    on_change: Callback<()>,
}

#[derive(Clone, PartialEq, Default)]
struct AddForm {
    list: String,
    first: String,
    last: String,
    region: String,
    description: String,
}

/// Adds numbers to the pool: a list (one per line, or separated by commas) and/or a
/// range, with a region and a description; the server's refusals under their fields.
#[function_component]
fn AddNumbers(p: &AddProps) -> Html {
    let i18n = use_i18n();
    let form = use_reducer(|| Form(AddForm::default()));
    let errors = use_state(FieldErrors::new);
    let failure = use_state(|| None::<ApiError>);
    let notice = use_state(|| None::<String>);
    let busy = use_state(|| false);
    let onsubmit = {
        let (form, errors, failure, notice, busy, changed, i18n) = (
            form.clone(),
            errors.clone(),
            failure.clone(),
            notice.clone(),
            busy.clone(),
            p.on_change.clone(),
            i18n.clone(),
        );
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            let f = form.0.clone();
            let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
            let req = PoolAdd {
                numbers: f
                    .list
                    .split([',', ';', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
                range_first: opt(&f.first),
                range_last: opt(&f.last),
                region: f.region.trim().to_string(),
                description: f.description.trim().to_string(),
            };
            let (form, errors, failure, notice, busy, changed, i18n) = (
                form.clone(),
                errors.clone(),
                failure.clone(),
                notice.clone(),
                busy.clone(),
                changed.clone(),
                i18n.clone(),
            );
            busy.set(true);
            errors.set(FieldErrors::new());
            failure.set(None);
            notice.set(None);
            spawn(async move {
                let r = api::post::<_, Vec<PoolNumber>>("/platform/numbers", &req).await;
                busy.set(false);
                match r {
                    Ok(added) => {
                        notice.set(Some(
                            i18n.ta("pool-added", &[("count", (added.len() as i64).into())]),
                        ));
                        form.dispatch(Box::new(|f: &mut AddForm| *f = AddForm::default()));
                        changed.emit(());
                    }
                    Err(e) => {
                        let mut by_field = FieldErrors::new();
                        for field in [
                            "numbers",
                            "range_first",
                            "range_last",
                            "region",
                            "description",
                        ] {
                            if let Some(m) = errors_under(&e, field) {
                                by_field.insert(field.to_string(), m);
                            }
                        }
                        // Which numbers are on the platform already, as the server names them.
                        if let Some(p) = e.problem().filter(|p| p.code == "number_exists") {
                            if let Some(d) = &p.detail {
                                by_field.insert("numbers".into(), d.clone());
                            }
                        }
                        errors.set(by_field);
                        failure.set(Some(e));
                    }
                }
            });
        })
    };
    let on_list = {
        let d = form.dispatcher();
        Callback::from(move |e: InputEvent| {
            let el: web_sys::HtmlTextAreaElement = e.target_unchecked_into();
            let v = el.value();
            d.dispatch(Box::new(move |f: &mut AddForm| f.list = v));
        })
    };
    let list_error = errors.get("numbers").cloned();
    html! {
        <form id="add-numbers" class="card" {onsubmit} novalidate=true aria-labelledby="add-numbers-h">
            <h2 id="add-numbers-h">{ i18n.t("pool-add-title") }</h2>
            if let Some(n) = &*notice { <div class="alert ok" role="status" id="add-notice">{ n }</div> }
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            <div class={classes!("field", list_error.is_some().then_some("invalid"))}>
                <label for="add-list">{ i18n.t("pool-add-list") }</label>
                <textarea id="add-list" rows="3" value={form.0.list.clone()} oninput={on_list}
                    aria-invalid={list_error.is_some().then_some("true")}
                    aria-describedby={if list_error.is_some() { "add-list-error" } else { "add-list-hint" }} />
                <p class="hint" id="add-list-hint">{ i18n.t("pool-add-list-hint") }</p>
                if let Some(m) = &list_error { <p class="field-error" id="add-list-error">{ m }</p> }
            </div>
            <div class="row">
                <TextField id="add-first" label={i18n.t("pool-add-first")} value={form.0.first.clone()}
                    oninput={bind(&form, |f, v| f.first = v)} error={errors.get("range_first").cloned()} />
                <TextField id="add-last" label={i18n.t("pool-add-last")} value={form.0.last.clone()}
                    oninput={bind(&form, |f, v| f.last = v)} error={errors.get("range_last").cloned()}
                    hint={Some(i18n.t("pool-add-range-hint"))} />
            </div>
            <div class="row">
                <TextField id="add-region" label={i18n.t("numbers-region")} value={form.0.region.clone()}
                    oninput={bind(&form, |f, v| f.region = v)} error={errors.get("region").cloned()}
                    hint={Some(i18n.t("pool-add-region-hint"))} />
                <TextField id="add-description" label={i18n.t("pool-description")} value={form.0.description.clone()}
                    oninput={bind(&form, |f, v| f.description = v)} error={errors.get("description").cloned()} />
            </div>
            <button type="submit" id="add-submit" class="primary" disabled={*busy}>{ i18n.t("pool-add-submit") }</button>
        </form>
    }
}
