//! Why this exists: administrators provision and check stations by script. These subcommands run
//! on the same binary and core as the window, honour `--data-dir`, and need no display.

use crate::paths::StationPaths;
use clap::Subcommand;
use interlock_core::delivery::Deliverer;
use interlock_core::locale::LocalTimes;
use interlock_core::model::{Account, AccountUpdate, EventInput, NewAccount, ServiceInput};
use interlock_core::notifier::DesktopNotifier;
use interlock_core::secrets::{KeyringStore, SecretStore};
use interlock_core::sensitive::Sensitive;
use interlock_core::transfer::{ConfigFile, ScheduleFile};
use interlock_core::webhook::{Action, ActionSubtype, ActionType, Verb, WebhookInput};
use interlock_core::{outbox, CoreError, Role, Station, SystemClock};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Export or import the station configuration (settings, services, webhooks; never secrets).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Apply a schedule file: services, orders and events; fires webhooks as the UI does.
    Schedule {
        #[command(subcommand)]
        action: ScheduleAction,
    },
    /// Send every webhook delivery that is due now, then exit (waits for no later retry). Safe
    /// beside the app and other `deliver` processes: each delivery is claimed by one of them.
    Deliver {
        /// At most this many requests in flight.
        #[arg(long, default_value_t = outbox::DEFAULT_MAX_IN_FLIGHT)]
        in_flight: usize,
    },
    /// List logged delivery attempts, newest first.
    Deliveries {
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Only this outcome: delivered, retrying, failed, skipped or test.
        #[arg(long)]
        outcome: Option<String>,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
        /// Only attempts older than this one: the id the previous page ended with.
        #[arg(long)]
        before: Option<String>,
    },
    /// Delete history older than the retention setting (default 400 days): settled outbox
    /// deliveries, delivery attempts and interlock audit entries. The app does this daily.
    Prune {
        /// First set how many days of history to keep (30–3650).
        #[arg(long, value_name = "DAYS")]
        keep_days: Option<u32>,
    },
    /// Add, list or deactivate accounts, or reset a password. Passwords are read from standard
    /// input (one line) or, on a terminal, a prompt; never from the command line.
    Account {
        #[command(subcommand)]
        action: AccountAction,
    },
    /// Show or change how the app runs as the station agent: kiosk mode and start at login
    /// (on, off). The running window applies a change made there at once; a change made here
    /// takes effect at the app's next start, when the installed app writes or removes its OS
    /// autostart entry to match.
    Agent {
        /// Kiosk mode: fullscreen, undecorated, closed only by staff (on or off).
        #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
        kiosk: Option<bool>,
        /// Start at login, in the tray without a window (on or off).
        #[arg(long, value_name = "on|off", value_parser = clap::builder::BoolishValueParser::new())]
        start_at_login: Option<bool>,
    },
    /// Usage records for billing: the actual start and end of each booking.
    Usage {
        #[command(subcommand)]
        action: UsageAction,
    },
    /// Calendar feeds: sync every enabled feed once and exit (for scripts, and for a station
    /// whose app is not running), or list them with their last sync.
    Feeds {
        #[command(subcommand)]
        action: FeedsAction,
    },
    /// Check the database, the OS keyring and the notification server, one line each.
    Doctor,
    /// Fill an empty data folder with a demo station wired to the relay simulator (`make demo`).
    DemoSeed {
        /// The simulator's base URL, e.g. http://127.0.0.1:8765
        #[arg(long)]
        relay: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Write the configuration to FILE (JSON; secrets are never included).
    Export { file: PathBuf },
    /// Read the configuration from FILE, all or nothing: every entry passes the window's rules
    /// first, then everything is written in one transaction; a secret value in the file is
    /// refused. Reports which secrets still need to be entered on this station.
    Import { file: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AccountAction {
    /// Create an account; its password is read from standard input or a prompt.
    Add {
        username: String,
        /// The name shown in the app.
        #[arg(long)]
        name: String,
        /// user (instrument user), staff (facility staff) or admin (administrator).
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// The account's e-mail: calendar feeds' bookings that name it belong to the account.
        #[arg(long)]
        email: Option<String>,
    },
    /// Set or clear (an empty value) the e-mail of an account.
    SetEmail { username: String, email: String },
    /// List every account.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Deactivate an account (refused for the last active administrator).
    Deactivate { username: String },
    /// Set a new password, read from standard input or a prompt.
    ResetPassword { username: String },
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "user" | "instrument_user" => Ok(Role::InstrumentUser),
        "staff" | "facility_staff" => Ok(Role::FacilityStaff),
        "admin" | "administrator" => Ok(Role::Administrator),
        other => Err(format!("unknown role '{other}'; use user, staff or admin")),
    }
}

#[derive(Debug, Subcommand)]
pub enum UsageAction {
    /// Write every booking that starts on the days FROM to TO (inclusive, in the station's time
    /// zone) with its actual start and end to standard output: CSV (RFC 4180, times in UTC and
    /// local time) or JSON.
    Export {
        /// First day, YYYY-MM-DD.
        #[arg(long, value_name = "DATE", value_parser = parse_day)]
        from: String,
        /// Last day (inclusive), YYYY-MM-DD.
        #[arg(long, value_name = "DATE", value_parser = parse_day)]
        to: String,
        #[arg(long, value_enum, default_value_t = UsageFormat::Csv)]
        format: UsageFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum UsageFormat {
    Csv,
    Json,
}

fn parse_day(s: &str) -> Result<String, String> {
    interlock_core::usage::parse_day(s, "given")
        .map(|d| d.to_string())
        .map_err(|e| e.message)
}

#[derive(Debug, Subcommand)]
pub enum ScheduleAction {
    /// Apply the schedule in FILE (JSON).
    Import { file: PathBuf },
    /// Import the bookings of an iCalendar file (.ics) into a service, all or nothing: each must
    /// name an account of this station (by e-mail) and overlap no other booking. Importing the
    /// same file again updates its bookings instead of adding them twice.
    ImportIcs {
        file: PathBuf,
        /// The service's name.
        #[arg(long)]
        service: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeedsAction {
    /// Sync every enabled feed once; exits 1 when any failed (each failure is said).
    Sync,
    /// List the feeds with their last sync.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

fn open_station(paths: &StationPaths) -> Result<Station, CoreError> {
    let station = Station::open(
        &paths.database(),
        Arc::new(SystemClock),
        Arc::new(KeyringStore::new()),
    )?;
    station.act_as_system();
    station.set_notifier(Arc::new(DesktopNotifier));
    Ok(station)
}

fn read_json<T: serde::de::DeserializeOwned>(file: &Path) -> Result<T, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| format!("{} is not a valid file of this kind: {e}", file.display()))
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

/// Runs one subcommand; returns the exit code.
pub fn run(command: Command, paths: &StationPaths) -> i32 {
    let result = match command {
        Command::Doctor => return doctor(paths),
        other => run_fallible(other, paths),
    };
    match result {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("interlock-station: {message}");
            1
        }
    }
}

fn run_fallible(command: Command, paths: &StationPaths) -> Result<(), String> {
    let station = open_station(paths).map_err(|e| e.message)?;
    match command {
        Command::Config {
            action: ConfigAction::Export { file },
        } => {
            let config = station.export_config().map_err(|e| e.message)?;
            let text = serde_json::to_string_pretty(&config).map_err(|e| e.to_string())?;
            std::fs::write(&file, text + "\n")
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
            println!(
                "exported {} services and {} webhooks to {}",
                config.services.len(),
                config.webhooks.len(),
                file.display()
            );
        }
        Command::Config {
            action: ConfigAction::Import { file },
        } => {
            let config: ConfigFile = read_json(&file)?;
            let report = station.import_config(&config).map_err(|e| e.message)?;
            println!(
                "imported {} services and {} webhooks",
                report.services, report.webhooks
            );
            for w in &report.warnings {
                println!("warning: {w}");
            }
            if report.missing_secrets.is_empty() {
                println!("every secret is present in this station's keyring");
            } else {
                println!("secrets still to enter in the Webhook Manager:");
                for m in &report.missing_secrets {
                    println!("  - {m}");
                }
            }
        }
        Command::Schedule {
            action: ScheduleAction::Import { file },
        } => {
            let schedule: ScheduleFile = read_json(&file)?;
            let report = station.import_schedule(&schedule).map_err(|e| e.message)?;
            println!(
                "created {}, updated {}, deleted {}",
                report.created, report.updated, report.deleted
            );
            for id in &report.event_ids {
                println!("event {id}");
            }
        }
        Command::Schedule {
            action: ScheduleAction::ImportIcs { file, service },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            let svc = station
                .list_services()
                .map_err(|e| e.message)?
                .into_iter()
                .find(|s| s.name.eq_ignore_ascii_case(service.trim()))
                .ok_or_else(|| format!("no service named '{}'", service.trim()))?;
            let name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let report = station
                .import_ics(&svc.id, &name, &text)
                .map_err(|e| e.message)?;
            println!(
                "{}: created {}, updated {}, unchanged {}",
                svc.name, report.created, report.updated, report.unchanged
            );
            for w in &report.warnings {
                println!("skipped: {w}");
            }
        }
        Command::Feeds {
            action: FeedsAction::Sync,
        } => {
            let deliverer = Deliverer::new()?;
            let station = Arc::new(station);
            let results = runtime()?
                .block_on(interlock_core::feed_sync::sync_all(&station, &deliverer))
                .map_err(|e| e.message)?;
            if results.is_empty() {
                println!("no enabled feeds");
            }
            let mut failed = 0;
            for (id, r) in results {
                match r {
                    Ok(r) if r.not_modified => println!("{}: not modified", r.name),
                    Ok(r) => {
                        println!(
                            "{}: created {}, updated {}, removed {}, unchanged {}, unmatched {}",
                            r.name, r.created, r.updated, r.removed, r.unchanged, r.unmatched
                        );
                        for w in &r.warnings {
                            println!("  skipped: {w}");
                        }
                    }
                    Err(e) => {
                        failed += 1;
                        eprintln!("feed {id}: {}", e.message);
                    }
                }
            }
            if failed > 0 {
                return Err(format!("{failed} feed(s) failed to sync"));
            }
        }
        Command::Feeds {
            action: FeedsAction::List { json },
        } => {
            let list = station.list_feeds().map_err(|e| e.message)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
                );
            } else if list.is_empty() {
                println!("no feeds");
            }
            if !json {
                let t = LocalTimes::os();
                for f in list {
                    let last = match (&f.status.last_success_at, f.status.failing) {
                        (_, true) => {
                            format!("failing: {}", f.status.last_error.as_deref().unwrap_or("?"))
                        }
                        (Some(at), false) => format!("synced {}", t.date_time(*at)),
                        (None, false) => "not synced yet".to_string(),
                    };
                    println!(
                        "{:<24} {:<20} {:>4} bookings  {}{}",
                        f.name,
                        f.service_name,
                        f.status.bookings,
                        last,
                        if f.enabled { "" } else { " (disabled)" }
                    );
                }
            }
        }
        Command::Deliver { in_flight } => {
            let deliverer = Arc::new(Deliverer::new()?);
            let station = Arc::new(station);
            // On a worker thread, not the blocking main thread: each finished request wakes the
            // drain without a hand-over between threads.
            let report = runtime()?
                .block_on(async move {
                    tokio::spawn(async move {
                        outbox::drain_now_with(&station, &deliverer, in_flight).await
                    })
                    .await
                })
                .map_err(|e| format!("The delivery run stopped unexpectedly: {e}"))?
                .map_err(|e| e.message)?;
            println!(
                "sent {}: {} delivered, {} to retry later, {} failed",
                report.sent, report.delivered, report.retrying, report.failed
            );
        }
        Command::Deliveries {
            limit,
            outcome,
            json,
            before,
        } => {
            let page = station
                .deliveries_page_unchecked(outcome.as_deref(), None, limit, before.as_deref())
                .map_err(|e| e.message)?;
            if let (Some(id), false) = (&page.next_before, json) {
                eprintln!("(older attempts: --before {id})");
            }
            let list = page.items;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
                );
            } else if list.is_empty() {
                println!("no deliveries logged");
            } else {
                for a in list {
                    let result = match (a.status, &a.error) {
                        (_, Some(e)) => e.clone(),
                        (Some(s), None) => format!("HTTP {s}"),
                        (None, None) => String::new(),
                    };
                    let local = LocalTimes::os().date_time_seconds(a.attempted_at);
                    println!(
                        "{local}  {:<9}  #{:<2} {:<13} {:<6} {}  {} ms  [{}]  {}",
                        a.outcome,
                        a.attempt,
                        a.action,
                        a.verb,
                        interlock_core::webhook::mask_url(&a.url),
                        a.duration_ms,
                        a.webhook_name,
                        result
                    );
                }
            }
        }
        Command::Account { action } => account(&station, action)?,
        Command::Prune { keep_days } => {
            if let Some(days) = keep_days {
                station.set_retention_days(days).map_err(|e| e.message)?;
            }
            let days = station.retention_days().map_err(|e| e.message)?;
            let r = station.prune_history().map_err(|e| e.message)?;
            let cutoff = LocalTimes::os().date_time(r.cutoff);
            println!(
                "keeping {days} days (since {cutoff}): removed {} settled deliveries, {} delivery attempts, {} audit entries",
                r.outbox_rows, r.delivery_attempts, r.audit_entries
            );
        }
        Command::Agent {
            kiosk,
            start_at_login,
        } => {
            let mut settings = station.agent_settings().map_err(|e| e.message)?;
            if kiosk.is_some() || start_at_login.is_some() {
                settings.kiosk_mode = kiosk.unwrap_or(settings.kiosk_mode);
                settings.start_at_login = start_at_login.unwrap_or(settings.start_at_login);
                settings = station
                    .set_agent_settings(settings)
                    .map_err(|e| e.message)?;
            }
            let on = |b: bool| if b { "on" } else { "off" };
            println!(
                "kiosk mode: {}\nstart at login: {}",
                on(settings.kiosk_mode),
                on(settings.start_at_login)
            );
        }
        Command::Usage {
            action: UsageAction::Export { from, to, format },
        } => {
            let report = station.usage_report(&from, &to).map_err(|e| e.message)?;
            let text = match format {
                UsageFormat::Csv => interlock_core::usage::to_csv(&report),
                UsageFormat::Json => {
                    serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"
                }
            };
            use std::io::Write;
            std::io::stdout()
                .write_all(text.as_bytes())
                .map_err(|e| format!("cannot write the export: {e}"))?;
        }
        Command::DemoSeed { relay } => demo_seed(&station, relay.trim_end_matches('/'))?,
        Command::Doctor => unreachable!("handled above"),
    }
    Ok(())
}

