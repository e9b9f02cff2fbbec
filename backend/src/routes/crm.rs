//! Customers (a tenant-defined profile template, phone numbers, search, screen pop, merge),
//! the request category tree, and interactions.

use crate::{
    auth::TenantCtx,
    crm::{check_customer_with, country_code, normalise_phone, search_text},
    error::{fk_violation, unique_violation, ApiError, ApiResult, Json},
    routes::{paging, users::like_pattern},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query},
    http::StatusCode,
    routing::{get, post, put},
    Router,
};
use hotline_wire::{
    api::{ListQuery, Page},
    crm::*,
    permissions as perms,
};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/customer-fields", get(list_fields).post(create_field))
        .route("/customer-fields/{id}", put(update_field))
        .route("/customers", get(list_customers).post(create_customer))
        .route("/customers/lookup", get(lookup))
        .route(
            "/customers/import/preview",
            post(import_preview).layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
        .route(
            "/customers/import",
            post(import).layer(axum::extract::DefaultBodyLimit::max(IMPORT_MAX_BYTES)),
        )
        .route("/customers/import/jobs", get(import_jobs))
        .route("/customers/import/jobs/{id}", get(import_job))
        .route("/customers/export", get(export))
        .route("/customers/export.csv", get(export_csv))
        .route("/customers/{id}", get(get_customer).put(update_customer))
        .route("/customers/{id}/merge", post(merge))
        .route("/customers/{id}/interactions", get(customer_interactions))
        .route("/categories", get(list_categories).post(create_category))
        .route(
            "/categories/{id}",
            put(update_category).delete(delete_category),
        )
        .route("/interactions", post(create_interaction))
        .route(
            "/interactions/{id}",
            get(get_interaction).patch(update_interaction),
        )
        .route("/interactions/{id}/articles", post(attach_article))
        .route("/settings/crm", get(get_settings).put(put_settings))
}

pub use hotline_wire::crm::CrmSettings;

#[utoipa::path(get, path = "/api/v1/settings/crm", tag = "crm", responses((status = 200, body = CrmSettings)))]
pub async fn get_settings(mut ctx: TenantCtx) -> ApiResult<Json<CrmSettings>> {
    ctx.require(perms::CRM_READ)?;
    let country_code = country_code(ctx.db()).await?;
    ctx.commit().await?;
    Ok(Json(CrmSettings { country_code }))
}

#[utoipa::path(put, path = "/api/v1/settings/crm", tag = "crm", request_body = CrmSettings,
    responses((status = 200, body = CrmSettings), (status = 422)))]
pub async fn put_settings(
    mut ctx: TenantCtx,
    Json(req): Json<CrmSettings>,
) -> ApiResult<Json<CrmSettings>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    if let Some(cc) = &req.country_code {
        if !(1..=3).contains(&cc.len())
            || !cc.bytes().all(|b| b.is_ascii_digit())
            || cc.starts_with('0')
        {
            return Err(ApiError::field(
                "country_code",
                "must be 1–3 digits, e.g. 994",
            ));
        }
    }
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ('crm', jsonb_build_object('country_code', $1::text))
         ON CONFLICT (key) DO UPDATE SET value = settings.value || excluded.value, updated_at = now()",
    )
    .bind(&req.country_code)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "settings.crm",
        Some("settings"),
        Some("crm".into()),
        serde_json::json!({ "country_code": req.country_code }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(req))
}

// ------------------------------------------------------------------ phone numbers

// ------------------------------------------------------------------ template

#[derive(sqlx::FromRow)]
struct FieldRow {
    id: Uuid,
    key: String,
    label: String,
    kind: String,
    required: bool,
    options: Vec<String>,
    position: i32,
    active: bool,
}

fn field(r: FieldRow) -> CustomerFieldDto {
    CustomerFieldDto {
        id: r.id,
        key: r.key,
        label: r.label,
        kind: r.kind,
        required: r.required,
        options: r.options,
        position: r.position,
        active: r.active,
    }
}

async fn load_fields(conn: &mut PgConnection) -> ApiResult<Vec<CustomerFieldDto>> {
    let rows: Vec<FieldRow> = sqlx::query_as(
        "SELECT id, key, label, kind, required, options, position, active FROM customer_fields ORDER BY position, key",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(field).collect())
}

fn check_field(req: &CustomerFieldInput) -> ApiResult<()> {
    let mut c = Check::new();
    let key_ok = req.key.len() <= 40
        && req
            .key
            .chars()
            .next()
            .is_some_and(|ch| ch.is_ascii_lowercase())
        && req
            .key
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_');
    if !key_ok {
        c.fail(
            "key",
            "must be 1–40 characters of a–z, 0–9 and _, starting with a letter",
        );
    }
    c.text("label", &req.label, 120);
    if !FIELD_KINDS.contains(&req.kind.as_str()) {
        c.fail(
            "kind",
            format!("must be one of: {}", FIELD_KINDS.join(", ")),
        );
    }
    let choice = req.kind == "choice" || req.kind == "multi_choice";
    if choice && req.options.is_empty() {
        c.fail("options", "a choice field needs at least one option");
    }
    if !choice && !req.options.is_empty() {
        c.fail("options", "only choice fields take options");
    }
    for (i, o) in req.options.iter().enumerate() {
        c.text(&format!("options[{i}]"), o, 120);
    }
    c.finish()
}

