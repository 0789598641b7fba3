//! The status watch runs in Rust on the station's clock against a real relay on 127.0.0.1:
//! readings at the configured interval (0 = off), stored and pushed to a listener, GET without
//! a body, and notifications on transitions only — a 10-minute outage at 30 s polling gives one
//! failure and one recovery notification on a real D-Bus notification server.

mod common;
use common::recorder::recorder;
use common::relay::{Mode, Relay};
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{InterlockAction, InterlockController, ReadingListener};
use interlock_core::model::{LockState, Service, StatusReading};
use interlock_core::notifier::DesktopNotifier;
use interlock_core::webhook::*;
use interlock_core::Station;
use jiff::SignedDuration;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Heard(Mutex<Vec<(String, LockState)>>);

impl ReadingListener for Heard {
    fn reading(&self, service_id: &str, reading: &StatusReading) {
        self.0
            .lock()
            .unwrap()
            .push((service_id.to_string(), reading.state));
    }
}

struct Watched {
    f: Fixture,
    station: Arc<Station>,
    ctl: Arc<InterlockController>,
    svc: Service,
    relay: Relay,
    heard: Arc<Heard>,
}

async fn watched(name: &str, poll_secs: u32) -> Watched {
    let f = Fixture::new();
    let relay = Relay::start(true).await;
    let svc = f.service(name, &["has_interlock"]);
    for (sub, path) in [
        (ActionSubtype::Status, "/status"),
        (ActionSubtype::Lock, "/lock"),
    ] {
        let verb = if sub == ActionSubtype::Status {
            Verb::Get
        } else {
            Verb::Post
        };
        f.station
            .save_webhook(
                None,
                WebhookInput {
                    service_id: Some(svc.id.clone()),
                    verb,
                    timeout_secs: 2,
                    ..WebhookInput::new(
                        &format!("{name} {path}"),
                        Action::new(ActionType::Interlock, sub),
                        &format!("{}{path}", relay.url),
                    )
                },
            )
            .unwrap();
    }
    f.station.set_interlock_poll_secs(poll_secs).unwrap();
    let station = Arc::new(f.reopen());
    station.set_notifier(Arc::new(DesktopNotifier));
    let ctl = Arc::new(InterlockController::new(
        station.clone(),
        Arc::new(Deliverer::new().unwrap()),
    ));
    let heard = Arc::new(Heard::default());
    ctl.set_listener(heard.clone());
    Watched {
        f,
        station,
        ctl,
        svc,
        relay,
        heard,
    }
}

fn stored(w: &Watched) -> Option<StatusReading> {
    w.station.sign_in("admin", ADMIN_PW).unwrap();
    w.ctl.panel(&w.svc.id).unwrap().reading
}

