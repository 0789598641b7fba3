//! Queries for the `interlock_state` table: the last status reading of each instrument.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::{LockState, StatusReading};
use rusqlite::{params, Connection, OptionalExtension};

pub fn put(conn: &Connection, service_id: &str, r: &StatusReading) -> CoreResult<()> {
    let state = r.state.as_str();
    conn.execute(
        "INSERT INTO interlock_state (service_id, state, read_at, detail) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (service_id) DO UPDATE SET state = excluded.state, read_at = excluded.read_at, detail = excluded.detail",
        params![service_id, state, to_ms(r.read_at), r.detail],
    )?;
    // Every reading goes through here, so the timeline's history of changes is complete.
    super::interlock_readings::record(conn, service_id, r.state, r.read_at)?;
    Ok(())
}

pub fn get(conn: &Connection, service_id: &str) -> CoreResult<Option<StatusReading>> {
    Ok(conn
        .query_row(
            "SELECT state, read_at, detail FROM interlock_state WHERE service_id = ?1",
            [service_id],
            |r| {
                let state: String = r.get(0)?;
                Ok(StatusReading {
                    state: LockState::from_stored(&state),
                    read_at: from_ms(r.get(1)?),
                    detail: r.get(2)?,
                })
            },
        )
        .optional()?)
}
