//! Calendar feeds against a real feed server on 127.0.0.1 (plain and TLS with a throwaway CA),
//! real SQLite files, the injected clock, a real event-webhook receiver and the notification
//! recorder on the test's D-Bus session: matching, the sync lifecycle (create, move, cancel one
//! occurrence, delete the series), 304 without a parse, failures that keep the last good data and
//! notify on transitions only, read-only synced bookings, conflicts, the one-off `.ics` import,
//! the configuration file, credentials from the keyring, and the background worker.

mod common;

use common::recorder::recorder;
use common::{t, Fixture};
use interlock_core::delivery::Deliverer;
use interlock_core::feed::{Feed, FeedInput};
use interlock_core::feed_sync;
use interlock_core::model::*;
use interlock_core::webhook::{
    Action, ActionSubtype, ActionType, AuthKind, SecretChange, WebhookInput,
};
use interlock_core::{ErrorCode, Role};
use std::sync::{Arc, Mutex};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

/// What the feed server answers, and what it was asked.
#[derive(Default)]
struct FeedState {
    body: String,
    version: u32,
    /// Answer with this status instead (e.g. 500); 0 = serve the feed.
    fail_with: u16,
    requests: Vec<String>,
    not_modified: u32,
}

#[derive(Clone)]
struct FeedServer {
    url: String,
    state: Arc<Mutex<FeedState>>,
}

impl FeedServer {
    async fn start(body: &str) -> FeedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/calendar.ics", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(FeedState {
            body: body.to_string(),
            version: 1,
            ..FeedState::default()
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut s, _)) = listener.accept().await else {
                    break;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let request = common::http::read_request(&mut s).await;
                    let reply = {
                        let mut st = shared.lock().unwrap();
                        st.requests.push(request.clone());
                        let etag = format!("\"v{}\"", st.version);
                        let asked = request
                            .to_lowercase()
                            .contains(&format!("if-none-match: {}", etag.to_lowercase()));
                        if st.fail_with != 0 {
                            format!(
                                "HTTP/1.1 {} Internal Server Error\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                                st.fail_with
                            )
                        } else if asked {
                            st.not_modified += 1;
                            format!("HTTP/1.1 304 Not Modified\r\netag: {etag}\r\nconnection: close\r\n\r\n")
                        } else {
                            format!(
                                "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\netag: {etag}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{}",
                                st.body.len(),
                                st.body
                            )
                        }
                    };
                    let _ = s.write_all(reply.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        FeedServer { url, state }
    }

    fn set(&self, body: &str) {
        let mut st = self.state.lock().unwrap();
        st.body = body.to_string();
        st.version += 1;
    }

    fn fail_with(&self, status: u16) {
        self.state.lock().unwrap().fail_with = status;
    }

    fn requests(&self) -> Vec<String> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn calendar(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
}

/// One VEVENT; `extra` holds any further lines (each ending in \r\n).
fn vevent(uid: &str, start: &str, end: &str, summary: &str, extra: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{summary}\r\n{extra}END:VEVENT\r\n"
    )
}

fn feed_input(service: &Service, url: &str) -> FeedInput {
    FeedInput {
        service_id: service.id.clone(),
        name: "Facility calendar".into(),
        url: url.into(),
        auth: AuthKind::None,
        auth_username: String::new(),
        auth_secret: SecretChange::Keep,
        insecure: false,
        ca_pem: None,
        refresh_minutes: 5,
        enabled: true,
        fire_webhooks: false,
        user_pattern: String::new(),
    }
}

fn account_with_email(f: &Fixture, username: &str, email: &str) -> Account {
    f.station
        .create_account(NewAccount {
            username: username.into(),
            display_name: format!("{username} display"),
            role: Role::InstrumentUser,
            email: Some(email.into()),
            password: common::PW.into(),
        })
        .unwrap()
}

fn synced(f: &Fixture, feed: &Feed) -> Vec<Event> {
    f.station
        .list_events()
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.source
                .as_ref()
                .is_some_and(|s| s.feed_id.as_deref() == Some(feed.id.as_str()))
        })
        .collect()
}

async fn sync(
    f: &Fixture,
    d: &Deliverer,
    feed: &Feed,
) -> interlock_core::CoreResult<interlock_core::station::feeds::SyncReport> {
    feed_sync::sync_feed(&f.station, d, &feed.id).await
}

