//! Why this exists: a person's Lock / Unlock / Check status and the panel they see. The command
//! takes its place in the service's queue first (click order), then decides gating with the clock
//! of that moment — a command that waited in the queue past the window's end is refused — then
//! sends, audits, schedules or clears auto-lock, and announces a failure every time.

use super::{
    audit, AutoLockInfo, InterlockAction, InterlockController, InterlockPanel, InterlockResult,
    ReadingSource,
};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::gating::{self, BookingWindow};
use crate::model::{Account, Event, LockState, Service};
use crate::roles::Permission;
use crate::station::Station;
use crate::store::{auto_locks, events, interlock_state, services, webhooks};
use crate::webhook::{ActionSubtype, ActionType, Webhook};
use jiff::Timestamp;

impl InterlockController {
    /// The panel for one service as the signed-in person may see it.
    pub fn panel(&self, service_id: &str) -> CoreResult<InterlockPanel> {
        let s = &self.station;
        let actor = s.actor(Permission::ViewOwnSchedule)?;
        let now = s.now();
        let poll_secs = s.interlock_poll_secs()?;
        let store = s.store();
        let c = store.conn();
        let service =
            services::get(c, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
        let mut event = relevant_event(c, &actor, &service, now)?;
        if !actor.role.is_staff() {
            if let Some(e) = event.as_mut() {
                e.usage = None;
            }
        }
        let hooks: Vec<Webhook> = webhooks::list(c)?
            .into_iter()
            .filter(|w| w.enabled && w.action.kind == ActionType::Interlock)
            .filter(|w| w.service_id.as_deref().is_none_or(|s| s == service_id))
            .collect();
        let reading = interlock_state::get(c, service_id)?;
        let auto_lock = match actor.role.is_staff() {
            true => auto_locks::get(c, service_id)?.map(|p| AutoLockInfo {
                due_at: p.due_at,
                event_id: p.event_id,
                attempts: p.attempts,
                next_attempt_at: p.next_attempt_at,
                last_error: p.last_error,
            }),
            false => None,
        };
        drop(store);
        let access = gating::decide(
            actor.role,
            &actor.id,
            service.interlock,
            event.as_ref(),
            now,
        );
        let has = |s: ActionSubtype| hooks.iter().any(|w| w.action.subtype == s);
        Ok(InterlockPanel {
            has_lock: has(ActionSubtype::Lock),
            has_unlock: has(ActionSubtype::Unlock),
            has_status: has(ActionSubtype::Status),
            access,
            event,
            reading,
            poll_secs,
            auto_lock,
            service,
        })
    }

    /// Lock, unlock or read the status of `service_id`, for booking `event_id` (staff may omit
    /// it). Refused outside the rules, whatever the UI showed; the rules are applied when the
    /// command's turn comes, with the clock of that moment.
    pub async fn command(
        &self,
        service_id: &str,
        event_id: Option<&str>,
        action: InterlockAction,
        reason: Option<String>,
    ) -> CoreResult<InterlockResult> {
        // Take a place in the queue before anything else, so commands keep their click order.
        let queue = self.queue(service_id);
        let _turn = queue.lock().await;
        let (sid, eid) = (service_id.to_string(), event_id.map(str::to_string));
        let (actor, service, event) = self
            .db(move |s| check_command(s, &sid, eid.as_deref(), action))
            .await?;
        let staff_reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let result = self
            .send(&service, event.as_ref(), action, ReadingSource::Command)
            .await?;
        let audit_reason = match (&result.error, &staff_reason) {
            (Some(e), Some(r)) => format!("{e} (override reason: {r})"),
            (Some(e), None) => e.clone(),
            (None, Some(r)) => format!("override reason: {r}"),
            (None, None) => String::new(),
        };
        tracing::info!(service = %service.name, action = action.as_str(), user = %actor.username, ok = result.ok, "interlock command: {}", result.error.as_deref().unwrap_or("ok"));
        let done = result.clone();
        let service_name = service.name.clone();
        let (post_lock_url, booking_ends_at) = self
            .db(move |s| {
                let now = s.now();
                let mut store = s.store();
                // One transaction: the audit entry, the usage record, a moved end with its
                // event/update webhooks and the re-timed auto-lock — all or nothing.
                let tx = store.conn_mut().transaction()?;
                let outcome = if done.ok { "ok" } else { "failed" };
                if done.ok && action == InterlockAction::Unlock {
                    if let Some(e) = &event {
                        crate::usage::after_unlock(&tx, &actor, e, now)?;
                    }
                }
                if done.ok && action == InterlockAction::Unlock && service.auto_lock {
                    if let (Some(e), Some(w)) = (&event, service.interlock) {
                        let due = BookingWindow::of(e, w).closes_at;
                        auto_locks::schedule(&tx, &service.id, Some(&e.id), due)?;
                        tracing::info!(service = %service.name, booking = %e.id, due = %due, "auto-lock scheduled");
                    }
                }
                let confirmed_locked = done
                    .reading
                    .as_ref()
                    .is_none_or(|r| r.state == LockState::Locked);
                if done.ok
                    && action == InterlockAction::Lock
                    && confirmed_locked
                    && auto_locks::cancel(&tx, &service.id)?
                {
                    tracing::info!(service = %service.name, "pending auto-lock cleared by a confirmed lock");
                }
                let mut reason = audit_reason;
                let mut after = (None, None);
                let mut queued = 0;
                if done.ok && action == InterlockAction::Lock {
                    if let Some(e) = &event {
                        let effect = crate::usage::after_lock(&tx, &actor, &service, e, now, true)?;
                        if let Some(moved) = effect.describe(service.end_on_lock) {
                            reason = match reason.is_empty() {
                                true => moved,
                                false => format!("{reason}; {moved}"),
                            };
                        }
                        let current = events::get(&tx, &e.id)?.unwrap_or_else(|| e.clone());
                        let link = match &service.post_lock_url {
                            Some(template) => Some(crate::tags::render_post_lock(
                                template,
                                &post_lock_values(&current, &service, &actor),
                            )?),
                            None => None,
                        };
                        after = (link, effect.moved.map(|(_, to)| to));
                        queued = effect.queued;
                    }
                }
                audit(
                    &tx,
                    now,
                    &actor,
                    &service,
                    event.as_ref(),
                    action.as_str(),
                    outcome,
                    &reason,
                )?;
                tx.commit()?;
                s.signal_outbox(queued);
                Ok(after)
            })
            .await?;
        let mut result = result;
        result.post_lock_url = post_lock_url;
        result.booking_ends_at = booking_ends_at;
        if let Some(e) = &result.error {
            self.station
                .announce(format!("Interlock error — {service_name}"), e.clone());
        }
        Ok(result)
    }
}

/// The values a `post_lock` link is filled with: the booking, its order, the service, and the
/// person who locked (the one the link is shown to).
fn post_lock_values<'a>(
    event: &'a Event,
    service: &'a Service,
    actor: &'a Account,
) -> crate::tags::PostLockValues<'a> {
    crate::tags::PostLockValues {
        event_id: &event.id,
        order_id: event.order_id.as_deref().unwrap_or(""),
        service: &service.name,
        username: &actor.username,
    }
}

