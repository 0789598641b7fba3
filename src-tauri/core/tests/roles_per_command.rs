//! Every command checks the signed-in role itself: the table below has one row per command of the
//! app (read from `src-tauri/src/command_names.rs`, so a new command without a row fails this
//! test), and each row calls what that command calls — the Station, the outbox or the
//! InterlockController — as nobody, as an instrument user, as facility staff and as an
//! administrator. Rows that act on something (delete, rotate, resend, dismiss) act on an object
//! that exists, made for that call by a second station acting as the system, so a refusal can only
//! come from the role check and an allowed call must really succeed.

mod common;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::webhook::{Action, ActionSubtype, ActionType, Verb, WebhookInput};
use interlock_core::{outbox, CoreError, ErrorCode, Permission, Role, Station};
use std::cell::Cell;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The app's command list, as the app manifest declares it.
const COMMAND_NAMES_RS: &str = include_str!("../../src/command_names.rs");

fn app_commands() -> Vec<String> {
    let start = COMMAND_NAMES_RS
        .find("COMMANDS")
        .expect("COMMANDS in command_names.rs");
    let list = &COMMAND_NAMES_RS[start..];
    let list = &list[list.find("= &[").expect("a slice") + 4..list.find("];").expect("its end")];
    let names: Vec<String> = list
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect();
    assert!(names.len() > 30, "parsed too few commands: {names:?}");
    names
}

/// What a row's command allows.
#[derive(Clone, Copy)]
enum Expect {
    /// Needs a session: refused with NOT_SIGNED_IN for nobody; for [user, staff, admin]
    /// allowed (Ok) or refused with FORBIDDEN.
    Roles([bool; 3]),
    /// No role involved (start-up, sign-in, sign-out, who is signed in): Ok for everyone.
    Anyone,
}

struct Ctx {
    station: Arc<Station>,
    /// Acts as the system on the same database: makes the objects a row acts on.
    helper: Station,
    ctl: InterlockController,
    deliverer: Arc<Deliverer>,
    rt: tokio::runtime::Runtime,
    db: std::path::PathBuf,
    who: Cell<Option<&'static str>>,
    user: String,
    service: String,
    event: String,
    order: String,
    webhook: String,
}

type Call = fn(&Ctx) -> Result<(), CoreError>;

fn service_input() -> ServiceInput {
    ServiceInput {
        name: format!("S-{}", ulid::Ulid::new()),
        description: String::new(),
        tags: vec![],
    }
}

fn order_input() -> OrderInput {
    OrderInput {
        reference: format!("O-{}", ulid::Ulid::new()),
        customer: "Lab".into(),
        status: OrderStatus::Open,
        lines: vec![],
    }
}

/// A webhook whose receiver refuses at once (nothing listens on port 9).
fn hook_input(signing: bool) -> WebhookInput {
    WebhookInput {
        timeout_secs: 1,
        signing,
        ..WebhookInput::new(
            &format!("W-{}", ulid::Ulid::new()),
            Action::new(ActionType::Order, ActionSubtype::Create),
            "http://127.0.0.1:9/hook",
        )
    }
}

/// A free slot far from the fixture's bookings.
fn slot(from: i64) -> (jiff::Timestamp, jiff::Timestamp) {
    let start =
        jiff::Timestamp::from_second(from + (ulid::Ulid::new().random() % 1_000_000) as i64 * 7200)
            .unwrap();
    (start, start + jiff::SignedDuration::from_mins(30))
}

fn event_input(c: &Ctx, from: i64) -> EventInput {
    let (starts_at, ends_at) = slot(from);
    EventInput {
        service_id: c.service.clone(),
        user_id: c.user.clone(),
        title: "t".into(),
        starts_at,
        ends_at,
        order_id: None,
        line_id: None,
    }
}

const EMPTY_CALENDAR: &str =
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n";

fn feed_input(c: &Ctx, url: &str) -> interlock_core::feed::FeedInput {
    interlock_core::feed::FeedInput {
        service_id: c.service.clone(),
        name: format!("F-{}", ulid::Ulid::new()),
        url: url.into(),
        auth: interlock_core::webhook::AuthKind::None,
        auth_username: String::new(),
        auth_secret: interlock_core::webhook::SecretChange::Keep,
        insecure: false,
        ca_pem: None,
        refresh_minutes: 5,
        enabled: true,
        fire_webhooks: false,
        user_pattern: String::new(),
    }
}

