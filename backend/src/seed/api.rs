//! The seed's way into the API: requests answered in process by the application's own router,
//! as a signed-in user of the demo tenant. So what the seed makes goes through the same
//! handlers, validation and audit rows as an administrator's clicks would.

use crate::{
    app,
    auth::{self, RequestMeta, TenantRef},
    state::AppState,
};
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use serde::{de::DeserializeOwned, Serialize};
use std::time::Duration;
use tower::ServiceExt;
use uuid::Uuid;

/// A short-lived session of one user, used for in-process API calls.
pub struct Api {
    router: axum::Router,
    token: String,
}

/// What the audit log shows as the request id of everything the seed does.
const REQUEST_ID: &str = "hotline-seed-demo";

impl Api {
    /// Opens a session for `user` (an active user of `tenant`), valid for ten minutes; end it
    /// with [`Api::close`].
    pub async fn open(state: &AppState, tenant: &TenantRef, user: Uuid) -> anyhow::Result<Self> {
        let mut conn = state.db.acquire().await?;
        let meta = RequestMeta {
            user_agent: Some(REQUEST_ID.into()),
            ..RequestMeta::default()
        };
        let (token, _) = auth::create_session(
            &mut conn,
            "user",
            Some(tenant.id),
            user,
            &meta,
            Duration::from_secs(600),
        )
        .await
        .map_err(|e| anyhow::anyhow!("opening the seed's session: {e:?}"))?;
        Ok(Api {
            router: app::router(state.clone()),
            token,
        })
    }

    /// Ends the session.
    pub async fn close(self, state: &AppState) -> anyhow::Result<()> {
        sqlx::query("DELETE FROM platform.sessions WHERE token_hash = $1")
            .bind(auth::sha256(&self.token))
            .execute(&state.db)
            .await?;
        Ok(())
    }

    /// One request; answers the status and the JSON body (`null` when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(StatusCode, serde_json::Value)> {
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header("x-request-id", REQUEST_ID);
        let body = match body {
            Some(b) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(serde_json::to_vec(&b)?)
            }
            None => Body::empty(),
        };
        let resp = self.router.clone().oneshot(req.body(body)?).await?;
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 16 * 1024 * 1024).await?;
        let json = if bytes.is_empty() {
            serde_json::Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
            })
        };
        Ok((status, json))
    }

    async fn expect<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<T> {
        let (status, json) = self.call(method.clone(), path, body).await?;
        if !status.is_success() {
            anyhow::bail!("{method} {path}: {status} {json}");
        }
        serde_json::from_value(json).map_err(|e| anyhow::anyhow!("{method} {path}: answer: {e}"))
    }

    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        self.expect(Method::GET, path, None).await
    }

    pub async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        body: impl Serialize,
    ) -> anyhow::Result<T> {
        self.expect(Method::POST, path, Some(serde_json::to_value(body)?))
            .await
    }

    pub async fn put<T: DeserializeOwned>(
        &self,
        path: &str,
        body: impl Serialize,
    ) -> anyhow::Result<T> {
        self.expect(Method::PUT, path, Some(serde_json::to_value(body)?))
            .await
    }
}
