//! Why this exists: facilities publish their instrument bookings as iCalendar (RFC 5545) feeds
//! (Google Calendar, Outlook, NEMO). This module turns such a feed into the concrete booking
//! occurrences inside a time horizon, so the station can compare them with its own schedule. The
//! iCalendar grammar, time zones (IANA, Windows names, VTIMEZONE) and recurrence rules are
//! handled by the `calcard` crate; this module adds what the station needs on top: stable
//! per-occurrence keys, cancelled and zero-length occurrences left out, per-event problems turned
//! into warnings, and hard bounds on what a hostile feed can cost.

use calcard::common::timezone::Tz;
use calcard::common::PartialDateTime;
use calcard::icalendar::dates::{CalendarEvent, TimeOrDelta};
use calcard::icalendar::timezone::TzResolver;
use calcard::icalendar::utils::strip_mailto_scheme;
use calcard::icalendar::{
    ICalendar, ICalendarComponent, ICalendarComponentType, ICalendarEntry, ICalendarParameterName,
    ICalendarProperty, ICalendarStatus, ICalendarValue,
};
use calcard::{Entry, Parser};
use jiff::Timestamp;
use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

/// The window of interest: occurrences overlapping `[from, to)` are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Horizon {
    pub from: Timestamp,
    pub to: Timestamp,
}

/// An organizer or attendee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Lower-cased, without "mailto:".
    pub email: Option<String>,
    /// The CN parameter.
    pub name: Option<String>,
}

/// One concrete booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub uid: String,
    /// Stable key of this occurrence within its UID: "" for a non-recurring event; for an
    /// occurrence of a recurring series, the ORIGINAL (rule-generated, i.e. RECURRENCE-ID) start
    /// instant in UTC formatted "YYYYMMDDTHHMMSSZ" — so an overridden (moved) occurrence keeps the
    /// key of the slot it replaced.
    pub key: String,
    pub sequence: i64,
    /// Unescaped text.
    pub summary: String,
    pub description: String,
    pub organizer: Option<Person>,
    pub attendees: Vec<Person>,
    pub starts_at: Timestamp,
    /// Always after `starts_at` (zero-length bookings are skipped with a warning).
    pub ends_at: Timestamp,
    pub all_day: bool,
}

/// The result of [`parse_feed`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedFeed {
    /// Sorted by (starts_at, uid, key).
    pub occurrences: Vec<Occurrence>,
    /// Per-event problems; the event was skipped (or its series cut short).
    pub warnings: Vec<String>,
    /// VEVENT components in the feed (masters and overrides).
    pub events_seen: usize,
}

/// Bounds on what one feed may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedLimits {
    /// Largest accepted feed, in bytes.
    pub max_bytes: usize,
    /// Most VEVENT components in one feed; a feed with more is refused before parsing.
    pub max_components: usize,
    /// Most recurrence instances generated in total, counted from each series' DTSTART. Each
    /// series gets a fair share of what is left, so one runaway rule cannot starve the others.
    pub max_expanded: usize,
    /// Most occurrences kept in the horizon (the earliest are kept).
    pub max_occurrences: usize,
}

impl Default for FeedLimits {
    fn default() -> Self {
        FeedLimits {
            max_bytes: 10 * 1024 * 1024,
            max_components: 20_000,
            max_expanded: 200_000,
            max_occurrences: 50_000,
        }
    }
}

/// The feed as a whole could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedParseError {
    /// 1-based line in the feed text, when known.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for FeedParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for FeedParseError {}

fn fail(line: Option<usize>, message: impl Into<String>) -> FeedParseError {
    FeedParseError {
        line,
        message: message.into(),
    }
}

/// Most "not a content line" warnings reported one by one.
const MAX_LINE_WARNINGS: usize = 20;

/// What one linear pass over the raw text learns before anything is parsed.
struct Scan {
    /// 1-based line of each `BEGIN:VEVENT`, in order (the parser numbers components the same way).
    vevent_lines: Vec<usize>,
    warnings: Vec<String>,
}

fn is_line(line: &str, want: &str) -> bool {
    let line = line.trim_start_matches('\u{feff}').trim();
    line.eq_ignore_ascii_case(want)
}

