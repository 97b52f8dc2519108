//! Pending invitations (`INVITATION` / `PENDING#<account id>`): an account that has no
//! password yet (imported) waits here, with its e-mail, for the mail that lets it set one
//! (`portal-admin invite --all-pending` Queries the partition).

use chrono::{DateTime, Utc};

use super::{s, Item, Key};
use crate::domain::{Account, AccountId};

pub const PARTITION: &str = "INVITATION";
pub const PENDING_PREFIX: &str = "PENDING#";

pub fn pending(account: &AccountId) -> Key {
    Key::new(PARTITION, format!("{PENDING_PREFIX}{account}"))
}

pub(super) fn pending_item(account: &Account, now: DateTime<Utc>) -> Item {
    let mut item = pending(&account.id).item();
    item.insert("type".into(), s("pending_invitation"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("email".into(), s(account.email.as_str()));
    item.insert("created_at".into(), s(now.to_rfc3339()));
    item
}
