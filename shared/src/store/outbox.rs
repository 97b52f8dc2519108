//! The outbox's store: messages waiting for their courier (mails for SES, events for the
//! bus), with their delivery so far, and the dead letters, the messages the outbox gave up
//! on. How they are used is `crate::outbox`.

use chrono::{DateTime, Utc};

use super::StoreResult;
use crate::events::PendingEvent;
use crate::outbox::PendingMail;

/// Something the outbox keeps until its courier takes it: a mail for SES or an event for
/// the bus. Each kind is its own item family with the same rules.
pub trait Outgoing: Clone {
    /// Names the kind in logs and reports ("mail", "event").
    const KIND: &'static str;
    /// Unique per message (the mail's or the event's id).
    fn id(&self) -> &str;
    fn created_at(&self) -> DateTime<Utc>;
}

/// A message as the outbox holds it, with how its delivery went so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued<M> {
    pub message: M,
    /// How often it was leased for sending (a lease that never reported back counts too).
    pub attempts: u32,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// Nobody sends it before then: a sender holds it, or it waits for its next attempt.
    pub lease_until: Option<DateTime<Utc>>,
    /// Its courier took it (the removal from the outbox did not follow yet).
    pub sent_at: Option<DateTime<Utc>>,
}

/// What a lease tells its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// This attempt's number (1 for the first).
    pub attempt: u32,
    pub last_error: Option<String>,
}

impl Lease {
    /// The lease of a message written already leased to the request that made it.
    pub fn first() -> Lease {
        Lease { attempt: 1, last_error: None }
    }
}

/// Where the next page of the outbox starts (after the last item of this one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxCursor(pub(crate) String);

/// One page of the outbox: each item read, or why it could not be (a malformed item is
/// named, and does not hide the others).
#[derive(Debug)]
pub struct OutboxPage<M> {
    pub entries: Vec<StoreResult<Queued<M>>>,
    /// More items may follow.
    pub next: Option<OutboxCursor>,
}

/// A message the outbox gave up on, with the reason: it waits for an operator
/// (`portal-admin mail list --dead`, `mail retry`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dead<M> {
    pub message: M,
    pub attempts: u32,
    pub reason: String,
    pub dead_at: DateTime<Utc>,
}

pub trait Outbox<M: Outgoing> {
    /// Puts a message in the outbox (one that is not part of a bigger transaction).
    async fn put_outgoing(&self, message: &M) -> StoreResult<()>;
    /// Messages created before `older_than`, oldest first, at most `limit`, starting
    /// after `after`: one Query with a Limit (the keys are ordered by creation time).
    async fn outbox_page(
        &self,
        older_than: DateTime<Utc>,
        after: Option<&OutboxCursor>,
        limit: i32,
    ) -> StoreResult<OutboxPage<M>>;
    /// Takes the message for sending until `until`, counting the attempt; `None` if
    /// someone else holds it, it waits for a later attempt, it was sent, or it is gone.
    async fn lease(&self, message: &M, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<Option<Lease>>;
    /// The courier took the message (`receipt`): no one sends it again, even while it is
    /// still listed. Only marks a message that is still there.
    async fn mark_sent(&self, message: &M, receipt: &str, now: DateTime<Utc>) -> StoreResult<()>;
    /// [`Outbox::mark_sent`] off the caller's path: not awaited, its failure logged (a
    /// message neither cleared nor marked is sent again after its lease).
    fn mark_sent_later(&self, message: &M, receipt: &str, now: DateTime<Utc>);
    /// The attempt failed for a reason that may pass: `error` is kept, and nobody tries
    /// again before `retry_at`.
    async fn retry_later(&self, message: &M, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()>;
    /// The message leaves the outbox.
    async fn clear(&self, message: &M) -> StoreResult<()>;
    /// Moves the message to the dead letters with `reason`, in one transaction; `false`
    /// (and nothing written) if it was sent or is gone meanwhile.
    async fn bury(&self, message: &M, attempts: u32, reason: &str, now: DateTime<Utc>) -> StoreResult<bool>;
    /// Dead letters of this kind, at most `limit`, by id; a malformed one is named.
    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<StoreResult<Dead<M>>>>;
    async fn dead_letter(&self, id: &str) -> StoreResult<Option<Dead<M>>>;
    /// The dead message back into the outbox as new (created `now`, no attempts), in one
    /// transaction; `None` if it is no longer dead.
    async fn revive(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<M>>;
}

/// The outbox of mails.
pub trait MailOutbox: Outbox<PendingMail> {}
impl<T: Outbox<PendingMail>> MailOutbox for T {}
/// The outbox of events.
pub trait EventOutbox: Outbox<PendingEvent> {}
impl<T: Outbox<PendingEvent>> EventOutbox for T {}
