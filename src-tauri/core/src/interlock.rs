//! Why this exists: Lock, Unlock and Check status of an instrument, exactly per §2. Commands are
//! checked against the signed-in account and the clock (gating), sent at once to every enabled
//! interlock webhook of the service concurrently (never queued for later: an unlock sent an hour
//! late is a safety fault), serialised per service in click order, audited, and announced on the
//! desktop when they fail. Status replies are parsed through the webhook's status mapping.

use crate::delivery::{Deliverer, ErrorClass, Outcome};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::gating::{self, Access};
use crate::model::{Account, AuditEntry, Event, LockState, Service, StatusReading};
use crate::payload::{self, SystemKeys};
use crate::roles::Permission;
use crate::station::Station;
use crate::store::{auto_locks, events, interlock_audit, interlock_state, services, webhooks};
use crate::webhook::{Action, ActionSubtype, ActionType, StatusMapping, Webhook};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const MAX_STATUS_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum InterlockAction {
    Lock,
    Unlock,
    Status,
}

impl InterlockAction {
    fn action(self) -> Action {
        let sub = match self {
            InterlockAction::Lock => ActionSubtype::Lock,
            InterlockAction::Unlock => ActionSubtype::Unlock,
            InterlockAction::Status => ActionSubtype::Status,
        };
        Action::new(ActionType::Interlock, sub)
    }
    fn as_str(self) -> &'static str {
        match self {
            InterlockAction::Lock => "lock",
            InterlockAction::Unlock => "unlock",
            InterlockAction::Status => "status",
        }
    }
}

/// Parses a status reply through a mapping. `Err` says what was received.
pub fn parse_status(outcome: &Outcome, mapping: &StatusMapping) -> Result<LockState, String> {
    if let Some(error) = &outcome.error {
        return Err(error.clone());
    }
    if outcome.body.len() > MAX_STATUS_BYTES {
        return Err(format!(
            "The status reply is larger than {} KiB.",
            MAX_STATUS_BYTES / 1024
        ));
    }
    let excerpt: String = String::from_utf8_lossy(&outcome.body)
        .chars()
        .take(200)
        .collect();
    let content_type = outcome.content_type.as_deref().unwrap_or("");
    let is_json = content_type.split(';').next().is_some_and(|m| {
        let m = m.trim().to_ascii_lowercase();
        m == "application/json" || m.ends_with("+json")
    });
    if !is_json {
        let ct = if content_type.is_empty() {
            "no Content-Type"
        } else {
            content_type
        };
        return Err(format!(
            "Expected an application/json status reply, received {ct}: {excerpt:?}"
        ));
    }
    let value: serde_json::Value = serde_json::from_slice(&outcome.body)
        .map_err(|e| format!("The status reply is not valid JSON ({e}): {excerpt:?}"))?;
    let Some(found) = value.pointer(&mapping.pointer) else {
        return Err(format!(
            "The status reply has no {}: {excerpt}",
            mapping.pointer
        ));
    };
    if found == &mapping.locked {
        Ok(LockState::Locked)
    } else if found == &mapping.unlocked {
        Ok(LockState::Unlocked)
    } else {
        Err(format!(
            "The status reply says {} = {found}; expected {} (locked) or {} (unlocked).",
            mapping.pointer, mapping.locked, mapping.unlocked
        ))
    }
}

/// One webhook's part of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct WebhookResult {
    pub webhook_name: String,
    pub ok: bool,
    /// "HTTP 503 Service Unavailable from Relay A", "Connection refused by 127.0.0.1:9 (Relay A)".
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct InterlockResult {
    pub action: InterlockAction,
    pub ok: bool,
    pub results: Vec<WebhookResult>,
    /// The status read (after a successful lock/unlock when a status webhook exists).
    pub reading: Option<StatusReading>,
    /// One sentence for the banner when something failed.
    pub error: Option<String>,
}

/// What the interlock panel shows the signed-in person for one service.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct InterlockPanel {
    pub service: Service,
    pub access: Access,
    /// The booking the controls act for (the user's own; for staff the current one, if any).
    pub event: Option<Event>,
    pub reading: Option<StatusReading>,
    pub has_lock: bool,
    pub has_unlock: bool,
    pub has_status: bool,
    /// Status polling interval in seconds while the panel is visible; 0 = off.
    pub poll_secs: u32,
}

/// Interlock commands for every service of the station.
pub struct InterlockController {
    station: Arc<Station>,
    deliverer: Arc<Deliverer>,
    /// One lock per service: commands go out in the order they were clicked.
    queues: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for InterlockController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterlockController")
            .finish_non_exhaustive()
    }
}

