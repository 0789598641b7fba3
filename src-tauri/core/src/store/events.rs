//! Queries for the `events` table: bookings of a service by an account.

use super::{from_ms, to_ms};
use crate::error::CoreResult;
use crate::model::{BookingSource, Event};
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

const SELECT: &str = "SELECT e.id, e.service_id, s.name, e.user_id,
        COALESCE(a.display_name, e.booked_by), e.title,
        e.starts_at, e.ends_at, e.order_id, e.line_id, u.event_id, u.started_at, u.started_by,
        u.ended_at, u.ended_by, u.booked_ends_at, a.username,
        e.booked_by, e.feed_id, COALESCE(f.name, e.source), e.source_uid
    FROM events e
    JOIN services s ON s.id = e.service_id
    LEFT JOIN accounts a ON a.id = e.user_id
    LEFT JOIN feeds f ON f.id = e.feed_id
    LEFT JOIN usage_records u ON u.event_id = e.id";

fn read(r: &Row<'_>) -> rusqlite::Result<Event> {
    let source = match r.get::<_, Option<String>>(20)? {
        None => None,
        Some(uid) => Some(BookingSource {
            feed_id: r.get(18)?,
            name: r.get(19)?,
            uid,
        }),
    };
    Ok(Event {
        id: r.get(0)?,
        service_id: r.get(1)?,
        service_name: r.get(2)?,
        user_id: r.get(3)?,
        user_display_name: r.get(4)?,
        booked_by: r.get(17)?,
        source,
        conflict: false,
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

/// Events whose start is in `[from, to)`, by start, with the username of each booking's user
/// (empty for a synced booking no account matched).
pub fn starting_between(
    conn: &Connection,
    from: Timestamp,
    to: Timestamp,
) -> CoreResult<Vec<(Event, String)>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE e.starts_at >= ?1 AND e.starts_at < ?2 ORDER BY e.starts_at, e.id"
    ))?;
    let rows = stmt.query_map(params![to_ms(from), to_ms(to)], |r| {
        Ok((
            read(r)?,
            r.get::<_, Option<String>>(16)?.unwrap_or_default(),
        ))
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
    pub user_id: Option<&'a str>,
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

/// All events, or those of one account, ordered by start; each marked when it overlaps another
/// booking of its service (only a synced booking can overlap: local ones are refused).
pub fn list(conn: &Connection, user_id: Option<&str>) -> CoreResult<Vec<Event>> {
    let mut stmt = conn.prepare(&format!(
        "{SELECT} WHERE (?1 IS NULL OR e.user_id = ?1) ORDER BY e.starts_at, e.id"
    ))?;
    let rows = stmt.query_map(params![user_id], read)?;
    let mut list: Vec<Event> = rows.collect::<Result<_, _>>()?;
    mark_conflicts(conn, &mut list)?;
    Ok(list)
}

/// Sets `conflict` on each event that overlaps another booking of its service (one sweep per
/// service over every booking, so an instrument user's own list is flagged too).
fn mark_conflicts(conn: &Connection, list: &mut [Event]) -> CoreResult<()> {
    let mut stmt = conn.prepare(
        "SELECT id, service_id, starts_at, ends_at FROM events ORDER BY service_id, starts_at",
    )?;
    let all = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mut clashing = std::collections::HashSet::new();
    // Within one service, by start: a booking overlaps an earlier one when it starts before the
    // latest end seen so far.
    let mut latest: Option<(&str, i64, &str)> = None; // (service, end, id of that booking)
    for (id, service, start, end) in &all {
        match latest {
            Some((s, max_end, other)) if s == service.as_str() && *start < max_end => {
                clashing.insert(id.as_str());
                clashing.insert(other);
                if *end > max_end {
                    latest = Some((service, *end, id));
                }
            }
            Some((s, max_end, _)) if s == service.as_str() && *end <= max_end => {}
            _ => latest = Some((service, *end, id)),
        }
    }
    for e in list.iter_mut() {
        e.conflict = clashing.contains(e.id.as_str());
    }
    Ok(())
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

/// Where a synced or imported booking came from, as stored beside it.
#[derive(Debug, Clone)]
pub struct SourceRow<'a> {
    /// The feed; `None` for an imported file.
    pub feed_id: Option<&'a str>,
    /// The imported file's name (empty for a feed: the feed's name is read from `feeds`).
    pub source: &'a str,
    pub uid: &'a str,
    /// The occurrence within its UID (empty for a single event).
    pub key: &'a str,
    pub sequence: i64,
    /// The name the calendar gave the person.
    pub booked_by: &'a str,
}

pub fn insert_sourced(
    conn: &Connection,
    e: &EventRow<'_>,
    src: &SourceRow<'_>,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO events (id, service_id, user_id, title, starts_at, ends_at, order_id, line_id,
                             created_at, updated_at, feed_id, source, source_uid, source_key,
                             source_sequence, booked_by)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        params![
            e.id,
            e.service_id,
            e.user_id,
            e.title,
            to_ms(e.starts_at),
            to_ms(e.ends_at),
            e.order_id,
            e.line_id,
            to_ms(now),
            src.feed_id,
            src.source,
            src.uid,
            src.key,
            src.sequence,
            src.booked_by,
        ],
    )?;
    Ok(())
}

/// Rewrites a synced or imported booking from its calendar (its order and usage stay).
pub fn update_sourced(
    conn: &Connection,
    e: &EventRow<'_>,
    src: &SourceRow<'_>,
    now: Timestamp,
) -> CoreResult<bool> {
    Ok(conn.execute(
        "UPDATE events SET user_id = ?2, title = ?3, starts_at = ?4, ends_at = ?5,
                source = ?6, source_sequence = ?7, booked_by = ?8, updated_at = ?9
         WHERE id = ?1",
        params![
            e.id,
            e.user_id,
            e.title,
            to_ms(e.starts_at),
            to_ms(e.ends_at),
            src.source,
            src.sequence,
            src.booked_by,
            to_ms(now),
        ],
    )? == 1)
}

/// A synced or imported booking as the sync compares it with the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcedEvent {
    pub id: String,
    pub uid: String,
    pub key: String,
    pub sequence: i64,
    pub user_id: Option<String>,
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub booked_by: String,
}

fn read_sourced(r: &Row<'_>) -> rusqlite::Result<SourcedEvent> {
    Ok(SourcedEvent {
        id: r.get(0)?,
        uid: r.get(1)?,
        key: r.get(2)?,
        sequence: r.get(3)?,
        user_id: r.get(4)?,
        title: r.get(5)?,
        starts_at: from_ms(r.get(6)?),
        ends_at: from_ms(r.get(7)?),
        booked_by: r.get(8)?,
    })
}

const SOURCED: &str = "SELECT id, source_uid, source_key, source_sequence, user_id, title,
        starts_at, ends_at, booked_by FROM events";

/// Every booking a feed brought.
pub fn of_feed(conn: &Connection, feed_id: &str) -> CoreResult<Vec<SourcedEvent>> {
    let mut stmt = conn.prepare(&format!("{SOURCED} WHERE feed_id = ?1"))?;
    let rows = stmt.query_map([feed_id], read_sourced)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every booking of a service imported from an `.ics` file.
pub fn imported_on_service(conn: &Connection, service_id: &str) -> CoreResult<Vec<SourcedEvent>> {
    let mut stmt = conn.prepare(&format!(
        "{SOURCED} WHERE service_id = ?1 AND feed_id IS NULL AND source_uid IS NOT NULL"
    ))?;
    let rows = stmt.query_map([service_id], read_sourced)?;
    Ok(rows.collect::<Result<_, _>>()?)
}
