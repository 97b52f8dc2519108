//! Bounded guessing, without letting anyone lock a customer out (OWASP ASVS 2.2.1 and its
//! "device cookies"): a count per e-mail and client (`LOCK#<email>` / `CLIENT#<client>`),
//! and the e-mail's failures per clock hour from everyone (`LOCK#<email>` / `HOUR#<hour>`).
//! A known device is the item of its own count (`CLIENT#device#<digest of the device
//! token>`, type `device`, known until its `expires_at`): the e-mail it is known for is in
//! its key, so one conditional write both checks a presented device and takes its attempt,
//! and a made-up token writes nothing. Every item is keyed by the typed e-mail and written
//! whether or not an account has it, so an unknown e-mail costs the same calls and gets the
//! same answers as a known one.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use chrono::{DateTime, Duration, Timelike, Utc};

use super::account::{credentials_from, holder_from, login};
use super::attrs::Attrs;
use super::session::session_write_error;
use super::{build, condition_met, n, of_type, s, sdk_error, DynamoStore, Item, Key};
use crate::domain::Email;
use crate::store::{
    AttemptReservation, KnownDevice, LoginAttempts, LoginClient, LoginFacts, Session, StoreError, StoreResult,
    LOCK_MINUTES, MAX_FAILED_LOGINS,
};

/// The `type` of a known device's item.
const DEVICE: &str = "device";

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

/// When the clock hour of `now` ends.
pub fn hour_end(now: DateTime<Utc>) -> DateTime<Utc> {
    let start = now.with_minute(0).and_then(|t| t.with_second(0)).and_then(|t| t.with_nanosecond(0)).unwrap_or(now);
    start + Duration::hours(1)
}

/// Whether a client item is a device known at `now`.
fn known_at(item: &Item, now: DateTime<Utc>) -> StoreResult<bool> {
    let a = Attrs::new(item);
    Ok(a.opt_str("type")? == Some(DEVICE) && a.epoch("expires_at")? > now)
}

/// A lockout item as a password reset leaves it: a known device stays known with its
/// count cleared (`Some`); every other count goes (`None`).
pub(super) fn after_reset(item: &Item) -> Option<Item> {
    let device = item.get("type").and_then(|v| v.as_s().ok()).is_some_and(|t| t == DEVICE);
    device.then(|| {
        let mut kept = item.clone();
        kept.remove("failures");
        kept.remove("attempted_at");
        kept
    })
}

