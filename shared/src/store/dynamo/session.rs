//! Sessions: the session (`SESSION#<digest of the token>` / `SESSION`, what a bearer
//! check reads) and its pointer in the account (`ACCOUNT#<id>` / `SESSION#<session id>`),
//! which lists an account's sessions (a password reset revokes them all) without any
//! token or digest in its key.

use chrono::{DateTime, Utc};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConditionCheck, TransactWriteItem};

use super::account::{partition, profile, profile_from};
use super::attrs::Attrs;
use super::serial::{serial, subscription_from};
use super::{build, condition_met, n, of_type, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::domain::token::TokenDigest;
use crate::domain::{AccountId, Serial, Subscription};
use crate::store::{AccountSessions, Profile, SerialSessions, Session, Sessions, StoreError, StoreResult};

/// A transaction holds at most this many items.
pub(super) const TRANSACTION_ITEMS: usize = 100;

pub(super) const POINTER_PREFIX: &str = "SESSION#";

pub fn session(digest: &TokenDigest) -> Key {
    Key::new(format!("SESSION#{}", digest.as_str()), "SESSION")
}

pub fn pointer(account: &AccountId, session_id: &str) -> Key {
    Key::new(partition(account), format!("{POINTER_PREFIX}{session_id}"))
}

fn describe(item: &mut Item, s_: &Session) {
    item.insert("session_id".into(), s(&s_.id));
    item.insert("account_id".into(), s(s_.account.as_str()));
    item.insert("created_at".into(), s(s_.created_at.to_rfc3339()));
    item.insert("expires_at".into(), n(s_.expires_at.timestamp()));
    item.insert("password_epoch".into(), n(s_.password_epoch));
    item.insert("last_used_at".into(), s(s_.last_used_at.to_rfc3339()));
    item.insert("source_ip".into(), s(&s_.source_ip));
    item.insert("user_agent".into(), s(&s_.user_agent));
    if let Some(device) = &s_.device {
        item.insert("device".into(), s(device.as_str()));
    }
}

pub(super) fn session_from(item: &Item, digest: TokenDigest) -> StoreResult<Session> {
    let a = Attrs::new(item);
    let created_at = a.instant("created_at")?;
    Ok(Session {
        digest,
        id: a.str("session_id")?.to_string(),
        account: a.account_id("account_id")?,
        created_at,
        expires_at: a.epoch("expires_at")?,
        last_used_at: a.opt_instant("last_used_at")?.unwrap_or(created_at),
        password_epoch: a.opt_num("password_epoch")?.unwrap_or(0),
        source_ip: a.opt_str("source_ip")?.unwrap_or_default().to_string(),
        user_agent: a.opt_str("user_agent")?.unwrap_or_default().to_string(),
        device: a.opt_str("device")?.map(|d| TokenDigest::from_stored(d.to_string())),
    })
}

/// The session a pointer item describes (a pointer carries the session's attributes and
/// its digest).
fn session_of_pointer(item: &Item) -> StoreResult<Session> {
    let digest = TokenDigest::from_stored(Attrs::new(item).str("digest")?.to_string());
    session_from(item, digest)
}

/// The keys that end `ended`: each session and its pointer.
pub(super) fn session_keys(ended: &[Session]) -> Vec<Key> {
    ended.iter().flat_map(|e| [session(&e.digest), pointer(&e.account, &e.id)]).collect()
}

/// The session a pointer item names: its digest and the pointer's own key.
pub(super) fn pointed_session(item: &Item) -> StoreResult<(TokenDigest, Key)> {
    let a = Attrs::new(item);
    let digest = TokenDigest::from_stored(a.str("digest")?.to_string());
    Ok((digest, Key::new(a.str("pk")?, a.str("sk")?)))
}

impl DynamoStore {
    /// The transaction items that create `new`: the session, its pointer, and the check
    /// that the account's password epoch is still the session's.
    pub(super) fn session_writes(&self, new: &Session) -> StoreResult<Vec<TransactWriteItem>> {
        let mut item = session(&new.digest).item();
        item.insert("type".into(), s("session"));
        describe(&mut item, new);
        let mut pointer_item = pointer(&new.account, &new.id).item();
        pointer_item.insert("type".into(), s("session_pointer"));
        pointer_item.insert("digest".into(), s(new.digest.as_str()));
        describe(&mut pointer_item, new);
        // Made for the password the login checked: if a reset moved the epoch on since,
        // the session is never created.
        let same_epoch = if new.password_epoch == 0 {
            "attribute_exists(pk) AND (attribute_not_exists(password_epoch) OR password_epoch = :epoch)"
        } else {
            "attribute_exists(pk) AND password_epoch = :epoch"
        };
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&new.account).item()))
            .condition_expression(same_epoch)
            .expression_attribute_values(":epoch", n(new.password_epoch))
            .build();
        Ok(vec![
            self.put_if_absent(item)?,
            self.put_if_absent(pointer_item)?,
            TransactWriteItem::builder().condition_check(build(check)?).build(),
        ])
    }
}

