//! IVR flows of the tenant: versions, publishing, DID assignment, and the missed-calls list
//! the flows (callback requests, abandoned calls) feed. The calls themselves are driven by
//! `crate::ivr` from the gateways' events.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
    validate::Check,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{delete, get, post},
    Router,
};
use hotline_flows::Flow;
use hotline_wire::{
    api::FieldError,
    calls::{
        DidDto, DidFlow, FlowDto, FlowPublish, FlowSave, FlowVersionDto, MissedCallDto,
        MissedCallQuery, MISSED_REASONS,
    },
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ivr/flows", get(list).post(create))
        .route("/ivr/flows/{id}", get(get_flow).put(save_version))
        .route("/ivr/flows/{id}/publish", post(publish))
        .route("/ivr/flows/{id}/versions", get(versions))
        .route("/ivr/dids", get(list_dids).put(assign_did))
        .route("/ivr/dids/{did}", delete(unassign_did))
        .route("/missed-calls", get(missed_calls))
        .route("/missed-calls/{id}/handled", post(missed_call_handled))
}

/// Parses and validates a graph; every problem becomes a field error `graph…`, including
/// prompts that are neither built in nor uploaded by the tenant, and HTTP lookups to a
/// destination the outbound policy refuses (checked again, after resolution, at run time).
async fn checked_graph(
    state: &AppState,
    ctx: &mut TenantCtx,
    graph: &serde_json::Value,
) -> ApiResult<Flow> {
    let flow: Flow = serde_json::from_value(graph.clone())
        .map_err(|e| ApiError::field("graph", format!("not a flow: {e}")))?;
    let mut errs: Vec<FieldError> = flow
        .validate()
        .into_iter()
        .map(|e| FieldError {
            field: if e.node.is_empty() {
                format!("graph.{}", e.field)
            } else {
                format!("graph.nodes.{}.{}", e.node, e.field)
            },
            message: e.message,
        })
        .collect();
    errs.extend(super::prompts::missing_prompts(ctx.db(), &flow).await?);
    let policy = crate::outbound::Policy::for_tenant(state, ctx.tenant().id).await?;
    for (id, node) in &flow.nodes {
        if let hotline_flows::Node::HttpLookup { url, .. } = node {
            let field = format!("graph.nodes.{id}.url");
            if errs.iter().any(|e| e.field == field) {
                continue;
            }
            if let Some(message) = refused_lookup(&policy, url) {
                errs.push(FieldError { field, message });
            }
        }
    }
    errs.extend(refused_transfers(ctx, &flow, &errs).await?);
    if errs.is_empty() {
        Ok(flow)
    } else {
        Err(ApiError::Validation(errs))
    }
}

/// Transfer nodes to numbers the tenant's outbound rules refuse (`dial_policy`: the allowed
/// countries and blocked prefixes), as field errors on `graph.nodes.<node>.number`. Limits
/// (lines, calls per second, trial) are judged when the call is placed.
async fn refused_transfers(
    ctx: &mut TenantCtx,
    flow: &Flow,
    errs: &[FieldError],
) -> ApiResult<Vec<FieldError>> {
    let numbers: Vec<(String, &str)> = flow
        .nodes
        .iter()
        .filter_map(|(id, node)| match node {
            hotline_flows::Node::Transfer { number, .. } => {
                Some((format!("graph.nodes.{id}.number"), number.as_str()))
            }
            _ => None,
        })
        .filter(|(field, _)| !errs.iter().any(|e| &e.field == field))
        .collect();
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let tenant = ctx.tenant().id;
    let rules = crate::dial_policy::rules(ctx.db(), tenant)
        .await
        .map_err(ApiError::internal)?;
    Ok(numbers
        .into_iter()
        .filter_map(|(field, number)| {
            rules.destination(number).err().map(|r| FieldError {
                field,
                message: r.detail(),
            })
        })
        .collect())
}

