//! First run, sign-in with the 5-failure pause, idle sign-out, accounts and the last-administrator
//! rule, all on a real SQLite file with a manual clock.

mod common;
use common::*;
use interlock_core::model::*;
use interlock_core::{ErrorCode, ManualClock, Role, Station};
use jiff::SignedDuration;
use std::sync::Arc;

#[test]
fn first_run_creates_exactly_one_administrator() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t("2026-11-30T08:00:00Z")));
    let s = Station::open(&dir.path().join("db.sqlite3"), clock, memory_secrets()).unwrap();
    assert!(s.setup_required().unwrap());
    let short = s.create_first_administrator(FirstAdministrator {
        username: "root".into(),
        display_name: "Root".into(),
        password: "1234567".into(),
    });
    assert_eq!(
        short.unwrap_err().message,
        "The password must have at least 8 characters."
    );
    let bad_name = s.create_first_administrator(FirstAdministrator {
        username: "ro ot".into(),
        display_name: "Root".into(),
        password: "12345678".into(),
    });
    assert_eq!(bad_name.unwrap_err().code, ErrorCode::Validation);
    let admin = s
        .create_first_administrator(FirstAdministrator {
            username: "root".into(),
            display_name: " Root User ".into(),
            password: "12345678".into(),
        })
        .unwrap();
    assert_eq!(admin.role, Role::Administrator);
    assert_eq!(admin.display_name, "Root User");
    assert!(!s.setup_required().unwrap());
    let again = s.create_first_administrator(FirstAdministrator {
        username: "second".into(),
        display_name: "Second".into(),
        password: "12345678".into(),
    });
    assert_eq!(again.unwrap_err().code, ErrorCode::SetupAlreadyDone);
    // Setup does not sign anybody in.
    assert_eq!(s.current_session().unwrap(), None);
}

