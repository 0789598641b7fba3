//! Why this exists: DESIGN.md §7, "a keyring prompt must never delay a Lock". A keyring call that
//! hangs (an unlock prompt nobody answers) and sign-ins busy hashing passwords must not hold
//! anything a Lock command needs. These tests block them for real, in other tasks, and check that
//! a Lock sent meanwhile reaches a real relay on 127.0.0.1 before the blocked work returns.
//! (Ordering only; the time it takes is measured by `examples/bench_stall.rs`.)

mod common;
use common::*;
use interlock_core::delivery::Deliverer;
use interlock_core::error::CoreResult;
use interlock_core::interlock::{InterlockAction, InterlockController, InterlockResult};
use interlock_core::model::*;
use interlock_core::secrets::SecretStore;
use interlock_core::sensitive::Sensitive;
use interlock_core::webhook::*;
use interlock_core::{ErrorCode, Role, Station};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// How long the keyring's `set` blocks, like an unanswered unlock prompt.
const BLOCKED_FOR: Duration = Duration::from_secs(10);

/// A keyring whose `set` blocks once armed; everything else goes straight to memory.
struct BlockingSet {
    inner: Arc<dyn SecretStore>,
    armed: AtomicBool,
    /// True from the moment a blocked `set` has started.
    entered: AtomicBool,
}

