//! Why this exists: every credential lives in the OS keyring (Windows Credential Manager, macOS
//! Keychain, Secret Service on Linux); the database holds only the name of the entry. The store is
//! a trait so pure logic can use memory, while the app and its tests use the real keyring. The
//! keyring is opened lazily and re-opened when it was not there yet (see [`KeyringStore`]).

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::sensitive::Sensitive;
use keyring_core::CredentialStore;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The keyring "service" under which the station's entries are kept.
pub const KEYRING_SERVICE: &str = "org.interlockstation.station";

pub trait SecretStore: Send + Sync {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()>;
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>>;
    /// Deleting an entry that does not exist is not an error.
    fn delete(&self, key: &str) -> CoreResult<()>;
}

/// How often, at most, a keyring that could not be opened is tried again.
pub const KEYRING_RETRY_EVERY: Duration = Duration::from_secs(5);

/// The OS keyring through `keyring-core`, with recovery.
///
/// `keyring` 4 picks the platform store once per process: had the Secret Service not been up at
/// that moment (a kiosk session still starting, gnome-keyring activated late), every keyring call
/// failed until the app was restarted. Here the platform store is opened on first use and, while
/// it cannot be, opened again on a later call (at most once per `retry_every`); a store whose calls
/// fail at the platform level (the daemon restarted) is dropped and opened anew. So the station
/// recovers as soon as the Secret Service appears. The state is shared by the whole process, like
/// the keyring itself, and reported by [`KeyringStore::state`] (`interlock-station doctor`).
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
    retry_every: Duration,
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new()
    }
}

/// Which state the process's keyring is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyringState {
    /// Nothing has used the keyring yet in this process.
    NotOpened,
    /// Open and answering.
    Ok { backend: &'static str },
    /// Open and answering after it had been unavailable.
    Recovered {
        backend: &'static str,
        failed_attempts: u32,
        /// From the first failure to the moment it opened.
        unavailable_for: Duration,
    },
    /// Not available; the next call after `retry_every` tries again.
    Unavailable {
        backend: &'static str,
        reason: String,
        failed_attempts: u32,
    },
}

impl std::fmt::Display for KeyringState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyringState::NotOpened => write!(f, "not opened yet"),
            KeyringState::Ok { backend } => write!(f, "ok ({backend})"),
            KeyringState::Recovered {
                backend,
                failed_attempts,
                unavailable_for,
            } => write!(
                f,
                "recovered ({backend}; unavailable for {} s, {failed_attempts} failed attempt(s))",
                unavailable_for.as_secs()
            ),
            KeyringState::Unavailable {
                backend, reason, ..
            } => write!(f, "unavailable — {backend}: {reason} (will retry)"),
        }
    }
}

/// The process's one platform store and how opening it went.
struct Backend {
    store: Option<Arc<CredentialStore>>,
    /// The last time opening the store was tried.
    last_attempt: Option<Instant>,
    /// Since when it has been unavailable (cleared when it opens).
    unavailable_since: Option<Instant>,
    failed_attempts: u32,
    last_error: Option<String>,
    recovered: Option<(u32, Duration)>,
}

static BACKEND: Mutex<Backend> = Mutex::new(Backend {
    store: None,
    last_attempt: None,
    unavailable_since: None,
    failed_attempts: 0,
    last_error: None,
    recovered: None,
});

fn backend() -> std::sync::MutexGuard<'static, Backend> {
    BACKEND.lock().unwrap_or_else(|p| p.into_inner())
}

#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
const BACKEND_NAME: &str = "Secret Service";
#[cfg(target_os = "windows")]
const BACKEND_NAME: &str = "Windows Credential Manager";
#[cfg(target_os = "macos")]
const BACKEND_NAME: &str = "macOS Keychain";
#[cfg(not(any(
    all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ),
    target_os = "windows",
    target_os = "macos"
)))]
const BACKEND_NAME: &str = "platform keyring";

/// Opens the Secret Service anew (a new D-Bus connection and session) and makes it the default
/// store of `keyring-core`, so that any other user of the default store recovers too.
#[cfg(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
))]
fn open_platform_store() -> Result<Arc<CredentialStore>, keyring_core::Error> {
    let store: Arc<CredentialStore> = zbus_secret_service_keyring_store::Store::new()?;
    keyring_core::set_default_store(store.clone());
    Ok(store)
}

/// Windows and macOS: the native store `keyring` sets up (it does not depend on a daemon that may
/// start late).
#[cfg(not(all(
    unix,
    not(any(target_os = "macos", target_os = "ios", target_os = "android"))
)))]
fn open_platform_store() -> Result<Arc<CredentialStore>, keyring_core::Error> {
    if let Err(e) = keyring::Entry::store_status() {
        return Err(keyring_core::Error::PlatformFailure(e.to_string().into()));
    }
    keyring_core::get_default_store().ok_or(keyring_core::Error::NoDefaultStore)
}

