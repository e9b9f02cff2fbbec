//! Telephone number self-service (issue 18, "Numbers"). The platform operators keep a pool of
//! numbers (`/platform/numbers`: add a list or a range, filter, give one to a tenant, take it
//! back, delete a free one) and decide tenants' requests (`/platform/number-requests`). A
//! tenant's administrators (`settings.write`) see the free numbers — the number and its
//! region, nothing about anyone else —, ask for one with a note, see what became of their
//! requests and cancel a pending one (`/numbers/…`). Which flow answers a number stays in
//! `/ivr/dids`. The rules shared with other paths are in `crate::numbers`.
//!
//! Audit: operators' actions in `platform.audit` (`number.…`), and those that change a tenant
//! (a number given, taken back, a request decided) also in that tenant's audit log with the
//! operator as actor; a tenant's own requests and cancellations in its audit log.

use crate::{
    auth::{self, OperatorCtx, TenantCtx},
    error::{ApiError, ApiResult, Json},
    numbers::{remove_flow_mapping, settle_requests},
    state::AppState,
    validate::{is_e164, Check},
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
    Router,
};
use hotline_wire::{
    api::Page,
    numbers::{
        FreeNumber, FreeNumberQuery, NumberRequestCreate, NumberRequestDto, NumberRequestQuery,
        NumberRequestReject, NumberState, PlatformNumberRequest, PoolAdd, PoolAssign, PoolNumber,
        PoolQuery, RequestStatus, MAX_NUMBERS_PER_ADD, MAX_PENDING_REQUESTS,
    },
    permissions as perms,
};
use sqlx::PgConnection;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/platform/numbers", get(pool).post(add))
        .route("/platform/numbers/{did}", axum::routing::delete(remove))
        .route("/platform/numbers/{did}/assign", post(assign))
        .route("/platform/numbers/{did}/release", post(release))
        .route("/platform/number-requests", get(requests))
        .route("/platform/number-requests/{id}/approve", post(approve))
        .route("/platform/number-requests/{id}/reject", post(reject))
        .route("/numbers/pool", get(free_numbers))
        .route("/numbers/requests", get(my_requests).post(request))
        .route("/numbers/requests/{id}/cancel", post(cancel))
}

/// What a malformed number is told.
fn not_e164(value: &str) -> String {
    format!(
        "{value:?} is not an E.164 number: write + and then 7 to 15 digits, the first not 0, \
         without spaces (like +994125550100)"
    )
}

/// A search text: the number's start or part of its region.
fn search(q: Option<String>) -> Option<String> {
    q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty())
}

