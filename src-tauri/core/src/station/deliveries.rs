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
use std::sync::Arc;
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
        let actor = self.actor(Permission::ManageSettings)?;
        self.write_retry_policy(policy, &actor.username)
    }

    /// For provisioning scripts and tests that run without a signed-in person.
    pub fn set_retry_policy_unchecked(&self, policy: RetryPolicy) -> CoreResult<()> {
        self.write_retry_policy(policy, "(provisioning)")
    }

    fn write_retry_policy(&self, policy: RetryPolicy, who: &str) -> CoreResult<()> {
        check_retry_policy(&policy)?;
        let json =
            serde_json::to_string(&policy).map_err(|e| CoreError::internal(e.to_string()))?;
        settings::set_by(self.store().conn(), RETRY_POLICY_KEY, &json, who)
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
            true => self.secrets.get(&signing_key(&w.id))?,
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
            parsed_url: None,
            message_id: msg_id.to_string(),
            timestamp_secs: self.now().as_second(),
            signing,
        })
    }

    /// One round of the outbox (see [`outbox::OutboxStation::settle_and_claim`]): the outcomes
    /// of finished sends and the next claim share one immediate transaction, so every outcome is
    /// durable before the next claim and a busy drain costs one commit per round, not per row.
    pub fn settle_and_claim(
        &self,
        done: Vec<(DueDelivery, Outcome)>,
        claim: outbox::Claim,
    ) -> CoreResult<outbox::Round> {
        let now = self.now();
        let policy = self.retry_policy()?;
        let mut round = outbox::Round::default();
        let mut failures = Vec::new();
        let mut claimed = Vec::new();
        {
            let mut store = self.store();
            let tx = store
                .conn_mut()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let verdicts = settle_many(
                &tx,
                &policy,
                done.iter().map(|(d, o)| (&d.row, &*d.webhook, o)),
                now,
            )?;
            for ((d, outcome), verdict) in done.iter().zip(verdicts) {
                if matches!(verdict, Verdict::Final | Verdict::FinalAndDisable) {
                    failures.push((d.webhook.clone(), d.row.attempts + 1, outcome.clone()));
                }
                round.verdicts.push((d.row.id.clone(), verdict));
            }
            if claim.limit > 0 {
                let rows = outbox_q::claim(
                    &tx,
                    claim.cutoff.unwrap_or(now),
                    now,
                    LEASE_SLACK.as_millis() as i64,
                    claim.limit,
                    &claim.except,
                )?;
                // Each webhook is read once per round and shared by its rows.
                let mut hooks: std::collections::HashMap<String, Option<Arc<Webhook>>> =
                    std::collections::HashMap::new();
                for row in rows {
                    let hook = match hooks.get(&row.webhook_id) {
                        Some(h) => h.clone(),
                        None => {
                            let h = webhooks::get(&tx, &row.webhook_id)?.map(Arc::new);
                            hooks.insert(row.webhook_id.clone(), h.clone());
                            h
                        }
                    };
                    let Some(webhook) = hook else { continue };
                    if webhook.enabled {
                        claimed.push((row, webhook));
                    } else {
                        skip_disabled(&tx, &row, &webhook, now)?;
                        round.skipped += 1;
                    }
                }
            }
            tx.commit()?;
        }
        for (webhook, attempts, outcome) in failures {
            self.announce_failure(&webhook, attempts, &outcome);
        }
        for d in done.iter() {
            trace_outcome(d);
        }
        // Secrets are read with the database lock released (a keyring prompt may wait), once per
        // webhook per round: its rows share one request prototype (secrets, parsed URL) and
        // differ only in message id and body (the timestamp is the round's).
        let mut prototypes: std::collections::HashMap<String, CoreResult<delivery::Request>> =
            std::collections::HashMap::new();
        for (mut row, webhook) in claimed {
            let prototype = prototypes.entry(webhook.id.clone()).or_insert_with(|| {
                self.build_request(&webhook, "", Vec::new()).map(|mut r| {
                    r.parsed_url = url::Url::parse(&webhook.url).ok();
                    r
                })
            });
            match prototype {
                Ok(prototype) => {
                    let mut request = prototype.clone();
                    request.message_id = row.id.clone();
                    request.body = std::mem::take(&mut row.payload).into_bytes();
                    round.claimed.push(DueDelivery {
                        row,
                        webhook,
                        request,
                    });
                }
                Err(e) => {
                    // A locked keyring: log it as this delivery's attempt and retry on the
                    // schedule, instead of failing every other delivery with it.
                    let outcome =
                        Self::failed_outcome(ErrorClass::Other, format!("Not sent: {}", e.message));
                    let mut store = self.store();
                    let tx = store.conn_mut().transaction()?;
                    settle(&tx, &policy, &row, &webhook, &outcome, now)?;
                    tx.commit()?;
                    round.held.push(row.id);
                }
            }
        }
        Ok(round)
    }

    fn announce_failure(&self, webhook: &Webhook, attempts: u32, outcome: &Outcome) {
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
            webhook: Arc::new(webhook),
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

/// Records one finished attempt of a claimed row inside the caller's transaction: logs it, and
/// schedules a retry or settles the row (see [`settle_many`]).
fn settle(
    tx: &rusqlite::Connection,
    policy: &RetryPolicy,
    row: &outbox_q::OutboxRow,
    webhook: &Webhook,
    outcome: &Outcome,
    now: jiff::Timestamp,
) -> CoreResult<Verdict> {
    let verdicts = settle_many(tx, policy, std::iter::once((row, webhook, outcome)), now)?;
    Ok(verdicts[0])
}

/// Records the finished attempts of claimed rows inside the round's transaction: logs each, and
/// schedules a retry or settles the row. All rows' updates go out as one multi-row UPDATE and all
/// log entries as one multi-row INSERT (per chunk), so a round's cost per row is small. A row
/// whose lease ran out and that another worker took over is left as it is (the attempt is still
/// logged: it was sent). Returns each row's verdict, in order.
fn settle_many<'a>(
    tx: &rusqlite::Connection,
    policy: &RetryPolicy,
    done: impl Iterator<Item = (&'a outbox_q::OutboxRow, &'a Webhook, &'a Outcome)>,
    now: jiff::Timestamp,
) -> CoreResult<Vec<Verdict>> {
    let (lower, _) = done.size_hint();
    let mut verdicts = Vec::with_capacity(lower);
    let mut updates = Vec::with_capacity(lower);
    let mut entries = Vec::with_capacity(lower);
    let mut gone = Vec::new();
    for (row, webhook, outcome) in done {
        let attempts = row.attempts + 1;
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
        updates.push(outbox_q::ClaimedOutcome {
            id: &row.id,
            claimed_attempts: row.attempts,
            attempts,
            state,
            next_attempt_at: next,
            last_error: outcome.error.as_deref(),
        });
        entries.push(outbox::attempt_entry(
            webhook,
            Some(&row.id),
            attempts,
            outcome,
            result,
            next,
            now,
        ));
        if verdict == Verdict::FinalAndDisable {
            gone.push(webhook.id.as_str());
        }
        verdicts.push(verdict);
    }
    outbox_q::record_claimed_many(tx, &updates, now)?;
    delivery_attempts::insert_many(tx, &entries)?;
    for id in gone {
        webhooks::disable(
            tx,
            id,
            "The receiver answered 410 Gone; the station disabled this webhook.",
            now,
        )?;
    }
    Ok(verdicts)
}

pub const SKIPPED_DISABLED: &str = "Skipped — webhook disabled";

/// A due row of a disabled webhook (disabled by staff, or by a 410) is not sent: it is settled as
/// skipped and logged; "Resend" stays available for it.
fn skip_disabled(
    tx: &rusqlite::Connection,
    row: &outbox_q::OutboxRow,
    webhook: &Webhook,
    now: jiff::Timestamp,
) -> CoreResult<()> {
    outbox_q::record_claimed(
        tx,
        &row.id,
        row.attempts,
        row.attempts,
        "skipped",
        None,
        Some(SKIPPED_DISABLED),
        now,
    )?;
    let outcome = Station::failed_outcome(ErrorClass::Config, SKIPPED_DISABLED.to_string());
    let entry = outbox::attempt_entry(
        webhook,
        Some(&row.id),
        row.attempts,
        &outcome,
        "skipped",
        None,
        now,
    );
    delivery_attempts::insert(tx, &entry)?;
    tracing::info!(delivery = %row.id, webhook = %webhook.name, "webhook disabled; delivery skipped");
    Ok(())
}

fn trace_outcome(d: &(DueDelivery, Outcome)) {
    let (d, outcome) = d;
    let attempt = d.row.attempts + 1;
    if outcome.success() {
        tracing::debug!(delivery = %d.row.id, webhook = %d.webhook.name, attempt, "webhook delivered");
    } else {
        tracing::warn!(delivery = %d.row.id, webhook = %d.webhook.name, attempt, error = outcome.error.as_deref().unwrap_or(""), "webhook attempt failed");
    }
}

impl outbox::OutboxStation for Station {
    fn settle_and_claim(
        &self,
        done: Vec<(DueDelivery, Outcome)>,
        claim: outbox::Claim,
    ) -> CoreResult<outbox::Round> {
        Station::settle_and_claim(self, done, claim)
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
