//! The outbox: every mail and every event is stored before it is sent (in the transaction
//! of the fact it reports, where there is one), and leaves the outbox only once its
//! courier (SES, or the EventBridge bus) took it. One routine leases, sends and settles a
//! message ([`deliver`]). A mail is sent by the request that made it (the customer waits
//! for it); an event leaves through the table's stream ([`deliver_streamed`], run by
//! `send-pending-mail`), so no request waits on the bus; and the scheduled
//! `send-pending-mail` sends whatever is left of both ([`send_pending`]).
//!
//! - The lease means two senders never send one message at the same time; each lease is
//!   an attempt, counted on the message.
//! - A message its courier took is cleared, in one write; only if that fails is it marked
//!   sent (off the request's path, not awaited): then nobody sends it again (the lease skips marked messages; the run clears
//!   them), so only losing both writes sends a mail twice.
//! - A refusal that is final for this message (SES's `MessageRejected`, a malformed
//!   address) or [`MAX_ATTEMPTS`] failed attempts move it to the dead letters with the
//!   reason, where an operator finds it (`portal-admin mail list --dead`, `mail retry`);
//!   any other failure keeps its error on the message and waits [`retry_delay`] (doubling,
//!   about a day of trying in all), so one bad message never holds up the others.
//! - The clients make one attempt each (SES's is built so, `crate::aws::sesv2`): the
//!   outbox is the retry.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde::Serialize;

use crate::events::{EventBus, PendingEvent};
use crate::mail::{Mail, MailError, Mailer};
use crate::metrics::Metrics;
use crate::store::{Lease, Outbox, Outgoing, StoreResult};

/// How long a sender holds a message before another may try it: well over one call.
pub const LEASE: Duration = Duration::seconds(120);
/// Messages younger than this are still being sent by the request that made them.
pub const GRACE: Duration = Duration::seconds(60);
/// The most messages of a kind one scheduled run tries to send.
pub const BATCH: u32 = 100;
/// Items one Query of the scheduled run reads, and the most pages it reads per kind (a
/// page may hold messages waiting for a later attempt, or sent but not yet cleared).
pub const PAGE: i32 = 100;
pub const MAX_PAGES: usize = 10;
/// Attempts after which a message is given up on (with [`retry_delay`], about a day).
pub const MAX_ATTEMPTS: u32 = 12;
/// The longest wait between two attempts.
pub const MAX_RETRY_DELAY: Duration = Duration::hours(6);

/// How long a message waits after its failed attempt number `attempt` (1 for the
/// first): [`LEASE`], then twice as long each time, at most [`MAX_RETRY_DELAY`].
pub fn retry_delay(attempt: u32) -> Duration {
    let doublings = attempt.saturating_sub(1).min(16);
    (LEASE * 2i32.pow(doublings)).min(MAX_RETRY_DELAY)
}

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

    /// A mail of `kind` with an id of its own, `<kind>-<128 random bits>`: one outbox item
    /// per occasion, however many mails of the kind an account gets.
    pub fn unique(kind: &str, mail: Mail, created_at: DateTime<Utc>) -> Result<Self, getrandom::Error> {
        Ok(PendingMail::new(format!("{kind}-{}", crate::domain::token::random_id()?), mail, created_at))
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
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

impl Outgoing for PendingEvent {
    const KIND: &'static str = "event";
    fn id(&self) -> &str {
        &self.id
    }
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
}

/// Why a courier did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Final for this message: trying again would be refused the same way.
    pub permanent: bool,
    pub reason: String,
}

/// Who carries a message of kind `M` out: SES for mails, the bus for events.
#[allow(async_fn_in_trait)] // called with concrete types only
pub trait Courier<M> {
    /// Hands the message over; the receipt (SES's message id, the bus's event id).
    async fn carry(&self, message: &M) -> Result<String, Refusal>;
}

impl Courier<PendingMail> for Mailer {
    async fn carry(&self, pending: &PendingMail) -> Result<String, Refusal> {
        self.send(&pending.mail)
            .await
            .map_err(|e| Refusal { permanent: matches!(e, MailError::Rejected(_)), reason: e.to_string() })
    }
}

impl Courier<PendingEvent> for EventBus {
    async fn carry(&self, pending: &PendingEvent) -> Result<String, Refusal> {
        self.publish(pending).await.map_err(|e| Refusal {
            permanent: matches!(e, crate::events::PublishError::Rejected(_)),
            reason: e.to_string(),
        })
    }
}

/// What one delivery attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// The courier took it (its receipt).
    Sent(String),
    /// Another sender holds it, it waits for a later attempt, it was sent, or it is gone.
    Held,
    /// Not sent; it stays in the outbox for a later attempt.
    Failed(String),
    /// Given up on: it is among the dead letters, with this reason.
    Dead(String),
}

/// The metric names of a kind: sent, failed, dead, outbox age.
fn metric_names(kind: &str) -> [&'static str; 4] {
    match kind {
        "mail" => ["MailsSent", "MailsFailed", "MailsDead", "MailOutboxAge"],
        _ => ["EventsSent", "EventsFailed", "EventsDead", "EventOutboxAge"],
    }
}

