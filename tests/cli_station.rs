//! The administrator's command line against real processes, files and receivers: a schedule file
//! fires webhooks exactly as the UI does, `deliver` survives `kill -9` (at-least-once), and the
//! configuration export carries no secret while its import names the missing ones.

use interlock_core::model::*;
use interlock_core::secrets::{KeyringStore, MemoryStore, SecretStore};
use interlock_core::webhook::*;
use interlock_core::{Role, Station, SystemClock};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn app(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interlock-station"));
    c.arg("--data-dir").arg(data_dir);
    c
}

fn open(data_dir: &Path, secrets: Arc<dyn SecretStore>) -> Station {
    let s = Station::open(
        &data_dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        secrets,
    )
    .unwrap();
    s.act_as_system();
    s
}

fn hook(name: &str, action: Action, url: &str) -> WebhookInput {
    WebhookInput {
        timeout_secs: 2,
        ..WebhookInput::new(name, action, url)
    }
}

fn stdout(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A receiver that records every request body; while `hold` is set it never answers.
struct Receiver {
    url: String,
    bodies: Arc<Mutex<Vec<Value>>>,
    hold: Arc<AtomicBool>,
    seen: Arc<AtomicUsize>,
}

fn start_receiver() -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let hold = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicUsize::new(0));
    let (b, h, n) = (bodies.clone(), hold.clone(), seen.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (b, h, n) = (b.clone(), h.clone(), n.clone());
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                let body = loop {
                    let Ok(k) = stream.read(&mut chunk) else {
                        return;
                    };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    let text = String::from_utf8_lossy(&buf).to_string();
                    if let Some(end) = text.find("\r\n\r\n") {
                        let len = text[..end]
                            .lines()
                            .find_map(|l| {
                                l.to_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + len {
                            break buf[end + 4..end + 4 + len].to_vec();
                        }
                    }
                };
                n.fetch_add(1, Ordering::SeqCst);
                if h.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_secs(30));
                    return;
                }
                b.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap_or(Value::Null));
                let _ = stream.write_all(
                    b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                );
            });
        }
    });
    Receiver {
        url,
        bodies,
        hold,
        seen,
    }
}

