//! Sessions: the session (`SESSION#<digest of the token>` / `SESSION`, what a bearer
//! check reads) and its pointer in the account (`ACCOUNT#<id>` / `SESSION#<session id>`),
//! which lists an account's sessions (a password reset revokes them all) without any
//! token or digest in its key.

use chrono::{DateTime, Utc};

use super::account::partition;
use super::attrs::Attrs;
use super::{n, s, transaction_error, DynamoStore, Item, Key};
use crate::domain::token::TokenDigest;
use crate::domain::AccountId;
use crate::store::{Session, Sessions, StoreResult};

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
    item.insert("source_ip".into(), s(&s_.source_ip));
    item.insert("user_agent".into(), s(&s_.user_agent));
}

fn session_from(item: &Item, digest: TokenDigest) -> StoreResult<Session> {
    let a = Attrs::new(item);
    Ok(Session {
        digest,
        id: a.str("session_id")?.to_string(),
        account: a.account_id("account_id")?,
        created_at: a.instant("created_at")?,
        expires_at: a.epoch("expires_at")?,
        source_ip: a.opt_str("source_ip")?.unwrap_or_default().to_string(),
        user_agent: a.opt_str("user_agent")?.unwrap_or_default().to_string(),
    })
}

/// The session a pointer item names: its digest and the pointer's own key.
pub(super) fn pointed_session(item: &Item) -> StoreResult<(TokenDigest, Key)> {
    let a = Attrs::new(item);
    let digest = TokenDigest::from_stored(a.str("digest")?.to_string());
    Ok((digest, Key::new(a.str("pk")?, a.str("sk")?)))
}

impl Sessions for DynamoStore {
    async fn create_session(&self, new: &Session) -> StoreResult<()> {
        let mut item = session(&new.digest).item();
        item.insert("type".into(), s("session"));
        describe(&mut item, new);
        let mut pointer_item = pointer(&new.account, &new.id).item();
        pointer_item.insert("type".into(), s("session_pointer"));
        pointer_item.insert("digest".into(), s(new.digest.as_str()));
        describe(&mut pointer_item, new);
        let items = vec![self.put_if_absent(item)?, self.put_if_absent(pointer_item)?];
        self.transact(items).await.map_err(|e| transaction_error("create session", e))
    }

    async fn session(&self, digest: &TokenDigest, now: DateTime<Utc>) -> StoreResult<Option<Session>> {
        let Some(item) = self.get("get session", &session(digest)).await? else { return Ok(None) };
        let found = session_from(&item, digest.clone())?;
        // TTL deletion is lazy: expiry is checked here.
        Ok((found.expires_at > now).then_some(found))
    }

    async fn revoke_session(&self, old: &Session) -> StoreResult<()> {
        let deletes = vec![self.delete(&session(&old.digest))?, self.delete(&pointer(&old.account, &old.id))?];
        self.transact(deletes).await.map_err(|e| transaction_error("revoke session", e))
    }
}
