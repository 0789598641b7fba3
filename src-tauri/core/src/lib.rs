//! Interlock Station's domain: accounts and roles, the schedule (services, events, orders), the
//! rules that govern them and their SQLite storage. This crate has no Tauri dependency, so every
//! rule is tested here without a window, and the app and CLI are thin shells over [`Station`].

pub mod clock;
pub mod delivery;
pub mod error;
pub mod feed;
pub mod feed_sync;
pub mod gating;
pub mod http_client;
pub mod ical;
pub mod interlock;
pub mod limits;
pub mod locale;
pub mod model;
pub mod notifier;
pub mod outbox;
pub mod password;
pub mod payload;
pub mod retention;
pub mod roles;
pub mod secrets;
pub mod sensitive;
pub mod signing;
pub mod station;
pub mod store;
pub mod tags;
pub mod transfer;
pub mod usage;
pub mod webhook;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CoreError, CoreResult, ErrorCode};
pub use roles::{Permission, Role};
pub use station::Station;
