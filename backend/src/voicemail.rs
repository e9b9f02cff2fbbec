//! Voicemail messages (tenant migration 0022): indexed from the gateways'
//! `voicemail_recorded` events (the WAV lies under `<recordings dir>/<tenant id>/voicemail/`,
//! next to the call recordings, and shares their retention), given to the queue's voicemail
//! owner, who is notified in-app and by e-mail. Listed, played, marked handled and called back
//! through `routes::voicemail`.

use crate::{db, notify, state::AppState};
use uuid::Uuid;

/// The notification's text: who called (number, and CRM name when known), where, how long.
pub fn notice_text(
    caller: &str,
    customer: Option<&str>,
    queue: Option<&str>,
    duration_ms: u64,
) -> String {
    let secs = duration_ms.div_ceil(1000);
    let who = match customer {
        Some(name) => format!("{name} ({caller})"),
        None => caller.to_string(),
    };
    let place = queue.map(|q| format!(" in {q}")).unwrap_or_default();
    format!(
        "New voicemail from {who}{place}, {}:{:02}",
        secs / 60,
        secs % 60
    )
}

/// A gateway recorded a voicemail for `call`: index it (idempotent on the file's path) with the
/// call's caller, number and queue, and notify the queue's voicemail owner.
pub async fn on_recorded(
    state: &AppState,
    tenant: Uuid,
    call: Uuid,
    path: &str,
    duration_ms: u64,
) -> anyhow::Result<()> {
    if !crate::files::in_tenant_tree(path, tenant) {
        anyhow::bail!("voicemail path {path:?} is outside tenant {tenant}'s directory");
    }
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    // The call may have ended already (a message cut by the caller's hang-up is reported
    // after it): its CDR knows who called and which queue they waited in.
    let cdr: Option<(String, String, Option<Uuid>)> =
        sqlx::query_as("SELECT caller, callee, queue_id FROM cdrs WHERE call_id = $1")
            .bind(call)
            .fetch_optional(&mut *tx)
            .await?;
    let (caller, did, queue) = cdr.unwrap_or_default();
    let owner: Option<(Option<Uuid>, String)> =
        match queue {
            Some(q) => sqlx::query_as(
                "SELECT (SELECT u.id FROM users u WHERE u.id = q.voicemail_user_id AND u.active),
                        q.name
                   FROM queues q WHERE q.id = $1",
            )
            .bind(q)
            .fetch_optional(&mut *tx)
            .await?,
            None => None,
        };
    let (assignee, queue_name) = match owner {
        Some((a, n)) => (a, Some(n)),
        None => (None, None),
    };
    let id: Option<Uuid> = sqlx::query_scalar(
        "INSERT INTO voicemails (call_id, path, caller, did, queue_id, assignee_id, duration_ms)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (path) DO NOTHING RETURNING id",
    )
    .bind(call)
    .bind(path)
    .bind(&caller)
    .bind(&did)
    .bind(queue)
    .bind(assignee)
    .bind(i64::try_from(duration_ms)?)
    .fetch_optional(&mut *tx)
    .await?;
    if let (Some(_), Some(user)) = (id, assignee) {
        let customer: Option<String> = sqlx::query_scalar(
            "SELECT c.name FROM customer_phones p JOIN customers c ON c.id = p.customer_id
              WHERE p.number = $1 AND c.merged_into IS NULL ORDER BY c.created_at LIMIT 1",
        )
        .bind(&caller)
        .fetch_optional(&mut *tx)
        .await?;
        let text = notice_text(
            &caller,
            customer.as_deref(),
            queue_name.as_deref(),
            duration_ms,
        );
        let n = notify::Notice {
            kind: "voicemail",
            ticket_id: None,
            text: &text,
            link_intro: "Listen to it:",
            link_path: "/voicemail",
            email: true,
        };
        notify::notice(&mut tx, user, n)
            .await
            .map_err(|e| anyhow::anyhow!("voicemail notification: {e:?}"))?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the tenant's voicemails older than `days` (the recordings retention): the file,
/// then the row (a missing file is not an error). Returns how many went.
pub async fn apply_retention(
    tx: &mut sqlx::PgConnection,
    tenant: Uuid,
    days: i64,
) -> anyhow::Result<u64> {
    let old: Vec<(Uuid, String)> = sqlx::query_as(
        "SELECT id, path FROM voicemails
          WHERE recorded_at < now() - make_interval(days => $1::int)
          ORDER BY recorded_at LIMIT 1000 FOR UPDATE SKIP LOCKED",
    )
    .bind(days)
    .fetch_all(&mut *tx)
    .await?;
    let mut removed = 0;
    for (id, path) in old {
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(%tenant, %id, error = %e, "cannot delete voicemail; kept");
                continue;
            }
        }
        sqlx::query("DELETE FROM voicemails WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        removed += 1;
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notice_says_who_where_and_how_long() {
        assert_eq!(
            notice_text("+15550001", Some("Jane Doe"), Some("Billing"), 12_300),
            "New voicemail from Jane Doe (+15550001) in Billing, 0:13"
        );
        assert_eq!(
            notice_text("+15550001", None, None, 61_000),
            "New voicemail from +15550001, 1:01"
        );
    }
}
