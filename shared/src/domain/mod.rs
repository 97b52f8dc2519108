//! The portal's domain, free of AWS: every rule here is unit-tested without a network.

pub mod account;
pub mod company;
pub mod email;
pub mod email_change;
pub mod password;
pub mod payment;
pub mod product;
pub mod serial;
pub mod subscription;
pub mod token;
pub mod totp;
pub mod version;

pub use account::{Account, AccountId, Credentials};
pub use email::Email;
pub use payment::{PaymentId, PaymentRecorded, PaymentRejection, BILLING_SOURCE, PAYMENT_RECORDED};
pub use product::{Catalog, Product, SystemCode, Terms};
pub use serial::{Serial, SerialError};
pub use subscription::{
    BillingPeriod, NoUpgradeReason, Plan, SerialStatus, Subscription, TermsAcceptance, Upgrade, UpgradeOffer,
    UpgradeRefusal,
};
pub use version::Version;
