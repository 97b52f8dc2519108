//! `record-payment`: applies the billing system's `PaymentRecorded` events (source
//! `billing`, from the stack's EventBridge bus) to the serial in force, once per payment id
//! ([`shared::payments`]). Its `PaymentApplied` event, committed with the payment, leaves
//! through the table's stream (`send-pending-mail`).
//!
//! An event that can never apply (malformed, an unknown serial, a license) is sent to the
//! dead-letter queue here, with its reason, and the invocation succeeds: retrying it would
//! change nothing. A store that fails makes the invocation fail, so Lambda retries it and,
//! after its retries, puts it on the same queue (the function's on-failure destination).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use shared::aws::ClientOnFirstUse;
use shared::config::Settings;
use shared::domain::{PaymentRecorded, PaymentRejection};
use shared::metrics;
use shared::payments::{apply, Applied, PaymentError};
use shared::startup::{required_env, Base};
use shared::store::{DynamoStore, Payments, StoreError};

pub struct App<S> {
    store: S,
    settings: Settings,
    dead_letters: DeadLetters,
}

/// Where events that can never apply go: an SQS queue, each message the original event
/// with its reason as message attributes.
#[derive(Clone)]
pub struct DeadLetters {
    /// Built on the first dead letter when built from the SDK's config: most events apply.
    sqs: ClientOnFirstUse<aws_sdk_sqs::Client>,
    queue_url: String,
}

impl DeadLetters {
    pub fn new(sqs: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        DeadLetters { sqs: ClientOnFirstUse::built(sqs), queue_url: queue_url.into() }
    }

    pub fn on_first_use(sdk: &shared::aws::SdkConfig, queue_url: impl Into<String>) -> Self {
        DeadLetters { sqs: ClientOnFirstUse::new(sdk, shared::aws::sqs), queue_url: queue_url.into() }
    }

    async fn send(&self, event: &Value, rejection: &PaymentRejection) -> Result<(), StoreError> {
        let attr = |v: &str| {
            let value = aws_sdk_sqs::types::MessageAttributeValue::builder().data_type("String").string_value(v);
            value.build().map_err(|e| StoreError::Other(e.to_string()))
        };
        self.sqs
            .get()
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(event.to_string())
            .message_attributes("reason", attr(rejection.code())?)
            .message_attributes("detail", attr(&rejection.to_string())?)
            .send()
            .await
            .map_err(|e| StoreError::Unavailable(format!("dead-letter queue: {e:?}")))?;
        Ok(())
    }
}

/// What one event did (the invocation's answer, and the log's).
#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Applied { payment_id: String, serial: String, next_payment_on: String },
    AlreadyApplied { payment_id: String, serial: String },
    DeadLettered { reason: &'static str, detail: String },
}

#[derive(Debug, thiserror::Error)]
#[error("payment not applied, to be retried: {0}")]
pub struct Retry(#[from] StoreError);

impl App<DynamoStore> {
    pub fn build(base: Base) -> Self {
        let queue_url = required_env("DEAD_LETTER_QUEUE_URL");
        let dead_letters = DeadLetters::on_first_use(&base.sdk, queue_url);
        App::new(base.store, base.settings, dead_letters)
    }
}

impl<S: Payments> App<S> {
    pub fn new(store: S, settings: Settings, dead_letters: DeadLetters) -> Self {
        App { store, settings, dead_letters }
    }

    /// One delivery of an event from the bus.
    pub async fn handle(&self, event: &Value, now: DateTime<Utc>) -> Result<Outcome, Retry> {
        let today = self.settings.today(now);
        let applied = match PaymentRecorded::from_event(event, today, &self.settings.serials) {
            Ok(payment) => apply(&self.store, &payment, now).await,
            Err(rejection) => Err(PaymentError::Rejected(rejection)),
        };
        match applied {
            Ok(Applied::Now { record, event: _ }) => {
                tracing::info!(payment_id = %record.payment_id, serial = %record.serial, paid_serial = %record.paid_serial,
                    next_payment_on = %record.next_payment_on, "payment applied");
                metrics::count("PaymentsApplied", 1);
                Ok(Outcome::Applied {
                    payment_id: record.payment_id.to_string(),
                    serial: record.serial.to_string(),
                    next_payment_on: record.next_payment_on.to_string(),
                })
            }
            Ok(Applied::Before(record)) => {
                tracing::info!(payment_id = %record.payment_id, "payment delivered again; applied before");
                Ok(Outcome::AlreadyApplied {
                    payment_id: record.payment_id.to_string(),
                    serial: record.serial.to_string(),
                })
            }
            Err(PaymentError::Rejected(rejection)) => {
                tracing::error!(reason = rejection.code(), detail = %rejection, "payment event dead-lettered");
                self.dead_letters.send(event, &rejection).await?;
                metrics::count("PaymentsDeadLettered", 1);
                Ok(Outcome::DeadLettered { reason: rejection.code(), detail: rejection.to_string() })
            }
            Err(PaymentError::Store(e)) => {
                tracing::warn!(error = %e, "payment not applied; the delivery will be retried");
                Err(Retry(e))
            }
        }
    }
}
