//! HTTP glue shared by every function: problem+json errors (the one place where a domain
//! or store error becomes a status and a `code`), JSON bodies, bearer tokens and paths.

use std::future::Future;
use std::time::{Duration, SystemTime};

use lambda_http::http::{header, HeaderValue, Method, StatusCode};
use lambda_http::{Body, Request, RequestExt, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::domain::{Serial, SerialError, UpgradeRefusal};
use crate::mail::MailError;
use crate::store::StoreError;

/// Bodies above this size are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// E-mails, passwords and tokens above this length are refused before any work.
pub const MAX_FIELD_BYTES: usize = 1024;
/// What a client should wait before retrying a 503, in seconds.
pub const RETRY_AFTER_UNAVAILABLE: u64 = 5;

/// Every error a client can see. Internals stay in the log.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("payload too large")]
    PayloadTooLarge,
    #[error("method not allowed")]
    MethodNotAllowed { allowed: &'static str },
    #[error("not found")]
    RouteNotFound,
    #[error("invalid or expired reset token")]
    InvalidToken,
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("unauthorized")]
    Unauthorized,
    #[error("company mismatch")]
    CompanyMismatch,
    #[error("serial not found")]
    NotFound,
    #[error("no upgrade available")]
    NoUpgradeAvailable,
    #[error("purchase required")]
    PurchaseRequired,
    #[error("subscription expired")]
    SubscriptionExpired,
    #[error("not active")]
    NotActive,
    #[error("terms not accepted")]
    TermsNotAccepted { current: String },
    #[error("weak password: {0}")]
    WeakPassword(String),
    #[error("account locked")]
    AccountLocked { retry_after_secs: u64 },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        use ApiError::*;
        match self {
            InvalidRequest(_) | InvalidToken => StatusCode::BAD_REQUEST,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            RouteNotFound | NotFound => StatusCode::NOT_FOUND,
            InvalidCredentials | Unauthorized => StatusCode::UNAUTHORIZED,
            CompanyMismatch => StatusCode::FORBIDDEN,
            NoUpgradeAvailable | PurchaseRequired | SubscriptionExpired | NotActive => StatusCode::CONFLICT,
            TermsNotAccepted { .. } | WeakPassword(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AccountLocked { .. } => StatusCode::TOO_MANY_REQUESTS,
            Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable key clients match on.
    pub fn code(&self) -> &'static str {
        use ApiError::*;
        match self {
            InvalidRequest(_) => "invalid_request",
            PayloadTooLarge => "payload_too_large",
            MethodNotAllowed { .. } => "method_not_allowed",
            RouteNotFound | NotFound => "not_found",
            InvalidToken => "invalid_token",
            InvalidCredentials => "invalid_credentials",
            Unauthorized => "unauthorized",
            CompanyMismatch => "company_mismatch",
            NoUpgradeAvailable => "no_upgrade_available",
            PurchaseRequired => "purchase_required",
            SubscriptionExpired => "subscription_expired",
            NotActive => "not_active",
            TermsNotAccepted { .. } => "terms_not_accepted",
            WeakPassword(_) => "weak_password",
            AccountLocked { .. } => "account_locked",
            Unavailable(_) => "unavailable",
            Internal(_) => "internal_error",
        }
    }

    fn title(&self) -> &'static str {
        use ApiError::*;
        match self {
            InvalidRequest(_) => "Invalid request",
            PayloadTooLarge => "Payload too large",
            MethodNotAllowed { .. } => "Method not allowed",
            RouteNotFound => "Route not found",
            NotFound => "Serial not found",
            InvalidToken => "Invalid reset token",
            InvalidCredentials => "Invalid credentials",
            Unauthorized => "Unauthorized",
            CompanyMismatch => "Company mismatch",
            NoUpgradeAvailable => "No upgrade available",
            PurchaseRequired => "Purchase required",
            SubscriptionExpired => "Subscription expired",
            NotActive => "Serial not active",
            TermsNotAccepted { .. } => "Terms not accepted",
            WeakPassword(_) => "Weak password",
            AccountLocked { .. } => "Account locked",
            Unavailable(_) => "Service unavailable",
            Internal(_) => "Internal error",
        }
    }

    /// A sentence for people; never holds internals.
    fn detail(&self) -> String {
        use ApiError::*;
        match self {
            InvalidRequest(why) => why.clone(),
            PayloadTooLarge => format!("The request body is larger than {MAX_BODY_BYTES} bytes."),
            MethodNotAllowed { allowed } => format!("This route answers {allowed} only."),
            RouteNotFound => "There is no such route.".into(),
            NotFound => "No serial with that number belongs to this account.".into(),
            InvalidToken => "The reset link is unknown, expired or already used. Ask for a new one.".into(),
            InvalidCredentials => "The e-mail or the password is wrong.".into(),
            Unauthorized => "Log in again: the session is missing, expired or closed.".into(),
            CompanyMismatch => "The company name does not match the one registered on the account.".into(),
            NoUpgradeAvailable => "This serial is already on the latest version.".into(),
            PurchaseRequired => "Licenses are upgraded by purchase; contact your distributor.".into(),
            SubscriptionExpired => "The subscription was not renewed; renew it to upgrade.".into(),
            NotActive => "This serial is inactive: it was upgraded and its last day of use has passed.".into(),
            TermsNotAccepted { current } => {
                format!("Accept the current upgrade terms (version {current}) to continue.")
            }
            WeakPassword(why) => why.clone(),
            AccountLocked { retry_after_secs } => format!(
                "Too many failed attempts: the account is locked for {} more minutes.",
                retry_after_secs.div_ceil(60)
            ),
            Unavailable(_) => "The service is busy right now. Try again in a few seconds.".into(),
            Internal(_) => "Something went wrong on our side. Try again later.".into(),
        }
    }

    fn retry_after(&self) -> Option<u64> {
        match self {
            ApiError::AccountLocked { retry_after_secs } => Some(*retry_after_secs),
            ApiError::Unavailable(_) => Some(RETRY_AFTER_UNAVAILABLE),
            _ => None,
        }
    }

    /// The problem+json response. Server-side failures are logged here, once.
    pub fn into_response(self) -> Response<Body> {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(code = self.code(), error = %self, "request failed");
        } else {
            tracing::info!(code = self.code(), status = status.as_u16(), "request refused");
        }
        let problem = Problem {
            kind: format!("https://serial-portal.dev/problems/{}", self.code().replace('_', "-")),
            title: self.title(),
            status: status.as_u16(),
            detail: self.detail(),
            code: self.code(),
            terms_version: match &self {
                ApiError::TermsNotAccepted { current } => Some(current.as_str()),
                _ => None,
            },
        };
        let body = serde_json::to_string(&problem).unwrap_or_else(|_| format!("{{\"code\":\"{}\"}}", self.code()));
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
            res.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allowed));
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
    detail: String,
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

