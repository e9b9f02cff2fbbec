//! The main navigation: a left sidebar of collapsible groups (Desk, Supervision, Reports,
//! Customers & tickets, Knowledge, Telephony, Administration), each screen listed under one
//! group for the users holding any of its permissions. A group with nothing for the user is
//! not shown. Which groups are collapsed is kept in `localStorage`; the group of the screen
//! being shown is always opened. Under 900 px the sidebar is hidden behind the top bar's menu
//! button (`Layout` owns that button and passes `open`).
//!
//! To add a screen to the navigation: one line in [`nav_items`].

use hotline_wire::permissions as perm;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::i18n::use_i18n;
use crate::route::{use_app, Route, Session};

/// A navigation group, in the order shown.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Group {
    Desk,
    Supervision,
    Reports,
    Customers,
    Knowledge,
    Telephony,
    Admin,
}

impl Group {
    pub const ALL: [Group; 7] = [
        Group::Desk,
        Group::Supervision,
        Group::Reports,
        Group::Customers,
        Group::Knowledge,
        Group::Telephony,
        Group::Admin,
    ];

    /// Stable id: `data-group`, the element ids and the stored collapsed list.
    pub fn id(self) -> &'static str {
        match self {
            Group::Desk => "desk",
            Group::Supervision => "supervision",
            Group::Reports => "reports",
            Group::Customers => "customers",
            Group::Knowledge => "knowledge",
            Group::Telephony => "telephony",
            Group::Admin => "admin",
        }
    }

    fn label_key(self) -> &'static str {
        match self {
            Group::Desk => "nav-group-desk",
            Group::Supervision => "nav-group-supervision",
            Group::Reports => "nav-group-reports",
            Group::Customers => "nav-group-customers",
            Group::Knowledge => "nav-group-knowledge",
            Group::Telephony => "nav-group-telephony",
            Group::Admin => "nav-group-admin",
        }
    }

    fn icon(self) -> Html {
        icon(match self {
            Group::Desk => ICON_HEADSET,
            Group::Supervision => ICON_EYE,
            Group::Reports => ICON_CHART,
            Group::Customers => ICON_PEOPLE,
            Group::Knowledge => ICON_BOOK,
            Group::Telephony => ICON_PHONE,
            Group::Admin => ICON_GEAR,
        })
    }
}

/// One screen in the navigation.
pub struct NavItem {
    pub route: Route,
    /// Catalog key of its label.
    pub key: &'static str,
    /// Shown to holders of any of these.
    pub perms: &'static [&'static str],
    pub group: Group,
}

const fn item(
    route: Route,
    key: &'static str,
    perms: &'static [&'static str],
    group: Group,
) -> NavItem {
    NavItem {
        route,
        key,
        perms,
        group,
    }
}

/// Every screen in the navigation, in the order shown within its group. One line each (kept
/// as a table: rustfmt would spread each entry over six lines).
#[rustfmt::skip]
pub fn nav_items() -> Vec<NavItem> {
    use Group::*;
    vec![
        item(Route::Agent, "nav-agent", &[perm::AGENT_STATE], Desk),
        item(Route::Voicemail, "nav-voicemail", &[perm::AGENT_STATE], Desk),
        item(Route::MissedCalls, "nav-missed-calls", &[perm::SUPERVISE], Supervision),
        item(Route::BreakRequests, "nav-break-requests", &[perm::SUPERVISE], Supervision),
        item(Route::CallLog, "nav-call-log", &[perm::SUPERVISE, perm::RECORDINGS_READ], Reports),
        item(Route::Customers, "nav-customers", &[perm::CRM_READ], Customers),
        item(Route::CustomerImport, "nav-customer-import", &[perm::CRM_ADMIN], Customers),
        item(Route::Tickets, "nav-tickets", &[perm::TICKETS_WORK], Customers),
        item(Route::TicketTypes, "nav-ticket-types", &[perm::TICKETS_ADMIN], Customers),
        item(Route::Categories, "nav-categories", &[perm::CRM_ADMIN], Customers),
        item(Route::TicketRules, "nav-ticket-rules", &[perm::TICKETS_ADMIN], Customers),
        item(Route::CustomerTemplate, "nav-customer-template", &[perm::CRM_ADMIN], Customers),
        item(Route::KbEdit, "nav-kb", &[perm::KB_WRITE], Knowledge),
        item(Route::Queues, "nav-queues", &[perm::USERS_READ], Telephony),
        item(Route::Skills, "nav-skills", &[perm::USERS_READ], Telephony),
        item(Route::Ivr, "nav-ivr", &[perm::IVR_WRITE], Telephony),
        item(Route::Numbers, "nav-numbers", &[perm::IVR_WRITE, perm::SETTINGS_WRITE], Telephony),
        item(Route::Trunks, "nav-trunks", &[perm::SETTINGS_WRITE], Telephony),
        item(Route::Campaigns, "nav-campaigns", &[perm::CAMPAIGNS_WRITE], Telephony),
        item(Route::Outbound, "nav-outbound", &[perm::CAMPAIGNS_WRITE], Telephony),
        item(Route::Users, "nav-users", &[perm::USERS_READ], Admin),
        item(Route::Teams, "nav-teams", &[perm::USERS_READ], Admin),
        item(Route::Roles, "nav-roles", &[perm::ROLES_WRITE], Admin),
        item(Route::ReasonCodes, "nav-reason-codes", &[perm::SETTINGS_WRITE], Admin),
        item(Route::Sso, "nav-sso", &[perm::SETTINGS_WRITE], Admin),
        item(Route::ApiKeys, "nav-api-keys", &[perm::API_KEYS_WRITE], Admin),
        item(Route::Settings, "nav-settings", &[perm::SETTINGS_WRITE], Admin),
        item(Route::Names, "nav-names", &[perm::CRM_ADMIN, perm::TICKETS_ADMIN], Admin),
        item(Route::Audit, "nav-audit", &[perm::AUDIT_READ], Admin),
    ]
}

