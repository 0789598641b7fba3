//! Queries for the `services` table (instruments and other bookable services).

use super::to_ms;
use crate::error::{CoreError, CoreResult};
use crate::model::Service;
use crate::tags::meaning;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

fn read(r: &Row<'_>) -> rusqlite::Result<Service> {
    let tags_json: String = r.get(3)?;
    let tags: Vec<String> = serde_json::from_str(&tags_json).unwrap_or_default();
    let m = meaning(&tags);
    Ok(Service {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        interlock: m.interlock,
        tags,
        auto_lock: r.get(4)?,
        end_on_lock: m.end_on_lock,
        post_lock_url: m.post_lock,
    })
}

fn name_taken(e: rusqlite::Error, name: &str) -> CoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            CoreError::conflict(format!("A service named '{name}' already exists."))
        }
        _ => e.into(),
    }
}

pub fn insert(
    conn: &Connection,
    id: &str,
    name: &str,
    description: &str,
    tags: &[String],
    now: Timestamp,
) -> CoreResult<()> {
    let tags_json = serde_json::to_string(tags).map_err(|e| CoreError::internal(e.to_string()))?;
    conn.execute(
        "INSERT INTO services (id, name, description, tags, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![id, name, description, tags_json, to_ms(now)],
    )
    .map_err(|e| name_taken(e, name))?;
    Ok(())
}

pub fn update(
    conn: &Connection,
    id: &str,
    name: &str,
    description: &str,
    tags: &[String],
    now: Timestamp,
) -> CoreResult<bool> {
    let tags_json = serde_json::to_string(tags).map_err(|e| CoreError::internal(e.to_string()))?;
    let n = conn
        .execute(
            "UPDATE services SET name = ?2, description = ?3, tags = ?4, updated_at = ?5 WHERE id = ?1",
            params![id, name, description, tags_json, to_ms(now)],
        )
        .map_err(|e| name_taken(e, name))?;
    Ok(n == 1)
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<Service>> {
    Ok(conn
        .query_row(
            "SELECT id, name, description, tags, auto_lock FROM services WHERE id = ?1",
            [id],
            read,
        )
        .optional()?)
}

pub fn list(conn: &Connection) -> CoreResult<Vec<Service>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, description, tags, auto_lock FROM services ORDER BY name COLLATE NOCASE",
    )?;
    let rows = stmt.query_map([], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Deletes a service. Returns false when it did not exist.
pub fn delete(conn: &Connection, id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM services WHERE id = ?1", [id])? == 1)
}

pub fn set_auto_lock(conn: &Connection, id: &str, on: bool, now: Timestamp) -> CoreResult<bool> {
    Ok(conn.execute(
        "UPDATE services SET auto_lock = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, on, to_ms(now)],
    )? == 1)
}