/// The save-time check of a lookup URL template: when its host is literal (no `{{var}}` in
/// the scheme or authority), the URL with every variable filled in must pass
/// [`Policy::check_url`](crate::outbound::Policy::check_url).
fn refused_lookup(policy: &crate::outbound::Policy, template: &str) -> Option<String> {
    let authority_end = template
        .find("://")
        .map(|i| {
            let rest = &template[i + 3..];
            i + 3 + rest.find(['/', '?', '#']).unwrap_or(rest.len())
        })
        .unwrap_or(template.len());
    if template[..authority_end].contains("{{") {
        return None;
    }
    let mut url = String::new();
    let mut rest = template;
    while let Some(i) = rest.find("{{") {
        url.push_str(&rest[..i]);
        match rest[i..].find("}}") {
            Some(j) => {
                url.push('x');
                rest = &rest[i + j + 2..];
            }
            None => {
                rest = &rest[i..];
                break;
            }
        }
    }
    url.push_str(rest);
    policy.check_url(&url).err().map(|e| e.to_string())
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    is_default: bool,
    published_version: Option<i32>,
    latest_version: i32,
    graph: serde_json::Value,
}

const SELECT: &str = "SELECT f.id, f.name, f.is_default, f.published_version,
        v.version AS latest_version, v.graph
   FROM ivr_flows f
   JOIN LATERAL (SELECT version, graph FROM ivr_flow_versions
                  WHERE flow_id = f.id ORDER BY version DESC LIMIT 1) v ON true";

fn dto(r: Row) -> FlowDto {
    FlowDto {
        id: r.id,
        name: r.name,
        is_default: r.is_default,
        published_version: r.published_version,
        latest_version: r.latest_version,
        graph: r.graph,
    }
}

async fn fetch(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<FlowDto> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE f.id = $1")))
        .bind(id)
        .fetch_optional(ctx.db())
        .await?;
    row.map(dto).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/ivr/flows", tag = "ivr",
    responses((status = 200, body = Vec<FlowDto>), (status = 403, body = hotline_wire::api::Problem)))]
pub async fn list(mut ctx: TenantCtx) -> ApiResult<Json<Vec<FlowDto>>> {
    ctx.require(perms::IVR_WRITE)?;
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} ORDER BY lower(f.name)"
    )))
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(dto).collect()))
}

