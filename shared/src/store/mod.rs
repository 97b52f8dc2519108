//! Persistence: one DynamoDB table, behind narrow traits (a handler depends only on what
//! it calls). [`DynamoStore`] is the one implementation, a module per item family. The
//! table design (items, keys and the access pattern of every route) is
//! `docs/table-design.md`; the table itself is declared once, in `template.yaml`, and
//! `portal-admin init` and the tests create it from there ([`table`]). No Scan anywhere.

#![allow(async_fn_in_trait)] // implemented and called with concrete types only; no `dyn`.

mod dynamo;
mod operations;
mod outbox;
mod security;
pub mod table;

use chrono::{DateTime, NaiveDate, Utc};

use crate::domain::token::TokenDigest;
use crate::domain::{Account, AccountId, Credentials, Email, PaymentId, Product, Serial, Subscription, Upgrade};
use crate::events::PendingEvent;
use crate::outbox::PendingMail;

pub use dynamo::{inserted_events, keys, DynamoStore, Key, ACCOUNT_ITEMS, SERIAL_ITEMS};
pub use operations::{
    AcceptedTerms, AccountOverview, InvitationCursor, InvitationPage, Invitations, InviteOutcome, MailsTo,
    PendingInvitation, Support,
};
pub use outbox::{Dead, EventOutbox, Lease, MailOutbox, Outbox, OutboxCursor, OutboxPage, Outgoing, Queued};
pub use security::{
    AccountSessions, EmailChangeError, EmailChanges, MfaChallenge, MfaFacts, MfaLogins, PasswordChange,
    PasswordChanges, Profile, Proof, TotpEnrolment, TotpState, TwoStep, MFA_TOKEN_MINUTES,
};

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
    /// Names the session to its owner (the session list); never the token or its digest.
    pub id: String,
    pub account: AccountId,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// Last recorded use (recorded at most every [`SESSION_TOUCH_MINUTES`]).
    pub last_used_at: DateTime<Utc>,
    /// The account's password epoch when the session was made: a password change or
    /// reset moves the account's epoch on, and every older session is dead.
    pub password_epoch: u64,
    /// The client that logged in, as the gateway saw it.
    pub source_ip: String,
    pub user_agent: String,
    /// The known device the login came from or was given (its token's digest): past the
    /// e-mail's hourly ceiling, the account's routes let that device alone check a password
    /// or a code, with its own count. `None` for a session stored before sessions kept it.
    pub device: Option<TokenDigest>,
}

/// How often a session's last use is written (the idle limit is checked against it).
pub const SESSION_TOUCH_MINUTES: i64 = 5;

impl Session {
    /// Alive at `now`: not expired, used within `idle`, and made with the account's
    /// current password epoch.
    pub fn live_at(&self, now: DateTime<Utc>, idle: chrono::Duration, account_epoch: u64) -> bool {
        self.expires_at > now && self.last_used_at + idle > now && self.password_epoch == account_epoch
    }

    /// Whether this use should be recorded (the last one recorded is old enough).
    pub fn wants_touch(&self, now: DateTime<Utc>) -> bool {
        now - self.last_used_at >= chrono::Duration::minutes(SESSION_TOUCH_MINUTES)
    }
}

/// A one-time password reset token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResetToken {
    pub digest: TokenDigest,
    pub account: AccountId,
    /// The login the link was mailed to: the reset applies only while it is still this
    /// account's.
    pub email: Email,
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

/// Who is trying to log in, for the count of failed attempts: a known device (one that
/// logged in to this account before and shows its device token) or else the client's
/// network address. Each has its own count of [`MAX_FAILED_LOGINS`] per e-mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginClient {
    Address(String),
    Device(TokenDigest),
}

/// What a login reads before it checks anything, in one round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginFacts {
    /// `None`: no account logs in with this e-mail (it is treated exactly alike).
    pub credentials: Option<Credentials>,
    /// The account as its login item copies it (e-mail, name, company): what a successful
    /// login answers. `None` also for a login item written before it kept the copies.
    pub account: Option<Account>,
    /// Failed logins for this e-mail in the current clock hour, from every client.
    pub failures_this_hour: u32,
}

