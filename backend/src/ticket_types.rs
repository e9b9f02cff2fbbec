//! Ticket types' workflows (statuses and the transitions between them): the rules a workflow
//! must keep, and writing one. Used by the ticket-type API (`routes::tickets`) and by tenant
//! creation, which gives every new tenant a default type.

use crate::error::{fk_violation, ApiError, ApiResult};
use crate::validate::Check;
use hotline_wire::{permissions as perms, tickets::*};
use sqlx::PgConnection;
use std::collections::{HashMap, HashSet, VecDeque};
use uuid::Uuid;

/// Checks a workflow: unique keys, one initial status, transitions between known statuses,
/// every status reachable from the initial one, and no open status without a way out.
pub fn check_workflow(req: &TicketTypeInput) -> ApiResult<()> {
    let mut c = Check::new();
    c.text("name", &req.name, 120);
    c.translations("name_i18n", &req.name_i18n);
    if req.statuses.is_empty() || req.statuses.len() > 50 {
        c.fail("statuses", "needs 1 to 50 statuses");
    }
    let mut keys = HashSet::new();
    for (i, s) in req.statuses.iter().enumerate() {
        let ok = (1..=40).contains(&s.key.len())
            && s.key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            c.fail(
                &format!("statuses[{i}].key"),
                "must be 1–40 characters of a–z, 0–9 and _",
            );
        }
        if !keys.insert(s.key.as_str()) {
            c.fail(&format!("statuses[{i}].key"), "is used twice");
        }
        c.text(&format!("statuses[{i}].name"), &s.name, 80);
        c.translations(&format!("statuses[{i}].name_i18n"), &s.name_i18n);
        let colour_ok = s.color.len() == 7
            && s.color.starts_with('#')
            && s.color[1..].bytes().all(|b| b.is_ascii_hexdigit());
        if !colour_ok {
            c.fail(
                &format!("statuses[{i}].color"),
                "must be a colour like #1a7f37",
            );
        }
    }
    let initials: Vec<_> = req.statuses.iter().filter(|s| s.initial).collect();
    if initials.len() != 1 {
        c.fail("statuses", "exactly one status must be initial");
    }
    let mut edges: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut seen = HashSet::new();
    for (i, t) in req.transitions.iter().enumerate() {
        for (side, key) in [("from", &t.from), ("to", &t.to)] {
            if !keys.contains(key.as_str()) {
                c.fail(
                    &format!("transitions[{i}].{side}"),
                    "is not a status of this type",
                );
            }
        }
        if t.from == t.to {
            c.fail(&format!("transitions[{i}]"), "goes nowhere");
        }
        if !seen.insert((t.from.as_str(), t.to.as_str())) {
            c.fail(&format!("transitions[{i}]"), "is listed twice");
        }
        c.text(&format!("transitions[{i}].name"), &t.name, 80);
        c.translations(&format!("transitions[{i}].name_i18n"), &t.name_i18n);
        if let Some(p) = &t.permission {
            if !perms::is_known(p) {
                c.fail(
                    &format!("transitions[{i}].permission"),
                    "is not a permission",
                );
            }
        }
        edges
            .entry(t.from.as_str())
            .or_default()
            .push(t.to.as_str());
    }
    if let [initial] = initials.as_slice() {
        let mut reached = HashSet::from([initial.key.as_str()]);
        let mut queue = VecDeque::from([initial.key.as_str()]);
        while let Some(k) = queue.pop_front() {
            for next in edges.get(k).into_iter().flatten() {
                if reached.insert(next) {
                    queue.push_back(next);
                }
            }
        }
        for (i, s) in req.statuses.iter().enumerate() {
            if !reached.contains(s.key.as_str()) {
                c.fail(
                    &format!("statuses[{i}]"),
                    format!("'{}' cannot be reached from the initial status", s.key),
                );
            } else if !s.is_final && !edges.contains_key(s.key.as_str()) {
                c.fail(
                    &format!("statuses[{i}]"),
                    format!("'{}' is not final but has no way out", s.key),
                );
            }
        }
    }
    c.finish()
}

/// Writes statuses (matched by key: kept ids, so tickets keep their status) and replaces the
/// transitions.
pub async fn save_workflow(
    conn: &mut PgConnection,
    type_id: Uuid,
    req: &TicketTypeInput,
) -> ApiResult<()> {
    let keys: Vec<String> = req.statuses.iter().map(|s| s.key.clone()).collect();
    sqlx::query("DELETE FROM ticket_transitions WHERE from_status IN (SELECT id FROM ticket_statuses WHERE type_id = $1)")
        .bind(type_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM ticket_statuses WHERE type_id = $1 AND NOT (key = ANY($2))")
        .bind(type_id)
        .bind(&keys)
        .execute(&mut *conn)
        .await
        .map_err(|e| {
            if fk_violation(&e) {
                ApiError::Conflict {
                    code: "status_in_use",
                    detail: "A status you removed still has tickets; move them first.".into(),
                }
            } else {
                e.into()
            }
        })?;
    for (i, s) in req.statuses.iter().enumerate() {
        sqlx::query(
            r#"INSERT INTO ticket_statuses (type_id, key, name, color, initial, "final", position, name_i18n) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
               ON CONFLICT (type_id, key) DO UPDATE SET name = excluded.name, name_i18n = excluded.name_i18n, color = excluded.color,
                   initial = excluded.initial, "final" = excluded."final", position = excluded.position"#,
        )
        .bind(type_id)
        .bind(&s.key)
        .bind(s.name.trim())
        .bind(&s.color)
        .bind(s.initial)
        .bind(s.is_final)
        .bind(i as i32)
        .bind(crate::validate::trimmed_translations(&s.name_i18n))
        .execute(&mut *conn)
        .await?;
    }
    for t in &req.transitions {
        sqlx::query(
            "INSERT INTO ticket_transitions (from_status, to_status, name, permission, name_i18n)
             SELECT f.id, t.id, $4, $5, $6 FROM ticket_statuses f, ticket_statuses t
              WHERE f.type_id = $1 AND f.key = $2 AND t.type_id = $1 AND t.key = $3",
        )
        .bind(type_id)
        .bind(&t.from)
        .bind(&t.to)
        .bind(t.name.trim())
        .bind(&t.permission)
        .bind(crate::validate::trimmed_translations(&t.name_i18n))
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}
