//! The app shell: session, routes, role-aware navigation, layout and flash messages.

use std::rc::Rc;

use hotline_wire::api::{OperatorInfo, SessionInfo};
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api;
use crate::components::{ErrorBox, Loading};
use crate::i18n::{use_i18n, I18nProvider, LangPicker};
use crate::pages;
use crate::route::{home_for, needs, served_here, use_app, AppCtx, Flash, Route, Session};

async fn who_am_i() -> Session {
    match api::get::<SessionInfo>("/auth/me").await {
        Ok(s) => return Session::User(Rc::new(s)),
        Err(e) if e.status() == Some(401) || e.status() == Some(403) => {}
        Err(e) => return Session::Unreachable(e),
    }
    match api::get::<OperatorInfo>("/platform/me").await {
        Ok(o) => Session::Operator(Rc::new(o)),
        Err(e) if matches!(e.status(), Some(401) | Some(403) | Some(404)) => Session::Anonymous,
        Err(e) => Session::Unreachable(e),
    }
}

#[function_component]
pub fn App() -> Html {
    html! {
        <I18nProvider>
            <BrowserRouter>
                <Shell />
            </BrowserRouter>
        </I18nProvider>
    }
}

#[function_component]
fn Shell() -> Html {
    let session = use_state(|| Session::Unknown);
    let flash = use_state(take_carried_flash);
    let navigator = use_navigator().expect("inside BrowserRouter");
    let version = use_state(|| 0u32);

    {
        let session = session.clone();
        use_effect_with(*version, move |_| {
            wasm_bindgen_futures::spawn_local(async move { session.set(who_am_i().await) });
        });
    }

    // A 401 on any request means the session is gone: back to the right login page.
    {
        let session = session.clone();
        let flash = flash.clone();
        let navigator = navigator.clone();
        use_effect_with((), move |_| {
            api::set_unauthorized_handler(Callback::from(move |(path, code): (String, String)| {
                session.set(Session::Anonymous);
                flash.set(Some(Flash::error(if code == "session_expired" {
                    "flash-session-expired"
                } else {
                    "flash-signed-out"
                })));
                if path.starts_with("/platform") {
                    navigator.replace(&Route::PlatformLogin);
                } else {
                    navigator.replace(&Route::Login);
                }
            }));
        });
    }

    // When the session reaches its expiry, ask the server again; if it no longer knows us,
    // go to the login page with a message even if the user was idle.
    {
        let session = session.clone();
        let flash = flash.clone();
        let navigator = navigator.clone();
        let expires = match &*session {
            Session::User(s) => Some((s.expires_at.timestamp_millis(), false)),
            Session::Operator(o) => Some((o.expires_at.timestamp_millis(), true)),
            _ => None,
        };
        use_effect_with(expires, move |expires| {
            let timer = expires.map(|(at, operator)| {
                let wait = (at - js_sys::Date::now() as i64 + 1_000).clamp(1_000, i32::MAX as i64);
                gloo_timers::callback::Timeout::new(wait as u32, move || {
                    wasm_bindgen_futures::spawn_local(async move {
                        let now = who_am_i().await;
                        if now == Session::Anonymous {
                            flash.set(Some(Flash::error("flash-session-expired")));
                            navigator.replace(&if operator {
                                Route::PlatformLogin
                            } else {
                                Route::Login
                            });
                        }
                        session.set(now);
                    });
                })
            });
            move || drop(timer)
        });
    }

    let ctx = AppCtx {
        session: (*session).clone(),
        set_session: {
            let session = session.clone();
            Callback::from(move |s| session.set(s))
        },
        flash: (*flash).clone(),
        set_flash: {
            let flash = flash.clone();
            Callback::from(move |f| flash.set(f))
        },
        refresh: {
            let version = version.clone();
            Callback::from(move |_| version.set(*version + 1))
        },
    };

    html! {
        <ContextProvider<AppCtx> context={ctx}>
            <crate::components::ToastProvider><Switch<Route> render={switch} /></crate::components::ToastProvider>
        </ContextProvider<AppCtx>>
    }
}

fn switch(route: Route) -> Html {
    html! { <Guarded {route} /> }
}

#[derive(Properties, PartialEq)]
struct GuardedProps {
    route: Route,
}