fn still_there(what: &str) -> CoreError {
    CoreError::internal(format!("{what} was reported deleted but is still there"))
}

fn table() -> Vec<(&'static str, Call, Expect)> {
    use Expect::*;
    vec![
        (
            "app_status",
            |c| {
                assert!(!c.station.setup_required()?);
                Ok(())
            },
            Anyone,
        ),
        (
            "create_first_administrator",
            |c| {
                // Refused for everyone once an account exists; no role makes a difference.
                match c.station.create_first_administrator(FirstAdministrator {
                    username: format!("a{}", ulid::Ulid::new()),
                    display_name: "A".into(),
                    password: PW.to_string().into(),
                }) {
                    Err(e) if e.code == ErrorCode::SetupAlreadyDone => Ok(()),
                    Err(e) => Err(e),
                    Ok(_) => Err(CoreError::internal("a second first administrator")),
                }
            },
            Anyone,
        ),
        (
            "sign_in",
            |c| match c.who.get() {
                // Signing in again as oneself leaves the table's session as it was.
                Some(who) => c
                    .station
                    .sign_in(who, if who == "admin" { ADMIN_PW } else { PW })
                    .map(drop),
                None => {
                    c.station.sign_in("uma", PW)?;
                    c.station.sign_out();
                    Ok(())
                }
            },
            Anyone,
        ),
        (
            "sign_out",
            |c| {
                c.station.sign_out();
                assert!(c.station.current_session()?.is_none());
                Ok(())
            },
            Anyone,
        ),
        (
            "current_session",
            |c| {
                let s = c.station.current_session()?;
                assert_eq!(s.map(|s| s.account.username), c.who.get().map(String::from));
                Ok(())
            },
            Anyone,
        ),
        (
            "touch_session",
            |c| c.station.touch(),
            Roles([true, true, true]),
        ),
        (
            "get_settings",
            |c| c.station.settings().map(drop),
            Roles([true, true, true]),
        ),
        (
            "update_settings",
            |c| {
                c.station
                    .update_settings(Settings {
                        idle_timeout_minutes: 10,
                    })
                    .map(drop)
            },
            Roles([false, false, true]),
        ),
        (
            "list_accounts",
            |c| c.station.list_accounts().map(drop),
            Roles([false, true, true]),
        ),
        (
            "create_account",
            |c| {
                c.station
                    .create_account(NewAccount {
                        email: None,
                        username: format!("n{}", ulid::Ulid::new()),
                        display_name: "N".into(),
                        role: Role::InstrumentUser,
                        password: PW.to_string().into(),
                    })
                    .map(drop)
            },
            Roles([false, false, true]),
        ),
        (
            "update_account",
            |c| {
                c.station
                    .update_account(
                        &c.user,
                        AccountUpdate {
                            email: None,
                            display_name: "U".into(),
                            role: Role::InstrumentUser,
                            active: true,
                        },
                    )
                    .map(drop)
            },
            Roles([false, false, true]),
        ),
        (
            "reset_password",
            |c| c.station.reset_password(&c.user, PW),
            Roles([false, false, true]),
        ),
        (
            "list_services",
            |c| c.station.list_services().map(drop),
            Roles([true, true, true]),
        ),
        (
            "create_service",
            |c| c.station.create_service(service_input()).map(drop),
            Roles([false, true, true]),
        ),
        (
            "update_service",
            |c| {
                c.station
                    .update_service(
                        &c.service,
                        ServiceInput {
                            name: "Microscope".into(),
                            description: "d".into(),
                            tags: vec!["has_interlock".into()],
                        },
                    )
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "delete_service",
            |c| {
                let svc = c.helper.create_service(service_input())?;
                c.station.delete_service(&svc.id)?;
                if c.helper.list_services()?.iter().any(|s| s.id == svc.id) {
                    return Err(still_there("the service"));
                }
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "list_events",
            |c| c.station.list_events().map(drop),
            Roles([true, true, true]),
        ),
        (
            "create_event",
            |c| {
                c.station
                    .create_event(event_input(c, 1_900_000_000))
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "update_event",
            |c| {
                c.station
                    .update_event(
                        &c.event,
                        EventInput {
                            service_id: c.service.clone(),
                            user_id: c.user.clone(),
                            title: "changed".into(),
                            starts_at: t("2026-11-30T09:00:00Z"),
                            ends_at: t("2026-11-30T10:00:00Z"),
                            order_id: None,
                            line_id: None,
                        },
                    )
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "delete_event",
            |c| {
                let e = c.helper.create_event(event_input(c, 2_000_000_000))?;
                c.station.delete_event(&e.id)?;
                if c.helper.list_events()?.iter().any(|x| x.id == e.id) {
                    return Err(still_there("the booking"));
                }
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "list_orders",
            |c| c.station.list_orders().map(drop),
            Roles([false, true, true]),
        ),
        (
            "create_order",
            |c| c.station.create_order(order_input()).map(drop),
            Roles([false, true, true]),
        ),
        (
            "update_order",
            |c| {
                c.station
                    .update_order(
                        &c.order,
                        OrderInput {
                            reference: "ORD-1".into(),
                            customer: "Lab".into(),
                            status: OrderStatus::InProgress,
                            lines: vec![],
                        },
                    )
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "delete_order",
            |c| {
                let o = c.helper.create_order(order_input())?;
                c.station.delete_order(&o.id)?;
                if c.helper.list_orders()?.iter().any(|x| x.id == o.id) {
                    return Err(still_there("the order"));
                }
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "station_overview",
            |c| c.station.overview().map(drop),
            Roles([true, true, true]),
        ),
        (
            "station_timeline",
            |c| {
                let now = c.station.now();
                c.station
                    .timeline(now, now + jiff::SignedDuration::from_hours(24))
                    .map(drop)
            },
            Roles([true, true, true]),
        ),
        (
            "list_webhooks",
            |c| c.station.list_webhooks().map(drop),
            Roles([false, true, true]),
        ),
        (
            "save_webhook",
            |c| c.station.save_webhook(None, hook_input(false)).map(drop),
            Roles([false, true, true]),
        ),
        (
            "delete_webhook",
            |c| {
                let w = c.helper.save_webhook(None, hook_input(false))?.webhook;
                c.station.delete_webhook(&w.id)?;
                if c.helper.list_webhooks()?.iter().any(|x| x.id == w.id) {
                    return Err(still_there("the webhook"));
                }
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "rotate_signing_secret",
            |c| {
                let w = c.helper.save_webhook(None, hook_input(true))?.webhook;
                let secret = c.station.rotate_signing_secret(&w.id)?;
                assert!(secret.starts_with("whsec_"));
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "list_feeds",
            |c| c.station.list_feeds().map(drop),
            Roles([false, true, true]),
        ),
        (
            "save_feed",
            |c| {
                c.station
                    .save_feed(None, feed_input(c, "http://127.0.0.1:9/c.ics"))
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "delete_feed",
            |c| {
                let f = c
                    .helper
                    .save_feed(None, feed_input(c, "http://127.0.0.1:9/c.ics"))?;
                c.station.delete_feed(&f.id)?;
                if c.helper.list_feeds()?.iter().any(|x| x.id == f.id) {
                    return Err(still_there("the feed"));
                }
                Ok(())
            },
            Roles([false, true, true]),
        ),
        (
            "sync_feed_now",
            |c| {
                // A real feed server, so an allowed sync really succeeds.
                let server = c.rt.block_on(async {
                    let server = wiremock::MockServer::start().await;
                    wiremock::Mock::given(wiremock::matchers::any())
                        .respond_with(
                            wiremock::ResponseTemplate::new(200).set_body_string(EMPTY_CALENDAR),
                        )
                        .mount(&server)
                        .await;
                    server
                });
                let f = c
                    .helper
                    .save_feed(None, feed_input(c, &format!("{}/c.ics", server.uri())))?;
                c.rt.block_on(interlock_core::feed_sync::sync_feed_as_actor(
                    &c.station,
                    &c.deliverer,
                    &f.id,
                ))
                .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "import_ics",
            |c| {
                c.station
                    .import_ics(&c.service, "empty.ics", EMPTY_CALENDAR)
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "list_deliveries",
            |c| c.station.deliveries_page(None, None, 200, None).map(drop),
            Roles([false, true, true]),
        ),
        (
            "send_test_webhook",
            |c| {
                c.rt.block_on(outbox::send_test(&c.station, &c.deliverer, &c.webhook))
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "resend_delivery",
            |c| {
                // A real delivery attempt: an order fires the order/create webhook, sent now.
                let helper = Arc::new(helper_station(&c.db));
                helper.create_order(order_input())?;
                c.rt.block_on(outbox::drain_now(&helper, &c.deliverer))?;
                let attempt = helper
                    .list_deliveries(None, Some(&c.webhook), 1)?
                    .pop()
                    .expect("an attempt");
                c.rt.block_on(outbox::resend(&c.station, &c.deliverer, &attempt.id))
                    .map(drop)
            },
            Roles([false, true, true]),
        ),
        (
            "interlock_panel",
            |c| c.ctl.panel(&c.service).map(drop),
            Roles([true, true, true]),
        ),
        (
            "interlock_command",
            |c| {
                // Inside Uma's booking window (the clock stands at 09:30): the user may too.
                c.rt.block_on(c.ctl.command(
                    &c.service,
                    Some(&c.event),
                    InterlockAction::Status,
                    None,
                ))
                .map(drop)
            },
            Roles([true, true, true]),
        ),
        (
            "interlock_audit",
            |c| c.station.interlock_audit_page(200, None).map(drop),
            Roles([false, true, true]),
        ),
        (
            "set_service_auto_lock",
            |c| c.station.set_service_auto_lock(&c.service, false).map(drop),
            Roles([false, true, true]),
        ),
        (
            "set_interlock_poll_secs",
            |c| c.station.set_interlock_poll_secs(30),
            Roles([false, false, true]),
        ),
        (
            "get_interlock_poll_secs",
            |c| {
                // As the command does: any signed-in account may read the interval.
                c.station.actor(Permission::ViewOwnSchedule)?;
                c.station.interlock_poll_secs().map(drop)
            },
            Roles([true, true, true]),
        ),
        (
            "dismiss_auto_lock",
            |c| {
                let svc = c.helper.create_service(ServiceInput {
                    tags: vec!["has_interlock".into()],
                    ..service_input()
                })?;
                let conn = rusqlite::Connection::open(&c.db).unwrap();
                interlock_core::store::auto_locks::schedule(
                    &conn,
                    &svc.id,
                    None,
                    t("2026-11-30T12:00:00Z"),
                )?;
                c.ctl.dismiss_auto_lock(&svc.id)
            },
            Roles([false, true, true]),
        ),
        (
            "get_retention_days",
            |c| {
                // As the command does: any signed-in account may read it.
                c.station.actor(Permission::ViewOwnSchedule)?;
                c.station.retention_days().map(drop)
            },
            Roles([true, true, true]),
        ),
        (
            "set_retention_days",
            |c| c.station.set_retention_days(400),
            Roles([false, false, true]),
        ),
        (
            "public_overview",
            |c| c.station.public_overview().map(drop),
            Anyone,
        ),
        // Reads the shell's window flags only; nothing in the core.
        ("window_agent", |_| Ok(()), Anyone),
        ("quit_info", |c| c.station.pending_work().map(drop), Anyone),
        (
            // A password check of its own, whoever is signed in (see tests/agent.rs).
            "quit_app",
            |c| c.station.verify_staff_password("admin", ADMIN_PW).map(drop),
            Anyone,
        ),
        (
            "get_agent_settings",
            |c| c.station.agent_settings().map(drop),
            Anyone,
        ),
        (
            "set_agent_settings",
            |c| {
                c.station
                    .set_agent_settings(c.station.agent_settings()?)
                    .map(drop)
            },
            Roles([false, false, true]),
        ),
        (
            "usage_report",
            |c| c.station.usage_report("2026-11-01", "2026-11-30").map(drop),
            Roles([false, true, true]),
        ),
        (
            "open_post_lock_link",
            |c| {
                // The user's own booking, ended by a lock, on a service with a post_lock tag:
                // the link is built for its user and staff (the app then opens it).
                let svc = c.helper.create_service(ServiceInput {
                    tags: vec![
                        "has_interlock".into(),
                        "post_lock:https://logbook.example.org/use?e={event_id}".into(),
                    ],
                    ..service_input()
                })?;
                let (starts_at, ends_at) = slot(1_900_000_000);
                let e = c.helper.create_event(EventInput {
                    service_id: svc.id.clone(),
                    user_id: c.user.clone(),
                    title: "t".into(),
                    starts_at,
                    ends_at,
                    order_id: None,
                    line_id: None,
                })?;
                let conn = rusqlite::Connection::open(&c.db).unwrap();
                let by = Account {
                    id: "system".into(),
                    username: "auto-lock".into(),
                    display_name: "Auto-lock".into(),
                    role: Role::Administrator,
                    active: true,
                    email: None,
                    created_at: ends_at,
                };
                interlock_core::store::usage::record_end(&conn, &e.id, ends_at, &by)?;
                c.ctl.post_lock_link(&svc.id, &e.id).map(drop)
            },
            Roles([true, true, true]),
        ),
    ]
}

fn helper_station(db: &std::path::Path) -> Station {
    let s = Station::open(
        db,
        Arc::new(interlock_core::ManualClock::new(t("2026-11-30T09:30:00Z"))),
        memory_secrets(),
    )
    .unwrap();
    s.act_as_system();
    s
}

#[test]
fn the_table_has_a_row_for_every_command_of_the_app() {
    let commands: BTreeSet<String> = app_commands().into_iter().collect();
    let rows: BTreeSet<String> = table().iter().map(|r| r.0.to_string()).collect();
    assert_eq!(table().len(), rows.len(), "a command has two rows");
    let missing: Vec<_> = commands.difference(&rows).collect();
    let unknown: Vec<_> = rows.difference(&commands).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "commands without a row: {missing:?}; rows without a command: {unknown:?}"
    );
}

#[test]
fn each_command_checks_the_role_in_the_core() {
    let f = Fixture::new();
    let user = f.account("uma", Role::InstrumentUser);
    f.account("sam", Role::FacilityStaff);
    let service = f.service("Microscope", &["has_interlock"]);
    let event = f.event(
        &service,
        &user,
        "2026-11-30T09:00:00Z",
        "2026-11-30T10:00:00Z",
    );
    let order = f.station.create_order(order_input()).unwrap();
    let webhook = f
        .station
        .save_webhook(None, hook_input(false))
        .unwrap()
        .webhook;
    f.station
        .save_webhook(
            None,
            WebhookInput {
                service_id: Some(service.id.clone()),
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
    // Inside Uma's booking, so that an instrument user may use the interlock.
    f.clock.set(t("2026-11-30T09:30:00Z"));
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let c = Ctx {
        station: f.station.clone(),
        helper: helper_station(&f.db_path()),
        ctl: InterlockController::new(f.station.clone(), deliverer.clone()),
        deliverer,
        rt: tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap(),
        db: f.db_path(),
        who: Cell::new(None),
        user: user.id,
        service: service.id,
        event: event.id,
        order: order.id,
        webhook: webhook.id,
    };

    let mut checked = 0;
    for (who, column) in [
        (None, None),
        (Some("uma"), Some(0)),
        (Some("sam"), Some(1)),
        (Some("admin"), Some(2)),
    ] {
        match who {
            Some(w) => f.sign_in_as(w),
            None => f.station.sign_out(),
        }
        c.who.set(who);
        let as_whom = who.unwrap_or("nobody");
        for (name, call, expect) in table() {
            let result = call(&c);
            match (expect, column) {
                (Expect::Anyone, _) => {
                    assert!(result.is_ok(), "{as_whom} may always {name}: {result:?}")
                }
                (Expect::Roles(_), None) => assert_eq!(
                    result.map_err(|e| e.code),
                    Err(ErrorCode::NotSignedIn),
                    "{name} while nobody is signed in"
                ),
                (Expect::Roles(allowed), Some(col)) if allowed[col] => {
                    assert!(
                        result.is_ok(),
                        "{as_whom} should be allowed to {name}: {result:?}"
                    )
                }
                (Expect::Roles(_), Some(_)) => assert_eq!(
                    result.map_err(|e| e.code),
                    Err(ErrorCode::Forbidden),
                    "{as_whom} must be refused {name}"
                ),
            }
            checked += 1;
            // Rows like sign_out change who is signed in: put the table's session back.
            let now = f
                .station
                .current_session()
                .unwrap()
                .map(|s| s.account.username);
            if now.as_deref() != who {
                match who {
                    Some(w) => f.sign_in_as(w),
                    None => f.station.sign_out(),
                }
            }
        }
    }
    assert_eq!(checked, 4 * app_commands().len());
}
