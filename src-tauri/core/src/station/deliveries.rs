//! Why this exists: the station's side of the outbox: the retry policy, due rows turned into
//! requests (secrets read from the keyring, never under the database lock), outcomes recorded as
//! attempts with the next retry, test sends and resends, and the delivery log.

use super::webhooks::{auth_key, header_key, signing_key};
use crate::delivery::{self, ErrorClass, Outcome, Verdict};
use crate::error::{CoreError, CoreResult, ErrorCode};
use crate::model::DeliveryAttempt;
use crate::outbox::{self, DueDelivery, RetryPolicy};
use crate::roles::Permission;
use crate::sensitive::Sensitive;
use crate::station::Station;
use crate::store::{self, delivery_attempts, outbox as outbox_q, settings, webhooks};
use crate::webhook::*;
use std::time::Duration;

pub(crate) const RETRY_POLICY_KEY: &str = "retry_policy";
/// Extra time a send may take beyond its timeout before another worker may pick it up again.
const LEASE_SLACK: Duration = Duration::from_secs(5);

/// The rules a retry policy must pass (the Settings window and `config import` both use this).
pub(crate) fn check_retry_policy(policy: &RetryPolicy) -> CoreResult<()> {
    if !(0.0..=0.5).contains(&policy.jitter) {
        return Err(CoreError::validation("Jitter must be between 0 and 0.5."));
    }
    Ok(())
}

impl Station {
    pub fn retry_policy(&self) -> CoreResult<RetryPolicy> {
        Ok(settings::get(self.store().conn(), RETRY_POLICY_KEY)?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or_default())
    }

    /// Changes the retry schedule (administrators; tests and the CLI shorten it).
    pub fn set_retry_policy(&self, policy: RetryPolicy) -> CoreResult<()> {
        self.actor(Permission::ManageSettings)?;
        self.set_retry_policy_unchecked(policy)
    }

    /// For provisioning scripts and tests that run without a signed-in person.
    pub fn set_retry_policy_unchecked(&self, policy: RetryPolicy) -> CoreResult<()> {
        check_retry_policy(&policy)?;
        let json =
            serde_json::to_string(&policy).map_err(|e| CoreError::internal(e.to_string()))?;
        settings::set(self.store().conn(), RETRY_POLICY_KEY, &json)
    }

    /// The request for one webhook, with its secrets read from the keyring. Keyring I/O: call it
    /// without the database lock held, and off the async workers.
    pub(crate) fn build_request(
        &self,
        w: &Webhook,
        msg_id: &str,
        body: Vec<u8>,
    ) -> CoreResult<delivery::Request> {
        let mut headers = Vec::new();
        for h in &w.headers {
            if h.secret {
                if let Some(v) = self.secrets.get(&header_key(&w.id, &h.name))? {
                    headers.push((h.name.clone(), v));
                }
            } else {
                headers.push((h.name.clone(), Sensitive::new(h.value.clone())));
            }
        }
        let auth_secret = match w.auth {
            AuthKind::None => None,
            _ => self.secrets.get(&auth_key(&w.id))?,
        };
        let signing = match w.signing {
            true => self
                .secrets
                .get(&signing_key(&w.id))?
                .map(|s| (msg_id.to_string(), s)),
            false => None,
        };
        Ok(delivery::Request {
            verb: w.verb,
            url: w.url.clone(),
            insecure: w.insecure,
            ca_pem: w.ca_pem.clone(),
            headers,
            auth: w.auth,
            auth_username: w.auth_username.clone(),
            auth_secret,
            body,
            timeout: Duration::from_secs(u64::from(w.timeout_secs)),
            signing,
            timestamp_secs: self.now().as_second(),
        })
    }

    /// Due outbox rows as ready requests, each leased so no other worker sends it meanwhile.
    pub fn take_due_deliveries(&self, limit: usize) -> CoreResult<Vec<DueDelivery>> {
        let now = self.now();
        let rows = {
            let store = self.store();
            outbox_q::due(store.conn(), now, limit)?
                .into_iter()
                .filter_map(|row| match webhooks::get(store.conn(), &row.webhook_id) {
                    Ok(Some(w)) => Some(Ok((row, w))),
                    Ok(None) => None,
                    Err(e) => Some(Err(e)),
                })
                .collect::<CoreResult<Vec<_>>>()?
        };
        let mut due = Vec::new();
        for (row, webhook) in rows {
            let request =
                match self.build_request(&webhook, &row.id, row.payload.clone().into_bytes()) {
                    Ok(r) => r,
                    Err(e) => {
                        // A locked keyring: log it as this delivery's attempt and retry on the
                        // schedule, instead of failing every other delivery with it.
                        let outcome = Self::failed_outcome(
                            ErrorClass::Other,
                            format!("Not sent: {}", e.message),
                        );
                        self.record_attempt(&row, &webhook, &outcome)?;
                        continue;
                    }
                };
            let lease_until = outbox::add(now, request.timeout + LEASE_SLACK);
            outbox_q::lease(self.store().conn(), &row.id, lease_until)?;
            due.push(DueDelivery {
                row,
                webhook,
                request,
            });
        }
        Ok(due)
    }