/// One row of `platform.audit` for a number, in the caller's transaction.
async fn op_audit(
    conn: &mut PgConnection,
    op: &OperatorCtx,
    action: &str,
    target: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO platform.audit (operator_id, actor, action, target_type, target_id, details, ip, request_id, user_agent)
         VALUES ($1, $2, $3, 'did', $4, $5, $6, $7, $8)",
    )
    .bind(op.id)
    .bind(&op.email)
    .bind(action)
    .bind(target)
    .bind(details)
    .bind(op.meta.ip.as_deref())
    .bind(op.meta.request_id.as_deref())
    .bind(op.meta.user_agent.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

/// A row in the tenant's own audit log for what an operator did to it; the transaction must
/// be scoped to the tenant's schema.
async fn tenant_audit(
    conn: &mut PgConnection,
    op: &OperatorCtx,
    action: &str,
    did: &str,
    details: serde_json::Value,
) -> ApiResult<()> {
    auth::write_audit(
        conn,
        None,
        &format!("operator:{}", op.email),
        action,
        Some("did"),
        Some(did.to_string()),
        details,
        &op.meta,
    )
    .await
}

// ---------------------------------------------------------------- the pool (operators)

const POOL_FROM: &str = "FROM platform.dids d
   LEFT JOIN platform.tenants t ON t.id = d.tenant_id
   LEFT JOIN platform.did_requests r ON r.did = d.did AND r.status = 'pending'
   LEFT JOIN platform.tenants rt ON rt.id = r.tenant_id
  WHERE ($1::text IS NULL
         OR ($1 = 'assigned' AND d.tenant_id IS NOT NULL)
         OR ($1 = 'requested' AND d.tenant_id IS NULL AND r.id IS NOT NULL)
         OR ($1 = 'free' AND d.tenant_id IS NULL AND r.id IS NULL))
    AND ($2::uuid IS NULL OR d.tenant_id = $2 OR r.tenant_id = $2)
    AND ($3::text IS NULL OR strpos(d.did, $3) = 1
         OR strpos(lower(d.region), lower($3)) > 0)
    AND ($4::text[] IS NULL OR d.did = ANY($4))";

const POOL_SELECT: &str =
    "SELECT d.did, d.region, d.description, d.tenant_id, t.name AS tenant_name,
        t.slug AS tenant_slug, r.id AS request_id, rt.name AS requested_by_tenant,
        d.created_at, d.assigned_at";

#[derive(sqlx::FromRow)]
struct PoolRow {
    did: String,
    region: String,
    description: String,
    tenant_id: Option<Uuid>,
    tenant_name: Option<String>,
    tenant_slug: Option<String>,
    request_id: Option<Uuid>,
    requested_by_tenant: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    assigned_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<PoolRow> for PoolNumber {
    fn from(r: PoolRow) -> Self {
        let state = match (r.tenant_id, r.request_id) {
            (Some(_), _) => NumberState::Assigned,
            (None, Some(_)) => NumberState::Requested,
            (None, None) => NumberState::Free,
        };
        PoolNumber {
            did: r.did,
            region: r.region,
            description: r.description,
            state,
            tenant_id: r.tenant_id,
            tenant_name: r.tenant_name,
            tenant_slug: r.tenant_slug,
            request_id: r.request_id,
            requested_by_tenant: r.requested_by_tenant,
            created_at: r.created_at,
            assigned_at: r.assigned_at,
        }
    }
}

fn state_name(s: NumberState) -> &'static str {
    match s {
        NumberState::Free => "free",
        NumberState::Requested => "requested",
        NumberState::Assigned => "assigned",
    }
}

/// The numbers in `dids`, as the operators see them.
async fn pool_numbers(conn: &mut PgConnection, dids: &[String]) -> ApiResult<Vec<PoolNumber>> {
    let rows: Vec<PoolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{POOL_SELECT} {POOL_FROM} ORDER BY d.did"
    )))
    .bind(None::<String>)
    .bind(None::<Uuid>)
    .bind(None::<String>)
    .bind(dids)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(PoolNumber::from).collect())
}

async fn pool_number(conn: &mut PgConnection, did: &str) -> ApiResult<PoolNumber> {
    pool_numbers(conn, &[did.to_string()])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// Every number of the platform — free, requested (free, with a tenant's request pending) or
/// assigned —, by number.
#[utoipa::path(get, path = "/api/v1/platform/numbers", tag = "platform", params(PoolQuery),
    responses((status = 200, body = Page<PoolNumber>)))]
pub async fn pool(
    State(state): State<AppState>,
    _op: OperatorCtx,
    Query(q): Query<PoolQuery>,
) -> ApiResult<Json<Page<PoolNumber>>> {
    let (page, per_page) = super::paging(q.page, q.per_page)?;
    let mut c = Check::new();
    let text = search(q.q);
    if let Some(t) = &text {
        c.max_len("q", t, 100);
    }
    c.finish()?;
    let st = q.state.map(state_name);
    let mut conn = state.db.acquire().await?;
    let total: i64 =
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) {POOL_FROM}")))
            .bind(st)
            .bind(q.tenant_id)
            .bind(&text)
            .bind(None::<Vec<String>>)
            .fetch_one(&mut *conn)
            .await?;
    let rows: Vec<PoolRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{POOL_SELECT} {POOL_FROM} ORDER BY d.did LIMIT $5 OFFSET $6"
    )))
    .bind(st)
    .bind(q.tenant_id)
    .bind(&text)
    .bind(None::<Vec<String>>)
    .bind(per_page)
    .bind((page - 1) * per_page)
    .fetch_all(&mut *conn)
    .await?;
    Ok(Json(Page {
        items: rows.into_iter().map(PoolNumber::from).collect(),
        total,
        page,
        per_page,
    }))
}

