//! Why this exists: a station must follow the facility's calendar without anyone clicking (§7).
//! The app's background worker (and `interlock-station feeds sync`) fetches each enabled feed when
//! its refresh interval has passed: a conditional GET (ETag / If-Modified-Since, so an unchanged
//! feed costs no parse), at most 10 MiB within 30 s, TLS as the feed asks; the reply is parsed off
//! the async workers and reconciled in one transaction. A failure keeps the last good bookings
//! and is named as webhook failures are; the desktop hears of it on the transition only.

use crate::delivery::{Deliverer, Request};
use crate::error::{CoreError, CoreResult};
use crate::feed::{
    Feed, FETCH_TIMEOUT_SECS, HORIZON_AHEAD_DAYS, HORIZON_BACK_DAYS, MAX_FEED_BYTES,
};
use crate::ical::{FeedLimits, Horizon};
use crate::station::feeds::SyncReport;
use crate::station::Station;
use crate::webhook::Verb;
use jiff::{SignedDuration, Timestamp};
use std::sync::Arc;
use std::time::Duration;

/// The range a sync keeps occurrences for: from a day back to 90 days ahead.
pub fn horizon(now: Timestamp) -> Horizon {
    Horizon {
        from: now - SignedDuration::from_hours(24 * HORIZON_BACK_DAYS),
        to: now + SignedDuration::from_hours(24 * HORIZON_AHEAD_DAYS),
    }
}

/// The station's time zone (floating and all-day times are read in it), as an IANA name.
pub fn local_zone_name() -> String {
    jiff::tz::TimeZone::system()
        .iana_name()
        .unwrap_or("UTC")
        .to_string()
}

/// Fetches, parses and applies one feed now, whatever its interval. A feed that cannot be
/// fetched or parsed is recorded as failing (its bookings stay) and the error is returned.
pub async fn sync_feed(
    station: &Arc<Station>,
    deliverer: &Deliverer,
    feed_id: &str,
) -> CoreResult<SyncReport> {
    let (feed, secret, validators) = {
        let s = station.clone();
        let id = feed_id.to_string();
        // The keyring may wait on an unlock prompt: off the async workers, no lock held.
        tokio::task::spawn_blocking(move || -> CoreResult<_> {
            let Some((feed, secret)) = s.feed_for_sync(&id)? else {
                return Err(CoreError::not_found("The feed"));
            };
            let validators = s.feed_validators(&id)?;
            Ok((feed, secret, validators))
        })
        .await
        .map_err(|e| CoreError::internal(format!("a feed task failed: {e}")))??
    };
    let mut headers = Vec::new();
    if let Some(etag) = &validators.0 {
        headers.push(("If-None-Match".to_string(), etag.clone().into()));
    }
    if let Some(modified) = &validators.1 {
        headers.push(("If-Modified-Since".to_string(), modified.clone().into()));
    }
    headers.push((
        "Accept".to_string(),
        "text/calendar, text/plain;q=0.5, */*;q=0.1"
            .to_string()
            .into(),
    ));
    let request = Request {
        verb: Verb::Get,
        url: feed.url.clone(),
        insecure: feed.insecure,
        ca_pem: feed.ca_pem.clone(),
        headers,
        auth: feed.auth,
        auth_username: feed.auth_username.clone(),
        auth_secret: secret,
        body: Vec::new(),
        timeout: Duration::from_secs(FETCH_TIMEOUT_SECS),
        message_id: String::new(),
        timestamp_secs: 0,
        signing: None,
        parsed_url: None,
    };
    let reply = deliverer.fetch_feed(&request, MAX_FEED_BYTES).await;
    let o = reply.outcome;
    if o.status == Some(304) {
        return db(station, move |s| s.record_feed_unchanged(&feed)).await;
    }
    if let (Some(class), Some(error)) = (o.error_class, o.error.clone()) {
        let message = format!("{error} ({})", crate::webhook::mask_url(&feed.url));
        let f = feed.clone();
        let m = message.clone();
        db(station, move |s| {
            s.record_feed_failure(&f, class.as_str(), &m)
        })
        .await?;
        return Err(CoreError::new(
            crate::error::ErrorCode::Validation,
            format!("{}: {message}", feed.name),
        ));
    }
    let text = match String::from_utf8(o.body) {
        Ok(t) => t,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    let validators = (reply.etag, reply.last_modified);
    let station2 = station.clone();
    tokio::task::spawn_blocking(move || {
        let now = station2.now();
        let h = horizon(now);
        match crate::ical::parse_feed(&text, &h, &local_zone_name(), &FeedLimits::default()) {
            Ok(parsed) => station2.apply_feed(&feed, parsed, &h, validators),
            Err(e) => {
                let message = format!("The feed could not be read: {e}");
                station2.record_feed_failure(&feed, "parse", &message)?;
                Err(CoreError::validation(format!("{}: {message}", feed.name)))
            }
        }
    })
    .await
    .map_err(|e| CoreError::internal(format!("a feed task failed: {e}")))?
}

/// "Sync now" from the window: staff and administrators only, checked before anything is
/// fetched.
pub async fn sync_feed_as_actor(
    station: &Arc<Station>,
    deliverer: &Deliverer,
    feed_id: &str,
) -> CoreResult<SyncReport> {
    db(station, |s| {
        s.actor(crate::roles::Permission::ManageSchedule).map(drop)
    })
    .await?;
    sync_feed(station, deliverer, feed_id).await
}

async fn db<T, F>(station: &Arc<Station>, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Station) -> CoreResult<T> + Send + 'static,
{
    let s = station.clone();
    tokio::task::spawn_blocking(move || work(&s))
        .await
        .map_err(|e| CoreError::internal(format!("a feed task failed: {e}")))?
}

/// Syncs every enabled feed once (`feeds sync`): one result per feed, in name order.
pub async fn sync_all(
    station: &Arc<Station>,
    deliverer: &Deliverer,
) -> CoreResult<Vec<(String, CoreResult<SyncReport>)>> {
    let ids = db(station, |s| s.enabled_feeds()).await?;
    let mut results = Vec::new();
    for id in ids {
        let r = sync_feed(station, deliverer, &id).await;
        results.push((id, r));
    }
    Ok(results)
}

/// The app's feed worker: every 15 s, syncs each enabled feed whose interval has passed (on the
/// station's clock), whether or not a window is open. Runs until the process ends.
pub async fn run_worker(station: Arc<Station>, deliverer: Arc<Deliverer>) {
    let mut tick = tokio::time::interval(Duration::from_secs(15));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let saved = station.feeds_signal.clone();
    loop {
        // A saved feed is synced at once (it is due: never tried, or its address changed).
        tokio::select! {
            _ = tick.tick() => {}
            _ = saved.notified() => {}
        }
        let due = match db(&station, |s| s.due_feeds()).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("calendar feeds: {}", e.message);
                continue;
            }
        };
        for id in due {
            // Failures are recorded on the feed and logged by the sync itself.
            let _ = sync_feed(&station, &deliverer, &id).await;
        }
    }
}

/// Whether a feed's last sync needs the staff's attention (for the tray and the agent status).
pub fn needs_attention(f: &Feed) -> bool {
    f.enabled && f.status.failing
}
