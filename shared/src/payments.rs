//! Applying a payment of the billing system: once per payment id, to the serial in force
//! (following upgrades), never moving a date backwards. `record-payment` and
//! `portal-admin payment record` both call [`apply`]; the `PaymentApplied` event it
//! commits leaves through the table's stream (`portal-admin` also hands it over at once).

use chrono::{DateTime, Utc};

use crate::domain::{PaymentRecorded, PaymentRejection, Subscription};
use crate::events::{PendingEvent, PortalEvent};
use crate::store::{PaymentCommitError, PaymentRecord, Payments, StoreError};

/// How many upgrades a payment follows from the serial it names to the one in force.
const MAX_HOPS: usize = 16;
/// How often a payment is tried again when its serial changed under it.
const ATTEMPTS: usize = 5;

#[derive(Debug)]
pub enum Applied {
    /// Recorded now; its event is in the outbox, for the table's stream.
    Now { record: PaymentRecord, event: PendingEvent },
    /// This payment id was applied before (a redelivery): nothing written.
    Before(PaymentRecord),
}

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// The payment can never apply: dead-letter it with this reason.
    #[error(transparent)]
    Rejected(#[from] PaymentRejection),
    /// The store failed or kept changing: try the event again later.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies `payment` once. A payment for an upgraded serial lands on its successor.
pub async fn apply(
    store: &impl Payments,
    payment: &PaymentRecorded,
    now: DateTime<Utc>,
) -> Result<Applied, PaymentError> {
    for attempt in 0..ATTEMPTS {
        // Whether it was applied and the serial it names: one round trip.
        let (before, named) = store.payment_and_serial(&payment.payment_id, &payment.serial).await?;
        if let Some(before) = before {
            return Ok(Applied::Before(before));
        }
        let named = named.ok_or_else(|| PaymentRejection::UnknownSerial(payment.serial.clone()))?;
        let target = in_force(store, payment, named).await?;
        let next_payment_on = payment.next_payment_for(&target)?;
        let record = PaymentRecord {
            payment_id: payment.payment_id.clone(),
            paid_serial: payment.serial.clone(),
            serial: target.serial.clone(),
            account: target.account.clone(),
            paid_through: payment.paid_through,
            next_payment_on,
            applied_at: now,
        };
        let event = PortalEvent::payment_applied(
            payment.payment_id.as_str(),
            &target.account,
            &payment.serial,
            &target,
            payment.paid_through,
            next_payment_on,
        );
        let pending = PendingEvent::new(&event, now);
        match store.apply_payment(&record, &target, &pending).await {
            Ok(()) => return Ok(Applied::Now { record, event: pending }),
            Err(PaymentCommitError::AlreadyApplied) => {
                // Applied by a concurrent delivery: report what it did.
                if let Some(before) = store.payment(&payment.payment_id).await? {
                    return Ok(Applied::Before(before));
                }
            }
            Err(PaymentCommitError::Moved) => tracing::info!(attempt, "serial changed under a payment; reading again"),
            Err(PaymentCommitError::Store(e)) => return Err(e.into()),
        }
        tokio::time::sleep(std::time::Duration::from_millis(10 << attempt)).await;
    }
    Err(StoreError::Unavailable("the payment's serial kept changing".into()).into())
}

/// The serial the payment applies to: the one it names, or the last of its upgrades.
async fn in_force(
    store: &impl Payments,
    payment: &PaymentRecorded,
    named: Subscription,
) -> Result<Subscription, PaymentError> {
    let mut current = named;
    for _ in 0..MAX_HOPS {
        let Some(next) = current.superseded_by.clone() else { return Ok(current) };
        current = store.serial_by_number(&next).await?.ok_or_else(|| StoreError::Corrupt {
            key: next.to_string(),
            reason: format!("successor of {} is missing", current.serial),
        })?;
    }
    Err(StoreError::Corrupt { key: payment.serial.to_string(), reason: "too many upgrades in a row".into() }.into())
}
