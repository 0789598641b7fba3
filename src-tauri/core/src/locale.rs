//! Why this exists: the station's OS locale decides how times read (a Utah facility reads
//! `9:37 AM`, a Berlin one `09:37`, `12/03/2026` against `03.12.2026`). The window formats with
//! `Intl` in the locale reported here; what Rust itself writes for people (the CLI, the tray, log
//! and audit sentences) goes through [`LocalTimes`], whose conventions come from the glibc locale
//! data packaged by `pure-rust-locales` (no C library locale needs to be installed).

use std::sync::OnceLock;

use jiff::{tz::TimeZone, Timestamp, ZonedDateTime};
use pure_rust_locales::{locale_match, Locale};

/// The OS locale for dates and times as a BCP 47 tag (`en-US`, `de-DE`). On Linux and the BSDs
/// `LC_ALL`, then `LC_TIME`, then `LANG` decide, as for every C program; elsewhere the OS's
/// regional format (Windows' user locale, macOS's). The C/POSIX locale (or none) reads as
/// [`C_LOCALE`]: English names on a 24-hour clock, as the C library itself writes times.
pub fn os_locale() -> String {
    #[cfg(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    ))]
    {
        for var in ["LC_ALL", "LC_TIME", "LANG"] {
            if let Ok(value) = std::env::var(var) {
                if let Some(tag) = posix_to_bcp47(&value) {
                    return tag;
                }
                if !value.is_empty() {
                    return C_LOCALE.into(); // "C", "C.UTF-8" or "POSIX"
                }
            }
        }
        C_LOCALE.into()
    }
    #[cfg(not(all(
        unix,
        not(any(target_os = "macos", target_os = "ios", target_os = "android"))
    )))]
    {
        sys_locale::get_locale()
            .and_then(|l| posix_to_bcp47(&l))
            .unwrap_or_else(|| C_LOCALE.into())
    }
}

/// What the C/POSIX locale (or no locale at all) reads as: English, 24-hour.
pub const C_LOCALE: &str = "en-GB";

/// `de_DE.UTF-8@euro` → `de-DE`; `en-US` stays; `C`/`POSIX`/empty → `None`.
pub fn posix_to_bcp47(value: &str) -> Option<String> {
    let base = value.split(['.', '@']).next().unwrap_or("").trim();
    if base.is_empty() || base == "C" || base == "POSIX" {
        return None;
    }
    let mut parts = base.split(['_', '-']);
    let language = parts.next()?.to_ascii_lowercase();
    if !(2..=3).contains(&language.len()) || !language.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    match parts.next() {
        Some(region) if !region.is_empty() && region.chars().all(|c| c.is_ascii_alphanumeric()) => {
            Some(format!("{language}-{}", region.to_ascii_uppercase()))
        }
        _ => Some(language),
    }
}

/// How one locale writes dates and times, for the sentences Rust makes.
#[derive(Debug, Clone)]
pub struct LocalTimes {
    /// Numeric date pattern (`%m/%d/%Y`, `%d.%m.%Y`), the locale's `D_FMT`.
    date_pattern: String,
    /// `AM`/`PM` words when the locale's clock is 12-hour, `None` for a 24-hour clock.
    am_pm: Option<[&'static str; 2]>,
}

impl LocalTimes {
    /// The OS locale's conventions, read once.
    pub fn os() -> &'static LocalTimes {
        static OS: OnceLock<LocalTimes> = OnceLock::new();
        OS.get_or_init(|| LocalTimes::for_tag(&os_locale()))
    }

    /// The conventions of a BCP 47 or POSIX locale name; unknown locales read like en-US.
    pub fn for_tag(tag: &str) -> LocalTimes {
        let base = tag.split(['.', '@']).next().unwrap_or("").replace('-', "_");
        let locale = Locale::try_from(base.as_str())
            .or_else(|_| {
                // A bare language ("de"): its first country in the data.
                let lang = base.split('_').next().unwrap_or("");
                Locale::try_from(format!("{lang}_{}", lang.to_ascii_uppercase()).as_str())
            })
            .unwrap_or(Locale::en_US);
        let t_fmt = locale_match!(locale => LC_TIME::T_FMT);
        let am_pm = locale_match!(locale => LC_TIME::AM_PM);
        let twelve_hour = ["%r", "%I", "%l"].iter().any(|p| t_fmt.contains(p));
        let date_pattern = locale_match!(locale => LC_TIME::D_FMT);
        // Only numeric dates: names would need the locale's grammar too; keep it unambiguous.
        let numeric = date_pattern
            .split('%')
            .skip(1)
            .all(|d| matches!(d.chars().next(), Some('d' | 'm' | 'Y' | 'y' | 'e' | 'F')));
        LocalTimes {
            // Four-digit years always ("29/10/25" reads three ways).
            date_pattern: if numeric {
                date_pattern.replace("%y", "%Y")
            } else {
                "%Y-%m-%d".into()
            },
            am_pm: match am_pm {
                [am, pm] if twelve_hour && !am.is_empty() => Some([am, pm]),
                _ => None,
            },
        }
    }

