//! Why this exists: one HTTP request of one webhook, sent from Rust and judged the same way
//! everywhere: success is 2xx only, redirects are not followed, and every failure is named as what
//! it is (DNS, connection refused, TLS certificate problem, timeout, redirect, HTTP status). The
//! outbox, "Send test", "Resend" and the interlock calls all go through `Deliverer::send`.

use crate::http_client::{ClientFactory, HttpClient, Trust};
use crate::sensitive::Sensitive;
use crate::webhook::{AuthKind, Verb};
use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http_body_util::BodyExt;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const EXCERPT_BYTES: usize = 2048;
pub const USER_AGENT: &str = concat!("InterlockStation/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    Dns,
    Refused,
    Tls,
    Timeout,
    Redirect,
    HttpStatus,
    Connect,
    Config,
    Other,
}

impl ErrorClass {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorClass::Dns => "dns",
            ErrorClass::Refused => "refused",
            ErrorClass::Tls => "tls",
            ErrorClass::Timeout => "timeout",
            ErrorClass::Redirect => "redirect",
            ErrorClass::HttpStatus => "http_status",
            ErrorClass::Connect => "connect",
            ErrorClass::Config => "config",
            ErrorClass::Other => "other",
        }
    }
    pub fn parse(s: &str) -> Option<ErrorClass> {
        Some(match s {
            "dns" => ErrorClass::Dns,
            "refused" => ErrorClass::Refused,
            "tls" => ErrorClass::Tls,
            "timeout" => ErrorClass::Timeout,
            "redirect" => ErrorClass::Redirect,
            "http_status" => ErrorClass::HttpStatus,
            "connect" => ErrorClass::Connect,
            "config" => ErrorClass::Config,
            "other" => ErrorClass::Other,
            _ => return None,
        })
    }
}

/// Everything needed to send one request; secrets stay wrapped until they go on the wire.
#[derive(Debug, Clone)]
pub struct Request {
    pub verb: Verb,
    pub url: String,
    pub insecure: bool,
    pub ca_pem: Option<String>,
    pub headers: Vec<(String, Sensitive<String>)>,
    pub auth: AuthKind,
    pub auth_username: String,
    pub auth_secret: Option<Sensitive<String>>,
    pub body: Vec<u8>,
    pub timeout: Duration,
    /// `url`, parsed once for all the requests of a webhook (the outbox shares it per round);
    /// `None`: parsed when sent.
    pub parsed_url: Option<url::Url>,
    /// The `webhook-id` header: the outbox row's id, the same on every retry and resend, so a
    /// receiver can drop a delivery it has already handled.
    pub message_id: String,
    /// The `webhook-timestamp` header (seconds), also part of the signed content.
    pub timestamp_secs: i64,
    /// Standard Webhooks signing secret: adds `webhook-signature` when set.
    pub signing: Option<Sensitive<String>>,
}

impl Request {
    /// A plain JSON POST: no auth, no signing, a 30 s timeout (benchmarks and tests of the client).
    pub fn post_json(url: &str, body: Vec<u8>, message_id: &str) -> Request {
        Request {
            verb: Verb::Post,
            url: url.to_string(),
            insecure: false,
            ca_pem: None,
            headers: Vec::new(),
            auth: AuthKind::None,
            auth_username: String::new(),
            auth_secret: None,
            body,
            timeout: Duration::from_secs(30),
            parsed_url: url::Url::parse(url).ok(),
            message_id: message_id.to_string(),
            timestamp_secs: jiff::Timestamp::now().as_second(),
            signing: None,
        }
    }
}

/// What happened to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub status: Option<u16>,
    pub error_class: Option<ErrorClass>,
    /// A sentence for people: "HTTP 503 Service Unavailable", "Connection refused by 127.0.0.1:9".
    pub error: Option<String>,
    pub duration_ms: u64,
    pub excerpt: String,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    pub retry_after: Option<Duration>,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.error_class.is_none() && self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// What the outbox does next with a delivery after an outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Delivered,
    Retry,
    Final,
    /// 410 Gone: final, and the webhook is disabled.
    FinalAndDisable,
}

