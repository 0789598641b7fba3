//! Shared set-up for the core's integration tests: a real SQLite file in a temp dir and a manual
//! clock, so every rule is checked against the real store at exact instants.

#![allow(dead_code)]

pub mod http;
pub mod recorder;
pub mod relay;

use interlock_core::model::*;
use interlock_core::secrets::{MemoryStore, SecretStore};
use interlock_core::{ManualClock, Role, Station};
use jiff::Timestamp;
use std::sync::Arc;
use tempfile::TempDir;

pub const ADMIN_PW: &str = "admin-password";
pub const PW: &str = "password-123";

pub struct Fixture {
    pub dir: TempDir,
    /// Shared, like the app's: the outbox runs its database work on the blocking pool.
    pub station: Arc<Station>,
    pub clock: Arc<ManualClock>,
    pub secrets: Arc<dyn SecretStore>,
}

/// Secrets in memory: for rule tests. The keyring tests use the real Secret Service.
pub fn memory_secrets() -> Arc<dyn SecretStore> {
    Arc::new(MemoryStore::default())
}

pub fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

impl Fixture {
    /// A station with a first administrator `admin`, signed in.
    pub fn new() -> Fixture {
        Fixture::with_secrets(memory_secrets())
    }

    pub fn with_secrets(secrets: Arc<dyn SecretStore>) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t("2026-11-30T08:00:00Z")));
        let station = Arc::new(
            Station::open(
                &dir.path().join("station.sqlite3"),
                clock.clone(),
                secrets.clone(),
            )
            .unwrap(),
        );
        station
            .create_first_administrator(FirstAdministrator {
                username: "admin".into(),
                display_name: "Ada Admin".into(),
                password: ADMIN_PW.into(),
            })
            .unwrap();
        station.sign_in("admin", ADMIN_PW).unwrap();
        Fixture {
            dir,
            station,
            clock,
            secrets,
        }
    }

    pub fn clock_now(&self) -> Timestamp {
        use interlock_core::Clock;
        self.clock.now()
    }

    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("station.sqlite3")
    }

    pub fn reopen(&self) -> Station {
        Station::open(&self.db_path(), self.clock.clone(), self.secrets.clone()).unwrap()
    }

    pub fn account(&self, username: &str, role: Role) -> Account {
        self.station
            .create_account(NewAccount {
                email: None,
                username: username.into(),
                display_name: format!("{username} display"),
                role,
                password: PW.into(),
            })
            .unwrap()
    }

    pub fn service(&self, name: &str, tags: &[&str]) -> Service {
        self.station
            .create_service(ServiceInput {
                name: name.into(),
                description: format!("{name} description"),
                tags: tags.iter().map(|s| s.to_string()).collect(),
            })
            .unwrap()
    }

    pub fn event_input(
        &self,
        service: &Service,
        user: &Account,
        start: &str,
        end: &str,
    ) -> EventInput {
        EventInput {
            service_id: service.id.clone(),
            user_id: user.id.clone(),
            title: format!("{} on {}", user.username, service.name),
            starts_at: t(start),
            ends_at: t(end),
            order_id: None,
            line_id: None,
        }
    }

    pub fn event(&self, service: &Service, user: &Account, start: &str, end: &str) -> Event {
        self.station
            .create_event(self.event_input(service, user, start, end))
            .unwrap()
    }

    pub fn sign_in_as(&self, username: &str) {
        let pw = if username == "admin" { ADMIN_PW } else { PW };
        self.station.sign_in(username, pw).unwrap();
    }
}