/// Adds free numbers to the pool: a list, a range (first to last, at most 1000), or both, with
/// a region label and a description. All or none: a number already on the platform is a 409
/// naming it. The numbers route to nobody until given to a tenant.
#[utoipa::path(post, path = "/api/v1/platform/numbers", tag = "platform", request_body = PoolAdd,
    responses((status = 201, body = Vec<PoolNumber>, description = "The numbers added"),
        (status = 409, body = hotline_wire::api::Problem, description = "`number_exists`"),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn add(
    State(state): State<AppState>,
    op: OperatorCtx,
    Json(req): Json<PoolAdd>,
) -> ApiResult<(StatusCode, Json<Vec<PoolNumber>>)> {
    let mut c = Check::new();
    let mut dids: Vec<String> = Vec::new();
    if req.numbers.len() > MAX_NUMBERS_PER_ADD {
        c.fail(
            "numbers",
            format!(
                "at most {MAX_NUMBERS_PER_ADD} numbers at once; {} given",
                req.numbers.len()
            ),
        );
    } else {
        for (i, n) in req.numbers.iter().enumerate() {
            let n = n.trim();
            if is_e164(n) {
                dids.push(n.to_string());
            } else {
                c.fail(&format!("numbers.{i}"), not_e164(n));
            }
        }
    }
    let first = req
        .range_first
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let last = req
        .range_last
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    match (first, last) {
        (None, None) => {
            if req.numbers.is_empty() {
                c.fail("numbers", "give at least one number, or a range");
            }
        }
        (Some(_), None) => c.fail("range_last", "give the last number of the range"),
        (None, Some(_)) => c.fail("range_first", "give the first number of the range"),
        (Some(a), Some(b)) => {
            if !is_e164(a) {
                c.fail("range_first", not_e164(a));
            }
            if !is_e164(b) {
                c.fail("range_last", not_e164(b));
            }
            if is_e164(a) && is_e164(b) {
                match crate::numbers::expand_range(a, b, MAX_NUMBERS_PER_ADD) {
                    Ok(r) => dids.extend(r),
                    Err((field, message)) => c.fail(&field, message),
                }
            }
        }
    }
    c.max_len("region", &req.region, 100);
    c.max_len("description", &req.description, 200);
    dids.sort();
    dids.dedup();
    if dids.len() > MAX_NUMBERS_PER_ADD {
        c.fail(
            "numbers",
            format!(
                "at most {MAX_NUMBERS_PER_ADD} numbers at once; the list and the range make {}",
                dids.len()
            ),
        );
    }
    c.finish()?;
    let mut tx = state.db.begin().await?;
    let existing: Vec<String> = sqlx::query_scalar(
        "SELECT did FROM platform.dids WHERE did = ANY($1) ORDER BY did FOR UPDATE",
    )
    .bind(&dids)
    .fetch_all(&mut *tx)
    .await?;
    if !existing.is_empty() {
        return Err(exists_conflict(&existing));
    }
    let inserted = sqlx::query(
        "INSERT INTO platform.dids (did, region, description)
         SELECT unnest($1::text[]), $2, $3",
    )
    .bind(&dids)
    .bind(req.region.trim())
    .bind(req.description.trim())
    .execute(&mut *tx)
    .await;
    match inserted {
        // Another operator added one of them meanwhile.
        Err(e) if crate::error::unique_violation(&e).is_some() => {
            return Err(ApiError::Conflict {
                code: "number_exists",
                detail: "Some of these numbers were just added by someone else: reload the list."
                    .into(),
            })
        }
        r => r?,
    };
    op_audit(
        &mut tx,
        &op,
        "number.add",
        &dids[0],
        serde_json::json!({
            "count": dids.len(),
            "first": dids.first(),
            "last": dids.last(),
            "region": req.region.trim(),
        }),
    )
    .await?;
    let added = pool_numbers(&mut tx, &dids).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(added)))
}

fn exists_conflict(existing: &[String]) -> ApiError {
    let shown: Vec<&str> = existing.iter().take(5).map(String::as_str).collect();
    let more = existing.len().saturating_sub(shown.len());
    ApiError::Conflict {
        code: "number_exists",
        detail: format!(
            "Already on the platform: {}{}. Nothing was added.",
            shown.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        ),
    }
}

