//! The outbox: every mail and every event is stored before it is sent (in the transaction
//! of the fact it reports, where there is one), and leaves the outbox only once its
//! courier (SES, or the EventBridge bus) took it. One routine leases, sends and clears a
//! message ([`deliver`]); the request that made it calls it at once, and the scheduled
//! `send-pending-mail` calls it for whatever is left ([`send_pending`]). The lease means
//! two senders never send one message at the same time.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use crate::events::{EventBus, PendingEvent};
use crate::mail::{Mail, Mailer};
use crate::store::{Outbox, Outgoing, StoreResult};

/// How long a sender holds a mail before another may try it: well over one SES call.
pub const LEASE: Duration = Duration::seconds(120);
/// Mails younger than this are still being sent by the request that made them.
pub const GRACE: Duration = Duration::seconds(60);
/// The most mails one scheduled run sends.
pub const BATCH: i32 = 100;

/// A mail waiting in the outbox until SES accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingMail {
    /// Unique per mail, e.g. the new serial of the upgrade it announces.
    pub id: String,
    pub mail: Mail,
    pub created_at: DateTime<Utc>,
}

impl PendingMail {
    /// `created_at` is kept to the microsecond, as the outbox's keys store it, so a mail
    /// read back equals the one written.
    pub fn new(id: impl Into<String>, mail: Mail, created_at: DateTime<Utc>) -> Self {
        PendingMail { id: id.into(), mail, created_at: outbox_instant(created_at) }
    }
}

/// An instant as the outbox's keys keep it (to the microsecond).
pub fn outbox_instant(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(Duration::microseconds(1)).unwrap_or(t)
}

impl Outgoing for PendingMail {
    const KIND: &'static str = "mail";
    fn id(&self) -> &str {
        &self.id
    }
}

impl Outgoing for PendingEvent {
    const KIND: &'static str = "event";
    fn id(&self) -> &str {
        &self.id
    }
}

/// Who carries a message of kind `M` out: SES for mails, the bus for events.
#[allow(async_fn_in_trait)] // called with concrete types only
pub trait Courier<M> {
    /// Hands the message over; the receipt (SES's message id, the bus's event id).
    async fn carry(&self, message: &M) -> Result<String, String>;
}

impl Courier<PendingMail> for Mailer {
    async fn carry(&self, pending: &PendingMail) -> Result<String, String> {
        self.send(&pending.mail).await.map_err(|e| e.to_string())
    }
}

impl Courier<PendingEvent> for EventBus {
    async fn carry(&self, pending: &PendingEvent) -> Result<String, String> {
        self.publish(pending).await.map_err(|e| e.to_string())
    }
}

/// What one delivery attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The courier took it (its receipt); it left the outbox, or will with the next run if
    /// the clear failed (logged).
    Sent(String),
    /// Another sender holds it, or it is gone already.
    Held,
    /// Not sent; it stays in the outbox for the next run.
    Failed(String),
}

/// Leases, sends and clears one message. Never fails: whatever goes wrong leaves the
/// message in the outbox for [`send_pending`], and is logged.
pub async fn deliver<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    pending: &M,
    now: DateTime<Utc>,
) -> Delivery {
    match store.lease(pending, now, now + LEASE).await {
        Ok(true) => send_leased(store, courier, pending).await,
        Ok(false) => Delivery::Held,
        Err(e) => {
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "not leased; left for retry");
            Delivery::Failed(e.to_string())
        }
    }
}

/// Sends and clears a message this sender already holds the lease of (e.g. leased by the
/// transaction that created it, so the request saves the lease's round trip).
pub async fn send_leased<M: Outgoing>(store: &impl Outbox<M>, courier: &impl Courier<M>, pending: &M) -> Delivery {
    let carried = carry(courier, pending).await;
    settle(store, pending, carried).await
}

/// The first half of [`send_leased`]: hands the message to its courier. A request that
/// holds a mail and an event carries both side by side, then settles both side by side,
/// so their two clears overlap (one round trip, not two).
pub async fn carry<M: Outgoing>(courier: &impl Courier<M>, pending: &M) -> Result<String, String> {
    courier.carry(pending).await
}

/// The second half of [`send_leased`]: a carried message leaves the outbox; one that was
/// not stays for [`send_pending`].
pub async fn settle<M: Outgoing>(store: &impl Outbox<M>, pending: &M, carried: Result<String, String>) -> Delivery {
    match carried {
        Ok(receipt) => {
            tracing::info!(kind = M::KIND, id = pending.id(), receipt = %receipt, "sent");
            if let Err(e) = store.clear(pending).await {
                // Sent but still listed: it would go again once the lease is over.
                tracing::error!(kind = M::KIND, id = pending.id(), error = %e, "sent but not cleared from the outbox");
            }
            Delivery::Sent(receipt)
        }
        Err(e) => {
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "not sent; left for retry");
            Delivery::Failed(e)
        }
    }
}

/// What one scheduled run did, per kind.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub sent: u32,
    pub failed: u32,
    pub skipped: u32,
}

/// Sends the oldest messages of one kind past their [`GRACE`], each on its own: one
/// message's trouble never holds up the others.
pub async fn send_pending<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    now: DateTime<Utc>,
) -> StoreResult<RunReport> {
    let mut report = RunReport::default();
    for pending in store.pending(now - GRACE, BATCH).await? {
        match deliver(store, courier, &pending, now).await {
            Delivery::Sent(_) => report.sent += 1,
            Delivery::Held => report.skipped += 1,
            Delivery::Failed(_) => report.failed += 1,
        }
    }
    Ok(report)
}
