//! Queries for the `delivery_attempts` table: the log of every webhook request the station sent.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::DeliveryAttempt;
use rusqlite::{params, Connection, Row};

fn read(r: &Row<'_>) -> rusqlite::Result<DeliveryAttempt> {
    let class: Option<String> = r.get(11)?;
    Ok(DeliveryAttempt {
        id: r.get::<_, i64>(0)?.to_string(),
        outbox_id: r.get(1)?,
        webhook_id: r.get(2)?,
        webhook_name: r.get(3)?,
        action: r.get(4)?,
        verb: r.get(5)?,
        url: r.get(6)?,
        attempt: r.get(7)?,
        attempted_at: from_ms(r.get(8)?),
        duration_ms: r.get(9)?,
        status: r.get(10)?,
        error_class: class
            .as_deref()
            .and_then(crate::delivery::ErrorClass::parse),
        error: r.get(12)?,
        response_excerpt: r.get(13)?,
        outcome: r.get(14)?,
        next_attempt_at: r.get::<_, Option<i64>>(15)?.map(from_ms),
    })
}

pub fn insert(conn: &Connection, a: &DeliveryAttempt) -> CoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO delivery_attempts (outbox_id, webhook_id, webhook_name, action, verb, url, attempt,
             attempted_at, duration_ms, status, error_class, error, response_excerpt, outcome, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
            a.outbox_id, a.webhook_id, a.webhook_name, a.action, a.verb, a.url, a.attempt,
            to_ms(a.attempted_at), a.duration_ms, a.status, a.error_class.map(|c| c.as_str()), a.error,
            a.response_excerpt, a.outcome, a.next_attempt_at.map(to_ms)
        ])?;
    Ok(())
}

/// [`insert`] for many attempts at once: one multi-row `INSERT` per chunk (the AUTOINCREMENT
/// bookkeeping and the statement's setup are paid once per chunk, not per row). Ids are assigned
/// in the order given.
pub fn insert_many(conn: &Connection, attempts: &[DeliveryAttempt]) -> CoreResult<()> {
    static SQL: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    for chunk in super::outbox::chunked(attempts) {
        let sql = super::outbox::chunk_sql(&SQL, chunk.len(), |n| {
            format!(
                "INSERT INTO delivery_attempts (outbox_id, webhook_id, webhook_name, action, verb,
                     url, attempt, attempted_at, duration_ms, status, error_class, error,
                     response_excerpt, outcome, next_attempt_at)
                 VALUES {}",
                super::outbox::values_list(n, 15, 1)
            )
        });
        let mut stmt = conn.prepare_cached(sql)?;
        for (i, a) in chunk.iter().enumerate() {
            let p = 1 + i * 15;
            stmt.raw_bind_parameter(p, a.outbox_id.as_deref())?;
            stmt.raw_bind_parameter(p + 1, a.webhook_id.as_deref())?;
            stmt.raw_bind_parameter(p + 2, a.webhook_name.as_str())?;
            stmt.raw_bind_parameter(p + 3, a.action.as_str())?;
            stmt.raw_bind_parameter(p + 4, a.verb.as_str())?;
            stmt.raw_bind_parameter(p + 5, a.url.as_str())?;
            stmt.raw_bind_parameter(p + 6, a.attempt)?;
            stmt.raw_bind_parameter(p + 7, to_ms(a.attempted_at))?;
            stmt.raw_bind_parameter(p + 8, a.duration_ms)?;
            stmt.raw_bind_parameter(p + 9, a.status)?;
            stmt.raw_bind_parameter(p + 10, a.error_class.map(|c| c.as_str()))?;
            stmt.raw_bind_parameter(p + 11, a.error.as_deref())?;
            stmt.raw_bind_parameter(p + 12, a.response_excerpt.as_str())?;
            stmt.raw_bind_parameter(p + 13, a.outcome.as_str())?;
            stmt.raw_bind_parameter(p + 14, a.next_attempt_at.map(to_ms))?;
        }
        stmt.raw_execute()?;
    }
    Ok(())
}

/// The newest attempts first, optionally only those of one outcome or one webhook.
pub fn list(
    conn: &Connection,
    outcome: Option<&str>,
    webhook_id: Option<&str>,
    limit: usize,
) -> CoreResult<Vec<DeliveryAttempt>> {
    let mut stmt = conn.prepare(
        "SELECT id, outbox_id, webhook_id, webhook_name, action, verb, url, attempt, attempted_at,
                duration_ms, status, error_class, error, response_excerpt, outcome, next_attempt_at
         FROM delivery_attempts
         WHERE (?1 IS NULL OR outcome = ?1) AND (?2 IS NULL OR webhook_id = ?2)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![outcome, webhook_id, limit as i64], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One page of the log, newest first: like `list`, but only attempts older than `before` (an
/// attempt id) when given. The last attempt's id is the cursor of the next page.
pub fn list_before(
    conn: &Connection,
    outcome: Option<&str>,
    webhook_id: Option<&str>,
    limit: usize,
    before: Option<i64>,
) -> CoreResult<Vec<DeliveryAttempt>> {
    let mut stmt = conn.prepare(
        "SELECT id, outbox_id, webhook_id, webhook_name, action, verb, url, attempt, attempted_at,
                duration_ms, status, error_class, error, response_excerpt, outcome, next_attempt_at
         FROM delivery_attempts
         WHERE (?1 IS NULL OR outcome = ?1) AND (?2 IS NULL OR webhook_id = ?2)
           AND (?4 IS NULL OR id < ?4)
         ORDER BY id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![outcome, webhook_id, limit as i64, before], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes at most `batch` attempts made before `cutoff`; returns how many went.
pub fn prune_older_than(
    conn: &Connection,
    cutoff: jiff::Timestamp,
    batch: usize,
) -> CoreResult<usize> {
    Ok(conn.execute(
        "DELETE FROM delivery_attempts WHERE id IN
             (SELECT id FROM delivery_attempts WHERE attempted_at < ?1 ORDER BY attempted_at LIMIT ?2)",
        params![to_ms(cutoff), batch as i64],
    )?)
}