/// Checks the session against the route before showing it.
#[function_component]
fn Guarded(p: &GuardedProps) -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let route = p.route.clone();
    if !served_here(&route) {
        return html! { <OtherBuild /> };
    }
    match (&app.session, &route) {
        (Session::Unknown, _) => {
            return html! { <div class="boot-screen"><Loading /></div> };
        }
        (Session::Unreachable(e), _) => {
            let retry = app.refresh.clone();
            return html! {
                <div class="boot-screen">
                    <h1>{ i18n.t("app-name") }</h1>
                    <ErrorBox error={e.clone()} retry={retry} />
                </div>
            };
        }
        _ => {}
    }
    let session = &app.session;
    if let Some(page) = console_public_page(&route, session, &i18n) {
        return page;
    }
    let Some(need) = needs(&route) else {
        return html! {};
    };
    match session {
        Session::User(_) => {}
        Session::Operator(_) => {
            return html! { <Denied to={Route::Platform} key_={"flash-no-access"} /> };
        }
        _ => return html! { <Denied to={Route::Login} key_={"flash-sign-in-first"} /> },
    }
    if !need.is_empty() && !need.iter().any(|p| session.can(p)) {
        return html! { <Denied to={home_for(session)} key_={"flash-no-access"} /> };
    }
    let page = desk_page(&route)
        .or_else(|| console_page(route))
        .unwrap_or_default();
    let wide = matches!(p.route, Route::Agent);
    html! { <Layout {wide}>{ page }</Layout> }
}

/// A route the running build does not serve (see [`crate::route::served_here`]): reload the
/// page, so index.html loads the build that serves this address.
#[function_component]
fn OtherBuild() -> Html {
    let flash = use_app().flash;
    use_effect_with((), move |_| {
        if let Some(w) = web_sys::window() {
            // The message on screen ("Sign in first"…) survives the reload.
            if let (Some(f), Ok(Some(store))) = (flash, w.session_storage()) {
                let v = serde_json::json!([f.key, f.error, f.arg]).to_string();
                let _ = store.set_item(CARRIED_FLASH, &v);
            }
            let _ = w.location().reload();
        }
    });
    html! { <div class="boot-screen"><Loading /></div> }
}

const CARRIED_FLASH: &str = "hotline-flash";

/// The flash message [`OtherBuild`] carried over its reload, if any (read once).
fn take_carried_flash() -> Option<Flash> {
    let store = web_sys::window()?.session_storage().ok()??;
    let v = store.get_item(CARRIED_FLASH).ok()??;
    let _ = store.remove_item(CARRIED_FLASH);
    let (key, error, arg): (String, bool, Option<String>) = serde_json::from_str(&v).ok()?;
    Some(Flash { key, error, arg })
}

/// The desk build's page: the agent desktop.
#[cfg(feature = "desk")]
fn desk_page(route: &Route) -> Option<Html> {
    match route {
        Route::Agent => Some(html! { <pages::agent::AgentDesktop /> }),
        _ => None,
    }
}
#[cfg(not(feature = "desk"))]
fn desk_page(_: &Route) -> Option<Html> {
    None
}

/// The console build's pages behind a permission check.
#[cfg(feature = "console")]
fn console_page(route: Route) -> Option<Html> {
    Some(match route {
        Route::Account => html! { <pages::auth::AccountPage /> },
        Route::Users => html! { <pages::users::UsersPage /> },
        Route::User { id } => html! { <pages::users::UserPage {id} /> },
        Route::Teams => html! { <pages::org::TeamsPage /> },
        Route::Skills => html! { <pages::org::SkillsPage /> },
        Route::Queues => html! { <pages::org::QueuesPage /> },
        Route::Roles => html! { <pages::org::RolesPage /> },
        Route::ReasonCodes => html! { <pages::org::ReasonCodesPage /> },
        Route::Audit => html! { <pages::audit::AuditPage /> },
        Route::Sso => html! { <pages::auth::SsoSettingsPage /> },
        Route::Tickets => html! { <pages::tickets::TicketsPage /> },
        Route::Ticket { id } => {
            let key = id.clone();
            html! { <pages::tickets::TicketPage key={key} {id} /> }
        }
        Route::KbEdit => html! { <pages::kb::KbEditPage /> },
        Route::CustomerTemplate => html! { <pages::crm::CustomerTemplatePage /> },
        Route::Names => html! { <pages::names::NamesPage /> },
        Route::TicketTypes => html! { <pages::ticket_types::TicketTypesPage /> },
        Route::Categories => html! { <pages::categories::CategoriesPage /> },
        Route::TicketRules => html! { <pages::ticket_rules::TicketRulesPage /> },
        Route::ApiKeys => html! { <pages::settings::ApiKeysPage /> },
        Route::Settings => html! { <pages::settings::SettingsPage /> },
        Route::CustomerImport => html! { <pages::import::CustomerImportPage /> },
        Route::Customers => html! { <pages::customers::CustomersPage /> },
        Route::Ivr => html! { <pages::ivr::IvrPage /> },
        Route::IvrFlow { id } => {
            let key = id.clone();
            html! { <pages::ivr::FlowEditorPage key={key} {id} /> }
        }
        Route::Campaigns => html! { <pages::campaigns::CampaignsPage /> },
        Route::Voicemail => html! { <pages::voicemail::VoicemailPage /> },
        Route::BreakRequests => html! { <pages::voicemail::BreakRequestsPage /> },
        Route::CallLog => html! { <pages::call_log::CallLogPage /> },
        Route::MissedCalls => html! { <pages::missed::MissedCallsPage /> },
        Route::Call { id } => {
            let key = id.clone();
            html! { <pages::call_log::CallPage key={key} {id} /> }
        }
        Route::Outbound => html! { <pages::outbound::OutboundPage /> },
        Route::Numbers => html! { <pages::numbers::NumbersPage /> },
        Route::Trunks => html! { <pages::trunks::TrunksPage /> },
        _ => return None,
    })
}
#[cfg(not(feature = "console"))]
fn console_page(_: Route) -> Option<Html> {
    None
}

