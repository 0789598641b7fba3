//! Why this exists: the facility system marks interlocked instruments with the tag `has_interlock`
//! or `has_interlock:<lead>:<post>`, and its Manual Tag Wizard offers three more interlock tags:
//! `set_end_on_lock` / `trim_end_on_lock` (a lock moves the booking's end to the lock time) and
//! `post_lock:<url>` (after a lock the panel links to a follow-up page). Parsing and validating
//! tags lives here so the tag editor, the store, the import and the interlock all read a tag the
//! same way. A `post_lock` URL is the one tag that may hold `/`, `?` and the like: it has its own
//! rule (http or https only, at most 2,000 characters, known placeholders after the host).

use crate::error::{CoreError, CoreResult};
use serde::Serialize;

pub const INTERLOCK_TAG: &str = "has_interlock";
pub const DEFAULT_LEAD_MINUTES: u32 = 5;
pub const DEFAULT_POST_MINUTES: u32 = 30;
/// A day either side is far beyond any real booking margin and keeps arithmetic safe.
pub const MAX_MARGIN_MINUTES: u32 = 1440;
pub const MAX_TAG_LEN: usize = 64;
pub const MAX_TAGS: usize = 32;
pub const SET_END_ON_LOCK_TAG: &str = "set_end_on_lock";
pub const TRIM_END_ON_LOCK_TAG: &str = "trim_end_on_lock";
pub const POST_LOCK_TAG: &str = "post_lock";
/// The URL of a `post_lock:<url>` tag, placeholders included, is at most this many characters.
pub const MAX_POST_LOCK_URL_LEN: usize = 2000;
/// What a `post_lock` URL may name in braces; filled in, URL-encoded, after a lock.
pub const POST_LOCK_PLACEHOLDERS: [&str; 4] = ["event_id", "order_id", "service", "username"];

/// How a lock moves the end of the booking it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum EndOnLock {
    /// `set_end_on_lock`: the end becomes the lock time, earlier or later than scheduled.
    Set,
    /// `trim_end_on_lock`: only when the lock is earlier than the scheduled end.
    Trim,
}

impl EndOnLock {
    pub fn tag(self) -> &'static str {
        match self {
            EndOnLock::Set => SET_END_ON_LOCK_TAG,
            EndOnLock::Trim => TRIM_END_ON_LOCK_TAG,
        }
    }
}

/// Everything a service's tags say about its interlock.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TagMeaning {
    pub interlock: Option<InterlockWindow>,
    pub end_on_lock: Option<EndOnLock>,
    /// The `post_lock` URL template, with its placeholders.
    pub post_lock: Option<String>,
}

/// When an instrument user may use the interlock: from `lead` minutes before the booking starts
/// until `post` minutes after it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, specta::Type)]
pub struct InterlockWindow {
    pub lead_minutes: u32,
    pub post_minutes: u32,
}

impl Default for InterlockWindow {
    fn default() -> Self {
        Self {
            lead_minutes: DEFAULT_LEAD_MINUTES,
            post_minutes: DEFAULT_POST_MINUTES,
        }
    }
}

impl InterlockWindow {
    /// The tag text the facility system understands; the short form when the defaults apply.
    pub fn to_tag(self) -> String {
        if self == InterlockWindow::default() {
            INTERLOCK_TAG.to_string()
        } else {
            format!(
                "{INTERLOCK_TAG}:{}:{}",
                self.lead_minutes, self.post_minutes
            )
        }
    }
}

fn parse_minutes(part: &str, which: &str, tag: &str) -> CoreResult<u32> {
    if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CoreError::validation(format!(
            "Tag '{tag}': {which} minutes must be a whole number of minutes, got '{part}'."
        )));
    }
    let value: u32 = part.parse().map_err(|_| {
        CoreError::validation(format!(
            "Tag '{tag}': {which} minutes '{part}' is too large."
        ))
    })?;
    if value > MAX_MARGIN_MINUTES {
        return Err(CoreError::validation(format!(
            "Tag '{tag}': {which} minutes must be at most {MAX_MARGIN_MINUTES}, got {value}."
        )));
    }
    Ok(value)
}

