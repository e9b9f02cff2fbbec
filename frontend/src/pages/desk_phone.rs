//! Desk phones on the users screens: the registration status column of the users list and the
//! "Desk phone" card of a user's page (create, new password with a confirmation, remove; the
//! password and the provisioning text shown once). Both re-read `/desk-phones` every 5 s.

use hotline_wire::api::UserDto;
use hotline_wire::desk_phones::{DeskPhoneCredentials, DeskPhoneDto};
use hotline_wire::permissions as perm;
use uuid::Uuid;
use yew::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::use_i18n;
use crate::route::use_app;

/// How often registrations are re-read (phones register and lapse by themselves).
const REFRESH_MS: u32 = 5_000;

/// The tenant's desk phones, re-read every few seconds.
#[hook]
pub fn use_desk_phones() -> (Load<std::rc::Rc<Vec<DeskPhoneDto>>>, Callback<()>) {
    let (phones, reload) = use_get::<Vec<DeskPhoneDto>>("/desk-phones".into());
    {
        let reload = reload.clone();
        use_effect_with((), move |_| {
            let every = gloo_timers::callback::Interval::new(REFRESH_MS, move || reload.emit(()));
            move || drop(every)
        });
    }
    (phones, reload)
}

#[derive(Properties, PartialEq)]
pub struct StatusCellProps {
    pub user_id: Uuid,
    pub phones: Load<std::rc::Rc<Vec<DeskPhoneDto>>>,
}

/// The users list's "Desk phone" cell: registered (since, by what), not registered, or none.
#[function_component]
pub fn DeskPhoneStatusCell(p: &StatusCellProps) -> Html {
    let i18n = use_i18n();
    let Load::Ready(phones) = &p.phones else {
        return html! {};
    };
    match phones.iter().find(|d| d.user_id == p.user_id) {
        None => html! { <span class="muted">{ "—" }</span> },
        Some(d) => match &d.registration {
            Some(r) => {
                let title = r.user_agent.clone().unwrap_or_default();
                html! {
                    <span class="badge ok desk-phone-state" data-state="registered" {title}>
                        { i18n.t("desk-phone-registered") }
                    </span>
                }
            }
            None => html! {
                <span class="badge desk-phone-state" data-state="unregistered">{ i18n.t("desk-phone-not-registered") }</span>
            },
        },
    }
}

#[derive(Properties, PartialEq)]
pub struct DeskPhoneCardProps {
    pub user: std::rc::Rc<UserDto>,
}

