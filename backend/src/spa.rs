//! Serves the built SPA: hashed assets cached for a year, everything else revalidated, and
//! unknown non-API paths fall back to `index.html` so client-side routes survive a reload.
//! `frontend/build.sh` writes a gzip copy (`.gz`) of the wasm, JS, CSS and catalogs: a browser
//! that accepts gzip gets it (`Content-Encoding: gzip`), about a third of the wasm's size.

use axum::{
    body::Body,
    http::{header, HeaderValue, Request, StatusCode},
    response::{IntoResponse, Response},
};
use std::path::{Path, PathBuf};
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// Whether a file name carries a content hash (`app-3f9a1c2b.js`), so it never changes.
fn is_hashed(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    let stem = name.split('.').next().unwrap_or(name);
    stem.rsplit(['-', '_'])
        .next()
        .is_some_and(|h| h.len() >= 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
}

pub async fn serve(dir: PathBuf, req: Request<Body>) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/api/") {
        return crate::error::ApiError::NotFound.into_response();
    }
    let index = dir.join("index.html");
    let res = ServeDir::new(&dir).precompressed_gzip().oneshot(req).await;
    let mut resp = match res {
        Ok(r) if r.status() != StatusCode::NOT_FOUND => r.map(Body::new),
        _ => return index_response(&index).await,
    };
    let cache = if is_hashed(&path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

async fn index_response(index: &Path) -> Response {
    match tokio::fs::read(index).await {
        Ok(bytes) => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            bytes,
        )
            .into_response(),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "The web app is not built yet: run frontend/build.sh (the README's run command does).",
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn hashed_names() {
        assert!(super::is_hashed("/hotline-frontend-0a1b2c3d4e5f.wasm"));
        assert!(!super::is_hashed("/index.html"));
        assert!(!super::is_hashed("/style.css"));
    }
}
