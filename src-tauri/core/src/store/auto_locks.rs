//! Queries for the `auto_locks` table: a lock to send when a user's window closes, kept in the
//! database so it still happens after a restart.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use jiff::Timestamp;
use rusqlite::{params, Connection};

pub fn schedule(
    conn: &Connection,
    service_id: &str,
    event_id: Option<&str>,
    due_at: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO auto_locks (service_id, event_id, due_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (service_id) DO UPDATE SET event_id = excluded.event_id, due_at = excluded.due_at",
        params![service_id, event_id, to_ms(due_at)],
    )?;
    Ok(())
}

pub fn cancel(conn: &Connection, service_id: &str) -> CoreResult<()> {
    conn.execute("DELETE FROM auto_locks WHERE service_id = ?1", [service_id])?;
    Ok(())
}

/// (service_id, event_id, due_at) of every auto-lock due at `now`.
pub fn due(
    conn: &Connection,
    now: Timestamp,
) -> CoreResult<Vec<(String, Option<String>, Timestamp)>> {
    let mut stmt = conn.prepare(
        "SELECT service_id, event_id, due_at FROM auto_locks WHERE due_at <= ?1 ORDER BY due_at",
    )?;
    let rows = stmt.query_map([to_ms(now)], |r| {
        Ok((r.get(0)?, r.get(1)?, from_ms(r.get(2)?)))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn next_due(conn: &Connection) -> CoreResult<Option<Timestamp>> {
    let ms: Option<i64> = conn.query_row("SELECT min(due_at) FROM auto_locks", [], |r| r.get(0))?;
    Ok(ms.map(from_ms))
}
