//! HTTP routes: one router per feature, merged under `/api/v1`.

pub mod agent;
pub mod agent_campaigns;
pub mod agent_events;
pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod breaks;
pub mod calls;
pub mod campaigns;
pub mod crm;
pub mod desk_phones;
pub mod directory;
pub mod health;
pub mod ivr;
pub mod kb;
pub mod notifications;
pub mod numbers;
pub mod onboarding;
pub mod org;
pub mod platform;
pub mod prompts;
pub mod recordings;
pub mod saved_filters;
pub mod scheduled;
pub mod sessions;
pub mod sla;
pub mod sso;
pub mod tickets;
pub mod trunks;
pub mod users;
pub mod verify;
pub mod voicemail;

use crate::{error::ApiError, state::AppState};
use axum::Router;

/// Every `/api/v1` route.
pub fn api() -> Router<AppState> {
    Router::new()
        .merge(auth::router())
        .merge(sso::router())
        .merge(users::router())
        .merge(org::router())
        .merge(agent::router())
        .merge(agent_events::router())
        .merge(api_keys::router())
        .merge(audit::router())
        .merge(platform::router())
        .merge(sessions::router())
        .merge(crm::router())
        .merge(saved_filters::router())
        .merge(kb::router())
        .merge(tickets::router())
        .merge(sla::router())
        .merge(notifications::router())
        .merge(recordings::router())
        .merge(ivr::router())
        .merge(calls::router())
        .merge(voicemail::router())
        .merge(breaks::router())
        .merge(prompts::router())
        .merge(campaigns::router())
        .merge(agent_campaigns::router())
        .merge(scheduled::router())
        .merge(verify::router())
        .merge(desk_phones::router())
        .merge(directory::router())
        .merge(onboarding::router())
        .merge(numbers::router())
        .merge(trunks::router())
}

/// Validated paging: page ≥ 1, 1 ≤ per_page ≤ 200 (default 50).
pub fn paging(page: Option<i64>, per_page: Option<i64>) -> Result<(i64, i64), ApiError> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(50);
    let mut c = crate::validate::Check::new();
    c.range("page", page, 1, 1_000_000);
    c.range("per_page", per_page, 1, 200);
    c.finish()?;
    Ok((page, per_page))
}
