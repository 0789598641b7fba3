//! Why this exists: what the window's commands share. The station may have failed to open (a
//! corrupt or too-new database); that failure is kept and shown on an error screen instead of
//! crashing at start.

use crate::paths::StationPaths;
use interlock_core::delivery::Deliverer;
use interlock_core::{CoreError, Station};
use std::sync::Arc;

pub struct AppState {
    pub paths: StationPaths,
    pub station: Result<Arc<Station>, CoreError>,
    /// The reused HTTP clients every webhook goes through.
    pub deliverer: Arc<Deliverer>,
}

impl AppState {
    pub fn station(&self) -> Result<Arc<Station>, CoreError> {
        self.station.clone()
    }
}
