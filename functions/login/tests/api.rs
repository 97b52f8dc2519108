//! `login` against DynamoDB Local and moto, fed the API Gateway events under `events/`:
//! sessions, and guessing bounded without anyone being able to lock a customer out.

use std::sync::Arc;

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, Response};
use login::App;
use serde_json::Value;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::domain::token::{issue_token, TokenDigest};
use shared::domain::{Account, Email};
use shared::http::Function;
use shared::store::{keys, DynamoStore, LoginClient, ACCOUNT_FAILURES_PER_HOUR, DEVICE_DAYS, MAX_FAILED_LOGINS};
use shared::testing::{checked, fixture, fixture_text, hash_at_older_cost, hasher, json_of, Cost, TestEnv};

type Login = Function<App<DynamoStore>>;

/// The handler's answer to `req`, checked against `openapi.yaml` for its route.
async fn call(function: &Login, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

const PASSWORD: &str = "Comercial-2026";
/// The fixture's client address.
const HOME: &str = "203.0.113.10";

async fn setup() -> (TestEnv, Login, Account) {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let app = App::build(env.base());
    (env, app, ana)
}

/// A login as a client at `ip` makes it, with its device token if it has one.
fn login_request(email: &str, password: &str, ip: &str, device: Option<&str>) -> Request {
    let text = fixture_text("login", &[("EMAIL", email), ("PASSWORD", password)]);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["requestContext"]["http"]["sourceIp"] = ip.into();
    if let Some(device) = device {
        let mut body: Value = serde_json::from_str(event["body"].as_str().unwrap()).unwrap();
        body["device_token"] = device.into();
        event["body"] = body.to_string().into();
    }
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

struct Answer {
    status: u16,
    body: Value,
    retry_after: Option<String>,
}

async fn login_as(app: &Login, email: &str, password: &str, ip: &str, device: Option<&str>) -> Answer {
    let res = call(app, login_request(email, password, ip, device)).await;
    let retry_after = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    Answer { status: res.status().as_u16(), body: json_of(&res), retry_after }
}

async fn login(app: &Login, email: &str, password: &str) -> (u16, Value, Option<String>) {
    let a = login_as(app, email, password, HOME, None).await;
    (a.status, a.body, a.retry_after)
}

/// A device token of the right shape that no login ever gave out.
fn made_up_device() -> String {
    issue_token().unwrap().secret
}

fn device_key(email: &Email, device_token: &str) -> keys::Key {
    keys::login_client(email, &LoginClient::Device(TokenDigest::of(device_token)))
}

#[tokio::test]
async fn login_returns_a_bearer_session_stored_only_as_a_digest_and_a_device_token() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let typed = format!("  {}  ", email.to_uppercase());
    let (status, body, _) = login(&app, &typed, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["account"]["email"], email.as_str());
    assert_eq!(body["account"]["company"], "Comercial Ruiz SA de CV");
    let token = body["token"].as_str().unwrap();
    assert!(token.len() >= 22, "at least 128 bits");
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    let hours = (expires - Utc::now()).num_minutes() as f64 / 60.0;
    assert!((11.9..=12.0).contains(&hours), "SESSION_TTL_HOURS default 12, got {hours}");
    let session = env.session_of_token(token, Utc::now()).await.expect("session stored");
    assert_eq!(session.account, ana.id);
    assert_eq!(session.source_ip, HOME, "the caller recorded with the session");
    assert!(session.user_agent.contains("PortalFixture/1.0"));
    assert!(env.session_of_token("x", Utc::now()).await.is_none());
    let device = body["device_token"].as_str().expect("a device token");
    let again = login_as(&app, &email, PASSWORD, HOME, Some(device)).await;
    assert_eq!(
        (again.status, again.body["device_token"].as_str()),
        (200, Some(device)),
        "a known device keeps its token"
    );
}

#[tokio::test]
async fn a_login_waits_on_the_store_twice_besides_the_hash() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let two = Cost { calls: 3, round_trips: 2 };

    let before = env.calls.now();
    let first = login_as(&app, &email, PASSWORD, HOME, None).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(env.calls.since(before), two, "the read and the attempt together, then one transaction");
    let device = first.body["device_token"].as_str().unwrap();
    let before = env.calls.now();
    assert_eq!(login_as(&app, &email, PASSWORD, HOME, Some(device)).await.status, 200);
    assert_eq!(env.calls.since(before), two, "from a known device alike");

    let before = env.calls.now();
    assert_eq!(login(&app, &email, "not-the-password").await.0, 401);
    let wrong = env.calls.since(before);
    assert_eq!(wrong, two, "a wrong password: the read and the attempt, then the hour's count");
    let before = env.calls.now();
    assert_eq!(login(&app, env.email("nobody").as_str(), "not-the-password").await.0, 401);
    assert_eq!(env.calls.since(before), wrong, "an unknown e-mail costs what a wrong password costs");

    // Only a made-up (or expired) device token costs one more: its address's attempt.
    let before = env.calls.now();
    let bogus = login_as(&app, &email, "not-the-password", HOME, Some(&made_up_device())).await;
    assert_eq!(bogus.status, 401);
    assert_eq!(env.calls.since(before), Cost { calls: 4, round_trips: 3 });
}

