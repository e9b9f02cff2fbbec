//! Cross-site request forgery, defence in depth. The session cookie is `SameSite=Lax`, so a
//! browser does not send it on another site's POST; this middleware makes the API refuse
//! such requests on its own too:
//! - a state-changing request (POST, PUT, PATCH, DELETE) whose `Origin` is not ours, or whose
//!   `Sec-Fetch-Site` is `cross-site` or `same-site`, is a 403 `cross_site_request` — with or
//!   without a cookie, so sign-up and login (login CSRF) are covered too. "Ours" is the origin
//!   of `public_url`, or the host the browser itself addressed (`Host`);
//! - its body must be JSON or `multipart/form-data` (what the SPA sends), or no body at all;
//!   the raw-upload routes (attachments, imports, IVR prompts) take their files' own types.
//!   Anything else (`text/plain`, `application/x-www-form-urlencoded` — what an HTML form on
//!   another site can send without a CORS preflight) is a 415 `unsupported_media_type`.
//!
//! A request with `Authorization` (an API key) is not checked: a browser never adds that
//! header to a cross-site request by itself. A request without `Origin` and
//! `Sec-Fetch-Site` (curl, scripts, server-to-server) is judged by its content type alone.

use crate::{error::ApiError, state::AppState};
use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Routes whose body is a raw file with its own content type (checked by the handler).
fn raw_upload(route: &str) -> bool {
    route.ends_with("/attachments")
        || route.ends_with("/import")
        || route.ends_with("/import/preview")
        || route.ends_with("/ivr/prompts")
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(
        req.method(),
        req.headers(),
        req.extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str())
            .unwrap_or(""),
        &state.cfg.public_url,
    ) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The decision, without the request body.
pub fn check(
    method: &Method,
    headers: &HeaderMap,
    route: &str,
    public_url: &str,
) -> Result<(), ApiError> {
    if matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    ) || headers.contains_key(header::AUTHORIZATION)
    {
        return Ok(());
    }
    let text = |name: &str| headers.get(name).map(|v| v.to_str().unwrap_or("\u{fffd}"));
    if let Some(origin) = text("origin") {
        if !same_origin(origin, public_url, text("host")) {
            return Err(ApiError::CrossSite(format!(
                "Origin {} is not this server ({public_url}); set public_url to the address users reach",
                crate::text::printable(origin)
            )));
        }
    }
    if let Some(site) = text("sec-fetch-site") {
        if !matches!(site, "same-origin" | "none") {
            return Err(ApiError::CrossSite(format!(
                "Sec-Fetch-Site: {}",
                crate::text::printable(site)
            )));
        }
    }
    match text("content-type") {
        None => {
            let has_body = headers.contains_key(header::TRANSFER_ENCODING)
                || text("content-length").is_some_and(|n| n.trim() != "0");
            if has_body {
                return Err(ApiError::UnsupportedMediaType(
                    "a request body needs a Content-Type (application/json)".into(),
                ));
            }
        }
        Some(ct) => {
            let essence = ct
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            let ok = crate::error::is_json(ct)
                || essence == "multipart/form-data"
                || (raw_upload(route) && essence != "application/x-www-form-urlencoded");
            if !ok {
                return Err(ApiError::UnsupportedMediaType(format!(
                    "this request must be sent as application/json, not {}",
                    crate::text::printable(ct)
                )));
            }
        }
    }
    Ok(())
}

