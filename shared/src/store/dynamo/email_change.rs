//! E-mail changes: the request (`EMAILCHANGE#<digest of the link's token>` /
//! `EMAIL_CHANGE`), the profile's pointer to the latest one (`email_change`), and the
//! confirmation, which moves the login item (the e-mail's uniqueness item) from the old
//! key to the new one in one transaction: the new key must be free, the old item must be
//! as it was read. The account's id, and so its serials, stay.

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::account::{login, profile, EMAIL_CHANGE, TWO_STEP};
use super::attrs::Attrs;
use super::outbox::outbox_item;
use super::session::session_keys;
use super::{build, cancellation_codes, failed_condition, n, s, transaction_error, DynamoStore, Key};
use crate::domain::email_change::EmailChange;
use crate::domain::token::TokenDigest;
use crate::outbox::PendingMail;
use crate::store::{EmailChangeError, EmailChanges, LoginClient, Session, StoreError, StoreResult};

/// The reset mails' rate-limit slots belong to an address, not to the account.
const ADDRESS_ONLY: [&str; 3] = ["reset_mail_1", "reset_mail_2", "reset_mail_3"];

pub fn request(digest: &TokenDigest) -> Key {
    Key::new(format!("EMAILCHANGE#{}", digest.as_str()), "EMAIL_CHANGE")
}

impl EmailChanges for DynamoStore {
    async fn ask_email_change(&self, c: &EmailChange, client: &LoginClient, mails: &[PendingMail]) -> StoreResult<()> {
        let mut item = request(&c.digest).item();
        item.insert("type".into(), s("email_change"));
        item.insert("account_id".into(), s(c.account.as_str()));
        item.insert("old_email".into(), s(c.old_email.as_str()));
        item.insert("new_email".into(), s(c.new_email.as_str()));
        item.insert("issued_at".into(), s(c.issued_at.to_rfc3339()));
        item.insert("expires_at".into(), n(c.expires_at.timestamp()));
        // The latest request is the only one that may be confirmed.
        let latest = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&c.account).item()))
            .update_expression("SET #change = :digest")
            .condition_expression("email = :old")
            .expression_attribute_names("#change", EMAIL_CHANGE)
            .expression_attribute_values(":digest", s(c.digest.as_str()))
            .expression_attribute_values(":old", s(c.old_email.as_str()))
            .build();
        let mut items = vec![
            self.put_if_absent(item)?,
            TransactWriteItem::builder().update(build(latest)?).build(),
            self.clear_count(&c.old_email, client, c.issued_at)?,
        ];
        let leased = Some(c.issued_at + crate::outbox::LEASE);
        for mail in mails {
            items.push(self.put_if_absent(outbox_item(mail, leased))?);
        }
        self.transact(items).await.map_err(|e| match transaction_error("ask e-mail change", e) {
            StoreError::Conflict(_) => StoreError::Conflict("the account's e-mail changed meanwhile".into()),
            other => other,
        })
    }

    async fn email_change(&self, digest: &TokenDigest) -> StoreResult<Option<EmailChange>> {
        let Some(item) = self.get("get e-mail change", &request(digest)).await? else { return Ok(None) };
        let a = Attrs::new(&item);
        Ok(Some(EmailChange {
            digest: digest.clone(),
            account: a.account_id("account_id")?,
            old_email: a.email("old_email")?,
            new_email: a.email("new_email")?,
            issued_at: a.instant("issued_at")?,
            expires_at: a.epoch("expires_at")?,
            used: a.opt_str("used_at")?.is_some(),
        }))
    }

    async fn confirm_email_change(
        &self,
        c: &EmailChange,
        sessions: &[Session],
        now: DateTime<Utc>,
    ) -> Result<(), EmailChangeError> {
        let Some(old) = self.get("get login", &login(&c.old_email)).await? else {
            return Err(EmailChangeError::Outdated);
        };
        let a = Attrs::new(&old);
        if a.str("account_id")? != c.account.as_str() {
            return Err(EmailChangeError::Outdated);
        }
        let epoch: u64 = a.opt_num("password_epoch")?.unwrap_or(0);
        // The login moves with everything it keeps (hash, two-step mark, copies of the
        // name and company), under the new key; the epoch moves on, as the profile's.
        let mut moved = old.clone();
        let new_key = login(&c.new_email);
        moved.insert("pk".into(), s(&new_key.pk));
        moved.insert("email".into(), s(c.new_email.as_str()));
        moved.insert("password_epoch".into(), n(epoch + 1));
        for slot in ADDRESS_ONLY {
            moved.remove(slot);
        }
        let spend = Update::builder()
            .table_name(&self.table)
            .set_key(Some(request(&c.digest).item()))
            .update_expression("SET used_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :epoch")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":epoch", n(now.timestamp()))
            .build();
        // The old login as read: a password change, reset or two-step change meanwhile
        // would otherwise be lost in the copy.
        let mut unchanged = "account_id = :account AND password_hash = :hash".to_string();
        unchanged.push_str(if epoch == 0 {
            " AND (attribute_not_exists(password_epoch) OR password_epoch = :epoch)"
        } else {
            " AND password_epoch = :epoch"
        });
        let mark = a.opt_bool(TWO_STEP)?.unwrap_or(false);
        unchanged.push_str(if mark { " AND #mark = :on" } else { " AND attribute_not_exists(#mark)" });
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(login(&c.old_email).item()))
            .condition_expression(unchanged)
            .expression_attribute_names("#mark", TWO_STEP)
            .expression_attribute_values(":account", s(c.account.as_str()))
            .expression_attribute_values(":hash", s(a.str("password_hash")?))
            .expression_attribute_values(":epoch", n(epoch));
        let delete = if mark { delete.expression_attribute_values(":on", AttributeValue::Bool(true)) } else { delete };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(moved))
            .condition_expression("attribute_not_exists(pk)")
            .build();
        let profile_update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&c.account).item()))
            .update_expression(
                "SET email = :new, password_epoch = if_not_exists(password_epoch, :zero) + :one REMOVE #change",
            )
            .condition_expression("email = :old AND #change = :digest")
            .expression_attribute_names("#change", EMAIL_CHANGE)
            .expression_attribute_values(":new", s(c.new_email.as_str()))
            .expression_attribute_values(":old", s(c.old_email.as_str()))
            .expression_attribute_values(":digest", s(c.digest.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .build();
        let mut items = vec![
            TransactWriteItem::builder().update(build(spend)?).build(),
            TransactWriteItem::builder().delete(build(delete.build())?).build(),
            TransactWriteItem::builder().put(build(put)?).build(),
            TransactWriteItem::builder().update(build(profile_update)?).build(),
        ];
        let rest = self.add_deletes(&mut items, session_keys(sessions))?;
        match self.transact(items).await {
            Ok(()) => {}
            Err(err) => {
                return Err(match cancellation_codes(&err) {
                    // Only the new login's own condition says the address is taken.
                    Some(codes) if failed_condition(&codes, 2) => EmailChangeError::Taken,
                    Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => EmailChangeError::Outdated,
                    _ => EmailChangeError::Store(transaction_error("confirm e-mail change", err)),
                });
            }
        }
        self.delete_after(rest).await;
        Ok(())
    }
}
