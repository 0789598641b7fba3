//! The relay simulator as a real process, driven by the station's interlock controller: HTTP with
//! basic auth, HTTPS (standard refused, custom CA and insecure accepted), the §2, Shelly and Tasmota
//! status shapes, failing on demand, click order, and `demo-seed` wiring a demo station to it.

use interlock_core::delivery::Deliverer;
use interlock_core::interlock::{InterlockAction, InterlockController};
use interlock_core::model::*;
use interlock_core::secrets::MemoryStore;
use interlock_core::webhook::*;
use interlock_core::{Station, SystemClock};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

struct Sim {
    child: Child,
    http: String,
    https: String,
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app's binary beside this test's target folder (`target/debug/interlock-station`): the
/// simulator is its own package, so Cargo does not hand us its path. `cargo test --workspace`
/// (what `make test` runs) builds it; `cargo test -p interlock-relay-sim` alone needs a
/// `cargo build` first.
fn app_binary() -> std::path::PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let app = dir.join(format!("interlock-station{}", std::env::consts::EXE_SUFFIX));
    assert!(
        app.exists(),
        "{} is missing: run `cargo build` (or `cargo test --workspace`) first",
        app.display()
    );
    app
}

fn start_sim(extra: &[&str], ca_out: &Path) -> Sim {
    let mut child = Command::new(env!("CARGO_BIN_EXE_interlock-relay-sim"))
        .args(["--port", "0", "--tls-port", "0", "--ca-out"])
        .arg(ca_out)
        .args(extra)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut http = String::new();
    let mut https = String::new();
    while http.is_empty() || https.is_empty() {
        let line = lines.next().unwrap().unwrap();
        if let Some(rest) = line.strip_prefix("relay-sim: http://") {
            http = format!("http://{rest}");
        } else if let Some(rest) = line.strip_prefix("relay-sim: https://") {
            https = format!("https://{}", rest.split(' ').next().unwrap());
        }
    }
    // Keep draining its log so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Sim { child, http, https }
}

