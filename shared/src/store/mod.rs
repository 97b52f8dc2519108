//! Persistence: one DynamoDB table, behind narrow traits (a handler depends only on what
//! it calls). [`DynamoStore`] is the one implementation.
//!
//! # Single-table design
//!
//! The table has a string partition key `pk`, a string sort key `sk`, no secondary index,
//! and the TTL attribute `expires_at` (epoch seconds). It is declared once, in
//! `template.yaml`; `portal-admin init` creates it from there ([`table`]).
//!
//! | item | pk | sk | attributes |
//! | --- | --- | --- | --- |
//! | account | `ACCOUNT#<email>` | `PROFILE` | name, company, password_hash, failed_logins, attempted_at, locked_until, password_changed_at, reset_mail_1..3 |
//! | serial (subscription or license) | `ACCOUNT#<email>` | `SERIAL#<serial>` | system, version, users, plan, billing_period, activated_on, next_payment_on, valid_until, upgraded_from, superseded_by |
//! | session pointer | `ACCOUNT#<email>` | `SESSION#<digest>` | expires_at (lets a password reset revoke every session) |
//! | accepted terms | `ACCOUNT#<email>` | `TERMS#<old serial>` | terms_version, accepted_at, source_ip, user_agent, new_serial |
//! | serial claim | `SERIAL#<serial>` | `SERIAL` | account (makes serial numbers unique and finds the owner) |
//! | session | `SESSION#<sha256 of token>` | `SESSION` | account, expires_at |
//! | reset token | `RESET#<sha256 of token>` | `RESET` | account, issued_at, expires_at, used_at |
//! | product | `CATALOG` | `PRODUCT#<system>` | name, latest_version, terms_version, terms_text |
//! | pending mail | `OUTBOX` | `MAIL#<new serial>` | to, subject, text, html, created_at, lease_until |
//!
//! # Access patterns (calls per request)
//!
//! - log in: UpdateItem (reserve one of the 5 attempts, returning the account), then UpdateItem
//!   (success or failure) and one TransactWriteItems (session + pointer).
//! - session check: GetItem session (strongly consistent).
//! - list: session check + one Query of `ACCOUNT#<email>`, `begins_with(sk, "SERIAL#")`:
//!   2 calls. The catalog is one Query of `CATALOG` per cold start, refreshed every few
//!   minutes (that refresh adds a third call to one request in five minutes).
//! - upgrade: session check, GetItem old serial, GetItem account (for the mail), one
//!   TransactWriteItems (new serial, claim, old serial superseded, accepted terms, pending
//!   mail), then UpdateItem (lease the mail) and DeleteItem once SES took it.
//! - validate: GetItem claim, BatchGetItem (account + serial), UpdateItem on first activation.
//! - password reset: GetItem account, one to three UpdateItem (a free one of the three
//!   slots holding the last mails' times: 3 mails in any hour), PutItem token; confirm:
//!   GetItem token, Query session pointers, one TransactWriteItems.
//! - mail retry: Query `OUTBOX`, UpdateItem (lease), DeleteItem.
//!
//! No Scan anywhere.

#![allow(async_fn_in_trait)] // implemented and called with concrete types only; no `dyn`.

mod dynamo;
pub mod table;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::token::TokenDigest;
use crate::domain::{Account, Product, Serial, Subscription, Upgrade};

pub use dynamo::DynamoStore;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A condition of a write failed: someone else got there first.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// The store could not be reached, or throttled us, after the SDK's retries.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// An item does not have the shape this code writes.
    #[error("item {key} is malformed: {reason}")]
    Corrupt { key: String, reason: String },
    /// The table does not exist (not created yet, or a wrong `TABLE_NAME`).
    #[error("the table does not exist ({0})")]
    NoTable(String),
    #[error("store error: {0}")]
    Other(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// A logged-in session, found by the digest of its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub digest: TokenDigest,
    pub account: String,
    pub expires_at: DateTime<Utc>,
}

/// A one-time password reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub digest: TokenDigest,
    pub account: String,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used: bool,
}

/// The record of accepted upgrade terms, kept with the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsRecord {
    pub terms_version: String,
    pub accepted_at: DateTime<Utc>,
    pub source_ip: String,
    pub user_agent: String,
}

/// A mail waiting in the outbox until SES accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMail {
    /// Unique per mail: the new serial of the upgrade it announces.
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: DateTime<Utc>,
}

