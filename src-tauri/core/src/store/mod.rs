//! Why this exists: the one door to the station's SQLite file. It opens the file with WAL and
//! foreign keys on, recognises a damaged file or one from a newer app version before touching it,
//! and applies the numbered migrations in `migrations/` from zero. Each table has its own query
//! file beside this one.

pub mod accounts;
pub mod auto_locks;
pub mod delivery_attempts;
pub mod events;
pub mod feeds;
pub mod interlock_audit;
pub mod interlock_readings;
pub mod interlock_state;
pub mod login_throttle;
pub mod order_lines;
pub mod orders;
pub mod outbox;
pub mod services;
pub mod settings;
pub mod usage;
pub mod webhooks;

use crate::error::{CoreError, CoreResult, ErrorCode};
use jiff::Timestamp;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// `PRAGMA application_id` of an Interlock Station database ("ILST").
pub const APPLICATION_ID: i64 = 0x494C_5354;

/// Numbered migrations, applied in order; `PRAGMA user_version` counts how many have run.
pub const MIGRATIONS: &[(&str, &str)] = &[
    ("0001_init", include_str!("../../migrations/0001_init.sql")),
    (
        "0002_webhooks",
        include_str!("../../migrations/0002_webhooks.sql"),
    ),
    (
        "0003_interlock",
        include_str!("../../migrations/0003_interlock.sql"),
    ),
    (
        "0004_safety_core",
        include_str!("../../migrations/0004_safety_core.sql"),
    ),
    (
        "0005_outbox_claims",
        include_str!("../../migrations/0005_outbox_claims.sql"),
    ),
    (
        "0006_usage",
        include_str!("../../migrations/0006_usage.sql"),
    ),
    (
        "0007_readings",
        include_str!("../../migrations/0007_readings.sql"),
    ),
    (
        "0008_feeds",
        include_str!("../../migrations/0008_feeds.sql"),
    ),
];

pub fn schema_version() -> i64 {
    MIGRATIONS.len() as i64
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

fn corrupt(path: &Path, detail: impl std::fmt::Display) -> CoreError {
    CoreError::new(
        ErrorCode::DatabaseCorrupt,
        format!(
            "The database file {} is damaged or is not an Interlock Station database ({detail}). \
             Move it aside to start fresh, or restore a backup.",
            path.display()
        ),
    )
}

impl Store {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> CoreResult<Store> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| {
                CoreError::new(
                    ErrorCode::Database,
                    format!("Cannot create the data folder {}: {e}", parent.display()),
                )
            })?;
        }
        let conn = Connection::open(path).map_err(|e| {
            CoreError::new(
                ErrorCode::Database,
                format!("Cannot open {}: {e}", path.display()),
            )
        })?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.prepare().map_err(|e| match e {
            OpenError::Core(e) => e,
            OpenError::Sqlite(e) if is_corrupt(&e) => corrupt(path, e),
            OpenError::Sqlite(e) => e.into(),
        })?;
        Ok(store)
    }

    fn prepare(&mut self) -> Result<(), OpenError> {
        let c = &self.conn;
        c.busy_timeout(std::time::Duration::from_secs(5))?;
        // The outbox's rounds use a few multi-row statements per table (one per chunk size).
        c.set_prepared_statement_cache_capacity(64);
        // Reading the header first turns "file is not a database" into a clear error early.
        let app_id: i64 = c.query_row("PRAGMA application_id", [], |r| r.get(0))?;
        let version: i64 = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        let has_tables: bool =
            c.query_row("SELECT count(*) > 0 FROM sqlite_schema", [], |r| r.get(0))?;
        if app_id != APPLICATION_ID && (app_id != 0 || (has_tables && version == 0)) {
            return Err(corrupt(&self.path, "it belongs to another program").into());
        }
        if version > schema_version() {
            return Err(CoreError::new(
                ErrorCode::DatabaseTooNew,
                format!(
                    "The database {} was written by a newer version of Interlock Station \
                     (schema {version}; this version knows up to {}). Install the newer version, \
                     or start this one with another data folder.",
                    self.path.display(),
                    schema_version()
                ),
            )
            .into());
        }
        let check: String = c.query_row("PRAGMA quick_check", [], |r| r.get(0))?;
        if check != "ok" {
            return Err(corrupt(&self.path, check).into());
        }
        c.pragma_update(None, "journal_mode", "WAL")?;
        c.pragma_update(None, "synchronous", "NORMAL")?;
        // Foreign keys are off while migrations run, so a table can be rebuilt (SQLite's
        // documented way to change a column) without its DROP cascading; each migration checks
        // them before it commits.
        c.pragma_update(None, "foreign_keys", false)?;
        let migrated = self.migrate(version);
        self.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(migrated?)
    }

    fn migrate(&mut self, from: i64) -> CoreResult<()> {
        for (index, (name, sql)) in MIGRATIONS.iter().enumerate().skip(from as usize) {
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql).map_err(|e| {
                CoreError::new(ErrorCode::Database, format!("Migration {name} failed: {e}"))
            })?;
            let dangling: i64 =
                tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
            if dangling > 0 {
                return Err(CoreError::new(
                    ErrorCode::Database,
                    format!("Migration {name} failed: {dangling} rows would break a reference."),
                ));
            }
            tx.pragma_update(None, "user_version", index as i64 + 1)?;
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.commit()?;
            tracing::info!(migration = name, "applied database migration");
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn conn_mut(&mut self) -> &mut Connection {
        &mut self.conn
    }
}

/// Opening distinguishes raw SQLite failures (to be named with the file's path) from our own.
enum OpenError {
    Sqlite(rusqlite::Error),
    Core(CoreError),
}

impl From<rusqlite::Error> for OpenError {
    fn from(e: rusqlite::Error) -> Self {
        OpenError::Sqlite(e)
    }
}

impl From<CoreError> for OpenError {
    fn from(e: CoreError) -> Self {
        OpenError::Core(e)
    }
}

fn is_corrupt(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

pub fn to_ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

/// Instants outside jiff's range are clamped to its ends (a saturated "never" stays never; it
/// must not turn into 1970 and fire at once).
pub fn from_ms(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(if ms > 0 {
        Timestamp::MAX
    } else {
        Timestamp::MIN
    })
}

pub fn new_id() -> String {
    ulid::Ulid::new().to_string()
}
