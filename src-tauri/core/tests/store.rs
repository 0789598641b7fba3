//! The database file: migrations from zero, pragmas, and clear errors for damaged or newer files.

mod common;
use common::*;
use interlock_core::store::{schema_version, Store, APPLICATION_ID, MIGRATIONS};
use interlock_core::{ErrorCode, ManualClock, Station};
use std::sync::Arc;

#[test]
fn migrations_apply_from_zero_on_a_fresh_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/folder/station.sqlite3");
    let store = Store::open(&path).unwrap();
    let c = store.conn();
    let version: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert_eq!(version, schema_version());
    let app_id: i64 = c
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .unwrap();
    assert_eq!(app_id, APPLICATION_ID);
    let fk: i64 = c
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1, "foreign keys must be on");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let mut tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables.retain(|t| !t.starts_with("sqlite_"));
    assert_eq!(
        tables,
        [
            "accounts",
            "auto_locks",
            "delivery_attempts",
            "events",
            "feeds",
            "interlock_audit",
            "interlock_readings",
            "interlock_state",
            "login_throttle",
            "order_lines",
            "orders",
            "outbox",
            "services",
            "settings",
            "usage_records",
            "webhooks",
        ]
    );
}

#[test]
fn reopening_keeps_data_and_does_not_reapply_migrations() {
    let f = Fixture::new();
    f.service("Confocal", &["has_interlock"]);
    let path = f.db_path();
    drop(f.station);
    let again = Station::open(&path, f.clock.clone(), memory_secrets()).unwrap();
    again.sign_in("admin", ADMIN_PW).unwrap();
    let services = again.list_services().unwrap();
    assert_eq!(services.len(), 1);
    assert_eq!(services[0].name, "Confocal");
}

#[test]
fn a_database_from_a_newer_version_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("station.sqlite3");
    drop(Store::open(&path).unwrap());
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Station::open(
        &path,
        Arc::new(ManualClock::new(t("2026-01-01T00:00:00Z"))),
        memory_secrets(),
    )
    .unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseTooNew);
    assert!(
        err.message.contains("newer version of Interlock Station"),
        "{}",
        err.message
    );
    assert!(err.message.contains("schema 99"), "{}", err.message);
    // Nothing was changed: the version is still the newer one.
    let c = rusqlite::Connection::open(&path).unwrap();
    let v: i64 = c
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, 99);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("station.sqlite3");
    std::fs::write(
        &path,
        b"this is certainly not an sqlite database, just some text that is long enough",
    )
    .unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt);
    assert!(
        err.message
            .contains("damaged or is not an Interlock Station database"),
        "{}",
        err.message
    );
    assert!(err.message.contains(&path.display().to_string()));
    assert_eq!(
        err.message.matches("damaged").count(),
        1,
        "said once: {}",
        err.message
    );
    // The file is left as it was, for recovery.
    assert!(std::fs::read(&path)
        .unwrap()
        .starts_with(b"this is certainly"));
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.sqlite3");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("CREATE TABLE photos (id INTEGER PRIMARY KEY);")
            .unwrap();
    }
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt);
    assert!(err.message.contains("another program"), "{}", err.message);
}

#[test]
fn a_truncated_database_is_refused() {
    let f = Fixture::new();
    for i in 0..50 {
        f.service(&format!("Service {i:02}"), &["x"]);
    }
    let path = f.db_path();
    drop(f.station);
    // Fold the WAL in, then cut the file in half.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    let _ = std::fs::remove_file(path.with_extension("sqlite3-wal"));
    let _ = std::fs::remove_file(path.with_extension("sqlite3-shm"));
    let mut damaged = bytes.clone();
    for b in damaged.iter_mut().skip(4096).take(4096) {
        *b = 0xA5;
    }
    std::fs::write(&path, &damaged).unwrap();
    let err = Store::open(&path).unwrap_err();
    assert_eq!(err.code, ErrorCode::DatabaseCorrupt, "{}", err.message);
}

/// Migration 0008 rebuilds `events` (an account becomes optional for synced bookings): a station
/// upgraded from schema 7 keeps every booking and its usage record.
#[test]
fn upgrading_from_schema_7_keeps_bookings_and_their_usage() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("station.sqlite3");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.pragma_update(None, "foreign_keys", true).unwrap();
        for (_, sql) in &MIGRATIONS[..7] {
            c.execute_batch(sql).unwrap();
        }
        c.pragma_update(None, "user_version", 7).unwrap();
        c.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        c.execute_batch(
            "INSERT INTO accounts VALUES ('A', 'uma', 'Uma', 'instrument_user', 'h', 1, 0, 0);
             INSERT INTO services (id, name, created_at, updated_at) VALUES ('S', 'Confocal', 0, 0);
             INSERT INTO events (id, service_id, user_id, title, starts_at, ends_at, created_at,
                                 updated_at) VALUES ('E', 'S', 'A', 'Imaging', 1000, 2000, 0, 0);
             INSERT INTO usage_records (event_id, started_at) VALUES ('E', 1100);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let c = store.conn();
    let (user, title): (Option<String>, String) = c
        .query_row(
            "SELECT user_id, title FROM events WHERE id = 'E'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((user.as_deref(), title.as_str()), (Some("A"), "Imaging"));
    let started: i64 = c
        .query_row(
            "SELECT started_at FROM usage_records WHERE event_id = 'E'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(started, 1100, "the usage record survived the rebuild");
    let fk: i64 = c
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(fk, 1);
    // The usage record still belongs to its booking: deleting the booking takes it along.
    c.execute("DELETE FROM events WHERE id = 'E'", []).unwrap();
    let left: i64 = c
        .query_row("SELECT count(*) FROM usage_records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}
