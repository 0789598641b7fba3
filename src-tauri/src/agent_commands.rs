//! Why this exists: the window's commands for the station as an agent — the lock screen, Quit
//! (a staff password, a warning about pending work), kiosk mode and start at login. The rules are
//! the core's (`Station::verify_staff_password`, `public_overview`, `set_agent_settings`); this
//! file applies their outcome to the process (exit, window, OS autostart entry).

use crate::state::AppState;
use crate::window::{self, WindowFlags};
use interlock_core::sensitive::Sensitive;
use interlock_core::station::agent::{AgentSettings, PendingWork, PublicOverview};
use interlock_core::{CoreError, CoreResult, Station};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tauri::{AppHandle, Manager, State};

async fn blocking<T, F>(state: State<'_, AppState>, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Station) -> CoreResult<T> + Send + 'static,
{
    let station: Arc<Station> = state.station()?;
    tauri::async_runtime::spawn_blocking(move || work(&station))
        .await
        .map_err(|e| CoreError::internal(format!("The operation stopped unexpectedly: {e}")))?
}

/// The sign-in screen's read-only station status (no sign-in needed, no names).
#[tauri::command]
#[specta::specta]
pub async fn public_overview(state: State<'_, AppState>) -> Result<PublicOverview, CoreError> {
    blocking(state, |s| s.public_overview()).await
}

/// What the window needs to know about the agent when it opens.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WindowAgent {
    pub kiosk_mode: bool,
    /// The tray's "Quit" asked for the Quit dialog (read once).
    pub quit_requested: bool,
}

#[tauri::command]
#[specta::specta]
pub fn window_agent(app: AppHandle) -> WindowAgent {
    let flags = app.state::<WindowFlags>();
    WindowAgent {
        kiosk_mode: flags.kiosk.load(Ordering::SeqCst),
        quit_requested: flags.quit_requested.swap(false, Ordering::SeqCst),
    }
}

/// What quitting would leave undone.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct QuitInfo {
    pub pending: PendingWork,
    pub warning: Option<String>,
}

#[tauri::command]
#[specta::specta]
pub async fn quit_info(state: State<'_, AppState>) -> Result<QuitInfo, CoreError> {
    blocking(state, |s| {
        let pending = s.pending_work()?;
        Ok(QuitInfo {
            warning: pending.warning(),
            pending,
        })
    })
    .await
}

/// Stops the station (workers, auto-lock, the tray) after a staff or administrator password.
#[tauri::command]
#[specta::specta]
pub async fn quit_app(
    app: AppHandle,
    state: State<'_, AppState>,
    username: String,
    password: Sensitive<String>,
) -> Result<(), CoreError> {
    let account = blocking(state, move |s| {
        s.verify_staff_password(&username, password.expose())
    })
    .await?;
    tracing::warn!(user = %account.username, "quitting Interlock Station");
    app.exit(0);
    Ok(())
}

#[tauri::command]
#[specta::specta]
pub async fn get_agent_settings(state: State<'_, AppState>) -> Result<AgentSettings, CoreError> {
    blocking(state, |s| s.agent_settings()).await
}

/// Administrators: kiosk mode takes effect at once; start at login writes or removes the OS
/// autostart entry.
#[tauri::command]
#[specta::specta]
pub async fn set_agent_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: AgentSettings,
) -> Result<AgentSettings, CoreError> {
    let saved = blocking(state, move |s| s.set_agent_settings(settings)).await?;
    sync_autostart(&app, saved.start_at_login)?;
    window::apply_kiosk(&app, saved.kiosk_mode);
    Ok(saved)
}

/// Makes the OS autostart entry match the setting.
pub fn sync_autostart(app: &AppHandle, on: bool) -> CoreResult<()> {
    use tauri_plugin_autostart::ManagerExt;
    let launcher = app.autolaunch();
    let result = if on {
        launcher.enable()
    } else {
        match launcher.is_enabled() {
            Ok(true) => launcher.disable(),
            _ => Ok(()),
        }
    };
    result.map_err(|e| CoreError::internal(format!("Cannot change start at login: {e}")))
}
