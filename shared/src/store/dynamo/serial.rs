//! Serials: the serial itself (`ACCOUNT#<id>` / `SERIAL#<serial>`, listed with one Query of
//! the account), its claim (`SERIAL#<serial>` / `SERIAL`: makes serial numbers unique and
//! finds the owner from the number alone) and the record of accepted upgrade terms
//! (`ACCOUNT#<id>` / `TERMS#<old serial>`).

use aws_sdk_dynamodb::types::{ConditionCheck, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};

use super::account::{account_from, partition, profile};
use super::attrs::Attrs;
use super::{
    build, cancellation_codes, condition_met, failed_condition, is_transient_reason, n, of_type, s, sdk_error,
    transaction_error, DynamoStore, Item, Key,
};
use crate::domain::{Account, AccountId, BillingPeriod, Plan, Serial, Subscription, Upgrade};
use crate::outbox::PendingMail;
use crate::store::{
    SerialValidation, SerialWriter, StoreError, StoreResult, SubscriptionReader, TermsRecord, UpgradeCommitError,
    UpgradeWriter, ValidationFacts,
};

const SERIAL_PREFIX: &str = "SERIAL#";

pub fn serial(account: &AccountId, serial: &Serial) -> Key {
    Key::new(partition(account), format!("{SERIAL_PREFIX}{serial}"))
}

pub fn claim(serial: &Serial) -> Key {
    Key::new(format!("{SERIAL_PREFIX}{serial}"), "SERIAL")
}

pub fn terms(account: &AccountId, old_serial: &Serial) -> Key {
    Key::new(partition(account), format!("TERMS#{old_serial}"))
}

fn subscription_item(sub: &Subscription, created_at: DateTime<Utc>) -> Item {
    let mut item = serial(&sub.account, &sub.serial).item();
    item.insert("type".into(), s("serial"));
    item.insert("serial".into(), s(sub.serial.as_str()));
    item.insert("account_id".into(), s(sub.account.as_str()));
    item.insert("system".into(), s(sub.system.as_str()));
    item.insert("version".into(), s(sub.version.as_str()));
    item.insert("users".into(), n(sub.users));
    item.insert("plan".into(), s(sub.plan.as_str()));
    item.insert("created_at".into(), s(created_at.to_rfc3339()));
    let mut opt = |name: &str, v: Option<String>| {
        if let Some(v) = v {
            item.insert(name.into(), s(v));
        }
    };
    opt("billing_period", sub.billing_period.map(|b| b.as_str().to_string()));
    opt("activated_on", sub.activated_on.map(|d| d.to_string()));
    opt("next_payment_on", sub.next_payment_on.map(|d| d.to_string()));
    opt("valid_until", sub.valid_until.map(|d| d.to_string()));
    opt("upgraded_from", sub.upgraded_from.as_ref().map(|s| s.to_string()));
    opt("superseded_by", sub.superseded_by.as_ref().map(|s| s.to_string()));
    item
}

fn subscription_from(item: &Item) -> StoreResult<Subscription> {
    let a = Attrs::new(item);
    let plan = Plan::parse(a.str("plan")?).ok_or_else(|| a.corrupt("plan is unknown"))?;
    let billing_period = a
        .opt_str("billing_period")?
        .map(|b| BillingPeriod::parse(b).ok_or_else(|| a.corrupt("billing_period is unknown")))
        .transpose()?;
    Ok(Subscription {
        serial: a.serial("serial")?,
        account: a.account_id("account_id")?,
        system: a.system("system")?,
        version: a.version("version")?,
        users: a.num("users")?,
        plan,
        billing_period,
        activated_on: a.opt_date("activated_on")?,
        next_payment_on: a.opt_date("next_payment_on")?,
        valid_until: a.opt_date("valid_until")?,
        upgraded_from: a.opt_serial("upgraded_from")?,
        superseded_by: a.opt_serial("superseded_by")?,
    })
}

fn claim_item(sub: &Subscription) -> Item {
    let mut item = claim(&sub.serial).item();
    item.insert("type".into(), s("serial_claim"));
    item.insert("account_id".into(), s(sub.account.as_str()));
    item
}

fn terms_item(old: &Subscription, new: &Subscription, terms: &TermsRecord) -> Item {
    let mut item = self::terms(&old.account, &old.serial).item();
    item.insert("type".into(), s("terms_acceptance"));
    item.insert("terms_version".into(), s(&terms.terms_version));
    item.insert("accepted_at".into(), s(terms.accepted_at.to_rfc3339()));
    item.insert("source_ip".into(), s(&terms.source_ip));
    item.insert("user_agent".into(), s(&terms.user_agent));
    item.insert("new_serial".into(), s(new.serial.as_str()));
    item
}

impl DynamoStore {
    /// A new serial and its claim, each only if new.
    pub(super) fn serial_puts(&self, sub: &Subscription, now: DateTime<Utc>) -> StoreResult<[TransactWriteItem; 2]> {
        Ok([self.put_if_absent(subscription_item(sub, now))?, self.put_if_absent(claim_item(sub))?])
    }
}

impl SubscriptionReader for DynamoStore {
    async fn subscriptions(&self, account: &AccountId) -> StoreResult<Vec<Subscription>> {
        let pk = partition(account);
        let items = self.query_prefix("list serials", &pk, SERIAL_PREFIX, None).await?;
        items.iter().map(subscription_from).collect()
    }

    async fn subscription(&self, account: &AccountId, number: &Serial) -> StoreResult<Option<Subscription>> {
        self.get("get serial", &serial(account, number)).await?.map(|i| subscription_from(&i)).transpose()
    }
}

