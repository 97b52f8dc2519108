//! The DynamoDB implementation of every store trait.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, KeysAndAttributes, Put, ReturnValue, TransactWriteItem, Update};
use aws_sdk_dynamodb::Client;
use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::*;
use crate::domain::{BillingPeriod, Plan, Terms, Version};

type Item = HashMap<String, AttributeValue>;

/// DynamoDB behind the store traits. Cheap to clone; build once per cold start.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    calls: Arc<AtomicU64>,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn account_pk(email: &str) -> String {
    format!("ACCOUNT#{email}")
}

const PROFILE: &str = "PROFILE";

fn serial_sk(serial: &Serial) -> String {
    format!("SERIAL#{serial}")
}

fn claim_pk(serial: &Serial) -> String {
    format!("SERIAL#{serial}")
}

fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([("pk".to_string(), s(pk)), ("sk".to_string(), s(sk))])
}

/// Maps an SDK failure to the store's errors; the detail goes to the log, not to clients.
fn sdk_error<E, R>(op: &'static str, err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    let code = err.code().unwrap_or_default().to_string();
    let message = err.message().unwrap_or_default().to_string();
    match &err {
        SdkError::ServiceError(_) => match code.as_str() {
            "ConditionalCheckFailedException" => StoreError::Conflict(format!("{op}: {code}")),
            // Another transaction holds the item for a moment: worth a retry, not a refusal.
            "TransactionConflictException" => StoreError::Unavailable(format!("{op}: {code}")),
            "ProvisionedThroughputExceededException"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "InternalServerError"
            | "ServiceUnavailable"
            | "LimitExceededException" => StoreError::Unavailable(format!("{op}: {code} {message}")),
            "ResourceNotFoundException" => StoreError::NoTable(format!("{op}: {message}")),
            _ => StoreError::Other(format!("{op}: {code} {message}")),
        },
        SdkError::TimeoutError(_) => StoreError::Unavailable(format!("{op}: timed out")),
        SdkError::DispatchFailure(f) => StoreError::Unavailable(format!(
            "{op}: could not reach DynamoDB ({})",
            if f.is_timeout() {
                "timeout"
            } else if f.is_io() {
                "connection failed"
            } else {
                "dispatch failure"
            }
        )),
        SdkError::ResponseError(_) => StoreError::Unavailable(format!("{op}: unreadable response")),
        _ => StoreError::Other(format!("{op}: {err:?}")),
    }
}

/// Reads attributes of one item, naming the item in every error.
struct Attrs<'a> {
    item: &'a Item,
    key: String,
}

impl<'a> Attrs<'a> {
    fn new(item: &'a Item) -> Self {
        let part = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map_or("?", |v| v.as_str());
        Attrs { item, key: format!("{}/{}", part("pk"), part("sk")) }
    }

    fn corrupt(&self, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt { key: self.key.clone(), reason: reason.into() }
    }

    fn opt_str(&self, name: &str) -> Result<Option<&'a str>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::S(v)) => Ok(Some(v.as_str())),
            Some(_) => Err(self.corrupt(format!("{name} is not a string"))),
        }
    }

    fn str(&self, name: &str) -> Result<&'a str, StoreError> {
        self.opt_str(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    fn opt_num<T: std::str::FromStr>(&self, name: &str) -> Result<Option<T>, StoreError> {
        match self.item.get(name) {
            None | Some(AttributeValue::Null(_)) => Ok(None),
            Some(AttributeValue::N(v)) => {
                v.parse().map(Some).map_err(|_| self.corrupt(format!("{name} is out of range")))
            }
            Some(_) => Err(self.corrupt(format!("{name} is not a number"))),
        }
    }

    fn num<T: std::str::FromStr>(&self, name: &str) -> Result<T, StoreError> {
        self.opt_num(name)?.ok_or_else(|| self.corrupt(format!("{name} is missing")))
    }

    fn opt_date(&self, name: &str) -> Result<Option<NaiveDate>, StoreError> {
        self.opt_str(name)?
            .map(|v| v.parse::<NaiveDate>().map_err(|_| self.corrupt(format!("{name} is not a date"))))
            .transpose()
    }

    fn opt_instant(&self, name: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_str(name)?
            .map(|v| v.parse::<DateTime<Utc>>().map_err(|_| self.corrupt(format!("{name} is not an instant"))))
            .transpose()
    }

    fn opt_serial(&self, name: &str) -> Result<Option<Serial>, StoreError> {
        self.opt_str(name)?.map(|v| Serial::parse(v).map_err(|e| self.corrupt(format!("{name}: {e}")))).transpose()
    }

    fn epoch(&self, name: &str) -> Result<DateTime<Utc>, StoreError> {
        let secs: i64 = self.num(name)?;
        DateTime::from_timestamp(secs, 0).ok_or_else(|| self.corrupt(format!("{name} is out of range")))
    }
}

