//! Webhook credentials in the real OS keyring (gnome-keyring's Secret Service on the test's private
//! D-Bus session): stored and used, and never found in the SQLite file, the logs, the UI's view of
//! a webhook or the delivery log. Deleting a webhook removes its secrets.

mod common;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::secrets::{KeyringStore, SecretStore};
use interlock_core::sensitive::Sensitive;
use interlock_core::station::webhooks::{auth_key, header_key, signing_key};
use interlock_core::webhook::*;
use interlock_core::{outbox, CoreError, CoreResult, ErrorCode, Role};
use std::sync::Arc;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

const PASSWORD: &str = "pw-Zq81-basic-secret";
const TOKEN: &str = "tok-Hh27-bearer-secret";
const HEADER_SECRET: &str = "hdr-Kx55-header-secret";

fn input(name: &str, url: &str, auth: AuthKind, secret: &str) -> WebhookInput {
    WebhookInput {
        headers: vec![HeaderInput {
            name: "X-Api-Key".into(),
            value: String::new(),
            secret: true,
            secret_value: SecretChange::Set {
                value: HEADER_SECRET.into(),
            },
        }],
        auth,
        auth_username: "station".into(),
        auth_secret: SecretChange::Set {
            value: secret.into(),
        },
        body: r#"{"site":"B2"}"#.into(),
        timeout_secs: 5,
        signing: true,
        ..WebhookInput::new(
            name,
            Action::new(ActionType::Event, ActionSubtype::Create),
            url,
        )
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_live_only_in_the_os_keyring() {
    let service = format!("interlock-test-{}", ulid::Ulid::new());
    let keyring: Arc<dyn SecretStore> = Arc::new(KeyringStore::with_service(&service));
    let f = Fixture::with_secrets(keyring.clone());
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);

    let basic = f
        .station
        .save_webhook(
            None,
            input("basic", &server.uri(), AuthKind::Basic, PASSWORD),
        )
        .unwrap();
    let bearer = f
        .station
        .save_webhook(
            None,
            input("bearer", &server.uri(), AuthKind::Bearer, TOKEN),
        )
        .unwrap();
    assert!(basic.webhook.auth_secret_set && basic.webhook.headers[0].secret_set);

    // In the real keyring, under the webhook's entries.
    let direct = KeyringStore::with_service(&service);
    assert_eq!(
        direct
            .get(&auth_key(&basic.webhook.id))
            .unwrap()
            .unwrap()
            .expose(),
        PASSWORD
    );
    assert_eq!(
        direct
            .get(&auth_key(&bearer.webhook.id))
            .unwrap()
            .unwrap()
            .expose(),
        TOKEN
    );
    assert_eq!(
        direct
            .get(&header_key(&bearer.webhook.id, "x-api-key"))
            .unwrap()
            .unwrap()
            .expose(),
        HEADER_SECRET
    );
    let signing = bearer.new_signing_secret.clone().unwrap();

    // Used on the wire.
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = Arc::new(Deliverer::new().unwrap());
    assert_eq!(
        outbox::deliver_due(&f.station, &d).await.unwrap().delivered,
        2
    );
    let reqs = server.received_requests().await.unwrap();
    let auths: Vec<String> = reqs
        .iter()
        .map(|r| {
            r.headers
                .get("authorization")
                .unwrap()
                .to_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(auths.contains(&format!("Bearer {TOKEN}")));
    assert!(reqs
        .iter()
        .all(|r| r.headers.get("x-api-key").unwrap() == HEADER_SECRET));

    // Nowhere else: not the database file (nor its WAL), not what the UI can read back, not the log.
    let db = std::fs::read(f.db_path()).unwrap();
    let wal = std::fs::read(f.db_path().with_extension("sqlite3-wal")).unwrap_or_default();
    let views = serde_json::to_string(&f.station.list_webhooks().unwrap()).unwrap();
    let log = serde_json::to_string(&f.station.list_deliveries(None, None, 100).unwrap()).unwrap();
    let saved = format!("{:?}{:?}", basic.webhook, bearer.webhook);
    for secret in [PASSWORD, TOKEN, HEADER_SECRET, signing.as_str()] {
        assert!(
            !contains(&db, secret) && !contains(&wal, secret),
            "{secret} found in SQLite"
        );
        assert!(!views.contains(secret), "{secret} in list_webhooks");
        assert!(!log.contains(secret), "{secret} in the delivery log");
        assert!(!saved.contains(secret), "{secret} in a saved webhook");
    }

    // Keep leaves the stored value; Clear removes it.
    let mut keep = input("bearer", &server.uri(), AuthKind::Bearer, "");
    keep.auth_secret = SecretChange::Keep;
    keep.headers[0].secret_value = SecretChange::Clear;
    let kept = f
        .station
        .save_webhook(Some(&bearer.webhook.id), keep)
        .unwrap()
        .webhook;
    assert!(kept.auth_secret_set && !kept.headers[0].secret_set);
    assert_eq!(
        direct
            .get(&auth_key(&bearer.webhook.id))
            .unwrap()
            .unwrap()
            .expose(),
        TOKEN
    );
    assert!(direct
        .get(&header_key(&bearer.webhook.id, "x-api-key"))
        .unwrap()
        .is_none());

    // Deleting a webhook deletes its secrets.
    f.station.delete_webhook(&basic.webhook.id).unwrap();
    f.station.delete_webhook(&bearer.webhook.id).unwrap();
    for key in [
        auth_key(&basic.webhook.id),
        header_key(&basic.webhook.id, "x-api-key"),
        signing_key(&basic.webhook.id),
        auth_key(&bearer.webhook.id),
        signing_key(&bearer.webhook.id),
    ] {
        assert!(
            direct.get(&key).unwrap().is_none(),
            "{key} left in the keyring"
        );
    }
}

/// A keyring that refuses the n-th write, as a locked keyring would.
struct RefusingStore {
    inner: interlock_core::secrets::MemoryStore,
    fail_at: usize,
    writes: std::sync::Mutex<usize>,
}

impl SecretStore for RefusingStore {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        let mut n = self.writes.lock().unwrap();
        *n += 1;
        if *n == self.fail_at {
            return Err(CoreError::new(ErrorCode::KeyringLocked, "The OS keyring is locked or refused access (Prompt); unlock it and try again. Nothing was saved."));
        }
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> CoreResult<()> {
        self.inner.delete(key)
    }
}

#[test]
fn a_refusing_keyring_saves_nothing_half_way() {
    let store = Arc::new(RefusingStore {
        inner: Default::default(),
        fail_at: 2,
        writes: Default::default(),
    });
    let f = Fixture::with_secrets(store.clone());
    let err = f
        .station
        .save_webhook(
            None,
            input("basic", "http://127.0.0.1:9/x", AuthKind::Basic, PASSWORD),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::KeyringLocked);
    assert!(err.message.contains("Nothing was saved"));
    assert!(
        f.station.list_webhooks().unwrap().is_empty(),
        "no webhook row"
    );
    // The first secret written before the failure was taken back.
    let c = rusqlite::Connection::open(f.db_path()).unwrap();
    let n: i64 = c
        .query_row("SELECT count(*) FROM webhooks", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    assert_eq!(store.inner.len(), 0, "no secret left in the keyring");
}

/// A keyring that can be locked after the fact: reads fail while `locked` is set.
#[derive(Default)]
struct LockableStore {
    inner: interlock_core::secrets::MemoryStore,
    locked: std::sync::atomic::AtomicBool,
}

impl SecretStore for LockableStore {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        self.inner.set(key, value)
    }
    fn get(&self, key: &str) -> CoreResult<Option<Sensitive<String>>> {
        if self.locked.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(CoreError::new(ErrorCode::KeyringLocked, "The OS keyring is locked or refused access (Prompt); unlock it and try again. Nothing was saved."));
        }
        self.inner.get(key)
    }
    fn delete(&self, key: &str) -> CoreResult<()> {
        self.inner.delete(key)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_keyring_locked_at_delivery_time_delays_only_the_webhooks_that_need_it() {
    let store = Arc::new(LockableStore::default());
    let f = Fixture::with_secrets(store.clone());
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200))
        .mount(&server)
        .await;
    let user = f.account("uma", Role::InstrumentUser);
    let svc = f.service("Microscope", &[]);
    f.station
        .save_webhook(
            None,
            input("with password", &server.uri(), AuthKind::Basic, PASSWORD),
        )
        .unwrap();
    let plain = WebhookInput::new(
        "plain",
        Action::new(ActionType::Event, ActionSubtype::Create),
        &server.uri(),
    );
    f.station.save_webhook(None, plain).unwrap();
    store
        .locked
        .store(true, std::sync::atomic::Ordering::SeqCst);
    f.event(&svc, &user, "2026-11-30T09:00:00Z", "2026-11-30T10:00:00Z");
    let d = Arc::new(Deliverer::new().unwrap());
    let report = outbox::deliver_due(&f.station, &d).await.unwrap();
    assert_eq!(
        report.delivered, 1,
        "the plain webhook still goes out: {report:?}"
    );
    let log = f.station.list_deliveries(None, None, 10).unwrap();
    let held = log
        .iter()
        .find(|a| a.webhook_name == "with password")
        .unwrap();
    assert_eq!(held.outcome, "retrying");
    assert!(
        held.error
            .as_deref()
            .unwrap()
            .starts_with("Not sent: The OS keyring is locked"),
        "{:?}",
        held.error
    );
    assert!(held.next_attempt_at.is_some());
    // Unlocked again: the retry goes out with its password.
    store
        .locked
        .store(false, std::sync::atomic::Ordering::SeqCst);
    f.clock.advance(jiff::SignedDuration::from_secs(7));
    assert_eq!(
        outbox::deliver_due(&f.station, &d).await.unwrap().delivered,
        1
    );
}
