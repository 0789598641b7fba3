//! Why this exists: the station's one entry point. Every operation the app offers is a method here
//! that first asks who is signed in and whether their role allows it, then validates and stores.
//! The Tauri commands and the CLI only call these methods, so no rule can be skipped by going
//! around the UI.
//!
//! The methods are grouped by concern, one file each: `sessions.rs` (first run, sign-in, sessions,
//! accounts), `schedule.rs` (services, bookings, orders and the outbox rows they write),
//! `webhooks.rs` (the Service Webhook Manager and its secrets), `deliveries.rs` (outbox rows into
//! requests, attempts into the delivery log). This file holds the station itself, its settings
//! and the station screen.

mod deliveries;
pub(crate) use deliveries::{check_retry_policy, RETRY_POLICY_KEY};
pub mod agent;
pub mod feeds;
pub(crate) mod schedule;
mod sessions;
pub mod webhooks;

use crate::clock::Clock;
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::*;
use crate::outbox;
use crate::password::{
    hash_password, validate_new_password, verify_against_dummy, verify_password,
};
use crate::payload::SystemKeys;
use crate::roles::{require, Permission, Role};
use crate::secrets::SecretStore;
use crate::store::{
    self, accounts, events, login_throttle, order_lines, orders, services, settings, Store,
};
use crate::tags::normalize_tags;
use crate::webhook::{Action, ActionSubtype, ActionType};
use jiff::{SignedDuration, Timestamp};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

/// Failed sign-ins for one username before sign-in for it pauses.
pub const MAX_FAILED_SIGN_INS: u32 = 5;
/// How long sign-in pauses after too many failures.
pub const SIGN_IN_PAUSE: SignedDuration = SignedDuration::from_secs(30);
pub const DEFAULT_IDLE_TIMEOUT_MINUTES: u32 = 10;
pub const MAX_IDLE_TIMEOUT_MINUTES: u32 = 240;
pub(crate) const IDLE_TIMEOUT_KEY: &str = "idle_timeout_minutes";
pub(crate) const POLL_KEY: &str = "interlock_poll_secs";
pub const DEFAULT_POLL_SECS: u32 = 30;
pub const MIN_POLL_SECS: u32 = 5;
pub const MAX_POLL_SECS: u32 = 3600;
/// The id the command line acts under; no account row has it.
pub const SYSTEM_ACCOUNT_ID: &str = "system";

#[derive(Debug, Clone)]
struct ActiveSession {
    account_id: String,
    signed_in_at: Timestamp,
    last_activity: Timestamp,
}

pub struct Station {
    store: Mutex<Store>,
    pub(crate) clock: Arc<dyn Clock>,
    session: Mutex<Option<ActiveSession>>,
    pub(crate) secrets: Arc<dyn SecretStore>,
    /// Woken whenever deliveries are written to the outbox, so the worker sends them at once.
    pub(crate) outbox_signal: Arc<tokio::sync::Notify>,
    /// Woken when a feed is saved, so the feed worker syncs it at once.
    pub(crate) feeds_signal: Arc<tokio::sync::Notify>,
    /// Where failures are announced; none until the app sets one.
    notifier: Mutex<Option<Arc<dyn crate::notifier::Notifier>>>,
}

impl std::fmt::Debug for Station {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Station").finish_non_exhaustive()
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

pub(crate) fn trimmed(value: &str, what: &str, max: usize, required: bool) -> CoreResult<String> {
    let v = value.trim();
    if required && v.is_empty() {
        return Err(CoreError::validation(format!("{what} is required.")));
    }
    if v.chars().count() > max {
        return Err(CoreError::validation(format!(
            "{what} must have at most {max} characters."
        )));
    }
    Ok(v.to_string())
}

impl Station {
    /// Opens the station database at `path`; credentials go to `secrets` (the OS keyring).
    pub fn open(
        path: &Path,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn SecretStore>,
    ) -> CoreResult<Station> {
        Ok(Station {
            store: Mutex::new(Store::open(path)?),
            clock,
            session: Mutex::new(None),
            secrets,
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            feeds_signal: Arc::new(tokio::sync::Notify::new()),
            notifier: Mutex::new(None),
        })
    }

    /// Sets where failures are announced (the desktop in the app).
    pub fn set_notifier(&self, notifier: Arc<dyn crate::notifier::Notifier>) {
        *lock(&self.notifier) = Some(notifier);
    }

    /// Announces a failure on the desktop, without waiting for it. A URL in the text has its
    /// credential-looking query values masked (`?token=***`).
    pub(crate) fn announce(&self, summary: String, body: String) {
        if let Some(n) = lock(&self.notifier).clone() {
            let (summary, body) = (
                crate::webhook::mask_urls_in(&summary),
                crate::webhook::mask_urls_in(&body),
            );
            crate::notifier::notify_in_background(n, summary, body);
        }
    }

    /// Notified whenever new deliveries are waiting in the outbox.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    pub fn database_path(&self) -> std::path::PathBuf {
        lock(&self.store).path().to_path_buf()
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    // ---- settings --------------------------------------------------------------------------

    pub fn settings(&self) -> CoreResult<Settings> {
        self.actor(Permission::ViewOwnSchedule)?;
        Ok(Settings {
            idle_timeout_minutes: idle_timeout(self.store().conn())?,
        })
    }

    pub fn update_settings(&self, new: Settings) -> CoreResult<Settings> {
        let actor = self.actor(Permission::ManageSettings)?;
        check_settings(&new)?;
        settings::set_by(
            self.store().conn(),
            IDLE_TIMEOUT_KEY,
            &new.idle_timeout_minutes.to_string(),
            &actor.username,
        )?;
        Ok(new)
    }
    // ---- station screen --------------------------------------------------------------------

