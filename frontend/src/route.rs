//! The app's routes and the state every screen shares: who is signed in ([`Session`]), the
//! flash message, [`use_app`], and what each route needs. Screens import this, never the
//! shell (`app`), which imports the screens.

use std::rc::Rc;

use hotline_wire::api::{OperatorInfo, SessionInfo};
use hotline_wire::permissions as perm;
use yew::prelude::*;
use yew_router::prelude::*;

use crate::api::ApiError;

#[derive(Clone, Routable, PartialEq, Debug)]
pub enum Route {
    #[at("/")]
    Home,
    #[at("/login")]
    Login,
    #[at("/signup")]
    Signup,
    #[at("/account")]
    Account,
    #[at("/agent")]
    Agent,
    #[at("/tickets")]
    Tickets,
    #[at("/tickets/:id")]
    Ticket { id: String },
    #[at("/kb")]
    KbEdit,
    #[at("/admin/users")]
    Users,
    /// `id` is `new` for the create form.
    #[at("/admin/users/:id")]
    User { id: String },
    #[at("/admin/teams")]
    Teams,
    #[at("/admin/skills")]
    Skills,
    #[at("/admin/queues")]
    Queues,
    #[at("/admin/roles")]
    Roles,
    #[at("/admin/reason-codes")]
    ReasonCodes,
    #[at("/admin/audit")]
    Audit,
    #[at("/admin/sso")]
    Sso,
    #[at("/admin/customer-template")]
    CustomerTemplate,
    #[at("/admin/names")]
    Names,
    #[at("/admin/ticket-types")]
    TicketTypes,
    #[at("/admin/categories")]
    Categories,
    /// Assignment rules, SLA policies and the business calendar.
    #[at("/admin/ticket-rules")]
    TicketRules,
    #[at("/admin/api-keys")]
    ApiKeys,
    /// Recording retention, knowledge-base language, CRM country code.
    #[at("/admin/settings")]
    Settings,
    #[at("/customers")]
    Customers,
    #[at("/customers/import")]
    CustomerImport,
    #[at("/admin/ivr")]
    Ivr,
    /// `id` is `new` for a new flow.
    #[at("/admin/ivr/flows/:id")]
    IvrFlow { id: String },
    #[at("/admin/campaigns")]
    Campaigns,
    #[at("/voicemail")]
    Voicemail,
    /// The call log (supervisors, recording readers).
    #[at("/calls")]
    CallLog,
    #[at("/calls/:id")]
    Call { id: String },
    #[at("/supervisor/missed-calls")]
    MissedCalls,
    #[at("/supervisor/breaks")]
    BreakRequests,
    #[at("/admin/outbound")]
    Outbound,
    /// The tenant's numbers: flows, requests for the platform's free numbers.
    #[at("/admin/numbers")]
    Numbers,
    /// The tenant's own SIP trunks (bring your own carrier).
    #[at("/admin/trunks")]
    Trunks,
    /// Where the verification e-mail's link leads (`?token=`).
    #[at("/verify-email")]
    VerifyEmail,
    #[at("/platform/login")]
    PlatformLogin,
    #[at("/platform")]
    Platform,
    /// The platform's number pool and tenants' requests (operators).
    #[at("/platform/numbers")]
    PlatformNumbers,
    /// A tenant's signed-in sessions (operators).
    #[at("/platform/tenants/:id/sessions")]
    PlatformSessions { id: String },
    #[not_found]
    #[at("/404")]
    NotFound,
}

/// Who is signed in.
#[derive(Clone, PartialEq, Debug)]
pub enum Session {
    /// Still asking the server.
    Unknown,
    /// The server could not be asked (shown with a retry, never a blank page).
    Unreachable(ApiError),
    Anonymous,
    User(Rc<SessionInfo>),
    Operator(Rc<OperatorInfo>),
}

impl Session {
    /// The signed-in user's id.
    pub fn user_id(&self) -> Option<uuid::Uuid> {
        match self {
            Session::User(s) => Some(s.user.id),
            _ => None,
        }
    }

    pub fn can(&self, permission: &str) -> bool {
        match self {
            Session::User(s) => s.permissions.iter().any(|p| p == permission),
            _ => false,
        }
    }
}

/// A message shown at the top of the next screen, stored as a catalog key so a language
/// switch re-translates it.
#[derive(Clone, PartialEq, Debug)]
pub struct Flash {
    pub key: String,
    pub error: bool,
    pub arg: Option<String>,
}

impl Flash {
    pub fn info(key: &str) -> Self {
        Flash {
            key: key.into(),
            error: false,
            arg: None,
        }
    }
    pub fn error(key: &str) -> Self {
        Flash {
            key: key.into(),
            error: true,
            arg: None,
        }
    }
}

#[derive(Clone, PartialEq)]
pub struct AppCtx {
    pub session: Session,
    pub set_session: Callback<Session>,
    pub flash: Option<Flash>,
    pub set_flash: Callback<Option<Flash>>,
    /// Re-reads `/auth/me` (or `/platform/me`).
    pub refresh: Callback<()>,
}

