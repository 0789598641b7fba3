//! Why this exists: the facility system marks interlocked instruments with the tag `has_interlock`
//! or `has_interlock:<lead>:<post>`. Parsing and validating tags lives here so the tag editor, the
//! store and the interlock gating all read a tag the same way.

use crate::error::{CoreError, CoreResult};
use serde::Serialize;

pub const INTERLOCK_TAG: &str = "has_interlock";
pub const DEFAULT_LEAD_MINUTES: u32 = 5;
pub const DEFAULT_POST_MINUTES: u32 = 30;
/// A day either side is far beyond any real booking margin and keeps arithmetic safe.
pub const MAX_MARGIN_MINUTES: u32 = 1440;
pub const MAX_TAG_LEN: usize = 64;
pub const MAX_TAGS: usize = 32;

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
    let ok_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
    if let Some(bad) = tag.chars().find(|c| !ok_char(*c)) {
        return Err(CoreError::validation(format!(
            "Tag '{tag}' contains '{bad}'; tags may use letters, digits, '_', '-', '.' and ':'."
        )));
    }
    Ok(())
}

/// Validates and normalises a service's tag list: trims, drops empty entries, rejects duplicates
/// and malformed tags, and allows at most one interlock tag. Returns the tags to store and the
/// interlock window if the service has one.
pub fn normalize_tags(tags: &[String]) -> CoreResult<(Vec<String>, Option<InterlockWindow>)> {
    let mut out: Vec<String> = Vec::new();
    let mut window = None;
    for raw in tags {
        let tag = raw.trim();
        if tag.is_empty() {
            continue;
        }
        if tag.chars().count() > MAX_TAG_LEN {
            return Err(CoreError::validation(format!(
                "Tag '{tag}' is longer than {MAX_TAG_LEN} characters."
            )));
        }
        validate_plain_tag(tag)?;
        if out.iter().any(|t| t == tag) {
            return Err(CoreError::validation(format!(
                "Tag '{tag}' is listed twice."
            )));
        }
        if let Some(w) = parse_interlock_tag(tag)? {
            if window.is_some() {
                return Err(CoreError::validation(
                    "A service can carry only one has_interlock tag.",
                ));
            }
            window = Some(w);
        }
        out.push(tag.to_string());
    }
    if out.len() > MAX_TAGS {
        return Err(CoreError::validation(format!(
            "A service can carry at most {MAX_TAGS} tags."
        )));
    }
    Ok((out, window))
}

/// The interlock window of stored tags (already validated); malformed tags count as absent.
pub fn interlock_window(tags: &[String]) -> Option<InterlockWindow> {
    tags.iter()
        .find_map(|t| parse_interlock_tag(t).ok().flatten())
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
}
