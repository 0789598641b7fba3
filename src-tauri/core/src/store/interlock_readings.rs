//! Queries for the `interlock_readings` table: when each instrument's relay state changed.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::{LockState, StateChange};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension};

fn read(r: &rusqlite::Row<'_>) -> rusqlite::Result<StateChange> {
    let state: String = r.get(0)?;
    Ok(StateChange {
        state: LockState::from_stored(&state),
        at: from_ms(r.get(1)?),
    })
}

/// Records `state` at `at` unless the latest recorded state of the service already is it.
pub fn record(
    conn: &Connection,
    service_id: &str,
    state: LockState,
    at: Timestamp,
) -> CoreResult<()> {
    let last: Option<String> = conn
        .query_row(
            "SELECT state FROM interlock_readings WHERE service_id = ?1 ORDER BY at DESC, id DESC LIMIT 1",
            [service_id],
            |r| r.get(0),
        )
        .optional()?;
    if last.as_deref() != Some(state.as_str()) {
        conn.execute(
            "INSERT INTO interlock_readings (service_id, state, at) VALUES (?1, ?2, ?3)",
            params![service_id, state.as_str(), to_ms(at)],
        )?;
    }
    Ok(())
}

/// The changes in `[from, to]`, oldest first, led by the state in force at `from` (the last
/// change before it, if any).
pub fn between(
    conn: &Connection,
    service_id: &str,
    from: Timestamp,
    to: Timestamp,
) -> CoreResult<Vec<StateChange>> {
    let before = conn
        .query_row(
            "SELECT state, at FROM interlock_readings WHERE service_id = ?1 AND at < ?2
             ORDER BY at DESC, id DESC LIMIT 1",
            params![service_id, to_ms(from)],
            read,
        )
        .optional()?;
    let mut stmt = conn.prepare(
        "SELECT state, at FROM interlock_readings WHERE service_id = ?1 AND at >= ?2 AND at <= ?3
         ORDER BY at, id",
    )?;
    let rows = stmt.query_map(params![service_id, to_ms(from), to_ms(to)], read)?;
    let mut out: Vec<StateChange> = before.into_iter().collect();
    for r in rows {
        out.push(r?);
    }
    Ok(out)
}

pub fn prune_older_than(conn: &Connection, cutoff: Timestamp, batch: usize) -> CoreResult<usize> {
    // The newest change of each service stays: it is the state in force now.
    Ok(conn.execute(
        "DELETE FROM interlock_readings WHERE id IN
             (SELECT r.id FROM interlock_readings r WHERE r.at < ?1
                AND r.id <> (SELECT MAX(id) FROM interlock_readings l WHERE l.service_id = r.service_id)
              ORDER BY r.at LIMIT ?2)",
        params![to_ms(cutoff), batch as i64],
    )?)
}
