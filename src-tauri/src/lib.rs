//! Interlock Station's app shell: command-line parsing, logging, the Tauri window and its IPC
//! commands. Every rule lives in `interlock-core`; this crate only wires it to the window.

pub mod agent_commands;
pub mod cli;
pub mod command_names;
pub mod commands;
pub mod events;
pub mod logging;
pub mod notify;
pub mod paths;
pub mod state;
pub mod tray;
pub mod window;

use clap::Parser;
use interlock_core::delivery::Deliverer;
use interlock_core::interlock::InterlockController;
use interlock_core::notifier::DesktopNotifier;
use interlock_core::outbox;
use interlock_core::secrets::KeyringStore;
use interlock_core::{Station, SystemClock};
use paths::StationPaths;
use state::AppState;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "interlock-station",
    version,
    about = "Interlock Station: the station agent beside a core-facility instrument"
)]
pub struct Cli {
    /// Folder for the station database and logs (default: the OS app-data folder).
    #[arg(long, env = "INTERLOCK_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,

    /// Started by the login session (start at login): stay in the tray, open no window.
    #[arg(long, hide = true)]
    pub autostart: bool,

    #[command(subcommand)]
    pub command: Option<cli::Command>,
}

/// The app's commands, listed once: `app_commands!(tauri_specta::collect_commands)` for the
/// typed builder (the generated bindings), `app_commands!(tauri::generate_handler)` for the
/// running app, which so links no type-export code (the bindings are made by tests).
macro_rules! app_commands {
    ($($m:ident)::+) => {
        $($m)::+![
            app_status,
            create_first_administrator,
            sign_in,
            sign_out,
            current_session,
            touch_session,
            get_settings,
            update_settings,
            list_accounts,
            create_account,
            update_account,
            reset_password,
            list_services,
            create_service,
            update_service,
            delete_service,
            list_events,
            create_event,
            update_event,
            delete_event,
            list_orders,
            create_order,
            update_order,
            delete_order,
            station_overview,
            station_timeline,
            list_webhooks,
            save_webhook,
            delete_webhook,
            rotate_signing_secret,
            list_feeds,
            save_feed,
            delete_feed,
            sync_feed_now,
            import_ics,
            list_deliveries,
            send_test_webhook,
            resend_delivery,
            interlock_panel,
            interlock_command,
            interlock_audit,
            set_service_auto_lock,
            set_interlock_poll_secs,
            get_interlock_poll_secs,
            dismiss_auto_lock,
            get_retention_days,
            set_retention_days,
            public_overview,
            window_agent,
            quit_info,
            quit_app,
            get_agent_settings,
            set_agent_settings,
            usage_report,
            open_post_lock_link,
        ]
    };
}

/// The typed command list; also the source of the generated TypeScript bindings.
pub fn specta_builder() -> tauri_specta::Builder<tauri::Wry> {
    use agent_commands::*;
    use commands::*;
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(app_commands!(tauri_specta::collect_commands))
        .events(app_events())
        // Numbers the UI mirrors (tag wizard, webhook form, settings), so they never drift.
        .constant("LIMITS", interlock_core::limits::limits())
}

/// The running app's command handler (the same commands as [`specta_builder`]'s).
fn app_invoke_handler() -> impl Fn(tauri::ipc::Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    use agent_commands::*;
    use commands::*;
    app_commands!(tauri::generate_handler)
}

/// The events Rust pushes to the window (mounted by the running app, typed in the bindings).
fn app_events() -> tauri_specta::Events {
    tauri_specta::collect_events![events::InterlockStatusChanged]
}

/// Where the generated bindings live, relative to the repository root.
pub const BINDINGS_PATH: &str = "ui/src/lib/ipc/bindings.ts";

pub fn export_bindings(path: &std::path::Path) -> Result<(), String> {
    specta_builder()
        .export(
            specta_typescript::Typescript::default()
                .header("// Generated from the Rust commands and types by tauri-specta. Do not edit.\n// Regenerate with `make bindings`.\n/* eslint-disable */")
                .bigint(specta_typescript::BigIntExportBehavior::Fail),
            path,
        )
        .map_err(|e| e.to_string())
}

/// Milliseconds since [`STARTED`].
pub fn startup_ms() -> u128 {
    STARTED.get().map_or(0, |t| t.elapsed().as_millis())
}