/// The number's tenant (`None`: in the pool), its row locked for the transaction; 404 when the
/// platform has no such number.
async fn lock_number(conn: &mut PgConnection, did: &str) -> ApiResult<Option<Uuid>> {
    let row: Option<Option<Uuid>> =
        sqlx::query_scalar("SELECT tenant_id FROM platform.dids WHERE did = $1 FOR UPDATE")
            .bind(did)
            .fetch_optional(conn)
            .await?;
    row.ok_or(ApiError::NotFound)
}

/// Gives `did` (locked, free) to `tenant` and closes its pending request; the transaction is
/// scoped to the tenant's schema afterwards.
async fn give(
    conn: &mut PgConnection,
    op: &OperatorCtx,
    did: &str,
    tenant: Uuid,
) -> ApiResult<Option<Uuid>> {
    sqlx::query("UPDATE platform.dids SET tenant_id = $2, assigned_at = now() WHERE did = $1")
        .bind(did)
        .bind(tenant)
        .execute(&mut *conn)
        .await?;
    let rejected = settle_requests(conn, did, Some(tenant), &op.email).await?;
    crate::db::scope_to_schema(conn, &crate::db::schema_name(tenant)).await?;
    Ok(rejected)
}

/// Gives a free number to a tenant: it routes to the tenant at once (the gateways' Redis copy
/// is written), a pending request of that tenant is approved, another tenant's is rejected
/// ("The number was given to another call center.").
#[utoipa::path(post, path = "/api/v1/platform/numbers/{did}/assign", tag = "platform",
    request_body = PoolAssign, params(("did" = String, Path, description = "The number, E.164")),
    responses((status = 200, body = PoolNumber),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`number_assigned`: release it first"),
        (status = 422, body = hotline_wire::api::Problem, description = "No such tenant")))]
pub async fn assign(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(did): Path<String>,
    Json(req): Json<PoolAssign>,
) -> ApiResult<Json<PoolNumber>> {
    let mut tx = state.db.begin().await?;
    let Some(tenant) = auth::tenant_by_id(&mut tx, req.tenant_id).await? else {
        return Err(ApiError::field("tenant_id", "no such tenant"));
    };
    if let Some(holder) = lock_number(&mut tx, &did).await? {
        return Err(assigned_conflict(&did, holder == tenant.id));
    }
    let rejected = give(&mut tx, &op, &did, tenant.id).await?;
    tenant_audit(&mut tx, &op, "number.assigned", &did, serde_json::json!({})).await?;
    op_audit(
        &mut tx,
        &op,
        "number.assign",
        &did,
        serde_json::json!({ "tenant_id": tenant.id, "slug": tenant.slug, "rejected_request_of": rejected }),
    )
    .await?;
    let n = pool_number(&mut tx, &did).await?;
    tx.commit().await?;
    crate::gateway_sync::publish_did(&state, &did, Some(tenant.id))
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(n))
}

fn assigned_conflict(did: &str, same: bool) -> ApiError {
    ApiError::Conflict {
        code: "number_assigned",
        detail: if same {
            format!("{did} is already this call center's number.")
        } else {
            format!("{did} is assigned to a call center: release it first.")
        },
    }
}

/// Takes a number back into the pool: it stops routing at once (removed from the gateways'
/// Redis copy) and its flow assignment in the tenant's schema is removed.
#[utoipa::path(post, path = "/api/v1/platform/numbers/{did}/release", tag = "platform",
    params(("did" = String, Path, description = "The number, E.164")),
    responses((status = 200, body = PoolNumber),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`number_free`: not assigned; `trunk_number`: on a tenant's own trunk")))]
pub async fn release(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(did): Path<String>,
) -> ApiResult<Json<PoolNumber>> {
    let mut tx = state.db.begin().await?;
    let holder = lock_number(&mut tx, &did).await?;
    crate::numbers::refuse_trunk_number(&mut tx, &did).await?;
    let Some(tenant) = holder else {
        return Err(ApiError::Conflict {
            code: "number_free",
            detail: format!("{did} is in the pool already."),
        });
    };
    sqlx::query("UPDATE platform.dids SET tenant_id = NULL, assigned_at = NULL WHERE did = $1")
        .bind(&did)
        .execute(&mut *tx)
        .await?;
    let had_flow = remove_flow_mapping(&mut tx, tenant, &did).await?;
    tenant_audit(
        &mut tx,
        &op,
        "number.released",
        &did,
        serde_json::json!({ "flow_assignment_removed": had_flow }),
    )
    .await?;
    op_audit(
        &mut tx,
        &op,
        "number.release",
        &did,
        serde_json::json!({ "tenant_id": tenant }),
    )
    .await?;
    let n = pool_number(&mut tx, &did).await?;
    tx.commit().await?;
    crate::gateway_sync::publish_did(&state, &did, None)
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(n))
}

