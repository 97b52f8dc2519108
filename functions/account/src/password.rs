//! `POST /password`: a new password, knowing the current one. Every other session ends,
//! and the owner is told by mail (in the same transaction as the change).

use shared::auth::{authenticate_with_profile, email_tag};
use shared::domain::password::check_strength_with;
use shared::http::{no_content, run_blocking, ApiError, Call, Reply, MAX_BODY_BYTES, MAX_FIELD_BYTES};
use shared::mail::account::password_changed_mail;
use shared::outbox::{self, PendingMail};
use shared::store::{
    AccountSessions, LoginAttempts, Logins, MailOutbox, PasswordChange, PasswordChanges, Sessions, StoreError,
};

use crate::{count_change, internal, App};

impl<S: Sessions + AccountSessions + LoginAttempts + Logins + PasswordChanges + MailOutbox> App<S> {
    pub(crate) async fn change_password(&self, call: Call) -> Reply {
        let (session, profile) = authenticate_with_profile(&self.store, &self.settings, &call, call.now).await?;
        let body = call.body()?;
        let current = body.string("current_password", MAX_FIELD_BYTES)?;
        // Any length up to the body's limit: an over-long password is a weak_password.
        let new_password = body.string("new_password", MAX_BODY_BYTES)?.to_string();
        let account = &profile.account;
        // The rule first: a weak new password costs no attempt.
        check_strength_with(&new_password, &account.email, &[&account.name, &account.company])
            .map_err(|e| ApiError::WeakPassword(e.to_string()))?;
        if new_password == current {
            return Err(ApiError::WeakPassword("the new password must differ from the current one".into()));
        }
        let (checked, listed) =
            tokio::join!(self.check_password(&profile, &session, current, &call), self.store.sessions_of(&account.id));
        let (credentials, client) = checked?;
        let others = listed?;
        let hasher = self.hasher.clone();
        let new_hash = run_blocking(move || hasher.hash(&new_password)).await?.map_err(internal)?;
        let mail = password_changed_mail(&self.mail, &account.name, account.email.as_str());
        let pending = PendingMail::unique("password-changed", mail, call.now).map_err(internal)?;
        let change = PasswordChange {
            credentials: &credentials,
            new_hash: &new_hash,
            current: &session,
            others: &others,
            client: &client,
            mail: &pending,
            now: call.now,
        };
        match self.store.change_password(&change).await {
            Ok(()) => {}
            // A reset or another change replaced the password this request checked.
            Err(StoreError::Conflict(_)) => return Err(ApiError::InvalidCredentials),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "password_changed", email_tag = %email_tag(&self.settings.log_key, &account.email),
            client = call.caller.source_ip.as_str(), sessions_deleted = others.iter().filter(|o| o.id != session.id).count(),
            "password changed; other sessions ended");
        count_change("password");
        // Leased to this request by the transaction: sent now, or by the retry.
        outbox::send_leased(&self.store, &self.mailer, &pending, call.now).await;
        no_content()
    }
}
