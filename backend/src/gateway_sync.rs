//! The copies of platform data the media gateway reads from Redis (it never touches
//! Postgres): DID → tenant (`platform:dids`) and tenant slug → tenant
//! (`platform:tenant_slugs`, the SIP domain of REGISTER). Written whenever the platform data
//! changes, and in full by `hotline seed-demo`.

use crate::state::AppState;
use redis::AsyncCommands;
use uuid::Uuid;

/// Sets (or with `None` removes) one DID in the gateway's Redis copy.
pub async fn publish_did(state: &AppState, did: &str, tenant: Option<Uuid>) -> anyhow::Result<()> {
    let mut r = state.redis();
    match tenant {
        Some(t) => {
            r.hset::<_, _, _, ()>(
                DIDS_KEY,
                did,
                serde_json::json!({ "tenant_id": t }).to_string(),
            )
            .await?
        }
        None => r.hdel::<_, _, ()>(DIDS_KEY, did).await?,
    }
    Ok(())
}

/// The Redis hash (DID → `{"tenant_id": …}`) the media gateway reads.
pub const DIDS_KEY: &str = "platform:dids";

/// The Redis hash (tenant slug → `{"tenant_id": …}`) the gateway uses to map a REGISTER's
/// domain to a tenant.
pub const SLUGS_KEY: &str = "platform:tenant_slugs";

/// Sets who drives the tenant's calls in the gateway (`{t:<id>}:gw:flow` field `mode`):
/// the backend's IVR flows once one is published, else the gateway's built-in flow.
pub async fn publish_flow_mode(
    state: &AppState,
    tenant: Uuid,
    backend: bool,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    r.hset::<_, _, _, ()>(
        hotline_wire::gateway::flow_key(tenant),
        "mode",
        if backend { "backend" } else { "builtin" },
    )
    .await?;
    Ok(())
}

/// Publishes one tenant's slug for the gateway.
pub async fn publish_slug(state: &AppState, slug: &str, tenant: Uuid) -> anyhow::Result<()> {
    let mut r = state.redis();
    r.hset::<_, _, _, ()>(
        SLUGS_KEY,
        slug,
        serde_json::json!({ "tenant_id": tenant }).to_string(),
    )
    .await?;
    Ok(())
}

/// Publishes `platform.dids` to the Redis hash `platform:dids` — the numbers with a tenant;
/// the pool's free numbers are removed from it, so they route to nobody —, every tenant slug
/// to `platform:tenant_slugs` and every tenant's outbound limits
/// (`dial_policy::publish_gateway_limits`), every desk phone account
/// (`desk_phones::publish_all`), the copies the gateway reads. A trunk's numbers are rows of
/// `platform.dids` (published here); the trunks themselves are `trunks::publish_all`, called
/// beside this (it builds on this module, not the other way round).
pub async fn sync_all(state: &AppState) -> anyhow::Result<()> {
    let rows: Vec<(String, Option<Uuid>)> =
        sqlx::query_as("SELECT did, tenant_id FROM platform.dids")
            .fetch_all(&state.db)
            .await?;
    for (did, tenant) in rows {
        publish_did(state, &did, tenant).await?;
    }
    let tenants: Vec<(String, Uuid)> = sqlx::query_as("SELECT slug, id FROM platform.tenants")
        .fetch_all(&state.db)
        .await?;
    for (slug, id) in tenants {
        publish_slug(state, &slug, id).await?;
    }
    crate::dial_policy::publish_all_gateway_limits(state).await?;
    crate::desk_phones::publish_all(state).await?;
    Ok(())
}