pub fn verdict(o: &Outcome) -> Verdict {
    if o.success() {
        return Verdict::Delivered;
    }
    match (o.error_class, o.status) {
        (Some(ErrorClass::Config), _) => Verdict::Final,
        (_, Some(410)) => Verdict::FinalAndDisable,
        (_, Some(408 | 429)) => Verdict::Retry,
        (_, Some(s)) if s >= 500 => Verdict::Retry,
        (_, Some(_)) => Verdict::Final, // 3xx (not followed) and other 4xx
        (Some(_), None) => Verdict::Retry, // network: DNS, refused, TLS, timeout
        (None, None) => Verdict::Final,
    }
}

/// Reused HTTP clients: one per TLS mode, plus one per custom CA (connection pooling), each
/// with at most `http_client::MAX_CONNECTIONS_PER_HOST` connections per host.
pub struct Deliverer {
    factory: ClientFactory,
    standard: HttpClient,
    insecure: HttpClient,
    with_ca: Mutex<HashMap<String, HttpClient>>,
    /// Bodies longer than this are not read further (status replies are small).
    pub max_body_bytes: usize,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").finish_non_exhaustive()
    }
}

impl Deliverer {
    pub fn new() -> Result<Deliverer, String> {
        Self::with_factory(ClientFactory::new())
    }

    /// A deliverer whose clients come from `factory` (tests: a proxy, a smaller connection cap).
    pub fn with_factory(factory: ClientFactory) -> Result<Deliverer, String> {
        let standard = factory.client(Trust::System)?;
        let insecure = factory.client(Trust::AnyCertificate)?;
        Ok(Deliverer {
            factory,
            standard,
            insecure,
            with_ca: Mutex::new(HashMap::new()),
            max_body_bytes: 64 * 1024,
        })
    }

    fn client(&self, insecure: bool, ca_pem: Option<&str>) -> Result<HttpClient, String> {
        if insecure {
            return Ok(self.insecure.clone());
        }
        let Some(pem) = ca_pem.filter(|p| !p.trim().is_empty()) else {
            return Ok(self.standard.clone());
        };
        let mut cache = self.with_ca.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.get(pem) {
            return Ok(c.clone());
        }
        let certs = crate::http_client::parse_pem_certificates(pem)
            .map_err(|e| format!("the CA certificate is not valid PEM: {e}"))?;
        let client = self.factory.client(Trust::WithCa(&certs))?;
        cache.insert(pem.to_string(), client.clone());
        Ok(client)
    }

    pub async fn send(&self, req: &Request) -> Outcome {
        self.exchange(req, self.max_body_bytes).await.0
    }

    /// Fetches a calendar feed: a GET with the request's conditional headers, a body of up to
    /// `max_bytes` (a longer one is an error), and the validators of the reply for next time.
    pub async fn fetch_feed(&self, req: &Request, max_bytes: usize) -> FeedReply {
        let (mut outcome, validators) = self.exchange(req, max_bytes).await;
        if outcome.body.len() > max_bytes && outcome.error_class.is_none() {
            outcome.error_class = Some(ErrorClass::Other);
            outcome.error = Some(format!(
                "The feed is bigger than {} MiB; it was not read.",
                max_bytes / (1024 * 1024)
            ));
            outcome.body = Vec::new();
        }
        FeedReply {
            outcome,
            etag: validators.0,
            last_modified: validators.1,
        }
    }