/// "5 s", "200 ms".
fn span(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{} s", d.as_secs())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// A failure that opening the store again may cure.
fn is_platform_failure(e: &keyring_core::Error) -> bool {
    matches!(
        e,
        keyring_core::Error::PlatformFailure(_) | keyring_core::Error::NoDefaultStore
    )
}

impl KeyringStore {
    pub fn new() -> Self {
        Self::with_service(KEYRING_SERVICE)
    }
    /// A separate keyring service name (tests use their own so they never see real entries).
    pub fn with_service(service: &str) -> Self {
        KeyringStore {
            service: service.to_string(),
            retry_every: KEYRING_RETRY_EVERY,
        }
    }
    /// Tries an unavailable keyring again at most this often (tests and `doctor` shorten it).
    pub fn retrying_every(mut self, every: Duration) -> Self {
        self.retry_every = every;
        self
    }

    /// The state of the process's keyring, as the last call left it.
    pub fn state() -> KeyringState {
        let b = backend();
        match (&b.store, b.recovered, &b.last_error) {
            (Some(_), Some((failed_attempts, unavailable_for)), _) => KeyringState::Recovered {
                backend: BACKEND_NAME,
                failed_attempts,
                unavailable_for,
            },
            (Some(_), None, _) => KeyringState::Ok {
                backend: BACKEND_NAME,
            },
            (None, _, Some(reason)) => KeyringState::Unavailable {
                backend: BACKEND_NAME,
                reason: reason.clone(),
                failed_attempts: b.failed_attempts,
            },
            (None, _, None) => KeyringState::NotOpened,
        }
    }

    /// The open platform store; opens it when it is not open and the last try is old enough.
    fn store(&self) -> CoreResult<Arc<CredentialStore>> {
        let mut b = backend();
        if let Some(store) = &b.store {
            return Ok(store.clone());
        }
        if let (Some(last), Some(reason)) = (b.last_attempt, &b.last_error) {
            if last.elapsed() < self.retry_every {
                return Err(CoreError::new(
                    ErrorCode::KeyringUnavailable,
                    format!(
                        "The OS keyring is not available ({reason}); the station tries again every {}. Nothing was saved.",
                        span(self.retry_every)
                    ),
                ));
            }
        }
        let now = Instant::now();
        b.last_attempt = Some(now);
        match open_platform_store() {
            Ok(store) => {
                if let Some(since) = b.unavailable_since.take() {
                    let unavailable_for = since.elapsed();
                    b.recovered = Some((b.failed_attempts, unavailable_for));
                    tracing::info!(
                        failed_attempts = b.failed_attempts,
                        "the OS keyring ({BACKEND_NAME}) is available again after {} s",
                        unavailable_for.as_secs()
                    );
                }
                b.last_error = None;
                b.store = Some(store.clone());
                Ok(store)
            }
            Err(e) => {
                b.failed_attempts += 1;
                if b.unavailable_since.is_none() {
                    b.unavailable_since = Some(now);
                    tracing::warn!(
                        "the OS keyring ({BACKEND_NAME}) is not available: {e}; trying again at most every {}",
                        span(self.retry_every)
                    );
                }
                b.last_error = Some(e.to_string());
                Err(keyring_error(e))
            }
        }
    }

    /// Drops a store whose call failed at the platform level, so a later call opens it anew.
    fn forget(&self, store: &Arc<CredentialStore>, e: &keyring_core::Error) {
        let mut b = backend();
        if b.store.as_ref().is_some_and(|s| Arc::ptr_eq(s, store)) {
            b.store = None;
            b.recovered = None;
            b.unavailable_since.get_or_insert_with(Instant::now);
            b.last_error = Some(e.to_string());
            tracing::warn!("the OS keyring ({BACKEND_NAME}) failed: {e}; it will be opened again");
        }
    }

    /// Runs `op` on this key's entry. A platform failure drops the store and, when a new try is
    /// due, opens it again and repeats `op` once (the Secret Service may have restarted).
    fn with_entry<T>(
        &self,
        key: &str,
        op: impl Fn(&keyring_core::Entry) -> keyring_core::Result<T>,
    ) -> CoreResult<keyring_core::Result<T>> {
        let run = |store: &Arc<CredentialStore>| {
            keyring_core::Entry::new_in_store(store, &self.service, key).and_then(|e| op(&e))
        };
        let store = self.store()?;
        let first = run(&store);
        let err = match first {
            Err(e) if is_platform_failure(&e) => e,
            other => return Ok(other),
        };
        self.forget(&store, &err);
        let Ok(fresh) = self.store() else {
            return Ok(Err(err));
        };
        let second = run(&fresh);
        if let Err(e) = &second {
            if is_platform_failure(e) {
                self.forget(&fresh, e);
            }
        }
        Ok(second)
    }
}

fn keyring_error(e: keyring_core::Error) -> CoreError {
    match e {
        keyring_core::Error::NoStorageAccess(inner) => CoreError::new(
            ErrorCode::KeyringLocked,
            format!("The OS keyring is locked or refused access ({inner}); unlock it and try again. Nothing was saved."),
        ),
        keyring_core::Error::PlatformFailure(inner) => CoreError::new(
            ErrorCode::KeyringUnavailable,
            format!("The OS keyring is not available ({inner}). Nothing was saved."),
        ),
        other => CoreError::new(
            ErrorCode::KeyringUnavailable,
            format!("The OS keyring is not available ({other}). Nothing was saved."),
        ),
    }
}

impl SecretStore for KeyringStore {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        self.with_entry(key, |e| e.set_password(value.expose()))?
            .map_err(keyring_error)
    }

    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        match self.with_entry(key, |e| e.get_password())? {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn delete(&self, key: &str) -> CoreResult<()> {
        match self.with_entry(key, |e| e.delete_credential())? {
            Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// Secrets in memory, for pure logic tests only.
#[derive(Debug, Default)]
pub struct MemoryStore(Mutex<HashMap<String, Sensitive<String>>>);

impl MemoryStore {
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key.to_string(), value.clone());
        Ok(())
    }
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        Ok(self
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned())
    }
    fn delete(&self, key: &str) -> CoreResult<()> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).remove(key);
        Ok(())
    }
}
