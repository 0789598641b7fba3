//! Lock / Unlock / Check status through the backend, against real receivers on 127.0.0.1: gating
//! at the window's boundaries with an injected clock, push-only results with named errors, status
//! parsing and mapping, click order per service, audit, auto-lock (also after a restart).

mod common;
use common::http::start_tls_server;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::error::ErrorDetail;
use interlock_core::interlock::{InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::webhook::*;
use interlock_core::{ErrorCode, Role, Station};
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use wiremock::matchers::{any, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use InterlockAction::{Lock, Status, Unlock};

fn hook(name: &str, sub: ActionSubtype, url: &str) -> WebhookInput {
    WebhookInput::new(name, Action::new(ActionType::Interlock, sub), url)
}

struct Setup {
    f: Fixture,
    station: Arc<Station>,
    ctl: InterlockController,
    svc: Service,
    uma: Account,
    event: Event,
}

/// A station with an interlocked service (lead 5, post 30), Uma's booking 10:00–11:00 and the
/// admin signed in; the clock stands at 08:00.
fn setup(tags: &[&str]) -> Setup {
    let f = Fixture::new();
    let uma = f.account("uma", Role::InstrumentUser);
    f.account("vic", Role::InstrumentUser);
    f.account("sam", Role::FacilityStaff);
    let svc = f.service("Confocal", tags);
    let event = f.event(&svc, &uma, "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z");
    let station = Arc::new(f.reopen());
    station.sign_in("admin", ADMIN_PW).unwrap();
    let ctl = InterlockController::new(station.clone(), Arc::new(Deliverer::new().unwrap()));
    Setup {
        f,
        station,
        ctl,
        svc,
        uma,
        event,
    }
}

fn add(s: &Setup, name: &str, sub: ActionSubtype, url: &str) -> Webhook {
    s.station
        .save_webhook(None, hook(name, sub, url))
        .unwrap()
        .webhook
}

async fn ok_server() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>junk, ignored</html>"))
        .mount(&server)
        .await;
    server
}

#[tokio::test(flavor = "multi_thread")]
async fn user_gating_at_the_boundaries_through_the_backend() {
    let s = setup(&["has_interlock"]);
    let server = ok_server().await;
    add(&s, "relay", ActionSubtype::Unlock, &server.uri());
    s.station.sign_in("uma", PW).unwrap();
    let cases = [
        ("2026-11-30T09:54:59Z", false),
        ("2026-11-30T09:55:00Z", true),
        ("2026-11-30T11:30:00Z", true),
        ("2026-11-30T11:30:01Z", false),
    ];
    for (at, allowed) in cases {
        s.f.clock.set(t(at));
        s.station
            .touch()
            .unwrap_or_else(|_| s.station.sign_in("uma", PW).map(drop).unwrap());
        let r = s
            .ctl
            .command(&s.svc.id, Some(&s.event.id), Unlock, None)
            .await;
        match allowed {
            true => assert!(r.unwrap().ok, "{at} should be allowed"),
            false => {
                let e = r.unwrap_err();
                assert_eq!(e.code, ErrorCode::Forbidden, "{at}");
                assert!(e.message.starts_with("Interlock controls"), "{}", e.message);
                // The window words the refusal in its own locale from the exact instant.
                let expected = if at < "2026-11-30T10" {
                    ErrorDetail::ControlsOpenAt {
                        at: t("2026-11-30T09:55:00Z"),
                    }
                } else {
                    ErrorDetail::ControlsClosedAt {
                        at: t("2026-11-30T11:30:00Z"),
                    }
                };
                assert_eq!(e.detail, Some(expected), "{at}");
            }
        }
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        2,
        "refused commands send nothing"
    );
    // The refusals are audited.
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    let audit = s.station.interlock_audit(10).unwrap();
    let results: Vec<&str> = audit.iter().rev().map(|a| a.result.as_str()).collect();
    assert_eq!(results, ["refused", "ok", "ok", "refused"]);
    assert!(audit.iter().all(|a| a.username == "uma"
        && a.role == "instrument_user"
        && a.service_name == "Confocal"));
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_margins_others_and_untagged_services() {
    let s = setup(&["has_interlock:15:0"]);
    let server = ok_server().await;
    add(&s, "relay", ActionSubtype::Lock, &server.uri());
    s.station.sign_in("uma", PW).unwrap();
    s.f.clock.set(t("2026-11-30T09:44:59Z"));
    s.station.sign_in("uma", PW).unwrap();
    assert!(s
        .ctl
        .command(&s.svc.id, Some(&s.event.id), Lock, None)
        .await
        .is_err());
    s.f.clock.set(t("2026-11-30T09:45:00Z"));
    s.station.sign_in("uma", PW).unwrap();
    assert!(
        s.ctl
            .command(&s.svc.id, Some(&s.event.id), Lock, None)
            .await
            .unwrap()
            .ok
    );
    s.f.clock.set(t("2026-11-30T11:00:01Z"));
    s.station.sign_in("uma", PW).unwrap();
    assert!(s
        .ctl
        .command(&s.svc.id, Some(&s.event.id), Lock, None)
        .await
        .is_err());
    // Another user's booking: refused at any time. Without a booking: refused.
    s.f.clock.set(t("2026-11-30T10:30:00Z"));
    s.station.sign_in("vic", PW).unwrap();
    assert_eq!(
        s.ctl
            .command(&s.svc.id, Some(&s.event.id), Lock, None)
            .await
            .unwrap_err()
            .message,
        "This booking belongs to another user."
    );
    assert!(s.ctl.command(&s.svc.id, None, Lock, None).await.is_err());
    // Staff and administrators any time, with or without a booking.
    s.f.clock.set(t("2027-03-01T03:00:00Z"));
    s.station.sign_in("sam", PW).unwrap();
    assert!(
        s.ctl
            .command(&s.svc.id, None, Lock, Some("night check".into()))
            .await
            .unwrap()
            .ok
    );
    s.station.sign_in("admin", ADMIN_PW).unwrap();
    assert!(
        s.ctl
            .command(&s.svc.id, Some(&s.event.id), Lock, None)
            .await
            .unwrap()
            .ok
    );
    let audit = s.station.interlock_audit(1).unwrap();
    let sam = s.station.interlock_audit(2).unwrap().remove(1);
    assert_eq!(
        (sam.username.as_str(), sam.reason.as_str()),
        ("sam", "override reason: night check")
    );
    assert_eq!(audit[0].username, "admin");
    // An untagged service: refused even for staff.
    let plain = s
        .station
        .create_service(ServiceInput {
            name: "Sequencer".into(),
            description: String::new(),
            tags: vec![],
        })
        .unwrap();
    let e = s
        .ctl
        .command(&plain.id, None, Lock, None)
        .await
        .unwrap_err();
    assert!(
        e.message.contains("not tagged has_interlock"),
        "{}",
        e.message
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lock_and_unlock_send_the_exact_payload_and_ignore_the_reply_body() {
    let s = setup(&["has_interlock"]);
    let server = ok_server().await;
    let mut h = hook(
        "Relay A",
        ActionSubtype::Unlock,
        &format!("{}/relay/unlock", server.uri()),
    );
    h.body = r#"{"channel": 2, "event_id": "configured"}"#.into();
    s.station.save_webhook(None, h).unwrap();
    add(
        &s,
        "Relay B",
        ActionSubtype::Unlock,
        &format!("{}/other", server.uri()),
    );
    let r = s
        .ctl
        .command(&s.svc.id, Some(&s.event.id), Unlock, None)
        .await
        .unwrap();
    assert!(r.ok && r.error.is_none() && r.reading.is_none(), "{r:?}");
    assert_eq!(r.results.len(), 2);
    let reqs = server.received_requests().await.unwrap();
    let a = reqs
        .iter()
        .find(|r| r.url.path() == "/relay/unlock")
        .unwrap();
    assert_eq!(a.headers.get("content-type").unwrap(), "application/json");
    let body: Value = serde_json::from_slice(&a.body).unwrap();
    assert_eq!(
        body,
        json!({"order_id": null, "event_id": s.event.id, "channel": 2})
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn failures_are_named_per_webhook_and_notified() {
    let s = setup(&["has_interlock"]);
    let server = MockServer::start().await;
    Mock::given(path("/forbidden"))
        .respond_with(ResponseTemplate::new(403))
        .mount(&server)
        .await;
    Mock::given(path("/busy"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    Mock::given(path("/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
        .mount(&server)
        .await;
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let tls = start_tls_server().await;
    add(
        &s,
        "Door 403",
        ActionSubtype::Lock,
        &format!("{}/forbidden", server.uri()),
    );
    add(
        &s,
        "Door 503",
        ActionSubtype::Lock,
        &format!("{}/busy", server.uri()),
    );
    let mut slow = hook(
        "Slow relay",
        ActionSubtype::Lock,
        &format!("{}/slow", server.uri()),
    );
    slow.timeout_secs = 1;
    s.station.save_webhook(None, slow).unwrap();
    add(
        &s,
        "Unplugged",
        ActionSubtype::Lock,
        &format!("http://{closed}/lock"),
    );
    add(&s, "Self-signed", ActionSubtype::Lock, &tls.url);
    let mut insecure = hook("Self-signed insecure", ActionSubtype::Lock, &tls.url);
    insecure.insecure = true;
    s.station.save_webhook(None, insecure).unwrap();

    let r = s.ctl.command(&s.svc.id, None, Lock, None).await.unwrap();
    assert!(!r.ok);
    let msg = |name: &str| {
        r.results
            .iter()
            .find(|x| x.webhook_name == name)
            .unwrap()
            .message
            .clone()
    };
    assert_eq!(msg("Door 403"), "HTTP 403 Forbidden from Door 403");
    assert_eq!(
        msg("Door 503"),
        "HTTP 503 Service Unavailable from Door 503"
    );
    assert!(
        msg("Slow relay").starts_with("Timed out after 1 s"),
        "{}",
        msg("Slow relay")
    );
    assert_eq!(
        msg("Unplugged"),
        format!("Connection refused by {closed} (Unplugged)")
    );
    assert!(
        msg("Self-signed").starts_with("TLS certificate problem"),
        "{}",
        msg("Self-signed")
    );
    assert!(
        r.results
            .iter()
            .find(|x| x.webhook_name == "Self-signed insecure")
            .unwrap()
            .ok
    );
    let banner = r.error.unwrap();
    assert!(
        banner.starts_with("Lock failed: ")
            && banner.contains("HTTP 503 Service Unavailable from Door 503"),
        "{banner}"
    );
    let audit = s.station.interlock_audit(1).unwrap().remove(0);
    assert_eq!(
        (audit.action.as_str(), audit.result.as_str()),
        ("lock", "failed")
    );
    assert!(audit.reason.contains("HTTP 403 Forbidden from Door 403"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_service_without_webhooks_says_so() {
    let s = setup(&["has_interlock"]);
    let r = s.ctl.command(&s.svc.id, None, Unlock, None).await.unwrap();
    assert!(!r.ok);
    assert_eq!(
        r.error.as_deref(),
        Some("Confocal has no interlock/unlock webhook (facility staff add it in Webhooks).")
    );
}

async fn status_case(
    body: ResponseTemplate,
    mapping: (&str, &str, &str),
) -> (Option<LockState>, String) {
    let s = setup(&["has_interlock"]);
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(body)
        .mount(&server)
        .await;
    let mut h = hook("Relay", ActionSubtype::Status, &server.uri());
    (h.status_pointer, h.status_locked, h.status_unlocked) =
        (mapping.0.into(), mapping.1.into(), mapping.2.into());
    s.station.save_webhook(None, h).unwrap();
    let r = s.ctl.command(&s.svc.id, None, Status, None).await.unwrap();
    let reading = r.reading.unwrap();
    let state = (reading.state != LockState::Unknown).then_some(reading.state);
    (state, reading.detail)
}

fn json_reply(v: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(v)
}

#[tokio::test(flavor = "multi_thread")]
async fn status_parsing() {
    let d = ("", "", "");
    assert_eq!(
        status_case(json_reply(json!({"status": "locked"})), d)
            .await
            .0,
        Some(LockState::Locked)
    );
    assert_eq!(
        status_case(json_reply(json!({"status": "unlocked", "extra": 1})), d)
            .await
            .0,
        Some(LockState::Unlocked)
    );
    let (s, why) = status_case(json_reply(json!({"state": "locked"})), d).await;
    assert_eq!(s, None);
    assert!(why.contains("has no /status"), "{why}");
    let (_, why) = status_case(json_reply(json!({"status": "open"})), d).await;
    assert!(
        why.contains(
            r#"says /status = "open"; expected "locked" (locked) or "unlocked" (unlocked)"#
        ),
        "{why}"
    );
    let (_, why) = status_case(
        ResponseTemplate::new(200).set_body_raw("locked", "text/plain"),
        d,
    )
    .await;
    assert!(
        why.contains("Expected an application/json status reply, received text/plain"),
        "{why}"
    );
    let (_, why) = status_case(
        ResponseTemplate::new(200).set_body_raw("{not json", "application/json"),
        d,
    )
    .await;
    assert!(why.contains("not valid JSON"), "{why}");
    let (_, why) = status_case(ResponseTemplate::new(500), d).await;
    assert!(why.contains("HTTP 500 Internal Server Error"), "{why}");
    let big = json!({"status": "locked", "pad": "x".repeat(70 * 1024)});
    let (_, why) = status_case(json_reply(big), d).await;
    assert!(why.contains("larger than 64 KiB"), "{why}");
    // Shelly: /ison false = locked (relay off); Tasmota: /POWER "OFF" = locked.
    assert_eq!(
        status_case(
            json_reply(json!({"ison": true, "source": "http"})),
            ("/ison", "false", "true")
        )
        .await
        .0,
        Some(LockState::Unlocked)
    );
    assert_eq!(
        status_case(
            json_reply(json!({"ison": false})),
            ("/ison", "false", "true")
        )
        .await
        .0,
        Some(LockState::Locked)
    );
    assert_eq!(
        status_case(json_reply(json!({"POWER": "OFF"})), ("/POWER", "OFF", "ON"))
            .await
            .0,
        Some(LockState::Locked)
    );
    assert_eq!(
        status_case(json_reply(json!({"POWER": "ON"})), ("/POWER", "OFF", "ON"))
            .await
            .0,
        Some(LockState::Unlocked)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn disagreeing_status_webhooks_give_unknown_with_both_replies() {
    let s = setup(&["has_interlock"]);
    let a = MockServer::start().await;
    Mock::given(any())
        .respond_with(json_reply(json!({"status": "locked"})))
        .mount(&a)
        .await;
    let b = MockServer::start().await;
    Mock::given(any())
        .respond_with(json_reply(json!({"status": "unlocked"})))
        .mount(&b)
        .await;
    add(&s, "Relay A", ActionSubtype::Status, &a.uri());
    add(&s, "Relay B", ActionSubtype::Status, &b.uri());
    let r = s.ctl.command(&s.svc.id, None, Status, None).await.unwrap();
    let reading = r.reading.unwrap();
    assert_eq!(reading.state, LockState::Unknown);
    assert!(
        reading.detail.contains("Relay A says locked")
            && reading.detail.contains("Relay B says unlocked"),
        "{}",
        reading.detail
    );
    // The panel shows what was last read, with its time.
    let panel = s.ctl.panel(&s.svc.id).unwrap();
    assert_eq!(panel.reading.unwrap().read_at, t("2026-11-30T08:00:00Z"));
}

#[tokio::test(flavor = "multi_thread")]
async fn status_is_read_back_after_a_successful_unlock() {
    let s = setup(&["has_interlock"]);
    let server = MockServer::start().await;
    Mock::given(path("/unlock"))
        .respond_with(ResponseTemplate::new(204))
        .mount(&server)
        .await;
    Mock::given(path("/status"))
        .respond_with(json_reply(json!({"status": "unlocked"})))
        .mount(&server)
        .await;
    add(
        &s,
        "unlock",
        ActionSubtype::Unlock,
        &format!("{}/unlock", server.uri()),
    );
    add(
        &s,
        "status",
        ActionSubtype::Status,
        &format!("{}/status", server.uri()),
    );
    let r = s
        .ctl
        .command(&s.svc.id, Some(&s.event.id), Unlock, None)
        .await
        .unwrap();
    assert_eq!(r.reading.unwrap().state, LockState::Unlocked);
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, ["/unlock", "/status"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn rapid_commands_on_one_service_arrive_in_click_order() {
    let s = setup(&["has_interlock"]);
    let server = MockServer::start().await;
    // The first answer is slow: a later command must still wait its turn.
    Mock::given(path("/unlock"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_millis(300)))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    add(
        &s,
        "unlock",
        ActionSubtype::Unlock,
        &format!("{}/unlock", server.uri()),
    );
    add(
        &s,
        "lock",
        ActionSubtype::Lock,
        &format!("{}/lock", server.uri()),
    );
    let ctl = Arc::new(s.ctl);
    let mut handles = Vec::new();
    for action in [Unlock, Lock, Unlock] {
        let (ctl, id) = (ctl.clone(), s.svc.id.clone());
        let mut click = Box::pin(async move { ctl.command(&id, None, action, None).await });
        // Clicks, in this order: each command is polled once here, which takes its place in the
        // service's queue (or its turn, for the first), before the next one is made. No timing.
        let first_poll = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::future::Future::poll(click.as_mut(), cx))
        });
        assert!(
            first_poll.await.is_pending(),
            "a command finished on its first poll"
        );
        handles.push(tokio::spawn(click));
    }
    for h in handles {
        assert!(h.await.unwrap().unwrap().ok);
    }
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, ["/unlock", "/lock", "/unlock"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn auto_lock_fires_at_end_plus_post_also_after_a_restart() {
    let s = setup(&["has_interlock"]);
    let server = ok_server().await;
    add(
        &s,
        "unlock",
        ActionSubtype::Unlock,
        &format!("{}/unlock", server.uri()),
    );
    add(
        &s,
        "lock",
        ActionSubtype::Lock,
        &format!("{}/lock", server.uri()),
    );
    s.station.set_service_auto_lock(&s.svc.id, true).unwrap();
    s.f.clock.set(t("2026-11-30T10:05:00Z"));
    s.station.sign_in("uma", PW).unwrap();
    assert!(
        s.ctl
            .command(&s.svc.id, Some(&s.event.id), Unlock, None)
            .await
            .unwrap()
            .ok
    );

    // The app restarts: a new station and controller on the same file.
    drop(s.ctl);
    let station = Arc::new(s.f.reopen());
    let ctl = InterlockController::new(station.clone(), Arc::new(Deliverer::new().unwrap()));
    s.f.clock.set(t("2026-11-30T11:29:59Z"));
    assert_eq!(
        ctl.run_due_auto_locks().await.unwrap().len(),
        0,
        "not before end + post"
    );
    s.f.clock.set(t("2026-11-30T11:30:00Z"));
    assert_eq!(
        ctl.next_auto_lock().unwrap(),
        Some(t("2026-11-30T11:30:00Z"))
    );
    assert_eq!(ctl.run_due_auto_locks().await.unwrap().len(), 1);
    assert_eq!(ctl.run_due_auto_locks().await.unwrap().len(), 0, "once");
    let paths: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .map(|r| r.url.path().to_string())
        .collect();
    assert_eq!(paths, ["/unlock", "/lock"]);
    station.sign_in("admin", ADMIN_PW).unwrap();
    let audit = station.interlock_audit(1).unwrap().remove(0);
    assert_eq!(
        (
            audit.action.as_str(),
            audit.result.as_str(),
            audit.username.as_str()
        ),
        ("auto_lock", "ok", "auto-lock")
    );
    let _ = s.uma;
}
