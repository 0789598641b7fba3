//! Why this exists: every failure that can reach a person carries a stable code the UI can switch
//! on and a sentence it can show as is, so no caller ever parses an error string.

use serde::Serialize;

/// Stable error codes. The UI and tests match on these; never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// Input failed a rule (bad name, short password, end before start...).
    Validation,
    /// The record does not exist (or is not visible to the signed-in account).
    NotFound,
    /// Nobody is signed in.
    NotSignedIn,
    /// The signed-in session was idle too long and has ended.
    SessionExpired,
    /// The signed-in account's role may not do this.
    Forbidden,
    /// Wrong username or password (never says which).
    SignInFailed,
    /// Too many failed sign-ins for a username; try again later.
    SignInPaused,
    /// The account exists and the password is right, but the account is deactivated.
    AccountInactive,
    /// The change would leave the station without an active administrator.
    LastAdministrator,
    /// First-run setup was already done.
    SetupAlreadyDone,
    /// The change clashes with an existing record (duplicate name, overlapping booking...).
    Conflict,
    /// The database file was written by a newer version of the app.
    DatabaseTooNew,
    /// The database file is damaged or is not an Interlock Station database.
    DatabaseCorrupt,
    /// Any other database failure (disk full, permissions...).
    Database,
    /// The OS keyring is locked or refused access.
    KeyringLocked,
    /// The OS keyring cannot be reached (no Secret Service, platform failure).
    KeyringUnavailable,
    /// A failure inside the app that is not the user's doing.
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::Validation => "VALIDATION",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::NotSignedIn => "NOT_SIGNED_IN",
            ErrorCode::SessionExpired => "SESSION_EXPIRED",
            ErrorCode::Forbidden => "FORBIDDEN",
            ErrorCode::SignInFailed => "SIGN_IN_FAILED",
            ErrorCode::SignInPaused => "SIGN_IN_PAUSED",
            ErrorCode::AccountInactive => "ACCOUNT_INACTIVE",
            ErrorCode::LastAdministrator => "LAST_ADMINISTRATOR",
            ErrorCode::SetupAlreadyDone => "SETUP_ALREADY_DONE",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::DatabaseTooNew => "DATABASE_TOO_NEW",
            ErrorCode::DatabaseCorrupt => "DATABASE_CORRUPT",
            ErrorCode::Database => "DATABASE",
            ErrorCode::KeyringLocked => "KEYRING_LOCKED",
            ErrorCode::KeyringUnavailable => "KEYRING_UNAVAILABLE",
            ErrorCode::Internal => "INTERNAL",
        }
    }
}

/// An error with a stable code and a message fit to show a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type, thiserror::Error)]
#[error("{message}")]
pub struct CoreError {
    pub code: ErrorCode,
    pub message: String,
    /// The times the sentence refers to, so the window can say it in the reader's locale;
    /// `message` says the same in the station's OS locale (for the log and the CLI).
    pub detail: Option<ErrorDetail>,
}

/// What a refusal or conflict that carries times is about: the UI builds its sentence from this
/// (and its own locale), never by parsing `message`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, specta::Type)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ErrorDetail {
    /// The booking's interlock window has not opened yet.
    ControlsOpenAt {
        #[specta(type = String)]
        at: jiff::Timestamp,
    },
    /// The booking's interlock window has closed.
    ControlsClosedAt {
        #[specta(type = String)]
        at: jiff::Timestamp,
    },
    /// The booking clashes with another on the same service.
    BookingOverlaps {
        service_name: String,
        #[specta(type = String)]
        starts_at: jiff::Timestamp,
        #[specta(type = String)]
        ends_at: jiff::Timestamp,
    },
    /// Sign-in for this username is paused after too many failures.
    SignInPausedUntil {
        #[specta(type = String)]
        until: jiff::Timestamp,
    },
}

pub type CoreResult<T> = Result<T, CoreError>;

impl CoreError {
    /// A URL in the message has its credential-looking query values masked (`?token=***`).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: crate::webhook::mask_urls_in(&message.into()),
            detail: None,
        }
    }
    /// The same error with the times it refers to attached (see [`ErrorDetail`]).
    pub fn with_detail(mut self, detail: ErrorDetail) -> Self {
        self.detail = Some(detail);
        self
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Validation, message)
    }
    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} was not found."))
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Conflict, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

impl From<rusqlite::Error> for CoreError {
    fn from(err: rusqlite::Error) -> Self {
        use rusqlite::ffi::ErrorCode as Sqlite;
        match err.sqlite_error_code() {
            Some(Sqlite::NotADatabase) | Some(Sqlite::DatabaseCorrupt) => CoreError::new(
                ErrorCode::DatabaseCorrupt,
                format!(
                    "The database file is damaged or is not an Interlock Station database ({err})."
                ),
            ),
            Some(Sqlite::DiskFull) => {
                CoreError::new(ErrorCode::Database, "The disk is full; nothing was saved.")
            }
            Some(Sqlite::ReadOnly) | Some(Sqlite::PermissionDenied) => CoreError::new(
                ErrorCode::Database,
                format!("The database cannot be written ({err}); nothing was saved."),
            ),
            _ => CoreError::new(ErrorCode::Database, format!("Database error: {err}")),
        }
    }
}