/// The console build's pages that need no permission check (sign-in, sign-up, the
/// operators' pages, not found) and the redirects around them; `None` for the rest.
#[cfg(feature = "console")]
fn console_public_page(route: &Route, session: &Session, i18n: &crate::i18n::I18n) -> Option<Html> {
    let operator = matches!(session, Session::Operator(_));
    let operators_only =
        || html! { <Denied to={Route::PlatformLogin} key_={"flash-operators-only"} /> };
    Some(match route.clone() {
        Route::Home => match session {
            Session::User(_) => html! { <Layout><pages::home::HomePage /></Layout> },
            _ => html! { <Redirect<Route> to={home_for(session)} /> },
        },
        Route::Login | Route::Signup if matches!(session, Session::User(_)) => {
            html! { <Redirect<Route> to={home_for(session)} /> }
        }
        Route::PlatformLogin if operator => html! { <Redirect<Route> to={Route::Platform} /> },
        Route::Login => html! { <Bare><pages::auth::LoginPage /></Bare> },
        Route::Signup => html! { <Bare><pages::auth::SignupPage /></Bare> },
        Route::VerifyEmail => html! { <Bare><pages::outbound::VerifyEmailPage /></Bare> },
        Route::PlatformLogin => html! { <Bare><pages::platform::PlatformLoginPage /></Bare> },
        Route::Platform if operator => html! { <Layout><pages::platform::TenantsPage /></Layout> },
        Route::PlatformNumbers if operator => {
            html! { <Layout><pages::numbers::PlatformNumbersPage /></Layout> }
        }
        Route::PlatformSessions { id } if operator => {
            let key = id.clone();
            html! { <Layout><pages::sessions::TenantSessionsPage {key} {id} /></Layout> }
        }
        Route::Platform | Route::PlatformNumbers | Route::PlatformSessions { .. } => operators_only(),
        Route::NotFound => html! {
            <Layout>
                <h1>{ i18n.t("notfound-title") }</h1>
                <p>{ i18n.t("notfound-body") }</p>
                <Link<Route> to={Route::Home}>{ i18n.t("notfound-home") }</Link<Route>>
            </Layout>
        },
        _ => return None,
    })
}
#[cfg(not(feature = "console"))]
fn console_public_page(_: &Route, _: &Session, _: &crate::i18n::I18n) -> Option<Html> {
    None
}

#[derive(Properties, PartialEq)]
struct DeniedProps {
    to: Route,
    key_: AttrValue,
}

/// Redirects with a message saying why.
#[function_component]
fn Denied(p: &DeniedProps) -> Html {
    let app = use_app();
    let navigator = use_navigator().expect("inside BrowserRouter");
    {
        let to = p.to.clone();
        let key = p.key_.to_string();
        use_effect_with((), move |_| {
            app.set_flash.emit(Some(Flash::error(&key)));
            navigator.replace(&to);
        });
    }
    html! { <div class="boot-screen"><Loading /></div> }
}

#[derive(Properties, PartialEq)]
pub struct ChildrenProps {
    pub children: Html,
    #[prop_or_default]
    pub wide: bool,
}

