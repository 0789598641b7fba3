//! Why this exists: a station follows the facility's calendar instead of having every booking
//! typed in twice. Staff keep each service's feeds here (their credential in the keyring, like a
//! webhook's); a sync's occurrences are reconciled here into ordinary bookings in one
//! transaction, so gating, the panel, auto-lock and the station screen treat them exactly like
//! local ones. A synced booking belongs to the account whose e-mail the calendar names (or whose
//! username the feed's pattern finds); the others keep the calendar's name and give instrument
//! users no controls. A one-off `.ics` import goes through the same matching.

use super::schedule::enqueue_event;
use super::Station;
use crate::error::{CoreError, CoreResult};
use crate::feed::{auth_key, check_feed, user_regex, Feed, FeedInput, FeedStatus};
use crate::ical::Occurrence;
use crate::model::{Account, Event};
use crate::roles::Permission;
use crate::store::{self, accounts, events, feeds, services};
use crate::webhook::{ActionSubtype, AuthKind, SecretChange};
use jiff::Timestamp;
use serde::Serialize;
use std::collections::HashMap;

/// What one sync or import changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, specta::Type)]
pub struct SyncReport {
    pub feed_id: Option<String>,
    pub name: String,
    /// The feed had not changed (HTTP 304): nothing was parsed.
    pub not_modified: bool,
    pub created: u32,
    pub updated: u32,
    pub removed: u32,
    pub unchanged: u32,
    /// Bookings no account at this station matched.
    pub unmatched: u32,
    /// Events the parse skipped, and why.
    pub warnings: Vec<String>,
}

/// Who a calendar's booking belongs to at this station.
struct Matcher {
    by_email: HashMap<String, (String, String)>,
    by_username: HashMap<String, (String, String)>,
    pattern: Option<regex_lite::Regex>,
}

/// The account matched (id, display name), and the name the calendar gave.
type Matched = (Option<(String, String)>, String);

impl Matcher {
    fn load(conn: &rusqlite::Connection, pattern: &str) -> CoreResult<Matcher> {
        let (by_email, by_username) = accounts::match_keys(conn)?;
        let pattern = if pattern.trim().is_empty() {
            None
        } else {
            Some(user_regex(pattern)?)
        };
        Ok(Matcher {
            by_email,
            by_username,
            pattern,
        })
    }

    /// ATTENDEEs first (a facility system is often the ORGANIZER), then the ORGANIZER, then the
    /// pattern over SUMMARY and DESCRIPTION.
    fn person(&self, o: &Occurrence) -> Matched {
        let people: Vec<_> = o.attendees.iter().chain(o.organizer.iter()).collect();
        for p in &people {
            if let Some(hit) = p.email.as_ref().and_then(|e| self.by_email.get(e)) {
                return (Some(hit.clone()), p.name.clone().unwrap_or_default());
            }
        }
        let mut captured = None;
        if let Some(re) = &self.pattern {
            for text in [&o.summary, &o.description] {
                if let Some(c) = re.captures(text).and_then(|c| c.get(1)) {
                    let name = c.as_str().trim().to_string();
                    if let Some(hit) = self.by_username.get(&name.to_lowercase()) {
                        return (Some(hit.clone()), name);
                    }
                    captured.get_or_insert(name);
                }
            }
        }
        let named = people
            .iter()
            .find_map(|p| p.name.clone().or_else(|| p.email.clone()))
            .or(captured)
            .unwrap_or_default();
        (None, named)
    }
}

/// Where the occurrences of a reconcile come from.
enum Origin<'a> {
    Feed(&'a Feed),
    File { service_id: &'a str, name: &'a str },
}

impl Station {
    // ---- settings --------------------------------------------------------------------------

    pub fn list_feeds(&self) -> CoreResult<Vec<Feed>> {
        self.actor(Permission::ManageSchedule)?;
        feeds::list(self.store().conn())
    }