/// A user's desk phone: status, create, new password (confirmed), remove (confirmed); the
/// credentials once after creating or rotating.
#[function_component]
pub fn DeskPhoneCard(p: &DeskPhoneCardProps) -> Html {
    let i18n = use_i18n();
    let app = use_app();
    let (phones, reload) = use_desk_phones();
    let shown = use_state(|| None::<DeskPhoneCredentials>);
    let confirming = use_state(|| None::<&'static str>);
    let failure = use_state(|| None::<ApiError>);
    let busy = use_state(|| false);
    let can_write = app.session.can(perm::USERS_WRITE);
    let user = p.user.clone();
    let path = format!("/users/{}/desk-phone", user.id);

    let issue = {
        let (shown, confirming, failure, busy, reload, path) = (
            shown.clone(),
            confirming.clone(),
            failure.clone(),
            busy.clone(),
            reload.clone(),
            path.clone(),
        );
        Callback::from(move |()| {
            let (shown, confirming, failure, busy, reload, path) = (
                shown.clone(),
                confirming.clone(),
                failure.clone(),
                busy.clone(),
                reload.clone(),
                path.clone(),
            );
            busy.set(true);
            failure.set(None);
            confirming.set(None);
            spawn(async move {
                let r = api::post::<_, DeskPhoneCredentials>(&path, &serde_json::json!({})).await;
                busy.set(false);
                match r {
                    Ok(c) => shown.set(Some(c)),
                    Err(e) => failure.set(Some(e)),
                }
                reload.emit(());
            });
        })
    };
    let remove = {
        let (shown, confirming, failure, reload, path) = (
            shown.clone(),
            confirming.clone(),
            failure.clone(),
            reload.clone(),
            path.clone(),
        );
        Callback::from(move |()| {
            let (shown, confirming, failure, reload, path) = (
                shown.clone(),
                confirming.clone(),
                failure.clone(),
                reload.clone(),
                path.clone(),
            );
            confirming.set(None);
            spawn(async move {
                let r = api::delete(&path).await;
                shown.set(None);
                if let Err(e) = r {
                    failure.set(Some(e));
                }
                reload.emit(());
            });
        })
    };
    let ask = |what: &'static str| {
        let c = confirming.clone();
        Callback::from(move |_: MouseEvent| c.set(Some(what)))
    };
    let cancel = {
        let c = confirming.clone();
        Callback::from(move |()| c.set(None))
    };

    let mine = match &phones {
        Load::Ready(ps) => Some(ps.iter().find(|d| d.user_id == user.id).cloned()),
        Load::Failed(e) => return html! { <ErrorBox error={e.clone()} retry={reload.clone()} /> },
        Load::Loading => None,
    };
    let body = match (&user.extension, mine) {
        (_, None) => html! { <Loading /> },
        (None, Some(None)) => {
            html! { <p id="desk-phone-no-extension">{ i18n.t("desk-phone-needs-extension") }</p> }
        }
        (Some(_), Some(None)) => html! {
            <>
                <p id="desk-phone-none">{ i18n.t("desk-phone-none") }</p>
                if can_write && user.active {
                    <button type="button" class="primary" id="desk-phone-create" disabled={*busy} onclick={let i = issue.clone(); move |_| i.emit(())}>
                        { i18n.t("desk-phone-create") }
                    </button>
                }
            </>
        },
        (_, Some(Some(d))) => html! {
            <>
                <dl class="facts">
                    <dt>{ i18n.t("desk-phone-sip-user") }</dt>
                    <dd><code>{ format!("{}@{}", d.extension, d.domain) }</code></dd>
                    <dt>{ i18n.t("desk-phone-status") }</dt>
                    <dd id="desk-phone-status" data-state={if d.registration.is_some() { "registered" } else { "unregistered" }}>
                        { match &d.registration {
                            Some(r) => html! {
                                <>
                                    <span class="badge ok">{ i18n.t("desk-phone-registered") }</span>
                                    if let Some(since) = &r.since {
                                        { " " }{ i18n.ta("desk-phone-since", &[("time", i18n.datetime(since).into())]) }
                                    }
                                    if let Some(ua) = &r.user_agent {
                                        <br/><span id="desk-phone-user-agent">{ i18n.ta("desk-phone-user-agent", &[("agent", ua.clone().into())]) }</span>
                                    }
                                    <br/><small>{ &r.contact }</small>
                                </>
                            },
                            None => html! { <span class="badge">{ i18n.t("desk-phone-not-registered") }</span> },
                        } }
                    </dd>
                    <dt>{ i18n.t("desk-phone-password-set") }</dt>
                    <dd>{ i18n.datetime(&d.rotated_at) }</dd>
                </dl>
                if can_write {
                    <button type="button" class="secondary" id="desk-phone-rotate" aria-haspopup="dialog" disabled={*busy}
                        onclick={ask("rotate")}>{ i18n.t("desk-phone-rotate") }</button>
                    { " " }
                    <button type="button" class="danger" id="desk-phone-remove" aria-haspopup="dialog"
                        onclick={ask("remove")}>{ i18n.t("desk-phone-remove") }</button>
                    if let Some(what) = *confirming {
                        <ConfirmDialog title={i18n.t(&format!("desk-phone-{what}"))}
                            text={i18n.t(&format!("desk-phone-{what}-confirm"))}
                            confirm={i18n.t(&format!("desk-phone-{what}"))}
                            confirm_id={format!("desk-phone-{what}-confirm")}
                            on_confirm={if what == "rotate" { issue.clone() } else { remove.clone() }}
                            on_cancel={cancel.clone()} />
                    }
                }
            </>
        },
    };
    html! {
        <section class="card" aria-labelledby="desk-phone-title" id="desk-phone">
            <h2 id="desk-phone-title">{ i18n.t("desk-phone-title") }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            if let Some(c) = &*shown {
                <div class="alert ok" id="desk-phone-credentials" role="status">
                    <p><strong>{ i18n.t("desk-phone-shown-once") }</strong></p>
                    <p>{ i18n.t("desk-phone-password") }{ ": " }<code id="desk-phone-password">{ &c.password }</code></p>
                    <figure class="qr">
                        <img id="desk-phone-qr" src={c.provisioning_qr.clone()} alt={i18n.t("desk-phone-qr-alt")} width="200" height="200" />
                        <figcaption>{ i18n.t("desk-phone-qr-help") }</figcaption>
                    </figure>
                    <pre id="desk-phone-provisioning" class="kb-diff" aria-label={i18n.t("desk-phone-provisioning")}>{ &c.provisioning }</pre>
                    <button type="button" class="secondary" id="desk-phone-done"
                        onclick={let s = shown.clone(); move |_| s.set(None)}>{ i18n.t("desk-phone-done") }</button>
                </div>
            }
            { body }
        </section>
    }
}
