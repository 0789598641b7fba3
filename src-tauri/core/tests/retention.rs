//! Bounded history on the injected clock against a real SQLite file: settled deliveries, delivery
//! attempts and audit entries older than the retention setting are pruned (pending deliveries
//! never), the setting is validated and kept by administrators, and the logs are read a page at a
//! time.

mod common;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::retention::DEFAULT_RETENTION_DAYS;
use interlock_core::webhook::*;
use interlock_core::{outbox, ErrorCode, Role};
use jiff::SignedDuration;
use std::sync::Arc;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

fn count(f: &Fixture, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(f.db_path()).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn order(f: &Fixture) {
    f.station
        .create_order(OrderInput {
            reference: format!("O-{}", ulid::Ulid::new()),
            customer: "Lab".into(),
            status: OrderStatus::Open,
            lines: vec![],
        })
        .unwrap();
}

const DAY: SignedDuration = SignedDuration::from_hours(24);

#[tokio::test(flavor = "multi_thread")]
async fn history_older_than_the_retention_is_pruned_and_nothing_else() {
    let f = Fixture::new();
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(r#"{"status":"locked"}"#, "application/json"),
        )
        .mount(&server)
        .await;
    let svc = f.service("Confocal", &["has_interlock"]);
    f.station
        .save_webhook(
            None,
            WebhookInput::new(
                "lims",
                Action::new(ActionType::Order, ActionSubtype::Create),
                &format!("{}/order", server.uri()),
            ),
        )
        .unwrap();
    f.station
        .save_webhook(
            None,
            WebhookInput {
                service_id: Some(svc.id.clone()),
                verb: Verb::Get,
                ..WebhookInput::new(
                    "status",
                    Action::new(ActionType::Interlock, ActionSubtype::Status),
                    &format!("{}/status", server.uri()),
                )
            },
        )
        .unwrap();
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let ctl = InterlockController::new(f.station.clone(), deliverer.clone());

    // Day 0: a delivered order webhook and an audited status check.
    order(&f);
    outbox::drain_now(&f.station, &deliverer).await.unwrap();
    ctl.command(&svc.id, None, InterlockAction::Status, None)
        .await
        .unwrap();
    // Also day 0: a delivery that keeps failing stays pending (retried later), whatever its age.
    let dead = f
        .station
        .save_webhook(
            None,
            WebhookInput {
                timeout_secs: 1,
                ..WebhookInput::new(
                    "down",
                    Action::new(ActionType::Order, ActionSubtype::Create),
                    "http://127.0.0.1:9/down",
                )
            },
        )
        .unwrap()
        .webhook;
    order(&f);
    outbox::drain_now(&f.station, &deliverer).await.unwrap();
    let pending = "SELECT COUNT(*) FROM outbox WHERE state = 'pending'";
    assert_eq!(count(&f, pending), 1);
    f.station.delete_webhook(&dead.id).ok();
    // The cascade removed the dead webhook's pending row; make one that stays pending forever.
    let conn = rusqlite::Connection::open(f.db_path()).unwrap();
    let lims: String = conn
        .query_row("SELECT id FROM webhooks WHERE name = 'lims'", [], |r| {
            r.get(0)
        })
        .unwrap();
    conn.execute(
        "INSERT INTO outbox (id, webhook_id, action_type, action_subtype, payload, state, attempts,
             next_attempt_at, created_at, updated_at)
         VALUES ('old-pending', ?1, 'order', 'create', '{}', 'pending', 3, ?2, ?3, ?3)",
        rusqlite::params![
            lims,
            f.clock_now().as_millisecond() + 5000 * 86_400_000,
            f.clock_now().as_millisecond()
        ],
    )
    .unwrap();
    let day0 = (
        count(&f, "SELECT COUNT(*) FROM outbox WHERE state <> 'pending'"),
        count(&f, "SELECT COUNT(*) FROM delivery_attempts"),
        count(&f, "SELECT COUNT(*) FROM interlock_audit"),
    );
    assert!(day0.0 >= 1 && day0.1 >= 1 && day0.2 >= 1, "{day0:?}");

    // Day 399: new history; nothing is old enough yet.
    f.clock.advance(DAY * 399);
    f.sign_in_as("admin"); // after the idle sign-out
    order(&f);
    outbox::drain_now(&f.station, &deliverer).await.unwrap();
    ctl.command(&svc.id, None, InterlockAction::Status, None)
        .await
        .unwrap();
    assert_eq!(f.station.retention_days().unwrap(), DEFAULT_RETENTION_DAYS);
    let r = f.station.prune_history().unwrap();
    assert_eq!(
        (r.outbox_rows, r.delivery_attempts, r.audit_entries),
        (0, 0, 0)
    );

    // Day 400 + 1 minute: day 0 goes, day 399 and the pending row stay.
    f.clock.advance(DAY + SignedDuration::from_mins(1));
    f.sign_in_as("admin"); // after the idle sign-out
    let r = f.station.prune_history().unwrap();
    assert_eq!(r.cutoff, f.clock_now() - DAY * 400);
    assert_eq!(
        (
            r.outbox_rows as i64,
            r.delivery_attempts as i64,
            r.audit_entries as i64
        ),
        day0
    );
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM outbox WHERE id = 'old-pending'"),
        1,
        "a pending delivery is never pruned"
    );
    assert!(count(&f, "SELECT COUNT(*) FROM delivery_attempts") >= 1);
    assert!(count(&f, "SELECT COUNT(*) FROM interlock_audit") >= 1);
    let now_ms = f.clock_now().as_millisecond();
    assert_eq!(
        count(
            &f,
            &format!(
                "SELECT COUNT(*) FROM delivery_attempts WHERE attempted_at < {}",
                now_ms - 400 * 86_400_000
            )
        ),
        0
    );

    // A shorter retention prunes the day-399 history too.
    f.station.set_retention_days(30).unwrap();
    assert_eq!(f.reopen().retention_days().unwrap(), 30);
    f.clock.advance(DAY * 31);
    f.sign_in_as("admin"); // after the idle sign-out
    let r = f.station.prune_history().unwrap();
    assert!(r.delivery_attempts >= 1 && r.audit_entries >= 1, "{r:?}");
    assert_eq!(count(&f, "SELECT COUNT(*) FROM interlock_audit"), 0);
    assert_eq!(
        count(&f, "SELECT COUNT(*) FROM outbox WHERE state <> 'pending'"),
        0
    );
    assert_eq!(count(&f, pending), 1);
}

