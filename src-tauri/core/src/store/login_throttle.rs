//! Queries for the `login_throttle` table: failed sign-in counts and pauses per username. Kept in
//! the database so restarting the app does not reset a pause.

use crate::error::CoreResult;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttle {
    pub failures: u32,
    pub paused_until_ms: Option<i64>,
}

pub fn get(conn: &Connection, username: &str) -> CoreResult<Throttle> {
    Ok(conn
        .query_row(
            "SELECT failures, paused_until FROM login_throttle WHERE username = ?1",
            [username],
            |r| {
                Ok(Throttle {
                    failures: r.get(0)?,
                    paused_until_ms: r.get(1)?,
                })
            },
        )
        .optional()?
        .unwrap_or(Throttle {
            failures: 0,
            paused_until_ms: None,
        }))
}

pub fn put(conn: &Connection, username: &str, t: Throttle) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO login_throttle (username, failures, paused_until) VALUES (?1, ?2, ?3)
         ON CONFLICT (username) DO UPDATE SET failures = excluded.failures,
                                              paused_until = excluded.paused_until",
        params![username, t.failures, t.paused_until_ms],
    )?;
    Ok(())
}

pub fn clear(conn: &Connection, username: &str) -> CoreResult<()> {
    conn.execute("DELETE FROM login_throttle WHERE username = ?1", [username])?;
    Ok(())
}