#[utoipa::path(get, path = "/api/v1/customer-fields", tag = "crm", responses((status = 200, body = Vec<CustomerFieldDto>)))]
pub async fn list_fields(mut ctx: TenantCtx) -> ApiResult<Json<Vec<CustomerFieldDto>>> {
    ctx.require(perms::CRM_READ)?;
    let fields = load_fields(ctx.db()).await?;
    ctx.commit().await?;
    Ok(Json(fields))
}

#[utoipa::path(post, path = "/api/v1/customer-fields", tag = "crm", request_body = CustomerFieldInput,
    responses((status = 201, body = CustomerFieldDto), (status = 409), (status = 422)))]
pub async fn create_field(
    mut ctx: TenantCtx,
    Json(req): Json<CustomerFieldInput>,
) -> ApiResult<(StatusCode, Json<CustomerFieldDto>)> {
    ctx.require(perms::CRM_ADMIN)?;
    check_field(&req)?;
    let row: FieldRow = sqlx::query_as(
        "INSERT INTO customer_fields (key, label, kind, required, options, position, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         RETURNING id, key, label, kind, required, options, position, active",
    )
    .bind(&req.key)
    .bind(req.label.trim())
    .bind(&req.kind)
    .bind(req.required)
    .bind(&req.options)
    .bind(req.position)
    .bind(req.active)
    .fetch_one(ctx.db())
    .await
    .map_err(|e| {
        if unique_violation(&e).is_some() {
            ApiError::Conflict {
                code: "key_taken",
                detail: format!("A field with key '{}' exists.", req.key),
            }
        } else {
            e.into()
        }
    })?;
    ctx.audit(
        "customer_field.create",
        Some("customer_field"),
        Some(row.id.to_string()),
        serde_json::json!({ "key": row.key }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(field(row))))
}

/// Edits a field. The key and kind cannot change once values may exist (that would
/// reinterpret stored values); deactivating hides it without losing values.
#[utoipa::path(put, path = "/api/v1/customer-fields/{id}", tag = "crm", request_body = CustomerFieldInput,
    responses((status = 200, body = CustomerFieldDto), (status = 404), (status = 422)))]
pub async fn update_field(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<CustomerFieldInput>,
) -> ApiResult<Json<CustomerFieldDto>> {
    ctx.require(perms::CRM_ADMIN)?;
    check_field(&req)?;
    let old: Option<(String, String)> =
        sqlx::query_as("SELECT key, kind FROM customer_fields WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    let (key, kind) = old.ok_or(ApiError::NotFound)?;
    let mut c = Check::new();
    if key != req.key {
        c.fail("key", "cannot change: stored values are kept under it");
    }
    if kind != req.kind {
        c.fail(
            "kind",
            "cannot change: stored values would be misread; add a new field instead",
        );
    }
    c.finish()?;
    let row: FieldRow = sqlx::query_as(
        "UPDATE customer_fields SET label = $2, required = $3, options = $4, position = $5, active = $6 WHERE id = $1
         RETURNING id, key, label, kind, required, options, position, active",
    )
    .bind(id)
    .bind(req.label.trim())
    .bind(req.required)
    .bind(&req.options)
    .bind(req.position)
    .bind(req.active)
    .fetch_one(ctx.db())
    .await?;
    ctx.audit(
        "customer_field.update",
        Some("customer_field"),
        Some(id.to_string()),
        serde_json::json!({ "label": row.label, "active": row.active }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(field(row)))
}

// ------------------------------------------------------------------ customers

#[derive(sqlx::FromRow)]
struct CustomerRow {
    id: Uuid,
    name: String,
    fields: sqlx::types::Json<Map<String, Value>>,
    phones: sqlx::types::Json<Vec<PhoneDto>>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
}

fn customer(r: CustomerRow) -> CustomerDto {
    CustomerDto {
        id: r.id,
        name: r.name,
        phones: r.phones.0,
        fields: r.fields.0,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

macro_rules! customer_select {
    () => {
        "SELECT c.id, c.name, c.fields, c.created_at, c.updated_at,
                COALESCE((SELECT json_agg(json_build_object('number', p.number, 'label', p.label) ORDER BY p.number)
                            FROM customer_phones p WHERE p.customer_id = c.id), '[]') AS phones
           FROM customers c"
    };
}

async fn load_customer(conn: &mut PgConnection, id: Uuid) -> ApiResult<CustomerDto> {
    let row: Option<CustomerRow> = sqlx::query_as(concat!(
        customer_select!(),
        " WHERE c.id = $1 AND c.merged_into IS NULL"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(customer).ok_or(ApiError::NotFound)
}

/// Validates a customer body; returns (name, phones, values).
async fn check_customer(
    conn: &mut PgConnection,
    req: &CustomerInput,
    old: Option<&Map<String, Value>>,
) -> ApiResult<(String, Vec<PhoneDto>, Map<String, Value>)> {
    let template = load_fields(&mut *conn).await?;
    let cc = country_code(&mut *conn).await?;
    check_customer_with(&template, cc.as_deref(), req, old)
}

/// Inserts a validated customer.
async fn insert_customer(
    conn: &mut PgConnection,
    name: &str,
    phones: &[PhoneDto],
    values: Map<String, Value>,
) -> ApiResult<Uuid> {
    let text = search_text(name, phones, &values);
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO customers (name, fields, search_text) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(name)
    .bind(Value::Object(values))
    .bind(text)
    .fetch_one(&mut *conn)
    .await?;
    save_phones(conn, id, phones).await?;
    Ok(id)
}

async fn save_phones(conn: &mut PgConnection, id: Uuid, phones: &[PhoneDto]) -> ApiResult<()> {
    sqlx::query("DELETE FROM customer_phones WHERE customer_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await?;
    for p in phones {
        sqlx::query("INSERT INTO customer_phones (customer_id, number, label) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(&p.number)
            .bind(&p.label)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

#[utoipa::path(get, path = "/api/v1/customers", tag = "crm", params(ListQuery),
    responses((status = 200, body = Page<CustomerDto>)))]
pub async fn list_customers(
    mut ctx: TenantCtx,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<Page<CustomerDto>>> {
    ctx.require(perms::CRM_READ)?;
    let (page, per_page) = paging(q.page, q.per_page)?;
    let text =
        q.q.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.to_lowercase());
    if text.as_ref().is_some_and(|t| t.chars().count() > 200) {
        return Err(ApiError::field("q", "must be at most 200 characters"));
    }
    let cc = country_code(ctx.db()).await?;
    // A query that reads as a phone number also finds the number in any notation.
    let phone = text
        .as_deref()
        .filter(|t| t.chars().filter(char::is_ascii_digit).count() >= 6)
        .and_then(|t| normalise_phone(t, cc.as_deref()));
    let pattern = text.as_deref().map(like_pattern);
    let filter = "c.merged_into IS NULL AND ($1::text IS NULL OR c.search_text LIKE $1
                  OR ($2::text IS NOT NULL AND EXISTS (SELECT 1 FROM customer_phones p WHERE p.customer_id = c.id AND p.number = $2)))";
    let total: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT count(*) FROM customers c WHERE {filter}"
    )))
    .bind(&pattern)
    .bind(&phone)
    .fetch_one(ctx.db())
    .await?;
    let rows: Vec<CustomerRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{} WHERE {filter} ORDER BY lower(c.name), c.id LIMIT $3 OFFSET $4",
        customer_select!()
    )))
    .bind(&pattern)
    .bind(&phone)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(Page {
        items: rows.into_iter().map(customer).collect(),
        total,
        page,
        per_page,
    }))
}

