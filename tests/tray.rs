//! The tray icon over real D-Bus: the built app, started as at login (`--autostart`, no window),
//! registers a StatusNotifierItem with a small StatusNotifierWatcher recorder that owns
//! `org.kde.StatusNotifierWatcher` on the test's private session bus. The test reads the item's
//! title and its `com.canonical.dbusmenu` menu (each interlock's reading, the pending work,
//! "Open Interlock Station", "Quit…"), clicks "Open" through the menu's `Event` method and sees
//! the window created. Without a watcher the app runs on with no tray.
//!
//! Run inside `scripts/with-test-session.sh` (a private session bus); a display is started with
//! Xvfb when DISPLAY is not set.

use interlock_core::model::ServiceInput;
use interlock_core::secrets::MemoryStore;
use interlock_core::{Station, SystemClock};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zbus::{OwnedVariant as OwnedValue, Variant as Value};

#[derive(Clone, Default)]
struct Watcher {
    /// (sender, the service or path it registered)
    items: Arc<Mutex<Vec<(String, String)>>>,
}

#[zbus::interface(name = "org.kde.StatusNotifierWatcher")]
impl Watcher {
    fn register_status_notifier_item(
        &self,
        service: String,
        #[zbus(header)] header: zbus::message::Header<'_>,
    ) {
        let sender = header.sender().map(|s| s.to_string()).unwrap_or_default();
        self.items.lock().unwrap().push((sender, service));
    }
    fn register_status_notifier_host(&self, _service: String) {}
    #[zbus(property)]
    fn registered_status_notifier_items(&self) -> Vec<String> {
        self.items
            .lock()
            .unwrap()
            .iter()
            .map(|(s, p)| format!("{s}{p}"))
            .collect()
    }
    #[zbus(property)]
    fn is_status_notifier_host_registered(&self) -> bool {
        true
    }
    #[zbus(property)]
    fn protocol_version(&self) -> i32 {
        0
    }
}

