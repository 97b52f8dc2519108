//! Accounts: the profile (`ACCOUNT#<id>` / `PROFILE`) and the login
//! (`EMAIL#<email>` / `LOGIN`): the e-mail's uniqueness item, which points at the account
//! and keeps what a login checks (password hash, attempt count, lock, reset-mail times),
//! so a login reads one item, found by what the customer typed.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use chrono::{DateTime, Duration, Utc};

use super::attrs::Attrs;
use super::{cancellation_codes, failed_condition, n, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::domain::{Account, AccountId, Credentials, Email, Subscription};
use crate::store::{
    AccountWriter, Accounts, AttemptReservation, LoginAttempts, Logins, StoreError, StoreResult, LOCK_MINUTES,
    MAX_FAILED_LOGINS,
};

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

fn profile_item(account: &Account, now: DateTime<Utc>) -> Item {
    let mut item = profile(&account.id).item();
    item.insert("type".into(), s("account"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("email".into(), s(account.email.as_str()));
    item.insert("name".into(), s(&account.name));
    item.insert("company".into(), s(&account.company));
    item.insert("created_at".into(), s(now.to_rfc3339()));
    item
}

fn login_item(account: &Account, password_hash: &str) -> Item {
    let mut item = login(&account.email).item();
    item.insert("type".into(), s("login"));
    item.insert("account_id".into(), s(account.id.as_str()));
    item.insert("email".into(), s(account.email.as_str()));
    item.insert("password_hash".into(), s(password_hash));
    item.insert("failed_logins".into(), n(0));
    item
}

pub(super) fn account_from(item: &Item) -> StoreResult<Account> {
    let a = Attrs::new(item);
    Ok(Account {
        id: a.account_id("account_id")?,
        email: a.email("email")?,
        name: a.str("name")?.to_string(),
        company: a.str("company")?.to_string(),
    })
}

fn credentials_from(item: &Item) -> StoreResult<Credentials> {
    let a = Attrs::new(item);
    Ok(Credentials {
        account: a.account_id("account_id")?,
        email: a.email("email")?,
        password_hash: a.str("password_hash")?.to_string(),
        failed_logins: a.opt_num("failed_logins")?.unwrap_or(0),
        locked_until: a.opt_instant("locked_until")?,
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
}

impl LoginAttempts for DynamoStore {
    async fn reserve_login_attempt(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<AttemptReservation> {
        // Twice at most: a stale count is restarted once, then reserved again if another
        // request restarted it first.
        for _ in 0..2 {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(login(email).item()))
                .update_expression(
                    "SET failed_logins = if_not_exists(failed_logins, :zero) + :one, attempted_at = :now",
                )
                .condition_expression(
                    "attribute_exists(pk) AND (attribute_not_exists(locked_until) OR locked_until <= :now) \
                     AND (attribute_not_exists(failed_logins) OR failed_logins < :max)",
                )
                .expression_attribute_values(":zero", n(0))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(MAX_FAILED_LOGINS))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .return_values(ReturnValue::AllNew)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            let err = match result {
                Ok(out) => {
                    return Ok(AttemptReservation::Granted(credentials_from(&out.attributes.unwrap_or_default())?))
                }
                Err(err) => err,
            };
            let old = match &err {
                SdkError::ServiceError(se) => match se.err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => Some(c.item.clone()),
                    _ => None,
                },
                _ => None,
            };
            let item = match old {
                Some(None) => return Ok(AttemptReservation::NoAccount),
                Some(Some(item)) => item,
                None => return Err(sdk_error("reserve login attempt", err)),
            };
            let credentials = credentials_from(&item)?;
            if let Some(until) = credentials.locked_at(now) {
                return Ok(AttemptReservation::Locked(until));
            }
            // Every attempt is taken but no lock is written: either they are still being
            // checked (the last of them will set the lock), or they never reported back (a
            // login that timed out, crashed or lost the store's answer). Either way they
            // count as failures and lock until LOCK_MINUTES after the last one; after that
            // the count starts again, so lost attempts never lock an account for good.
            let attrs = Attrs::new(&item);
            let attempted_raw = attrs.opt_str("attempted_at")?.map(str::to_string);
            let until = attrs.opt_instant("attempted_at")?.map(|t| t + Duration::minutes(LOCK_MINUTES));
            if let Some(until) = until.filter(|u| *u > now) {
                return Ok(AttemptReservation::Locked(until));
            }
            let mut restart = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(login(email).item()))
                .update_expression("SET failed_logins = :one, attempted_at = :now REMOVE locked_until")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":seen", n(credentials.failed_logins))
                .return_values(ReturnValue::AllNew);
            restart = match attempted_raw {
                Some(raw) => restart
                    .condition_expression("failed_logins = :seen AND attempted_at = :attempted")
                    .expression_attribute_values(":attempted", s(raw)),
                None => restart.condition_expression("failed_logins = :seen AND attribute_not_exists(attempted_at)"),
            };
            match restart.send().await.map_err(|e| sdk_error("restart login attempts", e)) {
                Ok(out) => {
                    return Ok(AttemptReservation::Granted(credentials_from(&out.attributes.unwrap_or_default())?))
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES)))
    }

    async fn login_succeeded(&self, email: &Email) -> StoreResult<()> {
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(login(email).item()))
            .update_expression("SET failed_logins = :zero REMOVE locked_until")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(|e| sdk_error("login succeeded", e))?;
        Ok(())
    }

    async fn login_failed(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<()> {
        // The attempt was counted when reserved; the last allowed one sets the lock and
        // starts the count again for after it. For an unknown e-mail the condition cannot
        // hold: the same call, no write.
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(login(email).item()))
            .update_expression("SET locked_until = :until, failed_logins = :zero")
            .condition_expression("failed_logins >= :max")
            .expression_attribute_values(":until", s((now + Duration::minutes(LOCK_MINUTES)).to_rfc3339()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":max", n(MAX_FAILED_LOGINS))
            .send()
            .await;
        match result.map_err(|e| sdk_error("login failed", e)) {
            Ok(_) | Err(StoreError::Conflict(_)) => Ok(()),
            Err(e) => Err(e),
        }
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
        if let Some(stray) = subs.iter().find(|s| s.account != account.id) {
            return Err(StoreError::Other(format!("serial {} belongs to another account", stray.serial)));
        }
        let now = Utc::now();
        let mut items = vec![
            self.put_if_absent(profile_item(account, now))?,
            self.put_if_absent(login_item(account, password_hash))?,
        ];
        for sub in subs {
            items.extend(self.serial_puts(sub, now)?);
        }
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 1) => {
                    Err(StoreError::Conflict(format!("an account with e-mail {} exists already", account.email)))
                }
                Some(codes) if codes.iter().skip(2).any(|c| c == "ConditionalCheckFailed") => {
                    Err(StoreError::Conflict("one of the serial numbers exists already".into()))
                }
                _ => Err(transaction_error("add account", err)),
            },
        }
    }
}
