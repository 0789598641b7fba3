//! A real interlock relay on 127.0.0.1 for the safety-core tests: `/lock`, `/unlock` and
//! `/status` (`{"status":"locked"|"unlocked"}`) with switchable failures, so a test can take the
//! relay down, bring it back, make it hang, or make its status disagree with the lock.

use super::http::{read_request, respond};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    Normal,
    /// Every request is answered with this HTTP status line, e.g. "503 Service Unavailable".
    Fail(&'static str),
    /// Requests are held this long before the answer.
    Hang(Duration),
    /// Lock and unlock answer 200 but change nothing (status keeps its value).
    Stuck,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub at: Instant,
    /// "GET /status" etc.
    pub line: String,
    /// The request as text (head and body).
    pub raw: String,
}

#[derive(Debug)]
struct State {
    locked: bool,
    mode: Mode,
    received: Vec<Received>,
}

#[derive(Clone)]
pub struct Relay {
    pub url: String,
    state: Arc<Mutex<State>>,
}

impl Relay {
    pub async fn start(locked: bool) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State {
            locked,
            mode: Mode::Normal,
            received: Vec::new(),
        }));
        let shared = state.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    break;
                };
                let state = shared.clone();
                tokio::spawn(async move {
                    let raw = read_request(&mut tcp).await;
                    let line = raw
                        .lines()
                        .next()
                        .unwrap_or("")
                        .rsplit_once(' ')
                        .map(|(l, _)| l.to_string())
                        .unwrap_or_default();
                    let mode = {
                        let mut s = state.lock().unwrap();
                        s.received.push(Received {
                            at: Instant::now(),
                            line: line.clone(),
                            raw: raw.clone(),
                        });
                        s.mode.clone()
                    };
                    if let Mode::Hang(d) = &mode {
                        tokio::time::sleep(*d).await;
                    }
                    if let Mode::Fail(status) = mode {
                        respond(&mut tcp, status, "{}").await;
                        return;
                    }
                    let body = {
                        let mut s = state.lock().unwrap();
                        if mode != Mode::Stuck {
                            if line.ends_with("/lock") {
                                s.locked = true;
                            } else if line.ends_with("/unlock") {
                                s.locked = false;
                            }
                        }
                        let word = if s.locked { "locked" } else { "unlocked" };
                        format!("{{\"status\":\"{word}\"}}")
                    };
                    respond(&mut tcp, "200 OK", &body).await;
                });
            }
        });
        Relay { url, state }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.state.lock().unwrap().mode = mode;
    }

    pub fn set_locked(&self, locked: bool) {
        self.state.lock().unwrap().locked = locked;
    }

    pub fn locked(&self) -> bool {
        self.state.lock().unwrap().locked
    }

    pub fn received(&self) -> Vec<Received> {
        self.state.lock().unwrap().received.clone()
    }

    /// Request lines ("POST /lock", "GET /status") received so far, in order.
    pub fn lines(&self) -> Vec<String> {
        self.received().into_iter().map(|r| r.line).collect()
    }

    pub fn count(&self, line: &str) -> usize {
        self.lines().iter().filter(|l| *l == line).count()
    }

    /// Waits until a request with this line arrived; returns when it did.
    pub async fn wait_for(&self, line: &str, timeout: Duration) -> Option<Instant> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(r) = self.received().into_iter().find(|r| r.line == line) {
                return Some(r.at);
            }
            if Instant::now() > deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
