//! The HTTP client for `/api/v1`: JSON in and out, cookie session, problem documents.

use std::cell::RefCell;
use std::collections::HashMap;

use hotline_wire::api::Problem;
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{RequestCredentials, RequestInit, Response};
use yew::Callback;

/// Why a request failed.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiError {
    /// The server answered with an error status (usually with a problem document).
    Http {
        status: u16,
        problem: Option<Problem>,
    },
    /// The request got no answer: the network or the server is down.
    Network,
    /// The answer was not what this version of the app understands.
    Decode(String),
}

/// Field name → message, as sent by the server in `Problem.errors` (or found by the client).
pub type FieldErrors = HashMap<String, String>;

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn problem(&self) -> Option<&Problem> {
        match self {
            ApiError::Http { problem, .. } => problem.as_ref(),
            _ => None,
        }
    }

    /// The server's per-field errors, keyed by the last segment of the JSON path
    /// (`skills[0].level` stays as is; `body.email` becomes `email`).
    pub fn field_errors(&self) -> FieldErrors {
        let mut out = FieldErrors::new();
        if let Some(p) = self.problem() {
            for e in &p.errors {
                let field = e.field.trim_start_matches("body.").to_string();
                out.entry(field).or_insert_with(|| e.message.clone());
            }
        }
        out
    }
}

thread_local! {
    static ON_UNAUTHORIZED: RefCell<Option<Callback<(String, String)>>> = const { RefCell::new(None) };
}

/// Registers what happens when a request made with a session is refused with 401
/// (`(path, code)`): the app drops the session and goes back to the right login page.
pub fn set_unauthorized_handler(cb: Callback<(String, String)>) {
    ON_UNAUTHORIZED.with(|h| *h.borrow_mut() = Some(cb));
}

/// Endpoints whose 401 is an ordinary answer (wrong password, nobody signed in yet).
fn expects_401(path: &str) -> bool {
    path.starts_with("/auth/login")
        || path.starts_with("/auth/me")
        || path.starts_with("/platform/login")
        || path.starts_with("/platform/me")
        || path.starts_with("/signup")
}

async fn send(method: &str, path: &str, body: Option<String>) -> Result<String, ApiError> {
    let body = body.map(|b| (JsValue::from_str(&b), Some("application/json")));
    send_raw(method, path, body).await
}

/// Sends `body` as is; `content_type` `None` lets the browser set it (multipart form data).
async fn send_raw(
    method: &str,
    path: &str,
    body: Option<(JsValue, Option<&str>)>,
) -> Result<String, ApiError> {
    let init = RequestInit::new();
    init.set_method(method);
    init.set_credentials(RequestCredentials::SameOrigin);
    let headers = web_sys::Headers::new().map_err(|_| ApiError::Network)?;
    let _ = headers.set("Accept", "application/json, application/problem+json");
    if let Some((b, content_type)) = &body {
        if let Some(ct) = content_type {
            let _ = headers.set("Content-Type", ct);
        }
        init.set_body(b);
    }
    init.set_headers(&headers);
    let url = format!("/api/v1{path}");
    let window = web_sys::window().ok_or(ApiError::Network)?;
    let resp = JsFuture::from(window.fetch_with_str_and_init(&url, &init))
        .await
        .map_err(|_| ApiError::Network)?;
    let resp: Response = resp.dyn_into().map_err(|_| ApiError::Network)?;
    let text = match resp.text() {
        Ok(p) => JsFuture::from(p)
            .await
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default(),
        Err(_) => String::new(),
    };
    if resp.ok() {
        return Ok(text);
    }
    let status = resp.status();
    let problem: Option<Problem> = serde_json::from_str(&text).ok();
    if status == 401 && !expects_401(path) {
        let code = problem
            .as_ref()
            .map(|p| p.code.clone())
            .unwrap_or_else(|| "unauthenticated".into());
        let handler = ON_UNAUTHORIZED.with(|h| h.borrow().clone());
        if let Some(cb) = handler {
            cb.emit((path.to_string(), code));
        }
    }
    Err(ApiError::Http { status, problem })
}

pub(crate) fn decode<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_json::from_str(text).map_err(|e| ApiError::Decode(e.to_string()))
}

fn encode<B: Serialize>(body: &B) -> Result<String, ApiError> {
    serde_json::to_string(body).map_err(|e| ApiError::Decode(e.to_string()))
}

/// A GET's body as text (the caller decodes it).
pub async fn get_text(path: &str) -> Result<String, ApiError> {
    send("GET", path, None).await
}

pub async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    decode(&send("GET", path, None).await?)
}

pub async fn post<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("POST", path, Some(encode(body)?)).await?)
}

pub async fn put<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("PUT", path, Some(encode(body)?)).await?)
}

pub async fn patch<B: Serialize, T: DeserializeOwned>(path: &str, body: &B) -> Result<T, ApiError> {
    decode(&send("PATCH", path, Some(encode(body)?)).await?)
}

/// A request whose answer has no body worth reading (204).
pub async fn post_empty<B: Serialize>(path: &str, body: &B) -> Result<(), ApiError> {
    send("POST", path, Some(encode(body)?)).await.map(|_| ())
}

/// Uploads a file as `multipart/form-data` (field `file`, the file's own name).
pub async fn upload_form<T: DeserializeOwned>(
    path: &str,
    file: &web_sys::File,
) -> Result<T, ApiError> {
    let form = web_sys::FormData::new().map_err(|_| ApiError::Network)?;
    form.append_with_blob_and_filename("file", file, &file.name())
        .map_err(|_| ApiError::Network)?;
    decode(&send_raw("POST", path, Some((form.into(), None))).await?)
}

/// Uploads a file's bytes as the request body, with the file's type (or `fallback_type`).
pub async fn upload_body<T: DeserializeOwned>(
    path: &str,
    file: &web_sys::File,
    fallback_type: &str,
) -> Result<T, ApiError> {
    let ty = file.type_();
    let ty = if ty.is_empty() {
        fallback_type.to_string()
    } else {
        ty
    };
    let blob: &web_sys::Blob = file.as_ref();
    decode(&send_raw("POST", path, Some((blob.clone().into(), Some(&ty)))).await?)
}

pub async fn delete(path: &str) -> Result<(), ApiError> {
    send("DELETE", path, None).await.map(|_| ())
}

/// Percent-encodes a query-string value.
pub fn enc(s: &str) -> String {
    js_sys::encode_uri_component(s).into()
}