#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}", tag = "ivr",
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = FlowDto), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn get_flow(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<FlowDto>> {
    ctx.require(perms::IVR_WRITE)?;
    let f = fetch(&mut ctx, id).await?;
    ctx.commit().await?;
    Ok(Json(f))
}

#[utoipa::path(post, path = "/api/v1/ivr/flows", tag = "ivr", request_body = FlowSave,
    responses((status = 201, body = FlowDto), (status = 409, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn create(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Json(req): Json<FlowSave>,
) -> ApiResult<(StatusCode, Json<FlowDto>)> {
    ctx.require(perms::IVR_WRITE)?;
    let name = req.name.as_deref().unwrap_or("").trim().to_string();
    if name.is_empty() || name.len() > 100 {
        return Err(ApiError::field("name", "1–100 characters"));
    }
    checked_graph(&state, &mut ctx, &req.graph).await?;
    let is_default = req.is_default.unwrap_or(false);
    if is_default {
        sqlx::query("UPDATE ivr_flows SET is_default = false WHERE is_default")
            .execute(ctx.db())
            .await?;
    }
    let id: Uuid =
        sqlx::query_scalar("INSERT INTO ivr_flows (name, is_default) VALUES ($1, $2) RETURNING id")
            .bind(&name)
            .bind(is_default)
            .fetch_one(ctx.db())
            .await
            .map_err(|e| match crate::error::unique_violation(&e) {
                Some(_) => ApiError::Conflict {
                    code: "name_taken",
                    detail: "a flow with this name exists".into(),
                },
                None => e.into(),
            })?;
    let user = ctx.user_id();
    sqlx::query(
        "INSERT INTO ivr_flow_versions (flow_id, version, graph, created_by) VALUES ($1, 1, $2, $3)",
    )
    .bind(id)
    .bind(&req.graph)
    .bind(user)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "ivr.flow.create",
        Some("ivr_flow"),
        Some(id.to_string()),
        serde_json::json!({ "name": name }),
    )
    .await?;
    let f = fetch(&mut ctx, id).await?;
    ctx.commit().await?;
    Ok((StatusCode::CREATED, Json(f)))
}

#[utoipa::path(put, path = "/api/v1/ivr/flows/{id}", tag = "ivr", request_body = FlowSave,
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = FlowDto, description = "Saved as a new version (not yet published)"),
        (status = 404, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn save_version(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<FlowSave>,
) -> ApiResult<Json<FlowDto>> {
    ctx.require(perms::IVR_WRITE)?;
    let current = fetch(&mut ctx, id).await?;
    checked_graph(&state, &mut ctx, &req.graph).await?;
    if let Some(name) = req.name.as_deref().map(str::trim) {
        if name.is_empty() || name.len() > 100 {
            return Err(ApiError::field("name", "1–100 characters"));
        }
        sqlx::query("UPDATE ivr_flows SET name = $2, updated_at = now() WHERE id = $1")
            .bind(id)
            .bind(name)
            .execute(ctx.db())
            .await?;
    }
    if let Some(d) = req.is_default {
        if d {
            sqlx::query("UPDATE ivr_flows SET is_default = false WHERE is_default AND id <> $1")
                .bind(id)
                .execute(ctx.db())
                .await?;
        }
        sqlx::query("UPDATE ivr_flows SET is_default = $2 WHERE id = $1")
            .bind(id)
            .bind(d)
            .execute(ctx.db())
            .await?;
    }
    let version = current.latest_version + 1;
    let user = ctx.user_id();
    sqlx::query(
        "INSERT INTO ivr_flow_versions (flow_id, version, graph, created_by) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(version)
    .bind(&req.graph)
    .bind(user)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "ivr.flow.save",
        Some("ivr_flow"),
        Some(id.to_string()),
        serde_json::json!({ "version": version }),
    )
    .await?;
    let f = fetch(&mut ctx, id).await?;
    ctx.commit().await?;
    Ok(Json(f))
}

#[utoipa::path(post, path = "/api/v1/ivr/flows/{id}/publish", tag = "ivr", request_body = FlowPublish,
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = FlowDto), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn publish(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
    Json(req): Json<FlowPublish>,
) -> ApiResult<Json<FlowDto>> {
    ctx.require(perms::IVR_WRITE)?;
    fetch(&mut ctx, id).await?;
    let graph: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT graph FROM ivr_flow_versions WHERE flow_id = $1 AND version = $2",
    )
    .bind(id)
    .bind(req.version)
    .fetch_optional(ctx.db())
    .await?;
    let Some(graph) = graph else {
        return Err(ApiError::field("version", "no such version of this flow"));
    };
    // Saved versions were valid when saved; a prompt may have gone since.
    checked_graph(&state, &mut ctx, &graph).await?;
    sqlx::query("UPDATE ivr_flows SET published_version = $2, updated_at = now() WHERE id = $1")
        .bind(id)
        .bind(req.version)
        .execute(ctx.db())
        .await?;
    ctx.audit(
        "ivr.flow.publish",
        Some("ivr_flow"),
        Some(id.to_string()),
        serde_json::json!({ "version": req.version }),
    )
    .await?;
    let f = fetch(&mut ctx, id).await?;
    let tenant = ctx.tenant().id;
    ctx.commit().await?;
    // From now on the gateway hands this tenant's calls to the backend's flows.
    // The prompts it plays must be in the gateways' copy before its first call.
    super::prompts::publish(&state, tenant).await?;
    crate::gateway_sync::publish_flow_mode(&state, tenant, true)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(f))
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i32,
    published: bool,
    created_by: Option<Uuid>,
    created_at: chrono::DateTime<chrono::Utc>,
    graph: serde_json::Value,
}

#[utoipa::path(get, path = "/api/v1/ivr/flows/{id}/versions", tag = "ivr",
    params(("id" = Uuid, Path, description = "Flow id")),
    responses((status = 200, body = Vec<FlowVersionDto>, description = "Newest first"),
        (status = 404, body = hotline_wire::api::Problem)))]
