//! Services with tags, events with the end-after-start and no-overlap rules, orders with line
//! items, and the station overview, on a real SQLite file.

mod common;
use common::*;
use interlock_core::error::ErrorDetail;
use interlock_core::model::*;
use interlock_core::tags::InterlockWindow;
use interlock_core::{ErrorCode, Role};

#[test]
fn services_round_trip_with_interlock_tags() {
    let f = Fixture::new();
    let s = f.service("Confocal LSM 980", &["floor-2", "has_interlock:10:15"]);
    assert_eq!(s.tags, ["floor-2", "has_interlock:10:15"]);
    assert_eq!(
        s.interlock,
        Some(InterlockWindow {
            lead_minutes: 10,
            post_minutes: 15
        })
    );
    let plain = f.service("Sequencer", &[]);
    assert_eq!(plain.interlock, None);
    let updated = f
        .station
        .update_service(
            &s.id,
            ServiceInput {
                name: "Confocal".into(),
                description: "Zeiss".into(),
                tags: vec!["has_interlock".into()],
            },
        )
        .unwrap();
    assert_eq!(
        updated.interlock,
        Some(InterlockWindow {
            lead_minutes: 5,
            post_minutes: 30
        })
    );
    let listed = f.reopen();
    listed.sign_in("admin", ADMIN_PW).unwrap();
    assert_eq!(listed.list_services().unwrap(), vec![updated, plain]);
}

#[test]
fn service_validation() {
    let f = Fixture::new();
    let bad_tag = f.station.create_service(ServiceInput {
        name: "X".into(),
        description: String::new(),
        tags: vec!["has_interlock:5".into()],
    });
    assert_eq!(bad_tag.unwrap_err().code, ErrorCode::Validation);
    let no_name = f.station.create_service(ServiceInput {
        name: "  ".into(),
        description: String::new(),
        tags: vec![],
    });
    assert_eq!(no_name.unwrap_err().message, "Service name is required.");
    f.service("Microscope", &[]);
    let dup = f.station.create_service(ServiceInput {
        name: "microscope".into(),
        description: String::new(),
        tags: vec![],
    });
    assert_eq!(
        dup.unwrap_err().message,
        "A service named 'microscope' already exists."
    );
    assert_eq!(
        f.station.list_services().unwrap().len(),
        1,
        "nothing half-saved"
    );
}

#[test]
fn a_service_with_bookings_cannot_be_deleted() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let s = f.service("Microscope", &[]);
    let e = f.event(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let err = f.station.delete_service(&s.id).unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    assert!(err.message.contains("1 booking"), "{}", err.message);
    f.station.delete_event(&e.id).unwrap();
    f.station.delete_service(&s.id).unwrap();
    assert_eq!(
        f.station.delete_service(&s.id).unwrap_err().code,
        ErrorCode::NotFound
    );
}

#[test]
fn events_round_trip_and_end_must_follow_start() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let s = f.service("Microscope", &["has_interlock"]);
    let e = f.event(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    assert_eq!(e.service_name, "Microscope");
    assert_eq!(e.user_display_name, "uma display");
    assert_eq!(e.starts_at, t("2026-11-30T09:00:00Z"));
    for (start, end) in [
        ("2026-11-30T12:00:00Z", "2026-11-30T12:00:00Z"),
        ("2026-11-30T13:00:00Z", "2026-11-30T12:00:00Z"),
    ] {
        let err = f
            .station
            .create_event(f.event_input(&s, &u, start, end))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Validation);
        assert_eq!(err.message, "The end must be after the start.");
    }
    let mut input = f.event_input(&s, &u, "2026-11-30T09:30:00Z", "2026-11-30T11:30:00Z");
    input.title = "Longer".into();
    let moved = f.station.update_event(&e.id, input).unwrap();
    assert_eq!(moved.title, "Longer");
    assert_eq!(moved.ends_at, t("2026-11-30T11:30:00Z"));
    assert_eq!(f.station.list_events().unwrap(), vec![moved]);
}