struct Xvfb(Option<Child>);
impl Drop for Xvfb {
    fn drop(&mut self) {
        if let Some(c) = &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The display to use: the caller's, or a fresh Xvfb.
fn display() -> (String, Xvfb) {
    if let Some(d) = std::env::var_os("DISPLAY").filter(|d| !d.is_empty()) {
        return (d.to_string_lossy().into_owned(), Xvfb(None));
    }
    let mut child = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1280x800x24",
            "-nolisten",
            "tcp",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("Xvfb (apt install xvfb)");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    (format!(":{}", line.trim()), Xvfb(Some(child)))
}

struct App {
    child: Child,
    log: Arc<Mutex<String>>,
}
impl App {
    fn start(data: &Path, display: &str) -> App {
        let mut child = Command::new(env!("CARGO_BIN_EXE_interlock-station"))
            .arg("--data-dir")
            .arg(data)
            .arg("--autostart")
            .env("DISPLAY", display)
            .env_remove("WAYLAND_DISPLAY")
            .env("INTERLOCK_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        let (mut err, sink) = (child.stderr.take().unwrap(), log.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        App { child, log }
    }
    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
    fn wait_log(&self, needle: &str, secs: u64) -> bool {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.log.lock().unwrap().contains(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}
impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn station_with_interlock(dir: &Path) {
    let s = Station::open(
        &dir.join("station.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    s.act_as_system();
    s.create_service(ServiceInput {
        name: "Confocal".into(),
        description: String::new(),
        tags: vec!["has_interlock".into()],
    })
    .unwrap();
}

type Layout = (i32, HashMap<String, OwnedValue>, Vec<OwnedValue>);

/// (id, label, enabled) of each top-level menu entry.
fn entries(layout: &Layout) -> Vec<(i32, String, bool)> {
    layout
        .2
        .iter()
        .filter_map(|child| {
            let v: Value = child.try_clone().ok()?.into();
            let v = match v {
                Value::Variant(inner) => *inner,
                v => v,
            };
            let (id, props, _): Layout = v.try_into().ok()?;
            let label = props
                .get("label")
                .and_then(|l| String::try_from(l.try_clone().ok()?).ok())
                .unwrap_or_default();
            let enabled = props
                .get("enabled")
                .and_then(|e| bool::try_from(e.try_clone().ok()?).ok())
                .unwrap_or(true);
            Some((id, label, enabled))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn tray_registers_shows_the_station_and_opens_the_window() {
    if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
        panic!("run inside scripts/with-test-session.sh (a private session bus)");
    }
    let (display, _xvfb) = display();

    // No watcher on the bus: no tray, and the station runs on.
    let plain = tempfile::tempdir().unwrap();
    let mut app = App::start(plain.path(), &display);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(
        app.alive(),
        "the app ended without a tray: {}",
        app.log.lock().unwrap()
    );
    drop(app);

    // A watcher: the item registers.
    let watcher = Watcher::default();
    let _conn = zbus::connection::Builder::session()
        .name("org.kde.StatusNotifierWatcher")
        .serve_at("/StatusNotifierWatcher", watcher.clone())
        .build()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    station_with_interlock(dir.path());
    let mut app = App::start(dir.path(), &display);
    let deadline = Instant::now() + Duration::from_secs(20);
    let (sender, item) = loop {
        if let Some(r) = watcher.items.lock().unwrap().first().cloned() {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no StatusNotifierItem registered: {}",
            app.log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(app.alive());
    let path = if item.starts_with('/') {
        item.clone()
    } else {
        "/StatusNotifierItem".to_string()
    };
    let conn = zbus::Connection::session().await.unwrap();
    let sni = zbus::Proxy::new(
        &conn,
        sender.as_str(),
        path.as_str(),
        "org.kde.StatusNotifierItem",
    )
    .await
    .unwrap();
    let menu_path: zbus::OwnedObjectPath = sni.get_property("Menu").await.unwrap();
    let menu = zbus::Proxy::new(
        &conn,
        sender.as_str(),
        menu_path.as_str(),
        "com.canonical.dbusmenu",
    )
    .await
    .unwrap();

    // The menu is refreshed from the station's state within a few seconds.
    let deadline = Instant::now() + Duration::from_secs(15);
    let (title, items) = loop {
        // The icon's label (tray-icon's title): libayatana publishes it as XAyatanaLabel.
        let title: String = sni.get_property("XAyatanaLabel").await.unwrap_or_default();
        let (_rev, layout): (u32, Layout) = menu
            .call("GetLayout", &(0i32, -1i32, Vec::<String>::new()))
            .await
            .unwrap();
        let items = entries(&layout);
        let updated =
            items.iter().any(|(_, l, _)| l.starts_with("Confocal")) && title.contains("attention");
        if updated || Instant::now() > deadline {
            break (title, items);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    println!("tray title: {title:?}");
    for (id, label, enabled) in &items {
        println!("menu {id}: {label:?} enabled={enabled}");
    }
    let labels: Vec<&str> = items.iter().map(|(_, l, _)| l.as_str()).collect();
    assert!(
        labels.contains(&"Confocal: Unknown (not read yet)"),
        "menu: {labels:?}"
    );
    assert!(
        labels.contains(&"Pending: 0 deliveries, 0 auto-locks"),
        "menu: {labels:?}"
    );
    assert!(labels.contains(&"Quit…"), "menu: {labels:?}");
    assert_eq!(
        title, "Interlock Station: an interlock needs attention",
        "an unread interlock makes the tray warn"
    );
    let info = items
        .iter()
        .find(|(_, l, _)| l.starts_with("Confocal"))
        .unwrap();
    assert!(!info.2, "status lines are not clickable");

    // Started at login: no window yet. "Open" through the menu's D-Bus creates it.
    assert!(!app.log.lock().unwrap().contains("window opened"));
    let open = items
        .iter()
        .find(|(_, l, _)| l == "Open Interlock Station")
        .expect("an Open item");
    let _: () = menu
        .call("Event", &(open.0, "clicked", Value::from(0i32), 0u32))
        .await
        .unwrap();
    assert!(
        app.wait_log("window opened", 10),
        "Open did not create the window: {}",
        app.log.lock().unwrap()
    );
    assert!(app.alive());
}
