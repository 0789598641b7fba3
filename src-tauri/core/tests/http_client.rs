//! The station's HTTP client against real loopback servers: the per-host connection cap holds
//! however many requests are sent at once, a closed connection frees its place, and requests go
//! through a configured proxy (absolute form for HTTP, a CONNECT tunnel for HTTPS).

mod common;

use common::http::{read_request, start_tls_server};
use hyper_util::client::proxy::matcher::Matcher;
use interlock_core::delivery::{Deliverer, ErrorClass, Request};
use interlock_core::http_client::{ClientFactory, MAX_CONNECTIONS_PER_HOST};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

fn post(url: &str) -> Request {
    Request::post_json(url, br#"{"n":1}"#.to_vec(), "msg_test")
}

/// Connections accepted, and the most open at once.
#[derive(Default)]
struct Counts {
    accepted: AtomicUsize,
    open: AtomicUsize,
    most_open: AtomicUsize,
}

/// A keep-alive HTTP/1.1 receiver that answers each request after `delay` (or closes the
/// connection after each reply when `close` is set).
async fn keep_alive_server(delay: Duration, close: bool) -> (String, Arc<Counts>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            let c = c.clone();
            c.accepted.fetch_add(1, Ordering::SeqCst);
            let now = c.open.fetch_add(1, Ordering::SeqCst) + 1;
            c.most_open.fetch_max(now, Ordering::SeqCst);
            tokio::spawn(async move {
                loop {
                    let request = read_request(&mut tcp).await;
                    if request.is_empty() {
                        break;
                    }
                    tokio::time::sleep(delay).await;
                    let connection = if close { "close" } else { "keep-alive" };
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: {connection}\r\n\r\nok"
                    );
                    if tcp.write_all(reply.as_bytes()).await.is_err() || close {
                        break;
                    }
                }
                c.open.fetch_sub(1, Ordering::SeqCst);
            });
        }
    });
    (url, counts)
}