/// One line per part; exit 0 only when all are fine.
fn doctor(paths: &StationPaths) -> i32 {
    let mut failures = 0;
    match Station::open(
        &paths.database(),
        Arc::new(SystemClock),
        Arc::new(KeyringStore::new()),
    ) {
        Ok(station) => {
            station.act_as_system();
            let counts = station
                .list_deliveries_unchecked(Some("failed"), None, 5000)
                .map(|l| l.len())
                .unwrap_or(0);
            println!(
                "database: ok ({}, schema {}, {} failed delivery attempts logged)",
                paths.database().display(),
                interlock_core::store::schema_version(),
                counts
            );
        }
        Err(e) => {
            failures += 1;
            println!("database: FAILED ({}) {}", e.code.as_str(), e.message);
        }
    }
    match keyring_check() {
        Ok(line) => println!("keyring: {line}"),
        Err(line) => {
            failures += 1;
            println!("keyring: {line}");
        }
    }
    match crate::notify::server_status() {
        Ok(line) => println!("notifications: ok ({line})"),
        Err(line) => {
            failures += 1;
            println!("notifications: FAILED {line}");
        }
    }
    i32::from(failures > 0)
}

/// Stores, reads back and removes a probe entry, and says which state the keyring is in: "ok
/// (Secret Service; ...)", "recovered (...)" when it came up while `doctor` waited, or
/// "unavailable — ... (will retry)". The Secret Service may still be starting (D-Bus activation,
/// a session logging in), so an unavailable keyring is tried a few more times over ~3 s.
fn keyring_check() -> Result<String, String> {
    use interlock_core::secrets::KeyringState;
    use interlock_core::ErrorCode;
    let keyring = KeyringStore::new().retrying_every(std::time::Duration::from_secs(1));
    let probe = "doctor/probe";
    let run = || {
        keyring
            .set(probe, &Sensitive::new("probe".to_string()))
            .and_then(|_| keyring.get(probe))
            .and_then(|v| {
                keyring.delete(probe)?;
                Ok(v.is_some_and(|v| v.expose() == "probe"))
            })
    };
    let mut check = run();
    for _ in 0..3 {
        match &check {
            Err(e) if e.code == ErrorCode::KeyringUnavailable => {
                std::thread::sleep(std::time::Duration::from_secs(1));
                check = run();
            }
            _ => break,
        }
    }
    let state = KeyringStore::state();
    match (check, &state) {
        (Ok(true), KeyringState::Ok { backend }) => Ok(format!(
            "ok ({backend}; stored, read back and removed a probe entry)"
        )),
        (Ok(true), _) => Ok(format!(
            "{state}; stored, read back and removed a probe entry"
        )),
        (Ok(false), _) => Err(format!(
            "FAILED ({state}) the probe entry did not read back"
        )),
        (Err(_), KeyringState::Unavailable { .. }) => Err(format!(
            "{state}; the app keeps retrying and recovers once it appears"
        )),
        (Err(e), _) => Err(format!("FAILED ({}) {}", e.code.as_str(), e.message)),
    }
}

