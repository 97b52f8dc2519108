//! The outbox: mails waiting for SES (`OUTBOX` / `MAIL#<created_at>#<id>`) and events
//! waiting for the bus (`OUTBOX` / `EVENT#<created_at>#<id>`), each with its attempts,
//! last error and lease; and the dead letters, the messages given up on
//! (`OUTBOX` / `DEAD#MAIL#<id>`, `DEAD#EVENT#<id>`), with their reason. The pending
//! sort keys start with the creation time (fixed-width RFC 3339), so the retry reads the
//! oldest of a kind with one bounded Query instead of the whole partition; the dead
//! letters sort after every pending key and are found by id. Both kinds share the rules.

use aws_sdk_dynamodb::types::{Delete, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, SecondsFormat, Utc};

use super::attrs::Attrs;
use super::{build, cancellation_codes, condition_met, n, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::events::PendingEvent;
use crate::mail::Mail;
use crate::outbox::PendingMail;
use crate::store::{Dead, Lease, Outbox, OutboxCursor, OutboxPage, Outgoing, Queued, StoreError, StoreResult};

const PARTITION: &str = "OUTBOX";
const DEAD: &str = "DEAD#";
/// The longest last error or reason kept (SDK messages can be long).
const ERROR_CHARS: usize = 500;

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn shortened(text: &str) -> String {
    text.chars().take(ERROR_CHARS).collect()
}

/// How one kind of message is kept in the outbox partition.
pub(super) trait Family: Outgoing + Send + Sync + 'static + Sized {
    /// The sort key's prefix: the kind's own range of the partition.
    const PREFIX: &'static str;
    const TYPE: &'static str;
    const DEAD_TYPE: &'static str;
    fn describe(&self, item: &mut Item);
    fn read(a: &Attrs) -> StoreResult<Self>;
    /// The same message, made anew at `created_at` (a dead letter sent back).
    fn made_at(&self, created_at: DateTime<Utc>) -> Self;
}

impl Family for PendingMail {
    const PREFIX: &'static str = "MAIL#";
    const TYPE: &'static str = "pending_mail";
    const DEAD_TYPE: &'static str = "dead_mail";
    fn describe(&self, item: &mut Item) {
        item.insert("to".into(), s(&self.mail.to));
        item.insert("subject".into(), s(&self.mail.subject));
        item.insert("text".into(), s(&self.mail.text));
        item.insert("html".into(), s(&self.mail.html));
    }
    fn read(a: &Attrs) -> StoreResult<Self> {
        Ok(PendingMail {
            id: a.str("id")?.to_string(),
            mail: Mail {
                to: a.str("to")?.to_string(),
                subject: a.str("subject")?.to_string(),
                text: a.str("text")?.to_string(),
                html: a.str("html")?.to_string(),
            },
            created_at: a.instant("created_at")?,
        })
    }
    fn made_at(&self, created_at: DateTime<Utc>) -> Self {
        PendingMail::new(self.id.clone(), self.mail.clone(), created_at)
    }
}

impl Family for PendingEvent {
    const PREFIX: &'static str = "EVENT#";
    const TYPE: &'static str = "pending_event";
    const DEAD_TYPE: &'static str = "dead_event";
    fn describe(&self, item: &mut Item) {
        item.insert("detail_type".into(), s(&self.detail_type));
        item.insert("detail".into(), s(&self.detail));
    }
    fn read(a: &Attrs) -> StoreResult<Self> {
        Ok(PendingEvent {
            id: a.str("id")?.to_string(),
            detail_type: a.str("detail_type")?.to_string(),
            detail: a.str("detail")?.to_string(),
            created_at: a.instant("created_at")?,
        })
    }
    fn made_at(&self, created_at: DateTime<Utc>) -> Self {
        PendingEvent { created_at: crate::outbox::outbox_instant(created_at), ..self.clone() }
    }
}

pub fn message<M: Family>(pending: &M) -> Key {
    Key::new(PARTITION, format!("{}{}#{}", M::PREFIX, instant(pending.created_at()), pending.id()))
}

pub fn mail(pending: &PendingMail) -> Key {
    message(pending)
}