    /// Creates (`id` None) or changes a feed. The keyring is written first, with no database
    /// lock held, and put back if the row cannot be written.
    pub fn save_feed(&self, id: Option<&str>, input: FeedInput) -> CoreResult<Feed> {
        self.actor(Permission::ManageSchedule)?;
        let checked = check_feed(&input)?;
        let fid = id.map(str::to_string).unwrap_or_else(store::new_id);
        let existing = {
            let store = self.store();
            let conn = store.conn();
            services::get(conn, &input.service_id)?
                .ok_or_else(|| CoreError::validation("Choose an existing service."))?;
            match id {
                Some(id) => {
                    let f =
                        feeds::get(conn, id)?.ok_or_else(|| CoreError::not_found("The feed"))?;
                    if f.service_id != input.service_id {
                        return Err(CoreError::validation(
                            "A feed cannot move to another service; add a new feed there.",
                        ));
                    }
                    Some(f)
                }
                None => None,
            }
        };
        let old_set = existing.as_ref().is_some_and(|f| f.auth_secret_set);
        let mut ops = Vec::new();
        let auth_secret_set = match (input.auth, &input.auth_secret) {
            (AuthKind::None, _) | (_, SecretChange::Clear) => {
                if old_set {
                    ops.push((auth_key(&fid), None));
                }
                false
            }
            (_, SecretChange::Keep) => old_set,
            (_, SecretChange::Set { value }) => {
                ops.push((auth_key(&fid), Some(value.clone())));
                true
            }
        };
        let feed = Feed {
            id: fid.clone(),
            service_id: input.service_id.clone(),
            service_name: String::new(),
            name: checked.name,
            url: checked.url,
            auth: input.auth,
            auth_username: checked.auth_username,
            auth_secret_set,
            insecure: input.insecure,
            ca_pem: checked.ca_pem,
            refresh_minutes: input.refresh_minutes,
            enabled: input.enabled,
            fire_webhooks: input.fire_webhooks,
            user_pattern: checked.user_pattern,
            status: FeedStatus::default(),
        };
        let undo = self.apply_secret_ops(ops)?;
        let written = {
            let store = self.store();
            feeds::upsert(store.conn(), &feed, self.now())
                .and_then(|()| feeds::get(store.conn(), &fid))
        };
        match written {
            Ok(Some(saved)) => {
                tracing::info!(feed = %fid, name = %saved.name, "calendar feed saved");
                self.feeds_signal.notify_one();
                Ok(saved)
            }
            Ok(None) => {
                self.undo_secret_ops(undo);
                Err(CoreError::not_found("The feed"))
            }
            Err(e) => {
                self.undo_secret_ops(undo);
                Err(e)
            }
        }
    }

