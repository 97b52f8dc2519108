//! The customer's own security, every route behind the bearer: the password
//! (`POST /password`), the open sessions (`GET /sessions`, `DELETE /sessions/{id}`),
//! two-step verification with TOTP (`POST /mfa/totp`, `POST /mfa/totp/confirm`,
//! `DELETE /mfa/totp`) and the e-mail (`POST /email-change`, `POST /email-change/confirm`).
//!
//! A password or a code checked here counts like a login's: one of the client's five
//! attempts is taken before the check (so parallel guesses cannot pass five), a wrong one
//! is a failed login of the account's e-mail, and a right one starts the count again.
//! Past the e-mail's hourly ceiling of failures (from any client, logins included) only
//! the known device the caller's session was made from may still try, with its own five.

mod email;
mod password;
mod sessions;
mod totp;

use shared::auth::email_tag;
use shared::config::{MailSettings, Settings};
use shared::domain::password::PasswordHasherArgon;
use shared::domain::{Account, Credentials, Email};
use shared::http::{run_blocking, ApiError, Call, Function, Input, Route};
use shared::mail::compose::login_ceiling_notice;
use shared::mail::Mailer;
use shared::outbox;
use shared::sealing::{DataKey, DataKeySource, SealError};
use shared::startup::Base;
use shared::store::{
    AttemptReservation, DynamoStore, LoginAttempts, LoginClient, LoginFacts, MailOutbox, Profile, Session,
    ACCOUNT_FAILURES_PER_HOUR,
};
use shared::telemetry::fail_start;

pub struct App<S> {
    store: S,
    settings: Settings,
    hasher: PasswordHasherArgon,
    mail: MailSettings,
    mailer: Mailer,
    totp_key: DataKeySource,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![
        Route::post("/password", Input::Json, |app, call| Box::pin(app.change_password(call))),
        Route::get("/sessions", |app, call| Box::pin(app.list_sessions(call))),
        Route::delete("/sessions/{id}", Input::Nothing, |app, call| Box::pin(app.end_session(call))),
        Route::post("/mfa/totp", Input::Nothing, |app, call| Box::pin(app.start_totp(call))),
        Route::post("/mfa/totp/confirm", Input::Json, |app, call| Box::pin(app.confirm_totp(call))),
        Route::delete("/mfa/totp", Input::Json, |app, call| Box::pin(app.disable_totp(call))),
        Route::post("/email-change", Input::Json, |app, call| Box::pin(app.ask_email_change(call))),
        Route::post("/email-change/confirm", Input::Json, |app, call| Box::pin(app.confirm_email_change(call))),
    ]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let hasher = PasswordHasherArgon::new().unwrap_or_else(|e| fail_start("password hasher", e));
        let (mail, mailer) = base.mail();
        let totp_key = base.totp_key();
        let edge = base.settings.origin_verify_secret.clone();
        let app = App { store: base.store, settings: base.settings, hasher, mail, mailer, totp_key };
        Function::new(app, routes()).behind_edge(edge)
    }
}

/// One change to how an account is protected, counted (`AccountChanges` by `Change`): a
/// burst of them across accounts is what a takeover campaign looks like from outside.
pub(crate) fn count_change(change: &'static str) {
    shared::metrics::count_by("AccountChanges", "Change", change, 1);
}

pub(crate) fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

pub(crate) fn seal_error(e: SealError) -> ApiError {
    match e {
        SealError::Unavailable(why) => ApiError::Unavailable(why),
        other => ApiError::Internal(other.to_string()),
    }
}

impl<S: LoginAttempts + MailOutbox> App<S> {
    /// Takes one attempt at `email` for the caller (429 when there is none), with what a
    /// login reads first (the credentials, the e-mail's failures this hour) in the same
    /// round trip. As at the login: the client's address has five; past the e-mail's
    /// hourly ceiling only a known device may try, here the device the caller's session
    /// was made from (its own five). Returns the client whose attempt was taken: a
    /// success clears that count.
    pub(crate) async fn take_attempt(
        &self,
        email: &Email,
        session: &Session,
        call: &Call,
    ) -> Result<(LoginClient, LoginFacts), ApiError> {
        let address = LoginClient::Address(call.caller.source_ip.clone());
        let (facts, reserved) = tokio::join!(
            self.store.login_facts(email, call.now),
            self.store.reserve_login_attempt(email, &address, call.now)
        );
        let (facts, reserved) = (facts?, reserved?);
        if facts.failures_this_hour < ACCOUNT_FAILURES_PER_HOUR {
            return self.reserved(email, call, reserved).map(|()| (address, facts));
        }
        // Past the ceiling the address's attempt is not one of its five: handed back.
        if reserved == AttemptReservation::Granted {
            if let Err(e) = self.store.give_back_login_attempt(email, &address).await {
                tracing::warn!(error = %e, "attempt not given back");
            }
        }
        let Some(device) = session.device.clone().map(LoginClient::Device) else {
            return Err(self.past_ceiling(email, call));
        };
        match self.store.reserve_login_attempt(email, &device, call.now).await? {
            AttemptReservation::UnknownDevice => Err(self.past_ceiling(email, call)),
            other => self.reserved(email, call, other).map(|()| (device, facts)),
        }
    }

