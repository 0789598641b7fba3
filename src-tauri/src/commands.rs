//! Why this exists: the IPC surface of the window. Each command only unpacks its arguments, hands
//! them to the core `Station` (which checks the role and the rules) off the UI thread, and returns
//! the core's `{code, message}` error unchanged.

use crate::state::AppState;
use interlock_core::feed::{Feed, FeedInput};
use interlock_core::interlock::{InterlockAction, InterlockPanel, InterlockResult};
use interlock_core::model::*;
use interlock_core::outbox;
use interlock_core::sensitive::Sensitive;
use interlock_core::station::feeds::SyncReport;
use interlock_core::station::webhooks::WebhookSaved;
use interlock_core::webhook::{Webhook, WebhookInput};
use interlock_core::{CoreError, CoreResult, Station};
use serde::Serialize;
use std::sync::Arc;
use tauri::State;

async fn on_station<T, F>(state: State<'_, AppState>, work: F) -> CoreResult<T>
where
    T: Send + 'static,
    F: FnOnce(&Station) -> CoreResult<T> + Send + 'static,
{
    let station: Arc<Station> = state.station()?;
    tauri::async_runtime::spawn_blocking(move || work(&station))
        .await
        .map_err(|e| CoreError::internal(format!("The operation stopped unexpectedly: {e}")))?
}

#[derive(Debug, Clone, Serialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum StartupState {
    /// No account exists yet: show the first-run screen.
    NeedsSetup,
    /// Ready for sign-in.
    Ready,
    /// The database could not be opened; `error` says why.
    Failed,
}

#[derive(Debug, Clone, Serialize, specta::Type)]
pub struct AppStatus {
    pub state: StartupState,
    pub error: Option<CoreError>,
    pub database_path: String,
    pub version: String,
    /// The OS locale for dates and times (BCP 47, `en-US`): the window formats with it.
    pub locale: String,
}

#[tauri::command]
#[specta::specta]
pub async fn app_status(state: State<'_, AppState>) -> Result<AppStatus, CoreError> {
    let database_path = state.paths.database().display().to_string();
    let version = env!("CARGO_PKG_VERSION").to_string();
    // The database is read on the blocking pool, never on an async worker.
    let setup_required = match state.station() {
        Err(e) => Err(e),
        Ok(station) => tauri::async_runtime::spawn_blocking(move || station.setup_required())
            .await
            .unwrap_or_else(|e| {
                Err(CoreError::internal(format!(
                    "The operation stopped unexpectedly: {e}"
                )))
            }),
    };
    static FIRST: std::sync::Once = std::sync::Once::new();
    FIRST.call_once(|| {
        tracing::info!(
            ms = crate::startup_ms(),
            "first screen's app_status answered"
        )
    });
    let (state, error) = match setup_required {
        Ok(true) => (StartupState::NeedsSetup, None),
        Ok(false) => (StartupState::Ready, None),
        Err(e) => (StartupState::Failed, Some(e)),
    };
    Ok(AppStatus {
        state,
        error,
        database_path,
        version,
        locale: interlock_core::locale::os_locale(),
    })
}

