//! The one error type of the API. Every failure renders as `application/problem+json`
//! (RFC 9457) with a stable `code`; internal details are logged, never sent.

use axum::{
    extract::{FromRequest, RawPathParams, Request},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use hotline_wire::api::{FieldError, Problem};
use serde::de::DeserializeOwned;

#[derive(Debug)]
pub enum ApiError {
    /// 400: the body is not the JSON we expect.
    Malformed {
        detail: String,
        field: Option<String>,
    },
    /// 422: well-formed but invalid fields.
    Validation(Vec<FieldError>),
    Unauthenticated,
    SessionExpired,
    InvalidCredentials,
    LoginLocked {
        retry_after_secs: u64,
    },
    /// 429 `rate_limited`: too many requests of one kind (sign-ups, strength estimates) from
    /// one address or the whole platform; `Retry-After` says when to try again.
    RateLimited {
        retry_after_secs: u64,
    },
    Forbidden,
    /// 403: the tenant is suspended by the platform operators.
    TenantSuspended,
    /// 404 — also what a tenant sees for another tenant's ids: existence is never leaked.
    NotFound,
    /// 409 with a specific code, e.g. `slug_taken`, `email_taken`.
    Conflict {
        code: &'static str,
        detail: String,
    },
    /// 400 with a specific code for a request that cannot be done as asked.
    BadRequest {
        code: &'static str,
        detail: String,
    },
    /// 400 with a specific code naming the part of the request at fault: `malformed_query`,
    /// `malformed_path`, `malformed_multipart`.
    BadInput {
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// 422 with a specific code: a well-formed request the rules refuse (`destination_not_allowed`,
    /// `caller_id_not_owned`, `trial_limit`, `outbound_limit`, `outbound_rate_limit`), naming the
    /// field at fault.
    Refused {
        code: &'static str,
        detail: String,
        field: Option<String>,
    },
    /// 403: a state-changing request that another site made the browser send (CSRF).
    CrossSite(String),
    /// 413: the body is larger than this endpoint accepts.
    PayloadTooLarge,
    /// 415: an upload whose type is not accepted, or whose bytes are not what it claims.
    UnsupportedMediaType(String),
    /// 503: a dependency (Postgres, Redis) is not answering.
    Unavailable(String),
    Internal(anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str, Option<String>) {
        use ApiError::*;
        match self {
            Malformed { detail, .. } => (
                StatusCode::BAD_REQUEST,
                "malformed_body",
                "Malformed request body",
                Some(detail.clone()),
            ),
            Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "Some fields are invalid",
                None,
            ),
            Unauthenticated => (
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "Sign in first",
                None,
            ),
            SessionExpired => (
                StatusCode::UNAUTHORIZED,
                "session_expired",
                "Your session has expired; sign in again",
                None,
            ),
            InvalidCredentials => (
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong company, e-mail or password",
                None,
            ),
            LoginLocked { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "login_locked",
                "Too many failed sign-ins; try again later",
                None,
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "Too many requests; try again later",
                None,
            ),
            Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "You do not have permission to do this",
                None,
            ),
            TenantSuspended => (
                StatusCode::FORBIDDEN,
                "tenant_suspended",
                "This call center is suspended; contact support",
                None,
            ),
            NotFound => (StatusCode::NOT_FOUND, "not_found", "Not found", None),
            Conflict { code, detail } => {
                (StatusCode::CONFLICT, code, "Conflict", Some(detail.clone()))
            }
            BadRequest { code, detail } => (
                StatusCode::BAD_REQUEST,
                code,
                "Request cannot be done",
                Some(detail.clone()),
            ),
            BadInput { code, detail, .. } => (
                StatusCode::BAD_REQUEST,
                code,
                "Malformed request",
                Some(detail.clone()),
            ),
            Refused { code, detail, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                code,
                "Refused by the platform's rules",
                Some(detail.clone()),
            ),
            CrossSite(detail) => (
                StatusCode::FORBIDDEN,
                "cross_site_request",
                "Cross-site requests are not accepted",
                Some(detail.clone()),
            ),
            PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "The request body is too large",
                None,
            ),
            UnsupportedMediaType(detail) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "This kind of file is not accepted",
                Some(detail.clone()),
            ),
            Unavailable(what) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service temporarily unavailable",
                Some(what.clone()),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Internal error; it has been logged",
                None,
            ),
        }
    }

    pub fn to_problem(&self) -> Problem {
        let (status, code, title, detail) = self.parts();
        let errors = match self {
            ApiError::Validation(errors) => errors.clone(),
            ApiError::Malformed {
                field: Some(f),
                detail,
            }
            | ApiError::BadInput {
                field: Some(f),
                detail,
                ..
            }
            | ApiError::Refused {
                field: Some(f),
                detail,
                ..
            } => {
                vec![FieldError {
                    field: f.clone(),
                    message: detail.clone(),
                }]
            }
            _ => vec![],
        };
        Problem {
            type_: format!("https://hotline.example/problems/{code}"),
            title: title.into(),
            status: status.as_u16(),
            code: code.into(),
            detail,
            errors,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(e) = &self {
            tracing::error!(error = ?e, "internal error");
        }
        let problem = self.to_problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut resp = (status, body).into_response();
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::LoginLocked { retry_after_secs }
        | ApiError::RateLimited { retry_after_secs } = self
        {
            if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => ApiError::NotFound,
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => {
                ApiError::Unavailable("database".into())
            }
            _ => ApiError::Internal(e.into()),
        }
    }
}

impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        tracing::warn!(error = %e, "redis error");
        ApiError::Unavailable("redis".into())
    }
}

/// The constraint a unique-violation error names, if it is one.
pub fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => {
            Some(db.constraint().unwrap_or_default().to_string())
        }
        _ => None,
    }
}

/// Whether the error is a foreign-key violation (a referenced row is missing or in use).
pub fn fk_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("23503"))
}

/// A JSON body extractor whose errors are problem+json naming the offending field.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        require_json(req.headers())?;
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
    }
}

/// Whether a `Content-Type` is JSON: `application/json` or `application/<anything>+json`.
pub fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// 415 unless the request says its body is JSON (a JSON body sent as `text/plain` or with no
/// type is refused: it is what a cross-site form would send).
pub fn require_json(headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    match headers.get(header::CONTENT_TYPE).map(|v| v.to_str()) {
        Some(Ok(ct)) if is_json(ct) => Ok(()),
        Some(Ok(ct)) => Err(ApiError::UnsupportedMediaType(format!(
            "the body must be application/json, not {}",
            crate::text::printable(ct)
        ))),
        _ => Err(ApiError::UnsupportedMediaType(
            "the body must be sent with Content-Type: application/json".into(),
        )),
    }
}

/// Reads a whole body, mapping "too large" to 413 and other read failures to 400.
pub async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge
            } else {
                ApiError::Malformed {
                    detail: e.body_text(),
                    field: None,
                }
            }
        })
}

/// Parses a JSON body, naming the field at fault. A string (or key) holding NUL is a 422
/// naming its field: nothing downstream can store it.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // `\u0000` is the only way a JSON text can carry NUL (a raw control byte is malformed).
    if bytes.windows(6).any(|w| w == b"\\u0000") {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) {
            if let Some(field) = crate::text::json_nul(&v) {
                return Err(ApiError::field(&field, crate::text::bad_char_message('\0')));
            }
        }
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = (path != "." && !path.is_empty()).then_some(path);
        let detail = inner.to_string();
        // "missing field `x`" names its field in the message, not the path.
        let field = field.or_else(|| {
            detail
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_string)
        });
        ApiError::Malformed { detail, field }
    })
}

impl<T: serde::Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

// ------------------------------------------------------------------ the contract, centrally

/// Middleware keeping the problem+json contract for every route, whatever extractor it uses:
/// - a path part or query parameter holding NUL or another control character is a 422
///   naming the parameter, before any handler runs;
/// - every error answer that is not problem+json already (axum's own rejections of query
///   strings, path parts, bodies and multipart; 405; a stray text answer) is rewritten into
///   one, with a stable `code` and, where the rejection says which, the field.
pub async fn contract(
    params: Result<RawPathParams, axum::extract::rejection::RawPathParamsRejection>,
    req: Request,
    next: Next,
) -> Response {
    let mut errors = Vec::new();
    let mut names = Vec::new();
    if let Ok(params) = &params {
        for (key, value) in params.iter() {
            names.push(key.to_string());
            if let Some(c) = crate::text::bad_char(value, true) {
                errors.push(FieldError {
                    field: key.to_string(),
                    message: crate::text::bad_char_message(c),
                });
            }
        }
    }
    if let Some(q) = req.uri().query() {
        errors.extend(crate::text::query_errors(q));
    }
    if !errors.is_empty() {
        return ApiError::Validation(errors).into_response();
    }
    let resp = next.run(req).await;
    into_problem(resp, &names).await
}

/// `resp` unchanged unless it is an error answer in another format; then the same answer as
/// problem+json. `path_params` are the route's parameter names, in order.
pub async fn into_problem(resp: Response, path_params: &[String]) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_problem = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if is_problem {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let (code, field) = classify(status, &text, path_params);
    let detail = if status.is_server_error() {
        tracing::error!(%status, body = %text, "non-problem error answer");
        None
    } else {
        (!text.is_empty()).then(|| text.chars().take(500).collect::<String>())
    };
    let errors = match (&field, &detail) {
        (Some(f), Some(d)) => vec![FieldError {
            field: f.clone(),
            message: d.clone(),
        }],
        _ => vec![],
    };
    let problem = Problem {
        type_: format!("https://hotline.example/problems/{code}"),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        code: code.into(),
        detail,
        errors,
    };
    let mut out = (status, serde_json::to_vec(&problem).unwrap_or_default()).into_response();
    for (name, value) in parts.headers.iter() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    out
}