#[utoipa::path(get, path = "/api/v1/customers/lookup", tag = "crm", params(LookupQuery),
    responses((status = 200, body = CustomerLookup), (status = 422)))]
pub async fn lookup(
    mut ctx: TenantCtx,
    Query(q): Query<LookupQuery>,
) -> ApiResult<Json<CustomerLookup>> {
    ctx.require(perms::CRM_READ)?;
    let cc = country_code(ctx.db()).await?;
    let number = normalise_phone(&q.phone, cc.as_deref())
        .ok_or_else(|| ApiError::field("phone", "is not a phone number"))?;
    let rows: Vec<CustomerRow> = sqlx::query_as(concat!(
        customer_select!(),
        " WHERE c.merged_into IS NULL AND c.id IN (SELECT customer_id FROM customer_phones WHERE number = $1)
          ORDER BY c.updated_at DESC LIMIT 20"
    ))
    .bind(&number)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(CustomerLookup {
        number,
        matches: rows.into_iter().map(customer).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "crm", responses((status = 200, body = CustomerDto), (status = 404)))]
pub async fn get_customer(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<CustomerDto>> {
    ctx.require(perms::CRM_READ)?;
    let c = load_customer(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(c))
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "crm", request_body = CustomerInput,
    responses((status = 201, body = CustomerDto), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn create_customer(
    mut ctx: TenantCtx,
    Json(req): Json<CustomerInput>,
) -> ApiResult<(StatusCode, Json<CustomerDto>)> {
    ctx.require(perms::CRM_WRITE)?;
    let (name, phones, values) = check_customer(ctx.db(), &req, None).await?;
    let id = insert_customer(ctx.db(), &name, &phones, values).await?;
    let c = load_customer(ctx.db(), id).await?;
    ctx.audit(
        "customer.create",
        Some("customer"),
        Some(id.to_string()),
        serde_json::json!({ "name": name }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[utoipa::path(put, path = "/api/v1/customers/{id}", tag = "crm", request_body = CustomerInput,
    responses((status = 200, body = CustomerDto), (status = 404), (status = 422)))]
pub async fn update_customer(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<CustomerInput>,
) -> ApiResult<Json<CustomerDto>> {
    ctx.require(perms::CRM_WRITE)?;
    let before = load_customer(ctx.db(), id).await?;
    let (name, phones, values) = check_customer(ctx.db(), &req, Some(&before.fields)).await?;
    sqlx::query("UPDATE customers SET name = $2, fields = $3, search_text = $4, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(&name)
        .bind(Value::Object(values.clone()))
        .bind(search_text(&name, &phones, &values))
        .execute(ctx.db())
        .await?;
    save_phones(ctx.db(), id, &phones).await?;
    let after = load_customer(ctx.db(), id).await?;
    ctx.audit(
        "customer.update",
        Some("customer"),
        Some(id.to_string()),
        serde_json::json!({ "before": before, "after": after }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(after))
}

/// Folds a duplicate into this customer: its numbers and history move over, fields this
/// customer lacks are filled from it, and the duplicate stops being listed.
#[utoipa::path(post, path = "/api/v1/customers/{id}/merge", tag = "crm", request_body = MergeCustomers,
    responses((status = 200, body = CustomerDto), (status = 404), (status = 400)))]
pub async fn merge(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<MergeCustomers>,
) -> ApiResult<Json<CustomerDto>> {
    ctx.require(perms::CRM_ADMIN)?;
    if req.duplicate_id == id {
        return Err(ApiError::field(
            "duplicate_id",
            "cannot merge a customer into itself",
        ));
    }
    let keep = load_customer(ctx.db(), id).await?;
    let dup = load_customer(ctx.db(), req.duplicate_id).await?;
    let mut fields = keep.fields.clone();
    for (k, v) in &dup.fields {
        fields.entry(k.clone()).or_insert_with(|| v.clone());
    }
    let mut phones = keep.phones.clone();
    for p in &dup.phones {
        if !phones.iter().any(|q| q.number == p.number) {
            phones.push(p.clone());
        }
    }
    sqlx::query("UPDATE interactions SET customer_id = $1 WHERE customer_id = $2")
        .bind(id)
        .bind(dup.id)
        .execute(ctx.db())
        .await?;
    sqlx::query("DELETE FROM customer_phones WHERE customer_id = $1")
        .bind(dup.id)
        .execute(ctx.db())
        .await?;
    save_phones(ctx.db(), id, &phones).await?;
    sqlx::query(
        "UPDATE customers SET fields = $2, search_text = $3, updated_at = now() WHERE id = $1",
    )
    .bind(id)
    .bind(Value::Object(fields.clone()))
    .bind(search_text(&keep.name, &phones, &fields))
    .execute(ctx.db())
    .await?;
    sqlx::query("UPDATE customers SET merged_into = $1, updated_at = now() WHERE id = $2")
        .bind(id)
        .bind(dup.id)
        .execute(ctx.db())
        .await?;
    let after = load_customer(ctx.db(), id).await?;
    ctx.audit(
        "customer.merge",
        Some("customer"),
        Some(id.to_string()),
        serde_json::json!({ "duplicate": dup }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(after))
}

// ------------------------------------------------------------------ categories

#[derive(sqlx::FromRow)]
struct CategoryRow {
    id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    name_i18n: sqlx::types::Json<hotline_wire::names::Translations>,
    position: i32,
    active: bool,
}

fn category(r: CategoryRow) -> CategoryDto {
    CategoryDto {
        id: r.id,
        parent_id: r.parent_id,
        name: r.name,
        name_i18n: r.name_i18n.0,
        position: r.position,
        active: r.active,
    }
}

#[utoipa::path(get, path = "/api/v1/categories", tag = "crm", responses((status = 200, body = Vec<CategoryDto>)))]
pub async fn list_categories(mut ctx: TenantCtx) -> ApiResult<Json<Vec<CategoryDto>>> {
    ctx.require(perms::CRM_READ)?;
    let rows: Vec<CategoryRow> = sqlx::query_as("SELECT id, parent_id, name, name_i18n, position, active FROM categories ORDER BY position, lower(name)")
        .fetch_all(ctx.db())
        .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(category).collect()))
}

/// Refuses a parent that does not exist or would make a cycle.
pub async fn check_tree_parent(
    conn: &mut PgConnection,
    table: &str,
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> ApiResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    // `table` is one of our own table names, never input.
    let (exists, cycle): (bool, bool) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE up(id, parent_id) AS (
             SELECT id, parent_id FROM {table} WHERE id = $1
           UNION ALL
             SELECT t.id, t.parent_id FROM {table} t JOIN up ON t.id = up.parent_id)
         SELECT count(*) > 0, COALESCE(bool_or(id = $2), false) FROM up"
    )))
    .bind(parent)
    .bind(id)
    .fetch_one(conn)
    .await?;
    if !exists {
        Err(ApiError::field("parent_id", "no such parent"))
    } else if cycle {
        Err(ApiError::field(
            "parent_id",
            "would put the node under itself",
        ))
    } else {
        Ok(())
    }
}

/// Maps write errors of a tree table (categories, KB categories).
pub fn tree_write_error(e: sqlx::Error) -> ApiError {
    if unique_violation(&e).is_some() {
        ApiError::Conflict {
            code: "name_taken",
            detail: "A sibling with this name already exists.".into(),
        }
    } else if fk_violation(&e) {
        ApiError::Conflict {
            code: "in_use",
            detail: "It still has children or is referenced.".into(),
        }
    } else {
        e.into()
    }
}

#[utoipa::path(post, path = "/api/v1/categories", tag = "crm", request_body = CategoryInput,
    responses((status = 201, body = CategoryDto), (status = 409), (status = 422)))]
pub async fn create_category(
    mut ctx: TenantCtx,
    Json(req): Json<CategoryInput>,
) -> ApiResult<(StatusCode, Json<CategoryDto>)> {
    ctx.require(perms::CRM_ADMIN)?;
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.translations("name_i18n", &req.name_i18n);
    c.finish()?;
    check_tree_parent(ctx.db(), "categories", None, req.parent_id).await?;
    let row: CategoryRow = sqlx::query_as(
        "INSERT INTO categories (parent_id, name, position, active, name_i18n) VALUES ($1, $2, $3, $4, $5)
         RETURNING id, parent_id, name, name_i18n, position, active",
    )
    .bind(req.parent_id)
    .bind(req.name.trim())
    .bind(req.position)
    .bind(req.active)
    .bind(crate::validate::trimmed_translations(&req.name_i18n))
    .fetch_one(ctx.db())
    .await
    .map_err(tree_write_error)?;
    ctx.audit(
        "category.create",
        Some("category"),
        Some(row.id.to_string()),
        serde_json::json!({ "name": row.name, "name_i18n": row.name_i18n.0 }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(category(row))))
}

#[utoipa::path(put, path = "/api/v1/categories/{id}", tag = "crm", request_body = CategoryInput,
    responses((status = 200, body = CategoryDto), (status = 404), (status = 409), (status = 422)))]
