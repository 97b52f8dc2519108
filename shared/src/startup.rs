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
    /// The Secrets Manager secret of the signing keys, given in advance (tests);
    /// otherwise `SIGNING_KEYS_SECRET`, read by the functions that sign, and only by them.
    pub signing_keys_secret: Option<String>,
    /// The event bus, given in advance (tests); otherwise `EVENT_BUS_NAME`, read by the
    /// functions that publish events, and only by them.
    pub event_bus: Option<crate::events::EventBus>,
    /// The Secrets Manager secret of the data key that seals TOTP secrets, given in
    /// advance (tests); otherwise `TOTP_KEY_SECRET`, read by the functions that check
    /// codes, and only by them.
    pub totp_key_secret: Option<String>,
}

impl Base {
    /// The mail settings and the SES sender, for the functions that send mail.
    pub fn mail(&self) -> (MailSettings, Mailer) {
        if let Some(given) = &self.mail {
            return given.clone();
        }
        let settings = MailSettings::from_env().unwrap_or_else(|e| fail_start("settings", e));
        let mailer = Mailer::on_first_use(&self.sdk, &settings.mail_from);
        (settings, mailer)
    }
}

impl Base {
    /// Where the signing keys are read from, for the functions that sign answers.
    pub fn signing_keys(&self) -> crate::license::KeySource {
        let secret = match &self.signing_keys_secret {
            Some(s) => s.clone(),
            None => required_env("SIGNING_KEYS_SECRET"),
        };
        crate::license::KeySource::new(crate::aws::secretsmanager(&self.sdk), secret)
    }
}

impl Base {
    /// Where the data key of the TOTP secrets is read from (on first use).
    pub fn totp_key(&self) -> crate::sealing::DataKeySource {
        let secret = match &self.totp_key_secret {
            Some(s) => s.clone(),
            None => required_env("TOTP_KEY_SECRET"),
        };
        crate::sealing::DataKeySource::new(crate::aws::secretsmanager(&self.sdk), secret)
    }
}

impl Base {
    /// The stack's event bus, for the functions that publish events.
    pub fn events(&self) -> crate::events::EventBus {
        match &self.event_bus {
            Some(given) => given.clone(),
            None => crate::events::EventBus::on_first_use(&self.sdk, required_env("EVENT_BUS_NAME")),
        }
    }
}

/// A setting only some functions need, read when they build: missing, the function stops
/// with one clear line.
pub fn required_env(name: &'static str) -> String {
    std::env::var(name)
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| fail_start("settings", format!("missing required setting {name}")))
}

/// Logging, settings, SDK and store from the environment.
pub async fn base() -> Base {
    init();
    let settings = Settings::from_env().unwrap_or_else(|e| fail_start("settings", e));
    let sdk = crate::aws::sdk_config().await;
    let store = DynamoStore::new(crate::aws::dynamodb(&sdk), &settings.table_name);
    Base { settings, sdk, store, mail: None, signing_keys_secret: None, event_bus: None, totp_key_secret: None }
}
