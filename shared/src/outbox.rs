//! The outbox: every mail is stored before it is sent, and leaves the outbox only once SES
//! took it. One routine leases, sends and clears a mail ([`deliver`]); the request that
//! made the mail calls it at once, and the scheduled `send-pending-mail` calls it for
//! whatever is left ([`send_pending`]). The lease means two senders never send one mail
//! at the same time.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use crate::mail::{Mail, Mailer};
use crate::store::{MailOutbox, StoreResult};

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
        let created_at = created_at.duration_trunc(Duration::microseconds(1)).unwrap_or(created_at);
        PendingMail { id: id.into(), mail, created_at }
    }
}

/// What one delivery attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// SES took it (its message id); it left the outbox, or will with the next run if the
    /// clear failed (logged).
    Sent(String),
    /// Another sender holds it, or it is gone already.
    Held,
    /// Not sent; it stays in the outbox for the next run.
    Failed(String),
}

/// Leases, sends and clears one mail. Never fails: whatever goes wrong leaves the mail in
/// the outbox for [`send_pending`], and is logged.
pub async fn deliver(store: &impl MailOutbox, mailer: &Mailer, pending: &PendingMail, now: DateTime<Utc>) -> Delivery {
    match store.lease_mail(pending, now, now + LEASE).await {
        Ok(true) => send_leased(store, mailer, pending).await,
        Ok(false) => Delivery::Held,
        Err(e) => {
            tracing::warn!(mail = %pending.id, error = %e, "mail not leased; left for retry");
            Delivery::Failed(e.to_string())
        }
    }
}

/// Sends and clears a mail this sender already holds the lease of (e.g. leased by the
/// transaction that created it, so the request saves the lease's round trip).
pub async fn send_leased(store: &impl MailOutbox, mailer: &Mailer, pending: &PendingMail) -> Delivery {
    match mailer.send(&pending.mail).await {
        Ok(message_id) => {
            tracing::info!(mail = %pending.id, message_id = %message_id, "mail sent");
            if let Err(e) = store.mail_sent(pending).await {
                // Sent but still listed: it would go again once the lease is over.
                tracing::error!(mail = %pending.id, error = %e, "sent mail not cleared from the outbox");
            }
            Delivery::Sent(message_id)
        }
        Err(e) => {
            tracing::warn!(mail = %pending.id, error = %e, "mail not sent; left for retry");
            Delivery::Failed(e.to_string())
        }
    }
}

/// What one scheduled run did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub sent: u32,
    pub failed: u32,
    pub skipped: u32,
}

/// Sends the oldest mails past their [`GRACE`], each on its own: one mail's trouble never
/// holds up the others.
pub async fn send_pending(store: &impl MailOutbox, mailer: &Mailer, now: DateTime<Utc>) -> StoreResult<RunReport> {
    let mut report = RunReport::default();
    for pending in store.pending_mails(now - GRACE, BATCH).await? {
        match deliver(store, mailer, &pending, now).await {
            Delivery::Sent(_) => report.sent += 1,
            Delivery::Held => report.skipped += 1,
            Delivery::Failed(_) => report.failed += 1,
        }
    }
    Ok(report)
}