/// What happened to one of a client's limited login attempts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptReservation {
    /// The password may be checked.
    Granted,
    /// This client is locked out of this e-mail until this instant (or its five attempts
    /// are being checked right now).
    Locked(DateTime<Utc>),
    /// The device token is no known device of this e-mail (made up, expired or another
    /// e-mail's): nothing was counted, and the login counts as its address instead.
    UnknownDevice,
}

/// A device that logged in successfully to an e-mail, remembered for its later logins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnownDevice {
    pub digest: TokenDigest,
    pub account: AccountId,
    /// Known until then ([`DEVICE_DAYS`] after its last successful login).
    pub expires_at: DateTime<Utc>,
}

/// Consecutive failures that lock one client out of one e-mail, for [`LOCK_MINUTES`].
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCK_MINUTES: i64 = 15;
/// Failures per e-mail and clock hour, from all clients, past which only known devices
/// may still try (and the owner gets one mail).
pub const ACCOUNT_FAILURES_PER_HOUR: u32 = 100;
/// How long a device stays known after the login that made it known.
pub const DEVICE_DAYS: i64 = 365;

pub trait Accounts {
    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>>;
}

pub trait Logins {
    /// The credentials of the account that logs in with `email`.
    async fn credentials(&self, email: &Email) -> StoreResult<Option<Credentials>>;
    /// Replaces the login's hash `old` with `renewed`, a hash of the same password at the
    /// current parameters: the password, its epoch and the sessions stay. `false` when the
    /// login no longer has `old` (the password was changed or reset meanwhile, or the
    /// e-mail moved): nothing is written.
    async fn renew_password_hash(&self, email: &Email, old: &str, renewed: &str) -> StoreResult<bool>;
}