    /// Records the outcome of one outbox delivery: logs the attempt, schedules a retry or settles it.
    pub fn record_delivery(&self, d: &DueDelivery, outcome: &Outcome) -> CoreResult<Verdict> {
        self.record_attempt(&d.row, &d.webhook, outcome)
    }

    fn record_attempt(
        &self,
        row: &outbox_q::OutboxRow,
        webhook: &Webhook,
        outcome: &Outcome,
    ) -> CoreResult<Verdict> {
        let now = self.now();
        let attempts = row.attempts + 1;
        let policy = self.retry_policy()?;
        let mut verdict = delivery::verdict(outcome);
        let mut next = None;
        if verdict == Verdict::Retry {
            match policy.next_delay(attempts, outcome.retry_after) {
                Some(delay) => next = Some(outbox::add(now, delay)),
                None => verdict = Verdict::Final,
            }
        }
        let (state, result) = match verdict {
            Verdict::Delivered => ("delivered", "delivered"),
            Verdict::Retry => ("pending", "retrying"),
            Verdict::Final | Verdict::FinalAndDisable => ("failed", "failed"),
        };
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        outbox_q::record(
            &tx,
            &row.id,
            state,
            attempts,
            next,
            outcome.error.as_deref(),
            now,
        )?;
        let entry =
            outbox::attempt_entry(webhook, Some(&row.id), attempts, outcome, result, next, now);
        delivery_attempts::insert(&tx, &entry)?;
        if verdict == Verdict::FinalAndDisable {
            webhooks::disable(
                &tx,
                &webhook.id,
                "The receiver answered 410 Gone; the station disabled this webhook.",
                now,
            )?;
        }
        tx.commit()?;
        if matches!(verdict, Verdict::Final | Verdict::FinalAndDisable) {
            self.announce(
                format!("Webhook delivery failed — {}", webhook.name),
                format!(
                    "{} to {} failed after {attempts} attempt(s): {}",
                    webhook.action.label(),
                    webhook.url,
                    outcome.error.as_deref().unwrap_or("unknown error")
                ),
            );
        }
        match verdict {
            Verdict::Delivered => {
                tracing::info!(delivery = %row.id, webhook = %webhook.name, attempt = attempts, "webhook delivered")
            }
            Verdict::Retry => {
                tracing::warn!(delivery = %row.id, webhook = %webhook.name, attempt = attempts, error = outcome.error.as_deref().unwrap_or(""), "webhook failed; will retry")
            }
            _ => {
                tracing::error!(delivery = %row.id, webhook = %webhook.name, attempt = attempts, error = outcome.error.as_deref().unwrap_or(""), "webhook delivery failed for good")
            }
        }
        Ok(verdict)
    }

    /// A webhook and its request with a sample payload, for "Send test".
    pub fn prepare_test(&self, id: &str) -> CoreResult<(Webhook, delivery::Request)> {
        self.actor(Permission::ManageSchedule)?;
        let w = webhooks::get(self.store().conn(), id)?
            .ok_or_else(|| CoreError::not_found("The webhook"))?;
        let keys = crate::payload::SystemKeys {
            order_id: Some("test-order".into()),
            subject_id: Some(match w.action.kind {
                ActionType::Order => "test-line".into(),
                _ => "test-event".into(),
            }),
        };
        let body = crate::payload::build(w.action, &keys, &w.body)
            .to_string()
            .into_bytes();
        let msg_id = format!("msg_test_{}", store::new_id());
        let req = self.build_request(&w, &msg_id, body)?;
        Ok((w, req))
    }

