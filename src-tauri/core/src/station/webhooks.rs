//! Why this exists: the Service Webhook Manager's operations on the station: saving a webhook
//! (secrets to the keyring first, then the database, undoing the keyring on failure so nothing is
//! half-saved), deleting it with its secrets, and rotating its signing secret; the names of its
//! keyring entries.
//!
//! The database lock is never held across keyring I/O (an unlock prompt can take minutes, and a
//! Lock command needs the database meanwhile): each edit reads under a short lock, talks to the
//! keyring with no database lock, then writes under a second short lock. Edits of the same webhook
//! take turns on their own small lock, which nothing on the Lock/Unlock path waits for.

use crate::error::{CoreError, CoreResult};
use crate::roles::Permission;
use crate::sensitive::Sensitive;
use crate::signing;
use crate::station::{trimmed, Station};
use crate::store::{self, services, webhooks};
use crate::webhook::*;
use serde::Serialize;
use std::sync::{Condvar, Mutex};

pub fn auth_key(id: &str) -> String {
    format!("webhook/{id}/auth")
}
pub fn signing_key(id: &str) -> String {
    format!("webhook/{id}/signing")
}
/// The entry of a secret header's value. HTTP header names are case-insensitive, so the name is
/// always lower-cased here: `X-Api-Key` and `x-api-key` are one entry, `webhook/<id>/header/x-api-key`,
/// for storing and for looking up alike.
pub fn header_key(id: &str, name: &str) -> String {
    format!("webhook/{id}/header/{}", name.trim().to_ascii_lowercase())
}

/// Every keyring entry a webhook may have (the ones it does not have are simply absent). For a
/// secret header this includes an entry under the name as configured, which older versions and
/// hand-made entries used, so deleting leaves neither behind.
pub fn secret_keys(w: &Webhook) -> Vec<String> {
    let mut keys = vec![auth_key(&w.id), signing_key(&w.id)];
    for h in w.headers.iter().filter(|h| h.secret) {
        keys.push(header_key(&w.id, &h.name));
        let as_configured = format!("webhook/{}/header/{}", w.id, h.name.trim());
        if !keys.contains(&as_configured) {
            keys.push(as_configured);
        }
    }
    keys
}

/// The result of saving a webhook. A newly generated signing secret is shown once, here.
#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct WebhookSaved {
    pub webhook: Webhook,
    pub new_signing_secret: Option<String>,
    /// Credentials kept in plain places (a non-secret `Authorization` header, `?token=` in the
    /// URL): saved, but the editor warns about each (see [`credential_warnings`]).
    pub credential_warnings: Vec<String>,
}

/// The message for a webhook whose service does not exist.
pub(crate) const NO_SUCH_SERVICE: &str = "Choose an existing service, or all services.";

/// A webhook's fields that failed a rule: which field, and why.
#[derive(Debug)]
pub struct FieldError {
    /// `name`, `url`, `header "X-Api-Key"`, `body`, `timeout_secs`, …
    pub field: String,
    pub error: CoreError,
}

fn at(field: impl Into<String>) -> impl FnOnce(CoreError) -> FieldError {
    let field = field.into();
    move |error| FieldError { field, error }
}

/// One header that passed the rules; `index` is its position in the input.
#[derive(Debug)]
pub(crate) struct CheckedHeader {
    pub index: usize,
    pub name: String,
    pub value: String,
    pub secret: bool,
}

/// A webhook's fields after every rule, normalised as they are stored.
#[derive(Debug)]
pub(crate) struct CheckedWebhook {
    pub name: String,
    pub url: String,
    pub body: serde_json::Map<String, serde_json::Value>,
    pub ca_pem: Option<String>,
    pub status_mapping: StatusMapping,
    pub auth_username: String,
    pub headers: Vec<CheckedHeader>,
}

