//! The notification bell in the top bar: unread count, the latest notifications (ticket
//! assigned, comment, SLA warning/breach, escalation), open one to go to its ticket, mark all
//! read. Polled every [`POLL_MS`]; the state only changes (and re-renders) when the server's
//! answer does, and the markup keeps one shape so nothing around it is rebuilt.

use hotline_wire::notifications::{MarkedRead, NotificationDto, NotificationList};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::spawn;
use crate::i18n::{use_i18n, I18n};
use crate::route::Route;

/// How often the bell asks for news.
pub const POLL_MS: u32 = 15_000;

fn kind_text(i18n: &I18n, n: &NotificationDto) -> String {
    let number = n.ticket_number.map(|x| format!("#{x}")).unwrap_or_default();
    let key = format!("notification-{}", n.kind.replace('_', "-"));
    i18n.ta(&key, &[("ticket", number.into())])
}

#[function_component]
pub fn NotificationBell() -> Html {
    let i18n = use_i18n();
    let navigator = use_navigator().expect("inside BrowserRouter");
    let list = use_state_eq(|| None::<NotificationList>);
    let open = use_state_eq(|| false);
    let version = use_state(|| 0u32);

    {
        let list = list.clone();
        use_effect_with(*version, move |_| {
            let fetch = move || {
                let list = list.clone();
                spawn(async move {
                    if let Ok(l) = api::get::<NotificationList>("/notifications?per_page=10").await
                    {
                        list.set(Some(l));
                    }
                });
            };
            fetch();
            let timer = gloo_timers::callback::Interval::new(POLL_MS, fetch);
            move || drop(timer)
        });
    }
    let refresh = {
        let version = version.clone();
        move || version.set(*version + 1)
    };

    let unread = list.as_ref().map(|l| l.unread).unwrap_or(0);
    let toggle = {
        let (open, refresh) = (open.clone(), refresh.clone());
        Callback::from(move |_: MouseEvent| {
            if !*open {
                refresh();
            }
            open.set(!*open);
        })
    };
    let read_all = {
        let refresh = refresh.clone();
        Callback::from(move |_: MouseEvent| {
            let refresh = refresh.clone();
            spawn(async move {
                let _ =
                    api::post::<_, MarkedRead>("/notifications/read-all", &serde_json::json!({}))
                        .await;
                refresh();
            });
        })
    };
    let open_one = |n: &NotificationDto| {
        let (id, ticket, kind) = (n.id, n.ticket_id, n.kind.clone());
        let (open, refresh, navigator) = (open.clone(), refresh.clone(), navigator.clone());
        Callback::from(move |_: MouseEvent| {
            let (open, refresh, navigator) = (open.clone(), refresh.clone(), navigator.clone());
            let kind = kind.clone();
            spawn(async move {
                let _ = api::post::<_, MarkedRead>(
                    &format!("/notifications/{id}/read"),
                    &serde_json::json!({}),
                )
                .await;
                open.set(false);
                refresh();
                if let Some(t) = ticket {
                    navigator.push(&Route::Ticket { id: t.to_string() });
                } else if kind == "voicemail" {
                    navigator.push(&Route::Voicemail);
                }
            });
        })
    };

    let label = i18n.ta("notifications-label", &[("count", unread.into())]);
    html! {
        <div class="bell" id="notifications">
            <button type="button" class="secondary bell-toggle" id="notifications-toggle"
                aria-expanded={(*open).to_string()} aria-label={label.clone()} title={label} onclick={toggle}>
                <svg class="bell-icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z"/>
                </svg>
                <span class="bell-count" id="notifications-unread" hidden={unread == 0}>{ unread }</span>
            </button>
            if *open {
                <div class="bell-panel card" id="notifications-panel" role="dialog" aria-label={i18n.t("notifications-title")}>
                    <div class="bell-head">
                        <strong>{ i18n.t("notifications-title") }</strong>
                        <button type="button" class="link" id="notifications-read-all" onclick={read_all} disabled={unread == 0}>
                            { i18n.t("notifications-read-all") }
                        </button>
                    </div>
                    {
                        match list.as_ref().filter(|l| !l.items.is_empty()) {
                            None => html! { <p class="muted" id="notifications-empty">{ i18n.t("notifications-empty") }</p> },
                            Some(l) => html! {
                                <ul class="bell-list" id="notifications-list">
                                    { for l.items.iter().map(|n| html! {
                                        <li class={classes!("notification", n.read_at.is_none().then_some("unread"))}
                                            data-kind={n.kind.clone()}>
                                            <button type="button" class="link" onclick={open_one(n)}>
                                                <strong>{ kind_text(&i18n, n) }</strong>
                                                <span class="notification-text">{ &n.text }</span>
                                                <span class="muted small">{ i18n.datetime(&n.created_at) }</span>
                                            </button>
                                        </li>
                                    }) }
                                </ul>
                            },
                        }
                    }
                </div>
            }
        </div>
    }
}
