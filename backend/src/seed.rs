//! The demo call center (`hotline seed-demo`): a tenant `demo` (a water utility) that a
//! newcomer can use in the first minute — people, skills, queues and the demo number with a
//! published IVR flow ("press 1 for billing, 2 for support"), a customer template with 50
//! customers (one of them with the demo caller's number, so the screen pop shows a card),
//! request categories, ticket types with workflows, SLA policies, assignment rules, a
//! knowledge base, and an outbound campaign in draft; plus a platform operator.
//!
//! Every part is *ensured*: what is missing is created, what exists is left as it is (an
//! administrator's edits survive), so running it again — also on a database seeded by an older
//! version — adds the new parts and duplicates nothing. The people, skills and queues are
//! written directly (they have no side effects); everything else goes through the API's own
//! handlers in process (`seed::api`), as the demo administrator.

mod api;
mod content;
mod kb_i18n;

use crate::{
    auth::{self, TenantRef},
    db,
    state::AppState,
    tenants,
};
use hotline_wire::api::SignupRequest;
use uuid::Uuid;

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_PASSWORD: &str = "hotline-demo-1";
/// The demo tenant's number; its IVR flow is `DEMO_FLOW`.
pub const DEMO_DID: &str = "+994125550100";
/// The number to call the demo from: it belongs to the demo customer `DEMO_CUSTOMER`, so the
/// agent's screen pop shows their card.
pub const DEMO_CALLER: &str = "+994501234567";
pub const DEMO_CUSTOMER: &str = "Rashad Mammadov";
/// Free numbers of the platform's pool the demo starts with (they route to nobody).
pub const DEMO_POOL: &[&str] = &[
    "+994125557001",
    "+994125557002",
    "+994125557003",
    "+994125557004",
    "+994125557005",
];
/// The published IVR flow on `DEMO_DID`.
pub const DEMO_FLOW: &str = "Demo hotline";

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
/// The demo's supervisor: owns the queues' voicemail.
pub const SUPERVISOR_EMAIL: &str = "supervisor@demo.hotline.test";
pub const OPERATOR_EMAIL: &str = "ops@hotline.test";

/// The demo's break that needs a supervisor's approval.
pub const APPROVED_BREAK: &str = "Long break";

/// The demo's team; every demo person is in it, and the ticket assignment rules use it.
const TEAM: &str = "Front line";

/// (name, description)
const SKILLS: &[(&str, &str)] = &[
    ("Billing", "Bills, debts, payments"),
    ("Support", "Water supply, leaks, quality"),
    ("Russian", "Speaks Russian"),
];

/// Skill levels (1–10) of the agents, in the order of `PEOPLE`'s agents: (skill, agent1,
/// agent2). Both agents are above every queue's minimum, so both serve both queues.
const AGENT_SKILLS: &[(&str, i16, i16)] =
    &[("Billing", 5, 6), ("Support", 7, 4), ("Russian", 3, 8)];

/// The queues the IVR's menu leads to: (name, required skill, minimum level).
pub const QUEUES: &[(&str, &str, i16)] = &[("Billing", "Billing", 3), ("Support", "Support", 3)];

/// Seeds (or completes) the demo; returns the lines to print.
pub async fn demo(state: &AppState) -> anyhow::Result<Vec<String>> {
    let tenant = ensure_tenant(state).await?;
    let admin = ensure_people_and_queues(state, &tenant).await?;
    ensure_operator(state).await?;
    crate::gateway_sync::sync_all(state).await?;
    crate::trunks::publish_all(state).await?;
    let api = api::Api::open(state, &tenant, admin).await?;
    let done = content::ensure(state, &tenant, &api).await;
    api.close(state).await?;
    let summary = done?;

    let mut lines = vec![
        format!("Demo call center: company '{DEMO_SLUG}', password for everyone: {DEMO_PASSWORD}"),
        format!("  admin       {ADMIN_EMAIL}"),
    ];
    for (role, email, _, ext) in PEOPLE {
        lines.push(format!("  {role:<11} {email} (extension {ext})"));
    }
    lines.push(format!(
        "  operator    {OPERATOR_EMAIL} (platform operator console)"
    ));
    lines.push(format!(
        "Demo phone number (DID): {DEMO_DID} — IVR flow '{DEMO_FLOW}': press 1 for Billing, 2 for Support"
    ));
    lines.push(format!(
        "Demo caller number: {DEMO_CALLER} — the agent's screen pop shows customer {DEMO_CUSTOMER}"
    ));
    lines.push(summary);
    Ok(lines)
}

/// The demo tenant, provisioned like any sign-up when missing; its e-mail counts as verified
/// (its addresses are not real mailboxes), so it may call out.
async fn ensure_tenant(state: &AppState) -> anyhow::Result<TenantRef> {
    let tenant = provision_demo(state).await?;
    sqlx::query(
        "UPDATE platform.tenants SET email_verified_at = coalesce(email_verified_at, now())
          WHERE id = $1",
    )
    .bind(tenant.id)
    .execute(&state.db)
    .await?;
    Ok(tenant)
}

async fn provision_demo(state: &AppState) -> anyhow::Result<TenantRef> {
    let mut conn = state.db.acquire().await?;
    if let Some(t) = auth::tenant_by_slug(&mut conn, DEMO_SLUG)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
    {
        return Ok(t);
    }
    drop(conn);
    let req = SignupRequest {
        company_name: "Demo Water Utility".into(),
        slug: Some(DEMO_SLUG.into()),
        admin_name: "Ada Admin".into(),
        admin_email: ADMIN_EMAIL.into(),
        password: DEMO_PASSWORD.into(),
    };
    let meta = auth::RequestMeta::default();
    let (tenant, _) = tenants::provision(state, &req, &meta, "seed")
        .await
        .map_err(|e| anyhow::anyhow!("seeding demo: {e:?}"))?;
    Ok(tenant)
}