/// Every rule a webhook's fields must pass, for the window (`save_webhook`) and `config import`
/// alike; the error names the field. What needs the database (does the service exist?) and the
/// keyring is checked by the callers.
pub(crate) fn check_webhook(input: &WebhookInput) -> Result<CheckedWebhook, FieldError> {
    let name = trimmed(&input.name, "Webhook name", 100, true).map_err(at("name"))?;
    if !input.action.is_valid() {
        return Err(FieldError {
            field: "action".into(),
            error: CoreError::validation("Choose one of the nine webhook actions."),
        });
    }
    let url = validate_url(&input.url).map_err(at("url"))?.to_string();
    validate_timeout(input.timeout_secs).map_err(at("timeout_secs"))?;
    let body = parse_body(&input.body).map_err(at("body"))?;
    let ca_pem = input
        .ca_pem
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string);
    if let Some(pem) = &ca_pem {
        validate_ca_pem(pem).map_err(at("ca_pem"))?;
    }
    let status_mapping = validate_mapping(
        &input.status_pointer,
        &input.status_locked,
        &input.status_unlocked,
    )
    .map_err(at("status_mapping"))?;
    let auth_username = input.auth_username.trim().to_string();
    if input.auth == AuthKind::Basic {
        if auth_username.is_empty() {
            return Err(FieldError {
                field: "auth_username".into(),
                error: CoreError::validation("Basic auth needs a username."),
            });
        }
        if auth_username.contains(':') {
            return Err(FieldError {
                field: "auth_username".into(),
                error: CoreError::validation("A basic-auth username cannot contain ':'."),
            });
        }
    }
    if input.auth != AuthKind::None {
        if let SecretChange::Set { value } = &input.auth_secret {
            if value.expose().is_empty() {
                return Err(FieldError {
                    field: "auth".into(),
                    error: CoreError::validation("The password or token is empty."),
                });
            }
            if input.auth == AuthKind::Bearer {
                validate_header_value("Authorization", value.expose()).map_err(at("auth"))?;
            }
        }
    }
    let mut headers: Vec<CheckedHeader> = Vec::new();
    for (index, h) in input.headers.iter().enumerate() {
        if h.name.trim().is_empty() && h.value.is_empty() {
            continue; // an empty row in the editor
        }
        let field = format!("header \"{}\"", h.name.trim());
        let hname = validate_header_name(&h.name).map_err(at(field.clone()))?;
        if headers.iter().any(|v| v.name.eq_ignore_ascii_case(&hname)) {
            return Err(FieldError {
                field,
                error: CoreError::validation(format!("The header {hname} is listed twice.")),
            });
        }
        if h.secret {
            if let SecretChange::Set { value } = &h.secret_value {
                validate_header_value(&hname, value.expose()).map_err(at(field))?;
            }
        } else {
            validate_header_value(&hname, &h.value).map_err(at(field))?;
        }
        headers.push(CheckedHeader {
            index,
            name: hname,
            value: if h.secret {
                String::new()
            } else {
                h.value.clone()
            },
            secret: h.secret,
        });
    }
    Ok(CheckedWebhook {
        name,
        url,
        body,
        ca_pem,
        status_mapping,
        auth_username,
        headers,
    })
}

/// The warnings about credentials in plain places for a stored webhook.
pub fn webhook_credential_warnings(w: &Webhook) -> Vec<String> {
    credential_warnings(
        &w.url,
        w.headers
            .iter()
            .map(|h| (h.name.as_str(), h.value.as_str(), h.secret)),
    )
}

/// One keyring change: `None` deletes the entry.
pub(crate) type SecretOp = (String, Option<Sensitive<String>>);

/// The webhooks being edited right now (saved, deleted or rotated). Ids are ULIDs, so one list
/// serves every station of the process.
static EDITING: Mutex<Vec<String>> = Mutex::new(Vec::new());
static EDIT_DONE: Condvar = Condvar::new();

/// This caller's turn to change one webhook's keyring entries and row: two edits of the same
/// webhook never interleave their keyring changes and database writes (which would leave a row
/// that names secrets another edit undid). Waits only for edits of that webhook.
struct EditTurn(String);

impl EditTurn {
    fn take(id: &str) -> EditTurn {
        let mut busy = EDITING.lock().unwrap_or_else(|p| p.into_inner());
        while busy.iter().any(|b| b == id) {
            busy = EDIT_DONE.wait(busy).unwrap_or_else(|p| p.into_inner());
        }
        busy.push(id.to_string());
        EditTurn(id.to_string())
    }
}

