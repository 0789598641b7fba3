//! Why this exists: a failed delivery or interlock call must reach the person at the station even
//! when the app is in the background. Notifications go through a trait so the rules can be tested
//! without a desktop; `DesktopNotifier` is the real one (notify-rust: D-Bus on Linux, the OS's own
//! toasts on Windows and macOS). A missing notification server is logged, never fatal.

pub trait Notifier: Send + Sync {
    /// Shows a notification; `Err` says why it could not be shown.
    fn notify(&self, summary: &str, body: &str) -> Result<(), String>;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct DesktopNotifier;

/// The app's identifier (`identifier` in tauri.conf.json). The Windows installers register it as
/// the AppUserModelID of the Start-menu shortcut, so toasts carry it to be shown under "Interlock
/// Station" (without it notify-rust falls back to PowerShell's id and the toast names PowerShell).
pub const APP_USER_MODEL_ID: &str = "org.interlockstation.station";

impl Notifier for DesktopNotifier {
    fn notify(&self, summary: &str, body: &str) -> Result<(), String> {
        let mut n = notify_rust::Notification::new();
        n.appname("Interlock Station").summary(summary).body(body);
        #[cfg(target_os = "windows")]
        n.app_id(APP_USER_MODEL_ID);
        n.show().map(drop).map_err(|e| e.to_string())
    }
}

/// Shows a notification on a separate thread so a slow or missing server never holds up the
/// caller; failures are logged.
pub fn notify_in_background(notifier: std::sync::Arc<dyn Notifier>, summary: String, body: String) {
    let spawned = std::thread::Builder::new()
        .name("notify".into())
        .spawn(move || {
            if let Err(e) = notifier.notify(&summary, &body) {
                tracing::warn!(summary = %summary, "desktop notification not shown: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::warn!("desktop notification not shown: cannot start a thread: {e}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_toast_app_id_is_the_bundle_identifier() {
        let conf: serde_json::Value =
            serde_json::from_str(include_str!("../../../tauri.conf.json")).unwrap();
        assert_eq!(conf["identifier"], super::APP_USER_MODEL_ID);
    }
}
