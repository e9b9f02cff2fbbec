//! Tenant provisioning: a platform row, a schema with every tenant migration, the first
//! administrator and the defaults tickets need (a ticket type with its workflow, request
//! categories, SLA policies) — in one transaction, so a tenant exists whole or not at all.

use crate::{
    auth::{self, RequestMeta, TenantRef},
    db,
    error::{unique_violation, ApiError, ApiResult},
    password,
    state::AppState,
    validate::{self, Check},
};
use hotline_wire::{
    api::SignupRequest,
    tickets::{StatusDef, TicketTypeInput, TransitionDef},
};
use sqlx::PgConnection;
use uuid::Uuid;

/// Validates a sign-up and returns the slug to use.
pub fn validate_signup(req: &SignupRequest) -> ApiResult<String> {
    let mut c = Check::new();
    c.text("company_name", &req.company_name, 200);
    c.text("admin_name", &req.admin_name, 200);
    c.email("admin_email", &req.admin_email);
    let who = password::Context {
        email: &req.admin_email,
        name: &req.admin_name,
        company: &req.company_name,
    };
    password::check(&mut c, "password", &req.password, &who);
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
    seed_defaults(&mut tx).await?;
    // Outbound calls wait for the administrator's e-mail address to be verified; the demo
    // seed marks its tenant verified instead (`seed::ensure_tenant`).
    if actor != "seed" {
        crate::verify::queue_email(
            &mut tx,
            tenant_id,
            req.company_name.trim(),
            req.admin_email.trim(),
        )
        .await
        .map_err(ApiError::Internal)?;
    }
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
    if let Err(e) = crate::dial_policy::publish_gateway_limits(state, tenant_id).await {
        tracing::warn!(%tenant_id, error = %e, "could not publish the outbound limits to Redis");
    }
    let tenant = TenantRef {
        id: tenant_id,
        slug,
        name: req.company_name.trim().into(),
        status: "active".into(),
    };
    Ok((tenant, user_id))
}

// ------------------------------------------------------------------ a new tenant's defaults

/// The request categories every new tenant starts with (top level; the admin edits the tree).
pub const DEFAULT_CATEGORIES: &[&str] = &["Billing", "Support", "General enquiry"];

/// Resolution time of the default SLA policies: two working days of the default business
/// calendar (Mon–Fri 09:00–18:00), counted in business hours, with a warning at 75 %.
pub const DEFAULT_SLA_MINUTES: i32 = 2 * 9 * 60;
pub const DEFAULT_SLA_WARN_PERCENT: i32 = 75;

