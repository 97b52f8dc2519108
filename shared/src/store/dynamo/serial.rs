//! Serials: the serial itself (`ACCOUNT#<id>` / `SERIAL#<serial>`, listed with one Query of
//! the account), its claim (`SERIAL#<serial>` / `SERIAL`: makes serial numbers unique, and
//! carries a copy of the serial's facts and the owner's company, so that a validation is
//! answered by one read of the number alone) and the record of accepted upgrade terms
//! (`ACCOUNT#<id>` / `TERMS#<old serial>`). Every write that changes a serial's facts
//! changes its claim in the same transaction.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, NaiveDate, Utc};

use super::account::{account_from, partition, profile};
use super::attrs::Attrs;
use super::outbox::outbox_item;
use super::{
    build, cancellation_codes, failed_condition, is_transient_reason, n, of_type, s, sdk_error, transaction_error,
    DynamoStore, Item, Key,
};
use crate::domain::{Account, AccountId, BillingPeriod, Plan, Serial, Subscription, Upgrade};
use crate::events::PendingEvent;
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

/// The serial's facts, as both its item and its claim keep them.
fn describe(item: &mut Item, sub: &Subscription) {
    item.insert("serial".into(), s(sub.serial.as_str()));
    item.insert("account_id".into(), s(sub.account.as_str()));
    item.insert("system".into(), s(sub.system.as_str()));
    item.insert("version".into(), s(sub.version.as_str()));
    item.insert("users".into(), n(sub.users));
    item.insert("plan".into(), s(sub.plan.as_str()));
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
}

fn subscription_item(sub: &Subscription, created_at: DateTime<Utc>) -> Item {
    let mut item = serial(&sub.account, &sub.serial).item();
    item.insert("type".into(), s("serial"));
    item.insert("created_at".into(), s(created_at.to_rfc3339()));
    describe(&mut item, sub);
    item
}