pub async fn versions(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<Json<Vec<FlowVersionDto>>> {
    ctx.require(perms::IVR_WRITE)?;
    fetch(&mut ctx, id).await?;
    let rows: Vec<VersionRow> = sqlx::query_as(
        "SELECT v.version, v.version IS NOT DISTINCT FROM f.published_version AS published,
                v.created_by, v.created_at, v.graph
           FROM ivr_flow_versions v JOIN ivr_flows f ON f.id = v.flow_id
          WHERE v.flow_id = $1 ORDER BY v.version DESC",
    )
    .bind(id)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| FlowVersionDto {
                version: r.version,
                published: r.published,
                created_by: r.created_by,
                created_at: r.created_at,
                graph: r.graph,
            })
            .collect(),
    ))
}

#[utoipa::path(get, path = "/api/v1/ivr/dids", tag = "ivr",
    responses((status = 200, body = Vec<DidDto>, description = "The tenant's numbers and their flows")))]
pub async fn list_dids(mut ctx: TenantCtx) -> ApiResult<Json<Vec<DidDto>>> {
    ctx.require(perms::IVR_WRITE)?;
    let tenant = ctx.tenant().id;
    let rows: Vec<(String, String, String, Option<Uuid>)> = sqlx::query_as(
        "SELECT d.did, d.description, d.region, m.flow_id FROM platform.dids d
           LEFT JOIN ivr_did_flows m ON m.did = d.did
          WHERE d.tenant_id = $1 ORDER BY d.did",
    )
    .bind(tenant)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|(did, description, region, flow_id)| DidDto {
                did,
                tenant_id: tenant,
                description,
                region,
                flow_id,
            })
            .collect(),
    ))
}

#[utoipa::path(delete, path = "/api/v1/ivr/dids/{did}", tag = "ivr",
    params(("did" = String, Path, description = "The number, E.164")),
    responses((status = 204, description = "The number uses the default flow again"),
        (status = 404, body = hotline_wire::api::Problem)))]
pub async fn unassign_did(mut ctx: TenantCtx, Path(did): Path<String>) -> ApiResult<StatusCode> {
    ctx.require(perms::IVR_WRITE)?;
    let removed = sqlx::query("DELETE FROM ivr_did_flows WHERE did = $1")
        .bind(&did)
        .execute(ctx.db())
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "ivr.did.unassign",
        Some("did"),
        Some(did.clone()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/api/v1/ivr/dids", tag = "ivr", request_body = DidFlow,
    responses((status = 200, body = DidFlow), (status = 404, body = hotline_wire::api::Problem)))]
pub async fn assign_did(mut ctx: TenantCtx, Json(req): Json<DidFlow>) -> ApiResult<Json<DidFlow>> {
    ctx.require(perms::IVR_WRITE)?;
    // Only the tenant's own numbers (another tenant's number looks like a missing one).
    let tenant = ctx.tenant().id;
    let ours: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM platform.dids WHERE did = $1 AND tenant_id = $2)",
    )
    .bind(&req.did)
    .bind(tenant)
    .fetch_one(ctx.db())
    .await?;
    if !ours {
        return Err(ApiError::NotFound);
    }
    fetch(&mut ctx, req.flow_id).await?;
    sqlx::query(
        "INSERT INTO ivr_did_flows (did, flow_id) VALUES ($1, $2)
         ON CONFLICT (did) DO UPDATE SET flow_id = EXCLUDED.flow_id",
    )
    .bind(&req.did)
    .bind(req.flow_id)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        "ivr.did.assign",
        Some("did"),
        Some(req.did.clone()),
        serde_json::json!({ "flow_id": req.flow_id }),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(req))
}

#[derive(sqlx::FromRow)]
struct MissedRow {
    id: Uuid,
    number: String,
    did: String,
    reason: String,
    call_id: Option<Uuid>,
    vars: serde_json::Value,
    created_at: chrono::DateTime<chrono::Utc>,
    count: i32,
    last_at: chrono::DateTime<chrono::Utc>,
    attempts: i32,
    queue_name: Option<String>,
    handled_at: Option<chrono::DateTime<chrono::Utc>>,
    handled_by_name: Option<String>,
}

