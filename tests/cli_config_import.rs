//! `config import` is all or nothing: a table of bad files (each refused by the rules the window
//! applies, naming the webhook by position and name and the field) leaves the station exactly as
//! it was — its export before and after is byte-identical — and a good file round-trips every
//! setting, including a service's auto-lock flag and the status-watch interval. Credentials kept in
//! plain places are masked (`***`) in the export and kept on re-import. Run inside
//! `scripts/with-test-session.sh` (the CLI reads the real keyring).

use interlock_core::model::*;
use interlock_core::secrets::{MemoryStore, SecretStore};
use interlock_core::webhook::*;
use interlock_core::{Station, SystemClock};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

static FILES: AtomicUsize = AtomicUsize::new(0);

fn unique() -> usize {
    FILES.fetch_add(1, Ordering::Relaxed)
}

fn app(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interlock-station"));
    c.arg("--data-dir").arg(data_dir);
    c
}

fn open(data_dir: &Path) -> Station {
    let secrets: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let s = Station::open(
        &data_dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        secrets,
    )
    .unwrap();
    s.act_as_system();
    s
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The export of a station, as bytes.
fn export(dir: &Path) -> Vec<u8> {
    let file = dir.join(format!("export-{}.json", unique()));
    let out = app(dir)
        .args(["config", "export"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "export failed: {}", text(&out));
    std::fs::read(&file).unwrap()
}

fn import(dir: &Path, doc: &Value) -> Output {
    let file: PathBuf = dir.join(format!("import-{}.json", unique()));
    std::fs::write(&file, serde_json::to_vec_pretty(doc).unwrap()).unwrap();
    app(dir)
        .args(["config", "import"])
        .arg(&file)
        .output()
        .unwrap()
}

const PLAIN_TOKEN: &str = "plain-Tk93-in-a-header";
const URL_TOKEN: &str = "urltok-77Qa";

/// A station with a service (auto-lock on), a status-watch interval of 15 s, and two webhooks:
/// `lims` for every service (with a plain `Authorization` header and `?token=` in its URL, i.e.
/// credentials in plain places) and `relay` for the service.
fn provisioned(dir: &Path) {
    let s = open(dir);
    let svc = s
        .create_service(ServiceInput {
            name: "Confocal".into(),
            description: "Zeiss".into(),
            tags: vec!["has_interlock:10:0".into()],
        })
        .unwrap();
    s.set_service_auto_lock(&svc.id, true).unwrap();
    s.set_interlock_poll_secs(15).unwrap();
    let mut lims = WebhookInput::new(
        "lims",
        Action::new(ActionType::Event, ActionSubtype::Update),
        &format!("https://lims.example.org/hook?site=B2&token={URL_TOKEN}"),
    );
    lims.headers = vec![
        HeaderInput {
            name: "X-Site".into(),
            value: "B2".into(),
            secret: false,
            secret_value: SecretChange::Keep,
        },
        HeaderInput {
            name: "Authorization".into(),
            value: format!("Bearer {PLAIN_TOKEN}"),
            secret: false,
            secret_value: SecretChange::Keep,
        },
    ];
    lims.body = r#"{"site":"B2"}"#.into();
    let saved = s.save_webhook(None, lims).unwrap();
    assert_eq!(
        saved.credential_warnings.len(),
        2,
        "{:?}",
        saved.credential_warnings
    );
    let mut relay = WebhookInput::new(
        "relay",
        Action::new(ActionType::Interlock, ActionSubtype::Lock),
        "http://127.0.0.1:9/lock",
    );
    relay.service_id = Some(svc.id);
    s.save_webhook(None, relay).unwrap();
}

/// One bad file: how it differs from the good one, and what the refusal must say.
struct Case {
    what: &'static str,
    change: fn(&mut Value),
    says: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            what: "a 70 KiB body",
            change: |d| d["webhooks"][0]["body"] = json!({ "pad": "x".repeat(70 * 1024) }),
            says: &[r#"webhooks[0] "lims": body:"#, "64 KiB"],
        },
        Case {
            what: "a Content-Type header",
            change: |d| {
                d["webhooks"][0]["headers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "Content-Type", "value": "text/plain", "secret": false}))
            },
            says: &[
                r#"webhooks[0] "lims": header "Content-Type":"#,
                "set by the app",
            ],
        },
        Case {
            what: "the header name Bad Header",
            change: |d| d["webhooks"][0]["headers"][0]["name"] = json!("Bad Header"),
            says: &[
                r#"webhooks[0] "lims": header "Bad Header":"#,
                "not a valid HTTP header name",
            ],
        },
        Case {
            what: "basic auth with an empty username",
            change: |d| {
                d["webhooks"][1]["auth"] = json!("basic");
                d["webhooks"][1]["auth_username"] = json!("");
            },
            says: &[
                r#"webhooks[1] "relay": auth_username:"#,
                "Basic auth needs a username",
            ],
        },
        Case {
            what: "ca_pem: garbage",
            change: |d| d["webhooks"][0]["ca_pem"] = json!("garbage"),
            says: &[r#"webhooks[0] "lims": ca_pem:"#, "CA certificate"],
        },
        Case {
            what: "an empty webhook name",
            change: |d| d["webhooks"][1]["name"] = json!(""),
            says: &[r#"webhooks[1] "": name:"#],
        },
        Case {
            what: "timeout 0 on the 2nd webhook",
            change: |d| d["webhooks"][1]["timeout_secs"] = json!(0),
            says: &[r#"webhooks[1] "relay": timeout_secs:"#, "between 1 and 120"],
        },
        Case {
            what: "an unknown service_id",
            change: |d| d["webhooks"][1]["service_id"] = json!("01NOSUCHSERVICE"),
            says: &[
                r#"webhooks[1] "relay": service_id:"#,
                "no service with id '01NOSUCHSERVICE'",
            ],
        },
        Case {
            what: "jitter 2.0",
            change: |d| d["settings"]["retry_policy"]["jitter"] = json!(2.0),
            says: &["settings.retry_policy:", "Jitter must be between 0 and 0.5"],
        },
        Case {
            what: "a header marked secret with a value",
            change: |d| {
                d["webhooks"][0]["headers"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"name": "X-Api-Key", "value": "hdr-in-file-Zz1", "secret": true}))
            },
            says: &[
                r#"webhooks[0] "lims": header "X-Api-Key":"#,
                "never read from a file",
            ],
        },
        Case {
            what: "a basic-auth password in the file",
            change: |d| d["webhooks"][0]["auth_password"] = json!("pw-in-file-Qq2"),
            says: &[
                r#"webhooks[0] "lims": auth_password:"#,
                "never read from a file",
            ],
        },
        Case {
            what: "an idle timeout of 0",
            change: |d| d["settings"]["idle_timeout_minutes"] = json!(0),
            says: &["settings.idle_timeout_minutes:", "between 1 and 240"],
        },
    ]
}

#[test]
fn config_import_is_all_or_nothing() {
    let a = tempfile::tempdir().unwrap();
    provisioned(a.path());
    let good_bytes = export(a.path());
    let good: Value = serde_json::from_slice(&good_bytes).unwrap();
    let good_text = String::from_utf8(good_bytes.clone()).unwrap();

    // Every setting is in the file; credentials in plain places are masked.
    assert_eq!(good["services"][0]["auto_lock"], true, "{good_text}");
    assert_eq!(good["settings"]["interlock_poll_secs"], 15, "{good_text}");
    assert!(
        !good_text.contains(PLAIN_TOKEN) && !good_text.contains(URL_TOKEN),
        "a credential in a plain place is in the export: {good_text}"
    );
    assert_eq!(
        good["webhooks"][0]["url"],
        "https://lims.example.org/hook?site=B2&token=***"
    );
    assert_eq!(good["webhooks"][0]["headers"][1]["value"], "***");

    for case in cases() {
        let mut doc = good.clone();
        // Changes that a half-applied import would leave behind.
        doc["settings"]["idle_timeout_minutes"] = json!(42);
        doc["services"][0]["name"] = json!("Renamed");
        doc["services"][0]["auto_lock"] = json!(false);
        doc["webhooks"][0]["url"] = json!("https://other.example.org/hook");
        (case.change)(&mut doc);
        let before = export(a.path());
        let out = import(a.path(), &doc);
        let said = text(&out);
        assert_eq!(out.status.code(), Some(1), "{}: {said}", case.what);
        for s in case.says {
            assert!(said.contains(s), "{}: expected {s:?} in: {said}", case.what);
        }
        assert!(
            !said.contains("FOREIGN KEY") && !said.contains("imported"),
            "{}: {said}",
            case.what
        );
        for secret in ["hdr-in-file-Zz1", "pw-in-file-Qq2"] {
            assert!(!said.contains(secret), "{}: echoed a secret", case.what);
        }
        assert!(
            before == export(a.path()),
            "{}: the station changed although the import was refused",
            case.what
        );
    }

    // The good file on the same station: accepted, nothing changes, and the masked credentials
    // keep this station's values.
    let out = import(a.path(), &good);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("imported 1 services and 2 webhooks"));
    assert!(
        export(a.path()) == good_bytes,
        "re-importing changed the export"
    );
    let s = open(a.path());
    let lims = s
        .list_webhooks()
        .unwrap()
        .into_iter()
        .find(|w| w.name == "lims")
        .unwrap();
    assert!(
        lims.url.ends_with(&format!("token={URL_TOKEN}")),
        "{}",
        lims.url
    );
    assert_eq!(lims.headers[1].value, format!("Bearer {PLAIN_TOKEN}"));
    drop(s);

    // The good file on a fresh station: the same configuration, auto-lock and interval included;
    // the masked values are reported as still to enter.
    let b = tempfile::tempdir().unwrap();
    let out = import(b.path(), &good);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert!(said.contains("masked (***)"), "{said}");
    let b_export: Value = serde_json::from_slice(&export(b.path())).unwrap();
    assert_eq!(b_export, good);
    let s = open(b.path());
    assert!(s.list_services().unwrap()[0].auto_lock);
    assert_eq!(s.interlock_poll_secs().unwrap(), 15);
}
