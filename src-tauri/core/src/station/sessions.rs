//! Why this exists: who is at the station. First run, sign-in with its pause after failures
//! (password hashing runs with no database lock held), sessions with idle sign-out, the role
//! check every operation starts with, and the accounts administrators keep.

use super::*;

/// An account's optional e-mail: empty means none; otherwise one `@` with text on both sides and
/// no spaces, stored lower-cased (mail systems and calendars differ in case).
pub(crate) fn validate_email(email: Option<&str>) -> CoreResult<Option<String>> {
    let Some(e) = email.map(str::trim).filter(|e| !e.is_empty()) else {
        return Ok(None);
    };
    let e = e.strip_prefix("mailto:").unwrap_or(e).to_lowercase();
    let valid = e.chars().count() <= 254
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((l, d)) if !l.is_empty() && !d.is_empty() && !d.contains('@'));
    if !valid {
        return Err(CoreError::validation(format!(
            "'{e}' is not an e-mail address (name@example.org)."
        )));
    }
    Ok(Some(e))
}

fn validate_username(username: &str) -> CoreResult<String> {
    let u = trimmed(username, "Username", 64, true)?;
    if let Some(bad) = u
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(CoreError::validation(format!(
            "Username '{u}' contains '{bad}'; use letters, digits, '.', '_' and '-'."
        )));
    }
    Ok(u)
}

/// Refuses a sign-in while its username is paused after too many failures.
pub(super) fn sign_in_paused(
    username: &str,
    throttle: login_throttle::Throttle,
    now: Timestamp,
) -> CoreResult<()> {
    if let Some(until) = throttle.paused_until_ms {
        if now.as_millisecond() < until {
            let secs = (until - now.as_millisecond() + 999) / 1000;
            tracing::warn!(username = %username, seconds_left = secs, "sign-in refused: sign-in for this username is paused");
            return Err(CoreError::new(
                ErrorCode::SignInPaused,
                format!("Too many failed sign-ins for this username. Sign-in is paused; try again in {secs} s."),
            )
            .with_detail(crate::error::ErrorDetail::SignInPausedUntil {
                until: Timestamp::from_millisecond(until).unwrap_or(now),
            }));
        }
    }
    Ok(())
}

impl Station {
    // ---- first run and sign-in -------------------------------------------------------------

    /// True while the station has no account at all: the first-run screen must be shown.
    pub fn setup_required(&self) -> CoreResult<bool> {
        Ok(accounts::count(self.store().conn())? == 0)
    }

    /// Creates the first administrator. Refused once any account exists.
    pub fn create_first_administrator(&self, input: FirstAdministrator) -> CoreResult<Account> {
        let username = validate_username(&input.username)?;
        let display_name = trimmed(&input.display_name, "Display name", 100, true)?;
        validate_new_password(input.password.expose())?;
        let hash = hash_password(input.password.expose())?;
        let now = self.now();
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        if accounts::count(&tx)? > 0 {
            return Err(CoreError::new(
                ErrorCode::SetupAlreadyDone,
                "The first administrator already exists; sign in instead.",
            ));
        }
        let id = store::new_id();
        accounts::insert(
            &tx,
            &id,
            &username,
            &display_name,
            Role::Administrator,
            &hash,
            now,
        )?;
        let account =
            accounts::get(&tx, &id)?.ok_or_else(|| CoreError::internal("account vanished"))?;
        tx.commit()?;
        tracing::info!(username = %username, "created the first administrator");
        Ok(account.account)
    }