#[test]
fn password_is_stored_only_as_an_argon2id_hash() {
    let f = Fixture::new();
    let bytes = std::fs::read(f.db_path()).unwrap();
    let wal = std::fs::read(f.db_path().with_extension("sqlite3-wal")).unwrap_or_default();
    for haystack in [&bytes, &wal] {
        assert!(!haystack
            .windows(ADMIN_PW.len())
            .any(|w| w == ADMIN_PW.as_bytes()));
    }
    let c = rusqlite::Connection::open(f.db_path()).unwrap();
    let hash: String = c
        .query_row(
            "SELECT password_hash FROM accounts WHERE username = 'admin'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

#[test]
fn wrong_username_and_wrong_password_get_the_same_message() {
    let f = Fixture::new();
    let a = f.station.sign_in("admin", "not-the-password").unwrap_err();
    let b = f.station.sign_in("nobody", ADMIN_PW).unwrap_err();
    assert_eq!(a.code, ErrorCode::SignInFailed);
    assert_eq!(a, b);
    assert_eq!(a.message, "Wrong username or password.");
}

#[test]
fn five_failures_pause_sign_in_for_30_seconds() {
    let f = Fixture::new();
    f.station.sign_out();
    for i in 1..=4 {
        let e = f.station.sign_in("admin", "wrong").unwrap_err();
        assert_eq!(e.code, ErrorCode::SignInFailed, "attempt {i}");
    }
    let fifth = f.station.sign_in("admin", "wrong").unwrap_err();
    assert_eq!(fifth.code, ErrorCode::SignInPaused);
    assert!(
        fifth.message.contains("paused for 30 s"),
        "{}",
        fifth.message
    );

    // Even the right password is refused during the pause, and says how long is left.
    f.clock.advance(SignedDuration::from_secs(10));
    let paused = f.station.sign_in("admin", ADMIN_PW).unwrap_err();
    assert_eq!(paused.code, ErrorCode::SignInPaused);
    assert!(
        paused.message.contains("try again in 20 s"),
        "{}",
        paused.message
    );
    // Both carry the instant the pause ends, for the window to word in its locale.
    let until = fifth.detail.clone();
    assert!(
        matches!(
            until,
            Some(interlock_core::error::ErrorDetail::SignInPausedUntil { .. })
        ),
        "{until:?}"
    );
    assert_eq!(paused.detail, until);

    // The pause is per username, and survives a restart of the app.
    let restarted = f.reopen();
    assert_eq!(
        restarted.sign_in("ADMIN", ADMIN_PW).unwrap_err().code,
        ErrorCode::SignInPaused
    );

    f.clock.advance(SignedDuration::from_secs(19));
    assert_eq!(
        f.station.sign_in("admin", ADMIN_PW).unwrap_err().code,
        ErrorCode::SignInPaused
    );
    f.clock.advance(SignedDuration::from_secs(1));
    let session = f.station.sign_in("admin", ADMIN_PW).unwrap();
    assert_eq!(session.account.username, "admin");
}

#[test]
fn success_resets_the_failure_count() {
    let f = Fixture::new();
    for _ in 0..4 {
        f.station.sign_in("admin", "wrong").unwrap_err();
    }
    f.station.sign_in("admin", ADMIN_PW).unwrap();
    for _ in 0..4 {
        assert_eq!(
            f.station.sign_in("admin", "wrong").unwrap_err().code,
            ErrorCode::SignInFailed
        );
    }
}

#[test]
fn unknown_usernames_are_paused_too() {
    let f = Fixture::new();
    for _ in 0..4 {
        f.station.sign_in("ghost", "x").unwrap_err();
    }
    assert_eq!(
        f.station.sign_in("ghost", "x").unwrap_err().code,
        ErrorCode::SignInPaused
    );
}

#[test]
fn a_failed_switch_keeps_the_current_user() {
    let f = Fixture::new();
    f.account("sam", Role::FacilityStaff);
    assert!(f.station.sign_in("sam", "wrong").is_err());
    assert_eq!(
        f.station
            .current_session()
            .unwrap()
            .unwrap()
            .account
            .username,
        "admin"
    );
    f.station.sign_in("sam", PW).unwrap();
    assert_eq!(
        f.station
            .current_session()
            .unwrap()
            .unwrap()
            .account
            .username,
        "sam"
    );
}

#[test]
fn idle_sign_out_after_the_configured_minutes() {
    let f = Fixture::new();
    assert_eq!(f.station.settings().unwrap().idle_timeout_minutes, 10);
    f.clock.advance(SignedDuration::from_secs(10 * 60 - 1));
    // Reading the session is not activity.
    assert!(f.station.current_session().unwrap().is_some());
    f.clock.advance(SignedDuration::from_secs(1));
    assert_eq!(f.station.current_session().unwrap(), None);
    let e = f.station.list_services().unwrap_err();
    assert_eq!(e.code, ErrorCode::NotSignedIn);

    f.sign_in_as("admin");
    f.station
        .update_settings(Settings {
            idle_timeout_minutes: 2,
        })
        .unwrap();
    f.clock.advance(SignedDuration::from_secs(100));
    f.station.touch().unwrap(); // activity restarts the idle time
    f.clock.advance(SignedDuration::from_secs(100));
    let err = f.station.list_services().map(|_| ()).unwrap_err_or_ok();
    assert!(err.is_none(), "still signed in 100 s after activity");
    f.clock.advance(SignedDuration::from_secs(120));
    let e = f.station.list_services().unwrap_err();
    assert_eq!(e.code, ErrorCode::SessionExpired);
    assert_eq!(
        e.message,
        "You were signed out after 2 minutes without activity."
    );
}

trait ErrOrOk {
    fn unwrap_err_or_ok(self) -> Option<interlock_core::CoreError>;
}
impl ErrOrOk for Result<(), interlock_core::CoreError> {
    fn unwrap_err_or_ok(self) -> Option<interlock_core::CoreError> {
        self.err()
    }
}

#[test]
fn settings_are_validated() {
    let f = Fixture::new();
    for bad in [0, 241] {
        let e = f
            .station
            .update_settings(Settings {
                idle_timeout_minutes: bad,
            })
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::Validation);
    }
}

#[test]
fn accounts_round_trip() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    assert_eq!(u.role, Role::InstrumentUser);
    assert!(u.active);
    let dup = f.station.create_account(NewAccount {
        email: None,
        username: "UMA".into(),
        display_name: "Other".into(),
        role: Role::InstrumentUser,
        password: PW.into(),
    });
    assert_eq!(
        dup.unwrap_err().message,
        "The username 'UMA' is already taken."
    );
    let updated = f
        .station
        .update_account(
            &u.id,
            AccountUpdate {
                email: None,
                display_name: "Uma Upton".into(),
                role: Role::FacilityStaff,
                active: true,
            },
        )
        .unwrap();
    assert_eq!(updated.display_name, "Uma Upton");
    assert_eq!(updated.role, Role::FacilityStaff);
    let listed = f.station.list_accounts().unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|a| a.username.as_str())
            .collect::<Vec<_>>(),
        ["admin", "uma"]
    );
}

