//! A login with two-step verification on, against DynamoDB Local: the right password
//! gives a short-lived challenge and no session; `POST /login/mfa` takes an app's code
//! (computed by pyotp, as an app would) once, or an unused recovery code once; wrong codes
//! count like failed logins of the account.

use chrono::{Duration, Utc};
use lambda_http::{Body, Request, Response};
use login::App;
use serde_json::Value;

use aws_sdk_dynamodb::types::AttributeValue;
use shared::domain::password::PasswordHasherArgon;
use shared::domain::token::TokenDigest;
use shared::domain::totp::{otpauth_uri, step_at, RecoveryCode, TotpSecret};
use shared::domain::Account;
use shared::http::Function;
use shared::mail::account::two_step_mail;
use shared::outbox::PendingMail;
use shared::store::{
    keys, AccountSessions, DynamoStore, LoginClient, PasswordResets, ResetToken, TotpEnrolment, TotpState, TwoStep,
};
use shared::testing::otp::app_code;
use shared::testing::{checked, fixture_text, hash_at_older_cost, hasher, json_of, Cost, TestEnv};

type Login = Function<App<DynamoStore>>;

const PASSWORD: &str = "Comercial-2026";
const HOME: &str = "203.0.113.10";

struct Mfa {
    env: TestEnv,
    app: Login,
    ana: Account,
    /// What Ana's app was given.
    uri: String,
    recovery: Vec<RecoveryCode>,
}

/// Ana with two-step verification on, as `account` leaves it (its last accepted step some
/// minutes ago).
async fn setup() -> Mfa {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let secret = TotpSecret::generate().unwrap();
    let key = env.totp_key().await;
    let enrolment = TotpEnrolment {
        account: ana.id.clone(),
        state: TotpState::Pending,
        sealed_secret: key.seal(secret.as_bytes(), ana.id.as_str()).unwrap(),
        last_step: None,
        recovery_codes: Vec::new(),
        created_at: Utc::now(),
    };
    env.store.start_totp(&enrolment).await.unwrap();
    let recovery = RecoveryCode::generate_set().unwrap();
    let digests: Vec<String> = recovery.iter().map(|c| c.digest(&ana.id)).collect();
    let told = PendingMail::new(
        format!("totp-on-{}", ana.id.as_str()),
        two_step_mail(&env.mail_settings, &ana.name, ana.email.as_str(), true),
        Utc::now(),
    );
    env.store
        .confirm_totp(
            &ana.email,
            &enrolment,
            step_at(Utc::now()) - 10,
            &digests,
            &LoginClient::Address(HOME.into()),
            &told,
        )
        .await
        .unwrap();
    let uri = otpauth_uri(&secret, "Aspel", ana.email.as_str());
    let app = App::build(env.base());
    Mfa { env, app, ana, uri, recovery }
}

async fn call(app: &Login, req: Request) -> Response<Body> {
    checked(req, |r| app.handle(r)).await
}

