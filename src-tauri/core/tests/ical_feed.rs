//! `interlock_core::ical` against real-shaped feeds (written by the Python `icalendar` package,
//! see tests/fixtures/ical/generate.py) and an independent oracle (`recurring_ical_events`, see
//! tests/fixtures/ical/oracle.py), plus hostile inputs that must stay cheap.

use interlock_core::ical::{parse_feed, FeedLimits, Horizon, Occurrence, ParsedFeed};
use jiff::Timestamp;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

const PIP_HINT: &str =
    "python3 -m pip install -r tests/fixtures/ical/requirements.txt (from the repository root)";

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/ical")
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn year_2026() -> Horizon {
    Horizon {
        from: ts("2026-01-01T00:00:00Z"),
        to: ts("2027-01-01T00:00:00Z"),
    }
}

fn utc(t: Timestamp) -> String {
    t.strftime("%Y%m%dT%H%M%SZ").to_string()
}

fn parse_fixture(name: &str, horizon: &Horizon, tz: &str) -> ParsedFeed {
    let text = std::fs::read_to_string(fixtures().join(name)).unwrap();
    parse_feed(&text, horizon, tz, &FeedLimits::default()).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Runs the Python oracle; fails (never skips) when Python or its packages are missing.
fn oracle(name: &str, horizon: &Horizon, tz: &str) -> BTreeSet<(String, String, String)> {
    let dir = fixtures();
    let output = Command::new("python3")
        .arg(dir.join("oracle.py"))
        .arg(dir.join(name))
        .arg(horizon.from.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .arg(horizon.to.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .arg(tz)
        .output()
        .unwrap_or_else(|e| {
            panic!("python3 cannot be started ({e}); install Python 3 and run {PIP_HINT}")
        });
    assert!(
        output.status.success(),
        "the Python oracle failed for {name}; run {PIP_HINT}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            let field = |k: &str| v[k].as_str().unwrap().to_string();
            (field("uid"), field("start_utc"), field("end_utc"))
        })
        .collect()
}

fn ours(feed: &ParsedFeed) -> BTreeSet<(String, String, String)> {
    feed.occurrences
        .iter()
        .map(|o| (o.uid.clone(), utc(o.starts_at), utc(o.ends_at)))
        .collect()
}

fn check_against_oracle(name: &str, horizon: &Horizon, tz: &str) -> ParsedFeed {
    let feed = parse_fixture(name, horizon, tz);
    let expected = oracle(name, horizon, tz);
    assert!(!expected.is_empty(), "{name}: the oracle found nothing");
    assert_eq!(
        ours(&feed),
        expected,
        "{name}: occurrences differ from the oracle"
    );
    assert_eq!(feed.occurrences.len(), expected.len(), "{name}: duplicates");
    let mut sorted = feed.occurrences.clone();
    sorted.sort_by(|a, b| (a.starts_at, &a.uid, &a.key).cmp(&(b.starts_at, &b.uid, &b.key)));
    assert_eq!(sorted, feed.occurrences, "{name}: output is not sorted");
    for o in &feed.occurrences {
        assert!(o.ends_at > o.starts_at);
    }
    feed
}

fn find<'a>(feed: &'a ParsedFeed, uid: &str, start: &str) -> Option<&'a Occurrence> {
    feed.occurrences
        .iter()
        .find(|o| o.uid == uid && utc(o.starts_at) == start)
}