impl UpgradeWriter for DynamoStore {
    async fn commit_upgrade(
        &self,
        upgrade: &Upgrade,
        terms: &TermsRecord,
        mail: &PendingMail,
    ) -> Result<(), UpgradeCommitError> {
        let old = &upgrade.previous;
        let new = &upgrade.new;
        let superseded_by =
            old.superseded_by.as_ref().ok_or_else(|| StoreError::Other("upgrade without a new serial".into()))?;
        let valid_until = old
            .valid_until
            .map(|d| d.to_string())
            .ok_or_else(|| StoreError::Other("upgrade without valid_until".into()))?;
        // The old serial changes only if nobody upgraded it meanwhile and it is the version
        // the decision was made on.
        let supersede = TransactWriteItem::builder()
            .update(build(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(serial(&old.account, &old.serial).item()))
                    .update_expression("SET superseded_by = :new, valid_until = :until")
                    .condition_expression(
                        "attribute_exists(pk) AND attribute_not_exists(superseded_by) AND version = :version",
                    )
                    .expression_attribute_values(":new", s(superseded_by.as_str()))
                    .expression_attribute_values(":until", s(valid_until))
                    .expression_attribute_values(":version", s(old.version.as_str()))
                    .build(),
            )?)
            .build();
        let [new_serial, new_claim] = self.serial_puts(new, terms.accepted_at)?;
        let items = vec![
            supersede,
            new_serial,
            new_claim,
            self.put_if_absent(terms_item(old, new, terms))?,
            // Leased to the request that commits it: it sends the mail next, and the
            // scheduled retry leaves it alone until the lease is over.
            self.put_if_absent(super::outbox::mail_item(mail, Some(terms.accepted_at + crate::outbox::LEASE)))?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 3) => {
                    Err(UpgradeCommitError::AlreadyUpgraded)
                }
                Some(codes) if failed_condition(&codes, 1) || failed_condition(&codes, 2) => {
                    Err(UpgradeCommitError::SerialTaken)
                }
                // Another write holds the old serial right now (often a concurrent upgrade
                // of it): nothing was written; look again and retry.
                Some(codes) if codes.iter().any(|c| is_transient_reason(c)) => Err(UpgradeCommitError::Contended),
                _ => Err(transaction_error("commit upgrade", err).into()),
            },
        }
    }
}

/// A client's company guesses at one serial in one clock hour (UTC).
pub fn company_guesses(number: &Serial, client: &str, now: DateTime<Utc>) -> Key {
    Key::new(format!("GUESS#{number}"), format!("IP#{client}#{}", now.format("%Y-%m-%dT%H")))
}

impl SerialValidation for DynamoStore {
    async fn serial_with_account(&self, number: &Serial) -> StoreResult<Option<(Subscription, Account)>> {
        let facts = self.validation_facts(number, "", Utc::now()).await?;
        Ok(facts.map(|f| (f.subscription, f.account)))
    }

    async fn validation_facts(
        &self,
        number: &Serial,
        client: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ValidationFacts>> {
        let Some(claim_item) = self.get("get serial claim", &claim(number)).await? else { return Ok(None) };
        let account = Attrs::new(&claim_item).account_id("account_id")?;
        let guesses = company_guesses(number, client, now);
        let keys = [&profile(&account), &serial(&account, number), &guesses];
        let items = self.batch_get("get serial and account", &keys).await?;
        let mismatches_this_hour = match of_type(&items, "company_guesses") {
            Some(item) => Attrs::new(item).opt_num("failures")?.unwrap_or(0),
            None => 0,
        };
        match (of_type(&items, "serial"), of_type(&items, "account")) {
            (Some(sub), Some(owner)) => Ok(Some(ValidationFacts {
                subscription: subscription_from(sub)?,
                account: account_from(owner)?,
                mismatches_this_hour,
            })),
            (None, _) => Ok(None),
            (Some(_), None) => {
                Err(StoreError::Corrupt { key: profile(&account).pk, reason: "serial without its account".into() })
            }
        }
    }

    async fn count_company_mismatch(&self, number: &Serial, client: &str, now: DateTime<Utc>) -> StoreResult<u32> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(company_guesses(number, client, now).item()))
            .update_expression("SET #type = :type, expires_at = :ttl ADD failures :one")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":type", s("company_guesses"))
            .expression_attribute_values(":ttl", n((now + chrono::Duration::hours(2)).timestamp()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error("count company mismatch", e))?;
        let item = out.attributes.unwrap_or_default();
        Ok(Attrs::new(&item).opt_num("failures")?.unwrap_or(0))
    }

    async fn activate(&self, subscription: &Subscription, today: NaiveDate) -> StoreResult<bool> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(serial(&subscription.account, &subscription.serial).item()))
            .update_expression("SET activated_on = :today")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(activated_on)")
            .expression_attribute_values(":today", s(today.to_string()))
            .return_values(ReturnValue::None)
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("activate serial", e)))
    }
}

impl SerialWriter for DynamoStore {
    async fn add_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let [item, claim] = self.serial_puts(subscription, Utc::now())?;
        // The account must exist: checked in the same transaction.
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&subscription.account).item()))
            .condition_expression("attribute_exists(pk)")
            .build();
        let items = vec![item, claim, TransactWriteItem::builder().condition_check(build(check)?).build()];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 2) => {
                    Err(StoreError::Conflict(format!("no account {}", subscription.account)))
                }
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
                    Err(StoreError::Conflict(format!("serial {} exists already", subscription.serial)))
                }
                _ => Err(transaction_error("add serial", err)),
            },
        }
    }
}