    /// Deletes a feed with the bookings it brought (each removal follows its auto-lock and, when
    /// the feed asks for them, queues the event webhooks) and its keyring entry.
    pub fn delete_feed(&self, id: &str) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let feed =
            feeds::get(self.store().conn(), id)?.ok_or_else(|| CoreError::not_found("The feed"))?;
        let ops = if feed.auth_secret_set {
            vec![(auth_key(id), None)]
        } else {
            Vec::new()
        };
        let undo = self.apply_secret_ops(ops)?;
        let deleted = (|| {
            let mut store = self.store();
            let tx = store
                .conn_mut()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut queued = 0;
            for e in events::of_feed(&tx, id)? {
                queued += remove_booking(&tx, &actor, &e.id, feed.fire_webhooks, self.now())?;
            }
            feeds::delete(&tx, id)?;
            tx.commit()?;
            Ok::<usize, CoreError>(queued)
        })();
        match deleted {
            Ok(queued) => {
                self.signal_outbox(queued);
                tracing::info!(feed = %id, name = %feed.name, "calendar feed deleted with its bookings");
                Ok(())
            }
            Err(e) => {
                self.undo_secret_ops(undo);
                Err(e)
            }
        }
    }

    // ---- sync ------------------------------------------------------------------------------

    /// A feed's settings and its credential, for a fetch (no lock is held while the keyring is
    /// asked). Not gated: the background sync runs with nobody signed in.
    pub(crate) fn feed_for_sync(
        &self,
        id: &str,
    ) -> CoreResult<Option<(Feed, Option<crate::sensitive::Sensitive<String>>)>> {
        let Some(feed) = feeds::get(self.store().conn(), id)? else {
            return Ok(None);
        };
        let secret = if feed.auth != AuthKind::None && feed.auth_secret_set {
            self.secrets.get(&auth_key(id))?
        } else {
            None
        };
        Ok(Some((feed, secret)))
    }

    pub(crate) fn feed_validators(&self, id: &str) -> CoreResult<(Option<String>, Option<String>)> {
        feeds::validators(self.store().conn(), id)
    }

    pub(crate) fn due_feeds(&self) -> CoreResult<Vec<String>> {
        feeds::due(self.store().conn(), self.now())
    }

    pub(crate) fn enabled_feeds(&self) -> CoreResult<Vec<String>> {
        feeds::enabled(self.store().conn())
    }

    /// A fetch that changed nothing (HTTP 304).
    pub(crate) fn record_feed_unchanged(&self, feed: &Feed) -> CoreResult<SyncReport> {
        let recovered = feed.status.failing;
        feeds::record_success(self.store().conn(), &feed.id, self.now(), None, None)?;
        if recovered {
            self.announce_feed_back(feed);
        }
        Ok(SyncReport {
            feed_id: Some(feed.id.clone()),
            name: feed.name.clone(),
            not_modified: true,
            ..SyncReport::default()
        })
    }

    /// A failed fetch or parse: the last good bookings stay; the desktop hears of it only when
    /// the feed goes from good to failing.
    pub(crate) fn record_feed_failure(
        &self,
        feed: &Feed,
        class: &str,
        message: &str,
    ) -> CoreResult<()> {
        let message = crate::webhook::mask_urls_in(message);
        let became_failing =
            feeds::record_failure(self.store().conn(), &feed.id, self.now(), class, &message)?;
        tracing::warn!(feed = %feed.id, name = %feed.name, class, "calendar feed sync failed: {message}");
        if became_failing {
            self.announce(
                format!("Calendar feed failing — {}", feed.name),
                format!(
                    "{message}. The bookings from its last good sync are kept ({}).",
                    feed.service_name
                ),
            );
        }
        Ok(())
    }

    fn announce_feed_back(&self, feed: &Feed) {
        tracing::info!(feed = %feed.id, name = %feed.name, "calendar feed syncs again");
        self.announce(
            format!("Calendar feed back — {}", feed.name),
            format!("{} syncs again ({}).", feed.name, feed.service_name),
        );
    }

    /// Applies a parsed feed: every occurrence in the horizon becomes (or updates) a booking;
    /// the feed's bookings in the horizon that the calendar no longer has are removed.
    pub(crate) fn apply_feed(
        &self,
        feed: &Feed,
        parsed: crate::ical::ParsedFeed,
        horizon: &crate::ical::Horizon,
        validators: (Option<String>, Option<String>),
    ) -> CoreResult<SyncReport> {
        let now = self.now();
        let actor = crate::interlock::auto_lock_account(now);
        let (report, queued) = {
            let mut store = self.store();
            let tx = store
                .conn_mut()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let (mut report, queued) = reconcile(
                &tx,
                &actor,
                Origin::Feed(feed),
                &parsed.occurrences,
                Some(horizon),
                now,
            )?;
            report.warnings = parsed.warnings;
            feeds::record_success(
                &tx,
                &feed.id,
                now,
                Some((validators.0.as_deref(), validators.1.as_deref())),
                Some(&report.warnings),
            )?;
            tx.commit()?;
            (report, queued)
        };
        self.signal_outbox(queued);
        if feed.status.failing {
            self.announce_feed_back(feed);
        }
        tracing::info!(
            feed = %feed.id, name = %feed.name, created = report.created, updated = report.updated,
            removed = report.removed, unmatched = report.unmatched, "calendar feed synced"
        );
        Ok(report)
    }

    /// A one-off import of an `.ics` file into a service (staff). All or nothing: every
    /// occurrence must belong to an account at this station and may not overlap another
    /// booking, as for a booking typed in. Importing the same file again updates its bookings
    /// (matched by UID and occurrence) instead of adding them twice.
    pub fn import_ics(
        &self,
        service_id: &str,
        file_name: &str,
        text: &str,
    ) -> CoreResult<SyncReport> {
        let actor = self.actor(Permission::ManageSchedule)?;
        let now = self.now();
        let horizon = crate::feed_sync::horizon(now);
        let parsed = crate::ical::parse_feed(
            text,
            &horizon,
            &crate::feed_sync::local_zone_name(),
            &crate::ical::FeedLimits::default(),
        )
        .map_err(|e| CoreError::validation(format!("{file_name}: {e}")))?;
        let name = file_name.trim();
        let name = if name.is_empty() {
            "calendar file"
        } else {
            name
        };
        let (mut report, queued) = {
            let mut store = self.store();
            let tx = store
                .conn_mut()
                .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            services::get(&tx, service_id)?
                .ok_or_else(|| CoreError::validation("Choose an existing service."))?;
            let result = reconcile(
                &tx,
                &actor,
                Origin::File { service_id, name },
                &parsed.occurrences,
                None,
                now,
            )?;
            tx.commit()?;
            result
        };
        report.warnings = parsed.warnings;
        self.signal_outbox(queued);
        Ok(report)
    }
}