/// Whether `origin` (an `Origin` header) is `public_url`'s origin or the `Host` addressed.
fn same_origin(origin: &str, public_url: &str, host: Option<&str>) -> bool {
    let Ok(o) = url::Url::parse(origin) else {
        return false; // "null" (sandboxed frames, some redirects) and garbage
    };
    if !matches!(o.scheme(), "http" | "https") {
        return false;
    }
    if url::Url::parse(public_url).is_ok_and(|p| p.origin() == o.origin()) {
        return true;
    }
    let port = o.port().map(|p| format!(":{p}")).unwrap_or_default();
    let addressed = format!("{}{port}", o.host_str().unwrap_or(""));
    host.is_some_and(|h| h.eq_ignore_ascii_case(&addressed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    const PUBLIC: &str = "https://hotline.example";

    #[test]
    fn cross_site_writes_are_refused() {
        let post = Method::POST;
        let json = ("content-type", "application/json");
        let code = |r: Result<(), ApiError>| r.err().map(|e| e.to_problem().code);
        assert_eq!(
            code(check(
                &post,
                &headers(&[json, ("origin", "http://evil.example")]),
                "/x",
                PUBLIC
            )),
            Some("cross_site_request".into())
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[json, ("origin", "null")]),
                "/x",
                PUBLIC
            )),
            Some("cross_site_request".into())
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[json, ("sec-fetch-site", "cross-site")]),
                "/x",
                PUBLIC
            )),
            Some("cross_site_request".into())
        );
        assert_eq!(
            code(check(
                &post,
                &headers(&[json, ("sec-fetch-site", "same-site")]),
                "/x",
                PUBLIC
            )),
            Some("cross_site_request".into())
        );
        // Ours: public_url (default port spelled or not), or the Host addressed.
        assert!(check(
            &post,
            &headers(&[json, ("origin", "https://hotline.example")]),
            "/x",
            PUBLIC
        )
        .is_ok());
        assert!(check(
            &post,
            &headers(&[json, ("origin", "https://hotline.example:443")]),
            "/x",
            PUBLIC
        )
        .is_ok());
        assert!(check(
            &post,
            &headers(&[
                json,
                ("origin", "http://localhost:8080"),
                ("host", "localhost:8080")
            ]),
            "/x",
            PUBLIC
        )
        .is_ok());
        // API keys and reads are not checked; no Origin (a script) is fine with JSON.
        assert!(check(
            &post,
            &headers(&[
                ("authorization", "Bearer k"),
                ("origin", "http://evil.example")
            ]),
            "/x",
            PUBLIC
        )
        .is_ok());
        assert!(check(
            &Method::GET,
            &headers(&[("origin", "http://evil.example")]),
            "/x",
            PUBLIC
        )
        .is_ok());
        assert!(check(&post, &headers(&[json]), "/x", PUBLIC).is_ok());
    }

    #[test]
    fn form_types_are_refused_outside_uploads() {
        let post = Method::POST;
        let code = |r: Result<(), ApiError>| r.err().map(|e| e.to_problem().code);
        for ct in ["text/plain", "application/x-www-form-urlencoded"] {
            assert_eq!(
                code(check(
                    &post,
                    &headers(&[("content-type", ct)]),
                    "/api/v1/skills",
                    PUBLIC
                )),
                Some("unsupported_media_type".into())
            );
        }
        assert!(check(
            &post,
            &headers(&[("content-type", "multipart/form-data; boundary=x")]),
            "/api/v1/skills",
            PUBLIC
        )
        .is_ok());
        assert!(check(
            &post,
            &headers(&[("content-type", "text/plain")]),
            "/api/v1/tickets/{id}/attachments",
            PUBLIC
        )
        .is_ok());
        assert!(check(
            &post,
            &headers(&[("content-type", "text/csv")]),
            "/api/v1/customers/import",
            PUBLIC
        )
        .is_ok());
        assert_eq!(
            code(check(
                &post,
                &headers(&[("content-type", "application/x-www-form-urlencoded")]),
                "/api/v1/customers/import",
                PUBLIC
            )),
            Some("unsupported_media_type".into())
        );
        // Bodiless writes (DELETE, a POST action) need no type; a body does.
        assert!(check(&Method::DELETE, &headers(&[]), "/x", PUBLIC).is_ok());
        assert!(check(&post, &headers(&[("content-length", "0")]), "/x", PUBLIC).is_ok());
        assert_eq!(
            code(check(
                &post,
                &headers(&[("content-length", "12")]),
                "/x",
                PUBLIC
            )),
            Some("unsupported_media_type".into())
        );
    }
}