pub async fn update_category(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<CategoryInput>,
) -> ApiResult<Json<CategoryDto>> {
    ctx.require(perms::CRM_ADMIN)?;
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.translations("name_i18n", &req.name_i18n);
    c.finish()?;
    check_tree_parent(ctx.db(), "categories", Some(id), req.parent_id).await?;
    let row: CategoryRow = sqlx::query_as(
        "UPDATE categories SET parent_id = $2, name = $3, position = $4, active = $5, name_i18n = $6 WHERE id = $1
         RETURNING id, parent_id, name, name_i18n, position, active",
    )
    .bind(id)
    .bind(req.parent_id)
    .bind(req.name.trim())
    .bind(req.position)
    .bind(req.active)
    .bind(crate::validate::trimmed_translations(&req.name_i18n))
    .fetch_optional(ctx.db())
    .await
    .map_err(tree_write_error)?
    .ok_or(ApiError::NotFound)?;
    ctx.audit(
        "category.update",
        Some("category"),
        Some(id.to_string()),
        serde_json::json!({ "name": row.name, "name_i18n": row.name_i18n.0, "active": row.active }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(category(row)))
}

#[utoipa::path(delete, path = "/api/v1/categories/{id}", tag = "crm", responses((status = 204), (status = 404), (status = 409)))]
pub async fn delete_category(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<StatusCode> {
    ctx.require(perms::CRM_ADMIN)?;
    let n = sqlx::query("DELETE FROM categories WHERE id = $1")
        .bind(id)
        .execute(ctx.db())
        .await
        .map_err(tree_write_error)?
        .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "category.delete",
        Some("category"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

// ------------------------------------------------------------------ interactions

#[derive(sqlx::FromRow)]
struct InteractionRow {
    id: Uuid,
    customer_id: Option<Uuid>,
    channel: String,
    direction: String,
    category_id: Option<Uuid>,
    category_path: Vec<String>,
    category_path_i18n: sqlx::types::Json<Vec<hotline_wire::names::Translations>>,
    notes: String,
    agent_id: Option<Uuid>,
    call_id: Option<String>,
    phone: Option<String>,
    articles: sqlx::types::Json<Vec<AttachedArticle>>,
    created_at: chrono::DateTime<chrono::Utc>,
}

fn interaction(r: InteractionRow) -> InteractionDto {
    InteractionDto {
        id: r.id,
        customer_id: r.customer_id,
        channel: r.channel,
        direction: r.direction,
        category_id: r.category_id,
        category_path: r.category_path,
        category_path_i18n: r.category_path_i18n.0,
        notes: r.notes,
        agent_id: r.agent_id,
        call_id: r.call_id,
        phone: r.phone,
        articles: r.articles.0,
        created_at: r.created_at,
    }
}

macro_rules! interaction_select {
    () => {
        "SELECT i.id, i.customer_id, i.channel, i.direction, i.category_id, i.notes, i.agent_id, i.call_id,
                i.phone, i.created_at,
                COALESCE((WITH RECURSIVE up(id, parent_id, name, depth) AS (
                              SELECT id, parent_id, name, 0 FROM categories WHERE id = i.category_id
                            UNION ALL
                              SELECT c.id, c.parent_id, c.name, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
                          SELECT array_agg(name ORDER BY depth DESC) FROM up), '{}') AS category_path,
                COALESCE((WITH RECURSIVE up(id, parent_id, name_i18n, depth) AS (
                              SELECT id, parent_id, name_i18n, 0 FROM categories WHERE id = i.category_id
                            UNION ALL
                              SELECT c.id, c.parent_id, c.name_i18n, up.depth + 1 FROM categories c JOIN up ON c.id = up.parent_id)
                          SELECT jsonb_agg(name_i18n ORDER BY depth DESC) FROM up), '[]') AS category_path_i18n,
                COALESCE((SELECT json_agg(json_build_object('article_id', a.article_id, 'title', k.title, 'version', a.version)
                                          ORDER BY a.attached_at)
                            FROM interaction_articles a JOIN kb_articles k ON k.id = a.article_id
                           WHERE a.interaction_id = i.id), '[]') AS articles
           FROM interactions i"
    };
}

async fn load_interaction(conn: &mut PgConnection, id: Uuid) -> ApiResult<InteractionDto> {
    let row: Option<InteractionRow> =
        sqlx::query_as(concat!(interaction_select!(), " WHERE i.id = $1"))
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.map(interaction).ok_or(ApiError::NotFound)
}

fn interaction_refs(e: sqlx::Error) -> ApiError {
    if fk_violation(&e) {
        ApiError::field(
            "customer_id/category_id",
            "names a customer or category that does not exist",
        )
    } else {
        e.into()
    }
}

#[utoipa::path(post, path = "/api/v1/interactions", tag = "crm", request_body = InteractionInput,
    responses((status = 201, body = InteractionDto), (status = 422)))]
pub async fn create_interaction(
    mut ctx: TenantCtx,
    Json(req): Json<InteractionInput>,
) -> ApiResult<(StatusCode, Json<InteractionDto>)> {
    ctx.require(perms::CRM_WRITE)?;
    let mut c = Check::new();
    if !["call", "email", "sms", "manual"].contains(&req.channel.as_str()) {
        c.fail("channel", "must be call, email, sms or manual");
    }
    let direction = req.direction.clone().unwrap_or_else(|| "inbound".into());
    if direction != "inbound" && direction != "outbound" {
        c.fail("direction", "must be inbound or outbound");
    }
    c.max_len("notes", &req.notes, 10_000);
    c.max_len("call_id", req.call_id.as_deref().unwrap_or_default(), 200);
    let cc = country_code(ctx.db()).await?;
    let phone = match req.phone.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => match normalise_phone(p, cc.as_deref()) {
            Some(n) => Some(n),
            None => {
                c.fail("phone", "is not a phone number");
                None
            }
        },
        None => None,
    };
    c.finish()?;
    let agent = ctx.user_id();
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO interactions (customer_id, channel, direction, category_id, notes, agent_id, call_id, phone)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(req.customer_id)
    .bind(&req.channel)
    .bind(&direction)
    .bind(req.category_id)
    .bind(&req.notes)
    .bind(agent)
    .bind(&req.call_id)
    .bind(&phone)
    .fetch_one(ctx.db())
    .await
    .map_err(interaction_refs)?;
    let dto = load_interaction(ctx.db(), id).await?;
    ctx.audit(
        "interaction.create",
        Some("interaction"),
        Some(id.to_string()),
        serde_json::json!({ "customer_id": req.customer_id, "channel": req.channel }),
    )
    .await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

#[utoipa::path(get, path = "/api/v1/interactions/{id}", tag = "crm", responses((status = 200, body = InteractionDto), (status = 404)))]
pub async fn get_interaction(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<InteractionDto>> {
    ctx.require(perms::CRM_READ)?;
    let dto = load_interaction(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(dto))
}

#[utoipa::path(patch, path = "/api/v1/interactions/{id}", tag = "crm", request_body = InteractionUpdate,
    responses((status = 200, body = InteractionDto), (status = 404), (status = 422)))]
pub async fn update_interaction(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<InteractionUpdate>,
) -> ApiResult<Json<InteractionDto>> {
    ctx.require(perms::CRM_WRITE)?;
    let mut c = Check::new();
    c.max_len("notes", req.notes.as_deref().unwrap_or_default(), 10_000);
    c.finish()?;
    let n = sqlx::query(
        "UPDATE interactions SET category_id = COALESCE($2, category_id), notes = COALESCE($3, notes),
                customer_id = COALESCE($4, customer_id) WHERE id = $1",
    )
    .bind(id)
    .bind(req.category_id)
    .bind(&req.notes)
    .bind(req.customer_id)
    .execute(ctx.db())
    .await
    .map_err(interaction_refs)?
    .rows_affected();
    if n == 0 {
        return Err(ApiError::NotFound);
    }
    let dto = load_interaction(ctx.db(), id).await?;
    ctx.audit(
        "interaction.update",
        Some("interaction"),
        Some(id.to_string()),
        serde_json::json!({ "category": dto.category_path }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(dto))
}

#[utoipa::path(post, path = "/api/v1/interactions/{id}/articles", tag = "crm", request_body = AttachArticle,
    responses((status = 200, body = InteractionDto), (status = 404), (status = 422)))]
pub async fn attach_article(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<AttachArticle>,
) -> ApiResult<Json<InteractionDto>> {
    ctx.require(perms::CRM_WRITE)?;
    load_interaction(ctx.db(), id).await?;
    let version: Option<i32> = sqlx::query_scalar(
        "SELECT current_version FROM kb_articles WHERE id = $1 AND status = 'published'",
    )
    .bind(req.article_id)
    .fetch_optional(ctx.db())
    .await?;
    let version =
        version.ok_or_else(|| ApiError::field("article_id", "no such published article"))?;
    sqlx::query(
        "INSERT INTO interaction_articles (interaction_id, article_id, version) VALUES ($1, $2, $3)
         ON CONFLICT (interaction_id, article_id) DO NOTHING",
    )
    .bind(id)
    .bind(req.article_id)
    .bind(version)
    .execute(ctx.db())
    .await?;
    let dto = load_interaction(ctx.db(), id).await?;
    ctx.audit(
        "interaction.attach_article",
        Some("interaction"),
        Some(id.to_string()),
        serde_json::json!({ "article_id": req.article_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(dto))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}/interactions", tag = "crm",
    responses((status = 200, body = Vec<InteractionDto>), (status = 404)))]
pub async fn customer_interactions(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<InteractionDto>>> {
    ctx.require(perms::CRM_READ)?;
    load_customer(ctx.db(), id).await?;
    let rows: Vec<InteractionRow> = sqlx::query_as(concat!(
        interaction_select!(),
        " WHERE i.customer_id = $1 ORDER BY i.created_at DESC, i.id LIMIT 500"
    ))
    .bind(id)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(interaction).collect()))
}

