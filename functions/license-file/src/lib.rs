//! `POST /subscriptions/{serial}/license-file`: the offline activation file of a machine
//! that cannot reach the vendor. The customer, logged in on the page, types the
//! installation code the desktop program shows and gets the same signed document a
//! validation answers (a compact JWS over the serial's facts), naming that installation,
//! as `<serial>.lic`. The program checks it with the published keys, offline.
//!
//! Only for the caller's own serials that may run (`active`, `superseded`): 404 for any
//! other serial (never 403), 409 for an expired or inactive one.

use chrono::{DateTime, NaiveDate, Utc};
use lambda_http::http::StatusCode;
use serde::Serialize;

use shared::auth::{authenticate, authenticate_with_serial, token_account};
use shared::config::Settings;
use shared::domain::SerialStatus;
use shared::http::{json, ApiError, Call, Function, Input, JsonBody, Reply, Route, MAX_FIELD_BYTES};
use shared::license::{KeySource, KeySourceError, LicenseClaims};
use shared::startup::Base;
use shared::store::{DynamoStore, SerialSessions, Sessions};
use shared::zone::Zone;

/// The installation code, in characters once trimmed.
pub const MAX_INSTALLATION_CHARS: usize = 128;

pub struct App<S> {
    store: S,
    settings: Settings,
    keys: KeySource,
}

/// The function's routes, declared once (see `login::routes`).
pub fn routes() -> Vec<Route<App<DynamoStore>>> {
    vec![Route::post("/subscriptions/{serial}/license-file", Input::Json, |app, call| Box::pin(app.license_file(call)))]
}

impl App<DynamoStore> {
    pub fn build(base: Base) -> Function<Self> {
        let edge = base.settings.origin_verify_secret.clone();
        let keys = base.signing_keys();
        Function::new(App { store: base.store, settings: base.settings, keys }, routes()).behind_edge(edge)
    }
}

#[derive(Serialize)]
struct LicenseFile {
    file_name: String,
    license: String,
    expires_on: NaiveDate,
}

fn key_error(e: KeySourceError) -> ApiError {
    match e {
        KeySourceError::Unavailable(why) => ApiError::Unavailable(why),
        KeySourceError::Unusable(why) => ApiError::Internal(why),
    }
}

/// The `installation` field: trimmed, 1 to [`MAX_INSTALLATION_CHARS`] characters, no
/// control characters (a code copied with a line break or a tab is refused, not kept).
pub fn installation(body: &JsonBody) -> Result<String, ApiError> {
    let raw = body.string("installation", MAX_FIELD_BYTES)?;
    let code = raw.trim();
    if code.is_empty() {
        return Err(ApiError::InvalidRequest("installation: must not be empty".into()));
    }
    if code.chars().count() > MAX_INSTALLATION_CHARS {
        return Err(ApiError::InvalidRequest(format!(
            "installation: must be at most {MAX_INSTALLATION_CHARS} characters"
        )));
    }
    if code.chars().any(char::is_control) {
        return Err(ApiError::InvalidRequest("installation: must not contain control characters".into()));
    }
    Ok(code.to_string())
}

/// The last day a license stands, in `zone`: the day of its last second before `exp`. A
/// license of a serial whose next validation is 10 December stands until the end of that
/// day (`exp` is the next midnight), so its file says 10 December.
pub fn last_day(exp: i64, zone: &Zone) -> Option<NaiveDate> {
    DateTime::<Utc>::from_timestamp(exp - 1, 0).map(|t| zone.date_of(t))
}

