//! Why this exists: the shape of a webhook as the facility system defines it (action, verb in a
//! standard or "insecure" form, URL, headers, HTTP auth, JSON body data) and every rule a
//! configuration must pass before it is stored. Secret values never appear here: the configuration
//! only says whether a secret is set; the values live in the OS keyring.

use crate::error::{CoreError, CoreResult};
use crate::sensitive::Sensitive;
use serde::{Deserialize, Serialize};

pub const MAX_BODY_BYTES: usize = 64 * 1024;
pub const DEFAULT_TIMEOUT_SECS: u32 = 15;
pub const MIN_TIMEOUT_SECS: u32 = 1;
pub const MAX_TIMEOUT_SECS: u32 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ActionType {
    Order,
    Event,
    Interlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ActionSubtype {
    Create,
    Update,
    Delete,
    Unlock,
    Status,
    Lock,
}

/// One of the nine type/subtype pairs a webhook can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, specta::Type)]
pub struct Action {
    #[serde(rename = "type")]
    pub kind: ActionType,
    pub subtype: ActionSubtype,
}

impl Action {
    pub const fn new(kind: ActionType, subtype: ActionSubtype) -> Self {
        Action { kind, subtype }
    }

    pub fn is_valid(self) -> bool {
        use ActionSubtype::*;
        match self.kind {
            ActionType::Order | ActionType::Event => {
                matches!(self.subtype, Create | Update | Delete)
            }
            ActionType::Interlock => matches!(self.subtype, Unlock | Status | Lock),
        }
    }

    pub fn kind_str(self) -> &'static str {
        match self.kind {
            ActionType::Order => "order",
            ActionType::Event => "event",
            ActionType::Interlock => "interlock",
        }
    }

    pub fn subtype_str(self) -> &'static str {
        match self.subtype {
            ActionSubtype::Create => "create",
            ActionSubtype::Update => "update",
            ActionSubtype::Delete => "delete",
            ActionSubtype::Unlock => "unlock",
            ActionSubtype::Status => "status",
            ActionSubtype::Lock => "lock",
        }
    }

    /// "event/create"
    pub fn label(self) -> String {
        format!("{}/{}", self.kind_str(), self.subtype_str())
    }

    pub fn parse(kind: &str, subtype: &str) -> CoreResult<Action> {
        let k = match kind {
            "order" => ActionType::Order,
            "event" => ActionType::Event,
            "interlock" => ActionType::Interlock,
            _ => {
                return Err(CoreError::validation(format!(
                    "Unknown webhook type '{kind}'."
                )))
            }
        };
        let s = match subtype {
            "create" => ActionSubtype::Create,
            "update" => ActionSubtype::Update,
            "delete" => ActionSubtype::Delete,
            "unlock" => ActionSubtype::Unlock,
            "status" => ActionSubtype::Status,
            "lock" => ActionSubtype::Lock,
            _ => {
                return Err(CoreError::validation(format!(
                    "Unknown webhook subtype '{subtype}'."
                )))
            }
        };
        let a = Action::new(k, s);
        if !a.is_valid() {
            return Err(CoreError::validation(format!(
                "'{kind}/{subtype}' is not a webhook action."
            )));
        }
        Ok(a)
    }

    pub const ALL: [Action; 9] = {
        use ActionSubtype::*;
        use ActionType::*;
        [
            Action::new(Order, Create),
            Action::new(Order, Update),
            Action::new(Order, Delete),
            Action::new(Event, Create),
            Action::new(Event, Update),
            Action::new(Event, Delete),
            Action::new(Interlock, Unlock),
            Action::new(Interlock, Status),
            Action::new(Interlock, Lock),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub enum Verb {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "DELETE")]
    Delete,
}

