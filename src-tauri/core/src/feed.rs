//! Why this exists: bookings are made in the facility's central system, which publishes them as
//! iCalendar feeds. This module holds what a feed is (its settings and its sync state as staff
//! see them) and the rules its settings must pass; the window, `config import` and the CLI all
//! call the same `check_feed`. Syncing lives in `feed_sync.rs`, the reconcile in
//! `station/feeds.rs`.

use crate::error::{CoreError, CoreResult};
use crate::webhook::{validate_ca_pem, validate_url, AuthKind, SecretChange};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

pub const DEFAULT_REFRESH_MINUTES: u32 = 5;
pub const MIN_REFRESH_MINUTES: u32 = 1;
pub const MAX_REFRESH_MINUTES: u32 = 24 * 60;
/// A feed bigger than this is refused (a facility's year of bookings is well under 1 MiB).
pub const MAX_FEED_BYTES: usize = 10 * 1024 * 1024;
/// How long one fetch may take, connection and body together.
pub const FETCH_TIMEOUT_SECS: u64 = 30;
/// Occurrences are kept from this far back…
pub const HORIZON_BACK_DAYS: i64 = 1;
/// …to this far ahead.
pub const HORIZON_AHEAD_DAYS: i64 = 90;

/// A feed as staff see it. No secret value appears here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
pub struct Feed {
    pub id: String,
    pub service_id: String,
    pub service_name: String,
    pub name: String,
    pub url: String,
    pub auth: AuthKind,
    pub auth_username: String,
    /// Whether a basic password or bearer token is stored in the keyring.
    pub auth_secret_set: bool,
    /// Ignores every TLS certificate error. Not recommended.
    pub insecure: bool,
    /// A CA certificate (PEM) trusted for this feed in addition to the system's.
    pub ca_pem: Option<String>,
    pub refresh_minutes: u32,
    pub enabled: bool,
    /// Queue the service's event webhooks for bookings this feed creates, moves or removes.
    pub fire_webhooks: bool,
    /// A regular expression with one capture group, matched against SUMMARY then DESCRIPTION;
    /// the captured text is a username at this station. Empty: match by e-mail only.
    pub user_pattern: String,
    pub status: FeedStatus,
}

/// The outcome of the feed's syncs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, specta::Type)]
pub struct FeedStatus {
    #[specta(type = Option<String>)]
    pub last_attempt_at: Option<Timestamp>,
    #[specta(type = Option<String>)]
    pub last_success_at: Option<Timestamp>,
    /// The last failure, named as for webhooks (dns, refused, tls, timeout, http_status, parse…).
    pub last_error: Option<String>,
    pub last_error_class: Option<String>,
    #[specta(type = Option<String>)]
    pub last_error_at: Option<Timestamp>,
    /// The last sync failed; its last good bookings are kept.
    pub failing: bool,
    /// Bookings the feed holds at the station now.
    pub bookings: u32,
    /// Events of the last parse that were skipped, and why.
    pub warnings: Vec<String>,
}

/// A feed as the editor (or `config import`) sends it.
#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct FeedInput {
    pub service_id: String,
    pub name: String,
    pub url: String,
    pub auth: AuthKind,
    #[serde(default)]
    pub auth_username: String,
    /// Keep, set or clear the basic password or bearer token.
    pub auth_secret: SecretChange,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub ca_pem: Option<String>,
    pub refresh_minutes: u32,
    pub enabled: bool,
    #[serde(default)]
    pub fire_webhooks: bool,
    #[serde(default)]
    pub user_pattern: String,
}

/// A feed's settings after `check_feed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedFeed {
    pub name: String,
    pub url: String,
    pub auth_username: String,
    pub ca_pem: Option<String>,
    pub user_pattern: String,
}

/// The keyring entry of a feed's basic password or bearer token.
pub fn auth_key(feed_id: &str) -> String {
    format!("feed/{feed_id}/auth")
}

