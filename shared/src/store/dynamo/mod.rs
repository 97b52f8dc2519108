//! The DynamoDB implementation of every store trait, a module per item family of the
//! table design (`docs/table-design.md`): each holds its keys, how its items are encoded
//! and decoded, and its operations. What they share (the request helpers and the one
//! mapping of SDK errors to [`StoreError`]) is here.

mod account;
mod attrs;
mod bulk;
mod catalog;
mod directory;
mod email_change;
mod invitation;
mod lockout;
mod outbox;
mod password;
mod payment;
mod reset;
mod serial;
mod session;
mod stream;
mod support;
mod totp;

use std::collections::HashMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, KeysAndAttributes, Put, TransactWriteItem};
use aws_sdk_dynamodb::Client;

use super::{StoreError, StoreResult};

pub(crate) type Item = HashMap<String, AttributeValue>;

/// The keys of every item family, for the store's own use and for tests that look at
/// raw items: nobody spells a key prefix by hand.
pub mod keys {
    pub use super::account::{login as login_item, profile};
    pub use super::catalog::product;
    pub use super::directory::entry as directory_entry;
    pub use super::email_change::request as email_change;
    pub use super::invitation::pending as pending_invitation;
    pub use super::lockout::{client as login_client, hour as login_failures_hour};
    pub use super::outbox::{dead_event, dead_mail, event, mail};
    pub use super::payment::payment;
    pub use super::reset::token as reset_token;
    pub use super::serial::{claim as serial_claim, company_guesses, serial, terms};
    pub use super::session::{pointer as session_pointer, session};
    pub use super::totp::{challenge as mfa_challenge, enrolment as totp};
    pub use super::Key;
}

pub use bulk::{ACCOUNT_ITEMS, SERIAL_ITEMS};
pub use stream::inserted_events;

/// An item's primary key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }

    /// The key as the SDK takes it.
    pub fn item(&self) -> Item {
        HashMap::from([("pk".to_string(), s(&self.pk)), ("sk".to_string(), s(&self.sk))])
    }
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// How often keys a BatchGetItem left unprocessed are asked for again, and after what
/// first pause (doubling, at most 5 s).
#[derive(Clone, Copy)]
pub(super) struct Unprocessed {
    attempts: u32,
    first_pause: std::time::Duration,
}

impl Unprocessed {
    /// A request's reads: a few tries, no waiting.
    const AT_ONCE: Unprocessed = Unprocessed { attempts: 5, first_pause: std::time::Duration::ZERO };
    /// The operators' bulk reads: more tries, with pauses, so a throttled import slows down.
    pub(super) const WITH_BACKOFF: Unprocessed =
        Unprocessed { attempts: 9, first_pause: std::time::Duration::from_millis(50) };
}

/// DynamoDB behind the store traits. Cheap to clone; build once per cold start.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoStore { client, table: table.into() }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The raw item at `key` (strongly consistent), for operators and tests.
    pub async fn raw_item(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.get("get item", key).await
    }

    async fn get(&self, op: &'static str, key: &Key) -> StoreResult<Option<Item>> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error(op, e))?;
        Ok(out.item)
    }

    async fn put(&self, op: &'static str, item: Item, condition: Option<&str>) -> StoreResult<()> {
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

    /// Every item of one partition whose sort key starts with `prefix`, all pages, up to
    /// `limit` items.
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
            let mut query = self.client.query().table_name(&self.table).expression_attribute_values(":pk", s(pk));
            // An empty prefix is the whole partition (DynamoDB refuses an empty begins_with).
            query = if prefix.is_empty() {
                query.key_condition_expression("pk = :pk")
            } else {
                query
                    .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
                    .expression_attribute_values(":prefix", s(prefix))
            };
            let out = query
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

    /// The items at `keys` (strongly consistent), in one BatchGetItem; keys DynamoDB left
    /// unprocessed under load are asked for again at once (a request has no time to wait).
    async fn batch_get(&self, op: &'static str, keys: &[&Key]) -> StoreResult<Vec<Item>> {
        self.batch_get_retrying(op, keys.iter().map(|k| k.item()).collect(), Unprocessed::AT_ONCE).await
    }

    /// One BatchGetItem of at most 100 keys and its retries of the keys DynamoDB leaves
    /// unprocessed (throttled), as `retry` says.
    async fn batch_get_retrying(
        &self,
        op: &'static str,
        keys: Vec<Item>,
        retry: Unprocessed,
    ) -> StoreResult<Vec<Item>> {
        let mut request = build(KeysAndAttributes::builder().set_keys(Some(keys)).consistent_read(true).build())?;
        let mut items = Vec::new();
        let mut pause = retry.first_pause;
        for attempt in 1..=retry.attempts {
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, request.clone())
                .send()
                .await
                .map_err(|e| sdk_error(op, e))?;
            items.extend(out.responses.unwrap_or_default().remove(&self.table).unwrap_or_default());
            match out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                Some(left) if !left.keys().is_empty() => request = left,
                _ => return Ok(items),
            }
            if !pause.is_zero() && attempt < retry.attempts {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(5));
            }
        }
        Err(StoreError::Unavailable(format!("{op}: keys left unprocessed")))
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

    /// A transaction item that deletes `key`, whether or not it exists.
    fn delete(&self, key: &Key) -> StoreResult<TransactWriteItem> {
        let delete = Delete::builder().table_name(&self.table).set_key(Some(key.item())).build();
        Ok(TransactWriteItem::builder().delete(build(delete)?).build())
    }

    /// One TransactWriteItems. The SDK gives each call a client request token that its
    /// retries reuse, so a retry of a transaction whose answer was lost succeeds instead
    /// of failing its own conditions.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<(), SdkError<TransactWriteItemsError>> {
        self.client.transact_write_items().set_transact_items(Some(items)).send().await.map(|_| ())
    }
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
            "TransactionConflictException" | "TransactionInProgressException" => {
                StoreError::Unavailable(format!("{op}: {code}"))
            }
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

/// The item of `items` whose `type` is `kind`.
fn of_type<'a>(items: &'a [Item], kind: &str) -> Option<&'a Item> {
    items.iter().find(|i| i.get("type").and_then(|v| v.as_s().ok()).is_some_and(|t| t == kind))
}

/// Whether item `i` of a cancelled transaction failed its condition.
fn failed_condition(codes: &[String], i: usize) -> bool {
    codes.get(i).is_some_and(|c| c == "ConditionalCheckFailed")
}
