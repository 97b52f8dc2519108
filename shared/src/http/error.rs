//! Every error a client can see, and the one place where it becomes problem+json
//! (RFC 9457) with a stable `code`. Internals stay in the log.

use std::borrow::Cow;

use lambda_http::http::{header, HeaderValue, StatusCode};
use lambda_http::{Body, Response};
use serde::Serialize;

use super::body::MAX_BODY_BYTES;
use crate::domain::UpgradeRefusal;
use crate::mail::MailError;
use crate::store::StoreError;

/// What a client should wait before retrying a 503, in seconds.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 5;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("unsupported media type")]
    UnsupportedMediaType,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: String },
    #[error("not found")]
    RouteNotFound,
    #[error("invalid or expired reset token")]
    InvalidToken,
    #[error("invalid or expired second-step token")]
    InvalidMfaToken,
    #[error("invalid or expired e-mail change token")]
    InvalidEmailChangeToken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("invalid code")]
    InvalidCode,
    #[error("unauthorized")]
    Unauthorized,
    #[error("company mismatch")]
    CompanyMismatch,
    #[error("serial not found")]
    NotFound,
    #[error("session not found")]
    SessionNotFound,
    #[error("no upgrade available")]
    NoUpgradeAvailable,
    #[error("purchase required")]
    PurchaseRequired,
    #[error("subscription expired")]
    SubscriptionExpired,
    #[error("not active")]
    NotActive,
    #[error("two-step verification already on")]
    MfaAlreadyEnabled,
    #[error("two-step verification not on")]
    MfaNotEnabled,
    #[error("two-step verification not started")]
    MfaNotStarted,
    #[error("e-mail taken")]
    EmailTaken,
    #[error("terms not accepted")]
    TermsNotAccepted { current: String },
    #[error("weak password: {0}")]
    WeakPassword(String),
    #[error("account locked")]
    AccountLocked { retry_after_secs: u64 },
    #[error("too many attempts")]
    TooManyAttempts { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

/// How one error is answered: status, stable code, title and a sentence for people.
struct Answer<'a> {
    status: u16,
    code: &'static str,
    title: &'static str,
    detail: Cow<'a, str>,
}

fn answer<'a>(status: u16, code: &'static str, title: &'static str, detail: impl Into<Cow<'a, str>>) -> Answer<'a> {
    Answer { status, code, title, detail: detail.into() }
}