/// Deletes a free number from the platform. A pending request for it is rejected ("The number
/// is no longer offered."). An assigned number must be released first.
#[utoipa::path(delete, path = "/api/v1/platform/numbers/{did}", tag = "platform",
    params(("did" = String, Path, description = "The number, E.164")),
    responses((status = 204),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`number_assigned`: release it first")))]
pub async fn remove(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(did): Path<String>,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    if lock_number(&mut tx, &did).await?.is_some() {
        return Err(assigned_conflict(&did, false));
    }
    let rejected = settle_requests(&mut tx, &did, None, &op.email).await?;
    sqlx::query("DELETE FROM platform.dids WHERE did = $1")
        .bind(&did)
        .execute(&mut *tx)
        .await?;
    op_audit(
        &mut tx,
        &op,
        "number.delete",
        &did,
        serde_json::json!({ "rejected_request_of": rejected }),
    )
    .await?;
    tx.commit().await?;
    // Never routed; removed from the copy anyway in case an older release left it there.
    crate::gateway_sync::publish_did(&state, &did, None)
        .await
        .map_err(ApiError::Internal)?;
    Ok(StatusCode::NO_CONTENT)
}

// ---------------------------------------------------------------- requests (operators)

const OP_REQUEST_SELECT: &str = "SELECT r.id, r.did, coalesce(d.region, '') AS region, r.tenant_id,
        t.name AS tenant_name, t.slug AS tenant_slug, r.status, r.note, r.reason,
        r.requested_name, r.created_at, r.decided_at, r.decided_by
   FROM platform.did_requests r
   JOIN platform.tenants t ON t.id = r.tenant_id
   LEFT JOIN platform.dids d ON d.did = r.did";

#[derive(sqlx::FromRow)]
struct OpRequestRow {
    id: Uuid,
    did: String,
    region: String,
    tenant_id: Uuid,
    tenant_name: String,
    tenant_slug: String,
    status: String,
    note: String,
    reason: String,
    requested_name: String,
    created_at: chrono::DateTime<chrono::Utc>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
    decided_by: Option<String>,
}

impl From<OpRequestRow> for PlatformNumberRequest {
    fn from(r: OpRequestRow) -> Self {
        PlatformNumberRequest {
            id: r.id,
            did: r.did,
            region: r.region,
            tenant_id: r.tenant_id,
            tenant_name: r.tenant_name,
            tenant_slug: r.tenant_slug,
            status: RequestStatus::parse(&r.status).unwrap_or(RequestStatus::Pending),
            note: r.note,
            reason: r.reason,
            requested_name: r.requested_name,
            created_at: r.created_at,
            decided_at: r.decided_at,
            decided_by: r.decided_by,
        }
    }
}

async fn op_request(conn: &mut PgConnection, id: Uuid) -> ApiResult<PlatformNumberRequest> {
    let row: Option<OpRequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OP_REQUEST_SELECT} WHERE r.id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Into::into).ok_or(ApiError::NotFound)
}

/// Tenants' requests for pool numbers: pending ones oldest first (the default), or those with
/// another status newest first (at most 500).
#[utoipa::path(get, path = "/api/v1/platform/number-requests", tag = "platform",
    params(NumberRequestQuery),
    responses((status = 200, body = Vec<PlatformNumberRequest>)))]
