//! Why this exists: a station PC may start the app before the Secret Service is up (a kiosk
//! session still logging in, gnome-keyring activated late), or the daemon may restart. The keyring
//! must recover on its own, without restarting the app. For real: a child process runs on a
//! private D-Bus session bus that has no Secret Service and cannot activate one; the keyring fails
//! with a clear error, then the child starts gnome-keyring-daemon on that bus and the same
//! `KeyringStore` (and the same station) works; then the daemon is killed and started again.

mod common;
use common::*;
use interlock_core::secrets::{KeyringState, KeyringStore, SecretStore};
use interlock_core::sensitive::Sensitive;
use interlock_core::webhook::*;
use interlock_core::ErrorCode;
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

const CHILD: &str = "INTERLOCK_KEYRING_RECOVERY_CHILD";
const RETRY: Duration = Duration::from_millis(200);

/// A session bus with no service files: nothing is activated when a name has no owner.
const BUS_CONFIG: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

fn secret_service_pid() -> Option<u32> {
    let out = Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .skip_while(|w| *w != "uint32")
        .nth(1)
        .and_then(|p| p.parse().ok())
}

/// Starts gnome-keyring-daemon on this process's bus (its login collection unlocked) and returns
/// its PID once it owns the Secret Service name.
fn start_gnome_keyring() -> u32 {
    let mut daemon = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("gnome-keyring-daemon");
    // One empty line: an unlocked login collection with an empty password (see the recipes).
    daemon.stdin.take().unwrap().write_all(b"\n").unwrap();
    daemon.wait().unwrap(); // it forks the daemon and exits
    let started = Instant::now();
    loop {
        if let Some(pid) = secret_service_pid() {
            return pid;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "gnome-keyring did not come up on the test bus"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn kill(pid: u32) {
    let _ = Command::new("kill").arg(pid.to_string()).status();
    let started = Instant::now();
    while secret_service_pid().is_some() && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Calls `set` until it works (each call may try to open the keyring again); the time it took.
fn set_until_it_works(store: &KeyringStore, key: &str, value: &str) -> Duration {
    let started = Instant::now();
    loop {
        match store.set(key, &Sensitive::new(value.to_string())) {
            Ok(()) => return started.elapsed(),
            Err(e) => assert!(
                started.elapsed() < Duration::from_secs(10),
                "the keyring did not recover: {e:?}"
            ),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn webhook_with_password(name: &str, password: &str) -> WebhookInput {
    let mut input = WebhookInput::new(
        name,
        Action::new(ActionType::Event, ActionSubtype::Create),
        "https://lims.example.org/hook",
    );
    input.auth = AuthKind::Basic;
    input.auth_username = "station".into();
    input.auth_secret = SecretChange::Set {
        value: password.into(),
    };
    input
}

fn child() {
    let store = KeyringStore::with_service("interlock-recovery-test").retrying_every(RETRY);
    assert_eq!(KeyringStore::state(), KeyringState::NotOpened);

    // 1. No Secret Service on the bus: a clear error, and the station saves nothing.
    let err = store.set("probe", &Sensitive::new("v".into())).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyringUnavailable, "{err:?}");
    assert!(err.message.contains("not available"), "{}", err.message);
    let state = KeyringStore::state();
    assert!(
        matches!(state, KeyringState::Unavailable { .. }),
        "{state:?}"
    );
    assert!(
        state
            .to_string()
            .starts_with("unavailable — Secret Service: ")
            && state.to_string().ends_with("(will retry)"),
        "{state}"
    );
    // Within the retry interval it does not knock again, and says when it will.
    let again = store.get("probe").unwrap_err();
    assert!(
        again.message.contains("tries again every"),
        "{}",
        again.message
    );
    let f = Fixture::with_secrets(Arc::new(store.clone()));
    std::thread::sleep(RETRY);
    let refused = f
        .station
        .save_webhook(None, webhook_with_password("lims", "first-pw-Qx1"))
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::KeyringUnavailable, "{refused:?}");
    assert!(f.station.list_webhooks().unwrap().is_empty());

    // 2. The Secret Service appears: the same store and the same station work, no restart.
    let daemon = start_gnome_keyring();
    let took = set_until_it_works(&store, "probe", "v1");
    assert!(took < Duration::from_secs(2), "recovered after {took:?}");
    assert_eq!(store.get("probe").unwrap().unwrap().expose(), "v1");
    let state = KeyringStore::state();
    assert!(
        matches!(state, KeyringState::Recovered { failed_attempts, .. } if failed_attempts >= 2),
        "{state:?}"
    );
    assert!(state.to_string().starts_with("recovered (Secret Service"));
    let saved = f
        .station
        .save_webhook(None, webhook_with_password("lims", "first-pw-Qx1"))
        .unwrap();
    assert!(saved.webhook.auth_secret_set);

    // 3. The daemon goes away and comes back (a new D-Bus session with it): it recovers again.
    kill(daemon);
    let err = store.get("probe").unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyringUnavailable, "{err:?}");
    let daemon = start_gnome_keyring();
    set_until_it_works(&store, "probe", "v2");
    assert_eq!(store.get("probe").unwrap().unwrap().expose(), "v2");
    store.delete("probe").unwrap();
    assert_eq!(store.get("probe").unwrap(), None);
    kill(daemon);
    println!("CHILD-OK");
}

#[cfg(target_os = "linux")]
#[test]
fn the_keyring_recovers_once_the_secret_service_appears() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("session.conf");
    std::fs::write(&config, BUS_CONFIG).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let out = Command::new("timeout")
        .arg("120")
        .arg("dbus-run-session")
        .arg(format!("--config-file={}", config.display()))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "the_keyring_recovers_once_the_secret_service_appears",
            "--nocapture",
        ])
        .env(CHILD, "1")
        .env("XDG_DATA_HOME", &data)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