/// The items `session` may use.
pub fn visible_items(session: &Session) -> Vec<NavItem> {
    nav_items()
        .into_iter()
        .filter(|n| n.perms.iter().any(|p| session.can(p)))
        .collect()
}

/// The navigation entry a route belongs to (a user's page is under Users, and so on).
fn nav_route(route: &Route) -> Route {
    match route {
        Route::User { .. } => Route::Users,
        Route::Ticket { .. } => Route::Tickets,
        Route::Call { .. } => Route::CallLog,
        Route::IvrFlow { .. } => Route::Ivr,
        Route::PlatformSessions { .. } => Route::Platform,
        r => r.clone(),
    }
}

const COLLAPSED_KEY: &str = "hotline.nav.collapsed";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load_collapsed() -> Vec<String> {
    storage()
        .and_then(|s| s.get_item(COLLAPSED_KEY).ok().flatten())
        .map(|v| {
            v.split(',')
                .filter(|g| !g.is_empty())
                .map(String::from)
                .collect()
        })
        .unwrap_or_default()
}

fn save_collapsed(groups: &[String]) {
    if let Some(s) = storage() {
        let _ = s.set_item(COLLAPSED_KEY, &groups.join(","));
    }
}

#[derive(Properties, PartialEq)]
pub struct SidebarProps {
    /// Shown on narrow screens (the menu button was pressed).
    pub open: bool,
}

