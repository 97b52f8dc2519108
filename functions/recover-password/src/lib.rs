//! `POST /password-reset` and `POST /password-reset/confirm`: recovery by e-mail with a
//! one-time link.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;

use shared::auth::email_tag;
use shared::config::{LogKey, MailSettings};
use shared::domain::password::{check_strength, PasswordHasherArgon};
use shared::domain::token::{issue_token, plausible_token, TokenDigest};
use shared::domain::{Credentials, Email};
use shared::http::{
    json, no_content, run_blocking, ApiError, Call, Function, Input, Reply, Route, MAX_BODY_BYTES, MAX_FIELD_BYTES,
};
use shared::mail::{compose, Mailer};
use shared::outbox::{self, PendingMail};
use shared::startup::Base;
use shared::store::{Accounts, DynamoStore, Logins, MailOutbox, PasswordResets, ResetToken, StoreError};
use shared::telemetry::fail_start;

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 30;
/// Every reset request is answered after at least this long, mail or no mail.
pub const RESET_ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(600);

pub struct App<S> {
    store: S,
    mail: MailSettings,
    mailer: Mailer,
    hasher: PasswordHasherArgon,
    log_key: LogKey,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![
        Route::post("/password-reset", Input::Json, |app, call| Box::pin(app.request_reset(call))),
        Route::post("/password-reset/confirm", Input::Json, |app, call| Box::pin(app.confirm(call))),
    ]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let (mail, mailer) = base.mail();
        let hasher = PasswordHasherArgon::new().unwrap_or_else(|e| fail_start("password hasher", e));
        let edge = base.settings.origin_verify_secret.clone();
        let log_key = base.settings.log_key.clone();
        Function::new(App { store: base.store, mail, mailer, hasher, log_key }, routes()).behind_edge(edge)
    }
}

impl<S: Accounts + Logins + PasswordResets + MailOutbox> App<S> {
    /// Always 202: neither the answer nor its timing tells whether an account exists.
    async fn request_reset(&self, call: Call) -> Reply {
        let started = tokio::time::Instant::now();
        let email = call.body()?.string("email", MAX_FIELD_BYTES)?;
        if let Ok(email) = Email::parse(email) {
            tracing::info!(event = "reset_requested", email_tag = %email_tag(&self.log_key, &email),
                client = call.caller.source_ip.as_str(), "password reset asked for");
            shared::metrics::count_by("PasswordResets", "Outcome", "requested", 1);
            if let Some(login) = self.store.credentials(&email).await? {
                // Past this point a failure must not show either: it is logged, and the
                // customer can ask again.
                if let Err(e) = self.send_link(&login, call.now).await {
                    tracing::error!(error = %e, "reset link not sent");
                }
            }
        }
        // Mailing takes time an unknown address does not: every answer waits as long.
        tokio::time::sleep_until(started + RESET_ANSWER_FLOOR).await;
        json(StatusCode::ACCEPTED, &serde_json::json!({"status": "accepted"}))
    }

    async fn send_link(&self, login: &Credentials, now: DateTime<Utc>) -> Result<(), ApiError> {
        if !self.store.allow_reset_mail(&login.email, now).await? {
            tracing::info!("reset mail not sent: 3 already sent this hour");
            return Ok(());
        }
        let account = self
            .store
            .account(&login.account)
            .await?
            .ok_or_else(|| ApiError::Internal("a login without its account".into()))?;
        let internal = |e: getrandom::Error| ApiError::Internal(e.to_string());
        let token = issue_token().map_err(internal)?;
        let reset = ResetToken {
            digest: token.digest.clone(),
            account: account.id.clone(),
            email: login.email.clone(),
            issued_at: now,
            expires_at: now + Duration::minutes(RESET_TTL_MINUTES),
            used: false,
        };
        self.store.put_reset_token(&reset).await?;
        let mail = compose::reset_mail(&self.mail, &account.name, login.email.as_str(), &token.secret);
        let pending = PendingMail::unique("reset", mail, now).map_err(internal)?;
        self.store.put_outgoing(&pending).await?;
        outbox::deliver(&self.store, &self.mailer, &pending, now).await;
        Ok(())
    }

    async fn confirm(&self, call: Call) -> Reply {
        let body = call.body()?;
        let token = body.string("token", MAX_FIELD_BYTES)?;
        // Any length up to the body's limit: an over-long password is a weak_password.
        let new_password = body.string("new_password", MAX_BODY_BYTES)?.to_string();
        if !plausible_token(token) {
            return Err(ApiError::InvalidToken);
        }
        let reset = match self.store.reset_token(&TokenDigest::of(token)).await? {
            Some(r) if !r.used && r.expires_at > call.now => r,
            _ => return Err(ApiError::InvalidToken),
        };
        // The rule is checked before the token is spent, so a weak try can be corrected.
        check_strength(&new_password, &reset.email).map_err(|e| ApiError::WeakPassword(e.to_string()))?;
        let hasher = self.hasher.clone();
        let hash =
            run_blocking(move || hasher.hash(&new_password)).await?.map_err(|e| ApiError::Internal(e.to_string()))?;
        match self.store.complete_reset(&reset, &hash, call.now).await {
            Ok(()) => {
                tracing::info!(event = "reset_completed", email_tag = %email_tag(&self.log_key, &reset.email),
                    client = call.caller.source_ip.as_str(), "password replaced; sessions revoked");
                shared::metrics::count_by("PasswordResets", "Outcome", "completed", 1);
                no_content()
            }
            Err(StoreError::Conflict(_)) => Err(ApiError::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }
}