impl<S: Sessions + SerialSessions> App<S> {
    async fn license_file(&self, call: Call) -> Reply {
        let now = call.now;
        // A mistyped serial is answered before any store read, the session's included.
        let serial = call.serial(&self.settings.serials)?;
        // A bearer that cannot be one of ours costs no read either, and is answered before
        // the body; one that can names its account, whose serial and profile are read in
        // the session check's BatchGetItem.
        token_account(&call)?;
        let code = match installation(call.body()?) {
            Ok(code) => code,
            Err(refusal) => {
                // The session first, as on every bearer route; then the field.
                authenticate(&self.store, &self.settings, &call, now).await?;
                return Err(refusal);
            }
        };
        let (auth, ring) =
            tokio::join!(authenticate_with_serial(&self.store, &self.settings, &call, &serial, now), self.keys.ring(),);
        // Nothing read is used, or shown, unless the session is alive.
        let (_, profile, sub) = auth?;
        let sub = sub.ok_or(ApiError::NotFound)?;
        let account = profile.account;
        let status = sub.status(self.settings.today(now));
        match status {
            SerialStatus::Active | SerialStatus::Superseded => {}
            SerialStatus::Expired => return Err(ApiError::SubscriptionExpired),
            SerialStatus::Inactive => return Err(ApiError::NotActive),
        }
        let ring = ring.map_err(key_error)?;
        let zone = &self.settings.time_zone;
        let claims = LicenseClaims::of(&sub, status, &account.company, None, Some(code), now, zone);
        let license = ring.sign(&claims).map_err(|e| ApiError::Internal(e.to_string()))?;
        let expires_on =
            last_day(claims.exp, zone).ok_or_else(|| ApiError::Internal(format!("exp {} is no date", claims.exp)))?;
        tracing::info!(serial = %sub.serial, %expires_on, "license file issued");
        shared::metrics::count("LicenseFiles", 1);
        json(StatusCode::CREATED, &LicenseFile { file_name: format!("{}.lic", sub.serial), license, expires_on })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: &str) -> JsonBody {
        JsonBody::from_bytes(json.as_bytes()).unwrap()
    }

    fn refusal(json: &str) -> String {
        installation(&body(json)).unwrap_err().to_string()
    }

    #[test]
    fn an_installation_code_is_trimmed_and_bounded_in_characters() {
        assert_eq!(installation(&body(r#"{"installation": "  AB12-CD34 \n"}"#)).unwrap(), "AB12-CD34");
        let longest = "ñ".repeat(MAX_INSTALLATION_CHARS);
        let padded = format!(r#"{{"installation": "  {longest}  "}}"#);
        assert_eq!(installation(&body(&padded)).unwrap(), longest, "128 characters, though 256 bytes");
        let over = format!(r#"{{"installation": "{}"}}"#, "x".repeat(MAX_INSTALLATION_CHARS + 1));
        assert_eq!(refusal(&over), "invalid request: installation: must be at most 128 characters");
        assert_eq!(refusal(r#"{"installation": "   "}"#), "invalid request: installation: must not be empty");
        assert_eq!(refusal(r#"{"installation": ""}"#), "invalid request: installation: must not be empty");
        assert_eq!(refusal(r#"{}"#), "invalid request: installation: is required");
        assert_eq!(refusal(r#"{"installation": 42}"#), "invalid request: installation: must be a string");
        for bad in [r#""AB\tCD""#, r#""AB\nCD""#, r#""AB\u0000CD""#, r#""AB\u007fCD""#, r#""AB\u0085CD""#] {
            let text = format!(r#"{{"installation": {bad}}}"#);
            assert_eq!(refusal(&text), "invalid request: installation: must not contain control characters", "{bad}");
        }
    }

    #[test]
    fn a_file_stands_until_the_last_day_before_its_exp() {
        let tz = Zone::mexico_city();
        // The end of 10 December in Mexico City (UTC-6).
        let end_of_day: DateTime<Utc> = "2026-12-11T06:00:00Z".parse().unwrap();
        assert_eq!(last_day(end_of_day.timestamp(), &tz), Some("2026-12-10".parse().unwrap()));
        // Thirty days from an afternoon: that day.
        let capped: DateTime<Utc> = "2026-12-31T18:00:00Z".parse().unwrap();
        assert_eq!(last_day(capped.timestamp(), &tz), Some("2026-12-31".parse().unwrap()));
        // Late evening in Mexico City is already the next day in UTC.
        let evening: DateTime<Utc> = "2027-01-01T03:00:00Z".parse().unwrap();
        assert_eq!(last_day(evening.timestamp(), &tz), Some("2026-12-31".parse().unwrap()));
    }
}
