//! Voicemail messages (`crate::voicemail` indexes them): the list per queue or assignee, the
//! audio, "handled", and a one-click call back (the click-to-call path, under the outbound
//! rules). Supervisors and recording readers see every message; an agent sees those assigned
//! to them and those nobody owns.

use crate::{
    auth::TenantCtx,
    error::{ApiError, ApiResult, Json},
    state::AppState,
};
use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
    routing::{get, post},
    Router,
};
use hotline_wire::{
    calls::{CallbackStarted, VoicemailDto, VoicemailQuery},
    permissions as perms,
};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/voicemails", get(list))
        .route("/voicemails/{id}/audio", get(audio))
        .route("/voicemails/{id}/handled", post(handled))
        .route("/voicemails/{id}/callback", post(callback))
}

/// Whose messages the caller may see: `None` all of them, `Some(me)` theirs and unowned ones.
fn visible_to(ctx: &TenantCtx) -> ApiResult<Option<Uuid>> {
    if ctx.can(perms::SUPERVISE) || ctx.can(perms::RECORDINGS_READ) {
        return Ok(None);
    }
    ctx.require(perms::AGENT_STATE)?;
    ctx.user_id().map(Some).ok_or(ApiError::Forbidden)
}

/// `$1` = the user whose messages only may be seen (NULL: all).
const MINE: &str = "($1::uuid IS NULL OR v.assignee_id = $1 OR v.assignee_id IS NULL)";

const SELECT: &str = "SELECT v.id, v.call_id, v.caller, v.did, v.queue_id, q.name AS queue_name,
        v.assignee_id, a.name AS assignee_name, v.recorded_at, v.duration_ms, v.handled_at,
        v.handled_by, h.name AS handled_by_name,
        (SELECT c.id FROM customer_phones p JOIN customers c ON c.id = p.customer_id
          WHERE p.number = v.caller AND c.merged_into IS NULL ORDER BY c.created_at LIMIT 1) AS customer_id,
        (SELECT c.name FROM customer_phones p JOIN customers c ON c.id = p.customer_id
          WHERE p.number = v.caller AND c.merged_into IS NULL ORDER BY c.created_at LIMIT 1) AS customer_name
   FROM voicemails v
   LEFT JOIN queues q ON q.id = v.queue_id
   LEFT JOIN users a ON a.id = v.assignee_id
   LEFT JOIN users h ON h.id = v.handled_by";

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    call_id: Uuid,
    caller: String,
    did: String,
    queue_id: Option<Uuid>,
    queue_name: Option<String>,
    assignee_id: Option<Uuid>,
    assignee_name: Option<String>,
    recorded_at: chrono::DateTime<chrono::Utc>,
    duration_ms: i64,
    handled_at: Option<chrono::DateTime<chrono::Utc>>,
    handled_by: Option<Uuid>,
    handled_by_name: Option<String>,
    customer_id: Option<Uuid>,
    customer_name: Option<String>,
}

impl From<Row> for VoicemailDto {
    fn from(r: Row) -> Self {
        VoicemailDto {
            audio_url: format!("/api/v1/voicemails/{}/audio", r.id),
            id: r.id,
            call_id: r.call_id,
            caller: r.caller,
            customer_id: r.customer_id,
            customer_name: r.customer_name,
            did: r.did,
            queue_id: r.queue_id,
            queue_name: r.queue_name,
            assignee_id: r.assignee_id,
            assignee_name: r.assignee_name,
            recorded_at: r.recorded_at,
            duration_ms: r.duration_ms,
            handled_at: r.handled_at,
            handled_by: r.handled_by,
            handled_by_name: r.handled_by_name,
        }
    }
}

/// One message the caller may see (404 otherwise, like another tenant's id).
async fn one(ctx: &mut TenantCtx, id: Uuid) -> ApiResult<VoicemailDto> {
    let only = visible_to(ctx)?;
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {MINE} AND v.id = $2"
    )))
    .bind(only)
    .bind(id)
    .fetch_optional(ctx.db())
    .await?;
    row.map(VoicemailDto::from).ok_or(ApiError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/voicemails", tag = "calls", params(VoicemailQuery),
    responses((status = 200, body = Vec<VoicemailDto>, description = "Newest first, at most 200"),
        (status = 403, body = hotline_wire::api::Problem), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn list(
    mut ctx: TenantCtx,
    Query(q): Query<VoicemailQuery>,
) -> ApiResult<Json<Vec<VoicemailDto>>> {
    let only = visible_to(&ctx)?;
    let status = q.status.as_deref().unwrap_or("open");
    let handled = match status {
        "open" => Some(false),
        "handled" => Some(true),
        "all" => None,
        _ => return Err(ApiError::field("status", "open, handled or all")),
    };
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE {MINE}
           AND ($2::uuid IS NULL OR v.queue_id = $2)
           AND ($3::uuid IS NULL OR v.assignee_id = $3)
           AND ($4::boolean IS NULL OR (v.handled_at IS NOT NULL) = $4)
         ORDER BY v.recorded_at DESC, v.id LIMIT 200"
    )))
    .bind(only)
    .bind(q.queue_id)
    .bind(q.assignee_id)
    .bind(handled)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(rows.into_iter().map(VoicemailDto::from).collect()))
}

#[utoipa::path(get, path = "/api/v1/voicemails/{id}/audio", tag = "calls",
    params(("id" = Uuid, Path, description = "Voicemail id")),
    responses((status = 200, content_type = "audio/wav", description = "Mono WAV, 8 kHz"),
        (status = 400, body = hotline_wire::api::Problem, description = "`voicemail_file_missing`: indexed, but the file is gone"),
        (status = 404, body = hotline_wire::api::Problem)))]
