//! The outbox: mails waiting for SES (`OUTBOX` / `MAIL#<created_at>#<id>`). The sort key
//! starts with the creation time (fixed-width RFC 3339), so the retry reads the oldest
//! mails with one bounded Query instead of the whole partition.

use chrono::{DateTime, SecondsFormat, Utc};

use super::attrs::Attrs;
use super::{condition_met, s, sdk_error, DynamoStore, Item, Key};
use crate::mail::Mail;
use crate::outbox::PendingMail;
use crate::store::{MailOutbox, StoreResult};

const PARTITION: &str = "OUTBOX";
const PREFIX: &str = "MAIL#";

fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

pub fn mail(pending: &PendingMail) -> Key {
    Key::new(PARTITION, format!("{PREFIX}{}#{}", instant(pending.created_at), pending.id))
}

/// The outbox item of `pending`, leased until `leased_until` if given (a transaction that
/// creates a mail and hands it to its own request).
pub(super) fn mail_item(pending: &PendingMail, leased_until: Option<DateTime<Utc>>) -> Item {
    let mut item = mail(pending).item();
    item.insert("type".into(), s("pending_mail"));
    item.insert("id".into(), s(&pending.id));
    item.insert("to".into(), s(&pending.mail.to));
    item.insert("subject".into(), s(&pending.mail.subject));
    item.insert("text".into(), s(&pending.mail.text));
    item.insert("html".into(), s(&pending.mail.html));
    item.insert("created_at".into(), s(instant(pending.created_at)));
    if let Some(until) = leased_until {
        item.insert("lease_until".into(), s(instant(until)));
    }
    item
}

fn mail_from(item: &Item) -> StoreResult<PendingMail> {
    let a = Attrs::new(item);
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

impl MailOutbox for DynamoStore {
    async fn put_mail(&self, pending: &PendingMail) -> StoreResult<()> {
        self.put("put mail", mail_item(pending, None), Some("attribute_not_exists(pk)")).await
    }

    async fn pending_mails(&self, older_than: DateTime<Utc>, limit: i32) -> StoreResult<Vec<PendingMail>> {
        // "#" sorts before every digit: MAIL#<older_than># bounds every mail created
        // before that instant.
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
            .expression_attribute_values(":pk", s(PARTITION))
            .expression_attribute_values(":from", s(PREFIX))
            .expression_attribute_values(":to", s(format!("{PREFIX}{}#", instant(older_than))))
            .consistent_read(true)
            .limit(limit.max(1))
            .send()
            .await
            .map_err(|e| sdk_error("list pending mail", e))?;
        out.items.unwrap_or_default().iter().map(mail_from).collect()
    }

    async fn lease_mail(&self, pending: &PendingMail, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(mail(pending).item()))
            .update_expression("SET lease_until = :until")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until <= :now)")
            .expression_attribute_values(":until", s(instant(until)))
            .expression_attribute_values(":now", s(instant(now)))
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("lease mail", e)))
    }

    async fn mail_sent(&self, pending: &PendingMail) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(mail(pending).item()))
            .send()
            .await
            .map_err(|e| sdk_error("delete sent mail", e))?;
        Ok(())
    }
}
