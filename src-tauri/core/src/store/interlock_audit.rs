//! Queries for the `interlock_audit` table: who locked, unlocked or read which instrument, when,
//! with what result and why.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::AuditEntry;
use rusqlite::{params, Connection};

pub fn insert(conn: &Connection, e: &AuditEntry) -> CoreResult<()> {
    let booking = match &e.booking {
        Some(b) => serde_json::to_string(b)
            .map_err(|e| crate::error::CoreError::internal(e.to_string()))?,
        None => String::new(),
    };
    conn.execute(
        "INSERT INTO interlock_audit (at, account_id, username, role, service_id, service_name, event_id, action, result, reason, booking)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![to_ms(e.at), e.account_id, e.username, e.role, e.service_id, e.service_name, e.event_id, e.action, e.result, e.reason, booking],
    )?;
    Ok(())
}

pub fn list(conn: &Connection, limit: usize) -> CoreResult<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, account_id, username, role, service_id, service_name, event_id, action, result, reason, booking
         FROM interlock_audit ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit as i64], |r| {
        Ok(AuditEntry {
            id: r.get::<_, i64>(0)?.to_string(),
            at: from_ms(r.get(1)?),
            account_id: r.get(2)?,
            username: r.get(3)?,
            role: r.get(4)?,
            service_id: r.get(5)?,
            service_name: r.get(6)?,
            event_id: r.get(7)?,
            action: r.get(8)?,
            result: r.get(9)?,
            reason: r.get(10)?,
            booking: serde_json::from_str(&r.get::<_, String>(11)?).ok(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// One page of the log, newest first: the entries older than `before` (an entry id), or the newest
/// when `before` is none. The last entry's id is the cursor of the next page.
pub fn list_before(
    conn: &Connection,
    limit: usize,
    before: Option<i64>,
) -> CoreResult<Vec<AuditEntry>> {
    let mut stmt = conn.prepare(
        "SELECT id, at, account_id, username, role, service_id, service_name, event_id, action, result, reason, booking
         FROM interlock_audit WHERE (?2 IS NULL OR id < ?2) ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map(params![limit as i64, before], |r| {
        Ok(AuditEntry {
            id: r.get::<_, i64>(0)?.to_string(),
            at: from_ms(r.get(1)?),
            account_id: r.get(2)?,
            username: r.get(3)?,
            role: r.get(4)?,
            service_id: r.get(5)?,
            service_name: r.get(6)?,
            event_id: r.get(7)?,
            action: r.get(8)?,
            result: r.get(9)?,
            reason: r.get(10)?,
            booking: serde_json::from_str(&r.get::<_, String>(11)?).ok(),
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes at most `batch` entries written before `cutoff`; returns how many went.
pub fn prune_older_than(
    conn: &Connection,
    cutoff: jiff::Timestamp,
    batch: usize,
) -> CoreResult<usize> {
    Ok(conn.execute(
        "DELETE FROM interlock_audit WHERE id IN
             (SELECT id FROM interlock_audit WHERE at < ?1 ORDER BY at LIMIT ?2)",
        params![to_ms(cutoff), batch as i64],
    )?)
}
