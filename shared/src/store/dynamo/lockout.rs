//! Bounded guessing, without letting anyone lock a customer out (OWASP ASVS 2.2.1 and its
//! "device cookies"): a count per e-mail and client (`LOCK#<email>` / `CLIENT#<client>`),
//! the e-mail's failures per clock hour from everyone (`LOCK#<email>` / `HOUR#<hour>`), and
//! the known devices (`DEVICE#<digest of the device token>` / `DEVICE`). Every item is
//! keyed by the typed e-mail and written whether or not an account has it, so an unknown
//! e-mail costs the same calls and gets the same answers as a known one.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Timelike, Utc};

use super::account::{credentials_from, login};
use super::attrs::Attrs;
use super::{build, n, of_type, s, sdk_error, transaction_error, DynamoStore, Item, Key};
use crate::domain::token::TokenDigest;
use crate::domain::Email;
use crate::store::{
    AttemptReservation, KnownDevice, LoginAttempts, LoginClient, LoginFacts, StoreError, StoreResult, LOCK_MINUTES,
    MAX_FAILED_LOGINS,
};

pub(super) fn partition(email: &Email) -> String {
    format!("LOCK#{email}")
}

pub fn client(email: &Email, who: &LoginClient) -> Key {
    let who = match who {
        LoginClient::Address(ip) => format!("ip#{ip}"),
        LoginClient::Device(digest) => format!("device#{}", digest.as_str()),
    };
    Key::new(partition(email), format!("CLIENT#{who}"))
}

/// The clock hour (UTC) `now` falls in, as the hourly count's key names it.
pub fn hour(email: &Email, now: DateTime<Utc>) -> Key {
    Key::new(partition(email), format!("HOUR#{}", now.format("%Y-%m-%dT%H")))
}

pub fn device(digest: &TokenDigest) -> Key {
    Key::new(format!("DEVICE#{}", digest.as_str()), "DEVICE")
}

/// When the clock hour of `now` ends.
pub fn hour_end(now: DateTime<Utc>) -> DateTime<Utc> {
    let start = now.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(now);
    start + Duration::hours(1)
}

impl DynamoStore {
    /// Takes an attempt on `key` if fewer than the limit are counted; the outcome, or the
    /// item as it stood when the condition failed.
    async fn take_attempt(&self, key: &Key, now: DateTime<Utc>) -> StoreResult<Result<(), Option<Item>>> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.item()))
            .update_expression(
                "SET #type = :type, failures = if_not_exists(failures, :zero) + :one, attempted_at = :now, \
                 expires_at = :ttl",
            )
            .condition_expression("attribute_not_exists(failures) OR failures < :max")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":type", s("login_attempts"))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_FAILED_LOGINS))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .expression_attribute_values(":ttl", n((now + Duration::days(1)).timestamp()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Ok(())),
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                match se.into_err() {
                    UpdateItemError::ConditionalCheckFailedException(c) => Ok(Err(c.item)),
                    _ => Ok(Err(None)),
                }
            }
            Err(e) => Err(sdk_error("reserve login attempt", e)),
        }
    }
}

impl LoginAttempts for DynamoStore {
    async fn login_facts(
        &self,
        email: &Email,
        presented: Option<&TokenDigest>,
        now: DateTime<Utc>,
    ) -> StoreResult<LoginFacts> {
        let (login_key, hour_key) = (login(email), hour(email, now));
        let device_key = presented.map(device);
        let mut keys = vec![&login_key, &hour_key];
        keys.extend(device_key.as_ref());
        let items = self.batch_get("read login", &keys).await?;
        let credentials = of_type(&items, "login").map(credentials_from).transpose()?;
        let failures_this_hour = match of_type(&items, "login_failures") {
            Some(item) => Attrs::new(item).opt_num("failures")?.unwrap_or(0),
            None => 0,
        };
        let known_device = match of_type(&items, "device") {
            Some(item) => {
                let a = Attrs::new(item);
                a.str("email")? == email.as_str() && a.epoch("expires_at")? > now
            }
            None => false,
        };
        Ok(LoginFacts { credentials, failures_this_hour, known_device })
    }

    async fn reserve_login_attempt(
        &self,
        email: &Email,
        who: &LoginClient,
        now: DateTime<Utc>,
    ) -> StoreResult<AttemptReservation> {
        let key = client(email, who);
        // Twice at most: a stale count is restarted once, then reserved again if another
        // request restarted it first.
        for _ in 0..2 {
            let old = match self.take_attempt(&key, now).await? {
                Ok(()) => return Ok(AttemptReservation::Granted),
                Err(Some(old)) => old,
                Err(None) => return Ok(AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES))),
            };
            // Every attempt is taken: either they are still being checked or they failed
            // (or never reported back, which counts as failing). The client is locked until
            // LOCK_MINUTES after the last one; then its count starts again, so lost attempts
            // never lock it out for good.
            let a = Attrs::new(&old);
            let attempted_raw = a.str("attempted_at")?.to_string();
            let until = a.instant("attempted_at")? + Duration::minutes(LOCK_MINUTES);
            if until > now {
                return Ok(AttemptReservation::Locked(until));
            }
            let restart = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key.item()))
                .update_expression("SET failures = :one, attempted_at = :now, expires_at = :ttl")
                .condition_expression("attempted_at = :seen")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":ttl", n((now + Duration::days(1)).timestamp()))
                .expression_attribute_values(":seen", s(attempted_raw))
                .return_values(ReturnValue::None)
                .send()
                .await;
            match result_of(restart) {
                Ok(()) => return Ok(AttemptReservation::Granted),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES)))
    }

    async fn count_failed_login(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<u32> {
        let out = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(hour(email, now).item()))
            .update_expression("SET #type = :type, expires_at = :ttl ADD failures :one")
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":type", s("login_failures"))
            .expression_attribute_values(":ttl", n((hour_end(now) + Duration::hours(1)).timestamp()))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .send()
            .await
            .map_err(|e| sdk_error("count failed login", e))?;
        let item = out.attributes.unwrap_or_default();
        Ok(Attrs::new(&item).opt_num("failures")?.unwrap_or(0))
    }

    async fn login_succeeded(
        &self,
        email: &Email,
        who: &LoginClient,
        new_device: Option<&KnownDevice>,
    ) -> StoreResult<()> {
        let restart = Update::builder()
            .table_name(&self.table)
            .set_key(Some(client(email, who).item()))
            .update_expression("SET failures = :zero")
            .expression_attribute_values(":zero", n(0))
            .build();
        let mut items = vec![TransactWriteItem::builder().update(build(restart)?).build()];
        if let Some(known) = new_device {
            let mut item = device(&known.digest).item();
            item.insert("type".into(), s("device"));
            item.insert("email".into(), s(known.email.as_str()));
            item.insert("account_id".into(), s(known.account.as_str()));
            item.insert("expires_at".into(), n(known.expires_at.timestamp()));
            items.push(self.put_if_absent(item)?);
        }
        self.transact(items).await.map_err(|e| transaction_error("login succeeded", e))
    }
}

fn result_of<T, E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    r: Result<T, SdkError<E, R>>,
) -> StoreResult<()> {
    r.map(|_| ()).map_err(|e| sdk_error("restart login attempts", e))
}