fn account_from(item: &Item) -> StoreResult<Account> {
    let a = Attrs::new(item);
    Ok(Account {
        email: a.str("email")?.to_string(),
        name: a.str("name")?.to_string(),
        company: a.str("company")?.to_string(),
        password_hash: a.str("password_hash")?.to_string(),
        failed_logins: a.opt_num("failed_logins")?.unwrap_or(0),
        locked_until: a.opt_instant("locked_until")?,
    })
}

fn subscription_from(item: &Item) -> StoreResult<Subscription> {
    let a = Attrs::new(item);
    let serial = a.opt_serial("serial")?.ok_or_else(|| a.corrupt("serial is missing"))?;
    let plan = Plan::parse(a.str("plan")?).ok_or_else(|| a.corrupt("plan is unknown"))?;
    let billing_period = a
        .opt_str("billing_period")?
        .map(|b| BillingPeriod::parse(b).ok_or_else(|| a.corrupt("billing_period is unknown")))
        .transpose()?;
    Ok(Subscription {
        serial,
        account: a.str("account")?.to_string(),
        system: a.str("system")?.to_string(),
        version: Version::parse(a.str("version")?).map_err(|e| a.corrupt(e.to_string()))?,
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

fn subscription_item(sub: &Subscription, created_at: DateTime<Utc>) -> Item {
    let mut item = key(account_pk(&sub.account), serial_sk(&sub.serial));
    item.insert("type".into(), s("serial"));
    item.insert("serial".into(), s(sub.serial.as_str()));
    item.insert("account".into(), s(&sub.account));
    item.insert("system".into(), s(&sub.system));
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

fn account_item(account: &Account) -> Item {
    let mut item = key(account_pk(&account.email), PROFILE);
    item.insert("type".into(), s("account"));
    item.insert("email".into(), s(&account.email));
    item.insert("name".into(), s(&account.name));
    item.insert("company".into(), s(&account.company));
    item.insert("password_hash".into(), s(&account.password_hash));
    item.insert("failed_logins".into(), n(account.failed_logins));
    if let Some(until) = account.locked_until {
        item.insert("locked_until".into(), s(until.to_rfc3339()));
    }
    item
}

fn claim_item(sub: &Subscription) -> Item {
    let mut item = key(claim_pk(&sub.serial), "SERIAL");
    item.insert("type".into(), s("serial_claim"));
    item.insert("account".into(), s(&sub.account));
    item
}

fn product_from(item: &Item) -> StoreResult<Product> {
    let a = Attrs::new(item);
    Ok(Product {
        system: a.str("system")?.to_string(),
        name: a.str("name")?.to_string(),
        latest_version: Version::parse(a.str("latest_version")?).map_err(|e| a.corrupt(e.to_string()))?,
        terms: Terms { version: a.str("terms_version")?.to_string(), text: a.str("terms_text")?.to_string() },
    })
}

fn mail_from(item: &Item) -> StoreResult<PendingMail> {
    let a = Attrs::new(item);
    Ok(PendingMail {
        id: a.str("id")?.to_string(),
        to: a.str("to")?.to_string(),
        subject: a.str("subject")?.to_string(),
        text: a.str("text")?.to_string(),
        html: a.str("html")?.to_string(),
        created_at: a.opt_instant("created_at")?.ok_or_else(|| a.corrupt("created_at is missing"))?,
    })
}

fn mail_key(id: &str) -> Item {
    key("OUTBOX", format!("MAIL#{id}"))
}

/// A conditional write's outcome: `false` when its condition did not hold.
fn condition_met<T>(result: StoreResult<T>) -> StoreResult<bool> {
    match result {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

fn build<T, E: std::fmt::Display>(r: Result<T, E>) -> StoreResult<T> {
    r.map_err(|e| StoreError::Other(format!("building a request: {e}")))
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into(), calls: Arc::new(AtomicU64::new(0)) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// DynamoDB calls made so far (each SDK operation counts once, retries aside).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
    }

    /// A transaction item that creates `item` only if its key is new.
    fn put_if_absent(&self, item: Item) -> StoreResult<TransactWriteItem> {
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .build();
        Ok(TransactWriteItem::builder().put(build(put)?).build())
    }

    async fn get(&self, op: &'static str, key: Item) -> StoreResult<Option<Item>> {
        self.count();
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        Ok(out.item)
    }

    async fn put(&self, op: &'static str, item: Item, condition: Option<&str>) -> StoreResult<()> {
        self.count();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        Ok(())
    }

    /// Every item of one partition whose sort key starts with `prefix`, all pages.
    async fn query_prefix(
        &self,
        op: &'static str,
        pk: &str,
        prefix: &str,
        limit: Option<i32>,
    ) -> StoreResult<Vec<Item>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            self.count();
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                .expression_attribute_values(":pk", s(pk))
                .expression_attribute_values(":prefix", s(prefix))
                .consistent_read(true)
                .set_limit(limit)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            items.extend(out.items.unwrap_or_default());
            match out.last_evaluated_key {
                Some(k) if limit.is_none_or(|l| (items.len() as i32) < l) => start = Some(k),
                _ => return Ok(items),
            }
        }
    }

    /// One TransactWriteItems. The SDK gives each call a client request token that its
    /// retries reuse, so a retry of a transaction whose answer was lost succeeds instead
    /// of failing its own conditions.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), SdkError<TransactWriteItemsError>> {
        self.count();
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map(|_| ())
    }
}

/// A failed transaction as a store error: cancelled for contention or throttling is
/// `Unavailable` (retry), cancelled by a condition is `Conflict`.
fn transaction_error(op: &'static str, err: SdkError<TransactWriteItemsError>) -> StoreError {
    match cancellation_codes(&err) {
        Some(codes) if codes.iter().any(|c| is_transient_reason(c)) => {
            StoreError::Unavailable(format!("{op}: cancelled ({})", codes.join(", ")))
        }
        Some(codes) if codes.iter().any(|c| c == "ConditionalCheckFailed") => {
            StoreError::Conflict(format!("{op}: cancelled ({})", codes.join(", ")))
        }
        _ => sdk_error(op, err),
    }
}

fn is_transient_reason(code: &str) -> bool {
    matches!(code, "TransactionConflict" | "ThrottlingError" | "ProvisionedThroughputExceeded" | "RequestLimitExceeded")
}

/// The cancellation reason codes of a cancelled transaction, one per item ("None" when
/// that item was fine).
fn cancellation_codes(err: &SdkError<TransactWriteItemsError>) -> Option<Vec<String>> {
    match err {
        SdkError::ServiceError(se) => match se.err() {
            TransactWriteItemsError::TransactionCanceledException(tce) => {
                Some(tce.cancellation_reasons().iter().map(|r| r.code().unwrap_or("None").to_string()).collect())
            }
            _ => None,
        },
        _ => None,
    }
}

impl Accounts for DynamoStore {
    async fn account(&self, email: &str) -> StoreResult<Option<Account>> {
        self.get("get account", key(account_pk(email), PROFILE)).await?.map(|i| account_from(&i)).transpose()
    }
}

impl LoginAttempts for DynamoStore {
    async fn reserve_login_attempt(&self, email: &str, now: DateTime<Utc>) -> StoreResult<AttemptReservation> {
        // Twice at most: a stale count is restarted once, then reserved again if another
        // request restarted it first.
        for _ in 0..2 {
            self.count();
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(account_pk(email), PROFILE)))
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
                .return_values_on_condition_check_failure(
                    aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure::AllOld,
                )
                .send()
                .await;
            let err = match result {
                Ok(out) => return Ok(AttemptReservation::Granted(account_from(&out.attributes.unwrap_or_default())?)),
                Err(err) => err,
            };
            let old = match &err {
                SdkError::ServiceError(se) => match se.err() {
                    aws_sdk_dynamodb::operation::update_item::UpdateItemError::ConditionalCheckFailedException(c) => {
                        Some(c.item.clone())
                    }
                    _ => None,
                },
                _ => None,
            };
            let item = match old {
                Some(None) => return Ok(AttemptReservation::NoAccount),
                Some(Some(item)) => item,
                None => return Err(sdk_error("reserve login attempt", err)),
            };
            let account = account_from(&item)?;
            if let Some(until) = account.locked_at(now) {
                return Ok(AttemptReservation::Locked(until));
            }
            // Every attempt is taken but no lock is written: either they are still being
            // checked (the last of them will set the lock), or they never reported back (a
            // login that timed out, crashed or lost the store's answer). Either way they
            // count as failures and lock until LOCK_MINUTES after the last one; after that
            // the count starts again, so lost attempts never lock an account for good.
            let attempted_raw = Attrs::new(&item).opt_str("attempted_at")?.map(str::to_string);
            let attempted = Attrs::new(&item).opt_instant("attempted_at")?;
            let until = attempted.map(|t| t + Duration::minutes(LOCK_MINUTES));
            if let Some(until) = until.filter(|u| *u > now) {
                return Ok(AttemptReservation::Locked(until));
            }
            self.count();
            let mut restart = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(account_pk(email), PROFILE)))
                .update_expression("SET failed_logins = :one, attempted_at = :now REMOVE locked_until")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":seen", n(account.failed_logins))
                .return_values(ReturnValue::AllNew);
            restart = match attempted_raw {
                Some(raw) => restart
                    .condition_expression("failed_logins = :seen AND attempted_at = :attempted")
                    .expression_attribute_values(":attempted", s(raw)),
                None => restart.condition_expression("failed_logins = :seen AND attribute_not_exists(attempted_at)"),
            };
            match restart.send().await.map_err(|e| sdk_error("restart login attempts", e)) {
                Ok(out) => return Ok(AttemptReservation::Granted(account_from(&out.attributes.unwrap_or_default())?)),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES)))
    }

    async fn login_succeeded(&self, email: &str) -> StoreResult<()> {
        self.count();
        self.client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(account_pk(email), PROFILE)))
            .update_expression("SET failed_logins = :zero REMOVE locked_until")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0))
            .send()
            .await
            .map_err(|e| sdk_error("login succeeded", e))?;
        Ok(())
    }

    async fn login_failed(&self, email: &str, now: DateTime<Utc>) -> StoreResult<()> {
        // The attempt was counted when reserved; the last allowed one sets the lock and
        // starts the count again for after it.
        self.count();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(account_pk(email), PROFILE)))
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

