//! Why this exists: the records the station keeps and the inputs that change them, shared with the
//! UI through generated TypeScript bindings. Instants are UTC `jiff::Timestamp`s, sent to the UI as
//! RFC 3339 strings; the UI shows them in local time.

use crate::roles::Role;
use crate::sensitive::Sensitive;
use crate::tags::{EndOnLock, InterlockWindow};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// An account as anyone may see it: never carries the password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    /// Optional; a calendar feed's booking belongs to the account whose e-mail it names.
    pub email: Option<String>,
    #[specta(type = String)]
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct NewAccount {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    #[serde(default)]
    pub email: Option<String>,
    /// Redacted in any `Debug` output.
    pub password: Sensitive<String>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct AccountUpdate {
    pub display_name: String,
    pub role: Role,
    pub active: bool,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct FirstAdministrator {
    pub username: String,
    pub display_name: String,
    /// Redacted in any `Debug` output.
    pub password: Sensitive<String>,
}

/// Who is signed in, as the UI needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct SessionInfo {
    pub account: Account,
    #[specta(type = String)]
    pub signed_in_at: Timestamp,
    pub idle_timeout_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Settings {
    /// Minutes without activity after which the signed-in account is signed out.
    pub idle_timeout_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
    /// Present when the service carries `has_interlock`.
    pub interlock: Option<InterlockWindow>,
    /// Lock automatically when the window of the booking during which it was unlocked closes.
    pub auto_lock: bool,
    /// `set_end_on_lock` / `trim_end_on_lock`: how a lock moves the end of its booking.
    pub end_on_lock: Option<EndOnLock>,
    /// The `post_lock` URL, placeholders not filled in.
    pub post_lock_url: Option<String>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct ServiceInput {
    pub name: String,
    pub description: String,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Open,
    InProgress,
    Completed,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Open => "open",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Completed => "completed",
            OrderStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "open" => OrderStatus::Open,
            "in_progress" => OrderStatus::InProgress,
            "completed" => OrderStatus::Completed,
            "cancelled" => OrderStatus::Cancelled,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct OrderLine {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Order {
    pub id: String,
    pub reference: String,
    pub customer: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLine>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct OrderLineInput {
    /// The id of an existing line to keep; absent for a new line.
    pub id: Option<String>,
    pub service_id: String,
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct OrderInput {
    pub reference: String,
    pub customer: String,
    pub status: OrderStatus,
    pub lines: Vec<OrderLineInput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Event {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    /// `None` only for a synced booking that no account at this station matched.
    pub user_id: Option<String>,
    /// The account's display name; for an unmatched synced booking the name the feed gave.
    pub user_display_name: String,
    /// For a synced or imported booking: the person the calendar named (empty for local ones).
    pub booked_by: String,
    pub title: String,
    #[specta(type = String)]
    pub starts_at: Timestamp,
    #[specta(type = String)]
    pub ends_at: Timestamp,
    pub order_id: Option<String>,
    pub line_id: Option<String>,
    /// The booking's actual use, as the interlock recorded it (staff only; `None` for instrument
    /// users and for a booking never unlocked or locked).
    pub usage: Option<Usage>,
    /// Where the booking came from, when not typed in at the station.
    pub source: Option<BookingSource>,
    /// It overlaps another booking of the service (a synced booking beside a local one): staff
    /// should look.
    pub conflict: bool,
}

/// Where a booking came from: a calendar feed (read-only here: change it in the calendar) or an
/// imported `.ics` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct BookingSource {
    /// The feed's id; `None` for an imported file.
    pub feed_id: Option<String>,
    /// The feed's name, or the file's name.
    pub name: String,
    /// The calendar's UID of the booking.
    pub uid: String,
}

/// What a booking was actually used for, recorded by the interlock for billing: the first
/// successful unlock of the booking and the successful lock that ended it, with who did each.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct Usage {
    #[specta(type = Option<String>)]
    pub started_at: Option<Timestamp>,
    /// Username of who unlocked (as it was then).
    pub started_by: Option<String>,
    #[specta(type = Option<String>)]
    pub ended_at: Option<Timestamp>,
    /// Username of who locked, or `auto-lock`.
    pub ended_by: Option<String>,
    /// The end the booking was scheduled with before a lock first moved it.
    #[specta(type = Option<String>)]
    pub booked_ends_at: Option<Timestamp>,
}

/// One booking of a usage report, as the Usage screen and `usage export` give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UsageEntry {
    pub event_id: String,
    pub service_id: String,
    pub service_name: String,
    pub user_id: String,
    pub username: String,
    pub user_display_name: String,
    pub title: String,
    pub order_id: Option<String>,
    pub line_id: Option<String>,
    #[specta(type = String)]
    pub starts_at: Timestamp,
    /// The booking's end now (moved by a lock where a tag says so).
    #[specta(type = String)]
    pub ends_at: Timestamp,
    pub usage: Usage,
    /// Whole minutes from actual start to actual end, a started minute counted; `None` until
    /// both are known.
    pub used_minutes: Option<u32>,
    /// Whole minutes from the booking's start to its end now.
    pub booked_minutes: u32,
}

/// The totals of one user on one service over a report's range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UsageTotal {
    pub service_id: String,
    pub service_name: String,
    pub user_id: String,
    pub username: String,
    pub user_display_name: String,
    pub bookings: u32,
    /// Bookings with both an actual start and an actual end.
    pub used_bookings: u32,
    pub booked_minutes: u32,
    pub used_minutes: u32,
}

/// Every booking that starts within a range of local days, with totals per service and user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct UsageReport {
    /// First day, `YYYY-MM-DD`, in the station's time zone.
    pub from: String,
    /// Last day (inclusive).
    pub to: String,
    /// The station's time zone (the local times of the export).
    pub time_zone: String,
    pub entries: Vec<UsageEntry>,
    pub totals: Vec<UsageTotal>,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct EventInput {
    pub service_id: String,
    pub user_id: String,
    pub title: String,
    #[specta(type = String)]
    pub starts_at: Timestamp,
    #[specta(type = String)]
    pub ends_at: Timestamp,
    pub order_id: Option<String>,
    pub line_id: Option<String>,
}

/// A booking as the station screen shows it. Instrument users see only that someone else has the
/// instrument booked, not who or what for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct OverviewEvent {
    /// Whether the booking belongs to the signed-in account.
    pub mine: bool,
    pub event_id: Option<String>,
    pub title: Option<String>,
    pub user_display_name: Option<String>,
    /// Where the booking came from (a feed's or file's name), for whoever sees it in full.
    pub source: Option<String>,
    /// Whether an account at this station holds it (`false`: "Booked by <name from the feed>").
    pub matched: bool,
    #[specta(type = String)]
    pub starts_at: Timestamp,
    #[specta(type = String)]
    pub ends_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct StationInstrument {
    pub service: Service,
    pub current: Option<OverviewEvent>,
    pub next: Option<OverviewEvent>,
}

/// When an instrument's relay state changed (the timeline draws the state along the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct StateChange {
    pub state: LockState,
    #[specta(type = String)]
    pub at: Timestamp,
}

/// One instrument on the timeline: its bookings in the range (shown as on the station screen)
/// and its relay state along it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct TimelineInstrument {
    pub service_id: String,
    pub service_name: String,
    /// The interlock window when the service has `has_interlock` (the UI shades the signed-in
    /// user's window with it).
    pub interlock: Option<crate::tags::InterlockWindow>,
    pub bookings: Vec<OverviewEvent>,
    /// Oldest first; the first is the state in force at `from` when one was read before it.
    pub states: Vec<StateChange>,
}

/// The station's day (or week) per instrument, for the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Timeline {
    #[specta(type = String)]
    pub from: Timestamp,
    #[specta(type = String)]
    pub to: Timestamp,
    #[specta(type = String)]
    pub now: Timestamp,
    pub instruments: Vec<TimelineInstrument>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct StationOverview {
    #[specta(type = String)]
    pub now: Timestamp,
    pub instruments: Vec<StationInstrument>,
}

fn masked_urls<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&crate::webhook::mask_urls_in(text))
}