/// Reads a new password: one line from standard input when it is not a terminal (scripts), else
/// a prompt without echo, asked twice. Never from the command line, where `ps` and the shell
/// history would keep it.
fn read_new_password(username: &str) -> Result<String, String> {
    use std::io::{BufRead, IsTerminal};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
        let password = line.strip_suffix('\n').unwrap_or(&line);
        let password = password.strip_suffix('\r').unwrap_or(password);
        if password.is_empty() {
            return Err("no password on standard input (give it as one line)".into());
        }
        return Ok(password.to_string());
    }
    let first = prompt_hidden(&format!("New password for {username}: "))?;
    let second = prompt_hidden("Repeat it: ")?;
    if first != second {
        return Err("the two passwords differ; nothing was changed".into());
    }
    Ok(first)
}

/// Asks on the terminal with echo switched off (`stty`), and on again afterwards.
fn prompt_hidden(prompt: &str) -> Result<String, String> {
    use std::io::{BufRead, Write};
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let stty = |arg: &str| {
        std::process::Command::new("stty")
            .arg(arg)
            .stdin(std::process::Stdio::inherit())
            .status()
            .is_ok_and(|s| s.success())
    };
    let hidden = cfg!(unix) && stty("-echo");
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if hidden {
        stty("echo");
    }
    eprintln!();
    read.map_err(|e| format!("cannot read the password: {e}"))?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn find_account(station: &Station, username: &str) -> Result<Account, String> {
    let m = |e: CoreError| e.message;
    station
        .list_accounts()
        .map_err(m)?
        .into_iter()
        .find(|a| a.username == username.trim())
        .ok_or_else(|| format!("no account with the username '{}'", username.trim()))
}

/// The account subcommands act as the system account through the same Station methods as the
/// Accounts screen, so the same rules hold (username, password length, last administrator).
fn account(station: &Station, action: AccountAction) -> Result<(), String> {
    let m = |e: CoreError| e.message;
    match action {
        AccountAction::Add {
            username,
            name,
            role,
            email,
        } => {
            let password = read_new_password(&username)?;
            let a = station
                .create_account(NewAccount {
                    username,
                    display_name: name,
                    role,
                    email,
                    password: password.into(),
                })
                .map_err(m)?;
            println!(
                "created {} ({}, {})",
                a.username,
                a.display_name,
                a.role.label()
            );
        }
        AccountAction::List { json } => {
            let list = station.list_accounts().map_err(m)?;
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&list).map_err(|e| e.to_string())?
                );
            } else if list.is_empty() {
                println!("no accounts");
            } else {
                for a in list {
                    println!(
                        "{:<24} {:<16} {:<8} {:<32} {}",
                        a.username,
                        a.role.label(),
                        if a.active { "active" } else { "inactive" },
                        a.email.as_deref().unwrap_or("-"),
                        a.display_name
                    );
                }
            }
        }
        AccountAction::Deactivate { username } => {
            let a = find_account(station, &username)?;
            if !a.active {
                println!("{} is already deactivated", a.username);
                return Ok(());
            }
            station
                .update_account(
                    &a.id,
                    AccountUpdate {
                        display_name: a.display_name.clone(),
                        role: a.role,
                        active: false,
                        email: a.email.clone(),
                    },
                )
                .map_err(m)?;
            println!("deactivated {}", a.username);
        }
        AccountAction::SetEmail { username, email } => {
            let a = find_account(station, &username)?;
            let updated = station
                .update_account(
                    &a.id,
                    AccountUpdate {
                        display_name: a.display_name.clone(),
                        role: a.role,
                        active: a.active,
                        email: Some(email),
                    },
                )
                .map_err(m)?;
            match updated.email {
                Some(e) => println!("e-mail of {} set to {e}", updated.username),
                None => println!("e-mail of {} cleared", updated.username),
            }
        }
        AccountAction::ResetPassword { username } => {
            let a = find_account(station, &username)?;
            let password = read_new_password(&a.username)?;
            station.reset_password(&a.id, &password).map_err(m)?;
            println!("password of {} reset", a.username);
        }
    }
    Ok(())
}

