//! What the `account` tests share: the function on a fresh table, requests made from the
//! fixtures under `events/` (from any client address), and answers checked against
//! `openapi.yaml`.

#![allow(dead_code)] // each test binary uses its own part

use account::App;
use lambda_http::Request;
use serde_json::Value;

use shared::domain::Account;
use shared::http::Function;
use shared::store::DynamoStore;
use shared::testing::{checked, fixture_text, json_of, TestEnv};

pub type AccountFn = Function<App<DynamoStore>>;

pub const PASSWORD: &str = "Comercial-2026";
pub const NEW_PASSWORD: &str = "ñandú pirata ñoño volcán";
/// The fixtures' client address.
pub const HOME: &str = "203.0.113.10";
/// Failed attempts that lock a client out of an account.
pub const MAX_ATTEMPTS: u32 = shared::store::MAX_FAILED_LOGINS;

pub struct World {
    pub env: TestEnv,
    pub app: AccountFn,
    pub ana: Account,
    /// A bearer token of Ana's, made from HOME.
    pub token: String,
}

pub async fn world() -> World {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let (token, _) = env.session_from(&ana, HOME, "Mozilla/5.0 PortalFixture/1.0", chrono::Duration::zero()).await;
    let app = App::build(env.base());
    World { env, app, ana, token }
}

/// The fixture `name` with `vars`, as a client at `ip` sends it.
pub fn request_from(name: &str, vars: &[(&str, &str)], ip: &str) -> Request {
    let mut event: Value = serde_json::from_str(&fixture_text(name, vars)).unwrap();
    event["requestContext"]["http"]["sourceIp"] = ip.into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
    pub text: String,
}

/// The function's answer, checked against the contract.
pub async fn send(app: &AccountFn, req: Request) -> Answer {
    let res = checked(req, |r| app.handle(r)).await;
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    let text = match res.body() {
        lambda_http::Body::Text(t) => t.clone(),
        _ => String::new(),
    };
    Answer { status: res.status().as_u16(), body: json_of(&res), retry_after, text }
}

pub async fn ask(app: &AccountFn, name: &str, vars: &[(&str, &str)]) -> Answer {
    send(app, request_from(name, vars, HOME)).await
}
