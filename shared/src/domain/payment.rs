//! Payments reported by the vendor's billing system (`PaymentRecorded` on the bus): what a
//! well-formed one is, and what it does to a subscription. Parsed once from the event, so
//! the code that applies it never sees a half-checked payment.

use chrono::{Datelike, NaiveDate};
use serde_json::Value;

use super::serial::{Serial, SerialFormats};
use super::subscription::{Plan, Subscription};

/// The billing system's id of a payment: what makes a redelivered event harmless.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PaymentId(String);

impl PaymentId {
    pub const MAX_LEN: usize = 128;

    pub fn parse(s: &str) -> Result<Self, PaymentRejection> {
        let s = s.trim();
        if s.is_empty() || s.chars().count() > Self::MAX_LEN || s.chars().any(char::is_control) {
            return Err(PaymentRejection::Malformed(format!(
                "detail.payment_id must be 1 to {} printable characters",
                Self::MAX_LEN
            )));
        }
        Ok(PaymentId(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for PaymentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payment as the billing system reports it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentRecorded {
    pub payment_id: PaymentId,
    pub serial: Serial,
    /// The subscription is paid up to and including this day.
    pub paid_through: NaiveDate,
}

/// Why a payment event can never be applied: it goes to the dead-letter queue with this
/// reason, and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaymentRejection {
    #[error("malformed event: {0}")]
    Malformed(String),
    #[error("unknown serial {0}")]
    UnknownSerial(Serial),
    #[error("serial {0} is a license: licenses take no payments")]
    License(Serial),
}

impl PaymentRejection {
    /// The stable key of the reason (the dead letter's `reason` attribute and the log's).
    pub fn code(&self) -> &'static str {
        match self {
            PaymentRejection::Malformed(_) => "malformed",
            PaymentRejection::UnknownSerial(_) => "unknown_serial",
            PaymentRejection::License(_) => "license",
        }
    }
}

/// The event's `source` and `detail-type` that `record-payment` takes.
pub const BILLING_SOURCE: &str = "billing";
pub const PAYMENT_RECORDED: &str = "PaymentRecorded";

/// How far ahead a payment may reach: past this it is a typo, not a payment.
pub const MAX_YEARS_AHEAD: i32 = 5;

impl PaymentRecorded {
    /// Reads an EventBridge event (the whole envelope, as the rule delivers it).
    /// `serials`: the formats a serial may have (billing names legacy serials too).
    pub fn from_event(event: &Value, today: NaiveDate, serials: &SerialFormats) -> Result<Self, PaymentRejection> {
        let malformed = |what: &str| PaymentRejection::Malformed(what.to_string());
        if event.get("source").and_then(Value::as_str) != Some(BILLING_SOURCE) {
            return Err(malformed("source must be \"billing\""));
        }
        if event.get("detail-type").and_then(Value::as_str) != Some(PAYMENT_RECORDED) {
            return Err(malformed("detail-type must be \"PaymentRecorded\""));
        }
        let detail = event.get("detail").filter(|d| d.is_object()).ok_or_else(|| malformed("detail is missing"))?;
        let field = |name: &str| {
            detail
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| PaymentRejection::Malformed(format!("detail.{name} must be a string")))
        };
        let payment_id = PaymentId::parse(field("payment_id")?)?;
        let serial =
            serials.parse(field("serial")?).map_err(|e| PaymentRejection::Malformed(format!("detail.serial: {e}")))?;
        let paid_through = NaiveDate::parse_from_str(field("paid_through")?, "%Y-%m-%d")
            .map_err(|_| malformed("detail.paid_through must be a date YYYY-MM-DD"))?;
        let limit = today.with_year(today.year() + MAX_YEARS_AHEAD).unwrap_or(NaiveDate::MAX);
        if paid_through > limit {
            return Err(PaymentRejection::Malformed(format!(
                "detail.paid_through {paid_through} is more than {MAX_YEARS_AHEAD} years ahead"
            )));
        }
        Ok(PaymentRecorded { payment_id, serial, paid_through })
    }

    /// The next payment date the serial in force gets: the payment never moves it
    /// backwards. `Err` for a license (checked here as well as by the caller).
    pub fn next_payment_for(&self, target: &Subscription) -> Result<NaiveDate, PaymentRejection> {
        if target.plan == Plan::License {
            return Err(PaymentRejection::License(target.serial.clone()));
        }
        Ok(match target.next_payment_on {
            Some(current) if current >= self.paid_through => current,
            _ => self.paid_through,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, BillingPeriod, SystemCode, Version};
    use serde_json::json;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
    }

    fn event(detail: Value) -> Value {
        json!({"version": "0", "id": "e1", "source": "billing", "detail-type": "PaymentRecorded", "detail": detail})
    }

    fn sub(plan: Plan, next: Option<NaiveDate>) -> Subscription {
        Subscription {
            serial: Serial::generate().unwrap(),
            account: AccountId::generate().unwrap(),
            system: SystemCode::parse("SAE").unwrap(),
            version: Version::parse("8.0").unwrap(),
            users: 1,
            plan,
            billing_period: (plan == Plan::Subscription).then_some(BillingPeriod::Monthly),
            activated_on: None,
            next_payment_on: next,
            valid_until: None,
            upgraded_from: None,
            superseded_by: None,
        }
    }

    #[test]
    fn a_well_formed_payment_is_read_with_its_serial_normalised() {
        let serial = Serial::generate().unwrap();
        let typed = serial.as_str().to_lowercase();
        let p = PaymentRecorded::from_event(
            &event(json!({"payment_id": " P-1 ", "serial": typed, "paid_through": "2027-01-10"})),
            today(),
            &SerialFormats::portal(),
        )
        .unwrap();
        assert_eq!(p.payment_id.as_str(), "P-1");
        assert_eq!(p.serial, serial);
        assert_eq!(p.paid_through, NaiveDate::from_ymd_opt(2027, 1, 10).unwrap());
    }

    #[test]
    fn a_payment_may_name_a_legacy_serial_when_the_format_is_declared() {
        let detail = json!({"payment_id": "P-2", "serial": "sae-0042", "paid_through": "2027-01-10"});
        let legacy = SerialFormats::with_legacy(super::super::LegacyPattern::new("SAE-[0-9]{4}").unwrap());
        let p = PaymentRecorded::from_event(&event(detail.clone()), today(), &legacy).unwrap();
        assert_eq!(p.serial.as_str(), "SAE-0042");
        assert!(p.serial.is_legacy());
        let refused = PaymentRecorded::from_event(&event(detail), today(), &SerialFormats::portal());
        assert!(matches!(refused, Err(PaymentRejection::Malformed(why)) if why.starts_with("detail.serial")));
    }

    #[test]
    fn every_malformed_payment_names_what_is_wrong() {
        let serial = Serial::generate().unwrap().to_string();
        let cases = [
            (json!({"serial": serial, "paid_through": "2027-01-10"}), "payment_id"),
            (json!({"payment_id": "", "serial": serial, "paid_through": "2027-01-10"}), "payment_id"),
            (json!({"payment_id": "P", "serial": "SKSNWR4TQ7", "paid_through": "2027-01-10"}), "serial"),
            (json!({"payment_id": "P", "serial": serial, "paid_through": "10/01/2027"}), "paid_through"),
            (json!({"payment_id": "P", "serial": serial, "paid_through": 20270110}), "paid_through"),
            (json!({"payment_id": "P", "serial": serial, "paid_through": "2040-01-01"}), "years ahead"),
        ];
        for (detail, named) in cases {
            let err =
                PaymentRecorded::from_event(&event(detail.clone()), today(), &SerialFormats::portal()).unwrap_err();
            assert_eq!(err.code(), "malformed", "{detail}");
            assert!(err.to_string().contains(named), "{err} should name {named}");
        }
        let mut wrong_source = event(json!({"payment_id": "P", "serial": serial, "paid_through": "2027-01-10"}));
        wrong_source["source"] = json!("crm");
        assert!(PaymentRecorded::from_event(&wrong_source, today(), &SerialFormats::portal())
            .unwrap_err()
            .to_string()
            .contains("source"));
        assert!(PaymentRecorded::from_event(&json!([1, 2]), today(), &SerialFormats::portal()).is_err());
    }

    #[test]
    fn a_payment_never_moves_the_date_backwards_and_licenses_take_none() {
        let p = PaymentRecorded {
            payment_id: PaymentId::parse("P").unwrap(),
            serial: Serial::generate().unwrap(),
            paid_through: NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
        };
        let earlier = NaiveDate::from_ymd_opt(2026, 11, 10).unwrap();
        let later = NaiveDate::from_ymd_opt(2027, 6, 10).unwrap();
        assert_eq!(p.next_payment_for(&sub(Plan::Subscription, Some(earlier))).unwrap(), p.paid_through);
        assert_eq!(p.next_payment_for(&sub(Plan::Subscription, Some(later))).unwrap(), later);
        assert_eq!(p.next_payment_for(&sub(Plan::Subscription, None)).unwrap(), p.paid_through);
        assert_eq!(p.next_payment_for(&sub(Plan::License, None)).unwrap_err().code(), "license");
    }
}
