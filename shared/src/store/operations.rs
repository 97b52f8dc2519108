//! What the operators' tool reads and writes beyond the customers' routes: invitations of
//! accounts that have no password yet, and everything support looks up about an account.

use chrono::{DateTime, Utc};

use super::{Dead, Queued, ResetToken, Session, StoreResult, TermsRecord};
use crate::domain::{Account, AccountId, Email, Serial, Subscription};
use crate::outbox::PendingMail;

/// An account that waits to be invited to set its password (`INVITATION` /
/// `PENDING#<account id>`, written with the account by the import).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    pub account: AccountId,
    pub email: Email,
    pub since: DateTime<Utc>,
}

/// Where the next page of pending invitations starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationCursor(pub(crate) String);

#[derive(Debug)]
pub struct InvitationPage {
    /// Each item read, or why it could not be.
    pub entries: Vec<StoreResult<PendingInvitation>>,
    pub next: Option<InvitationCursor>,
}

/// What an invitation's transaction did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteOutcome {
    /// The link's token, the mail (leased to the caller) and the mark on the profile are
    /// written; the pending invitation is gone.
    Invited,
    /// The login has a password (set meanwhile): nothing written.
    HasPassword,
    /// Asked only for a pending invitation, and there is none any more (another run
    /// invited it): nothing written.
    NotPending,
}

pub trait Invitations {
    /// Marks an account as waiting for its invitation (what the import writes).
    async fn put_pending_invitation(&self, account: &AccountId, email: &Email, now: DateTime<Utc>) -> StoreResult<()>;
    /// One page of the pending invitations, in account-id order: one Query with a Limit.
    async fn pending_invitations(&self, after: Option<&InvitationCursor>, limit: i32) -> StoreResult<InvitationPage>;
    async fn drop_pending_invitation(&self, account: &AccountId) -> StoreResult<()>;
    /// Invites the account of `token` in one transaction, on condition that its login
    /// (`token.email`) still has no password: the set-password token, the mail (leased
    /// until `leased_until`), `invited_at` on the profile, and the pending invitation
    /// deleted (when `only_if_pending`, it must still be there).
    async fn invite(
        &self,
        token: &ResetToken,
        mail: &PendingMail,
        leased_until: DateTime<Utc>,
        only_if_pending: bool,
    ) -> StoreResult<InviteOutcome>;
}

/// Upgrade terms an account accepted, with the serials they were for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcceptedTerms {
    pub old_serial: Serial,
    pub new_serial: Option<Serial>,
    pub record: TermsRecord,
}

/// Everything an account's partition holds, for support (no token, digest or hash leaves
/// the store through it but the sessions' digests, which nothing prints).
#[derive(Debug, Clone)]
pub struct AccountOverview {
    pub account: Account,
    pub created_at: Option<DateTime<Utc>>,
    /// When its invitation to set a password was last mailed.
    pub invited_at: Option<DateTime<Utc>>,
    /// The account's password epoch: sessions of another epoch are dead.
    pub password_epoch: u64,
    pub serials: Vec<Subscription>,
    pub sessions: Vec<Session>,
    pub terms: Vec<AcceptedTerms>,
    /// Items of the partition that could not be read, with why.
    pub unreadable: Vec<String>,
}

/// The mails to one address that the outbox still holds.
#[derive(Debug, Clone, Default)]
pub struct MailsTo {
    pub pending: Vec<Queued<PendingMail>>,
    pub dead: Vec<Dead<PendingMail>>,
}

pub trait Support {
    /// The account's profile, serials, sessions and accepted terms: one Query of its
    /// partition (every page). `None` if it has no profile.
    async fn account_overview(&self, account: &AccountId) -> StoreResult<Option<AccountOverview>>;
    /// Mails to `to` waiting in the outbox or among its dead letters (sent mails are not
    /// kept): Queries of the outbox partition filtered by recipient, at most `limit` items
    /// read per kind.
    async fn mails_to(&self, to: &str, limit: i32) -> StoreResult<MailsTo>;
}