/// A failed transaction that creates a session: a failed condition is the epoch check's
/// (the session's keys are new).
pub(super) fn session_write_error(op: &'static str, err: SdkError<TransactWriteItemsError>) -> StoreError {
    match transaction_error(op, err) {
        StoreError::Conflict(_) => StoreError::Conflict("the password changed since the login read it".into()),
        other => other,
    }
}

impl Sessions for DynamoStore {
    async fn create_session(&self, new: &Session) -> StoreResult<()> {
        let items = self.session_writes(new)?;
        self.transact(items).await.map_err(|e| session_write_error("create session", e))
    }

    async fn session(&self, account: &AccountId, digest: &TokenDigest) -> StoreResult<Option<(Session, u64)>> {
        let items = self.batch_get("get session", &[&session(digest), &profile(account)]).await?;
        Ok(session_and_profile(&items, account, digest)?.map(|(found, owner)| (found, owner.password_epoch)))
    }

    fn touch_session(&self, used: &Session, now: DateTime<Utc>) {
        let (store, used) = (self.clone(), used.clone());
        // Not awaited: the request does not wait for it. On a single-threaded runtime it
        // runs while the request waits on its other calls; if the instance is frozen first,
        // it finishes at the next invocation.
        tokio::spawn(async move {
            let now = s(now.to_rfc3339());
            for key in [session(&used.digest), pointer(&used.account, &used.id)] {
                let result = store
                    .client
                    .update_item()
                    .table_name(&store.table)
                    .set_key(Some(key.item()))
                    .update_expression("SET last_used_at = :now")
                    .condition_expression("attribute_exists(pk)")
                    .expression_attribute_values(":now", now.clone())
                    .send()
                    .await;
                if let Err(e) = condition_met(result.map_err(|e| sdk_error("touch session", e))) {
                    tracing::warn!(error = %e, "session use not recorded");
                }
            }
        });
    }

    async fn revoke_session(&self, old: &Session) -> StoreResult<()> {
        let deletes = vec![self.delete(&session(&old.digest))?, self.delete(&pointer(&old.account, &old.id))?];
        self.transact(deletes).await.map_err(|e| transaction_error("revoke session", e))
    }
}

impl AccountSessions for DynamoStore {
    async fn session_with_profile(
        &self,
        account: &AccountId,
        digest: &TokenDigest,
    ) -> StoreResult<Option<(Session, Profile)>> {
        let items = self.batch_get("get session", &[&session(digest), &profile(account)]).await?;
        session_and_profile(&items, account, digest)
    }

    async fn sessions_of(&self, account: &AccountId) -> StoreResult<Vec<Session>> {
        let items = self.query_prefix("list sessions", &partition(account), POINTER_PREFIX, None).await?;
        items.iter().map(session_of_pointer).collect()
    }

    async fn session_by_id(&self, account: &AccountId, id: &str) -> StoreResult<Option<Session>> {
        let Some(item) = self.get("get session pointer", &pointer(account, id)).await? else { return Ok(None) };
        session_of_pointer(&item).map(Some)
    }
}

impl SerialSessions for DynamoStore {
    async fn session_with_serial(
        &self,
        account: &AccountId,
        digest: &TokenDigest,
        number: &Serial,
    ) -> StoreResult<Option<(Session, Profile, Option<Subscription>)>> {
        let keys = [&session(digest), &profile(account), &serial(account, number)];
        let items = self.batch_get("get session and serial", &keys).await?;
        let Some((found, owner)) = session_and_profile(&items, account, digest)? else { return Ok(None) };
        let sub = of_type(&items, "serial").map(subscription_from).transpose()?;
        Ok(Some((found, owner, sub)))
    }
}

/// The session and its account's profile among the items of one BatchGetItem; `None`
/// unless both are there and the session is the account's.
fn session_and_profile(
    items: &[Item],
    account: &AccountId,
    digest: &TokenDigest,
) -> StoreResult<Option<(Session, Profile)>> {
    let (Some(found), Some(owner)) = (of_type(items, "session"), of_type(items, "account")) else {
        return Ok(None);
    };
    let found = session_from(found, digest.clone())?;
    if &found.account != account {
        return Ok(None);
    }
    Ok(Some((found, profile_from(owner)?)))
}

impl DynamoStore {
    /// Deletes of `keys` added to `items` while the transaction has room; the keys left
    /// over, to delete after it with [`DynamoStore::delete_after`].
    pub(super) fn add_deletes(&self, items: &mut Vec<TransactWriteItem>, keys: Vec<Key>) -> StoreResult<Vec<Key>> {
        let mut rest = Vec::new();
        for key in keys {
            if items.len() < TRANSACTION_ITEMS {
                items.push(self.delete(&key)?);
            } else {
                rest.push(key);
            }
        }
        Ok(rest)
    }

    /// Best-effort deletes after a transaction (dead sessions: tidying, not a rule).
    pub(super) async fn delete_after(&self, rest: Vec<Key>) {
        for key in rest {
            let sent = self.client.delete_item().table_name(&self.table).set_key(Some(key.item())).send().await;
            if let Err(e) = sent {
                tracing::warn!(error = %sdk_error("tidy sessions", e), "a dead session was not deleted");
            }
        }
    }
}