fn session_key(digest: &TokenDigest) -> Item {
    key(format!("SESSION#{}", digest.as_str()), "SESSION")
}

fn session_pointer_key(email: &str, digest: &TokenDigest) -> Item {
    key(account_pk(email), format!("SESSION#{}", digest.as_str()))
}

impl Sessions for DynamoStore {
    async fn create_session(&self, session: &Session) -> StoreResult<()> {
        let mut item = session_key(&session.digest);
        item.insert("type".into(), s("session"));
        item.insert("account".into(), s(&session.account));
        item.insert("expires_at".into(), n(session.expires_at.timestamp()));
        let mut pointer = session_pointer_key(&session.account, &session.digest);
        pointer.insert("type".into(), s("session_pointer"));
        pointer.insert("expires_at".into(), n(session.expires_at.timestamp()));
        let items = vec![self.put_if_absent(item)?, self.put_if_absent(pointer)?];
        self.transact(items).await.map_err(|e| transaction_error("create session", e))
    }

    async fn session(&self, digest: &TokenDigest, now: DateTime<Utc>) -> StoreResult<Option<Session>> {
        let Some(item) = self.get("get session", session_key(digest)).await? else { return Ok(None) };
        let a = Attrs::new(&item);
        let session = Session {
            digest: digest.clone(),
            account: a.str("account")?.to_string(),
            expires_at: a.epoch("expires_at")?,
        };
        // TTL deletion is lazy: expiry is checked here.
        Ok((session.expires_at > now).then_some(session))
    }