    /// Signs in, replacing whoever was signed in ("Switch user" is the same call). On failure the
    /// current session, if any, stays as it was.
    ///
    /// The argon2 verification runs without the database lock: the throttle and the account are
    /// read under a short lock, the password is verified with no lock held, and the outcome is
    /// written under a second short lock. A Lock command (or anything else) never waits for a hash.
    pub fn sign_in(&self, username: &str, password: &str) -> CoreResult<SessionInfo> {
        let username = username.trim();
        let now = self.now();
        let row = {
            let store = self.store();
            let conn = store.conn();
            sign_in_paused(username, login_throttle::get(conn, username)?, now)?;
            accounts::find_by_username(conn, username)?
        };
        let verified = match &row {
            Some(r) => verify_password(password, &r.password_hash),
            None => {
                verify_against_dummy(password);
                false
            }
        };
        let store = self.store();
        let conn = store.conn();
        // Read again: sign-ins for this username that ran alongside may have counted failures or
        // paused it meanwhile. A pause that began during the verification holds for this attempt
        // too, and a failure never lifts a pause.
        let mut throttle = login_throttle::get(conn, username)?;
        sign_in_paused(username, throttle, now)?;
        if !verified {
            throttle.failures += 1;
            throttle.paused_until_ms = None;
            let mut message = "Wrong username or password.".to_string();
            if throttle.failures >= MAX_FAILED_SIGN_INS {
                throttle.failures = 0;
                throttle.paused_until_ms =
                    Some(now.as_millisecond() + SIGN_IN_PAUSE.as_millis() as i64);
                message.push_str(&format!(
                    " Too many failed attempts: sign-in for this username is paused for {} s.",
                    SIGN_IN_PAUSE.as_secs()
                ));
                tracing::warn!(
                    username = %username,
                    seconds = SIGN_IN_PAUSE.as_secs(),
                    "sign-in paused after {MAX_FAILED_SIGN_INS} failed attempts"
                );
            }
            login_throttle::put(conn, username, throttle)?;
            tracing::warn!(username = %username, failures = throttle.failures, "sign-in failed");
            let code = if throttle.paused_until_ms.is_some() {
                ErrorCode::SignInPaused
            } else {
                ErrorCode::SignInFailed
            };
            let error = CoreError::new(code, message);
            return Err(
                match throttle
                    .paused_until_ms
                    .and_then(|ms| Timestamp::from_millisecond(ms).ok())
                {
                    Some(until) => {
                        error.with_detail(crate::error::ErrorDetail::SignInPausedUntil { until })
                    }
                    None => error,
                },
            );
        }
        let row = row.ok_or_else(|| CoreError::internal("verified without an account"))?;
        login_throttle::clear(conn, username)?;
        // The row read before the verification may be stale: take the account as it is now.
        let row = accounts::get(conn, &row.account.id)?
            .filter(|now_row| now_row.password_hash == row.password_hash)
            .ok_or_else(|| {
                CoreError::new(
                    ErrorCode::SignInFailed,
                    "Wrong username or password.".to_string(),
                )
            })?;
        if !row.account.active {
            return Err(CoreError::new(
                ErrorCode::AccountInactive,
                "This account is deactivated. Ask an administrator to reactivate it.",
            ));
        }
        let idle = idle_timeout(conn)?;
        drop(store);
        *lock(&self.session) = Some(ActiveSession {
            account_id: row.account.id.clone(),
            signed_in_at: now,
            last_activity: now,
        });
        tracing::info!(username = %row.account.username, role = row.account.role.as_str(), "signed in");
        Ok(SessionInfo {
            account: row.account,
            signed_in_at: now,
            idle_timeout_minutes: idle,
        })
    }

    /// The command line acts as the station itself (whoever can run it owns the data folder):
    /// an administrator without an account, never idle.
    pub fn act_as_system(&self) {
        let now = self.now();
        *lock(&self.session) = Some(ActiveSession {
            account_id: SYSTEM_ACCOUNT_ID.to_string(),
            signed_in_at: now,
            last_activity: now,
        });
    }

    pub fn sign_out(&self) {
        if lock(&self.session).take().is_some() {
            tracing::info!("signed out");
        }
    }