#[test]
fn the_retention_setting_is_validated_and_for_administrators() {
    let f = Fixture::new();
    f.account("sam", Role::FacilityStaff);
    for bad in [0, 29, 3651, u32::MAX] {
        assert_eq!(
            f.station.set_retention_days(bad).unwrap_err().code,
            ErrorCode::Validation,
            "{bad}"
        );
    }
    for good in [30, 400, 3650] {
        f.station.set_retention_days(good).unwrap();
        assert_eq!(f.station.retention_days().unwrap(), good);
    }
    f.sign_in_as("sam");
    assert_eq!(
        f.station.set_retention_days(100).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        f.station.prune_history().unwrap_err().code,
        ErrorCode::Forbidden
    );
    f.station.sign_out();
    assert_eq!(
        f.station.prune_history().unwrap_err().code,
        ErrorCode::NotSignedIn
    );
    // The app's daily task runs while nobody is signed in.
    f.station.prune_history_unchecked().unwrap();
}

#[test]
fn the_retention_setting_travels_in_config_export_and_import() {
    let from = Fixture::new();
    from.station.set_retention_days(90).unwrap();
    let file = from.station.export_config().unwrap();
    assert_eq!(file.settings.history_retention_days, Some(90));
    let json = serde_json::to_value(&file).unwrap();
    assert_eq!(json["settings"]["history_retention_days"], 90, "{json}");

    // Round trip through the JSON text onto another station.
    let to = Fixture::new();
    assert_eq!(to.station.retention_days().unwrap(), DEFAULT_RETENTION_DAYS);
    let text = serde_json::to_string_pretty(&file).unwrap();
    let parsed: interlock_core::transfer::ConfigFile = serde_json::from_str(&text).unwrap();
    to.station.import_config(&parsed).unwrap();
    assert_eq!(to.station.retention_days().unwrap(), 90);
    assert_eq!(to.station.export_config().unwrap().settings, file.settings);

    // Refused with the Settings window's rule, all or nothing: the idle time of the same file is
    // not written either.
    for bad in [0, 29, 3651] {
        let mut wrong = file.clone();
        wrong.settings.history_retention_days = Some(bad);
        wrong.settings.idle_timeout_minutes = 42;
        let before = to.station.export_config().unwrap();
        let err = to.station.import_config(&wrong).unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(
            err.message,
            "settings.history_retention_days: History is kept between 30 and 3650 days.",
            "{bad}"
        );
        assert_eq!(to.station.export_config().unwrap(), before, "{bad}");
    }

    // A file from before the setting was exported keeps the station's value.
    let mut older = file.clone();
    older.settings.history_retention_days = None;
    let text = serde_json::to_string(&older).unwrap();
    assert!(!text.contains("history_retention_days"), "{text}");
    to.station.set_retention_days(120).unwrap();
    to.station.import_config(&older).unwrap();
    assert_eq!(to.station.retention_days().unwrap(), 120);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_logs_are_read_a_page_at_a_time() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &["has_interlock"]);
    f.station
        .save_webhook(
            None,
            WebhookInput {
                timeout_secs: 1,
                ..WebhookInput::new(
                    "down",
                    Action::new(ActionType::Order, ActionSubtype::Create),
                    "http://127.0.0.1:9/down",
                )
            },
        )
        .unwrap();
    f.station
        .save_webhook(
            None,
            WebhookInput {
                service_id: Some(svc.id.clone()),
                verb: Verb::Get,
                timeout_secs: 1,
                ..WebhookInput::new(
                    "status",
                    Action::new(ActionType::Interlock, ActionSubtype::Status),
                    "http://127.0.0.1:9/status",
                )
            },
        )
        .unwrap();
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let ctl = InterlockController::new(f.station.clone(), deliverer.clone());
    for _ in 0..5 {
        order(&f);
        outbox::drain_now(&f.station, &deliverer).await.unwrap();
        ctl.command(&svc.id, None, InterlockAction::Status, None)
            .await
            .unwrap();
        // Less than the first retry's delay: each order is attempted once.
        f.clock.advance(SignedDuration::from_secs(1));
    }
    let all_attempts: Vec<String> = f
        .station
        .list_deliveries(None, None, 100)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(all_attempts.len(), 5);
    let all_audit: Vec<String> = f
        .station
        .interlock_audit(100)
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(all_audit.len(), 5);

    let mut seen = Vec::new();
    let mut before = None;
    let mut pages = 0;
    loop {
        let page = f
            .station
            .deliveries_page(None, None, 2, before.as_deref())
            .unwrap();
        pages += 1;
        seen.extend(page.items.into_iter().map(|a| a.id));
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen, all_attempts, "newest first, each once");
    assert_eq!(pages, 3);

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let page = f
            .station
            .interlock_audit_page(2, before.as_deref())
            .unwrap();
        seen.extend(page.items.into_iter().map(|a| a.id));
        match page.next_before {
            Some(b) => before = Some(b),
            None => break,
        }
    }
    assert_eq!(seen, all_audit);
    // A page that ends exactly at the last entry says so on the next read: empty, no cursor.
    let last = f.station.interlock_audit_page(5, None).unwrap();
    let rest = f
        .station
        .interlock_audit_page(5, last.next_before.as_deref())
        .unwrap();
    assert!(rest.items.is_empty() && rest.next_before.is_none());
    assert_eq!(
        f.station
            .interlock_audit_page(2, Some("not-a-position"))
            .unwrap_err()
            .code,
        ErrorCode::Validation
    );
    f.account("uma", Role::InstrumentUser);
    f.sign_in_as("uma");
    assert_eq!(
        f.station.interlock_audit_page(2, None).unwrap_err().code,
        ErrorCode::Forbidden
    );
    assert_eq!(
        f.station
            .deliveries_page(None, None, 2, None)
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}
