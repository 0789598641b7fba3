//! Queries for the `accounts` table.

use super::{from_ms, to_ms};
use crate::error::{CoreError, CoreResult};
use crate::model::Account;
use crate::roles::Role;
use jiff::Timestamp;
use rusqlite::{params, Connection, OptionalExtension, Row};

/// An account row including its password hash; never leaves the core.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub account: Account,
    pub password_hash: String,
}

const COLUMNS: &str = "id, username, display_name, role, active, created_at, password_hash, email";

fn read(r: &Row<'_>) -> rusqlite::Result<AccountRow> {
    let role: String = r.get(3)?;
    Ok(AccountRow {
        account: Account {
            id: r.get(0)?,
            username: r.get(1)?,
            display_name: r.get(2)?,
            role: Role::parse(&role).map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    3,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })?,
            active: r.get(4)?,
            email: r.get(7)?,
            created_at: from_ms(r.get(5)?),
        },
        password_hash: r.get(6)?,
    })
}

pub fn count(conn: &Connection) -> CoreResult<i64> {
    Ok(conn.query_row("SELECT count(*) FROM accounts", [], |r| r.get(0))?)
}

pub fn count_active_admins_except(conn: &Connection, except_id: &str) -> CoreResult<i64> {
    Ok(conn.query_row(
        "SELECT count(*) FROM accounts WHERE role = 'administrator' AND active = 1 AND id <> ?1",
        [except_id],
        |r| r.get(0),
    )?)
}

pub fn insert(
    conn: &Connection,
    id: &str,
    username: &str,
    display_name: &str,
    role: Role,
    password_hash: &str,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "INSERT INTO accounts (id, username, display_name, role, password_hash, active, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?6)",
        params![id, username, display_name, role.as_str(), password_hash, to_ms(now)],
    )
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => {
            CoreError::conflict(format!("The username '{username}' is already taken."))
        }
        _ => e.into(),
    })?;
    Ok(())
}

pub fn get(conn: &Connection, id: &str) -> CoreResult<Option<AccountRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE id = ?1"),
            [id],
            read,
        )
        .optional()?)
}

pub fn find_by_username(conn: &Connection, username: &str) -> CoreResult<Option<AccountRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM accounts WHERE username = ?1"),
            [username],
            read,
        )
        .optional()?)
}

pub fn list(conn: &Connection) -> CoreResult<Vec<Account>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM accounts ORDER BY display_name COLLATE NOCASE, username"
    ))?;
    let rows = stmt.query_map([], read)?;
    Ok(rows
        .map(|r| r.map(|a| a.account))
        .collect::<Result<_, _>>()?)
}

pub fn update(
    conn: &Connection,
    id: &str,
    display_name: &str,
    role: Role,
    active: bool,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE accounts SET display_name = ?2, role = ?3, active = ?4, updated_at = ?5 WHERE id = ?1",
        params![id, display_name, role.as_str(), active, to_ms(now)],
    )?;
    Ok(())
}

pub fn set_password_hash(
    conn: &Connection,
    id: &str,
    hash: &str,
    now: Timestamp,
) -> CoreResult<()> {
    conn.execute(
        "UPDATE accounts SET password_hash = ?2, updated_at = ?3 WHERE id = ?1",
        params![id, hash, to_ms(now)],
    )?;
    Ok(())
}

/// Sets (or clears) an account's e-mail, already validated; another account's e-mail is refused.
pub fn set_email(conn: &Connection, id: &str, email: Option<&str>) -> CoreResult<()> {
    conn.execute(
        "UPDATE accounts SET email = ?2 WHERE id = ?1",
        params![id, email],
    )
    .map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) => CoreError::conflict(format!(
            "Another account already has the e-mail {}.",
            email.unwrap_or_default()
        )),
        _ => e.into(),
    })?;
    Ok(())
}

/// Accounts by a lower-cased key: (id, display name).
pub type AccountsByKey = std::collections::HashMap<String, (String, String)>;

/// Active and inactive accounts by lower-cased e-mail, and by lower-cased username (a feed's
/// bookings are matched against both).
pub fn match_keys(conn: &Connection) -> CoreResult<(AccountsByKey, AccountsByKey)> {
    let mut by_email = std::collections::HashMap::new();
    let mut by_username = std::collections::HashMap::new();
    let mut stmt = conn.prepare("SELECT id, username, display_name, email FROM accounts")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    for row in rows {
        let (id, username, display_name, email) = row?;
        if let Some(email) = email {
            by_email.insert(email.to_lowercase(), (id.clone(), display_name.clone()));
        }
        by_username.insert(username.to_lowercase(), (id, display_name));
    }
    Ok((by_email, by_username))
}
