//! How a serial is shown to its owner (the `Subscription` schema of `openapi.yaml`),
//! shared by the list and the upgrade.

use std::cmp::Ordering;

use chrono::NaiveDate;
use serde::Serialize;

use crate::domain::{
    BillingPeriod, Catalog, NoUpgradeReason, Plan, SerialStatus, Subscription, SystemCode, Terms, UpgradeOffer,
};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SubscriptionView {
    pub serial: String,
    pub system: SystemCode,
    pub system_name: String,
    pub version: String,
    pub users: u32,
    pub plan: Plan,
    pub billing_period: Option<BillingPeriod>,
    pub activated_on: Option<NaiveDate>,
    pub next_payment_on: Option<NaiveDate>,
    pub status: SerialStatus,
    pub valid_until: Option<NaiveDate>,
    pub upgraded_from: Option<String>,
    pub superseded_by: Option<String>,
    pub upgrade: UpgradeView,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(untagged)]
pub enum UpgradeView {
    Available { available: bool, to_version: String, terms: Terms },
    Unavailable { available: bool, reason: NoUpgradeReason },
}

impl SubscriptionView {
    pub fn new(sub: &Subscription, catalog: &Catalog, today: NaiveDate) -> Self {
        let product = catalog.get(&sub.system);
        let upgrade = match sub.upgrade_offer(product, today) {
            UpgradeOffer::Available { to_version, terms } => {
                UpgradeView::Available { available: true, to_version: to_version.to_string(), terms: terms.clone() }
            }
            UpgradeOffer::Unavailable(reason) => UpgradeView::Unavailable { available: false, reason },
        };
        SubscriptionView {
            serial: sub.serial.to_string(),
            system: sub.system.clone(),
            system_name: catalog.display_name(&sub.system).to_string(),
            version: sub.version.to_string(),
            users: sub.users,
            plan: sub.plan,
            billing_period: sub.billing_period,
            activated_on: sub.activated_on,
            next_payment_on: sub.next_payment_on,
            status: sub.status(today),
            valid_until: sub.valid_until,
            upgraded_from: sub.upgraded_from.as_ref().map(ToString::to_string),
            superseded_by: sub.superseded_by.as_ref().map(ToString::to_string),
            upgrade,
        }
    }
}

/// The list's order: system, then version newest first, then serial.
pub fn list_order(a: &Subscription, b: &Subscription) -> Ordering {
    a.system.cmp(&b.system).then_with(|| b.version.cmp(&a.version)).then_with(|| a.serial.cmp(&b.serial))
}