/// Removes one booking as the calendar asks (its pending auto-lock follows; the event webhooks
/// are queued when asked for). Returns how many deliveries were queued.
fn remove_booking(
    tx: &rusqlite::Connection,
    actor: &Account,
    id: &str,
    fire_webhooks: bool,
    now: Timestamp,
) -> CoreResult<usize> {
    let Some(event) = events::get(tx, id)? else {
        return Ok(0);
    };
    crate::interlock::auto_lock::follow_booking_change(tx, actor, &event, None, now)?;
    let queued = if fire_webhooks {
        enqueue_event(tx, ActionSubtype::Delete, &event, now)?
    } else {
        0
    };
    events::delete(tx, id)?;
    Ok(queued)
}

/// The booking's title: the calendar's SUMMARY, cut to what a local booking may hold.
fn title_of(o: &Occurrence) -> String {
    o.summary.trim().chars().take(200).collect()
}

fn reconcile(
    tx: &rusqlite::Connection,
    actor: &Account,
    origin: Origin<'_>,
    occurrences: &[Occurrence],
    horizon: Option<&crate::ical::Horizon>,
    now: Timestamp,
) -> CoreResult<(SyncReport, usize)> {
    let (service_id, feed_id, source_name, pattern, fire) = match &origin {
        Origin::Feed(f) => (
            f.service_id.as_str(),
            Some(f.id.as_str()),
            "",
            f.user_pattern.as_str(),
            f.fire_webhooks,
        ),
        Origin::File { service_id, name } => (*service_id, None, *name, "", true),
    };
    let matcher = Matcher::load(tx, pattern)?;
    let existing = match feed_id {
        Some(fid) => events::of_feed(tx, fid)?,
        None => events::imported_on_service(tx, service_id)?,
    };
    let mut by_key: HashMap<(String, String), events::SourcedEvent> = existing
        .into_iter()
        .map(|e| ((e.uid.clone(), e.key.clone()), e))
        .collect();
    let mut report = SyncReport {
        feed_id: feed_id.map(str::to_string),
        name: match &origin {
            Origin::Feed(f) => f.name.clone(),
            Origin::File { name, .. } => name.to_string(),
        },
        ..SyncReport::default()
    };
    let mut queued = 0;
    let mut problems = Vec::new();
    for o in occurrences {
        let (user, booked_by) = matcher.person(o);
        let title = title_of(o);
        if feed_id.is_none() {
            // A file's bookings are local bookings: an account and no overlap, as typed in.
            if user.is_none() {
                problems.push(format!(
                    "'{}' on {} names no account at this station ({})",
                    if title.is_empty() {
                        o.uid.as_str()
                    } else {
                        title.as_str()
                    },
                    crate::locale::LocalTimes::os().date_time(o.starts_at),
                    if booked_by.is_empty() {
                        "nobody"
                    } else {
                        booked_by.as_str()
                    }
                ));
                continue;
            }
        }
        let user_id = user.as_ref().map(|(id, _)| id.as_str());
        let source = events::SourceRow {
            feed_id,
            source: source_name,
            uid: &o.uid,
            key: &o.key,
            sequence: o.sequence,
            booked_by: &booked_by,
        };
        if user.is_none() {
            report.unmatched += 1;
        }
        match by_key.remove(&(o.uid.clone(), o.key.clone())) {
            Some(before) => {
                let same = before.user_id.as_deref() == user_id
                    && before.title == title
                    && before.starts_at == o.starts_at
                    && before.ends_at == o.ends_at
                    && before.booked_by == booked_by
                    && before.sequence == o.sequence;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                if feed_id.is_none() {
                    check_no_overlap(tx, service_id, o, Some(&before.id), &mut problems)?;
                }
                let old = events::get(tx, &before.id)?
                    .ok_or_else(|| CoreError::not_found("The booking"))?;
                let row = events::EventRow {
                    id: &before.id,
                    service_id,
                    user_id,
                    title: &title,
                    starts_at: o.starts_at,
                    ends_at: o.ends_at,
                    order_id: old.order_id.as_deref(),
                    line_id: old.line_id.as_deref(),
                };
                events::update_sourced(tx, &row, &source, now)?;
                let event = events::get(tx, &before.id)?
                    .ok_or_else(|| CoreError::not_found("The booking"))?;
                crate::interlock::auto_lock::follow_booking_change(
                    tx,
                    actor,
                    &old,
                    Some(&event),
                    now,
                )?;
                if fire {
                    queued += enqueue_event(tx, ActionSubtype::Update, &event, now)?;
                }
                report.updated += 1;
            }
            None => {
                if feed_id.is_none() {
                    check_no_overlap(tx, service_id, o, None, &mut problems)?;
                }
                let id = store::new_id();
                let row = events::EventRow {
                    id: &id,
                    service_id,
                    user_id,
                    title: &title,
                    starts_at: o.starts_at,
                    ends_at: o.ends_at,
                    order_id: None,
                    line_id: None,
                };
                events::insert_sourced(tx, &row, &source, now)?;
                if fire {
                    let event: Event =
                        events::get(tx, &id)?.ok_or_else(|| CoreError::not_found("The booking"))?;
                    queued += enqueue_event(tx, ActionSubtype::Create, &event, now)?;
                }
                report.created += 1;
            }
        }
    }
    if !problems.is_empty() {
        let n = problems.len();
        problems.truncate(10);
        return Err(CoreError::validation(format!(
            "Nothing was imported: {n} booking{} cannot be taken: {}{}.",
            if n == 1 { "" } else { "s" },
            problems.join("; "),
            if n > 10 { "; …" } else { "" }
        )));
    }
    // What the calendar no longer has, within the range it was read for, goes (earlier
    // bookings are history and stay). A file import only adds and updates.
    if let (Some(h), Some(_)) = (horizon, feed_id) {
        for gone in by_key.into_values() {
            if gone.ends_at > h.from && gone.starts_at < h.to {
                queued += remove_booking(tx, actor, &gone.id, fire, now)?;
                report.removed += 1;
            }
        }
    }
    Ok((report, queued))
}

fn check_no_overlap(
    tx: &rusqlite::Connection,
    service_id: &str,
    o: &Occurrence,
    except: Option<&str>,
    problems: &mut Vec<String>,
) -> CoreResult<()> {
    if let Some(other) = events::overlapping(tx, service_id, o.starts_at, o.ends_at, except)?
        .into_iter()
        .next()
    {
        let t = crate::locale::LocalTimes::os();
        problems.push(format!(
            "'{}' on {} overlaps the booking {}–{}",
            title_of(o),
            t.date_time(o.starts_at),
            t.date_time(other.starts_at),
            t.time(other.ends_at)
        ));
    }
    Ok(())
}