/// The rules a feed's settings must pass, wherever they come from.
pub fn check_feed(input: &FeedInput) -> CoreResult<CheckedFeed> {
    let name = input.name.trim().to_string();
    if name.is_empty() {
        return Err(CoreError::validation("The feed needs a name."));
    }
    if name.chars().count() > 100 {
        return Err(CoreError::validation(
            "The feed's name must have at most 100 characters.",
        ));
    }
    let url = validate_url(&input.url)?.to_string();
    let auth_username = input.auth_username.trim().to_string();
    if input.auth == AuthKind::Basic {
        if auth_username.is_empty() {
            return Err(CoreError::validation("Basic auth needs a username."));
        }
        if auth_username.contains(':') {
            return Err(CoreError::validation(
                "A basic-auth username cannot contain ':'.",
            ));
        }
    }
    if !(MIN_REFRESH_MINUTES..=MAX_REFRESH_MINUTES).contains(&input.refresh_minutes) {
        return Err(CoreError::validation(format!(
            "The refresh interval must be between {MIN_REFRESH_MINUTES} and {MAX_REFRESH_MINUTES} minutes."
        )));
    }
    let ca_pem = match input.ca_pem.as_deref().map(str::trim) {
        Some(pem) if !pem.is_empty() => {
            if input.insecure {
                return Err(CoreError::validation(
                    "Choose either a custom CA certificate or insecure mode, not both.",
                ));
            }
            validate_ca_pem(pem)?;
            Some(pem.to_string())
        }
        _ => None,
    };
    let user_pattern = input.user_pattern.trim().to_string();
    if !user_pattern.is_empty() {
        user_regex(&user_pattern)?;
    }
    Ok(CheckedFeed {
        name,
        url,
        auth_username,
        ca_pem,
        user_pattern,
    })
}

/// Compiles a feed's user pattern: a regular expression with exactly one capture group.
pub fn user_regex(pattern: &str) -> CoreResult<regex_lite::Regex> {
    if pattern.len() > 500 {
        return Err(CoreError::validation(
            "The user pattern must have at most 500 characters.",
        ));
    }
    let re = regex_lite::Regex::new(pattern).map_err(|e| {
        CoreError::validation(format!(
            "The user pattern is not a valid regular expression: {e}"
        ))
    })?;
    // captures_len counts the whole match as group 0.
    if re.captures_len() != 2 {
        return Err(CoreError::validation(format!(
            "The user pattern needs exactly one capture group, like 'booked by (\\w+)'; it has {}.",
            re.captures_len() - 1
        )));
    }
    Ok(re)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> FeedInput {
        FeedInput {
            service_id: "S".into(),
            name: "Facility calendar".into(),
            url: "https://calendar.example.org/confocal.ics".into(),
            auth: AuthKind::None,
            auth_username: String::new(),
            auth_secret: SecretChange::Keep,
            insecure: false,
            ca_pem: None,
            refresh_minutes: 5,
            enabled: true,
            fire_webhooks: false,
            user_pattern: String::new(),
        }
    }

    #[test]
    fn a_plain_feed_passes() {
        let c = check_feed(&input()).unwrap();
        assert_eq!(c.url, "https://calendar.example.org/confocal.ics");
    }

    #[test]
    fn bad_settings_are_named() {
        let cases: Vec<(FeedInput, &str)> = vec![
            (
                FeedInput {
                    url: "ftp://x/y.ics".into(),
                    ..input()
                },
                "http:// or https://",
            ),
            (
                FeedInput {
                    name: " ".into(),
                    ..input()
                },
                "needs a name",
            ),
            (
                FeedInput {
                    refresh_minutes: 0,
                    ..input()
                },
                "between 1 and",
            ),
            (
                FeedInput {
                    auth: AuthKind::Basic,
                    ..input()
                },
                "needs a username",
            ),
            (
                FeedInput {
                    user_pattern: "booked by \\w+".into(),
                    ..input()
                },
                "exactly one capture group",
            ),
            (
                FeedInput {
                    user_pattern: "booked by (\\w+".into(),
                    ..input()
                },
                "not a valid regular expression",
            ),
            (
                FeedInput {
                    ca_pem: Some("garbage".into()),
                    ..input()
                },
                "CA certificate",
            ),
        ];
        for (i, want) in cases {
            let e = check_feed(&i).unwrap_err();
            assert!(e.message.contains(want), "{} should say {want}", e.message);
        }
    }
}
