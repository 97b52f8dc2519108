//! The one entry point of every HTTP function. A function declares its routes once (method,
//! path as API Gateway's route key has it, handler, whether it reads a JSON body); this
//! module does the rest for all of them: CORS preflight, finding the route (from the
//! gateway's route key, or from the path under `cargo lambda watch`), 405 with an `Allow`
//! built from the table, path parameters by name, the body, the bearer and the caller,
//! the deadline, and problem+json for every error.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};
use lambda_http::http::{header, Method};
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use super::body::{query_choice, truncate, JsonBody, MAX_FIELD_BYTES};
use super::response::no_content;
use super::ApiError;
use crate::domain::{Serial, SerialFormats};

pub type Reply = Result<Response<Body>, ApiError>;
pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Reply> + Send + 'a>>;
/// A route's handler: the function's state and the request, already read.
pub type Handler<A> = for<'a> fn(&'a A, Call) -> HandlerFuture<'a>;

/// What a route reads before its handler runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Nothing,
    /// A JSON object body: malformed, too big or missing is answered here.
    Json,
}

/// One row of a function's route table.
pub struct Route<A> {
    pub method: Method,
    /// The path of API Gateway's route key, e.g. `/subscriptions/{serial}/upgrade`.
    pub path: &'static str,
    pub input: Input,
    handler: Handler<A>,
}

impl<A> Route<A> {
    pub fn get(path: &'static str, handler: Handler<A>) -> Self {
        Route { method: Method::GET, path, input: Input::Nothing, handler }
    }

    pub fn post(path: &'static str, input: Input, handler: Handler<A>) -> Self {
        Route { method: Method::POST, path, input, handler }
    }

    pub fn delete(path: &'static str, input: Input, handler: Handler<A>) -> Self {
        Route { method: Method::DELETE, path, input, handler }
    }

    /// API Gateway's route key: `POST /login`.
    pub fn key(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// The client that made a request, as the gateway saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub source_ip: String,
    pub user_agent: String,
}

/// A request as a handler receives it: matched, its parts read.
pub struct Call {
    pub now: DateTime<Utc>,
    pub caller: Caller,
    params: Vec<(&'static str, String)>,
    bearer: Option<String>,
    body: Option<JsonBody>,
    request: Request,
}

impl Call {
    /// A path parameter of the route, by its name in the route's path.
    pub fn param(&self, name: &str) -> Result<&str, ApiError> {
        self.params.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str()).ok_or(ApiError::RouteNotFound)
    }

    /// The `{serial}` path parameter, parsed in one of `formats` (the function's settings);
    /// a mistyped one is 400 before any store read.
    pub fn serial(&self, formats: &SerialFormats) -> Result<Serial, ApiError> {
        parse_serial(self.param("serial")?, formats)
    }

    /// The bearer token, or 401 `unauthorized`.
    pub fn bearer(&self) -> Result<&str, ApiError> {
        self.bearer.as_deref().ok_or(ApiError::Unauthorized)
    }

    /// The JSON body of a route declared with [`Input::Json`].
    pub fn body(&self) -> Result<&JsonBody, ApiError> {
        self.body.as_ref().ok_or_else(|| ApiError::Internal("the route reads no body".into()))
    }

    /// A query parameter with a closed set of values.
    pub fn query<T>(
        &self,
        name: &str,
        parse: impl Fn(&str) -> Option<T>,
        allowed: &str,
    ) -> Result<Option<T>, ApiError> {
        query_choice(&self.request, name, parse, allowed)
    }
}

pub fn parse_serial(raw: &str, formats: &SerialFormats) -> Result<Serial, ApiError> {
    if raw.len() > 64 {
        return Err(ApiError::InvalidRequest("serial: too long to be a serial number".into()));
    }
    formats.parse(raw).map_err(|e| ApiError::InvalidRequest(format!("serial: {e}")))
}

/// A function: its state and its route table, built once per cold start.
pub struct Function<A> {
    app: A,
    routes: Vec<Route<A>>,
    edge_secret: Option<String>,
}

impl<A: Sync> Function<A> {
    pub fn new(app: A, routes: Vec<Route<A>>) -> Self {
        Function { app, routes, edge_secret: None }
    }

    /// Requests that carry `secret` in `X-Origin-Verify` came through CloudFront: their
    /// client is the edge's `True-Client-IP`, not the gateway's source (the edge itself).
    pub fn behind_edge(mut self, secret: Option<String>) -> Self {
        self.edge_secret = secret;
        self
    }

    pub fn app(&self) -> &A {
        &self.app
    }

    pub fn routes(&self) -> &[Route<A>] {
        &self.routes
    }