/// Counts components and finds malformed lines in one pass, without building anything, so a
/// feed with a million events is refused in milliseconds.
fn scan(text: &str, limits: &FeedLimits) -> Result<Scan, FeedParseError> {
    let mut vevent_lines = Vec::new();
    let mut components = 0usize;
    let max_all_components = limits
        .max_components
        .saturating_mul(8)
        .saturating_add(1_000);
    let mut saw_calendar = false;
    let mut first_content: Option<(usize, &str)> = None;
    let mut warnings = Vec::new();
    let mut bad_lines = 0usize;
    // The logical line being read: (its first line number, whether a ':' was seen so far).
    let mut logical: Option<(usize, bool)> = None;
    let mut finish = |logical: Option<(usize, bool)>, warnings: &mut Vec<String>| {
        if let Some((start, false)) = logical {
            bad_lines += 1;
            if bad_lines <= MAX_LINE_WARNINGS {
                warnings.push(format!(
                    "line {start}: not an iCalendar content line (no ':'), ignored"
                ));
            } else if bad_lines == MAX_LINE_WARNINGS + 1 {
                warnings.push("more lines without ':' were ignored".to_string());
            }
        }
    };
    for (idx, raw) in text.split('\n').enumerate() {
        let number = idx + 1;
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.starts_with([' ', '\t']) {
            if let Some((_, colon)) = logical.as_mut() {
                *colon = *colon || line.contains(':');
            }
            continue;
        }
        finish(logical.take(), &mut warnings);
        if line.trim().is_empty() {
            continue;
        }
        if first_content.is_none() {
            first_content = Some((number, line));
        }
        logical = Some((number, line.contains(':')));
        let head = line.trim_start_matches('\u{feff}');
        if head
            .get(..6)
            .is_some_and(|h| h.eq_ignore_ascii_case("BEGIN:"))
        {
            components += 1;
            if components > max_all_components {
                return Err(fail(
                    Some(number),
                    format!("the feed has more than {max_all_components} components; refused"),
                ));
            }
            if is_line(head, "BEGIN:VEVENT") {
                if vevent_lines.len() >= limits.max_components {
                    return Err(fail(
                        Some(number),
                        format!(
                            "the feed has more than {} events (VEVENT); refused",
                            limits.max_components
                        ),
                    ));
                }
                vevent_lines.push(number);
            } else if is_line(head, "BEGIN:VCALENDAR") {
                saw_calendar = true;
            }
        }
    }
    finish(logical.take(), &mut warnings);
    if !saw_calendar {
        let line = first_content.map(|(n, _)| n);
        return Err(fail(
            line,
            "this is not an iCalendar feed (no BEGIN:VCALENDAR line)",
        ));
    }
    Ok(Scan {
        vevent_lines,
        warnings,
    })
}

/// The 1-based number of the first line that starts with `fragment` (after unfolding is not
/// needed: calcard reports the start of the offending line).
fn line_of(text: &str, fragment: &str) -> Option<usize> {
    let fragment = fragment.trim();
    if fragment.is_empty() {
        return None;
    }
    let probe: String = fragment.chars().take(60).collect();
    text.split('\n')
        .position(|line| line.trim_start().starts_with(probe.as_str()))
        .map(|idx| idx + 1)
}

fn text_of(comp: &ICalendarComponent, prop: ICalendarProperty) -> String {
    comp.property(&prop)
        .and_then(|e| e.values.first())
        .and_then(|v| v.as_text())
        .unwrap_or_default()
        .to_string()
}

fn person_of(entry: &ICalendarEntry) -> Person {
    let email = entry
        .values
        .first()
        .and_then(|v| v.as_text())
        .map(|v| strip_mailto_scheme(v.trim()).trim().to_lowercase())
        .filter(|v| !v.is_empty());
    let name = entry
        .params
        .iter()
        .find(|p| p.name == ICalendarParameterName::Cn)
        .and_then(|p| p.value.as_text())
        .map(str::to_string)
        .filter(|v| !v.is_empty());
    Person { email, name }
}

fn date_value(entry: &ICalendarEntry) -> Option<&PartialDateTime> {
    match entry.values.first() {
        Some(ICalendarValue::PartialDateTime(dt)) => Some(dt),
        _ => None,
    }
}

fn is_cancelled(comp: &ICalendarComponent) -> bool {
    matches!(comp.status(), Some(ICalendarStatus::Cancelled))
}