    async fn revoke_session(&self, session: &Session) -> StoreResult<()> {
        let deletes = [session_key(&session.digest), session_pointer_key(&session.account, &session.digest)]
            .into_iter()
            .map(|k| {
                build(Delete::builder().table_name(&self.table).set_key(Some(k)).build())
                    .map(|d| TransactWriteItem::builder().delete(d).build())
            })
            .collect::<StoreResult<Vec<_>>>()?;
        self.transact(deletes).await.map_err(|e| transaction_error("revoke session", e))
    }
}

/// The account attributes holding the times of the last three reset mails.
const RESET_MAIL_SLOTS: [&str; 3] = ["reset_mail_1", "reset_mail_2", "reset_mail_3"];

fn reset_key(digest: &TokenDigest) -> Item {
    key(format!("RESET#{}", digest.as_str()), "RESET")
}

impl PasswordResets for DynamoStore {
    async fn allow_reset_mail(&self, email: &str, now: DateTime<Utc>) -> StoreResult<bool> {
        // Three slots hold the times of the last three mails: a mail may go when one of
        // them is empty or over an hour old (a sliding hour, not a fixed window).
        let hour_ago = (now - Duration::hours(1)).to_rfc3339();
        for slot in RESET_MAIL_SLOTS {
            self.count();
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(account_pk(email), PROFILE)))
                .update_expression("SET #slot = :now")
                .condition_expression("attribute_exists(pk) AND (attribute_not_exists(#slot) OR #slot <= :hour_ago)")
                .expression_attribute_names("#slot", slot)
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":hour_ago", s(hour_ago.clone()))
                .send()
                .await;
            if condition_met(result.map_err(|e| sdk_error("count reset mail", e)))? {
                return Ok(true);
            }
        }
        Ok(false)
    }

    async fn put_reset_token(&self, token: &ResetToken) -> StoreResult<()> {
        let mut item = reset_key(&token.digest);
        item.insert("type".into(), s("reset_token"));
        item.insert("account".into(), s(&token.account));
        item.insert("issued_at".into(), s(token.issued_at.to_rfc3339()));
        item.insert("expires_at".into(), n(token.expires_at.timestamp()));
        self.put("put reset token", item, Some("attribute_not_exists(pk)")).await
    }

    async fn reset_token(&self, digest: &TokenDigest) -> StoreResult<Option<ResetToken>> {
        let Some(item) = self.get("get reset token", reset_key(digest)).await? else { return Ok(None) };
        let a = Attrs::new(&item);
        Ok(Some(ResetToken {
            digest: digest.clone(),
            account: a.str("account")?.to_string(),
            issued_at: a.opt_instant("issued_at")?.ok_or_else(|| a.corrupt("issued_at is missing"))?,
            expires_at: a.epoch("expires_at")?,
            used: a.opt_str("used_at")?.is_some(),
        }))
    }

    async fn complete_reset(&self, token: &ResetToken, new_hash: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let pointers = self.query_prefix("list sessions", &account_pk(&token.account), "SESSION#", None).await?;
        let mut items = Vec::with_capacity(2 + pointers.len() * 2);
        items.push(
            TransactWriteItem::builder()
                .update(build(
                    Update::builder()
                        .table_name(&self.table)
                        .set_key(Some(reset_key(&token.digest)))
                        .update_expression("SET used_at = :now")
                        .condition_expression(
                            "attribute_exists(pk) AND attribute_not_exists(used_at) AND expires_at > :epoch",
                        )
                        .expression_attribute_values(":now", s(now.to_rfc3339()))
                        .expression_attribute_values(":epoch", n(now.timestamp()))
                        .build(),
                )?)
                .build(),
        );
        items.push(TransactWriteItem::builder()
            .update(build(
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(key(account_pk(&token.account), PROFILE)))
                    .update_expression("SET password_hash = :hash, failed_logins = :zero, password_changed_at = :now REMOVE locked_until")
                    // A link mailed before the last password change is dead.
                    .condition_expression("attribute_exists(pk) AND (attribute_not_exists(password_changed_at) OR password_changed_at < :issued)")
                    .expression_attribute_values(":issued", s(token.issued_at.to_rfc3339()))
                    .expression_attribute_values(":hash", s(new_hash))
                    .expression_attribute_values(":zero", n(0))
                    .expression_attribute_values(":now", s(now.to_rfc3339()))
                    .build(),
            )?)
            .build());
        // A transaction holds at most 100 items; sessions beyond that are revoked after.
        let mut rest = Vec::new();
        for pointer in pointers {
            let a = Attrs::new(&pointer);
            let sk = a.str("sk")?.to_string();
            let digest = TokenDigest::from_stored(sk.trim_start_matches("SESSION#").to_string());
            for k in [session_key(&digest), key(account_pk(&token.account), sk)] {
                if items.len() < 100 {
                    items.push(
                        TransactWriteItem::builder()
                            .delete(build(Delete::builder().table_name(&self.table).set_key(Some(k)).build())?)
                            .build(),
                    );
                } else {
                    rest.push(k);
                }
            }
        }
        match self.transact(items).await {
            Ok(()) => {}
            Err(err) => match transaction_error("complete reset", err) {
                StoreError::Conflict(_) => {
                    return Err(StoreError::Conflict("reset token already used, expired or outdated".into()))
                }
                other => return Err(other),
            },
        }
        for k in rest {
            self.count();
            self.client
                .delete_item()
                .table_name(&self.table)
                .set_key(Some(k))
                .send()
                .await
                .map_err(|e| sdk_error("revoke session", e))?;
        }
        Ok(())
    }
}

