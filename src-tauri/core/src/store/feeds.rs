//! Queries for the `feeds` table: each service's iCalendar feeds, their settings and sync state.

use super::{from_ms, to_ms};
use crate::error::{CoreError, CoreResult};
use crate::feed::{Feed, FeedStatus};
use crate::webhook::AuthKind;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

const SELECT: &str = "SELECT f.id, f.service_id, s.name, f.name, f.url, f.auth, f.auth_username,
        f.insecure, f.ca_pem, f.refresh_minutes, f.enabled, f.fire_webhooks, f.user_pattern,
        f.last_attempt_at, f.last_success_at, f.last_error, f.last_error_class, f.last_error_at,
        f.failing, (SELECT count(*) FROM events e WHERE e.feed_id = f.id), f.warnings,
        f.auth_secret_set
    FROM feeds f JOIN services s ON s.id = f.service_id";

fn auth_str(a: AuthKind) -> &'static str {
    match a {
        AuthKind::None => "none",
        AuthKind::Basic => "basic",
        AuthKind::Bearer => "bearer",
    }
}

fn read(r: &Row<'_>) -> rusqlite::Result<Feed> {
    let auth = match r.get::<_, String>(5)?.as_str() {
        "basic" => AuthKind::Basic,
        "bearer" => AuthKind::Bearer,
        _ => AuthKind::None,
    };
    let ms = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_ms))
    };
    let warnings: String = r.get(20)?;
    Ok(Feed {
        id: r.get(0)?,
        service_id: r.get(1)?,
        service_name: r.get(2)?,
        name: r.get(3)?,
        url: r.get(4)?,
        auth,
        auth_username: r.get(6)?,
        auth_secret_set: false,
        insecure: r.get(7)?,
        ca_pem: r.get(8)?,
        refresh_minutes: r.get(9)?,
        enabled: r.get(10)?,
        fire_webhooks: r.get(11)?,
        user_pattern: r.get(12)?,
        status: FeedStatus {
            last_attempt_at: ms(13)?,
            last_success_at: ms(14)?,
            last_error: r.get(15)?,
            last_error_class: r.get(16)?,
            last_error_at: ms(17)?,
            failing: r.get(18)?,
            bookings: r.get(19)?,
            warnings: serde_json::from_str(&warnings).unwrap_or_default(),
        },
    })
}

/// Every feed, by service and name; `auth_secret_set` is filled in from the `secret_set` column.
pub fn list(conn: &Connection) -> CoreResult<Vec<Feed>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} ORDER BY s.name COLLATE NOCASE, f.name COLLATE NOCASE"
    ))?;
    let rows = stmt.query_map([], |r| {
        let mut f = read(r)?;
        f.auth_secret_set = r.get(21)?;
        Ok(f)
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<Feed>> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE f.id = ?1"), [id], |r| {
            let mut f = read(r)?;
            f.auth_secret_set = r.get(21)?;
            Ok(f)
        })
        .optional()?)
}

/// Inserts or updates a feed's settings (its sync state stays).
pub fn upsert(conn: &Connection, f: &Feed, now: Timestamp) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO feeds (id, service_id, name, url, auth, auth_username, auth_secret_set,
                            insecure, ca_pem, refresh_minutes, enabled, fire_webhooks,
                            user_pattern, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?14)
         ON CONFLICT (id) DO UPDATE SET service_id = ?2, name = ?3, url = ?4, auth = ?5,
             auth_username = ?6, auth_secret_set = ?7, insecure = ?8, ca_pem = ?9,
             refresh_minutes = ?10, enabled = ?11, fire_webhooks = ?12, user_pattern = ?13,
             updated_at = ?14, last_attempt_at = NULL,
             -- a new address (or credentials) starts without the old validators
             etag = CASE WHEN url = ?4 THEN etag END,
             last_modified = CASE WHEN url = ?4 THEN last_modified END",
        params![
            f.id,
            f.service_id,
            f.name,
            f.url,
            auth_str(f.auth),
            f.auth_username,
            f.auth_secret_set,
            f.insecure,
            f.ca_pem,
            f.refresh_minutes,
            f.enabled,
            f.fire_webhooks,
            f.user_pattern,
            to_ms(now)
        ],
    )
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => CoreError::conflict(format!(
            "The service already has a feed named '{}'.",
            f.name
        )),
        _ => e.into(),
    })?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM feeds WHERE id = ?1", [id])? == 1)
}

/// The HTTP validators of the last full fetch (ETag, Last-Modified).
pub fn validators(conn: &Connection, id: &str) -> CoreResult<(Option<String>, Option<String>)> {
    Ok(conn
        .query_row(
            "SELECT etag, last_modified FROM feeds WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((None, None)))
}

/// Records a successful sync; `validators` only when the feed was fetched in full (a 304 keeps
/// the ones it was asked with), `warnings` only when it was parsed.
pub fn record_success(
    conn: &Connection,
    id: &str,
    at: Timestamp,
    validators: Option<(Option<&str>, Option<&str>)>,
    warnings: Option<&[String]>,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE feeds SET last_attempt_at = ?2, last_success_at = ?2, failing = 0,
                last_error = NULL, last_error_class = NULL
         WHERE id = ?1",
        params![id, to_ms(at)],
    )?;
    if let Some((etag, modified)) = validators {
        conn.execute(
            "UPDATE feeds SET etag = ?2, last_modified = ?3 WHERE id = ?1",
            params![id, etag, modified],
        )?;
    }
    if let Some(w) = warnings {
        conn.execute(
            "UPDATE feeds SET warnings = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(w).unwrap_or_else(|_| "[]".into())],
        )?;
    }
    Ok(())
}

/// Records a failed sync; returns whether the feed was good before (a transition to notify).
pub fn record_failure(
    conn: &Connection,
    id: &str,
    at: Timestamp,
    class: &str,
    message: &str,
) -> CoreResult<bool> {
    let was_failing: bool = conn
        .query_row("SELECT failing FROM feeds WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .optional()?
        .unwrap_or(true);
    conn.execute(
        "UPDATE feeds SET last_attempt_at = ?2, last_error_at = ?2, failing = 1, last_error = ?3,
                last_error_class = ?4
         WHERE id = ?1",
        params![id, to_ms(at), message, class],
    )?;
    Ok(!was_failing)
}

/// Enabled feeds whose refresh interval has passed since their last attempt (or never tried).
pub fn due(conn: &Connection, now: Timestamp) -> CoreResult<Vec<String>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM feeds WHERE enabled = 1
           AND (last_attempt_at IS NULL OR last_attempt_at + refresh_minutes * 60000 <= ?1)
         ORDER BY last_attempt_at",
    )?;
    let rows = stmt.query_map([to_ms(now)], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every enabled feed.
pub fn enabled(conn: &Connection) -> CoreResult<Vec<String>> {
    let mut stmt = conn.prepare("SELECT id FROM feeds WHERE enabled = 1 ORDER BY name")?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}