#[tokio::test]
async fn a_hash_at_an_older_cost_is_stored_again_at_the_current_one_by_the_login_that_checks_it() {
    use shared::store::Logins;
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let older = hash_at_older_cost(PASSWORD);
    env.set_attribute(&keys::login_item(&ana.email), "password_hash", AttributeValue::S(older.clone())).await;
    let stored = || async { env.store.credentials(&ana.email).await.unwrap().unwrap() };
    let epoch = stored().await.password_epoch;

    // A wrong password renews nothing.
    assert_eq!(login(&app, &email, "not-the-password").await.0, 401);
    assert_eq!(stored().await.password_hash.as_deref(), Some(older.as_str()));

    let before = env.calls.now();
    let (status, body, _) = login(&app, &email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        env.calls.since(before),
        Cost { calls: 4, round_trips: 2 },
        "the renewal goes out with the login's transaction"
    );
    let renewed = stored().await;
    let hash = renewed.password_hash.as_deref().unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=12288,t=3,p=1$"), "{hash}");
    assert!(hasher().verify(PASSWORD, hash), "the same password");
    assert_eq!(renewed.password_epoch, epoch, "no session dies of it");
    let token = body["token"].as_str().unwrap();
    assert!(env.session_of_token(token, Utc::now()).await.is_some());

    // From then on a login costs what it did.
    let before = env.calls.now();
    assert_eq!(login(&app, &email, PASSWORD).await.0, 200);
    assert_eq!(env.calls.since(before), Cost { calls: 3, round_trips: 2 });
    assert_eq!(stored().await.password_hash.as_deref(), Some(hash), "renewed once");
}

#[tokio::test]
async fn a_renewal_never_overwrites_a_password_changed_meanwhile() {
    use shared::store::Logins;
    let (env, _app, ana) = setup().await;
    let older = hash_at_older_cost(PASSWORD);
    env.set_attribute(&keys::login_item(&ana.email), "password_hash", AttributeValue::S(older.clone())).await;
    let changed = hasher().hash("Otra-contrasena-2026").unwrap();
    env.set_attribute(&keys::login_item(&ana.email), "password_hash", AttributeValue::S(changed.clone())).await;
    let renewed = hasher().hash(PASSWORD).unwrap();
    assert!(!env.store.renew_password_hash(&ana.email, &older, &renewed).await.unwrap());
    let now = env.store.credentials(&ana.email).await.unwrap().unwrap();
    assert_eq!(now.password_hash.as_deref(), Some(changed.as_str()), "the new password stays");
    let nobody = env.email("nobody");
    assert!(!env.store.renew_password_hash(&nobody, &older, &renewed).await.unwrap());
    assert!(env.store.credentials(&nobody).await.unwrap().is_none(), "no login item is made");
}