impl SubscriptionReader for DynamoStore {
    async fn subscriptions(&self, email: &str) -> StoreResult<Vec<Subscription>> {
        let items = self.query_prefix("list serials", &account_pk(email), "SERIAL#", None).await?;
        items.iter().map(subscription_from).collect()
    }

    async fn subscription(&self, email: &str, serial: &Serial) -> StoreResult<Option<Subscription>> {
        self.get("get serial", key(account_pk(email), serial_sk(serial)))
            .await?
            .map(|i| subscription_from(&i))
            .transpose()
    }
}

impl CatalogReader for DynamoStore {
    async fn products(&self) -> StoreResult<Vec<Product>> {
        let items = self.query_prefix("read catalog", "CATALOG", "PRODUCT#", None).await?;
        items.iter().map(product_from).collect()
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
        let put = |item: Item| self.put_if_absent(item);
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
                    .set_key(Some(key(account_pk(&old.account), serial_sk(&old.serial))))
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
        let mut terms_item = key(account_pk(&old.account), format!("TERMS#{}", old.serial));
        terms_item.insert("type".into(), s("terms_acceptance"));
        terms_item.insert("terms_version".into(), s(&terms.terms_version));
        terms_item.insert("accepted_at".into(), s(terms.accepted_at.to_rfc3339()));
        terms_item.insert("source_ip".into(), s(&terms.source_ip));
        terms_item.insert("user_agent".into(), s(&terms.user_agent));
        terms_item.insert("new_serial".into(), s(new.serial.as_str()));
        let mut mail_item = mail_key(&mail.id);
        mail_item.insert("type".into(), s("pending_mail"));
        mail_item.insert("id".into(), s(&mail.id));
        mail_item.insert("to".into(), s(&mail.to));
        mail_item.insert("subject".into(), s(&mail.subject));
        mail_item.insert("text".into(), s(&mail.text));
        mail_item.insert("html".into(), s(&mail.html));
        mail_item.insert("created_at".into(), s(mail.created_at.to_rfc3339()));
        let items = vec![
            supersede,
            put(subscription_item(new, terms.accepted_at))?,
            put(claim_item(new))?,
            put(terms_item)?,
            put(mail_item)?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) => {
                    let failed = |i: usize| codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed");
                    if failed(0) || failed(3) {
                        Err(UpgradeCommitError::AlreadyUpgraded)
                    } else if failed(1) || failed(2) {
                        Err(UpgradeCommitError::SerialTaken)
                    } else if codes.iter().any(|c| is_transient_reason(c)) {
                        // Another write holds the old serial right now (often a concurrent
                        // upgrade of it): nothing was written; look again and retry.
                        Err(UpgradeCommitError::Contended)
                    } else {
                        Err(transaction_error("commit upgrade", err).into())
                    }
                }
                None => Err(transaction_error("commit upgrade", err).into()),
            },
        }
    }
}

