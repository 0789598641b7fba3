//! Every command checks the signed-in role itself: the table below calls each one as nobody, as an
//! instrument user, as facility staff and as an administrator.

mod common;
use common::*;
use interlock_core::model::*;
use interlock_core::{CoreError, ErrorCode, Role, Station};

type Call = fn(&Station, &Ids) -> Result<(), CoreError>;

struct Ids {
    user: String,
    service: String,
    event: String,
    order: String,
}

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

/// (command, who may: [user, staff, admin])
fn table() -> Vec<(&'static str, Call, [bool; 3])> {
    vec![
        (
            "settings",
            |s, _| s.settings().map(drop),
            [true, true, true],
        ),
        (
            "update_settings",
            |s, _| {
                s.update_settings(Settings {
                    idle_timeout_minutes: 10,
                })
                .map(drop)
            },
            [false, false, true],
        ),
        (
            "list_accounts",
            |s, _| s.list_accounts().map(drop),
            [false, true, true],
        ),
        (
            "create_account",
            |s, _| {
                s.create_account(NewAccount {
                    username: format!("n{}", ulid::Ulid::new()),
                    display_name: "N".into(),
                    role: Role::InstrumentUser,
                    password: PW.into(),
                })
                .map(drop)
            },
            [false, false, true],
        ),
        (
            "update_account",
            |s, ids| {
                s.update_account(
                    &ids.user,
                    AccountUpdate {
                        display_name: "U".into(),
                        role: Role::InstrumentUser,
                        active: true,
                    },
                )
                .map(drop)
            },
            [false, false, true],
        ),
        (
            "reset_password",
            |s, ids| s.reset_password(&ids.user, PW),
            [false, false, true],
        ),
        (
            "list_services",
            |s, _| s.list_services().map(drop),
            [true, true, true],
        ),
        (
            "create_service",
            |s, _| s.create_service(service_input()).map(drop),
            [false, true, true],
        ),
        (
            "update_service",
            |s, ids| {
                s.update_service(
                    &ids.service,
                    ServiceInput {
                        name: "Microscope".into(),
                        description: "d".into(),
                        tags: vec!["has_interlock".into()],
                    },
                )
                .map(drop)
            },
            [false, true, true],
        ),
        (
            "delete_service",
            |s, _| {
                // Each role deletes a service of its own making where it may create one.
                match s.create_service(service_input()) {
                    Ok(svc) => s.delete_service(&svc.id),
                    Err(e) => s
                        .delete_service("01J00000000000000000000000")
                        .map_err(|_| e),
                }
            },
            [false, true, true],
        ),
        (
            "list_events",
            |s, _| s.list_events().map(drop),
            [true, true, true],
        ),
        (
            "create_event",
            |s, ids| {
                let base = jiff::Timestamp::from_second(
                    1_900_000_000 + (ulid::Ulid::new().random() % 1_000_000) as i64 * 7200,
                )
                .unwrap();
                s.create_event(EventInput {
                    service_id: ids.service.clone(),
                    user_id: ids.user.clone(),
                    title: "t".into(),
                    starts_at: base,
                    ends_at: base + jiff::SignedDuration::from_mins(30),
                    order_id: None,
                    line_id: None,
                })
                .map(drop)
            },
            [false, true, true],
        ),
        (
            "update_event",
            |s, ids| {
                s.update_event(
                    &ids.event,
                    EventInput {
                        service_id: ids.service.clone(),
                        user_id: ids.user.clone(),
                        title: "changed".into(),
                        starts_at: t("2026-11-30T09:00:00Z"),
                        ends_at: t("2026-11-30T10:00:00Z"),
                        order_id: None,
                        line_id: None,
                    },
                )
                .map(drop)
            },
            [false, true, true],
        ),
        (
            "delete_event",
            |s, ids| {
                let base = jiff::Timestamp::from_second(
                    2_000_000_000 + (ulid::Ulid::new().random() % 1_000_000) as i64 * 7200,
                )
                .unwrap();
                match s.create_event(EventInput {
                    service_id: ids.service.clone(),
                    user_id: ids.user.clone(),
                    title: "t".into(),
                    starts_at: base,
                    ends_at: base + jiff::SignedDuration::from_mins(30),
                    order_id: None,
                    line_id: None,
                }) {
                    Ok(e) => s.delete_event(&e.id),
                    Err(_) => s.delete_event(&ids.event),
                }
            },
            [false, true, true],
        ),
        (
            "list_orders",
            |s, _| s.list_orders().map(drop),
            [false, true, true],
        ),
        (
            "create_order",
            |s, _| s.create_order(order_input()).map(drop),
            [false, true, true],
        ),
        (
            "update_order",
            |s, ids| {
                s.update_order(
                    &ids.order,
                    OrderInput {
                        reference: "ORD-1".into(),
                        customer: "Lab".into(),
                        status: OrderStatus::InProgress,
                        lines: vec![],
                    },
                )
                .map(drop)
            },
            [false, true, true],
        ),
        (
            "delete_order",
            |s, _| match s.create_order(order_input()) {
                Ok(o) => s.delete_order(&o.id),
                Err(e) => Err(e),
            },
            [false, true, true],
        ),
        (
            "overview",
            |s, _| s.overview().map(drop),
            [true, true, true],
        ),
        ("touch", |s, _| s.touch(), [true, true, true]),
    ]
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
    let order = f
        .station
        .create_order(OrderInput {
            reference: "ORD-1".into(),
            customer: "Lab".into(),
            status: OrderStatus::Open,
            lines: vec![],
        })
        .unwrap();
    let ids = Ids {
        user: user.id,
        service: service.id,
        event: event.id,
        order: order.id,
    };

    f.station.sign_out();
    for (name, call, _) in table() {
        let e = call(&f.station, &ids).unwrap_err();
        assert_eq!(
            e.code,
            ErrorCode::NotSignedIn,
            "{name} while nobody is signed in"
        );
    }
    for (who, column) in [("uma", 0), ("sam", 1), ("admin", 2)] {
        f.sign_in_as(who);
        for (name, call, allowed) in table() {
            let result = call(&f.station, &ids);
            if allowed[column] {
                assert!(
                    result.is_ok(),
                    "{who} should be allowed to {name}: {result:?}"
                );
            } else {
                let e = result.unwrap_err();
                assert_eq!(
                    e.code,
                    ErrorCode::Forbidden,
                    "{who} must be refused {name}: {e:?}"
                );
            }
        }
    }
}