/// The sidebar for a signed-in user, or the operators' single entry.
#[function_component]
pub fn Sidebar(p: &SidebarProps) -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let navigator = use_navigator().expect("inside BrowserRouter");
    let current = use_route::<Route>().map(|r| nav_route(&r));
    let collapsed = use_state(load_collapsed);

    let items = visible_items(&app.session);
    let active_group = current
        .as_ref()
        .and_then(|c| items.iter().find(|n| &n.route == c).map(|n| n.group));
    // The group of the screen being shown opens (and stays open).
    {
        let collapsed = collapsed.clone();
        use_effect_with(active_group, move |g| {
            if let Some(g) = g {
                if collapsed.iter().any(|c| c == g.id()) {
                    let next: Vec<String> =
                        collapsed.iter().filter(|c| *c != g.id()).cloned().collect();
                    save_collapsed(&next);
                    collapsed.set(next);
                }
            }
        });
    }

    let link = |route: Route, label: String, icon_html: Option<Html>, id: Option<&str>| {
        let active = current.as_ref() == Some(&route);
        let href = route.to_path();
        let onclick = {
            let navigator = navigator.clone();
            let route = route.clone();
            Callback::from(move |e: MouseEvent| {
                // Let the browser open a new tab or window as asked.
                if e.ctrl_key() || e.meta_key() || e.shift_key() || e.button() != 0 {
                    return;
                }
                e.prevent_default();
                navigator.push(&route);
            })
        };
        html! {
            <li>
                <a {href} id={id.map(String::from)} {onclick}
                    class={classes!(active.then_some("active"))}
                    aria-current={active.then_some("page")}>
                    { icon_html.unwrap_or_default() }
                    <span>{ label }</span>
                </a>
            </li>
        }
    };

    let body = match &app.session {
        Session::Operator(_) => html! {
            <ul class="nav-top">
                { link(Route::Platform, i18n.t("nav-tenants"), None, None) }
                { link(Route::PlatformNumbers, i18n.t("nav-platform-numbers"), None, None) }
            </ul>
        },
        Session::User(_) => {
            let groups = Group::ALL.iter().filter_map(|g| {
                let mine: Vec<&NavItem> = items.iter().filter(|n| n.group == *g).collect();
                if mine.is_empty() {
                    return None;
                }
                let id = g.id();
                let open = !collapsed.iter().any(|c| c == id);
                let toggle = {
                    let collapsed = collapsed.clone();
                    Callback::from(move |_: MouseEvent| {
                        let mut next: Vec<String> = (*collapsed).clone();
                        if open {
                            next.push(id.to_string());
                        } else {
                            next.retain(|c| c != id);
                        }
                        save_collapsed(&next);
                        collapsed.set(next);
                    })
                };
                let list_id = format!("nav-group-{id}");
                Some(html! {
                    <div class="nav-group" data-group={id}>
                        <button type="button" class="nav-group-toggle" id={format!("nav-toggle-{id}")}
                            aria-expanded={open.to_string()} aria-controls={list_id.clone()} onclick={toggle}>
                            { g.icon() }
                            <span class="nav-group-label">{ i18n.t(g.label_key()) }</span>
                            <span class="chevron">{ icon(ICON_CHEVRON) }</span>
                        </button>
                        <ul id={list_id} hidden={!open}>
                            { for mine.iter().map(|n| link(n.route.clone(), i18n.t(n.key), None, None)) }
                        </ul>
                    </div>
                })
            });
            html! {
                <>
                    <ul class="nav-top">
                        { link(Route::Home, i18n.t("nav-home"), Some(icon(ICON_HOME)), Some("nav-home")) }
                    </ul>
                    { for groups }
                </>
            }
        }
        _ => html! {},
    };

    html! {
        <nav id="mainnav" class={classes!("mainnav", p.open.then_some("open"))} aria-label={i18n.t("shell-main-nav")}>
            { body }
        </nav>
    }
}

/// An inline 24×24 stroke icon (decorative: its text is next to it).
pub fn icon(d: &'static str) -> Html {
    html! {
        <svg class="icon" viewBox="0 0 24 24" width="18" height="18" fill="none" stroke="currentColor"
            stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">
            <path d={d} />
        </svg>
    }
}

pub const ICON_HOME: &str = "M3 11l9-8 9 8M5 10v10h5v-6h4v6h5V10";
pub const ICON_HEADSET: &str =
    "M4 15v-3a8 8 0 0 1 16 0v3M4 15h3v5H5a1 1 0 0 1-1-1zM20 15h-3v5h2a1 1 0 0 0 1-1z";
pub const ICON_EYE: &str =
    "M2 12s4-7 10-7 10 7 10 7-4 7-10 7S2 12 2 12zM15 12a3 3 0 1 1-6 0 3 3 0 0 1 6 0z";
pub const ICON_CHART: &str = "M4 20V10M10 20V4M16 20v-7M22 20H2";
pub const ICON_PEOPLE: &str = "M9 11a4 4 0 1 0 0-8 4 4 0 0 0 0 8zM2 21v-1a6 6 0 0 1 12 0v1M16 3.5a4 4 0 0 1 0 7.5M22 21v-1a6 6 0 0 0-4-5.6";
pub const ICON_BOOK: &str = "M4 19V5a2 2 0 0 1 2-2h14v16H6a2 2 0 0 0-2 2 2 2 0 0 0 2 2h14M8 7h8";
pub const ICON_PHONE: &str =
    "M5 3h4l2 5-3 2a11 11 0 0 0 6 6l2-3 5 2v4a2 2 0 0 1-2 2A17 17 0 0 1 3 5a2 2 0 0 1 2-2z";
pub const ICON_GEAR: &str = "M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6zM12 2v3M12 19v3M4.9 4.9l2.1 2.1M17 17l2.1 2.1M2 12h3M19 12h3M4.9 19.1L7 17M17 7l2.1-2.1";
pub const ICON_CHEVRON: &str = "M6 9l6 6 6-6";
pub const ICON_MENU: &str = "M3 6h18M3 12h18M3 18h18";
pub const ICON_CHECK: &str = "M5 12l5 5L20 7";
