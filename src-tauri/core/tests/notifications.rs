//! A delivery that fails for good raises a desktop notification over the real D-Bus session bus:
//! a recorder owns org.freedesktop.Notifications and the test asserts what it received. Without a
//! server nothing crashes or hangs.

mod common;
use common::recorder::{recorder, Recorder};
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::notifier::{DesktopNotifier, Notifier};
use interlock_core::outbox::{self, RetryPolicy};
use interlock_core::webhook::*;
use interlock_core::Role;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn wait_for(recorder: &Recorder, summary: &str) -> Vec<(String, String, String)> {
    recorder.wait_for(summary).await
}

#[tokio::test(flavor = "multi_thread")]
async fn interlock_errors_raise_notifications_for_a_503_and_a_timeout() {
    let recorder = recorder().await;
    let server = MockServer::start().await;
    Mock::given(wiremock::matchers::path("/busy"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(wiremock::matchers::path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(4)))
        .mount(&server)
        .await;
    let f = Fixture::new();
    f.station.set_notifier(Arc::new(DesktopNotifier));
    let busy = f.service("Busy scope", &["has_interlock"]);
    let slow = f.service("Slow scope", &["has_interlock"]);
    for (svc, path, timeout) in [(&busy, "/busy", 5), (&slow, "/slow", 1)] {
        f.station
            .save_webhook(
                None,
                WebhookInput {
                    service_id: Some(svc.id.clone()),
                    timeout_secs: timeout,
                    ..WebhookInput::new(
                        &format!("{} relay", svc.name),
                        Action::new(ActionType::Interlock, ActionSubtype::Unlock),
                        &format!("{}{path}", server.uri()),
                    )
                },
            )
            .unwrap();
    }
    let station = Arc::new(f.reopen());
    station.set_notifier(Arc::new(DesktopNotifier));
    station.sign_in("admin", ADMIN_PW).unwrap();
    let ctl = interlock_core::interlock::InterlockController::new(
        station,
        Arc::new(Deliverer::new().unwrap()),
    );
    use interlock_core::interlock::InterlockAction::Unlock;
    assert!(!ctl.command(&busy.id, None, Unlock, None).await.unwrap().ok);
    assert!(!ctl.command(&slow.id, None, Unlock, None).await.unwrap().ok);
    let b = wait_for(&recorder, "Interlock error — Busy scope").await;
    assert_eq!(b.len(), 1);
    assert!(
        b[0].2
            .contains("HTTP 503 Service Unavailable from Busy scope relay"),
        "{}",
        b[0].2
    );
    let s = wait_for(&recorder, "Interlock error — Slow scope").await;
    assert_eq!(s.len(), 1);
    assert!(s[0].2.contains("Timed out after 1 s"), "{}", s[0].2);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exhausted_delivery_raises_a_desktop_notification() {
    let recorder = recorder().await;

    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let f = Fixture::new();
    f.station.set_notifier(Arc::new(DesktopNotifier));
    f.station
        .set_retry_policy_unchecked(RetryPolicy {
            delays_secs: vec![0],
            jitter: 0.0,
        })
        .unwrap();
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let h = WebhookInput {
        timeout_secs: 5,
        ..WebhookInput::new(
            "LIMS feed",
            Action::new(ActionType::Event, ActionSubtype::Create),
            &format!("{}/hook", server.uri()),
        )
    };
    f.station.save_webhook(None, h).unwrap();
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = Arc::new(Deliverer::new().unwrap());
    let r = outbox::drain_now(&f.station, &d).await.unwrap();
    assert_eq!((r.sent, r.failed), (2, 1), "two attempts, then failed");

    let seen = wait_for(&recorder, "Webhook delivery failed — LIMS feed").await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    let (app, summary, body) = &seen[0];
    assert_eq!(app, "Interlock Station");
    assert_eq!(summary, "Webhook delivery failed — LIMS feed");
    assert!(
        body.contains("event/create")
            && body.contains("HTTP 503 Service Unavailable")
            && body.contains("2 attempt"),
        "{body}"
    );
}

#[test]
fn without_a_bus_the_notifier_reports_an_error_quickly() {
    // A bus address that does not exist, in a child process so this test's own env stays intact.
    if std::env::var_os("INTERLOCK_NOTIFY_CHILD").is_some() {
        let started = Instant::now();
        let r = DesktopNotifier.notify("x", "y");
        assert!(r.is_err());
        assert!(started.elapsed() < Duration::from_secs(5));
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new(exe)
        .args([
            "--exact",
            "without_a_bus_the_notifier_reports_an_error_quickly",
        ])
        .env("INTERLOCK_NOTIFY_CHILD", "1")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/interlock-bus",
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