/// Turns a handler's result into the response Lambda returns.
pub fn respond(result: Result<Response<Body>, ApiError>) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

/// How long before the function's own deadline a request gives up with a 503: the
/// caller then gets our answer (problem+json, `Retry-After`), not the gateway's timeout.
pub const DEADLINE_MARGIN: Duration = Duration::from_millis(500);
/// The budget of a request that carries no Lambda deadline (tests).
pub const DEFAULT_BUDGET: Duration = Duration::from_millis(5500);

/// A deadline further in the past than this is no real one: `cargo lambda watch` sends a
/// fixed `Lambda-Runtime-Deadline-Ms` of 600000, ten minutes after the epoch.
pub const STALE_DEADLINE: Duration = Duration::from_secs(24 * 3600);

/// The time `req` may still take: until its Lambda deadline less [`DEADLINE_MARGIN`].
pub fn budget(req: &Request) -> Duration {
    let now = SystemTime::now();
    match req.lambda_context_ref().map(|ctx| ctx.deadline()) {
        Some(deadline) if now.duration_since(deadline).map_or(true, |late| late < STALE_DEADLINE) => {
            deadline.duration_since(now).unwrap_or_default().saturating_sub(DEADLINE_MARGIN)
        }
        _ => DEFAULT_BUDGET,
    }
}