impl ApiError {
    /// One declaration per code: everything a client sees of each error.
    fn answer(&self) -> Answer<'_> {
        use ApiError::*;
        match self {
            InvalidRequest(why) => answer(400, "invalid_request", "Invalid request", why.as_str()),
            PayloadTooLarge => answer(
                413,
                "payload_too_large",
                "Payload too large",
                format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            ),
            UnsupportedMediaType => answer(
                415,
                "unsupported_media_type",
                "Unsupported media type",
                "Send the body as JSON, with Content-Type: application/json.",
            ),
            MethodNotAllowed { allowed } => {
                answer(405, "method_not_allowed", "Method not allowed", format!("This route answers {allowed} only."))
            }
            RouteNotFound => answer(404, "not_found", "Route not found", "There is no such route."),
            NotFound => {
                answer(404, "not_found", "Serial not found", "No serial with that number belongs to this account.")
            }
            InvalidToken => answer(
                400,
                "invalid_token",
                "Invalid reset token",
                "The reset link is unknown, expired or already used. Ask for a new one.",
            ),
            InvalidMfaToken => answer(
                400,
                "invalid_token",
                "Invalid second-step token",
                "The login's second step is unknown, expired or already used. Log in again with your password.",
            ),
            InvalidEmailChangeToken => answer(
                400,
                "invalid_token",
                "Invalid e-mail change token",
                "The confirmation link is unknown, expired, already used or replaced by a newer one. Ask again.",
            ),
            InvalidCredentials => {
                answer(401, "invalid_credentials", "Invalid credentials", "The e-mail or the password is wrong.")
            }
            InvalidCode => answer(
                401,
                "invalid_code",
                "Invalid code",
                "The code is wrong or was already used. Use the app's current code or an unused recovery code.",
            ),
            Unauthorized => {
                answer(401, "unauthorized", "Unauthorized", "Log in again: the session is missing, expired or closed.")
            }
            CompanyMismatch => answer(
                403,
                "company_mismatch",
                "Company mismatch",
                "The company name does not match the one registered on the account.",
            ),
            SessionNotFound => {
                answer(404, "not_found", "Session not found", "No open session of this account has that id.")
            }
            MfaAlreadyEnabled => answer(
                409,
                "mfa_already_enabled",
                "Two-step verification is on",
                "Two-step verification is on already; turn it off first to enrol another app.",
            ),
            MfaNotEnabled => {
                answer(409, "mfa_not_enabled", "Two-step verification is off", "Two-step verification is not on.")
            }
            MfaNotStarted => answer(
                409,
                "mfa_not_started",
                "Nothing to confirm",
                "There is no secret to confirm: start two-step verification again.",
            ),
            EmailTaken => answer(
                409,
                "email_taken",
                "E-mail not available",
                "This e-mail address cannot be used for this account.",
            ),
            NoUpgradeAvailable => answer(
                409,
                "no_upgrade_available",
                "No upgrade available",
                "This serial is already on the latest version.",
            ),
            PurchaseRequired => answer(
                409,
                "purchase_required",
                "Purchase required",
                "Licenses are upgraded by purchase; contact your distributor.",
            ),
            SubscriptionExpired => answer(
                409,
                "subscription_expired",
                "Subscription expired",
                "The subscription was not renewed; renew it to upgrade.",
            ),
            NotActive => answer(
                409,
                "not_active",
                "Serial not active",
                "This serial is inactive: it was upgraded and its last day of use has passed.",
            ),
            TermsNotAccepted { current } => answer(
                422,
                "terms_not_accepted",
                "Terms not accepted",
                format!("Accept the current upgrade terms (version {current}) to continue."),
            ),
            WeakPassword(why) => answer(422, "weak_password", "Weak password", why.as_str()),
            AccountLocked { retry_after_secs } => answer(
                429,
                "account_locked",
                "Account locked",
                format!(
                    "Too many failed attempts: the account is locked for {} more minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            ),
            TooManyAttempts { retry_after_secs } => answer(
                429,
                "too_many_attempts",
                "Too many attempts",
                format!(
                    "Too many wrong company names for this serial from this address: try again in {} minutes.",
                    retry_after_secs.div_ceil(60)
                ),
            ),
            Unavailable(_) => answer(
                503,
                "unavailable",
                "Service unavailable",
                "The service is busy right now. Try again in a few seconds.",
            ),
            Internal(_) => {
                answer(500, "internal_error", "Internal error", "Something went wrong on our side. Try again later.")
            }
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.answer().status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The stable key clients match on.
    pub fn code(&self) -> &'static str {
        self.answer().code
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::AccountLocked { retry_after_secs } | ApiError::TooManyAttempts { retry_after_secs } => {
                Some(*retry_after_secs)
            }
            ApiError::Unavailable(_) => Some(RETRY_AFTER_UNAVAILABLE),
            _ => None,
        }
    }

    /// The problem+json response. Server-side failures are logged here, once.
    pub fn into_response(self) -> Response<Body> {
        let a = self.answer();
        let status = StatusCode::from_u16(a.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::error!(code = a.code, error = %self, "request failed");
        } else {
            tracing::info!(code = a.code, status = a.status, "request refused");
        }
        let problem = Problem {
            kind: format!("https://serial-portal.dev/problems/{}", a.code.replace('_', "-")),
            title: a.title,
            status: a.status,
            detail: &a.detail,
            code: a.code,
            terms_version: match &self {
                ApiError::TermsNotAccepted { current } => Some(current.as_str()),
                _ => None,
            },
        };
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", a.code));
        let mut res = Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "application/problem+json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(Body::Text(body))
            .expect("static headers are valid");
        if let Some(secs) = self.retry_after() {
            res.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let ApiError::MethodNotAllowed { allowed } = &self {
            if let Ok(v) = HeaderValue::from_str(allowed) {
                res.headers_mut().insert(header::ALLOW, v);
            }
        }
        res
    }
}

/// RFC 9457 problem details, fields in the contract's order.
#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    terms_version: Option<&'a str>,
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(why) => ApiError::Unavailable(why),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<MailError> for ApiError {
    fn from(e: MailError) -> Self {
        ApiError::Unavailable(e.to_string())
    }
}

impl From<UpgradeRefusal> for ApiError {
    fn from(r: UpgradeRefusal) -> Self {
        match r {
            UpgradeRefusal::PurchaseRequired => ApiError::PurchaseRequired,
            UpgradeRefusal::SubscriptionExpired => ApiError::SubscriptionExpired,
            UpgradeRefusal::NotActive => ApiError::NotActive,
            UpgradeRefusal::LatestVersion => ApiError::NoUpgradeAvailable,
            UpgradeRefusal::TermsNotAccepted { current } => ApiError::TermsNotAccepted { current },
            // Handlers answer a repeat with the stored result before asking the domain.
            UpgradeRefusal::AlreadyUpgraded => ApiError::Internal("repeat upgrade reached the domain".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn problems_carry_code_status_and_retry_after() {
        let res = ApiError::AccountLocked { retry_after_secs: 840 }.into_response();
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()[header::RETRY_AFTER], "840");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/problem+json");
        let Body::Text(text) = res.body() else { panic!("text body") };
        let v: Value = serde_json::from_str(text).unwrap();
        assert_eq!(v["code"], "account_locked");
        assert_eq!(v["status"], 429);
        assert_eq!(v["detail"], "Too many failed attempts: the account is locked for 14 more minutes.");
        let res = ApiError::Internal("table portal-prod: ValidationException".into()).into_response();
        assert_eq!(res.status(), 500);
        let Body::Text(text) = res.body() else { panic!("text body") };
        assert!(!text.contains("portal-prod") && !text.contains("Validation"), "{text}");
    }

    #[test]
    fn a_405_names_the_methods_the_route_answers() {
        let res = ApiError::MethodNotAllowed { allowed: "GET, POST".into() }.into_response();
        assert_eq!(res.status(), 405);
        assert_eq!(res.headers()[header::ALLOW], "GET, POST");
    }
}