    /// Who is signed in, without counting as activity. Ends an idle session.
    pub fn current_session(&self) -> CoreResult<Option<SessionInfo>> {
        match self.session_account(false) {
            Ok((account, session, idle)) => Ok(Some(SessionInfo {
                account,
                signed_in_at: session.signed_in_at,
                idle_timeout_minutes: idle,
            })),
            Err(e) if matches!(e.code, ErrorCode::NotSignedIn | ErrorCode::SessionExpired) => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Records activity at the station (the UI calls this on input) so idle sign-out waits.
    pub fn touch(&self) -> CoreResult<()> {
        self.session_account(true).map(|_| ())
    }

    fn session_account(&self, touch: bool) -> CoreResult<(Account, ActiveSession, u32)> {
        let now = self.now();
        let mut guard = lock(&self.session);
        let Some(session) = guard.clone() else {
            return Err(CoreError::new(
                ErrorCode::NotSignedIn,
                "Nobody is signed in.",
            ));
        };
        let store = self.store();
        let idle = idle_timeout(store.conn())?;
        if session.account_id == SYSTEM_ACCOUNT_ID {
            let account = Account {
                id: SYSTEM_ACCOUNT_ID.to_string(),
                username: "system".into(),
                display_name: "Command line".into(),
                role: Role::Administrator,
                active: true,
                email: None,
                created_at: session.signed_in_at,
            };
            return Ok((account, session, idle));
        }
        if now >= session.last_activity + SignedDuration::from_mins(i64::from(idle)) {
            *guard = None;
            tracing::info!("signed out after {idle} min idle");
            return Err(CoreError::new(
                ErrorCode::SessionExpired,
                format!(
                    "You were signed out after {idle} {} without activity.",
                    if idle == 1 { "minute" } else { "minutes" }
                ),
            ));
        }
        let row = accounts::get(store.conn(), &session.account_id)?;
        let Some(row) = row.filter(|r| r.account.active) else {
            *guard = None;
            return Err(CoreError::new(
                ErrorCode::NotSignedIn,
                "Your account was deactivated; you have been signed out.",
            ));
        };
        if touch {
            if let Some(s) = guard.as_mut() {
                s.last_activity = now;
            }
        }
        Ok((row.account, session, idle))
    }

    /// The signed-in account, if its role grants `permission`. Does not count as activity: the
    /// window refreshes screens and polls status on its own, which must not keep an unattended
    /// session alive; activity is the person's input, reported through `touch`.
    pub fn actor(&self, permission: Permission) -> CoreResult<Account> {
        let (account, _, _) = self.session_account(false)?;
        require(account.role, permission)?;
        Ok(account)
    }
    // ---- accounts --------------------------------------------------------------------------

    pub fn list_accounts(&self) -> CoreResult<Vec<Account>> {
        // Staff see the list too: they book events for instrument users.
        self.actor(Permission::ViewAllSchedule)?;
        accounts::list(self.store().conn())
    }

    pub fn create_account(&self, input: NewAccount) -> CoreResult<Account> {
        self.actor(Permission::ManageAccounts)?;
        let username = validate_username(&input.username)?;
        let display_name = trimmed(&input.display_name, "Display name", 100, true)?;
        let email = validate_email(input.email.as_deref())?;
        validate_new_password(input.password.expose())?;
        let hash = hash_password(input.password.expose())?;
        let mut store = self.store();
        let id = store::new_id();
        let tx = store.conn_mut().transaction()?;
        accounts::insert(
            &tx,
            &id,
            &username,
            &display_name,
            input.role,
            &hash,
            self.now(),
        )?;
        accounts::set_email(&tx, &id, email.as_deref())?;
        tx.commit()?;
        tracing::info!(username = %username, role = input.role.as_str(), "account created");
        Ok(accounts::get(store.conn(), &id)?
            .ok_or_else(|| CoreError::not_found("The account"))?
            .account)
    }

    pub fn update_account(&self, id: &str, update: AccountUpdate) -> CoreResult<Account> {
        self.actor(Permission::ManageAccounts)?;
        let display_name = trimmed(&update.display_name, "Display name", 100, true)?;
        let email = validate_email(update.email.as_deref())?;
        let mut store = self.store();
        let tx = store.conn_mut().transaction()?;
        let current = accounts::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        let stays_admin = update.role == Role::Administrator && update.active;
        let was_admin = current.account.role == Role::Administrator && current.account.active;
        if was_admin && !stays_admin && accounts::count_active_admins_except(&tx, id)? == 0 {
            return Err(CoreError::new(
                ErrorCode::LastAdministrator,
                "This is the last active administrator; it cannot be deactivated or given another role. Make another account an administrator first.",
            ));
        }
        accounts::update(
            &tx,
            id,
            &display_name,
            update.role,
            update.active,
            self.now(),
        )?;
        accounts::set_email(&tx, id, email.as_deref())?;
        let row = accounts::get(&tx, id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        tx.commit()?;
        tracing::info!(username = %row.account.username, role = row.account.role.as_str(), active = row.account.active, "account updated");
        Ok(row.account)
    }

    pub fn reset_password(&self, id: &str, new_password: &str) -> CoreResult<()> {
        self.actor(Permission::ManageAccounts)?;
        validate_new_password(new_password)?;
        let hash = hash_password(new_password)?;
        let store = self.store();
        let row =
            accounts::get(store.conn(), id)?.ok_or_else(|| CoreError::not_found("The account"))?;
        accounts::set_password_hash(store.conn(), id, &hash, self.now())?;
        login_throttle::clear(store.conn(), &row.account.username)?;
        tracing::info!(username = %row.account.username, "password reset");
        Ok(())
    }
}