    /// Answers one request; never fails (every error is a problem+json response).
    pub async fn handle(&self, req: Request) -> Response<Body> {
        // A CORS preflight reaching a route's ANY catch-all: an empty 204, to which API
        // Gateway adds the configured CORS headers.
        if req.method() == Method::OPTIONS {
            return respond(no_content());
        }
        let budget = budget(&req);
        let (route, call) = match self.read(req) {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        };
        // Each store call has its own SDK timeout, but a store that answers every call just
        // under it would run a request of several calls past the function's timeout.
        // Stopping at any await point is safe: every multi-item write is one transaction,
        // and mail waits in the outbox.
        match tokio::time::timeout(budget, (route.handler)(&self.app, call)).await {
            Ok(result) => respond(result),
            Err(_) => {
                ApiError::Unavailable(format!("no answer within the request's budget of {budget:?}")).into_response()
            }
        }
    }

    /// The route `req` asks for and the request read for its handler.
    fn read(&self, req: Request) -> Result<(&Route<A>, Call), ApiError> {
        let path = route_path(&req);
        // Behind API Gateway the route key names the route; under `cargo lambda watch` it
        // is "$default" and the path decides.
        let keyed = gateway_route_key(&req).and_then(|k| k.split_once(' ').map(|(_, p)| p.to_string()));
        let pattern = match keyed.as_deref().filter(|p| self.routes.iter().any(|r| r.path == *p)) {
            Some(p) => p,
            None => self
                .routes
                .iter()
                .find(|r| match_path(r.path, &path).is_some())
                .map(|r| r.path)
                .ok_or(ApiError::RouteNotFound)?,
        };
        let same_path = || self.routes.iter().filter(move |r| r.path == pattern);
        let Some(route) = same_path().find(|r| r.method == req.method()) else {
            let allowed: Vec<String> = same_path().map(|r| r.method.to_string()).collect();
            return Err(ApiError::MethodNotAllowed { allowed: allowed.join(", ") });
        };
        let params = path_params(&req, route.path, &path);
        let body = match route.input {
            Input::Json => {
                // Only JSON: a form or text/plain post from another site would need no CORS
                // preflight; refusing it makes every cross-origin post preflighted.
                if !body_is_empty(&req) && !is_json(&req) {
                    return Err(ApiError::UnsupportedMediaType);
                }
                Some(JsonBody::parse(&req)?)
            }
            Input::Nothing => None,
        };
        let call = Call {
            now: Utc::now(),
            caller: caller(&req, self.edge_secret.as_deref()),
            params,
            bearer: bearer(&req),
            body,
            request: req,
        };
        Ok((route, call))
    }
}

/// Serves `function` on the Lambda runtime until the runtime stops.
pub async fn serve<A: Sync>(function: Function<A>) -> Result<(), lambda_http::Error> {
    let function = &function;
    lambda_http::run(lambda_http::service_fn(move |req: Request| async move {
        Ok::<_, lambda_http::Error>(function.handle(req).await)
    }))
    .await
}

fn respond(result: Reply) -> Response<Body> {
    result.unwrap_or_else(ApiError::into_response)
}

fn gateway_route_key(req: &Request) -> Option<&str> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(ctx)) => {
            ctx.route_key.as_deref().filter(|k| *k != "$default" && !k.is_empty())
        }
        _ => None,
    }
}

/// The path a request asks for, without the `cargo lambda watch` prefix
/// (`/lambda-url/<function>`) or a trailing slash.
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

/// The values of `pattern`'s `{name}` segments in `path`, or `None` if it does not match.
fn match_path(pattern: &'static str, path: &str) -> Option<Vec<(&'static str, String)>> {
    let mut params = Vec::new();
    let mut want = pattern.split('/');
    let mut have = path.split('/');
    loop {
        match (want.next(), have.next()) {
            (None, None) => return Some(params),
            (Some(w), Some(h)) if w.starts_with('{') && w.ends_with('}') && !h.is_empty() => {
                params.push((&w[1..w.len() - 1], percent_decode(h)));
            }
            (Some(w), Some(h)) if w == h => {}
            _ => return None,
        }
    }
}

/// Path parameters by name: API Gateway's `pathParameters` when it filled them in, else
/// read from the path.
fn path_params(req: &Request, pattern: &'static str, path: &str) -> Vec<(&'static str, String)> {
    let from_path = match_path(pattern, path).unwrap_or_default();
    let given = req.path_parameters_ref();
    from_path
        .into_iter()
        .map(|(name, raw)| {
            let value = given.and_then(|p| p.first(name)).map_or(raw, str::to_string);
            (name, value)
        })
        .collect()
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

fn body_is_empty(req: &Request) -> bool {
    match req.body() {
        Body::Empty => true,
        Body::Text(t) => t.is_empty(),
        Body::Binary(b) => b.is_empty(),
        _ => true,
    }
}

/// `Content-Type: application/json`, with or without parameters such as `charset`.
fn is_json(req: &Request) -> bool {
    let Some(value) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

/// The bearer token of the `Authorization` header, if it has the form of one.
fn bearer(req: &Request) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty() && token.len() <= MAX_FIELD_BYTES)
        .then(|| token.to_string())
}