impl DynamoStore {
    /// Takes an attempt on `key` if fewer than the limit are counted (and, for a device,
    /// if it is known); the outcome, or the item as it stood when the condition failed.
    async fn take_attempt(&self, key: &Key, device: bool, now: DateTime<Utc>) -> StoreResult<Result<(), Option<Item>>> {
        let request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key.item()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(MAX_FAILED_LOGINS))
            .expression_attribute_values(":now", s(now.to_rfc3339()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        let request = if device {
            // Only a device this e-mail knows, and not expired, has a count of its own: a
            // made-up token creates nothing and gets no fresh five.
            request
                .update_expression("SET failures = if_not_exists(failures, :zero) + :one, attempted_at = :now")
                .condition_expression(
                    "#type = :device AND expires_at > :epoch AND (attribute_not_exists(failures) OR failures < :max)",
                )
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":device", s(DEVICE))
                .expression_attribute_values(":epoch", n(now.timestamp()))
        } else {
            request
                .update_expression(
                    "SET #type = :type, failures = if_not_exists(failures, :zero) + :one, attempted_at = :now, \
                     expires_at = :ttl",
                )
                .condition_expression("attribute_not_exists(failures) OR failures < :max")
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":type", s("login_attempts"))
                .expression_attribute_values(":ttl", n((now + Duration::days(1)).timestamp()))
        };
        match request.send().await {
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
    async fn login_facts(&self, email: &Email, now: DateTime<Utc>) -> StoreResult<LoginFacts> {
        let items = self.batch_get("read login", &[&login(email), &hour(email, now)]).await?;
        let login_item = of_type(&items, "login");
        let credentials = login_item.map(credentials_from).transpose()?;
        let account = match login_item {
            Some(item) => holder_from(item)?,
            None => None,
        };
        let failures_this_hour = match of_type(&items, "login_failures") {
            Some(item) => Attrs::new(item).opt_num("failures")?.unwrap_or(0),
            None => 0,
        };
        Ok(LoginFacts { credentials, account, failures_this_hour })
    }

    async fn reserve_login_attempt(
        &self,
        email: &Email,
        who: &LoginClient,
        now: DateTime<Utc>,
    ) -> StoreResult<AttemptReservation> {
        let key = client(email, who);
        let device = matches!(who, LoginClient::Device(_));
        // Twice at most: a stale count is restarted once, then reserved again if another
        // request restarted it first.
        for _ in 0..2 {
            let old = match self.take_attempt(&key, device, now).await? {
                Ok(()) => return Ok(AttemptReservation::Granted),
                Err(old) => old,
            };
            let Some(old) = old else {
                return Ok(if device {
                    AttemptReservation::UnknownDevice
                } else {
                    AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES))
                });
            };
            if device && !known_at(&old, now)? {
                return Ok(AttemptReservation::UnknownDevice);
            }
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
                .condition_expression("attempted_at = :seen")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", s(now.to_rfc3339()))
                .expression_attribute_values(":seen", s(attempted_raw))
                .return_values(ReturnValue::None);
            // A device's expiry is its own (a year), not a day after its last attempt.
            let restart = if device {
                restart.update_expression("SET failures = :one, attempted_at = :now")
            } else {
                restart
                    .update_expression("SET failures = :one, attempted_at = :now, expires_at = :ttl")
                    .expression_attribute_values(":ttl", n((now + Duration::days(1)).timestamp()))
            };
            match result_of(restart.send().await) {
                Ok(()) => return Ok(AttemptReservation::Granted),
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(AttemptReservation::Locked(now + Duration::minutes(LOCK_MINUTES)))
    }

    async fn give_back_login_attempt(&self, email: &Email, who: &LoginClient) -> StoreResult<()> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(client(email, who).item()))
            .update_expression("SET failures = failures - :one")
            .condition_expression("failures > :zero")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .send()
            .await;
        // Nothing to give back (a reset cleared the count meanwhile) is fine too.
        condition_met(result.map_err(|e| sdk_error("give back login attempt", e))).map(|_| ())
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
        session: &Session,
        device: &KnownDevice,
        address: Option<&str>,
    ) -> StoreResult<()> {
        let mut items = self.session_writes(session)?;
        if let Some(ip) = address {
            items.push(self.clear_count(email, &LoginClient::Address(ip.into()), session.created_at)?);
        }
        items.push(self.know_device(email, device)?);
        self.transact(items).await.map_err(|e| session_write_error("log in", e))
    }
}

impl DynamoStore {
    /// The transaction item that starts the count of `who` again (a success). A device
    /// stays what it was: known until its own expiry, or (gone meanwhile) nothing a login
    /// would take for a known device, removed within the day.
    pub(super) fn clear_count(
        &self,
        email: &Email,
        who: &LoginClient,
        now: DateTime<Utc>,
    ) -> StoreResult<TransactWriteItem> {
        let restart = Update::builder()
            .table_name(&self.table)
            .set_key(Some(client(email, who).item()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":ttl", n((now + Duration::days(1)).timestamp()));
        let restart = match who {
            LoginClient::Address(_) => restart
                .update_expression("SET #type = :type, failures = :zero, expires_at = :ttl")
                .expression_attribute_names("#type", "type")
                .expression_attribute_values(":type", s("login_attempts")),
            LoginClient::Device(_) => restart.update_expression(
                "SET failures = :zero, expires_at = if_not_exists(expires_at, :ttl) REMOVE attempted_at",
            ),
        };
        Ok(TransactWriteItem::builder().update(build(restart.build())?).build())
    }

    /// The transaction item that makes `device` known to `email` until its `expires_at`,
    /// its count back to 0: a new device's item is made, a known one's renewed.
    pub(super) fn know_device(&self, email: &Email, device: &KnownDevice) -> StoreResult<TransactWriteItem> {
        let known = Update::builder()
            .table_name(&self.table)
            .set_key(Some(client(email, &LoginClient::Device(device.digest.clone())).item()))
            .update_expression(
                "SET #type = :type, account_id = :account, failures = :zero, expires_at = :until REMOVE attempted_at",
            )
            .expression_attribute_names("#type", "type")
            .expression_attribute_values(":type", s(DEVICE))
            .expression_attribute_values(":account", s(device.account.as_str()))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":until", n(device.expires_at.timestamp()))
            .build();
        Ok(TransactWriteItem::builder().update(build(known)?).build())
    }
}

fn result_of<T, E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    r: Result<T, SdkError<E, R>>,
) -> StoreResult<()> {
    r.map(|_| ()).map_err(|e| sdk_error("restart login attempts", e))
}