#[test]
fn events_on_one_service_may_not_overlap() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let v = f.account("vic", Role::InstrumentUser);
    let s = f.service("Microscope", &[]);
    let other = f.service("Sequencer", &[]);
    f.event(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    for (start, end) in [
        ("2026-11-30T10:00:00Z", "2026-11-30T12:00:00Z"),
        ("2026-11-30T08:00:00Z", "2026-11-30T09:00:01Z"),
        ("2026-11-30T09:15:00Z", "2026-11-30T09:45:00Z"),
        ("2026-11-30T08:00:00Z", "2026-11-30T12:00:00Z"),
    ] {
        let err = f
            .station
            .create_event(f.event_input(&s, &v, start, end))
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::Conflict, "{start}–{end}");
        assert!(
            err.message
                .starts_with("This booking overlaps another booking on Microscope"),
            "{}",
            err.message
        );
        assert_eq!(
            err.detail,
            Some(ErrorDetail::BookingOverlaps {
                service_name: "Microscope".into(),
                starts_at: t("2026-11-30T09:00:00Z"),
                ends_at: t("2026-11-30T11:00:00Z"),
            })
        );
    }
    // Back-to-back is fine, and another service is independent.
    f.event(&s, &v, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");
    f.event(&s, &v, "2026-11-30T08:00:00Z", "2026-11-30T09:00:00Z");
    f.event(&other, &v, "2026-11-30T09:00:00Z", "2026-11-30T11:00:00Z");
    // Moving an event onto another is refused; moving it within its own slot is not.
    let events = f.station.list_events().unwrap();
    let first = events
        .iter()
        .find(|e| e.starts_at == t("2026-11-30T08:00:00Z") && e.service_id == s.id)
        .unwrap();
    let err = f
        .station
        .update_event(
            &first.id,
            f.event_input(&s, &v, "2026-11-30T08:00:00Z", "2026-11-30T09:30:00Z"),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::Conflict);
    f.station
        .update_event(
            &first.id,
            f.event_input(&s, &v, "2026-11-30T08:15:00Z", "2026-11-30T09:00:00Z"),
        )
        .unwrap();
}

#[test]
fn instrument_users_see_only_their_own_events() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let v = f.account("vic", Role::InstrumentUser);
    let s = f.service("Microscope", &[]);
    let mine = f.event(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    f.event(&s, &v, "2026-11-30T10:00:00Z", "2026-11-30T11:00:00Z");
    assert_eq!(f.station.list_events().unwrap().len(), 2, "admin sees all");
    f.sign_in_as("uma");
    assert_eq!(f.station.list_events().unwrap(), vec![mine]);
}

#[test]
fn event_order_and_line_must_fit_together() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let s = f.service("Microscope", &[]);
    let other = f.service("Sequencer", &[]);
    let order = f
        .station
        .create_order(OrderInput {
            reference: "ORD-7".into(),
            customer: "Smith lab".into(),
            status: OrderStatus::Open,
            lines: vec![
                OrderLineInput {
                    id: None,
                    service_id: s.id.clone(),
                    description: "2 h imaging".into(),
                },
                OrderLineInput {
                    id: None,
                    service_id: other.id.clone(),
                    description: "1 run".into(),
                },
            ],
        })
        .unwrap();
    let mut input = f.event_input(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    input.line_id = Some(order.lines[0].id.clone());
    assert_eq!(
        f.station.create_event(input.clone()).unwrap_err().message,
        "A line item needs its order."
    );
    input.order_id = Some(order.id.clone());
    input.line_id = Some(order.lines[1].id.clone());
    assert_eq!(
        f.station.create_event(input.clone()).unwrap_err().message,
        "The line item is for another service."
    );
    input.line_id = Some(order.lines[0].id.clone());
    let e = f.station.create_event(input).unwrap();
    assert_eq!(e.order_id.as_deref(), Some(order.id.as_str()));
    // Deleting the order keeps the booking, without its order.
    f.station.delete_order(&order.id).unwrap();
    let kept = f.station.list_events().unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].order_id, None);
    assert_eq!(kept[0].line_id, None);
}

