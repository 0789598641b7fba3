//! Queries for the `settings` table: station-wide key/value settings.

use crate::error::CoreResult;
use rusqlite::{params, Connection, OptionalExtension};

pub fn get(conn: &Connection, key: &str) -> CoreResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?)
}

pub fn set(conn: &Connection, key: &str, value: &str) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )?;
    Ok(())
}

/// [`set`] for a change a person made: a log line names the setting, its old and new value and
/// who changed it (settings hold no secrets), and nothing is logged when the value stays.
pub fn set_by(conn: &Connection, key: &str, value: &str, who: &str) -> CoreResult<()> {
    let old = get(conn, key)?;
    set(conn, key, value)?;
    if old.as_deref() != Some(value) {
        tracing::info!(
            setting = key,
            from = old.as_deref().unwrap_or("(default)"),
            to = value,
            by = who,
            "setting changed"
        );
    }
    Ok(())
}
