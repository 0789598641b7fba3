//! Why this exists: the station as an always-on agent. What anyone walking up may see without
//! signing in (the lock screen: readings and booking times, never a name or title), what the tray
//! shows, who may stop the agent (a staff or administrator password), and the administrator's
//! agent settings (kiosk mode, start at login).

use super::sessions::sign_in_paused;
use super::*;
use crate::store::{auto_locks, interlock_state};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

pub(crate) const KIOSK_KEY: &str = "kiosk_mode";
pub(crate) const AUTOSTART_KEY: &str = "start_at_login";
/// Start at login is on unless an administrator switched it off.
pub const DEFAULT_START_AT_LOGIN: bool = true;

/// How the station runs on its PC (administrators change it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AgentSettings {
    /// Fullscreen, undecorated; the window cannot be closed or left without a staff sign-in.
    pub kiosk_mode: bool,
    /// Start with the user's session (hidden in the tray).
    pub start_at_login: bool,
}

/// A booking as the lock screen shows it: times only, no user, no title.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PublicBooking {
    #[specta(type = String)]
    pub starts_at: Timestamp,
    #[specta(type = String)]
    pub ends_at: Timestamp,
}

/// One instrument on the lock screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PublicInstrument {
    pub service_id: String,
    pub name: String,
    pub has_interlock: bool,
    /// The last reading; None before the first one.
    pub reading: Option<StatusReading>,
    pub current: Option<PublicBooking>,
    pub next: Option<PublicBooking>,
}

/// What the sign-in screen shows to anyone at the station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PublicOverview {
    #[specta(type = String)]
    pub now: Timestamp,
    pub instruments: Vec<PublicInstrument>,
}

/// Work the agent would leave undone if it stopped now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct PendingWork {
    pub auto_locks: u32,
    pub deliveries: u32,
}

impl PendingWork {
    /// The warning a person quitting must read; None when nothing is pending.
    pub fn warning(&self) -> Option<String> {
        let mut parts = Vec::new();
        if self.auto_locks > 0 {
            parts.push(plural(self.auto_locks, "pending auto-lock"));
        }
        if self.deliveries > 0 {
            parts.push(plural(self.deliveries, "pending webhook delivery"));
        }
        (!parts.is_empty()).then(|| {
            format!(
                "{} will not be carried out while Interlock Station is not running.",
                parts.join(" and ")
            )
        })
    }
}

fn plural(n: u32, what: &str) -> String {
    match (n, what.strip_suffix('y')) {
        (1, _) => format!("1 {what}"),
        (_, Some(stem)) => format!("{n} {stem}ies"),
        _ => format!("{n} {what}s"),
    }
}

/// The tray's view of the station: each interlock with its last reading, the pending work and
/// the last error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AgentStatus {
    pub instruments: Vec<PublicInstrument>,
    pub pending: PendingWork,
    pub last_error: Option<String>,
    /// Enabled calendar feeds whose last sync failed: "<feed> (<service>)".
    pub failing_feeds: Vec<String>,
}

impl AgentStatus {
    /// True when any interlock reads Unknown (an error or no reading yet): the tray icon warns.
    pub fn needs_attention(&self) -> bool {
        self.instruments
            .iter()
            .filter(|i| i.has_interlock)
            .any(|i| {
                i.reading
                    .as_ref()
                    .is_none_or(|r| r.state == LockState::Unknown)
            })
    }

    /// One line per interlock, then the pending work and the last error: the tray's tooltip and
    /// menu lines.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .instruments
            .iter()
            .filter(|i| i.has_interlock)
            .map(|i| match &i.reading {
                None => format!("{}: Unknown (not read yet)", i.name),
                Some(r) => {
                    let state = match r.state {
                        LockState::Locked => "Locked",
                        LockState::Unlocked => "Unlocked",
                        LockState::Unknown => "Unknown",
                    };
                    let at = crate::locale::LocalTimes::os().time_seconds(r.read_at);
                    format!("{}: {state} at {at}", i.name)
                }
            })
            .collect();
        if lines.is_empty() {
            lines.push("No interlocks configured".into());
        }
        lines.push(format!(
            "Pending: {} deliveries, {} auto-locks",
            self.pending.deliveries, self.pending.auto_locks
        ));
        if let Some(e) = &self.last_error {
            let short: String = e.chars().take(120).collect();
            lines.push(format!("Last error: {short}"));
        }
        for f in &self.failing_feeds {
            lines.push(format!("Calendar feed failing: {f}"));
        }
        lines
    }
}

fn flag(conn: &rusqlite::Connection, key: &str, default: bool) -> CoreResult<bool> {
    Ok(settings::get(conn, key)?
        .map(|v| v == "1" || v == "true")
        .unwrap_or(default))
}

impl Station {
    /// The agent settings; read by the app before anyone signs in (they are not secret).
    pub fn agent_settings(&self) -> CoreResult<AgentSettings> {
        let store = self.store();
        let conn = store.conn();
        Ok(AgentSettings {
            kiosk_mode: flag(conn, KIOSK_KEY, false)?,
            start_at_login: flag(conn, AUTOSTART_KEY, DEFAULT_START_AT_LOGIN)?,
        })
    }

