//! One module per area of the app.

pub mod agent;
pub mod audit;
pub mod auth;
pub mod call_log;
pub mod calls;
pub mod campaign_desk;
pub mod campaigns;
pub mod categories;
pub mod crm;
pub mod customers;
pub mod desk_phone;
pub mod directory;
pub mod home;
pub mod import;
pub mod ivr;
pub mod kb;
pub mod missed;
pub mod names;
pub mod numbers;
pub mod org;
pub mod outbound;
pub mod platform;
pub mod sessions;
pub mod settings;
pub mod ticket_rules;
pub mod ticket_types;
pub mod tickets;
pub mod trunks;
pub mod users;
pub mod voicemail;

/// A query-string parameter of the current URL.
pub fn query_param(name: &str) -> Option<String> {
    let search = web_sys::window()?.location().search().ok()?;
    web_sys::UrlSearchParams::new_with_str(&search)
        .ok()?
        .get(name)
        .filter(|v| !v.is_empty())
}
