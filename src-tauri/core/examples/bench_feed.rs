//! Calendar feed sync: time and peak memory of a first sync and of an unchanged (HTTP 304) one,
//! against a loopback HTTP server in this process. `make bench-feeds` runs it (release build).
//!
//! The station has 20 services, each with its own feed. Each feed holds one year of bookings: 5
//! weekly series (52 occurrences each, across the March and November DST changes in
//! `Europe/Berlin`) and 2 one-off bookings, so the 20 feeds carry 5,240 occurrences over the
//! year; the sync keeps those in its horizon (a day back, 90 days ahead). Accounts are matched
//! by the ATTENDEE e-mail.

use interlock_core::delivery::Deliverer;
use interlock_core::feed::FeedInput;
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::{AuthKind, SecretChange};
use interlock_core::{feed_sync, Role, Station, SystemClock};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const SERVICES: usize = 20;
const SERIES: usize = 5;
const SINGLES: usize = 2;

fn feed_text(service: usize, year: i32) -> String {
    let mut s = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n\
         BEGIN:STANDARD\r\nDTSTART:19701025T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
         RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\n\
         DTSTART:19700329T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
         RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
    );
    for k in 0..SERIES {
        let day = 5 + k; // Jan 5..9: one series per weekday
        let hour = 8 + (service % 4) * 2;
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:svc{service}-series{k}@bench\r\nDTSTAMP:{year}0101T000000Z\r\n\
             DTSTART;TZID=Europe/Berlin:{year}01{day:02}T{hour:02}0000\r\n\
             DTEND;TZID=Europe/Berlin:{year}01{day:02}T{:02}3000\r\n\
             RRULE:FREQ=WEEKLY;COUNT=52\r\nSUMMARY:Series {k}\r\n\
             ATTENDEE;CN=User {k}:mailto:user{k}@example.org\r\nEND:VEVENT\r\n",
            hour + 1
        ));
    }
    for k in 0..SINGLES {
        s.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:svc{service}-single{k}@bench\r\nDTSTAMP:{year}0101T000000Z\r\n\
             DTSTART:{year}06{:02}T060000Z\r\nDTEND:{year}06{:02}T070000Z\r\nSUMMARY:One-off\r\n\
             ATTENDEE:mailto:unknown{k}@example.org\r\nEND:VEVENT\r\n",
            10 + k,
            10 + k
        ));
    }
    s.push_str("END:VCALENDAR\r\n");
    s
}

/// Serves `/feed/N.ics` with an ETag; `If-None-Match` with it gets a 304.
async fn serve(feeds: Arc<Vec<String>>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                break;
            };
            let feeds = feeds.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                loop {
                    let mut got = Vec::new();
                    loop {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => got.extend_from_slice(&buf[..n]),
                        }
                        if got.windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&got).to_string();
                    let path = head.split_whitespace().nth(1).unwrap_or("/");
                    let n: usize = path
                        .trim_start_matches("/feed/")
                        .trim_end_matches(".ics")
                        .parse()
                        .unwrap_or(0);
                    let etag = format!("\"v1-{n}\"");
                    let reply = if head
                        .to_lowercase()
                        .contains(&format!("if-none-match: {}", etag.to_lowercase()))
                    {
                        format!("HTTP/1.1 304 Not Modified\r\netag: {etag}\r\ncontent-length: 0\r\n\r\n")
                            .into_bytes()
                    } else {
                        let body = &feeds[n];
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: text/calendar\r\netag: {etag}\r\ncontent-length: {}\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        r.extend_from_slice(body.as_bytes());
                        r
                    };
                    if s.write_all(&reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    base
}

fn peak_rss_kib() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let station = Arc::new(
        Station::open(
            &dir.path().join("bench.sqlite3"),
            Arc::new(SystemClock),
            Arc::new(MemoryStore::default()),
        )
        .unwrap(),
    );
    station.act_as_system();
    for k in 0..SERIES {
        station
            .create_account(NewAccount {
                username: format!("user{k}"),
                display_name: format!("User {k}"),
                role: Role::InstrumentUser,
                email: Some(format!("user{k}@example.org")),
                password: "bench-password".into(),
            })
            .unwrap();
    }
    let year = station
        .now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .year() as i32;
    let texts: Vec<String> = (0..SERVICES).map(|i| feed_text(i, year)).collect();
    let bytes: usize = texts.iter().map(String::len).sum();
    let base = rt.block_on(serve(Arc::new(texts)));
    for i in 0..SERVICES {
        let svc = station
            .create_service(ServiceInput {
                name: format!("Instrument {i:02}"),
                description: String::new(),
                tags: vec!["has_interlock".into()],
            })
            .unwrap();
        station
            .save_feed(
                None,
                FeedInput {
                    service_id: svc.id,
                    name: "Facility calendar".into(),
                    url: format!("{base}/feed/{i}.ics"),
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
    let deliverer = Deliverer::new().unwrap();
    let rss_before = peak_rss_kib();
    let t = Instant::now();
    let first = rt
        .block_on(feed_sync::sync_all(&station, &deliverer))
        .unwrap();
    let first_secs = t.elapsed().as_secs_f64();
    let rss_after = peak_rss_kib();
    let mut created = 0;
    for (_, r) in &first {
        created += r.as_ref().expect("first sync").created;
    }
    let t = Instant::now();
    let again = rt
        .block_on(feed_sync::sync_all(&station, &deliverer))
        .unwrap();
    let second_secs = t.elapsed().as_secs_f64();
    let not_modified = again
        .iter()
        .filter(|(_, r)| r.as_ref().is_ok_and(|r| r.not_modified))
        .count();
    let occurrences = SERVICES * (SERIES * 52 + SINGLES);
    println!(
        "{{\"feeds\":{SERVICES},\"occurrences_per_year\":{occurrences},\"feed_bytes\":{bytes},\
         \"bookings_in_horizon\":{created},\"first_sync_secs\":{first_secs:.3},\
         \"peak_rss_kib_before\":{},\"peak_rss_kib_after\":{},\
         \"unchanged_sync_secs\":{second_secs:.4},\"not_modified\":{not_modified}}}",
        rss_before.unwrap_or(0),
        rss_after.unwrap_or(0)
    );
}
