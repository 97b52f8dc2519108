//! Subscriptions and licenses, their status derived from stored facts and today's date,
//! and the free upgrade to a product's new major version.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::account::AccountId;
use super::product::{Product, SystemCode, Terms};
use super::serial::Serial;
use super::version::Version;

/// How a system was sold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plan {
    /// Rented, paid every billing period.
    Subscription,
    /// Bought once; upgrading it is a purchase, outside this portal.
    License,
}

/// How often a subscription is paid. Licenses have none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BillingPeriod {
    Monthly,
    Semiannual,
    Annual,
}

impl Plan {
    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Subscription => "subscription",
            Plan::License => "license",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "subscription" => Some(Plan::Subscription),
            "license" => Some(Plan::License),
            _ => None,
        }
    }
}

impl BillingPeriod {
    pub fn as_str(self) -> &'static str {
        match self {
            BillingPeriod::Monthly => "monthly",
            BillingPeriod::Semiannual => "semiannual",
            BillingPeriod::Annual => "annual",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "monthly" => Some(BillingPeriod::Monthly),
            "semiannual" => Some(BillingPeriod::Semiannual),
            "annual" => Some(BillingPeriod::Annual),
            _ => None,
        }
    }
}

/// Status of a serial, never stored: derived at read time (docs/product.md, "Statuses").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SerialStatus {
    Active,
    Expired,
    Superseded,
    Inactive,
}

impl SerialStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SerialStatus::Active => "active",
            SerialStatus::Expired => "expired",
            SerialStatus::Superseded => "superseded",
            SerialStatus::Inactive => "inactive",
        }
    }
}

/// One sold system with its electronic serial number: a subscription or a license.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub serial: Serial,
    /// The owner's account.
    pub account: AccountId,
    pub system: SystemCode,
    pub version: Version,
    pub users: u32,
    pub plan: Plan,
    pub billing_period: Option<BillingPeriod>,
    /// Set by the desktop program's first successful validation.
    pub activated_on: Option<NaiveDate>,
    /// Licenses are never billed again.
    pub next_payment_on: Option<NaiveDate>,
    /// For an upgraded serial: the last day the old version may be used.
    pub valid_until: Option<NaiveDate>,
    pub upgraded_from: Option<Serial>,
    pub superseded_by: Option<Serial>,
}

impl Subscription {
    pub fn status(&self, today: NaiveDate) -> SerialStatus {
        if self.superseded_by.is_some() {
            return match self.valid_until {
                Some(until) if today <= until => SerialStatus::Superseded,
                _ => SerialStatus::Inactive,
            };
        }
        match (self.plan, self.next_payment_on) {
            (Plan::License, _) => SerialStatus::Active,
            (Plan::Subscription, Some(next)) if next >= today => SerialStatus::Active,
            (Plan::Subscription, _) => SerialStatus::Expired,
        }
    }

    /// What the customer is offered for this serial today.
    pub fn upgrade_offer<'p>(&self, product: Option<&'p Product>, today: NaiveDate) -> UpgradeOffer<'p> {
        match self.upgrade_check(product, today) {
            Ok(product) => UpgradeOffer::Available { to_version: &product.latest_version, terms: &product.terms },
            Err(refusal) => UpgradeOffer::Unavailable(refusal.offer_reason()),
        }
    }

    /// The rules of a free upgrade, in the order the customer should hear them.
    fn upgrade_check<'p>(&self, product: Option<&'p Product>, today: NaiveDate) -> Result<&'p Product, UpgradeRefusal> {
        match self.status(today) {
            SerialStatus::Superseded => return Err(UpgradeRefusal::AlreadyUpgraded),
            SerialStatus::Inactive => return Err(UpgradeRefusal::NotActive),
            SerialStatus::Active | SerialStatus::Expired => {}
        }
        if self.plan == Plan::License {
            return Err(UpgradeRefusal::PurchaseRequired);
        }
        if self.status(today) == SerialStatus::Expired {
            return Err(UpgradeRefusal::SubscriptionExpired);
        }
        match product {
            Some(p) if p.latest_version > self.version => Ok(p),
            _ => Err(UpgradeRefusal::LatestVersion),
        }
    }

    /// Decides an upgrade request. On success returns the new serial's subscription and
    /// the old one as it must be stored (superseded, usable until its next validation).
    pub fn upgrade(
        &self,
        product: Option<&Product>,
        acceptance: &TermsAcceptance,
        new_serial: Serial,
        today: NaiveDate,
    ) -> Result<Upgrade, UpgradeRefusal> {
        let product = self.upgrade_check(product, today)?;
        if !acceptance.accepted || acceptance.terms_version != product.terms.version {
            return Err(UpgradeRefusal::TermsNotAccepted { current: product.terms.version.clone() });
        }
        let new = Subscription {
            serial: new_serial.clone(),
            account: self.account.clone(),
            system: self.system.clone(),
            version: product.latest_version.clone(),
            users: self.users,
            plan: self.plan,
            billing_period: self.billing_period,
            activated_on: None,
            next_payment_on: self.next_payment_on,
            valid_until: None,
            upgraded_from: Some(self.serial.clone()),
            superseded_by: None,
        };
        let mut previous = self.clone();
        previous.superseded_by = Some(new_serial);
        // The old version keeps working until its next validation, then only the new one.
        previous.valid_until = self.next_payment_on;
        Ok(Upgrade { new, previous })
    }
}

