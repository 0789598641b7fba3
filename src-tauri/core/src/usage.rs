//! Why this exists: facilities bill instruments by use, so every booking keeps what the interlock
//! saw — its actual start (the first successful unlock of the booking) and actual end (the
//! successful lock that ended it, by a person or by auto-lock), with who did each — and a lock
//! can move the booking's end (`set_end_on_lock`, `trim_end_on_lock`). A moved end is an edit
//! like any other: the `event/update` webhooks are queued and the pending auto-lock re-timed in
//! the same transaction as the move. The usage report (Usage screen, `usage export`) is built
//! here too, with its CSV (RFC 4180) form.

use crate::error::{CoreError, CoreResult};
use crate::gating::BookingWindow;
use crate::model::{Account, Event, Service, Usage, UsageEntry, UsageReport, UsageTotal};
use crate::roles::Permission;
use crate::station::Station;
use crate::store::{events, usage};
use crate::tags::EndOnLock;
use crate::webhook::ActionSubtype;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// A successful unlock of a booking: the first one starts its use.
pub(crate) fn after_unlock(
    conn: &rusqlite::Connection,
    actor: &Account,
    event: &Event,
    now: Timestamp,
) -> CoreResult<()> {
    if usage::record_start(conn, &event.id, now, actor)? {
        tracing::info!(booking = %event.id, user = %actor.username, "usage started");
    }
    Ok(())
}

/// What a successful lock did to its booking's end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LockEffect {
    /// The end before and after, when the lock moved it.
    pub moved: Option<(Timestamp, Timestamp)>,
    /// Outbox rows written (the `event/update` webhooks).
    pub queued: usize,
}

impl LockEffect {
    /// The audit log's words for it.
    pub fn describe(&self, kind: Option<EndOnLock>) -> Option<String> {
        let (from, to) = self.moved?;
        let local = |t: Timestamp| crate::locale::LocalTimes::os().date_time_seconds(t);
        Some(format!(
            "booking end moved from {} to {} ({})",
            local(from),
            local(to),
            kind.map_or("", EndOnLock::tag)
        ))
    }
}

/// A successful lock of a booking: it ends the booking's use (the last lock counts). A person's
/// lock (the booking's user, or staff acting on that booking) inside the booking's interlock
/// window also moves the booking's end to the lock time when the service says so — `set`
/// earlier or later, `trim` only earlier — never past the start of the service's next booking,
/// and never to or before the booking's start (a lock before the booking began leaves it as
/// booked). Runs inside the caller's transaction.
pub(crate) fn after_lock(
    conn: &rusqlite::Connection,
    actor: &Account,
    service: &Service,
    event: &Event,
    now: Timestamp,
    by_person: bool,
) -> CoreResult<LockEffect> {
    usage::record_end(conn, &event.id, now, actor)?;
    tracing::info!(booking = %event.id, user = %actor.username, "usage ended");
    let none = LockEffect::default();
    let (Some(kind), Some(window), true) = (service.end_on_lock, service.interlock, by_person)
    else {
        return Ok(none);
    };
    // The booking as it is now (it may have been edited while the lock was on the wire).
    let Some(current) = events::get(conn, &event.id)? else {
        return Ok(none);
    };
    if current.service_id != service.id || !BookingWindow::of(&current, window).contains(now) {
        return Ok(none);
    }
    // Whole seconds: the end a person reads is the lock time they saw.
    let lock_at = Timestamp::from_second(now.as_second()).unwrap_or(now);
    if lock_at <= current.starts_at {
        return Ok(none);
    }
    let mut end = match kind {
        EndOnLock::Set => lock_at,
        EndOnLock::Trim if lock_at < current.ends_at => lock_at,
        EndOnLock::Trim => return Ok(none),
    };
    if let Some(next) =
        events::next_starting_from(conn, &service.id, current.starts_at, &current.id)?
    {
        end = end.min(next.starts_at);
    }
    if end == current.ends_at || end <= current.starts_at {
        return Ok(none);
    }
    usage::note_booked_end(conn, &current.id, current.ends_at)?;
    events::set_end(conn, &current.id, end, now)?;
    let after = events::get(conn, &current.id)?.ok_or_else(|| CoreError::not_found("The event"))?;
    // Like any edit: the pending auto-lock follows, the event/update webhooks go out.
    crate::interlock::auto_lock::follow_booking_change(conn, actor, &current, Some(&after), now)?;
    let queued = crate::station::schedule::enqueue_event(conn, ActionSubtype::Update, &after, now)?;
    tracing::info!(booking = %current.id, from = %current.ends_at, to = %end, tag = kind.tag(), "a lock moved the booking's end");
    Ok(LockEffect {
        moved: Some((current.ends_at, end)),
        queued,
    })
}

