//! The serial portal's shared crate: the pure domain, the DynamoDB store, SES v2 mail,
//! HTTP helpers, settings and logging, used by every Lambda function and `portal-admin`.

pub mod auth;
pub mod aws;
pub mod catalog;
pub mod config;
pub mod domain;
pub mod events;
pub mod http;
pub mod license;
pub mod mail;
pub mod outbox;
pub mod payments;
pub mod sealing;
pub mod second_factor;
pub mod startup;
pub mod store;
pub mod telemetry;
pub mod view;

#[cfg(feature = "testing")]
pub mod testing;
