//! Why this exists: what the window's commands share. The station may have failed to open (a
//! corrupt or too-new database); that failure is kept and shown on an error screen instead of
//! crashing at start.

use crate::paths::StationPaths;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::InterlockController;
use interlock_core::{CoreError, Station};
use std::sync::Arc;

pub struct AppState {
    pub paths: StationPaths,
    pub station: Result<Arc<Station>, CoreError>,
    /// The reused HTTP clients every webhook goes through.
    pub deliverer: Arc<Deliverer>,
    /// Lock / Unlock / Check status; absent when the database could not be opened.
    pub interlock: Option<Arc<InterlockController>>,
}

impl AppState {
    pub fn station(&self) -> Result<Arc<Station>, CoreError> {
        self.station.clone()
    }

    pub fn interlock(&self) -> Result<Arc<InterlockController>, CoreError> {
        match &self.interlock {
            Some(i) => Ok(i.clone()),
            None => Err(self
                .station()
                .err()
                .unwrap_or_else(|| CoreError::internal("interlock controller missing"))),
        }
    }
}
