//! `POST /serials/{serial}/validate`: the installed desktop program activates and
//! periodically validates its serial. No bearer token: the serial and the account's
//! company name are the credentials, and the check character stops junk before any read.

use chrono::NaiveDate;
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::config::Settings;
use shared::domain::company::same_company;
use shared::domain::{SerialStatus, Subscription};
use shared::http::{json, ApiError, Call, Function, Input, Reply, Route};
use shared::startup::Base;
use shared::store::{DynamoStore, SerialValidation, SubscriptionReader};

pub struct App<S> {
    store: S,
    settings: Settings,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![Route::post("/serials/{serial}/validate", Input::Json, |app, call| Box::pin(app.validate(call)))]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let edge = base.settings.origin_verify_secret.clone();
        Function::new(App { store: base.store, settings: base.settings }, routes()).behind_edge(edge)
    }
}

#[derive(Serialize)]
struct Validation<'a> {
    serial: &'a str,
    system: &'a str,
    version: &'a str,
    users: u32,
    status: SerialStatus,
    valid_until: Option<NaiveDate>,
    activated_on: Option<NaiveDate>,
}

impl<S: SerialValidation + SubscriptionReader> App<S> {
    async fn validate(&self, call: Call) -> Reply {
        let now = call.now;
        let serial = call.serial()?;
        let body = call.body()?;
        let company = body.string("company", 512)?;
        let (mut sub, account) = self.store.serial_with_account(&serial).await?.ok_or(ApiError::NotFound)?;
        if !same_company(company, &account.company) {
            return Err(ApiError::CompanyMismatch);
        }
        let today = self.settings.today(now);
        let status = sub.status(today);
        if sub.activated_on.is_none() && usable(status) {
            if self.store.activate(&sub, today).await? {
                tracing::info!(serial = %sub.serial, "serial activated");
                sub.activated_on = Some(today);
            } else {
                // Another validation activated it a moment ago: report its date.
                sub = self.reread(&sub).await?;
            }
        }
        json(
            StatusCode::OK,
            &Validation {
                serial: sub.serial.as_str(),
                system: sub.system.as_str(),
                version: sub.version.as_str(),
                users: sub.users,
                status,
                valid_until: sub.valid_until,
                activated_on: sub.activated_on,
            },
        )
    }

    async fn reread(&self, sub: &Subscription) -> Result<Subscription, ApiError> {
        self.store.subscription(&sub.account, &sub.serial).await?.ok_or(ApiError::NotFound)
    }
}

/// The program may run: activation happens only then.
fn usable(status: SerialStatus) -> bool {
    matches!(status, SerialStatus::Active | SerialStatus::Superseded)
}