fn message_for(w: &Webhook, o: &Outcome) -> String {
    match (o.error_class, &o.error) {
        (Some(ErrorClass::HttpStatus | ErrorClass::Redirect), Some(e)) => {
            format!("{e} from {}", w.name)
        }
        (_, Some(e)) => format!("{e} ({})", w.name),
        (_, None) => format!("HTTP {} from {}", o.status.unwrap_or(0), w.name),
    }
}

impl InterlockController {
    pub fn new(station: Arc<Station>, deliverer: Arc<Deliverer>) -> Self {
        InterlockController {
            station,
            deliverer,
            queues: Mutex::new(HashMap::new()),
        }
    }

    fn queue(&self, service_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut q = self.queues.lock().unwrap_or_else(|p| p.into_inner());
        q.entry(service_id.to_string()).or_default().clone()
    }

    /// The panel for one service as the signed-in person may see it.
    pub fn panel(&self, service_id: &str) -> CoreResult<InterlockPanel> {
        let actor = self.station.actor(Permission::ViewOwnSchedule)?;
        let now = self.station.now();
        let (service, event, hooks, reading) = {
            let store = self.station.store();
            let c = store.conn();
            let service =
                services::get(c, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
            let event = relevant_event(c, &actor, service_id, now)?;
            let hooks: Vec<Webhook> = webhooks::list(c)?
                .into_iter()
                .filter(|w| w.enabled && w.action.kind == ActionType::Interlock)
                .filter(|w| w.service_id.as_deref().is_none_or(|s| s == service_id))
                .collect();
            (service, event, hooks, interlock_state::get(c, service_id)?)
        };
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
            poll_secs: self.station.interlock_poll_secs()?,
            service,
        })
    }

    /// Lock, unlock or read the status of `service_id`, for booking `event_id` (staff may omit
    /// it). Refused outside the rules, whatever the UI showed.
    pub async fn command(
        &self,
        service_id: &str,
        event_id: Option<&str>,
        action: InterlockAction,
        reason: Option<String>,
    ) -> CoreResult<InterlockResult> {
        let actor = self.station.actor(Permission::ViewOwnSchedule)?;
        let now = self.station.now();
        let (service, event) = {
            let store = self.station.store();
            let c = store.conn();
            let service =
                services::get(c, service_id)?.ok_or_else(|| CoreError::not_found("The service"))?;
            let event = match event_id {
                Some(id) => {
                    let e =
                        events::get(c, id)?.ok_or_else(|| CoreError::not_found("The booking"))?;
                    if e.service_id != service_id {
                        return Err(CoreError::validation(
                            "That booking is for another service.",
                        ));
                    }
                    Some(e)
                }
                None => None,
            };
            (service, event)
        };
        let access = gating::decide(
            actor.role,
            &actor.id,
            service.interlock,
            event.as_ref(),
            now,
        );
        if let Some(refusal) = access.refusal() {
            self.audit(
                &actor,
                &service,
                event.as_ref(),
                action.as_str(),
                "refused",
                &refusal,
            )?;
            tracing::warn!(service = %service.name, action = action.as_str(), user = %actor.username, "interlock command refused: {refusal}");
            return Err(CoreError::new(ErrorCode::Forbidden, refusal));
        }
        let staff_reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let queue = self.queue(service_id);
        let _turn = queue.lock().await;
        let result = self.send(&service, event.as_ref(), action).await?;
        let audit_reason = match (&result.error, &staff_reason) {
            (Some(e), Some(r)) => format!("{e} (override reason: {r})"),
            (Some(e), None) => e.clone(),
            (None, Some(r)) => format!("override reason: {r}"),
            (None, None) => String::new(),
        };
        if action != InterlockAction::Status {
            self.audit(
                &actor,
                &service,
                event.as_ref(),
                action.as_str(),
                if result.ok { "ok" } else { "failed" },
                &audit_reason,
            )?;
        }
        if result.ok && action == InterlockAction::Unlock && service.auto_lock {
            if let (Some(e), Some(w)) = (&event, service.interlock) {
                let due = e.ends_at + jiff::SignedDuration::from_mins(i64::from(w.post_minutes));
                auto_locks::schedule(self.station.store().conn(), &service.id, Some(&e.id), due)?;
            }
        }
        if result.ok && action == InterlockAction::Lock {
            auto_locks::cancel(self.station.store().conn(), &service.id)?;
        }
        if let Some(e) = &result.error {
            self.station
                .announce(format!("Interlock error — {}", service.name), e.clone());
        }
        Ok(result)
    }

    /// Sends one interlock action to every enabled webhook of the service, concurrently.
    async fn send(
        &self,
        service: &Service,
        event: Option<&Event>,
        action: InterlockAction,
    ) -> CoreResult<InterlockResult> {
        let hooks = {
            let store = self.station.store();
            webhooks::matching(store.conn(), action.action(), Some(&service.id))?
        };
        if hooks.is_empty() {
            let error = format!(
                "{} has no interlock/{} webhook; ask facility staff to configure one.",
                service.name,
                action.as_str()
            );
            return Ok(InterlockResult {
                action,
                ok: false,
                results: vec![],
                reading: None,
                error: Some(error),
            });
        }
        let outcomes = self.send_all(&hooks, event).await?;
        if action == InterlockAction::Status {
            let reading = self.read_status(&service.id, &hooks, &outcomes)?;
            let ok = reading.state != LockState::Unknown;
            let results = hooks
                .iter()
                .zip(&outcomes)
                .map(|(w, o)| match parse_status(o, &w.status_mapping) {
                    Ok(s) => WebhookResult {
                        webhook_name: w.name.clone(),
                        ok: true,
                        message: format!("{} ({})", state_word(s), w.name),
                    },
                    Err(e) => WebhookResult {
                        webhook_name: w.name.clone(),
                        ok: false,
                        message: format!("{e} ({})", w.name),
                    },
                })
                .collect();
            let error = (!ok).then(|| format!("Status unknown: {}", reading.detail));
            return Ok(InterlockResult {
                action,
                ok,
                results,
                reading: Some(reading),
                error,
            });
        }
        let results: Vec<WebhookResult> = hooks
            .iter()
            .zip(&outcomes)
            .map(|(w, o)| WebhookResult {
                webhook_name: w.name.clone(),
                ok: o.success(),
                message: message_for(w, o),
            })
            .collect();
        let ok = results.iter().all(|r| r.ok);
        let error = (!ok).then(|| {
            let failed: Vec<&str> = results
                .iter()
                .filter(|r| !r.ok)
                .map(|r| r.message.as_str())
                .collect();
            format!(
                "{} failed: {}",
                capitalise(action.as_str()),
                failed.join("; ")
            )
        });
        // Read the state back after a successful lock/unlock, when a status webhook exists.
        let mut reading = None;
        if ok {
            let status_hooks = {
                let store = self.station.store();
                webhooks::matching(
                    store.conn(),
                    InterlockAction::Status.action(),
                    Some(&service.id),
                )?
            };
            if !status_hooks.is_empty() {
                let outcomes = self.send_all(&status_hooks, event).await?;
                reading = Some(self.read_status(&service.id, &status_hooks, &outcomes)?);
            }
        }
        Ok(InterlockResult {
            action,
            ok,
            results,
            reading,
            error,
        })
    }

    /// Sends to every webhook at once; a connection failure is retried once, immediately.
    async fn send_all(&self, hooks: &[Webhook], event: Option<&Event>) -> CoreResult<Vec<Outcome>> {
        let keys = SystemKeys {
            order_id: event.and_then(|e| e.order_id.clone()),
            subject_id: event.map(|e| e.id.clone()),
        };
        let mut requests = Vec::new();
        for w in hooks {
            let body = payload::build(w.action, &keys, &w.body)
                .to_string()
                .into_bytes();
            let msg_id = format!("msg_{}", crate::store::new_id());
            requests.push(self.station.build_request(w, &msg_id, body)?);
        }
        let sends = requests.into_iter().map(|req| {
            let deliverer = self.deliverer.clone();
            async move {
                let first = deliverer.send(&req).await;
                if matches!(
                    first.error_class,
                    Some(ErrorClass::Refused | ErrorClass::Connect)
                ) {
                    deliverer.send(&req).await
                } else {
                    first
                }
            }
        });
        Ok(futures_util::future::join_all(sends).await)
    }

    fn read_status(
        &self,
        service_id: &str,
        hooks: &[Webhook],
        outcomes: &[Outcome],
    ) -> CoreResult<StatusReading> {
        let now = self.station.now();
        let parsed: Vec<(String, Result<LockState, String>)> = hooks
            .iter()
            .zip(outcomes)
            .map(|(w, o)| (w.name.clone(), parse_status(o, &w.status_mapping)))
            .collect();
        let states: Vec<LockState> = parsed
            .iter()
            .filter_map(|(_, r)| r.as_ref().ok().copied())
            .collect();
        let errors: Vec<String> = parsed
            .iter()
            .filter_map(|(n, r)| r.as_ref().err().map(|e| format!("{n}: {e}")))
            .collect();
        let reading =
            if errors.is_empty() && !states.is_empty() && states.iter().all(|s| *s == states[0]) {
                StatusReading {
                    state: states[0],
                    read_at: now,
                    detail: String::new(),
                }
            } else if errors.is_empty() {
                let replies: Vec<String> = parsed
                    .iter()
                    .filter_map(|(n, r)| {
                        r.as_ref()
                            .ok()
                            .map(|s| format!("{n} says {}", state_word(*s)))
                    })
                    .collect();
                StatusReading {
                    state: LockState::Unknown,
                    read_at: now,
                    detail: format!("the status webhooks disagree: {}", replies.join(", ")),
                }
            } else {
                StatusReading {
                    state: LockState::Unknown,
                    read_at: now,
                    detail: errors.join("; "),
                }
            };
        interlock_state::put(self.station.store().conn(), service_id, &reading)?;
        Ok(reading)
    }

    fn audit(
        &self,
        actor: &Account,
        service: &Service,
        event: Option<&Event>,
        action: &str,
        result: &str,
        reason: &str,
    ) -> CoreResult<()> {
        interlock_audit::insert(
            self.station.store().conn(),
            &AuditEntry {
                id: String::new(),
                at: self.station.now(),
                account_id: actor.id.clone(),
                username: actor.username.clone(),
                role: actor.role.as_str().to_string(),
                service_id: service.id.clone(),
                service_name: service.name.clone(),
                event_id: event.map(|e| e.id.clone()),
                action: action.to_string(),
                result: result.to_string(),
                reason: reason.to_string(),
            },
        )
    }

    /// Sends the auto-locks that are due (also those that fell due while the app was closed).
    pub async fn run_due_auto_locks(&self) -> CoreResult<usize> {
        let now = self.station.now();
        let due = auto_locks::due(self.station.store().conn(), now)?;
        let mut sent = 0;
        for (service_id, event_id, _) in due {
            let (service, event) = {
                let store = self.station.store();
                let c = store.conn();
                auto_locks::cancel(c, &service_id)?;
                let Some(service) = services::get(c, &service_id)? else {
                    continue;
                };
                let event = match &event_id {
                    Some(id) => events::get(c, id)?,
                    None => None,
                };
                (service, event)
            };
            let queue = self.queue(&service_id);
            let _turn = queue.lock().await;
            let result = self
                .send(&service, event.as_ref(), InterlockAction::Lock)
                .await?;
            let system = Account {
                id: crate::station::SYSTEM_ACCOUNT_ID.into(),
                username: "auto-lock".into(),
                display_name: "Auto-lock".into(),
                role: crate::roles::Role::Administrator,
                active: true,
                created_at: now,
            };
            self.audit(
                &system,
                &service,
                event.as_ref(),
                "auto_lock",
                if result.ok { "ok" } else { "failed" },
                result.error.as_deref().unwrap_or(""),
            )?;
            if let Some(e) = &result.error {
                self.station.announce(
                    format!("Interlock error — {}", service.name),
                    format!("Auto-lock: {e}"),
                );
            }
            sent += 1;
        }
        Ok(sent)
    }

    pub fn next_auto_lock(&self) -> CoreResult<Option<Timestamp>> {
        auto_locks::next_due(self.station.store().conn())
    }
}