#[test]
fn deactivated_accounts_cannot_sign_in_and_lose_their_session() {
    let f = Fixture::new();
    let u = f.account("uma", Role::FacilityStaff);
    f.sign_in_as("uma");
    let other = f.reopen(); // a second handle on the same file, as the admin
    other.sign_in("admin", ADMIN_PW).unwrap();
    other
        .update_account(
            &u.id,
            AccountUpdate {
                email: None,
                display_name: "Uma".into(),
                role: Role::FacilityStaff,
                active: false,
            },
        )
        .unwrap();
    assert_eq!(
        f.station.list_services().unwrap_err().code,
        ErrorCode::NotSignedIn
    );
    let e = f.station.sign_in("uma", PW).unwrap_err();
    assert_eq!(e.code, ErrorCode::AccountInactive);
    // A wrong password on a deactivated account reveals nothing more.
    assert_eq!(
        f.station.sign_in("uma", "wrong").unwrap_err().code,
        ErrorCode::SignInFailed
    );
}

#[test]
fn the_last_active_administrator_stays() {
    let f = Fixture::new();
    let admin = f.station.current_session().unwrap().unwrap().account;
    for (role, active) in [
        (Role::FacilityStaff, true),
        (Role::Administrator, false),
        (Role::InstrumentUser, false),
    ] {
        let e = f
            .station
            .update_account(
                &admin.id,
                AccountUpdate {
                    email: None,
                    display_name: "Ada".into(),
                    role,
                    active,
                },
            )
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::LastAdministrator, "{role:?} {active}");
    }
    // An inactive second administrator does not count.
    let b = f.account("bea", Role::Administrator);
    f.station
        .update_account(
            &b.id,
            AccountUpdate {
                email: None,
                display_name: "Bea".into(),
                role: Role::Administrator,
                active: false,
            },
        )
        .unwrap();
    assert_eq!(
        f.station
            .update_account(
                &admin.id,
                AccountUpdate {
                    email: None,
                    display_name: "Ada".into(),
                    role: Role::FacilityStaff,
                    active: true
                }
            )
            .unwrap_err()
            .code,
        ErrorCode::LastAdministrator
    );
    f.station
        .update_account(
            &b.id,
            AccountUpdate {
                email: None,
                display_name: "Bea".into(),
                role: Role::Administrator,
                active: true,
            },
        )
        .unwrap();
    let demoted = f
        .station
        .update_account(
            &admin.id,
            AccountUpdate {
                email: None,
                display_name: "Ada".into(),
                role: Role::FacilityStaff,
                active: true,
            },
        )
        .unwrap();
    assert_eq!(demoted.role, Role::FacilityStaff);
    // Ada is staff now: account management is refused at once.
    assert_eq!(f.station.list_orders().map(|_| ()), Ok(()));
    assert_eq!(
        f.station
            .create_account(NewAccount {
                email: None,
                username: "x".into(),
                display_name: "X".into(),
                role: Role::InstrumentUser,
                password: PW.into()
            })
            .unwrap_err()
            .code,
        ErrorCode::Forbidden
    );
}

#[test]
fn reset_password_replaces_the_old_one_and_clears_a_pause() {
    let f = Fixture::new();
    let u = f.account("uma", Role::InstrumentUser);
    for _ in 0..5 {
        f.station.sign_in("uma", "wrong").unwrap_err();
    }
    f.station.reset_password(&u.id, "short").unwrap_err();
    f.station.reset_password(&u.id, "brand-new-pass").unwrap();
    assert_eq!(
        f.station.sign_in("uma", PW).unwrap_err().code,
        ErrorCode::SignInFailed
    );
    f.station.sign_in("uma", "brand-new-pass").unwrap();
}

#[test]
fn screens_refreshing_on_their_own_do_not_keep_a_session_alive() {
    let f = Fixture::new();
    for _ in 0..19 {
        f.clock.advance(SignedDuration::from_secs(30));
        f.station.overview().unwrap();
        f.station.list_events().unwrap();
    }
    // Ten minutes of refreshes without any input: signed out.
    f.clock.advance(SignedDuration::from_secs(30));
    assert_eq!(
        f.station.overview().unwrap_err().code,
        ErrorCode::SessionExpired
    );
}

/// The log says when a pause begins and each attempt it refuses (names, never passwords).
#[test]
fn a_sign_in_pause_and_the_attempts_it_refuses_are_logged() {
    #[derive(Clone, Default)]
    struct Lines(Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Lines {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let lines = Lines::default();
    let sink = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_writer(move || sink.clone())
        .finish();
    let f = Fixture::new();
    f.station.sign_out();
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..5 {
            let _ = f.station.sign_in("admin", "wrong");
        }
        let _ = f.station.sign_in("admin", ADMIN_PW);
    });
    let log = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.contains("sign-in paused after 5 failed attempts") && log.contains("seconds=30"),
        "{log}"
    );
    assert!(
        log.contains("sign-in refused: sign-in for this username is paused")
            && log.contains("username=admin"),
        "{log}"
    );
    assert!(!log.contains(ADMIN_PW) && !log.contains("wrong"), "{log}");
}
