//! Queries for the `events` table: bookings of a service by an account.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::Event;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

const SELECT: &str = "SELECT e.id, e.service_id, s.name, e.user_id, a.display_name, e.title,
        e.starts_at, e.ends_at, e.order_id, e.line_id, u.event_id, u.started_at, u.started_by,
        u.ended_at, u.ended_by, u.booked_ends_at, a.username
    FROM events e
    JOIN services s ON s.id = e.service_id
    JOIN accounts a ON a.id = e.user_id
    LEFT JOIN usage_records u ON u.event_id = e.id";

fn read(r: &Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event {
        id: r.get(0)?,
        service_id: r.get(1)?,
        service_name: r.get(2)?,
        user_id: r.get(3)?,
        user_display_name: r.get(4)?,
        title: r.get(5)?,
        starts_at: from_ms(r.get(6)?),
        ends_at: from_ms(r.get(7)?),
        order_id: r.get(8)?,
        line_id: r.get(9)?,
        usage: match r.get::<_, Option<String>>(10)? {
            None => None,
            Some(_) => Some(super::usage::read(r, 11)?),
        },
    })
}

/// Events whose start is in `[from, to)`, by start, with the username of each booking's user.
pub fn starting_between(
    conn: &Connection,
    from: Timestamp,
    to: Timestamp,
) -> CoreResult<Vec<(Event, String)>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE e.starts_at >= ?1 AND e.starts_at < ?2 ORDER BY e.starts_at, e.id"
    ))?;
    let rows = stmt.query_map(params![to_ms(from), to_ms(to)], |r| {
        Ok((read(r)?, r.get::<_, String>(16)?))
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Moves only the end of a booking (a lock did, per the service's tags).
pub fn set_end(
    conn: &Connection,
    id: &str,
    ends_at: Timestamp,
    now: Timestamp,
) -> CoreResult<bool> {
    Ok(conn.execute(
        "UPDATE events SET ends_at = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, to_ms(ends_at), to_ms(now)],
    )? == 1)
}

/// The first booking on a service that starts at or after `at`, other than `except_id`.
pub fn next_starting_from(
    conn: &Connection,
    service_id: &str,
    at: Timestamp,
    except_id: &str,
) -> CoreResult<Option<Event>> {
    Ok(conn
        .query_row(
            &format!(
                "{SELECT} WHERE e.service_id = ?1 AND e.starts_at >= ?2 AND e.id <> ?3
                 ORDER BY e.starts_at LIMIT 1"
            ),
            params![service_id, to_ms(at), except_id],
            read,
        )
        .optional()?)
}

/// The fields of an event as stored, already validated.
#[derive(Debug, Clone)]
pub struct EventRow<'a> {
    pub id: &'a str,
    pub service_id: &'a str,
    pub user_id: &'a str,
    pub title: &'a str,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub order_id: Option<&'a str>,
    pub line_id: Option<&'a str>,
}

pub fn insert(conn: &Connection, e: &EventRow<'_>, now: Timestamp) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO events (id, service_id, user_id, title, starts_at, ends_at, order_id, line_id,
                             created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        params![
            e.id,
            e.service_id,
            e.user_id,
            e.title,
            to_ms(e.starts_at),
            to_ms(e.ends_at),
            e.order_id,
            e.line_id,
            to_ms(now)
        ],
    )?;
    Ok(())
}

pub fn update(conn: &Connection, e: &EventRow<'_>, now: Timestamp) -> CoreResult<bool> {
    let n = conn.execute(
        "UPDATE events SET service_id = ?2, user_id = ?3, title = ?4, starts_at = ?5, ends_at = ?6,
                           order_id = ?7, line_id = ?8, updated_at = ?9
         WHERE id = ?1",
        params![
            e.id,
            e.service_id,
            e.user_id,
            e.title,
            to_ms(e.starts_at),
            to_ms(e.ends_at),
            e.order_id,
            e.line_id,
            to_ms(now)
        ],
    )?;
    Ok(n == 1)
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<Event>> {
    Ok(conn
        .query_row(&format!("{SELECT} WHERE e.id = ?1"), [id], read)
        .optional()?)
}

pub fn delete(conn: &Connection, id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM events WHERE id = ?1", [id])? == 1)
}

/// Events on a service that overlap `[start, end)`, ignoring `except_id`.
pub fn overlapping(
    conn: &Connection,
    service_id: &str,
    start: Timestamp,
    end: Timestamp,
    except_id: Option<&str>,
) -> CoreResult<Vec<Event>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE e.service_id = ?1 AND e.starts_at < ?3 AND e.ends_at > ?2
           AND (?4 IS NULL OR e.id <> ?4) ORDER BY e.starts_at"
    ))?;
    let rows = stmt.query_map(
        params![service_id, to_ms(start), to_ms(end), except_id],
        read,
    )?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// All events, or those of one account, ordered by start.
pub fn list(conn: &Connection, user_id: Option<&str>) -> CoreResult<Vec<Event>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE (?1 IS NULL OR e.user_id = ?1) ORDER BY e.starts_at, e.id"
    ))?;
    let rows = stmt.query_map(params![user_id], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The booking running at `now` on a service, if any.
pub fn current_on_service(
    conn: &Connection,
    service_id: &str,
    now: Timestamp,
) -> CoreResult<Option<Event>> {
    Ok(conn
        .query_row(
            &format!(
                "{SELECT} WHERE e.service_id = ?1 AND e.starts_at <= ?2 AND e.ends_at > ?2
                 ORDER BY e.starts_at LIMIT 1"
            ),
            params![service_id, to_ms(now)],
            read,
        )
        .optional()?)
}

/// The first booking on a service that starts after `now`.
pub fn next_on_service(
    conn: &Connection,
    service_id: &str,
    now: Timestamp,
) -> CoreResult<Option<Event>> {
    Ok(conn
        .query_row(
            &format!(
                "{SELECT} WHERE e.service_id = ?1 AND e.starts_at > ?2 ORDER BY e.starts_at LIMIT 1"
            ),
            params![service_id, to_ms(now)],
            read,
        )
        .optional()?)
}

pub fn count_for_service(conn: &Connection, service_id: &str) -> CoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM events WHERE service_id = ?1",
        [service_id],
        |r| r.get(0),
    )?)
}

pub fn count_for_user(conn: &Connection, user_id: &str) -> CoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM events WHERE user_id = ?1",
        [user_id],
        |r| r.get(0),
    )?)
}

/// Events on a service that end at or after `from` and start at or before `to`, by start.
pub fn on_service_between(
    conn: &Connection,
    service_id: &str,
    from: Timestamp,
    to: Timestamp,
) -> CoreResult<Vec<Event>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE e.service_id = ?1 AND e.ends_at >= ?2 AND e.starts_at <= ?3
         ORDER BY e.starts_at, e.id"
    ))?;
    let rows = stmt.query_map(params![service_id, to_ms(from), to_ms(to)], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
