//! Payments applied (`PAYMENT#<payment id>` / `PAYMENT`): the record that makes a payment
//! apply once however often billing's event is delivered. It is written in the same
//! transaction as the change it makes to the serial (item and claim) and its event.

use chrono::NaiveDate;

use super::attrs::Attrs;
use super::outbox::outbox_item;
use super::serial::claim;
use super::{
    cancellation_codes, failed_condition, is_transient_reason, of_type, s, transaction_error, DynamoStore, Item, Key,
};
use crate::domain::{PaymentId, Serial, Subscription};
use crate::events::PendingEvent;
use crate::store::{PaymentCommitError, PaymentRecord, Payments, StoreError, StoreResult};

pub fn payment(id: &PaymentId) -> Key {
    Key::new(format!("PAYMENT#{id}"), "PAYMENT")
}

fn payment_item(record: &PaymentRecord) -> Item {
    let mut item = payment(&record.payment_id).item();
    item.insert("type".into(), s("payment"));
    item.insert("payment_id".into(), s(record.payment_id.as_str()));
    item.insert("paid_serial".into(), s(record.paid_serial.as_str()));
    item.insert("serial".into(), s(record.serial.as_str()));
    item.insert("account_id".into(), s(record.account.as_str()));
    item.insert("paid_through".into(), s(record.paid_through.to_string()));
    item.insert("next_payment_on".into(), s(record.next_payment_on.to_string()));
    item.insert("applied_at".into(), s(record.applied_at.to_rfc3339()));
    item
}

fn record_from(item: &Item) -> StoreResult<PaymentRecord> {
    let a = Attrs::new(item);
    let date =
        |name: &str| -> StoreResult<NaiveDate> { a.opt_date(name)?.ok_or_else(|| a.corrupt(format!("no {name}"))) };
    Ok(PaymentRecord {
        payment_id: PaymentId::parse(a.str("payment_id")?).map_err(|e| a.corrupt(e.to_string()))?,
        paid_serial: a.serial("paid_serial")?,
        serial: a.serial("serial")?,
        account: a.account_id("account_id")?,
        paid_through: date("paid_through")?,
        next_payment_on: date("next_payment_on")?,
        applied_at: a.instant("applied_at")?,
    })
}

impl Payments for DynamoStore {
    async fn serial_by_number(&self, number: &Serial) -> StoreResult<Option<Subscription>> {
        self.claimed_serial(number).await
    }

    async fn payment(&self, id: &PaymentId) -> StoreResult<Option<PaymentRecord>> {
        self.get("get payment", &payment(id)).await?.map(|i| record_from(&i)).transpose()
    }

    async fn payment_and_serial(
        &self,
        id: &PaymentId,
        number: &Serial,
    ) -> StoreResult<(Option<PaymentRecord>, Option<Subscription>)> {
        let items = self.batch_get("get payment and serial claim", &[&payment(id), &claim(number)]).await?;
        let record = of_type(&items, "payment").map(record_from).transpose()?;
        let sub = match of_type(&items, "serial_claim") {
            // An applied payment needs no serial (nor the older claim's second read).
            Some(item) if record.is_none() => self.serial_and_company(number, item).await?.map(|(sub, _)| sub),
            _ => None,
        };
        Ok((record, sub))
    }

    async fn apply_payment(
        &self,
        record: &PaymentRecord,
        target: &Subscription,
        event: &PendingEvent,
    ) -> Result<(), PaymentCommitError> {
        // The serial moves only if it is still in force and as it was read: a concurrent
        // upgrade or payment makes the caller read it again.
        let seen = match target.next_payment_on {
            Some(d) => ("next_payment_on = :seen", Some(d.to_string())),
            None => ("attribute_not_exists(next_payment_on)", None),
        };
        let condition = format!("attribute_exists(pk) AND attribute_not_exists(superseded_by) AND {}", seen.0);
        let mut values = vec![(":next", s(record.next_payment_on.to_string()))];
        if let Some(d) = seen.1 {
            values.push((":seen", s(d)));
        }
        let [serial_item, serial_claim] =
            self.serial_updates(target, "SET next_payment_on = :next", &condition, &values)?;
        // The event leaves through the table's stream, not through the caller.
        let items = vec![
            self.put_if_absent(payment_item(record))?,
            serial_item,
            serial_claim,
            self.put_if_absent(outbox_item(event, None))?,
        ];
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(err) => match cancellation_codes(&err) {
                Some(codes) if failed_condition(&codes, 0) || failed_condition(&codes, 3) => {
                    Err(PaymentCommitError::AlreadyApplied)
                }
                Some(codes) if failed_condition(&codes, 1) => Err(PaymentCommitError::Moved),
                Some(codes) if failed_condition(&codes, 2) => Err(StoreError::Corrupt {
                    key: claim(&target.serial).pk,
                    reason: "a serial without its claim".into(),
                }
                .into()),
                // Another write held one of the items: nothing was written; read again.
                Some(codes) if codes.iter().any(|c| is_transient_reason(c)) => Err(PaymentCommitError::Moved),
                _ => Err(transaction_error("apply payment", err).into()),
            },
        }
    }
}
