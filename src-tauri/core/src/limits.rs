//! Why this exists: the window mirrors some rules so it can say what is wrong before a round trip
//! (tag wizard, webhook form, settings). Those numbers must not be copied by hand into the UI —
//! copies drift — so they are gathered here and exported into the generated bindings as `LIMITS`.
//! The backend still validates everything itself.

use serde::Serialize;

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct Limits {
    pub interlock_tag: &'static str,
    pub default_lead_minutes: u32,
    pub default_post_minutes: u32,
    pub max_margin_minutes: u32,
    pub max_tag_length: u32,
    pub max_tags: u32,
    pub default_timeout_secs: u32,
    pub min_timeout_secs: u32,
    pub max_timeout_secs: u32,
    pub max_body_bytes: u32,
    pub reserved_headers: Vec<&'static str>,
    pub min_password_chars: u32,
    pub max_idle_timeout_minutes: u32,
    pub default_poll_secs: u32,
    pub min_poll_secs: u32,
    pub max_poll_secs: u32,
    pub auto_lock_retry_secs: Vec<u32>,
    pub default_retention_days: u32,
    pub min_retention_days: u32,
    pub max_retention_days: u32,
    pub history_page: u32,
    pub set_end_on_lock_tag: &'static str,
    pub trim_end_on_lock_tag: &'static str,
    pub post_lock_tag: &'static str,
    pub max_post_lock_url_length: u32,
    pub post_lock_placeholders: Vec<&'static str>,
}

pub fn limits() -> Limits {
    Limits {
        interlock_tag: crate::tags::INTERLOCK_TAG,
        default_lead_minutes: crate::tags::DEFAULT_LEAD_MINUTES,
        default_post_minutes: crate::tags::DEFAULT_POST_MINUTES,
        max_margin_minutes: crate::tags::MAX_MARGIN_MINUTES,
        max_tag_length: crate::tags::MAX_TAG_LEN as u32,
        max_tags: crate::tags::MAX_TAGS as u32,
        default_timeout_secs: crate::webhook::DEFAULT_TIMEOUT_SECS,
        min_timeout_secs: crate::webhook::MIN_TIMEOUT_SECS,
        max_timeout_secs: crate::webhook::MAX_TIMEOUT_SECS,
        max_body_bytes: crate::webhook::MAX_BODY_BYTES as u32,
        reserved_headers: crate::webhook::RESERVED_HEADERS.to_vec(),
        min_password_chars: crate::password::MIN_PASSWORD_CHARS as u32,
        max_idle_timeout_minutes: crate::station::MAX_IDLE_TIMEOUT_MINUTES,
        default_poll_secs: crate::station::DEFAULT_POLL_SECS,
        min_poll_secs: crate::station::MIN_POLL_SECS,
        max_poll_secs: crate::station::MAX_POLL_SECS,
        auto_lock_retry_secs: crate::interlock::AUTO_LOCK_RETRY_SECS
            .iter()
            .map(|s| *s as u32)
            .collect(),
        default_retention_days: crate::retention::DEFAULT_RETENTION_DAYS,
        min_retention_days: crate::retention::MIN_RETENTION_DAYS,
        max_retention_days: crate::retention::MAX_RETENTION_DAYS,
        history_page: crate::retention::UI_PAGE as u32,
        set_end_on_lock_tag: crate::tags::SET_END_ON_LOCK_TAG,
        trim_end_on_lock_tag: crate::tags::TRIM_END_ON_LOCK_TAG,
        post_lock_tag: crate::tags::POST_LOCK_TAG,
        max_post_lock_url_length: crate::tags::MAX_POST_LOCK_URL_LEN as u32,
        post_lock_placeholders: crate::tags::POST_LOCK_PLACEHOLDERS.to_vec(),
    }
}
