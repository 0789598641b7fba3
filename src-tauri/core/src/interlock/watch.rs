//! Why this exists: the status indicator must stay true without anyone clicking (§7). Rust polls
//! every interlock service that has a status webhook at the configured interval, whatever the
//! window shows or whether it exists; readings are stored in SQLite and pushed to the window.
//! A desktop notification is raised on transitions only — good → failing/unknown, and back — so
//! a relay down for ten minutes gives one failure and one recovery notification, not twenty.

use super::{InterlockAction, InterlockController, ReadingSource};
use crate::error::CoreResult;
use crate::model::{Event, LockState, Service, StatusReading};
use crate::store::{events, interlock_state, services, webhooks};
use jiff::{SignedDuration, Timestamp};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// What the watch remembers between ticks (in memory: after a restart every service is due).
#[derive(Debug, Default)]
pub(super) struct WatchState {
    last_poll: Mutex<HashMap<String, Timestamp>>,
    in_flight: Mutex<HashSet<String>>,
    auto_lock_running: AtomicBool,
}

/// Clears the auto-lock "running" flag when a pass ends, however it ends.
pub(super) struct RunningGuard<'a>(&'a AtomicBool);

impl Drop for RunningGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl WatchState {
    pub(super) fn auto_lock_running(&self) -> bool {
        self.auto_lock_running.load(Ordering::SeqCst)
    }
    pub(super) fn auto_lock_guard(&self) -> RunningGuard<'_> {
        self.auto_lock_running.store(true, Ordering::SeqCst);
        RunningGuard(&self.auto_lock_running)
    }
}

fn good(state: LockState) -> bool {
    state != LockState::Unknown
}

impl InterlockController {
    /// Polls every watched service whose interval has passed (on the station's clock); returns
    /// how many were polled. A service whose command is in progress is skipped this time: the
    /// command reads the status back itself, and a poll must never delay a Lock.
    pub async fn poll_due(&self) -> CoreResult<usize> {
        let (secs, targets) = self
            .db(|s| {
                let secs = s.interlock_poll_secs()?;
                if secs == 0 {
                    return Ok((0, Vec::new()));
                }
                let now = s.now();
                let store = s.store();
                let c = store.conn();
                let mut targets: Vec<(Service, Option<Event>)> = Vec::new();
                for service in services::list(c)? {
                    if service.interlock.is_none() {
                        continue;
                    }
                    let status = InterlockAction::Status.action();
                    if webhooks::matching(c, status, Some(&service.id))?.is_empty() {
                        continue;
                    }
                    let current = events::current_on_service(c, &service.id, now)?;
                    targets.push((service, current));
                }
                Ok((secs, targets))
            })
            .await?;
        if secs == 0 {
            return Ok(0);
        }
        let now = self.station.now();
        let interval = SignedDuration::from_secs(i64::from(secs));
        let mut chosen = Vec::new();
        {
            let mut last = crate::station::lock(&self.watch.last_poll);
            let mut in_flight = crate::station::lock(&self.watch.in_flight);
            for (service, event) in targets {
                let due = last
                    .get(&service.id)
                    .is_none_or(|t| t.checked_add(interval).is_ok_and(|at| now >= at));
                let busy = self.queue(&service.id).try_lock().is_err();
                if due && !busy && in_flight.insert(service.id.clone()) {
                    last.insert(service.id.clone(), now);
                    chosen.push((service, event));
                }
            }
        }
        let polls = chosen.iter().map(|(service, event)| async move {
            let r = self
                .read_status(service, event.as_ref(), ReadingSource::Watch)
                .await;
            crate::station::lock(&self.watch.in_flight).remove(&service.id);
            if let Err(e) = &r {
                tracing::error!(service = %service.name, "status watch: {}", e.message);
            }
            r
        });
        let results = futures_util::future::join_all(polls).await;
        Ok(results.iter().filter(|r| r.is_ok()).count())
    }

    /// Stores a new reading, tells the window, and notifies when it is a transition.
    pub(super) async fn record_reading(
        &self,
        service: &Service,
        reading: &StatusReading,
        source: ReadingSource,
    ) -> CoreResult<()> {
        let (sid, new) = (service.id.clone(), reading.clone());
        let previous = self
            .db(move |s| {
                let store = s.store();
                let previous = interlock_state::get(store.conn(), &sid)?;
                interlock_state::put(store.conn(), &sid, &new)?;
                Ok(previous)
            })
            .await?;
        if let Some(listener) = crate::station::lock(&self.listener).clone() {
            listener.reading(&service.id, reading);
        }
        let was_good = previous.as_ref().map(|p| good(p.state));
        let is_good = good(reading.state);
        if !is_good && was_good != Some(false) {
            tracing::warn!(service = %service.name, source = ?source, "interlock status became unknown: {}", reading.detail);
            // A person's Check status that failed announces itself; everything else is told here.
            if source != ReadingSource::StatusCommand {
                self.station.announce(
                    format!("Interlock status unknown — {}", service.name),
                    reading.detail.clone(),
                );
            }
        } else if is_good && was_good == Some(false) {
            let state = super::wire::state_word(reading.state);
            tracing::info!(service = %service.name, source = ?source, "interlock status readable again: {state}");
            self.station.announce(
                format!("Interlock status back — {}", service.name),
                format!("{} answers again: {state}.", service.name),
            );
        } else if previous.as_ref().map(|p| p.state) != Some(reading.state) {
            tracing::info!(service = %service.name, source = ?source, "interlock status: {}", super::wire::state_word(reading.state));
        }
        Ok(())
    }
}
