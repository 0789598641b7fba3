//! Why this exists: every credential lives in the OS keyring (Windows Credential Manager, macOS
//! Keychain, Secret Service on Linux); the database holds only the name of the entry. The store is
//! a trait so pure logic can use memory, while the app and its tests use the real keyring.

use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::sensitive::Sensitive;
use std::collections::HashMap;
use std::sync::Mutex;

/// The keyring "service" under which the station's entries are kept.
pub const KEYRING_SERVICE: &str = "org.interlockstation.station";

pub trait SecretStore: Send + Sync {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()>;
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>>;
    /// Deleting an entry that does not exist is not an error.
    fn delete(&self, key: &str) -> CoreResult<()>;
}

/// The OS keyring through the `keyring` crate.
#[derive(Debug, Default)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new() -> Self {
        Self::with_service(KEYRING_SERVICE)
    }
    /// A separate keyring service name (tests use their own so they never see real entries).
    pub fn with_service(service: &str) -> Self {
        KeyringStore {
            service: service.to_string(),
        }
    }
    fn entry(&self, key: &str) -> CoreResult<keyring::Entry> {
        keyring::Entry::new(&self.service, key).map_err(keyring_error)
    }
}

fn keyring_error(e: keyring::Error) -> CoreError {
    match e {
        keyring::Error::NoStorageAccess(inner) => CoreError::new(
            ErrorCode::KeyringLocked,
            format!("The OS keyring is locked or refused access ({inner}); unlock it and try again. Nothing was saved."),
        ),
        keyring::Error::PlatformFailure(inner) => CoreError::new(
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
        self.entry(key)?
            .set_password(value.expose())
            .map_err(keyring_error)
    }

    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        match self.entry(key)?.get_password() {
            Ok(v) => Ok(Some(Sensitive::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keyring_error(e)),
        }
    }

    fn delete(&self, key: &str) -> CoreResult<()> {
        match self.entry(key)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
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