    /// A logged outbox delivery, ready to be sent once more ("Resend").
    pub fn prepare_resend(&self, attempt_id: &str) -> CoreResult<DueDelivery> {
        self.actor(Permission::ManageSchedule)?;
        let store = self.store();
        let id: i64 = attempt_id
            .parse()
            .map_err(|_| CoreError::not_found("The delivery"))?;
        let outbox_id: Option<String> = store
            .conn()
            .query_row(
                "SELECT outbox_id FROM delivery_attempts WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .map_err(|_| CoreError::not_found("The delivery"))?;
        let outbox_id = outbox_id.ok_or_else(|| {
            CoreError::validation("A test send cannot be resent; use Send test again.")
        })?;
        let row = outbox_q::get(store.conn(), &outbox_id)?
            .ok_or_else(|| CoreError::not_found("The delivery"))?;
        let webhook = webhooks::get(store.conn(), &row.webhook_id)?
            .ok_or_else(|| CoreError::not_found("The webhook"))?;
        drop(store);
        let request = self.build_request(&webhook, &row.id, row.payload.clone().into_bytes())?;
        Ok(DueDelivery {
            row,
            webhook,
            request,
        })
    }

    /// Logs a one-off send ("Send test" or "Resend"); a successful resend settles its delivery.
    pub fn record_one_off(
        &self,
        w: &Webhook,
        row: Option<&outbox_q::OutboxRow>,
        outcome: &Outcome,
    ) -> CoreResult<DeliveryAttempt> {
        let now = self.now();
        let delivered = outcome.success();
        let result = match (row, delivered) {
            (None, _) => "test",
            (Some(_), true) => "delivered",
            (Some(_), false) => "failed",
        };
        let attempt = row.map_or(1, |r| r.attempts + 1);
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let mut entry = outbox::attempt_entry(
            w,
            row.map(|r| r.id.as_str()),
            attempt,
            outcome,
            result,
            None,
            now,
        );
        delivery_attempts::insert(&tx, &entry)?;
        entry.id = tx.last_insert_rowid().to_string();
        if let Some(r) = row {
            let state = if delivered {
                "delivered"
            } else {
                r.state.as_str()
            };
            outbox_q::record(
                &tx,
                &r.id,
                state,
                attempt,
                r.next_attempt_at.filter(|_| state == "pending"),
                outcome.error.as_deref(),
                now,
            )?;
        }
        tx.commit()?;
        Ok(entry)
    }

    /// When the next pending delivery is due.
    pub fn next_delivery_due(&self) -> CoreResult<Option<jiff::Timestamp>> {
        outbox_q::next_due(self.store().conn())
    }

    pub fn list_deliveries(
        &self,
        outcome: Option<&str>,
        webhook_id: Option<&str>,
        limit: usize,
    ) -> CoreResult<Vec<DeliveryAttempt>> {
        self.actor(Permission::ManageSchedule)?;
        self.list_deliveries_unchecked(outcome, webhook_id, limit)
    }

    /// The attempt log without a role check, for the administrator's command line.
    pub fn list_deliveries_unchecked(
        &self,
        outcome: Option<&str>,
        webhook_id: Option<&str>,
        limit: usize,
    ) -> CoreResult<Vec<DeliveryAttempt>> {
        delivery_attempts::list(
            self.store().conn(),
            outcome,
            webhook_id,
            limit.clamp(1, 5000),
        )
    }

    /// A request that fails before it is sent (keyring locked...) still gets an outcome to log.
    pub fn failed_outcome(class: ErrorClass, message: String) -> Outcome {
        Outcome {
            status: None,
            error_class: Some(class),
            error: Some(message),
            duration_ms: 0,
            excerpt: String::new(),
            content_type: None,
            body: Vec::new(),
            retry_after: None,
        }
    }

    pub fn keyring_error_code(e: &CoreError) -> bool {
        matches!(
            e.code,
            ErrorCode::KeyringLocked | ErrorCode::KeyringUnavailable
        )
    }
}

impl outbox::OutboxStation for Station {
    fn take_due_deliveries(&self, limit: usize) -> CoreResult<Vec<DueDelivery>> {
        Station::take_due_deliveries(self, limit)
    }
    fn record_delivery(&self, d: &DueDelivery, outcome: &Outcome) -> CoreResult<Verdict> {
        Station::record_delivery(self, d, outcome)
    }
    fn next_delivery_due(&self) -> CoreResult<Option<jiff::Timestamp>> {
        Station::next_delivery_due(self)
    }
    fn prepare_test(&self, webhook_id: &str) -> CoreResult<(Webhook, delivery::Request)> {
        Station::prepare_test(self, webhook_id)
    }
    fn prepare_resend(&self, attempt_id: &str) -> CoreResult<DueDelivery> {
        Station::prepare_resend(self, attempt_id)
    }
    fn record_one_off(
        &self,
        webhook: &Webhook,
        row: Option<&outbox_q::OutboxRow>,
        outcome: &Outcome,
    ) -> CoreResult<DeliveryAttempt> {
        Station::record_one_off(self, webhook, row, outcome)
    }
    fn now(&self) -> jiff::Timestamp {
        Station::now(self)
    }
    fn outbox_signal(&self) -> std::sync::Arc<tokio::sync::Notify> {
        Station::outbox_signal(self)
    }
}