/// Runs a handler within the request's [`budget`]. Each store call has its own SDK
/// timeout, but a store that answers every call slowly (just under that timeout) would
/// otherwise run a request of several calls past the function's timeout. Stopping at any
/// await point is safe: every multi-item write is one transaction, and mail waits in the
/// outbox.
pub async fn within_deadline(
    req: &Request,
    handler: impl Future<Output = Result<Response<Body>, ApiError>>,
) -> Response<Body> {
    let budget = budget(req);
    match tokio::time::timeout(budget, handler).await {
        Ok(result) => respond(result),
        Err(_) => ApiError::Unavailable(format!("no answer within the request's budget of {budget:?}")).into_response(),
    }
}

/// A JSON response.
pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Result<Response<Body>, ApiError> {
    let body = serde_json::to_string(value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Text(body))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

pub fn no_content() -> Result<Response<Body>, ApiError> {
    Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::Empty)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The route a request asks for, without the `cargo lambda watch` prefix
/// (`/lambda-url/<function>`) or an API stage.
pub fn route_path(req: &Request) -> String {
    let raw = req.raw_http_path();
    let path = if raw.is_empty() { req.uri().path() } else { raw };
    let path = match path.strip_prefix("/lambda-url/") {
        Some(rest) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => path,
    };
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        "/".to_string()
    } else {
        trimmed.to_string()
    }
}

/// A CORS preflight that reached the function through a route's `ANY` catch-all: an
/// empty 204, to which API Gateway adds the configured CORS headers.
pub fn preflight(req: &Request) -> Option<Response<Body>> {
    (req.method() == Method::OPTIONS).then(|| respond(no_content()))
}

/// Refuses a method the route does not serve.
pub fn require_method(req: &Request, method: Method, allowed: &'static str) -> Result<(), ApiError> {
    if req.method() == method {
        Ok(())
    } else {
        Err(ApiError::MethodNotAllowed { allowed })
    }
}

/// The `{serial}` path parameter: from API Gateway's `pathParameters`, or read from the
/// path itself (`cargo lambda watch` does not fill them in). `before` is the path segment
/// preceding it, e.g. "subscriptions".
pub fn path_serial(req: &Request, before: &str) -> Result<Serial, ApiError> {
    let from_params = req.path_parameters_ref().and_then(|p| p.first("serial")).map(str::to_string);
    let raw = match from_params {
        Some(s) => s,
        None => {
            let path = route_path(req);
            let segments: Vec<&str> = path.split('/').collect();
            let pos = segments.iter().position(|s| *s == before).ok_or(ApiError::RouteNotFound)?;
            segments.get(pos + 1).map(|s| percent_decode(s)).ok_or(ApiError::RouteNotFound)?
        }
    };
    parse_serial(&raw)
}

pub fn parse_serial(raw: &str) -> Result<Serial, ApiError> {
    if raw.len() > 64 {
        return Err(ApiError::InvalidRequest("serial: too long to be a serial number".into()));
    }
    Serial::parse(raw).map_err(|e: SerialError| ApiError::InvalidRequest(format!("serial: {e}")))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(hi), Some(lo)) = (hex_value(bytes[i + 1]), hex_value(bytes[i + 2])) {
                out.push(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_value(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// The bearer token of the `Authorization` header, or 401.
pub fn bearer(req: &Request) -> Result<&str, ApiError> {
    let value = req.headers().get(header::AUTHORIZATION).ok_or(ApiError::Unauthorized)?;
    let value = value.to_str().map_err(|_| ApiError::Unauthorized)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(ApiError::Unauthorized)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized);
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_FIELD_BYTES {
        return Err(ApiError::Unauthorized);
    }
    Ok(token)
}

/// A request's JSON object body, read field by field so every error names its field.
#[derive(Debug)]
pub struct JsonBody(Map<String, Value>);

impl JsonBody {
    pub fn parse(req: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = match req.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        };
        Self::from_bytes(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ApiError> {
        if bytes.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge);
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::InvalidRequest("body: a JSON object is required".into()));
        }
        let value: Value = serde_json::from_slice(bytes)
            .map_err(|e| ApiError::InvalidRequest(format!("body: not valid JSON ({})", json_error_kind(&e))))?;
        match value {
            Value::Object(map) => Ok(JsonBody(map)),
            _ => Err(ApiError::InvalidRequest("body: must be a JSON object".into())),
        }
    }

    /// A required string field of at most `max_bytes`.
    pub fn string(&self, field: &str, max_bytes: usize) -> Result<&str, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(ApiError::InvalidRequest(format!("{field}: is required"))),
            Some(Value::String(s)) if s.len() > max_bytes => {
                Err(ApiError::InvalidRequest(format!("{field}: must be at most {max_bytes} bytes")))
            }
            Some(Value::String(s)) => Ok(s),
            Some(_) => Err(ApiError::InvalidRequest(format!("{field}: must be a string"))),
        }
    }

    /// A required boolean field.
    pub fn boolean(&self, field: &str) -> Result<bool, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Err(ApiError::InvalidRequest(format!("{field}: is required"))),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(ApiError::InvalidRequest(format!("{field}: must be true or false"))),
        }
    }
}