impl Verb {
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }
    pub fn parse(s: &str) -> CoreResult<Verb> {
        Ok(match s {
            "GET" => Verb::Get,
            "POST" => Verb::Post,
            "PUT" => Verb::Put,
            "PATCH" => Verb::Patch,
            "DELETE" => Verb::Delete,
            _ => return Err(CoreError::validation(format!("Unknown HTTP verb '{s}'."))),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum AuthKind {
    None,
    Basic,
    Bearer,
}

/// What to do with a stored secret when a webhook is saved.
#[derive(Debug, Clone, Deserialize, specta::Type)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SecretChange {
    /// Leave the stored secret as it is.
    Keep,
    /// Store this new value (redacted in any `Debug` output).
    Set { value: Sensitive<String> },
    /// Remove the stored secret.
    Clear,
}

/// A header as the UI sees it: a secret header's value is never sent back, only whether it is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
pub struct HeaderView {
    pub name: String,
    /// The value of a plain header; empty for a secret one.
    pub value: String,
    pub secret: bool,
    pub secret_set: bool,
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct HeaderInput {
    pub name: String,
    /// The value of a plain header (ignored for a secret one).
    pub value: String,
    pub secret: bool,
    /// For a secret header: keep, set or clear its value.
    pub secret_value: SecretChange,
}

/// A webhook as stored and as the UI sees it. No secret value appears here.
#[derive(Debug, Clone, PartialEq, Serialize, specta::Type)]
pub struct Webhook {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub action: Action,
    /// The service it fires for; `None` for every service of the station.
    pub service_id: Option<String>,
    pub url: String,
    pub verb: Verb,
    /// Ignores every TLS certificate error. Not recommended.
    pub insecure: bool,
    pub headers: Vec<HeaderView>,
    pub auth: AuthKind,
    /// The basic-auth username (not a secret).
    pub auth_username: String,
    /// Whether a basic password or bearer token is stored in the keyring.
    pub auth_secret_set: bool,
    /// Body data (a JSON object) merged into every payload; system keys win.
    pub body: serde_json::Map<String, serde_json::Value>,
    pub timeout_secs: u32,
    pub signing: bool,
    pub signing_secret_set: bool,
    /// A CA certificate (PEM) trusted for this webhook in addition to the system's.
    pub ca_pem: Option<String>,
    /// Why the station disabled it on its own (e.g. the receiver answered 410 Gone).
    pub disabled_reason: Option<String>,
    /// For interlock/status: where the state is in the JSON reply, and the values that mean
    /// locked and unlocked (default `/status`, "locked", "unlocked").
    pub status_mapping: StatusMapping,
}

/// How to read a relay's status reply: Shelly uses `/ison` true/false, Tasmota `/POWER` "OFF"/"ON".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, specta::Type)]
pub struct StatusMapping {
    pub pointer: String,
    pub locked: serde_json::Value,
    pub unlocked: serde_json::Value,
}

impl Default for StatusMapping {
    fn default() -> Self {
        StatusMapping {
            pointer: "/status".into(),
            locked: "locked".into(),
            unlocked: "unlocked".into(),
        }
    }
}

/// A mapping value as typed: JSON when it parses (`true`, `1`, `"ON"`), otherwise the plain text.
pub fn parse_mapping_value(text: &str) -> serde_json::Value {
    let t = text.trim();
    serde_json::from_str(t).unwrap_or_else(|_| serde_json::Value::String(t.to_string()))
}

pub fn validate_mapping(pointer: &str, locked: &str, unlocked: &str) -> CoreResult<StatusMapping> {
    let pointer = pointer.trim();
    let pointer = if pointer.is_empty() {
        "/status"
    } else {
        pointer
    };
    if !pointer.starts_with('/') {
        return Err(CoreError::validation(format!("The status pointer must be a JSON pointer starting with '/', like /status or /ison; got '{pointer}'.")));
    }
    let locked = if locked.trim().is_empty() {
        "locked".into()
    } else {
        parse_mapping_value(locked)
    };
    let unlocked = if unlocked.trim().is_empty() {
        "unlocked".into()
    } else {
        parse_mapping_value(unlocked)
    };
    if locked == unlocked {
        return Err(CoreError::validation(
            "The values for locked and unlocked must differ.",
        ));
    }
    Ok(StatusMapping {
        pointer: pointer.to_string(),
        locked,
        unlocked,
    })
}

#[derive(Debug, Clone, Deserialize, specta::Type)]
pub struct WebhookInput {
    pub name: String,
    pub enabled: bool,
    pub action: Action,
    pub service_id: Option<String>,
    pub url: String,
    pub verb: Verb,
    pub insecure: bool,
    pub headers: Vec<HeaderInput>,
    pub auth: AuthKind,
    pub auth_username: String,
    /// The basic password or bearer token.
    pub auth_secret: SecretChange,
    /// The body data as the JSON text the user typed.
    pub body: String,
    pub timeout_secs: u32,
    pub signing: bool,
    pub ca_pem: Option<String>,
    /// For interlock/status webhooks: JSON pointer to the state (empty: `/status`).
    pub status_pointer: String,
    /// The value meaning locked, as JSON or plain text (empty: "locked").
    pub status_locked: String,
    /// The value meaning unlocked, as JSON or plain text (empty: "unlocked").
    pub status_unlocked: String,
}

impl WebhookInput {
    /// An enabled webhook sending POST with no headers, auth, body data or signing: the starting
    /// point for scripts and tests. Interlock calls default to a 5 s timeout, others to 15 s.
    pub fn new(name: &str, action: Action, url: &str) -> Self {
        WebhookInput {
            name: name.to_string(),
            enabled: true,
            action,
            service_id: None,
            url: url.to_string(),
            verb: Verb::Post,
            insecure: false,
            headers: Vec::new(),
            auth: AuthKind::None,
            auth_username: String::new(),
            auth_secret: SecretChange::Keep,
            body: String::new(),
            timeout_secs: match action.kind {
                ActionType::Interlock => 5,
                _ => DEFAULT_TIMEOUT_SECS,
            },
            signing: false,
            ca_pem: None,
            status_pointer: String::new(),
            status_locked: String::new(),
            status_unlocked: String::new(),
        }
    }
}

/// Headers the app sets itself; configuring them would break the request (the `webhook-*` ones
/// carry the idempotency key and the Standard Webhooks signature of every delivery).
pub const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

pub fn validate_url(raw: &str) -> CoreResult<url::Url> {
    let raw = raw.trim();
    let parsed = url::Url::parse(raw)
        .map_err(|e| CoreError::validation(format!("The URL '{raw}' is not valid: {e}.")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(CoreError::validation(format!(
            "The URL must start with http:// or https://, not {}://.",
            parsed.scheme()
        )));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(CoreError::validation("The URL has no host."));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(CoreError::validation(
            "Put credentials in HTTP auth, not in the URL (they would be shown and logged).",
        ));
    }
    Ok(parsed)
}

pub fn validate_header_name(name: &str) -> CoreResult<String> {
    let name = name.trim();
    http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| CoreError::validation(format!("'{name}' is not a valid HTTP header name.")))?;
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(CoreError::validation(format!(
            "The header {name} is set by the app itself and cannot be configured."
        )));
    }
    Ok(name.to_string())
}

pub fn validate_header_value(name: &str, value: &str) -> CoreResult<()> {
    http::HeaderValue::from_str(value).map(drop).map_err(|_| {
        CoreError::validation(format!(
            "The value of header {name} contains characters not allowed in HTTP headers (such as a line break)."
        ))
    })
}

/// Parses body data typed by a person: empty means `{}`; anything but a JSON object is refused.
pub fn parse_body(text: &str) -> CoreResult<serde_json::Map<String, serde_json::Value>> {
    if text.len() > MAX_BODY_BYTES {
        return Err(CoreError::validation(format!(
            "The body data is {} bytes; at most {} KiB are allowed.",
            text.len(),
            MAX_BODY_BYTES / 1024
        )));
    }
    if text.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(other) => Err(CoreError::validation(format!(
            "The body data must be a JSON object ({{...}}), not {}.",
            json_kind(&other)
        ))),
        Err(e) => Err(CoreError::validation(format!(
            "The body data is not valid JSON: {e}."
        ))),
    }
}

pub fn json_kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

pub fn validate_timeout(secs: u32) -> CoreResult<()> {
    if !(MIN_TIMEOUT_SECS..=MAX_TIMEOUT_SECS).contains(&secs) {
        return Err(CoreError::validation(format!(
            "The timeout must be between {MIN_TIMEOUT_SECS} and {MAX_TIMEOUT_SECS} seconds."
        )));
    }
    Ok(())
}

pub fn validate_ca_pem(pem: &str) -> CoreResult<()> {
    crate::http_client::parse_pem_certificates(pem)
        .map(drop)
        .map_err(|e| {
            CoreError::validation(format!(
                "The CA certificate is not a valid PEM certificate: {e}."
            ))
        })?;
    if !pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(CoreError::validation(
            "The CA certificate must be PEM text starting with -----BEGIN CERTIFICATE-----.",
        ));
    }
    Ok(())
}