#[cfg(test)]
mod tests {
    use super::normalise_phone;

    #[test]
    fn phones_normalise_to_e164() {
        assert_eq!(
            normalise_phone("+994 12 555-01-00", None).as_deref(),
            Some("+994125550100")
        );
        assert_eq!(
            normalise_phone("00994125550100", None).as_deref(),
            Some("+994125550100")
        );
        assert_eq!(
            normalise_phone("(012) 555 01 00", Some("994")).as_deref(),
            Some("+994125550100")
        );
        assert_eq!(
            normalise_phone("12 555 01 00", Some("994")).as_deref(),
            Some("+994125550100")
        );
        assert_eq!(
            normalise_phone("012 555 01 00", None),
            None,
            "a national number needs a country code"
        );
        assert_eq!(normalise_phone("call me", None), None);
        assert_eq!(normalise_phone("+1", None), None);
    }
}

// ------------------------------------------------------------------ import / export

pub use crate::crm_import::IMPORT_MAX_BYTES;
use crate::crm_import::{self as imp, Format, Out};

/// Reads an upload's format and table (CSV or XLSX, by content and content type).
pub(crate) async fn upload(req: axum::extract::Request) -> ApiResult<imp::Table> {
    let (format, bytes) = upload_body(req).await?;
    imp::read_blocking(format, bytes).await
}