    async fn exchange(&self, req: &Request, limit: usize) -> (Outcome, Validators) {
        let started = Instant::now();
        let fail = |class: ErrorClass, msg: String| Outcome {
            status: None,
            error_class: Some(class),
            error: Some(msg),
            duration_ms: started.elapsed().as_millis() as u64,
            excerpt: String::new(),
            content_type: None,
            body: Vec::new(),
            retry_after: None,
        };
        let client = match self.client(req.insecure, req.ca_pem.as_deref()) {
            Ok(c) => c,
            Err(e) => {
                return (
                    fail(
                        ErrorClass::Config,
                        format!("Cannot prepare the request: {e}"),
                    ),
                    (None, None),
                )
            }
        };
        let mut headers = match build_headers(req) {
            Ok(h) => h,
            Err(e) => return (fail(ErrorClass::Config, e), (None, None)),
        };
        let uri = match &req.parsed_url {
            Some(url) => url.as_str().parse::<http::Uri>(),
            None => req.url.parse::<http::Uri>(),
        };
        let uri = match uri {
            Ok(u) if u.host().is_some() => u,
            _ => {
                return (
                    fail(
                        ErrorClass::Config,
                        format!("The request could not be built: {} is not a URL", req.url),
                    ),
                    (None, None),
                )
            }
        };
        headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        headers.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        if let Some(auth) = self.factory.proxy_authorization(&uri) {
            headers.insert(header::PROXY_AUTHORIZATION, auth);
        }
        match auth_header(req) {
            Ok(Some(value)) => {
                headers.insert(header::AUTHORIZATION, value);
            }
            Ok(None) => {}
            Err(e) => return (fail(ErrorClass::Config, e), (None, None)),
        }
        let method =
            http::Method::from_bytes(req.verb.as_str().as_bytes()).unwrap_or(http::Method::POST);
        // GET carries no body and no Content-Type: many relays and proxies reject a GET with one.
        let body = if req.verb == Verb::Get {
            bytes::Bytes::new()
        } else {
            bytes::Bytes::from(req.body.clone())
        };
        let mut request = http::Request::new(crate::http_client::Body::new(body));
        *request.method_mut() = method;
        *request.uri_mut() = uri.clone();
        *request.headers_mut() = headers;
        let response = match tokio::time::timeout(req.timeout, client.request(request)).await {
            Ok(Ok(r)) => r,
            Ok(Err(e)) => {
                let (class, msg) = classify(&e, req);
                return (fail(class, msg), (None, None));
            }
            Err(_) => {
                return (
                    fail(ErrorClass::Timeout, timed_out_message(req)),
                    (None, None),
                )
            }
        };
        let status = response.status();
        let header = |name: HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let validators = (header(header::ETAG), header(header::LAST_MODIFIED));
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after);
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let (body, body_error) = read_limited(response, limit + 1, req.timeout, started).await;
        let excerpt = String::from_utf8_lossy(&body[..body.len().min(EXCERPT_BYTES)]).into_owned();
        let reason = status.canonical_reason().unwrap_or("");
        let (class, error) = if status.is_success() {
            (None, None)
        } else if status.is_redirection() {
            (
                Some(ErrorClass::Redirect),
                Some(format!(
                    "HTTP {} {reason}: redirect to {} not followed",
                    status.as_u16(),
                    location.as_deref().unwrap_or("(no Location header)")
                )),
            )
        } else {
            (
                Some(ErrorClass::HttpStatus),
                Some(
                    format!("HTTP {} {reason}", status.as_u16())
                        .trim_end()
                        .to_string(),
                ),
            )
        };
        // A 2xx whose body never finished arriving within the timeout is a timeout, not a success.
        let (class, error) = match body_error {
            Some((ErrorClass::Timeout, e)) if class.is_none() => {
                (Some(ErrorClass::Timeout), Some(e))
            }
            _ => (class, error),
        };
        let outcome = Outcome {
            status: Some(status.as_u16()),
            error_class: class,
            error,
            duration_ms: started.elapsed().as_millis() as u64,
            excerpt,
            content_type,
            body,
            retry_after,
        };
        (outcome, validators)
    }
}

