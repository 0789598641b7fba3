//! Queries for the `outbox` table: order/event deliveries waiting to be sent, written in the same
//! transaction as the change that caused them.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq)]
pub struct OutboxRow {
    pub id: String,
    pub webhook_id: String,
    pub action_type: String,
    pub action_subtype: String,
    pub payload: String,
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str =
    "id, webhook_id, action_type, action_subtype, payload, state, attempts, next_attempt_at, last_error, created_at";

fn read(r: &Row<'_>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        action_type: r.get(2)?,
        action_subtype: r.get(3)?,
        payload: r.get(4)?,
        state: r.get(5)?,
        attempts: r.get(6)?,
        next_attempt_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
        last_error: r.get(8)?,
        created_at: from_ms(r.get(9)?),
    })
}

#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &Connection,
    id: &str,
    webhook_id: &str,
    action_type: &str,
    action_subtype: &str,
    payload: &str,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO outbox (id, webhook_id, action_type, action_subtype, payload, state, attempts,
                             next_attempt_at, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?6, ?6, ?6)",
        params![
            id,
            webhook_id,
            action_type,
            action_subtype,
            payload,
            to_ms(now)
        ],
    )?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<OutboxRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM outbox WHERE id = ?1"),
            [id],
            read,
        )
        .optional()?)
}

/// Pending deliveries due at `now`, oldest first.
pub fn due(conn: &Connection, now: Timestamp, limit: usize) -> CoreResult<Vec<OutboxRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![to_ms(now), limit as i64], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the next pending delivery is due, if any.
pub fn next_due(conn: &Connection) -> CoreResult<Option<Timestamp>> {
    let ms: Option<i64> = conn.query_row(
        "SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?;
    Ok(ms.map(from_ms))
}

/// Pushes the next attempt out while a send is in flight, so a second worker does not pick it up;
/// if the process dies mid-send, the delivery becomes due again when the lease ends.
pub fn lease(conn: &Connection, id: &str, until: Timestamp) -> CoreResult<()> {
    conn.execute(
        "UPDATE outbox SET next_attempt_at = ?2 WHERE id = ?1 AND state = 'pending'",
        params![id, to_ms(until)],
    )?;
    Ok(())
}

pub fn record(
    conn: &Connection,
    id: &str,
    state: &str,
    attempts: u32,
    next_attempt_at: Option<Timestamp>,
    last_error: Option<&str>,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE outbox SET state = ?2, attempts = ?3, next_attempt_at = ?4, last_error = ?5, updated_at = ?6
         WHERE id = ?1",
        params![id, state, attempts, next_attempt_at.map(to_ms), last_error, to_ms(now)],
    )?;
    Ok(())
}

pub fn count_by_state(conn: &Connection, state: &str) -> CoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM outbox WHERE state = ?1",
        [state],
        |r| r.get(0),
    )?)
}
