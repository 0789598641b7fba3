//! Delivery throughput, head of line and fan-out, against real loopback receivers. `make bench`
//! runs `scripts/bench-delivery.sh`, which starts a loopback nginx and calls these modes:
//!
//! - `seed DIR URL N`: a station in DIR with 10 webhooks to URL and N/10 events: N queued
//!   deliveries.
//! - `drain DIR [IN_FLIGHT]`: drains DIR's outbox (as `deliver` does) and prints one JSON line:
//!   deliveries, wall seconds, start and end (Unix ms).
//! - `hol URL`: one webhook whose receiver (in this process) answers after 2 s, then 300 fast
//!   deliveries to URL; prints the drain's start (Unix ms) and when the slow one was answered,
//!   so the script can read from the nginx log how long the fast ones waited.
//! - `fanout`: one event with 10 webhooks whose receiver (in this process) waits 200 ms each:
//!   wall time of the action over 7 runs (sequential sending would take 2 s).
//! - `http URL N`: the HTTP client alone, as a peer: N POSTs of the same body through the
//!   station's `Deliverer` (hyper, capped pool) from 64 concurrent loops, with no outbox, no database and no
//!   log; prints requests/s. What the station's drain adds on top is the difference.

use interlock_core::delivery::Deliverer;
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::*;
use interlock_core::{outbox, Role, Station, SystemClock};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn receiver(delay: Duration) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                break;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                // Keep-alive: answer every request on the connection.
                loop {
                    let mut got = Vec::new();
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                        if let Some(end) = got.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&got[..end]).to_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if got.len() >= end + 4 + len {
                                break;
                            }
                        }
                    }
                    if !delay.is_zero() {
                        tokio::time::sleep(delay).await;
                    }
                    if s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn open(dir: &Path) -> Station {
    let s = Station::open(
        &dir.join("bench.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    s
}

fn station(dir: &Path) -> (Station, Account, Service) {
    let s = open(dir);
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
    (s, user, svc)
}

fn hook(url: &str, sub: ActionSubtype, timeout_secs: u32) -> WebhookInput {
    WebhookInput {
        body: r#"{"site":"B2"}"#.into(),
        timeout_secs,
        ..WebhookInput::new("bench", Action::new(ActionType::Event, sub), url)
    }
}

fn event_input(user: &Account, svc: &Service, i: i64, minutes: i64) -> EventInput {
    let start = jiff::Timestamp::from_second(1_900_000_000 + i * 7200).unwrap();
    EventInput {
        service_id: svc.id.clone(),
        user_id: user.id.clone(),
        title: format!("e{i}"),
        starts_at: start,
        ends_at: start + jiff::SignedDuration::from_mins(minutes),
        order_id: None,
        line_id: None,
    }
}

fn unix_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

fn seed(dir: &Path, url: &str, n: usize) {
    let (s, user, svc) = station(dir);
    for _ in 0..10 {
        s.save_webhook(None, hook(url, ActionSubtype::Create, 30))
            .unwrap();
    }
    for i in 0..n.div_ceil(10) {
        s.create_event(event_input(&user, &svc, i as i64, 60))
            .unwrap();
    }
}

async fn drain(dir: &Path, in_flight: usize) {
    let s = Arc::new(open(dir));
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let start = unix_ms();
    let started = Instant::now();
    // As `deliver` does: on a worker thread.
    let report =
        tokio::spawn(async move { outbox::drain_now_with(&s, &deliverer, in_flight).await })
            .await
            .unwrap()
            .unwrap();
    let wall = started.elapsed().as_secs_f64();
    let end = unix_ms();
    assert_eq!(report.delivered, report.sent, "{report:?}");
    println!(
        r#"{{"delivered":{},"wall_s":{wall:.4},"start_ms":{start},"end_ms":{end}}}"#,
        report.delivered
    );
}

async fn head_of_line(fast_url: &str) {
    let dir = tempfile::tempdir().unwrap();
    let slow_url = receiver(Duration::from_secs(2)).await;
    let (s, user, svc) = station(dir.path());
    s.save_webhook(None, hook(&slow_url, ActionSubtype::Create, 10))
        .unwrap();
    s.save_webhook(None, hook(fast_url, ActionSubtype::Update, 10))
        .unwrap();
    let e = s.create_event(event_input(&user, &svc, 0, 60)).unwrap();
    for i in 0..300 {
        s.update_event(&e.id, event_input(&user, &svc, 0, 61 + i))
            .unwrap();
    }
    let s = Arc::new(s);
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let start = unix_ms();
    let report = outbox::drain_now(&s, &deliverer).await.unwrap();
    assert_eq!(report.delivered, 301, "{report:?}");
    println!(
        r#"{{"start_ms":{start},"end_ms":{},"delivered":{}}}"#,
        unix_ms(),
        report.delivered
    );
}

async fn fanout() {
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let slow = receiver(Duration::from_millis(200)).await;
    let (s, user, svc) = station(dir.path());
    let s = Arc::new(s);
    for _ in 0..10 {
        s.save_webhook(None, hook(&slow, ActionSubtype::Create, 30))
            .unwrap();
    }
    let mut times = Vec::new();
    for i in 0..7 {
        let started = Instant::now();
        s.create_event(event_input(&user, &svc, i, 60)).unwrap();
        let r = outbox::drain_now(&s, &deliverer).await.unwrap();
        assert_eq!(r.delivered, 10);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.partial_cmp(b).unwrap());
    println!(
        "one event, 10 webhooks, 200 ms receiver: median {:.0} ms (min {:.0}, max {:.0}, 7 runs)",
        times[3], times[0], times[6]
    );
}

async fn http_alone(url: &str, n: usize) {
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let request = Arc::new(interlock_core::delivery::Request::post_json(
        url,
        br#"{"site":"B2","order_id":null,"event_id":"01J0000000000000000000000"}"#.to_vec(),
        "msg_bench",
    ));
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let lanes: Vec<_> = (0..outbox::DEFAULT_MAX_IN_FLIGHT)
        .map(|_| {
            let (d, r, next) = (deliverer.clone(), request.clone(), next.clone());
            tokio::spawn(async move {
                while next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < n {
                    assert!(d.send(&r).await.success());
                }
            })
        })
        .collect();
    for lane in lanes {
        lane.await.unwrap();
    }
    let wall = started.elapsed().as_secs_f64();
    println!(r#"{{"requests":{n},"wall_s":{wall:.4}}}"#);
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).cloned().unwrap_or_default();
    match arg(0).as_str() {
        "seed" => seed(Path::new(&arg(1)), &arg(2), arg(3).parse().unwrap()),
        "drain" => {
            let in_flight = arg(2).parse().unwrap_or(outbox::DEFAULT_MAX_IN_FLIGHT);
            drain(Path::new(&arg(1)), in_flight).await
        }
        "hol" => head_of_line(&arg(1)).await,
        "fanout" => fanout().await,
        "http" => http_alone(&arg(1), arg(2).parse().unwrap()).await,
        _ => {
            eprintln!("usage: bench_delivery seed DIR URL N | drain DIR [IN_FLIGHT] | hol URL | fanout | http URL N (make bench runs them all)");
            std::process::exit(2);
        }
    }
}