pub async fn requests(
    State(state): State<AppState>,
    _op: OperatorCtx,
    Query(q): Query<NumberRequestQuery>,
) -> ApiResult<Json<Vec<PlatformNumberRequest>>> {
    let status = q.status.unwrap_or(RequestStatus::Pending);
    let order = if status == RequestStatus::Pending {
        "r.created_at, r.id"
    } else {
        "r.decided_at DESC NULLS LAST, r.created_at DESC"
    };
    let rows: Vec<OpRequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{OP_REQUEST_SELECT} WHERE r.status = $1 ORDER BY {order} LIMIT 500"
    )))
    .bind(status.as_str())
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// The request's number and tenant, read without a lock (the number is locked first, then the
/// request, like every other path here).
async fn request_target(conn: &mut PgConnection, id: Uuid) -> ApiResult<(String, Uuid)> {
    let row: Option<(String, Uuid)> =
        sqlx::query_as("SELECT did, tenant_id FROM platform.did_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(conn)
            .await?;
    row.ok_or(ApiError::NotFound)
}

fn already_decided(status: &str) -> ApiError {
    ApiError::Conflict {
        code: "already_decided",
        detail: format!("This request is {status} already."),
    }
}

/// Approves a pending request: the number becomes the tenant's and routes to it at once.
#[utoipa::path(post, path = "/api/v1/platform/number-requests/{id}/approve", tag = "platform",
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = PlatformNumberRequest),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_decided`")))]
pub async fn approve(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<PlatformNumberRequest>> {
    let mut tx = state.db.begin().await?;
    let (did, tenant) = request_target(&mut tx, id).await?;
    // The number first, then the request (the order every path here takes).
    let holder = match lock_number(&mut tx, &did).await {
        Err(ApiError::NotFound) => None,
        r => Some(r?),
    };
    let status: String =
        sqlx::query_scalar("SELECT status FROM platform.did_requests WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if status != "pending" {
        return Err(already_decided(&status));
    }
    // A pending request's number is in the pool: assigning or deleting it closes the request.
    if holder != Some(None) {
        return Err(ApiError::Conflict {
            code: "number_unavailable",
            detail: format!("{did} is no longer in the pool."),
        });
    }
    give(&mut tx, &op, &did, tenant).await?;
    tenant_audit(
        &mut tx,
        &op,
        "number.request_approved",
        &did,
        serde_json::json!({ "request_id": id }),
    )
    .await?;
    op_audit(
        &mut tx,
        &op,
        "number.request.approve",
        &did,
        serde_json::json!({ "request_id": id, "tenant_id": tenant }),
    )
    .await?;
    let r = op_request(&mut tx, id).await?;
    tx.commit().await?;
    crate::gateway_sync::publish_did(&state, &did, Some(tenant))
        .await
        .map_err(ApiError::Internal)?;
    Ok(Json(r))
}

/// Rejects a pending request with a reason the tenant sees; the number stays free.
#[utoipa::path(post, path = "/api/v1/platform/number-requests/{id}/reject", tag = "platform",
    request_body = NumberRequestReject, params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = PlatformNumberRequest),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_decided`"),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn reject(
    State(state): State<AppState>,
    op: OperatorCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<NumberRequestReject>,
) -> ApiResult<Json<PlatformNumberRequest>> {
    let mut c = Check::new();
    c.text("reason", &req.reason, 500);
    c.finish()?;
    let mut tx = state.db.begin().await?;
    let (did, tenant) = request_target(&mut tx, id).await?;
    let status: String =
        sqlx::query_scalar("SELECT status FROM platform.did_requests WHERE id = $1 FOR UPDATE")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    if status != "pending" {
        return Err(already_decided(&status));
    }
    sqlx::query(
        "UPDATE platform.did_requests
            SET status = 'rejected', reason = $2, decided_at = now(), decided_by = $3
          WHERE id = $1",
    )
    .bind(id)
    .bind(req.reason.trim())
    .bind(&op.email)
    .execute(&mut *tx)
    .await?;
    crate::db::scope_to_schema(&mut tx, &crate::db::schema_name(tenant)).await?;
    tenant_audit(
        &mut tx,
        &op,
        "number.request_rejected",
        &did,
        serde_json::json!({ "request_id": id, "reason": req.reason.trim() }),
    )
    .await?;
    op_audit(
        &mut tx,
        &op,
        "number.request.reject",
        &did,
        serde_json::json!({ "request_id": id, "tenant_id": tenant, "reason": req.reason.trim() }),
    )
    .await?;
    let r = op_request(&mut tx, id).await?;
    tx.commit().await?;
    Ok(Json(r))
}

