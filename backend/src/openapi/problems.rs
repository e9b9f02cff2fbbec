//! The error answers every operation can give, added to the document in one place so no
//! handler's annotation has to repeat them (and none can forget them):
//!
//! - every answer with a status of 400 or more is `application/problem+json` with the
//!   [`Problem`](hotline_wire::api::Problem) schema (`error.rs`'s contract);
//! - `400` (`malformed_query`, `malformed_path`, `malformed_body`, `malformed_multipart`) and
//!   `422` (`validation_failed`, NUL or control characters) where the operation takes
//!   parameters or a body;
//! - `404` where the path names something;
//! - `401` (`unauthenticated`) and `403` (`forbidden`: permissions) unless the operation is
//!   public; `403` (`cross_site_request`) on every state-changing operation;
//! - `413` (`payload_too_large`) and `415` (`unsupported_media_type`) where it takes a body.
//!
//! Answers a handler documents itself keep their description.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{Content, OpenApi, Ref, RefOr, Response};

/// Operations anyone may call without signing in (and without an API key).
const PUBLIC: &[&str] = &[
    "/healthz",
    "/readyz",
    "/metrics",
    "/api/v1/signup",
    "/api/v1/auth/options",
    "/api/v1/auth/login",
    "/api/v1/auth/logout",
    "/api/v1/auth/password-strength",
    "/api/v1/auth/verify-email",
    "/api/v1/auth/sso/{tenant}/start",
    "/api/v1/auth/sso/callback",
    "/api/v1/platform/login",
];

const PROBLEM_JSON: &str = "application/problem+json";

fn description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed request (`malformed_query`, `malformed_path`, `malformed_body`, …)",
        "401" => "Not signed in (`unauthenticated`)",
        "403" => "Not allowed (`forbidden`, `cross_site_request`)",
        "404" => "Not found (`not_found`)",
        "409" => "Conflict with the current state",
        "413" => "Body too large (`payload_too_large`)",
        "415" => "Wrong content type (`unsupported_media_type`)",
        "422" => "Invalid fields (`validation_failed`)",
        "429" => "Too many requests",
        _ => "Error",
    }
}

fn problem_content() -> Content {
    Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
}

fn add_to(path: &str, method: &str, op: &mut Operation) {
    let public = PUBLIC.contains(&path);
    let takes_params = path.contains('{')
        || op.parameters.as_ref().is_some_and(|ps| {
            ps.iter()
                .any(|p| matches!(p.parameter_in, ParameterIn::Query))
        });
    let takes_body = op.request_body.is_some();
    let mut statuses = Vec::new();
    if takes_params || takes_body {
        statuses.extend(["400", "422"]);
    }
    if path.contains('{') {
        statuses.push("404");
    }
    if !public {
        statuses.extend(["401", "403"]);
    }
    if method != "get" {
        statuses.push("403");
    }
    if takes_body {
        statuses.extend(["413", "415"]);
    }
    let responses = &mut op.responses.responses;
    for status in statuses {
        responses
            .entry(status.to_string())
            .or_insert_with(|| RefOr::T(Response::new(description(status))));
    }
    for (status, response) in responses.iter_mut() {
        let is_error = status
            .as_bytes()
            .first()
            .is_some_and(|c| *c == b'4' || *c == b'5');
        if let (true, RefOr::T(response)) = (is_error, response) {
            response.content.clear();
            response
                .content
                .insert(PROBLEM_JSON.to_string(), problem_content());
            if response.description.is_empty() {
                response.description = description(status).to_string();
            }
        }
    }
}

/// Adds the error answers to every operation of `doc`.
pub fn add(doc: &mut OpenApi) {
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, op) in [
            ("get", &mut item.get),
            ("put", &mut item.put),
            ("post", &mut item.post),
            ("delete", &mut item.delete),
            ("patch", &mut item.patch),
        ] {
            if let Some(op) = op {
                add_to(path, method, op);
            }
        }
    }
}