#[test]
fn orders_round_trip_and_keep_line_ids() {
    let f = Fixture::new();
    let s = f.service("Microscope", &[]);
    let o = f
        .station
        .create_order(OrderInput {
            reference: "ORD-1".into(),
            customer: "Smith lab".into(),
            status: OrderStatus::Open,
            lines: vec![
                OrderLineInput {
                    id: None,
                    service_id: s.id.clone(),
                    description: "A".into(),
                },
                OrderLineInput {
                    id: None,
                    service_id: s.id.clone(),
                    description: "B".into(),
                },
            ],
        })
        .unwrap();
    assert_eq!(
        o.lines
            .iter()
            .map(|l| l.description.as_str())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
    let updated = f
        .station
        .update_order(
            &o.id,
            OrderInput {
                reference: "ORD-1".into(),
                customer: "Smith lab".into(),
                status: OrderStatus::Completed,
                lines: vec![
                    OrderLineInput {
                        id: Some(o.lines[1].id.clone()),
                        service_id: s.id.clone(),
                        description: "B2".into(),
                    },
                    OrderLineInput {
                        id: None,
                        service_id: s.id.clone(),
                        description: "C".into(),
                    },
                ],
            },
        )
        .unwrap();
    assert_eq!(updated.status, OrderStatus::Completed);
    assert_eq!(updated.lines.len(), 2);
    assert_eq!(updated.lines[0].id, o.lines[1].id, "kept line keeps its id");
    assert_eq!(updated.lines[0].description, "B2");
    assert_ne!(updated.lines[1].id, o.lines[0].id);
    assert_eq!(f.station.list_orders().unwrap(), vec![updated.clone()]);
    let foreign = f.station.update_order(
        &o.id,
        OrderInput {
            reference: "ORD-1".into(),
            customer: "Smith lab".into(),
            status: OrderStatus::Completed,
            lines: vec![OrderLineInput {
                id: Some("nope".into()),
                service_id: s.id.clone(),
                description: "x".into(),
            }],
        },
    );
    assert_eq!(
        foreign.unwrap_err().message,
        "Line 1 does not belong to this order."
    );
    assert_eq!(
        f.station.list_orders().unwrap(),
        vec![updated],
        "a refused update changes nothing"
    );
    let dup = f.station.create_order(OrderInput {
        reference: "ord-1".into(),
        customer: "X".into(),
        status: OrderStatus::Open,
        lines: vec![],
    });
    assert_eq!(dup.unwrap_err().code, ErrorCode::Conflict);
    f.station.delete_order(&o.id).unwrap();
    assert!(f.station.list_orders().unwrap().is_empty());
    let c = rusqlite::Connection::open(f.db_path()).unwrap();
    let lines: i64 = c
        .query_row("SELECT count(*) FROM order_lines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(lines, 0, "line items go with their order");
}

#[test]
fn overview_shows_current_and_next_and_hides_others_details_from_users() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    let v = f.account("vic", Role::InstrumentUser);
    let s = f.service("Microscope", &["has_interlock"]);
    f.service("Sequencer", &[]);
    // The clock stands at 08:00.
    f.event(&s, &v, "2026-11-30T07:30:00Z", "2026-11-30T08:30:00Z");
    f.event(&s, &u, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    f.event(&s, &u, "2026-11-30T11:00:00Z", "2026-11-30T12:00:00Z");

    let staff_view = f.station.overview().unwrap();
    assert_eq!(staff_view.instruments.len(), 2);
    let m = &staff_view.instruments[0];
    assert_eq!(m.service.name, "Microscope");
    let cur = m.current.as_ref().unwrap();
    assert_eq!(cur.user_display_name.as_deref(), Some("vic display"));
    assert!(!cur.mine);
    assert_eq!(
        m.next.as_ref().unwrap().starts_at,
        t("2026-11-30T09:00:00Z")
    );
    assert!(
        staff_view.instruments[1].current.is_none() && staff_view.instruments[1].next.is_none()
    );

    f.sign_in_as("uma");
    let user_view = f.station.overview().unwrap();
    let m = &user_view.instruments[0];
    let cur = m.current.as_ref().unwrap();
    assert_eq!(
        (
            cur.mine,
            cur.title.clone(),
            cur.user_display_name.clone(),
            cur.event_id.clone()
        ),
        (false, None, None, None)
    );
    let next = m.next.as_ref().unwrap();
    assert!(next.mine);
    assert_eq!(next.title.as_deref(), Some("uma on Microscope"));
    assert!(next.event_id.is_some());

    // At 09:00 exactly, Uma's booking is current.
    f.clock.set(t("2026-11-30T09:00:00Z"));
    f.station.touch().unwrap_err(); // an hour idle: signed out
    f.sign_in_as("uma");
    let later = f.station.overview().unwrap();
    assert!(later.instruments[0].current.as_ref().unwrap().mine);
    assert_eq!(
        later.instruments[0].next.as_ref().unwrap().starts_at,
        t("2026-11-30T11:00:00Z")
    );
}