impl SerialValidation for DynamoStore {
    async fn serial_with_account(&self, serial: &Serial) -> StoreResult<Option<(Subscription, Account)>> {
        let Some(claim) = self.get("get serial claim", key(claim_pk(serial), "SERIAL")).await? else { return Ok(None) };
        let email = Attrs::new(&claim).str("account")?.to_string();
        let keys = vec![key(account_pk(&email), PROFILE), key(account_pk(&email), serial_sk(serial))];
        let mut request = build(KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build())?;
        let (mut account, mut subscription) = (None, None);
        let mut left_over = true;
        // BatchGetItem may leave keys unprocessed under load: ask again for those.
        for _ in 0..5 {
            self.count();
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request.clone())
                .send()
                .await
                .map_err(|e| sdk_error("get serial and account", e))?;
            for item in out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default() {
                match item.get("sk").and_then(|v| v.as_s().ok()).map(String::as_str) {
                    Some(PROFILE) => account = Some(account_from(&item)?),
                    _ => subscription = Some(subscription_from(&item)?),
                }
            }
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(left) if !left.keys().is_empty() => request = left,
                _ => {
                    left_over = false;
                    break;
                }
            }
        }
        if left_over {
            return Err(StoreError::Unavailable("get serial and account: keys left unprocessed".into()));
        }
        match (subscription, account) {
            (Some(sub), Some(acc)) => Ok(Some((sub, acc))),
            (None, _) => Ok(None),
            (Some(_), None) => {
                Err(StoreError::Corrupt { key: account_pk(&email), reason: "serial without its account".into() })
            }
        }
    }

    async fn activate(&self, subscription: &Subscription, today: NaiveDate) -> StoreResult<bool> {
        self.count();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(account_pk(&subscription.account), serial_sk(&subscription.serial))))
            .update_expression("SET activated_on = :today")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(activated_on)")
            .expression_attribute_values(":today", s(today.to_string()))
            .return_values(ReturnValue::None)
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("activate serial", e)))
    }
}

