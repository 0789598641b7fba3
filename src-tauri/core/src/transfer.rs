//! Why this exists: administrators provision stations by script. The configuration (settings,
//! services, webhooks) is exported and imported as one documented JSON file that never carries a
//! secret: it says which secrets a webhook had, and an import reports which of those this station's
//! keyring still lacks. A schedule file creates, updates and deletes services, orders and events
//! through the same station methods as the UI, so webhooks fire exactly as they would there.

use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::outbox::RetryPolicy;
use crate::retention::{check_retention_days, RETENTION_KEY};
use crate::roles::Permission;
use crate::station::webhooks::{
    auth_key, check_webhook, header_key, secret_keys, signing_key, webhook_credential_warnings,
    SecretOp,
};
use crate::station::{
    check_poll_secs, check_retry_policy, check_settings, Station, IDLE_TIMEOUT_KEY, POLL_KEY,
    RETRY_POLICY_KEY,
};
use crate::store::{services, settings, webhooks};
use crate::webhook::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const CONFIG_FORMAT: &str = "interlock-station-config";
pub const SCHEDULE_FORMAT: &str = "interlock-station-schedule";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigFile {
    pub format: String,
    pub version: u32,
    pub settings: ConfigSettings,
    pub services: Vec<ServiceEntry>,
    pub webhooks: Vec<WebhookEntry>,
    /// Calendar feeds (without their credentials). Absent in older files: none are changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub feeds: Vec<FeedEntry>,
}

/// A calendar feed in a configuration file; its basic password or bearer token never is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct FeedEntry {
    pub id: String,
    pub service_id: String,
    pub name: String,
    pub url: String,
    #[serde(default = "no_auth")]
    pub auth: AuthKind,
    #[serde(default)]
    pub auth_username: String,
    #[serde(default)]
    pub insecure: bool,
    #[serde(default)]
    pub ca_pem: Option<String>,
    #[serde(default = "default_refresh")]
    pub refresh_minutes: u32,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub fire_webhooks: bool,
    #[serde(default)]
    pub user_pattern: String,
    /// Fields this version does not know (a `password`, a `token`…): refused on import.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