/// A reply's `ETag` and `Last-Modified`.
type Validators = (Option<String>, Option<String>);

/// A calendar feed's reply and its validators for the next conditional GET.
#[derive(Debug, Clone)]
pub struct FeedReply {
    pub outcome: Outcome,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

async fn read_limited(
    response: http::Response<hyper::body::Incoming>,
    limit: usize,
    timeout: Duration,
    started: Instant,
) -> (Vec<u8>, Option<(ErrorClass, String)>) {
    let mut body = Vec::new();
    let mut incoming = response.into_body();
    loop {
        let left = timeout.saturating_sub(started.elapsed());
        match tokio::time::timeout(left, incoming.frame()).await {
            Err(_) => {
                return (
                    body,
                    Some((
                        ErrorClass::Timeout,
                        format!("Timed out after {} s reading the reply", timeout.as_secs()),
                    )),
                )
            }
            Ok(Some(Ok(frame))) => {
                let Ok(chunk) = frame.into_data() else {
                    continue; // trailers
                };
                body.extend_from_slice(&chunk);
                if body.len() >= limit {
                    body.truncate(limit);
                    return (body, None);
                }
            }
            Ok(None) => return (body, None),
            Ok(Some(Err(e))) => {
                return (
                    body,
                    Some((ErrorClass::Other, format!("The reply broke off: {e}"))),
                )
            }
        }
    }
}

fn build_headers(req: &Request) -> Result<HeaderMap, String> {
    let mut map = HeaderMap::new();
    if req.verb != Verb::Get {
        map.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
    }
    for (name, value) in &req.headers {
        let n = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| format!("invalid header name {name}"))?;
        let mut v = HeaderValue::from_str(value.expose())
            .map_err(|_| format!("invalid value for header {name}"))?;
        v.set_sensitive(true);
        map.append(n, v);
    }
    // Every webhook request carries the idempotency headers, signed or not (a feed fetch, which
    // has no message id, does not).
    let value =
        |s: &str| HeaderValue::from_str(s).map_err(|_| "invalid webhook header".to_string());
    if req.message_id.is_empty() {
        return Ok(map);
    }
    map.insert("webhook-id", value(&req.message_id)?);
    map.insert("webhook-timestamp", value(&req.timestamp_secs.to_string())?);
    if let Some(secret) = &req.signing {
        let signed_body: &[u8] = if req.verb == Verb::Get {
            &[]
        } else {
            &req.body
        };
        let signature = crate::signing::sign(
            secret.expose(),
            &req.message_id,
            req.timestamp_secs,
            signed_body,
        )
        .map_err(|e| e.message)?;
        map.insert("webhook-signature", value(&signature)?);
    }
    Ok(map)
}

/// The `Authorization` header of HTTP auth (basic or bearer), marked sensitive.
fn auth_header(req: &Request) -> Result<Option<HeaderValue>, String> {
    use base64::Engine as _;
    let text = match (req.auth, &req.auth_secret) {
        (AuthKind::None, _) | (AuthKind::Bearer, None) => return Ok(None),
        (AuthKind::Basic, secret) => {
            let password = secret.as_ref().map(|s| s.expose().as_str()).unwrap_or("");
            let pair = format!("{}:{password}", req.auth_username);
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(pair)
            )
        }
        (AuthKind::Bearer, Some(token)) => format!("Bearer {}", token.expose()),
    };
    let mut value = HeaderValue::from_str(&text).map_err(|_| {
        "the HTTP auth credentials contain characters not allowed in a header".to_string()
    })?;
    value.set_sensitive(true);
    Ok(Some(value))
}

/// `host:port` of a request's URL, for messages.
fn host_of(req: &Request) -> String {
    url::Url::parse(&req.url)
        .ok()
        .map(|u| {
            format!(
                "{}:{}",
                u.host_str().unwrap_or("?"),
                u.port_or_known_default().unwrap_or(0)
            )
        })
        .unwrap_or_else(|| req.url.clone())
}