impl MailOutbox for DynamoStore {
    async fn pending_mails(&self, older_than: DateTime<Utc>, limit: i32) -> StoreResult<Vec<PendingMail>> {
        let items = self.query_prefix("list pending mail", "OUTBOX", "MAIL#", None).await?;
        let mut mails = items.iter().map(mail_from).collect::<StoreResult<Vec<_>>>()?;
        mails.retain(|m| m.created_at <= older_than);
        mails.sort_by_key(|m| m.created_at);
        mails.truncate(limit.max(0) as usize);
        Ok(mails)
    }

    async fn lease_mail(&self, id: &str, now: DateTime<Utc>, until: DateTime<Utc>) -> StoreResult<bool> {
        self.count();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(mail_key(id)))
            .update_expression("SET lease_until = :until")
            .condition_expression("attribute_exists(pk) AND (attribute_not_exists(lease_until) OR lease_until <= :now)")
            .expression_attribute_values(":until", s(until.to_rfc3339()))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .send()
            .await;
        condition_met(result.map_err(|e| sdk_error("lease mail", e)))
    }

    async fn mail_sent(&self, id: &str) -> StoreResult<()> {
        self.count();
        self.client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(mail_key(id)))
            .send()
            .await
            .map_err(|e| sdk_error("delete sent mail", e))?;
        Ok(())
    }
}

impl AdminStore for DynamoStore {
    async fn put_product(&self, product: &Product) -> StoreResult<()> {
        let mut item = key("CATALOG", format!("PRODUCT#{}", product.system));
        item.insert("type".into(), s("product"));
        item.insert("system".into(), s(&product.system));
        item.insert("name".into(), s(&product.name));
        item.insert("latest_version".into(), s(product.latest_version.as_str()));
        item.insert("terms_version".into(), s(&product.terms.version));
        item.insert("terms_text".into(), s(&product.terms.text));
        self.put("put product", item, None).await
    }

    async fn add_account(&self, account: &Account) -> StoreResult<()> {
        let item = account_item(account);
        self.put("add account", item, Some("attribute_not_exists(pk)")).await
    }

    async fn add_account_with_subscriptions(&self, account: &Account, subs: &[Subscription]) -> StoreResult<()> {
        let mut items = vec![self.put_if_absent(account_item(account))?];
        for sub in subs {
            items.push(self.put_if_absent(subscription_item(sub, Utc::now()))?);
            items.push(self.put_if_absent(claim_item(sub))?);
        }
        self.transact(items).await.map_err(|e| transaction_error("add account and serials", e))
    }

    async fn add_subscription(&self, subscription: &Subscription) -> StoreResult<()> {
        let mut items = vec![
            self.put_if_absent(subscription_item(subscription, Utc::now()))?,
            self.put_if_absent(claim_item(subscription))?,
        ];
        // The account must exist: checked in the same transaction.
        let check = aws_sdk_dynamodb::types::ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(account_pk(&subscription.account), PROFILE)))
            .condition_expression("attribute_exists(pk)")
            .build();
        items.push(TransactWriteItem::builder().condition_check(build(check)?).build());
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if codes.get(2).is_some_and(|c| c == "ConditionalCheckFailed") => {
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
