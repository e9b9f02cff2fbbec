//! The demo call center: a tenant `demo` with an admin, a supervisor and two agents, skills,
//! a team and a queue; a platform operator; a DID routed to the demo tenant.

use crate::{auth, db, error::ApiError, state::AppState, tenants};
use hotline_wire::api::SignupRequest;
use uuid::Uuid;

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_PASSWORD: &str = "hotline-demo-1";
pub const DEMO_DID: &str = "+994125550100";

/// (role key, e-mail, name, extension)
const PEOPLE: &[(&str, &str, &str, &str)] = &[
    (
        "supervisor",
        "supervisor@demo.hotline.test",
        "Sabina Supervisor",
        "200",
    ),
    ("agent", "agent1@demo.hotline.test", "Aysel Agent", "201"),
    ("agent", "agent2@demo.hotline.test", "Piotr Agent", "202"),
];

pub const ADMIN_EMAIL: &str = "admin@demo.hotline.test";
pub const OPERATOR_EMAIL: &str = "ops@hotline.test";

/// Seeds the demo data if it is not there yet; returns the lines to print.
pub async fn demo(state: &AppState) -> anyhow::Result<Vec<String>> {
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM platform.tenants WHERE slug = $1)")
            .bind(DEMO_SLUG)
            .fetch_one(&state.db)
            .await?;
    if !exists {
        create(state)
            .await
            .map_err(|e| anyhow::anyhow!("seeding demo: {e:?}"))?;
    }
    ensure_operator(state).await?;
    crate::gateway_sync::sync_all(state).await?;
    let mut lines = vec![
        format!("Demo call center: company '{DEMO_SLUG}', password for everyone: {DEMO_PASSWORD}"),
        format!("  admin       {ADMIN_EMAIL}"),
    ];
    for (role, email, _, ext) in PEOPLE {
        lines.push(format!("  {role:<11} {email} (extension {ext})"));
    }
    lines.push(format!(
        "Platform operator console: {OPERATOR_EMAIL} / {DEMO_PASSWORD}"
    ));
    lines.push(format!("Demo phone number (DID): {DEMO_DID}"));
    Ok(lines)
}

async fn create(state: &AppState) -> Result<(), ApiError> {
    let req = SignupRequest {
        company_name: "Demo Water Utility".into(),
        slug: Some(DEMO_SLUG.into()),
        admin_name: "Ada Admin".into(),
        admin_email: ADMIN_EMAIL.into(),
        password: DEMO_PASSWORD.into(),
    };
    let meta = auth::RequestMeta::default();
    let (tenant, _) = tenants::provision(state, &req, &meta, "seed").await?;
    let mut tx = db::begin_in_schema(&state.db, &tenant.schema()).await?;
    let team: Uuid =
        sqlx::query_scalar("INSERT INTO teams (name) VALUES ('Front line') RETURNING id")
            .fetch_one(&mut *tx)
            .await?;
    let billing: Uuid = sqlx::query_scalar("INSERT INTO skills (name, description) VALUES ('Billing', 'Bills, debts, payments') RETURNING id")
        .fetch_one(&mut *tx)
        .await?;
    let russian: Uuid = sqlx::query_scalar(
        "INSERT INTO skills (name, description) VALUES ('Russian', 'Speaks Russian') RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await?;
    let hash = auth::hash_password(DEMO_PASSWORD.into()).await?;
    for (i, (role, email, name, ext)) in PEOPLE.iter().enumerate() {
        let id: Uuid = sqlx::query_scalar(
            "INSERT INTO users (email, name, password_hash, role_id, team_id, extension)
             SELECT $1, $2, $3, id, $4, $5 FROM roles WHERE builtin_key = $6 RETURNING id",
        )
        .bind(email)
        .bind(name)
        .bind(&hash)
        .bind(team)
        .bind(ext)
        .bind(role)
        .fetch_one(&mut *tx)
        .await?;
        if *role == "agent" {
            sqlx::query("INSERT INTO user_skills (user_id, skill_id, level) VALUES ($1, $2, $3), ($1, $4, $5)")
                .bind(id)
                .bind(billing)
                .bind(5 + i as i16)
                .bind(russian)
                .bind(if i == 1 { 8i16 } else { 3 })
                .execute(&mut *tx)
                .await?;
        }
    }
    let queue: Uuid = sqlx::query_scalar(
        "INSERT INTO queues (name, strategy, max_wait_seconds, wrap_up_seconds, priority)
         VALUES ('Billing', 'skills_based', 300, 30, 10) RETURNING id",
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO queue_skills (queue_id, skill_id, min_level) VALUES ($1, $2, 3)")
        .bind(queue)
        .bind(billing)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO platform.dids (did, tenant_id, description) VALUES ($1, $2, 'Demo hotline') ON CONFLICT DO NOTHING")
        .bind(DEMO_DID)
        .bind(tenant.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

async fn ensure_operator(state: &AppState) -> anyhow::Result<()> {
    let exists: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM platform.operators WHERE lower(email) = $1)",
    )
    .bind(OPERATOR_EMAIL)
    .fetch_one(&state.db)
    .await?;
    if !exists {
        let hash = auth::hash_password(DEMO_PASSWORD.into())
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        sqlx::query("INSERT INTO platform.operators (id, email, name, password_hash) VALUES ($1, $2, 'Platform Ops', $3)")
            .bind(Uuid::new_v4())
            .bind(OPERATOR_EMAIL)
            .bind(hash)
            .execute(&state.db)
            .await?;
    }
    Ok(())
}