#[hook]
pub fn use_app() -> AppCtx {
    use_context::<AppCtx>().expect("AppCtx is provided by App")
}

/// What a route needs: `None` = public; `Some(&[])` = any signed-in user; otherwise any of
/// the listed permissions.
pub fn needs(route: &Route) -> Option<&'static [&'static str]> {
    match route {
        Route::Home
        | Route::Login
        | Route::Signup
        | Route::PlatformLogin
        | Route::NotFound
        | Route::VerifyEmail => None,
        Route::Platform | Route::PlatformSessions { .. } | Route::PlatformNumbers => None, // checked separately: operators only
        Route::Account => Some(&[]),
        Route::Agent => Some(&[perm::AGENT_STATE]),
        Route::Users | Route::User { .. } | Route::Teams | Route::Skills | Route::Queues => {
            Some(&[perm::USERS_READ])
        }
        Route::Roles => Some(&[perm::ROLES_WRITE]),
        Route::ReasonCodes | Route::Trunks => Some(&[perm::SETTINGS_WRITE]),
        Route::Audit => Some(&[perm::AUDIT_READ]),
        Route::Sso => Some(&[perm::SETTINGS_WRITE]),
        Route::Tickets | Route::Ticket { .. } => Some(&[perm::TICKETS_WORK]),
        Route::KbEdit => Some(&[perm::KB_WRITE]),
        Route::CustomerTemplate => Some(&[perm::CRM_ADMIN]),
        Route::Names => Some(&[perm::CRM_ADMIN, perm::TICKETS_ADMIN]),
        Route::TicketTypes | Route::TicketRules => Some(&[perm::TICKETS_ADMIN]),
        Route::Categories => Some(&[perm::CRM_ADMIN]),
        Route::ApiKeys => Some(&[perm::API_KEYS_WRITE]),
        Route::Settings => Some(&[perm::SETTINGS_WRITE]),
        Route::CustomerImport => Some(&[perm::CRM_WRITE]),
        Route::Customers => Some(&[perm::CRM_READ]),
        Route::Ivr | Route::IvrFlow { .. } => Some(&[perm::IVR_WRITE]),
        Route::Campaigns | Route::Outbound => Some(&[perm::CAMPAIGNS_WRITE]),
        Route::Numbers => Some(&[perm::IVR_WRITE, perm::SETTINGS_WRITE]),
        Route::Voicemail => Some(&[perm::AGENT_STATE, perm::SUPERVISE, perm::RECORDINGS_READ]),
        Route::BreakRequests | Route::MissedCalls => Some(&[perm::SUPERVISE]),
        Route::CallLog | Route::Call { .. } => Some(&[perm::SUPERVISE, perm::RECORDINGS_READ]),
    }
}

/// Publishes every route as `window.__hotlineRoutes`: `[{ path: "/tickets/:id", audience }]`
/// with `audience` one of `anonymous` (public pages), `user` (a tenant's user) or `operator`
/// (the platform console). Read by `tests/tests/browser_all_routes.rs`, which visits each one
/// in every language: a new `Route` variant is covered there without editing the test.
pub fn publish_routes() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let list = js_sys::Array::new();
    for path in Route::routes() {
        // A parameter's value does not change which variant matches.
        let sample: String = path
            .split('/')
            .map(|seg| if seg.starts_with(':') { "x" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        let audience = match Route::recognize(&sample) {
            Some(Route::Platform | Route::PlatformSessions { .. } | Route::PlatformNumbers) => "operator",
            Some(r) if needs(&r).is_none() => "anonymous",
            _ => "user",
        };
        let entry = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&entry, &"path".into(), &path.into());
        let _ = js_sys::Reflect::set(&entry, &"audience".into(), &audience.into());
        list.push(&entry);
    }
    let _ = js_sys::Reflect::set(&window, &"__hotlineRoutes".into(), &list);
}


/// Whether the agent desktop build serves `route`. The SPA is built twice
/// (`frontend/build.sh`): the **desk** — the agent desktop alone, small for a fast cold
/// load — and the **console** — every other screen. `index.html` loads the build that serves
/// the address by the same rule (its `deskPaths`); a screen the running build does not serve
/// reloads the page so the other build loads ([`served_here`]).
pub fn on_desk(route: &Route) -> bool {
    matches!(route, Route::Agent)
}

/// Whether this build renders `route` (a build with both features — `cargo build`'s
/// default, used by clippy — renders every route).
pub fn served_here(route: &Route) -> bool {
    let desk = on_desk(route);
    (desk && cfg!(feature = "desk")) || (!desk && cfg!(feature = "console"))
}

/// Where a signed-in user lands: agents (who take calls and administer nothing) on their
/// desk, everyone else on the home page (the administrator's first steps, a supervisor's
/// tools).
pub fn home_for(session: &Session) -> Route {
    match session {
        Session::Operator(_) => Route::Platform,
        Session::User(_) if session.can(perm::AGENT_STATE) && !session.can(perm::USERS_READ) => {
            Route::Agent
        }
        Session::User(_) => Route::Home,
        _ => Route::Login,
    }
}
