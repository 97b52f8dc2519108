//! Password resets: the one-time token (`RESET#<digest of the token>` / `RESET`) and the
//! times of the last reset mails, kept on the login item (3 in any hour). Completing one
//! moves the password epoch on (every older session is dead), and clears the lockout.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Utc};

use super::account::{login, partition, profile};
use super::attrs::Attrs;
use super::lockout;
use super::session::{pointed_session, session, POINTER_PREFIX};
use super::{build, condition_met, n, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::domain::token::TokenDigest;
use crate::domain::Email;
use crate::store::{PasswordResets, ResetToken, StoreError, StoreResult};

/// The login attributes holding the times of the last three reset mails.
const RESET_MAIL_SLOTS: [&str; 3] = ["reset_mail_1", "reset_mail_2", "reset_mail_3"];
/// A transaction holds at most this many items.
const TRANSACTION_ITEMS: usize = 100;

/// What a reset does to an item beyond its spend-and-replace core.
enum Tidy {
    Delete(Key),
    /// Writes the item back as given (a known device, its count cleared).
    Put(Item),
}

impl DynamoStore {
    fn tidy_item(&self, tidy: &Tidy) -> StoreResult<TransactWriteItem> {
        match tidy {
            Tidy::Delete(key) => self.delete(key),
            Tidy::Put(item) => {
                let put = Put::builder().table_name(&self.table).set_item(Some(item.clone())).build();
                Ok(TransactWriteItem::builder().put(build(put)?).build())
            }
        }
    }
}

pub fn token(digest: &TokenDigest) -> Key {
    Key::new(format!("RESET#{}", digest.as_str()), "RESET")
}

/// The token's item. `purpose` says what mailed it ("reset", or "invitation" for an
/// account's first password): both are spent alike.
pub(super) fn token_item(reset: &ResetToken, purpose: &str) -> Item {
    let mut item = token(&reset.digest).item();
    item.insert("type".into(), s("reset_token"));
    item.insert("purpose".into(), s(purpose));
    item.insert("account_id".into(), s(reset.account.as_str()));
    item.insert("email".into(), s(reset.email.as_str()));
    item.insert("issued_at".into(), s(reset.issued_at.to_rfc3339()));
    item.insert("expires_at".into(), n(reset.expires_at.timestamp()));
    item
}

impl PasswordResets for DynamoStore {
    async fn allow_reset_mail(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<bool> {
        // Three slots hold the times of the last three mails: a mail may go when one of
        // them is empty or over an hour old (a sliding hour, not a fixed window).
        let hour_ago = (now - Duration::hours(1)).to_rfc3339();
        for slot in RESET_MAIL_SLOTS {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(login(email).item()))
                .update_expression("SET #slot = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#slot) OR #slot <= :hour_ago)")
                .expression_attribute_names("#slot", slot)
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":hour_ago", s(hour_ago.clone()))
                .send()
                .await;
            if condition_met(result.map_err(|e| sdk_error("count reset mail", e)))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn put_reset_token(&self, reset: &ResetToken) -> StoreResult<()> {
        self.put("put reset token", token_item(reset, "reset"), Some("attribute_not_exists(pk)")).await
    }

    async fn reset_token(&self, digest: &TokenDigest) -> StoreResult<Option<ResetToken>> {
        let Some(item) = self.get("get reset token", &token(digest)).await? else { return Ok(None) };
        let a = Attrs::new(&item);
        Ok(Some(ResetToken {
            digest: digest.clone(),
            account: a.account_id("account_id")?,
            email: a.email("email")?,
            issued_at: a.instant("issued_at")?,
            expires_at: a.epoch("expires_at")?,
            used: a.opt_str("used_at")?.is_some(),
        }))
    }

    async fn complete_reset(&self, reset: &ResetToken, new_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let pk = partition(&reset.account);
        let pointers = self.query_prefix("list sessions", &pk, POINTER_PREFIX, None).await?;
        // The e-mail's lockout counts go too: the owner starts afresh.
        let locks = self.query_prefix("list login locks", &lockout::partition(&reset.email), "", None).await?;
        let spend = Update::builder()
            .table_name(&self.table)
            .set_key(Some(token(&reset.digest).item()))
            .update_expression("SET used_at = :now")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :epoch")
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":epoch", n(now.timestamp()))
            .build();
        let replace = Update::builder()
            .table_name(&self.table)
            .set_key(Some(login(&reset.email).item()))
            .update_expression(
                "SET password_hash = :hash, password_changed_at = :now, \
                 password_epoch = if_not_exists(password_epoch, :zero) + :one",
            )
            // The e-mail still logs in to this account, and a link mailed before the last
            // password change is dead.
            .condition_expression(
                "account_id = :account AND (attribute_not_exists(password_changed_at) OR password_changed_at < :issued)",
            )
            .expression_attribute_values(":account", s(reset.account.as_str()))
            .expression_attribute_values(":issued", s(reset.issued_at.to_rfc3339()))
            .expression_attribute_values(":hash", s(new_hash))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .build();
        // The account's epoch moves on with the login's: every session made before (or
        // made later by a login that read the old hash) is dead, deleted or not.
        let new_epoch = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&reset.account).item()))
            .update_expression("SET password_epoch = if_not_exists(password_epoch, :zero) + :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .build();
        let mut items = vec![
            TransactWriteItem::builder().update(build(spend)?).build(),
            TransactWriteItem::builder().update(build(replace)?).build(),
            TransactWriteItem::builder().update(build(new_epoch)?).build(),
        ];
        // The sessions are deleted to tidy up (they are dead by their epoch already);
        // what does not fit in one transaction goes after it, best effort.
        let mut rest = Vec::new();
        for item in &locks {
            let a = Attrs::new(item);
            let key = Key::new(a.str("pk")?, a.str("sk")?);
            // Known devices stay known, their counts cleared like every other.
            let tidy = match lockout::after_reset(item) {
                Some(kept) => Tidy::Put(kept),
                None => Tidy::Delete(key),
            };
            if items.len() < TRANSACTION_ITEMS {
                items.push(self.tidy_item(&tidy)?);
            } else {
                rest.push(tidy);
            }
        }
        for item in &pointers {
            let (digest, pointer) = pointed_session(item)?;
            for key in [session(&digest), pointer] {
                if items.len() < TRANSACTION_ITEMS {
                    items.push(self.delete(&key)?);
                } else {
                    rest.push(Tidy::Delete(key));
                }
            }
        }
        match self.transact(items).await {
            Ok(()) => {}
            Err(err) => {
                return Err(match transaction_error("complete reset", err) {
                    StoreError::Conflict(_) => {
                        StoreError::Conflict("reset token already used, expired or outdated".into())
                    }
                    other => other,
                })
            }
        }
        for tidy in rest {
            let result = match tidy {
                Tidy::Delete(key) => {
                    let sent = self.client.delete_item().table_name(&self.table).set_key(Some(key.item())).send().await;
                    sent.map(|_| ()).map_err(|e| sdk_error("tidy after reset", e))
                }
                Tidy::Put(item) => {
                    let sent = self.client.put_item().table_name(&self.table).set_item(Some(item)).send().await;
                    sent.map(|_| ()).map_err(|e| sdk_error("tidy after reset", e))
                }
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "a lockout item or dead session was not tidied after a reset");
            }
        }
        Ok(())
    }
}