/// The team, skills, people (with their skills), queues (with theirs) and the demo number;
/// returns the admin's id. Existing rows are kept as they are (passwords included).
async fn ensure_people_and_queues(state: &AppState, tenant: &TenantRef) -> anyhow::Result<Uuid> {
    let mut tx = db::begin_in_schema(&state.db, &tenant.schema()).await?;
    let admin: Option<Uuid> =
        sqlx::query_scalar("SELECT id FROM users WHERE lower(email) = $1 AND active")
            .bind(ADMIN_EMAIL)
            .fetch_optional(&mut *tx)
            .await?;
    let admin = admin.ok_or_else(|| {
        anyhow::anyhow!("the demo tenant has no active {ADMIN_EMAIL}; cannot complete the demo")
    })?;
    sqlx::query(
        "INSERT INTO teams (name) SELECT $1
          WHERE NOT EXISTS (SELECT 1 FROM teams WHERE parent_id IS NULL AND lower(name) = lower($1))",
    )
    .bind(TEAM)
    .execute(&mut *tx)
    .await?;
    let team: Uuid = sqlx::query_scalar(
        "SELECT id FROM teams WHERE parent_id IS NULL AND lower(name) = lower($1)",
    )
    .bind(TEAM)
    .fetch_one(&mut *tx)
    .await?;
    for (name, description) in SKILLS {
        sqlx::query(
            "INSERT INTO skills (name, description) VALUES ($1, $2) ON CONFLICT (lower(name)) DO NOTHING",
        )
        .bind(name)
        .bind(description)
        .execute(&mut *tx)
        .await?;
    }
    let hash = auth::hash_password(DEMO_PASSWORD.into())
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let mut agent_no = 0;
    for (role, email, name, ext) in PEOPLE {
        sqlx::query(
            "INSERT INTO users (email, name, password_hash, role_id, team_id, extension)
             SELECT $1, $2, $3, id, $4, $5 FROM roles WHERE builtin_key = $6
             ON CONFLICT (lower(email)) DO NOTHING",
        )
        .bind(email)
        .bind(name)
        .bind(&hash)
        .bind(team)
        .bind(ext)
        .bind(role)
        .execute(&mut *tx)
        .await?;
        if *role != "agent" {
            continue;
        }
        for (skill, first, second) in AGENT_SKILLS {
            let level = if agent_no == 0 { *first } else { *second };
            sqlx::query(
                "INSERT INTO user_skills (user_id, skill_id, level)
                 SELECT u.id, s.id, $3 FROM users u, skills s
                  WHERE lower(u.email) = lower($1) AND lower(s.name) = lower($2)
                 ON CONFLICT (user_id, skill_id) DO NOTHING",
            )
            .bind(email)
            .bind(skill)
            .bind(level)
            .execute(&mut *tx)
            .await?;
        }
        agent_no += 1;
    }
    for (name, skill, min_level) in QUEUES {
        sqlx::query(
            "INSERT INTO queues (name, strategy, max_wait_seconds, wrap_up_seconds, priority,
                                 max_wait_action)
             VALUES ($1, 'skills_based', 300, 30, 10, 'voicemail') ON CONFLICT (lower(name)) DO NOTHING",
        )
        .bind(name)
        .execute(&mut *tx)
        .await?;
        // After five minutes the caller leaves a message, which the supervisor is told about
        // (an older demo's queue gets its owner too).
        sqlx::query(
            "UPDATE queues SET voicemail_user_id = (SELECT id FROM users WHERE lower(email) = $2)
              WHERE lower(name) = lower($1) AND voicemail_user_id IS NULL
                AND max_wait_action = 'voicemail'",
        )
        .bind(name)
        .bind(SUPERVISOR_EMAIL)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO queue_skills (queue_id, skill_id, min_level)
             SELECT q.id, s.id, $3 FROM queues q, skills s
              WHERE lower(q.name) = lower($1) AND lower(s.name) = lower($2)
                AND NOT EXISTS (SELECT 1 FROM queue_skills WHERE queue_id = q.id)",
        )
        .bind(name)
        .bind(skill)
        .bind(min_level)
        .execute(&mut *tx)
        .await?;
    }
    // A break a supervisor must approve (the agent asks; the supervisor decides).
    sqlx::query(
        "INSERT INTO reason_codes (name, kind, needs_approval) VALUES ($1, 'break', true)
         ON CONFLICT (lower(name)) DO NOTHING",
    )
    .bind(APPROVED_BREAK)
    .execute(&mut *tx)
    .await?;
    // The demo's number: added, or taken from the pool when an operator left it free there
    // (a number of another tenant stays theirs).
    let given: Option<String> = sqlx::query_scalar(
        "INSERT INTO platform.dids (did, tenant_id, description, assigned_at)
         VALUES ($1, $2, 'Demo hotline', now())
         ON CONFLICT (did) DO UPDATE SET tenant_id = EXCLUDED.tenant_id, assigned_at = now()
          WHERE platform.dids.tenant_id IS NULL
         RETURNING did",
    )
    .bind(DEMO_DID)
    .bind(tenant.id)
    .fetch_optional(&mut *tx)
    .await?;
    if given.is_some() {
        crate::numbers::settle_requests(&mut tx, DEMO_DID, Some(tenant.id), "system").await?;
    }
    // A few free numbers in the platform's pool, for the demo tenant to ask for (Numbers).
    sqlx::query(
        "INSERT INTO platform.dids (did, region, description)
         SELECT unnest($1::text[]), 'Azerbaijan, Baku', 'Demo pool'
         ON CONFLICT (did) DO NOTHING",
    )
    .bind(DEMO_POOL)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(admin)
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