/// Returns the message to print when no display is available (Linux and BSDs only).
fn missing_display() -> Option<&'static str> {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        let set = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        if !set("DISPLAY") && !set("WAYLAND_DISPLAY") {
            return Some("interlock-station: no display found (neither DISPLAY nor WAYLAND_DISPLAY is set); start it from a desktop session, or under `xvfb-run` for tests.");
        }
    }
    None
}

/// When this process started its window part: the log says how long the first screen's
/// `app_status` took after it, so a slow start is visible in the field.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Runs the app; returns the process exit code.
pub fn run(cli: Cli) -> i32 {
    STARTED.get_or_init(std::time::Instant::now);
    if let Some(command) = cli.command {
        let paths = StationPaths::resolve(cli.data_dir.as_deref());
        let _log_guard = logging::init(&paths.log_dir, false);
        return cli::run(command, &paths);
    }
    if let Some(message) = missing_display() {
        eprintln!("{message}");
        return 2;
    }
    let paths = StationPaths::resolve(cli.data_dir.as_deref());
    let _log_guard = logging::init(&paths.log_dir, true);
    tracing::info!(data_dir = %paths.data_dir.display(), version = env!("CARGO_PKG_VERSION"), "starting Interlock Station");

    let station = Station::open(
        &paths.database(),
        Arc::new(SystemClock),
        Arc::new(KeyringStore::new()),
    )
    .map(Arc::new);
    if let Ok(s) = &station {
        s.set_notifier(Arc::new(DesktopNotifier));
    }
    if let Err(e) = &station {
        tracing::error!(
            code = e.code.as_str(),
            "cannot open the station database: {}",
            e.message
        );
    }
    tracing::debug!(ms = startup_ms(), "database opened");
    let deliverer = match Deliverer::new() {
        Ok(d) => Arc::new(d),
        Err(e) => {
            eprintln!("interlock-station: cannot set up HTTPS: {e}");
            return 1;
        }
    };
    tracing::debug!(ms = startup_ms(), "HTTPS client ready");
    // Only the events of the typed builder: its commands would link their type exports.
    let builder = tauri_specta::Builder::<tauri::Wry>::new().events(app_events());
    let worker = station
        .as_ref()
        .ok()
        .map(|s| (s.clone(), deliverer.clone()));
    let interlock = station
        .as_ref()
        .ok()
        .map(|s| Arc::new(InterlockController::new(s.clone(), deliverer.clone())));
    let background = interlock.clone();
    let invoke_handler = app_invoke_handler();
    // Kiosk mode and start at login are read before the window exists (no sign-in needed).
    let agent = station.as_ref().ok().and_then(|s| s.agent_settings().ok());
    let kiosk = agent.is_some_and(|a| a.kiosk_mode);
    let start_hidden = cli.autostart;
    let mut app_builder = tauri::Builder::default()
        // First: a second launch must hand over to this one before it opens anything; it shows
        // the window, creating it again if it was closed.
        .plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            window::open_main(app)
        }))
        // Opens a booking's post-lock link in the default browser, from Rust only
        // (`commands::open_post_lock_link` builds and checks the URL first).
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--autostart"]),
        ));
    if !kiosk {
        // Outside kiosk mode the window comes back where it was, at its size.
        app_builder = app_builder.plugin(tauri_plugin_window_state::Builder::new().build());
    }
    let app = app_builder
        .manage(window::WindowFlags {
            kiosk: kiosk.into(),
            quit_requested: false.into(),
        })
        .on_window_event(window::on_window_event)
        .manage(AppState {
            paths,
            station,
            deliverer,
            interlock,
        })
        .setup(move |app| {
            tracing::debug!(ms = startup_ms(), "setup");
            builder.mount_events(app);
            if let Some((station, deliverer)) = worker {
                // Prunes history older than the retention setting, daily.
                tauri::async_runtime::spawn(interlock_core::retention::run_daily(station.clone()));
                // Follows the services' calendar feeds (each at its refresh interval).
                tauri::async_runtime::spawn(interlock_core::feed_sync::run_worker(
                    station.clone(),
                    deliverer.clone(),
                ));
                // Sends order/event webhooks from the outbox, including those left by a crash.
                tauri::async_runtime::spawn(outbox::run_worker(
                    station,
                    deliverer,
                    Duration::from_secs(30),
                ));
            }
            if let Some(interlock) = background {
                // The status watch and auto-lock (also those due while the app was closed); they
                // run in Rust whatever the window shows.
                interlock.set_listener(Arc::new(events::WindowReadings(app.handle().clone())));
                tauri::async_runtime::spawn(interlock.run_background());
            }
            let handle = app.handle();
            tray::install(handle);
            tracing::debug!(ms = startup_ms(), "tray installed");
            // The installed (release) app keeps the OS autostart entry in step with the setting;
            // debug builds (tests, development) touch it only when an administrator changes it.
            if let Some(a) = agent.filter(|_| !cfg!(debug_assertions)) {
                if let Err(e) = agent_commands::sync_autostart(handle, a.start_at_login) {
                    tracing::warn!("start at login: {}", e.message);
                }
            }
            // Launched by the login session: the station runs in the tray without a window
            // (a hidden window would cost its web view); kiosk mode always shows the window.
            if start_hidden && !kiosk {
                tracing::info!("started at login: running in the tray");
            } else {
                window::open_main(handle);
            }
            Ok(())
        })
        .invoke_handler(invoke_handler)
        .build(tauri::generate_context!());
    match app {
        Ok(app) => {
            app.run(|_app, event| {
                // Closing the last window leaves the station running in the tray. An explicit
                // quit (`exit(0)`, after a staff password) has a code and goes through; an OS
                // session end or shutdown ends the process by signal and is never held up.
                if let tauri::RunEvent::ExitRequested {
                    api, code: None, ..
                } = event
                {
                    api.prevent_exit();
                }
            });
            0
        }
        Err(e) => {
            tracing::error!("the window could not run: {e}");
            eprintln!("interlock-station: the window could not run: {e}");
            1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_bindings_match_the_rust_types() {
        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        let committed = root.join(BINDINGS_PATH);
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            export_bindings(&committed).expect("export bindings");
        }
        let fresh =
            std::env::temp_dir().join(format!("interlock-bindings-{}.ts", std::process::id()));
        export_bindings(&fresh).expect("export bindings");
        let want = std::fs::read_to_string(&fresh).unwrap();
        let _ = std::fs::remove_file(&fresh);
        let have = std::fs::read_to_string(&committed).unwrap_or_default();
        assert!(
            have == want,
            "{BINDINGS_PATH} is out of date with the Rust commands; run `make bindings` and commit it"
        );
    }

    #[test]
    fn every_command_is_declared_and_granted() {
        let registered: Vec<String> = {
            let src = include_str!("lib.rs");
            let open = "$($m)::+![";
            let start = src.find(open).unwrap();
            let end = start + src[start..].find(']').unwrap();
            src[start + open.len()..end]
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let declared: Vec<String> = command_names::COMMANDS
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            registered, declared,
            "app_commands! and command_names.rs differ"
        );
        let capability: serde_json::Value =
            serde_json::from_str(include_str!("../capabilities/default.json")).unwrap();
        let permissions = capability["permissions"].as_array().unwrap();
        let granted: Vec<String> = permissions
            .iter()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect();
        // The one scoped grant: the opener plugin, for http and https URLs only (post-lock
        // links). Nothing else of a plugin, and no other scheme (file:, javascript:, mailto:…).
        let scoped: Vec<&serde_json::Value> =
            permissions.iter().filter(|p| !p.is_string()).collect();
        assert_eq!(
            scoped,
            [&serde_json::json!({
                "identifier": "opener:allow-open-url",
                "allow": [{ "url": "https://*" }, { "url": "http://*" }]
            })],
            "the only scoped grant is opener:allow-open-url for http and https URLs"
        );
        // Besides the app's commands, the window may only listen to the app's own events.
        let core_grants = ["core:event:allow-listen", "core:event:allow-unlisten"];
        for name in &declared {
            let permission = format!("allow-{}", name.replace('_', "-"));
            assert!(
                granted.contains(&permission),
                "capability lacks {permission}"
            );
        }
        let extra: Vec<&String> = granted
            .iter()
            .filter(|g| !core_grants.contains(&g.as_str()))
            .filter(|g| {
                !declared
                    .iter()
                    .any(|d| **g == format!("allow-{}", d.replace('_', "-")))
            })
            .collect();
        assert!(
            extra.is_empty(),
            "capability grants something not declared: {extra:?}"
        );
    }
}
