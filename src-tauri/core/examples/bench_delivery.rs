//! Delivery throughput and fan-out latency, measured against a real loopback receiver.
//! Run: `cargo run --release -p interlock-core --example bench_delivery`
//! 1. drain 1,000 queued deliveries to a receiver that answers at once: deliveries per second;
//! 2. one event with 10 webhooks whose receiver waits 200 ms each: wall time of the action
//!    (sequential sending would take 2 s; concurrent about 200 ms).

use interlock_core::delivery::Deliverer;
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::*;
use interlock_core::{outbox, Role, Station, SystemClock};
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

fn station(dir: &std::path::Path) -> (Station, Account, Service) {
    let s = Station::open(
        &dir.join("bench.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    let user = s
        .create_account(NewAccount {
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

fn hook(url: &str) -> WebhookInput {
    WebhookInput {
        body: r#"{"site":"B2"}"#.into(),
        timeout_secs: 30,
        ..WebhookInput::new(
            "bench",
            Action::new(ActionType::Event, ActionSubtype::Create),
            url,
        )
    }
}

fn event(s: &Station, user: &Account, svc: &Service, i: i64) {
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
    .unwrap();
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let deliverer = Arc::new(Deliverer::new().unwrap());

    // 1. Throughput.
    let dir = tempfile::tempdir().unwrap();
    let url = receiver(Duration::ZERO).await;
    let (s, user, svc) = station(dir.path());
    let s = Arc::new(s);
    s.save_webhook(None, hook(&url)).unwrap();
    for i in 0..1000 {
        event(&s, &user, &svc, i);
    }
    let started = Instant::now();
    let report = outbox::drain_now(&s, &deliverer).await.unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.delivered, 1000, "{report:?}");
    println!(
        "drain 1000 queued deliveries: {:.2} s, {:.0} deliveries/s",
        secs,
        1000.0 / secs
    );

    // 2. Fan-out of one action to 10 webhooks, receiver waits 200 ms each.
    let dir = tempfile::tempdir().unwrap();
    let slow = receiver(Duration::from_millis(200)).await;
    let (s, user, svc) = station(dir.path());
    let s = Arc::new(s);
    for _ in 0..10 {
        s.save_webhook(None, hook(&slow)).unwrap();
    }
    let mut times = Vec::new();
    for i in 0..7 {
        let started = Instant::now();
        event(&s, &user, &svc, i);
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
