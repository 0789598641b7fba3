//! Queries for the `orders` table. Line items live in `order_lines` (see order_lines.rs).

use super::to_ms;
use crate::error::{CoreError, CoreResult};
use crate::model::OrderStatus;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    pub id: String,
    pub reference: String,
    pub customer: String,
    pub status: OrderStatus,
}

fn read(r: &Row<'_>) -> rusqlite::Result<OrderRow> {
    let status: String = r.get(3)?;
    Ok(OrderRow {
        id: r.get(0)?,
        reference: r.get(1)?,
        customer: r.get(2)?,
        status: OrderStatus::parse(&status).unwrap_or(OrderStatus::Open),
    })
}

fn reference_taken(e: rusqlite::Error, reference: &str) -> CoreError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => CoreError::conflict(format!(
            "An order with reference '{reference}' already exists."
        )),
        _ => e.into(),
    }
}

pub fn insert(conn: &Connection, row: &OrderRow, now: Timestamp) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO orders (id, reference, customer, status, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        params![
            row.id,
            row.reference,
            row.customer,
            row.status.as_str(),
            to_ms(now)
        ],
    )
    .map_err(|e| reference_taken(e, &row.reference))?;
    Ok(())
}

pub fn update(conn: &Connection, row: &OrderRow, now: Timestamp) -> CoreResult<bool> {
    let n = conn
        .execute(
            "UPDATE orders SET reference = ?2, customer = ?3, status = ?4, updated_at = ?5 WHERE id = ?1",
            params![row.id, row.reference, row.customer, row.status.as_str(), to_ms(now)],
        )
        .map_err(|e| reference_taken(e, &row.reference))?;
    Ok(n == 1)
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<OrderRow>> {
    Ok(conn
        .query_row(
            "SELECT id, reference, customer, status FROM orders WHERE id = ?1",
            [id],
            read,
        )
        .optional()?)
}

pub fn list(conn: &Connection) -> CoreResult<Vec<OrderRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, reference, customer, status FROM orders ORDER BY created_at DESC, id DESC",
    )?;
    let rows = stmt.query_map([], read)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn delete(conn: &Connection, id: &str) -> CoreResult<bool> {
    Ok(conn.execute("DELETE FROM orders WHERE id = ?1", [id])? == 1)
}