/// The message of a request that ran out of time (the whole request, or its connect).
fn timed_out_message(req: &Request) -> String {
    format!(
        "Timed out after {} s waiting for {}",
        req.timeout.as_secs(),
        host_of(req)
    )
}

/// Names a transport failure as what it is.
fn classify(e: &hyper_util::client::legacy::Error, req: &Request) -> (ErrorClass, String) {
    let mut chain = Vec::new();
    let mut refused = false;
    let mut timed_out = false;
    let mut busy = None;
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            refused |= io.kind() == std::io::ErrorKind::ConnectionRefused;
            timed_out |= io.kind() == std::io::ErrorKind::TimedOut;
        }
        if let Some(b) = s.downcast_ref::<crate::http_client::AllConnectionsBusy>() {
            busy = Some(b.to_string());
        }
        chain.push(s.to_string());
        source = s.source();
    }
    // The client's own wrapper ("client error (Connect)") says nothing to a person.
    let detail_chain = if chain.len() > 1 {
        &chain[1..]
    } else {
        &chain[..]
    };
    let text = chain.join(": ").to_lowercase();
    let host = host_of(req);
    if let Some(busy) = busy {
        return (ErrorClass::Connect, format!("Could not connect: {busy}"));
    }
    if timed_out || text.contains("timed out") {
        return (ErrorClass::Timeout, timed_out_message(req));
    }
    if refused || text.contains("connection refused") {
        return (ErrorClass::Refused, format!("Connection refused by {host}"));
    }
    if text.contains("dns error")
        || text.contains("failed to lookup address")
        || text.contains("name or service not known")
    {
        return (ErrorClass::Dns, format!("DNS lookup failed for {host}"));
    }
    if text.contains("certificate")
        || text.contains("tls")
        || text.contains("handshake")
        || text.contains("ssl")
    {
        let detail = chain.last().cloned().unwrap_or_default();
        return (
            ErrorClass::Tls,
            format!("TLS certificate problem with {host}: {detail}"),
        );
    }
    if e.is_connect() {
        let detail = chain.last().cloned().unwrap_or_default();
        return (
            ErrorClass::Connect,
            format!("Could not connect to {host}: {detail}"),
        );
    }
    (
        ErrorClass::Other,
        format!("Request to {host} failed: {}", detail_chain.join(": ")),
    )
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(status: Option<u16>, class: Option<ErrorClass>) -> Outcome {
        Outcome {
            status,
            error_class: class,
            error: None,
            duration_ms: 0,
            excerpt: String::new(),
            content_type: None,
            body: vec![],
            retry_after: None,
        }
    }

    #[test]
    fn verdicts() {
        use Verdict::*;
        let cases = [
            (Some(200), None, Delivered),
            (Some(204), None, Delivered),
            (Some(302), Some(ErrorClass::Redirect), Final),
            (Some(400), Some(ErrorClass::HttpStatus), Final),
            (Some(404), Some(ErrorClass::HttpStatus), Final),
            (Some(408), Some(ErrorClass::HttpStatus), Retry),
            (Some(410), Some(ErrorClass::HttpStatus), FinalAndDisable),
            (Some(429), Some(ErrorClass::HttpStatus), Retry),
            (Some(500), Some(ErrorClass::HttpStatus), Retry),
            (Some(503), Some(ErrorClass::HttpStatus), Retry),
            (None, Some(ErrorClass::Refused), Retry),
            (None, Some(ErrorClass::Timeout), Retry),
            (None, Some(ErrorClass::Tls), Retry),
            (None, Some(ErrorClass::Dns), Retry),
            (None, Some(ErrorClass::Config), Final),
        ];
        for (status, class, want) in cases {
            assert_eq!(
                verdict(&outcome(status, class)),
                want,
                "{status:?} {class:?}"
            );
        }
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("120"), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