/// An upload's body and format (by content and content type).
async fn upload_body(req: axum::extract::Request) -> ApiResult<(Format, axum::body::Bytes)> {
    let content_type = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = crate::error::body_bytes(req, &()).await?;
    Ok((imp::detect(content_type.as_deref(), &bytes)?, bytes))
}

/// Columns, a sample and the row count of an uploaded CSV or XLSX file (first sheet, header
/// row first), to build the column mapping. `delimiter` is empty for XLSX. The file is read as
/// a stream: the answer holds the header and at most the first five rows (each cell at most
/// 200 characters), never the file; a file over the row limit is refused as soon as the read
/// passes it.
#[utoipa::path(post, path = "/api/v1/customers/import/preview", tag = "crm",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportPreview), (status = 400), (status = 413), (status = 422)))]
pub async fn import_preview(
    ctx: TenantCtx,
    req: axum::extract::Request,
) -> ApiResult<Json<ImportPreview>> {
    ctx.require(perms::CRM_WRITE)?;
    let (format, bytes) = upload_body(req).await?;
    let (table, rows) = imp::preview_blocking(format, bytes).await?;
    ctx.commit().await?;
    let short = |c: &imp::Cell| {
        let t = c.text();
        match t.char_indices().nth(imp::PREVIEW_CELL_CHARS) {
            Some((end, _)) => format!("{}…", &t[..end]),
            None => t,
        }
    };
    Ok(Json(ImportPreview {
        sample: table
            .rows
            .iter()
            .filter_map(|r| r.cells.as_ref().ok())
            .take(imp::PREVIEW_ROWS)
            .map(|cells| cells.iter().map(short).collect())
            .collect(),
        rows,
        delimiter: table
            .delimiter
            .map(|d| (d as char).to_string())
            .unwrap_or_default(),
        columns: table.columns,
    }))
}