#[tauri::command]
#[specta::specta]
pub async fn create_first_administrator(
    state: State<'_, AppState>,
    input: FirstAdministrator,
) -> Result<Account, CoreError> {
    on_station(state, move |s| s.create_first_administrator(input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_in(
    state: State<'_, AppState>,
    username: String,
    password: Sensitive<String>,
) -> Result<SessionInfo, CoreError> {
    on_station(state, move |s| s.sign_in(&username, password.expose())).await
}

#[tauri::command]
#[specta::specta]
pub async fn sign_out(state: State<'_, AppState>) -> Result<(), CoreError> {
    on_station(state, |s| {
        s.sign_out();
        Ok(())
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn current_session(state: State<'_, AppState>) -> Result<Option<SessionInfo>, CoreError> {
    on_station(state, |s| s.current_session()).await
}

#[tauri::command]
#[specta::specta]
pub async fn touch_session(state: State<'_, AppState>) -> Result<(), CoreError> {
    on_station(state, |s| s.touch()).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_settings(state: State<'_, AppState>) -> Result<Settings, CoreError> {
    on_station(state, |s| s.settings()).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> Result<Settings, CoreError> {
    on_station(state, move |s| s.update_settings(settings)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_accounts(state: State<'_, AppState>) -> Result<Vec<Account>, CoreError> {
    on_station(state, |s| s.list_accounts()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_account(
    state: State<'_, AppState>,
    input: NewAccount,
) -> Result<Account, CoreError> {
    on_station(state, move |s| s.create_account(input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_account(
    state: State<'_, AppState>,
    id: String,
    update: AccountUpdate,
) -> Result<Account, CoreError> {
    on_station(state, move |s| s.update_account(&id, update)).await
}

#[tauri::command]
#[specta::specta]
pub async fn reset_password(
    state: State<'_, AppState>,
    id: String,
    new_password: Sensitive<String>,
) -> Result<(), CoreError> {
    on_station(state, move |s| s.reset_password(&id, new_password.expose())).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_services(state: State<'_, AppState>) -> Result<Vec<Service>, CoreError> {
    on_station(state, |s| s.list_services()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_service(
    state: State<'_, AppState>,
    input: ServiceInput,
) -> Result<Service, CoreError> {
    on_station(state, move |s| s.create_service(input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_service(
    state: State<'_, AppState>,
    id: String,
    input: ServiceInput,
) -> Result<Service, CoreError> {
    on_station(state, move |s| s.update_service(&id, input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_service(state: State<'_, AppState>, id: String) -> Result<(), CoreError> {
    on_station(state, move |s| s.delete_service(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_events(state: State<'_, AppState>) -> Result<Vec<Event>, CoreError> {
    on_station(state, |s| s.list_events()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_event(
    state: State<'_, AppState>,
    input: EventInput,
) -> Result<Event, CoreError> {
    on_station(state, move |s| s.create_event(input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_event(
    state: State<'_, AppState>,
    id: String,
    input: EventInput,
) -> Result<Event, CoreError> {
    on_station(state, move |s| s.update_event(&id, input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_event(state: State<'_, AppState>, id: String) -> Result<(), CoreError> {
    on_station(state, move |s| s.delete_event(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_orders(state: State<'_, AppState>) -> Result<Vec<Order>, CoreError> {
    on_station(state, |s| s.list_orders()).await
}

#[tauri::command]
#[specta::specta]
pub async fn create_order(
    state: State<'_, AppState>,
    input: OrderInput,
) -> Result<Order, CoreError> {
    on_station(state, move |s| s.create_order(input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn update_order(
    state: State<'_, AppState>,
    id: String,
    input: OrderInput,
) -> Result<Order, CoreError> {
    on_station(state, move |s| s.update_order(&id, input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_order(state: State<'_, AppState>, id: String) -> Result<(), CoreError> {
    on_station(state, move |s| s.delete_order(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn station_overview(state: State<'_, AppState>) -> Result<StationOverview, CoreError> {
    on_station(state, |s| s.overview()).await
}

/// Each instrument's bookings and relay state between two instants (RFC 3339), for the day and
/// week timelines.
#[tauri::command]
#[specta::specta]
pub async fn station_timeline(
    state: State<'_, AppState>,
    from: String,
    to: String,
) -> Result<Timeline, CoreError> {
    let parse = |v: &str, what: &str| {
        v.parse::<jiff::Timestamp>()
            .map_err(|e| CoreError::validation(format!("The timeline's {what} is not a time: {e}")))
    };
    let (from, to) = (parse(&from, "start")?, parse(&to, "end")?);
    on_station(state, move |s| s.timeline(from, to)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_webhooks(state: State<'_, AppState>) -> Result<Vec<Webhook>, CoreError> {
    on_station(state, |s| s.list_webhooks()).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_webhook(
    state: State<'_, AppState>,
    id: Option<String>,
    input: WebhookInput,
) -> Result<WebhookSaved, CoreError> {
    on_station(state, move |s| s.save_webhook(id.as_deref(), input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_webhook(state: State<'_, AppState>, id: String) -> Result<(), CoreError> {
    on_station(state, move |s| s.delete_webhook(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_feeds(state: State<'_, AppState>) -> Result<Vec<Feed>, CoreError> {
    on_station(state, |s| s.list_feeds()).await
}

#[tauri::command]
#[specta::specta]
pub async fn save_feed(
    state: State<'_, AppState>,
    id: Option<String>,
    input: FeedInput,
) -> Result<Feed, CoreError> {
    on_station(state, move |s| s.save_feed(id.as_deref(), input)).await
}

#[tauri::command]
#[specta::specta]
pub async fn delete_feed(state: State<'_, AppState>, id: String) -> Result<(), CoreError> {
    on_station(state, move |s| s.delete_feed(&id)).await
}

/// Syncs one feed now ("Sync now"): staff only, checked before anything is fetched.
#[tauri::command]
#[specta::specta]
pub async fn sync_feed_now(
    state: State<'_, AppState>,
    id: String,
) -> Result<SyncReport, CoreError> {
    let station = state.station()?;
    interlock_core::feed_sync::sync_feed_as_actor(&station, &state.deliverer, &id).await
}

/// A one-off import of an `.ics` file the window read from disk.
#[tauri::command]
#[specta::specta]
pub async fn import_ics(
    state: State<'_, AppState>,
    service_id: String,
    file_name: String,
    text: String,
) -> Result<SyncReport, CoreError> {
    on_station(state, move |s| s.import_ics(&service_id, &file_name, &text)).await
}

#[tauri::command]
#[specta::specta]
pub async fn rotate_signing_secret(
    state: State<'_, AppState>,
    id: String,
) -> Result<String, CoreError> {
    on_station(state, move |s| s.rotate_signing_secret(&id)).await
}

#[tauri::command]
#[specta::specta]
pub async fn list_deliveries(
    state: State<'_, AppState>,
    outcome: Option<String>,
    webhook_id: Option<String>,
    before: Option<String>,
) -> Result<Vec<DeliveryAttempt>, CoreError> {
    // One page, newest first; `before` = the id of the last attempt already shown.
    on_station(state, move |s| {
        s.deliveries_page(
            outcome.as_deref(),
            webhook_id.as_deref(),
            interlock_core::retention::UI_PAGE,
            before.as_deref(),
        )
        .map(|p| p.items)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn send_test_webhook(
    state: State<'_, AppState>,
    id: String,
) -> Result<DeliveryAttempt, CoreError> {
    let station = state.station()?;
    outbox::send_test(&station, &state.deliverer, &id).await
}

#[tauri::command]
#[specta::specta]
pub async fn resend_delivery(
    state: State<'_, AppState>,
    attempt_id: String,
) -> Result<DeliveryAttempt, CoreError> {
    let station = state.station()?;
    outbox::resend(&station, &state.deliverer, &attempt_id).await
}

#[tauri::command]
#[specta::specta]
pub async fn interlock_panel(
    state: State<'_, AppState>,
    service_id: String,
) -> Result<InterlockPanel, CoreError> {
    let interlock = state.interlock()?;
    tauri::async_runtime::spawn_blocking(move || interlock.panel(&service_id))
        .await
        .map_err(|e| CoreError::internal(e.to_string()))?
}

/// Lock, unlock or read the status of an instrument. Checked again in the core against the
/// signed-in account and the clock; sent at once, never queued for later.
#[tauri::command]
#[specta::specta]
pub async fn interlock_command(
    state: State<'_, AppState>,
    service_id: String,
    event_id: Option<String>,
    action: InterlockAction,
    reason: Option<String>,
) -> Result<InterlockResult, CoreError> {
    let interlock = state.interlock()?;
    interlock
        .command(&service_id, event_id.as_deref(), action, reason)
        .await
}

#[tauri::command]
#[specta::specta]
pub async fn interlock_audit(
    state: State<'_, AppState>,
    before: Option<String>,
) -> Result<Vec<AuditEntry>, CoreError> {
    // One page, newest first; `before` = the id of the last entry already shown.
    on_station(state, move |s| {
        s.interlock_audit_page(interlock_core::retention::UI_PAGE, before.as_deref())
            .map(|p| p.items)
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn set_service_auto_lock(
    state: State<'_, AppState>,
    id: String,
    on: bool,
) -> Result<Service, CoreError> {
    on_station(state, move |s| s.set_service_auto_lock(&id, on)).await
}

#[tauri::command]
#[specta::specta]
pub async fn set_interlock_poll_secs(
    state: State<'_, AppState>,
    secs: u32,
) -> Result<(), CoreError> {
    on_station(state, move |s| s.set_interlock_poll_secs(secs)).await
}

#[tauri::command]
#[specta::specta]
pub async fn get_interlock_poll_secs(state: State<'_, AppState>) -> Result<u32, CoreError> {
    on_station(state, |s| {
        s.actor(interlock_core::Permission::ViewOwnSchedule)?;
        s.interlock_poll_secs()
    })
    .await
}

/// How many days of history (delivery log, audit log) the station keeps.
#[tauri::command]
#[specta::specta]
pub async fn get_retention_days(state: State<'_, AppState>) -> Result<u32, CoreError> {
    on_station(state, |s| {
        s.actor(interlock_core::Permission::ViewOwnSchedule)?;
        s.retention_days()
    })
    .await
}

#[tauri::command]
#[specta::specta]
pub async fn set_retention_days(state: State<'_, AppState>, days: u32) -> Result<(), CoreError> {
    on_station(state, move |s| s.set_retention_days(days)).await
}

/// Staff give up on a pending auto-lock that keeps failing (audited).
#[tauri::command]
#[specta::specta]
pub async fn dismiss_auto_lock(
    state: State<'_, AppState>,
    service_id: String,
) -> Result<(), CoreError> {
    let interlock = state.interlock()?;
    tauri::async_runtime::spawn_blocking(move || interlock.dismiss_auto_lock(&service_id))
        .await
        .map_err(|e| CoreError::internal(e.to_string()))?
}

/// Usage of every booking that starts within the days `from` to `to` (YYYY-MM-DD, inclusive, in
/// the station's time zone), with totals per service and user. Staff and administrators.
#[tauri::command]
#[specta::specta]
pub async fn usage_report(
    state: State<'_, AppState>,
    from: String,
    to: String,
) -> Result<UsageReport, CoreError> {
    on_station(state, move |s| s.usage_report(&from, &to)).await
}

/// Opens the post-lock link of a booking in the default browser. The link is built again in the
/// core from the stored `post_lock` tag (placeholders URL-encoded) for the signed-in person, and
/// checked once more right here before the opener gets it: the window never passes a URL.
#[tauri::command]
#[specta::specta]
pub async fn open_post_lock_link(
    app: tauri::AppHandle,
    state: State<'_, AppState>,
    service_id: String,
    event_id: String,
) -> Result<String, CoreError> {
    use tauri_plugin_opener::OpenerExt;
    let interlock = state.interlock()?;
    let link = tauri::async_runtime::spawn_blocking(move || {
        interlock.post_lock_link(&service_id, &event_id)
    })
    .await
    .map_err(|e| CoreError::internal(e.to_string()))??;
    let link = interlock_core::tags::check_link(&link)
        .map_err(|why| CoreError::validation(format!("The post-lock link: {why}")))?;
    app.opener()
        .open_url(link.clone(), None::<&str>)
        .map_err(|e| CoreError::internal(format!("Cannot open the browser: {e}")))?;
    tracing::info!(url = %interlock_core::webhook::mask_url(&link), "post-lock link opened");
    Ok(link)
}
