//! Why this exists: the window is a view of the agent, not the agent. Closing it destroys it (the
//! web view's processes exit, the Rust runtime, the tray and every worker keep running); "Open"
//! builds it again from the tauri.conf.json window config. In kiosk mode it is fullscreen and
//! undecorated, and a close request is refused unless staff or an administrator is signed in.

use crate::state::AppState;
use std::sync::atomic::{AtomicBool, Ordering};
use tauri::{AppHandle, Manager, WebviewWindowBuilder, WindowEvent};

pub const MAIN: &str = "main";

/// The window-level flags the shell keeps (decided from the core's settings at start).
#[derive(Default)]
pub struct WindowFlags {
    pub kiosk: AtomicBool,
    /// Set by the tray's "Quit": the next window shows the Quit dialog at once.
    pub quit_requested: AtomicBool,
}

fn kiosk(app: &AppHandle) -> bool {
    app.state::<WindowFlags>().kiosk.load(Ordering::SeqCst)
}

/// Shows the main window, creating it if it was closed (destroyed) or never created.
pub fn open_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let Some(config) = app.config().app.windows.iter().find(|w| w.label == MAIN) else {
        tracing::error!("no window config labelled {MAIN}");
        return;
    };
    let mut config = config.clone();
    config.create = true;
    if kiosk(app) {
        config.fullscreen = true;
        config.decorations = false;
        config.resizable = false;
    }
    let built = WebviewWindowBuilder::from_config(app, &config).and_then(|b| {
        b.on_page_load(|_, payload| {
            tracing::debug!(event = ?payload.event(), ms = crate::startup_ms(), "page load");
        })
        .build()
    });
    match built {
        Ok(window) => {
            if kiosk(app) {
                cover_monitor(&window);
            }
            let _ = window.set_focus();
            tracing::info!(
                kiosk = kiosk(app),
                ms = crate::startup_ms(),
                "window opened"
            );
        }
        Err(e) => tracing::error!("cannot open the window: {e}"),
    }
}

/// Kiosk: also size the window to its monitor, for desktops without a window manager that would
/// honour the fullscreen request (a bare X server).
fn cover_monitor(window: &tauri::WebviewWindow) {
    if let Ok(Some(monitor)) = window.current_monitor() {
        let _ = window.set_position(*monitor.position());
        let _ = window.set_size(*monitor.size());
    }
}

/// Applies kiosk mode to an open window at once (the administrator switched it).
pub fn apply_kiosk(app: &AppHandle, on: bool) {
    app.state::<WindowFlags>().kiosk.store(on, Ordering::SeqCst);
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.set_decorations(!on);
        let _ = window.set_fullscreen(on);
        let _ = window.set_resizable(!on);
        if on {
            cover_monitor(&window);
        }
    }
}

/// True when staff or an administrator is signed in at the station.
fn staff_signed_in(app: &AppHandle) -> bool {
    let Ok(station) = app.state::<AppState>().station() else {
        return true; // the error screen: nothing to protect
    };
    matches!(station.current_session(), Ok(Some(s)) if s.account.role.is_staff())
}

/// The window's close request: refused in kiosk mode without a staff sign-in; otherwise the
/// window is destroyed and the app keeps running in the tray.
pub fn on_window_event(window: &tauri::Window, event: &WindowEvent) {
    if window.label() != MAIN {
        return;
    }
    if let WindowEvent::CloseRequested { api, .. } = event {
        let app = window.app_handle();
        if kiosk(app) && !staff_signed_in(app) {
            tracing::warn!("kiosk mode: close refused without a staff sign-in");
            api.prevent_close();
            return;
        }
        tracing::info!("window closed; the station keeps running in the tray");
    }
}