pub fn event(pending: &PendingEvent) -> Key {
    message(pending)
}

fn dead_key<M: Family>(id: &str) -> Key {
    Key::new(PARTITION, format!("{DEAD}{}{id}", M::PREFIX))
}

/// The dead letter of the mail with this id.
pub fn dead_mail(id: &str) -> Key {
    dead_key::<PendingMail>(id)
}

/// The dead letter of the event with this id.
pub fn dead_event(id: &str) -> Key {
    dead_key::<PendingEvent>(id)
}

/// The outbox item of `pending`, leased until `leased_until` if given (a transaction that
/// creates a message and hands it to its own request: that is its first attempt).
pub(super) fn outbox_item<M: Family>(pending: &M, leased_until: Option<DateTime<Utc>>) -> Item {
    let mut item = message(pending).item();
    item.insert("type".into(), s(M::TYPE));
    item.insert("id".into(), s(pending.id()));
    item.insert("created_at".into(), s(instant(pending.created_at())));
    pending.describe(&mut item);
    if let Some(until) = leased_until {
        item.insert("lease_until".into(), s(instant(until)));
        item.insert("attempts".into(), n(1));
    }
    item
}

pub(super) fn queued<M: Family>(item: &Item) -> StoreResult<Queued<M>> {
    let a = Attrs::new(item);
    Ok(Queued {
        message: M::read(&a)?,
        attempts: a.opt_num("attempts")?.unwrap_or(0),
        last_error: a.opt_str("last_error")?.map(str::to_string),
        lease_until: a.opt_instant("lease_until")?,
        sent_at: a.opt_instant("sent_at")?,
    })
}

pub(super) fn dead<M: Family>(item: &Item) -> StoreResult<Dead<M>> {
    let a = Attrs::new(item);
    Ok(Dead {
        message: M::read(&a)?,
        attempts: a.opt_num("attempts")?.unwrap_or(0),
        reason: a.str("reason")?.to_string(),
        dead_at: a.instant("dead_at")?,
    })
}

impl<M: Family> Outbox<M> for DynamoStore {
    async fn put_outgoing(&self, pending: &M) -> StoreResult<()> {
        self.put("put outbox message", outbox_item(pending, None), Some("attribute_not_exists(pk)")).await
    }