impl Drop for EditTurn {
    fn drop(&mut self) {
        let mut busy = EDITING.lock().unwrap_or_else(|p| p.into_inner());
        busy.retain(|b| b != &self.0);
        EDIT_DONE.notify_all();
    }
}

impl Station {
    pub fn list_webhooks(&self) -> CoreResult<Vec<Webhook>> {
        self.actor(Permission::ManageSchedule)?;
        webhooks::list(self.store().conn())
    }

    pub fn save_webhook(&self, id: Option<&str>, input: WebhookInput) -> CoreResult<WebhookSaved> {
        self.actor(Permission::ManageSchedule)?;
        let checked = check_webhook(&input).map_err(|e| e.error)?;

        let now = self.now();
        let wid = id.map(str::to_string).unwrap_or_else(store::new_id);
        let _turn = EditTurn::take(&wid);
        let existing = {
            let store = self.store();
            let conn = store.conn();
            let existing = match id {
                Some(id) => Some(
                    webhooks::get(conn, id)?.ok_or_else(|| CoreError::not_found("The webhook"))?,
                ),
                None => None,
            };
            if let Some(service_id) = &input.service_id {
                services::get(conn, service_id)?
                    .ok_or_else(|| CoreError::validation(NO_SUCH_SERVICE))?;
            }
            existing
        };
        let mut ops: Vec<SecretOp> = Vec::new();

        // HTTP auth secret.
        let old_auth_set = existing.as_ref().is_some_and(|w| w.auth_secret_set);
        let auth_secret_set = match (input.auth, &input.auth_secret) {
            (AuthKind::None, _) | (_, SecretChange::Clear) => {
                if old_auth_set {
                    ops.push((auth_key(&wid), None));
                }
                false
            }
            (_, SecretChange::Keep) => old_auth_set,
            (_, SecretChange::Set { value }) => {
                ops.push((auth_key(&wid), Some(value.clone())));
                true
            }
        };

        // Headers.
        let mut headers = Vec::new();
        for h in checked.headers {
            if h.secret {
                let was_set = existing.as_ref().is_some_and(|w| {
                    w.headers
                        .iter()
                        .any(|o| o.secret && o.secret_set && o.name.eq_ignore_ascii_case(&h.name))
                });
                let secret_set = match &input.headers[h.index].secret_value {
                    SecretChange::Keep => was_set,
                    SecretChange::Clear => {
                        ops.push((header_key(&wid, &h.name), None));
                        false
                    }
                    SecretChange::Set { value } => {
                        ops.push((header_key(&wid, &h.name), Some(value.clone())));
                        true
                    }
                };
                headers.push(HeaderView {
                    name: h.name,
                    value: String::new(),
                    secret: true,
                    secret_set,
                });
            } else {
                headers.push(HeaderView {
                    name: h.name,
                    value: h.value,
                    secret: false,
                    secret_set: false,
                });
            }
        }
        if let Some(old) = &existing {
            for o in old.headers.iter().filter(|o| o.secret && o.secret_set) {
                if !headers
                    .iter()
                    .any(|n| n.secret && n.name.eq_ignore_ascii_case(&o.name))
                {
                    ops.push((header_key(&wid, &o.name), None));
                }
            }
        }

        // Signing.
        let old_signing_set = existing.as_ref().is_some_and(|w| w.signing_secret_set);
        let mut new_signing_secret = None;
        let signing_secret_set = if input.signing {
            if !old_signing_set {
                let secret = signing::generate_secret();
                ops.push((signing_key(&wid), Some(Sensitive::new(secret.clone()))));
                new_signing_secret = Some(secret);
            }
            true
        } else {
            if old_signing_set {
                ops.push((signing_key(&wid), None));
            }
            false
        };

        let webhook = Webhook {
            id: wid.clone(),
            name: checked.name,
            enabled: input.enabled,
            action: input.action,
            service_id: input.service_id.clone(),
            url: checked.url,
            verb: input.verb,
            insecure: input.insecure,
            headers,
            auth: input.auth,
            auth_username: checked.auth_username,
            auth_secret_set,
            body: checked.body,
            timeout_secs: input.timeout_secs,
            signing: input.signing,
            signing_secret_set,
            ca_pem: checked.ca_pem,
            disabled_reason: if input.enabled {
                None
            } else {
                existing.as_ref().and_then(|w| w.disabled_reason.clone())
            },
            status_mapping: checked.status_mapping,
        };
        // The keyring first, with no database lock held; then the row under a short lock.
        let undo = self.apply_secret_ops(ops)?;
        let written = webhooks::upsert(self.store().conn(), &webhook, now);
        if let Err(e) = written {
            self.undo_secret_ops(undo);
            return Err(e);
        }
        tracing::info!(webhook = %webhook.id, action = %webhook.action.label(), "webhook saved");
        Ok(WebhookSaved {
            credential_warnings: webhook_credential_warnings(&webhook),
            webhook,
            new_signing_secret,
        })
    }

