//! Why this exists: who may use an instrument's interlock, and when, is the rule the facility
//! system defines (§2): the service must carry `has_interlock`; staff and administrators may at any
//! time; an instrument user only for their own booking, from `lead` minutes before its start until
//! `post` minutes after its end. The window's panel and every interlock command ask this function.

use crate::model::Event;
use crate::roles::Role;
use crate::tags::InterlockWindow;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Access {
    /// Facility staff and administrators: always.
    Staff,
    /// The user's window is open until `closes_at`.
    Open {
        #[specta(type = String)]
        opens_at: Timestamp,
        #[specta(type = String)]
        closes_at: Timestamp,
    },
    /// The user's window opens at `opens_at`.
    NotYet {
        #[specta(type = String)]
        opens_at: Timestamp,
    },
    /// The user's window closed at `closed_at`.
    Closed {
        #[specta(type = String)]
        closed_at: Timestamp,
    },
    /// The booking belongs to someone else.
    NotYours,
    /// No booking was given (instrument users act only through their booking).
    NoBooking,
    /// The service has no `has_interlock` tag.
    NoInterlock,
}

impl Access {
    pub fn allowed(&self) -> bool {
        matches!(self, Access::Staff | Access::Open { .. })
    }

    /// The times a refusal refers to, for the window to word in its locale.
    pub fn refusal_detail(&self) -> Option<crate::error::ErrorDetail> {
        use crate::error::ErrorDetail;
        match self {
            Access::NotYet { opens_at } => Some(ErrorDetail::ControlsOpenAt { at: *opens_at }),
            Access::Closed { closed_at } => Some(ErrorDetail::ControlsClosedAt { at: *closed_at }),
            _ => None,
        }
    }

    /// Why a command is refused, in words; `None` when it is allowed.
    pub fn refusal(&self) -> Option<String> {
        let local = |t: &Timestamp| crate::locale::LocalTimes::os().time(*t);
        Some(match self {
            Access::Staff | Access::Open { .. } => return None,
            Access::NotYet { opens_at } => format!(
                "Interlock controls open at {} for your booking.",
                local(opens_at)
            ),
            Access::Closed { closed_at } => format!(
                "Interlock controls closed at {} for this booking.",
                local(closed_at)
            ),
            Access::NotYours => "This booking belongs to another user.".into(),
            Access::NoBooking => {
                "Instrument users can use the interlock only through their own booking.".into()
            }
            Access::NoInterlock => {
                "This service has no interlock (it is not tagged has_interlock).".into()
            }
        })
    }
}

/// When a booking's user may use the interlock: from `start − lead` to `end + post`, inclusive.
/// The one place this arithmetic is done; it saturates at the ends of time instead of
/// overflowing (a booking near year 9999 must not panic).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BookingWindow {
    pub opens_at: Timestamp,
    pub closes_at: Timestamp,
}

impl BookingWindow {
    pub fn of(event: &Event, window: InterlockWindow) -> BookingWindow {
        let lead = SignedDuration::from_mins(i64::from(window.lead_minutes));
        let post = SignedDuration::from_mins(i64::from(window.post_minutes));
        BookingWindow {
            opens_at: event.starts_at.checked_sub(lead).unwrap_or(Timestamp::MIN),
            closes_at: event.ends_at.checked_add(post).unwrap_or(Timestamp::MAX),
        }
    }

    pub fn contains(&self, now: Timestamp) -> bool {
        self.opens_at <= now && now <= self.closes_at
    }
}

/// Decides interlock access. `event` must be a booking on this service (callers check that).
pub fn decide(
    role: Role,
    account_id: &str,
    window: Option<InterlockWindow>,
    event: Option<&Event>,
    now: Timestamp,
) -> Access {
    let Some(window) = window else {
        return Access::NoInterlock;
    };
    if role.is_staff() {
        return Access::Staff;
    }
    let Some(event) = event else {
        return Access::NoBooking;
    };
    if event.user_id.as_deref() != Some(account_id) {
        return Access::NotYours;
    }
    let BookingWindow {
        opens_at,
        closes_at,
    } = BookingWindow::of(event, window);
    if now < opens_at {
        Access::NotYet { opens_at }
    } else if now > closes_at {
        Access::Closed {
            closed_at: closes_at,
        }
    } else {
        Access::Open {
            opens_at,
            closes_at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event(user: &str) -> Event {
        Event {
            id: "E1".into(),
            service_id: "S1".into(),
            service_name: "Confocal".into(),
            user_id: Some(user.into()),
            user_display_name: "Uma".into(),
            booked_by: String::new(),
            source: None,
            conflict: false,
            title: "t".into(),
            starts_at: ts("2026-11-30T10:00:00Z"),
            ends_at: ts("2026-11-30T11:00:00Z"),
            order_id: None,
            line_id: None,
            usage: None,
        }
    }

    #[test]
    fn user_window_boundaries_default_margins() {
        let w = Some(InterlockWindow::default()); // 5 before, 30 after
        let e = event("uma");
        let at = |s: &str| decide(Role::InstrumentUser, "uma", w, Some(&e), ts(s));
        assert!(
            matches!(at("2026-11-30T09:54:59Z"), Access::NotYet { .. }),
            "start - lead - 1 s refused"
        );
        assert!(at("2026-11-30T09:55:00Z").allowed(), "start - lead allowed");
        assert!(at("2026-11-30T10:30:00Z").allowed());
        assert!(at("2026-11-30T11:30:00Z").allowed(), "end + post allowed");
        assert!(
            matches!(at("2026-11-30T11:30:01Z"), Access::Closed { .. }),
            "end + post + 1 s refused"
        );
        assert_eq!(
            at("2026-11-30T10:00:00Z"),
            Access::Open {
                opens_at: ts("2026-11-30T09:55:00Z"),
                closes_at: ts("2026-11-30T11:30:00Z")
            }
        );
    }

    #[test]
    fn custom_margins() {
        let w = Some(InterlockWindow {
            lead_minutes: 15,
            post_minutes: 0,
        });
        let e = event("uma");
        let at = |s: &str| decide(Role::InstrumentUser, "uma", w, Some(&e), ts(s)).allowed();
        assert!(!at("2026-11-30T09:44:59Z"));
        assert!(at("2026-11-30T09:45:00Z"));
        assert!(at("2026-11-30T11:00:00Z"));
        assert!(!at("2026-11-30T11:00:01Z"));
    }

    #[test]
    fn staff_any_time_others_and_untagged_refused() {
        let w = Some(InterlockWindow::default());
        let e = event("uma");
        let far = ts("2027-06-01T03:00:00Z");
        assert_eq!(
            decide(Role::FacilityStaff, "sam", w, None, far),
            Access::Staff
        );
        assert_eq!(
            decide(Role::Administrator, "ada", w, Some(&e), far),
            Access::Staff
        );
        assert_eq!(
            decide(
                Role::InstrumentUser,
                "vic",
                w,
                Some(&e),
                ts("2026-11-30T10:00:00Z")
            ),
            Access::NotYours
        );
        assert_eq!(
            decide(
                Role::InstrumentUser,
                "uma",
                w,
                None,
                ts("2026-11-30T10:00:00Z")
            ),
            Access::NoBooking
        );
        assert_eq!(
            decide(Role::FacilityStaff, "sam", None, Some(&e), far),
            Access::NoInterlock
        );
        assert_eq!(
            decide(
                Role::InstrumentUser,
                "uma",
                None,
                Some(&e),
                ts("2026-11-30T10:00:00Z")
            ),
            Access::NoInterlock
        );
    }
}