/// Whole minutes between two instants, a started minute counted.
fn minutes_up(from: Timestamp, to: Timestamp) -> u32 {
    let ms = to.as_millisecond() - from.as_millisecond();
    if ms <= 0 {
        return 0;
    }
    u32::try_from((ms + 59_999) / 60_000).unwrap_or(u32::MAX)
}

/// Parses a `YYYY-MM-DD` day of a report range.
pub fn parse_day(text: &str, which: &str) -> CoreResult<Date> {
    text.trim().parse::<Date>().map_err(|_| {
        CoreError::validation(format!(
            "The {which} date must be a day written YYYY-MM-DD, got '{text}'."
        ))
    })
}

fn tz_name(tz: &TimeZone) -> String {
    tz.iana_name().unwrap_or("local time").to_string()
}

impl Station {
    /// Every booking whose start falls on the days `from` to `to` (inclusive, in the station's
    /// time zone) with its actual use, and totals per service and user. Staff and administrators.
    pub fn usage_report(&self, from: &str, to: &str) -> CoreResult<UsageReport> {
        self.actor(Permission::ViewAllSchedule)?;
        let tz = TimeZone::system();
        let (first, last) = (parse_day(from, "from")?, parse_day(to, "to")?);
        if last < first {
            return Err(CoreError::validation(
                "The 'to' date must be on or after the 'from' date.",
            ));
        }
        let start = first
            .to_zoned_datetime(tz.clone())
            .map_err(|e| CoreError::validation(format!("The from date: {e}")))?
            .timestamp();
        let end = last
            .tomorrow()
            .and_then(|d| d.to_zoned_datetime(tz.clone()))
            .map(|z| z.timestamp())
            .unwrap_or(Timestamp::MAX);
        let rows = events::starting_between(self.store().conn(), start, end)?;
        let entries: Vec<UsageEntry> = rows
            .into_iter()
            .map(|(e, username)| {
                let usage = e.usage.clone().unwrap_or(Usage {
                    started_at: None,
                    started_by: None,
                    ended_at: None,
                    ended_by: None,
                    booked_ends_at: None,
                });
                let used_minutes = match (usage.started_at, usage.ended_at) {
                    (Some(s), Some(x)) if x >= s => Some(minutes_up(s, x)),
                    _ => None,
                };
                UsageEntry {
                    booked_minutes: minutes_up(e.starts_at, e.ends_at),
                    event_id: e.id,
                    service_id: e.service_id,
                    service_name: e.service_name,
                    // A synced booking no account matched: billed to the name the feed gave.
                    user_id: e.user_id.unwrap_or_default(),
                    username,
                    user_display_name: e.user_display_name,
                    title: e.title,
                    order_id: e.order_id,
                    line_id: e.line_id,
                    starts_at: e.starts_at,
                    ends_at: e.ends_at,
                    usage,
                    used_minutes,
                }
            })
            .collect();
        let mut totals: Vec<UsageTotal> = Vec::new();
        for e in &entries {
            let at = match totals.iter().position(|t| {
                t.service_id == e.service_id
                    && t.user_id == e.user_id
                    && t.user_display_name == e.user_display_name
            }) {
                Some(i) => i,
                None => {
                    totals.push(UsageTotal {
                        service_id: e.service_id.clone(),
                        service_name: e.service_name.clone(),
                        user_id: e.user_id.clone(),
                        username: e.username.clone(),
                        user_display_name: e.user_display_name.clone(),
                        bookings: 0,
                        used_bookings: 0,
                        booked_minutes: 0,
                        used_minutes: 0,
                    });
                    totals.len() - 1
                }
            };
            let t = &mut totals[at];
            t.bookings += 1;
            t.booked_minutes = t.booked_minutes.saturating_add(e.booked_minutes);
            if let Some(m) = e.used_minutes {
                t.used_bookings += 1;
                t.used_minutes = t.used_minutes.saturating_add(m);
            }
        }
        totals.sort_by(|a, b| {
            (a.service_name.to_lowercase(), a.username.to_lowercase())
                .cmp(&(b.service_name.to_lowercase(), b.username.to_lowercase()))
        });
        Ok(UsageReport {
            from: first.to_string(),
            to: last.to_string(),
            time_zone: tz_name(&tz),
            entries,
            totals,
        })
    }
}

