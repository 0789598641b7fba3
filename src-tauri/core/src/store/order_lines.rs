//! Queries for the `order_lines` table: the line items of an order, each naming a service.

use crate::error::CoreResult;
use crate::model::OrderLine;
use rusqlite::{params, Connection, OptionalExtension};

pub fn list_for_order(conn: &Connection, order_id: &str) -> CoreResult<Vec<OrderLine>> {
    let mut stmt = conn.prepare(
        "SELECT l.id, l.service_id, s.name, l.description
         FROM order_lines l JOIN services s ON s.id = l.service_id
         WHERE l.order_id = ?1 ORDER BY l.position",
    )?;
    let rows = stmt.query_map([order_id], |r| {
        Ok(OrderLine {
            id: r.get(0)?,
            service_id: r.get(1)?,
            service_name: r.get(2)?,
            description: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The order a line belongs to, if the line exists.
pub fn order_of(conn: &Connection, line_id: &str) -> CoreResult<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT order_id, service_id FROM order_lines WHERE id = ?1",
            [line_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

pub fn upsert(
    conn: &Connection,
    id: &str,
    order_id: &str,
    service_id: &str,
    description: &str,
    position: usize,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO order_lines (id, order_id, service_id, description, position)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (id) DO UPDATE SET service_id = excluded.service_id,
             description = excluded.description, position = excluded.position",
        params![id, order_id, service_id, description, position as i64],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> CoreResult<()> {
    conn.execute("DELETE FROM order_lines WHERE id = ?1", [id])?;
    Ok(())
}
