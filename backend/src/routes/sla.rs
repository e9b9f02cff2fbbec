//! The tenant's business calendar (working hours, holidays) that business-hours SLAs count in.

use crate::{
    auth::TenantCtx,
    error::{ApiResult, Json},
    sla,
    state::AppState,
};
use axum::{routing::get, Router};
use hotline_wire::{permissions as perms, sla::BusinessCalendar};

pub fn router() -> Router<AppState> {
    Router::new().route("/business-calendar", get(get_calendar).put(put_calendar))
}

/// Tenant settings admins and ticket admins manage the calendar.
fn require_admin(ctx: &TenantCtx) -> ApiResult<()> {
    ctx.require(perms::SETTINGS_WRITE)
        .or_else(|_| ctx.require(perms::TICKETS_ADMIN))
}

#[utoipa::path(get, path = "/api/v1/business-calendar", tag = "tickets",
    responses((status = 200, body = BusinessCalendar), (status = 403)))]
pub async fn get_calendar(mut ctx: TenantCtx) -> ApiResult<Json<BusinessCalendar>> {
    require_admin(&ctx)?;
    let (cal, _) = sla::load_calendar(ctx.db()).await?;
    ctx.commit().await?;
    Ok(Json(cal))
}

/// Replaces the whole calendar. Due times of existing tickets stay as they were set.
#[utoipa::path(put, path = "/api/v1/business-calendar", tag = "tickets", request_body = BusinessCalendar,
    responses((status = 200, body = BusinessCalendar), (status = 403), (status = 422, body = hotline_wire::api::Problem)))]
pub async fn put_calendar(
    mut ctx: TenantCtx,
    Json(req): Json<BusinessCalendar>,
) -> ApiResult<Json<BusinessCalendar>> {
    require_admin(&ctx)?;
    let cal = sla::check_calendar(&req)?;
    sla::save_calendar(ctx.db(), &req, &cal).await?;
    let (saved, _) = sla::load_calendar(ctx.db()).await?;
    ctx.audit(
        "business_calendar.replace",
        Some("business_calendar"),
        None,
        serde_json::to_value(&saved).unwrap_or_default(),
    )
    .await?;
    ctx.commit().await?;
    Ok(Json(saved))
}