pub trait LoginAttempts {
    /// The e-mail's credentials (with the copies of the account a login answers) and its
    /// failures this hour: one read, the same for an e-mail no account has.
    async fn login_facts(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<LoginFacts>;
    /// Takes one of `client`'s [`MAX_FAILED_LOGINS`] attempts at `email` before the
    /// password is checked, so parallel guesses cannot get past the limit. Attempts that
    /// never report back (timed out, lost) count as failures; at the limit the client is
    /// locked until [`LOCK_MINUTES`] after its last attempt, then its count starts again.
    /// A device has a count only while it is a known device of `email`
    /// ([`AttemptReservation::UnknownDevice`] otherwise, with nothing written).
    async fn reserve_login_attempt(
        &self,
        email: &Email,
        client: &LoginClient,
        now: DateTime<Utc>,
    ) -> StoreResult<AttemptReservation>;
    /// Hands back an attempt reserved for a login that was refused before its password was
    /// checked (the hourly ceiling): it is not one of the client's five.
    async fn give_back_login_attempt(&self, email: &Email, client: &LoginClient) -> StoreResult<()>;
    /// A failed attempt, counted towards the e-mail's hourly ceiling; returns the count.
    async fn count_failed_login(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<u32>;
    /// The password was right, all in one write: the session is created (on condition that
    /// the account's password epoch is still the session's: `Conflict` if a reset changed
    /// the password since the login read it), `device` is known to `email` until its
    /// `expires_at` with its count back to 0 (the device the login came from, or the new
    /// one it is given), and the count of `address` is back to 0 when the login came from
    /// an address.
    async fn login_succeeded(
        &self,
        email: &Email,
        session: &Session,
        device: &KnownDevice,
        address: Option<&str>,
    ) -> StoreResult<()>;
}

pub trait Sessions {
    /// Creates a session, on condition that the account's password epoch is still the
    /// session's: `Conflict` if the password changed since the login read it.
    async fn create_session(&self, session: &Session) -> StoreResult<()>;
    /// The session with this digest if it belongs to `account`, with the account's current
    /// password epoch (one read of both). Whether it is alive is [`Session::live_at`].
    async fn session(&self, account: &AccountId, digest: &TokenDigest) -> StoreResult<Option<(Session, u64)>>;
    /// Records a use of the session, off the request's path (the write is not awaited).
    fn touch_session(&self, session: &Session, now: DateTime<Utc>);
    async fn revoke_session(&self, session: &Session) -> StoreResult<()>;
}

/// The session check with one serial of the account the token names: the routes that act
/// on one serial (upgrade, license file) read both at once.
pub trait SerialSessions {
    /// As [`AccountSessions::session_with_profile`], with the serial `number`
    /// of `account` (`None` if the account has no such serial) in the same BatchGetItem.
    async fn session_with_serial(
        &self,
        account: &AccountId,
        digest: &TokenDigest,
        number: &Serial,
    ) -> StoreResult<Option<(Session, Profile, Option<Subscription>)>>;
}

pub trait PasswordResets {
    /// Counts one reset mail for the login; false when 3 were sent in the last hour.
    async fn allow_reset_mail(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<bool>;
    async fn put_reset_token(&self, token: &ResetToken) -> StoreResult<()>;
    async fn reset_token(&self, digest: &TokenDigest) -> StoreResult<Option<ResetToken>>;
    /// Spends the token, replaces the password, clears the lock and revokes every session,
    /// all at once. `Conflict` if the token was spent meanwhile.
    async fn complete_reset(&self, token: &ResetToken, new_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
}

pub trait SubscriptionReader {
    /// Every serial of the account, in one Query.
    async fn subscriptions(&self, account: &AccountId) -> StoreResult<Vec<Subscription>>;
    async fn subscription(&self, account: &AccountId, serial: &Serial) -> StoreResult<Option<Subscription>>;
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
    /// superseded, terms record and the mail to send, leased to the committing request.
    /// `company` is the owner's, copied onto the new serial's claim; `event` is the
    /// `SerialUpgraded` event, not leased: it leaves through the table's stream.
    async fn commit_upgrade(
        &self,
        upgrade: &Upgrade,
        company: &str,
        terms: &TermsRecord,
        mail: &PendingMail,
        event: &PendingEvent,
    ) -> Result<(), UpgradeCommitError>;
}

/// What a validation reads, in one round trip: the serial's claim (which carries its
/// facts and the owner's company) and this client's guesses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFacts {
    pub subscription: Subscription,
    /// The company registered on the owner's account.
    pub company: String,
    /// Company mismatches for this serial from this client in the current clock hour.
    pub mismatches_this_hour: u32,
}

/// Company mismatches per serial, client address and clock hour past which that client
/// gets `too_many_attempts` for that serial until the hour is over.
pub const MAX_COMPANY_MISMATCHES: u32 = 10;

pub trait SerialValidation {
    /// The serial and its owner's account, found by serial number alone (support tools;
    /// a validation reads [`SerialValidation::validation_facts`]).
    async fn serial_with_account(&self, serial: &Serial) -> StoreResult<Option<(Subscription, Account)>>;
    /// The serial, its owner and this client's company mismatches this hour.
    async fn validation_facts(
        &self,
        serial: &Serial,
        client: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ValidationFacts>>;
    /// One more company mismatch for this serial from `client`; the count this hour.
    async fn count_company_mismatch(&self, serial: &Serial, client: &str, now: DateTime<Utc>) -> StoreResult<u32>;
    /// Sets the activation date once, with its `SerialActivated` event (not leased: it
    /// leaves through the table's stream) in the same transaction; `false` if it was
    /// already set.
    async fn activate(&self, subscription: &Subscription, today: NaiveDate, event: &PendingEvent) -> StoreResult<bool>;
}

/// A payment as applied, kept under its id (`PAYMENT#<id>`) so it applies once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment_id: PaymentId,
    /// The serial the payment named.
    pub paid_serial: Serial,
    /// The serial it landed on (the one in force: `paid_serial` or a successor).
    pub serial: Serial,
    pub account: AccountId,
    pub paid_through: NaiveDate,
    /// The serial's next payment date after the payment.
    pub next_payment_on: NaiveDate,
    pub applied_at: DateTime<Utc>,
}

/// Why a payment's transaction did not commit.
#[derive(Debug, thiserror::Error)]
pub enum PaymentCommitError {
    /// This payment id was applied before: nothing more to do.
    #[error("the payment was applied already")]
    AlreadyApplied,
    /// The serial changed since it was read (upgraded, or paid by another payment): read
    /// it again and retry.
    #[error("the serial changed meanwhile")]
    Moved,
    #[error(transparent)]
    Store(#[from] StoreError),
}

pub trait Payments {
    /// The serial found by number alone, as its claim keeps it: one read.
    async fn serial_by_number(&self, serial: &Serial) -> StoreResult<Option<Subscription>>;
    async fn payment(&self, id: &PaymentId) -> StoreResult<Option<PaymentRecord>>;
    /// [`Payments::payment`] and [`Payments::serial_by_number`] in one BatchGetItem.
    async fn payment_and_serial(
        &self,
        id: &PaymentId,
        serial: &Serial,
    ) -> StoreResult<(Option<PaymentRecord>, Option<Subscription>)>;
    /// Records the payment (only if its id is new) and, in the same transaction, moves
    /// `target`'s next payment date to the record's (only if `target` is still as read and
    /// not superseded) and puts its `PaymentApplied` event (not leased: it leaves through
    /// the table's stream).
    async fn apply_payment(
        &self,
        record: &PaymentRecord,
        target: &Subscription,
        event: &PendingEvent,
    ) -> Result<(), PaymentCommitError>;
}

/// The operators' writes (`portal-admin`).
pub trait CatalogWriter {
    /// Creates or replaces a product (`portal-admin product set`).
    async fn put_product(&self, product: &Product) -> StoreResult<()>;
    /// Creates a product only if the catalog has none for its system; `false` if it had.
    async fn add_product(&self, product: &Product) -> StoreResult<bool>;
}

pub trait AccountWriter {
    /// Creates an account and its login; `Conflict` if the e-mail is taken.
    async fn add_account(&self, account: &Account, password_hash: &str) -> StoreResult<()>;
    /// Creates an account with its login and serials, all or nothing.
    async fn add_account_with_subscriptions(
        &self,
        account: &Account,
        password_hash: &str,
        subs: &[Subscription],
    ) -> StoreResult<()>;
    /// Creates an account with its login and serials, all or nothing, without a password:
    /// nobody logs in to it until its owner sets one through an invitation
    /// ([`Invitations`]). `Conflict` if the e-mail is taken.
    async fn add_account_without_password(&self, account: &Account, subs: &[Subscription]) -> StoreResult<()>;
}

pub trait SerialWriter {
    /// Adds a serial with its claim; `Conflict` if the serial number exists or the
    /// account does not.
    async fn add_subscription(&self, subscription: &Subscription) -> StoreResult<()>;
}

/// Partitions of the account directory (by the first hex digit of the account id).
pub const DIRECTORY_SHARDS: u32 = 16;

/// Every account, listed by the writes that create accounts: how the export reads the
/// whole customer base with Queries.
pub trait AccountDirectory {
    /// One page of shard `shard` (of [`DIRECTORY_SHARDS`]) of the directory, in account id
    /// order, after `after`; the id to continue after, if there is more.
    async fn directory_page(
        &self,
        shard: u8,
        after: Option<&AccountId>,
    ) -> StoreResult<(Vec<AccountId>, Option<AccountId>)>;
    /// The account's profile and its serials, in one Query of its partition.
    async fn account_and_serials(&self, id: &AccountId) -> StoreResult<Option<(Account, Vec<Subscription>)>>;
}

/// An e-mail's login item as a bulk load finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingLogin {
    pub email: Email,
    pub account: AccountId,
    /// The account as the login item copies it; `None` for one without the copies.
    pub holder: Option<Account>,
}

/// Who holds a serial number (its claim).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialHolder {
    pub serial: Serial,
    pub account: AccountId,
}

/// The operators' bulk load (`portal-admin import`): the reads that find what exists, and
/// writes of many accounts or serials at once with the items `account add` and
/// `subscription add` write.
pub trait BulkLoad {
    /// The login items of these e-mails, those that exist (any number, 100 per read).
    async fn existing_logins(&self, emails: &[Email]) -> StoreResult<Vec<ExistingLogin>>;
    /// The claims of these serials, those that exist.
    async fn serial_holders(&self, serials: &[Serial]) -> StoreResult<Vec<SerialHolder>>;
    /// Creates accounts without a password, each with its login, pending invitation and
    /// directory entry, all in one transaction ([`ACCOUNT_ITEMS`] items each, so at most
    /// 25); per account, whether it was written (`false`: its e-mail is taken).
    async fn add_imported_accounts(&self, accounts: &[Account], now: DateTime<Utc>) -> StoreResult<Vec<bool>>;
    /// Creates serials with their claims (the owner's company on each claim), at most 50,
    /// in one transaction; per serial, whether it was written (`false`: its number exists).
    async fn add_imported_serials(
        &self,
        serials: &[(Subscription, String)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>>;
}