    /// Administrators only.
    pub fn set_agent_settings(&self, new: AgentSettings) -> CoreResult<AgentSettings> {
        let actor = self.actor(Permission::ManageSettings)?;
        let store = self.store();
        let conn = store.conn();
        let b = |v: bool| if v { "1" } else { "0" };
        settings::set_by(conn, KIOSK_KEY, b(new.kiosk_mode), &actor.username)?;
        settings::set_by(conn, AUTOSTART_KEY, b(new.start_at_login), &actor.username)?;
        tracing::info!(user = %actor.username, kiosk = new.kiosk_mode, start_at_login = new.start_at_login, "agent settings changed");
        Ok(new)
    }

    /// Checks that `username`/`password` belong to an active staff member or administrator,
    /// without changing who is signed in: quitting the agent and leaving kiosk mode ask for it.
    /// Failures count toward the sign-in pause like a failed sign-in.
    pub fn verify_staff_password(&self, username: &str, password: &str) -> CoreResult<Account> {
        let username = username.trim();
        let now = self.now();
        let row = {
            let store = self.store();
            let conn = store.conn();
            sign_in_paused(username, login_throttle::get(conn, username)?, now)?;
            accounts::find_by_username(conn, username)?
        };
        let verified = match &row {
            Some(r) => verify_password(password, &r.password_hash),
            None => {
                verify_against_dummy(password);
                false
            }
        };
        let Some(row) = row.filter(|_| verified) else {
            let store = self.store();
            let conn = store.conn();
            let mut throttle = login_throttle::get(conn, username)?;
            throttle.failures += 1;
            if throttle.failures >= MAX_FAILED_SIGN_INS {
                throttle.failures = 0;
                throttle.paused_until_ms =
                    Some(now.as_millisecond() + SIGN_IN_PAUSE.as_millis() as i64);
            }
            login_throttle::put(conn, username, throttle)?;
            tracing::warn!(username = %username, "staff password check failed");
            return Err(CoreError::new(
                ErrorCode::SignInFailed,
                "Wrong username or password.",
            ));
        };
        if !row.account.active {
            return Err(CoreError::new(
                ErrorCode::AccountInactive,
                "This account is deactivated.",
            ));
        }
        if !row.account.role.is_staff() {
            return Err(CoreError::forbidden(
                "Only facility staff or an administrator may do this.",
            ));
        }
        login_throttle::clear(self.store().conn(), username)?;
        Ok(row.account)
    }

    /// The lock screen: each instrument's last reading and its current and next booking as
    /// times only. Needs no sign-in, so it never carries a user's name or a booking's title.
    pub fn public_overview(&self) -> CoreResult<PublicOverview> {
        let now = self.now();
        Ok(PublicOverview {
            now,
            instruments: self.public_instruments(now)?,
        })
    }

    fn public_instruments(&self, now: Timestamp) -> CoreResult<Vec<PublicInstrument>> {
        let store = self.store();
        let conn = store.conn();
        let booking = |e: Event| PublicBooking {
            starts_at: e.starts_at,
            ends_at: e.ends_at,
        };
        let mut out = Vec::new();
        for service in services::list(conn)? {
            out.push(PublicInstrument {
                reading: interlock_state::get(conn, &service.id)?,
                current: events::current_on_service(conn, &service.id, now)?.map(booking),
                next: events::next_on_service(conn, &service.id, now)?.map(booking),
                has_interlock: service.interlock.is_some(),
                service_id: service.id,
                name: service.name,
            });
        }
        Ok(out)
    }

    /// Auto-locks and deliveries not yet done (the Quit warning).
    pub fn pending_work(&self) -> CoreResult<PendingWork> {
        let store = self.store();
        let conn = store.conn();
        Ok(PendingWork {
            auto_locks: auto_locks::list(conn)?.len() as u32,
            deliveries: crate::store::outbox::count_by_state(conn, "pending")? as u32,
        })
    }

    /// What the tray shows. Needs no sign-in: names of instruments, readings and counts only.
    pub fn agent_status(&self) -> CoreResult<AgentStatus> {
        let instruments = self.public_instruments(self.now())?;
        let pending = self.pending_work()?;
        let last_error = {
            let store = self.store();
            store
                .conn()
                .query_row(
                    "SELECT coalesce(webhook_name, '') || ': ' || error FROM delivery_attempts
                     WHERE error IS NOT NULL AND error <> '' ORDER BY id DESC LIMIT 1",
                    [],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
        };
        let failing_feeds = crate::store::feeds::list(self.store().conn())?
            .into_iter()
            .filter(crate::feed_sync::needs_attention)
            .map(|f| format!("{} ({})", f.name, f.service_name))
            .collect();
        Ok(AgentStatus {
            instruments,
            pending,
            failing_feeds,
            last_error: last_error.map(|e| crate::webhook::mask_urls_in(&e)),
        })
    }
}
