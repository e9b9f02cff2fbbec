//! Signed-in sessions: the user's own on My account (sign out a browser, or every other one),
//! and a tenant's for platform operators (revoke one, a user's, or all).

use hotline_wire::api::{PlatformTenant, SessionDto};
use uuid::Uuid;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::{self, ApiError};
use crate::components::*;
use crate::i18n::{use_i18n, I18n};
use crate::route::Route;

/// A session's browser as a person names it ("Chrome 120 · Linux"), from its user agent;
/// an unknown one shortened (the whole text is in the cell's title), none as "—".
fn browser(ua: Option<&str>) -> String {
    let ua = ua.unwrap_or("").trim();
    if ua.is_empty() {
        return "—".into();
    }
    // Order matters: Edge and Opera say Chrome too, Chrome says Safari too.
    let name = [
        ("Edg/", "Edge"),
        ("OPR/", "Opera"),
        ("Firefox/", "Firefox"),
        ("Chrome/", "Chrome"),
        ("Version/", "Safari"),
    ]
    .iter()
    .find_map(|(token, name)| {
        let rest = &ua[ua.find(token)? + token.len()..];
        let major: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Some(format!("{name} {major}").trim().to_string())
    });
    let os = [
        ("Windows", "Windows"),
        ("Android", "Android"),
        ("iPhone", "iOS"),
        ("iPad", "iOS"),
        ("Mac OS X", "macOS"),
        ("CrOS", "ChromeOS"),
        ("Linux", "Linux"),
    ]
    .iter()
    .find(|(token, _)| ua.contains(token))
    .map(|(_, os)| *os);
    match (name, os) {
        (Some(n), Some(os)) => format!("{n} · {os}"),
        (Some(n), None) => n,
        _ => {
            let short: String = ua.chars().take(60).collect();
            if short.len() < ua.len() {
                format!("{short}…")
            } else {
                short
            }
        }
    }
}

fn last_seen(i18n: &I18n, s: &SessionDto) -> String {
    match &s.last_seen_at {
        Some(at) => {
            let ip = s.last_seen_ip.clone().unwrap_or_default();
            format!("{} {ip}", i18n.datetime(at)).trim().to_string()
        }
        None => i18n.t("sessions-not-since"),
    }
}

/// Sends `DELETE path`, then reloads the list, or shows the failure.
fn act(failure: &UseStateHandle<Option<ApiError>>, reload: &Callback<()>, path: String) {
    let (failure, reload) = (failure.clone(), reload.clone());
    spawn(async move {
        match api::delete(&path).await {
            Ok(()) => {
                failure.set(None);
                reload.emit(());
            }
            Err(e) => failure.set(Some(e)),
        }
    });
}

