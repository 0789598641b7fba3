//! Calendar feeds and account e-mails from the command line, as a provisioning script uses them:
//! the real binary, a real SQLite file and a real feed server on 127.0.0.1 (`feeds sync`,
//! `feeds list`, `schedule import-ics`, `account add --email`, `account set-email`).

use interlock_core::feed::FeedInput;
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::{AuthKind, SecretChange};
use interlock_core::{Role, Station, SystemClock};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

fn app(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interlock-station"));
    c.arg("--data-dir").arg(data_dir);
    c
}

fn run(data_dir: &Path, args: &[&str]) -> Output {
    app(data_dir).args(args).output().unwrap()
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Serves `(status, body)` as it is when each request arrives.
fn start_feed_server(reply: Arc<Mutex<(u16, String)>>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/calendar.ics", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let reply = reply.clone();
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut chunk) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                }
                let (status, body) = reply.lock().unwrap().clone();
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: text/calendar\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            });
        }
    });
    url
}

fn calendar(events: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
}

/// A booking for uma@example.org tomorrow, and `extra` more VEVENT text.
fn booking(uid: &str, attendee: &str) -> String {
    let start = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let end = start + jiff::SignedDuration::from_hours(1);
    let f = |t: jiff::Timestamp| t.strftime("%Y%m%dT%H%M%SZ").to_string();
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261101T000000Z\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Imaging\r\nATTENDEE;CN=Someone:mailto:{attendee}\r\nEND:VEVENT\r\n",
        f(start),
        f(end)
    )
}

/// A station with the service "Confocal" and the instrument user uma (uma@example.org).
fn station(dir: &Path) -> (Station, Service) {
    let s = Station::open(
        &dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    s.create_account(NewAccount {
        username: "uma".into(),
        display_name: "Uma User".into(),
        role: Role::InstrumentUser,
        email: Some("uma@example.org".into()),
        password: "password-123".into(),
    })
    .unwrap();
    let svc = s
        .create_service(ServiceInput {
            name: "Confocal".into(),
            description: String::new(),
            tags: vec!["has_interlock".into()],
        })
        .unwrap();
    (s, svc)
}

#[test]
fn feeds_sync_once_list_and_say_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let reply = Arc::new(Mutex::new((
        200,
        calendar(&format!(
            "{}{}",
            booking("a@cal", "uma@example.org"),
            booking("b@cal", "vera@elsewhere.org")
        )),
    )));
    let url = start_feed_server(reply.clone());
    {
        let (s, svc) = station(dir.path());
        s.save_feed(
            None,
            FeedInput {
                service_id: svc.id,
                name: "Facility calendar".into(),
                url,
                auth: AuthKind::None,
                auth_username: String::new(),
                auth_secret: SecretChange::Keep,
                insecure: false,
                ca_pem: None,
                refresh_minutes: 5,
                enabled: true,
                fire_webhooks: false,
                user_pattern: String::new(),
            },
        )
        .unwrap();
    }
    let out = run(dir.path(), &["feeds", "sync"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(
            "Facility calendar: created 2, updated 0, removed 0, unchanged 0, unmatched 1"
        ),
        "{stdout}"
    );
    let out = run(dir.path(), &["feeds", "list"]);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Facility calendar"), "{stdout}");
    assert!(stdout.contains("2 bookings  synced"), "{stdout}");

    reply.lock().unwrap().0 = 500;
    let out = run(dir.path(), &["feeds", "sync"]);
    let (stdout, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("HTTP 500"), "{stderr}");
    let out = run(dir.path(), &["feeds", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["status"]["failing"], true);
    assert_eq!(
        list[0]["status"]["bookings"], 2,
        "the last good bookings stay"
    );
}

#[test]
fn an_ics_file_is_imported_all_or_nothing_and_again_without_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    drop(station(dir.path()));
    let good = dir.path().join("good.ics");
    std::fs::write(&good, calendar(&booking("a@cal", "uma@example.org"))).unwrap();
    let g = good.to_str().unwrap();
    let out = run(
        dir.path(),
        &["schedule", "import-ics", g, "--service", "Confocal"],
    );
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Confocal: created 1, updated 0, unchanged 0"),
        "{stdout}"
    );
    let out = run(
        dir.path(),
        &["schedule", "import-ics", g, "--service", "confocal"],
    );
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("created 0, updated 0, unchanged 1"),
        "{stdout}"
    );

    let bad = dir.path().join("bad.ics");
    std::fs::write(
        &bad,
        calendar(&format!(
            "{}{}",
            booking("c@cal", "uma@example.org"),
            booking("d@cal", "vera@elsewhere.org")
        )),
    )
    .unwrap();
    let out = run(
        dir.path(),
        &[
            "schedule",
            "import-ics",
            bad.to_str().unwrap(),
            "--service",
            "Confocal",
        ],
    );
    let (_, stderr) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("Nothing was imported"), "{stderr}");
    let out = run(
        dir.path(),
        &["schedule", "import-ics", g, "--service", "Nope"],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).1.contains("no service named 'Nope'"));
}

#[test]
fn accounts_get_their_email_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let add = |args: &[&str]| {
        let mut c = app(dir.path())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        c.stdin
            .take()
            .unwrap()
            .write_all(b"a-long-password\n")
            .unwrap();
        c.wait_with_output().unwrap()
    };
    let out = add(&[
        "account",
        "add",
        "root",
        "--name",
        "Rita Root",
        "--role",
        "admin",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let out = add(&[
        "account",
        "add",
        "uma",
        "--name",
        "Uma User",
        "--role",
        "user",
        "--email",
        "Uma@Example.org",
    ]);
    assert!(out.status.success(), "{:?}", text(&out));
    let (stdout, _) = text(&run(dir.path(), &["account", "list"]));
    assert!(stdout.contains("uma@example.org"), "{stdout}");
    let out = add(&[
        "account",
        "add",
        "uma2",
        "--name",
        "Uma Two",
        "--role",
        "user",
        "--email",
        "UMA@example.org",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).1.contains("already has the e-mail"),
        "{:?}",
        text(&out)
    );
    let out = run(
        dir.path(),
        &["account", "set-email", "uma", "not an address"],
    );
    assert_eq!(out.status.code(), Some(1));
    let out = run(dir.path(), &["account", "set-email", "uma", ""]);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("e-mail of uma cleared"), "{stdout}{stderr}");
}
