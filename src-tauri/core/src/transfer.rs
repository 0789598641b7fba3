//! Why this exists: administrators provision stations by script. The configuration (settings,
//! services, webhooks) is exported and imported as one documented JSON file that never carries a
//! secret: it says which secrets a webhook had, and an import reports which of those this station's
//! keyring still lacks. A schedule file creates, updates and deletes services, orders and events
//! through the same station methods as the UI, so webhooks fire exactly as they would there.

use crate::error::{CoreError, CoreResult};
use crate::model::*;
use crate::outbox::RetryPolicy;
use crate::roles::Permission;
use crate::station::webhooks::{auth_key, header_key, signing_key};
use crate::station::Station;
use crate::store::{services, webhooks};
use crate::webhook::*;
use serde::{Deserialize, Serialize};

pub const CONFIG_FORMAT: &str = "interlock-station-config";
pub const SCHEDULE_FORMAT: &str = "interlock-station-schedule";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigFile {
    pub format: String,
    pub version: u32,
    pub settings: ConfigSettings,
    pub services: Vec<ServiceEntry>,
    pub webhooks: Vec<WebhookEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ConfigSettings {
    pub idle_timeout_minutes: u32,
    pub retry_policy: RetryPolicy,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ServiceEntry {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeaderEntry {
    pub name: String,
    /// The value of a plain header; absent for a secret one.
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
}

/// What an import did, and which secrets must still be entered on this station.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct ImportReport {
    pub services: usize,
    pub webhooks: usize,
    pub missing_secrets: Vec<String>,
}

impl Station {
    pub fn export_config(&self) -> CoreResult<ConfigFile> {
        self.actor(Permission::ManageSettings)?;
        let settings = self.settings()?;
        let store = self.store();
        let services = services::list(store.conn())?
            .into_iter()
            .map(|s| ServiceEntry {
                id: s.id,
                name: s.name,
                description: s.description,
                tags: s.tags,
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
                url: w.url,
                verb: w.verb,
                insecure: w.insecure,
                headers: w
                    .headers
                    .into_iter()
                    .map(|h| HeaderEntry {
                        value: (!h.secret).then_some(h.value),
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
            })
            .collect();
        drop(store);
        Ok(ConfigFile {
            format: CONFIG_FORMAT.into(),
            version: 1,
            settings: ConfigSettings {
                idle_timeout_minutes: settings.idle_timeout_minutes,
                retry_policy: self.retry_policy()?,
            },
            services,
            webhooks,
        })
    }

    /// Imports a configuration: services and webhooks are created or updated by id, settings are
    /// replaced. Secrets already in this station's keyring are kept and used.
    pub fn import_config(&self, file: &ConfigFile) -> CoreResult<ImportReport> {
        self.actor(Permission::ManageSettings)?;
        if file.format != CONFIG_FORMAT || file.version != 1 {
            return Err(CoreError::validation(format!(
                "This is not an Interlock Station configuration file (format '{}', version {}).",
                file.format, file.version
            )));
        }
        // Validate everything before changing anything.
        let mut planned = Vec::new();
        for w in &file.webhooks {
            let (kind, sub) = w.action.split_once('/').ok_or_else(|| {
                CoreError::validation(format!(
                    "Webhook '{}': action '{}' is not type/subtype.",
                    w.name, w.action
                ))
            })?;
            let action = Action::parse(kind, sub)?;
            validate_url(&w.url).map_err(|e| {
                CoreError::validation(format!("Webhook '{}': {}", w.name, e.message))
            })?;
            planned.push(action);
        }
        self.update_settings(Settings {
            idle_timeout_minutes: file.settings.idle_timeout_minutes,
        })?;
        self.set_retry_policy(file.settings.retry_policy.clone())?;
        let mut report = ImportReport::default();
        for s in &file.services {
            let input = ServiceInput {
                name: s.name.clone(),
                description: s.description.clone(),
                tags: s.tags.clone(),
            };
            let exists = services::get(self.store().conn(), &s.id)?.is_some();
            if exists {
                self.update_service(&s.id, input)?;
            } else {
                self.create_service_with_id(&s.id, input)?;
            }
            report.services += 1;
        }
        for (w, action) in file.webhooks.iter().zip(planned) {
            let has = |key: String| self.secrets.get(&key).map(|v| v.is_some()).unwrap_or(false);
            let auth_set = w.auth != AuthKind::None && has(auth_key(&w.id));
            if w.auth != AuthKind::None && !auth_set {
                report.missing_secrets.push(format!(
                    "{}: {}",
                    w.name,
                    if w.auth == AuthKind::Basic {
                        "basic-auth password"
                    } else {
                        "bearer token"
                    }
                ));
            }
            let mut headers = Vec::new();
            for h in &w.headers {
                let secret_set = h.secret && has(header_key(&w.id, &h.name));
                if h.secret && !secret_set {
                    report
                        .missing_secrets
                        .push(format!("{}: value of secret header {}", w.name, h.name));
                }
                headers.push(HeaderView {
                    name: h.name.clone(),
                    value: h.value.clone().unwrap_or_default(),
                    secret: h.secret,
                    secret_set,
                });
            }
            let signing_set = w.signing && has(signing_key(&w.id));
            if w.signing && !signing_set {
                report.missing_secrets.push(format!(
                    "{}: signing secret (rotate it to create one)",
                    w.name
                ));
            }
            let webhook = Webhook {
                id: w.id.clone(),
                name: w.name.clone(),
                enabled: w.enabled,
                action,
                service_id: w.service_id.clone(),
                url: w.url.clone(),
                verb: w.verb,
                insecure: w.insecure,
                headers,
                auth: w.auth,
                auth_username: w.auth_username.clone(),
                auth_secret_set: auth_set,
                body: w.body.clone(),
                timeout_secs: w.timeout_secs,
                signing: w.signing,
                signing_secret_set: signing_set,
                ca_pem: w.ca_pem.clone(),
                disabled_reason: None,
                status_mapping: w.status_mapping.clone(),
            };
            validate_timeout(webhook.timeout_secs)?;
            webhooks::upsert(self.store().conn(), &webhook, self.now())?;
            report.webhooks += 1;
        }
        Ok(report)
    }
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