impl InterlockController {
    /// The post-lock link of a booking, built again from the stored tag for the signed-in person
    /// and checked again, for the app to open. Only for a booking that a successful lock ended,
    /// and only for its user or staff.
    pub fn post_lock_link(&self, service_id: &str, event_id: &str) -> CoreResult<String> {
        let s = &self.station;
        let actor = s.actor(Permission::ViewOwnSchedule)?;
        let store = s.store();
        let c = store.conn();
        let service =
            services::get(c, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
        let event = events::get(c, event_id)?.ok_or_else(|| CoreError::not_found("The booking"))?;
        drop(store);
        if event.service_id != service.id {
            return Err(CoreError::validation(
                "That booking is for another service.",
            ));
        }
        if !actor.role.is_staff() && event.user_id.as_deref() != Some(actor.id.as_str()) {
            return Err(CoreError::new(
                ErrorCode::Forbidden,
                "This booking belongs to another user.",
            ));
        }
        let Some(template) = &service.post_lock_url else {
            return Err(CoreError::validation(format!(
                "{} has no post_lock link.",
                service.name
            )));
        };
        if event.usage.as_ref().is_none_or(|u| u.ended_at.is_none()) {
            return Err(CoreError::validation(
                "The post-lock link opens after a successful lock of this booking.",
            ));
        }
        crate::tags::render_post_lock(template, &post_lock_values(&event, &service, &actor))
    }
}

/// Who is asking, for which service and booking, and whether the rules allow it now. A refusal
/// is audited and returned as `FORBIDDEN`.
fn check_command(
    s: &Station,
    service_id: &str,
    event_id: Option<&str>,
    action: InterlockAction,
) -> CoreResult<(Account, Service, Option<Event>)> {
    let actor = s.actor(Permission::ViewOwnSchedule)?;
    let now = s.now();
    let store = s.store();
    let c = store.conn();
    let service =
        services::get(c, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
    let event = match event_id {
        Some(id) => {
            let e = events::get(c, id)?.ok_or_else(|| CoreError::not_found("The booking"))?;
            if e.service_id != service_id {
                return Err(CoreError::validation(
                    "That booking is for another service.",
                ));
            }
            Some(e)
        }
        None => None,
    };
    let access = gating::decide(
        actor.role,
        &actor.id,
        service.interlock,
        event.as_ref(),
        now,
    );
    if let Some(refusal) = access.refusal() {
        audit(
            c,
            now,
            &actor,
            &service,
            event.as_ref(),
            action.as_str(),
            "refused",
            &refusal,
        )?;
        tracing::warn!(service = %service.name, action = action.as_str(), user = %actor.username, "interlock command refused: {refusal}");
        let error = CoreError::new(ErrorCode::Forbidden, refusal);
        return Err(match access.refusal_detail() {
            Some(detail) => error.with_detail(detail),
            None => error,
        });
    }
    Ok((actor, service, event))
}

/// The booking the panel acts on. An instrument user: their own booking on this service whose
/// window is open, else their next one, else the one whose window closed last. Staff: the booking
/// whose window is open now — the one in progress first — or none.
fn relevant_event(
    c: &rusqlite::Connection,
    actor: &Account,
    service: &Service,
    now: Timestamp,
) -> CoreResult<Option<Event>> {
    let window = service.interlock.unwrap_or_default();
    if actor.role.is_staff() {
        if let Some(current) = events::current_on_service(c, &service.id, now)? {
            return Ok(Some(current));
        }
        let open = open_bookings(c, service, now)?;
        // Prefer the one whose window closes last among those open (a later booking starting).
        return Ok(open.into_iter().last());
    }
    let mine: Vec<Event> = events::list(c, Some(&actor.id))?
        .into_iter()
        .filter(|e| e.service_id == service.id)
        .collect();
    let win = |e: &Event| BookingWindow::of(e, window);
    if let Some(open) = mine.iter().find(|e| win(e).contains(now)) {
        return Ok(Some(open.clone()));
    }
    if let Some(next) = mine.iter().find(|e| win(e).opens_at > now) {
        return Ok(Some(next.clone()));
    }
    Ok(mine.into_iter().rev().find(|e| win(e).closes_at < now))
}

/// Bookings of a service whose interlock window is open at `now`, by start.
pub(crate) fn open_bookings(
    c: &rusqlite::Connection,
    service: &Service,
    now: Timestamp,
) -> CoreResult<Vec<Event>> {
    let window = service.interlock.unwrap_or_default();
    let lead = jiff::SignedDuration::from_mins(i64::from(window.lead_minutes));
    let post = jiff::SignedDuration::from_mins(i64::from(window.post_minutes));
    let from = now.checked_sub(post).unwrap_or(Timestamp::MIN);
    let to = now.checked_add(lead).unwrap_or(Timestamp::MAX);
    Ok(events::on_service_between(c, &service.id, from, to)?
        .into_iter()
        .filter(|e| BookingWindow::of(e, window).contains(now))
        .collect())
}