#[tokio::test]
async fn a_session_dies_after_the_idle_limit() {
    let (env, app, ana) = setup().await;
    let (_, body, _) = login(&app, ana.email.as_str(), PASSWORD).await;
    let token = body["token"].as_str().unwrap();
    let idle = Duration::minutes(i64::from(env.settings.session_idle_minutes));
    assert!(env.session_of_token(token, Utc::now() + idle - Duration::minutes(1)).await.is_some());
    assert!(env.session_of_token(token, Utc::now() + idle + Duration::minutes(1)).await.is_none(), "idle too long");
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let nobody = env.email("nobody").to_string();
    let (s1, b1, _) = login(&app, &email, "not-the-password").await;
    let (s2, b2, _) = login(&app, &nobody, "not-the-password").await;
    let (s3, b3, _) = login(&app, "not an email", "not-the-password").await;
    assert_eq!((s1, s2, s3), (401, 401, 401));
    assert_eq!(b1["code"], "invalid_credentials");
    assert_eq!(b1, b2);
    assert_eq!(b1, b3);
    // The same work, store calls and round trips included.
    let before = env.calls.now();
    login(&app, &email, "not-the-password").await;
    let wrong = env.calls.since(before);
    let before = env.calls.now();
    login(&app, &nobody, "not-the-password").await;
    assert_eq!(env.calls.since(before), wrong, "unknown e-mail and wrong password cost the same calls");
    // And locked alike: five failures from one address, then 429 for both.
    for _ in 0..MAX_FAILED_LOGINS - 2 {
        login(&app, &email, "not-the-password").await;
        login(&app, &nobody, "not-the-password").await;
    }
    let (known, _, known_retry) = login(&app, &email, "not-the-password").await;
    let (unknown, _, unknown_retry) = login(&app, &nobody, "not-the-password").await;
    assert_eq!((known, unknown), (429, 429));
    assert_eq!(known_retry.is_some(), unknown_retry.is_some());
}

#[tokio::test]
async fn five_failures_lock_that_client_even_for_the_right_password_and_no_other() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let attacker = "198.51.100.7";
    let (a, metrics) = shared::metrics::captured(async {
        for i in 0..MAX_FAILED_LOGINS {
            let a = login_as(&app, &email, "not-the-password", attacker, None).await;
            assert_eq!(a.status, 401, "attempt {i}: {}", a.body);
        }
        let a = login_as(&app, &email, PASSWORD, attacker, None).await;
        // The owner, from another address, is not locked out.
        assert_eq!(login_as(&app, &email, PASSWORD, HOME, None).await.status, 200);
        a
    })
    .await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("account_locked")), "{}", a.body);
    let retry: i64 = a.retry_after.expect("Retry-After").parse().unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    // One metric line per login, by its outcome.
    let outcomes = ["failed", "locked", "succeeded", "limited"].map(|o| metrics.sum("Logins", &[("Outcome", o)]));
    assert_eq!(outcomes, [f64::from(MAX_FAILED_LOGINS), 1.0, 1.0, 0.0], "{metrics:?}");

    // Fifteen minutes later (moved back in the store), the right password works again.
    let key = keys::login_client(&ana.email, &LoginClient::Address(attacker.into()));
    let past = (Utc::now() - Duration::minutes(15) - Duration::seconds(1)).to_rfc3339();
    env.set_attribute(&key, "attempted_at", AttributeValue::S(past)).await;
    assert_eq!(login_as(&app, &email, PASSWORD, attacker, None).await.status, 200);
}