async fn send_all(deliverer: Arc<Deliverer>, url: &str, n: usize) -> usize {
    let mut tasks = Vec::new();
    for _ in 0..n {
        let d = deliverer.clone();
        let req = post(url);
        tasks.push(tokio::spawn(async move { d.send(&req).await }));
    }
    let mut delivered = 0;
    for t in tasks {
        let outcome = t.await.unwrap();
        assert!(outcome.success(), "{:?}", outcome.error);
        delivered += 1;
    }
    delivered
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hundred_requests_at_once_use_at_most_the_cap_of_connections() {
    let (url, counts) = keep_alive_server(Duration::from_millis(5), false).await;
    let deliverer = Arc::new(Deliverer::new().unwrap());
    assert_eq!(send_all(deliverer.clone(), &url, 300).await, 300);
    let accepted = counts.accepted.load(Ordering::SeqCst);
    println!("300 at once: {accepted} connections");
    assert!(
        accepted <= MAX_CONNECTIONS_PER_HOST,
        "{accepted} connections for 300 requests (cap {MAX_CONNECTIONS_PER_HOST})"
    );
    // And they are kept alive for the next ones: no new connection.
    assert_eq!(send_all(deliverer, &url, 200).await, 200);
    assert_eq!(counts.accepted.load(Ordering::SeqCst), accepted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_of_requests_in_flight_never_opens_one_connection_more() {
    // The outbox's pattern: 64 in flight, a new one as soon as one completes. A pool that caps
    // only idle connections opened a 65th when a connect raced a connection being freed.
    let (url, counts) = keep_alive_server(Duration::ZERO, false).await;
    let deliverer = Arc::new(Deliverer::new().unwrap());
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS_PER_HOST));
    let mut tasks = Vec::new();
    for _ in 0..3000 {
        let permit = slots.clone().acquire_owned().await.unwrap();
        let d = deliverer.clone();
        let req = post(&url);
        tasks.push(tokio::spawn(async move {
            let outcome = d.send(&req).await;
            drop(permit);
            outcome.success()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap());
    }
    let accepted = counts.accepted.load(Ordering::SeqCst);
    println!("3000 through 64 slots: {accepted} connections");
    assert!(
        accepted <= MAX_CONNECTIONS_PER_HOST,
        "{accepted} connections"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_smaller_cap_holds_and_a_closed_connection_frees_its_place() {
    let (url, counts) = keep_alive_server(Duration::from_millis(2), false).await;
    let capped = ClientFactory::new().with_connections_per_host(4);
    let deliverer = Arc::new(Deliverer::with_factory(capped).unwrap());
    assert_eq!(send_all(deliverer, &url, 100).await, 100);
    assert!(counts.most_open.load(Ordering::SeqCst) <= 4);
    assert!(counts.accepted.load(Ordering::SeqCst) <= 4);

    // A receiver that closes every connection after its reply: each close returns the place, so
    // 40 requests through a cap of 1 all arrive (on 40 connections, one at a time).
    let (url, counts) = keep_alive_server(Duration::ZERO, true).await;
    let one = ClientFactory::new().with_connections_per_host(1);
    let deliverer = Arc::new(Deliverer::with_factory(one).unwrap());
    assert_eq!(send_all(deliverer, &url, 40).await, 40);
    assert_eq!(counts.accepted.load(Ordering::SeqCst), 40);
    assert_eq!(counts.most_open.load(Ordering::SeqCst), 1);
}

/// A header's value in a request's text (names compared case-insensitively).
fn header(request: &str, name: &str) -> Option<String> {
    request.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
    })
}

/// A forward proxy on loopback: records what it was asked, answers plain HTTP itself and tunnels
/// CONNECT to the address asked for.
async fn proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let s = s.clone();
            tokio::spawn(async move {
                let request = read_request(&mut client).await;
                s.lock().unwrap().push(request.clone());
                let first = request.lines().next().unwrap_or("").to_string();
                if let Some(target) = first
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                {
                    let mut upstream = tokio::net::TcpStream::connect(target).await.unwrap();
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                } else {
                    let _ = client
                        .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 8\r\nconnection: close\r\n\r\nproxied!")
                        .await;
                }
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_go_through_the_configured_proxy() {
    let (proxy_addr, seen) = proxy().await;
    let proxies = Matcher::builder()
        .http(format!("http://staff:s3cret@{proxy_addr}"))
        .https(format!("http://staff:s3cret@{proxy_addr}"))
        .build();
    let deliverer = Deliverer::with_factory(ClientFactory::with_proxies(proxies)).unwrap();

    // Plain HTTP: the proxy gets the absolute URL and the proxy credentials.
    let outcome = deliverer
        .send(&post("http://relay.facility.invalid:8080/hook"))
        .await;
    assert!(outcome.success(), "{:?}", outcome.error);
    assert_eq!(outcome.excerpt, "proxied!");
    let plain = seen.lock().unwrap()[0].clone();
    assert!(
        plain.starts_with("POST http://relay.facility.invalid:8080/hook HTTP/1.1"),
        "{plain}"
    );
    assert_eq!(
        header(&plain, "proxy-authorization").as_deref(),
        Some("Basic c3RhZmY6czNjcmV0"),
        "{plain}"
    );

    // HTTPS: a CONNECT tunnel to the receiver, TLS end to end (the proxy sees no request).
    let tls = start_tls_server().await;
    let mut req = post(&tls.url);
    req.ca_pem = Some(tls.ca_pem.clone());
    let outcome = deliverer.send(&req).await;
    assert!(outcome.success(), "{:?}", outcome.error);
    assert_eq!(tls.hits.load(Ordering::SeqCst), 1);
    let connect = seen.lock().unwrap()[1].clone();
    let target = tls
        .url
        .trim_start_matches("https://")
        .trim_end_matches("/hook");
    assert!(
        connect.starts_with(&format!("CONNECT {target} HTTP/1.1")),
        "{connect}"
    );
    assert_eq!(
        header(&connect, "proxy-authorization").as_deref(),
        Some("Basic c3RhZmY6czNjcmV0"),
        "{connect}"
    );
    assert!(!connect.contains("POST"), "{connect}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_failures_are_named_as_what_they_are() {
    let deliverer = Deliverer::new().unwrap();

    let outcome = deliverer
        .send(&post("http://station-test.invalid/hook"))
        .await;
    assert_eq!(outcome.error_class, Some(ErrorClass::Dns), "{outcome:?}");
    assert_eq!(
        outcome.error.as_deref(),
        Some("DNS lookup failed for station-test.invalid:80")
    );

    let closed = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let outcome = deliverer.send(&post(&format!("http://{addr}/hook"))).await;
    assert_eq!(
        outcome.error_class,
        Some(ErrorClass::Refused),
        "{outcome:?}"
    );
    assert_eq!(
        outcome.error.as_deref(),
        Some(format!("Connection refused by {addr}").as_str())
    );

    // A receiver that answers something that is not HTTP.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut tcp, _)) = listener.accept().await {
            read_request(&mut tcp).await;
            let _ = tcp.write_all(b"SSH-2.0-OpenSSH_9.2\r\n\r\n").await;
        }
    });
    let outcome = deliverer.send(&post(&format!("http://{addr}/hook"))).await;
    assert_eq!(outcome.error_class, Some(ErrorClass::Other), "{outcome:?}");
    let error = outcome.error.unwrap();
    assert!(
        error.starts_with(&format!("Request to {addr} failed: ")) && error.contains("invalid HTTP"),
        "{error}"
    );
    assert!(!error.contains("client error"), "{error}");

    // A URL the client cannot use is a configuration error, not a panic.
    let outcome = deliverer.send(&post("not a url")).await;
    assert_eq!(outcome.error_class, Some(ErrorClass::Config), "{outcome:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_idle_in_one_pool_do_not_block_another_pool() {
    // Two webhooks to one host, one of them with "accept any certificate": two clients, two
    // pools. Idle connections of the first must not hold the second's places.
    let (url, counts) = keep_alive_server(Duration::ZERO, false).await;
    let capped = ClientFactory::new().with_connections_per_host(2);
    let deliverer = Arc::new(Deliverer::with_factory(capped).unwrap());
    assert_eq!(send_all(deliverer.clone(), &url, 20).await, 20);
    let mut insecure = post(&url);
    insecure.insecure = true;
    let outcome = tokio::time::timeout(Duration::from_secs(5), deliverer.send(&insecure))
        .await
        .expect("the second pool waited for places the first pool's idle connections hold");
    assert!(outcome.success(), "{:?}", outcome.error);
    assert!(counts.accepted.load(Ordering::SeqCst) <= 3);
}