#[test]
fn google_export_matches_oracle_with_exdate_moved_and_cancelled_occurrences() {
    let feed = check_against_oracle("google.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert_eq!(feed.events_seen, 4);
    let uid = "weekly-123@google.com";
    // EXDATE and the cancelled override are absent.
    assert!(find(&feed, uid, "20260119T080000Z").is_none());
    assert!(find(&feed, uid, "20260202T080000Z").is_none());
    assert!(!feed
        .occurrences
        .iter()
        .any(|o| o.key == "20260119T080000Z" || o.key == "20260202T080000Z"));
    // The moved occurrence keeps the key of the slot it replaced, with its own sequence.
    let moved = find(&feed, uid, "20260127T100000Z").expect("moved occurrence");
    assert_eq!(moved.key, "20260126T080000Z");
    assert_eq!(moved.sequence, 1);
    assert_eq!(moved.summary, "Weekly imaging slot (moved)");
    assert_eq!(utc(moved.ends_at), "20260127T123000Z");
    assert!(find(&feed, uid, "20260126T080000Z").is_none());
    let first = find(&feed, uid, "20260105T080000Z").unwrap();
    assert_eq!(first.key, "20260105T080000Z");
    assert_eq!(first.sequence, 0);
    assert!(!first.all_day);
    // A single event: empty key; escaped text and folded lines come back whole.
    let single = find(&feed, "single-456@google.com", "20260210T130000Z").unwrap();
    assert_eq!(single.key, "");
    assert_eq!(single.summary, "Lab meeting, room 3; bring notes");
    assert!(single
        .description
        .starts_with("Agenda:\nfirst line\nsecond line, with comma; and semicolon. A long text"));
    assert!(single
        .description
        .contains("folds. A long text that the writer folds. A long text"));
}

#[test]
fn outlook_windows_zone_names_match_oracle() {
    let feed = check_against_oracle("outlook.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    // W. Europe: CET in January, CEST after 29 March.
    assert!(find(
        &feed,
        "040000008200E00074C5B7101A82E008-winter",
        "20260120T083000Z"
    )
    .is_some());
    assert!(find(
        &feed,
        "040000008200E00074C5B7101A82E008-berlin",
        "20260330T080000Z"
    )
    .is_some());
    // Mountain: 14:00 MST = 21:00Z, then 14:00 MDT = 20:00Z after 8 March.
    let uid = "040000008200E00074C5B7101A82E008-denver";
    assert!(find(&feed, uid, "20260302T210000Z").is_some());
    assert!(find(&feed, uid, "20260309T200000Z").is_some());
}

#[test]
fn nemo_reservations_carry_people_and_text() {
    let feed = check_against_oracle("nemo.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    let o = find(&feed, "nemo-reservation-1002", "20260203T130000Z").unwrap();
    assert_eq!(o.key, "");
    assert_eq!(o.summary, "Confocal booked by asmith");
    assert_eq!(
        o.description,
        "Reservation for Alex Smith\nProject: Imaging; account 42, cost centre A\nNotes: none"
    );
    let organizer = o.organizer.as_ref().unwrap();
    assert_eq!(
        organizer.email.as_deref(),
        Some("nemo@facility.example.org")
    );
    assert_eq!(organizer.name.as_deref(), Some("NEMO Facility"));
    let emails: Vec<_> = o
        .attendees
        .iter()
        .map(|p| p.email.as_deref().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["asmith@example.org", "staff.member@facility.example.org"]
    );
    assert_eq!(o.attendees[0].name.as_deref(), Some("Alex Smith"));
    assert_eq!(o.attendees[1].name.as_deref(), Some("Staff, Member"));
    // A booking that runs past the horizon's end overlaps it and is kept.
    assert!(find(&feed, "nemo-reservation-1003", "20261231T220000Z").is_some());
}

#[test]
fn denver_weekly_booking_keeps_wall_time_across_both_dst_changes() {
    let feed = check_against_oracle("denver.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    let uid = "denver-weekly";
    let at = |start: &str| find(&feed, uid, start).unwrap_or_else(|| panic!("{start} missing"));
    assert_eq!(utc(at("20260302T160000Z").ends_at), "20260302T180000Z");
    assert_eq!(utc(at("20260309T150000Z").ends_at), "20260309T170000Z");
    assert_eq!(utc(at("20261026T150000Z").ends_at), "20261026T170000Z");
    assert_eq!(utc(at("20261102T160000Z").ends_at), "20261102T180000Z");
    assert_eq!(at("20261102T160000Z").key, "20261102T160000Z");
    let denver = jiff::tz::TimeZone::get("America/Denver").unwrap();
    for o in &feed.occurrences {
        let start = o.starts_at.to_zoned_datetime(denver.clone());
        let end = o.ends_at.to_zoned_datetime(denver.clone());
        assert_eq!(
            (start.hour(), start.minute()),
            (9, 0),
            "{}",
            utc(o.starts_at)
        );
        assert_eq!((end.hour(), end.minute()), (11, 0), "{}", utc(o.ends_at));
    }
    assert_eq!(feed.occurrences.len(), 41);
}

#[test]
fn all_day_bookings_run_from_local_midnight_to_local_midnight() {
    let feed = check_against_oracle("allday.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    let two = find(&feed, "allday-two-days", "20260309T230000Z").unwrap();
    assert!(two.all_day);
    assert_eq!(utc(two.ends_at), "20260311T230000Z");
    let one = find(&feed, "allday-no-end", "20260430T220000Z").unwrap();
    assert_eq!(utc(one.ends_at), "20260501T220000Z");
    // Across the DST change of 29 March: midnight moves from 23:00Z to 22:00Z.
    assert!(find(&feed, "allday-weekly", "20260326T230000Z").is_some());
    assert!(find(&feed, "allday-weekly", "20260402T220000Z").is_some());
    // In another zone the same dates are other instants.
    let ny = check_against_oracle("allday.ics", &year_2026(), "America/New_York");
    assert!(find(&ny, "allday-no-end", "20260501T040000Z").is_some());
}

#[test]
fn floating_times_are_read_in_the_local_zone() {
    let feed = check_against_oracle("floating.ics", &year_2026(), "Europe/Berlin");
    assert!(feed.warnings.is_empty(), "{:?}", feed.warnings);
    assert!(find(&feed, "floating-single", "20260315T130000Z").is_some());
    assert!(find(&feed, "floating-daily", "20260329T060000Z").is_some());
    let tokyo = check_against_oracle("floating.ics", &year_2026(), "Asia/Tokyo");
    assert!(find(&tokyo, "floating-single", "20260315T050000Z").is_some());
    // An unknown zone name falls back to UTC, with a warning.
    let text = std::fs::read_to_string(fixtures().join("floating.ics")).unwrap();
    let feed = parse_feed(&text, &year_2026(), "Mars/Olympus", &FeedLimits::default()).unwrap();
    assert!(find(&feed, "floating-single", "20260315T140000Z").is_some());
    assert!(feed.warnings.iter().any(|w| w.contains("Mars/Olympus")));
}

#[test]
fn only_occurrences_overlapping_the_horizon_are_returned() {
    let horizon = Horizon {
        from: ts("2026-03-09T16:00:00Z"),
        to: ts("2026-03-23T15:00:00Z"),
    };
    let feed = check_against_oracle("denver.ics", &horizon, "Europe/Berlin");
    let starts: Vec<_> = feed.occurrences.iter().map(|o| utc(o.starts_at)).collect();
    assert_eq!(starts, ["20260309T150000Z", "20260316T150000Z"]);
}

// ---- malformed and hostile input ----

fn wrap(body: &str) -> String {
    format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//EN\r\n{body}END:VCALENDAR\r\n")
}

#[test]
fn html_is_refused_as_not_icalendar() {
    let err = parse_feed(
        "<html><body>Sign in</body></html>",
        &year_2026(),
        "UTC",
        &FeedLimits::default(),
    )
    .unwrap_err();
    assert!(err.message.contains("not an iCalendar"), "{err}");
    assert!(err.to_string().contains("not an iCalendar"));
}

#[test]
fn a_feed_above_max_bytes_is_refused() {
    let text = wrap(&"X-PAD:0123456789\r\n".repeat(1000));
    let limits = FeedLimits {
        max_bytes: 1000,
        ..FeedLimits::default()
    };
    let err = parse_feed(&text, &year_2026(), "UTC", &limits).unwrap_err();
    assert!(err.message.contains("bytes"), "{err}");
}

#[test]
fn a_broken_line_is_reported_with_its_number() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nTHIS LINE IS BROKEN\r\nEND:VEVENT\r\n",
    );
    let feed = parse_feed(&text, &year_2026(), "UTC", &FeedLimits::default()).unwrap();
    assert!(
        feed.warnings.iter().any(|w| w.starts_with("line 8:")),
        "{:?}",
        feed.warnings
    );
    assert_eq!(feed.occurrences.len(), 1);
}

#[test]
fn an_unterminated_calendar_is_an_error_or_a_warning() {
    let text = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:a\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nEND:VTODO\r\n";
    match parse_feed(text, &year_2026(), "UTC", &FeedLimits::default()) {
        Ok(feed) => assert!(feed.occurrences.len() <= 1),
        Err(err) => assert!(!err.message.is_empty()),
    }
}

#[test]
fn bad_events_are_skipped_with_warnings_naming_uid_and_line() {
    let text = wrap(concat!(
        "BEGIN:VEVENT\r\nUID:no-start\r\nSUMMARY:x\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:bad-rule\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nRRULE:FREQ=SOMETIMES;BANANA=1\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:bad-zone\r\nDTSTART;TZID=Nowhere/Special:20260301T100000\r\nDTEND;TZID=Nowhere/Special:20260301T110000\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:zero\r\nDTSTART:20260301T100000Z\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:good\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\nEND:VEVENT\r\n",
    ));
    let feed = parse_feed(&text, &year_2026(), "UTC", &FeedLimits::default()).unwrap();
    assert_eq!(feed.events_seen, 5);
    let uids: Vec<_> = feed.occurrences.iter().map(|o| o.uid.as_str()).collect();
    assert_eq!(uids, ["good"]);
    for (uid, line) in [
        ("no-start", 4),
        ("bad-rule", 8),
        ("bad-zone", 14),
        ("zero", 19),
    ] {
        assert!(
            feed.warnings
                .iter()
                .any(|w| w.contains(uid) && w.contains(&format!("line {line}"))),
            "{uid}: {:?}",
            feed.warnings
        );
    }
}

#[test]
fn a_million_events_are_refused_quickly() {
    let text = wrap(&"BEGIN:VEVENT\r\nEND:VEVENT\r\n".repeat(1_000_000));
    let limits = FeedLimits {
        max_bytes: usize::MAX,
        ..FeedLimits::default()
    };
    let err = parse_feed(&text, &year_2026(), "UTC", &limits).unwrap_err();
    assert!(err.message.contains("20000"), "{err}");
    assert!(err.line.is_some());
}

fn runaway(uid: &str, rule: &str) -> String {
    format!(
        "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:20200101T000000Z\r\nDTEND:20200101T000001Z\r\nRRULE:{rule}\r\nEND:VEVENT\r\n"
    )
}

#[test]
fn an_endless_rule_is_bounded_and_does_not_starve_other_series() {
    let text = wrap(&format!(
        "{}{}{}",
        runaway("forever-minutely", "FREQ=MINUTELY"),
        runaway("forever-secondly-count", "FREQ=SECONDLY;COUNT=100000000"),
        "BEGIN:VEVENT\r\nUID:weekly\r\nDTSTART:20250106T090000Z\r\nDTEND:20250106T100000Z\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n",
    ));
    let limits = FeedLimits {
        max_expanded: 30_000,
        ..FeedLimits::default()
    };
    let feed = parse_feed(&text, &year_2026(), "UTC", &limits).unwrap();
    let weekly = feed
        .occurrences
        .iter()
        .filter(|o| o.uid == "weekly")
        .count();
    assert_eq!(
        weekly, 52,
        "the weekly series was starved: {:?}",
        feed.warnings
    );
    assert!(feed.warnings.iter().any(|w| w.contains("expansion limit")));
}

#[test]
fn a_secondly_rule_without_end_is_bounded() {
    let text = wrap(&runaway("secondly", "FREQ=SECONDLY"));
    let horizon = Horizon {
        from: ts("2020-01-01T00:00:00Z"),
        to: ts("2030-01-01T00:00:00Z"),
    };
    let feed = parse_feed(&text, &horizon, "UTC", &FeedLimits::default()).unwrap();
    assert!(feed.occurrences.len() <= FeedLimits::default().max_expanded);
    assert!(!feed.occurrences.is_empty());
    assert!(feed.warnings.iter().any(|w| w.contains("expansion limit")));
}

#[test]
fn max_occurrences_caps_the_result() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:daily\r\nDTSTART:20260101T090000Z\r\nDTEND:20260101T100000Z\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
    );
    let limits = FeedLimits {
        max_occurrences: 10,
        ..FeedLimits::default()
    };
    let feed = parse_feed(&text, &year_2026(), "UTC", &limits).unwrap();
    assert_eq!(feed.occurrences.len(), 10);
    assert_eq!(utc(feed.occurrences[0].starts_at), "20260101T090000Z");
    assert!(feed
        .warnings
        .iter()
        .any(|w| w.contains("only the first 10")));
}

#[test]
fn a_huge_folded_line_is_read_in_bounded_time() {
    // One ~8 MiB logical line made of 1-character folded pieces.
    let pieces = 8 * 1024 * 1024 / 4;
    let mut folded = String::with_capacity(pieces * 4 + 64);
    folded.push_str("DESCRIPTION:x");
    for _ in 0..pieces {
        folded.push_str("\r\n y");
    }
    folded.push_str("\r\n");
    let text = wrap(&format!(
        "BEGIN:VEVENT\r\nUID:folded\r\nDTSTART:20260301T100000Z\r\nDTEND:20260301T110000Z\r\n{folded}END:VEVENT\r\n"
    ));
    assert!(text.len() <= FeedLimits::default().max_bytes);
    let feed = parse_feed(&text, &year_2026(), "UTC", &FeedLimits::default()).unwrap();
    assert_eq!(feed.occurrences.len(), 1);
    assert_eq!(feed.occurrences[0].description.len(), pieces + 1);
}

#[test]
fn this_and_future_override_shifts_later_occurrences_and_keeps_keys() {
    let text = wrap(concat!(
        "BEGIN:VEVENT\r\nUID:s\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n",
        "BEGIN:VEVENT\r\nUID:s\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20260316T090000Z\r\nDTSTART:20260316T110000Z\r\nDTEND:20260316T120000Z\r\nSEQUENCE:2\r\nEND:VEVENT\r\n",
    ));
    let feed = parse_feed(&text, &year_2026(), "UTC", &FeedLimits::default()).unwrap();
    let got: Vec<_> = feed
        .occurrences
        .iter()
        .map(|o| (utc(o.starts_at), o.key.clone()))
        .collect();
    assert_eq!(
        got,
        [
            (
                "20260302T090000Z".to_string(),
                "20260302T090000Z".to_string()
            ),
            (
                "20260309T090000Z".to_string(),
                "20260309T090000Z".to_string()
            ),
            (
                "20260316T110000Z".to_string(),
                "20260316T090000Z".to_string()
            ),
            (
                "20260323T110000Z".to_string(),
                "20260323T090000Z".to_string()
            ),
        ]
    );
}

#[test]
fn a_cancelled_master_returns_nothing() {
    let text = wrap(
        "BEGIN:VEVENT\r\nUID:c\r\nSTATUS:CANCELLED\r\nDTSTART:20260302T090000Z\r\nDTEND:20260302T100000Z\r\nRRULE:FREQ=WEEKLY;COUNT=4\r\nEND:VEVENT\r\n",
    );
    let feed = parse_feed(&text, &year_2026(), "UTC", &FeedLimits::default()).unwrap();
    assert!(feed.occurrences.is_empty());
    assert_eq!(feed.events_seen, 1);
}