/// The flash message, if any, with a close button.
#[function_component]
fn FlashBar() -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let Some(f) = &app.flash else { return html! {} };
    let text = match &f.arg {
        Some(a) => i18n.ta(&f.key, &[("arg", a.clone().into())]),
        None => i18n.t(&f.key),
    };
    let close = {
        let set = app.set_flash.clone();
        move |_| set.emit(None)
    };
    html! {
        <div id="flash" class={classes!("alert", if f.error { "error" } else { "ok" })} role="alert">
            <p>{ text }</p>
            <button type="button" class="link" onclick={close} aria-label={i18n.t("action-dismiss")}>{ "×" }</button>
        </div>
    }
}

/// Pages without navigation: login, sign-up.
#[function_component]
fn Bare(p: &ChildrenProps) -> Html {
    let i18n = use_i18n();
    html! {
        <div class="bare">
            <header class="bare-header">
                <span class="brand">{ i18n.t("app-name") }</span>
                <LangPicker />
            </header>
            <main id="main" class="bare-main">
                <FlashBar />
                { p.children.clone() }
            </main>
        </div>
    }
}

/// The signed-in layout: header with navigation for what this user may do, then the page.
#[function_component]
pub fn Layout(p: &ChildrenProps) -> Html {
    let app = use_app();
    let i18n = use_i18n();
    let navigator = use_navigator().expect("inside BrowserRouter");
    let current = use_route::<Route>();
    let busy = use_state(|| false);

    let logout = {
        let app = app.clone();
        let busy = busy.clone();
        Callback::from(move |_| {
            let app = app.clone();
            let navigator = navigator.clone();
            let busy = busy.clone();
            let operator = matches!(app.session, Session::Operator(_));
            busy.set(true);
            wasm_bindgen_futures::spawn_local(async move {
                let path = if operator {
                    "/platform/logout"
                } else {
                    "/auth/logout"
                };
                // Even if the server cannot be reached, forget the session locally.
                let _ = api::post_empty(path, &serde_json::json!({})).await;
                busy.set(false);
                app.set_session.emit(Session::Anonymous);
                app.set_flash.emit(Some(Flash::info("flash-logged-out")));
                navigator.push(&if operator {
                    Route::PlatformLogin
                } else {
                    Route::Login
                });
            });
        })
    };

    let (who, tenant) = match &app.session {
        Session::User(s) => (s.user.name.clone(), Some(s.tenant.name.clone())),
        Session::Operator(o) => (o.name.clone(), Some(i18n.t("platform-console"))),
        _ => (String::new(), None),
    };
    // Narrow screens: the sidebar opens from the menu button and closes on navigation.
    let menu_open = use_state(|| false);
    {
        let menu_open = menu_open.clone();
        use_effect_with(current.clone(), move |_| menu_open.set(false));
    }
    let toggle_menu = {
        let menu_open = menu_open.clone();
        Callback::from(move |_: MouseEvent| menu_open.set(!*menu_open))
    };

    html! {
        <div class={classes!("layout", p.wide.then_some("layout-wide"))}>
            <a class="skip-link" href="#main">{ i18n.t("shell-skip-to-content") }</a>
            <header class="topbar">
                <button type="button" id="menu-button" class="menu-button" onclick={toggle_menu}
                    aria-expanded={menu_open.to_string()} aria-controls="mainnav">
                    { crate::nav::icon(crate::nav::ICON_MENU) }
                    <span>{ i18n.t("shell-menu") }</span>
                </button>
                <span class="brand">{ i18n.t("app-name") }</span>
                if let Some(t) = tenant { <span class="tenant" id="tenant-name">{ t }</span> }
                <div class="topbar-right">
                    if matches!(app.session, Session::User(_)) { <crate::notifications::NotificationBell /> }
                    <LangPicker />
                    if matches!(app.session, Session::User(_)) {
                        <Link<Route> to={Route::Account} classes="user-name">{ who.clone() }</Link<Route>>
                    } else {
                        <span class="user-name">{ who }</span>
                    }
                    <button type="button" id="logout" class="secondary" onclick={logout} disabled={*busy}>{ i18n.t("shell-logout") }</button>
                </div>
            </header>
            <div class="shell-body">
                <crate::nav::Sidebar open={*menu_open} />
                <main id="main" tabindex="-1">
                    <FlashBar />
                    if matches!(app.session, Session::User(_)) { <crate::pages::outbound::EmailBanner /> }
                    { p.children.clone() }
                </main>
            </div>
        </div>
    }
}