fn event(name: &str, vars: &[(&str, &str)], ip: &str) -> Request {
    let mut event: Value = serde_json::from_str(&fixture_text(name, vars)).unwrap();
    event["requestContext"]["http"]["sourceIp"] = ip.into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

async fn login(m: &Mfa, password: &str) -> (u16, Value) {
    let res = call(&m.app, event("login", &[("EMAIL", m.ana.email.as_str()), ("PASSWORD", password)], HOME)).await;
    (res.status().as_u16(), json_of(&res))
}

/// The challenge's token of a login with the right password.
async fn first_step(m: &Mfa) -> String {
    let (status, body) = login(m, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    body["mfa_token"].as_str().unwrap().to_string()
}

async fn second_step(m: &Mfa, token: &str, code: &str) -> (u16, Value) {
    let res = call(&m.app, event("login-mfa", &[("MFA_TOKEN", token), ("CODE", code)], HOME)).await;
    (res.status().as_u16(), json_of(&res))
}

#[tokio::test]
async fn a_right_password_gives_a_short_lived_challenge_and_no_session_in_two_round_trips() {
    let m = setup().await;
    let before = m.env.calls.now();
    let (status, body) = login(&m, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        m.env.calls.since(before),
        Cost { calls: 3, round_trips: 2 },
        "the read and the attempt, then the challenge"
    );
    assert_eq!(body["mfa_required"], true);
    assert!(body.get("token").is_none() && body.get("device_token").is_none(), "no session: {body}");
    let expires: chrono::DateTime<Utc> = body["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((4..=5).contains(&(expires - Utc::now()).num_minutes()), "{expires}");
    assert!(m.env.store.sessions_of(&m.ana.id).await.unwrap().is_empty(), "no session made");
    let token = body["mfa_token"].as_str().unwrap();
    let stored = m.env.raw(&keys::mfa_challenge(&TokenDigest::of(token))).await.expect("kept by its digest");
    assert!(!format!("{stored:?}").contains(token.split_once('.').unwrap().1), "the token is not stored");
    let (wrong, body) = login(&m, "Not-the-password-1").await;
    assert_eq!((wrong, body["code"].as_str()), (401, Some("invalid_credentials")), "a wrong password is still wrong");
}

#[tokio::test]
async fn the_apps_code_logs_in_once_and_the_token_is_spent() {
    let m = setup().await;
    let token = first_step(&m).await;
    let code = app_code(&m.uri, Utc::now());
    let (status, body) = second_step(&m, &token, &code).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["account"]["email"], m.ana.email.as_str());
    assert!(body["device_token"].is_string());
    let session = m.env.session_of_token(body["token"].as_str().unwrap(), Utc::now()).await.expect("a session");
    assert_eq!(session.source_ip, HOME);
    let (again, body) = second_step(&m, &token, &code).await;
    assert_eq!((again, body["code"].as_str()), (400, Some("invalid_token")), "the token is spent");
    let token = first_step(&m).await;
    let (replay, body) = second_step(&m, &token, &code).await;
    assert_eq!((replay, body["code"].as_str()), (401, Some("invalid_code")), "the same code in its window");
    let next = app_code(&m.uri, Utc::now() + Duration::seconds(30));
    let (later, body) = second_step(&m, &token, &next).await;
    assert_eq!(later, 200, "the next step's code, a wrong code did not spend the token: {body}");
}

#[tokio::test]
async fn the_first_step_stores_a_hash_at_an_older_cost_again_alongside_its_challenge() {
    use shared::store::Logins;
    let m = setup().await;
    let older = hash_at_older_cost(PASSWORD);
    m.env.set_attribute(&keys::login_item(&m.ana.email), "password_hash", AttributeValue::S(older.clone())).await;
    let before = m.env.calls.now();
    let token = first_step(&m).await;
    assert_eq!(m.env.calls.since(before), Cost { calls: 4, round_trips: 2 }, "the renewal beside the challenge");
    let hash = m.env.store.credentials(&m.ana.email).await.unwrap().unwrap().password_hash.unwrap();
    assert!(hash.starts_with("$argon2id$v=19$m=12288,t=3,p=1$") && hasher().verify(PASSWORD, &hash), "{hash}");
    let (status, body) = second_step(&m, &token, &app_code(&m.uri, Utc::now())).await;
    assert_eq!(status, 200, "the challenge outlives the renewal (same password, same epoch): {body}");
}

#[tokio::test]
async fn a_recovery_code_logs_in_once() {
    let m = setup().await;
    let code = m.recovery[4].display();
    let (status, body) = second_step(&m, &first_step(&m).await, &code.replace('-', " ")).await;
    assert_eq!(status, 200, "{body}");
    let (again, body) = second_step(&m, &first_step(&m).await, &code).await;
    assert_eq!((again, body["code"].as_str()), (401, Some("invalid_code")), "spent");
    let left = m.env.raw(&keys::totp(&m.ana.id)).await.unwrap()["recovery"].as_ss().unwrap().len();
    assert_eq!(left, 9);
    assert_eq!(second_step(&m, &first_step(&m).await, &m.recovery[5].display()).await.0, 200);
}

#[tokio::test]
async fn wrong_codes_are_failed_logins_and_lock_the_client() {
    let m = setup().await;
    let right = app_code(&m.uri, Utc::now());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    let ((locked, body), metrics) = shared::metrics::captured(async {
        let token = first_step(&m).await;
        // The first step took one of the five attempts, and keeps it until a code is right.
        for _ in 0..4 {
            let (status, body) = second_step(&m, &token, wrong).await;
            assert_eq!((status, body["code"].as_str()), (401, Some("invalid_code")), "{body}");
        }
        second_step(&m, &token, &right).await
    })
    .await;
    let hour = m.env.raw(&keys::login_failures_hour(&m.ana.email, Utc::now())).await.expect("counted");
    assert_eq!(hour["failures"].as_n().unwrap(), "4");
    assert_eq!((locked, body["code"].as_str()), (429, Some("account_locked")), "{body}");
    // Every answer of both steps is one login metric, by its outcome.
    let outcomes = ["code_asked", "failed", "locked", "succeeded"].map(|o| metrics.sum("Logins", &[("Outcome", o)]));
    assert_eq!(outcomes, [1.0, 4.0, 1.0, 0.0], "{metrics:?}");
    let (again, _) = login(&m, PASSWORD).await;
    assert_eq!(again, 429, "the password from there too");
}

#[tokio::test]
async fn an_expired_made_up_or_outdated_token_is_refused() {
    let m = setup().await;
    let token = first_step(&m).await;
    let code = app_code(&m.uri, Utc::now());
    m.env
        .store
        .client()
        .update_item()
        .table_name(m.env.store.table())
        .set_key(Some(keys::mfa_challenge(&TokenDigest::of(&token)).item()))
        .update_expression("SET expires_at = :past")
        .expression_attribute_values(":past", AttributeValue::N((Utc::now().timestamp() - 1).to_string()))
        .send()
        .await
        .unwrap();
    assert_eq!(second_step(&m, &token, &code).await.1["code"], "invalid_token", "expired");
    assert_eq!(second_step(&m, "nonsense", &code).await.1["code"], "invalid_token");
    let made_up = format!("{}.{}", m.ana.id, "A".repeat(43));
    assert_eq!(second_step(&m, &made_up, &code).await.1["code"], "invalid_token");
    // A password reset between the two steps: the challenge was for the old password.
    let token = first_step(&m).await;
    let reset = ResetToken {
        digest: TokenDigest::of("reset"),
        account: m.ana.id.clone(),
        email: m.ana.email.clone(),
        issued_at: Utc::now(),
        expires_at: Utc::now() + Duration::minutes(30),
        used: false,
    };
    m.env.store.put_reset_token(&reset).await.unwrap();
    let hash = PasswordHasherArgon::new().unwrap().hash("Otra-contrasena-2026").unwrap();
    m.env.store.complete_reset(&reset, &hash, Utc::now()).await.unwrap();
    let (status, body) = second_step(&m, &token, &app_code(&m.uri, Utc::now())).await;
    assert_eq!((status, body["code"].as_str()), (400, Some("invalid_token")), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn one_code_sent_twice_at_once_logs_in_once() {
    let m = std::sync::Arc::new(setup().await);
    let code = app_code(&m.uri, Utc::now());
    // Two logins and their two second steps: four of the client's five attempts.
    let tokens = [first_step(&m).await, first_step(&m).await];
    let mut tasks = Vec::new();
    for token in tokens {
        let (m, code) = (m.clone(), code.clone());
        tasks.push(tokio::spawn(async move { second_step(&m, &token, &code).await.0 }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        statuses.push(t.await.unwrap());
    }
    statuses.sort();
    assert_eq!(statuses, vec![200, 401], "the step is spent by one of them");
}