// ---------------------------------------------------------------- a tenant's side

/// The free numbers a tenant may ask for (the first 200 by number): free and with no request
/// pending. Nothing about other tenants.
#[utoipa::path(get, path = "/api/v1/numbers/pool", tag = "numbers", params(FreeNumberQuery),
    responses((status = 200, body = Vec<FreeNumber>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn free_numbers(
    mut ctx: TenantCtx,
    Query(q): Query<FreeNumberQuery>,
) -> ApiResult<Json<Vec<FreeNumber>>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let text = search(q.q);
    if let Some(t) = &text {
        let mut c = Check::new();
        c.max_len("q", t, 100);
        c.finish()?;
    }
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT d.did, d.region FROM platform.dids d
          WHERE d.tenant_id IS NULL
            AND NOT EXISTS (SELECT 1 FROM platform.did_requests r
                             WHERE r.did = d.did AND r.status = 'pending')
            AND ($1::text IS NULL OR strpos(d.did, $1) = 1
                 OR strpos(lower(d.region), lower($1)) > 0)
          ORDER BY d.did LIMIT 200",
    )
    .bind(&text)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|(did, region)| FreeNumber { did, region })
            .collect(),
    ))
}

const REQUEST_SELECT: &str = "SELECT r.id, r.did, coalesce(d.region, '') AS region, r.status,
        r.note, r.reason, r.requested_name, r.created_at, r.decided_at
   FROM platform.did_requests r
   LEFT JOIN platform.dids d ON d.did = r.did";

#[derive(sqlx::FromRow)]
struct RequestRow {
    id: Uuid,
    did: String,
    region: String,
    status: String,
    note: String,
    reason: String,
    requested_name: String,
    created_at: chrono::DateTime<chrono::Utc>,
    decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl From<RequestRow> for NumberRequestDto {
    fn from(r: RequestRow) -> Self {
        NumberRequestDto {
            id: r.id,
            did: r.did,
            region: r.region,
            status: RequestStatus::parse(&r.status).unwrap_or(RequestStatus::Pending),
            note: r.note,
            reason: r.reason,
            requested_name: r.requested_name,
            created_at: r.created_at,
            decided_at: r.decided_at,
        }
    }
}

/// One of the tenant's own requests; another tenant's id is a 404 like a missing one.
async fn own_request(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<NumberRequestDto> {
    let tenant = ctx.tenant().id;
    let row: Option<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REQUEST_SELECT} WHERE r.id = $1 AND r.tenant_id = $2"
    )))
    .bind(id)
    .bind(tenant)
    .fetch_optional(ctx.db())
    .await?;
    row.map(Into::into).ok_or(ApiError::NotFound)
}

/// The tenant's requests, newest first (the latest 200): pending, approved, rejected with the
/// operator's reason, cancelled.
#[utoipa::path(get, path = "/api/v1/numbers/requests", tag = "numbers",
    responses((status = 200, body = Vec<NumberRequestDto>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn my_requests(mut ctx: TenantCtx) -> ApiResult<Json<Vec<NumberRequestDto>>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let rows: Vec<RequestRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REQUEST_SELECT} WHERE r.tenant_id = $1 ORDER BY r.created_at DESC, r.id LIMIT 200"
    )))
    .bind(tenant)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

