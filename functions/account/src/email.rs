//! `POST /email-change` and `POST /email-change/confirm`: a new e-mail for the account,
//! asked for with the password and confirmed from the new address's mailbox. The answer
//! to the request never says whether the new address is someone else's; only its holder,
//! at the confirmation, learns that it cannot be used.

use lambda_http::http::StatusCode;

use shared::auth::{authenticate_with_profile, email_tag, token_account};
use shared::domain::email_change::{EmailChange, EMAIL_CHANGE_TTL_MINUTES};
use shared::domain::token::{issue_token, plausible_token, random_id, TokenDigest};
use shared::domain::Email;
use shared::http::{json, no_content, ApiError, Call, Reply, MAX_FIELD_BYTES};
use shared::mail::account::{email_change_link_mail, email_change_notice_mail};
use shared::outbox::{self, PendingMail};
use shared::store::{
    AccountSessions, EmailChangeError, EmailChanges, LoginAttempts, Logins, MailOutbox, Sessions, StoreError,
};

use crate::{count_change, internal, App};

impl<S: Sessions + AccountSessions + LoginAttempts + Logins + EmailChanges + MailOutbox> App<S> {
    pub(crate) async fn ask_email_change(&self, call: Call) -> Reply {
        let (session, profile) = authenticate_with_profile(&self.store, &self.settings, &call, call.now).await?;
        let body = call.body()?;
        let typed = body.string("new_email", MAX_FIELD_BYTES)?;
        let password = body.string("password", MAX_FIELD_BYTES)?;
        let new_email =
            Email::parse(typed).map_err(|_| ApiError::InvalidRequest("new_email: not an e-mail address".into()))?;
        let token = issue_token().map_err(internal)?;
        let change = EmailChange::ask(token.digest.clone(), &profile.account, new_email, call.now)
            .map_err(|e| ApiError::InvalidRequest(e.to_string()))?;
        let (_, client) = self.check_password(&profile, &session, password, &call).await?;
        let account = &profile.account;
        let id = random_id().map_err(internal)?;
        let link = email_change_link_mail(
            &self.mail,
            &account.name,
            change.new_email.as_str(),
            &token.secret,
            EMAIL_CHANGE_TTL_MINUTES,
        );
        let notice =
            email_change_notice_mail(&self.mail, &account.name, account.email.as_str(), change.new_email.as_str());
        let mails = [
            PendingMail::new(format!("email-change-{id}"), link, call.now),
            PendingMail::new(format!("email-notice-{id}"), notice, call.now),
        ];
        match self.store.ask_email_change(&change, &client, &mails).await {
            Ok(()) => {}
            // The e-mail changed since the session was read: that session is dead by now.
            Err(StoreError::Conflict(_)) => return Err(ApiError::Unauthorized),
            Err(e) => return Err(e.into()),
        }
        tracing::info!(event = "email_change_asked", email_tag = %email_tag(&self.settings.log_key, &account.email),
            client = call.caller.source_ip.as_str(), "e-mail change asked for");
        tokio::join!(
            outbox::send_leased(&self.store, &self.mailer, &mails[0], call.now),
            outbox::send_leased(&self.store, &self.mailer, &mails[1], call.now)
        );
        json(StatusCode::ACCEPTED, &serde_json::json!({"status": "accepted"}))
    }

    pub(crate) async fn confirm_email_change(&self, call: Call) -> Reply {
        let account = token_account(&call)?;
        let token = call.body()?.string("token", MAX_FIELD_BYTES)?;
        let digest = plausible_token(token).then(|| TokenDigest::of(token));
        let (caller, found, sessions) = tokio::join!(
            authenticate_with_profile(&self.store, &self.settings, &call, call.now),
            async {
                match &digest {
                    Some(d) => self.store.email_change(d).await,
                    None => Ok(None),
                }
            },
            self.store.sessions_of(&account)
        );
        let (_, profile) = caller?;
        let change = found?
            .filter(|c| c.confirmable_by(&profile.account, profile.email_change.as_ref(), call.now))
            .ok_or(ApiError::InvalidEmailChangeToken)?;
        match self.store.confirm_email_change(&change, &sessions?, call.now).await {
            Ok(()) => {}
            Err(EmailChangeError::Taken) => {
                tracing::info!(
                    event = "email_change_taken",
                    client = call.caller.source_ip.as_str(),
                    "e-mail change refused: the new address has a login"
                );
                return Err(ApiError::EmailTaken);
            }
            Err(EmailChangeError::Outdated) => return Err(ApiError::InvalidEmailChangeToken),
            Err(EmailChangeError::Store(e)) => return Err(e.into()),
        }
        let log_key = &self.settings.log_key;
        tracing::info!(event = "email_changed", email_tag = %email_tag(log_key, &change.old_email),
            new_email_tag = %email_tag(log_key, &change.new_email), client = call.caller.source_ip.as_str(),
            "e-mail changed; every session ended");
        count_change("email");
        no_content()
    }
}
