//! Why this exists: the figure issue 7 asks for, "the time from a Lock click to the relay while a
//! keyring call is blocked". A bench, not a timed test: it prints the time from the start of
//! `InterlockController::command(Lock)` to the moment a relay on 127.0.0.1 receives the request
//! (median, min, max over 20 runs), with nothing else going on, while a keyring `set` hangs (an
//! unanswered unlock prompt, 10 s here) and while five sign-ins hash passwords.
//!
//! Run: `make bench-stall` (release) or `cargo run -p interlock-core --example bench_stall`.

use interlock_core::delivery::Deliverer;
use interlock_core::error::CoreResult;
use interlock_core::interlock::{InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::secrets::{MemoryStore, SecretStore};
use interlock_core::sensitive::Sensitive;
use interlock_core::webhook::*;
use interlock_core::{Role, Station, SystemClock};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const RUNS: usize = 20;
const BLOCKED_FOR: Duration = Duration::from_secs(10);

/// A keyring whose `set` hangs while armed.
#[derive(Default)]
struct BlockingSet {
    inner: MemoryStore,
    armed: AtomicBool,
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

struct Bench {
    station: Arc<Station>,
    secrets: Arc<BlockingSet>,
    ctl: InterlockController,
    service_id: String,
    relay: Relay,
    _server: MockServer,
    _dir: tempfile::TempDir,
}

async fn bench() -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let secrets = Arc::new(BlockingSet::default());
    let station = Arc::new(
        Station::open(
            &dir.path().join("bench.sqlite3"),
            Arc::new(SystemClock),
            secrets.clone(),
        )
        .unwrap(),
    );
    station
        .create_first_administrator(FirstAdministrator {
            username: "admin".into(),
            display_name: "Admin".into(),
            password: "admin-password".into(),
        })
        .unwrap();
    station.sign_in("admin", "admin-password").unwrap();
    station
        .create_account(NewAccount {
            email: None,
            username: "uma".into(),
            display_name: "Uma".into(),
            role: Role::InstrumentUser,
            password: "password-1".into(),
        })
        .unwrap();
    let service = station
        .create_service(ServiceInput {
            name: "Confocal".into(),
            description: String::new(),
            tags: vec!["has_interlock".into()],
        })
        .unwrap();
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
    let ctl = InterlockController::new(station.clone(), Arc::new(Deliverer::new().unwrap()));
    Bench {
        station,
        secrets,
        ctl,
        service_id: service.id,
        relay,
        _server: server,
        _dir: dir,
    }
}

impl Bench {
    /// One Lock: from the start of the command to the relay's receipt.
    async fn lock_once(&self) -> Duration {
        let before = self.relay.0.lock().unwrap().len();
        let started = Instant::now();
        let r = self
            .ctl
            .command(&self.service_id, None, InterlockAction::Lock, None)
            .await
            .unwrap();
        assert!(r.ok, "{r:?}");
        let received = self.relay.0.lock().unwrap()[before];
        received - started
    }
}

fn report(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what:<44} median {:>7.2} ms   min {:>7.2} ms   max {:>7.2} ms   ({} runs)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let b = bench().await;
    println!(
        "Lock command start -> relay receipt ({} build)",
        if cfg!(debug_assertions) {
            "debug"
        } else {
            "release"
        }
    );
    b.lock_once().await; // warm the connection pool, as a running app has

    let mut quiet = Vec::new();
    for _ in 0..RUNS {
        quiet.push(b.lock_once().await);
    }
    report("nothing else going on", quiet);

    // A keyring `set` hangs (saving a webhook with a password) while the Locks go out.
    b.secrets.armed.store(true, Ordering::SeqCst);
    let station = b.station.clone();
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
        station.save_webhook(None, input).map(drop)
    });
    while !b.secrets.entered.load(Ordering::SeqCst) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut blocked = Vec::new();
    for _ in 0..RUNS {
        blocked.push(b.lock_once().await);
    }
    let all_during_the_block = !save.is_finished();
    report(
        &format!(
            "while a keyring set is blocked ({} s)",
            BLOCKED_FOR.as_secs()
        ),
        blocked,
    );
    assert!(
        all_during_the_block,
        "the blocked keyring call returned before the Locks were done"
    );
    b.secrets.armed.store(false, Ordering::SeqCst);
    save.await.unwrap().unwrap();

    // Five sign-ins hashing (argon2) while each Lock goes out.
    let mut hashing = Vec::new();
    for _ in 0..RUNS {
        let sign_ins: Vec<_> = (0..5)
            .map(|i| {
                let station = b.station.clone();
                tokio::task::spawn_blocking(move || match i % 2 {
                    0 => station.sign_in("admin", "admin-password").map(drop),
                    _ => station.sign_in("uma", "wrong-password").map(drop),
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(5)).await;
        hashing.push(b.lock_once().await);
        for s in sign_ins {
            let _ = s.await.unwrap();
        }
        // Uma's failures would pause her sign-in; start each run from zero.
        b.station.sign_in("uma", "password-1").unwrap();
        b.station.sign_in("admin", "admin-password").unwrap();
    }
    report("while five sign-ins are hashing", hashing);
}