/// Leases, sends and settles one message. Never fails: whatever goes wrong leaves the
/// message in the outbox for [`send_pending`] (or among the dead letters), and is logged.
pub async fn deliver<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    pending: &M,
    now: DateTime<Utc>,
) -> Delivery {
    match store.lease(pending, now, now + LEASE).await {
        Ok(Some(lease)) if lease.attempt > MAX_ATTEMPTS => {
            // Leased that often without a word back (each sender stopped mid-way).
            let last = lease.last_error.as_deref().unwrap_or("no answer");
            let reason = format!("{} attempts without success; the last: {last}", lease.attempt - 1);
            give_up(store, pending, lease.attempt - 1, reason, now).await
        }
        Ok(Some(lease)) => {
            let carried = carry(courier, pending).await;
            settle(store, pending, &lease, carried, now).await
        }
        Ok(None) => Delivery::Held,
        Err(e) => {
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "not leased; left for retry");
            Delivery::Failed(e.to_string())
        }
    }
}

/// Sends and settles a message this sender already holds the first lease of (leased by
/// the transaction that created it, so the request saves the lease's round trip).
pub async fn send_leased<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    pending: &M,
    now: DateTime<Utc>,
) -> Delivery {
    let carried = carry(courier, pending).await;
    settle(store, pending, &Lease::first(), carried, now).await
}

/// The first half of [`send_leased`]: hands the message to its courier. A request that
/// holds a mail and an event carries both side by side, then settles both side by side,
/// so their writes overlap (one round trip, not two).
pub async fn carry<M: Outgoing>(courier: &impl Courier<M>, pending: &M) -> Result<String, Refusal> {
    courier.carry(pending).await
}

/// The second half of [`send_leased`]: a carried message is cleared (or, if that fails,
/// marked sent); a refused one is kept for a later attempt, or buried when the refusal is
/// final or this was the last attempt.
pub async fn settle<M: Outgoing>(
    store: &impl Outbox<M>,
    pending: &M,
    lease: &Lease,
    carried: Result<String, Refusal>,
    now: DateTime<Utc>,
) -> Delivery {
    let [sent, failed, _, _] = metric_names(M::KIND);
    match carried {
        Ok(receipt) => {
            tracing::info!(kind = M::KIND, id = pending.id(), receipt = %receipt, attempt = lease.attempt, "sent");
            Metrics::new().count(sent, 1).emit();
            if let Err(e) = store.clear(pending).await {
                // Marked, nobody sends it again and the next run clears it. Off the request's
                // path: a store that failed the clear may fail the mark just as slowly.
                tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "sent but not cleared; marking it sent");
                store.mark_sent_later(pending, &receipt, now);
            }
            Delivery::Sent(receipt)
        }
        Err(refusal) if refusal.permanent => {
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %refusal.reason, "refused for good");
            give_up(store, pending, lease.attempt, refusal.reason, now).await
        }
        Err(refusal) if lease.attempt >= MAX_ATTEMPTS => {
            let reason = format!("{} attempts without success; the last: {}", lease.attempt, refusal.reason);
            give_up(store, pending, lease.attempt, reason, now).await
        }
        Err(refusal) => {
            let retry_at = now + retry_delay(lease.attempt);
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %refusal.reason, attempt = lease.attempt,
                retry_at = %retry_at, "not sent; left for retry");
            Metrics::new().count(failed, 1).emit();
            if let Err(e) = store.retry_later(pending, &refusal.reason, retry_at).await {
                tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "failure not recorded; retried after the lease");
            }
            Delivery::Failed(refusal.reason)
        }
    }
}

/// Moves a message to the dead letters.
async fn give_up<M: Outgoing>(
    store: &impl Outbox<M>,
    pending: &M,
    attempts: u32,
    reason: String,
    now: DateTime<Utc>,
) -> Delivery {
    let [_, failed, dead, _] = metric_names(M::KIND);
    match store.bury(pending, attempts, &reason, now).await {
        Ok(true) => {
            tracing::error!(kind = M::KIND, id = pending.id(), attempts, reason = %reason, "moved to the dead letters");
            Metrics::new().count(dead, 1).emit();
            Delivery::Dead(reason)
        }
        Ok(false) => Delivery::Held,
        Err(e) => {
            tracing::warn!(kind = M::KIND, id = pending.id(), error = %e, "not moved to the dead letters; retried after the lease");
            Metrics::new().count(failed, 1).emit();
            Delivery::Failed(reason)
        }
    }
}