#[tokio::test(flavor = "multi_thread")]
async fn readings_come_at_the_interval_without_anyone_signed_in() {
    let w = watched("Confocal", 30).await;
    w.station.sign_out();
    assert_eq!(
        w.ctl.poll_due().await.unwrap(),
        1,
        "first tick reads at once"
    );
    assert_eq!(w.relay.count("GET /status"), 1);
    w.f.clock.advance(SignedDuration::from_secs(29));
    assert_eq!(
        w.ctl.poll_due().await.unwrap(),
        0,
        "not before the interval"
    );
    w.f.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(w.ctl.poll_due().await.unwrap(), 1, "at the interval");
    assert_eq!(w.relay.count("GET /status"), 2);

    // The relay changes behind the station's back: the next reading says so, stored and pushed.
    w.relay.set_locked(false);
    w.f.clock.advance(SignedDuration::from_secs(30));
    w.ctl.poll_due().await.unwrap();
    let reading = stored(&w).expect("a stored reading");
    assert_eq!(reading.state, LockState::Unlocked);
    assert_eq!(reading.read_at, w.f.clock_now());
    let heard = w.heard.0.lock().unwrap().clone();
    assert_eq!(
        heard,
        [
            (w.svc.id.clone(), LockState::Locked),
            (w.svc.id.clone(), LockState::Locked),
            (w.svc.id.clone(), LockState::Unlocked)
        ]
    );

    // A GET carries no body and no Content-Type.
    let raw = w.relay.received()[0].raw.to_lowercase();
    assert!(raw.starts_with("get /status"), "{raw}");
    assert!(!raw.contains("content-type"), "{raw}");
    assert!(raw.ends_with("\r\n\r\n"), "no body: {raw:?}");

    // A manual Check status works and does not reset the watch's schedule.
    w.station.sign_in("admin", ADMIN_PW).unwrap();
    w.f.clock.advance(SignedDuration::from_secs(10));
    let r = w
        .ctl
        .command(&w.svc.id, None, InterlockAction::Status, None)
        .await
        .unwrap();
    assert!(r.ok);
    w.f.clock.advance(SignedDuration::from_secs(20));
    assert_eq!(
        w.ctl.poll_due().await.unwrap(),
        1,
        "30 s after the last poll"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn interval_zero_switches_the_watch_off() {
    let w = watched("Off scope", 0).await;
    for _ in 0..5 {
        assert_eq!(w.ctl.poll_due().await.unwrap(), 0);
        w.f.clock.advance(SignedDuration::from_secs(60));
    }
    assert!(w.relay.lines().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_ten_minute_outage_gives_one_failure_and_one_recovery_notification() {
    let rec = recorder().await;
    let w = watched("Outage scope", 30).await;
    let down = "Interlock status unknown — Outage scope";
    let back = "Interlock status back — Outage scope";
    w.ctl.poll_due().await.unwrap();
    assert_eq!(stored(&w).unwrap().state, LockState::Locked);

    w.relay.set_mode(Mode::Fail("503 Service Unavailable"));
    for _ in 0..20 {
        w.f.clock.advance(SignedDuration::from_secs(30));
        assert_eq!(w.ctl.poll_due().await.unwrap(), 1);
    }
    let reading = stored(&w).unwrap();
    assert_eq!(reading.state, LockState::Unknown);
    assert!(reading.detail.contains("HTTP 503"), "{}", reading.detail);

    w.relay.set_mode(Mode::Normal);
    for _ in 0..4 {
        w.f.clock.advance(SignedDuration::from_secs(30));
        w.ctl.poll_due().await.unwrap();
    }
    assert_eq!(stored(&w).unwrap().state, LockState::Locked);
    rec.wait_for(back).await;
    rec.settle().await;
    let failures = rec.with_summary(down);
    let recoveries = rec.with_summary(back);
    assert_eq!(failures.len(), 1, "one failure notification: {failures:?}");
    assert!(failures[0].2.contains("HTTP 503"), "{}", failures[0].2);
    assert_eq!(recoveries.len(), 1, "one recovery notification");
    assert!(recoveries[0].2.contains("locked"), "{}", recoveries[0].2);
    assert_eq!(w.relay.count("GET /status"), 25, "every poll went out");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_background_runtime_polls_on_its_own() {
    // The real loop, on the real clock: the shortest interval (5 s) gives a reading at once and
    // another about 5 s later, with nobody calling anything.
    let f = Fixture::new();
    let relay = Relay::start(false).await;
    let svc = f.service("Loop scope", &["has_interlock"]);
    f.station
        .save_webhook(
            None,
            WebhookInput {
                service_id: Some(svc.id.clone()),
                verb: Verb::Get,
                ..WebhookInput::new(
                    "status",
                    Action::new(ActionType::Interlock, ActionSubtype::Status),
                    &format!("{}/status", relay.url),
                )
            },
        )
        .unwrap();
    f.station.set_interlock_poll_secs(5).unwrap();
    let station = Arc::new(
        Station::open(
            &f.db_path(),
            Arc::new(interlock_core::SystemClock),
            f.secrets.clone(),
        )
        .unwrap(),
    );
    let ctl = Arc::new(InterlockController::new(
        station,
        Arc::new(Deliverer::new().unwrap()),
    ));
    let task = tokio::spawn(ctl.clone().run_background());
    let first = relay
        .wait_for("GET /status", std::time::Duration::from_secs(5))
        .await
        .expect("a first reading");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(12);
    while relay.count("GET /status") < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    task.abort();
    let times: Vec<_> = relay.received().iter().map(|r| r.at).collect();
    assert!(times.len() >= 2, "a second reading by itself");
    let gap = times[1].duration_since(first).as_secs_f64();
    assert!(
        (4.0..8.0).contains(&gap),
        "about one interval apart: {gap} s"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_timeline_has_each_state_change_and_bookings_as_each_reader_may_see_them() {
    let w = watched("Timeline scope", 30).await;
    let uma = w.f.account("uma", interlock_core::Role::InstrumentUser);
    let vic = w.f.account("vic", interlock_core::Role::InstrumentUser);
    let day_start = w.f.clock_now();
    // Readings every 30 s: locked, locked (no change), unlocked, unknown (relay down), locked.
    w.ctl.poll_due().await.unwrap();
    let locked_at = w.f.clock_now();
    w.f.clock.advance(SignedDuration::from_secs(30));
    w.ctl.poll_due().await.unwrap();
    w.relay.set_locked(false);
    w.f.clock.advance(SignedDuration::from_secs(30));
    w.ctl.poll_due().await.unwrap();
    let unlocked_at = w.f.clock_now();
    w.relay.set_mode(Mode::Fail("503 Service Unavailable"));
    w.f.clock.advance(SignedDuration::from_secs(30));
    w.ctl.poll_due().await.unwrap();
    let unknown_at = w.f.clock_now();
    w.relay.set_mode(Mode::Normal);
    w.relay.set_locked(true);
    w.f.clock.advance(SignedDuration::from_secs(30));
    w.ctl.poll_due().await.unwrap();
    let relocked_at = w.f.clock_now();

    let s = &w.station;
    s.sign_in("admin", ADMIN_PW).unwrap();
    let at = |mins: i64| day_start + SignedDuration::from_mins(mins);
    for (user, title, from, to) in [(&uma, "Uma's run", 60, 120), (&vic, "Vic's run", 180, 240)] {
        s.create_event(interlock_core::model::EventInput {
            service_id: w.svc.id.clone(),
            user_id: user.id.clone(),
            title: title.into(),
            starts_at: at(from),
            ends_at: at(to),
            order_id: None,
            line_id: None,
        })
        .unwrap();
    }
    let day = s.timeline(day_start, at(24 * 60)).unwrap();
    let mine = day
        .instruments
        .iter()
        .find(|i| i.service_id == w.svc.id)
        .unwrap();
    let states: Vec<_> = mine.states.iter().map(|c| (c.state, c.at)).collect();
    assert_eq!(
        states,
        [
            (LockState::Locked, locked_at),
            (LockState::Unlocked, unlocked_at),
            (LockState::Unknown, unknown_at),
            (LockState::Locked, relocked_at),
        ],
        "one entry per change, none for a repeated reading"
    );
    assert!(mine.interlock.is_some());
    let titles: Vec<_> = mine.bookings.iter().map(|b| b.title.clone()).collect();
    assert_eq!(titles, [Some("Uma's run".into()), Some("Vic's run".into())]);

    // Later in the day: the state in force at the start of the range leads the list.
    let later = s.timeline(at(10), at(24 * 60)).unwrap();
    let later = later
        .instruments
        .iter()
        .find(|i| i.service_id == w.svc.id)
        .unwrap();
    assert_eq!(
        later
            .states
            .iter()
            .map(|c| (c.state, c.at))
            .collect::<Vec<_>>(),
        [(LockState::Locked, relocked_at)]
    );

    // Uma sees her booking in full and Vic's only as booked.
    s.sign_in("uma", PW).unwrap();
    let hers = s.timeline(day_start, at(24 * 60)).unwrap();
    let hers = hers
        .instruments
        .iter()
        .find(|i| i.service_id == w.svc.id)
        .unwrap();
    assert!(hers.bookings[0].mine && hers.bookings[0].title.as_deref() == Some("Uma's run"));
    let other = &hers.bookings[1];
    assert!(!other.mine);
    assert_eq!(
        (
            other.title.as_ref(),
            other.user_display_name.as_ref(),
            other.event_id.as_ref()
        ),
        (None, None, None)
    );

    // A reversed or too long range is refused, with a sentence.
    let e = s.timeline(at(60), at(0)).unwrap_err();
    assert_eq!(e.code, interlock_core::ErrorCode::Validation);
    let e = s.timeline(at(0), at(9 * 24 * 60)).unwrap_err();
    assert_eq!(e.message, "The timeline shows at most 8 days at once.");
}