#[tokio::test]
async fn a_success_resets_the_count_of_failures() {
    let (_env, app, ana) = setup().await;
    let email = ana.email.to_string();
    for _ in 0..4 {
        assert_eq!(login(&app, &email, "not-the-password").await.0, 401);
    }
    assert_eq!(login(&app, &email, PASSWORD).await.0, 200);
    for _ in 0..4 {
        assert_eq!(login(&app, &email, "not-the-password").await.0, 401);
    }
    assert_eq!(login(&app, &email, PASSWORD).await.0, 200, "4 + 4 failures with a success between do not lock");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_cannot_pass_the_limit_of_five() {
    let (_env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let (app, email) = (app.clone(), email.clone());
        tasks.push(tokio::spawn(async move { login(&app, &email, "not-the-password").await.0 }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    let checked = statuses.iter().filter(|s| **s == 401).count();
    let locked = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(checked + locked, 12, "{statuses:?}");
    assert!(checked <= 5, "at most 5 passwords checked: {statuses:?}");
    assert_eq!(login(&app, &email, PASSWORD).await.0, 429, "that client is locked after the burst");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guesses_from_many_addresses_leave_the_owners_known_device_able_to_log_in() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    // The owner logged in before from this browser: it is a known device.
    let first = login_as(&app, &email, PASSWORD, HOME, None).await;
    let device = first.body["device_token"].as_str().unwrap().to_string();
    // An attacker spreads guesses over many addresses, five each, up to the hourly ceiling.
    let per_address = MAX_FAILED_LOGINS;
    let addresses = ACCOUNT_FAILURES_PER_HOUR.div_ceil(per_address);
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for a in 0..addresses {
        let (app, email) = (app.clone(), email.clone());
        tasks.push(tokio::spawn(async move {
            let ip = format!("198.51.{}.{}", a / 200, a % 200 + 1);
            let mut statuses = Vec::new();
            for _ in 0..per_address {
                statuses.push(login_as(&app, &email, "not-the-password", &ip, None).await.status);
            }
            statuses
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().iter().all(|s| *s == 401), "each guess is checked and refused");
    }
    // Past the ceiling a new client may not try, even with the right password...
    let before = env.calls.now();
    let stranger = login_as(&app, &email, PASSWORD, "192.0.2.200", None).await;
    assert_eq!((stranger.status, stranger.body["code"].as_str()), (429, Some("account_locked")));
    assert_eq!(env.calls.since(before).round_trips, 2, "the attempt taken alongside the read is given back");
    let count = env.raw(&keys::login_client(&ana.email, &LoginClient::Address("192.0.2.200".into()))).await;
    assert_eq!(count.unwrap()["failures"], AttributeValue::N("0".into()), "a refusal is not one of its five");
    // ...nor with a made-up device token...
    let bogus = login_as(&app, &email, PASSWORD, "192.0.2.202", Some(&made_up_device())).await;
    assert_eq!((bogus.status, bogus.body["code"].as_str()), (429, Some("account_locked")));
    // ...but the owner's known device still logs in, from any address.
    let owner = login_as(&app, &email, PASSWORD, "192.0.2.201", Some(&device)).await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    // And the owner was told, once.
    let notices: Vec<_> =
        env.mails_to(&ana.email).into_iter().filter(|m| m.subject.starts_with("Intentos de acceso")).collect();
    assert_eq!(notices.len(), 1, "one mail when the ceiling is reached");
}

#[tokio::test]
async fn made_up_device_tokens_get_no_count_of_their_own() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let attacker = "198.51.100.7";
    let mut tokens = Vec::new();
    for i in 0..MAX_FAILED_LOGINS {
        tokens.push(made_up_device());
        let a = login_as(&app, &email, "not-the-password", attacker, tokens.last().map(String::as_str)).await;
        assert_eq!(a.status, 401, "attempt {i}: {}", a.body);
    }
    // Every guess counted against the address: a new token does not buy five more.
    let a = login_as(&app, &email, PASSWORD, attacker, Some(&made_up_device())).await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("account_locked")), "{}", a.body);
    for token in &tokens {
        assert!(env.raw(&device_key(&ana.email, token)).await.is_none(), "a made-up device is not remembered");
    }
    // The owner at home is not affected, and a made-up token there just counts as home.
    let owner = login_as(&app, &email, PASSWORD, HOME, Some(&made_up_device())).await;
    assert_eq!(owner.status, 200, "{}", owner.body);
    assert_ne!(owner.body["device_token"].as_str(), tokens.last().map(String::as_str));
}

#[tokio::test]
async fn a_device_is_known_for_a_year_from_its_latest_login() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let first = login_as(&app, &email, PASSWORD, HOME, None).await;
    let device = first.body["device_token"].as_str().unwrap().to_string();
    let key = device_key(&ana.email, &device);
    // The session remembers the device it was made from (the account's checks past the
    // hourly ceiling go by it).
    let session = env.session_of_token(first.body["token"].as_str().unwrap(), Utc::now()).await.unwrap();
    assert_eq!(session.device, Some(TokenDigest::of(&device)), "the session's device");
    let expiry = |item: std::collections::HashMap<String, AttributeValue>| {
        item["expires_at"].as_n().unwrap().parse::<i64>().unwrap()
    };
    let year = Duration::days(DEVICE_DAYS);
    let issued = expiry(env.raw(&key).await.expect("the device is remembered"));
    assert!((issued - (Utc::now() + year).timestamp()).abs() <= 60, "a year from its first login");

    // A year less a day later (moved back in the store), it logs in again: another year.
    let tomorrow = (Utc::now() + Duration::days(1)).timestamp();
    env.set_attribute(&key, "expires_at", AttributeValue::N(tomorrow.to_string())).await;
    let again = login_as(&app, &email, PASSWORD, "192.0.2.50", Some(&device)).await;
    assert_eq!((again.status, again.body["device_token"].as_str()), (200, Some(device.as_str())), "{}", again.body);
    let renewed = expiry(env.raw(&key).await.unwrap());
    assert!((renewed - (Utc::now() + year).timestamp()).abs() <= 60, "renewed: {renewed} vs {tomorrow}");

    // Once expired it is a stranger: the login counts as its address and gets a new device.
    let past = (Utc::now() - Duration::seconds(1)).timestamp();
    env.set_attribute(&key, "expires_at", AttributeValue::N(past.to_string())).await;
    let late = login_as(&app, &email, PASSWORD, HOME, Some(&device)).await;
    assert_eq!(late.status, 200, "{}", late.body);
    assert_ne!(late.body["device_token"].as_str(), Some(device.as_str()), "a new device token");
}

#[tokio::test]
async fn logout_revokes_the_token() {
    let (_env, app, ana) = setup().await;
    let (_, body, _) = login(&app, ana.email.as_str(), PASSWORD).await;
    let token = body["token"].as_str().unwrap();
    let res = call(&app, fixture("logout", &[("TOKEN", token)])).await;
    assert_eq!(res.status(), 204);
    let res = call(&app, fixture("logout", &[("TOKEN", token)])).await;
    assert_eq!(res.status(), 401);
    assert_eq!(json_of(&res)["code"], "unauthorized");
    let res = call(&app, fixture("logout", &[("TOKEN", "garbage")])).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn bad_input_gets_the_contract_codes() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let res = call(&app, fixture("login-malformed-body", &[("EMAIL", &email)])).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json_of(&res)["code"], "invalid_request");
    assert_eq!(res.headers()["content-type"], "application/problem+json");
    let res = call(&app, fixture("login-password-not-a-string", &[("EMAIL", &email)])).await;
    assert_eq!(res.status(), 400);
    assert!(json_of(&res)["detail"].as_str().unwrap().contains("password"));
    let res = call(&app, fixture("login-wrong-method", &[])).await;
    assert_eq!(res.status(), 405);
    assert_eq!(json_of(&res)["code"], "method_not_allowed");
    let long = "a".repeat(2000);
    let (status, body, _) = login(&app, &long, PASSWORD).await;
    assert_eq!(status, 400);
    assert!(body["detail"].as_str().unwrap().contains("email"));
    let huge = "x".repeat(17 * 1024);
    let (status, body, _) = login(&app, &email, &huge).await;
    assert_eq!(status, 413);
    assert_eq!(body["code"], "payload_too_large");
    // A cross-site form or text post: refused before any work, so browsers must preflight.
    let before = env.calls.calls();
    let res = call(&app, fixture("login-text-plain", &[("EMAIL", &email), ("PASSWORD", PASSWORD)])).await;
    assert_eq!((res.status().as_u16(), json_of(&res)["code"].as_str()), (415, Some("unsupported_media_type")));
    assert_eq!(env.calls.calls(), before, "no store call");
}

#[tokio::test]
async fn an_imported_account_without_a_password_answers_as_a_wrong_password() {
    use shared::store::{BulkLoad, Logins};
    let (env, app, ana) = setup().await;
    let imported = Account {
        id: shared::domain::AccountId::generate().unwrap(),
        email: env.email("imported"),
        name: "Irma Importada".into(),
        company: "Importaciones SA".into(),
    };
    assert_eq!(env.store.add_imported_accounts(std::slice::from_ref(&imported), Utc::now()).await.unwrap(), [true]);
    let login_item = env.store.credentials(&imported.email).await.unwrap().expect("its login item");
    assert!(!login_item.has_password());

    let email = imported.email.to_string();
    for password in ["anything-at-all", "Comercial-2026"] {
        let (status, body, _) = login(&app, &email, password).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("invalid_credentials")), "{password:?}");
    }
    // The same answer and the same calls as a wrong password of an account that has one.
    let before = env.calls.now();
    let (_, wrong_body, _) = login(&app, ana.email.as_str(), "not-the-password").await;
    let wrong = env.calls.since(before);
    let before = env.calls.now();
    let (_, body, _) = login(&app, &email, "not-the-password").await;
    assert_eq!(env.calls.since(before), wrong);
    assert_eq!(body, wrong_body);
}