fn sim_state(sim: &Sim) -> Value {
    let out = Command::new("curl")
        .args(["-s", &format!("{}/sim/state", sim.http)])
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn sim_mode(sim: &Sim, mode: &str) {
    let status = Command::new("curl")
        .args([
            "-s",
            "-X",
            "POST",
            "-H",
            "content-type: application/json",
            "-d",
            &format!(r#"{{"mode":"{mode}","delay_secs":3}}"#),
            &format!("{}/sim/mode", sim.http),
        ])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
}

fn hook(name: &str, sub: ActionSubtype, url: &str) -> WebhookInput {
    WebhookInput {
        auth: AuthKind::Basic,
        auth_username: "relay".into(),
        auth_secret: SecretChange::Set {
            value: "relay-pw".into(),
        },
        timeout_secs: 2,
        ..WebhookInput::new(name, Action::new(ActionType::Interlock, sub), url)
    }
}

#[test]
fn the_station_drives_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("relay-ca.pem");
    let sim = start_sim(&["--user", "relay", "--password", "relay-pw"], &ca);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let station = Arc::new(
        Station::open(
            &dir.path().join("s.sqlite3"),
            Arc::new(SystemClock),
            Arc::new(MemoryStore::default()),
        )
        .unwrap(),
    );
    station.act_as_system();
    let svc = station
        .create_service(ServiceInput {
            name: "Confocal".into(),
            description: String::new(),
            tags: vec!["has_interlock".into()],
        })
        .unwrap();
    let ctl = InterlockController::new(station.clone(), Arc::new(Deliverer::new().unwrap()));
    station
        .save_webhook(
            None,
            hook(
                "unlock",
                ActionSubtype::Unlock,
                &format!("{}/unlock", sim.http),
            ),
        )
        .unwrap();
    let lock = station
        .save_webhook(
            None,
            hook("lock", ActionSubtype::Lock, &format!("{}/lock", sim.http)),
        )
        .unwrap()
        .webhook;
    station
        .save_webhook(
            None,
            hook(
                "plain",
                ActionSubtype::Status,
                &format!("{}/status", sim.http),
            ),
        )
        .unwrap();
    let mut shelly = hook(
        "shelly",
        ActionSubtype::Status,
        &format!("{}/shelly/status", sim.http),
    );
    (
        shelly.status_pointer,
        shelly.status_locked,
        shelly.status_unlocked,
    ) = ("/ison".into(), "false".into(), "true".into());
    station.save_webhook(None, shelly).unwrap();
    let mut tasmota = hook(
        "tasmota",
        ActionSubtype::Status,
        &format!("{}/tasmota/status", sim.https),
    );
    (
        tasmota.status_pointer,
        tasmota.status_locked,
        tasmota.status_unlocked,
    ) = ("/POWER".into(), "OFF".into(), "ON".into());
    tasmota.ca_pem = Some(std::fs::read_to_string(&ca).unwrap());
    station.save_webhook(None, tasmota).unwrap();

    let cmd = |a| rt.block_on(ctl.command(&svc.id, None, a, None)).unwrap();
    let r = cmd(InterlockAction::Unlock);
    assert!(r.ok, "{r:?}");
    assert_eq!(sim_state(&sim)["state"], "unlocked");
    assert_eq!(
        r.reading.unwrap().state,
        LockState::Unlocked,
        "three status shapes agree"
    );
    let r = cmd(InterlockAction::Lock);
    assert_eq!(r.reading.unwrap().state, LockState::Locked);
    assert_eq!(sim_state(&sim)["state"], "locked");

    // Wrong credentials: 401, named.
    let mut bad = hook("lock", ActionSubtype::Lock, &format!("{}/lock", sim.http));
    bad.auth_secret = SecretChange::Set {
        value: "wrong".into(),
    };
    station.save_webhook(Some(&lock.id), bad).unwrap();
    assert_eq!(
        cmd(InterlockAction::Lock).results[0].message,
        "HTTP 401 Unauthorized from lock"
    );
    station
        .save_webhook(
            Some(&lock.id),
            hook("lock", ActionSubtype::Lock, &format!("{}/lock", sim.http)),
        )
        .unwrap();

    // HTTPS: standard without the CA is refused as a TLS problem; insecure works.
    let mut std_tls = hook(
        "tls",
        ActionSubtype::Unlock,
        &format!("{}/unlock", sim.https),
    );
    let tls = station.save_webhook(None, std_tls.clone()).unwrap().webhook;
    let r = cmd(InterlockAction::Unlock);
    assert!(!r.ok);
    assert!(
        r.results
            .iter()
            .any(|x| x.message.starts_with("TLS certificate problem")),
        "{r:?}"
    );
    std_tls.insecure = true;
    station.save_webhook(Some(&tls.id), std_tls).unwrap();
    assert!(cmd(InterlockAction::Unlock).ok);

    // Failing on demand.
    sim_mode(&sim, "fail");
    let r = cmd(InterlockAction::Lock);
    assert_eq!(
        r.error.as_deref(),
        Some("Lock failed: HTTP 503 Service Unavailable from lock")
    );
    sim_mode(&sim, "malformed");
    let r = cmd(InterlockAction::Status);
    assert!(!r.ok);
    assert!(r.reading.unwrap().detail.contains("not valid JSON"));
    sim_mode(&sim, "delay");
    let r = cmd(InterlockAction::Lock);
    assert!(r.error.unwrap().contains("Timed out after 2 s"));
    sim_mode(&sim, "normal");

    // Rapid clicks reach the relay in order.
    let ctl = Arc::new(ctl);
    let before = sim_state(&sim)["history"].as_array().unwrap().len();
    rt.block_on(async {
        let mut hs = Vec::new();
        for a in [
            InterlockAction::Unlock,
            InterlockAction::Lock,
            InterlockAction::Unlock,
        ] {
            let (ctl, id) = (ctl.clone(), svc.id.clone());
            hs.push(tokio::spawn(async move {
                ctl.command(&id, None, a, None).await
            }));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        for h in hs {
            h.await.unwrap().unwrap();
        }
    });
    let history = sim_state(&sim)["history"].as_array().unwrap().clone();
    let pushes: Vec<&str> = history[before..]
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .filter(|p| *p == "/lock" || *p == "/unlock")
        .collect();
    assert_eq!(
        pushes,
        ["/unlock", "/unlock", "/lock", "/unlock", "/unlock"],
        "two unlock webhooks (http + https) per unlock"
    );
}

#[test]
fn demo_seed_wires_a_demo_station_to_the_simulator() {
    let dir = tempfile::tempdir().unwrap();
    let sim = start_sim(&[], &dir.path().join("ca.pem"));
    let out = Command::new(app_binary())
        .arg("--data-dir")
        .arg(dir.path())
        .args(["demo-seed", "--relay", &sim.http])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("user   / demo-user"), "{text}");
    let station = Station::open(
        &dir.path().join("station.sqlite3"),
        Arc::new(SystemClock),
        Arc::new(MemoryStore::default()),
    )
    .unwrap();
    station.sign_in("user", "demo-user").unwrap();
    let svc = station.list_services().unwrap().remove(0);
    let ctl = InterlockController::new(Arc::new(station), Arc::new(Deliverer::new().unwrap()));
    let panel = ctl.panel(&svc.id).unwrap();
    assert!(
        panel.access.allowed(),
        "the demo booking is open now: {:?}",
        panel.access
    );
    assert!(panel.has_lock && panel.has_unlock && panel.has_status);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let r = rt
        .block_on(ctl.command(
            &svc.id,
            panel.event.as_ref().map(|e| e.id.as_str()),
            InterlockAction::Unlock,
            None,
        ))
        .unwrap();
    assert!(r.ok, "{r:?}");
    assert_eq!(r.reading.unwrap().state, LockState::Unlocked);
    assert_eq!(sim_state(&sim)["state"], "unlocked");
}