/// The stable code (and field, when the text names one) for a framework's error answer.
fn classify(
    status: StatusCode,
    text: &str,
    path_params: &[String],
) -> (&'static str, Option<String>) {
    let backticked = |s: &str| {
        s.split_once('`')
            .and_then(|(_, rest)| rest.split_once('`'))
            .map(|(name, _)| name.to_string())
    };
    match status.as_u16() {
        400 => {
            if let Some(rest) = text.strip_prefix("Failed to deserialize query string: ") {
                let field = if rest.starts_with("missing field `") {
                    backticked(rest)
                } else {
                    rest.split_once(": ")
                        .map(|(path, _)| path.to_string())
                        .filter(|p| p != "." && !p.contains(' '))
                };
                ("malformed_query", field)
            } else if let Some(rest) = text.strip_prefix("Invalid URL: ") {
                let field = if let Some(i) = rest
                    .strip_prefix("Cannot parse value at index ")
                    .and_then(|r| r.split(' ').next())
                    .and_then(|n| n.parse::<usize>().ok())
                {
                    path_params.get(i).cloned()
                } else if (rest.starts_with("Cannot parse `") && rest.contains("` with value `"))
                    || rest.starts_with("Invalid UTF-8 in `")
                {
                    backticked(rest)
                } else if path_params.len() == 1 {
                    path_params.first().cloned()
                } else {
                    None
                };
                ("malformed_path", field)
            } else if text.contains("multipart") {
                ("malformed_multipart", None)
            } else if text.starts_with("Failed to parse the request body")
                || text.starts_with("Failed to deserialize form")
                || text.starts_with("Failed to buffer the request body")
            {
                ("malformed_body", None)
            } else {
                ("bad_request", None)
            }
        }
        401 => ("unauthenticated", None),
        403 => ("forbidden", None),
        404 => ("not_found", None),
        405 => ("method_not_allowed", None),
        406 => ("not_acceptable", None),
        408 => ("request_timeout", None),
        409 => ("conflict", None),
        411 => ("length_required", None),
        413 => ("payload_too_large", None),
        414 => ("uri_too_long", None),
        415 => ("unsupported_media_type", None),
        416 => ("range_not_satisfiable", None),
        422 => {
            let field = text
                .strip_prefix("Failed to deserialize the JSON body into the target type: ")
                .and_then(|rest| rest.split_once(": "))
                .map(|(path, _)| path.to_string())
                .filter(|p| p != "." && !p.contains(' '));
            ("validation_failed", field)
        }
        426 => ("upgrade_required", None),
        429 => ("too_many_requests", None),
        502 => ("bad_gateway", None),
        503 => ("unavailable", None),
        504 => ("timeout", None),
        s if s >= 500 => ("internal", None),
        _ => ("bad_request", None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        level: i16,
    }

    #[test]
    fn names_the_missing_and_mistyped_fields() {
        let ApiError::Malformed { field, .. } = parse_json::<Body>(br#"{"name":"x"}"#).unwrap_err()
        else {
            panic!("expected malformed")
        };
        assert_eq!(field.as_deref(), Some("level"));
        let ApiError::Malformed { field, .. } =
            parse_json::<Body>(br#"{"name":"x","level":"high"}"#).unwrap_err()
        else {
            panic!("expected malformed")
        };
        assert_eq!(field.as_deref(), Some("level"));
        assert!(matches!(
            parse_json::<Body>(b"{not json"),
            Err(ApiError::Malformed { .. })
        ));
    }

    #[test]
    fn problem_has_stable_code_and_fields() {
        let p = ApiError::field("email", "not an e-mail address").to_problem();
        assert_eq!(p.status, 422);
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.errors[0].field, "email");
    }

    #[test]
    fn classifies_framework_rejections() {
        let params = vec!["id".to_string(), "contact".to_string()];
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                "Failed to deserialize query string: per_page: invalid digit found in string",
                &[]
            ),
            ("malformed_query", Some("per_page".into()))
        );
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                "Invalid URL: Cannot parse value at index 1 with value `x` to a `Uuid`",
                &params
            ),
            ("malformed_path", Some("contact".into()))
        );
        assert_eq!(
            classify(
                StatusCode::BAD_REQUEST,
                "Invalid URL: UUID parsing failed: invalid character",
                &params[..1]
            ),
            ("malformed_path", Some("id".into()))
        );
        assert_eq!(
            classify(StatusCode::METHOD_NOT_ALLOWED, "", &[]),
            ("method_not_allowed", None)
        );
    }

    #[test]
    fn nul_in_json_names_the_field() {
        let e = parse_json::<serde_json::Value>(br#"{"a":[{"name":"x\u0000"}]}"#).unwrap_err();
        let p = e.to_problem();
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.errors[0].field, "a[0].name");
        // An escaped backslash before `u0000` is text, not NUL.
        assert!(parse_json::<serde_json::Value>(br#"{"a":"\\u0000"}"#).is_ok());
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/merge-patch+json"));
        assert!(!is_json("text/plain"));
    }
}
