//! Why this exists: when a user who unlocked leaves, the instrument must be locked at the end of
//! their window — but never under the next user (§7). At each due auto-lock, in the service's
//! queue: a booking whose window is already open takes the pending auto-lock over (no lock is
//! sent); edits of the booking re-time it, deletion or switching auto-lock off cancels it; the
//! row stays until the lock is confirmed (status read back as locked, or every lock webhook
//! answered 2xx when there is no status webhook), and a failed lock is retried on a schedule
//! and escalated. Every step is audited and logged.

use super::command::open_bookings;
use super::{audit, auto_lock_account, InterlockAction, InterlockController, ReadingSource};
use crate::error::{CoreError, CoreResult};
use crate::gating::BookingWindow;
use crate::model::{Account, Event, LockState, Service};
use crate::roles::Permission;
use crate::store::auto_locks::{self, PendingAutoLock};
use crate::store::{events, services};
use jiff::{SignedDuration, Timestamp};

/// Seconds between attempts after the 1st, 2nd, 3rd and 4th failure; then every 5 minutes.
pub const AUTO_LOCK_RETRY_SECS: [i64; 4] = [30, 60, 120, 300];
/// While an auto-lock keeps failing, a notification is raised again after this long.
const RENOTIFY_AFTER: SignedDuration = SignedDuration::from_hours(1);

/// What one pass did with a pending auto-lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AutoLockStep {
    Confirmed {
        service_id: String,
    },
    Failed {
        service_id: String,
        attempts: u32,
        error: String,
    },
    HandedOver {
        service_id: String,
        to_event_id: String,
    },
    Retimed {
        service_id: String,
        due_at: Timestamp,
    },
    Cancelled {
        service_id: String,
        reason: String,
    },
}

enum Plan {
    Nothing,
    Done(AutoLockStep),
    Lock(Box<(Service, Option<Event>, PendingAutoLock)>),
}

fn local(t: Timestamp) -> String {
    crate::locale::LocalTimes::os().date_time(t)
}

fn describe(e: &Event) -> String {
    format!(
        "\"{}\" ({}, {} to {})",
        e.title,
        e.user_display_name,
        local(e.starts_at),
        local(e.ends_at)
    )
}

fn retry_delay(attempts: u32) -> SignedDuration {
    let i = (attempts.max(1) as usize - 1).min(AUTO_LOCK_RETRY_SECS.len() - 1);
    SignedDuration::from_secs(AUTO_LOCK_RETRY_SECS[i])
}

/// Decides, in one transaction, what a due auto-lock should do now.
fn plan(s: &crate::station::Station, service_id: &str, now: Timestamp) -> CoreResult<Plan> {
    let mut store = s.store();
    let tx = store.conn_mut().transaction()?;
    let Some(mut pending) = auto_locks::get(&tx, service_id)? else {
        return Ok(Plan::Nothing);
    };
    if pending.next_try() > now {
        return Ok(Plan::Nothing);
    }
    let system = auto_lock_account(now);
    let Some(service) = services::get(&tx, service_id)? else {
        auto_locks::cancel(&tx, service_id)?;
        tx.commit()?;
        return Ok(Plan::Nothing);
    };
    let event = match &pending.event_id {
        Some(id) => events::get(&tx, id)?,
        None => None,
    };
    let cancel_reason = if !service.auto_lock {
        Some("auto-lock is switched off for this service")
    } else if service.interlock.is_none() {
        Some("the service no longer has an interlock")
    } else if pending.event_id.is_some() && event.is_none() {
        Some("its booking was deleted")
    } else if event.as_ref().is_some_and(|e| e.service_id != service.id) {
        Some("its booking moved to another service")
    } else {
        None
    };
    if let Some(reason) = cancel_reason {
        auto_locks::cancel(&tx, service_id)?;
        let why = format!("auto-lock cancelled: {reason}");
        audit(
            &tx,
            now,
            &system,
            &service,
            event.as_ref(),
            "auto_lock",
            "cancelled",
            &why,
        )?;
        tx.commit()?;
        tracing::info!(service = %service.name, "{why}");
        return Ok(Plan::Done(AutoLockStep::Cancelled {
            service_id: service.id,
            reason: reason.to_string(),
        }));
    }
    let window = service.interlock.unwrap_or_default();
    // Safety net for edits that did not come through the station (the edit hook re-times too).
    if let Some(e) = &event {
        let closes = BookingWindow::of(e, window).closes_at;
        if closes != pending.due_at {
            auto_locks::retime(&tx, service_id, closes)?;
            pending.due_at = closes;
            if closes > now {
                let why = format!(
                    "auto-lock re-timed to {}: the booking changed",
                    local(closes)
                );
                audit(
                    &tx,
                    now,
                    &system,
                    &service,
                    Some(e),
                    "auto_lock",
                    "retimed",
                    &why,
                )?;
                tx.commit()?;
                tracing::info!(service = %service.name, "{why}");
                return Ok(Plan::Done(AutoLockStep::Retimed {
                    service_id: service.id,
                    due_at: closes,
                }));
            }
        }
    }
    // Handover: never lock while another booking's window is open.
    let next = open_bookings(&tx, &service, now)?
        .into_iter()
        .find(|e| Some(&e.id) != pending.event_id.as_ref());
    if let Some(next) = next {
        let due = BookingWindow::of(&next, window).closes_at;
        auto_locks::schedule(&tx, service_id, Some(&next.id), due)?;
        let why = format!(
            "handed over to {}; auto-lock now at {}",
            describe(&next),
            local(due)
        );
        audit(
            &tx,
            now,
            &system,
            &service,
            event.as_ref(),
            "auto_lock",
            "handed_over",
            &why,
        )?;
        tx.commit()?;
        tracing::info!(service = %service.name, from = ?pending.event_id, to = %next.id, "auto-lock {why}");
        return Ok(Plan::Done(AutoLockStep::HandedOver {
            service_id: service.id,
            to_event_id: next.id,
        }));
    }
    tx.commit()?;
    Ok(Plan::Lock(Box::new((service, event, pending))))
}

