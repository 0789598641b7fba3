//! Why this exists: where the station keeps its database and logs. The defaults follow each OS's
//! convention (the same folders Tauri's path resolver uses); `--data-dir` moves both, so tests,
//! demos and provisioning scripts never touch a real station's data.

use std::path::{Path, PathBuf};

pub const IDENTIFIER: &str = "org.interlockstation.station";
pub const DATABASE_FILE: &str = "station.sqlite3";

#[derive(Debug, Clone)]
pub struct StationPaths {
    pub data_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl StationPaths {
    pub fn resolve(data_dir_override: Option<&Path>) -> StationPaths {
        match data_dir_override {
            Some(dir) => StationPaths {
                data_dir: dir.to_path_buf(),
                log_dir: dir.join("logs"),
            },
            None => StationPaths {
                data_dir: dirs::data_dir()
                    .unwrap_or_else(|| PathBuf::from("."))
                    .join(IDENTIFIER),
                log_dir: default_log_dir(),
            },
        }
    }

    pub fn database(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }
}

#[cfg(target_os = "macos")]
fn default_log_dir() -> PathBuf {
    dirs::home_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join("Library/Logs")
        .join(IDENTIFIER)
}

#[cfg(not(target_os = "macos"))]
fn default_log_dir() -> PathBuf {
    dirs::data_local_dir()
        .unwrap_or_else(|| PathBuf::from("."))
        .join(IDENTIFIER)
        .join("logs")
}
