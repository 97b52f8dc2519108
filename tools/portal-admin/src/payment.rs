//! `portal-admin payment record`: a payment entered by hand, applied by the same code as
//! billing's events (`shared::payments`), or put on the bus as billing would put it.

use chrono::Utc;
use serde_json::json;

use shared::config::Settings;
use shared::domain::{PaymentRecorded, BILLING_SOURCE, PAYMENT_RECORDED};
use shared::events::EventBus;
use shared::outbox::{deliver, Delivery};
use shared::payments::{apply, Applied, PaymentError};
use shared::store::DynamoStore;

use crate::{input, AdminError, Result};

/// The event billing would put on the bus for this payment.
fn billing_event(serial: &str, paid_through: &str, payment_id: &str) -> serde_json::Value {
    json!({
        "version": "0",
        "id": format!("portal-admin-{payment_id}"),
        "detail-type": PAYMENT_RECORDED,
        "source": BILLING_SOURCE,
        "time": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "detail": {"payment_id": payment_id, "serial": serial, "paid_through": paid_through},
    })
}

pub async fn record(
    store: &DynamoStore,
    settings: &Settings,
    sdk: &aws_config::SdkConfig,
    (serial, paid_through, payment_id): (&str, &str, &str),
    via_bus: bool,
) -> Result<()> {
    let now = Utc::now();
    let event = billing_event(serial, paid_through, payment_id);
    // Checked here in every case, so a typo is told at once, not in the dead-letter queue.
    let payment = PaymentRecorded::from_event(&event, settings.today(now), &settings.serials)
        .map_err(|e| input(format!("payment refused: {e}")))?;
    let bus = std::env::var("EVENT_BUS_NAME").ok().filter(|s| !s.trim().is_empty());
    if via_bus {
        let bus = bus.ok_or_else(|| input("--via-bus needs EVENT_BUS_NAME (the stack's EventBusName output)"))?;
        let client = shared::aws::eventbridge(sdk);
        let entry = aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
            .event_bus_name(&bus)
            .source(BILLING_SOURCE)
            .detail_type(PAYMENT_RECORDED)
            .detail(event["detail"].to_string())
            .build();
        let out = client.put_events().entries(entry).send().await.map_err(|e| AdminError::Bus(format!("{e:?}")))?;
        if out.failed_entry_count() > 0 {
            return Err(AdminError::Bus(format!("{:?}", out.entries())));
        }
        println!("payment {} put on the bus {bus}: record-payment applies it", payment.payment_id);
        return Ok(());
    }
    match apply(store, &payment, now).await {
        Ok(Applied::Now { record, event }) => {
            println!(
                "payment {} applied to {}: next payment on {}",
                record.payment_id, record.serial, record.next_payment_on
            );
            match bus {
                Some(bus) => {
                    let bus = EventBus::new(shared::aws::eventbridge(sdk), bus);
                    // At once, leased like any sender: the table's stream then finds it gone.
                    match deliver(store, &bus, &event, now).await {
                        Delivery::Failed(why) => {
                            eprintln!("portal-admin: PaymentApplied stays in the outbox for the retry: {why}")
                        }
                        Delivery::Dead(why) => {
                            eprintln!("portal-admin: the bus refused PaymentApplied: {why} (see `portal-admin mail list --dead`)")
                        }
                        Delivery::Sent(_) | Delivery::Held => {}
                    }
                }
                None => eprintln!(
                    "portal-admin: EVENT_BUS_NAME is not set: PaymentApplied leaves through the table's stream"
                ),
            }
            Ok(())
        }
        Ok(Applied::Before(record)) => {
            println!("payment {} was applied before, to {}: nothing to do", record.payment_id, record.serial);
            Ok(())
        }
        Err(PaymentError::Rejected(why)) => Err(input(format!("payment refused: {why}"))),
        Err(PaymentError::Store(e)) => Err(e.into()),
    }
}
