//! A real notification server for tests: owns org.freedesktop.Notifications on the test's private
//! session bus and records every notification, so a test asserts what a person would have seen.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Default)]
pub struct Recorder {
    pub seen: Arc<Mutex<Vec<(String, String, String)>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut seen = self.seen.lock().unwrap();
        seen.push((app_name, summary, body));
        seen.len() as u32
    }
    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }
    fn get_server_information(&self) -> (String, String, String, String) {
        (
            "interlock-test-recorder".into(),
            "interlock".into(),
            "1.0".into(),
            "1.2".into(),
        )
    }
    fn close_notification(&self, _id: u32) {}
}

impl Recorder {
    /// Notifications whose summary is `summary`, in order.
    pub fn with_summary(&self, summary: &str) -> Vec<(String, String, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s, _)| s == summary)
            .cloned()
            .collect()
    }

    /// Waits (up to 10 s) until at least one notification with `summary` arrived.
    pub async fn wait_for(&self, summary: &str) -> Vec<(String, String, String)> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let seen = self.with_summary(summary);
            if !seen.is_empty() || Instant::now() > deadline {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Lets notifications in flight (shown from a background thread) arrive.
    pub async fn settle(&self) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One recorder per test process: the bus name can be owned once.
pub async fn recorder() -> Recorder {
    static RECORDER: tokio::sync::OnceCell<(Recorder, zbus::Connection)> =
        tokio::sync::OnceCell::const_new();
    let (r, _) = RECORDER
        .get_or_init(|| async {
            let recorder = Recorder::default();
            let conn = zbus::connection::Builder::session()
                .name("org.freedesktop.Notifications")
                .serve_at("/org/freedesktop/Notifications", recorder.clone())
                .build()
                .await
                .expect("own org.freedesktop.Notifications on the test's session bus");
            (recorder, conn)
        })
        .await;
    r.clone()
}