pub(super) fn subscription_from(item: &Item) -> StoreResult<Subscription> {
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

/// The claim of a serial number, with the serial's facts and the owner's company.
fn claim_item(sub: &Subscription, company: &str) -> Item {
    let mut item = claim(&sub.serial).item();
    item.insert("type".into(), s("serial_claim"));
    item.insert("company".into(), s(company));
    describe(&mut item, sub);
    item
}

/// A claim written before claims carried the serial's facts has only the owner.
fn claim_has_facts(item: &Item) -> bool {
    item.contains_key("system")
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
    /// A new serial and its claim, each only if new. `company` is the owner's, copied
    /// onto the claim for validations.
    pub(super) fn serial_puts(
        &self,
        sub: &Subscription,
        company: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<[TransactWriteItem; 2]> {
        Ok([self.put_if_absent(subscription_item(sub, now))?, self.put_if_absent(claim_item(sub, company))?])
    }

    /// The same change of a serial's facts on its item and on its claim: the item's
    /// update under `condition`, the claim's only on condition that it exists (it follows
    /// the item; a write never makes half a claim).
    pub(super) fn serial_updates(
        &self,
        sub: &Subscription,
        set: &str,
        condition: &str,
        values: &[(&str, AttributeValue)],
    ) -> StoreResult<[TransactWriteItem; 2]> {
        let update = |key: Key, condition: &str, own_condition: bool| -> StoreResult<TransactWriteItem> {
            let mut u = Update::builder()
                .table_name(&self.table)
                .set_key(Some(key.item()))
                .update_expression(set)
                .condition_expression(condition);
            for (name, value) in values {
                // The claim's update names only the values its SET uses.
                if own_condition || set.contains(name) {
                    u = u.expression_attribute_values(*name, value.clone());
                }
            }
            Ok(TransactWriteItem::builder().update(build(u.build())?).build())
        };
        Ok([
            update(serial(&sub.account, &sub.serial), condition, true)?,
            update(claim(&sub.serial), "attribute_exists(pk)", false)?,
        ])
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
        company: &str,
        terms: &TermsRecord,
        mail: &PendingMail,
        event: &PendingEvent,
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
        let [supersede, supersede_claim] = self.serial_updates(
            old,
            "SET superseded_by = :new, valid_until = :until",
            "attribute_exists(pk) AND attribute_not_exists(superseded_by) AND version = :version",
            &[(":new", s(superseded_by.as_str())), (":until", s(valid_until)), (":version", s(old.version.as_str()))],
        )?;
        let [new_serial, new_claim] = self.serial_puts(new, company, terms.accepted_at)?;
        // The mail is leased to the request that commits it: it sends it next, and the
        // scheduled retry leaves it alone until the lease is over. The event is not: it
        // leaves through the table's stream (`crate::outbox::deliver_streamed`).
        let leased = Some(terms.accepted_at + crate::outbox::LEASE);
        let items = vec![
            supersede,
            supersede_claim,
            new_serial,
            new_claim,
            self.put_if_absent(terms_item(old, new, terms))?,
            self.put_if_absent(outbox_item(mail, leased))?,
            self.put_if_absent(outbox_item(event, None))?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 4) => {
                    Err(UpgradeCommitError::AlreadyUpgraded)
                }
                Some(codes) if failed_condition(&codes, 2) || failed_condition(&codes, 3) => {
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

impl DynamoStore {
    /// The serial found by number alone, with its owner's company: its claim, or for a
    /// claim of the older shape the serial item and the profile (one more round trip).
    pub(super) async fn serial_and_company(
        &self,
        number: &Serial,
        claim_item: &Item,
    ) -> StoreResult<Option<(Subscription, String)>> {
        if claim_has_facts(claim_item) {
            let company = Attrs::new(claim_item).str("company")?.to_string();
            return Ok(Some((subscription_from(claim_item)?, company)));
        }
        let account = Attrs::new(claim_item).account_id("account_id")?;
        let items = self.batch_get("get serial and account", &[&profile(&account), &serial(&account, number)]).await?;
        match (of_type(&items, "serial"), of_type(&items, "account")) {
            (Some(sub), Some(owner)) => Ok(Some((subscription_from(sub)?, account_from(owner)?.company))),
            (None, _) => Ok(None),
            (Some(_), None) => {
                Err(StoreError::Corrupt { key: profile(&account).pk, reason: "serial without its account".into() })
            }
        }
    }

    /// The serial's facts as its claim keeps them (one GetItem), for writers that find a
    /// serial by number (payments).
    pub(super) async fn claimed_serial(&self, number: &Serial) -> StoreResult<Option<Subscription>> {
        let Some(item) = self.get("get serial claim", &claim(number)).await? else { return Ok(None) };
        Ok(self.serial_and_company(number, &item).await?.map(|(sub, _)| sub))
    }
}

impl SerialValidation for DynamoStore {
    async fn serial_with_account(&self, number: &Serial) -> StoreResult<Option<(Subscription, Account)>> {
        let Some(sub) = self.claimed_serial(number).await? else { return Ok(None) };
        let owner = self.get("get account", &profile(&sub.account)).await?;
        let owner = owner.ok_or_else(|| StoreError::Corrupt {
            key: profile(&sub.account).pk,
            reason: "serial without its account".into(),
        })?;
        Ok(Some((sub, account_from(&owner)?)))
    }

    async fn validation_facts(
        &self,
        number: &Serial,
        client: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ValidationFacts>> {
        let guesses = company_guesses(number, client, now);
        let items = self.batch_get("get serial claim", &[&claim(number), &guesses]).await?;
        let mismatches_this_hour = match of_type(&items, "company_guesses") {
            Some(item) => Attrs::new(item).opt_num("failures")?.unwrap_or(0),
            None => 0,
        };
        let Some(claim_item) = of_type(&items, "serial_claim") else { return Ok(None) };
        Ok(self.serial_and_company(number, claim_item).await?.map(|(subscription, company)| ValidationFacts {
            subscription,
            company,
            mismatches_this_hour,
        }))
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

    async fn activate(&self, subscription: &Subscription, today: NaiveDate, event: &PendingEvent) -> StoreResult<bool> {
        let [item, claim] = self.serial_updates(
            subscription,
            "SET activated_on = :today",
            "attribute_exists(pk) AND attribute_not_exists(activated_on)",
            &[(":today", s(today.to_string()))],
        )?;
        // The event leaves through the table's stream, not through this request.
        let items = vec![item, claim, self.put_if_absent(outbox_item(event, None))?];
        match self.transact(items).await {
            Ok(()) => Ok(true),
            Err(err) => match cancellation_codes(&err) {
                // Activated already (item 0), or its event exists (item 2): once only.
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 2) => Ok(false),
                _ => Err(transaction_error("activate serial", err)),
            },
        }
    }
}

impl SerialWriter for DynamoStore {
    async fn add_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        // The claim carries the owner's company: read it, and check in the transaction
        // that it is still the account's.
        let owner = self.get("get account", &profile(&subscription.account)).await?;
        let Some(owner) = owner else {
            return Err(StoreError::Conflict(format!("no account {}", subscription.account)));
        };
        let company = account_from(&owner)?.company;
        let [item, claim] = self.serial_puts(subscription, &company, Utc::now())?;
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(profile(&subscription.account).item()))
            .condition_expression("attribute_exists(pk) AND company = :company")
            .expression_attribute_values(":company", s(&company))
            .build();
        let items = vec![item, claim, TransactWriteItem::builder().condition_check(build(check)?).build()];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 2) => {
                    Err(StoreError::Conflict(format!("account {} changed meanwhile", subscription.account)))
                }
                Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
                    Err(StoreError::Conflict(format!("serial {} exists already", subscription.serial)))
                }
                _ => Err(transaction_error("add serial", err)),
            },
        }
    }
}
