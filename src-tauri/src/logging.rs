//! Why this exists: the station writes a daily log file in the OS log folder (and to stderr), so
//! staff can see what happened after the fact. Nothing secret is ever passed to tracing.

use std::path::Path;
use tracing::Level;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::{filter::Targets, fmt, prelude::*};

pub const LOG_FILE_PREFIX: &str = "interlock-station.log";

/// Starts logging; keep the returned guard alive for the life of the process.
pub fn init(log_dir: &Path, to_stderr: bool) -> Option<WorkerGuard> {
    // `INTERLOCK_LOG=debug`, `info,interlock_core=trace`: levels per target (a `Targets` filter,
    // not `EnvFilter`: its regex-based span and field matching cost 0.9 MB of the release binary).
    // Unset, empty or not understood: info, with the web view's crates at warn.
    let filter = std::env::var("INTERLOCK_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .and_then(|v| v.parse::<Targets>().ok())
        .unwrap_or_else(|| {
            Targets::new()
                .with_default(Level::INFO)
                .with_target("tao", Level::WARN)
                .with_target("wry", Level::WARN)
        });
    let (file_layer, guard) = match std::fs::create_dir_all(log_dir) {
        Ok(()) => {
            let appender = tracing_appender::rolling::daily(log_dir, LOG_FILE_PREFIX);
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (
                Some(fmt::layer().with_ansi(false).with_writer(writer)),
                Some(guard),
            )
        }
        Err(e) => {
            eprintln!(
                "interlock-station: cannot write logs to {}: {e}",
                log_dir.display()
            );
            (None, None)
        }
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(file_layer)
        .with(to_stderr.then(|| fmt::layer().with_writer(std::io::stderr)))
        .try_init();
    guard
}
