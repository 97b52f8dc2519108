//! Signed answers for the desktop programs: a validation answer (and an offline license
//! file) carries `license`, a compact JWS signed with EdDSA over Ed25519 whose payload
//! holds the answer's facts; the public keys are published as a JWKS. Any JOSE library
//! verifies one with the JWKS alone (`verifier/` is ours).

mod keys;
mod source;

use crate::zone::Zone;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::domain::{Plan, SerialStatus, Subscription};

pub use keys::{KeyRing, LicenseKeyError, SigningKey, RETIRED_KEY_DAYS};
pub use source::{read_ring, write_ring, KeySource, KeySourceError, KEY_REFRESH};

/// The issuer every license names.
pub const ISSUER: &str = "serial-portal";
/// The longest a signed answer stands before the program must validate again.
pub const MAX_VALIDITY_DAYS: i64 = 30;

/// The facts a license states, as its JWS payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LicenseClaims {
    pub iss: &'static str,
    pub serial: String,
    pub system: String,
    pub version: String,
    pub users: u32,
    pub status: SerialStatus,
    pub valid_until: Option<NaiveDate>,
    pub next_payment_on: Option<NaiveDate>,
    /// The company as registered on the account.
    pub company: String,
    pub nonce: Option<String>,
    /// Only in offline license files: the installation it was issued for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installation: Option<String>,
    pub iat: i64,
    pub exp: i64,
}

impl LicenseClaims {
    /// The license of `sub` as it stands at `now`.
    pub fn of(
        sub: &Subscription,
        status: SerialStatus,
        company: &str,
        nonce: Option<String>,
        installation: Option<String>,
        now: DateTime<Utc>,
        zone: &Zone,
    ) -> Self {
        LicenseClaims {
            iss: ISSUER,
            serial: sub.serial.to_string(),
            system: sub.system.to_string(),
            version: sub.version.to_string(),
            users: sub.users,
            status,
            valid_until: sub.valid_until,
            next_payment_on: sub.next_payment_on,
            company: company.to_string(),
            nonce,
            installation,
            iat: now.timestamp(),
            exp: expiry(sub, status, now, zone).timestamp(),
        }
    }
}

/// When the program must validate again: at the end of the serial's next validation day
/// (its next payment, or its last day of use once superseded), never more than
/// [`MAX_VALIDITY_DAYS`] away; a license's answer stands those 30 days. An answer that
/// says stop (expired, inactive) stands a day, so a renewal is seen the next day.
pub fn expiry(sub: &Subscription, status: SerialStatus, now: DateTime<Utc>, zone: &Zone) -> DateTime<Utc> {
    let cap = now + Duration::days(MAX_VALIDITY_DAYS);
    let end_of = |day: NaiveDate| -> DateTime<Utc> {
        let next = day.succ_opt().unwrap_or(day).and_hms_opt(0, 0, 0).unwrap_or_default();
        zone.earliest(next).unwrap_or(cap)
    };
    let until = match (status, sub.plan) {
        (SerialStatus::Expired | SerialStatus::Inactive, _) => return now + Duration::days(1),
        (SerialStatus::Superseded, _) => sub.valid_until.map(end_of),
        (SerialStatus::Active, Plan::License) => None,
        (SerialStatus::Active, Plan::Subscription) => sub.next_payment_on.map(end_of),
    };
    until.map_or(cap, |u| u.min(cap))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AccountId, BillingPeriod, Serial, SystemCode, Version};

    fn sub(plan: Plan, next: Option<&str>, valid_until: Option<&str>) -> Subscription {
        Subscription {
            serial: Serial::generate().unwrap(),
            account: AccountId::generate().unwrap(),
            system: SystemCode::parse("SAE").unwrap(),
            version: Version::parse("8.0").unwrap(),
            users: 2,
            plan,
            billing_period: (plan == Plan::Subscription).then_some(BillingPeriod::Monthly),
            activated_on: None,
            next_payment_on: next.map(|d| d.parse().unwrap()),
            valid_until: valid_until.map(|d| d.parse().unwrap()),
            upgraded_from: None,
            superseded_by: None,
        }
    }

    #[test]
    fn an_answer_stands_until_the_next_validation_day_at_most_thirty_days() {
        let tz = &Zone::mexico_city();
        let now: DateTime<Utc> = "2026-12-01T18:00:00Z".parse().unwrap();
        let s = sub(Plan::Subscription, Some("2026-12-10"), None);
        // The end of 10 December in Mexico City (UTC-6) is 11 December 06:00 UTC.
        let want: DateTime<Utc> = "2026-12-11T06:00:00Z".parse().unwrap();
        assert_eq!(expiry(&s, SerialStatus::Active, now, tz), want);
        let far = sub(Plan::Subscription, Some("2027-06-01"), None);
        assert_eq!(expiry(&far, SerialStatus::Active, now, tz), now + Duration::days(30), "capped");
        let license = sub(Plan::License, None, None);
        assert_eq!(expiry(&license, SerialStatus::Active, now, tz), now + Duration::days(30));
        let old = sub(Plan::Subscription, Some("2026-12-10"), Some("2026-12-05"));
        let want: DateTime<Utc> = "2026-12-06T06:00:00Z".parse().unwrap();
        assert_eq!(expiry(&old, SerialStatus::Superseded, now, tz), want, "its last day of use");
        assert_eq!(expiry(&s, SerialStatus::Expired, now, tz), now + Duration::days(1));
        assert_eq!(expiry(&old, SerialStatus::Inactive, now, tz), now + Duration::days(1));
    }

    #[test]
    fn claims_hold_the_answers_facts() {
        let tz = &Zone::mexico_city();
        let now: DateTime<Utc> = "2026-12-01T18:00:00Z".parse().unwrap();
        let s = sub(Plan::Subscription, Some("2026-12-10"), None);
        let c = LicenseClaims::of(&s, SerialStatus::Active, "Comercial Ruiz", Some("n-1".into()), None, now, tz);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["iss"], "serial-portal");
        assert_eq!(v["serial"], s.serial.as_str());
        assert_eq!((v["users"].as_u64(), v["status"].as_str()), (Some(2), Some("active")));
        assert_eq!((v["nonce"].as_str(), v["company"].as_str()), (Some("n-1"), Some("Comercial Ruiz")));
        assert!(v.get("installation").is_none(), "only license files name an installation");
        assert_eq!(v["iat"], now.timestamp());
    }
}
