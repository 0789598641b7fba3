//! Why this exists: Lock, Unlock and Check status of an instrument, exactly per §2, and what must
//! happen without a click (§7). Where things are decided:
//! - `command.rs`: a person's Lock / Unlock / Check status — gated at the moment it goes out,
//!   serialised per service in click order, audited, announced when it fails; and the panel.
//! - `watch.rs`: the status watch — every interlock service polled from Rust at the configured
//!   interval; readings stored, pushed to the window, and notified on transitions only.
//! - `auto_lock.rs`: auto-lock when a user's window closes — handed over to the next booking when
//!   its window is already open, following edits, kept until the lock is confirmed, retried.
//! - `wire.rs`: building, sending and parsing the requests, shared by the three.
//!
//! No database lock is held across network I/O, and database and keyring work runs on blocking
//! threads (`db`), never on the async workers: a keyring prompt cannot delay a Lock.

pub(crate) mod auto_lock;
mod command;
mod watch;
mod wire;

pub use auto_lock::{AutoLockStep, AUTO_LOCK_RETRY_SECS};
pub use wire::{combine_readings, parse_status, MAX_STATUS_BYTES};

use crate::error::{CoreError, CoreResult};
use crate::gating::Access;
use crate::model::{Account, AuditBooking, AuditEntry, Event, Service, StatusReading};
use crate::station::Station;
use crate::store::interlock_audit;
use crate::webhook::{Action, ActionSubtype, ActionType};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum InterlockAction {
    Lock,
    Unlock,
    Status,
}

impl InterlockAction {
    fn action(self) -> Action {
        let sub = match self {
            InterlockAction::Lock => ActionSubtype::Lock,
            InterlockAction::Unlock => ActionSubtype::Unlock,
            InterlockAction::Status => ActionSubtype::Status,
        };
        Action::new(ActionType::Interlock, sub)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            InterlockAction::Lock => "lock",
            InterlockAction::Unlock => "unlock",
            InterlockAction::Status => "status",
        }
    }
}

/// One webhook's part of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct WebhookResult {
    pub webhook_name: String,
    pub ok: bool,
    /// "HTTP 503 Service Unavailable from Relay A", "Connection refused by 127.0.0.1:9 (Relay A)".
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct InterlockResult {
    pub action: InterlockAction,
    pub ok: bool,
    pub results: Vec<WebhookResult>,
    /// The status read (after a successful lock/unlock when a status webhook exists).
    pub reading: Option<StatusReading>,
    /// One sentence for the banner when something failed.
    pub error: Option<String>,
    /// After a successful lock of a booking on a service tagged `post_lock:<url>`: the link,
    /// placeholders filled in (URL-encoded) and checked again. Shown by the panel; opened only
    /// through `InterlockController::post_lock_link`.
    pub post_lock_url: Option<String>,
    /// After a successful lock that moved the booking's end (`set_end_on_lock` /
    /// `trim_end_on_lock`): the end now.
    #[specta(type = Option<String>)]
    pub booking_ends_at: Option<jiff::Timestamp>,
}

/// A pending auto-lock as the panel shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AutoLockInfo {
    #[specta(type = String)]
    pub due_at: jiff::Timestamp,
    pub event_id: Option<String>,
    /// Failed attempts so far (0 while it waits for its time).
    pub attempts: u32,
    #[specta(type = Option<String>)]
    pub next_attempt_at: Option<jiff::Timestamp>,
    pub last_error: String,
}

/// What the interlock panel shows the signed-in person for one service.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct InterlockPanel {
    pub service: Service,
    pub access: Access,
    /// The booking the controls act on: the user's own; for staff the booking whose window is
    /// open now (the one in progress first), if any.
    pub event: Option<Event>,
    pub reading: Option<StatusReading>,
    pub has_lock: bool,
    pub has_unlock: bool,
    pub has_status: bool,
    /// Interval of the status watch in seconds; 0 = off.
    pub poll_secs: u32,
    /// The pending auto-lock of this service (staff only).
    pub auto_lock: Option<AutoLockInfo>,
}