impl InterlockController {
    /// Handles every auto-lock that is due (also those that fell due while the app was closed).
    pub async fn run_due_auto_locks(&self) -> CoreResult<Vec<AutoLockStep>> {
        let now = self.station.now();
        let due = self
            .db(move |s| auto_locks::due(s.store().conn(), now))
            .await?;
        let mut steps = Vec::new();
        for pending in due {
            match self.auto_lock_one(&pending.service_id).await {
                Ok(Some(step)) => steps.push(step),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(service = %pending.service_id, code = e.code.as_str(), "auto-lock: {}", e.message)
                }
            }
        }
        Ok(steps)
    }

    async fn auto_lock_one(&self, service_id: &str) -> CoreResult<Option<AutoLockStep>> {
        let queue = self.queue(service_id);
        let _turn = queue.lock().await;
        let now = self.station.now();
        let sid = service_id.to_string();
        let (service, event, pending) = match self.db(move |s| plan(s, &sid, now)).await? {
            Plan::Nothing => return Ok(None),
            Plan::Done(step) => return Ok(Some(step)),
            Plan::Lock(lock) => *lock,
        };
        tracing::info!(service = %service.name, booking = ?pending.event_id, attempt = pending.attempts + 1, "auto-lock: sending lock");
        let result = self
            .send(
                &service,
                event.as_ref(),
                InterlockAction::Lock,
                ReadingSource::AutoLock,
            )
            .await?;
        let error = match (&result.error, &result.reading) {
            (Some(e), _) => Some(e.clone()),
            (None, Some(r)) if r.state != LockState::Locked => Some(format!(
                "the lock was sent but the status reads {}{}",
                super::wire::state_word(r.state),
                if r.detail.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", r.detail)
                }
            )),
            (None, _) => None,
        };
        let now = self.station.now();
        let step = match error {
            None => {
                let (svc, ev, p) = (service.clone(), event.clone(), pending.clone());
                self.db(move |s| {
                    let store = s.store();
                    let c = store.conn();
                    // Only the auto-lock that was sent is removed (not one re-scheduled meanwhile).
                    if auto_locks::get(c, &svc.id)?
                        .is_some_and(|now_p| now_p.event_id == p.event_id)
                    {
                        auto_locks::cancel(c, &svc.id)?;
                    }
                    // The lock that ended the booking's use (auto-lock moves no end).
                    if let Some(e) = &ev {
                        crate::usage::after_lock(c, &auto_lock_account(now), &svc, e, now, false)?;
                    }
                    let why = match p.attempts {
                        0 => String::new(),
                        n => format!("confirmed after {n} failed attempt(s)"),
                    };
                    audit(
                        c,
                        now,
                        &auto_lock_account(now),
                        &svc,
                        ev.as_ref(),
                        "auto_lock",
                        "ok",
                        &why,
                    )
                })
                .await?;
                tracing::info!(service = %service.name, "auto-lock confirmed");
                if pending.attempts > 0 {
                    self.station.announce(
                        format!("Auto-lock confirmed — {}", service.name),
                        format!(
                            "{} is locked after {} failed attempt(s).",
                            service.name, pending.attempts
                        ),
                    );
                }
                AutoLockStep::Confirmed {
                    service_id: service.id.clone(),
                }
            }
            Some(error) => {
                let attempts = pending.attempts + 1;
                let next = now
                    .checked_add(retry_delay(attempts))
                    .unwrap_or(Timestamp::MAX);
                let notify = attempts == 1
                    || pending
                        .last_notified_at
                        .is_none_or(|t| now.duration_since(t) >= RENOTIFY_AFTER);
                let (svc, ev, err) = (service.clone(), event.clone(), error.clone());
                self.db(move |s| {
                    let store = s.store();
                    let c = store.conn();
                    auto_locks::record_failure(
                        c,
                        &svc.id,
                        attempts,
                        next,
                        &err,
                        notify.then_some(now),
                    )?;
                    let why = format!("attempt {attempts}: {err}; next attempt at {}", local(next));
                    audit(
                        c,
                        now,
                        &auto_lock_account(now),
                        &svc,
                        ev.as_ref(),
                        "auto_lock",
                        "failed",
                        &why,
                    )
                })
                .await?;
                tracing::warn!(service = %service.name, attempts, next = %next, "auto-lock failed: {error}");
                if notify {
                    self.station.announce(
                        format!("Auto-lock failed — {}", service.name),
                        format!(
                            "{error}. Retrying until the lock is confirmed (attempt {attempts}); staff can dismiss it at the station."
                        ),
                    );
                }
                AutoLockStep::Failed {
                    service_id: service.id.clone(),
                    attempts,
                    error,
                }
            }
        };
        Ok(Some(step))
    }

    /// Staff give up on a pending auto-lock (e.g. the relay is being replaced). Audited.
    pub fn dismiss_auto_lock(&self, service_id: &str) -> CoreResult<()> {
        let s = &self.station;
        let actor = s.actor(Permission::ManageSchedule)?;
        let now = s.now();
        let mut store = s.store();
        let tx = store.conn_mut().transaction()?;
        let service =
            services::get(&tx, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
        let pending = auto_locks::get(&tx, service_id)?
            .ok_or_else(|| CoreError::not_found("The pending auto-lock"))?;
        let event = match &pending.event_id {
            Some(id) => events::get(&tx, id)?,
            None => None,
        };
        auto_locks::cancel(&tx, service_id)?;
        audit(
            &tx,
            now,
            &actor,
            &service,
            event.as_ref(),
            "auto_lock",
            "dismissed",
            "dismissed by staff",
        )?;
        tx.commit()?;
        tracing::warn!(service = %service.name, user = %actor.username, "pending auto-lock dismissed");
        Ok(())
    }

    pub fn next_auto_lock(&self) -> CoreResult<Option<Timestamp>> {
        auto_locks::next_due(self.station.store().conn())
    }
}

