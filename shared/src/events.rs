//! Events the portal publishes on the stack's EventBridge bus (`source: serial-portal`),
//! for the vendor's billing and CRM. Each is written to the outbox in the same
//! transaction as the fact it reports, and leaves through the outbox's one delivery
//! routine ([`crate::outbox`]), so a bus that is down delays an event but never loses it.
//! The detail schemas are `asyncapi.yaml`; `event_id` is stable per fact, so a consumer
//! that sees one twice (a retry after a lost acknowledgement) can drop the second.

use aws_sdk_eventbridge::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{AccountId, Serial, Subscription};

/// The `source` of every event the portal publishes.
pub const SOURCE: &str = "serial-portal";

/// A fact the portal reports to the vendor's other systems.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PortalEvent {
    SerialUpgraded(SerialUpgraded),
    SerialActivated(SerialActivated),
    PaymentApplied(PaymentApplied),
}

/// A subscription moved to the new major version: billing charges the new serial from now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialUpgraded {
    pub event_id: String,
    pub account_id: String,
    pub old_serial: String,
    pub new_serial: String,
    pub system: String,
    pub old_version: String,
    pub new_version: String,
    pub terms_version: String,
    /// The old serial works until this day; the new one keeps the billing period.
    pub old_valid_until: Option<NaiveDate>,
    pub next_payment_on: Option<NaiveDate>,
    pub upgraded_at: String,
}

/// The desktop program validated a serial for the first time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SerialActivated {
    pub event_id: String,
    pub account_id: String,
    pub serial: String,
    pub system: String,
    pub version: String,
    pub activated_on: NaiveDate,
}

/// A payment of the billing system was applied to the serial in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentApplied {
    pub event_id: String,
    pub payment_id: String,
    pub account_id: String,
    /// The serial the payment named.
    pub paid_serial: String,
    /// The serial it landed on: `paid_serial`, or its successor if that was upgraded.
    pub serial: String,
    pub paid_through: NaiveDate,
    pub previous_next_payment_on: Option<NaiveDate>,
    pub next_payment_on: NaiveDate,
}

impl PortalEvent {
    pub fn detail_type(&self) -> &'static str {
        match self {
            PortalEvent::SerialUpgraded(_) => "SerialUpgraded",
            PortalEvent::SerialActivated(_) => "SerialActivated",
            PortalEvent::PaymentApplied(_) => "PaymentApplied",
        }
    }

    pub fn event_id(&self) -> &str {
        match self {
            PortalEvent::SerialUpgraded(e) => &e.event_id,
            PortalEvent::SerialActivated(e) => &e.event_id,
            PortalEvent::PaymentApplied(e) => &e.event_id,
        }
    }

    pub fn upgraded(old: &Subscription, new: &Subscription, terms_version: &str, at: DateTime<Utc>) -> Self {
        PortalEvent::SerialUpgraded(SerialUpgraded {
            event_id: format!("upgraded-{}", old.serial),
            account_id: old.account.to_string(),
            old_serial: old.serial.to_string(),
            new_serial: new.serial.to_string(),
            system: old.system.to_string(),
            old_version: old.version.to_string(),
            new_version: new.version.to_string(),
            terms_version: terms_version.to_string(),
            old_valid_until: old.valid_until,
            next_payment_on: new.next_payment_on,
            upgraded_at: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        })
    }

    pub fn activated(sub: &Subscription, on: NaiveDate) -> Self {
        PortalEvent::SerialActivated(SerialActivated {
            event_id: format!("activated-{}", sub.serial),
            account_id: sub.account.to_string(),
            serial: sub.serial.to_string(),
            system: sub.system.to_string(),
            version: sub.version.to_string(),
            activated_on: on,
        })
    }

    pub fn payment_applied(
        payment_id: &str,
        account: &AccountId,
        paid_serial: &Serial,
        landed_on: &Subscription,
        paid_through: NaiveDate,
        next_payment_on: NaiveDate,
    ) -> Self {
        PortalEvent::PaymentApplied(PaymentApplied {
            event_id: format!("payment-{payment_id}"),
            payment_id: payment_id.to_string(),
            account_id: account.to_string(),
            paid_serial: paid_serial.to_string(),
            serial: landed_on.serial.to_string(),
            paid_through,
            previous_next_payment_on: landed_on.next_payment_on,
            next_payment_on,
        })
    }
}