/// Delivers the messages a stream batch inserted ([`crate::store::inserted_events`]), one
/// after the other, each through [`deliver`]: leased first, so the scheduled run and a
/// second delivery of the same batch never send one at the same time, and one that is gone
/// already (sent by the run) is skipped. Never fails: what is not sent stays in the outbox
/// for [`send_pending`], so the stream never needs to redeliver.
pub async fn deliver_streamed<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    inserted: Vec<StoreResult<M>>,
    now: DateTime<Utc>,
) -> RunReport {
    let mut report = RunReport::default();
    for message in inserted {
        let message = match message {
            Ok(message) => message,
            Err(e) => {
                // Still in the table: the scheduled run reports it again, with its key.
                tracing::error!(kind = M::KIND, error = %e, "malformed streamed outbox item skipped");
                report.malformed += 1;
                continue;
            }
        };
        report.oldest_age_seconds = report.oldest_age_seconds.max((now - message.created_at()).num_seconds().max(0));
        report.count(&deliver(store, courier, &message, now).await);
    }
    tracing::info!(kind = M::KIND, ?report, "streamed outbox batch");
    report
}

/// What one scheduled run did, per kind.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub sent: u32,
    pub failed: u32,
    pub dead: u32,
    /// Held by another sender, or waiting for a later attempt.
    pub held: u32,
    /// Sent before, but still listed (their clear was lost): cleared now, not sent.
    pub cleared: u32,
    /// Items that could not be read: logged and left alone.
    pub malformed: u32,
    /// Age of the oldest message not sent yet (0 when there is none), in seconds; of a
    /// streamed batch, the age of its oldest message.
    pub oldest_age_seconds: i64,
}

impl RunReport {
    /// Counts one delivery attempt.
    fn count(&mut self, delivery: &Delivery) {
        match delivery {
            Delivery::Sent(_) => self.sent += 1,
            Delivery::Held => self.held += 1,
            Delivery::Failed(_) => self.failed += 1,
            Delivery::Dead(_) => self.dead += 1,
        }
    }
}

/// Sends the oldest messages of one kind past their [`GRACE`], each on its own: one
/// message's trouble never holds up the others. Reads the outbox a bounded page at a time
/// ([`PAGE`], at most [`MAX_PAGES`]), oldest first, until [`BATCH`] were tried.
pub async fn send_pending<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    now: DateTime<Utc>,
) -> StoreResult<RunReport> {
    let mut report = RunReport::default();
    let mut oldest: Option<DateTime<Utc>> = None;
    let mut after = None;
    let mut tried = 0;
    for page_number in 0..MAX_PAGES {
        let page = match store.outbox_page(now - GRACE, after.as_ref(), PAGE).await {
            Ok(page) => page,
            Err(e) if page_number == 0 => return Err(e),
            Err(e) => {
                tracing::warn!(kind = M::KIND, error = %e, "outbox page not read; the next run goes on");
                break;
            }
        };
        for entry in page.entries {
            let queued = match entry {
                Ok(queued) => queued,
                Err(e) => {
                    tracing::error!(kind = M::KIND, error = %e, "malformed outbox item skipped");
                    report.malformed += 1;
                    continue;
                }
            };
            if queued.sent_at.is_some() {
                // Its courier took it; only its clear was lost.
                match store.clear(&queued.message).await {
                    Ok(()) => report.cleared += 1,
                    Err(e) => tracing::warn!(kind = M::KIND, id = queued.message.id(), error = %e, "not cleared"),
                }
                continue;
            }
            oldest.get_or_insert(queued.message.created_at());
            if queued.lease_until.is_some_and(|until| until > now) || tried >= BATCH {
                report.held += 1;
                continue;
            }
            tried += 1;
            report.count(&deliver(store, courier, &queued.message, now).await);
        }
        match page.next {
            Some(next) if tried < BATCH => after = Some(next),
            _ => break,
        }
    }
    report.oldest_age_seconds = oldest.map_or(0, |t| (now - t).num_seconds().max(0));
    let [_, _, _, age] = metric_names(M::KIND);
    let mut line = Metrics::new().seconds(age, report.oldest_age_seconds as f64);
    if report.malformed > 0 {
        line = line.count("OutboxMalformed", u64::from(report.malformed));
    }
    line.emit();
    tracing::info!(kind = M::KIND, ?report, "outbox run");
    Ok(report)
}

/// A dead message back into the outbox, then one attempt to send it; `None` if no dead
/// message has this id.
pub async fn retry_dead<M: Outgoing>(
    store: &impl Outbox<M>,
    courier: &impl Courier<M>,
    id: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<(M, Delivery)>> {
    let Some(again) = store.revive(id, now).await? else { return Ok(None) };
    tracing::info!(kind = M::KIND, id, "dead letter back in the outbox");
    let delivery = deliver(store, courier, &again, now).await;
    Ok(Some((again, delivery)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_and_give_up_after_about_a_day() {
        assert_eq!(retry_delay(1), LEASE);
        assert_eq!(retry_delay(2), LEASE * 2);
        assert_eq!(retry_delay(4), LEASE * 8);
        assert_eq!(retry_delay(40), MAX_RETRY_DELAY);
        let waited: Duration = (1..MAX_ATTEMPTS).map(retry_delay).sum();
        assert!(waited >= Duration::hours(20) && waited <= Duration::hours(30), "{waited}");
    }
}
