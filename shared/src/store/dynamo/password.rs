//! A password change by the account's owner: like a reset, the password epoch moves on
//! (every session made before is dead), but the session that asked moves with it, and only
//! the asking client's count of failures starts again.

use aws_sdk_dynamodb::types::{TransactWriteItem, Update};

use super::account::{login, profile};
use super::outbox::outbox_item;
use super::session::{pointer, session, session_keys};
use super::{build, n, s, transaction_error, DynamoStore};
use crate::store::{PasswordChange, PasswordChanges, StoreError, StoreResult};

impl PasswordChanges for DynamoStore {
    async fn change_password(&self, change: &PasswordChange<'_>) -> StoreResult<()> {
        let c = change.credentials;
        let (old_epoch, new_epoch) = (c.password_epoch, c.password_epoch + 1);
        let now = change.now.to_rfc3339();
        // An account without a password never got its current one checked.
        let Some(old_hash) = c.password_hash.as_deref() else {
            return Err(StoreError::Conflict("the account has no password to change".into()));
        };
        // The hash checked is still the login's: a change or reset meanwhile wins.
        let replace = Update::builder()
            .table_name(&self.table)
            .set_key(Some(login(&c.email).item()))
            .update_expression("SET password_hash = :hash, password_changed_at = :now, password_epoch = :epoch")
            .condition_expression("account_id = :account AND password_hash = :old")
            .expression_attribute_values(":account", s(c.account.as_str()))
            .expression_attribute_values(":old", s(old_hash))
            .expression_attribute_values(":hash", s(change.new_hash))
            .expression_attribute_values(":now", s(&now))
            .expression_attribute_values(":epoch", n(new_epoch))
            .build();
        let same_epoch = if old_epoch == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(password_epoch) OR password_epoch = :old)"
        } else {
            "attribute_exists(pk) AND password_epoch = :old"
        };
        let new_epoch_item = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&c.account).item()))
            .update_expression("SET password_epoch = :epoch")
            .condition_expression(same_epoch)
            .expression_attribute_values(":old", n(old_epoch))
            .expression_attribute_values(":epoch", n(new_epoch))
            .build();
        let mut items = vec![
            TransactWriteItem::builder().update(build(replace)?).build(),
            TransactWriteItem::builder().update(build(new_epoch_item)?).build(),
        ];
        // The asking session (and its pointer) lives on under the new epoch.
        let current = change.current;
        for key in [session(&current.digest), pointer(&current.account, &current.id)] {
            let moved = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key.item()))
                .update_expression("SET password_epoch = :epoch")
                .condition_expression("attribute_exists(pk)")
                .expression_attribute_values(":epoch", n(new_epoch))
                .build();
            items.push(TransactWriteItem::builder().update(build(moved)?).build());
        }
        items.push(self.clear_count(&c.email, change.client, change.now)?);
        let leased = Some(change.now + crate::outbox::LEASE);
        items.push(self.put_if_absent(outbox_item(change.mail, leased))?);
        // The others are dead by their epoch already; deleting them is tidying.
        let others: Vec<_> = change.others.iter().filter(|o| o.id != current.id).cloned().collect();
        let rest = self.add_deletes(&mut items, session_keys(&others))?;
        self.transact(items).await.map_err(|e| match transaction_error("change password", e) {
            StoreError::Conflict(_) => StoreError::Conflict("the password or the session changed meanwhile".into()),
            other => other,
        })?;
        self.delete_after(rest).await;
        Ok(())
    }
}
