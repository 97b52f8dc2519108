//! The account directory (`ACCOUNTS#<shard>` / `ACCOUNT#<id>`): every account is listed
//! here by the write that creates it, so the whole customer base is read with Queries (the
//! export), never a Scan. The directory has [`DIRECTORY_SHARDS`] partitions, by the first
//! hex digit of the account id (random), so a bulk import spreads its writes.

use chrono::{DateTime, Utc};

use super::account::{account_from, partition};
use super::attrs::Attrs;
use super::serial::subscription_from;
use super::{s, sdk_error, DynamoStore, Item, Key};
use crate::domain::{Account, AccountId, Subscription};
use crate::store::{AccountDirectory, StoreError, StoreResult, DIRECTORY_SHARDS};

const ENTRY_PREFIX: &str = "ACCOUNT#";

fn shard_partition(shard: u8) -> String {
    format!("ACCOUNTS#{shard:x}")
}

/// The directory entry of an account.
pub fn entry(id: &AccountId) -> Key {
    let shard = id.as_str().chars().next().and_then(|c| c.to_digit(16)).unwrap_or(0) as u8;
    Key::new(shard_partition(shard), format!("{ENTRY_PREFIX}{id}"))
}

pub(super) fn entry_item(account: &Account, now: DateTime<Utc>) -> Item {
    let mut item = entry(&account.id).item();
    item.insert("type".into(), s("account_entry"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("created_at".into(), s(now.to_rfc3339()));
    item
}

impl AccountDirectory for DynamoStore {
    async fn directory_page(
        &self,
        shard: u8,
        after: Option<&AccountId>,
    ) -> StoreResult<(Vec<AccountId>, Option<AccountId>)> {
        if u32::from(shard) >= DIRECTORY_SHARDS {
            return Err(StoreError::Other(format!("no directory shard {shard}")));
        }
        let start = after.map(|id| entry(id).item());
        let out = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(shard_partition(shard)))
            .expression_attribute_values(":prefix", s(ENTRY_PREFIX))
            .set_exclusive_start_key(start)
            .send()
            .await
            .map_err(|e| sdk_error("list accounts", e))?;
        let ids = out
            .items
            .unwrap_or_default()
            .iter()
            .map(|item| Attrs::new(item).account_id("account_id"))
            .collect::<StoreResult<Vec<_>>>()?;
        // More follows only when DynamoDB says so; the last id read is where it resumes.
        let next = out.last_evaluated_key.and(ids.last().cloned());
        Ok((ids, next))
    }

    async fn account_and_serials(&self, id: &AccountId) -> StoreResult<Option<(Account, Vec<Subscription>)>> {
        // The profile and the serials are neighbours in the partition ("PROFILE" sorts just
        // before "SERIAL#", and sessions, "SESSION#", just after "SERIAL$"): one Query.
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND sk BETWEEN :from AND :to")
                .expression_attribute_values(":pk", s(partition(id)))
                .expression_attribute_values(":from", s("PROFILE"))
                .expression_attribute_values(":to", s("SERIAL$"))
                .consistent_read(true)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("read account and serials", e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) => start = Some(k),
                None => break,
            }
        }
        let kind = |item: &Item| item.get("type").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default();
        let Some(profile) = items.iter().find(|i| kind(i) == "account") else { return Ok(None) };
        let account = account_from(profile)?;
        let serials =
            items.iter().filter(|i| kind(i) == "serial").map(subscription_from).collect::<StoreResult<Vec<_>>>()?;
        Ok(Some((account, serials)))
    }
}
