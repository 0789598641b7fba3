//! Why this exists: desktop notifications through notify-rust. On Linux they need a notification
//! server on the session bus; when there is none the app logs it and carries on.

/// Whether notifications can be shown, in words.
#[cfg(all(unix, not(target_os = "macos")))]
pub fn server_status() -> Result<String, String> {
    match notify_rust::get_server_information() {
        Ok(info) => Ok(format!("{} {} by {}", info.name, info.version, info.vendor)),
        Err(e) => Err(format!("no notification server on the session bus ({e})")),
    }
}

#[cfg(not(all(unix, not(target_os = "macos"))))]
pub fn server_status() -> Result<String, String> {
    Ok("the OS shows notifications itself".to_string())
}
