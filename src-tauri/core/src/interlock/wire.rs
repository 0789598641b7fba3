//! Why this exists: the part of an interlock call that crosses the wire, shared by a person's
//! command, the status watch and auto-lock: build the requests (secrets from the keyring, off the
//! async workers), send them to every webhook of the action at once, name each failure, and turn
//! status replies into one reading through each webhook's status mapping.

use super::{InterlockAction, InterlockController, InterlockResult, ReadingSource, WebhookResult};
use crate::delivery::{ErrorClass, Outcome, Request};
use crate::error::CoreResult;
use crate::model::{Event, LockState, Service, StatusReading};
use crate::payload::{self, SystemKeys};
use crate::store::webhooks;
use crate::webhook::{StatusMapping, Webhook};

pub const MAX_STATUS_BYTES: usize = 64 * 1024;

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

/// One reading from every status webhook's outcome: agreeing states, or Unknown with the reason.
pub fn combine_readings(
    hooks: &[Webhook],
    outcomes: &[Outcome],
    now: jiff::Timestamp,
) -> StatusReading {
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
    }
}

pub(crate) fn message_for(w: &Webhook, o: &Outcome) -> String {
    match (o.error_class, &o.error) {
        (Some(ErrorClass::HttpStatus | ErrorClass::Redirect), Some(e)) => {
            format!("{e} from {}", w.name)
        }
        (_, Some(e)) => format!("{e} ({})", w.name),
        (_, None) => format!("HTTP {} from {}", o.status.unwrap_or(0), w.name),
    }
}

pub(crate) fn state_word(s: LockState) -> &'static str {
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

impl InterlockController {
    /// The enabled webhooks of one interlock action for a service, with their requests ready
    /// (secrets read from the keyring on a blocking thread).
    async fn prepare(
        &self,
        service_id: &str,
        action: InterlockAction,
        event: Option<&Event>,
    ) -> CoreResult<(Vec<Webhook>, Vec<Request>)> {
        let keys = SystemKeys {
            order_id: event.and_then(|e| e.order_id.clone()),
            subject_id: event.map(|e| e.id.clone()),
        };
        let service_id = service_id.to_string();
        self.db(move |s| {
            let hooks = webhooks::matching(s.store().conn(), action.action(), Some(&service_id))?;
            let mut requests = Vec::with_capacity(hooks.len());
            for w in &hooks {
                let body = payload::build(w.action, &keys, &w.body)
                    .to_string()
                    .into_bytes();
                let msg_id = format!("msg_{}", crate::store::new_id());
                requests.push(s.build_request(w, &msg_id, body)?);
            }
            Ok((hooks, requests))
        })
        .await
    }

    /// Sends to every webhook at once; a refused connection is retried once, immediately.
    async fn send_all(&self, requests: Vec<Request>) -> Vec<Outcome> {
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
        futures_util::future::join_all(sends).await
    }

    /// Reads the status of a service now; `None` when it has no status webhook.
    pub(crate) async fn read_status(
        &self,
        service: &Service,
        event: Option<&Event>,
        source: ReadingSource,
    ) -> CoreResult<Option<(StatusReading, Vec<WebhookResult>)>> {
        let (hooks, requests) = self
            .prepare(&service.id, InterlockAction::Status, event)
            .await?;
        if hooks.is_empty() {
            return Ok(None);
        }
        let outcomes = self.send_all(requests).await;
        let reading = combine_readings(&hooks, &outcomes, self.station.now());
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
        self.record_reading(service, &reading, source).await?;
        Ok(Some((reading, results)))
    }

    /// Sends one interlock action to every enabled webhook of the service, concurrently; after a
    /// successful lock or unlock reads the status back when a status webhook exists.
    pub(crate) async fn send(
        &self,
        service: &Service,
        event: Option<&Event>,
        action: InterlockAction,
        source: ReadingSource,
    ) -> CoreResult<InterlockResult> {
        if action == InterlockAction::Status {
            let source = match source {
                ReadingSource::Command => ReadingSource::StatusCommand,
                other => other,
            };
            return Ok(match self.read_status(service, event, source).await? {
                None => no_webhook(service, action),
                Some((reading, results)) => {
                    let ok = reading.state != LockState::Unknown;
                    let error = (!ok).then(|| format!("Status unknown: {}", reading.detail));
                    InterlockResult {
                        action,
                        ok,
                        results,
                        reading: Some(reading),
                        error,
                        post_lock_url: None,
                        booking_ends_at: None,
                    }
                }
            });
        }
        let (hooks, requests) = self.prepare(&service.id, action, event).await?;
        if hooks.is_empty() {
            return Ok(no_webhook(service, action));
        }
        let outcomes = self.send_all(requests).await;
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
        let reading = if ok {
            self.read_status(service, event, source)
                .await?
                .map(|(r, _)| r)
        } else {
            None
        };
        Ok(InterlockResult {
            action,
            ok,
            results,
            reading,
            error,
            post_lock_url: None,
            booking_ends_at: None,
        })
    }
}

fn no_webhook(service: &Service, action: InterlockAction) -> InterlockResult {
    InterlockResult {
        action,
        ok: false,
        results: vec![],
        reading: None,
        post_lock_url: None,
        booking_ends_at: None,
        error: Some(format!(
            "{} has no interlock/{} webhook (facility staff add it in Webhooks).",
            service.name,
            action.as_str()
        )),
    }
}