/// Agents (the desktop's list) and supervisors may read and work the missed-calls list.
fn may_work_missed(ctx: &TenantCtx) -> ApiResult<()> {
    if ctx.can(perms::SUPERVISE) {
        return Ok(());
    }
    ctx.require(perms::AGENT_STATE)
}

#[utoipa::path(get, path = "/api/v1/missed-calls", tag = "ivr", params(MissedCallQuery),
    responses((status = 200, body = Vec<MissedCallDto>, description = "Latest first, at most 200"),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 422, body = hotline_wire::api::Problem)))]
pub async fn missed_calls(
    mut ctx: TenantCtx,
    Query(q): Query<MissedCallQuery>,
) -> ApiResult<Json<Vec<MissedCallDto>>> {
    may_work_missed(&ctx)?;
    let mut c = Check::new();
    let status = q.status.as_deref().unwrap_or("open");
    if !["open", "handled", "all"].contains(&status) {
        c.fail("status", "open, handled or all");
    }
    if let Some(r) = &q.reason {
        if !MISSED_REASONS.contains(&r.as_str()) {
            c.fail("reason", format!("one of {}", MISSED_REASONS.join(", ")));
        }
    }
    if let Some(n) = &q.number {
        c.max_len("number", n, 32);
    }
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to <= from {
            c.fail("to", "after from");
        }
    }
    c.finish()?;
    let number = q.number.as_deref().map(str::trim).filter(|n| !n.is_empty());
    let rows: Vec<MissedRow> = sqlx::query_as(
        "SELECT m.id, m.number, m.did, m.reason, m.call_id, m.vars, m.created_at, m.count,
                m.last_at, m.attempts, q.name AS queue_name, m.handled_at,
                u.name AS handled_by_name
           FROM missed_calls m
           LEFT JOIN cdrs c ON c.call_id = m.call_id
           LEFT JOIN queues q ON q.id = c.queue_id
           LEFT JOIN users u ON u.id = m.handled_by
          WHERE ($1 = 'all' OR ($1 = 'open') = (m.handled_at IS NULL))
            AND ($2::text IS NULL OR m.reason = $2)
            AND ($3::text IS NULL OR strpos(m.number, $3) > 0)
            AND ($4::timestamptz IS NULL OR m.last_at >= $4)
            AND ($5::timestamptz IS NULL OR m.last_at < $5)
          ORDER BY m.last_at DESC, m.id LIMIT 200",
    )
    .bind(status)
    .bind(q.reason.as_deref())
    .bind(number)
    .bind(q.from)
    .bind(q.to)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| MissedCallDto {
                id: r.id,
                number: r.number,
                did: r.did,
                reason: r.reason,
                call_id: r.call_id,
                vars: r.vars,
                created_at: r.created_at,
                count: r.count,
                last_at: Some(r.last_at),
                attempts: r.attempts,
                queue_name: r.queue_name,
                handled_at: r.handled_at,
                handled_by_name: r.handled_by_name,
            })
            .collect(),
    ))
}

#[utoipa::path(post, path = "/api/v1/missed-calls/{id}/handled", tag = "ivr",
    params(("id" = Uuid, Path, description = "A missed-calls entry")),
    responses((status = 204, description = "Marked handled by the caller"),
        (status = 403, body = hotline_wire::api::Problem),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_handled`")))]
pub async fn missed_call_handled(
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<StatusCode> {
    may_work_missed(&ctx)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let open: Option<bool> =
        sqlx::query_scalar("SELECT handled_at IS NULL FROM missed_calls WHERE id = $1")
            .bind(id)
            .fetch_optional(ctx.db())
            .await?;
    let already = || ApiError::Conflict {
        code: "already_handled",
        detail: "this missed call is already handled".into(),
    };
    match open {
        None => return Err(ApiError::NotFound),
        Some(false) => return Err(already()),
        Some(true) => {}
    }
    let done = sqlx::query(
        "UPDATE missed_calls SET handled_at = now(), handled_by = $2
          WHERE id = $1 AND handled_at IS NULL",
    )
    .bind(id)
    .bind(user)
    .execute(ctx.db())
    .await?;
    if done.rows_affected() == 0 {
        return Err(already());
    }
    ctx.audit(
        "missed_call.handled",
        Some("missed_call"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
