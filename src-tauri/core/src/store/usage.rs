//! Queries for the `usage_records` table: the actual start and end of each booking, written by
//! the interlock (first successful unlock, the successful lock that ended it) for billing.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::{Account, Usage};
use jiff::Timestamp;
use rusqlite::{params, Connection, Row};

/// Reads the usage columns starting at `at`: started_at, started_by, ended_at, ended_by,
/// booked_ends_at (the events query joins them).
pub(crate) fn read(r: &Row<'_>, at: usize) -> rusqlite::Result<Usage> {
    Ok(Usage {
        started_at: r.get::<_, Option<i64>>(at)?.map(from_ms),
        started_by: r.get(at + 1)?,
        ended_at: r.get::<_, Option<i64>>(at + 2)?.map(from_ms),
        ended_by: r.get(at + 3)?,
        booked_ends_at: r.get::<_, Option<i64>>(at + 4)?.map(from_ms),
    })
}

/// The first successful unlock of a booking starts its use; later unlocks change nothing.
pub fn record_start(
    conn: &Connection,
    event_id: &str,
    at: Timestamp,
    by: &Account,
) -> CoreResult<bool> {
    Ok(conn.execute(
        "INSERT INTO usage_records (event_id, started_at, started_by_id, started_by)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (event_id) DO UPDATE SET started_at = excluded.started_at,
             started_by_id = excluded.started_by_id, started_by = excluded.started_by
         WHERE usage_records.started_at IS NULL",
        params![event_id, to_ms(at), by.id, by.username],
    )? > 0)
}

/// A successful lock ends the booking's use; a later lock replaces an earlier end.
pub fn record_end(
    conn: &Connection,
    event_id: &str,
    at: Timestamp,
    by: &Account,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO usage_records (event_id, ended_at, ended_by_id, ended_by)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (event_id) DO UPDATE SET ended_at = excluded.ended_at,
             ended_by_id = excluded.ended_by_id, ended_by = excluded.ended_by",
        params![event_id, to_ms(at), by.id, by.username],
    )?;
    Ok(())
}

/// Keeps the end a booking was scheduled with, the first time a lock moves it.
pub fn note_booked_end(conn: &Connection, event_id: &str, ends_at: Timestamp) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO usage_records (event_id, booked_ends_at) VALUES (?1, ?2)
         ON CONFLICT (event_id) DO UPDATE SET booked_ends_at = excluded.booked_ends_at
         WHERE usage_records.booked_ends_at IS NULL",
        params![event_id, to_ms(ends_at)],
    )?;
    Ok(())
}
