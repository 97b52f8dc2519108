//! The store's side of an account's own security (function `account`, and the second step
//! of a login): its sessions, a password change, two-step verification and e-mail changes.
//! Implemented by [`super::DynamoStore`] in `dynamo/{session,password,totp,email_change}.rs`.

use chrono::{DateTime, Utc};

use super::{KnownDevice, LoginClient, Session, StoreError, StoreResult};
use crate::domain::email_change::EmailChange;
use crate::domain::token::TokenDigest;
use crate::domain::{Account, AccountId, Credentials, Email};
use crate::outbox::PendingMail;

/// The account as an authenticated route needs it, read with its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub account: Account,
    pub password_epoch: u64,
    /// The digest of the latest e-mail change asked for (only that one may be confirmed).
    pub email_change: Option<TokenDigest>,
}

pub trait AccountSessions {
    /// The session with this digest if it belongs to `account`, with the account's profile:
    /// one read of both, as [`super::Sessions::session`].
    async fn session_with_profile(
        &self,
        account: &AccountId,
        digest: &TokenDigest,
    ) -> StoreResult<Option<(Session, Profile)>>;
    /// Every session item the account points at (alive or not; the caller filters with
    /// [`Session::live_at`]): one Query of the account's partition.
    async fn sessions_of(&self, account: &AccountId) -> StoreResult<Vec<Session>>;
    /// The account's session named `id` (the id its owner sees), read from its pointer.
    async fn session_by_id(&self, account: &AccountId, id: &str) -> StoreResult<Option<Session>>;
}

/// A password change, checked and hashed, ready to commit.
pub struct PasswordChange<'a> {
    /// The login as read before the check: the change applies only if it still holds.
    pub credentials: &'a Credentials,
    pub new_hash: &'a str,
    /// The session that asked: it lives on under the new password.
    pub current: &'a Session,
    /// The other sessions of the account: they end.
    pub others: &'a [Session],
    /// The client whose count of failed attempts starts again (the one whose attempt the
    /// check took).
    pub client: &'a LoginClient,
    /// "Your password changed", leased to the request that commits.
    pub mail: &'a PendingMail,
    pub now: DateTime<Utc>,
}

pub trait PasswordChanges {
    /// The new hash, the password epoch moved on (every session made before is dead but
    /// the current one, which moves with it), the other sessions deleted, the client's
    /// count cleared and the mail put, all in one transaction. `Conflict` if the password
    /// changed meanwhile.
    async fn change_password(&self, change: &PasswordChange<'_>) -> StoreResult<()>;
}

/// Whether the app is only being enrolled or two-step verification is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TotpState {
    /// A secret was given out; no code confirmed it yet.
    Pending,
    On,
}

/// An account's TOTP enrolment (`ACCOUNT#<id>` / `TOTP`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    pub account: AccountId,
    pub state: TotpState,
    /// The secret sealed under the data key (`crate::sealing`); never the secret itself.
    pub sealed_secret: String,
    /// The step of the last code accepted: only later steps are accepted.
    pub last_step: Option<u64>,
    /// Digests of the unused recovery codes.
    pub recovery_codes: Vec<String>,
    pub created_at: DateTime<Utc>,
}

/// What a second step presented, as the store spends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// A code of the app, of this step: the enrolment's last step moves to it, on
    /// condition that it is still the one read (a replay in parallel fails).
    Step(u64),
    /// The digest of an unused recovery code: it is removed, on condition that it is still
    /// there (one use only).
    Recovery(String),
}

pub trait TwoStep {
    async fn totp(&self, account: &AccountId) -> StoreResult<Option<TotpEnrolment>>;
    /// Keeps a new pending enrolment, replacing a pending one; `Conflict` if two-step
    /// verification is on.
    async fn start_totp(&self, enrolment: &TotpEnrolment) -> StoreResult<()>;
    /// Turns it on: the enrolment as read (`seen`) is still pending with the same secret,
    /// its last step becomes `step`, the recovery codes are kept, the login item says
    /// two-step verification is on, the client's count is cleared and the owner's `mail`
    /// is put in the outbox, leased to this request, in one transaction. `Conflict`
    /// otherwise.
    async fn confirm_totp(
        &self,
        email: &Email,
        seen: &TotpEnrolment,
        step: u64,
        recovery_codes: &[String],
        client: &LoginClient,
        mail: &PendingMail,
    ) -> StoreResult<()>;
    /// Turns it off with `proof`: the enrolment goes, the login item forgets it, the
    /// client's count is cleared and the owner's `mail` is put in the outbox, leased to
    /// this request, in one transaction. `Conflict` if the proof was spent.
    async fn disable_totp(
        &self,
        email: &Email,
        seen: &TotpEnrolment,
        proof: &Proof,
        client: &LoginClient,
        mail: &PendingMail,
    ) -> StoreResult<()>;
}

/// How long the second step of a login may wait.
pub const MFA_TOKEN_MINUTES: i64 = 5;

/// A login whose password was right, waiting for its second step (`MFA#<digest>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaChallenge {
    pub digest: TokenDigest,
    pub account: AccountId,
    /// The e-mail the login typed: its lockout counts the codes.
    pub email: Email,
    /// The client whose attempts the codes take (the login's address or known device).
    pub client: LoginClient,
    /// The password epoch the login checked: the session is made for it.
    pub password_epoch: u64,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// What a second step reads, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MfaFacts {
    pub challenge: MfaChallenge,
    pub totp: Option<TotpEnrolment>,
    pub account: Option<Account>,
    /// The account's password epoch now: a challenge of an older one is dead.
    pub password_epoch: u64,
}

pub trait MfaLogins {
    async fn put_mfa_challenge(&self, challenge: &MfaChallenge) -> StoreResult<()>;
    /// The challenge if it is `account`'s, with the account's enrolment and profile.
    async fn mfa_facts(&self, account: &AccountId, digest: &TokenDigest) -> StoreResult<Option<MfaFacts>>;
    /// The second step passed, in one write: the challenge is spent (unused, unexpired),
    /// the proof spent, and then as [`super::LoginAttempts::login_succeeded`]. `Conflict`
    /// if the challenge or the proof was spent meanwhile, or the password changed.
    async fn mfa_login_succeeded(
        &self,
        facts: &MfaFacts,
        proof: &Proof,
        session: &Session,
        device: &KnownDevice,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
}

/// Why an e-mail change did not commit.
#[derive(Debug, thiserror::Error)]
pub enum EmailChangeError {
    /// Another login has the new e-mail (whose, is not said).
    #[error("the new e-mail is taken")]
    Taken,
    /// The change was spent, replaced or outdated meanwhile.
    #[error("the change is no longer valid")]
    Outdated,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait EmailChanges {
    /// Keeps the change as the account's latest, clears the client's count and puts the
    /// two mails (leased to the caller), in one transaction.
    async fn ask_email_change(
        &self,
        change: &EmailChange,
        client: &LoginClient,
        mails: &[PendingMail],
    ) -> StoreResult<()>;
    async fn email_change(&self, digest: &TokenDigest) -> StoreResult<Option<EmailChange>>;
    /// Moves the login from the old e-mail to the new one (only if the new one is free),
    /// changes the profile's e-mail, moves the password epoch on (every session is dead),
    /// deletes `sessions` and spends the change, in one transaction.
    async fn confirm_email_change(
        &self,
        change: &EmailChange,
        sessions: &[Session],
        now: DateTime<Utc>,
    ) -> Result<(), EmailChangeError>;
}