/// Imports customers from CSV or XLSX. The mapping is given in the query: `name=<column>`,
/// `phone=<column>` (repeatable), `field.<key>=<column>`; multi-choice cells separate values
/// with `|`. Valid rows are saved (in batches); each invalid row is reported with its line and
/// reasons. Files of more than 2,000 rows (or `mode=job`) run as a background job: the answer
/// is 202 with the job, whose progress `GET /customers/import/jobs/{id}` reports;
/// `mode=sync` forces one answer.
#[utoipa::path(post, path = "/api/v1/customers/import", tag = "crm",
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReport), (status = 202, body = hotline_wire::crm_import::ImportJobDto),
        (status = 400), (status = 413), (status = 422)))]
pub async fn import(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut ctx: TenantCtx,
    Query(mapping): Query<Vec<(String, String)>>,
    req: axum::extract::Request,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    ctx.require(perms::CRM_WRITE)?;
    let table = upload(req).await?;
    let template = load_fields(ctx.db()).await?;
    let cc = country_code(ctx.db()).await?;
    let (plan, mode) = imp::plan(&table.columns, template, cc, &mapping)?;
    let as_job = match mode {
        imp::Mode::Auto => table.rows.len() > imp::SYNC_MAX_ROWS,
        imp::Mode::Sync => false,
        imp::Mode::Job => true,
    };
    if as_job {
        let user = ctx.user_id();
        let job = imp::create_job(ctx.db(), table.format, table.rows.len(), user).await?;
        ctx.audit(
            "customer.import",
            Some("crm_import_job"),
            Some(job.id.to_string()),
            serde_json::json!({ "format": job.format, "rows": job.total }),
        )
        .await?;
        let owner = imp::JobOwner {
            schema: ctx.tenant().schema(),
            actor_id: ctx.user_id(),
            actor: match ctx.actor() {
                crate::auth::Actor::User { email, .. } => email.clone(),
                crate::auth::Actor::ApiKey { name, .. } => format!("api-key:{name}"),
            },
            meta: ctx.meta().clone(),
        };
        ctx.commit().await?;
        tokio::spawn(imp::run_job(state, owner, job.id, plan, table.rows));
        let location = format!("/api/v1/customers/import/jobs/{}", job.id);
        return Ok((
            StatusCode::ACCEPTED,
            [(axum::http::header::LOCATION, location)],
            Json(job),
        )
            .into_response());
    }
    let mut imported = 0;
    let mut failed = vec![];
    for batch in table.rows.chunks(imp::BATCH_ROWS) {
        let (n, bad) = plan.import_batch(ctx.db(), batch).await?;
        imported += n;
        failed.extend(bad);
    }
    ctx.audit(
        "customer.import",
        Some("customer"),
        None,
        serde_json::json!({ "format": table.format.as_str(), "imported": imported, "failed": failed.len() }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(ImportReport { imported, failed }).into_response())
}

/// A background import and its progress (`processed` of `total`).
#[utoipa::path(get, path = "/api/v1/customers/import/jobs/{id}", tag = "crm",
    responses((status = 200, body = hotline_wire::crm_import::ImportJobDto), (status = 404)))]
