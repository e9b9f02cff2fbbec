//! The platform's telephone numbers (`platform.dids`, platform migration 0008): the rules
//! every path that gives, takes back or deletes a number shares — the operators' API
//! (`routes/numbers.rs`, `routes/platform.rs`) and the demo seed.
//!
//! A number with no tenant is in the **pool**: it routes to nobody (only assigned numbers are
//! copied to the gateways' Redis hash, `gateway_sync`). A tenant asks for a pool number with a
//! request (`platform.did_requests`); at most one request per number is pending. Whenever a
//! number gets a tenant or leaves the pool, its pending request is closed here, in the same
//! transaction: approved when it went to the tenant that asked, rejected with a reason the
//! tenant sees otherwise.
//!
//! Lock order, so two of these never wait on each other: the number's row
//! (`SELECT … FOR UPDATE` on `platform.dids`) before any request row.

use sqlx::PgConnection;
use uuid::Uuid;

/// The reason a tenant sees when the number it asked for went to someone else.
pub const GIVEN_TO_ANOTHER: &str = "The number was given to another call center.";

/// The reason a tenant sees when the number it asked for was taken out of the pool.
pub const WITHDRAWN: &str = "The number is no longer offered.";

/// Closes the pending request for `did`, if any: approved when `to` is the tenant that asked,
/// otherwise rejected with [`GIVEN_TO_ANOTHER`] (or [`WITHDRAWN`] when `to` is `None`: the
/// number is being deleted). Returns the tenant whose request was rejected, if one was.
pub async fn settle_requests(
    conn: &mut PgConnection,
    did: &str,
    to: Option<Uuid>,
    decided_by: &str,
) -> sqlx::Result<Option<Uuid>> {
    let closed: Option<(Uuid, String)> = sqlx::query_as(
        "UPDATE platform.did_requests
            SET status = CASE WHEN tenant_id = $2 THEN 'approved' ELSE 'rejected' END,
                reason = CASE WHEN tenant_id = $2 THEN '' ELSE $3 END,
                decided_at = now(), decided_by = $4
          WHERE did = $1 AND status = 'pending'
          RETURNING tenant_id, status",
    )
    .bind(did)
    .bind(to)
    .bind(if to.is_some() {
        GIVEN_TO_ANOTHER
    } else {
        WITHDRAWN
    })
    .bind(decided_by)
    .fetch_optional(conn)
    .await?;
    Ok(closed.and_then(|(t, status)| (status == "rejected").then_some(t)))
}

/// Removes the flow assignment of `did` from `tenant`'s schema (the number left it). The
/// connection's transaction is scoped to that schema from here on.
pub async fn remove_flow_mapping(
    conn: &mut PgConnection,
    tenant: Uuid,
    did: &str,
) -> sqlx::Result<bool> {
    crate::db::scope_to_schema(conn, &crate::db::schema_name(tenant)).await?;
    let n = sqlx::query("DELETE FROM ivr_did_flows WHERE did = $1")
        .bind(did)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n > 0)
}

/// 409 `trunk_number` when `did` is a number of a tenant's own SIP trunk (`crate::trunks`):
/// the tenant removes it from its trunk, operators cannot take it back or delete it.
pub async fn refuse_trunk_number(
    conn: &mut PgConnection,
    did: &str,
) -> Result<(), crate::error::ApiError> {
    let on_trunk: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM platform.dids WHERE did = $1 AND trunk_id IS NOT NULL)",
    )
    .bind(did)
    .fetch_one(conn)
    .await?;
    if on_trunk {
        return Err(crate::error::ApiError::Conflict {
            code: "trunk_number",
            detail: format!(
                "{did} comes in on a call center's own SIP trunk: they remove it from the trunk."
            ),
        });
    }
    Ok(())
}

/// Numbers a range stands for: `first` to `last` (E.164, the same length, `first` ≤ `last`),
/// or why not, naming the field. At most `max` numbers.
pub fn expand_range(first: &str, last: &str, max: usize) -> Result<Vec<String>, (String, String)> {
    let digits = |s: &str| s.strip_prefix('+').and_then(|d| d.parse::<u64>().ok());
    let (Some(a), Some(b)) = (digits(first), digits(last)) else {
        return Err(("range_first".into(), "not a number".into()));
    };
    if first.len() != last.len() {
        return Err((
            "range_last".into(),
            format!(
                "must have as many digits as the first number ({} digits)",
                first.len() - 1
            ),
        ));
    }
    if b < a {
        return Err((
            "range_last".into(),
            format!("must not come before the first number {first}"),
        ));
    }
    let count = b - a + 1;
    if count > max as u64 {
        return Err((
            "range_last".into(),
            format!("a range holds at most {max} numbers; {first} to {last} is {count}"),
        ));
    }
    let width = first.len() - 1;
    Ok((a..=b).map(|n| format!("+{n:0width$}")).collect())
}

#[cfg(test)]
mod tests {
    use super::expand_range;

    #[test]
    fn ranges_expand_in_order_and_refuse_what_they_cannot_be() {
        assert_eq!(
            expand_range("+994125550198", "+994125550201", 10).unwrap(),
            [
                "+994125550198",
                "+994125550199",
                "+994125550200",
                "+994125550201"
            ]
        );
        assert_eq!(
            expand_range("+4420", "+4420", 1).unwrap(),
            ["+4420"],
            "a range of one"
        );
        let (field, msg) = expand_range("+994125550100", "+994125556100", 1000).unwrap_err();
        assert_eq!(field, "range_last");
        assert!(
            msg.contains("at most 1000") && msg.contains("6001"),
            "{msg}"
        );
        let (_, msg) = expand_range("+994125550100", "+99412555010", 1000).unwrap_err();
        assert!(msg.contains("as many digits"), "{msg}");
        let (_, msg) = expand_range("+994125550100", "+994125550099", 1000).unwrap_err();
        assert!(msg.contains("must not come before"), "{msg}");
    }
}
