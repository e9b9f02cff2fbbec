//! The one error type of the API. Every failure renders as `application/problem+json`
//! (RFC 9457) with a stable `code`; internal details are logged, never sent.

use axum::{
    extract::{FromRequest, Request},
    http::{header, HeaderValue, StatusCode},
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
        if let ApiError::LoginLocked { retry_after_secs } = self {
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
        let bytes = body_bytes(req, state).await?;
        parse_json(&bytes).map(Json)
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

/// Parses a JSON body, naming the field at fault.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
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
}