    /// 429 until the clock hour is over: the e-mail's hourly ceiling is reached and the
    /// caller's session comes from no device known to it.
    fn past_ceiling(&self, email: &Email, call: &Call) -> ApiError {
        let secs = 3600 - call.now.timestamp().rem_euclid(3600) as u64;
        tracing::info!(event = "account_ceiling", email_tag = %email_tag(&self.settings.log_key, email),
            client = call.caller.source_ip.as_str(), retry_after = secs,
            "refused: hourly limit for this e-mail, and the session's device is not known to it");
        ApiError::AccountLocked { retry_after_secs: secs }
    }

    /// A reservation as an answer: granted, or 429 until the client's lock ends.
    fn reserved(&self, email: &Email, call: &Call, reserved: AttemptReservation) -> Result<(), ApiError> {
        match reserved {
            AttemptReservation::Granted => Ok(()),
            AttemptReservation::Locked(until) => {
                let secs = (until - call.now).num_seconds().max(1) as u64;
                tracing::info!(event = "account_locked", email_tag = %email_tag(&self.settings.log_key, email),
                    client = call.caller.source_ip.as_str(), retry_after = secs, "refused: this client is locked out");
                Err(ApiError::AccountLocked { retry_after_secs: secs })
            }
            // Only device tokens can be unknown; an address always has a count.
            AttemptReservation::UnknownDevice => Err(internal("an address has no device")),
        }
    }

    /// A wrong password or code: a failed login of the account's e-mail, then `refusal`.
    /// The failure that reaches the e-mail's hourly ceiling tells the owner, as a login's
    /// does (the same mail, once per hour).
    pub(crate) async fn failed(
        &self,
        account: &Account,
        call: &Call,
        what: &'static str,
        refusal: ApiError,
    ) -> ApiError {
        let email = &account.email;
        match self.store.count_failed_login(email, call.now).await {
            Ok(failures) => {
                tracing::info!(event = "check_failed", what, email_tag = %email_tag(&self.settings.log_key, email),
                    client = call.caller.source_ip.as_str(), failures_this_hour = failures, "wrong {what}");
                if failures == ACCOUNT_FAILURES_PER_HOUR {
                    let notice = login_ceiling_notice(&self.mail, account, call.now);
                    match self.store.put_outgoing(&notice).await {
                        Ok(()) => _ = outbox::deliver(&self.store, &self.mailer, &notice, call.now).await,
                        Err(e) => tracing::warn!(error = %e, "login limit notice not queued"),
                    }
                }
                refusal
            }
            Err(e) => e.into(),
        }
    }

    /// The account's password checked as a login checks it: the attempt is taken alongside
    /// the read of the hash; wrong is 401 `invalid_credentials` and counted. Returns the
    /// credentials and the client whose count a success clears.
    pub(crate) async fn check_password(
        &self,
        profile: &Profile,
        session: &Session,
        password: &str,
        call: &Call,
    ) -> Result<(Credentials, LoginClient), ApiError> {
        let email = &profile.account.email;
        let (client, facts) = self.take_attempt(email, session, call).await?;
        let credentials = facts.credentials.ok_or_else(|| internal("an account without its login"))?;
        let (hasher, stored, typed) = (self.hasher.clone(), credentials.password_hash.clone(), password.to_string());
        // A login without a hash (never set) matches no password.
        if !run_blocking(move || stored.is_some_and(|h| hasher.verify(&typed, &h))).await? {
            return Err(self.failed(&profile.account, call, "password", ApiError::InvalidCredentials).await);
        }
        Ok((credentials, client))
    }
}

impl<S> App<S> {
    pub(crate) async fn data_key(&self) -> Result<&DataKey, ApiError> {
        self.totp_key.key().await.map_err(seal_error)
    }
}