    /// Each instrument of the station with its current and next booking. Instrument users see
    /// others' bookings only as "booked".
    pub fn overview(&self) -> CoreResult<StationOverview> {
        let actor = self.actor(Permission::ViewOwnSchedule)?;
        let now = self.now();
        let store = self.store();
        let conn = store.conn();
        let shown = |e: Event| shown_to(&actor, e);
        let mut instruments = Vec::new();
        for service in services::list(conn)? {
            let current = events::current_on_service(conn, &service.id, now)?.map(shown);
            let next = events::next_on_service(conn, &service.id, now)?.map(shown);
            instruments.push(StationInstrument {
                service,
                current,
                next,
            });
        }
        Ok(StationOverview { now, instruments })
    }

    /// Each instrument's bookings and relay state in `[from, to]` (at most 8 days), for the
    /// timeline. Instrument users see others' bookings only as "booked", as on the station screen.
    pub fn timeline(&self, from: Timestamp, to: Timestamp) -> CoreResult<Timeline> {
        let actor = self.actor(Permission::ViewOwnSchedule)?;
        if to <= from {
            return Err(CoreError::validation(
                "The timeline's end must be after its start.",
            ));
        }
        if to.duration_since(from) > SignedDuration::from_hours(24 * 8) {
            return Err(CoreError::validation(
                "The timeline shows at most 8 days at once.",
            ));
        }
        let now = self.now();
        let store = self.store();
        let conn = store.conn();
        let mut instruments = Vec::new();
        for service in services::list(conn)? {
            let bookings = events::on_service_between(conn, &service.id, from, to)?
                .into_iter()
                .filter(|e| e.ends_at > from && e.starts_at < to)
                .map(|e| shown_to(&actor, e))
                .collect();
            let states = if service.interlock.is_some() {
                crate::store::interlock_readings::between(conn, &service.id, from, to)?
            } else {
                Vec::new()
            };
            instruments.push(TimelineInstrument {
                service_id: service.id,
                service_name: service.name,
                interlock: service.interlock,
                bookings,
                states,
            });
        }
        Ok(Timeline {
            from,
            to,
            now,
            instruments,
        })
    }

    /// Seconds between status readings of the status watch; 0 = off.
    pub fn interlock_poll_secs(&self) -> CoreResult<u32> {
        Ok(settings::get(self.store().conn(), POLL_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_POLL_SECS))
    }

    pub fn set_interlock_poll_secs(&self, secs: u32) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSettings)?;
        check_poll_secs(secs)?;
        settings::set_by(
            self.store().conn(),
            POLL_KEY,
            &secs.to_string(),
            &actor.username,
        )
    }

    /// "Lock automatically when the user's window closes" for one service.
    pub fn set_service_auto_lock(&self, id: &str, on: bool) -> CoreResult<Service> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        if !services::set_auto_lock(&tx, id, on, self.now())? {
            return Err(CoreError::not_found("The service"));
        }
        let service = services::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The service"))?;
        if !on {
            crate::interlock::auto_lock::cancel_for_service(
                &tx,
                &actor,
                &service,
                "auto-lock was switched off for this service",
                self.now(),
            )?;
        }
        tx.commit()?;
        Ok(service)
    }

    /// The interlock audit log, newest first (staff).
    pub fn interlock_audit(&self, limit: usize) -> CoreResult<Vec<AuditEntry>> {
        self.actor(Permission::ViewAllSchedule)?;
        crate::store::interlock_audit::list(self.store().conn(), limit.clamp(1, 5000))
    }

    /// Deletes the account's bookings count check used by the UI before deactivation.
    pub fn bookings_of(&self, account_id: &str) -> CoreResult<i64> {
        self.actor(Permission::ViewAllSchedule)?;
        events::count_for_user(self.store().conn(), account_id)
    }
}

pub(crate) fn idle_timeout(conn: &rusqlite::Connection) -> CoreResult<u32> {
    Ok(settings::get(conn, IDLE_TIMEOUT_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES))
}

/// The rules the Settings window's values must pass (also used by `config import`).
pub(crate) fn check_settings(new: &Settings) -> CoreResult<()> {
    if !(1..=MAX_IDLE_TIMEOUT_MINUTES).contains(&new.idle_timeout_minutes) {
        return Err(CoreError::validation(format!(
            "Idle sign-out must be between 1 and {MAX_IDLE_TIMEOUT_MINUTES} minutes."
        )));
    }
    Ok(())
}

/// The status watch interval: 0 (off) or within the limits (also used by `config import`).
pub(crate) fn check_poll_secs(secs: u32) -> CoreResult<()> {
    if secs != 0 && !(MIN_POLL_SECS..=MAX_POLL_SECS).contains(&secs) {
        return Err(CoreError::validation(format!(
            "The status watch interval must be off (0) or between {MIN_POLL_SECS} and {MAX_POLL_SECS} seconds."
        )));
    }
    Ok(())
}

/// A booking as `actor` may see it: their own and, for staff, everyone's in full; others' only
/// as "booked" (no title, no name, no id).
fn shown_to(actor: &Account, e: Event) -> OverviewEvent {
    let mine = e.user_id.as_deref() == Some(actor.id.as_str());
    let full = mine || actor.role.is_staff();
    OverviewEvent {
        mine,
        event_id: full.then(|| e.id.clone()),
        title: full.then(|| e.title.clone()),
        user_display_name: full.then(|| e.user_display_name.clone()),
        source: e.source.filter(|_| full).map(|s| s.name),
        matched: e.user_id.is_some(),
        starts_at: e.starts_at,
        ends_at: e.ends_at,
    }
}
