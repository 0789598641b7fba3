//! The binary's behaviour before any window opens: help, version, and the one-line message when
//! there is no display.

use std::process::Command;

fn app() -> Command {
    Command::new(env!("CARGO_BIN_EXE_interlock-station"))
}

#[test]
fn help_names_the_data_dir_option_and_its_env_var() {
    let out = app().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(help.contains("--data-dir <DIR>"), "{help}");
    assert!(help.contains("INTERLOCK_DATA_DIR"), "{help}");
}

#[test]
fn version_is_the_package_version() {
    let out = app().arg("--version").output().unwrap();
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("interlock-station {}", env!("CARGO_PKG_VERSION"))
    );
}

#[cfg(all(unix, not(target_os = "macos")))]
#[test]
fn without_a_display_it_says_so_in_one_line() {
    let dir = tempfile_dir();
    let out = app()
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .arg("--data-dir")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("interlock-station: no display found"),
        "{stderr}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(all(unix, not(target_os = "macos")))]
fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("interlock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