fn json_error_kind(e: &serde_json::Error) -> String {
    format!("line {}, column {}", e.line(), e.column())
}

/// A query parameter with a closed set of values; an unknown value is 400 naming it.
pub fn query_choice<T>(
    req: &Request,
    name: &str,
    parse: impl Fn(&str) -> Option<T>,
    allowed: &str,
) -> Result<Option<T>, ApiError> {
    let params = req.query_string_parameters_ref();
    let Some(values) = params.and_then(|p| p.all(name)) else { return Ok(None) };
    match values.as_slice() {
        [one] => parse(one).map(Some).ok_or_else(|| {
            ApiError::InvalidRequest(format!("{name}: {:?} is not one of {allowed}", truncate(one, 40)))
        }),
        _ => Err(ApiError::InvalidRequest(format!("{name}: give it once"))),
    }
}

fn truncate(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

/// Source IP and user agent of the caller, as API Gateway saw them.
pub fn caller(req: &Request) -> (String, String) {
    use lambda_http::request::RequestContext;
    let (mut ip, mut agent) = (String::new(), String::new());
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        ip = ctx.http.source_ip.clone().unwrap_or_default();
        agent = ctx.http.user_agent.clone().unwrap_or_default();
    }
    if agent.is_empty() {
        agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    }
    (truncate(&ip, 64), truncate(&agent, 512))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_name_the_bad_field() {
        let b = JsonBody::from_bytes(br#"{"email": 5, "ok": true}"#).unwrap();
        assert_eq!(b.string("email", 10).unwrap_err().to_string(), "invalid request: email: must be a string");
        assert_eq!(b.string("password", 10).unwrap_err().to_string(), "invalid request: password: is required");
        assert!(b.boolean("ok").unwrap());
        assert!(matches!(JsonBody::from_bytes(b"[1]"), Err(ApiError::InvalidRequest(_))));
        assert!(matches!(JsonBody::from_bytes(b"{"), Err(ApiError::InvalidRequest(_))));
        assert!(matches!(JsonBody::from_bytes(b""), Err(ApiError::InvalidRequest(_))));
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert!(matches!(JsonBody::from_bytes(&big), Err(ApiError::PayloadTooLarge)));
    }

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
        let res = ApiError::Internal("table portal-prod: ValidationException".into()).into_response();
        let Body::Text(text) = res.body() else { panic!("text body") };
        assert!(!text.contains("portal-prod") && !text.contains("Validation"), "{text}");
    }

    #[test]
    fn the_budget_follows_the_lambda_deadline_unless_it_is_long_gone() {
        let with_deadline = |ms: u64| {
            let mut ctx = lambda_http::Context::default();
            ctx.deadline = ms;
            Request::default().with_lambda_context(ctx)
        };
        let now_ms = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_millis() as u64;
        let b = budget(&with_deadline(now_ms + 3000));
        assert!(b <= Duration::from_millis(2500) && b > Duration::from_millis(2000), "{b:?}");
        assert_eq!(budget(&with_deadline(now_ms - 1000)), Duration::ZERO, "a real deadline just missed");
        // `cargo lambda watch` sends 600000 (1970): no deadline, the default budget.
        assert_eq!(budget(&with_deadline(600_000)), DEFAULT_BUDGET);
        assert_eq!(budget(&Request::default()), DEFAULT_BUDGET);
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("SKS%20NWR"), "SKS NWR");
        assert_eq!(percent_decode("AB%2"), "AB%2");
        assert_eq!(percent_decode("%"), "%");
        assert_eq!(percent_decode("%é1"), "%é1");
    }
}