/// Translations (az, pl, ru, zh) of the names sign-up and the demo seed create: categories,
/// ticket types and workflow statuses. Empty for a name not listed.
pub fn name_translations(en: &str) -> hotline_wire::names::Translations {
    #[rustfmt::skip]
    const NAMES: &[(&str, [&str; 4])] = &[
        // English            az                        pl                        ru                        zh
        ("Billing",           ["Hesablaşma",            "Rozliczenia",            "Расчёты",                "账单"]),
        ("Payment",           ["Ödəniş",                "Płatność",               "Оплата",                 "付款"]),
        ("Debt",              ["Borc",                  "Zadłużenie",             "Задолженность",          "欠费"]),
        ("Meter reading",     ["Sayğac göstəricisi",    "Odczyt licznika",        "Показания счётчика",     "抄表"]),
        ("Support",           ["Dəstək",                "Wsparcie",               "Поддержка",              "技术支持"]),
        ("Leak",              ["Sızma",                 "Wyciek",                 "Протечка",               "漏水"]),
        ("No water",          ["Su yoxdur",             "Brak wody",              "Нет воды",               "停水"]),
        ("Water quality",     ["Suyun keyfiyyəti",      "Jakość wody",            "Качество воды",          "水质"]),
        ("General enquiry",   ["Ümumi sorğu",           "Zapytanie ogólne",       "Общий вопрос",           "一般咨询"]),
        ("Service request",   ["Xidmət sorğusu",        "Zgłoszenie serwisowe",   "Заявка на обслуживание", "服务请求"]),
        ("Complaint",         ["Şikayət",               "Reklamacja",             "Жалоба",                 "投诉"]),
        ("New connection",    ["Yeni qoşulma",          "Nowe przyłącze",         "Новое подключение",      "新装接入"]),
        ("New",               ["Yeni",                  "Nowe",                   "Новая",                  "新建"]),
        ("In progress",       ["İcrada",                "W toku",                 "В работе",               "处理中"]),
        ("Resolved",          ["Həll olunub",           "Rozwiązane",             "Решена",                 "已解决"]),
        ("Closed",            ["Bağlanıb",              "Zamknięte",              "Закрыта",                "已关闭"]),
        ("Awaiting approval", ["Təsdiq gözləyir",       "Czeka na zatwierdzenie", "Ожидает одобрения",      "待审批"]),
        ("Approved",          ["Təsdiqlənib",           "Zatwierdzone",           "Одобрена",               "已批准"]),
        ("Works scheduled",   ["İşlər planlaşdırılıb",  "Prace zaplanowane",      "Работы запланированы",   "已安排施工"]),
        ("Connected",         ["Qoşulub",               "Podłączone",             "Подключено",             "已接通"]),
        ("Rejected",          ["Rədd edilib",           "Odrzucone",              "Отклонена",              "已拒绝"]),
        // Workflow moves (the ticket page's buttons); "Connected" is both a status and a move.
        ("Start work",        ["İşə başla",             "Rozpocznij pracę",       "Начать работу",          "开始处理"]),
        ("Close",             ["Bağla",                 "Zamknij",                "Закрыть",                "关闭"]),
        ("Resolve",           ["Həll et",               "Rozwiąż",                "Решить",                 "解决"]),
        ("Reopen",            ["Yenidən aç",            "Otwórz ponownie",        "Открыть заново",         "重新打开"]),
        ("Send for approval", ["Təsdiqə göndər",        "Wyślij do zatwierdzenia","Отправить на одобрение", "提交审批"]),
        ("Approve",           ["Təsdiqlə",              "Zatwierdź",              "Одобрить",               "批准"]),
        ("Reject",            ["Rədd et",               "Odrzuć",                 "Отклонить",              "拒绝"]),
        ("Schedule works",    ["İşləri planlaşdır",     "Zaplanuj prace",         "Запланировать работы",   "安排施工"]),
    ];
    NAMES
        .iter()
        .find(|(name, _)| *name == en)
        .map(|(_, t)| {
            ["az", "pl", "ru", "zh"]
                .iter()
                .zip(t)
                .map(|(lang, name)| (lang.to_string(), name.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The ticket type every new tenant starts with: New → In progress → Resolved → Closed, with
/// a way back from Resolved (reopen) and a direct close for requests that need no work.
pub fn default_ticket_type() -> TicketTypeInput {
    let status = |key: &str, name: &str, color: &str, initial: bool, is_final: bool| StatusDef {
        key: key.into(),
        name: name.into(),
        name_i18n: name_translations(name),
        color: color.into(),
        initial,
        is_final,
    };
    let move_ = |from: &str, to: &str, name: &str| TransitionDef {
        from: from.into(),
        to: to.into(),
        name: name.into(),
        name_i18n: name_translations(name),
        permission: None,
    };
    TicketTypeInput {
        name: "Service request".into(),
        name_i18n: name_translations("Service request"),
        statuses: vec![
            status("new", "New", "#1f6feb", true, false),
            status("in_progress", "In progress", "#d29922", false, false),
            status("resolved", "Resolved", "#1a7f37", false, false),
            status("closed", "Closed", "#6e7781", false, true),
        ],
        transitions: vec![
            move_("new", "in_progress", "Start work"),
            move_("new", "closed", "Close"),
            move_("in_progress", "resolved", "Resolve"),
            move_("resolved", "closed", "Close"),
            move_("resolved", "in_progress", "Reopen"),
        ],
    }
}

/// Writes a new tenant's defaults in the provisioning transaction (already scoped to the
/// tenant's schema): the default ticket type and workflow, the default categories, and one
/// SLA policy per default category (so a ticket in any of them, or their sub-categories, gets
/// a due time; the admin changes or deletes them through the ticket settings API).
///
/// The SLA policies are per category rather than one for every category on purpose: the most
/// specific policy wins and equal ones are undecided, so a catch-all default would compete
/// with the first catch-all policy an admin defines.
async fn seed_defaults(conn: &mut PgConnection) -> ApiResult<()> {
    let ty = default_ticket_type();
    // The same rules as the ticket-type API (`ticket_types::check_workflow`).
    crate::ticket_types::check_workflow(&ty)?;
    insert_ticket_type(&mut *conn, &ty).await?;
    for (position, name) in DEFAULT_CATEGORIES.iter().enumerate() {
        let category: Uuid = sqlx::query_scalar(
            "INSERT INTO categories (name, position, name_i18n) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(position as i32)
        .bind(sqlx::types::Json(name_translations(name)))
        .fetch_one(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO sla_policies (category_id, resolve_minutes, business_hours, warn_percent, notify_supervisors)
             VALUES ($1, $2, true, $3, true)",
        )
        .bind(category)
        .bind(DEFAULT_SLA_MINUTES)
        .bind(DEFAULT_SLA_WARN_PERCENT)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Inserts a ticket type with its statuses and transitions (the rows the ticket-type API
/// writes); the workflow must have passed `check_workflow`.
async fn insert_ticket_type(conn: &mut PgConnection, ty: &TicketTypeInput) -> ApiResult<Uuid> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO ticket_types (name, name_i18n) VALUES ($1, $2) RETURNING id",
    )
    .bind(ty.name.trim())
    .bind(crate::validate::trimmed_translations(&ty.name_i18n))
    .fetch_one(&mut *conn)
    .await?;
    crate::ticket_types::save_workflow(conn, id, ty).await?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_workflow_passes_the_api_checks() {
        crate::ticket_types::check_workflow(&default_ticket_type()).unwrap();
    }

    #[test]
    fn the_defaults_are_translated_into_every_other_language() {
        let ty = default_ticket_type();
        let names = DEFAULT_CATEGORIES
            .iter()
            .copied()
            .chain([ty.name.as_str()])
            .chain(ty.statuses.iter().map(|s| s.name.as_str()))
            .chain(ty.transitions.iter().map(|t| t.name.as_str()));
        for name in names {
            let t = name_translations(name);
            assert_eq!(
                t.keys().collect::<Vec<_>>(),
                ["az", "pl", "ru", "zh"],
                "{name}"
            );
        }
        assert_eq!(name_translations("Billing")["ru"], "Расчёты");
    }
}
