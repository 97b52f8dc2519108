//! `POST /login` and `POST /logout`: password login with lockout, bearer sessions.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use shared::auth::authenticate;
use shared::config::Settings;
use shared::domain::normalize_email;
use shared::domain::password::PasswordHasherArgon;
use shared::domain::token::issue_token;
use shared::http::{
    json, no_content, preflight, require_method, route_path, within_deadline, ApiError, JsonBody, MAX_FIELD_BYTES,
};
use shared::store::{AttemptReservation, LoginAttempts, Session, Sessions};

pub struct App<S> {
    pub store: S,
    pub settings: Settings,
    pub hasher: PasswordHasherArgon,
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

impl<S: LoginAttempts + Sessions> App<S> {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        if let Some(res) = preflight(&req) {
            return res;
        }
        within_deadline(&req, self.route(&req, Utc::now())).await
    }

    async fn route(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        match route_path(req).as_str() {
            "/login" => {
                require_method(req, Method::POST, "POST")?;
                self.login(req, now).await
            }
            "/logout" => {
                require_method(req, Method::POST, "POST")?;
                let session = authenticate(&self.store, req, now).await?;
                self.store.revoke_session(&session).await?;
                tracing::info!("logged out");
                no_content()
            }
            _ => Err(ApiError::RouteNotFound),
        }
    }

    async fn login(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        let body = JsonBody::parse(req)?;
        let email = body.string("email", MAX_FIELD_BYTES)?;
        let password = body.string("password", MAX_FIELD_BYTES)?.to_string();
        // A malformed e-mail is just an unknown account: same answer, same work.
        let reservation = match normalize_email(email) {
            Some(email) => self.store.reserve_login_attempt(&email, now).await?,
            None => AttemptReservation::NoAccount,
        };
        let account = match reservation {
            AttemptReservation::Granted(account) => account,
            AttemptReservation::Locked(until) => {
                let secs = (until - now).num_seconds().max(1) as u64;
                tracing::info!(retry_after = secs, "login refused: account locked");
                return Err(ApiError::AccountLocked { retry_after_secs: secs });
            }
            AttemptReservation::NoAccount => {
                let hasher = self.hasher.clone();
                run_blocking(move || hasher.burn(&password)).await?;
                // The same store work as a wrong password: the failure's write (a no-op
                // here, as the condition cannot hold for a missing account).
                if let Some(email) = normalize_email(email) {
                    self.store.login_failed(&email, now).await?;
                }
                return Err(ApiError::InvalidCredentials);
            }
        };
        let hasher = self.hasher.clone();
        let stored = account.password_hash.clone();
        let matches = run_blocking(move || hasher.verify(&password, &stored)).await?;
        if !matches {
            self.store.login_failed(&account.email, now).await?;
            return Err(ApiError::InvalidCredentials);
        }
        self.store.login_succeeded(&account.email).await?;
        let token = issue_token().map_err(|e| ApiError::Internal(e.to_string()))?;
        let expires_at = now + Duration::hours(i64::from(self.settings.session_ttl_hours));
        let session = Session { digest: token.digest.clone(), account: account.email.clone(), expires_at };
        self.store.create_session(&session).await?;
        tracing::info!("logged in");
        json(
            StatusCode::OK,
            &LoginResponse {
                token: &token.secret,
                token_type: "Bearer",
                expires_at: expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                account: AccountView { email: &account.email, name: &account.name, company: &account.company },
            },
        )
    }
}

/// Argon2id takes tens of milliseconds of CPU: keep it off the async workers.
async fn run_blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::Internal(e.to_string()))
}
