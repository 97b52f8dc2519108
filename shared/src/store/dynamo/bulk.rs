//! The operators' bulk load (`portal-admin import`): many accounts and serials, each
//! written with the same items as `account add` and `subscription add` write, packed into
//! transactions of up to 100 items. Every item of a bulk load belongs to a group with a
//! uniqueness condition (an account's login item, a serial's claim), and a group is all or
//! nothing, so an interrupted load leaves whole accounts and whole serials, never halves.

use aws_sdk_dynamodb::types::TransactWriteItem;
use chrono::{DateTime, Utc};

use super::account::{holder_from, login, login_item, profile_item};
use super::attrs::Attrs;
use super::serial::claim;
use super::{cancellation_codes, directory, invitation, transaction_error, DynamoStore, Item, Key, Unprocessed};
use crate::domain::{Account, Email, Serial, Subscription};
use crate::store::{BulkLoad, ExistingLogin, SerialHolder, StoreError, StoreResult};

/// Items per transaction, DynamoDB's limit.
const MAX_TRANSACTION_ITEMS: usize = 100;
/// Keys per BatchGetItem, DynamoDB's limit.
const MAX_BATCH_KEYS: usize = 100;
/// Items an imported account is made of: profile, login, pending invitation, directory entry.
pub const ACCOUNT_ITEMS: usize = 4;
/// Items a serial is made of: the serial and its claim.
pub const SERIAL_ITEMS: usize = 2;

impl DynamoStore {
    /// The items at `keys`, any number of them, in BatchGetItems of 100; keys DynamoDB
    /// leaves unprocessed (throttled) are asked for again after a growing pause.
    async fn batch_get_all(&self, op: &'static str, mut keys: Vec<Key>) -> StoreResult<Vec<Item>> {
        // DynamoDB refuses a batch that names a key twice.
        let mut seen = std::collections::HashSet::new();
        keys.retain(|k| seen.insert(k.clone()));
        let mut items = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_BATCH_KEYS) {
            let keys = chunk.iter().map(Key::item).collect();
            items.extend(self.batch_get_retrying(op, keys, Unprocessed::WITH_BACKOFF).await?);
        }
        Ok(items)
    }

    /// Writes `groups` (each a few items that stand or fall together) in transactions of
    /// up to 100 items. A group whose condition fails (it exists) is left out and the rest
    /// is sent again; returns, per group, whether it was written.
    async fn transact_groups(&self, op: &'static str, groups: Vec<Vec<TransactWriteItem>>) -> StoreResult<Vec<bool>> {
        let total: usize = groups.iter().map(Vec::len).sum();
        if total > MAX_TRANSACTION_ITEMS {
            return Err(StoreError::Other(format!("{op}: {total} items do not fit in one transaction")));
        }
        let mut written = vec![true; groups.len()];
        loop {
            let live: Vec<usize> = (0..groups.len()).filter(|&g| written[g]).collect();
            if live.is_empty() {
                return Ok(written);
            }
            // Which group each item of this attempt belongs to.
            let owner: Vec<usize> = live.iter().flat_map(|&g| std::iter::repeat_n(g, groups[g].len())).collect();
            let items: Vec<TransactWriteItem> = live.iter().flat_map(|&g| groups[g].iter().cloned()).collect();
            let err = match self.transact(items).await {
                Ok(()) => return Ok(written),
                Err(err) => err,
            };
            let failed: Vec<usize> = match cancellation_codes(&err) {
                Some(codes) if codes.iter().all(|c| c == "None" || c == "ConditionalCheckFailed") => codes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| *c == "ConditionalCheckFailed")
                    .filter_map(|(i, _)| owner.get(i).copied())
                    .collect(),
                _ => return Err(transaction_error(op, err)),
            };
            if failed.is_empty() {
                return Err(transaction_error(op, err));
            }
            for g in failed {
                written[g] = false;
            }
        }
    }
}

impl BulkLoad for DynamoStore {
    async fn existing_logins(&self, emails: &[Email]) -> StoreResult<Vec<ExistingLogin>> {
        let items = self.batch_get_all("read logins", emails.iter().map(login).collect()).await?;
        items
            .iter()
            .map(|item| {
                let a = Attrs::new(item);
                Ok(ExistingLogin {
                    email: a.email("email")?,
                    account: a.account_id("account_id")?,
                    holder: holder_from(item)?,
                })
            })
            .collect()
    }

    async fn serial_holders(&self, serials: &[Serial]) -> StoreResult<Vec<SerialHolder>> {
        let items = self.batch_get_all("read serial claims", serials.iter().map(claim).collect()).await?;
        items
            .iter()
            .map(|item| {
                let a = Attrs::new(item);
                Ok(SerialHolder { serial: a.serial("serial")?, account: a.account_id("account_id")? })
            })
            .collect()
    }

    async fn add_imported_accounts(&self, accounts: &[Account], now: DateTime<Utc>) -> StoreResult<Vec<bool>> {
        let groups = accounts
            .iter()
            .map(|account| {
                Ok(vec![
                    self.put_if_absent(login_item(account, None))?,
                    self.put_if_absent(profile_item(account, now))?,
                    self.put_if_absent(invitation::pending_item(&account.id, &account.email, now))?,
                    self.put_if_absent(directory::entry_item(account, now))?,
                ])
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.transact_groups("import accounts", groups).await
    }

    async fn add_imported_serials(
        &self,
        serials: &[(Subscription, String)],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<bool>> {
        let groups = serials
            .iter()
            .map(|(sub, company)| Ok(self.serial_puts(sub, company, now)?.to_vec()))
            .collect::<StoreResult<Vec<_>>>()?;
        self.transact_groups("import serials", groups).await
    }
}