/// The columns of the CSV export, in order.
pub const CSV_COLUMNS: [&str; 22] = [
    "event_id",
    "service",
    "username",
    "user_name",
    "title",
    "order_id",
    "line_id",
    "booked_start_utc",
    "booked_start_local",
    "booked_end_utc",
    "booked_end_local",
    "scheduled_end_before_lock_utc",
    "actual_start_utc",
    "actual_start_local",
    "started_by",
    "actual_end_utc",
    "actual_end_local",
    "ended_by",
    "booked_minutes",
    "used_minutes",
    "time_zone",
    "in_use",
];

/// One CSV field per RFC 4180: quoted when it holds a comma, a quote, CR or LF (quotes doubled).
fn field(value: &str) -> String {
    if value.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// The report as CSV (RFC 4180: CRLF line ends, a header row): one row per booking, instants
/// in UTC (RFC 3339, `Z`) and in the station's local time (with its offset).
pub fn to_csv(report: &UsageReport) -> String {
    let tz = TimeZone::system();
    let utc = |t: Option<Timestamp>| t.map(|t| t.to_string()).unwrap_or_default();
    let local = |t: Option<Timestamp>| {
        t.map(|t| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .unwrap_or_default()
    };
    let mut out = String::new();
    out.push_str(&CSV_COLUMNS.join(","));
    out.push_str("\r\n");
    for e in &report.entries {
        let u = &e.usage;
        let in_use = u.started_at.is_some() && u.ended_at.is_none_or(|x| Some(x) < u.started_at);
        let row = [
            e.event_id.clone(),
            e.service_name.clone(),
            e.username.clone(),
            e.user_display_name.clone(),
            e.title.clone(),
            e.order_id.clone().unwrap_or_default(),
            e.line_id.clone().unwrap_or_default(),
            utc(Some(e.starts_at)),
            local(Some(e.starts_at)),
            utc(Some(e.ends_at)),
            local(Some(e.ends_at)),
            utc(u.booked_ends_at),
            utc(u.started_at),
            local(u.started_at),
            u.started_by.clone().unwrap_or_default(),
            utc(u.ended_at),
            local(u.ended_at),
            u.ended_by.clone().unwrap_or_default(),
            e.booked_minutes.to_string(),
            e.used_minutes.map(|m| m.to_string()).unwrap_or_default(),
            report.time_zone.clone(),
            if in_use { "yes" } else { "no" }.to_string(),
        ];
        let fields: Vec<String> = row.iter().map(|v| field(v)).collect();
        out.push_str(&fields.join(","));
        out.push_str("\r\n");
    }
    out
}
