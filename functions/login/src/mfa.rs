//! `POST /login/mfa`: the second step of a login with two-step verification on. The
//! `mfa_token` of the first step (short-lived, kept as a digest, spent by the success)
//! and a code: the app's, accepted once, or an unused recovery code, spent by its use.
//! Codes take the attempts of the client the first step counted, under the same locks.

use chrono::Duration;
use lambda_http::http::StatusCode;

use shared::auth::email_tag;
use shared::domain::token::{issue_token, parse_session_token};
use shared::http::{json, ApiError, Call, Reply, MAX_FIELD_BYTES};
use shared::sealing::SealError;
use shared::second_factor::prove;
use shared::store::{
    Accounts, AttemptReservation, KnownDevice, LoginAttempts, LoginClient, Logins, MailOutbox, MfaFacts, MfaLogins,
    Sessions, StoreError, TotpState, DEVICE_DAYS,
};

use crate::{internal, AccountView, App, LoginResponse};

/// A code field is short: 6 digits, or a recovery code with its dashes.
const MAX_CODE_BYTES: usize = 64;

fn seal_error(e: SealError) -> ApiError {
    match e {
        SealError::Unavailable(why) => ApiError::Unavailable(why),
        other => ApiError::Internal(other.to_string()),
    }
}

impl<S: Accounts + Logins + LoginAttempts + Sessions + MailOutbox + MfaLogins> App<S> {
    pub(crate) async fn login_mfa(&self, call: Call) -> Reply {
        let now = call.now;
        let body = call.body()?;
        let token = body.string("mfa_token", MAX_FIELD_BYTES)?;
        let code = body.string("code", MAX_CODE_BYTES)?;
        let (account, digest) = parse_session_token(token).ok_or(ApiError::InvalidMfaToken)?;
        let facts = self.store.mfa_facts(&account, &digest).await?.ok_or(ApiError::InvalidMfaToken)?;
        let challenge = &facts.challenge;
        // Turned off, or the password replaced, since the first step: that login starts again.
        let enrolment = facts.totp.as_ref().filter(|e| e.state == TotpState::On);
        let alive = !challenge.used && challenge.expires_at > now && challenge.password_epoch == facts.password_epoch;
        let (Some(enrolment), true) = (enrolment, alive) else {
            return Err(ApiError::InvalidMfaToken);
        };
        let email = &challenge.email;
        let tag = email_tag(&self.settings.log_key, email);
        let (reserved, key) =
            tokio::join!(self.store.reserve_login_attempt(email, &challenge.client, now), self.totp_key.key());
        let reserved = match reserved? {
            // The first step's device stopped being known (expired): the address counts.
            AttemptReservation::UnknownDevice => {
                let address = LoginClient::Address(call.caller.source_ip.clone());
                self.store.reserve_login_attempt(email, &address, now).await?
            }
            other => other,
        };
        if let AttemptReservation::Locked(until) = reserved {
            let secs = (until - now).num_seconds().max(1) as u64;
            tracing::info!(event = "login_locked", email_tag = %tag, client = call.caller.source_ip.as_str(),
                retry_after = secs, "second step refused: this client is locked out");
            crate::login_metric("locked");
            return Err(ApiError::AccountLocked { retry_after_secs: secs });
        }
        let Some(proof) = prove(key.map_err(seal_error)?, enrolment, code, now).map_err(seal_error)? else {
            return Err(self.wrong_code(&call, &facts).await);
        };
        let device = issue_token().map_err(internal)?;
        let known = KnownDevice {
            digest: device.digest.clone(),
            account: account.clone(),
            expires_at: now + Duration::days(DEVICE_DAYS),
        };
        let (session_token, session) = self.new_session(&call, &account, challenge.password_epoch, &known.digest)?;
        match self.store.mfa_login_succeeded(&facts, &proof, &session, &known, now).await {
            Ok(()) => {}
            // Spent meanwhile (the same code or token twice at once), or the password changed.
            Err(StoreError::Conflict(_)) => return Err(self.wrong_code(&call, &facts).await),
            Err(e) => return Err(e.into()),
        }
        let holder = match &facts.account {
            Some(a) => a.clone(),
            None => self
                .store
                .account(&account)
                .await?
                .ok_or_else(|| ApiError::Internal("a login without its account".into()))?,
        };
        tracing::info!(event = "login", email_tag = %tag, client = call.caller.source_ip.as_str(), second_step = true,
            recovery_code = matches!(proof, shared::store::Proof::Recovery(_)), "logged in");
        crate::login_metric("succeeded");
        json(
            StatusCode::OK,
            &LoginResponse {
                token: &session_token,
                token_type: "Bearer",
                expires_at: session.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                account: AccountView { email: holder.email.as_str(), name: &holder.name, company: &holder.company },
                device_token: &device.secret,
            },
        )
    }

    /// A wrong, used or spent code: a failed login of the e-mail.
    async fn wrong_code(&self, call: &Call, facts: &MfaFacts) -> ApiError {
        let email = &facts.challenge.email;
        match self.store.count_failed_login(email, call.now).await {
            Ok(failures) => {
                tracing::info!(event = "login_failed", second_step = true,
                    email_tag = %email_tag(&self.settings.log_key, email), client = call.caller.source_ip.as_str(),
                    failures_this_hour = failures, "second step failed");
                crate::login_metric("failed");
                ApiError::InvalidCode
            }
            Err(e) => e.into(),
        }
    }
}