/// What happened to one of the limited login attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptReservation {
    /// The password may be checked against this account.
    Granted(Account),
    /// Locked until this instant (or five attempts are already being checked).
    Locked(DateTime<Utc>),
    /// No such account.
    NoAccount,
}

pub trait Accounts {
    async fn account(&self, email: &str) -> StoreResult<Option<Account>>;
}

pub trait LoginAttempts {
    /// Takes one of the [`MAX_FAILED_LOGINS`] attempts before the password is checked,
    /// so parallel guesses cannot get past the limit. Attempts that never report back (the
    /// login timed out or lost the store's answer) count as failures: at the limit they
    /// lock until [`LOCK_MINUTES`] after the last one, then the count starts again.
    async fn reserve_login_attempt(&self, email: &str, now: DateTime<Utc>) -> StoreResult<AttemptReservation>;
    /// The password was right: the count starts again.
    async fn login_succeeded(&self, email: &str) -> StoreResult<()>;
    /// The password was wrong; locks the account when this was the last attempt.
    async fn login_failed(&self, email: &str, now: DateTime<Utc>) -> StoreResult<()>;
}

pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCK_MINUTES: i64 = 15;

pub trait Sessions {
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The live session with this digest; expired ones are `None` whatever TTL has done.
    async fn session(&self, digest: &TokenDigest, now: DateTime<Utc>) -> StoreResult<Option<Session>>;
    async fn revoke_session(&self, session: &Session) -> StoreResult<()>;
}

pub trait PasswordResets {
    /// Counts one reset mail for the account; false when 3 were sent in the last hour.
    async fn allow_reset_mail(&self, email: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn put_reset_token(&self, token: &ResetToken) -> StoreResult<()>;
    async fn reset_token(&self, digest: &TokenDigest) -> StoreResult<Option<ResetToken>>;
    /// Spends the token, replaces the password, clears the lock and revokes every session,
    /// all at once. `Conflict` if the token was spent meanwhile.
    async fn complete_reset(&self, token: &ResetToken, new_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
}

pub trait SubscriptionReader {
    /// Every serial of the account, in one Query.
    async fn subscriptions(&self, email: &str) -> StoreResult<Vec<Subscription>>;
    async fn subscription(&self, email: &str, serial: &Serial) -> StoreResult<Option<Subscription>>;
}

pub trait CatalogReader {
    async fn products(&self) -> StoreResult<Vec<Product>>;
}

/// Why an upgrade transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum UpgradeCommitError {
    /// The old serial was upgraded (or changed) by someone else first.
    #[error("the serial was upgraded concurrently")]
    AlreadyUpgraded,
    /// The new serial number exists already; draw another.
    #[error("the new serial number is taken")]
    SerialTaken,
    /// Another write held the old serial; nothing was written. Look again, then retry.
    #[error("the serial was busy with another write")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait UpgradeWriter {
    /// Commits an upgrade in one transaction: new serial and its claim, old serial
    /// superseded, terms record and the mail to send.
    async fn commit_upgrade(
        &self,
        upgrade: &Upgrade,
        terms: &TermsRecord,
        mail: &PendingMail,
    ) -> Result<(), UpgradeCommitError>;
}

pub trait SerialValidation {
    /// The serial and its owner's account, found by serial number alone.
    async fn serial_with_account(&self, serial: &Serial) -> StoreResult<Option<(Subscription, Account)>>;
    /// Sets the activation date once; `false` if it was already set.
    async fn activate(&self, subscription: &Subscription, today: NaiveDate) -> StoreResult<bool>;
}

pub trait MailOutbox {
    /// Mails older than `older_than`, oldest first.
    async fn pending_mails(&self, older_than: DateTime<Utc>, limit: i32) -> StoreResult<Vec<PendingMail>>;
    /// Takes the mail for sending until `until`; false if someone else holds it or it is gone.
    async fn lease_mail(&self, id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool>;
    async fn mail_sent(&self, id: &str) -> StoreResult<()>;
}

/// The operators' writes (`portal-admin`).
pub trait AdminStore {
    async fn put_product(&self, product: &Product) -> StoreResult<()>;
    /// Creates an account; `Conflict` if the e-mail is taken.
    async fn add_account(&self, account: &Account) -> StoreResult<()>;
    /// Creates an account with its serials, all or nothing.
    async fn add_account_with_subscriptions(&self, account: &Account, subs: &[Subscription]) -> StoreResult<()>;
    /// Adds a serial with its claim; `Conflict` if the serial number exists.
    async fn add_subscription(&self, subscription: &Subscription) -> StoreResult<()>;
}