/// An event waiting in the outbox until the bus takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingEvent {
    /// The event's `event_id`: unique per fact.
    pub id: String,
    pub detail_type: String,
    /// The detail, as JSON text (what PutEvents takes).
    pub detail: String,
    pub created_at: DateTime<Utc>,
}

impl PendingEvent {
    pub fn new(event: &PortalEvent, created_at: DateTime<Utc>) -> Self {
        PendingEvent {
            id: event.event_id().to_string(),
            detail_type: event.detail_type().to_string(),
            // Plain structs of strings and dates: serialising them cannot fail.
            detail: serde_json::to_string(event).unwrap_or_default(),
            created_at: crate::outbox::outbox_instant(created_at),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
    #[error("event refused: {0}")]
    Rejected(String),
}

/// Puts events on the stack's bus. Cheap to clone; build once per cold start.
#[derive(Clone)]
pub struct EventBus {
    /// Built on the first publish when built from the SDK's config: most requests of the
    /// functions that publish (a validation that is not a first activation) never do.
    client: crate::aws::ClientOnFirstUse<aws_sdk_eventbridge::Client>,
    bus_name: String,
}

impl EventBus {
    pub fn new(client: aws_sdk_eventbridge::Client, bus_name: impl Into<String>) -> Self {
        EventBus { client: crate::aws::ClientOnFirstUse::built(client), bus_name: bus_name.into() }
    }

    pub fn on_first_use(sdk: &aws_config::SdkConfig, bus_name: impl Into<String>) -> Self {
        EventBus { client: crate::aws::ClientOnFirstUse::new(sdk, crate::aws::eventbridge), bus_name: bus_name.into() }
    }

    fn client(&self) -> &aws_sdk_eventbridge::Client {
        self.client.get()
    }

    pub fn bus_name(&self) -> &str {
        &self.bus_name
    }

    /// Publishes one event; returns the bus's event id.
    pub async fn publish(&self, event: &PendingEvent) -> Result<String, PublishError> {
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus_name)
            .source(SOURCE)
            .detail_type(&event.detail_type)
            .detail(&event.detail)
            .build();
        let out = self.client().put_events().entries(entry).send().await.map_err(|e| match e.code() {
            Some(code) => PublishError::Unavailable(format!("{code}: {}", e.message().unwrap_or_default())),
            None => PublishError::Unavailable(format!("{e:?}")),
        })?;
        // PutEvents answers 200 with per-entry failures: the entry is the answer. Only a
        // throttle or the bus's own failure is worth another attempt; any other code is
        // about the entry itself (e.g. a detail the bus does not take).
        match out.entries().first() {
            Some(entry) if entry.error_code().is_none() => Ok(entry.event_id().unwrap_or_default().to_string()),
            Some(entry) => {
                let code = entry.error_code().unwrap_or_default();
                let why = format!("{code}: {}", entry.error_message().unwrap_or_default());
                Err(match code {
                    "InternalFailure" | "ThrottlingException" => PublishError::Unavailable(why),
                    _ => PublishError::Rejected(why),
                })
            }
            None => Err(PublishError::Unavailable("no entry in the answer".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Plan, SystemCode, Version};

    fn sub(serial: &str, version: &str) -> Subscription {
        Subscription {
            serial: Serial::parse(serial).unwrap(),
            account: AccountId::parse("0123456789abcdef0123456789abcdef").unwrap(),
            system: SystemCode::parse("SAE").unwrap(),
            version: Version::parse(version).unwrap(),
            users: 1,
            plan: Plan::Subscription,
            billing_period: Some(crate::domain::BillingPeriod::Monthly),
            activated_on: None,
            next_payment_on: NaiveDate::from_ymd_opt(2026, 12, 10),
            valid_until: None,
            upgraded_from: None,
            superseded_by: None,
        }
    }

    #[test]
    fn an_event_keeps_its_type_and_a_stable_id_per_fact() {
        let s = Serial::generate().unwrap();
        let a = sub(s.as_str(), "7.0");
        let on = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let first = PendingEvent::new(&PortalEvent::activated(&a, on), Utc::now());
        let again = PendingEvent::new(&PortalEvent::activated(&a, on), Utc::now());
        assert_eq!(first.id, again.id, "the same fact, the same id");
        assert_eq!(first.detail_type, "SerialActivated");
        let detail: serde_json::Value = serde_json::from_str(&first.detail).unwrap();
        assert_eq!(detail["serial"], s.as_str());
        assert_eq!(detail["activated_on"], "2026-12-01");
        assert_eq!(detail["event_id"], first.id);
    }
}