pub async fn audio(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Response> {
    let only = visible_to(&ctx)?;
    let path: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT v.path FROM voicemails v WHERE {MINE} AND v.id = $2"
    )))
    .bind(only)
    .bind(id)
    .fetch_optional(ctx.db())
    .await?;
    let Some(path) = path else {
        return Err(ApiError::NotFound);
    };
    if !crate::files::in_tenant_tree(&path, ctx.tenant().id) {
        return Err(ApiError::NotFound);
    }
    ctx.audit(
        "voicemail.play",
        Some("voicemail"),
        Some(id.to_string()),
        serde_json::json!({}),
    )
    .await?;
    ctx.commit().await?;
    crate::files::wav_response(
        &path,
        &format!("voicemail-{id}.wav"),
        "voicemail_file_missing",
    )
    .await
}

/// Marks the message handled by the caller (and the call's open missed-calls entry with it);
/// a call back (`callback`: its call) also on a message already handled, which keeps who
/// handled it.
async fn mark_handled(
    ctx: &mut TenantCtx,
    id: Uuid,
    callback: Option<Uuid>,
) -> ApiResult<VoicemailDto> {
    let v = one(ctx, id).await?;
    if v.handled_at.is_some() && callback.is_none() {
        return Err(ApiError::Conflict {
            code: "already_handled",
            detail: "someone has already dealt with this message".into(),
        });
    }
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    sqlx::query(
        "UPDATE voicemails SET handled_at = coalesce(handled_at, now()),
                handled_by = CASE WHEN handled_at IS NULL THEN $2 ELSE handled_by END,
                callback_call_id = coalesce($3, callback_call_id)
          WHERE id = $1",
    )
    .bind(id)
    .bind(user)
    .bind(callback)
    .execute(ctx.db())
    .await?;
    sqlx::query(
        "UPDATE missed_calls SET handled_at = now(), handled_by = $2
          WHERE call_id = $1 AND handled_at IS NULL",
    )
    .bind(v.call_id)
    .bind(user)
    .execute(ctx.db())
    .await?;
    ctx.audit(
        if callback.is_some() {
            "voicemail.callback"
        } else {
            "voicemail.handled"
        },
        Some("voicemail"),
        Some(id.to_string()),
        serde_json::json!({ "caller": v.caller, "call_id": callback }),
    )
    .await?;
    one(ctx, id).await
}

#[utoipa::path(post, path = "/api/v1/voicemails/{id}/handled", tag = "calls",
    params(("id" = Uuid, Path, description = "Voicemail id")),
    responses((status = 200, body = VoicemailDto),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`already_handled`")))]
pub async fn handled(mut ctx: TenantCtx, Path(id): Path<Uuid>) -> ApiResult<Json<VoicemailDto>> {
    let v = mark_handled(&mut ctx, id, None).await?;
    ctx.commit().await?;
    Ok(Json(v))
}

#[utoipa::path(post, path = "/api/v1/voicemails/{id}/callback", tag = "calls",
    params(("id" = Uuid, Path, description = "Voicemail id")),
    responses((status = 201, body = CallbackStarted, description = "Dialling the caller; answered, they are bridged into the agent's softphone (or desk phone). The message is handled."),
        (status = 404, body = hotline_wire::api::Problem),
        (status = 409, body = hotline_wire::api::Problem, description = "`agent_busy`, `no_softphone`, `no_trunk`, `do_not_call`"),
        (status = 422, body = hotline_wire::api::Problem, description = "The number may not be dialled (outbound rules)")))]
pub async fn callback(
    State(state): State<AppState>,
    mut ctx: TenantCtx,
    Path(id): Path<Uuid>,
) -> ApiResult<(StatusCode, Json<CallbackStarted>)> {
    ctx.require(perms::AGENT_STATE)?;
    let user = ctx.user_id().ok_or(ApiError::Forbidden)?;
    let tenant = ctx.tenant().id;
    let v = one(&mut ctx, id).await?;
    let was_open = v.handled_at.is_none();
    let number = crate::routes::calls::callable_number(ctx.db(), &v.caller).await?;
    let ready = crate::callback::preflight(&state, tenant, user).await?;
    let leg = Uuid::new_v4();
    mark_handled(&mut ctx, id, Some(leg)).await?;
    ctx.commit().await?;
    // Shown to the caller: the number they had called.
    let c = crate::callback::Claimed {
        owner: hotline_calls::control::Owner::Callback,
        missed: None,
        leg,
        number: &number,
        did: &v.did,
    };
    let dialled = crate::callback::dial(&state, tenant, user, ready, c).await;
    if let (Err(e), true) = (&dialled, was_open) {
        // Refused (outbound rules) or failed: the message is still to be dealt with.
        let undo = async {
            let mut tx =
                crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
            sqlx::query(
                "UPDATE voicemails SET handled_at = NULL, handled_by = NULL, callback_call_id = NULL
                  WHERE id = $1 AND callback_call_id = $2",
            )
            .bind(id)
            .bind(leg)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            anyhow::Ok(())
        };
        if let Err(u) = undo.await {
            tracing::warn!(%tenant, voicemail = %id, error = %u, "voicemail left handled after a failed call back");
        }
        tracing::info!(%tenant, voicemail = %id, error = ?e, "call back failed; the message is open again");
    }
    dialled?;
    Ok((StatusCode::CREATED, Json(CallbackStarted { call_id: leg })))
}
