//! The home page's data: the administrator's first-steps checklist, computed from the
//! tenant's own tables each time (nothing is stored), and the queues the signed-in agent
//! serves.

use crate::{
    auth::TenantCtx,
    error::{ApiResult, Json},
    state::AppState,
};
use axum::{routing::get, Router};
use hotline_wire::onboarding::{MyQueueDto, OnboardingDto};
use hotline_wire::permissions as perms;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/onboarding", get(onboarding))
        .route("/agent/queues", get(my_queues))
}

#[utoipa::path(get, path = "/api/v1/onboarding", tag = "settings",
    responses((status = 200, body = OnboardingDto, description = "Which first steps the tenant has done"),
        (status = 403, body = hotline_wire::api::Problem)))]
pub async fn onboarding(mut ctx: TenantCtx) -> ApiResult<Json<OnboardingDto>> {
    ctx.require(perms::SETTINGS_WRITE)?;
    let tenant = ctx.tenant().id;
    // One round trip; every table but `platform.dids` is the tenant's own (search path),
    // and the numbers are only those the platform gives this tenant.
    let (agents_added, queue_created, flow_published, number_mapped, first_call): (
        bool,
        bool,
        bool,
        bool,
        bool,
    ) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM users WHERE active) > 1,
                EXISTS (SELECT 1 FROM queues),
                EXISTS (SELECT 1 FROM ivr_flows WHERE published_version IS NOT NULL),
                EXISTS (SELECT 1 FROM ivr_did_flows m
                          JOIN platform.dids d ON d.did = m.did AND d.tenant_id = $1),
                EXISTS (SELECT 1 FROM cdrs)",
    )
    .bind(tenant)
    .fetch_one(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(OnboardingDto {
        agents_added,
        queue_created,
        flow_published,
        number_mapped,
        first_call,
    }))
}

#[utoipa::path(get, path = "/api/v1/agent/queues", tag = "agent",
    responses((status = 200, body = Vec<MyQueueDto>, description = "The queues whose required skills the caller has, by name"),
        (status = 403, body = hotline_wire::api::Problem)))]
pub async fn my_queues(mut ctx: TenantCtx) -> ApiResult<Json<Vec<MyQueueDto>>> {
    ctx.require(perms::AGENT_STATE)?;
    let Some(me) = ctx.user_id() else {
        return Err(crate::error::ApiError::Forbidden);
    };
    // As the ACD matches them (`call_control::agent_state`, `acd::model::eligible`): every
    // skill the queue requires, at least at its level.
    let rows: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT q.id, q.name FROM queues q
          WHERE NOT EXISTS (
                SELECT 1 FROM queue_skills qs
                 WHERE qs.queue_id = q.id
                   AND NOT EXISTS (SELECT 1 FROM user_skills us
                                    WHERE us.user_id = $1 AND us.skill_id = qs.skill_id
                                      AND us.level >= qs.min_level))
          ORDER BY lower(q.name), q.id",
    )
    .bind(me)
    .fetch_all(ctx.db())
    .await?;
    ctx.commit().await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, name)| MyQueueDto { id, name })
            .collect(),
    ))
}
