//! Why this exists: what Rust pushes to the window without being asked. The status watch runs in
//! Rust; the window subscribes to its readings instead of polling (typed in the generated
//! bindings, like the commands).

use interlock_core::interlock::ReadingListener;
use interlock_core::model::StatusReading;
use serde::Serialize;
use tauri::AppHandle;
use tauri_specta::Event;

/// A new status reading of one instrument (from the watch, a command or auto-lock).
#[derive(Debug, Clone, Serialize, specta::Type, tauri_specta::Event)]
pub struct InterlockStatusChanged {
    pub service_id: String,
    pub reading: StatusReading,
}

/// Forwards readings to every window; with no window open they are simply not delivered.
pub struct WindowReadings(pub AppHandle);

impl ReadingListener for WindowReadings {
    fn reading(&self, service_id: &str, reading: &StatusReading) {
        let event = InterlockStatusChanged {
            service_id: service_id.to_string(),
            reading: reading.clone(),
        };
        if let Err(e) = event.emit(&self.0) {
            tracing::debug!("status reading not sent to the window: {e}");
        }
    }
}
