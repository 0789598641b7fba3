//! Outbox claims across real processes: two `deliver` processes and the app (a Station draining
//! in this process) on the same database send each delivery exactly once; `deliver` killed with
//! `kill -9` mid-drain of 1,000 re-sends at most the requests it had in flight; a 120 s webhook
//! in flight never holds back the fast ones. The receiver is a small HTTP/1.1 server on
//! 127.0.0.1 (keep-alive) that counts each `webhook-id` it gets.

use interlock_core::delivery::Deliverer;
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::*;
use interlock_core::{outbox, Role, Station, SystemClock};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn app(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_interlock-station"));
    c.arg("--data-dir").arg(data_dir);
    c
}

fn open(data_dir: &Path) -> Station {
    let s = Station::open(
        &data_dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    s
}

/// Counts every request by its `webhook-id`; `/slow` is held (up to 120 s) until `release`.
#[derive(Clone)]
struct Receiver {
    url: String,
    ids: Arc<Mutex<HashMap<String, u32>>>,
    total: Arc<AtomicUsize>,
    slow_seen: Arc<AtomicUsize>,
    release: Arc<AtomicBool>,
    /// Each fast request is answered after this many milliseconds.
    delay_ms: Arc<AtomicU64>,
    /// While set, no request is answered.
    gate: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let rx = Receiver {
            url: format!("http://{}", listener.local_addr().unwrap()),
            ids: Arc::default(),
            total: Arc::default(),
            slow_seen: Arc::default(),
            release: Arc::default(),
            delay_ms: Arc::default(),
            gate: Arc::default(),
        };
        let r = rx.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let r = r.clone();
                std::thread::spawn(move || r.serve(stream));
            }
        });
        rx
    }

    fn serve(&self, mut stream: std::net::TcpStream) {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 16384];
        loop {
            // One request: the head, then content-length bytes of body.
            let (head, used) = loop {
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&buf[..end]).to_lowercase();
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break (head, end + 4 + len);
                    }
                }
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(k) => buf.extend_from_slice(&chunk[..k]),
                }
            };
            buf.drain(..used);
            let id = head
                .lines()
                .find_map(|l| l.strip_prefix("webhook-id:"))
                .map(|v| v.trim().to_string())
                .unwrap_or_default();
            *self.ids.lock().unwrap().entry(id).or_default() += 1;
            self.total.fetch_add(1, Ordering::SeqCst);
            if head.starts_with("post /slow ") {
                self.slow_seen.fetch_add(1, Ordering::SeqCst);
                let until = Instant::now() + Duration::from_secs(120);
                while !self.release.load(Ordering::SeqCst) && Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
            } else {
                while self.gate.load(Ordering::SeqCst) {
                    std::thread::sleep(Duration::from_millis(2));
                }
                let ms = self.delay_ms.load(Ordering::SeqCst);
                if ms > 0 {
                    std::thread::sleep(Duration::from_millis(ms));
                }
            }
            if stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
                .is_err()
            {
                return;
            }
        }
    }

    fn unique(&self) -> usize {
        self.ids.lock().unwrap().len()
    }

    fn duplicates(&self) -> usize {
        self.total.load(Ordering::SeqCst) - self.unique()
    }
}

fn people(s: &Station) -> (Account, Service) {
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
    (user, svc)
}

fn event(s: &Station, user: &Account, svc: &Service, i: i64) -> Event {
    let start = jiff::Timestamp::from_second(1_900_000_000 + i * 7200).unwrap();
    s.create_event(EventInput {
        service_id: svc.id.clone(),
        user_id: user.id.clone(),
        title: format!("e{i}"),
        starts_at: start,
        ends_at: start + jiff::SignedDuration::from_hours(1),
        order_id: None,
        line_id: None,
    })
    .unwrap()
}

/// A station with `hooks` event/create webhooks to `url` and `events` events: hooks × events
/// queued deliveries.
fn seed(data_dir: &Path, url: &str, hooks: usize, events: i64) {
    let s = open(data_dir);
    let (user, svc) = people(&s);
    for i in 0..hooks {
        let h = WebhookInput {
            timeout_secs: 2,
            ..WebhookInput::new(
                &format!("hook {i}"),
                Action::new(ActionType::Event, ActionSubtype::Create),
                url,
            )
        };
        s.save_webhook(None, h).unwrap();
    }
    for i in 0..events {
        event(&s, &user, &svc, i);
    }
}

