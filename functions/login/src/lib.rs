//! `POST /login` and `POST /logout`: password login with lockout, bearer sessions.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::authenticate;
use shared::config::Settings;
use shared::domain::password::PasswordHasherArgon;
use shared::domain::token::{issue_token, random_id};
use shared::domain::{AccountId, Email};
use shared::http::{json, no_content, ApiError, Call, Function, Input, Reply, Route, MAX_FIELD_BYTES};
use shared::startup::Base;
use shared::store::{Accounts, AttemptReservation, DynamoStore, LoginAttempts, Session, Sessions};
use shared::telemetry::fail_start;

pub struct App<S> {
    store: S,
    settings: Settings,
    hasher: PasswordHasherArgon,
}

/// The function's routes, declared once: the dispatcher, `template.yaml` and
/// `openapi.yaml` all follow this table (checked by the workspace's route test).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![
        Route::post("/login", Input::Json, |app, call| Box::pin(app.login(call))),
        Route::post("/logout", Input::Nothing, |app, call| Box::pin(app.logout(call))),
    ]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let hasher = PasswordHasherArgon::new().unwrap_or_else(|e| fail_start("password hasher", e));
        Function::new(App { store: base.store, settings: base.settings, hasher }, routes())
    }
}

#[derive(Serialize)]
struct LoginResponse<'a> {
    token: &'a str,
    token_type: &'static str,
    expires_at: String,
    account: AccountView<'a>,
}

#[derive(Serialize)]
struct AccountView<'a> {
    email: &'a str,
    name: &'a str,
    company: &'a str,
}

impl<S: Accounts + LoginAttempts + Sessions> App<S> {
    async fn logout(&self, call: Call) -> Reply {
        let session = authenticate(&self.store, &call, call.now).await?;
        self.store.revoke_session(&session).await?;
        tracing::info!("logged out");
        no_content()
    }

    async fn login(&self, call: Call) -> Reply {
        let now = call.now;
        let body = call.body()?;
        // A malformed e-mail is just an unknown account: same answer, same work.
        let email = Email::parse(body.string("email", MAX_FIELD_BYTES)?).ok();
        let password = body.string("password", MAX_FIELD_BYTES)?.to_string();
        let reservation = match &email {
            Some(email) => self.store.reserve_login_attempt(email, now).await?,
            None => AttemptReservation::NoAccount,
        };
        let credentials = match reservation {
            AttemptReservation::Granted(credentials) => credentials,
            AttemptReservation::Locked(until) => {
                let secs = (until - now).num_seconds().max(1) as u64;
                tracing::info!(retry_after = secs, "login refused: account locked");
                return Err(ApiError::AccountLocked { retry_after_secs: secs });
            }
            AttemptReservation::NoAccount => {
                let hasher = self.hasher.clone();
                run_blocking(move || hasher.burn(&password)).await?;
                // The same store work as a wrong password: the failure's write (a no-op
                // here, as the condition cannot hold for a missing login).
                if let Some(email) = &email {
                    self.store.login_failed(email, now).await?;
                }
                return Err(ApiError::InvalidCredentials);
            }
        };
        let hasher = self.hasher.clone();
        let stored = credentials.password_hash.clone();
        if !run_blocking(move || hasher.verify(&password, &stored)).await? {
            self.store.login_failed(&credentials.email, now).await?;
            return Err(ApiError::InvalidCredentials);
        }
        self.store.login_succeeded(&credentials.email).await?;
        let account = self
            .store
            .account(&credentials.account)
            .await?
            .ok_or_else(|| ApiError::Internal("a login without its account".into()))?;
        let (token, expires_at) = self.open_session(&call, &account.id).await?;
        json(
            StatusCode::OK,
            &LoginResponse {
                token: &token,
                token_type: "Bearer",
                expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                account: AccountView { email: account.email.as_str(), name: &account.name, company: &account.company },
            },
        )
    }

    /// Creates the caller's session: its bearer token and when it expires.
    async fn open_session(&self, call: &Call, account: &AccountId) -> Result<(String, DateTime<Utc>), ApiError> {
        let internal = |e: getrandom::Error| ApiError::Internal(e.to_string());
        let token = issue_token().map_err(internal)?;
        let expires_at = call.now + Duration::hours(i64::from(self.settings.session_ttl_hours));
        let session = Session {
            digest: token.digest,
            id: random_id().map_err(internal)?,
            account: account.clone(),
            created_at: call.now,
            expires_at,
            source_ip: call.caller.source_ip.clone(),
            user_agent: call.caller.user_agent.clone(),
        };
        self.store.create_session(&session).await?;
        tracing::info!("logged in");
        Ok((token.secret, expires_at))
    }
}

/// Argon2id takes tens of milliseconds of CPU: keep it off the async workers.
async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))
}