pub async fn import_job(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<hotline_wire::crm_import::ImportJobDto>> {
    ctx.require(perms::CRM_WRITE)?;
    let job = imp::load_job(ctx.db(), id).await?;
    ctx.commit().await?;
    Ok(Json(job))
}

/// The 20 newest background imports.
#[utoipa::path(get, path = "/api/v1/customers/import/jobs", tag = "crm",
    responses((status = 200, body = Vec<hotline_wire::crm_import::ImportJobDto>)))]
pub async fn import_jobs(
    mut ctx: TenantCtx,
) -> ApiResult<Json<Vec<hotline_wire::crm_import::ImportJobDto>>> {
    ctx.require(perms::CRM_WRITE)?;
    let jobs = imp::recent_jobs(ctx.db()).await?;
    ctx.commit().await?;
    Ok(Json(jobs))
}

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `csv` or `xlsx`; without it, `Accept` decides (XLSX's media type, else CSV).
    pub format: Option<String>,
}

/// Every listed customer as CSV or XLSX: name, phones (space-separated), then each template
/// field (in XLSX, number fields are numbers and date fields dates).
#[utoipa::path(get, path = "/api/v1/customers/export", tag = "crm", params(ExportQuery),
    responses((status = 200, content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 422)))]
pub async fn export(
    ctx: TenantCtx,
    Query(q): Query<ExportQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<axum::response::Response> {
    let format = match q.format.as_deref() {
        Some("csv") => Format::Csv,
        Some("xlsx") => Format::Xlsx,
        Some(_) => return Err(ApiError::field("format", "must be csv or xlsx")),
        None => {
            let accept = headers
                .get(axum::http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if accept.contains(imp::XLSX_CONTENT_TYPE) {
                Format::Xlsx
            } else {
                Format::Csv
            }
        }
    };
    export_as(ctx, format).await
}

/// The CSV export at its first address (kept for existing clients).
#[utoipa::path(get, path = "/api/v1/customers/export.csv", tag = "crm", responses((status = 200, content_type = "text/csv")))]
pub async fn export_csv(ctx: TenantCtx) -> ApiResult<axum::response::Response> {
    export_as(ctx, Format::Csv).await
}

async fn export_as(mut ctx: TenantCtx, format: Format) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    ctx.require(perms::CRM_READ)?;
    let template = load_fields(ctx.db()).await?;
    let rows: Vec<CustomerRow> = sqlx::query_as(concat!(
        customer_select!(),
        " WHERE c.merged_into IS NULL ORDER BY lower(c.name), c.id"
    ))
    .fetch_all(ctx.db())
    .await?;
    ctx.audit(
        "customer.export",
        Some("customer"),
        None,
        serde_json::json!({ "rows": rows.len(), "format": format.as_str() }),
    )
    .await?;
    ctx.commit().await?;
    let mut header = vec!["name".to_string(), "phones".to_string()];
    header.extend(template.iter().map(|f| f.key.clone()));
    let rows: Vec<Vec<Out>> = rows
        .into_iter()
        .map(|r| {
            let c = customer(r);
            let mut out = vec![
                Out::Text(c.name),
                Out::Text(
                    c.phones
                        .iter()
                        .map(|p| p.number.as_str())
                        .collect::<Vec<_>>()
                        .join(" "),
                ),
            ];
            out.extend(
                template
                    .iter()
                    .map(|f| Out::of(&f.kind, c.fields.get(&f.key))),
            );
            out
        })
        .collect();
    let (body, content_type, name) = match format {
        Format::Csv => (
            imp::write_csv(&header, &rows)?,
            "text/csv; charset=utf-8",
            "customers.csv",
        ),
        Format::Xlsx => (
            tokio::task::spawn_blocking(move || imp::write_xlsx(&header, &rows))
                .await
                .map_err(ApiError::internal)??,
            imp::XLSX_CONTENT_TYPE,
            "customers.xlsx",
        ),
    };
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_string()),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response())
}