/// Parses one `has_interlock` tag. `Ok(None)` means the tag is some other tag.
pub fn parse_interlock_tag(tag: &str) -> CoreResult<Option<InterlockWindow>> {
    if tag == INTERLOCK_TAG {
        return Ok(Some(InterlockWindow::default()));
    }
    let Some(rest) = tag.strip_prefix(INTERLOCK_TAG) else {
        return Ok(None);
    };
    let Some(params) = rest.strip_prefix(':') else {
        // e.g. "has_interlocks": not ours, but confusingly close.
        return Err(CoreError::validation(format!(
            "Tag '{tag}' looks like '{INTERLOCK_TAG}' but is not; use '{INTERLOCK_TAG}' or '{INTERLOCK_TAG}:<lead>:<post>'."
        )));
    };
    let parts: Vec<&str> = params.split(':').collect();
    if parts.len() != 2 {
        return Err(CoreError::validation(format!(
            "Tag '{tag}' must be '{INTERLOCK_TAG}' or '{INTERLOCK_TAG}:<lead>:<post>' (two numbers of minutes)."
        )));
    }
    Ok(Some(InterlockWindow {
        lead_minutes: parse_minutes(parts[0], "lead", tag)?,
        post_minutes: parse_minutes(parts[1], "post", tag)?,
    }))
}

fn validate_plain_tag(tag: &str) -> CoreResult<()> {
    if tag.chars().count() > MAX_TAG_LEN {
        return Err(CoreError::validation(format!(
            "Tag '{tag}' is longer than {MAX_TAG_LEN} characters."
        )));
    }
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    if let Some(bad) = tag.chars().find(|c| !ok_char(*c)) {
        return Err(CoreError::validation(format!(
            "Tag '{tag}' contains '{bad}'; tags may use letters, digits, '_', '-', '.' and ':' \
             (only a {POST_LOCK_TAG}:<url> tag holds a URL)."
        )));
    }
    Ok(())
}

/// A tag shown in a message: a long URL is cut so the message stays readable.
fn shown(tag: &str) -> String {
    if tag.chars().count() <= 80 {
        tag.to_string()
    } else {
        format!("{}…", tag.chars().take(79).collect::<String>())
    }
}