// ---- credentials in plain places ---------------------------------------------------------------

/// What a masked value is shown as.
pub const MASK: &str = "***";

/// A header whose name says it carries a credential (`Authorization`, `Proxy-Authorization`,
/// `Cookie`, `*-Token`, `*-Key`, `*-Secret`, `*-Password`, `*-Signature`). Case-insensitive.
pub fn is_credential_header(name: &str) -> bool {
    let n = name.trim().to_ascii_lowercase();
    matches!(
        n.as_str(),
        "authorization" | "proxy-authorization" | "cookie" | "token" | "apikey" | "api-key"
    ) || ["token", "key", "secret", "password", "signature"]
        .iter()
        .any(|w| n.ends_with(&format!("-{w}")) || n.ends_with(&format!("_{w}")))
}

/// A URL query parameter whose name says it carries a credential: it contains token, secret,
/// password, passwd or signature, is `sig`, or is or ends with `key` (`key`, `apikey`, `api_key`).
pub fn is_credential_param(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["token", "secret", "password", "passwd", "signature"]
        .iter()
        .any(|w| n.contains(w))
        || n == "sig"
        || n.ends_with("key")
}

/// The URL with the value of every credential-looking query parameter replaced by `***`. Text
/// that is not a URL is returned as it is.
pub fn mask_url(raw: &str) -> String {
    let Ok(mut url) = url::Url::parse(raw.trim()) else {
        return raw.to_string();
    };
    if !url.query_pairs().any(|(k, _)| is_credential_param(&k)) {
        return raw.to_string();
    }
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            let v = if is_credential_param(&k) {
                MASK.to_string()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url.query_pairs_mut().clear().extend_pairs(pairs);
    url.to_string()
}

/// Every URL in a text (an error message, a log line) masked with [`mask_url`].
pub fn mask_urls_in(text: &str) -> String {
    if !text.contains('?') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("http") {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, ')' | '"' | '\'' | '<' | '>' | ','))
            .unwrap_or(tail.len());
        let candidate = &tail[..end];
        if candidate.starts_with("http://") || candidate.starts_with("https://") {
            out.push_str(&mask_url(candidate));
        } else {
            out.push_str(candidate);
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A plain (not secret) header's value as shown outside the request: `***` when the header's name
/// says it carries a credential.
pub fn shown_header_value(name: &str, value: &str) -> String {
    if is_credential_header(name) && !value.is_empty() {
        MASK.to_string()
    } else {
        value.to_string()
    }
}

/// Warnings for credentials kept in plain places (a non-secret `Authorization`/`*-Token`/`*-Key`
/// header with a value, a URL query parameter named like a token, key, secret, password or
/// signature). Such values are stored in the database and shown as `***` everywhere else; the
/// editor shows these warnings. `headers`: (name, value, secret).
pub fn credential_warnings<'a>(
    url: &str,
    headers: impl IntoIterator<Item = (&'a str, &'a str, bool)>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value, secret) in headers {
        if !secret && !value.is_empty() && is_credential_header(name) {
            out.push(format!(
                "The header {} looks like a credential but is not marked secret: its value is kept in the database (not the keyring) and shown as *** elsewhere. Mark it secret.",
                name.trim()
            ));
        }
    }
    if let Ok(parsed) = url::Url::parse(url.trim()) {
        for (k, _) in parsed.query_pairs() {
            if is_credential_param(&k) {
                out.push(format!(
                    "The URL parameter '{k}' looks like a credential: URLs are kept in the database and its value is shown as *** elsewhere. Prefer a secret header or HTTP auth."
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nine_actions() {
        assert_eq!(Action::ALL.iter().filter(|a| a.is_valid()).count(), 9);
        assert!(!Action::new(ActionType::Order, ActionSubtype::Lock).is_valid());
        assert!(!Action::new(ActionType::Interlock, ActionSubtype::Create).is_valid());
        for a in Action::ALL {
            assert_eq!(Action::parse(a.kind_str(), a.subtype_str()).unwrap(), a);
        }
    }

    #[test]
    fn url_rules() {
        assert!(validate_url("https://lims.example.org/hook?x=1").is_ok());
        assert!(validate_url("http://127.0.0.1:8080").is_ok());
        assert!(validate_url("ftp://x.org")
            .unwrap_err()
            .message
            .contains("http:// or https://"));
        assert!(validate_url("not a url")
            .unwrap_err()
            .message
            .contains("is not valid"));
        assert!(validate_url("https://user:pw@x.org")
            .unwrap_err()
            .message
            .contains("HTTP auth"));
    }

    #[test]
    fn header_rules() {
        assert!(validate_header_name("X-Api-Key").is_ok());
        assert!(validate_header_name("Bad Header")
            .unwrap_err()
            .message
            .contains("not a valid"));
        for reserved in [
            "Content-Type",
            "content-length",
            "Host",
            "Transfer-Encoding",
            "webhook-id",
            "Webhook-Timestamp",
            "WEBHOOK-SIGNATURE",
        ] {
            assert!(validate_header_name(reserved)
                .unwrap_err()
                .message
                .contains("set by the app"));
        }
        assert!(validate_header_value("X", "ok value").is_ok());
        assert!(validate_header_value("X", "line\nbreak").is_err());
    }

    #[test]
    fn body_rules() {
        assert!(parse_body("").unwrap().is_empty());
        assert_eq!(parse_body(r#"{"a":1}"#).unwrap()["a"], 1);
        assert!(parse_body("[1]")
            .unwrap_err()
            .message
            .contains("not an array"));
        assert!(parse_body("{")
            .unwrap_err()
            .message
            .contains("not valid JSON"));
        let big = format!(r#"{{"a":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
        assert!(parse_body(&big).unwrap_err().message.contains("64 KiB"));
    }

    #[test]
    fn timeout_rules() {
        assert!(validate_timeout(0).is_err());
        assert!(validate_timeout(1).is_ok());
        assert!(validate_timeout(120).is_ok());
        assert!(validate_timeout(121).is_err());
    }

    #[test]
    fn credentials_in_plain_places() {
        assert!(is_credential_header("Authorization"));
        assert!(is_credential_header("x-auth-token"));
        assert!(is_credential_header("X-Api-Key"));
        assert!(!is_credential_header("X-Site"));
        assert!(!is_credential_header("X-Keyboard"));
        assert!(is_credential_param("access_token"));
        assert!(is_credential_param("apiKey"));
        assert!(is_credential_param("sig"));
        assert!(!is_credential_param("site"));
        assert_eq!(
            mask_url("https://x.org/h?site=B2&token=abc&api_key=zz"),
            "https://x.org/h?site=B2&token=***&api_key=***"
        );
        assert_eq!(
            mask_url("https://x.org/h?site=B2"),
            "https://x.org/h?site=B2"
        );
        assert_eq!(
            mask_urls_in("error sending request for url (https://x.org/h?token=abc): refused"),
            "error sending request for url (https://x.org/h?token=***): refused"
        );
        let w = credential_warnings(
            "https://x.org/h?password=p",
            [
                ("Authorization", "Bearer t", false),
                ("X-Api-Key", "", true),
            ],
        );
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(credential_warnings("https://x.org/", [("X-Site", "B2", false)]).is_empty());
    }
}