fn wait_until(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(Instant::now() < deadline, "gave up waiting: {what}");
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn two_deliver_processes_and_the_app_send_each_delivery_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start();
    rx.delay_ms.store(1, Ordering::SeqCst);
    seed(dir.path(), &format!("{}/hook", rx.url), 4, 250);
    // Nothing is answered until all three drainers have their 64 requests in flight.
    rx.gate.store(true, Ordering::SeqCst);
    let spawn = || {
        app(dir.path())
            .arg("deliver")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    // The app: a Station on the same file, draining at the same time.
    let station = Arc::new(open(dir.path()));
    let app_station = station.clone();
    let by_app = std::thread::spawn(move || {
        let deliverer = Arc::new(Deliverer::new().unwrap());
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(outbox::drain_now(&app_station, &deliverer))
            .unwrap()
    });
    let bound = outbox::DEFAULT_MAX_IN_FLIGHT;
    wait_until("three drainers with their requests in flight", 60, || {
        rx.total.load(Ordering::SeqCst) == 3 * bound
    });
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(
        rx.total.load(Ordering::SeqCst),
        3 * bound,
        "no drainer sends more than its bound"
    );
    rx.gate.store(false, Ordering::SeqCst);
    let by_app = by_app.join().unwrap();
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    for out in [&a, &b] {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let ids = rx.ids.lock().unwrap().clone();
    let doubled: Vec<_> = ids.iter().filter(|(_, n)| **n != 1).collect();
    eprintln!(
        "1,000 deliveries, two deliver processes + the app: {} unique, {} duplicates \
         (deliver A: {}, deliver B: {}, app sent {})",
        ids.len(),
        rx.duplicates(),
        String::from_utf8_lossy(&a.stdout).trim(),
        String::from_utf8_lossy(&b.stdout).trim(),
        by_app.sent
    );
    assert_eq!(ids.len(), 1000, "every delivery arrived");
    assert!(doubled.is_empty(), "sent twice: {doubled:?}");
    assert!(ids.keys().all(|id| id.starts_with("msg_")));
    assert_eq!(
        station
            .list_deliveries_unchecked(Some("delivered"), None, 5000)
            .unwrap()
            .len(),
        1000,
        "one logged attempt each"
    );
}

#[test]
fn kill_9_mid_drain_resends_at_most_the_requests_in_flight() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start();
    // 64 in flight, 20 ms each: the drain of 1,000 takes about 0.3 s.
    rx.delay_ms.store(20, Ordering::SeqCst);
    seed(dir.path(), &format!("{}/hook", rx.url), 4, 250);
    let mut child = app(dir.path())
        .arg("deliver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until("300 arrived", 60, || rx.total.load(Ordering::SeqCst) >= 300);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = rx.total.load(Ordering::SeqCst);
    assert!(at_kill < 1000, "killed mid-drain ({at_kill} arrived)");
    // Restart: once the leases (timeout 2 s + 5 s) end, the rest and the unrecorded ones go out.
    rx.delay_ms.store(0, Ordering::SeqCst);
    // Done when every row is settled as delivered (the unique ids arrive earlier: the requests
    // in flight at the kill had arrived, but their outcomes were never recorded).
    let station = open(dir.path());
    let delivered = || {
        station
            .list_deliveries_unchecked(Some("delivered"), None, 5000)
            .unwrap()
            .len()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    while delivered() < 1000 {
        let out = app(dir.path()).arg("deliver").output().unwrap();
        assert!(out.status.success());
        assert!(Instant::now() < deadline, "only {} delivered", delivered());
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(rx.unique(), 1000);
    let dups = rx.duplicates();
    eprintln!(
        "kill -9 after {at_kill} of 1,000 arrived: {dups} duplicates (bound {})",
        outbox::DEFAULT_MAX_IN_FLIGHT
    );
    assert!(
        dups <= outbox::DEFAULT_MAX_IN_FLIGHT,
        "{dups} duplicates, more than the requests in flight"
    );
}

#[test]
fn a_120_s_webhook_in_flight_does_not_hold_back_the_fast_ones() {
    let dir = tempfile::tempdir().unwrap();
    let rx = Receiver::start();
    {
        let s = open(dir.path());
        let (user, svc) = people(&s);
        let mut slow = WebhookInput::new(
            "slow",
            Action::new(ActionType::Event, ActionSubtype::Delete),
            &format!("{}/slow", rx.url),
        );
        slow.timeout_secs = 120;
        s.save_webhook(None, slow).unwrap();
        // Queued first (an event deleted), so it is claimed first...
        let e = event(&s, &user, &svc, 0);
        s.delete_event(&e.id).unwrap();
        // ...and 200 fast deliveries behind it: more than the 64 in flight.
        let fast = WebhookInput::new(
            "fast",
            Action::new(ActionType::Event, ActionSubtype::Create),
            &format!("{}/fast", rx.url),
        );
        s.save_webhook(None, fast).unwrap();
        for i in 1..=200 {
            event(&s, &user, &svc, i);
        }
    }
    let mut child = app(dir.path())
        .arg("deliver")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until(
        "the slow one in flight and the 200 fast ones arrived",
        60,
        || rx.slow_seen.load(Ordering::SeqCst) == 1 && rx.total.load(Ordering::SeqCst) == 201,
    );
    assert!(
        !rx.release.load(Ordering::SeqCst),
        "the slow one is still held"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    rx.release.store(true, Ordering::SeqCst);
}
