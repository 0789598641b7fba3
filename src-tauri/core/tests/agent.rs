//! The station as an agent: the lock screen anyone may read (times only, never a name or a
//! title), who may stop the agent, the administrator's agent settings and the tray's lines.

mod common;
use common::*;
use interlock_core::station::agent::{AgentSettings, PendingWork};
use interlock_core::{ErrorCode, Role};

#[test]
fn lock_screen_shows_booking_times_and_no_names_signed_out() {
    let f = Fixture::new();
    let confocal = f.service("Confocal", &["has_interlock"]);
    let sequencer = f.service("Sequencer", &[]);
    let alice = f.account("alice", Role::InstrumentUser);
    let bob = f.account("bob", Role::InstrumentUser);
    // Now is 08:00: alice's booking runs, bob's is next; the sequencer is free.
    f.event(
        &confocal,
        &alice,
        "2026-11-30T07:30:00Z",
        "2026-11-30T09:00:00Z",
    );
    f.event(
        &confocal,
        &bob,
        "2026-11-30T10:00:00Z",
        "2026-11-30T12:00:00Z",
    );
    f.station.sign_out();

    let o = f.station.public_overview().unwrap();
    assert_eq!(o.instruments.len(), 2);
    let c = &o.instruments[0];
    assert_eq!(c.name, "Confocal");
    assert!(c.has_interlock);
    assert_eq!(c.reading, None);
    let cur = c.current.as_ref().unwrap();
    assert_eq!(cur.starts_at, t("2026-11-30T07:30:00Z"));
    assert_eq!(cur.ends_at, t("2026-11-30T09:00:00Z"));
    let next = c.next.as_ref().unwrap();
    assert_eq!(next.starts_at, t("2026-11-30T10:00:00Z"));
    assert_eq!(next.ends_at, t("2026-11-30T12:00:00Z"));
    let s = &o.instruments[1];
    assert_eq!(s.name, sequencer.name);
    assert!(!s.has_interlock);
    assert!(s.current.is_none() && s.next.is_none());

    // Nothing that names a person or a booking reaches the screen.
    let json = serde_json::to_string(&o).unwrap();
    for secret in ["alice", "bob", "display", "on Confocal", &alice.id, &bob.id] {
        assert!(
            !json.contains(secret),
            "lock screen leaks {secret:?}: {json}"
        );
    }
    // Still nobody signed in.
    assert!(f.station.current_session().unwrap().is_none());
}

#[test]
fn only_staff_and_administrators_pass_the_quit_check() {
    let f = Fixture::new();
    f.account("staff", Role::FacilityStaff);
    f.account("user", Role::InstrumentUser);
    f.station.sign_out();

    let admin = f.station.verify_staff_password("admin", ADMIN_PW).unwrap();
    assert_eq!(admin.role, Role::Administrator);
    assert_eq!(
        f.station.verify_staff_password("staff", PW).unwrap().role,
        Role::FacilityStaff
    );
    let wrong = f
        .station
        .verify_staff_password("admin", "nope")
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::SignInFailed);
    let unknown = f.station.verify_staff_password("ghost", PW).unwrap_err();
    assert_eq!(unknown.code, ErrorCode::SignInFailed);
    let user = f.station.verify_staff_password("user", PW).unwrap_err();
    assert_eq!(user.code, ErrorCode::Forbidden);
    // The check signs nobody in.
    assert!(f.station.current_session().unwrap().is_none());
}

#[test]
fn failed_quit_checks_pause_like_sign_ins() {
    let f = Fixture::new();
    f.station.sign_out();
    for _ in 0..interlock_core::station::MAX_FAILED_SIGN_INS {
        let _ = f.station.verify_staff_password("admin", "wrong");
    }
    let paused = f
        .station
        .verify_staff_password("admin", ADMIN_PW)
        .unwrap_err();
    assert_eq!(paused.code, ErrorCode::SignInPaused);
}

#[test]
fn agent_settings_default_and_administrators_only() {
    let f = Fixture::new();
    assert_eq!(
        f.station.agent_settings().unwrap(),
        AgentSettings {
            kiosk_mode: false,
            start_at_login: true
        }
    );
    let on = AgentSettings {
        kiosk_mode: true,
        start_at_login: false,
    };
    f.station.set_agent_settings(on).unwrap();
    assert_eq!(f.reopen().agent_settings().unwrap(), on);

    f.account("staff", Role::FacilityStaff);
    f.sign_in_as("staff");
    let refused = f.station.set_agent_settings(AgentSettings {
        kiosk_mode: false,
        start_at_login: true,
    });
    assert_eq!(refused.unwrap_err().code, ErrorCode::Forbidden);
    f.station.sign_out();
    // Read before anyone signs in (the app decides kiosk mode at start).
    assert_eq!(f.station.agent_settings().unwrap(), on);
}

#[test]
fn quit_warning_and_tray_lines() {
    assert_eq!(
        PendingWork {
            auto_locks: 0,
            deliveries: 0
        }
        .warning(),
        None
    );
    assert_eq!(
        PendingWork {
            auto_locks: 1,
            deliveries: 3
        }
        .warning()
        .unwrap(),
        "1 pending auto-lock and 3 pending webhook deliveries will not be carried out while Interlock Station is not running."
    );

    let f = Fixture::new();
    f.service("Confocal", &["has_interlock"]);
    f.service("Sequencer", &[]);
    f.station.sign_out();
    let status = f.station.agent_status().unwrap();
    assert!(status.needs_attention(), "an unread interlock is Unknown");
    assert_eq!(
        status.lines(),
        [
            "Confocal: Unknown (not read yet)",
            "Pending: 0 deliveries, 0 auto-locks"
        ]
    );
}
