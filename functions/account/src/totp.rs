//! Two-step verification: `POST /mfa/totp` gives a new secret (pending),
//! `POST /mfa/totp/confirm` turns it on with a first code and answers the recovery codes
//! once, `DELETE /mfa/totp` turns it off with a code. The secret is kept sealed under the
//! data key and never answered again after confirmation. Turning it on or off mails the
//! owner (put in the outbox by the same transaction as the change).

use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate_with_profile, email_tag, token_account};
use shared::domain::totp::{accepted_step, otpauth_uri, RecoveryCode, TotpSecret};
use shared::domain::Account;
use shared::http::{json, no_content, ApiError, Call, Reply};
use shared::mail::account::two_step_mail;
use shared::outbox::{self, PendingMail};
use shared::second_factor::{open_secret, prove};
use shared::store::{
    AccountSessions, LoginAttempts, Logins, MailOutbox, Sessions, StoreError, TotpEnrolment, TotpState, TwoStep,
};

use crate::{count_change, internal, seal_error, App};

/// A code field is short: 6 digits, or a recovery code with its dashes.
const MAX_CODE_BYTES: usize = 64;

#[derive(Serialize)]
struct Enrolment {
    secret: String,
    otpauth_uri: String,
}

#[derive(Serialize)]
struct RecoveryCodes {
    recovery_codes: Vec<String>,
}

impl<S: Sessions + AccountSessions + LoginAttempts + Logins + TwoStep + MailOutbox> App<S> {
    pub(crate) async fn start_totp(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let (caller, existing) = tokio::join!(
            authenticate_with_profile(&self.store, &self.settings, &call, call.now),
            self.store.totp(&account)
        );
        let (_, profile) = caller?;
        if existing?.is_some_and(|e| e.state == TotpState::On) {
            return Err(ApiError::MfaAlreadyEnabled);
        }
        let key = self.data_key().await?;
        let secret = TotpSecret::generate().map_err(internal)?;
        let enrolment = TotpEnrolment {
            account: account.clone(),
            state: TotpState::Pending,
            sealed_secret: key.seal(secret.as_bytes(), account.as_str()).map_err(seal_error)?,
            last_step: None,
            recovery_codes: Vec::new(),
            created_at: call.now,
        };
        match self.store.start_totp(&enrolment).await {
            Ok(()) => {}
            Err(StoreError::Conflict(_)) => return Err(ApiError::MfaAlreadyEnabled),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "totp_started", email_tag = %email_tag(&self.settings.log_key, &profile.account.email),
            "two-step verification enrolment started");
        json(
            StatusCode::OK,
            &Enrolment {
                otpauth_uri: otpauth_uri(&secret, &self.mail.vendor_name, profile.account.email.as_str()),
                secret: secret.base32(),
            },
        )
    }

    pub(crate) async fn confirm_totp(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let (caller, found) = tokio::join!(
            authenticate_with_profile(&self.store, &self.settings, &call, call.now),
            self.store.totp(&account)
        );
        let (session, profile) = caller?;
        let code = call.body()?.string("code", MAX_CODE_BYTES)?;
        let enrolment = match found? {
            None => return Err(ApiError::MfaNotStarted),
            Some(e) if e.state == TotpState::On => return Err(ApiError::MfaAlreadyEnabled),
            Some(e) => e,
        };
        let email = &profile.account.email;
        let (taken, key) = tokio::join!(self.take_attempt(email, &session, &call), self.data_key());
        let (client, _) = taken?;
        let secret = open_secret(key?, &enrolment).map_err(seal_error)?;
        let Some(step) = accepted_step(&secret, code, call.now, None) else {
            return Err(self.failed(&profile.account, &call, "code", ApiError::InvalidCode).await);
        };
        let codes = RecoveryCode::generate_set().map_err(internal)?;
        let digests: Vec<String> = codes.iter().map(|c| c.digest(&account)).collect();
        let mail = self.change_mail(&profile.account, true, &call)?;
        match self.store.confirm_totp(email, &enrolment, step, &digests, &client, &mail).await {
            Ok(()) => {}
            // Restarted (a new secret) while this code was checked against the old one.
            Err(StoreError::Conflict(_)) => return Err(ApiError::MfaNotStarted),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "totp_enabled", email_tag = %email_tag(&self.settings.log_key, email),
            client = call.caller.source_ip.as_str(), "two-step verification turned on");
        count_change("two_step_on");
        // Leased to this request by the transaction: sent now, or by the retry.
        outbox::send_leased(&self.store, &self.mailer, &mail, call.now).await;
        json(StatusCode::OK, &RecoveryCodes { recovery_codes: codes.iter().map(RecoveryCode::display).collect() })
    }

    pub(crate) async fn disable_totp(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let (caller, found) = tokio::join!(
            authenticate_with_profile(&self.store, &self.settings, &call, call.now),
            self.store.totp(&account)
        );
        let (session, profile) = caller?;
        let code = call.body()?.string("code", MAX_CODE_BYTES)?;
        let Some(enrolment) = found?.filter(|e| e.state == TotpState::On) else {
            return Err(ApiError::MfaNotEnabled);
        };
        let email = &profile.account.email;
        let (taken, key) = tokio::join!(self.take_attempt(email, &session, &call), self.data_key());
        let (client, _) = taken?;
        let Some(proof) = prove(key?, &enrolment, code, call.now).map_err(seal_error)? else {
            return Err(self.failed(&profile.account, &call, "code", ApiError::InvalidCode).await);
        };
        let mail = self.change_mail(&profile.account, false, &call)?;
        match self.store.disable_totp(email, &enrolment, &proof, &client, &mail).await {
            Ok(()) => {}
            // Another request spent this very code first.
            Err(StoreError::Conflict(_)) => {
                return Err(self.failed(&profile.account, &call, "code", ApiError::InvalidCode).await)
            }
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "totp_disabled", email_tag = %email_tag(&self.settings.log_key, email),
            client = call.caller.source_ip.as_str(), "two-step verification turned off");
        count_change("two_step_off");
        outbox::send_leased(&self.store, &self.mailer, &mail, call.now).await;
        no_content()
    }

    /// The owner's mail of the change, for the outbox.
    fn change_mail(&self, account: &Account, turned_on: bool, call: &Call) -> Result<PendingMail, ApiError> {
        let mail = two_step_mail(&self.mail, &account.name, account.email.as_str(), turned_on);
        PendingMail::unique(if turned_on { "totp-on" } else { "totp-off" }, mail, call.now).map_err(internal)
    }
}