fn state_word(s: LockState) -> &'static str {
    match s {
        LockState::Locked => "locked",
        LockState::Unlocked => "unlocked",
        LockState::Unknown => "unknown",
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The booking the panel acts for: for an instrument user their own booking on this service whose
/// window is open, else the next one, else the one that ended last; for staff the current booking.
fn relevant_event(
    c: &rusqlite::Connection,
    actor: &Account,
    service_id: &str,
    now: Timestamp,
) -> CoreResult<Option<Event>> {
    if actor.role.is_staff() {
        return events::current_on_service(c, service_id, now);
    }
    let mine: Vec<Event> = events::list(c, Some(&actor.id))?
        .into_iter()
        .filter(|e| e.service_id == service_id)
        .collect();
    let window = services::get(c, service_id)?
        .and_then(|s| s.interlock)
        .unwrap_or_default();
    let lead = jiff::SignedDuration::from_mins(i64::from(window.lead_minutes));
    let post = jiff::SignedDuration::from_mins(i64::from(window.post_minutes));
    if let Some(open) = mine
        .iter()
        .find(|e| e.starts_at - lead <= now && now <= e.ends_at + post)
    {
        return Ok(Some(open.clone()));
    }
    if let Some(next) = mine.iter().find(|e| e.starts_at - lead > now) {
        return Ok(Some(next.clone()));
    }
    Ok(mine.into_iter().rev().find(|e| e.ends_at + post < now))
}
