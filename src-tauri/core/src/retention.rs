//! Why this exists: history must not grow without bound on a station that runs for years. Settled
//! outbox rows (delivered, failed for good, skipped), delivery attempts and interlock audit entries
//! older than the retention setting (default 400 days) are pruned — daily by the app, or on demand
//! with `interlock-station prune` — and the lists that grow with history are read a page at a time
//! (newest first, `before` = the id of the last entry already shown).
//!
//! Pruning deletes in small batches, each under its own short database lock, so a Lock command
//! never waits behind a large delete.

use crate::error::{CoreError, CoreResult};
use crate::model::{AuditEntry, DeliveryAttempt};
use crate::roles::Permission;
use crate::store::{delivery_attempts, interlock_audit, settings, to_ms};
use crate::Station;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_RETENTION_DAYS: u32 = 400;
pub const MIN_RETENTION_DAYS: u32 = 30;
pub const MAX_RETENTION_DAYS: u32 = 3650;
pub(crate) const RETENTION_KEY: &str = "history_retention_days";
/// Rows deleted per statement (and per database lock).
const BATCH: usize = 2000;
/// How often the app prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(24 * 3600);
/// The largest page a list returns.
pub const MAX_PAGE: usize = 5000;
/// The page the window reads at a time ("Show older" reads the next).
pub const UI_PAGE: usize = 200;

/// What one pruning removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Entries older than this went.
    pub cutoff: Timestamp,
    pub outbox_rows: usize,
    pub delivery_attempts: usize,
    pub audit_entries: usize,
    /// Relay state changes (the timeline's history); each instrument keeps its latest.
    pub state_changes: usize,
}

/// One page of a list, newest first; `next_before` is the cursor of the next (older) page, none
/// when this page is the last.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_before: Option<String>,
}

fn page<T>(items: Vec<T>, limit: usize, id: impl Fn(&T) -> &str) -> Page<T> {
    let next_before = if items.len() == limit {
        items.last().map(|i| id(i).to_string())
    } else {
        None
    };
    Page { items, next_before }
}

fn cursor(before: Option<&str>) -> CoreResult<Option<i64>> {
    before
        .map(|b| {
            b.trim().parse::<i64>().map_err(|_| {
                CoreError::validation(format!("'{b}' is not a position in this list."))
            })
        })
        .transpose()
}

/// The rule the retention setting must pass (the Settings window and `config import` both use it).
pub(crate) fn check_retention_days(days: u32) -> CoreResult<()> {
    if !(MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        return Err(CoreError::validation(format!(
            "History is kept between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days."
        )));
    }
    Ok(())
}

fn prune_settled_outbox(
    conn: &rusqlite::Connection,
    cutoff: Timestamp,
    batch: usize,
) -> CoreResult<usize> {
    Ok(conn.execute(
        "DELETE FROM outbox WHERE id IN
             (SELECT id FROM outbox WHERE state <> 'pending' AND updated_at < ?1 LIMIT ?2)",
        rusqlite::params![to_ms(cutoff), batch as i64],
    )?)
}

impl Station {
    /// How many days of history the station keeps (no role needed: the app's daily pruning runs
    /// while nobody is signed in).
    pub fn retention_days(&self) -> CoreResult<u32> {
        Ok(settings::get(self.store().conn(), RETENTION_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_RETENTION_DAYS))
    }

    /// Administrators set how many days of history are kept.
    pub fn set_retention_days(&self, days: u32) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSettings)?;
        check_retention_days(days)?;
        settings::set_by(
            self.store().conn(),
            RETENTION_KEY,
            &days.to_string(),
            &actor.username,
        )?;
        tracing::info!(days, "history retention set");
        Ok(())
    }

    /// Prunes now (administrators; the command line acts as one).
    pub fn prune_history(&self) -> CoreResult<PruneReport> {
        self.actor(Permission::ManageSettings)?;
        self.prune_history_unchecked()
    }

    /// Prunes history older than the retention setting, without a role check: for the app's
    /// daily background task. Pending outbox rows are never touched.
    pub fn prune_history_unchecked(&self) -> CoreResult<PruneReport> {
        let days = self.retention_days()?;
        let cutoff = self.now() - SignedDuration::from_hours(24 * i64::from(days));
        let drain = |f: &dyn Fn(&rusqlite::Connection) -> CoreResult<usize>| -> CoreResult<usize> {
            let mut total = 0;
            loop {
                // A short lock per batch: other work goes on between them.
                let n = f(self.store().conn())?;
                total += n;
                if n < BATCH {
                    return Ok(total);
                }
            }
        };
        let report = PruneReport {
            cutoff,
            outbox_rows: drain(&|c| prune_settled_outbox(c, cutoff, BATCH))?,
            delivery_attempts: drain(&|c| delivery_attempts::prune_older_than(c, cutoff, BATCH))?,
            audit_entries: drain(&|c| interlock_audit::prune_older_than(c, cutoff, BATCH))?,
            state_changes: drain(&|c| {
                crate::store::interlock_readings::prune_older_than(c, cutoff, BATCH)
            })?,
        };
        tracing::info!(
            days,
            cutoff = %cutoff,
            outbox = report.outbox_rows,
            attempts = report.delivery_attempts,
            audit = report.audit_entries,
            "history pruned"
        );
        Ok(report)
    }

    /// One page of the interlock audit log, newest first (staff).
    pub fn interlock_audit_page(
        &self,
        limit: usize,
        before: Option<&str>,
    ) -> CoreResult<Page<AuditEntry>> {
        self.actor(Permission::ViewAllSchedule)?;
        let limit = limit.clamp(1, MAX_PAGE);
        let items = interlock_audit::list_before(self.store().conn(), limit, cursor(before)?)?;
        Ok(page(items, limit, |e| &e.id))
    }

    /// One page of the delivery log, newest first (staff).
    pub fn deliveries_page(
        &self,
        outcome: Option<&str>,
        webhook_id: Option<&str>,
        limit: usize,
        before: Option<&str>,
    ) -> CoreResult<Page<DeliveryAttempt>> {
        self.actor(Permission::ManageSchedule)?;
        self.deliveries_page_unchecked(outcome, webhook_id, limit, before)
    }

    /// The delivery log a page at a time without a role check, for the command line.
    pub fn deliveries_page_unchecked(
        &self,
        outcome: Option<&str>,
        webhook_id: Option<&str>,
        limit: usize,
        before: Option<&str>,
    ) -> CoreResult<Page<DeliveryAttempt>> {
        let limit = limit.clamp(1, MAX_PAGE);
        let items = delivery_attempts::list_before(
            self.store().conn(),
            outcome,
            webhook_id,
            limit,
            cursor(before)?,
        )?;
        Ok(page(items, limit, |a| &a.id))
    }
}

/// The app's daily pruning: once shortly after start, then every `PRUNE_EVERY`. The database
/// work runs on the blocking pool.
pub async fn run_daily(station: Arc<Station>) {
    tokio::time::sleep(Duration::from_secs(60)).await;
    loop {
        let s = station.clone();
        match tokio::task::spawn_blocking(move || s.prune_history_unchecked()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::error!(code = e.code.as_str(), "pruning history: {}", e.message),
            Err(e) => tracing::error!("pruning history stopped: {e}"),
        }
        tokio::time::sleep(PRUNE_EVERY).await;
    }
}
