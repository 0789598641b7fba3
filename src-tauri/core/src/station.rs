//! Why this exists: the station's one entry point. Every operation the app offers is a method here
//! that first asks who is signed in and whether their role allows it, then validates and stores.
//! The Tauri commands and the CLI only call these methods, so no rule can be skipped by going
//! around the UI.

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
const IDLE_TIMEOUT_KEY: &str = "idle_timeout_minutes";
const POLL_KEY: &str = "interlock_poll_secs";
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

fn validate_username(username: &str) -> CoreResult<String> {
    let u = trimmed(username, "Username", 64, true)?;
    if let Some(bad) = u
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(CoreError::validation(format!(
            "Username '{u}' contains '{bad}'; use letters, digits, '.', '_' and '-'."
        )));
    }
    Ok(u)
}

fn format_local(t: Timestamp) -> String {
    t.to_zoned_datetime(jiff::tz::TimeZone::system())
        .strftime("%Y-%m-%d %H:%M")
        .to_string()
}

/// Refuses a sign-in while its username is paused after too many failures.
fn sign_in_paused(throttle: login_throttle::Throttle, now: Timestamp) -> CoreResult<()> {
    if let Some(until) = throttle.paused_until_ms {
        if now.as_millisecond() < until {
            let secs = (until - now.as_millisecond() + 999) / 1000;
            return Err(CoreError::new(
                ErrorCode::SignInPaused,
                format!("Too many failed sign-ins for this username. Sign-in is paused; try again in {secs} s."),
            ));
        }
    }
    Ok(())
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
            notifier: Mutex::new(None),
        })
    }

    /// Sets where failures are announced (the desktop in the app).
    pub fn set_notifier(&self, notifier: Arc<dyn crate::notifier::Notifier>) {
        *lock(&self.notifier) = Some(notifier);
    }

    /// Announces a failure on the desktop, without waiting for it.
    pub(crate) fn announce(&self, summary: String, body: String) {
        if let Some(n) = lock(&self.notifier).clone() {
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

    // ---- first run and sign-in -------------------------------------------------------------

    /// True while the station has no account at all: the first-run screen must be shown.
    pub fn setup_required(&self) -> CoreResult<bool> {
        Ok(accounts::count(self.store().conn())? == 0)
    }

    /// Creates the first administrator. Refused once any account exists.
    pub fn create_first_administrator(&self, input: FirstAdministrator) -> CoreResult<Account> {
        let username = validate_username(&input.username)?;
        let display_name = trimmed(&input.display_name, "Display name", 100, true)?;
        validate_new_password(&input.password)?;
        let hash = hash_password(&input.password)?;
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        if accounts::count(&tx)? > 0 {
            return Err(CoreError::new(
                ErrorCode::SetupAlreadyDone,
                "The first administrator already exists; sign in instead.",
            ));
        }
        let id = store::new_id();
        accounts::insert(
            &tx,
            &id,
            &username,
            &display_name,
            Role::Administrator,
            &hash,
            now,
        )?;
        let account =
            accounts::get(&tx, &id)?.ok_or_else(|| CoreError::internal("account vanished"))?;
        tx.commit()?;
        tracing::info!(username = %username, "created the first administrator");
        Ok(account.account)
    }

    /// Signs in, replacing whoever was signed in ("Switch user" is the same call). On failure the
    /// current session, if any, stays as it was.
    ///
    /// The argon2 verification runs without the database lock: the throttle and the account are
    /// read under a short lock, the password is verified with no lock held, and the outcome is
    /// written under a second short lock. A Lock command (or anything else) never waits for a hash.
    pub fn sign_in(&self, username: &str, password: &str) -> CoreResult<SessionInfo> {
        let username = username.trim();
        let now = self.now();
        let row = {
            let store = self.store();
            let conn = store.conn();
            sign_in_paused(login_throttle::get(conn, username)?, now)?;
            accounts::find_by_username(conn, username)?
        };
        let verified = match &row {
            Some(r) => verify_password(password, &r.password_hash),
            None => {
                verify_against_dummy(password);
                false
            }
        };
        let store = self.store();
        let conn = store.conn();
        // Read again: sign-ins for this username that ran alongside may have counted failures or
        // paused it meanwhile. A pause that began during the verification holds for this attempt
        // too, and a failure never lifts a pause.
        let mut throttle = login_throttle::get(conn, username)?;
        sign_in_paused(throttle, now)?;
        if !verified {
            throttle.failures += 1;
            throttle.paused_until_ms = None;
            let mut message = "Wrong username or password.".to_string();
            if throttle.failures >= MAX_FAILED_SIGN_INS {
                throttle.failures = 0;
                throttle.paused_until_ms =
                    Some(now.as_millisecond() + SIGN_IN_PAUSE.as_millis() as i64);
                message.push_str(&format!(
                    " Too many failed attempts: sign-in for this username is paused for {} s.",
                    SIGN_IN_PAUSE.as_secs()
                ));
            }
            login_throttle::put(conn, username, throttle)?;
            tracing::warn!(username = %username, failures = throttle.failures, "sign-in failed");
            let code = if throttle.paused_until_ms.is_some() {
                ErrorCode::SignInPaused
            } else {
                ErrorCode::SignInFailed
            };
            return Err(CoreError::new(code, message));
        }
        let row = row.ok_or_else(|| CoreError::internal("verified without an account"))?;
        login_throttle::clear(conn, username)?;
        // The row read before the verification may be stale: take the account as it is now.
        let row = accounts::get(conn, &row.account.id)?
            .filter(|now_row| now_row.password_hash == row.password_hash)
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::SignInFailed,
                    "Wrong username or password.".to_string(),
                )
            })?;
        if !row.account.active {
            return Err(CoreError::new(
                ErrorCode::AccountInactive,
                "This account is deactivated. Ask an administrator to reactivate it.",
            ));
        }
        let idle = idle_timeout(conn)?;
        drop(store);
        *lock(&self.session) = Some(ActiveSession {
            account_id: row.account.id.clone(),
            signed_in_at: now,
            last_activity: now,
        });
        tracing::info!(username = %row.account.username, role = row.account.role.as_str(), "signed in");
        Ok(SessionInfo {
            account: row.account,
            signed_in_at: now,
            idle_timeout_minutes: idle,
        })
    }

    /// The command line acts as the station itself (whoever can run it owns the data folder):
    /// an administrator without an account, never idle.
    pub fn act_as_system(&self) {
        let now = self.now();
        *lock(&self.session) = Some(ActiveSession {
            account_id: SYSTEM_ACCOUNT_ID.to_string(),
            signed_in_at: now,
            last_activity: now,
        });
    }

    pub fn sign_out(&self) {
        if lock(&self.session).take().is_some() {
            tracing::info!("signed out");
        }
    }

    /// Who is signed in, without counting as activity. Ends an idle session.
    pub fn current_session(&self) -> CoreResult<Option<SessionInfo>> {
        match self.session_account(false) {
            Ok((account, session, idle)) => Ok(Some(SessionInfo {
                account,
                signed_in_at: session.signed_in_at,
                idle_timeout_minutes: idle,
            })),
            Err(e) if matches!(e.code, ErrorCode::NotSignedIn | ErrorCode::SessionExpired) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Records activity at the station (the UI calls this on input) so idle sign-out waits.
    pub fn touch(&self) -> CoreResult<()> {
        self.session_account(true).map(|_| ())
    }

    fn session_account(&self, touch: bool) -> CoreResult<(Account, ActiveSession, u32)> {
        let now = self.now();
        let mut guard = lock(&self.session);
        let Some(session) = guard.clone() else {
            return Err(CoreError::new(
                ErrorCode::NotSignedIn,
                "Nobody is signed in.",
            ));
        };
        let store = self.store();
        let idle = idle_timeout(store.conn())?;
        if session.account_id == SYSTEM_ACCOUNT_ID {
            let account = Account {
                id: SYSTEM_ACCOUNT_ID.to_string(),
                username: "system".into(),
                display_name: "Command line".into(),
                role: Role::Administrator,
                active: true,
                created_at: session.signed_in_at,
            };
            return Ok((account, session, idle));
        }
        if now >= session.last_activity + SignedDuration::from_mins(i64::from(idle)) {
            *guard = None;
            tracing::info!("signed out after {idle} min idle");
            return Err(CoreError::new(
                ErrorCode::SessionExpired,
                format!("You were signed out after {idle} minutes without activity."),
            ));
        }
        let row = accounts::get(store.conn(), &session.account_id)?;
        let Some(row) = row.filter(|r| r.account.active) else {
            *guard = None;
            return Err(CoreError::new(
                ErrorCode::NotSignedIn,
                "Your account was deactivated; you have been signed out.",
            ));
        };
        if touch {
            if let Some(s) = guard.as_mut() {
                s.last_activity = now;
            }
        }
        Ok((row.account, session, idle))
    }

    /// The signed-in account, if its role grants `permission`. Does not count as activity: the
    /// window refreshes screens and polls status on its own, which must not keep an unattended
    /// session alive; activity is the person's input, reported through `touch`.
    pub fn actor(&self, permission: Permission) -> CoreResult<Account> {
        let (account, _, _) = self.session_account(false)?;
        require(account.role, permission)?;
        Ok(account)
    }

    // ---- settings --------------------------------------------------------------------------

    pub fn settings(&self) -> CoreResult<Settings> {
        self.actor(Permission::ViewOwnSchedule)?;
        Ok(Settings {
            idle_timeout_minutes: idle_timeout(self.store().conn())?,
        })
    }

    pub fn update_settings(&self, new: Settings) -> CoreResult<Settings> {
        self.actor(Permission::ManageSettings)?;
        if !(1..=MAX_IDLE_TIMEOUT_MINUTES).contains(&new.idle_timeout_minutes) {
            return Err(CoreError::validation(format!(
                "Idle sign-out must be between 1 and {MAX_IDLE_TIMEOUT_MINUTES} minutes."
            )));
        }
        settings::set(
            self.store().conn(),
            IDLE_TIMEOUT_KEY,
            &new.idle_timeout_minutes.to_string(),
        )?;
        Ok(new)
    }

    // ---- accounts --------------------------------------------------------------------------

    pub fn list_accounts(&self) -> CoreResult<Vec<Account>> {
        // Staff see the list too: they book events for instrument users.
        self.actor(Permission::ViewAllSchedule)?;
        accounts::list(self.store().conn())
    }

    pub fn create_account(&self, input: NewAccount) -> CoreResult<Account> {
        self.actor(Permission::ManageAccounts)?;
        let username = validate_username(&input.username)?;
        let display_name = trimmed(&input.display_name, "Display name", 100, true)?;
        validate_new_password(&input.password)?;
        let hash = hash_password(&input.password)?;
        let store = self.store();
        let id = store::new_id();
        accounts::insert(
            store.conn(),
            &id,
            &username,
            &display_name,
            input.role,
            &hash,
            self.now(),
        )?;
        tracing::info!(username = %username, role = input.role.as_str(), "account created");
        Ok(accounts::get(store.conn(), &id)?
            .ok_or_else(|| CoreError::not_found("The account"))?
            .account)
    }

    pub fn update_account(&self, id: &str, update: AccountUpdate) -> CoreResult<Account> {
        self.actor(Permission::ManageAccounts)?;
        let display_name = trimmed(&update.display_name, "Display name", 100, true)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let current = accounts::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        let stays_admin = update.role == Role::Administrator && update.active;
        let was_admin = current.account.role == Role::Administrator && current.account.active;
        if was_admin && !stays_admin && accounts::count_active_admins_except(&tx, id)? == 0 {
            return Err(CoreError::new(
                ErrorCode::LastAdministrator,
                "This is the last active administrator; it cannot be deactivated or given another role. Make another account an administrator first.",
            ));
        }
        accounts::update(
            &tx,
            id,
            &display_name,
            update.role,
            update.active,
            self.now(),
        )?;
        let row = accounts::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        tx.commit()?;
        tracing::info!(username = %row.account.username, role = row.account.role.as_str(), active = row.account.active, "account updated");
        Ok(row.account)
    }

    pub fn reset_password(&self, id: &str, new_password: &str) -> CoreResult<()> {
        self.actor(Permission::ManageAccounts)?;
        validate_new_password(new_password)?;
        let hash = hash_password(new_password)?;
        let store = self.store();
        let row =
            accounts::get(store.conn(), id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        accounts::set_password_hash(store.conn(), id, &hash, self.now())?;
        login_throttle::clear(store.conn(), &row.account.username)?;
        tracing::info!(username = %row.account.username, "password reset");
        Ok(())
    }

    // ---- services --------------------------------------------------------------------------

    pub fn list_services(&self) -> CoreResult<Vec<Service>> {
        self.actor(Permission::ViewOwnSchedule)?;
        services::list(self.store().conn())
    }

    fn validate_service(input: &ServiceInput) -> CoreResult<(String, String, Vec<String>)> {
        let name = trimmed(&input.name, "Service name", 100, true)?;
        let description = trimmed(&input.description, "Description", 2000, false)?;
        let (tags, _) = normalize_tags(&input.tags)?;
        Ok((name, description, tags))
    }

    pub fn create_service(&self, input: ServiceInput) -> CoreResult<Service> {
        self.create_service_with_id(&store::new_id(), input)
    }

    /// Creates a service under a given id (configuration import keeps ids across stations).
    pub fn create_service_with_id(&self, id: &str, input: ServiceInput) -> CoreResult<Service> {
        self.actor(Permission::ManageSchedule)?;
        let (name, description, tags) = Self::validate_service(&input)?;
        let store = self.store();
        let id = id.to_string();
        services::insert(store.conn(), &id, &name, &description, &tags, self.now())?;
        services::get(store.conn(), &id)?.ok_or_else(|| CoreError::not_found("The service"))
    }

    pub fn update_service(&self, id: &str, input: ServiceInput) -> CoreResult<Service> {
        self.actor(Permission::ManageSchedule)?;
        let (name, description, tags) = Self::validate_service(&input)?;
        let store = self.store();
        if !services::update(store.conn(), id, &name, &description, &tags, self.now())? {
            return Err(CoreError::not_found("The service"));
        }
        services::get(store.conn(), id)?.ok_or_else(|| CoreError::not_found("The service"))
    }

    pub fn delete_service(&self, id: &str) -> CoreResult<()> {
        self.actor(Permission::ManageSchedule)?;
        let store = self.store();
        let n = events::count_for_service(store.conn(), id)?;
        if n > 0 {
            return Err(CoreError::conflict(format!(
                "This service has {n} booking(s); delete or move them first."
            )));
        }
        match services::delete(store.conn(), id) {
            Ok(true) => Ok(()),
            Ok(false) => Err(CoreError::not_found("The service")),
            Err(e) if e.code == ErrorCode::Database => Err(CoreError::conflict(
                "This service is named by order line items; remove them first.",
            )),
            Err(e) => Err(e),
        }
    }

    // ---- events ----------------------------------------------------------------------------

    /// Staff see every booking; instrument users see only their own.
    pub fn list_events(&self) -> CoreResult<Vec<Event>> {
        let actor = self.actor(Permission::ViewOwnSchedule)?;
        let only = (!actor.role.is_staff()).then_some(actor.id.as_str());
        events::list(self.store().conn(), only)
    }

    fn validate_event(
        &self,
        conn: &rusqlite::Connection,
        id: Option<&str>,
        input: &EventInput,
    ) -> CoreResult<String> {
        let title = trimmed(&input.title, "Title", 200, false)?;
        if input.ends_at <= input.starts_at {
            return Err(CoreError::validation("The end must be after the start."));
        }
        services::get(conn, &input.service_id)?
            .ok_or_else(|| CoreError::validation("Choose an existing service."))?;
        let user = accounts::get(conn, &input.user_id)?
            .ok_or_else(|| CoreError::validation("Choose an existing account for the booking."))?;
        if !user.account.active {
            return Err(CoreError::validation(format!(
                "{} is deactivated and cannot be booked.",
                user.account.display_name
            )));
        }
        match (&input.order_id, &input.line_id) {
            (None, Some(_)) => return Err(CoreError::validation("A line item needs its order.")),
            (Some(order_id), line) => {
                orders::get(conn, order_id)?
                    .ok_or_else(|| CoreError::validation("Choose an existing order."))?;
                if let Some(line_id) = line {
                    let (line_order, line_service) = order_lines::order_of(conn, line_id)?
                        .ok_or_else(|| CoreError::validation("Choose an existing line item."))?;
                    if &line_order != order_id {
                        return Err(CoreError::validation(
                            "The line item belongs to another order.",
                        ));
                    }
                    if line_service != input.service_id {
                        return Err(CoreError::validation(
                            "The line item is for another service.",
                        ));
                    }
                }
            }
            (None, None) => {}
        }
        let clashes =
            events::overlapping(conn, &input.service_id, input.starts_at, input.ends_at, id)?;
        if let Some(other) = clashes.first() {
            return Err(CoreError::conflict(format!(
                "This booking overlaps another booking on {} ({} to {}).",
                other.service_name,
                format_local(other.starts_at),
                format_local(other.ends_at)
            )));
        }
        Ok(title)
    }

    pub fn create_event(&self, input: EventInput) -> CoreResult<Event> {
        self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        // One transaction: the overlap check and the insert cannot be split by another writer.
        let tx = store.conn_mut().transaction()?;
        let title = self.validate_event(&tx, None, &input)?;
        let id = store::new_id();
        events::insert(&tx, &event_row(&id, &title, &input), self.now())?;
        let event = events::get(&tx, &id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        let queued = enqueue_event(&tx, ActionSubtype::Create, &event, self.now())?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(event)
    }

    pub fn update_event(&self, id: &str, input: EventInput) -> CoreResult<Event> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let before = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        let title = self.validate_event(&tx, Some(id), &input)?;
        events::update(&tx, &event_row(id, &title, &input), self.now())?;
        let event = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        // A pending auto-lock follows its booking (same transaction: both or neither).
        crate::interlock::auto_lock::follow_booking_change(
            &tx,
            &actor,
            &before,
            Some(&event),
            self.now(),
        )?;
        let queued = enqueue_event(&tx, ActionSubtype::Update, &event, self.now())?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(event)
    }

    pub fn delete_event(&self, id: &str) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let event = events::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The event"))?;
        crate::interlock::auto_lock::follow_booking_change(&tx, &actor, &event, None, self.now())?;
        let queued = enqueue_event(&tx, ActionSubtype::Delete, &event, self.now())?;
        events::delete(&tx, id)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(())
    }

    pub(crate) fn signal_outbox(&self, queued: usize) {
        if queued > 0 {
            self.outbox_signal.notify_one();
        }
    }

    // ---- orders ----------------------------------------------------------------------------

    pub fn list_orders(&self) -> CoreResult<Vec<Order>> {
        self.actor(Permission::ViewAllSchedule)?;
        let store = self.store();
        orders::list(store.conn())?
            .into_iter()
            .map(|row| full_order(store.conn(), row))
            .collect()
    }

    pub fn create_order(&self, input: OrderInput) -> CoreResult<Order> {
        self.actor(Permission::ManageSchedule)?;
        self.save_order(None, input)
    }

    pub fn update_order(&self, id: &str, input: OrderInput) -> CoreResult<Order> {
        self.actor(Permission::ManageSchedule)?;
        self.save_order(Some(id), input)
    }

    fn save_order(&self, id: Option<&str>, input: OrderInput) -> CoreResult<Order> {
        let row = orders::OrderRow {
            id: id.map(str::to_string).unwrap_or_else(store::new_id),
            reference: trimmed(&input.reference, "Order reference", 64, true)?,
            customer: trimmed(&input.customer, "Customer", 200, true)?,
            status: input.status,
        };
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let existing_lines = match id {
            Some(id) => {
                if !orders::update(&tx, &row, now)? {
                    return Err(CoreError::not_found("The order"));
                }
                order_lines::list_for_order(&tx, id)?
            }
            None => {
                orders::insert(&tx, &row, now)?;
                Vec::new()
            }
        };
        let mut kept = Vec::new();
        for (position, line) in input.lines.iter().enumerate() {
            let description = trimmed(
                &line.description,
                &format!("Line {} description", position + 1),
                500,
                true,
            )?;
            services::get(&tx, &line.service_id)?.ok_or_else(|| {
                CoreError::validation(format!(
                    "Line {}: choose an existing service.",
                    position + 1
                ))
            })?;
            let line_id = match &line.id {
                Some(lid) if existing_lines.iter().any(|l| &l.id == lid) => lid.clone(),
                Some(_) => {
                    return Err(CoreError::validation(format!(
                        "Line {} does not belong to this order.",
                        position + 1
                    )))
                }
                None => store::new_id(),
            };
            order_lines::upsert(
                &tx,
                &line_id,
                &row.id,
                &line.service_id,
                &description,
                position,
            )?;
            kept.push(line_id);
        }
        for old in existing_lines.iter().filter(|l| !kept.contains(&l.id)) {
            order_lines::delete(&tx, &old.id)?;
        }
        let order = full_order(&tx, row)?;
        let subtype = if id.is_some() {
            ActionSubtype::Update
        } else {
            ActionSubtype::Create
        };
        let queued = enqueue_order(&tx, subtype, &order, now)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(order)
    }

    pub fn delete_order(&self, id: &str) -> CoreResult<()> {
        self.actor(Permission::ManageSchedule)?;
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let row = orders::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The order"))?;
        let order = full_order(&tx, row)?;
        let queued = enqueue_order(&tx, ActionSubtype::Delete, &order, now)?;
        orders::delete(&tx, id)?;
        tx.commit()?;
        self.signal_outbox(queued);
        Ok(())
    }

    // ---- station screen --------------------------------------------------------------------

    /// Each instrument of the station with its current and next booking. Instrument users see
    /// others' bookings only as "booked".
    pub fn overview(&self) -> CoreResult<StationOverview> {
        let actor = self.actor(Permission::ViewOwnSchedule)?;
        let now = self.now();
        let store = self.store();
        let conn = store.conn();
        let shown = |e: Event| {
            let mine = e.user_id == actor.id;
            let full = mine || actor.role.is_staff();
            OverviewEvent {
                mine,
                event_id: full.then(|| e.id.clone()),
                title: full.then(|| e.title.clone()),
                user_display_name: full.then(|| e.user_display_name.clone()),
                starts_at: e.starts_at,
                ends_at: e.ends_at,
            }
        };
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

    /// Seconds between status readings of the status watch; 0 = off.
    pub fn interlock_poll_secs(&self) -> CoreResult<u32> {
        Ok(settings::get(self.store().conn(), POLL_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_POLL_SECS))
    }

    pub fn set_interlock_poll_secs(&self, secs: u32) -> CoreResult<()> {
        self.actor(Permission::ManageSettings)?;
        if secs != 0 && !(MIN_POLL_SECS..=MAX_POLL_SECS).contains(&secs) {
            return Err(CoreError::validation(format!(
                "The status watch interval must be off (0) or between {MIN_POLL_SECS} and {MAX_POLL_SECS} seconds."
            )));
        }
        settings::set(self.store().conn(), POLL_KEY, &secs.to_string())
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

/// Queues the event webhooks for one event change (inside the caller's transaction).
fn enqueue_event(
    conn: &rusqlite::Connection,
    subtype: ActionSubtype,
    e: &Event,
    now: Timestamp,
) -> CoreResult<usize> {
    let keys = SystemKeys {
        order_id: e.order_id.clone(),
        subject_id: Some(e.id.clone()),
    };
    outbox::enqueue(
        conn,
        Action::new(ActionType::Event, subtype),
        Some(&e.service_id),
        &keys,
        now,
    )
}

/// Queues the order webhooks for one order change: once per line item, or once without a line
/// (to webhooks for all services) when the order has none.
fn enqueue_order(
    conn: &rusqlite::Connection,
    subtype: ActionSubtype,
    o: &Order,
    now: Timestamp,
) -> CoreResult<usize> {
    let action = Action::new(ActionType::Order, subtype);
    if o.lines.is_empty() {
        let keys = SystemKeys {
            order_id: Some(o.id.clone()),
            subject_id: None,
        };
        return outbox::enqueue(conn, action, None, &keys, now);
    }
    let mut queued = 0;
    for line in &o.lines {
        let keys = SystemKeys {
            order_id: Some(o.id.clone()),
            subject_id: Some(line.id.clone()),
        };
        queued += outbox::enqueue(conn, action, Some(&line.service_id), &keys, now)?;
    }
    Ok(queued)
}

pub(crate) fn idle_timeout(conn: &rusqlite::Connection) -> CoreResult<u32> {
    Ok(settings::get(conn, IDLE_TIMEOUT_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_IDLE_TIMEOUT_MINUTES))
}

fn event_row<'a>(id: &'a str, title: &'a str, input: &'a EventInput) -> events::EventRow<'a> {
    events::EventRow {
        id,
        service_id: &input.service_id,
        user_id: &input.user_id,
        title,
        starts_at: input.starts_at,
        ends_at: input.ends_at,
        order_id: input.order_id.as_deref(),
        line_id: input.line_id.as_deref(),
    }
}

fn full_order(conn: &rusqlite::Connection, row: orders::OrderRow) -> CoreResult<Order> {
    let lines = order_lines::list_for_order(conn, &row.id)?;
    Ok(Order {
        id: row.id,
        reference: row.reference,
        customer: row.customer,
        status: row.status,
        lines,
    })
}
