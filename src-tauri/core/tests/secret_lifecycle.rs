//! A secret's whole life in the real OS keyring (gnome-keyring on the test's private D-Bus
//! session; run inside `scripts/with-test-session.sh`): entry names exactly as documented (the
//! header name lower-cased), rotation, deleting a service deletes its webhooks' entries and no
//! other, and no secret ever reaches the log output, the SQLite file or its WAL. Delete, rotate and
//! service deletion are keyring-first with undo: a keyring that refuses half-way leaves everything
//! as it was. Credentials in plain places get a warning and are masked wherever they are shown.

mod common;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::secrets::{KeyringStore, MemoryStore, SecretStore};
use interlock_core::sensitive::Sensitive;
use interlock_core::station::webhooks::{auth_key, header_key, signing_key};
use interlock_core::webhook::*;
use interlock_core::{outbox, CoreError, CoreResult, ErrorCode, Role};
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use wiremock::matchers::{any, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "pw-Lc40-basic-secret";
const TOKEN: &str = "tok-Rr63-bearer-secret";
const HEADER_SECRET: &str = "hdr-Mv18-header-secret";
const OTHER_HEADER_SECRET: &str = "hdr-Pe22-other-secret";
const GLOBAL_TOKEN: &str = "tok-Gg90-global-secret";

// ---- every tracing event and span of the process, to a file -----------------------------------

/// A subscriber that writes every event and span field, at every level, to one file: what a log
/// file at the most verbose setting would hold.
struct FileLog {
    file: Mutex<std::fs::File>,
    next: AtomicU64,
}

struct Line<'a>(&'a mut String);

impl tracing::field::Visit for Line<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        use std::fmt::Write;
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        use std::fmt::Write;
        let _ = write!(self.0, " {}={}", field.name(), value);
    }
}

impl FileLog {
    fn write(&self, line: String) {
        let _ = writeln!(self.file.lock().unwrap(), "{line}");
    }
}

