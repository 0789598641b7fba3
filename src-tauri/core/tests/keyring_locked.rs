//! A locked OS keyring, for real: a child process runs in its own D-Bus session with a
//! gnome-keyring whose login collection is locked (`secret-tool lock`). Saving a webhook with a
//! password must fail with a clear message and save nothing — no webhook row, no secret.

mod common;
use common::*;
use interlock_core::secrets::{KeyringStore, SecretStore};
use interlock_core::webhook::*;
use interlock_core::ErrorCode;
use std::process::Command;
use std::sync::Arc;

const CHILD: &str = "INTERLOCK_LOCKED_KEYRING_CHILD";

#[cfg(target_os = "linux")]
#[test]
fn a_locked_keyring_gives_a_clear_error_and_saves_nothing() {
    if std::env::var_os(CHILD).is_some() {
        let store: Arc<dyn SecretStore> =
            Arc::new(KeyringStore::with_service("interlock-locked-test"));
        let f = Fixture::with_secrets(store);
        let mut input = WebhookInput::new(
            "lims",
            Action::new(ActionType::Event, ActionSubtype::Create),
            "https://lims.example.org/h",
        );
        input.auth = AuthKind::Basic;
        input.auth_username = "station".into();
        input.auth_secret = SecretChange::Set {
            value: "locked-pw-Vb77".into(),
        };
        let err = f.station.save_webhook(None, input).unwrap_err();
        assert!(
            matches!(
                err.code,
                ErrorCode::KeyringLocked | ErrorCode::KeyringUnavailable
            ),
            "{err:?}"
        );
        assert!(err.message.contains("Nothing was saved"), "{}", err.message);
        assert!(f.station.list_webhooks().unwrap().is_empty());
        let db = std::fs::read(f.db_path()).unwrap();
        assert!(!db.windows(14).any(|w| w == b"locked-pw-Vb77"));
        println!("CHILD-OK {}", err.message);
        return;
    }
    let exe = std::env::current_exe().unwrap();
    let data = tempfile::tempdir().unwrap();
    let script = format!(
        r#"set -e
export XDG_DATA_HOME="{data}"
printf 'pw' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
for i in $(seq 1 100); do
  dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets 2>/dev/null | grep -q true && break
  sleep 0.05
done
pid=$(dbus-send --session --print-reply --dest=org.freedesktop.DBus / org.freedesktop.DBus.GetConnectionUnixProcessID string:org.freedesktop.secrets | awk '/uint32/ {{print $2}}')
secret-tool lock --collection=login 2>/dev/null || true  # it locks, then crashes on exit (libsecret 0.20.5)
set +e
{CHILD}=1 timeout 60 "{exe}" --exact a_locked_keyring_gives_a_clear_error_and_saves_nothing --nocapture
rc=$?
kill "$pid"
exit $rc"#,
        data = data.path().display(),
        exe = exe.display(),
    );
    let out = Command::new("dbus-run-session")
        .args(["--", "sh", "-c", &script])
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("CHILD-OK"),
        "child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("The OS keyring is locked"),
        "the message names the locked keyring: {stdout}"
    );
}