/// The demo sign-ins, printed by `demo-seed` and listed in the README.
pub const DEMO_ACCOUNTS: [(&str, &str, Role); 3] = [
    ("admin", "demo-admin", Role::Administrator),
    ("staff", "demo-staff", Role::FacilityStaff),
    ("user", "demo-user", Role::InstrumentUser),
];

fn demo_seed(station: &Station, relay: &str) -> Result<(), String> {
    let m = |e: CoreError| e.message;
    if !station.setup_required().map_err(m)? {
        return Err("demo-seed needs an empty data folder".into());
    }
    let mut user_id = String::new();
    for (username, password, role) in DEMO_ACCOUNTS {
        let display_name = match role {
            Role::Administrator => "Ada Admin",
            Role::FacilityStaff => "Sam Staff",
            Role::InstrumentUser => "Uma User",
        };
        let a = station
            .create_account(NewAccount {
                username: username.into(),
                display_name: display_name.into(),
                role,
                email: None,
                password: password.into(),
            })
            .map_err(m)?;
        if role == Role::InstrumentUser {
            user_id = a.id;
        }
    }
    let svc = station
        .create_service(ServiceInput {
            name: "Demo confocal".into(),
            description: "Simulated instrument; its relay is interlock-relay-sim".into(),
            tags: vec!["has_interlock".into(), "demo".into()],
        })
        .map_err(m)?;
    for (name, sub, path) in [
        ("Relay unlock", ActionSubtype::Unlock, "/unlock"),
        ("Relay lock", ActionSubtype::Lock, "/lock"),
        ("Relay status", ActionSubtype::Status, "/status"),
    ] {
        station
            .save_webhook(
                None,
                WebhookInput {
                    service_id: Some(svc.id.clone()),
                    verb: if sub == ActionSubtype::Status {
                        Verb::Get
                    } else {
                        Verb::Post
                    },
                    ..WebhookInput::new(
                        name,
                        Action::new(ActionType::Interlock, sub),
                        &format!("{relay}{path}"),
                    )
                },
            )
            .map_err(m)?;
    }
    let now = station.now();
    let start = now - jiff::SignedDuration::from_mins(10);
    station
        .create_event(EventInput {
            service_id: svc.id.clone(),
            user_id,
            title: "Demo imaging session".into(),
            starts_at: start,
            ends_at: start + jiff::SignedDuration::from_mins(60),
            order_id: None,
            line_id: None,
        })
        .map_err(m)?;
    println!("demo station ready; sign in as:");
    for (username, password, role) in DEMO_ACCOUNTS {
        println!("  {username:<6} / {password:<11} ({})", role.label());
    }
    Ok(())
}
