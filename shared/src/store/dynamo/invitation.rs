//! Invitations: accounts that have no password yet (imported) wait at `INVITATION` /
//! `PENDING#<account id>` until they are mailed a link to set one. The link is a reset
//! token (`RESET#<digest>`, purpose `invitation`) with a longer life: following it is a
//! password reset (`POST /password-reset/confirm`), which works on a login without a
//! hash as on any other.

use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};

use super::account::{login, profile};
use super::attrs::Attrs;
use super::outbox::outbox_item;
use super::reset::token_item;
use super::{build, cancellation_codes, failed_condition, s, sdk_error, transaction_error, DynamoStore, Key};
use crate::domain::{AccountId, Email};
use crate::outbox::PendingMail;
use crate::store::{
    InvitationCursor, InvitationPage, Invitations, InviteOutcome, PendingInvitation, ResetToken, StoreResult,
};

const PARTITION: &str = "INVITATION";
const PREFIX: &str = "PENDING#";

pub fn pending(account: &AccountId) -> Key {
    Key::new(PARTITION, format!("{PREFIX}{account}"))
}

/// The item that puts `account` on the list of invitations to send.
pub(super) fn pending_item(account: &AccountId, email: &Email, now: DateTime<Utc>) -> super::Item {
    let mut item = pending(account).item();
    item.insert("type".into(), s("pending_invitation"));
    item.insert("account_id".into(), s(account.as_str()));
    item.insert("email".into(), s(email.as_str()));
    item.insert("created_at".into(), s(now.to_rfc3339()));
    item
}

fn pending_from(item: &super::Item) -> StoreResult<PendingInvitation> {
    let a = Attrs::new(item);
    Ok(PendingInvitation {
        account: a.account_id("account_id")?,
        email: a.email("email")?,
        since: a.instant("created_at")?,
    })
}

impl Invitations for DynamoStore {
    async fn put_pending_invitation(&self, account: &AccountId, email: &Email, now: DateTime<Utc>) -> StoreResult<()> {
        self.put("put pending invitation", pending_item(account, email, now), None).await
    }

    async fn pending_invitations(&self, after: Option<&InvitationCursor>, limit: i32) -> StoreResult<InvitationPage> {
        let start = after.map(|c| Key::new(PARTITION, c.0.clone()).item());
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(PARTITION))
            .expression_attribute_values(":prefix", s(PREFIX))
            .consistent_read(true)
            .limit(limit.max(1))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list pending invitations", e))?;
        let next = out
            .last_evaluated_key
            .as_ref()
            .and_then(|k| k.get("sk"))
            .and_then(|v| v.as_s().ok())
            .map(|sk| InvitationCursor(sk.clone()));
        Ok(InvitationPage { entries: out.items.unwrap_or_default().iter().map(pending_from).collect(), next })
    }

    async fn drop_pending_invitation(&self, account: &AccountId) -> StoreResult<()> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(pending(account).item()))
            .send()
            .await
            .map_err(|e| sdk_error("drop pending invitation", e))?;
        Ok(())
    }

    async fn invite(
        &self,
        token: &ResetToken,
        mail: &PendingMail,
        leased_until: DateTime<Utc>,
        only_if_pending: bool,
    ) -> StoreResult<InviteOutcome> {
        let no_password = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(login(&token.email).item()))
            .condition_expression("account_id = :account AND attribute_not_exists(password_hash)")
            .expression_attribute_values(":account", s(token.account.as_str()))
            .build();
        let put_token = Put::builder()
            .table_name(&self.table)
            .set_item(Some(token_item(token, "invitation")))
            .condition_expression("attribute_not_exists(pk)")
            .build();
        let put_mail = Put::builder()
            .table_name(&self.table)
            .set_item(Some(outbox_item(mail, Some(leased_until))))
            .condition_expression("attribute_not_exists(pk)")
            .build();
        let mark = Update::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&token.account).item()))
            .update_expression("SET invited_at = :now")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":now", s(token.issued_at.to_rfc3339()))
            .build();
        let mut drop = Delete::builder().table_name(&self.table).set_key(Some(pending(&token.account).item()));
        if only_if_pending {
            drop = drop.condition_expression("attribute_exists(pk)");
        }
        let items = vec![
            TransactWriteItem::builder().condition_check(build(no_password)?).build(),
            TransactWriteItem::builder().put(build(put_token)?).build(),
            TransactWriteItem::builder().put(build(put_mail)?).build(),
            TransactWriteItem::builder().update(build(mark)?).build(),
            TransactWriteItem::builder().delete(build(drop.build())?).build(),
        ];
        match self.transact(items).await {
            Ok(()) => Ok(InviteOutcome::Invited),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 0) => Ok(InviteOutcome::HasPassword),
                Some(codes) if failed_condition(&codes, 4) => Ok(InviteOutcome::NotPending),
                _ => Err(transaction_error("invite", err)),
            },
        }
    }
}