/// Asks the platform for a free number, with a note for the operator. One request per number
/// is pending at a time, whoever made it: of two tenants asking at once one gets it, the other
/// a 409 `number_requested`. At most 10 pending requests per tenant.
#[utoipa::path(post, path = "/api/v1/numbers/requests", tag = "numbers",
    request_body = NumberRequestCreate,
    responses((status = 201, body = NumberRequestDto),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 404, body = hotline_wire::api::Problem, description = "Not a number of the pool"),
        (status = 409, body = hotline_wire::api::Problem,
            description = "`number_requested` (a request for it is pending), `number_unavailable` (no longer free), `number_assigned` (already yours), `request_limit`"),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn request(
    mut ctx: TenantCtx,
    Json(req): Json<NumberRequestCreate>,
) -> ApiResult<(StatusCode, Json<NumberRequestDto>)> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let did = req.did.trim().to_string();
    let mut c = Check::new();
    if !is_e164(&did) {
        c.fail("did", not_e164(&did));
    }
    c.max_len("note", &req.note, 500);
    c.finish()?;
    let tenant = ctx.tenant().id;
    // The number's row first: two tenants asking at once are served one after the other.
    match lock_number(ctx.db(), &did).await? {
        None => {}
        Some(t) if t == tenant => {
            return Err(ApiError::Conflict {
                code: "number_assigned",
                detail: format!("{did} is already your number."),
            })
        }
        Some(_) => {
            return Err(ApiError::Conflict {
                code: "number_unavailable",
                detail: format!("{did} is no longer free."),
            })
        }
    }
    let pending: Option<Uuid> = sqlx::query_scalar(
        "SELECT tenant_id FROM platform.did_requests WHERE did = $1 AND status = 'pending'",
    )
    .bind(&did)
    .fetch_optional(ctx.db())
    .await?;
    if let Some(by) = pending {
        return Err(requested_conflict(&did, by == tenant));
    }
    let mine: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM platform.did_requests WHERE tenant_id = $1 AND status = 'pending'",
    )
    .bind(tenant)
    .fetch_one(ctx.db())
    .await?;
    if mine >= MAX_PENDING_REQUESTS {
        return Err(ApiError::Conflict {
            code: "request_limit",
            detail: format!(
                "You have {MAX_PENDING_REQUESTS} requests waiting already: wait for a decision \
                 or cancel one."
            ),
        });
    }
    let name: String = match ctx.user_id() {
        Some(id) => sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?
            .unwrap_or_default(),
        None => match ctx.actor() {
            auth::Actor::ApiKey { name, .. } => format!("API key {name}"),
            _ => String::new(),
        },
    };
    let id = Uuid::new_v4();
    let inserted = sqlx::query(
        "INSERT INTO platform.did_requests (id, did, tenant_id, note, requested_by, requested_name)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(&did)
    .bind(tenant)
    .bind(req.note.trim())
    .bind(ctx.user_id())
    .bind(&name)
    .execute(ctx.db())
    .await;
    match inserted {
        Err(e) if crate::error::unique_violation(&e).is_some() => {
            return Err(requested_conflict(&did, false))
        }
        r => r?,
    };
    ctx.audit(
        "number.request",
        Some("did"),
        Some(did.clone()),
        serde_json::json!({ "request_id": id, "note": req.note.trim() }),
    )
    .await?;
    let dto = own_request(&mut ctx, id).await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(dto)))
}

fn requested_conflict(did: &str, ours: bool) -> ApiError {
    ApiError::Conflict {
        code: "number_requested",
        detail: if ours {
            format!("You have asked for {did} already: your request is waiting for a decision.")
        } else {
            format!("Another call center has asked for {did} first: choose another number.")
        },
    }
}

/// Cancels one of the tenant's pending requests; the number is offered again.
#[utoipa::path(post, path = "/api/v1/numbers/requests/{id}/cancel", tag = "numbers",
    params(("id" = Uuid, Path, description = "Request id")),
    responses((status = 200, body = NumberRequestDto),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_decided`")))]
pub async fn cancel(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<NumberRequestDto>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    let status: Option<String> = sqlx::query_scalar(
        "SELECT status FROM platform.did_requests WHERE id = $1 AND tenant_id = $2 FOR UPDATE",
    )
    .bind(id)
    .bind(tenant)
    .fetch_optional(ctx.db())
    .await?;
    let status = status.ok_or(ApiError::NotFound)?;
    if status != "pending" {
        return Err(already_decided(&status));
    }
    let by = match ctx.actor() {
        auth::Actor::User { email, .. } => email.clone(),
        auth::Actor::ApiKey { name, .. } => format!("api-key:{name}"),
    };
    sqlx::query(
        "UPDATE platform.did_requests
            SET status = 'cancelled', decided_at = now(), decided_by = $2
          WHERE id = $1",
    )
    .bind(id)
    .bind(by)
    .execute(ctx.db())
    .await?;
    let dto = own_request(&mut ctx, id).await?;
    ctx.audit(
        "number.request_cancel",
        Some("did"),
        Some(dto.did.clone()),
        serde_json::json!({ "request_id": id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(dto))
}