/// Where a new reading came from; a person's failed command announces itself, so its reading
/// does not also raise a transition notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadingSource {
    Watch,
    /// Read back after a person's lock or unlock.
    Command,
    /// A person's Check status: its failure is announced by the command itself.
    StatusCommand,
    AutoLock,
}

/// Told of every new status reading (the app forwards them to the window as events).
pub trait ReadingListener: Send + Sync {
    fn reading(&self, service_id: &str, reading: &StatusReading);
}

/// Interlock commands and background duties for every service of the station.
pub struct InterlockController {
    station: Arc<Station>,
    deliverer: Arc<crate::delivery::Deliverer>,
    /// One lock per service: commands go out in the order they were clicked.
    queues: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    listener: Mutex<Option<Arc<dyn ReadingListener>>>,
    watch: watch::WatchState,
}

impl std::fmt::Debug for InterlockController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterlockController")
            .finish_non_exhaustive()
    }
}

impl InterlockController {
    pub fn new(station: Arc<Station>, deliverer: Arc<crate::delivery::Deliverer>) -> Self {
        InterlockController {
            station,
            deliverer,
            queues: Mutex::new(HashMap::new()),
            listener: Mutex::new(None),
            watch: watch::WatchState::default(),
        }
    }

    /// Sets who hears about new readings (the window, through the app).
    pub fn set_listener(&self, listener: Arc<dyn ReadingListener>) {
        *crate::station::lock(&self.listener) = Some(listener);
    }

    fn queue(&self, service_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut q = crate::station::lock(&self.queues);
        q.entry(service_id.to_string()).or_default().clone()
    }

    /// Runs database (and keyring) work on a blocking thread, off the async workers.
    async fn db<T, F>(&self, work: F) -> CoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Station) -> CoreResult<T> + Send + 'static,
    {
        let station = self.station.clone();
        tokio::task::spawn_blocking(move || work(&station))
            .await
            .map_err(|e| CoreError::internal(format!("a database task failed: {e}")))?
    }

    /// Runs every background duty of the interlocks until the process ends: the status watch
    /// and auto-lock. Both tick every second on the station's clock.
    pub async fn run_background(self: Arc<Self>) {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let watch = self.clone();
            tokio::spawn(async move {
                if let Err(e) = watch.poll_due().await {
                    tracing::error!(code = e.code.as_str(), "status watch: {}", e.message);
                }
            });
            let auto = self.clone();
            if !self.watch.auto_lock_running() {
                tokio::spawn(async move {
                    let _running = auto.watch.auto_lock_guard();
                    if let Err(e) = auto.run_due_auto_locks().await {
                        tracing::error!(code = e.code.as_str(), "auto-lock: {}", e.message);
                    }
                });
            }
        }
    }
}

/// Writes one audit entry (inside the caller's connection or transaction).
#[allow(clippy::too_many_arguments)] // one flat audit row; a builder would add nothing
pub(crate) fn audit(
    conn: &rusqlite::Connection,
    at: jiff::Timestamp,
    actor: &Account,
    service: &Service,
    event: Option<&Event>,
    action: &str,
    result: &str,
    reason: &str,
) -> CoreResult<()> {
    interlock_audit::insert(
        conn,
        &AuditEntry {
            id: String::new(),
            at,
            account_id: actor.id.clone(),
            username: actor.username.clone(),
            role: actor.role.as_str().to_string(),
            service_id: service.id.clone(),
            service_name: service.name.clone(),
            event_id: event.map(|e| e.id.clone()),
            booking: event.map(AuditBooking::of),
            action: action.to_string(),
            result: result.to_string(),
            reason: reason.to_string(),
        },
    )
}

/// The account auto-lock acts as in the audit log.
pub(crate) fn auto_lock_account(now: jiff::Timestamp) -> Account {
    Account {
        id: crate::station::SYSTEM_ACCOUNT_ID.into(),
        username: "auto-lock".into(),
        display_name: "Auto-lock".into(),
        role: crate::roles::Role::Administrator,
        active: true,
        email: None,
        created_at: now,
    }
}
