//! What every function builds once per cold start, before serving its first request:
//! logging, settings (a bad one stops the function with one clear line), the SDK
//! configuration and the store. Each function's `App::build` takes a [`Base`]; its tests
//! build the same `Base` against the emulators.

use aws_config::SdkConfig;

use crate::config::{MailSettings, Settings};
use crate::mail::Mailer;
use crate::store::DynamoStore;
use crate::telemetry::{fail_start, init};

pub struct Base {
    pub settings: Settings,
    pub sdk: SdkConfig,
    pub store: DynamoStore,
    /// Mail settings and sender given in advance (tests); otherwise read from the
    /// environment by the functions that send mail, and only by them.
    pub mail: Option<(MailSettings, Mailer)>,
}

impl Base {
    /// The mail settings and the SES sender, for the functions that send mail.
    pub fn mail(&self) -> (MailSettings, Mailer) {
        if let Some(given) = &self.mail {
            return given.clone();
        }
        let settings = MailSettings::from_env().unwrap_or_else(|e| fail_start("settings", e));
        let mailer = Mailer::new(crate::aws::sesv2(&self.sdk), &settings.mail_from);
        (settings, mailer)
    }
}

/// Logging, settings, SDK and store from the environment.
pub async fn base() -> Base {
    init();
    let settings = Settings::from_env().unwrap_or_else(|e| fail_start("settings", e));
    let sdk = crate::aws::sdk_config().await;
    let store = DynamoStore::new(crate::aws::dynamodb(&sdk), &settings.table_name);
    Base { settings, sdk, store, mail: None }
}
