//! Tenant provisioning: a platform row, a schema with every tenant migration, and the first
//! administrator — in one transaction, so a tenant exists whole or not at all.

use crate::{
    auth::{self, RequestMeta, TenantRef},
    db,
    error::{unique_violation, ApiError, ApiResult},
    state::AppState,
    validate::{self, Check},
};
use hotline_wire::api::SignupRequest;
use uuid::Uuid;

/// Validates a sign-up and returns the slug to use.
pub fn validate_signup(req: &SignupRequest) -> ApiResult<String> {
    let mut c = Check::new();
    c.text("company_name", &req.company_name, 200);
    c.text("admin_name", &req.admin_name, 200);
    c.email("admin_email", &req.admin_email);
    c.password("password", &req.password);
    let slug = match &req.slug {
        Some(s) if !s.is_empty() => {
            if !validate::is_slug(s) {
                c.fail(
                    "slug",
                    "must be 3–40 characters of a–z, 0–9 and '-', not starting or ending with '-'",
                );
            }
            s.clone()
        }
        _ => validate::slugify(&req.company_name),
    };
    c.finish()?;
    Ok(slug)
}

/// Creates a tenant and its first administrator. Returns the tenant and the admin's id.
pub async fn provision(
    state: &AppState,
    req: &SignupRequest,
    meta: &RequestMeta,
    actor: &str,
) -> ApiResult<(TenantRef, Uuid)> {
    let slug = validate_signup(req)?;
    let password_hash = auth::hash_password(req.password.clone()).await?;
    let tenant_id = Uuid::new_v4();
    let mut tx = state.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO platform.tenants (id, slug, name, schema_name) VALUES ($1, $2, $3, $4)",
    )
    .bind(tenant_id)
    .bind(&slug)
    .bind(req.company_name.trim())
    .bind(db::schema_name(tenant_id))
    .execute(&mut *tx)
    .await;
    if let Err(e) = inserted {
        return Err(match unique_violation(&e) {
            Some(_) => ApiError::Conflict {
                code: "slug_taken",
                detail: format!(
                    "A call center named '{slug}' already exists; choose another name."
                ),
            },
            None => e.into(),
        });
    }
    let version = db::create_tenant_schema(&mut tx, tenant_id, db::embedded::TENANT)
        .await
        .map_err(ApiError::Internal)?;
    sqlx::query("UPDATE platform.tenants SET schema_version = $2 WHERE id = $1")
        .bind(tenant_id)
        .bind(version)
        .execute(&mut *tx)
        .await?;
    db::scope_to_schema(&mut tx, &db::schema_name(tenant_id)).await?;
    let user_id: Uuid = sqlx::query_scalar(
        "INSERT INTO users (email, name, password_hash, role_id)
         SELECT $1, $2, $3, id FROM roles WHERE builtin_key = 'admin' RETURNING id",
    )
    .bind(req.admin_email.trim())
    .bind(req.admin_name.trim())
    .bind(password_hash)
    .fetch_one(&mut *tx)
    .await?;
    auth::write_audit(
        &mut tx,
        None,
        actor,
        "tenant.create",
        Some("tenant"),
        Some(tenant_id.to_string()),
        serde_json::json!({ "slug": slug, "admin_email": req.admin_email.trim() }),
        meta,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(%tenant_id, %slug, "tenant provisioned");
    // The gateway maps SIP domains (tenant slugs) to tenants from Redis; a failure here only
    // delays phones' registration until the next sync (`hotline seed-demo`), so it is logged.
    if let Err(e) = crate::gateway_sync::publish_slug(state, &slug, tenant_id).await {
        tracing::warn!(%tenant_id, error = %e, "could not publish the tenant slug to Redis");
    }
    let tenant = TenantRef {
        id: tenant_id,
        slug,
        name: req.company_name.trim().into(),
        status: "active".into(),
    };
    Ok((tenant, user_id))
}