#[test]
fn a_schedule_file_fires_webhooks_and_deliver_sends_them() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start_receiver();
    {
        let s = open(dir.path(), Arc::new(MemoryStore::default()));
        s.create_account(NewAccount {
            email: None,
            username: "uma".into(),
            display_name: "Uma".into(),
            role: Role::InstrumentUser,
            password: "password-1".into(),
        })
        .unwrap();
        s.save_webhook(
            None,
            hook(
                "events",
                Action::new(ActionType::Event, ActionSubtype::Create),
                &rx.url,
            ),
        )
        .unwrap();
        s.save_webhook(
            None,
            hook(
                "orders",
                Action::new(ActionType::Order, ActionSubtype::Create),
                &rx.url,
            ),
        )
        .unwrap();
    }
    let file = dir.path().join("schedule.json");
    std::fs::write(
        &file,
        json!({
            "format": "interlock-station-schedule", "version": 1,
            "services": [{"name": "Confocal", "tags": ["has_interlock"]}],
            "orders": [{"reference": "ORD-9", "customer": "Smith lab", "lines": [
                {"service": "Confocal", "description": "2 h"}, {"service": "Confocal", "description": "1 h"}]}],
            "events": [{"service": "Confocal", "user": "uma", "title": "Imaging",
                        "starts_at": "2026-12-01T09:00:00Z", "ends_at": "2026-12-01T11:00:00Z",
                        "order": "ORD-9", "line": 0}]
        })
        .to_string(),
    )
    .unwrap();
    let out = stdout(
        &app(dir.path())
            .args(["schedule", "import"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert!(out.starts_with("created 3, updated 0, deleted 0"), "{out}");
    let event_id = out
        .lines()
        .find_map(|l| l.strip_prefix("event "))
        .unwrap()
        .to_string();
    let out = stdout(&app(dir.path()).arg("deliver").output().unwrap());
    assert_eq!(
        out.trim(),
        "sent 3: 3 delivered, 0 to retry later, 0 failed"
    );
    let bodies = rx.bodies.lock().unwrap().clone();
    assert_eq!(bodies.len(), 3, "two order lines and one event");
    let event = bodies.iter().find(|b| b.get("event_id").is_some()).unwrap();
    assert_eq!(event["event_id"], json!(event_id));
    assert!(event["order_id"].is_string());
    assert_eq!(
        bodies.iter().filter(|b| b.get("line_id").is_some()).count(),
        2
    );
    let log = stdout(
        &app(dir.path())
            .args(["deliveries", "--json"])
            .output()
            .unwrap(),
    );
    let log: Vec<Value> = serde_json::from_str(&log).unwrap();
    assert_eq!(log.len(), 3);
    assert!(log
        .iter()
        .all(|a| a["outcome"] == "delivered" && a["status"] == 200));
    // Nothing is due any more.
    assert_eq!(
        stdout(&app(dir.path()).arg("deliver").output().unwrap()).trim(),
        "sent 0: 0 delivered, 0 to retry later, 0 failed"
    );
}

#[cfg(unix)]
#[test]
fn deliveries_survive_kill_9_of_the_delivering_process() {
    let dir = tempfile::tempdir().unwrap();
    let rx = start_receiver();
    rx.hold.store(true, Ordering::SeqCst);
    let mut expected = BTreeSet::new();
    {
        let s = open(dir.path(), Arc::new(MemoryStore::default()));
        let user = s
            .create_account(NewAccount {
                email: None,
                username: "uma".into(),
                display_name: "Uma".into(),
                role: Role::InstrumentUser,
                password: "password-1".into(),
            })
            .unwrap();
        let svc = s
            .create_service(ServiceInput {
                name: "Confocal".into(),
                description: String::new(),
                tags: vec![],
            })
            .unwrap();
        s.save_webhook(
            None,
            hook(
                "events",
                Action::new(ActionType::Event, ActionSubtype::Create),
                &rx.url,
            ),
        )
        .unwrap();
        for i in 0..5 {
            let start: jiff::Timestamp = format!("2026-12-0{}T09:00:00Z", i + 1).parse().unwrap();
            let e = s
                .create_event(EventInput {
                    service_id: svc.id.clone(),
                    user_id: user.id.clone(),
                    title: format!("e{i}"),
                    starts_at: start,
                    ends_at: start + jiff::SignedDuration::from_hours(1),
                    order_id: None,
                    line_id: None,
                })
                .unwrap();
            expected.insert(e.id);
        }
    }
    // The worker sends into a receiver that never answers; kill it mid-flight.
    let mut child = app(dir.path())
        .arg("deliver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while rx.seen.load(Ordering::SeqCst) < 5 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(rx.seen.load(Ordering::SeqCst), 5, "all five were in flight");
    let kill = Command::new("kill")
        .arg("-9")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(kill.success());
    child.wait().unwrap();
    assert!(
        rx.bodies.lock().unwrap().is_empty(),
        "nothing was answered before the crash"
    );

    // Restart: once the in-flight lease (timeout + 5 s) has passed, every delivery arrives.
    rx.hold.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let out = stdout(&app(dir.path()).arg("deliver").output().unwrap());
        let got: BTreeSet<String> = rx
            .bodies
            .lock()
            .unwrap()
            .iter()
            .map(|b| b["event_id"].as_str().unwrap().to_string())
            .collect();
        if got == expected {
            assert!(out.contains("5 delivered"), "{out}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not all deliveries arrived after the restart: {got:?}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn config_export_has_no_secrets_and_import_names_the_missing_ones() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let password = "pw-export-Lq09";
    let secrets: Arc<dyn SecretStore> = Arc::new(KeyringStore::new());
    let webhook_id;
    {
        let s = open(a.path(), secrets.clone());
        s.create_service(ServiceInput {
            name: "Confocal".into(),
            description: "Zeiss".into(),
            tags: vec!["has_interlock:10:0".into()],
        })
        .unwrap();
        let mut h = hook(
            "lims",
            Action::new(ActionType::Event, ActionSubtype::Update),
            "https://lims.example.org/hook",
        );
        h.auth = AuthKind::Basic;
        h.auth_username = "station".into();
        h.auth_secret = SecretChange::Set {
            value: password.into(),
        };
        h.headers = vec![
            HeaderInput {
                name: "X-Site".into(),
                value: "B2".into(),
                secret: false,
                secret_value: SecretChange::Keep,
            },
            HeaderInput {
                name: "X-Api-Key".into(),
                value: String::new(),
                secret: true,
                secret_value: SecretChange::Set {
                    value: "hdr-export-Wq12".into(),
                },
            },
        ];
        h.body = r#"{"site":"B2"}"#.into();
        webhook_id = s.save_webhook(None, h).unwrap().webhook.id;
    }
    let file = a.path().join("config.json");
    let out = stdout(
        &app(a.path())
            .args(["config", "export"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert!(
        out.starts_with("exported 1 services and 1 webhooks"),
        "{out}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains(password) && !text.contains("hdr-export-Wq12"),
        "a secret leaked into the export"
    );
    let doc: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(doc["format"], "interlock-station-config");
    assert_eq!(doc["webhooks"][0]["action"], "event/update");
    assert_eq!(
        doc["webhooks"][0]["headers"],
        json!([{"name": "X-Site", "value": "B2", "secret": false}, {"name": "X-Api-Key", "secret": true}])
    );

    // Remove the secrets from the keyring, as on a fresh station.
    for key in [
        interlock_core::station::webhooks::auth_key(&webhook_id),
        interlock_core::station::webhooks::header_key(&webhook_id, "X-Api-Key"),
    ] {
        secrets.delete(&key).unwrap();
    }
    let out = stdout(
        &app(b.path())
            .args(["config", "import"])
            .arg(&file)
            .output()
            .unwrap(),
    );
    assert!(out.contains("imported 1 services and 1 webhooks"), "{out}");
    assert!(out.contains("lims: basic-auth password"), "{out}");
    assert!(
        out.contains("lims: value of secret header X-Api-Key"),
        "{out}"
    );
    let s = open(b.path(), secrets.clone());
    let hooks = s.list_webhooks().unwrap();
    assert_eq!(hooks[0].url, "https://lims.example.org/hook");
    assert!(!hooks[0].auth_secret_set);
    assert_eq!(s.list_services().unwrap()[0].tags, ["has_interlock:10:0"]);
}

/// No session bus at all (the app started before the desktop session): the keyring line says it
/// is unavailable and will be retried, rather than only "FAILED".
#[cfg(target_os = "linux")]
#[test]
fn doctor_says_when_the_keyring_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let out = app(dir.path())
        .arg("doctor")
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            "unix:path=/nonexistent/interlock-test-bus",
        )
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let line = text.lines().find(|l| l.starts_with("keyring: ")).unwrap();
    assert!(
        line.starts_with("keyring: unavailable — Secret Service: ")
            && line.ends_with("(will retry); the app keeps retrying and recovers once it appears"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A private D-Bus session bus with nothing on it and no service files, so nothing can be
/// started on demand: a notification server on the desktop the tests run on is not on it.
struct EmptyBus {
    daemon: std::process::Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl EmptyBus {
    fn start() -> EmptyBus {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
                dir.path().display()
            ),
        )
        .unwrap();
        let mut daemon = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon");
        let mut address = String::new();
        std::io::BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        EmptyBus {
            daemon,
            address: address.trim().to_string(),
            _dir: dir,
        }
    }
}

impl Drop for EmptyBus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

#[test]
fn doctor_checks_each_part_on_one_line() {
    let dir = tempfile::tempdir().unwrap();
    // On a bus of its own without a notification server, whatever the desktop has.
    let bus = EmptyBus::start();
    let out = app(dir.path())
        .arg("doctor")
        .env("DBUS_SESSION_BUS_ADDRESS", &bus.address)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("database: ok ("), "{text}");
    assert!(lines[1].starts_with("keyring: "), "{text}");
    assert!(
        lines[2].starts_with("notifications: FAILED no notification server"),
        "{text}"
    );
    assert_eq!(out.status.code(), Some(1), "a failed part fails the check");
    drop(bus);

    // On the test session's bus: its unlocked gnome-keyring.
    let out = app(dir.path()).arg("doctor").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.lines().nth(1),
        Some("keyring: ok (Secret Service; stored, read back and removed a probe entry)"),
        "{text}"
    );

    std::fs::write(
        dir.path().join("station.sqlite3"),
        b"not a database at all, really not",
    )
    .unwrap();
    let out = app(dir.path()).arg("doctor").output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("database: FAILED (DATABASE_CORRUPT)"),
        "{text}"
    );
}

/// Runs `account ARGS` with `stdin` piped in (as a script would).
fn account_cmd(data_dir: &Path, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = app(data_dir)
        .arg("account")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A station provisioned by script: accounts are added, listed, deactivated and given new
/// passwords from the command line, under the same rules as the Accounts screen; the password
/// comes from standard input and the core signs in with it.
#[test]
fn accounts_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = account_cmd(
        d,
        &["add", "root", "--name", "Rita Root", "--role", "admin"],
        "root-password\n",
    );
    assert_eq!(
        stdout(&out).trim(),
        "created root (Rita Root, administrator)"
    );
    let out = account_cmd(
        d,
        &["add", "uma", "--name", "Uma User", "--role", "user"],
        "uma-password-1\r\n",
    );
    stdout(&out);

    // The same rules as the window: password length, username characters, duplicates.
    for (args, input, says) in [
        (
            ["add", "vic", "--name", "Vic", "--role", "user"],
            "short\n",
            "at least 8 characters",
        ),
        (
            ["add", "v ic", "--name", "Vic", "--role", "user"],
            "long-enough-1\n",
            "contains ' '",
        ),
        (
            ["add", "uma", "--name", "Uma 2", "--role", "staff"],
            "long-enough-1\n",
            "",
        ),
        (
            ["add", "vic", "--name", "Vic", "--role", "staff"],
            "",
            "no password on standard input",
        ),
    ] {
        let out = account_cmd(d, &args, input);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("interlock-station: ") && stderr(&out).contains(says),
            "{args:?}: {}",
            stderr(&out)
        );
    }
    // An unknown role is a usage error.
    let out = account_cmd(d, &["add", "vic", "--name", "V", "--role", "boss"], "x\n");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("use user, staff or admin"));

    // A password on the command line is impossible: there is no such option.
    for args in [
        &[
            "add",
            "eve",
            "--name",
            "Eve",
            "--role",
            "admin",
            "--password",
            "eve-password",
        ][..],
        &[
            "add",
            "eve",
            "eve-password",
            "--name",
            "Eve",
            "--role",
            "admin",
        ][..],
        &["reset-password", "uma", "--password", "new-password-9"][..],
        &["reset-password", "uma", "new-password-9"][..],
    ] {
        let out = account_cmd(d, args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("unexpected argument"),
            "{}",
            stderr(&out)
        );
    }

    let list = stdout(&account_cmd(d, &["list"], ""));
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert!(lines.iter().any(|l| l.starts_with("root ")
        && l.contains("administrator")
        && l.contains("active")
        && l.ends_with("Rita Root")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("uma ") && l.contains("instrument user")));
    let json: Value =
        serde_json::from_str(&stdout(&account_cmd(d, &["list", "--json"], ""))).unwrap();
    let names: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["username"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 2);
    assert!(names.contains(&"root") && names.contains(&"uma"));
    assert!(!list.contains("password") && !json.to_string().contains("hash"));

    // The core signs in with the passwords given on standard input.
    let s = open(d, Arc::new(MemoryStore::default()));
    assert_eq!(
        s.sign_in("uma", "uma-password-1").unwrap().account.role,
        Role::InstrumentUser
    );
    assert_eq!(
        s.sign_in("root", "root-password").unwrap().account.role,
        Role::Administrator
    );

    // The last active administrator cannot be deactivated, from here either.
    let out = account_cmd(d, &["deactivate", "root"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("last active administrator"),
        "{}",
        stderr(&out)
    );
    assert!(s.sign_in("root", "root-password").is_ok());
    let out = account_cmd(d, &["deactivate", "nobody"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no account with the username 'nobody'"));

    // A new password replaces the old one.
    stdout(&account_cmd(
        d,
        &["reset-password", "uma"],
        "uma-password-2\n",
    ));
    assert_eq!(
        s.sign_in("uma", "uma-password-1").unwrap_err().code,
        interlock_core::ErrorCode::SignInFailed
    );
    assert!(s.sign_in("uma", "uma-password-2").is_ok());

    // Deactivated: listed as inactive, and sign-in is refused.
    assert_eq!(
        stdout(&account_cmd(d, &["deactivate", "uma"], "")).trim(),
        "deactivated uma"
    );
    assert!(stdout(&account_cmd(d, &["list"], ""))
        .lines()
        .any(|l| l.starts_with("uma ") && l.contains("inactive")));
    assert_eq!(
        s.sign_in("uma", "uma-password-2").unwrap_err().code,
        interlock_core::ErrorCode::AccountInactive
    );
}

/// `prune` removes history older than the retention setting, and `--keep-days` changes the
/// setting (validated as in the app) before it prunes.
#[test]
fn prune_removes_old_history_by_the_retention_setting() {
    use interlock_core::delivery::Deliverer;
    use interlock_core::interlock::{InterlockAction, InterlockController};
    use interlock_core::ManualClock;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Audit entries written 500 and 100 days ago (a station's clock can be set in the core).
    let day = jiff::SignedDuration::from_hours(24);
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::now() - day * 500));
    let s = Arc::new(
        Station::open(
            &d.join("station.sqlite3"),
            clock.clone(),
            Arc::new(MemoryStore::default()),
        )
        .unwrap(),
    );
    s.act_as_system();
    let svc = s
        .create_service(ServiceInput {
            name: "Confocal".into(),
            description: String::new(),
            tags: vec!["has_interlock".into()],
        })
        .unwrap();
    s.save_webhook(
        None,
        WebhookInput {
            service_id: Some(svc.id.clone()),
            verb: Verb::Get,
            ..hook(
                "status",
                Action::new(ActionType::Interlock, ActionSubtype::Status),
                "http://127.0.0.1:9/status",
            )
        },
    )
    .unwrap();
    let ctl = InterlockController::new(s.clone(), Arc::new(Deliverer::new().unwrap()));
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(ctl.command(&svc.id, None, InterlockAction::Status, None))
        .unwrap();
    clock.set(jiff::Timestamp::now() - day * 100);
    rt.block_on(ctl.command(&svc.id, None, InterlockAction::Status, None))
        .unwrap();
    assert_eq!(s.interlock_audit(100).unwrap().len(), 2);

    let out = stdout(&app(d).arg("prune").output().unwrap());
    assert!(
        out.starts_with("keeping 400 days (since ")
            && out.contains("0 settled deliveries, 0 delivery attempts, 1 audit entries"),
        "{out}"
    );
    assert_eq!(s.interlock_audit(100).unwrap().len(), 1);

    let out = app(d).args(["prune", "--keep-days", "7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("between 30 and 3650 days"),
        "{out:?}"
    );
    assert_eq!(s.interlock_audit(100).unwrap().len(), 1);

    let out = stdout(
        &app(d)
            .args(["prune", "--keep-days", "30"])
            .output()
            .unwrap(),
    );
    assert!(
        out.starts_with("keeping 30 days") && out.contains("1 audit entries"),
        "{out}"
    );
    assert!(s.interlock_audit(100).unwrap().is_empty());
    assert_eq!(s.retention_days().unwrap(), 30);

    // The change is in the station's log file, with the old and the new value.
    let logs: String = std::fs::read_dir(d.join("logs"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let line = logs
        .lines()
        .find(|l| l.contains("setting changed"))
        .unwrap_or_else(|| panic!("no settings line in the log:\n{logs}"));
    assert!(
        line.contains("setting=\"history_retention_days\"")
            && line.contains("from=\"(default)\"")
            && line.contains("to=\"30\""),
        "{line}"
    );
}