impl tracing::Subscriber for FileLog {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, attrs: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut line = format!("span {}", attrs.metadata().name());
        attrs.record(&mut Line(&mut line));
        self.write(line);
        tracing::span::Id::from_u64(self.next.fetch_add(1, Ordering::Relaxed))
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        let mut line = String::from("record");
        values.record(&mut Line(&mut line));
        self.write(line);
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let m = event.metadata();
        let mut line = format!("{} {}:", m.level(), m.target());
        event.record(&mut Line(&mut line));
        self.write(line);
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn log_to(file: &std::path::Path) {
    let log = FileLog {
        file: Mutex::new(std::fs::File::create(file).unwrap()),
        next: AtomicU64::new(1),
    };
    tracing::subscriber::set_global_default(log).expect("one subscriber per test binary");
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

fn secret_header(name: &str, value: &str) -> HeaderInput {
    HeaderInput {
        name: name.into(),
        value: String::new(),
        secret: true,
        secret_value: SecretChange::Set {
            value: value.into(),
        },
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_s_whole_life_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("interlock-station.log");
    log_to(&log_file);

    let service = format!("interlock-test-{}", ulid::Ulid::new());
    let keyring: Arc<dyn SecretStore> = Arc::new(KeyringStore::with_service(&service));
    let direct = KeyringStore::with_service(&service);
    let f = Fixture::with_secrets(keyring.clone());
    let server = MockServer::start().await;
    Mock::given(path("/fail"))
        .respond_with(ResponseTemplate::new(500).set_body_string("receiver broke"))
        .mount(&server)
        .await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    let create = Action::new(ActionType::Event, ActionSubtype::Create);

    // Two webhooks of the service (one fails, so errors are logged too) and one for every service.
    let mut basic = WebhookInput::new("basic", create, &server.uri());
    basic.service_id = Some(svc.id.clone());
    basic.auth = AuthKind::Basic;
    basic.auth_username = "station".into();
    basic.auth_secret = SecretChange::Set {
        value: PASSWORD.into(),
    };
    basic.headers = vec![secret_header("X-Api-Key", HEADER_SECRET)];
    basic.signing = true;
    let basic = f.station.save_webhook(None, basic).unwrap();
    let first_signing = basic.new_signing_secret.clone().unwrap();
    let basic = basic.webhook;

    let mut bearer = WebhookInput::new("bearer", create, &format!("{}/fail", server.uri()));
    bearer.service_id = Some(svc.id.clone());
    bearer.auth = AuthKind::Bearer;
    bearer.auth_secret = SecretChange::Set {
        value: TOKEN.into(),
    };
    bearer.headers = vec![secret_header("X-Other-Token", OTHER_HEADER_SECRET)];
    let bearer = f.station.save_webhook(None, bearer).unwrap().webhook;

    let mut global = WebhookInput::new("global", create, &server.uri());
    global.auth = AuthKind::Bearer;
    global.auth_secret = SecretChange::Set {
        value: GLOBAL_TOKEN.into(),
    };
    let global = f.station.save_webhook(None, global).unwrap().webhook;

    // Entry names exactly as documented: the header's name lower-cased, whatever case it was
    // configured in; stored and looked up under the same name.
    assert_eq!(
        header_key(&basic.id, "X-Api-Key"),
        format!("webhook/{}/header/x-api-key", basic.id)
    );
    assert_eq!(auth_key(&basic.id), format!("webhook/{}/auth", basic.id));
    assert_eq!(
        signing_key(&basic.id),
        format!("webhook/{}/signing", basic.id)
    );
    assert_eq!(
        direct
            .get(&format!("webhook/{}/header/x-api-key", basic.id))
            .unwrap()
            .unwrap()
            .expose(),
        HEADER_SECRET
    );
    assert!(direct
        .get(&format!("webhook/{}/header/X-Api-Key", basic.id))
        .unwrap()
        .is_none());

    // Rotation replaces the keyring entry.
    let rotated = f.station.rotate_signing_secret(&basic.id).unwrap();
    assert_ne!(rotated, first_signing);
    assert_eq!(
        direct
            .get(&signing_key(&basic.id))
            .unwrap()
            .unwrap()
            .expose(),
        &rotated
    );

    // Used on the wire, under the configured header names.
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = Arc::new(Deliverer::new().unwrap());
    let report = outbox::deliver_due(&f.station, &d).await.unwrap();
    assert_eq!(report.delivered, 2, "{report:?}");
    let reqs = server.received_requests().await.unwrap();
    assert!(reqs.iter().any(|r| r
        .headers
        .get("x-api-key")
        .is_some_and(|v| v == HEADER_SECRET)));
    assert!(reqs.iter().any(|r| r
        .headers
        .get("x-other-token")
        .is_some_and(|v| v == OTHER_HEADER_SECRET)));

    // Deleting the service (after its booking) deletes its webhooks and their keyring entries.
    let event = f.station.list_events().unwrap().remove(0);
    f.station.delete_event(&event.id).unwrap();
    f.station.delete_service(&svc.id).unwrap();
    let left: Vec<_> = f.station.list_webhooks().unwrap();
    assert_eq!(left.len(), 1, "only the webhook for every service is left");
    for w in [&basic, &bearer] {
        for key in [
            auth_key(&w.id),
            signing_key(&w.id),
            format!("webhook/{}/header/x-api-key", w.id),
            format!("webhook/{}/header/X-Api-Key", w.id),
            format!("webhook/{}/header/x-other-token", w.id),
            format!("webhook/{}/header/X-Other-Token", w.id),
        ] {
            assert!(
                direct.get(&key).unwrap().is_none(),
                "{key} left in the keyring after deleting the service"
            );
        }
    }
    assert_eq!(
        direct.get(&auth_key(&global.id)).unwrap().unwrap().expose(),
        GLOBAL_TOKEN,
        "another service's secrets are kept"
    );
    f.station.delete_webhook(&global.id).unwrap();
    assert!(direct.get(&auth_key(&global.id)).unwrap().is_none());

    // No secret in the log output, the SQLite file or its WAL.
    let log = std::fs::read(&log_file).unwrap();
    assert!(
        contains(&log, "webhook saved"),
        "the log file caught the station's own lines"
    );
    let db = std::fs::read(f.db_path()).unwrap();
    let wal = std::fs::read(f.db_path().with_extension("sqlite3-wal")).unwrap_or_default();
    for secret in [
        PASSWORD,
        TOKEN,
        HEADER_SECRET,
        OTHER_HEADER_SECRET,
        GLOBAL_TOKEN,
        first_signing.as_str(),
        rotated.as_str(),
    ] {
        assert!(!contains(&log, secret), "{secret} in the log file");
        assert!(
            !contains(&db, secret) && !contains(&wal, secret),
            "{secret} in SQLite"
        );
    }
}

/// A keyring that refuses the n-th change (set or delete), as a keyring locked meanwhile would.
struct RefusingStore {
    inner: MemoryStore,
    fail_at: AtomicUsize,
    changes: AtomicUsize,
}

impl RefusingStore {
    fn new() -> Arc<RefusingStore> {
        Arc::new(RefusingStore {
            inner: MemoryStore::default(),
            fail_at: AtomicUsize::new(usize::MAX),
            changes: AtomicUsize::new(0),
        })
    }
    /// Refuses the n-th change from now on (1 = the next one).
    fn refuse_change(&self, n: usize) {
        self.changes.store(0, Ordering::SeqCst);
        self.fail_at.store(n, Ordering::SeqCst);
    }
    fn change(&self) -> CoreResult<()> {
        let n = self.changes.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.fail_at.load(Ordering::SeqCst) {
            return Err(CoreError::new(
                ErrorCode::KeyringLocked,
                "The OS keyring is locked or refused access (Prompt); unlock it and try again. Nothing was saved.",
            ));
        }
        Ok(())
    }
}

impl SecretStore for RefusingStore {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        self.change()?;
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> CoreResult<()> {
        self.change()?;
        self.inner.delete(key)
    }
}

#[test]
fn delete_rotate_and_service_deletion_undo_a_refused_keyring() {
    let store = RefusingStore::new();
    let f = Fixture::with_secrets(store.clone());
    let svc = f.service("Microscope", &[]);
    let mut input = WebhookInput::new(
        "basic",
        Action::new(ActionType::Event, ActionSubtype::Create),
        "http://127.0.0.1:9/x",
    );
    input.service_id = Some(svc.id.clone());
    input.auth = AuthKind::Basic;
    input.auth_username = "station".into();
    input.auth_secret = SecretChange::Set {
        value: PASSWORD.into(),
    };
    input.headers = vec![secret_header("X-Api-Key", HEADER_SECRET)];
    input.signing = true;
    let saved = f.station.save_webhook(None, input).unwrap();
    let id = saved.webhook.id.clone();
    let signing = saved.new_signing_secret.unwrap();
    let value = |key: String| store.inner.get(&key).unwrap().map(|v| v.expose().clone());
    let all_there = || {
        assert_eq!(value(auth_key(&id)).as_deref(), Some(PASSWORD));
        assert_eq!(
            value(header_key(&id, "X-Api-Key")).as_deref(),
            Some(HEADER_SECRET)
        );
        assert_eq!(value(signing_key(&id)).as_deref(), Some(signing.as_str()));
        assert_eq!(f.station.list_webhooks().unwrap().len(), 1);
    };
    all_there();

    // Delete: the second entry is refused; the first is put back and the row stays.
    store.refuse_change(2);
    let err = f.station.delete_webhook(&id).unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyringLocked);
    all_there();

    // Rotate: the keyring refuses; the old secret stays.
    store.refuse_change(1);
    assert_eq!(
        f.station.rotate_signing_secret(&id).unwrap_err().code,
        ErrorCode::KeyringLocked
    );
    all_there();

    // Deleting the service: the third entry is refused; everything is put back, the service and
    // its webhook stay.
    store.refuse_change(3);
    assert_eq!(
        f.station.delete_service(&svc.id).unwrap_err().code,
        ErrorCode::KeyringLocked
    );
    all_there();
    assert_eq!(f.station.list_services().unwrap().len(), 1);

    // A service that cannot be deleted (it has a booking) keeps its webhooks' secrets.
    store.refuse_change(usize::MAX);
    let user = f.account("uma", Role::InstrumentUser);
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    assert_eq!(
        f.station.delete_service(&svc.id).unwrap_err().code,
        ErrorCode::Conflict
    );
    all_there();

    // Once the keyring answers: all gone.
    let event = f.station.list_events().unwrap().remove(0);
    f.station.delete_event(&event.id).unwrap();
    f.station.delete_service(&svc.id).unwrap();
    assert!(store.inner.is_empty(), "no entry left");
    assert!(f.station.list_webhooks().unwrap().is_empty());
}

#[test]
fn credentials_in_plain_places_are_warned_about_and_masked() {
    let f = Fixture::new();
    let mut input = WebhookInput::new(
        "lims",
        Action::new(ActionType::Event, ActionSubtype::Create),
        "https://lims.example.org/hook?site=B2&access_token=url-Tq71",
    );
    input.headers = vec![
        HeaderInput {
            name: "Authorization".into(),
            value: "Bearer plain-Hd55".into(),
            secret: false,
            secret_value: SecretChange::Keep,
        },
        HeaderInput {
            name: "X-Site".into(),
            value: "B2".into(),
            secret: false,
            secret_value: SecretChange::Keep,
        },
    ];
    let saved = f.station.save_webhook(None, input).unwrap();
    let w = &saved.credential_warnings;
    assert_eq!(w.len(), 2, "{w:?}");
    assert!(w[0].contains("Authorization") && w[0].contains("Mark it secret"));
    assert!(w[1].contains("access_token"));
    assert!(!w
        .iter()
        .any(|m| m.contains("plain-Hd55") || m.contains("url-Tq71")));

    // The export shows them as ***.
    let export = serde_json::to_string(&f.station.export_config().unwrap()).unwrap();
    assert!(
        !export.contains("plain-Hd55") && !export.contains("url-Tq71"),
        "{export}"
    );
    assert!(export.contains("access_token=***"), "{export}");

    // Error messages mask a URL's credentials.
    let err = CoreError::validation(
        "Connection refused for url (https://x.org/h?token=abc&site=B2): refused",
    );
    assert_eq!(
        err.message,
        "Connection refused for url (https://x.org/h?token=***&site=B2): refused"
    );

    // A plain webhook gets no warning.
    let plain = f
        .station
        .save_webhook(
            None,
            WebhookInput::new(
                "plain",
                Action::new(ActionType::Event, ActionSubtype::Create),
                "https://lims.example.org/hook?site=B2",
            ),
        )
        .unwrap();
    assert!(plain.credential_warnings.is_empty());
}

#[test]
fn an_import_that_drops_a_secret_deletes_its_entry_and_a_refused_one_keeps_it() {
    let f = Fixture::new();
    let mut input = WebhookInput::new(
        "lims",
        Action::new(ActionType::Event, ActionSubtype::Create),
        "https://lims.example.org/hook",
    );
    input.auth = AuthKind::Bearer;
    input.auth_secret = SecretChange::Set {
        value: TOKEN.into(),
    };
    input.headers = vec![secret_header("X-Api-Key", HEADER_SECRET)];
    let id = f.station.save_webhook(None, input).unwrap().webhook.id;
    let present = |key: String| f.secrets.get(&key).unwrap().is_some();
    let mut file = f.station.export_config().unwrap();
    file.webhooks[0].auth = AuthKind::None;
    file.webhooks[0].headers.clear();

    // Refused (a bad timeout): nothing changes, in the keyring either.
    let mut bad = file.clone();
    bad.webhooks[0].timeout_secs = 0;
    let err = f.station.import_config(&bad).unwrap_err();
    assert!(
        err.message
            .starts_with("webhooks[0] \"lims\": timeout_secs:"),
        "{}",
        err.message
    );
    assert!(present(auth_key(&id)) && present(header_key(&id, "X-Api-Key")));

    // Refused inside the transaction (two services of one name, which only the database knows):
    // the entries already deleted are put back.
    let mut dup = file.clone();
    for id in ["01DUPA", "01DUPB"] {
        dup.services.push(interlock_core::transfer::ServiceEntry {
            id: id.into(),
            name: "Twin".into(),
            description: String::new(),
            tags: vec![],
            auto_lock: false,
        });
    }
    let err = f.station.import_config(&dup).unwrap_err();
    assert!(
        err.message.starts_with("services[1] \"Twin\""),
        "{}",
        err.message
    );
    assert!(present(auth_key(&id)) && present(header_key(&id, "X-Api-Key")));
    assert_eq!(f.station.list_webhooks().unwrap()[0].auth, AuthKind::Bearer);

    // Accepted: the secrets the file no longer gives the webhook leave the keyring.
    f.station.import_config(&file).unwrap();
    assert!(!present(auth_key(&id)) && !present(header_key(&id, "X-Api-Key")));
    let w = f.station.list_webhooks().unwrap().remove(0);
    assert_eq!(w.auth, AuthKind::None);
    assert!(w.headers.is_empty());
}
