//! Usage and the lock tags on the injected clock against a real relay on 127.0.0.1: a lock
//! inside the booking's window moves its end (`set_end_on_lock` later or earlier,
//! `trim_end_on_lock` only earlier), never past the next booking's start; staff acting on a
//! user's booking; a lock outside any booking or window changes nothing; the moved end fires the
//! `event/update` webhook to a real receiver and re-times the pending auto-lock; the usage record
//! keeps the first unlock and the last lock (auto-lock included) with who did each; the
//! post-lock link is filled in; the report totals and its CSV parse back with the `csv` crate.

mod common;
use common::relay::{Mode, Relay};
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{AutoLockStep, InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::webhook::*;
use interlock_core::{outbox, ErrorCode, Role, Station};
use std::sync::Arc;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Scene {
    f: Fixture,
    station: Arc<Station>,
    ctl: Arc<InterlockController>,
    svc: Service,
    uma: Account,
    vic: Account,
    booking: Event,
    relay: Relay,
    receiver: MockServer,
}

/// Confocal tagged `has_interlock` (lead 5, post 30) plus `extra` tags, with lock, unlock and
/// status webhooks on a real relay and an `event/update` webhook to a real receiver; Uma's
/// booking 10:00–11:00. Staff account `sam`. Signed in as admin at 08:00.
async fn scene(extra: &[&str]) -> Scene {
    let f = Fixture::new();
    let uma = f.account("uma", Role::InstrumentUser);
    let vic = f.account("vic", Role::InstrumentUser);
    f.account("sam", Role::FacilityStaff);
    let relay = Relay::start(true).await;
    let mut tags = vec!["has_interlock"];
    tags.extend_from_slice(extra);
    let svc = f.service("Confocal", &tags);
    for (sub, path) in [
        (ActionSubtype::Unlock, "/unlock"),
        (ActionSubtype::Lock, "/lock"),
        (ActionSubtype::Status, "/status"),
    ] {
        f.station
            .save_webhook(
                None,
                WebhookInput {
                    service_id: Some(svc.id.clone()),
                    timeout_secs: 2,
                    ..WebhookInput::new(
                        path,
                        Action::new(ActionType::Interlock, sub),
                        &format!("{}{path}", relay.url),
                    )
                },
            )
            .unwrap();
    }
    let receiver = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    f.station
        .save_webhook(
            None,
            WebhookInput {
                timeout_secs: 5,
                ..WebhookInput::new(
                    "lims",
                    Action::new(ActionType::Event, ActionSubtype::Update),
                    &format!("{}/event-update", receiver.uri()),
                )
            },
        )
        .unwrap();
    let booking = f.event(&svc, &uma, "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z");
    let station = Arc::new(f.reopen());
    station.sign_in("admin", ADMIN_PW).unwrap();
    let ctl = Arc::new(InterlockController::new(
        station.clone(),
        Arc::new(Deliverer::new().unwrap()),
    ));
    Scene {
        f,
        station,
        ctl,
        svc,
        uma,
        vic,
        booking,
        relay,
        receiver,
    }
}

impl Scene {
    async fn as_at(
        &self,
        who: &str,
        when: &str,
        action: InterlockAction,
        event: Option<&Event>,
    ) -> interlock_core::interlock::InterlockResult {
        self.f.clock.set(t(when));
        let pw = if who == "admin" { ADMIN_PW } else { PW };
        self.station.sign_in(who, pw).unwrap();
        let r = self
            .ctl
            .command(&self.svc.id, event.map(|e| e.id.as_str()), action, None)
            .await
            .unwrap();
        assert!(r.ok, "{r:?}");
        r
    }
    async fn unlock(&self, who: &str, when: &str) {
        self.as_at(who, when, InterlockAction::Unlock, Some(&self.booking))
            .await;
    }
    async fn lock(&self, who: &str, when: &str) -> interlock_core::interlock::InterlockResult {
        self.as_at(who, when, InterlockAction::Lock, Some(&self.booking))
            .await
    }
    fn get(&self, e: &Event) -> Event {
        self.station.sign_in("admin", ADMIN_PW).unwrap();
        self.station
            .list_events()
            .unwrap()
            .into_iter()
            .find(|x| x.id == e.id)
            .unwrap()
    }
    fn book(&self, who: &Account, start: &str, end: &str) -> Event {
        self.station.sign_in("admin", ADMIN_PW).unwrap();
        self.station
            .create_event(self.f.event_input(&self.svc, who, start, end))
            .unwrap()
    }
    async fn updates_delivered(&self) -> Vec<serde_json::Value> {
        outbox::deliver_due(&self.station, &Arc::new(Deliverer::new().unwrap()))
            .await
            .unwrap();
        self.receiver
            .received_requests()
            .await
            .unwrap()
            .iter()
            .map(|r| serde_json::from_slice(&r.body).unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn set_end_on_lock_extends_past_the_scheduled_end_and_fires_event_update() {
    let s = scene(&["set_end_on_lock"]).await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    // 11:20 is after the scheduled end (11:00) but inside the window (until 11:30).
    let r = s.lock("uma", "2026-11-30T11:20:00.750Z").await;
    assert_eq!(r.booking_ends_at, Some(t("2026-11-30T11:20:00Z")));
    let after = s.get(&s.booking);
    assert_eq!(after.ends_at, t("2026-11-30T11:20:00Z"), "whole seconds");
    assert_eq!(after.starts_at, s.booking.starts_at);
    let usage = after.usage.unwrap();
    assert_eq!(usage.booked_ends_at, Some(t("2026-11-30T11:00:00Z")));
    assert_eq!(usage.ended_at, Some(t("2026-11-30T11:20:00.750Z")));
    // The event/update webhook arrives at the real receiver for this booking; §2 fixes the
    // payload to order_id + event_id (+ configured body), so the receiver reads the new end
    // from the booking, which was changed in the same transaction that queued the delivery.
    let got = s.updates_delivered().await;
    assert_eq!(
        got,
        [serde_json::json!({"order_id": null, "event_id": s.booking.id})]
    );
    assert_eq!(s.get(&s.booking).ends_at, t("2026-11-30T11:20:00Z"));
    // The audit log says what moved.
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let audit = s.station.interlock_audit(10).unwrap();
    let lock = audit.iter().find(|a| a.action == "lock").unwrap();
    assert!(
        lock.reason.contains("booking end moved from"),
        "{}",
        lock.reason
    );
    assert!(lock.reason.contains("set_end_on_lock"), "{}", lock.reason);
}

#[tokio::test(flavor = "multi_thread")]
async fn set_end_on_lock_also_ends_early_and_clamps_to_the_next_booking() {
    let s = scene(&["set_end_on_lock"]).await;
    let vic = s.book(&s.vic, "2026-11-30T11:10:00Z", "2026-11-30T12:00:00Z");
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.lock("uma", "2026-11-30T10:40:00Z").await;
    assert_eq!(s.get(&s.booking).ends_at, t("2026-11-30T10:40:00Z"));
    // Unlocked again and locked after Vic's booking started: the end stops at 11:10.
    s.unlock("uma", "2026-11-30T10:50:00Z").await;
    let r = s.lock("uma", "2026-11-30T11:09:00Z").await;
    assert_eq!(r.booking_ends_at, Some(t("2026-11-30T11:09:00Z")));
    s.unlock("uma", "2026-11-30T11:10:00Z").await;
    let r = s.lock("uma", "2026-11-30T11:15:00Z").await;
    assert_eq!(r.booking_ends_at, Some(t("2026-11-30T11:10:00Z")));
    assert_eq!(s.get(&s.booking).ends_at, t("2026-11-30T11:10:00Z"));
    assert_eq!(
        s.get(&vic).starts_at,
        t("2026-11-30T11:10:00Z"),
        "never moved"
    );
    // Locked again with the end already at the clamp: nothing moves, no new webhook.
    let before = s.updates_delivered().await.len();
    let r = s.lock("uma", "2026-11-30T11:20:00Z").await;
    assert_eq!(r.booking_ends_at, None);
    assert_eq!(s.updates_delivered().await.len(), before);
    assert_eq!(before, 3, "one event/update per move");
}

#[tokio::test(flavor = "multi_thread")]
async fn trim_end_on_lock_only_shortens_and_clamps_too() {
    let s = scene(&["trim_end_on_lock"]).await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    // After the scheduled end: nothing moves.
    let late = s.booking.clone();
    let r = s.lock("uma", "2026-11-30T11:15:00Z").await;
    assert_eq!(r.booking_ends_at, None);
    assert_eq!(s.get(&late).ends_at, t("2026-11-30T11:00:00Z"));
    assert!(s.updates_delivered().await.is_empty());
    // Earlier than the end: trimmed.
    s.unlock("uma", "2026-11-30T11:16:00Z").await;
    let s2 = scene(&["trim_end_on_lock"]).await;
    s2.book(&s2.vic, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");
    s2.unlock("uma", "2026-11-30T10:05:00Z").await;
    let r = s2.lock("uma", "2026-11-30T10:35:00Z").await;
    assert_eq!(r.booking_ends_at, Some(t("2026-11-30T10:35:00Z")));
    assert_eq!(s2.get(&s2.booking).ends_at, t("2026-11-30T10:35:00Z"));
    // A later lock (after the trimmed end, before the next start) does not extend it back.
    s2.unlock("uma", "2026-11-30T10:40:00Z").await;
    let r = s2.lock("uma", "2026-11-30T10:50:00Z").await;
    assert_eq!(r.booking_ends_at, None);
    assert_eq!(s2.get(&s2.booking).ends_at, t("2026-11-30T10:35:00Z"));
    assert_eq!(s2.updates_delivered().await.len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_locking_on_a_users_booking_moves_its_end() {
    let s = scene(&["set_end_on_lock"]).await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.lock("sam", "2026-11-30T10:30:00Z").await;
    let after = s.get(&s.booking);
    assert_eq!(after.ends_at, t("2026-11-30T10:30:00Z"));
    let usage = after.usage.unwrap();
    assert_eq!(usage.started_by.as_deref(), Some("uma"));
    assert_eq!(usage.ended_by.as_deref(), Some("sam"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lock_outside_any_booking_or_its_window_changes_nothing() {
    let s = scene(&["set_end_on_lock"]).await;
    // Staff lock the instrument itself (no booking) during Uma's booking.
    s.as_at("sam", "2026-11-30T10:30:00Z", InterlockAction::Lock, None)
        .await;
    let after = s.get(&s.booking);
    assert_eq!(after.ends_at, s.booking.ends_at);
    assert_eq!(after.usage, None);
    // Staff lock on the booking after its window closed (11:30): the end stays.
    let r = s.lock("sam", "2026-11-30T12:00:00Z").await;
    assert_eq!(r.booking_ends_at, None);
    assert_eq!(s.get(&s.booking).ends_at, s.booking.ends_at);
    // A lock in the lead time, before the booking began, leaves it as booked.
    let s = scene(&["set_end_on_lock"]).await;
    s.unlock("uma", "2026-11-30T09:56:00Z").await;
    let r = s.lock("uma", "2026-11-30T09:58:00Z").await;
    assert_eq!(r.booking_ends_at, None);
    assert_eq!(s.get(&s.booking).ends_at, s.booking.ends_at);
    assert!(s.updates_delivered().await.is_empty());
    // Without either tag a lock never moves the end.
    let s = scene(&[]).await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.lock("uma", "2026-11-30T10:30:00Z").await;
    assert_eq!(s.get(&s.booking).ends_at, s.booking.ends_at);
    assert!(s.updates_delivered().await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_moved_end_re_times_the_pending_auto_lock_in_the_same_step() {
    let s = scene(&["set_end_on_lock"]).await;
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.station.set_service_auto_lock(&s.svc.id, true).unwrap();
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let pending = s.ctl.panel(&s.svc.id).unwrap().auto_lock.unwrap();
    assert_eq!(pending.due_at, t("2026-11-30T11:30:00Z"));
    // The relay answers the lock but stays unlocked: not confirmed, so the auto-lock stays,
    // and follows the end the lock gave the booking (10:40 + 30 min).
    s.relay.set_mode(Mode::Stuck);
    s.lock("uma", "2026-11-30T10:40:00Z").await;
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let pending = s.ctl.panel(&s.svc.id).unwrap().auto_lock.unwrap();
    assert_eq!(pending.due_at, t("2026-11-30T11:10:00Z"));
    let audit = s.station.interlock_audit(20).unwrap();
    assert!(
        audit
            .iter()
            .any(|a| a.action == "auto_lock" && a.result == "retimed"),
        "{audit:?}"
    );
    // At 11:10 it locks (the relay works again) and that lock ends the use; auto-lock moves no end.
    s.relay.set_mode(Mode::Normal);
    s.f.clock.set(t("2026-11-30T11:10:00Z"));
    let steps = s.ctl.run_due_auto_locks().await.unwrap();
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    let after = s.get(&s.booking);
    assert_eq!(after.ends_at, t("2026-11-30T10:40:00Z"));
    let usage = after.usage.unwrap();
    assert_eq!(usage.ended_at, Some(t("2026-11-30T11:10:00Z")));
    assert_eq!(usage.ended_by.as_deref(), Some("auto-lock"));
}

#[tokio::test(flavor = "multi_thread")]
async fn usage_keeps_the_first_unlock_and_the_last_lock() {
    let s = scene(&[]).await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.lock("uma", "2026-11-30T10:20:00Z").await;
    s.unlock("sam", "2026-11-30T10:30:00Z").await;
    s.lock("uma", "2026-11-30T10:50:00Z").await;
    let usage = s.get(&s.booking).usage.unwrap();
    assert_eq!(
        usage,
        Usage {
            started_at: Some(t("2026-11-30T10:05:00Z")),
            started_by: Some("uma".into()),
            ended_at: Some(t("2026-11-30T10:50:00Z")),
            ended_by: Some("uma".into()),
            booked_ends_at: None,
        }
    );
    // A failed unlock starts nothing.
    let s = scene(&[]).await;
    s.relay.set_mode(Mode::Fail("503 Service Unavailable"));
    s.f.clock.set(t("2026-11-30T10:05:00Z"));
    s.station.sign_in("uma", PW).unwrap();
    let r = s
        .ctl
        .command(
            &s.svc.id,
            Some(&s.booking.id),
            InterlockAction::Unlock,
            None,
        )
        .await
        .unwrap();
    assert!(!r.ok);
    assert_eq!(s.get(&s.booking).usage, None);
    // Instrument users do not see the usage record.
    s.relay.set_mode(Mode::Normal);
    s.unlock("uma", "2026-11-30T10:06:00Z").await;
    s.station.sign_in("uma", PW).unwrap();
    assert_eq!(s.station.list_events().unwrap()[0].usage, None);
    assert!(s.get(&s.booking).usage.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_auto_lock_ends_the_usage() {
    let s = scene(&["set_end_on_lock"]).await;
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.station.set_service_auto_lock(&s.svc.id, true).unwrap();
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.f.clock.set(t("2026-11-30T11:30:00Z"));
    let steps = s.ctl.run_due_auto_locks().await.unwrap();
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    let after = s.get(&s.booking);
    assert_eq!(
        after.ends_at,
        t("2026-11-30T11:00:00Z"),
        "auto-lock moves no end"
    );
    let usage = after.usage.unwrap();
    assert_eq!(usage.started_at, Some(t("2026-11-30T10:05:00Z")));
    assert_eq!(usage.ended_at, Some(t("2026-11-30T11:30:00Z")));
    assert_eq!(usage.ended_by.as_deref(), Some("auto-lock"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_post_lock_link_is_filled_in_after_a_successful_lock() {
    let s = scene(&[
        "post_lock:https://logbook.example.org/use/{service}?event={event_id}&order={order_id}&who={username}",
    ])
    .await;
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.station.sign_in("uma", PW).unwrap();
    let err = s.ctl.post_lock_link(&s.svc.id, &s.booking.id).unwrap_err();
    assert!(
        err.message.contains("after a successful lock"),
        "{}",
        err.message
    );
    let r = s.lock("uma", "2026-11-30T10:30:00Z").await;
    let want = format!(
        "https://logbook.example.org/use/Confocal?event={}&order=&who=uma",
        s.booking.id
    );
    assert_eq!(r.post_lock_url.as_deref(), Some(want.as_str()));
    s.station.sign_in("uma", PW).unwrap();
    assert_eq!(
        s.ctl.post_lock_link(&s.svc.id, &s.booking.id).unwrap(),
        want
    );
    // Another instrument user cannot have it built for them.
    s.station.sign_in("vic", PW).unwrap();
    let err = s.ctl.post_lock_link(&s.svc.id, &s.booking.id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Forbidden);
    // A failed lock shows no link; an unlock never does.
    let r = s
        .as_at(
            "uma",
            "2026-11-30T10:35:00Z",
            InterlockAction::Unlock,
            Some(&s.booking),
        )
        .await;
    assert_eq!(r.post_lock_url, None);
    s.relay.set_mode(Mode::Fail("500 Internal Server Error"));
    s.station.sign_in("uma", PW).unwrap();
    let r = s
        .ctl
        .command(&s.svc.id, Some(&s.booking.id), InterlockAction::Lock, None)
        .await
        .unwrap();
    assert!(!r.ok);
    assert_eq!(r.post_lock_url, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_usage_report_totals_and_its_csv_parses_back() {
    let s = scene(&["set_end_on_lock"]).await;
    let vic = s.book(&s.vic, "2026-11-30T13:00:00Z", "2026-11-30T14:00:00Z");
    s.book(&s.uma, "2026-12-02T13:00:00Z", "2026-12-02T14:00:00Z"); // outside the range
    s.unlock("uma", "2026-11-30T10:05:00Z").await;
    s.lock("uma", "2026-11-30T10:45:30Z").await;
    s.station.sign_in("vic", PW).unwrap();
    assert_eq!(
        s.station
            .usage_report("2026-11-30", "2026-11-30")
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
    s.station.sign_in("sam", PW).unwrap();
    assert!(s.station.usage_report("2026-11-31", "2026-12-01").is_err());
    assert!(s.station.usage_report("2026-12-01", "2026-11-30").is_err());
    let report = s.station.usage_report("2026-11-29", "2026-12-01").unwrap();
    assert_eq!(report.entries.len(), 2);
    let mine = &report.entries[0];
    assert_eq!(mine.event_id, s.booking.id);
    assert_eq!(mine.username, "uma");
    assert_eq!(
        mine.used_minutes,
        Some(41),
        "10:05 to 10:45:30, a started minute counted"
    );
    assert_eq!(mine.booked_minutes, 46);
    assert_eq!(report.entries[1].event_id, vic.id);
    assert_eq!(report.entries[1].used_minutes, None);
    let uma_total = report.totals.iter().find(|t| t.username == "uma").unwrap();
    assert_eq!(
        (
            uma_total.bookings,
            uma_total.used_bookings,
            uma_total.used_minutes
        ),
        (1, 1, 41)
    );
    let vic_total = report.totals.iter().find(|t| t.username == "vic").unwrap();
    assert_eq!((vic_total.bookings, vic_total.used_minutes), (1, 0));

    // A title with a comma, a quote and a line break survives the round trip.
    s.station
        .update_event(&vic.id, {
            let mut i = s.f.event_input(
                &s.svc,
                &s.vic,
                "2026-11-30T13:00:00Z",
                "2026-11-30T14:00:00Z",
            );
            i.title = "Imaging, \"live\"\ncells".into();
            i
        })
        .unwrap();
    let report = s.station.usage_report("2026-11-29", "2026-12-01").unwrap();
    let csv_text = interlock_core::usage::to_csv(&report);
    assert!(csv_text.contains("\r\n"), "CRLF line ends");
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let headers: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(headers, interlock_core::usage::CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 2);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let r0 = &rows[0];
    assert_eq!(&r0[col("event_id")], s.booking.id);
    assert_eq!(&r0[col("service")], "Confocal");
    assert_eq!(&r0[col("started_by")], "uma");
    assert_eq!(&r0[col("actual_start_utc")], "2026-11-30T10:05:00Z");
    assert_eq!(&r0[col("actual_end_utc")], "2026-11-30T10:45:30Z");
    assert_eq!(&r0[col("booked_end_utc")], "2026-11-30T10:45:30Z");
    assert_eq!(
        &r0[col("scheduled_end_before_lock_utc")],
        "2026-11-30T11:00:00Z"
    );
    assert_eq!(&r0[col("used_minutes")], "41");
    let local = t("2026-11-30T10:05:00Z")
        .to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    assert_eq!(&r0[col("actual_start_local")], local);
    let back: jiff::Timestamp = r0[col("actual_start_local")].parse().unwrap();
    assert_eq!(
        back,
        t("2026-11-30T10:05:00Z"),
        "the local time names the same instant"
    );
    assert_eq!(&rows[1][col("title")], "Imaging, \"live\"\ncells");
    assert_eq!(&rows[1][col("actual_start_utc")], "");
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_tags_go_through_config_export_and_import_with_the_same_rules() {
    let s = scene(&[
        "trim_end_on_lock",
        "post_lock:https://logbook.example.org/form?e={event_id}",
    ])
    .await;
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let exported = s.station.export_config().unwrap();
    let svc = exported
        .services
        .iter()
        .find(|x| x.name == "Confocal")
        .unwrap();
    assert!(svc.tags.contains(&"trim_end_on_lock".to_string()));
    assert!(svc
        .tags
        .contains(&"post_lock:https://logbook.example.org/form?e={event_id}".to_string()));
    let mut bad = exported.clone();
    bad.services
        .iter_mut()
        .find(|x| x.name == "Confocal")
        .unwrap()
        .tags
        .push("post_lock:javascript:alert.1".into());
    let err = s.station.import_config(&bad).unwrap_err();
    assert!(
        err.message.contains("only http:// and https:// links"),
        "{}",
        err.message
    );
    assert_eq!(
        serde_json::to_value(s.station.export_config().unwrap()).unwrap(),
        serde_json::to_value(&exported).unwrap(),
        "all or nothing"
    );
    s.station.import_config(&exported).unwrap();
    let svc = s
        .station
        .list_services()
        .unwrap()
        .into_iter()
        .find(|x| x.name == "Confocal")
        .unwrap();
    assert_eq!(svc.end_on_lock, Some(interlock_core::tags::EndOnLock::Trim));
    assert_eq!(
        svc.post_lock_url.as_deref(),
        Some("https://logbook.example.org/form?e={event_id}")
    );
}
