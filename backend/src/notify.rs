//! Notifications: in-app rows (the SPA polls them) and e-mail through an outbox.
//!
//! [`ticket`] writes the notification and its e-mail into the caller's transaction, so both
//! exist exactly when the change that caused them commits. The SLA job ([`crate::sla`])
//! delivers the outbox with `lettre` over SMTP, retrying with back-off; a slow or absent SMTP
//! server never holds up a request. Without `[smtp]` configured, e-mails are marked `skipped`
//! (and logged) instead of piling up.

use crate::{config::Config, db, error::ApiResult, state::AppState};
use lettre::{
    message::{header::ContentType, Mailbox},
    transport::smtp::authentication::Credentials,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};
use sqlx::PgConnection;
use uuid::Uuid;

/// Tries before an e-mail is given up (`failed`).
pub const MAX_ATTEMPTS: i32 = 6;

/// Creates an in-app notification about a ticket for `user`, and queues its e-mail to the
/// user's address (when the user is active).
pub async fn ticket(
    conn: &mut PgConnection,
    user: Uuid,
    kind: &str,
    ticket_id: Uuid,
    text: &str,
) -> ApiResult<()> {
    let n = Notice {
        kind,
        ticket_id: Some(ticket_id),
        text,
        link_intro: "Open the ticket:",
        link_path: &format!("/tickets/{ticket_id}"),
        email: true,
    };
    notice(conn, user, n).await
}

/// One notification: its kind, the ticket it is about (if any), its text, and the link the
/// e-mail ends with (`link_intro` then the public URL + `link_path`).
pub struct Notice<'a> {
    pub kind: &'a str,
    pub ticket_id: Option<Uuid>,
    pub text: &'a str,
    pub link_intro: &'a str,
    pub link_path: &'a str,
    /// Also by e-mail (else in-app only).
    pub email: bool,
}

/// Creates an in-app notification for `user` and queues its e-mail to the user's address
/// (when the user is active), in the caller's transaction.
pub async fn notice(conn: &mut PgConnection, user: Uuid, n: Notice<'_>) -> ApiResult<()> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO notifications (user_id, kind, ticket_id, text) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(user)
    .bind(n.kind)
    .bind(n.ticket_id)
    .bind(n.text)
    .fetch_one(&mut *conn)
    .await?;
    if !n.email {
        return Ok(());
    }
    let subject: String = format!("[Hotline] {}", n.text).chars().take(200).collect();
    sqlx::query(
        "INSERT INTO email_outbox (notification_id, to_address, subject, body, link_path)
         SELECT $1, email, $3, $4, $5 FROM users WHERE id = $2 AND active",
    )
    .bind(id)
    .bind(user)
    .bind(subject)
    .bind(format!("{}\n\n{}", n.text, n.link_intro))
    .bind(n.link_path)
    .execute(conn)
    .await?;
    Ok(())
}

/// An SMTP sender built from `[smtp]`.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    public_url: String,
}

impl Mailer {
    /// `None` when no SMTP server is configured.
    pub fn from_config(cfg: &Config) -> anyhow::Result<Option<Self>> {
        let Some(smtp) = &cfg.smtp else {
            return Ok(None);
        };
        let mut builder = if smtp.starttls {
            AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)
                .map_err(|e| anyhow::anyhow!("smtp host {:?}: {e}", smtp.host))?
        } else {
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host)
        }
        .port(smtp.port)
        .timeout(Some(std::time::Duration::from_secs(15)));
        if let (Some(user), Some(password)) = (&smtp.user, &smtp.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        let from = smtp
            .from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp from {:?}: {e}", smtp.from))?;
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            public_url: cfg.public_url.clone(),
        }))
    }

    async fn send(&self, to: &str, subject: &str, body: &str, link: &str) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(to.parse()?)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(format!("{body}\n{}{link}\n", self.public_url))?;
        self.transport.send(message).await?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct OutboxRow {
    id: i64,
    to_address: String,
    subject: String,
    body: String,
    link_path: String,
    attempts: i32,
}

/// Sends a tenant's pending e-mails that are due; returns (sent, failed attempts).
pub async fn deliver(
    state: &AppState,
    tenant: Uuid,
    mailer: Option<&Mailer>,
) -> anyhow::Result<(usize, usize)> {
    let mut tx = db::begin_in_schema(&state.db, &db::schema_name(tenant)).await?;
    let rows: Vec<OutboxRow> = sqlx::query_as(
        "SELECT id, to_address, subject, body, link_path, attempts FROM email_outbox
          WHERE status = 'pending' AND next_attempt_at <= now()
          ORDER BY id LIMIT 50 FOR UPDATE SKIP LOCKED",
    )
    .fetch_all(&mut *tx)
    .await?;
    if rows.is_empty() {
        return Ok((0, 0));
    }
    let Some(mailer) = mailer else {
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        sqlx::query("UPDATE email_outbox SET status = 'skipped', last_error = 'no [smtp] configured' WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        tracing::info!(%tenant, count = ids.len(), "e-mail skipped: no [smtp] configured");
        return Ok((0, 0));
    };
    let (mut sent, mut failed) = (0, 0);
    for r in rows {
        match mailer
            .send(&r.to_address, &r.subject, &r.body, &r.link_path)
            .await
        {
            Ok(()) => {
                sqlx::query("UPDATE email_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = NULL WHERE id = $1")
                    .bind(r.id)
                    .execute(&mut *tx)
                    .await?;
                sent += 1;
            }
            Err(e) => {
                let attempts = r.attempts + 1;
                tracing::warn!(%tenant, id = r.id, attempts, error = %e, "e-mail not sent");
                // Back-off: 1, 2, 4, 8, 16 minutes; then give up.
                sqlx::query(
                    "UPDATE email_outbox SET attempts = $2, last_error = $3,
                            status = CASE WHEN $2 >= $4 THEN 'failed' ELSE 'pending' END,
                            next_attempt_at = now() + make_interval(mins => (1 << LEAST($2 - 1, 10))::int)
                      WHERE id = $1",
                )
                .bind(r.id)
                .bind(attempts)
                .bind(e.to_string().chars().take(500).collect::<String>())
                .bind(MAX_ATTEMPTS)
                .execute(&mut *tx)
                .await?;
                failed += 1;
            }
        }
    }
    tx.commit().await?;
    Ok((sent, failed))
}
