//! The outbox: mails waiting for SES (`OUTBOX` / `MAIL#<created_at>#<id>`) and events
//! waiting for the bus (`OUTBOX` / `EVENT#<created_at>#<id>`). The sort key starts with
//! the creation time (fixed-width RFC 3339), so the retry reads the oldest of a kind with
//! one bounded Query instead of the whole partition. Both kinds share the lease rules.

use chrono::{DateTime, SecondsFormat, Utc};

use super::attrs::Attrs;
use super::{condition_met, s, sdk_error, DynamoStore, Item, Key};
use crate::events::PendingEvent;
use crate::mail::Mail;
use crate::outbox::PendingMail;
use crate::store::{Outbox, Outgoing, StoreResult};

const PARTITION: &str = "OUTBOX";

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// How one kind of message is kept in the outbox partition.
pub(super) trait Family: Outgoing + Sized {
    /// The sort key's prefix: the kind's own range of the partition.
    const PREFIX: &'static str;
    const TYPE: &'static str;
    fn created_at(&self) -> DateTime<Utc>;
    fn describe(&self, item: &mut Item);
    fn read(a: &Attrs) -> StoreResult<Self>;
}

impl Family for PendingMail {
    const PREFIX: &'static str = "MAIL#";
    const TYPE: &'static str = "pending_mail";
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
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
}

impl Family for PendingEvent {
    const PREFIX: &'static str = "EVENT#";
    const TYPE: &'static str = "pending_event";
    fn created_at(&self) -> DateTime<Utc> {
        self.created_at
    }
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

/// The outbox item of `pending`, leased until `leased_until` if given (a transaction that
/// creates a message and hands it to its own request).
pub(super) fn outbox_item<M: Family>(pending: &M, leased_until: Option<DateTime<Utc>>) -> Item {
    let mut item = message(pending).item();
    item.insert("type".into(), s(M::TYPE));
    item.insert("id".into(), s(pending.id()));
    item.insert("created_at".into(), s(instant(pending.created_at())));
    pending.describe(&mut item);
    if let Some(until) = leased_until {
        item.insert("lease_until".into(), s(instant(until)));
    }
    item
}

impl<M: Family> Outbox<M> for DynamoStore {
    async fn put_outgoing(&self, pending: &M) -> StoreResult<()> {
        self.put("put outbox message", outbox_item(pending, None), Some("attribute_not_exists(pk)")).await
    }

    async fn pending(&self, older_than: DateTime<Utc>, limit: i32) -> StoreResult<Vec<M>> {
        // "#" sorts before every digit: <PREFIX><older_than># bounds every message of the
        // kind created before that instant.
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
            .send()
            .await
            .map_err(|e| sdk_error("list outbox", e))?;
        out.items.unwrap_or_default().iter().map(|i| M::read(&Attrs::new(i))).collect()
    }

    async fn lease(&self, pending: &M, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(message(pending).item()))
            .update_expression("SET lease_until = :until")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until <= :now)")
            .expression_attribute_values(":until", s(instant(until)))
            .expression_attribute_values(":now", s(instant(now)))
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("lease outbox message", e)))
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
}