/// My account: the browsers the user is signed in on.
#[function_component]
pub fn OwnSessions() -> Html {
    let i18n = use_i18n();
    let (sessions, reload) = use_get::<Vec<SessionDto>>("/auth/sessions".into());
    let failure = use_state(|| None::<ApiError>);
    let others = {
        let (failure, reload) = (failure.clone(), reload.clone());
        Callback::from(move |_| act(&failure, &reload, "/auth/sessions".into()))
    };
    let table = render_load(&sessions, &reload, |list| {
        let other_count = list.iter().filter(|s| !s.current).count();
        html! {
            <>
            <table class="data" id="own-sessions">
                <thead><tr>
                    <th scope="col">{ i18n.t("sessions-browser") }</th>
                    <th scope="col">{ i18n.t("sessions-signed-in") }</th>
                    <th scope="col">{ i18n.t("sessions-last-seen") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for list.iter().map(|s| {
                    let revoke = {
                        let (failure, reload, id) = (failure.clone(), reload.clone(), s.id);
                        Callback::from(move |_| {
                            act(&failure, &reload, format!("/auth/sessions/{id}"))
                        })
                    };
                    html! {
                        <tr data-session={s.id.to_string()}>
                            <td title={s.user_agent.clone().unwrap_or_default()}>{ browser(s.user_agent.as_deref()) }</td>
                            <td>{ format!("{} {}", i18n.datetime(&s.created_at), s.ip.clone().unwrap_or_default()).trim().to_string() }</td>
                            <td>{ last_seen(&i18n, s) }</td>
                            <td class="actions">
                                if s.current {
                                    <span class="badge ok">{ i18n.t("sessions-current") }</span>
                                } else {
                                    <button type="button" class="secondary small" onclick={revoke}>{ i18n.t("sessions-sign-out") }</button>
                                }
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
            if other_count > 0 {
                <button type="button" id="sign-out-others" class="danger" onclick={others.clone()}>
                    { i18n.t("sessions-sign-out-others") }</button>
            }
            </>
        }
    });
    html! {
        <section class="card" aria-labelledby="account-sessions">
            <h2 id="account-sessions">{ i18n.t("sessions-title") }</h2>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { table }
        </section>
    }
}

#[derive(Properties, PartialEq)]
pub struct TenantSessionsProps {
    pub id: String,
}

/// The operators' console: a tenant's signed-in sessions, to revoke.
#[function_component]
pub fn TenantSessionsPage(p: &TenantSessionsProps) -> Html {
    let i18n = use_i18n();
    let id = Uuid::parse_str(&p.id).ok();
    let (tenants, _) = use_get::<Vec<PlatformTenant>>("/platform/tenants".into());
    let (sessions, reload) =
        use_get::<Vec<SessionDto>>(format!("/platform/tenants/{}/sessions", p.id));
    let failure = use_state(|| None::<ApiError>);
    let Some(tenant_id) = id else {
        return html! { <p class="empty">{ i18n.t("problem-not-found") }</p> };
    };
    let name = match &tenants {
        Load::Ready(ts) => ts
            .iter()
            .find(|t| t.id == tenant_id)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        _ => String::new(),
    };
    let base = format!("/platform/tenants/{tenant_id}/sessions");
    let revoke_all = {
        let (failure, reload, path) = (failure.clone(), reload.clone(), base.clone());
        Callback::from(move |_| act(&failure, &reload, path.clone()))
    };
    let table = render_load(&sessions, &reload, |list| {
        if list.is_empty() {
            return html! { <p class="empty">{ i18n.t("sessions-none") }</p> };
        }
        html! {
            <>
            <table class="data" id="tenant-sessions">
                <thead><tr>
                    <th scope="col">{ i18n.t("sessions-user") }</th>
                    <th scope="col">{ i18n.t("sessions-signed-in") }</th>
                    <th scope="col">{ i18n.t("sessions-last-seen") }</th>
                    <th scope="col">{ i18n.t("sessions-browser") }</th>
                    <th scope="col">{ i18n.t("sessions-expires") }</th>
                    <th scope="col"><span class="sr-only">{ i18n.t("table-actions") }</span></th>
                </tr></thead>
                <tbody>{ for list.iter().map(|s| {
                    let revoke = {
                        let (failure, reload) = (failure.clone(), reload.clone());
                        let path = format!("{base}/{}", s.id);
                        Callback::from(move |_| act(&failure, &reload, path.clone()))
                    };
                    let revoke_user = {
                        let (failure, reload) = (failure.clone(), reload.clone());
                        let path = format!("{base}?user_id={}", s.user_id);
                        Callback::from(move |_| act(&failure, &reload, path.clone()))
                    };
                    let revoke_label = i18n.t("sessions-revoke");
                    let user_label = i18n.t("sessions-revoke-user");
                    html! {
                        <tr data-session={s.id.to_string()} data-email={s.user_email.clone()}>
                            <td>{ &s.user_name }<br /><span class="muted small">{ &s.user_email }</span></td>
                            <td>{ format!("{} {}", i18n.datetime(&s.created_at), s.ip.clone().unwrap_or_default()).trim().to_string() }</td>
                            <td>{ last_seen(&i18n, s) }</td>
                            <td title={s.user_agent.clone().unwrap_or_default()}>{ browser(s.user_agent.as_deref()) }</td>
                            <td>{ i18n.datetime(&s.expires_at) }</td>
                            <td class="actions">
                                <button type="button" class="danger small revoke" onclick={revoke}
                                    aria-label={format!("{revoke_label}: {}", s.user_email)}>{ revoke_label.clone() }</button>
                                <button type="button" class="secondary small revoke-user" onclick={revoke_user}
                                    aria-label={format!("{user_label}: {}", s.user_email)}>{ user_label.clone() }</button>
                            </td>
                        </tr>
                    }
                }) }</tbody>
            </table>
            <button type="button" id="revoke-all" class="danger" onclick={revoke_all.clone()}>
                { i18n.t("sessions-revoke-all") }</button>
            </>
        }
    });
    html! {
        <>
            <p><Link<Route> to={Route::Platform}>{ i18n.t("sessions-back") }</Link<Route>></p>
            <h1>{ i18n.ta("sessions-tenant-title", &[("tenant", name.into())]) }</h1>
            if let Some(e) = &*failure { <ErrorBox error={e.clone()} /> }
            { table }
        </>
    }
}
