//! Inviting an account that has no password yet (an imported one) to set it: a one-time
//! link like a reset's, valid [`INVITATION_DAYS`] days, mailed through the outbox. The
//! token, the mail, the profile's `invited_at` and the end of its pending invitation are
//! one transaction, on condition that the login still has no password; following the link
//! is `POST /password-reset/confirm`, as for a reset.

use chrono::{DateTime, Duration, Utc};

use crate::config::MailSettings;
use crate::domain::token::issue_token;
use crate::domain::Email;
use crate::mail::{compose, Mailer};
use crate::outbox::{send_leased, Delivery, PendingMail, LEASE};
use crate::store::{Accounts, Invitations, InviteOutcome, Logins, MailOutbox, ResetToken, StoreError, StoreResult};

/// How long an invitation's link works.
pub const INVITATION_DAYS: i64 = 7;

/// What inviting one e-mail did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invited {
    /// The invitation is written; how its mail went (sent, or kept for the retry).
    Mailed { mail_id: String, delivery: Delivery },
    /// The account has a password: nothing to invite it to (its pending invitation, if
    /// any, is dropped).
    HasPassword,
    /// Another run invited it first.
    NotPending,
    /// No account logs in with this e-mail.
    NoAccount,
}

/// Invites the account that logs in with `email`. `from_pending`: it was listed as
/// pending, and is invited only if it still is (so two runs never both mail it).
pub async fn invite<S: Accounts + Logins + Invitations + MailOutbox>(
    store: &S,
    mailer: &Mailer,
    settings: &MailSettings,
    email: &Email,
    from_pending: bool,
    now: DateTime<Utc>,
) -> StoreResult<Invited> {
    let Some(login) = store.credentials(email).await? else { return Ok(Invited::NoAccount) };
    if login.password_hash.is_some() {
        store.drop_pending_invitation(&login.account).await?;
        return Ok(Invited::HasPassword);
    }
    let Some(account) = store.account(&login.account).await? else { return Ok(Invited::NoAccount) };
    let random = |e: getrandom::Error| StoreError::Other(format!("no randomness: {e}"));
    let token = issue_token().map_err(random)?;
    let reset = ResetToken {
        digest: token.digest.clone(),
        account: account.id.clone(),
        email: login.email.clone(),
        issued_at: now,
        expires_at: now + Duration::days(INVITATION_DAYS),
        used: false,
    };
    let mail = compose::invitation_mail(settings, &account.name, login.email.as_str(), &token.secret, INVITATION_DAYS);
    let pending = PendingMail::unique("invitation", mail, now).map_err(random)?;
    match store.invite(&reset, &pending, now + LEASE, from_pending).await? {
        InviteOutcome::Invited => {
            let delivery = send_leased(store, mailer, &pending, now).await;
            tracing::info!(account = %account.id, mail = %pending.id, "invited to set a password");
            Ok(Invited::Mailed { mail_id: pending.id, delivery })
        }
        InviteOutcome::HasPassword => {
            store.drop_pending_invitation(&login.account).await?;
            Ok(Invited::HasPassword)
        }
        InviteOutcome::NotPending => Ok(Invited::NotPending),
    }
}