/// The placeholders of a URL template in order, or why the braces are wrong.
fn placeholders(url: &str, tag: &str) -> CoreResult<Vec<(usize, usize)>> {
    let known = POST_LOCK_PLACEHOLDERS
        .iter()
        .map(|p| format!("{{{p}}}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut found = Vec::new();
    let mut rest = 0;
    while let Some(open) = url[rest..].find(['{', '}']).map(|i| i + rest) {
        let close = match url.as_bytes()[open] {
            b'{' => url[open..].find('}').map(|i| i + open),
            _ => None,
        };
        let name = close.map(|c| &url[open + 1..c]);
        match name {
            Some(n) if POST_LOCK_PLACEHOLDERS.contains(&n) => {
                let end = open + n.len() + 2;
                found.push((open, end));
                rest = end;
            }
            Some(n) if !n.contains('{') => {
                return Err(CoreError::validation(format!(
                    "Tag '{}': unknown placeholder {{{n}}}; a {POST_LOCK_TAG} URL may use {known}.",
                    shown(tag)
                )));
            }
            _ => {
                return Err(CoreError::validation(format!(
                    "Tag '{}': braces may only enclose a placeholder ({known}).",
                    shown(tag)
                )));
            }
        }
    }
    Ok(found)
}

/// Checks a `post_lock` URL template: http or https only, at most 2,000 characters with its
/// placeholders, printable ASCII without spaces, a host, and placeholders only after the host
/// (a filled-in value can change the path or the query, never where the link goes).
pub fn validate_post_lock_url(url: &str) -> CoreResult<()> {
    let tag = format!("{POST_LOCK_TAG}:{url}");
    let rule = "only http:// and https:// links are allowed";
    if url.is_empty() {
        return Err(CoreError::validation(format!(
            "Tag '{POST_LOCK_TAG}:' needs a URL after the colon ({rule})."
        )));
    }
    let len = url.chars().count();
    if len > MAX_POST_LOCK_URL_LEN {
        return Err(CoreError::validation(format!(
            "Tag '{}': the URL is {len} characters; a {POST_LOCK_TAG} URL may have at most \
             {MAX_POST_LOCK_URL_LEN} characters, placeholders included.",
            shown(&tag)
        )));
    }
    let lower = url.to_ascii_lowercase();
    let scheme_len = if lower.starts_with("https://") {
        8
    } else if lower.starts_with("http://") {
        7
    } else {
        let scheme = url.split(':').next().unwrap_or("");
        let got = if url.contains(':') && !scheme.is_empty() {
            format!("the scheme '{scheme}:'")
        } else {
            "no scheme".to_string()
        };
        return Err(CoreError::validation(format!(
            "Tag '{}': the URL has {got}; {rule} in a {POST_LOCK_TAG} tag.",
            shown(&tag)
        )));
    };
    if let Some(bad) = url
        .chars()
        .find(|c| !c.is_ascii_graphic() || matches!(c, '"' | '<' | '>' | '\\' | '^' | '`' | '|'))
    {
        let what = match bad {
            ' ' => "a space".to_string(),
            c if c.is_control() => "a control character".to_string(),
            c => format!("'{c}'"),
        };
        return Err(CoreError::validation(format!(
            "Tag '{}': the URL contains {what}; percent-encode it (a {POST_LOCK_TAG} URL is \
             printable ASCII without spaces).",
            shown(&tag)
        )));
    }
    let spans = placeholders(url, &tag)?;
    let authority_end = url[scheme_len..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| i + scheme_len);
    let authority = &url[scheme_len..authority_end];
    if authority.is_empty() || authority.starts_with(':') {
        return Err(CoreError::validation(format!(
            "Tag '{}': the URL has no host.",
            shown(&tag)
        )));
    }
    if spans.iter().any(|(start, _)| *start < authority_end) {
        return Err(CoreError::validation(format!(
            "Tag '{}': placeholders may appear only after the host (in the path, query or \
             fragment), so a filled-in value cannot change where the link goes.",
            shown(&tag)
        )));
    }
    let sample = fill(url, &spans, |_| "x".to_string());
    check_link(&sample)
        .map_err(|why| CoreError::validation(format!("Tag '{}': {why}", shown(&tag))))?;
    Ok(())
}

fn fill(url: &str, spans: &[(usize, usize)], value: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(url.len());
    let mut at = 0;
    for (start, end) in spans {
        out.push_str(&url[at..*start]);
        out.push_str(&value(&url[start + 1..end - 1]));
        at = *end;
    }
    out.push_str(&url[at..]);
    out
}

/// A link the station may open: an absolute http or https URL with a host. Returns it as the
/// browser will receive it.
pub fn check_link(link: &str) -> Result<String, String> {
    let parsed =
        url::Url::parse(link).map_err(|e| format!("the URL is not a valid link ({e})."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(format!(
            "the URL has the scheme '{}:'; only http:// and https:// links are allowed.",
            parsed.scheme()
        ));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("the URL has no host.".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("the URL may not carry a user name or password.".into());
    }
    Ok(parsed.to_string())
}

/// Percent-encodes everything but the unreserved characters (RFC 3986 §2.3).
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The values a `post_lock` URL's placeholders are filled with.
#[derive(Debug, Clone, Default)]
pub struct PostLockValues<'a> {
    pub event_id: &'a str,
    pub order_id: &'a str,
    pub service: &'a str,
    pub username: &'a str,
}

/// Fills a stored `post_lock` template (URL-encoding each value) and checks the result again:
/// the link is only ever opened after this.
pub fn render_post_lock(template: &str, values: &PostLockValues<'_>) -> CoreResult<String> {
    validate_post_lock_url(template)?;
    let spans = placeholders(template, template)?;
    let link = fill(template, &spans, |name| {
        encode(match name {
            "event_id" => values.event_id,
            "order_id" => values.order_id,
            "service" => values.service,
            _ => values.username,
        })
    });
    check_link(&link).map_err(|why| CoreError::validation(format!("The post-lock link: {why}")))
}

/// Parses one tag that belongs to the lock family. `Ok(None)` means it is some other tag.
enum LockTag {
    End(EndOnLock),
    PostLock(String),
}

fn parse_lock_tag(tag: &str) -> CoreResult<Option<LockTag>> {
    for kind in [EndOnLock::Set, EndOnLock::Trim] {
        let name = kind.tag();
        if tag == name {
            return Ok(Some(LockTag::End(kind)));
        }
        if tag.starts_with(name) {
            return Err(CoreError::validation(format!(
                "Tag '{}' looks like '{name}' but is not; '{name}' takes no parameters.",
                shown(tag)
            )));
        }
    }
    if let Some(url) = tag.strip_prefix(&format!("{POST_LOCK_TAG}:")) {
        validate_post_lock_url(url)?;
        return Ok(Some(LockTag::PostLock(url.to_string())));
    }
    if tag.starts_with(POST_LOCK_TAG) {
        return Err(CoreError::validation(format!(
            "Tag '{}' looks like '{POST_LOCK_TAG}' but is not; use '{POST_LOCK_TAG}:<url>'.",
            shown(tag)
        )));
    }
    Ok(None)
}

/// Validates and normalises a service's tag list: trims, drops empty entries, rejects duplicates
/// and malformed tags, and allows at most one interlock tag, one of `set_end_on_lock` /
/// `trim_end_on_lock` and one `post_lock`; the last three need `has_interlock`. Returns the tags
/// to store and the interlock window if the service has one.
pub fn normalize_tags(tags: &[String]) -> CoreResult<(Vec<String>, Option<InterlockWindow>)> {
    let (out, meaning) = normalize_tags_full(tags)?;
    Ok((out, meaning.interlock))
}

/// `normalize_tags`, with everything the tags mean.
pub fn normalize_tags_full(tags: &[String]) -> CoreResult<(Vec<String>, TagMeaning)> {
    let mut out: Vec<String> = Vec::new();
    let mut meaning = TagMeaning::default();
    for raw in tags {
        let tag = raw.trim();
        if tag.is_empty() {
            continue;
        }
        let lock_tag = parse_lock_tag(tag)?;
        if lock_tag.is_none() {
            validate_plain_tag(tag)?;
        }
        if out.iter().any(|t| t == tag) {
            return Err(CoreError::validation(format!(
                "Tag '{}' is listed twice.",
                shown(tag)
            )));
        }
        match lock_tag {
            Some(LockTag::End(kind)) => {
                if meaning.end_on_lock.is_some() {
                    return Err(CoreError::validation(format!(
                        "A service can carry only one of {SET_END_ON_LOCK_TAG} and \
                         {TRIM_END_ON_LOCK_TAG}."
                    )));
                }
                meaning.end_on_lock = Some(kind);
            }
            Some(LockTag::PostLock(url)) => {
                if meaning.post_lock.is_some() {
                    return Err(CoreError::validation(format!(
                        "A service can carry only one {POST_LOCK_TAG} tag."
                    )));
                }
                meaning.post_lock = Some(url);
            }
            None => {
                if let Some(w) = parse_interlock_tag(tag)? {
                    if meaning.interlock.is_some() {
                        return Err(CoreError::validation(
                            "A service can carry only one has_interlock tag.",
                        ));
                    }
                    meaning.interlock = Some(w);
                }
            }
        }
        out.push(tag.to_string());
    }
    if out.len() > MAX_TAGS {
        return Err(CoreError::validation(format!(
            "A service can carry at most {MAX_TAGS} tags."
        )));
    }
    if meaning.interlock.is_none() {
        let lock_only = meaning
            .end_on_lock
            .map(EndOnLock::tag)
            .or(meaning.post_lock.as_ref().map(|_| POST_LOCK_TAG));
        if let Some(name) = lock_only {
            return Err(CoreError::validation(format!(
                "Tag '{name}' acts when the interlock is locked; add {INTERLOCK_TAG} to the \
                 service too."
            )));
        }
    }
    Ok((out, meaning))
}

/// The interlock window of stored tags (already validated); malformed tags count as absent.
pub fn interlock_window(tags: &[String]) -> Option<InterlockWindow> {
    tags.iter()
        .find_map(|t| parse_interlock_tag(t).ok().flatten())
}

/// What stored tags (already validated) say; malformed tags count as absent.
pub fn meaning(tags: &[String]) -> TagMeaning {
    let mut m = TagMeaning {
        interlock: interlock_window(tags),
        ..TagMeaning::default()
    };
    for t in tags {
        match parse_lock_tag(t) {
            Ok(Some(LockTag::End(k))) if m.end_on_lock.is_none() => m.end_on_lock = Some(k),
            Ok(Some(LockTag::PostLock(u))) if m.post_lock.is_none() => m.post_lock = Some(u),
            _ => {}
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn plain_interlock_tag_uses_defaults() {
        let (_, w) = normalize_tags(&tags(&["has_interlock"])).unwrap();
        assert_eq!(
            w,
            Some(InterlockWindow {
                lead_minutes: 5,
                post_minutes: 30
            })
        );
    }

    #[test]
    fn custom_margins_parse() {
        let (t, w) = normalize_tags(&tags(&[" cryo ", "has_interlock:10:0", ""])).unwrap();
        assert_eq!(t, tags(&["cryo", "has_interlock:10:0"]));
        assert_eq!(
            w,
            Some(InterlockWindow {
                lead_minutes: 10,
                post_minutes: 0
            })
        );
    }

    #[test]
    fn no_interlock_tag_means_none() {
        let (_, w) = normalize_tags(&tags(&["confocal", "floor-2"])).unwrap();
        assert_eq!(w, None);
    }

    #[test]
    fn malformed_interlock_tags_are_refused_with_reason() {
        let cases = [
            ("has_interlock:5", "two numbers"),
            ("has_interlock:5:30:1", "two numbers"),
            ("has_interlock:a:30", "lead minutes must be a whole number"),
            ("has_interlock:5:-1", "post minutes must be a whole number"),
            ("has_interlock:5:2000", "at most 1440"),
            ("has_interlock::30", "lead minutes must be a whole number"),
            ("has_interlocks", "looks like"),
        ];
        for (tag, needle) in cases {
            let err = normalize_tags(&tags(&[tag])).unwrap_err();
            assert!(err.message.contains(needle), "{tag}: {}", err.message);
        }
    }

    #[test]
    fn other_rules() {
        assert!(normalize_tags(&tags(&["a b"]))
            .unwrap_err()
            .message
            .contains("contains ' '"));
        assert!(normalize_tags(&tags(&["x", "x"]))
            .unwrap_err()
            .message
            .contains("twice"));
        assert!(
            normalize_tags(&tags(&["has_interlock", "has_interlock:1:1"]))
                .unwrap_err()
                .message
                .contains("only one")
        );
        assert!(normalize_tags(&tags(&[&"x".repeat(65)])).is_err());
    }

    #[test]
    fn window_to_tag_round_trips() {
        for w in [
            InterlockWindow::default(),
            InterlockWindow {
                lead_minutes: 0,
                post_minutes: 15,
            },
        ] {
            assert_eq!(parse_interlock_tag(&w.to_tag()).unwrap(), Some(w));
        }
        assert_eq!(InterlockWindow::default().to_tag(), "has_interlock");
    }

    #[test]
    fn lock_tags_parse() {
        let (t, m) = normalize_tags_full(&tags(&[
            "has_interlock",
            "set_end_on_lock",
            "post_lock:https://logbook.example.org/use?event={event_id}&order={order_id}&svc={service}&who={username}#top",
        ]))
        .unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(m.end_on_lock, Some(EndOnLock::Set));
        assert_eq!(
            m.post_lock.as_deref(),
            Some("https://logbook.example.org/use?event={event_id}&order={order_id}&svc={service}&who={username}#top")
        );
        let (_, m) =
            normalize_tags_full(&tags(&["has_interlock:0:15", "trim_end_on_lock"])).unwrap();
        assert_eq!(m.end_on_lock, Some(EndOnLock::Trim));
        assert_eq!(m.post_lock, None);
        assert_eq!(meaning(&t).end_on_lock, Some(EndOnLock::Set));
        // http, upper-case scheme, a port, a path placeholder.
        for url in [
            "http://10.0.0.5:8080/form/{event_id}",
            "HTTPS://Example.org/",
            "https://example.org",
        ] {
            normalize_tags(&tags(&["has_interlock", &format!("post_lock:{url}")]))
                .unwrap_or_else(|e| panic!("{url}: {}", e.message));
        }
    }

    #[test]
    fn post_lock_url_of_2000_characters_is_accepted_and_2001_refused() {
        let base = "https://example.org/form?event={event_id}&pad=";
        let ok = format!("{base}{}", "a".repeat(MAX_POST_LOCK_URL_LEN - base.len()));
        assert_eq!(ok.len(), 2000);
        normalize_tags(&tags(&["has_interlock", &format!("post_lock:{ok}")])).unwrap();
        let long = format!("{ok}a");
        let err =
            normalize_tags(&tags(&["has_interlock", &format!("post_lock:{long}")])).unwrap_err();
        assert!(
            err.message.contains("at most 2000 characters"),
            "{}",
            err.message
        );
    }

    #[test]
    fn bad_lock_tags_are_refused_with_the_rule() {
        let cases: &[(&str, &str)] = &[
            (
                "post_lock:javascript:alert.1",
                "the scheme 'javascript:'; only http:// and https:// links are allowed",
            ),
            (
                "post_lock:javascript:alert(document.cookie)",
                "only http:// and https:// links",
            ),
            ("post_lock:file:///etc/passwd", "the scheme 'file:'"),
            ("post_lock:data:text/html,hi", "the scheme 'data:'"),
            ("post_lock:ftp://example.org/", "the scheme 'ftp:'"),
            ("post_lock://example.org/", "no scheme"),
            ("post_lock:example.org/form", "no scheme"),
            ("post_lock:", "needs a URL"),
            ("post_lock", "looks like 'post_lock'"),
            ("post_lockhttp://x.org", "looks like 'post_lock'"),
            ("post_lock:https://example.org/a b", "contains a space"),
            ("post_lock:https://example.org/\u{e9}", "contains '\u{e9}'"),
            ("post_lock:https://example.org/<script>", "contains '<'"),
            (
                "post_lock:https://example.org/{user}",
                "unknown placeholder {user}",
            ),
            (
                "post_lock:https://example.org/{event_id",
                "braces may only enclose",
            ),
            (
                "post_lock:https://example.org/event_id}",
                "braces may only enclose",
            ),
            (
                "post_lock:https://{service}.example.org/",
                "only after the host",
            ),
            (
                "post_lock:https://example.org{event_id}/",
                "only after the host",
            ),
            ("post_lock:https:///path", "no host"),
            ("post_lock:https://exa mple.org/", "contains a space"),
            (
                "post_lock:https://user:pw@example.org/",
                "user name or password",
            ),
            ("set_end_on_lock:5", "takes no parameters"),
            ("trim_end_on_locks", "takes no parameters"),
        ];
        for (tag, needle) in cases {
            let err = normalize_tags(&tags(&["has_interlock", tag])).unwrap_err();
            assert!(err.message.contains(needle), "{tag}: {}", err.message);
        }
        let both = normalize_tags(&tags(&[
            "has_interlock",
            "set_end_on_lock",
            "trim_end_on_lock",
        ]))
        .unwrap_err();
        assert!(both
            .message
            .contains("only one of set_end_on_lock and trim_end_on_lock"));
        let two = normalize_tags(&tags(&[
            "has_interlock",
            "post_lock:https://a.example/",
            "post_lock:https://b.example/",
        ]))
        .unwrap_err();
        assert!(two.message.contains("only one post_lock"));
        for lonely in [
            "set_end_on_lock",
            "trim_end_on_lock",
            "post_lock:https://a.example/",
        ] {
            let err = normalize_tags(&tags(&[lonely])).unwrap_err();
            assert!(
                err.message.contains("add has_interlock"),
                "{lonely}: {}",
                err.message
            );
        }
        // Other tags keep the old grammar: a URL is only accepted inside post_lock.
        assert!(normalize_tags(&tags(&["https://example.org/"]))
            .unwrap_err()
            .message
            .contains("contains '/'"));
    }

    #[test]
    fn post_lock_link_fills_placeholders_url_encoded_and_checks_again() {
        let link = render_post_lock(
            "https://logbook.example.org/use/{service}?event={event_id}&order={order_id}&who={username}",
            &PostLockValues {
                event_id: "01JEVENT",
                order_id: "",
                service: "Confocal 2/B&W?",
                username: "uma+o'neil",
            },
        )
        .unwrap();
        assert_eq!(
            link,
            "https://logbook.example.org/use/Confocal%202%2FB%26W%3F?event=01JEVENT&order=&who=uma%2Bo%27neil"
        );
        // A stored template that no longer passes the rule is refused before anything opens.
        let err = render_post_lock("javascript:alert(1)", &PostLockValues::default()).unwrap_err();
        assert!(
            err.message.contains("only http:// and https://"),
            "{}",
            err.message
        );
        assert!(check_link("javascript:alert(1)").is_err());
        assert!(check_link("https://example.org/x").is_ok());
    }
}
