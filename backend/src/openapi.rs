//! The OpenAPI document, generated from the handlers' annotations and the wire types.

use crate::routes::{self, agent, api_keys, audit, health, org, platform, sso, users};
use hotline_wire::api::*;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hotline API",
        version = "1",
        description = "Multi-tenant call center API. \
        Errors are application/problem+json with a stable `code`."
    ),
    paths(
        health::healthz,
        health::readyz,
        health::metrics,
        routes::auth::signup,
        routes::auth::options,
        routes::auth::login,
        routes::auth::logout,
        routes::auth::me,
        routes::auth::change_password,
        sso::get_config,
        sso::put_config,
        sso::start,
        sso::callback,
        users::list,
        users::fetch,
        users::create,
        users::update,
        users::deactivate,
        users::reset_password,
        org::list_teams,
        org::get_team,
        org::create_team,
        org::update_team,
        org::delete_team,
        org::list_skills,
        org::get_skill,
        org::create_skill,
        org::update_skill,
        org::delete_skill,
        org::list_queues,
        org::get_queue,
        org::create_queue,
        org::update_queue,
        org::delete_queue,
        org::list_reasons,
        org::create_reason,
        org::update_reason,
        org::delete_reason,
        org::list_roles,
        org::get_role,
        org::create_role,
        org::update_role,
        org::delete_role,
        org::list_permissions,
        agent::get_state,
        agent::set_state,
        api_keys::list,
        api_keys::create,
        api_keys::revoke,
        audit::list,
        platform::login,
        platform::logout,
        platform::me,
        platform::list_tenants,
        platform::create_tenant,
        platform::suspend,
        platform::resume,
    ),
    components(schemas(Problem, FieldError, QueueStrategy, AgentStatus))
)]
pub struct ApiDoc;

/// The document as served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