/// Source address and user agent of the caller, as API Gateway saw them; through the
/// edge (the request carries its secret), the address CloudFront saw.
fn caller(req: &Request, edge_secret: Option<&str>) -> Caller {
    let (mut ip, mut agent) = (String::new(), String::new());
    if let Some(RequestContext::ApiGatewayV2(ctx)) = req.request_context_ref() {
        ip = ctx.http.source_ip.clone().unwrap_or_default();
        agent = ctx.http.user_agent.clone().unwrap_or_default();
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let (Some(secret), Some(presented)) = (edge_secret, header("x-origin-verify")) {
        if same_secret(secret, presented) {
            if let Some(client) = header("true-client-ip").map(str::trim).filter(|v| !v.is_empty()) {
                ip = client.to_string();
            }
        }
    }
    if agent.is_empty() {
        agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    }
    Caller { source_ip: truncate(&ip, 64), user_agent: truncate(&agent, 512) }
}

/// Compares without stopping at the first difference, so timing tells nothing of the secret.
fn same_secret(expected: &str, presented: &str) -> bool {
    let (a, b) = (expected.as_bytes(), presented.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn paths_match_route_patterns_and_name_their_parameters() {
        let p = "/subscriptions/{serial}/upgrade";
        assert_eq!(match_path(p, "/subscriptions/AB%20C/upgrade"), Some(vec![("serial", "AB C".to_string())]));
        assert_eq!(match_path(p, "/subscriptions//upgrade"), None);
        assert_eq!(match_path(p, "/subscriptions/X/upgrade/more"), None);
        assert_eq!(match_path("/login", "/login"), Some(vec![]));
        assert_eq!(match_path("/login", "/logout"), None);
    }

    struct Demo;

    fn demo_routes() -> Vec<Route<Demo>> {
        fn hello(_: &Demo, call: Call) -> HandlerFuture<'_> {
            Box::pin(async move {
                let who = call.param("name")?.to_string();
                super::super::response::json(lambda_http::http::StatusCode::OK, &serde_json::json!({ "hello": who }))
            })
        }
        vec![Route::get("/hello/{name}", hello), Route::post("/hello/{name}", Input::Json, hello)]
    }

    fn request(method: &str, uri: &str, body: &str) -> Request {
        typed(method, uri, body, "application/json; charset=utf-8")
    }

    fn typed(method: &str, uri: &str, body: &str, content_type: &str) -> Request {
        let mut req = Request::new(Body::Text(body.to_string()));
        *req.method_mut() = method.parse().unwrap();
        *req.uri_mut() = uri.parse().unwrap();
        req.headers_mut().insert(header::CONTENT_TYPE, content_type.parse().unwrap());
        req
    }

    #[test]
    fn the_client_is_the_edges_only_with_the_edges_secret() {
        let mut req = request("GET", "/hello/ana", "");
        req.headers_mut().insert("true-client-ip", "198.51.100.9".parse().unwrap());
        req.headers_mut().insert(header::USER_AGENT, "agent/1".parse().unwrap());
        assert_eq!(caller(&req, None).source_ip, "", "no edge configured: the header is the client's word");
        assert_eq!(caller(&req, Some("s3cret")).source_ip, "", "no secret presented");
        req.headers_mut().insert("x-origin-verify", "wrong!".parse().unwrap());
        assert_eq!(caller(&req, Some("s3cret")).source_ip, "", "a wrong secret");
        req.headers_mut().insert("x-origin-verify", "s3cret".parse().unwrap());
        assert_eq!(caller(&req, Some("s3cret")).source_ip, "198.51.100.9");
        assert_eq!(caller(&req, Some("s3cret")).user_agent, "agent/1");
    }

    #[tokio::test]
    async fn one_table_answers_routes_methods_and_bodies() {
        let f = Function::new(Demo, demo_routes());
        let res = f.handle(request("GET", "/lambda-url/demo/hello/ana", "")).await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.body(), &Body::Text(r#"{"hello":"ana"}"#.into()));
        let res = f.handle(request("DELETE", "/hello/ana", "")).await;
        assert_eq!((res.status().as_u16(), &res.headers()[header::ALLOW]), (405, &"GET, POST".parse().unwrap()));
        assert_eq!(f.handle(request("GET", "/nowhere", "")).await.status(), 404);
        assert_eq!(f.handle(request("POST", "/hello/ana", "[")).await.status(), 400, "a malformed body");
        assert_eq!(f.handle(request("POST", "/hello/ana", "{}")).await.status(), 200);
        assert_eq!(f.handle(request("OPTIONS", "/hello/ana", "")).await.status(), 204, "preflight");
        for other in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", ""] {
            let res = f.handle(typed("POST", "/hello/ana", "{}", other)).await;
            assert_eq!(res.status(), 415, "{other:?}");
        }
        assert_eq!(f.handle(typed("POST", "/hello/ana", "{}", "Application/JSON")).await.status(), 200);
    }
}