    /// True when the locale uses a 12-hour clock.
    pub fn twelve_hour(&self) -> bool {
        self.am_pm.is_some()
    }

    /// `9:37 AM` or `09:37`, in the station's time zone.
    pub fn time(&self, t: Timestamp) -> String {
        self.clock(&t.to_zoned_datetime(TimeZone::system()), false)
    }

    /// `9:37:05 AM` or `09:37:05`.
    pub fn time_seconds(&self, t: Timestamp) -> String {
        self.clock(&t.to_zoned_datetime(TimeZone::system()), true)
    }

    /// `12/03/2026` or `03.12.2026`.
    pub fn date(&self, t: Timestamp) -> String {
        self.day(&t.to_zoned_datetime(TimeZone::system()))
    }

    fn day(&self, z: &ZonedDateTime) -> String {
        z.strftime(&self.date_pattern).to_string()
    }

    /// `12/03/2026 9:37 AM` or `03.12.2026 09:37`.
    pub fn date_time(&self, t: Timestamp) -> String {
        format!("{} {}", self.date(t), self.time(t))
    }

    /// `12/03/2026 9:37:05 AM` or `03.12.2026 09:37:05`.
    pub fn date_time_seconds(&self, t: Timestamp) -> String {
        format!("{} {}", self.date(t), self.time_seconds(t))
    }

    fn clock(&self, z: &ZonedDateTime, seconds: bool) -> String {
        let (h, m, s) = (z.hour(), z.minute(), z.second());
        let secs = if seconds {
            format!(":{s:02}")
        } else {
            String::new()
        };
        match self.am_pm {
            Some([am, pm]) => {
                let h12 = if h % 12 == 0 { 12 } else { h % 12 };
                format!("{h12}:{m:02}{secs} {}", if h < 12 { am } else { pm })
            }
            None => format!("{h:02}:{m:02}{secs}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn posix_names_become_bcp47_tags() {
        assert_eq!(posix_to_bcp47("de_DE.UTF-8").as_deref(), Some("de-DE"));
        assert_eq!(
            posix_to_bcp47("ca_ES.UTF-8@valencia").as_deref(),
            Some("ca-ES")
        );
        assert_eq!(posix_to_bcp47("en-US").as_deref(), Some("en-US"));
        assert_eq!(posix_to_bcp47("fr").as_deref(), Some("fr"));
        assert_eq!(posix_to_bcp47("C.UTF-8"), None);
        assert_eq!(posix_to_bcp47("POSIX"), None);
        assert_eq!(posix_to_bcp47(""), None);
    }

    #[test]
    fn us_english_reads_a_12_hour_clock_and_month_first() {
        let us = LocalTimes::for_tag("en-US");
        assert!(us.twelve_hour());
        assert_eq!(us.date_pattern, "%m/%d/%Y");
        assert_eq!(us.am_pm, Some(["AM", "PM"]));
    }

    #[test]
    fn german_reads_24_hours_and_day_first() {
        let de = LocalTimes::for_tag("de_DE.UTF-8");
        assert!(!de.twelve_hour());
        assert_eq!(de.date_pattern, "%d.%m.%Y");
        let de = LocalTimes::for_tag("de");
        assert_eq!(de.date_pattern, "%d.%m.%Y");
    }

    fn denver(iso: &str) -> ZonedDateTime {
        let t: Timestamp = iso.parse().unwrap();
        t.in_tz("America/Denver").unwrap()
    }

    #[test]
    fn times_read_in_each_locales_clock() {
        let us = LocalTimes::for_tag("en-US");
        let de = LocalTimes::for_tag("de-DE");
        let morning = denver("2026-12-03T16:37:05Z"); // 09:37:05 in Denver
        let evening = denver("2026-12-04T02:05:00Z"); // 19:05 on 3 Dec
        let midnight = denver("2026-12-04T07:00:00Z"); // 00:00 on 4 Dec
        assert_eq!(us.clock(&morning, false), "9:37 AM");
        assert_eq!(us.clock(&morning, true), "9:37:05 AM");
        assert_eq!(us.clock(&evening, false), "7:05 PM");
        assert_eq!(us.clock(&midnight, false), "12:00 AM");
        assert_eq!(de.clock(&morning, false), "09:37");
        assert_eq!(de.clock(&evening, true), "19:05:00");
        assert_eq!(us.day(&evening), "12/03/2026");
        assert_eq!(de.day(&evening), "03.12.2026");
        assert_eq!(de.day(&midnight), "04.12.2026");
    }

    #[test]
    fn two_digit_years_become_four_and_the_c_locale_reads_24_hours() {
        let gb = LocalTimes::for_tag("en_GB.UTF-8");
        assert_eq!(gb.date_pattern, "%d/%m/%Y");
        assert!(!gb.twelve_hour());
        assert!(!LocalTimes::for_tag(C_LOCALE).twelve_hour());
    }

    #[test]
    fn an_unknown_locale_reads_like_us_english() {
        assert!(LocalTimes::for_tag("xx-YY").twelve_hour());
    }
}
