//! `interlock-station usage export` as the billing office runs it: the real binary on a real
//! station file, in a fixed time zone (TZ=Europe/Berlin), its CSV parsed back with the `csv`
//! crate (RFC 4180: quoted fields, CRLF), UTC and local times naming the same instants; JSON;
//! a malformed date is a usage error (2), an empty range is refused (1).

use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::{Role, Station, SystemClock};
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

fn app(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interlock-station"));
    c.arg("--data-dir").arg(data_dir).env("TZ", "Europe/Berlin");
    c
}

fn t(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

fn station(dir: &Path) -> (String, String) {
    let s = Station::open(
        &dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    let uma = s
        .create_account(NewAccount {
            email: None,
            username: "uma".into(),
            display_name: "Uma, \"the\" User".into(),
            role: Role::InstrumentUser,
            password: "password-123".into(),
        })
        .unwrap();
    let svc = s
        .create_service(ServiceInput {
            name: "Confocal 2".into(),
            description: String::new(),
            tags: vec!["has_interlock".into(), "trim_end_on_lock".into()],
        })
        .unwrap();
    let used = s
        .create_event(EventInput {
            service_id: svc.id.clone(),
            user_id: uma.id.clone(),
            title: "Imaging, live\ncells".into(),
            starts_at: t("2026-11-30T09:00:00Z"),
            ends_at: t("2026-11-30T10:00:00Z"),
            order_id: None,
            line_id: None,
        })
        .unwrap();
    let unused = s
        .create_event(EventInput {
            service_id: svc.id.clone(),
            user_id: uma.id.clone(),
            title: "No show".into(),
            starts_at: t("2026-11-30T12:00:00Z"),
            ends_at: t("2026-11-30T13:00:00Z"),
            order_id: None,
            line_id: None,
        })
        .unwrap();
    // The usage as the interlock records it (the rules are tested in the core's tests/usage.rs).
    let conn = rusqlite::Connection::open(dir.join("station.sqlite3")).unwrap();
    interlock_core::store::usage::record_start(&conn, &used.id, t("2026-11-30T09:05:40Z"), &uma)
        .unwrap();
    interlock_core::store::usage::record_end(&conn, &used.id, t("2026-11-30T09:41:12Z"), &uma)
        .unwrap();
    (used.id, unused.id)
}

#[test]
fn usage_export_writes_rfc4180_csv_with_utc_and_local_times() {
    let dir = tempfile::tempdir().unwrap();
    let (used, unused) = station(dir.path());
    let out = app(dir.path())
        .args([
            "usage",
            "export",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-30",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.ends_with("\r\n"));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let r = &rows[0];
    assert_eq!(&r[col("event_id")], used);
    assert_eq!(&r[col("service")], "Confocal 2");
    assert_eq!(&r[col("username")], "uma");
    assert_eq!(&r[col("user_name")], "Uma, \"the\" User");
    assert_eq!(&r[col("title")], "Imaging, live\ncells");
    assert_eq!(&r[col("actual_start_utc")], "2026-11-30T09:05:40Z");
    assert_eq!(&r[col("actual_start_local")], "2026-11-30T10:05:40+01:00");
    assert_eq!(&r[col("actual_end_utc")], "2026-11-30T09:41:12Z");
    assert_eq!(&r[col("actual_end_local")], "2026-11-30T10:41:12+01:00");
    assert_eq!(&r[col("booked_start_local")], "2026-11-30T10:00:00+01:00");
    assert_eq!(&r[col("started_by")], "uma");
    assert_eq!(&r[col("used_minutes")], "36");
    assert_eq!(&r[col("booked_minutes")], "60");
    assert_eq!(&r[col("time_zone")], "Europe/Berlin");
    assert_eq!(&r[col("in_use")], "no");
    assert_eq!(&rows[1][col("event_id")], unused);
    assert_eq!(&rows[1][col("actual_start_utc")], "");
    assert_eq!(&rows[1][col("used_minutes")], "");

    // A range of days in local time: 2026-12-01 holds nothing.
    let out = app(dir.path())
        .args([
            "usage",
            "export",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-01",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 1, "only the header: {text}");
}

#[test]
fn usage_export_json_and_refusals() {
    let dir = tempfile::tempdir().unwrap();
    let (used, _) = station(dir.path());
    let out = app(dir.path())
        .args([
            "usage",
            "export",
            "--from",
            "2026-11-01",
            "--to",
            "2026-11-30",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["entries"][0]["event_id"], used.as_str());
    assert_eq!(
        report["entries"][0]["usage"]["started_at"],
        "2026-11-30T09:05:40Z"
    );
    assert_eq!(report["totals"][0]["used_minutes"], 36);
    assert_eq!(report["totals"][0]["bookings"], 2);

    let bad = app(dir.path())
        .args([
            "usage",
            "export",
            "--from",
            "30.11.2026",
            "--to",
            "2026-11-30",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("YYYY-MM-DD"));
    let backwards = app(dir.path())
        .args([
            "usage",
            "export",
            "--from",
            "2026-11-30",
            "--to",
            "2026-11-01",
        ])
        .output()
        .unwrap();
    assert_eq!(backwards.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&backwards.stderr).contains("on or after"));
}
