//! Queries for the `auto_locks` table: a lock to send when a user's window closes, kept in the
//! database so it still happens after a restart, and kept until the lock is confirmed.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

/// One pending auto-lock (at most one per service).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingAutoLock {
    pub service_id: String,
    pub event_id: Option<String>,
    /// When the booking's window closes: the lock is due then.
    pub due_at: Timestamp,
    /// Failed attempts so far.
    pub attempts: u32,
    /// When to try again after a failure (None before the first attempt).
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: String,
    pub last_notified_at: Option<Timestamp>,
}

impl PendingAutoLock {
    /// When the worker should next look at it.
    pub fn next_try(&self) -> Timestamp {
        self.next_attempt_at.unwrap_or(self.due_at).max(self.due_at)
    }
}

const COLUMNS: &str =
    "service_id, event_id, due_at, attempts, next_attempt_at, last_error, last_notified_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<PendingAutoLock> {
    Ok(PendingAutoLock {
        service_id: r.get(0)?,
        event_id: r.get(1)?,
        due_at: from_ms(r.get(2)?),
        attempts: r.get(3)?,
        next_attempt_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
        last_error: r.get(5)?,
        last_notified_at: r.get::<_, Option<i64>>(6)?.map(from_ms),
    })
}

/// Schedules (or re-schedules, starting afresh) the auto-lock of a service.
pub fn schedule(
    conn: &Connection,
    service_id: &str,
    event_id: Option<&str>,
    due_at: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO auto_locks (service_id, event_id, due_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (service_id) DO UPDATE SET event_id = excluded.event_id,
             due_at = excluded.due_at, attempts = 0, next_attempt_at = NULL, last_error = '',
             last_notified_at = NULL",
        params![service_id, event_id, to_ms(due_at)],
    )?;
    Ok(())
}

/// Moves the due time (a booking was edited); keeps the attempt history.
pub fn retime(conn: &Connection, service_id: &str, due_at: Timestamp) -> CoreResult<bool> {
    Ok(conn.execute(
        "UPDATE auto_locks SET due_at = ?2, next_attempt_at = NULL WHERE service_id = ?1",
        params![service_id, to_ms(due_at)],
    )? > 0)
}

/// Records a failed attempt and when to try again.
pub fn record_failure(
    conn: &Connection,
    service_id: &str,
    attempts: u32,
    next_attempt_at: Timestamp,
    error: &str,
    notified_at: Option<Timestamp>,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE auto_locks SET attempts = ?2, next_attempt_at = ?3, last_error = ?4,
             last_notified_at = coalesce(?5, last_notified_at)
         WHERE service_id = ?1",
        params![
            service_id,
            attempts,
            to_ms(next_attempt_at),
            error,
            notified_at.map(to_ms)
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, service_id: &str) -> CoreResult<Option<PendingAutoLock>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM auto_locks WHERE service_id = ?1"),
            [service_id],
            row,
        )
        .optional()?)
}

pub fn for_event(conn: &Connection, event_id: &str) -> CoreResult<Option<PendingAutoLock>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM auto_locks WHERE event_id = ?1"),
            [event_id],
            row,
        )
        .optional()?)
}

/// Removes the pending auto-lock of a service; true when there was one.
pub fn cancel(conn: &Connection, service_id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM auto_locks WHERE service_id = ?1", [service_id])? > 0)
}

/// Every auto-lock whose next try is at or before `now`, earliest first.
pub fn due(conn: &Connection, now: Timestamp) -> CoreResult<Vec<PendingAutoLock>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM auto_locks
         WHERE max(due_at, coalesce(next_attempt_at, due_at)) <= ?1 ORDER BY due_at"
    ))?;
    let rows = stmt.query_map([to_ms(now)], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn list(conn: &Connection) -> CoreResult<Vec<PendingAutoLock>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM auto_locks ORDER BY due_at"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the worker next has something to do.
pub fn next_due(conn: &Connection) -> CoreResult<Option<Timestamp>> {
    let ms: Option<i64> = conn.query_row(
        "SELECT min(max(due_at, coalesce(next_attempt_at, due_at))) FROM auto_locks",
        [],
        |r| r.get(0),
    )?;
    Ok(ms.map(from_ms))
}