fn masked_urls_opt<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text {
        Some(t) => s.serialize_some(&crate::webhook::mask_urls_in(t)),
        None => s.serialize_none(),
    }
}

/// One logged webhook request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct DeliveryAttempt {
    pub id: String,
    pub outbox_id: Option<String>,
    pub webhook_id: Option<String>,
    pub webhook_name: String,
    /// "event/create"
    pub action: String,
    pub verb: String,
    /// Shown with credential-looking query values as `***`.
    #[serde(serialize_with = "masked_urls")]
    pub url: String,
    pub attempt: u32,
    #[specta(type = String)]
    pub attempted_at: Timestamp,
    pub duration_ms: u32,
    pub status: Option<u16>,
    pub error_class: Option<crate::delivery::ErrorClass>,
    #[serde(serialize_with = "masked_urls_opt")]
    pub error: Option<String>,
    #[serde(serialize_with = "masked_urls")]
    pub response_excerpt: String,
    /// delivered, retrying, failed, or test
    pub outcome: String,
    #[specta(type = Option<String>)]
    pub next_attempt_at: Option<Timestamp>,
}

/// One interlock command in the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct AuditEntry {
    pub id: String,
    #[specta(type = String)]
    pub at: Timestamp,
    pub account_id: String,
    pub username: String,
    pub role: String,
    pub service_id: String,
    pub service_name: String,
    pub event_id: Option<String>,
    /// The booking as it was when the entry was written (it may have changed since).
    pub booking: Option<AuditBooking>,
    /// lock, unlock, status or auto_lock
    pub action: String,
    /// ok, failed or refused; for auto_lock also handed_over, retimed, cancelled, dismissed
    pub result: String,
    /// The error, the refusal, or the reason staff gave for an override.
    pub reason: String,
}

/// A booking as the audit log remembers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct AuditBooking {
    pub title: String,
    pub user_display_name: String,
    #[specta(type = String)]
    pub starts_at: Timestamp,
    #[specta(type = String)]
    pub ends_at: Timestamp,
}

impl AuditBooking {
    pub fn of(e: &Event) -> AuditBooking {
        AuditBooking {
            title: e.title.clone(),
            user_display_name: e.user_display_name.clone(),
            starts_at: e.starts_at,
            ends_at: e.ends_at,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum LockState {
    Locked,
    Unlocked,
    Unknown,
}

impl LockState {
    /// The word stored in SQLite (`interlock_state`, `interlock_readings`).
    pub fn as_str(self) -> &'static str {
        match self {
            LockState::Locked => "locked",
            LockState::Unlocked => "unlocked",
            LockState::Unknown => "unknown",
        }
    }

    /// The stored word back; anything else reads as Unknown (never a state not read).
    pub fn from_stored(word: &str) -> LockState {
        match word {
            "locked" => LockState::Locked,
            "unlocked" => LockState::Unlocked,
            _ => LockState::Unknown,
        }
    }
}

/// The last status the station read from an instrument. Never a state it did not read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct StatusReading {
    pub state: LockState,
    #[specta(type = String)]
    pub read_at: Timestamp,
    /// What was received when the state is unknown (errors, disagreeing replies).
    pub detail: String,
}
