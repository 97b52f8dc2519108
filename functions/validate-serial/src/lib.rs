//! `POST /serials/{serial}/validate`: the installed desktop program activates and
//! periodically validates its serial. No bearer token: the serial and the account's
//! company name are the credentials, and the check character stops junk before any read.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde::Serialize;

use shared::config::Settings;
use shared::domain::company::same_company;
use shared::domain::{SerialStatus, Subscription};
use shared::http::{json, path_serial, preflight, require_method, route_path, within_deadline, ApiError, JsonBody};
use shared::store::{SerialValidation, SubscriptionReader};

pub struct App<S> {
    pub store: S,
    pub settings: Settings,
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
    pub async fn handle(&self, req: Request) -> Response<Body> {
        if let Some(res) = preflight(&req) {
            return res;
        }
        within_deadline(&req, self.route(&req, Utc::now())).await
    }

    async fn route(&self, req: &Request, now: DateTime<Utc>) -> Result<Response<Body>, ApiError> {
        let path = route_path(req);
        let segments: Vec<&str> = path.split('/').collect();
        if !matches!(segments.as_slice(), ["", "serials", _, "validate"]) {
            return Err(ApiError::RouteNotFound);
        }
        require_method(req, Method::POST, "POST")?;
        let serial = path_serial(req, "serials")?;
        let body = JsonBody::parse(req)?;
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
                system: &sub.system,
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