    /// Applies keyring changes; on the first failure undoes the ones already made.
    pub(crate) fn apply_secret_ops(&self, ops: Vec<SecretOp>) -> CoreResult<Vec<SecretOp>> {
        let mut undo = Vec::new();
        for (key, value) in ops {
            let step = self.secrets.get(&key).and_then(|old| {
                match &value {
                    Some(v) => self.secrets.set(&key, v)?,
                    None => self.secrets.delete(&key)?,
                }
                Ok(old)
            });
            match step {
                Ok(old) => undo.push((key, old)),
                Err(e) => {
                    self.undo_secret_ops(undo);
                    return Err(e);
                }
            }
        }
        Ok(undo)
    }

    pub(crate) fn undo_secret_ops(&self, undo: Vec<SecretOp>) {
        for (key, old) in undo.into_iter().rev() {
            let r = match old {
                Some(v) => self.secrets.set(&key, &v),
                None => self.secrets.delete(&key),
            };
            if let Err(e) = r {
                tracing::error!(key = %key, "could not undo a keyring change: {}", e.message);
            }
        }
    }

    /// Deletes a webhook and every secret it had in the keyring. The secrets go first (no
    /// database lock held); when deleting the row then fails they are put back.
    pub fn delete_webhook(&self, id: &str) -> CoreResult<()> {
        self.actor(Permission::ManageSchedule)?;
        let _turn = EditTurn::take(id);
        let w = webhooks::get(self.store().conn(), id)?
            .ok_or_else(|| CoreError::not_found("The webhook"))?;
        let ops: Vec<SecretOp> = secret_keys(&w).into_iter().map(|k| (k, None)).collect();
        let undo = self.apply_secret_ops(ops)?;
        let deleted = webhooks::delete(self.store().conn(), id);
        if let Err(e) = deleted {
            self.undo_secret_ops(undo);
            return Err(e);
        }
        tracing::info!(webhook = %id, "webhook deleted with its secrets");
        Ok(())
    }

    /// Replaces the signing secret; the new one is returned once, to copy. The keyring is written
    /// with no database lock held; when the row cannot be updated the old secret is put back.
    pub fn rotate_signing_secret(&self, id: &str) -> CoreResult<String> {
        self.actor(Permission::ManageSchedule)?;
        let _turn = EditTurn::take(id);
        let w = webhooks::get(self.store().conn(), id)?
            .ok_or_else(|| CoreError::not_found("The webhook"))?;
        if !w.signing {
            return Err(CoreError::validation(
                "Signing is off for this webhook; turn it on first.",
            ));
        }
        let secret = signing::generate_secret();
        let undo = self.apply_secret_ops(vec![(
            signing_key(id),
            Some(Sensitive::new(secret.clone())),
        )])?;
        let written = self.mark_signing_secret_set(id);
        if let Err(e) = written {
            self.undo_secret_ops(undo);
            return Err(e);
        }
        Ok(secret)
    }

    /// Records that a webhook's signing secret is in the keyring, on the row as it is now.
    fn mark_signing_secret_set(&self, id: &str) -> CoreResult<()> {
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let mut w = webhooks::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The webhook"))?;
        if !w.signing {
            return Err(CoreError::conflict(
                "Signing was turned off for this webhook meanwhile; nothing was changed.",
            ));
        }
        w.signing_secret_set = true;
        webhooks::upsert(&tx, &w, now)?;
        tx.commit()?;
        Ok(())
    }
}
