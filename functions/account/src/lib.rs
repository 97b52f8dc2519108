//! The customer's own security, every route behind the bearer: the password
//! (`POST /password`), the open sessions (`GET /sessions`, `DELETE /sessions/{id}`),
//! two-step verification with TOTP (`POST /mfa/totp`, `POST /mfa/totp/confirm`,
//! `DELETE /mfa/totp`) and the e-mail (`POST /email-change`, `POST /email-change/confirm`).
//!
//! A password or a code checked here counts like a login's: one of the client's five
//! attempts is taken before the check (so parallel guesses cannot pass five), a wrong one
//! is a failed login of the account's e-mail, and a right one starts the count again.

mod email;
mod password;
mod sessions;
mod totp;

use shared::auth::email_tag;
use shared::config::{MailSettings, Settings};
use shared::domain::password::PasswordHasherArgon;
use shared::domain::{Credentials, Email};
use shared::http::{run_blocking, ApiError, Call, Function, Input, Route};
use shared::mail::Mailer;
use shared::sealing::{DataKey, DataKeySource, SealError};
use shared::startup::Base;
use shared::store::{AttemptReservation, DynamoStore, LoginAttempts, LoginClient, Logins, Profile};
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

impl<S: LoginAttempts + Logins> App<S> {
    /// Takes one of the caller's attempts at `email` (429 when they are used up).
    pub(crate) async fn take_attempt(&self, email: &Email, call: &Call) -> Result<(), ApiError> {
        let client = LoginClient::Address(call.caller.source_ip.clone());
        match self.store.reserve_login_attempt(email, &client, call.now).await? {
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

    /// A wrong password or code: a failed login of `email`, then `refusal`.
    pub(crate) async fn failed(&self, email: &Email, call: &Call, what: &'static str, refusal: ApiError) -> ApiError {
        match self.store.count_failed_login(email, call.now).await {
            Ok(failures) => {
                tracing::info!(event = "check_failed", what, email_tag = %email_tag(&self.settings.log_key, email),
                    client = call.caller.source_ip.as_str(), failures_this_hour = failures, "wrong {what}");
                refusal
            }
            Err(e) => e.into(),
        }
    }

    /// The account's password checked as a login checks it: the attempt is taken alongside
    /// the read of the hash; wrong is 401 `invalid_credentials` and counted.
    pub(crate) async fn check_password(
        &self,
        profile: &Profile,
        password: &str,
        call: &Call,
    ) -> Result<Credentials, ApiError> {
        let email = &profile.account.email;
        let (taken, credentials) = tokio::join!(self.take_attempt(email, call), self.store.credentials(email));
        taken?;
        let credentials = credentials?.ok_or_else(|| internal("an account without its login"))?;
        let (hasher, stored, typed) = (self.hasher.clone(), credentials.password_hash.clone(), password.to_string());
        // A login without a hash (never set) matches no password.
        if !run_blocking(move || stored.is_some_and(|h| hasher.verify(&typed, &h))).await? {
            return Err(self.failed(email, call, "password", ApiError::InvalidCredentials).await);
        }
        Ok(credentials)
    }
}

impl<S> App<S> {
    pub(crate) async fn data_key(&self) -> Result<&DataKey, ApiError> {
        self.totp_key.key().await.map_err(seal_error)
    }
}
