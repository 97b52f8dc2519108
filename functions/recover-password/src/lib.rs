//! `POST /password-reset` and `POST /password-reset/confirm`: recovery by e-mail with a
//! one-time link.

use chrono::{DateTime, Duration, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};

use shared::config::MailSettings;
use shared::domain::normalize_email;
use shared::domain::password::{check_strength, PasswordHasherArgon};
use shared::domain::token::{issue_token, plausible_token, TokenDigest};
use shared::http::{
    json, no_content, preflight, require_method, route_path, within_deadline, ApiError, JsonBody, MAX_BODY_BYTES,
    MAX_FIELD_BYTES,
};
use shared::mail::{compose, Mailer};
use shared::store::{Accounts, PasswordResets, ResetToken, StoreError};

/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 30;
/// Every reset request is answered after at least this long, mail or no mail.
pub const RESET_ANSWER_FLOOR: std::time::Duration = std::time::Duration::from_millis(600);

pub struct App<S> {
    pub store: S,
    pub mail: MailSettings,
    pub mailer: Mailer,
    pub hasher: PasswordHasherArgon,
}

impl<S: Accounts + PasswordResets> App<S> {
    pub async fn handle(&self, req: Request) -> Response<Body> {
        if let Some(res) = preflight(&req) {
            return res;
        }
        within_deadline(&req, self.route(&req, Utc::now())).await
    }

    async fn route(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        match route_path(req).as_str() {
            "/password-reset" => {
                require_method(req, Method::POST, "POST")?;
                self.request_reset(req, now).await
            }
            "/password-reset/confirm" => {
                require_method(req, Method::POST, "POST")?;
                self.confirm(req, now).await
            }
            _ => Err(ApiError::RouteNotFound),
        }
    }

    /// Always 202: neither the answer nor its timing tells whether an account exists.
    async fn request_reset(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        let started = tokio::time::Instant::now();
        let body = JsonBody::parse(req)?;
        let email = body.string("email", MAX_FIELD_BYTES)?;
        if let Some(email) = normalize_email(email) {
            if let Some(account) = self.store.account(&email).await? {
                // Past this point a failure must not show either: it is logged, and the
                // customer can ask again.
                if let Err(e) = self.send_link(&account.email, &account.name, now).await {
                    tracing::error!(error = %e, "reset link not sent");
                }
            }
        }
        // Mailing takes time an unknown address does not: every answer waits as long.
        tokio::time::sleep_until(started + RESET_ANSWER_FLOOR).await;
        json(StatusCode::ACCEPTED, &serde_json::json!({"status": "accepted"}))
    }

    async fn send_link(&self, email: &str, name: &str, now: DateTime<Utc>) -> Result<(), ApiError> {
        if !self.store.allow_reset_mail(email, now).await? {
            tracing::info!("reset mail not sent: 3 already sent this hour");
            return Ok(());
        }
        let token = issue_token().map_err(|e| ApiError::Internal(e.to_string()))?;
        let reset = ResetToken {
            digest: token.digest.clone(),
            account: email.to_string(),
            issued_at: now,
            expires_at: now + Duration::minutes(RESET_TTL_MINUTES),
            used: false,
        };
        self.store.put_reset_token(&reset).await?;
        let mail = compose::reset_mail(&self.mail, name, email, &token.secret);
        // Failing here would tell a caller that the account exists: log it, answer 202,
        // and the customer can ask again.
        match self.mailer.send(&mail).await {
            Ok(id) => tracing::info!(message_id = %id, "reset mail sent"),
            Err(e) => tracing::error!(error = %e, "reset mail not sent"),
        }
        Ok(())
    }

    async fn confirm(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        let body = JsonBody::parse(req)?;
        let token = body.string("token", MAX_FIELD_BYTES)?;
        // Any length up to the body's limit: an over-long password is a weak_password.
        let new_password = body.string("new_password", MAX_BODY_BYTES)?.to_string();
        if !plausible_token(token) {
            return Err(ApiError::InvalidToken);
        }
        let reset = match self.store.reset_token(&TokenDigest::of(token)).await? {
            Some(r) if !r.used && r.expires_at > now => r,
            _ => return Err(ApiError::InvalidToken),
        };
        // The rule is checked before the token is spent, so a weak try can be corrected.
        check_strength(&new_password, &reset.account).map_err(|e| ApiError::WeakPassword(e.to_string()))?;
        let hasher = self.hasher.clone();
        let hash = tokio::task::spawn_blocking(move || hasher.hash(&new_password))
            .await
            .map_err(|e| ApiError::Internal(e.to_string()))?
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        match self.store.complete_reset(&reset, &hash, now).await {
            Ok(()) => {
                tracing::info!("password replaced; sessions revoked");
                no_content()
            }
            Err(StoreError::Conflict(_)) => Err(ApiError::InvalidToken),
            Err(e) => Err(e.into()),
        }
    }
}