#[tokio::test(flavor = "multi_thread")]
async fn bookings_belong_to_the_account_the_calendar_names() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &["has_interlock"]);
    let uma = account_with_email(&f, "uma", "Uma@Example.org");
    let ben = f.account("ben", Role::InstrumentUser);
    let server = FeedServer::start(&calendar(&format!(
        "{}{}{}",
        vevent(
            "a@cal",
            "20261130T090000Z",
            "20261130T100000Z",
            "Imaging",
            "ORGANIZER;CN=Facility:mailto:facility@example.org\r\nATTENDEE;CN=Uma U:MAILTO:uma@example.org\r\n"
        ),
        vevent(
            "b@cal",
            "20261130T110000Z",
            "20261130T120000Z",
            "Confocal booked by ben",
            ""
        ),
        vevent(
            "c@cal",
            "20261130T130000Z",
            "20261130T140000Z",
            "Visitor",
            "ATTENDEE;CN=Vera Visitor:mailto:vera@elsewhere.org\r\n"
        ),
    )))
    .await;
    let feed = f
        .station
        .save_feed(
            None,
            FeedInput {
                user_pattern: "booked by (\\w+)".into(),
                ..feed_input(&svc, &server.url)
            },
        )
        .unwrap();
    let d = Deliverer::new().unwrap();
    let report = sync(&f, &d, &feed).await.unwrap();
    assert_eq!((report.created, report.unmatched), (3, 1), "{report:?}");

    let events = synced(&f, &feed);
    let by_uid = |uid: &str| {
        events
            .iter()
            .find(|e| e.source.as_ref().unwrap().uid == uid)
            .unwrap()
            .clone()
    };
    let a = by_uid("a@cal");
    assert_eq!(a.user_id.as_deref(), Some(uma.id.as_str()));
    assert_eq!(a.title, "Imaging");
    assert_eq!(a.starts_at, t("2026-11-30T09:00:00Z"));
    assert_eq!(a.source.as_ref().unwrap().name, "Facility calendar");
    let b = by_uid("b@cal");
    assert_eq!(
        b.user_id.as_deref(),
        Some(ben.id.as_str()),
        "found by the pattern"
    );
    let c = by_uid("c@cal");
    assert_eq!(c.user_id, None);
    assert_eq!(c.user_display_name, "Vera Visitor");
    assert_eq!(c.booked_by, "Vera Visitor");

    // The user sees their synced booking as theirs, with its source; the visitor's only as
    // "booked"; and the backend gives a user no say over someone else's booking.
    f.sign_in_as("uma");
    let mine = f.station.list_events().unwrap();
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].id, a.id);
    f.clock.set(t("2026-11-30T09:30:00Z"));
    f.sign_in_as("uma");
    let overview = f.station.overview().unwrap();
    let current = overview.instruments[0].current.clone().unwrap();
    assert!(current.mine);
    assert_eq!(current.source.as_deref(), Some("Facility calendar"));
    f.clock.set(t("2026-11-30T13:30:00Z"));
    f.sign_in_as("uma");
    let other = f.station.overview().unwrap().instruments[0]
        .current
        .clone()
        .unwrap();
    assert!(!other.mine && !other.matched);
    assert_eq!(other.user_display_name, None, "privacy: no name for a user");
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_lifecycle_create_move_cancel_and_delete_with_event_webhooks() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &["has_interlock"]);
    account_with_email(&f, "uma", "uma@example.org");
    // A receiver of the service's event webhooks, to see what the feed's changes send.
    let receiver = wiremock::MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(wiremock::ResponseTemplate::new(200))
        .mount(&receiver)
        .await;
    for sub in [
        ActionSubtype::Create,
        ActionSubtype::Update,
        ActionSubtype::Delete,
    ] {
        f.station
            .save_webhook(
                None,
                WebhookInput {
                    service_id: Some(svc.id.clone()),
                    ..WebhookInput::new(
                        &format!("lims {sub:?}"),
                        Action::new(ActionType::Event, sub),
                        &format!("{}/{sub:?}", receiver.uri()),
                    )
                },
            )
            .unwrap();
    }
    let who = "ATTENDEE:mailto:uma@example.org\r\n";
    let series = |extra: &str| {
        vevent(
            "series@cal",
            "20261201T090000Z",
            "20261201T100000Z",
            "Weekly",
            &format!("RRULE:FREQ=WEEKLY;COUNT=4\r\n{who}{extra}"),
        )
    };
    let single = |seq: u32, start: &str, end: &str| {
        vevent(
            "single@cal",
            start,
            end,
            "Once",
            &format!("SEQUENCE:{seq}\r\n{who}"),
        )
    };
    let server = FeedServer::start(&calendar(&format!(
        "{}{}",
        series(""),
        single(0, "20261203T130000Z", "20261203T140000Z")
    )))
    .await;
    let feed = f
        .station
        .save_feed(
            None,
            FeedInput {
                fire_webhooks: true,
                ..feed_input(&svc, &server.url)
            },
        )
        .unwrap();
    let d = Deliverer::new().unwrap();
    let r = sync(&f, &d, &feed).await.unwrap();
    assert_eq!((r.created, r.updated, r.removed), (5, 0, 0), "{r:?}");
    let once_id = synced(&f, &feed)
        .into_iter()
        .find(|e| e.title == "Once")
        .unwrap()
        .id;

    // Moved: SEQUENCE 1 and a new time — the same booking, updated.
    server.set(&calendar(&format!(
        "{}{}",
        series(""),
        single(1, "20261203T150000Z", "20261203T160000Z")
    )));
    let r = sync(&f, &d, &feed).await.unwrap();
    assert_eq!(
        (r.created, r.updated, r.removed, r.unchanged),
        (0, 1, 0, 4),
        "{r:?}"
    );
    let moved = synced(&f, &feed)
        .into_iter()
        .find(|e| e.title == "Once")
        .unwrap();
    assert_eq!(moved.id, once_id);
    assert_eq!(moved.starts_at, t("2026-12-03T15:00:00Z"));

    // One occurrence excluded (EXDATE), another cancelled by an override.
    let cancelled = vevent(
        "series@cal",
        "20261215T090000Z",
        "20261215T100000Z",
        "Weekly",
        &format!("RECURRENCE-ID:20261215T090000Z\r\nSTATUS:CANCELLED\r\n{who}"),
    );
    server.set(&calendar(&format!(
        "{}{}{}",
        series("EXDATE:20261208T090000Z\r\n"),
        cancelled,
        single(1, "20261203T150000Z", "20261203T160000Z")
    )));
    let r = sync(&f, &d, &feed).await.unwrap();
    assert_eq!((r.created, r.updated, r.removed), (0, 0, 2), "{r:?}");
    let starts: Vec<_> = synced(&f, &feed)
        .into_iter()
        .filter(|e| e.title == "Weekly")
        .map(|e| e.starts_at)
        .collect();
    assert_eq!(
        starts,
        vec![t("2026-12-01T09:00:00Z"), t("2026-12-22T09:00:00Z")]
    );

    // The series is gone from the calendar: its bookings go.
    server.set(&calendar(&single(
        1,
        "20261203T150000Z",
        "20261203T160000Z",
    )));
    let r = sync(&f, &d, &feed).await.unwrap();
    assert_eq!(r.removed, 2, "{r:?}");
    assert_eq!(synced(&f, &feed).len(), 1);

    // What went over the wire: 5 creates, 1 update, 4 deletes, each with the booking's id.
    interlock_core::outbox::drain_now(&f.station, &Arc::new(Deliverer::new().unwrap()))
        .await
        .unwrap();
    let got = receiver.received_requests().await.unwrap();
    let count = |path: &str| got.iter().filter(|r| r.url.path() == path).count();
    assert_eq!(
        (count("/Create"), count("/Update"), count("/Delete")),
        (5, 1, 4)
    );
    let update: serde_json::Value =
        serde_json::from_slice(&got.iter().find(|r| r.url.path() == "/Update").unwrap().body)
            .unwrap();
    assert_eq!(update["event_id"], once_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_feed_answers_304_and_is_not_parsed() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let server = FeedServer::start(&calendar(&vevent(
        "a@cal",
        "20261201T090000Z",
        "20261201T100000Z",
        "Imaging",
        "",
    )))
    .await;
    let feed = f
        .station
        .save_feed(None, feed_input(&svc, &server.url))
        .unwrap();
    let d = Deliverer::new().unwrap();
    assert_eq!(sync(&f, &d, &feed).await.unwrap().created, 1);
    let r = sync(&f, &d, &feed).await.unwrap();
    assert!(r.not_modified, "{r:?}");
    assert_eq!(server.state.lock().unwrap().not_modified, 1);
    let asked = server.requests().last().unwrap().to_lowercase();
    assert!(asked.contains("if-none-match: \"v1\""), "{asked}");
    // A changed feed is read in full again.
    server.set(&calendar(""));
    let r = sync(&f, &d, &feed).await.unwrap();
    assert_eq!((r.not_modified, r.removed), (false, 1));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_feed_keeps_its_bookings_and_notifies_on_transitions_only() {
    let rec = recorder().await;
    let f = Fixture::new();
    f.station
        .set_notifier(Arc::new(interlock_core::notifier::DesktopNotifier));
    let svc = f.service("Confocal", &[]);
    let server = FeedServer::start(&calendar(&vevent(
        "a@cal",
        "20261201T090000Z",
        "20261201T100000Z",
        "Imaging",
        "",
    )))
    .await;
    let feed = f
        .station
        .save_feed(
            None,
            FeedInput {
                name: "Flaky calendar".into(),
                ..feed_input(&svc, &server.url)
            },
        )
        .unwrap();
    let d = Deliverer::new().unwrap();
    sync(&f, &d, &feed).await.unwrap();
    server.fail_with(500);
    for _ in 0..3 {
        let e = sync(&f, &d, &feed).await.unwrap_err();
        assert!(
            e.message.contains("HTTP 500 Internal Server Error"),
            "{}",
            e.message
        );
    }
    let listed = f.station.list_feeds().unwrap().pop().unwrap();
    assert!(listed.status.failing);
    assert_eq!(
        listed.status.last_error_class.as_deref(),
        Some("http_status")
    );
    assert!(listed.status.last_success_at.is_some());
    assert_eq!(listed.status.bookings, 1, "the last good bookings stay");
    assert_eq!(synced(&f, &feed).len(), 1);

    // Not a calendar at all: named as a parse error, bookings still kept.
    server.fail_with(0);
    server.set("<html><body>Sign in</body></html>");
    let e = sync(&f, &d, &feed).await.unwrap_err();
    assert!(
        e.message.to_lowercase().contains("icalendar"),
        "{}",
        e.message
    );
    let listed = f.station.list_feeds().unwrap().pop().unwrap();
    assert_eq!(listed.status.last_error_class.as_deref(), Some("parse"));
    assert_eq!(synced(&f, &feed).len(), 1);

    server.set(&calendar(""));
    sync(&f, &d, &feed).await.unwrap();
    rec.settle().await;
    assert_eq!(
        rec.with_summary("Calendar feed failing — Flaky calendar")
            .len(),
        1
    );
    assert_eq!(
        rec.with_summary("Calendar feed back — Flaky calendar")
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn network_failures_are_named() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let feed = f
        .station
        .save_feed(
            None,
            feed_input(&svc, &format!("http://127.0.0.1:{closed}/x.ics")),
        )
        .unwrap();
    let d = Deliverer::new().unwrap();
    let e = sync(&f, &d, &feed).await.unwrap_err();
    assert!(e.message.contains("Connection refused"), "{}", e.message);
    let listed = f.station.list_feeds().unwrap().pop().unwrap();
    assert_eq!(listed.status.last_error_class.as_deref(), Some("refused"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_standard_refuses_an_unknown_ca_custom_ca_and_insecure_accept() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let tls = common::http::start_tls_server_with(
        "text/calendar",
        &calendar(&vevent(
            "a@cal",
            "20261201T090000Z",
            "20261201T100000Z",
            "Imaging",
            "",
        )),
    )
    .await;
    let url = tls.url.replace("/hook", "/cal.ics");
    let d = Deliverer::new().unwrap();
    let standard = f.station.save_feed(None, feed_input(&svc, &url)).unwrap();
    let e = sync(&f, &d, &standard).await.unwrap_err();
    assert!(
        e.message.contains("TLS certificate problem"),
        "{}",
        e.message
    );
    let custom = f
        .station
        .save_feed(
            Some(&standard.id),
            FeedInput {
                ca_pem: Some(tls.ca_pem.clone()),
                ..feed_input(&svc, &url)
            },
        )
        .unwrap();
    assert_eq!(sync(&f, &d, &custom).await.unwrap().created, 1);
    let insecure = f
        .station
        .save_feed(
            None,
            FeedInput {
                name: "Insecure copy".into(),
                insecure: true,
                ..feed_input(&svc, &url)
            },
        )
        .unwrap();
    assert_eq!(sync(&f, &d, &insecure).await.unwrap().created, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn synced_bookings_are_read_only_and_overlaps_are_flagged() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let uma = account_with_email(&f, "uma", "uma@example.org");
    let local = f.event(&svc, &uma, "2026-12-01T09:30:00Z", "2026-12-01T10:30:00Z");
    let server = FeedServer::start(&calendar(&vevent(
        "a@cal",
        "20261201T090000Z",
        "20261201T100000Z",
        "Imaging",
        "ATTENDEE:mailto:uma@example.org\r\n",
    )))
    .await;
    let feed = f
        .station
        .save_feed(None, feed_input(&svc, &server.url))
        .unwrap();
    let d = Deliverer::new().unwrap();
    sync(&f, &d, &feed).await.unwrap();
    let all = f.station.list_events().unwrap();
    assert_eq!(
        all.len(),
        2,
        "the synced booking is kept beside the local one"
    );
    assert!(all.iter().all(|e| e.conflict), "both flagged: {all:?}");
    let synced_one = all.iter().find(|e| e.id != local.id).unwrap();

    let e = f
        .station
        .update_event(
            &synced_one.id,
            f.event_input(&svc, &uma, "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z"),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Conflict);
    assert!(
        e.message.contains("calendar feed 'Facility calendar'"),
        "{}",
        e.message
    );
    assert!(f.station.delete_event(&synced_one.id).is_err());
    // A local booking beside it can still be edited (and no longer overlaps).
    f.station
        .update_event(
            &local.id,
            f.event_input(&svc, &uma, "2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z"),
        )
        .unwrap();
    assert!(f.station.list_events().unwrap().iter().all(|e| !e.conflict));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_ics_file_imports_all_or_nothing_and_again_without_duplicates() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    account_with_email(&f, "uma", "uma@example.org");
    let good = vevent(
        "a@cal",
        "20261201T090000Z",
        "20261201T100000Z",
        "Imaging",
        "ATTENDEE:mailto:uma@example.org\r\n",
    );
    let stranger = vevent(
        "b@cal",
        "20261202T090000Z",
        "20261202T100000Z",
        "Visitor",
        "ATTENDEE;CN=Vera:mailto:vera@elsewhere.org\r\n",
    );
    let e = f
        .station
        .import_ics(
            &svc.id,
            "bookings.ics",
            &calendar(&format!("{good}{stranger}")),
        )
        .unwrap_err();
    assert!(e.message.contains("Nothing was imported"), "{}", e.message);
    assert!(e.message.contains("Vera"), "{}", e.message);
    assert!(f.station.list_events().unwrap().is_empty());

    let r = f
        .station
        .import_ics(&svc.id, "bookings.ics", &calendar(&good))
        .unwrap();
    assert_eq!(r.created, 1);
    let r = f
        .station
        .import_ics(&svc.id, "bookings.ics", &calendar(&good))
        .unwrap();
    assert_eq!((r.created, r.unchanged), (0, 1));
    let events = f.station.list_events().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].source.as_ref().unwrap().name, "bookings.ics");
    assert_eq!(events[0].source.as_ref().unwrap().feed_id, None);
    // An imported booking is a local one: it can be edited at the station.
    assert!(f.station.delete_event(&events[0].id).is_ok());
}

#[tokio::test(flavor = "multi_thread")]
async fn feeds_travel_in_the_configuration_file_without_their_credentials() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let feed = f
        .station
        .save_feed(
            None,
            FeedInput {
                auth: AuthKind::Bearer,
                auth_secret: SecretChange::Set {
                    value: "feed-token-s3cret".into(),
                },
                user_pattern: "by (\\w+)".into(),
                refresh_minutes: 7,
                ..feed_input(&svc, "https://calendar.example.org/c.ics?token=abc123")
            },
        )
        .unwrap();
    assert!(feed.auth_secret_set);
    let file = f.station.export_config().unwrap();
    let text = serde_json::to_string(&file).unwrap();
    assert!(
        !text.contains("feed-token-s3cret") && !text.contains("abc123"),
        "{text}"
    );
    assert_eq!(file.feeds.len(), 1);
    assert_eq!(file.feeds[0].refresh_minutes, 7);
    assert_eq!(
        file.feeds[0].url,
        "https://calendar.example.org/c.ics?token=***"
    );

    // Into another station: the feed arrives, its token is reported missing.
    let g = Fixture::new();
    let report = g.station.import_config(&file).unwrap();
    assert_eq!(report.feeds, 1);
    assert!(
        report
            .missing_secrets
            .iter()
            .any(|s| s == "Facility calendar: bearer token"),
        "{report:?}"
    );
    let there = g.station.list_feeds().unwrap().pop().unwrap();
    assert_eq!(
        (there.user_pattern.as_str(), there.auth_secret_set),
        ("by (\\w+)", false)
    );

    // A credential in the file is refused, and the station stays as it was.
    let before = serde_json::to_string(&g.station.export_config().unwrap()).unwrap();
    let mut bad: serde_json::Value = serde_json::to_value(&file).unwrap();
    bad["feeds"][0]["token"] = "abc".into();
    let bad: interlock_core::transfer::ConfigFile = serde_json::from_value(bad).unwrap();
    let e = g.station.import_config(&bad).unwrap_err();
    assert!(
        e.message.contains("feeds[0] \"Facility calendar\": token"),
        "{}",
        e.message
    );
    let mut bad2 = file.clone();
    bad2.feeds[0].refresh_minutes = 0;
    let e = g.station.import_config(&bad2).unwrap_err();
    assert!(e.message.contains("refresh interval"), "{}", e.message);
    let after = serde_json::to_string(&g.station.export_config().unwrap()).unwrap();
    assert_eq!(before, after);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_credential_goes_only_into_the_request_and_delete_removes_it() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let server = FeedServer::start(&calendar("")).await;
    let feed = f
        .station
        .save_feed(
            None,
            FeedInput {
                auth: AuthKind::Basic,
                auth_username: "station".into(),
                auth_secret: SecretChange::Set {
                    value: "basic-pw-9".into(),
                },
                ..feed_input(&svc, &server.url)
            },
        )
        .unwrap();
    let d = Deliverer::new().unwrap();
    sync(&f, &d, &feed).await.unwrap();
    let asked = server.requests().pop().unwrap().to_lowercase();
    // base64("station:basic-pw-9")
    assert!(
        asked.contains("authorization: basic c3rhdglvbjpiyxnpyy1wdy05"),
        "{asked}"
    );
    assert!(f
        .secrets
        .get(&interlock_core::feed::auth_key(&feed.id))
        .unwrap()
        .is_some());
    let db = std::fs::read(f.db_path()).unwrap();
    assert!(!String::from_utf8_lossy(&db).contains("basic-pw-9"));
    f.station.delete_feed(&feed.id).unwrap();
    assert!(f
        .secrets
        .get(&interlock_core::feed::auth_key(&feed.id))
        .unwrap()
        .is_none());
    assert!(f.station.list_feeds().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_a_feed_removes_its_bookings_and_the_worker_syncs_a_saved_feed_by_itself() {
    let f = Fixture::new();
    let svc = f.service("Confocal", &[]);
    let server = FeedServer::start(&calendar(&vevent(
        "a@cal",
        "20261201T090000Z",
        "20261201T100000Z",
        "Imaging",
        "",
    )))
    .await;
    tokio::spawn(feed_sync::run_worker(
        f.station.clone(),
        Arc::new(Deliverer::new().unwrap()),
    ));
    let feed = f
        .station
        .save_feed(None, feed_input(&svc, &server.url))
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while synced(&f, &feed).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the worker never synced"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    f.station.delete_feed(&feed.id).unwrap();
    assert!(f.station.list_events().unwrap().is_empty());
}

#[test]
fn accounts_take_an_optional_unique_email() {
    let f = Fixture::new();
    let uma = account_with_email(&f, "uma", " Uma@Example.ORG ");
    assert_eq!(uma.email.as_deref(), Some("uma@example.org"));
    let e = f
        .station
        .create_account(NewAccount {
            username: "uma2".into(),
            display_name: "Uma Two".into(),
            role: Role::InstrumentUser,
            email: Some("UMA@example.org".into()),
            password: common::PW.into(),
        })
        .unwrap_err();
    assert!(
        e.message.contains("already has the e-mail"),
        "{}",
        e.message
    );
    let e = f
        .station
        .create_account(NewAccount {
            username: "x".into(),
            display_name: "X".into(),
            role: Role::InstrumentUser,
            email: Some("not an address".into()),
            password: common::PW.into(),
        })
        .unwrap_err();
    assert!(
        e.message.contains("is not an e-mail address"),
        "{}",
        e.message
    );
    let cleared = f
        .station
        .update_account(
            &uma.id,
            AccountUpdate {
                display_name: "Uma".into(),
                role: Role::InstrumentUser,
                active: true,
                email: Some(String::new()),
            },
        )
        .unwrap();
    assert_eq!(cleared.email, None);
}
