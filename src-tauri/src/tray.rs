//! Why this exists: the station's face while no window is open. The tray icon's title, tooltip and
//! menu show each interlock's last reading, the pending work and the last error (from the core's
//! `agent_status`), refreshed in the background; "Open Interlock Station" recreates the window,
//! "Quit" opens it on the Quit dialog (quitting needs a staff password). On Linux the icon is a
//! StatusNotifierItem; without a StatusNotifierWatcher on the bus it is simply not shown and the
//! app runs on.

use crate::state::AppState;
use crate::window::{self, WindowFlags};
use interlock_core::station::agent::AgentStatus;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tauri::image::Image;
use tauri::menu::{Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Emitter, Manager};

pub const TRAY_ID: &str = "station";
pub const OPEN_ID: &str = "open";
pub const QUIT_ID: &str = "quit";
const REFRESH: Duration = Duration::from_secs(3);

fn title(status: &AgentStatus) -> String {
    if status.needs_attention() {
        "Interlock Station: an interlock needs attention".into()
    } else {
        "Interlock Station".into()
    }
}

fn build_menu(app: &AppHandle, lines: &[String]) -> tauri::Result<Menu<tauri::Wry>> {
    let menu = Menu::new(app)?;
    for (i, line) in lines.iter().enumerate() {
        menu.append(&MenuItem::with_id(
            app,
            format!("info-{i}"),
            line,
            false,
            None::<&str>,
        )?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&MenuItem::with_id(
        app,
        OPEN_ID,
        "Open Interlock Station",
        true,
        None::<&str>,
    )?)?;
    menu.append(&MenuItem::with_id(
        app,
        QUIT_ID,
        "Quit…",
        true,
        None::<&str>,
    )?)?;
    Ok(menu)
}

/// The normal icon, or the same icon tinted red when an interlock is in error or Unknown.
fn icon(app: &AppHandle, attention: bool) -> Option<Image<'static>> {
    let base = app.default_window_icon()?;
    let mut rgba = base.rgba().to_vec();
    if attention {
        for px in rgba.chunks_exact_mut(4) {
            px[0] = px[0].saturating_add(120);
            px[1] /= 3;
            px[2] /= 3;
        }
    }
    Some(Image::new_owned(rgba, base.width(), base.height()))
}

fn status(app: &AppHandle) -> Option<AgentStatus> {
    let station = app.state::<AppState>().station().ok()?;
    match station.agent_status() {
        Ok(s) => Some(s),
        Err(e) => {
            tracing::warn!("tray: cannot read the station's status: {}", e.message);
            None
        }
    }
}

fn on_menu(app: &AppHandle, id: &str) {
    match id {
        OPEN_ID => window::open_main(app),
        QUIT_ID => {
            app.state::<WindowFlags>()
                .quit_requested
                .store(true, Ordering::SeqCst);
            window::open_main(app);
            // An already open window shows the dialog on this event; a new one reads the flag.
            let _ = app.emit("quit-requested", ());
        }
        _ => {}
    }
}

/// Creates the tray icon and starts refreshing it. Failure (no tray on this desktop) is logged,
/// never fatal.
pub fn install(app: &AppHandle) {
    let lines = vec!["Reading the station…".to_string()];
    let built = build_menu(app, &lines).and_then(|menu| {
        let mut b = TrayIconBuilder::with_id(TRAY_ID)
            .title("Interlock Station")
            .tooltip("Interlock Station")
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(|app, event| on_menu(app, event.id().as_ref()));
        if let Some(i) = icon(app, false) {
            b = b.icon(i);
        }
        b.build(app)
    });
    let tray = match built {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!("no tray icon on this desktop: {e}");
            return;
        }
    };
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let mut last: Option<(Vec<String>, bool)> = None;
        loop {
            let a = app.clone();
            let s = tauri::async_runtime::spawn_blocking(move || status(&a))
                .await
                .ok()
                .flatten();
            if let Some(s) = s {
                let now = (s.lines(), s.needs_attention());
                if last.as_ref() != Some(&now) {
                    refresh(&app, &tray, &s, &now.0);
                    last = Some(now);
                }
            }
            tokio::time::sleep(REFRESH).await;
        }
    });
}

fn refresh(app: &AppHandle, tray: &TrayIcon, status: &AgentStatus, lines: &[String]) {
    let attention = status.needs_attention();
    match build_menu(app, lines) {
        Ok(menu) => {
            let _ = tray.set_menu(Some(menu));
        }
        Err(e) => tracing::warn!("tray menu: {e}"),
    }
    let _ = tray.set_tooltip(Some(lines.join("\n")));
    let _ = tray.set_title(Some(title(status)));
    let _ = tray.set_icon(icon(app, attention));
}
