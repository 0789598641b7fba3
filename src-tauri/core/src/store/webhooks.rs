//! Queries for the `webhooks` table. Secret values are not here: only `*_set` flags.

use super::to_ms;
use crate::error::{CoreError, CoreResult};
use crate::webhook::{Action, AuthKind, HeaderView, StatusMapping, Verb, Webhook};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

const COLUMNS: &str =
    "id, name, enabled, action_type, action_subtype, service_id, url, verb, insecure,
    headers, auth, auth_username, auth_secret_set, body, timeout_secs, signing, signing_secret_set,
    ca_pem, disabled_reason, status_pointer, status_locked, status_unlocked";

fn auth_str(a: AuthKind) -> &'static str {
    match a {
        AuthKind::None => "none",
        AuthKind::Basic => "basic",
        AuthKind::Bearer => "bearer",
    }
}

fn conversion(col: usize, e: CoreError) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(col, rusqlite::types::Type::Text, Box::new(e))
}

fn read(r: &Row<'_>) -> rusqlite::Result<Webhook> {
    let kind: String = r.get(3)?;
    let subtype: String = r.get(4)?;
    let verb: String = r.get(7)?;
    let headers: String = r.get(9)?;
    let auth: String = r.get(10)?;
    let body: String = r.get(13)?;
    Ok(Webhook {
        id: r.get(0)?,
        name: r.get(1)?,
        enabled: r.get(2)?,
        action: Action::parse(&kind, &subtype).map_err(|e| conversion(3, e))?,
        service_id: r.get(5)?,
        url: r.get(6)?,
        verb: Verb::parse(&verb).map_err(|e| conversion(7, e))?,
        insecure: r.get(8)?,
        headers: serde_json::from_str::<Vec<HeaderView>>(&headers).unwrap_or_default(),
        auth: match auth.as_str() {
            "basic" => AuthKind::Basic,
            "bearer" => AuthKind::Bearer,
            _ => AuthKind::None,
        },
        auth_username: r.get(11)?,
        auth_secret_set: r.get(12)?,
        body: serde_json::from_str(&body).unwrap_or_default(),
        timeout_secs: r.get(14)?,
        signing: r.get(15)?,
        signing_secret_set: r.get(16)?,
        ca_pem: r.get(17)?,
        disabled_reason: r.get(18)?,
        status_mapping: StatusMapping {
            pointer: r.get(19)?,
            locked: serde_json::from_str(&r.get::<_, String>(20)?).unwrap_or_default(),
            unlocked: serde_json::from_str(&r.get::<_, String>(21)?).unwrap_or_default(),
        },
    })
}

pub fn upsert(conn: &Connection, w: &Webhook, now: Timestamp) -> CoreResult<()> {
    let headers =
        serde_json::to_string(&w.headers).map_err(|e| CoreError::internal(e.to_string()))?;
    let body = serde_json::to_string(&w.body).map_err(|e| CoreError::internal(e.to_string()))?;
    conn.execute(
        "INSERT INTO webhooks (id, name, enabled, action_type, action_subtype, service_id, url, verb,
             insecure, headers, auth, auth_username, auth_secret_set, body, timeout_secs, signing,
             signing_secret_set, ca_pem, disabled_reason, created_at, updated_at,
             status_pointer, status_locked, status_unlocked)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?20, ?21, ?22, ?23)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, enabled = excluded.enabled,
             action_type = excluded.action_type, action_subtype = excluded.action_subtype,
             service_id = excluded.service_id, url = excluded.url, verb = excluded.verb,
             insecure = excluded.insecure, headers = excluded.headers, auth = excluded.auth,
             auth_username = excluded.auth_username, auth_secret_set = excluded.auth_secret_set,
             body = excluded.body, timeout_secs = excluded.timeout_secs, signing = excluded.signing,
             signing_secret_set = excluded.signing_secret_set, ca_pem = excluded.ca_pem,
             disabled_reason = excluded.disabled_reason, updated_at = excluded.updated_at,
             status_pointer = excluded.status_pointer, status_locked = excluded.status_locked,
             status_unlocked = excluded.status_unlocked",
        params![
            w.id, w.name, w.enabled, w.action.kind_str(), w.action.subtype_str(), w.service_id, w.url,
            w.verb.as_str(), w.insecure, headers, auth_str(w.auth), w.auth_username, w.auth_secret_set,
            body, w.timeout_secs, w.signing, w.signing_secret_set, w.ca_pem, w.disabled_reason, to_ms(now),
            w.status_mapping.pointer, w.status_mapping.locked.to_string(), w.status_mapping.unlocked.to_string()
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<Webhook>> {
    // Cached: the outbox reads each claimed row's webhook in every round.
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"))?
        .query_row([id], read)
        .optional()?)
}

pub fn list(conn: &Connection) -> CoreResult<Vec<Webhook>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM webhooks ORDER BY action_type, action_subtype, name COLLATE NOCASE"
    ))?;
    let rows = stmt.query_map([], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Enabled webhooks of `action` that fire for `service_id` (scoped to it, or to every service).
pub fn matching(
    conn: &Connection,
    action: Action,
    service_id: Option<&str>,
) -> CoreResult<Vec<Webhook>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM webhooks
         WHERE enabled = 1 AND action_type = ?1 AND action_subtype = ?2
           AND (service_id IS NULL OR service_id = ?3)
         ORDER BY id"
    ))?;
    let rows = stmt.query_map(
        params![action.kind_str(), action.subtype_str(), service_id],
        read,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(conn: &Connection, id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM webhooks WHERE id = ?1", [id])? == 1)
}

pub fn disable(conn: &Connection, id: &str, reason: &str, now: Timestamp) -> CoreResult<()> {
    conn.execute(
        "UPDATE webhooks SET enabled = 0, disabled_reason = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, reason, to_ms(now)],
    )?;
    Ok(())
}