/// The customer's answer to the upgrade terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsAcceptance {
    pub accepted: bool,
    pub terms_version: String,
}

/// The two serials after an upgrade, as they are committed together.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    pub new: Subscription,
    pub previous: Subscription,
}

/// Why an upgrade is not done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpgradeRefusal {
    #[error("this serial was already upgraded")]
    AlreadyUpgraded,
    #[error("this serial is inactive: it was upgraded and its last day of use has passed")]
    NotActive,
    #[error("licenses are upgraded by purchase, not for free")]
    PurchaseRequired,
    #[error("the subscription was not renewed")]
    SubscriptionExpired,
    #[error("this serial is already on the latest version")]
    LatestVersion,
    #[error("the current terms ({current}) must be accepted")]
    TermsNotAccepted { current: String },
}

impl UpgradeRefusal {
    fn offer_reason(&self) -> NoUpgradeReason {
        match self {
            UpgradeRefusal::AlreadyUpgraded => NoUpgradeReason::Superseded,
            UpgradeRefusal::NotActive => NoUpgradeReason::Inactive,
            UpgradeRefusal::PurchaseRequired => NoUpgradeReason::PurchaseRequired,
            UpgradeRefusal::SubscriptionExpired => NoUpgradeReason::Expired,
            UpgradeRefusal::LatestVersion | UpgradeRefusal::TermsNotAccepted { .. } => NoUpgradeReason::LatestVersion,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoUpgradeReason {
    LatestVersion,
    PurchaseRequired,
    Expired,
    Superseded,
    Inactive,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpgradeOffer<'p> {
    Available { to_version: &'p Version, terms: &'p Terms },
    Unavailable(NoUpgradeReason),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn sae() -> Product {
        Product {
            system: SystemCode::parse("SAE").unwrap(),
            name: "Aspel SAE".into(),
            latest_version: Version::parse("8.0").unwrap(),
            terms: Terms { version: "2022-10".into(), text: "Términos".into() },
        }
    }

    fn sub(next: &str) -> Subscription {
        Subscription {
            serial: Serial::generate().unwrap(),
            account: AccountId::generate().unwrap(),
            system: SystemCode::parse("SAE").unwrap(),
            version: Version::parse("7.0").unwrap(),
            users: 3,
            plan: Plan::Subscription,
            billing_period: Some(BillingPeriod::Monthly),
            activated_on: Some(d("2022-02-10")),
            next_payment_on: Some(d(next)),
            valid_until: None,
            upgraded_from: None,
            superseded_by: None,
        }
    }

    fn accept(v: &str) -> TermsAcceptance {
        TermsAcceptance { accepted: true, terms_version: v.into() }
    }

    #[test]
    fn status_follows_the_table_of_statuses() {
        let today = d("2026-11-27");
        assert_eq!(sub("2026-11-27").status(today), SerialStatus::Active, "due today is still active");
        assert_eq!(sub("2026-11-26").status(today), SerialStatus::Expired);
        let mut license = sub("2020-01-01");
        license.plan = Plan::License;
        license.next_payment_on = None;
        license.billing_period = None;
        assert_eq!(license.status(today), SerialStatus::Active);
        let mut old = sub("2026-12-10");
        old.superseded_by = Some(Serial::generate().unwrap());
        old.valid_until = Some(d("2026-11-27"));
        assert_eq!(old.status(today), SerialStatus::Superseded, "usable through its last day");
        assert_eq!(old.status(d("2026-11-28")), SerialStatus::Inactive);
    }

    #[test]
    fn upgrade_keeps_billing_and_supersedes_until_next_validation() {
        let today = d("2026-11-27");
        let old = sub("2026-12-10");
        let new_serial = Serial::generate().unwrap();
        let up = old.upgrade(Some(&sae()), &accept("2022-10"), new_serial.clone(), today).unwrap();
        assert_eq!(up.new.serial, new_serial);
        assert_eq!(up.new.version.as_str(), "8.0");
        assert_eq!(up.new.users, 3);
        assert_eq!(up.new.billing_period, Some(BillingPeriod::Monthly));
        assert_eq!(up.new.next_payment_on, Some(d("2026-12-10")));
        assert_eq!(up.new.activated_on, None);
        assert_eq!(up.new.upgraded_from.as_ref(), Some(&old.serial));
        assert_eq!(up.previous.superseded_by, Some(new_serial));
        assert_eq!(up.previous.valid_until, Some(d("2026-12-10")));
        assert_eq!(up.previous.status(today), SerialStatus::Superseded);
        assert_eq!(up.new.status(today), SerialStatus::Active);
    }

    #[test]
    fn refusals_come_in_the_contract_order() {
        let today = d("2026-11-27");
        let p = sae();
        let serial = || Serial::generate().unwrap();
        let mut license = sub("2026-12-10");
        license.plan = Plan::License;
        license.version = Version::parse("8.0").unwrap();
        assert_eq!(license.upgrade(Some(&p), &accept("x"), serial(), today), Err(UpgradeRefusal::PurchaseRequired));
        let mut expired_latest = sub("2026-01-01");
        expired_latest.version = Version::parse("8.0").unwrap();
        assert_eq!(
            expired_latest.upgrade(Some(&p), &accept("x"), serial(), today),
            Err(UpgradeRefusal::SubscriptionExpired)
        );
        let mut latest = sub("2026-12-10");
        latest.version = Version::parse("8.0").unwrap();
        assert_eq!(latest.upgrade(Some(&p), &accept("x"), serial(), today), Err(UpgradeRefusal::LatestVersion));
        assert_eq!(
            sub("2026-12-10").upgrade(None, &accept("2022-10"), serial(), today),
            Err(UpgradeRefusal::LatestVersion)
        );
        let stale = sub("2026-12-10").upgrade(Some(&p), &accept("2021-01"), serial(), today);
        assert_eq!(stale, Err(UpgradeRefusal::TermsNotAccepted { current: "2022-10".into() }));
        let refused = TermsAcceptance { accepted: false, terms_version: "2022-10".into() };
        assert!(matches!(
            sub("2026-12-10").upgrade(Some(&p), &refused, serial(), today),
            Err(UpgradeRefusal::TermsNotAccepted { .. })
        ));
        let mut inactive = sub("2026-10-01");
        inactive.superseded_by = Some(serial());
        inactive.valid_until = Some(d("2026-10-01"));
        assert_eq!(inactive.upgrade(Some(&p), &accept("2022-10"), serial(), today), Err(UpgradeRefusal::NotActive));
        inactive.valid_until = Some(d("2026-12-01"));
        assert_eq!(
            inactive.upgrade(Some(&p), &accept("2022-10"), serial(), today),
            Err(UpgradeRefusal::AlreadyUpgraded)
        );
    }

    #[test]
    fn offers_name_their_reason() {
        let today = d("2026-11-27");
        let p = sae();
        match sub("2026-12-10").upgrade_offer(Some(&p), today) {
            UpgradeOffer::Available { to_version, terms } => {
                assert_eq!(to_version.as_str(), "8.0");
                assert_eq!(terms.version, "2022-10");
            }
            other => panic!("expected an offer, got {other:?}"),
        }
        assert_eq!(
            sub("2026-01-01").upgrade_offer(Some(&p), today),
            UpgradeOffer::Unavailable(NoUpgradeReason::Expired)
        );
        let mut license = sub("2026-12-10");
        license.plan = Plan::License;
        assert_eq!(
            license.upgrade_offer(Some(&p), today),
            UpgradeOffer::Unavailable(NoUpgradeReason::PurchaseRequired)
        );
        let mut newer = sub("2026-12-10");
        newer.version = Version::parse("10.0").unwrap();
        assert_eq!(newer.upgrade_offer(Some(&p), today), UpgradeOffer::Unavailable(NoUpgradeReason::LatestVersion));
    }
}