fn utc_key(ts: Timestamp) -> String {
    ts.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn timestamp(seconds: i64) -> Option<Timestamp> {
    Timestamp::from_second(seconds).ok()
}

/// The instant of a DATE-TIME property (`RECURRENCE-ID`, `DTSTART`), read in its TZID, else in
/// `fallback_tzid`, else in the default zone.
fn instant_of(
    entry: &ICalendarEntry,
    fallback_tzid: Option<&str>,
    resolver: &TzResolver<&str>,
) -> Option<i64> {
    let dt = date_value(entry)?.to_date_time()?;
    let tz = resolver.resolve_or_default(entry.tz_id().or(fallback_tzid));
    Some(dt.to_date_time_with_tz(tz)?.timestamp())
}

/// Why a VEVENT cannot be used, or `None`.
fn event_problem(comp: &ICalendarComponent, resolver: &TzResolver<&str>) -> Option<String> {
    let start = comp.property(&ICalendarProperty::Dtstart);
    let rid = comp.property(&ICalendarProperty::RecurrenceId);
    match (start, rid) {
        (None, None) => return Some("no DTSTART".to_string()),
        (Some(s), _) if date_value(s).and_then(|d| d.to_date_time()).is_none() => {
            return Some("DTSTART is not a valid date or date-time".to_string())
        }
        _ => {}
    }
    for entry in &comp.entries {
        match entry.name {
            ICalendarProperty::Rrule
                if !matches!(
                    entry.values.first(),
                    Some(ICalendarValue::RecurrenceRule(_))
                ) =>
            {
                return Some("RRULE cannot be read".to_string());
            }
            ICalendarProperty::Dtstart
            | ICalendarProperty::Dtend
            | ICalendarProperty::RecurrenceId
            | ICalendarProperty::Exdate
            | ICalendarProperty::Rdate => {
                if let Some(tzid) = entry.tz_id() {
                    if resolver.resolve(tzid).is_none() {
                        return Some(format!("unknown time zone TZID={tzid}"));
                    }
                }
            }
            _ => {}
        }
    }
    let timed = start
        .and_then(date_value)
        .or_else(|| rid.and_then(date_value))
        .is_some_and(|d| d.has_time());
    if timed
        && !comp.has_property(&ICalendarProperty::Dtend)
        && !comp.has_property(&ICalendarProperty::Duration)
    {
        return Some("no DTEND or DURATION: a zero-length booking".to_string());
    }
    None
}

/// UNTIL for a rule without an end: a floating wall time safely after the horizon, so an endless
/// rule stops at the horizon instead of spending its whole expansion budget.
fn horizon_until(horizon: &Horizon, date_only: bool) -> Option<PartialDateTime> {
    let end = horizon
        .to
        .checked_add(jiff::SignedDuration::from_hours(48))
        .ok()?;
    let dt = end.to_zoned_datetime(jiff::tz::TimeZone::UTC).datetime();
    Some(PartialDateTime {
        year: u16::try_from(dt.year()).ok(),
        month: u8::try_from(dt.month()).ok(),
        day: u8::try_from(dt.day()).ok(),
        hour: (!date_only).then_some(u8::try_from(dt.hour()).unwrap_or(0)),
        minute: (!date_only).then_some(u8::try_from(dt.minute()).unwrap_or(0)),
        second: (!date_only).then_some(u8::try_from(dt.second()).unwrap_or(0)),
        tz_hour: None,
        tz_minute: None,
        tz_minus: false,
    })
}

/// Makes a VEVENT ready for a one-series calendar: SEQUENCE is removed (calcard only matches an
/// override to its master when both carry the same SEQUENCE, but overrides normally carry a
/// higher one), and an endless RRULE is ended just after the horizon.
fn prepare(comp: &mut ICalendarComponent, horizon: &Horizon) {
    comp.component_ids.clear();
    comp.entries
        .retain(|e| e.name != ICalendarProperty::Sequence);
    let date_only = comp
        .property(&ICalendarProperty::Dtstart)
        .and_then(date_value)
        .is_some_and(|d| !d.has_time());
    for entry in comp.entries.iter_mut() {
        if entry.name != ICalendarProperty::Rrule {
            continue;
        }
        if let Some(ICalendarValue::RecurrenceRule(rule)) = entry.values.first_mut() {
            if rule.until.is_none() && rule.count.is_none() {
                rule.until = horizon_until(horizon, date_only);
            }
        }
    }
}

/// What is kept of one source component while its series is expanded.
struct Source {
    line: Option<usize>,
    sequence: i64,
    summary: String,
    description: String,
    organizer: Option<Person>,
    attendees: Vec<Person>,
    all_day: bool,
    cancelled: bool,
    /// For an override: its RECURRENCE-ID instant, and (for RANGE=THISANDFUTURE) the shift from
    /// the original slot to the override's own start.
    rid: Option<(i64, Option<i64>)>,
}

fn source_of(
    comp: &ICalendarComponent,
    line: Option<usize>,
    resolver: &TzResolver<&str>,
) -> Source {
    let sequence = comp
        .property(&ICalendarProperty::Sequence)
        .and_then(|e| match e.values.first() {
            Some(ICalendarValue::Integer(n)) => Some(*n),
            _ => None,
        })
        .unwrap_or(0);
    let start = comp.property(&ICalendarProperty::Dtstart);
    let start_tzid = start.and_then(|e| e.tz_id());
    let all_day = start
        .or_else(|| comp.property(&ICalendarProperty::RecurrenceId))
        .and_then(date_value)
        .is_some_and(|d| !d.has_time());
    let rid = comp
        .property(&ICalendarProperty::RecurrenceId)
        .and_then(|entry| {
            let rid = instant_of(entry, start_tzid, resolver)?;
            let future = entry
                .params
                .iter()
                .any(|p| p.name == ICalendarParameterName::Range);
            let shift = if future {
                start
                    .and_then(|s| instant_of(s, None, resolver))
                    .map(|s| s - rid)
            } else {
                None
            };
            Some((rid, shift))
        });
    Source {
        line,
        sequence,
        summary: text_of(comp, ICalendarProperty::Summary),
        description: text_of(comp, ICalendarProperty::Description),
        organizer: comp.property(&ICalendarProperty::Organizer).map(person_of),
        attendees: comp
            .properties(&ICalendarProperty::Attendee)
            .map(person_of)
            .collect(),
        all_day,
        cancelled: is_cancelled(comp),
        rid,
    }
}

fn where_(uid: &str, line: Option<usize>) -> String {
    match line {
        Some(line) => format!("event {uid} (line {line})"),
        None => format!("event {uid}"),
    }
}

/// Start and end (Unix seconds) of one expanded event. A duration is added to the local wall
/// time, as RFC 5545 does for nominal durations (all-day events stay at local midnight).
fn bounds(
    event: &CalendarEvent<
        chrono::DateTime<Tz>,
        TimeOrDelta<chrono::DateTime<Tz>, chrono::TimeDelta>,
    >,
) -> (i64, i64) {
    let start = event.start.timestamp();
    let end = match &event.end {
        TimeOrDelta::Time(t) => t.timestamp(),
        TimeOrDelta::Delta(d) => event
            .clone()
            .try_into_date_time()
            .map(|e| e.end.timestamp())
            .unwrap_or_else(|| start.saturating_add(d.num_seconds())),
    };
    (start, end)
}

/// A component whose DTSTART is a UTC (or fixed-offset) time without a TZID.
fn starts_in_utc(comp: &ICalendarComponent) -> bool {
    comp.entries.iter().any(|e| {
        e.name == ICalendarProperty::Dtstart
            && e.tz_id().is_none()
            && matches!(e.values.first(), Some(ICalendarValue::PartialDateTime(dt)) if dt.has_zone())
    })
}

/// Parses an iCalendar feed and expands it into the booking occurrences that overlap `horizon`.
///
/// `local_tz` is the IANA name used for floating times and all-day dates; an unknown name falls
/// back to UTC with a warning. The whole feed fails only when it is not iCalendar, too big, or
/// structurally broken; a problem with one event skips that event with a warning.
pub fn parse_feed(
    text: &str,
    horizon: &Horizon,
    local_tz: &str,
    limits: &FeedLimits,
) -> Result<ParsedFeed, FeedParseError> {
    if text.len() > limits.max_bytes {
        return Err(fail(
            None,
            format!(
                "the feed is {} bytes, more than the limit of {} bytes",
                text.len(),
                limits.max_bytes
            ),
        ));
    }
    let Scan {
        vevent_lines,
        mut warnings,
    } = scan(text, limits)?;

    // Parse: the first VCALENDAR is the feed; stray lines around it become warnings.
    let mut parser = Parser::new(text);
    let mut calendar: Option<ICalendar> = None;
    loop {
        match parser.entry() {
            Entry::ICalendar(ical) => {
                if calendar.is_none() {
                    calendar = Some(ical);
                } else {
                    warnings.push("a second VCALENDAR in the feed was ignored".to_string());
                }
            }
            Entry::InvalidLine(line) => {
                let number = line_of(text, &line);
                let shown: String = line.chars().take(40).collect();
                warnings.push(match number {
                    Some(n) => format!("line {n}: outside the calendar, ignored: {shown}"),
                    None => format!("outside the calendar, ignored: {shown}"),
                });
            }
            Entry::Eof => break,
            Entry::UnexpectedComponentEnd { expected, found } => {
                let fragment = format!("END:{}", found.as_str());
                return Err(fail(
                    line_of(text, &fragment),
                    format!(
                        "END:{} where END:{} was expected",
                        found.as_str(),
                        expected.as_str()
                    ),
                ));
            }
            Entry::UnterminatedComponent(name) => {
                return Err(fail(
                    None,
                    format!("the {name} component is never closed (END missing)"),
                ));
            }
            Entry::TooManyComponents => {
                return Err(fail(None, "the feed has too many components"));
            }
            Entry::VCard(_) => {
                warnings.push("a vCard in the feed was ignored".to_string());
            }
            _ => return Err(fail(None, "the feed cannot be read as iCalendar")),
        }
    }
    let Some(mut calendar) = calendar else {
        return Err(fail(
            None,
            "this is not an iCalendar feed (no VCALENDAR found)",
        ));
    };

    let local = match Tz::from_str(local_tz) {
        Ok(tz) if !tz.is_floating() => tz,
        _ => {
            warnings.push(format!(
                "unknown local time zone {local_tz:?}; floating times are read as UTC"
            ));
            Tz::UTC
        }
    };

    // Time zones defined in the feed, copied into each one-series calendar.
    let timezones: Vec<ICalendarComponent> = calendar
        .components
        .iter()
        .filter(|c| c.component_type == ICalendarComponentType::VTimezone)
        .map(|c| ICalendarComponent {
            component_type: c.component_type.clone(),
            entries: c.entries.clone(),
            component_ids: Vec::new(),
        })
        .collect();
    let tz_calendar = ICalendar {
        components: timezones.clone(),
    };
    let resolver = tz_calendar.build_tz_resolver().with_default(local);

    // Group the usable VEVENTs by UID, in feed order.
    let mut order: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<(usize, Option<usize>)>> = HashMap::new();
    let mut events_seen = 0usize;
    for (idx, comp) in calendar.components.iter().enumerate() {
        if comp.component_type != ICalendarComponentType::VEvent {
            continue;
        }
        let line = vevent_lines.get(events_seen).copied();
        events_seen += 1;
        let Some(uid) = comp.uid().map(str::trim).filter(|u| !u.is_empty()) else {
            warnings.push(format!("{}: no UID, skipped", where_("without UID", line)));
            continue;
        };
        if let Some(problem) = event_problem(comp, &resolver) {
            warnings.push(format!("{}: {problem}, skipped", where_(uid, line)));
            continue;
        }
        let uid = uid.to_string();
        match groups.get_mut(&uid) {
            Some(group) => group.push((idx, line)),
            None => {
                order.push(uid.clone());
                groups.insert(uid, vec![(idx, line)]);
            }
        }
    }

    let recurring_total = order
        .iter()
        .filter(|uid| {
            groups[*uid]
                .iter()
                .any(|(idx, _)| calendar.components[*idx].has_property(&ICalendarProperty::Rrule))
        })
        .count();
    let mut recurring_left = recurring_total;
    let mut remaining = limits.max_expanded;
    let mut skipped_series = 0usize;
    let mut occurrences = Vec::new();
    let (from, to) = (horizon.from.as_second(), horizon.to.as_second());

    for uid in order {
        let members = groups.remove(&uid).unwrap_or_default();
        let has_rule = members
            .iter()
            .any(|(idx, _)| calendar.components[*idx].has_property(&ICalendarProperty::Rrule));
        let is_series = members.len() > 1
            || members
                .iter()
                .any(|(idx, _)| calendar.components[*idx].is_recurrent_or_override());
        if remaining == 0 {
            skipped_series += 1;
            continue;
        }
        let budget = if has_rule {
            let share = remaining / recurring_left.max(1);
            recurring_left -= 1;
            share.max(1)
        } else {
            remaining
        };

        // One calendar per series, so each gets its own budget.
        let mut sources = Vec::with_capacity(members.len());
        let mut components = timezones.clone();
        for (idx, line) in &members {
            let mut comp = std::mem::take(&mut calendar.components[*idx]);
            sources.push(source_of(&comp, *line, &resolver));
            prepare(&mut comp, horizon);
            components.push(comp);
        }
        let first = timezones.len();
        // calcard reads a rule's instances in the default zone when DTSTART has no TZID, also
        // when DTSTART is UTC ("…Z"): such a series is expanded with UTC as its default, so its
        // instances, EXDATEs and RECURRENCE-IDs stay in UTC. Floating and all-day series keep
        // the station's zone.
        let default = if components[first..].iter().any(starts_in_utc) {
            Tz::UTC
        } else {
            local
        };
        let series = ICalendar { components };
        let expanded = series.expand_dates(default, budget);
        for error in &expanded.errors {
            let line = (error.comp_id as usize)
                .checked_sub(first)
                .and_then(|i| sources.get(i))
                .and_then(|s| s.line);
            warnings.push(format!("{}: {}, skipped", where_(&uid, line), error.error));
        }
        remaining = remaining.saturating_sub(expanded.events.len().min(budget).max(1));
        let generated = expanded
            .events
            .iter()
            .filter(|e| {
                (e.comp_id as usize)
                    .checked_sub(first)
                    .and_then(|i| sources.get(i))
                    .is_some_and(|s| s.rid.is_none())
            })
            .count();
        if has_rule && generated >= budget {
            warnings.push(format!(
                "{}: recurrence cut after {budget} instances (expansion limit); later occurrences are missing",
                where_(&uid, members.first().and_then(|m| m.1))
            ));
        }

        for event in &expanded.events {
            let Some(source) = (event.comp_id as usize)
                .checked_sub(first)
                .and_then(|i| sources.get(i))
            else {
                continue;
            };
            if source.cancelled {
                continue;
            }
            let (start, end) = bounds(event);
            if !(start < to && end > from) {
                continue;
            }
            if end <= start {
                warnings.push(format!(
                    "{}: an occurrence ends before it starts, skipped",
                    where_(&uid, source.line)
                ));
                continue;
            }
            let (Some(starts_at), Some(ends_at)) = (timestamp(start), timestamp(end)) else {
                continue;
            };
            let key = if !is_series {
                String::new()
            } else {
                let original = match source.rid {
                    Some((_, Some(shift))) => start - shift,
                    Some((rid, None)) => rid,
                    None => start,
                };
                timestamp(original).map(utc_key).unwrap_or_default()
            };
            occurrences.push(Occurrence {
                uid: uid.clone(),
                key,
                sequence: source.sequence,
                summary: source.summary.clone(),
                description: source.description.clone(),
                organizer: source.organizer.clone(),
                attendees: source.attendees.clone(),
                starts_at,
                ends_at,
                all_day: source.all_day,
            });
        }
    }
    if skipped_series > 0 {
        warnings.push(format!(
            "expansion limit of {} instances reached; {skipped_series} event(s) were not read",
            limits.max_expanded
        ));
    }

    occurrences.sort_by(|a, b| (a.starts_at, &a.uid, &a.key).cmp(&(b.starts_at, &b.uid, &b.key)));
    occurrences.dedup_by(|a, b| a.uid == b.uid && a.key == b.key && a.starts_at == b.starts_at);
    if occurrences.len() > limits.max_occurrences {
        warnings.push(format!(
            "{} occurrences in the horizon; only the first {} were kept",
            occurrences.len(),
            limits.max_occurrences
        ));
        occurrences.truncate(limits.max_occurrences);
    }
    Ok(ParsedFeed {
        occurrences,
        warnings,
        events_seen,
    })
}