    async fn outbox_page(
        &self,
        older_than: DateTime<Utc>,
        after: Option<&OutboxCursor>,
        limit: i32,
    ) -> StoreResult<OutboxPage<M>> {
        // "#" sorts before every digit: <PREFIX><older_than># bounds every message of the
        // kind created before that instant.
        let start = after.map(|c| Key::new(PARTITION, c.0.clone()).item());
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(PARTITION))
            .expression_attribute_values(":from", s(M::PREFIX))
            .expression_attribute_values(":to", s(format!("{}{}#", M::PREFIX, instant(older_than))))
            .consistent_read(true)
            .limit(limit.max(1))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list outbox", e))?;
        let next = out
            .last_evaluated_key
            .as_ref()
            .and_then(|k| k.get("sk"))
            .and_then(|v| v.as_s().ok())
            .map(|sk| OutboxCursor(sk.clone()));
        let entries = out.items.unwrap_or_default().iter().map(queued).collect();
        Ok(OutboxPage { entries, next })
    }

    async fn lease(&self, pending: &M, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<Option<Lease>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .update_expression("SET lease_until = :until ADD attempts :one")
            .condition_expression(
                "attribute_exists(pk) AND attribute_not_exists(sent_at) \
                 AND (attribute_not_exists(lease_until) OR lease_until <= :now)",
            )
            .expression_attribute_values(":until", s(instant(until)))
            .expression_attribute_values(":now", s(instant(now)))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                let item = out.attributes.unwrap_or_default();
                let a = Attrs::new(&item);
                Ok(Some(Lease {
                    attempt: a.opt_num("attempts")?.unwrap_or(1),
                    last_error: a.opt_str("last_error")?.map(str::to_string),
                }))
            }
            Err(e) => match sdk_error("lease outbox message", e) {
                StoreError::Conflict(_) => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn mark_sent(&self, pending: &M, receipt: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .update_expression("SET sent_at = :now, receipt = :receipt")
            // Never a stray item made of a key and a mark: the clear may have come first.
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(instant(now)))
            .expression_attribute_values(":receipt", s(shortened(receipt)))
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("mark outbox message sent", e))).map(|_| ())
    }

    fn mark_sent_later(&self, pending: &M, receipt: &str, now: DateTime<Utc>) {
        let (store, pending, receipt) = (self.clone(), pending.clone(), receipt.to_string());
        // As a session's use (`touch_session`): it runs while the caller answers, or at the
        // instance's next invocation if it is frozen first.
        tokio::spawn(async move {
            match Outbox::<M>::mark_sent(&store, &pending, &receipt, now).await {
                Ok(()) => tracing::warn!(kind = M::KIND, id = pending.id(), "sent and marked; the next run clears it"),
                Err(e) => tracing::error!(kind = M::KIND, id = pending.id(), error = %e,
                    "sent but neither cleared nor marked in the outbox; it goes again after its lease"),
            }
        });
    }

    async fn retry_later(&self, pending: &M, error: &str, retry_at: DateTime<Utc>) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .update_expression("SET last_error = :error, lease_until = :at")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(sent_at)")
            .expression_attribute_values(":error", s(shortened(error)))
            .expression_attribute_values(":at", s(instant(retry_at)))
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("record outbox failure", e))).map(|_| ())
    }

    async fn clear(&self, pending: &M) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .send()
            .await
            .map_err(|e| sdk_error("clear outbox message", e))?;
        Ok(())
    }

    async fn bury(&self, pending: &M, attempts: u32, reason: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        let mut item = dead_key::<M>(pending.id()).item();
        item.insert("type".into(), s(M::DEAD_TYPE));
        item.insert("id".into(), s(pending.id()));
        item.insert("created_at".into(), s(instant(pending.created_at())));
        pending.describe(&mut item);
        item.insert("attempts".into(), n(attempts));
        item.insert("reason".into(), s(shortened(reason)));
        item.insert("dead_at".into(), s(instant(now)));
        let put = Put::builder().table_name(&self.table).set_item(Some(item)).build();
        // A message its courier took meanwhile (marked) is not dead.
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(sent_at)")
            .build();
        let items = vec![
            TransactWriteItem::builder().put(build(put)?).build(),
            TransactWriteItem::builder().delete(build(delete)?).build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) if cancellation_codes(&err).is_some_and(|c| c.iter().any(|c| c == "ConditionalCheckFailed")) => {
                Ok(false)
            }
            Err(err) => Err(transaction_error("move outbox message to the dead letters", err)),
        }
    }

    async fn dead_letters(&self, limit: usize) -> StoreResult<Vec<StoreResult<Dead<M>>>> {
        let limit = i32::try_from(limit).unwrap_or(i32::MAX).max(1);
        let prefix = format!("{DEAD}{}", M::PREFIX);
        let items = self.query_prefix("list dead letters", PARTITION, &prefix, Some(limit)).await?;
        Ok(items.iter().take(limit as usize).map(dead).collect())
    }

    async fn dead_letter(&self, id: &str) -> StoreResult<Option<Dead<M>>> {
        self.get("get dead letter", &dead_key::<M>(id)).await?.map(|i| dead(&i)).transpose()
    }

    async fn revive(&self, id: &str, now: DateTime<Utc>) -> StoreResult<Option<M>> {
        let Some(found) = Outbox::<M>::dead_letter(self, id).await? else { return Ok(None) };
        let again = found.message.made_at(now);
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(outbox_item(&again, None)))
            .condition_expression("attribute_not_exists(pk)")
            .build();
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(dead_key::<M>(id).item()))
            .condition_expression("attribute_exists(pk)")
            .build();
        let items = vec![
            TransactWriteItem::builder().put(build(put)?).build(),
            TransactWriteItem::builder().delete(build(delete)?).build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(Some(again)),
            // Sent back by someone else first.
            Err(err) if cancellation_codes(&err).is_some_and(|c| c.iter().any(|c| c == "ConditionalCheckFailed")) => {
                Ok(None)
            }
            Err(err) => Err(transaction_error("send a dead letter back to the outbox", err)),
        }
    }
}
