//! Auto-lock on the injected clock against a real relay on 127.0.0.1: handed over when the next
//! booking's window is already open (no lock sent), sent when it is not, following a booking that
//! is moved, shortened, extended or deleted, cancelled when switched off, retried until confirmed
//! (relay down then up, a status that disagrees), surviving a send cut off mid-flight, and a
//! booking near year 9999 that answers without a panic.

mod common;
use common::recorder::recorder;
use common::relay::{Mode, Relay};
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{AutoLockStep, InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::notifier::DesktopNotifier;
use interlock_core::webhook::*;
use interlock_core::{ErrorCode, Role, Station};
use jiff::SignedDuration;
use std::sync::Arc;
use std::time::Duration;

struct Scene {
    f: Fixture,
    station: Arc<Station>,
    ctl: Arc<InterlockController>,
    svc: Service,
    uma: Account,
    vic: Account,
    booking: Event,
    relay: Relay,
}

/// Confocal (`has_interlock`, lead 5, post 30) with lock, unlock and (optionally) status webhooks
/// on a real relay and auto-lock on; Uma's booking 10:00–11:00, which she unlocked at 10:05, so
/// an auto-lock is pending for 11:30.
async fn scene(with_status: bool) -> Scene {
    scene_named(with_status, "Confocal").await
}

async fn scene_named(with_status: bool, name: &str) -> Scene {
    let f = Fixture::new();
    let uma = f.account("uma", Role::InstrumentUser);
    let vic = f.account("vic", Role::InstrumentUser);
    let relay = Relay::start(true).await;
    let svc = f.service(name, &["has_interlock"]);
    let mut hooks = vec![
        (ActionSubtype::Unlock, "/unlock"),
        (ActionSubtype::Lock, "/lock"),
    ];
    if with_status {
        hooks.push((ActionSubtype::Status, "/status"));
    }
    for (sub, path) in hooks {
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
    f.station.set_service_auto_lock(&svc.id, true).unwrap();
    let booking = f.event(&svc, &uma, "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z");
    let station = Arc::new(f.reopen());
    station.set_notifier(Arc::new(DesktopNotifier));
    let ctl = Arc::new(InterlockController::new(
        station.clone(),
        Arc::new(Deliverer::new().unwrap()),
    ));
    f.clock.set(t("2026-11-30T10:05:00Z"));
    station.sign_in("uma", PW).unwrap();
    let r = ctl
        .command(&svc.id, Some(&booking.id), InterlockAction::Unlock, None)
        .await
        .unwrap();
    assert!(r.ok, "{r:?}");
    assert!(!relay.locked());
    station.sign_in("admin", ADMIN_PW).unwrap();
    Scene {
        f,
        station,
        ctl,
        svc,
        uma,
        vic,
        booking,
        relay,
    }
}

impl Scene {
    async fn at(&self, when: &str) -> Vec<AutoLockStep> {
        self.f.clock.set(t(when));
        self.ctl.run_due_auto_locks().await.unwrap()
    }
    fn locks_sent(&self) -> usize {
        self.relay.count("POST /lock")
    }
    fn pending(&self) -> Option<AutoLockInfo> {
        self.station.sign_in("admin", ADMIN_PW).unwrap();
        self.ctl.panel(&self.svc.id).unwrap().auto_lock
    }
    fn audit(&self) -> Vec<(String, String)> {
        self.station.sign_in("admin", ADMIN_PW).unwrap();
        self.station
            .interlock_audit(100)
            .unwrap()
            .into_iter()
            .rev()
            .filter(|a| a.action == "auto_lock")
            .map(|a| (a.result, a.reason))
            .collect()
    }
    fn book(&self, who: &Account, start: &str, end: &str) -> Event {
        self.station.sign_in("admin", ADMIN_PW).unwrap();
        self.station
            .create_event(self.f.event_input(&self.svc, who, start, end))
            .unwrap()
    }
}

use interlock_core::interlock::AutoLockInfo;

#[tokio::test(flavor = "multi_thread")]
async fn the_next_booking_already_open_takes_it_over_and_no_lock_is_sent() {
    let s = scene(true).await;
    // Vic's booking starts right after Uma's: its window opens at 10:55.
    let vic = s.book(&s.vic, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");
    assert!(s.at("2026-11-30T11:29:59Z").await.is_empty());
    let steps = s.at("2026-11-30T11:30:00Z").await;
    assert_eq!(
        steps,
        [AutoLockStep::HandedOver {
            service_id: s.svc.id.clone(),
            to_event_id: vic.id.clone()
        }]
    );
    assert_eq!(s.locks_sent(), 0, "Vic is not locked out");
    assert!(!s.relay.locked());
    let pending = s.pending().expect("still pending, for Vic");
    assert_eq!(pending.event_id.as_deref(), Some(vic.id.as_str()));
    assert_eq!(pending.due_at, t("2026-11-30T12:30:00Z"));
    let audit = s.audit();
    let (result, reason) = audit.last().unwrap();
    assert_eq!(result, "handed_over");
    assert!(reason.contains("handed over to"), "{reason}");
    assert!(reason.contains("vic display"), "{reason}");
    // At the end of Vic's window it locks.
    let steps = s.at("2026-11-30T12:30:00Z").await;
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert_eq!(s.locks_sent(), 1);
    assert!(s.relay.locked());
    assert!(s.pending().is_none());
    // The lock carries Vic's booking.
    let raw = s
        .relay
        .received()
        .into_iter()
        .find(|r| r.line == "POST /lock")
        .unwrap()
        .raw;
    assert!(
        raw.contains(&format!("\"event_id\":\"{}\"", vic.id)),
        "{raw}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_next_booking_not_yet_open_does_not_stop_the_lock() {
    let s = scene(true).await;
    s.book(&s.vic, "2026-11-30T12:00:00Z", "2026-11-30T13:00:00Z"); // opens 11:55
    let steps = s.at("2026-11-30T11:30:00Z").await;
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert_eq!(s.locks_sent(), 1);
    assert!(s.relay.locked());
    assert!(s.pending().is_none(), "removed once confirmed");
    let raw = s
        .relay
        .received()
        .into_iter()
        .find(|r| r.line == "POST /lock")
        .unwrap()
        .raw;
    assert!(
        raw.contains(&format!("\"event_id\":\"{}\"", s.booking.id)),
        "{raw}"
    );
    assert_eq!(s.audit().last().unwrap().0, "ok");
}

#[tokio::test(flavor = "multi_thread")]
async fn it_follows_its_booking_when_extended_shortened_or_moved() {
    let s = scene(true).await;
    let mut input = s.f.event_input(
        &s.svc,
        &s.uma,
        "2026-11-30T10:00:00Z",
        "2026-11-30T11:45:00Z",
    );
    // Extended 25 s before its end: no lock at the old time.
    s.f.clock.set(t("2026-11-30T10:59:35Z"));
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.station
        .update_event(&s.booking.id, input.clone())
        .unwrap();
    assert_eq!(s.pending().unwrap().due_at, t("2026-11-30T12:15:00Z"));
    assert!(s.at("2026-11-30T11:30:00Z").await.is_empty());
    assert_eq!(s.locks_sent(), 0);
    assert!(s.audit().last().unwrap().1.contains("re-timed"));

    // Shortened to end at 11:10: locks at 11:40.
    input.ends_at = t("2026-11-30T11:10:00Z");
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.station
        .update_event(&s.booking.id, input.clone())
        .unwrap();
    assert!(s.at("2026-11-30T11:39:59Z").await.is_empty());
    let steps = s.at("2026-11-30T11:40:00Z").await;
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert_eq!(s.locks_sent(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_booking_or_auto_lock_switched_off_cancels_it() {
    let s = scene(true).await;
    s.f.clock.set(t("2026-11-30T10:30:00Z"));
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.station.delete_event(&s.booking.id).unwrap();
    assert!(s.pending().is_none());
    assert!(s.at("2026-11-30T11:30:00Z").await.is_empty());
    assert_eq!(s.locks_sent(), 0, "no lock with a null event_id");
    let (result, reason) = s.audit().last().unwrap().clone();
    assert_eq!(result, "cancelled");
    assert!(reason.contains("deleted"), "{reason}");

    // Switched off after scheduling.
    let s = scene(true).await;
    s.station.set_service_auto_lock(&s.svc.id, false).unwrap();
    assert!(s.pending().is_none());
    assert!(s.at("2026-11-30T11:30:00Z").await.is_empty());
    assert_eq!(s.locks_sent(), 0);
    let (result, reason) = s.audit().last().unwrap().clone();
    assert_eq!(result, "cancelled");
    assert!(reason.contains("switched off"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_relay_down_is_retried_until_the_lock_is_confirmed() {
    let rec = recorder().await;
    let s = scene_named(true, "Retry scope").await;
    s.relay.set_mode(Mode::Fail("503 Service Unavailable"));
    let failed = |steps: &[AutoLockStep]| match steps {
        [AutoLockStep::Failed {
            attempts, error, ..
        }] => (*attempts, error.clone()),
        other => panic!("expected one failure, got {other:?}"),
    };
    let (n, error) = failed(&s.at("2026-11-30T11:30:00Z").await);
    assert_eq!(n, 1);
    assert!(error.contains("HTTP 503"), "{error}");
    let p = s.pending().expect("kept after a failure");
    assert_eq!(p.attempts, 1);
    assert_eq!(p.next_attempt_at, Some(t("2026-11-30T11:30:30Z")));
    // Not before the retry time; then 30 s, 1, 2, 5, 5 … minutes apart.
    assert!(s.at("2026-11-30T11:30:29Z").await.is_empty());
    assert_eq!(failed(&s.at("2026-11-30T11:30:30Z").await).0, 2);
    assert_eq!(failed(&s.at("2026-11-30T11:31:30Z").await).0, 3);
    assert_eq!(failed(&s.at("2026-11-30T11:33:30Z").await).0, 4);
    assert_eq!(failed(&s.at("2026-11-30T11:38:30Z").await).0, 5);
    assert_eq!(
        s.pending().unwrap().next_attempt_at,
        Some(t("2026-11-30T11:43:30Z"))
    );
    // Notified at the first failure, and again only after an hour of failing.
    rec.wait_for("Auto-lock failed — Retry scope").await;
    rec.settle().await;
    assert_eq!(rec.with_summary("Auto-lock failed — Retry scope").len(), 1);
    let mut when = t("2026-11-30T11:43:30Z");
    while when < t("2026-11-30T12:36:00Z") {
        s.f.clock.set(when);
        s.ctl.run_due_auto_locks().await.unwrap();
        when = when.checked_add(SignedDuration::from_mins(5)).unwrap();
    }
    rec.settle().await;
    assert_eq!(
        rec.with_summary("Auto-lock failed — Retry scope").len(),
        2,
        "again after an hour"
    );
    // The relay comes back: the next retry locks, is confirmed and removed; recovery is told.
    s.relay.set_mode(Mode::Normal);
    let next = s.pending().unwrap().next_attempt_at.unwrap();
    s.f.clock.set(next);
    let steps = s.ctl.run_due_auto_locks().await.unwrap();
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert!(s.relay.locked());
    assert!(s.pending().is_none());
    assert_eq!(
        rec.wait_for("Auto-lock confirmed — Retry scope")
            .await
            .len(),
        1
    );
    assert!(s.audit().last().unwrap().1.contains("confirmed after"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_status_that_disagrees_is_not_a_confirmation() {
    let s = scene(true).await;
    s.relay.set_mode(Mode::Stuck); // answers 200 to /lock but stays unlocked
    let steps = s.at("2026-11-30T11:30:00Z").await;
    match &steps[..] {
        [AutoLockStep::Failed { error, .. }] => {
            assert!(error.contains("status reads unlocked"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert!(s.pending().is_some());
    s.relay.set_mode(Mode::Normal);
    let steps = s.at("2026-11-30T11:30:30Z").await;
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_status_webhook_every_lock_answering_2xx_confirms() {
    let s = scene(false).await;
    let steps = s.at("2026-11-30T11:30:00Z").await;
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert!(s.pending().is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_send_cut_off_mid_flight_is_sent_again_after_a_restart() {
    let s = scene(true).await;
    s.relay.set_mode(Mode::Hang(Duration::from_secs(30)));
    s.f.clock.set(t("2026-11-30T11:30:00Z"));
    let ctl = s.ctl.clone();
    let pass = tokio::spawn(async move { ctl.run_due_auto_locks().await });
    s.relay
        .wait_for("POST /lock", Duration::from_secs(5))
        .await
        .expect("the lock went out");
    pass.abort(); // the process dies while the lock is in flight
    let _ = pass.await;
    // A new process on the same database file.
    s.relay.set_mode(Mode::Normal);
    let station = Arc::new(s.f.reopen());
    let ctl = InterlockController::new(station.clone(), Arc::new(Deliverer::new().unwrap()));
    s.f.clock.set(t("2026-11-30T11:31:00Z"));
    let steps = ctl.run_due_auto_locks().await.unwrap();
    assert!(
        matches!(steps[..], [AutoLockStep::Confirmed { .. }]),
        "{steps:?}"
    );
    assert_eq!(s.locks_sent(), 2);
    assert!(s.relay.locked());
}

#[tokio::test(flavor = "multi_thread")]
async fn staff_can_dismiss_a_failing_auto_lock_and_users_cannot() {
    let s = scene(true).await;
    s.relay.set_mode(Mode::Fail("503 Service Unavailable"));
    s.at("2026-11-30T11:30:00Z").await;
    s.station.sign_in("uma", PW).unwrap();
    assert_eq!(
        s.ctl.dismiss_auto_lock(&s.svc.id).unwrap_err().code,
        ErrorCode::Forbidden
    );
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    s.ctl.dismiss_auto_lock(&s.svc.id).unwrap();
    assert!(s.pending().is_none());
    assert_eq!(s.audit().last().unwrap().0, "dismissed");
    assert!(s.at("2026-11-30T11:40:00Z").await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn gating_is_decided_when_the_command_goes_out() {
    let s = scene(true).await;
    // Uma's window closes at 11:30. A slow lock holds the queue while the clock passes it.
    s.f.clock.set(t("2026-11-30T11:29:50Z"));
    s.station.sign_in("uma", PW).unwrap();
    s.relay.set_mode(Mode::Hang(Duration::from_millis(800)));
    let (c1, c2) = (s.ctl.clone(), s.ctl.clone());
    let (sid, eid) = (s.svc.id.clone(), s.booking.id.clone());
    let (sid2, eid2) = (sid.clone(), eid.clone());
    let first = tokio::spawn(async move {
        c1.command(&sid, Some(&eid), InterlockAction::Lock, None)
            .await
    });
    s.relay
        .wait_for("POST /lock", Duration::from_secs(5))
        .await
        .unwrap();
    let second = tokio::spawn(async move {
        c2.command(&sid2, Some(&eid2), InterlockAction::Unlock, None)
            .await
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    s.f.clock.set(t("2026-11-30T11:30:01Z")); // while the second waits in the queue
    assert!(first.await.unwrap().is_ok());
    let refused = second.await.unwrap().unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
    assert_eq!(s.relay.count("POST /unlock"), 1, "only Uma's first unlock");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_booking_near_year_9999_answers_without_a_panic() {
    let s = scene(true).await;
    // jiff's last instant is 9999-12-30T22:00Z; end + 30 min lies past it.
    let late = s.book(&s.uma, "9999-12-30T21:00:00Z", "9999-12-30T21:45:00Z");
    s.f.clock.set(t("9999-12-30T21:50:00Z"));
    s.station.sign_in("uma", PW).unwrap();
    let panel = s.ctl.panel(&s.svc.id).unwrap();
    assert_eq!(
        panel.event.as_ref().map(|e| e.id.as_str()),
        Some(late.id.as_str())
    );
    assert!(panel.access.allowed());
    let r = s
        .ctl
        .command(&s.svc.id, Some(&late.id), InterlockAction::Unlock, None)
        .await
        .unwrap();
    assert!(r.ok);
    // Its auto-lock is due at the end of time, not at an overflowed instant.
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let due = s.ctl.panel(&s.svc.id).unwrap().auto_lock.unwrap().due_at;
    assert_eq!(due, jiff::Timestamp::MAX);
    assert!(s.at("9999-12-30T21:59:00Z").await.is_empty());
}
