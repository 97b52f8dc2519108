//! Accounts: the profile (`ACCOUNT#<id>` / `PROFILE`) and the login
//! (`EMAIL#<email>` / `LOGIN`): the e-mail's uniqueness item, which points at the account
//! and keeps what a login checks (password hash and epoch, reset-mail times) and what it
//! answers (copies of the name and company), so a login finds it all by what the customer
//! typed.

use chrono::{DateTime, Utc};

use super::attrs::Attrs;
use super::directory;
use super::{
    cancellation_codes, condition_met, failed_condition, n, s, sdk_error, transaction_error, DynamoStore, Item, Key,
};
use crate::domain::token::TokenDigest;
use crate::domain::{Account, AccountId, Credentials, Email, Subscription};
use crate::store::{AccountWriter, Accounts, Logins, Profile, StoreError, StoreResult};

/// The partition of everything an account owns.
pub(super) fn partition(id: &AccountId) -> String {
    format!("ACCOUNT#{id}")
}

pub fn profile(id: &AccountId) -> Key {
    Key::new(partition(id), "PROFILE")
}

pub fn login(email: &Email) -> Key {
    Key::new(format!("EMAIL#{email}"), "LOGIN")
}

pub(super) fn profile_item(account: &Account, now: DateTime<Utc>) -> Item {
    let mut item = profile(&account.id).item();
    item.insert("type".into(), s("account"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("email".into(), s(account.email.as_str()));
    item.insert("name".into(), s(&account.name));
    item.insert("company".into(), s(&account.company));
    item.insert("created_at".into(), s(now.to_rfc3339()));
    item.insert("password_epoch".into(), n(0));
    item
}

/// The e-mail's login item; `password_hash` `None` for an imported account, which has no
/// password until it follows its invitation.
pub(super) fn login_item(account: &Account, password_hash: Option<&str>) -> Item {
    let mut item = login(&account.email).item();
    item.insert("type".into(), s("login"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("email".into(), s(account.email.as_str()));
    // Copies of the profile's: a login answers them without reading the profile. Nothing
    // changes them after the account is added.
    item.insert("name".into(), s(&account.name));
    item.insert("company".into(), s(&account.company));
    if let Some(hash) = password_hash {
        item.insert("password_hash".into(), s(hash));
    }
    item.insert("password_epoch".into(), n(0));
    item
}

/// The login item's mark of two-step verification: a login reads it with the hash.
pub(super) const TWO_STEP: &str = "totp_on";

pub(super) fn account_from(item: &Item) -> StoreResult<Account> {
    let a = Attrs::new(item);
    Ok(Account {
        id: a.account_id("account_id")?,
        email: a.email("email")?,
        name: a.str("name")?.to_string(),
        company: a.str("company")?.to_string(),
    })
}

/// The profile with what an authenticated route checks besides the account.
pub(super) fn profile_from(item: &Item) -> StoreResult<Profile> {
    let a = Attrs::new(item);
    Ok(Profile {
        account: account_from(item)?,
        password_epoch: a.opt_num("password_epoch")?.unwrap_or(0),
        email_change: a.opt_str(EMAIL_CHANGE)?.map(|d| TokenDigest::from_stored(d.to_string())),
    })
}

/// The profile's digest of the latest e-mail change asked for.
pub(super) const EMAIL_CHANGE: &str = "email_change";

/// The account as a login item copies it; `None` for one written before it kept the copies.
pub(super) fn holder_from(item: &Item) -> StoreResult<Option<Account>> {
    let a = Attrs::new(item);
    let (Some(name), Some(company)) = (a.opt_str("name")?, a.opt_str("company")?) else { return Ok(None) };
    Ok(Some(Account {
        id: a.account_id("account_id")?,
        email: a.email("email")?,
        name: name.to_string(),
        company: company.to_string(),
    }))
}

pub(super) fn credentials_from(item: &Item) -> StoreResult<Credentials> {
    let a = Attrs::new(item);
    Ok(Credentials {
        account: a.account_id("account_id")?,
        email: a.email("email")?,
        password_hash: a.opt_str("password_hash")?.map(str::to_string),
        password_epoch: a.opt_num("password_epoch")?.unwrap_or(0),
        two_step: a.opt_bool(TWO_STEP)?.unwrap_or(false),
    })
}

impl Accounts for DynamoStore {
    async fn account(&self, id: &AccountId) -> StoreResult<Option<Account>> {
        self.get("get account", &profile(id)).await?.map(|i| account_from(&i)).transpose()
    }
}

impl Logins for DynamoStore {
    async fn credentials(&self, email: &Email) -> StoreResult<Option<Credentials>> {
        self.get("get login", &login(email)).await?.map(|i| credentials_from(&i)).transpose()
    }

    async fn renew_password_hash(&self, email: &Email, old: &str, renewed: &str) -> StoreResult<bool> {
        let written = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(login(email).item()))
            .update_expression("SET password_hash = :renewed")
            .condition_expression("password_hash = :old")
            .expression_attribute_values(":old", s(old))
            .expression_attribute_values(":renewed", s(renewed))
            .send()
            .await;
        condition_met(written.map_err(|e| sdk_error("renew password hash", e)))
    }
}

impl AccountWriter for DynamoStore {
    async fn add_account(&self, account: &Account, password_hash: &str) -> StoreResult<()> {
        self.add_account_with_subscriptions(account, password_hash, &[]).await
    }

    async fn add_account_with_subscriptions(
        &self,
        account: &Account,
        password_hash: &str,
        subs: &[Subscription],
    ) -> StoreResult<()> {
        self.write_account(account, Some(password_hash), subs).await
    }

    async fn add_account_without_password(&self, account: &Account, subs: &[Subscription]) -> StoreResult<()> {
        self.write_account(account, None, subs).await
    }
}

impl DynamoStore {
    async fn write_account(
        &self,
        account: &Account,
        password_hash: Option<&str>,
        subs: &[Subscription],
    ) -> StoreResult<()> {
        if let Some(stray) = subs.iter().find(|s| s.account != account.id) {
            return Err(StoreError::Other(format!("serial {} belongs to another account", stray.serial)));
        }
        let now = Utc::now();
        let mut items = vec![
            self.put_if_absent(profile_item(account, now))?,
            self.put_if_absent(login_item(account, password_hash))?,
            // Every account is listed in the directory, for the export.
            self.put_if_absent(directory::entry_item(account, now))?,
        ];
        for sub in subs {
            items.extend(self.serial_puts(sub, &account.company, now)?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 1) => {
                    Err(StoreError::Conflict(format!("an account with e-mail {} exists already", account.email)))
                }
                Some(codes) if codes.iter().skip(3).any(|c| c == "ConditionalCheckFailed") => {
                    Err(StoreError::Conflict("one of the serial numbers exists already".into()))
                }
                _ => Err(transaction_error("add account", err)),
            },
        }
    }
}
