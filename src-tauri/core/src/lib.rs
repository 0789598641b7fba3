//! Interlock Station's domain: accounts and roles, the schedule (services, events, orders), the
//! rules that govern them and their SQLite storage. This crate has no Tauri dependency, so every
//! rule is tested here without a window, and the app and CLI are thin shells over [`Station`].

pub mod clock;
pub mod error;
pub mod model;
pub mod password;
pub mod roles;
pub mod station;
pub mod store;
pub mod tags;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{CoreError, CoreResult, ErrorCode};
pub use roles::{Permission, Role};
pub use station::Station;