/// Keeps a pending auto-lock in step with its booking after an edit (`after` = Some) or a
/// deletion (`after` = None). Runs inside the caller's transaction; audited as `actor`.
pub(crate) fn follow_booking_change(
    conn: &rusqlite::Connection,
    actor: &Account,
    before: &Event,
    after: Option<&Event>,
    now: Timestamp,
) -> CoreResult<()> {
    let Some(pending) = auto_locks::for_event(conn, &before.id)? else {
        return Ok(());
    };
    let Some(service) = services::get(conn, &pending.service_id)? else {
        return Ok(());
    };
    let cancel = match after {
        None => Some("its booking was deleted"),
        Some(a) if a.service_id != pending.service_id => {
            Some("its booking moved to another service")
        }
        Some(_) => None,
    };
    if let Some(reason) = cancel {
        auto_locks::cancel(conn, &service.id)?;
        let why = format!("auto-lock cancelled: {reason}");
        audit(
            conn,
            now,
            actor,
            &service,
            Some(before),
            "auto_lock",
            "cancelled",
            &why,
        )?;
        tracing::info!(service = %service.name, "{why}");
        return Ok(());
    }
    let after = after.unwrap_or(before);
    let due = BookingWindow::of(after, service.interlock.unwrap_or_default()).closes_at;
    if due != pending.due_at {
        auto_locks::retime(conn, &service.id, due)?;
        let why = format!(
            "auto-lock re-timed to {}: the booking was edited",
            local(due)
        );
        audit(
            conn,
            now,
            actor,
            &service,
            Some(after),
            "auto_lock",
            "retimed",
            &why,
        )?;
        tracing::info!(service = %service.name, "{why}");
    }
    Ok(())
}

/// Cancels the pending auto-lock of a service (auto-lock switched off). Audited as `actor`.
pub(crate) fn cancel_for_service(
    conn: &rusqlite::Connection,
    actor: &Account,
    service: &Service,
    reason: &str,
    now: Timestamp,
) -> CoreResult<()> {
    let Some(pending) = auto_locks::get(conn, &service.id)? else {
        return Ok(());
    };
    let event = match &pending.event_id {
        Some(id) => events::get(conn, id)?,
        None => None,
    };
    auto_locks::cancel(conn, &service.id)?;
    let why = format!("auto-lock cancelled: {reason}");
    audit(
        conn,
        now,
        actor,
        service,
        event.as_ref(),
        "auto_lock",
        "cancelled",
        &why,
    )?;
    tracing::info!(service = %service.name, "{why}");
    Ok(())
}
