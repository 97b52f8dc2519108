//! `POST /serials/{serial}/validate` and `GET /.well-known/jwks.json`: the installed desktop
//! program activates and periodically validates its serial, and gets a signed answer it
//! can trust (a compact JWS over the answer's facts, checked with the published keys).
//! No bearer token: the serial and the account's company name are the credentials; the
//! check character stops junk before any read, and company guesses are bounded per serial
//! and client address.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::{header, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use shared::config::Settings;
use shared::domain::company::same_company;
use shared::domain::{SerialStatus, Subscription};
use shared::events::{PendingEvent, PortalEvent};
use shared::http::{json, ApiError, Call, Function, Input, Reply, Route};
use shared::license::{KeySource, KeySourceError, LicenseClaims};
use shared::metrics;
use shared::startup::Base;
use shared::store::{DynamoStore, SerialValidation, SubscriptionReader, ValidationFacts, MAX_COMPANY_MISMATCHES};

/// The nonce a program may send, echoed in the answer and inside its license.
const MAX_NONCE: usize = 64;
/// How long a client may cache the published keys.
const JWKS_MAX_AGE_SECS: u32 = 300;

pub struct App<S> {
    store: S,
    settings: Settings,
    keys: KeySource,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![
        Route::post("/serials/{serial}/validate", Input::Json, |app, call| Box::pin(app.validate(call))),
        Route::get("/.well-known/jwks.json", |app, _call| Box::pin(app.jwks())),
    ]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let edge = base.settings.origin_verify_secret.clone();
        let keys = base.signing_keys();
        Function::new(App { store: base.store, settings: base.settings, keys }, routes()).behind_edge(edge)
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
    next_payment_on: Option<NaiveDate>,
    issued_at: String,
    nonce: Option<&'a str>,
    license: String,
}

fn key_error(e: KeySourceError) -> ApiError {
    match e {
        KeySourceError::Unavailable(why) => ApiError::Unavailable(why),
        KeySourceError::Unusable(why) => ApiError::Internal(why),
    }
}

/// Seconds until the clock hour of `now` is over.
fn rest_of_hour(now: DateTime<Utc>) -> u64 {
    3600 - now.timestamp().rem_euclid(3600) as u64
}

impl<S: SerialValidation + SubscriptionReader> App<S> {
    async fn validate(&self, call: Call) -> Reply {
        let now = call.now;
        let serial = call.serial(&self.settings.serials)?;
        let body = call.body()?;
        let company = body.string("company", 512)?;
        let nonce = body.optional_string("nonce", MAX_NONCE)?;
        let client = call.caller.source_ip.as_str();
        // The keys are read (first use) alongside the store, not after it.
        let (facts, ring) = tokio::join!(self.store.validation_facts(&serial, client, now), self.keys.ring());
        let Some(ValidationFacts { subscription: mut sub, company: registered, mismatches_this_hour }) = facts? else {
            validation_metric("not_found");
            return Err(ApiError::NotFound);
        };
        if mismatches_this_hour >= MAX_COMPANY_MISMATCHES {
            validation_metric("too_many_attempts");
            return Err(ApiError::TooManyAttempts { retry_after_secs: rest_of_hour(now) });
        }
        if !same_company(company, &registered) {
            let count = self.store.count_company_mismatch(&serial, client, now).await?;
            tracing::info!(serial = %serial, client, mismatches_this_hour = count, "company mismatch");
            validation_metric("company_mismatch");
            return Err(ApiError::CompanyMismatch);
        }
        let ring = ring.map_err(key_error)?;
        let today = self.settings.today(now);
        let status = sub.status(today);
        if sub.activated_on.is_none() && usable(status) {
            let event = PendingEvent::new(&PortalEvent::activated(&sub, today), now);
            if self.store.activate(&sub, today, &event).await? {
                tracing::info!(serial = %sub.serial, "serial activated");
                metrics::count("Activations", 1);
                // Its `SerialActivated` event, committed with it, leaves through the
                // table's stream: the program never waits on the bus.
                sub.activated_on = Some(today);
            } else {
                // Another validation activated it a moment ago: report its date.
                sub = self.reread(&sub).await?;
            }
        }
        let claims = LicenseClaims::of(
            &sub,
            status,
            &registered,
            nonce.map(str::to_string),
            None,
            now,
            &self.settings.time_zone,
        );
        let license = ring.sign(&claims).map_err(|e| ApiError::Internal(e.to_string()))?;
        validation_metric(status.as_str());
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
                next_payment_on: sub.next_payment_on,
                issued_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                nonce,
                license,
            },
        )
    }

    /// The public keys in force and the retired ones still needed, cacheable for a while.
    async fn jwks(&self) -> Reply {
        let ring = self.keys.ring().await.map_err(key_error)?;
        let jwks = ring.jwks().map_err(|e| ApiError::Internal(e.to_string()))?;
        let body = serde_json::to_string(&jwks).map_err(|e| ApiError::Internal(e.to_string()))?;
        Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::CACHE_CONTROL, format!("public, max-age={JWKS_MAX_AGE_SECS}"))
            .body(Body::Text(body))
            .map_err(|e| ApiError::Internal(e.to_string()))
    }

    async fn reread(&self, sub: &Subscription) -> Result<Subscription, ApiError> {
        self.store.subscription(&sub.account, &sub.serial).await?.ok_or(ApiError::NotFound)
    }
}

/// One validation answered, by the status it told (a serial's status, or the refusal).
fn validation_metric(status: &str) {
    metrics::count_by("Validations", "Status", status, 1);
}

/// The program may run: activation happens only then.
fn usable(status: SerialStatus) -> bool {
    matches!(status, SerialStatus::Active | SerialStatus::Superseded)
}