impl SecretStore for BlockingSet {
    fn set(&self, key: &str, value: &Sensitive<String>) -> CoreResult<()> {
        if self.armed.load(Ordering::SeqCst) {
            self.entered.store(true, Ordering::SeqCst);
            std::thread::sleep(BLOCKED_FOR);
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

/// A relay that notes when each request arrived.
#[derive(Clone, Default)]
struct Relay(Arc<Mutex<Vec<Instant>>>);

impl Respond for Relay {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        self.0.lock().unwrap().push(Instant::now());
        ResponseTemplate::new(200)
    }
}

impl Relay {
    fn first(&self) -> Option<Instant> {
        self.0.lock().unwrap().first().copied()
    }
}

struct Setup {
    station: Arc<Station>,
    ctl: Arc<InterlockController>,
    svc: Service,
    relay: Relay,
    _server: MockServer,
    _f: Fixture,
}

/// An interlocked service with a lock webhook to a real relay; the admin is signed in.
async fn setup(f: Fixture) -> Setup {
    let station = f.station.clone();
    let svc = f.service("Confocal", &["has_interlock"]);
    let server = MockServer::start().await;
    let relay = Relay::default();
    Mock::given(any())
        .respond_with(relay.clone())
        .mount(&server)
        .await;
    station
        .save_webhook(
            None,
            WebhookInput::new(
                "relay",
                Action::new(ActionType::Interlock, ActionSubtype::Lock),
                &server.uri(),
            ),
        )
        .unwrap();
    let ctl = Arc::new(InterlockController::new(
        station.clone(),
        Arc::new(Deliverer::new().unwrap()),
    ));
    Setup {
        station,
        ctl,
        svc,
        relay,
        _server: server,
        _f: f,
    }
}

/// The one place these tests send a command (its signature may grow).
async fn lock(ctl: &InterlockController, service_id: &str) -> CoreResult<InterlockResult> {
    ctl.command(service_id, None, InterlockAction::Lock, None)
        .await
}

/// Sends a Lock from a task of its own, as the window's IPC would, and waits at most 30 s for it.
async fn lock_from_another_task(s: &Setup) -> InterlockResult {
    let ctl = s.ctl.clone();
    let id = s.svc.id.clone();
    let task = tokio::spawn(async move { lock(&ctl, &id).await });
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the Lock command did not finish within 30 s")
        .unwrap()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_reaches_the_relay_while_a_keyring_call_is_blocked() {
    let secrets = Arc::new(BlockingSet {
        inner: memory_secrets(),
        armed: AtomicBool::new(false),
        entered: AtomicBool::new(false),
    });
    let s = setup(Fixture::with_secrets(secrets.clone())).await;
    secrets.armed.store(true, Ordering::SeqCst);

    // Staff save a webhook with a basic-auth password; the keyring's `set` hangs for 10 s.
    let station = s.station.clone();
    let save = tokio::task::spawn_blocking(move || {
        let mut input = WebhookInput::new(
            "lims",
            Action::new(ActionType::Event, ActionSubtype::Create),
            "https://lims.example.org/hook",
        );
        input.auth = AuthKind::Basic;
        input.auth_username = "station".into();
        input.auth_secret = SecretChange::Set {
            value: "s3cret pass".into(),
        };
        let saved = station.save_webhook(None, input);
        (saved, Instant::now())
    });
    let waited = Instant::now();
    while !secrets.entered.load(Ordering::SeqCst) {
        assert!(waited.elapsed() < Duration::from_secs(10), "set never ran");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }

    let sent_at = Instant::now();
    let result = lock_from_another_task(&s).await;
    assert!(result.ok, "{result:?}");
    let received_at = s.relay.first().expect("the relay received the lock");
    assert!(
        !save.is_finished(),
        "the Lock came back only after the blocked keyring call"
    );

    let (saved, set_returned_at) = save.await.unwrap();
    assert!(saved.unwrap().webhook.auth_secret_set);
    assert!(
        received_at < set_returned_at,
        "the relay got the lock {:?} after the command, {:?} after the blocked set returned",
        received_at - sent_at,
        received_at.saturating_duration_since(set_returned_at)
    );
    println!(
        "lock reached the relay {:?} after the command; the blocked set returned {:?} later",
        received_at - sent_at,
        set_returned_at - received_at
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_reaches_the_relay_while_five_sign_ins_are_hashing() {
    let f = Fixture::new();
    f.account("uma", Role::InstrumentUser);
    let s = setup(f).await;

    // Five sign-ins at once (argon2 each), as from a busy front desk: the admin's own (the session
    // stays the admin's) and wrong passwords for Uma (counted, not yet paused).
    let started = Instant::now();
    let mut sign_ins = Vec::new();
    for i in 0..5 {
        let station = s.station.clone();
        sign_ins.push(tokio::task::spawn_blocking(move || {
            let r = match i % 2 {
                0 => station.sign_in("admin", ADMIN_PW).map(drop),
                _ => station.sign_in("uma", "not-her-password").map(drop),
            };
            (r, Instant::now())
        }));
    }
    // Let the sign-ins start their work first.
    tokio::time::sleep(Duration::from_millis(10)).await;

    let sent_at = Instant::now();
    let result = lock_from_another_task(&s).await;
    assert!(result.ok, "{result:?}");
    let received_at = s.relay.first().expect("the relay received the lock");

    let mut first_return = None::<Instant>;
    for (i, task) in sign_ins.into_iter().enumerate() {
        let (r, returned_at) = task.await.unwrap();
        match i % 2 {
            0 => assert!(r.is_ok(), "{r:?}"),
            _ => assert_eq!(r.unwrap_err().code, ErrorCode::SignInFailed),
        }
        first_return = Some(first_return.map_or(returned_at, |f| f.min(returned_at)));
    }
    let first_return = first_return.unwrap();
    assert!(
        received_at < first_return,
        "the relay got the lock {:?} after the command, after a sign-in had returned ({:?} after the start)",
        received_at - sent_at,
        first_return - started
    );
    println!(
        "lock reached the relay {:?} after the command; the first sign-in returned {:?} after the start",
        received_at - sent_at,
        first_return - started
    );
}

/// Hashing without the lock must not weaken the sign-in pause: ten wrong passwords at once are
/// all counted, the fifth pauses the username, and none of the later ones lifts the pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_wrong_sign_ins_are_all_counted_and_never_lift_the_pause() {
    let f = Fixture::new();
    f.account("uma", Role::InstrumentUser);
    let attempts: Vec<_> = (0..10)
        .map(|_| {
            let station = f.station.clone();
            tokio::task::spawn_blocking(move || station.sign_in("uma", "not-her-password"))
        })
        .collect();
    let mut codes = Vec::new();
    for a in attempts {
        codes.push(a.await.unwrap().unwrap_err().code);
    }
    let failed = codes
        .iter()
        .filter(|c| **c == ErrorCode::SignInFailed)
        .count();
    let paused = codes
        .iter()
        .filter(|c| **c == ErrorCode::SignInPaused)
        .count();
    assert_eq!((failed, paused), (4, 6), "{codes:?}");
    let e = f.station.sign_in("uma", PW).unwrap_err();
    assert_eq!(e.code, ErrorCode::SignInPaused, "still paused: {e:?}");
}