fn no_auth() -> AuthKind {
    AuthKind::None
}
fn default_refresh() -> u32 {
    crate::feed::DEFAULT_REFRESH_MINUTES
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigSettings {
    pub idle_timeout_minutes: u32,
    pub retry_policy: RetryPolicy,
    /// Seconds between readings of the status watch (0 = off). Absent in older files: the
    /// station's value is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interlock_poll_secs: Option<u32>,
    /// Days of history kept (delivery log, audit, settled deliveries). Absent in older files: the
    /// station's value is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history_retention_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceEntry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
    /// Lock automatically when the window of the booking during which it was unlocked closes.
    #[serde(default)]
    pub auto_lock: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeaderEntry {
    pub name: String,
    /// The value of a plain header; absent for a secret one (a secret value in a file is refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default)]
    pub secret: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct WebhookEntry {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// "event/create"
    pub action: String,
    /// The service id, or null for every service.
    pub service_id: Option<String>,
    pub url: String,
    pub verb: Verb,
    pub insecure: bool,
    pub headers: Vec<HeaderEntry>,
    pub auth: AuthKind,
    #[serde(default)]
    pub auth_username: String,
    pub body: serde_json::Map<String, serde_json::Value>,
    pub timeout_secs: u32,
    pub signing: bool,
    #[serde(default)]
    pub ca_pem: Option<String>,
    #[serde(default)]
    pub status_mapping: StatusMapping,
    /// Fields this version does not know (an `auth_password`, a `signing_secret`…): refused on
    /// import, naming the webhook.
    #[serde(flatten)]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// What an import did, and which secrets must still be entered on this station.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportReport {
    pub services: usize,
    pub webhooks: usize,
    #[serde(default)]
    pub feeds: usize,
    pub missing_secrets: Vec<String>,
    /// Credentials in plain places (see [`credential_warnings`]) and values the export masked.
    pub warnings: Vec<String>,
}

/// `webhooks[2] "lims"`: where an error is, for the person fixing the file.
fn webhook_at(i: usize, name: &str) -> String {
    format!("webhooks[{i}] \"{name}\"")
}

fn refuse(at: &str, message: impl std::fmt::Display) -> CoreError {
    CoreError::validation(format!("{at}: {message}"))
}

/// A value masked by the export (`***`, or a URL with `=***`).
fn is_masked(value: &str) -> bool {
    value == MASK || value.contains(&format!("={MASK}")) || value.contains("=%2A%2A%2A")
}

/// A service of the file after the rules: where it is, the entry, its name, description, tags.
type CheckedService<'a> = (String, &'a ServiceEntry, String, String, Vec<String>);

/// One webhook of the file after every rule, ready to be written.
struct PlannedWebhook {
    webhook: Webhook,
    /// Keyring entries to look for: (entry, what to report when absent).
    secrets: Vec<(String, String)>,
}

impl Station {
    pub fn export_config(&self) -> CoreResult<ConfigFile> {
        self.actor(Permission::ManageSettings)?;
        let settings = self.settings()?;
        let poll = self.interlock_poll_secs()?;
        let retention_days = self.retention_days()?;
        let retry_policy = self.retry_policy()?;
        let store = self.store();
        let services = services::list(store.conn())?
            .into_iter()
            .map(|s| ServiceEntry {
                id: s.id,
                name: s.name,
                description: s.description,
                tags: s.tags,
                auto_lock: s.auto_lock,
            })
            .collect();
        let webhooks = webhooks::list(store.conn())?
            .into_iter()
            .map(|w| WebhookEntry {
                id: w.id,
                name: w.name,
                enabled: w.enabled,
                action: w.action.label(),
                service_id: w.service_id,
                url: mask_url(&w.url),
                verb: w.verb,
                insecure: w.insecure,
                headers: w
                    .headers
                    .into_iter()
                    .map(|h| HeaderEntry {
                        value: (!h.secret).then(|| shown_header_value(&h.name, &h.value)),
                        name: h.name,
                        secret: h.secret,
                    })
                    .collect(),
                auth: w.auth,
                auth_username: w.auth_username,
                body: w.body,
                timeout_secs: w.timeout_secs,
                signing: w.signing,
                ca_pem: w.ca_pem,
                status_mapping: w.status_mapping,
                unknown: BTreeMap::new(),
            })
            .collect();
        let feeds = crate::store::feeds::list(store.conn())?
            .into_iter()
            .map(|f| FeedEntry {
                id: f.id,
                service_id: f.service_id,
                name: f.name,
                url: mask_url(&f.url),
                auth: f.auth,
                auth_username: f.auth_username,
                insecure: f.insecure,
                ca_pem: f.ca_pem,
                refresh_minutes: f.refresh_minutes,
                enabled: f.enabled,
                fire_webhooks: f.fire_webhooks,
                user_pattern: f.user_pattern,
                unknown: BTreeMap::new(),
            })
            .collect();
        drop(store);
        Ok(ConfigFile {
            format: CONFIG_FORMAT.into(),
            version: 1,
            settings: ConfigSettings {
                idle_timeout_minutes: settings.idle_timeout_minutes,
                retry_policy,
                interlock_poll_secs: Some(poll),
                history_retention_days: Some(retention_days),
            },
            services,
            webhooks,
            feeds,
        })
    }

    /// Imports a configuration, all or nothing: every setting, service and webhook passes the
    /// same rules as the window first (the error names the entry and the field), then everything
    /// is written in one transaction. Services and webhooks are created or updated by id; settings
    /// are replaced. A secret value in the file is refused: secrets are entered on the station,
    /// and the ones already in this station's keyring are kept and used.
    pub fn import_config(&self, file: &ConfigFile) -> CoreResult<ImportReport> {
        self.actor(Permission::ManageSettings)?;
        if file.format != CONFIG_FORMAT || file.version != 1 {
            return Err(CoreError::validation(format!(
                "This is not an Interlock Station configuration file (format '{}', version {}).",
                file.format, file.version
            )));
        }
        let mut report = ImportReport::default();

        // 1. Every rule that needs neither the database nor the keyring.
        let new_settings = Settings {
            idle_timeout_minutes: file.settings.idle_timeout_minutes,
        };
        check_settings(&new_settings)
            .map_err(|e| refuse("settings.idle_timeout_minutes", e.message))?;
        if let Some(secs) = file.settings.interlock_poll_secs {
            check_poll_secs(secs).map_err(|e| refuse("settings.interlock_poll_secs", e.message))?;
        }
        if let Some(days) = file.settings.history_retention_days {
            check_retention_days(days)
                .map_err(|e| refuse("settings.history_retention_days", e.message))?;
        }
        check_retry_policy(&file.settings.retry_policy)
            .map_err(|e| refuse("settings.retry_policy", e.message))?;
        let mut checked_services = Vec::new();
        for (i, s) in file.services.iter().enumerate() {
            let at = format!("services[{i}] \"{}\"", s.name);
            if s.id.trim().is_empty() {
                return Err(refuse(&at, "id: the service has no id."));
            }
            if file.services[..i].iter().any(|o| o.id == s.id) {
                return Err(refuse(&at, format!("id: '{}' is listed twice.", s.id)));
            }
            let input = ServiceInput {
                name: s.name.clone(),
                description: s.description.clone(),
                tags: s.tags.clone(),
            };
            let (name, description, tags) =
                Station::validate_service(&input).map_err(|e| refuse(&at, e.message))?;
            checked_services.push((at, s, name, description, tags));
        }
        let existing: Vec<Webhook> = webhooks::list(self.store().conn())?;
        let known_services: Vec<String> = services::list(self.store().conn())?
            .into_iter()
            .map(|s| s.id)
            .collect();
        let mut planned = Vec::new();
        for (i, w) in file.webhooks.iter().enumerate() {
            planned.push(self.plan_webhook(i, w, file, &existing, &known_services, &mut report)?);
        }
        let existing_feeds = crate::store::feeds::list(self.store().conn())?;
        let mut planned_feeds = Vec::new();
        for (i, f) in file.feeds.iter().enumerate() {
            planned_feeds.push(plan_feed(
                i,
                f,
                file,
                &existing_feeds,
                &known_services,
                &mut report,
            )?);
        }
        for f in &mut planned_feeds {
            if f.auth != AuthKind::None {
                let present = self
                    .secrets
                    .get(&crate::feed::auth_key(&f.id))
                    .map(|v| v.is_some())
                    .unwrap_or(false);
                f.auth_secret_set = present;
                if !present {
                    report.missing_secrets.push(format!(
                        "{}: {}",
                        f.name,
                        if f.auth == AuthKind::Basic {
                            "basic-auth password"
                        } else {
                            "bearer token"
                        }
                    ));
                }
            }
        }

        // 2. Which secrets this station's keyring already has (no database lock held).
        let has = |key: &str| self.secrets.get(key).map(|v| v.is_some()).unwrap_or(false);
        for p in &mut planned {
            for (key, what) in &p.secrets {
                let present = has(key);
                if !present {
                    report
                        .missing_secrets
                        .push(format!("{}: {what}", p.webhook.name));
                }
                let w = &mut p.webhook;
                if key == &auth_key(&w.id) {
                    w.auth_secret_set = present;
                } else if key == &signing_key(&w.id) {
                    w.signing_secret_set = present;
                } else if let Some(h) = w
                    .headers
                    .iter_mut()
                    .find(|h| h.secret && &header_key(&w.id, &h.name) == key)
                {
                    h.secret_set = present;
                }
            }
        }

        // 3. Secrets the file no longer gives a webhook already here (auth switched off, a header
        //    no longer secret, signing off) leave the keyring first; they are put back when the
        //    transaction fails.
        let mut ops: Vec<SecretOp> = Vec::new();
        for p in &planned {
            if let Some(before) = existing.iter().find(|e| e.id == p.webhook.id) {
                let kept: Vec<&String> = p.secrets.iter().map(|(k, _)| k).collect();
                ops.extend(
                    secret_keys(before)
                        .into_iter()
                        .filter(|k| !kept.contains(&k))
                        .map(|k| (k, None)),
                );
            }
        }
        let undo = self.apply_secret_ops(ops)?;
        let written = self.write_config(
            file,
            &new_settings,
            &checked_services,
            &planned,
            &planned_feeds,
            &mut report,
        );
        if let Err(e) = written {
            self.undo_secret_ops(undo);
            return Err(e);
        }
        tracing::info!(
            services = report.services,
            webhooks = report.webhooks,
            "configuration imported"
        );
        Ok(report)
    }

    /// Everything in one transaction: a refusal leaves the station as it was.
    fn write_config(
        &self,
        file: &ConfigFile,
        new_settings: &Settings,
        checked_services: &[CheckedService<'_>],
        planned: &[PlannedWebhook],
        planned_feeds: &[crate::feed::Feed],
        report: &mut ImportReport,
    ) -> CoreResult<()> {
        let actor = self.actor(Permission::ManageSettings)?;
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        settings::set(
            &tx,
            IDLE_TIMEOUT_KEY,
            &new_settings.idle_timeout_minutes.to_string(),
        )?;
        if let Some(secs) = file.settings.interlock_poll_secs {
            settings::set(&tx, POLL_KEY, &secs.to_string())?;
        }
        if let Some(days) = file.settings.history_retention_days {
            settings::set(&tx, RETENTION_KEY, &days.to_string())?;
        }
        let policy = serde_json::to_string(&file.settings.retry_policy)
            .map_err(|e| CoreError::internal(e.to_string()))?;
        settings::set(&tx, RETRY_POLICY_KEY, &policy)?;
        for (at, s, name, description, tags) in checked_services {
            let written = match services::get(&tx, &s.id)? {
                Some(_) => services::update(&tx, &s.id, name, description, tags, now).map(drop),
                None => services::insert(&tx, &s.id, name, description, tags, now),
            };
            written.map_err(|e| refuse(at, e.message))?;
            services::set_auto_lock(&tx, &s.id, s.auto_lock, now)?;
            if !s.auto_lock {
                let service = services::get(&tx, &s.id)?
                    .ok_or_else(|| CoreError::not_found("The service"))?;
                crate::interlock::auto_lock::cancel_for_service(
                    &tx,
                    &actor,
                    &service,
                    "auto-lock was switched off for this service by a configuration import",
                    now,
                )?;
            }
            report.services += 1;
        }
        for (i, p) in planned.iter().enumerate() {
            webhooks::upsert(&tx, &p.webhook, now)
                .map_err(|e| refuse(&webhook_at(i, &p.webhook.name), e.message))?;
            report.webhooks += 1;
        }
        for (i, f) in planned_feeds.iter().enumerate() {
            crate::store::feeds::upsert(&tx, f, now)
                .map_err(|e| refuse(&format!("feeds[{i}] \"{}\"", f.name), e.message))?;
            report.feeds += 1;
        }
        tx.commit()?;
        if !planned_feeds.is_empty() {
            self.feeds_signal.notify_one();
        }
        Ok(())
    }

    /// One webhook of the file through the window's rules ([`check_webhook`]) and the file's own
    /// (no secret values, known fields, an existing service).
    fn plan_webhook(
        &self,
        i: usize,
        w: &WebhookEntry,
        file: &ConfigFile,
        existing: &[Webhook],
        known_services: &[String],
        report: &mut ImportReport,
    ) -> CoreResult<PlannedWebhook> {
        let at = webhook_at(i, &w.name);
        if let Some(key) = w.unknown.keys().next() {
            let lower = key.to_ascii_lowercase();
            let secretish = ["password", "secret", "token", "key"]
                .iter()
                .any(|s| lower.contains(s));
            return Err(refuse(
                &at,
                if secretish {
                    format!("{key}: secrets are never read from a file; enter them on the station in the Webhook Manager.")
                } else {
                    format!("{key}: not a field of a webhook.")
                },
            ));
        }
        if w.id.trim().is_empty() {
            return Err(refuse(&at, "id: the webhook has no id."));
        }
        if file.webhooks[..i].iter().any(|o| o.id == w.id) {
            return Err(refuse(&at, format!("id: '{}' is listed twice.", w.id)));
        }
        let action = w
            .action
            .split_once('/')
            .ok_or_else(|| CoreError::validation(format!("'{}' is not type/subtype.", w.action)))
            .and_then(|(kind, sub)| Action::parse(kind, sub))
            .map_err(|e| refuse(&at, format!("action: {}", e.message)))?;
        if let Some(sid) = &w.service_id {
            if !file.services.iter().any(|s| &s.id == sid) && !known_services.contains(sid) {
                return Err(refuse(
                    &at,
                    format!(
                        "service_id: no service with id '{sid}' in the file or on this station."
                    ),
                ));
            }
        }
        let before = existing.iter().find(|e| e.id == w.id);
        // A value the export masked: keep this station's own when it has one.
        let mut url = w.url.clone();
        if is_masked(&url) {
            match before.filter(|b| mask_url(&b.url) == w.url) {
                Some(b) => url = b.url.clone(),
                None => report.warnings.push(format!(
                    "{}: the URL's credential was masked (***) in the file; enter it in the Webhook Manager.",
                    w.name
                )),
            }
        }
        let mut headers = Vec::new();
        for h in &w.headers {
            if h.secret && h.value.as_deref().is_some_and(|v| !v.is_empty()) {
                return Err(refuse(
                    &at,
                    format!(
                        "header \"{}\": a secret header's value is never read from a file; enter it on the station in the Webhook Manager.",
                        h.name
                    ),
                ));
            }
            let mut value = h.value.clone().unwrap_or_default();
            if !h.secret && value == MASK {
                let kept = before.and_then(|b| {
                    b.headers
                        .iter()
                        .find(|o| !o.secret && o.name.eq_ignore_ascii_case(&h.name))
                        .map(|o| o.value.clone())
                });
                match kept {
                    Some(v) => value = v,
                    None => report.warnings.push(format!(
                        "{}: the value of header {} was masked (***) in the file; enter it in the Webhook Manager (and mark it secret).",
                        w.name, h.name
                    )),
                }
            }
            headers.push(HeaderInput {
                name: h.name.clone(),
                value,
                secret: h.secret,
                secret_value: SecretChange::Keep,
            });
        }
        let input = WebhookInput {
            name: w.name.clone(),
            enabled: w.enabled,
            action,
            service_id: w.service_id.clone(),
            url,
            verb: w.verb,
            insecure: w.insecure,
            headers,
            auth: w.auth,
            auth_username: w.auth_username.clone(),
            auth_secret: SecretChange::Keep,
            body: if w.body.is_empty() {
                String::new()
            } else {
                serde_json::Value::Object(w.body.clone()).to_string()
            },
            timeout_secs: w.timeout_secs,
            signing: w.signing,
            ca_pem: w.ca_pem.clone(),
            status_pointer: w.status_mapping.pointer.clone(),
            status_locked: w.status_mapping.locked.to_string(),
            status_unlocked: w.status_mapping.unlocked.to_string(),
        };
        let checked = check_webhook(&input)
            .map_err(|e| refuse(&at, format!("{}: {}", e.field, e.error.message)))?;
        let mut secrets = Vec::new();
        match w.auth {
            AuthKind::None => {}
            AuthKind::Basic => secrets.push((auth_key(&w.id), "basic-auth password".to_string())),
            AuthKind::Bearer => secrets.push((auth_key(&w.id), "bearer token".to_string())),
        }
        for h in checked.headers.iter().filter(|h| h.secret) {
            secrets.push((
                header_key(&w.id, &h.name),
                format!("value of secret header {}", h.name),
            ));
        }
        if w.signing {
            secrets.push((
                signing_key(&w.id),
                "signing secret (rotate it to create one)".to_string(),
            ));
        }
        let webhook = Webhook {
            id: w.id.clone(),
            name: checked.name,
            enabled: w.enabled,
            action,
            service_id: w.service_id.clone(),
            url: checked.url,
            verb: w.verb,
            insecure: w.insecure,
            headers: checked
                .headers
                .into_iter()
                .map(|h| HeaderView {
                    name: h.name,
                    value: h.value,
                    secret: h.secret,
                    secret_set: false,
                })
                .collect(),
            auth: w.auth,
            auth_username: checked.auth_username,
            auth_secret_set: false,
            body: checked.body,
            timeout_secs: w.timeout_secs,
            signing: w.signing,
            signing_secret_set: false,
            ca_pem: checked.ca_pem,
            disabled_reason: if w.enabled {
                None
            } else {
                before.and_then(|b| b.disabled_reason.clone())
            },
            status_mapping: checked.status_mapping,
        };
        for warning in webhook_credential_warnings(&webhook) {
            report.warnings.push(format!("{}: {warning}", webhook.name));
        }
        Ok(PlannedWebhook { webhook, secrets })
    }
}

/// One feed of the file through the editor's rules ([`crate::feed::check_feed`]) and the file's
/// own (no credential, known fields, an existing service, no move to another service).
fn plan_feed(
    i: usize,
    f: &FeedEntry,
    file: &ConfigFile,
    existing: &[crate::feed::Feed],
    known_services: &[String],
    report: &mut ImportReport,
) -> CoreResult<crate::feed::Feed> {
    let at = format!("feeds[{i}] \"{}\"", f.name);
    if let Some(key) = f.unknown.keys().next() {
        let lower = key.to_ascii_lowercase();
        let secretish = ["password", "secret", "token", "key"]
            .iter()
            .any(|s| lower.contains(s));
        return Err(refuse(
            &at,
            if secretish {
                format!("{key}: secrets are never read from a file; enter them on the station in Feeds.")
            } else {
                format!("{key}: not a field of a feed.")
            },
        ));
    }
    if f.id.trim().is_empty() {
        return Err(refuse(&at, "id: the feed has no id."));
    }
    if file.feeds[..i].iter().any(|o| o.id == f.id) {
        return Err(refuse(&at, format!("id: '{}' is listed twice.", f.id)));
    }
    if !file.services.iter().any(|s| s.id == f.service_id)
        && !known_services.contains(&f.service_id)
    {
        return Err(refuse(
            &at,
            format!(
                "service_id: no service with id '{}' in the file or on this station.",
                f.service_id
            ),
        ));
    }
    let before = existing.iter().find(|e| e.id == f.id);
    if let Some(b) = before.filter(|b| b.service_id != f.service_id) {
        return Err(refuse(
            &at,
            format!(
                "service_id: this feed belongs to the service '{}' here; a feed cannot move to another service.",
                b.service_name
            ),
        ));
    }
    let mut url = f.url.clone();
    if is_masked(&url) {
        match before.filter(|b| mask_url(&b.url) == f.url) {
            Some(b) => url = b.url.clone(),
            None => report.warnings.push(format!(
                "{}: the URL's credential was masked (***) in the file; enter it in Feeds.",
                f.name
            )),
        }
    }
    let input = crate::feed::FeedInput {
        service_id: f.service_id.clone(),
        name: f.name.clone(),
        url,
        auth: f.auth,
        auth_username: f.auth_username.clone(),
        auth_secret: SecretChange::Keep,
        insecure: f.insecure,
        ca_pem: f.ca_pem.clone(),
        refresh_minutes: f.refresh_minutes,
        enabled: f.enabled,
        fire_webhooks: f.fire_webhooks,
        user_pattern: f.user_pattern.clone(),
    };
    let checked = crate::feed::check_feed(&input).map_err(|e| refuse(&at, e.message))?;
    Ok(crate::feed::Feed {
        id: f.id.clone(),
        service_id: f.service_id.clone(),
        service_name: String::new(),
        name: checked.name,
        url: checked.url,
        auth: f.auth,
        auth_username: checked.auth_username,
        auth_secret_set: false,
        insecure: f.insecure,
        ca_pem: checked.ca_pem,
        refresh_minutes: f.refresh_minutes,
        enabled: f.enabled,
        fire_webhooks: f.fire_webhooks,
        user_pattern: checked.user_pattern,
        status: crate::feed::FeedStatus::default(),
    })
}

// ---- schedule files -------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleFile {
    pub format: String,
    pub version: u32,
    #[serde(default)]
    pub services: Vec<ScheduleService>,
    #[serde(default)]
    pub orders: Vec<ScheduleOrder>,
    #[serde(default)]
    pub events: Vec<ScheduleEvent>,
}

/// Matched by name: created when new, updated otherwise.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleService {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// Matched by reference: created, updated, or deleted with `"delete": true`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleOrder {
    pub reference: String,
    #[serde(default)]
    pub customer: String,
    #[serde(default = "open_status")]
    pub status: OrderStatus,
    #[serde(default)]
    pub lines: Vec<ScheduleLine>,
    #[serde(default)]
    pub delete: bool,
}

fn open_status() -> OrderStatus {
    OrderStatus::Open
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleLine {
    /// The service's name.
    pub service: String,
    pub description: String,
}

/// Without `id`: a new event. With `id`: that event is updated, or deleted with `"delete": true`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ScheduleEvent {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub service: String,
    /// The booked account's username.
    #[serde(default)]
    pub user: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub starts_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub ends_at: Option<jiff::Timestamp>,
    /// An order reference from this file or the station.
    #[serde(default)]
    pub order: Option<String>,
    /// The 0-based index of the order's line item.
    #[serde(default)]
    pub line: Option<usize>,
    #[serde(default)]
    pub delete: bool,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ScheduleReport {
    pub created: usize,
    pub updated: usize,
    pub deleted: usize,
    /// Ids of the events created, in file order.
    pub event_ids: Vec<String>,
}

impl Station {
    /// Applies a schedule file in order: services, then orders, then events. Stops at the first
    /// refused entry, naming it; entries before it stay applied (each is its own transaction).
    pub fn import_schedule(&self, file: &ScheduleFile) -> CoreResult<ScheduleReport> {
        self.actor(Permission::ManageSchedule)?;
        if file.format != SCHEDULE_FORMAT || file.version != 1 {
            return Err(CoreError::validation(format!(
                "This is not an Interlock Station schedule file (format '{}', version {}).",
                file.format, file.version
            )));
        }
        let mut report = ScheduleReport::default();
        let at = |what: String| {
            move |e: CoreError| CoreError::new(e.code, format!("{what}: {}", e.message))
        };
        for s in &file.services {
            let input = ServiceInput {
                name: s.name.clone(),
                description: s.description.clone(),
                tags: s.tags.clone(),
            };
            match self
                .list_services()?
                .into_iter()
                .find(|x| x.name.eq_ignore_ascii_case(&s.name))
            {
                Some(existing) => {
                    self.update_service(&existing.id, input)
                        .map_err(at(format!("Service '{}'", s.name)))?;
                    report.updated += 1;
                }
                None => {
                    self.create_service(input)
                        .map_err(at(format!("Service '{}'", s.name)))?;
                    report.created += 1;
                }
            }
        }
        let service_id = |name: &str| -> CoreResult<String> {
            self.list_services()?
                .into_iter()
                .find(|s| s.name.eq_ignore_ascii_case(name))
                .map(|s| s.id)
                .ok_or_else(|| CoreError::validation(format!("No service named '{name}'.")))
        };
        for o in &file.orders {
            let what = format!("Order '{}'", o.reference);
            let existing = self
                .list_orders()?
                .into_iter()
                .find(|x| x.reference.eq_ignore_ascii_case(&o.reference));
            if o.delete {
                let existing = existing.ok_or_else(|| CoreError::not_found(&what))?;
                self.delete_order(&existing.id).map_err(at(what))?;
                report.deleted += 1;
                continue;
            }
            let mut lines = Vec::new();
            for (i, l) in o.lines.iter().enumerate() {
                let sid = service_id(&l.service).map_err(at(what.clone()))?;
                // Keep the id of the line at the same position, so receivers see the same line_id.
                let keep = existing
                    .as_ref()
                    .and_then(|e| e.lines.get(i))
                    .map(|x| x.id.clone());
                lines.push(OrderLineInput {
                    id: keep,
                    service_id: sid,
                    description: l.description.clone(),
                });
            }
            let input = OrderInput {
                reference: o.reference.clone(),
                customer: o.customer.clone(),
                status: o.status,
                lines,
            };
            match existing {
                Some(e) => {
                    self.update_order(&e.id, input).map_err(at(what))?;
                    report.updated += 1;
                }
                None => {
                    self.create_order(input).map_err(at(what))?;
                    report.created += 1;
                }
            }
        }
        for (n, e) in file.events.iter().enumerate() {
            let what = format!("Event {} ({})", n + 1, e.title);
            if e.delete {
                let id = e.id.as_deref().ok_or_else(|| {
                    CoreError::validation(format!("{what}: deleting needs the event's id."))
                })?;
                self.delete_event(id).map_err(at(what))?;
                report.deleted += 1;
                continue;
            }
            let (Some(starts_at), Some(ends_at)) = (e.starts_at, e.ends_at) else {
                return Err(CoreError::validation(format!(
                    "{what}: starts_at and ends_at are required."
                )));
            };
            let sid = service_id(&e.service).map_err(at(what.clone()))?;
            let user = self
                .list_accounts()?
                .into_iter()
                .find(|a| a.username.eq_ignore_ascii_case(&e.user))
                .ok_or_else(|| {
                    CoreError::validation(format!("{what}: no account '{}'.", e.user))
                })?;
            let (order_id, line_id) = match &e.order {
                None => (None, None),
                Some(reference) => {
                    let order = self
                        .list_orders()?
                        .into_iter()
                        .find(|o| o.reference.eq_ignore_ascii_case(reference))
                        .ok_or_else(|| {
                            CoreError::validation(format!("{what}: no order '{reference}'."))
                        })?;
                    let line = e
                        .line
                        .map(|i| {
                            order.lines.get(i).map(|l| l.id.clone()).ok_or_else(|| {
                                CoreError::validation(format!(
                                    "{what}: order '{reference}' has no line {i}."
                                ))
                            })
                        })
                        .transpose()?;
                    (Some(order.id), line)
                }
            };
            let input = EventInput {
                service_id: sid,
                user_id: user.id,
                title: e.title.clone(),
                starts_at,
                ends_at,
                order_id,
                line_id,
            };
            match &e.id {
                Some(id) => {
                    self.update_event(id, input).map_err(at(what))?;
                    report.updated += 1;
                }
                None => {
                    let created = self.create_event(input).map_err(at(what))?;
                    report.event_ids.push(created.id);
                    report.created += 1;
                }
            }
        }
        Ok(report)
    }
}
