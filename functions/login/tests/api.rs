//! `login` against DynamoDB Local, fed the API Gateway events under `events/`.

use std::sync::Arc;

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, Response};
use login::App;
use serde_json::Value;
use shared::domain::token::TokenDigest;
use shared::domain::{Account, Email};
use shared::http::Function;
use shared::store::{keys, DynamoStore, Logins, Sessions};
use shared::testing::{checked, fixture, json_of, TestEnv};

type Login = Function<App<DynamoStore>>;

/// The handler's answer to `req`, checked against `openapi.yaml` for its route.
async fn call(function: &Login, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

const PASSWORD: &str = "Comercial-2026";

async fn setup() -> (TestEnv, Login, Account) {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let app = App::build(env.base());
    (env, app, ana)
}

async fn failed_logins(env: &TestEnv, email: &Email) -> (u32, bool) {
    let login = env.store.credentials(email).await.unwrap().unwrap();
    (login.failed_logins, login.locked_until.is_some())
}

async fn login(app: &Login, email: &str, password: &str) -> (u16, Value, Option<String>) {
    let req = fixture("login", &[("EMAIL", email), ("PASSWORD", password)]);
    let res = call(app, req).await;
    let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().to_string());
    (res.status().as_u16(), json_of(&res), retry)
}

#[tokio::test]
async fn login_returns_a_bearer_session_stored_only_as_a_digest() {
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
    let session = env.store.session(&TokenDigest::of(token), Utc::now()).await.unwrap().expect("session stored");
    assert_eq!(session.account, ana.id);
    assert_eq!(session.source_ip, "203.0.113.10", "the caller recorded with the session");
    assert!(session.user_agent.contains("PortalFixture/1.0"));
    assert!(env.store.session(&TokenDigest::of("x"), Utc::now()).await.unwrap().is_none());
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
    // The same work, store calls included.
    let before = env.calls.now();
    login(&app, &email, "not-the-password").await;
    let wrong = env.calls.since(before);
    let before = env.calls.now();
    login(&app, &nobody, "not-the-password").await;
    assert_eq!(env.calls.since(before), wrong, "unknown e-mail and wrong password cost the same calls");
}

#[tokio::test]
async fn five_failures_lock_the_account_even_for_the_right_password_until_it_expires() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    for i in 0..5 {
        let (status, body, _) = login(&app, &email, "not-the-password").await;
        assert_eq!(status, 401, "attempt {i}: {body}");
    }
    let (status, body, retry) = login(&app, &email, PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["code"], "account_locked");
    let retry: i64 = retry.expect("Retry-After").parse().unwrap();
    assert!((890..=900).contains(&retry), "{retry}");
    // Fifteen minutes later (moved back in the store), the right password works again.
    let past = (Utc::now() - Duration::seconds(1)).to_rfc3339();
    env.store
        .client()
        .update_item()
        .table_name(env.store.table())
        .set_key(Some(keys::login_item(&ana.email).item()))
        .update_expression("SET locked_until = :past")
        .expression_attribute_values(":past", aws_sdk_dynamodb::types::AttributeValue::S(past))
        .send()
        .await
        .unwrap();
    let (status, _, _) = login(&app, &email, PASSWORD).await;
    assert_eq!(status, 200);
    assert_eq!(failed_logins(&env, &ana.email).await.0, 0, "a success resets the count");
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
    let (env, app, ana) = setup().await;
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
    assert_eq!(login(&app, &email, PASSWORD).await.0, 429, "locked after the burst");
    assert!(failed_logins(&env, &ana.email).await.1, "the lock is stored");
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
    let (_env, app, ana) = setup().await;
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
}
