//! Desk phones: a SIP account per user extension. Postgres (`sip_accounts`, tenant schema)
//! is the source of truth and keeps only the digest HA1 — MD5(extension:realm:password),
//! realm = the tenant slug — never the password. The media gateway checks a REGISTER against
//! its Redis copy (`{t:<tenant>}:sip:ext:<ext>`, field `ha1`), written here whenever an
//! account changes and in full at every backend start ([`publish_all`]). The gateway records
//! a phone's registration in `{t:<tenant>}:sip:reg:<ext>`, read back by [`registration`].

use crate::state::AppState;
use chrono::{DateTime, Utc};
use hotline_wire::desk_phones::{DeskPhoneRegistration, PROVISIONING_TTL_SECS};
use hotline_wire::gateway as wire;
use md5::{Digest, Md5};
use rand::Rng;
use redis::AsyncCommands;
use sqlx::PgConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// Characters of a generated password (no look-alikes: 0/O, 1/l/I), so it can be typed on
/// a phone's keypad from the screen.
const ALPHABET: &[u8] = b"23456789abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ";
/// 20 characters of 57: 116 bits.
const PASSWORD_LEN: usize = 20;

/// A new random password (from the operating system's generator).
pub fn new_password() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..PASSWORD_LEN)
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

/// The Redis key of a one-time provisioning document (`token`: 32 hex digits).
fn provisioning_key(token: &str) -> String {
    format!("platform:provisioning:{token}")
}

/// Keeps `xml` (an account's provisioning document, password included) for
/// [`PROVISIONING_TTL_SECS`] under a new random token, which it returns.
pub async fn offer_provisioning(state: &AppState, xml: &str) -> anyhow::Result<String> {
    let token: String = {
        let mut rng = rand::rngs::OsRng;
        (0..16)
            .map(|_| format!("{:02x}", rng.gen::<u8>()))
            .collect()
    };
    let mut r = state.redis();
    let _: () = r
        .set_ex(provisioning_key(&token), xml, PROVISIONING_TTL_SECS)
        .await?;
    Ok(token)
}

/// The provisioning document of `token`, removed as it is read (one fetch); `None` when the
/// token is unknown, used or expired.
pub async fn take_provisioning(state: &AppState, token: &str) -> anyhow::Result<Option<String>> {
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let mut r = state.redis();
    Ok(r.get_del(provisioning_key(&token.to_ascii_lowercase()))
        .await?)
}

/// An SVG `data:` URL of the QR code of `text` (medium error correction).
pub fn qr_data_url(text: &str) -> anyhow::Result<String> {
    use base64::Engine as _;
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// HA1 = MD5(user:realm:password), lowercase hex: what the gateway's digest check needs
/// (the gateway's `sip::digest::ha1`).
pub fn ha1(user: &str, realm: &str, password: &str) -> String {
    let d = Md5::digest(format!("{user}:{realm}:{password}").as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SIP domain of a tenant's phones: `<slug>.<sip_domain>` (the gateway takes the tenant
/// from the first label).
pub fn domain(state: &AppState, slug: &str) -> String {
    format!("{slug}.{}", state.cfg.sip_domain)
}

/// Writes an account's credentials where the gateway reads them. With `drop_binding`, the
/// phone's current registration is removed too (a rotated password: the old phone is no
/// longer called, and its next refresh is refused).
pub async fn publish(
    state: &AppState,
    tenant: Uuid,
    user: Uuid,
    ext: &str,
    ha1: &str,
    drop_binding: bool,
) -> anyhow::Result<()> {
    let mut r = state.redis();
    let mut p = redis::pipe();
    p.atomic().hset_multiple(
        wire::sip_extension_key(tenant, ext),
        &[("ha1", ha1.to_string()), ("user_id", user.to_string())],
    );
    if drop_binding {
        p.del(wire::registration_key(tenant, ext));
    }
    let _: () = p.query_async(&mut r).await?;
    Ok(())
}

/// Removes an extension's credentials and registration from the gateway's copy.
pub async fn unpublish(state: &AppState, tenant: Uuid, ext: &str) -> anyhow::Result<()> {
    let mut r = state.redis();
    let _: () = r
        .del(&[
            wire::sip_extension_key(tenant, ext),
            wire::registration_key(tenant, ext),
        ])
        .await?;
    Ok(())
}

/// Deletes the user's account (their extension changed or they were deactivated) in the
/// current tenant transaction; the extension it had, to [`unpublish`].
pub async fn remove_for_user(conn: &mut PgConnection, user: Uuid) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar("DELETE FROM sip_accounts WHERE user_id = $1 RETURNING extension")
        .bind(user)
        .fetch_optional(conn)
        .await
}

fn time(h: &HashMap<String, String>, field: &str) -> Option<DateTime<Utc>> {
    h.get(field)
        .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The registrations of extensions `exts`, in order, as the gateways recorded them.
pub async fn registrations(
    state: &AppState,
    tenant: Uuid,
    exts: &[String],
) -> anyhow::Result<Vec<Option<DeskPhoneRegistration>>> {
    if exts.is_empty() {
        return Ok(Vec::new());
    }
    let mut p = redis::pipe();
    for e in exts {
        p.hgetall(wire::registration_key(tenant, e));
    }
    let hs: Vec<HashMap<String, String>> = p.query_async(&mut state.redis()).await?;
    Ok(hs
        .into_iter()
        .map(|h| {
            let contact = h.get("contact")?.clone();
            Some(DeskPhoneRegistration {
                contact,
                since: time(&h, "since"),
                expires_at: time(&h, "expires_at"),
                user_agent: h.get("user_agent").filter(|u| !u.is_empty()).cloned(),
            })
        })
        .collect())
}

/// Publishes every tenant's desk phone accounts to Redis (at start: Redis may have been
/// emptied or replaced). Accounts deleted through the API were removed from Redis then.
pub async fn publish_all(state: &AppState) -> anyhow::Result<()> {
    let ids: Vec<Uuid> = sqlx::query_scalar("SELECT id FROM platform.tenants")
        .fetch_all(&state.db)
        .await?;
    for tenant in ids {
        let mut tx = crate::db::begin_in_schema(&state.db, &crate::db::schema_name(tenant)).await?;
        let rows: Vec<(Uuid, String, String)> =
            sqlx::query_as("SELECT user_id, extension, ha1 FROM sip_accounts")
                .fetch_all(&mut *tx)
                .await?;
        tx.commit().await?;
        for (user, ext, ha1) in rows {
            publish(state, tenant, user, &ext, &ha1, false).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ha1_is_rfc2617() {
        // RFC 2617 §3.5's example: Mufasa / testrealm@host.com / Circle Of Life.
        assert_eq!(
            ha1("Mufasa", "testrealm@host.com", "Circle Of Life"),
            "939e7578ed9e3c518a452acee763bce9"
        );
    }

    #[test]
    fn passwords_are_long_and_differ() {
        let (a, b) = (new_password(), new_password());
        assert_eq!(a.len(), PASSWORD_LEN);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }
}
