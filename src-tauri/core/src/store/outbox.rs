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

/// Claims up to `limit` pending deliveries due at `cutoff`, oldest first, in ONE statement: each
/// claimed row's `next_attempt_at` moves to the end of its lease (`now` + its webhook's timeout +
/// `slack_ms`), so no other worker or process claims it meanwhile; a row whose lease ran out (its
/// sender died) is due again: at-least-once. Run it inside an immediate transaction.
pub fn claim(
    conn: &Connection,
    cutoff: Timestamp,
    now: Timestamp,
    slack_ms: i64,
    limit: usize,
    except: &[String],
) -> CoreResult<Vec<OutboxRow>> {
    let except = if except.is_empty() {
        String::new()
    } else {
        serde_json::to_string(except).unwrap_or_default()
    };
    let mut stmt = conn.prepare_cached(&format!(
        "UPDATE outbox SET next_attempt_at = ?2 + ?3
             + 1000 * coalesce((SELECT timeout_secs FROM webhooks w WHERE w.id = outbox.webhook_id), 120)
         WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?1
                        AND (?5 = '' OR id NOT IN (SELECT value FROM json_each(?5)))
                      ORDER BY next_attempt_at LIMIT ?4)
         RETURNING {COLUMNS}"
    ))?;
    let rows = stmt.query_map(
        params![to_ms(cutoff), to_ms(now), slack_ms, limit as i64, except],
        read,
    )?;
    let mut rows: Vec<OutboxRow> = rows.collect::<Result<_, _>>()?;
    rows.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(rows)
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

/// Records the outcome of a claimed attempt. Returns false (and changes nothing) when the row is
/// no longer the one this worker claimed: its lease ran out and another worker took it over.
#[allow(clippy::too_many_arguments)]
pub fn record_claimed(
    conn: &Connection,
    id: &str,
    claimed_attempts: u32,
    attempts: u32,
    state: &str,
    next_attempt_at: Option<Timestamp>,
    last_error: Option<&str>,
    now: Timestamp,
) -> CoreResult<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE outbox SET state = ?2, attempts = ?7, next_attempt_at = ?4, last_error = ?5,
                           updated_at = ?6
         WHERE id = ?1 AND state = 'pending' AND attempts = ?3",
    )?;
    let n = stmt.execute(params![
        id,
        state,
        claimed_attempts,
        next_attempt_at.map(to_ms),
        last_error,
        to_ms(now),
        attempts
    ])?;
    Ok(n == 1)
}

/// Settles a delivery after a one-off send ("Resend").
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
