//! The e-mail's hourly ceiling on the account's own checks (SPEC: across all clients an
//! account takes at most 100 failures an hour; past that only a known device may try,
//! with its own count of five). Against DynamoDB Local and moto.

mod common;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use common::{ask, world, NEW_PASSWORD, PASSWORD};
use shared::store::{keys, LoginAttempts, LoginClient, Logins, ACCOUNT_FAILURES_PER_HOUR};
use shared::testing::hasher;

const CEILING_SUBJECT: &str = "Intentos de acceso";

#[tokio::test]
async fn past_the_hourly_ceiling_only_a_session_from_a_known_device_may_check_a_password() {
    let w = world().await;
    let email = &w.ana.email;
    // Guesses from elsewhere (logins) up to one short of the ceiling...
    for _ in 1..ACCOUNT_FAILURES_PER_HOUR {
        w.env.store.count_failed_login(email, Utc::now()).await.unwrap();
    }
    // ...then a wrong current password here: the 100th failure, and the owner is told.
    let wrong = [("TOKEN", w.token.as_str()), ("PASSWORD", "Not-the-password-1"), ("NEW_PASSWORD", NEW_PASSWORD)];
    let a = ask(&w.app, "password-change", &wrong).await;
    assert_eq!((a.status, a.body["code"].as_str()), (401, Some("invalid_credentials")), "{}", a.text);
    let notices = || w.env.mails_to(email).into_iter().filter(|m| m.subject.starts_with(CEILING_SUBJECT)).count();
    assert_eq!(notices(), 1, "the failure that reaches the ceiling mails the owner");

    // The fixture's session comes from no known device: refused until the hour is over,
    // even with the right password, and nothing is counted.
    let right = [("TOKEN", w.token.as_str()), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", NEW_PASSWORD)];
    let a = ask(&w.app, "password-change", &right).await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("account_locked")), "{}", a.text);
    let secs: u64 = a.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1..=3600).contains(&secs), "until the clock hour ends: {secs}");
    let hour = w.env.raw(&keys::login_failures_hour(email, Utc::now())).await.expect("the hour's count");
    assert_eq!(hour["failures"], AttributeValue::N(ACCOUNT_FAILURES_PER_HOUR.to_string()), "a refusal is no failure");
    let address = w.env.raw(&keys::login_client(email, &LoginClient::Address(common::HOME.into()))).await.unwrap();
    assert_eq!(address["failures"], AttributeValue::N("1".into()), "the refused attempt was given back");
    let login = w.env.store.credentials(email).await.unwrap().unwrap();
    assert!(hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()), "nothing changed");

    // A session made from the owner's known device still may, with the device's own count.
    let (token, session) = w.env.login_with_new_device(&w.ana, "192.0.2.77").await;
    let device = keys::login_client(email, &LoginClient::Device(session.device.clone().unwrap()));
    let wrong = [("TOKEN", token.as_str()), ("PASSWORD", "Not-the-password-2"), ("NEW_PASSWORD", NEW_PASSWORD)];
    for _ in 0..2 {
        let a = ask(&w.app, "password-change", &wrong).await;
        assert_eq!((a.status, a.body["code"].as_str()), (401, Some("invalid_credentials")), "{}", a.text);
    }
    let counted = w.env.raw(&device).await.expect("the device's item");
    assert_eq!(counted["failures"], AttributeValue::N("2".into()), "counted on the device");
    assert_eq!(counted["type"], AttributeValue::S("device".into()));
    let right = [("TOKEN", token.as_str()), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", NEW_PASSWORD)];
    let a = ask(&w.app, "password-change", &right).await;
    assert_eq!(a.status, 204, "{}", a.text);
    let login = w.env.store.credentials(email).await.unwrap().unwrap();
    assert!(hasher().verify(NEW_PASSWORD, login.password_hash.as_deref().unwrap()), "the password changed");
    let cleared = w.env.raw(&device).await.expect("still a known device");
    assert_eq!(cleared["failures"], AttributeValue::N("0".into()), "a success clears the device's count");
    assert_eq!(cleared["type"], AttributeValue::S("device".into()), "and it stays a device");
    assert_eq!(notices(), 1, "one notice per hour");
}

#[tokio::test]
async fn past_the_hourly_ceiling_a_two_step_code_is_refused_to_a_session_from_no_known_device() {
    let w = world().await;
    for _ in 0..ACCOUNT_FAILURES_PER_HOUR {
        w.env.store.count_failed_login(&w.ana.email, Utc::now()).await.unwrap();
    }
    let started = ask(&w.app, "totp-start", &[("TOKEN", &w.token)]).await;
    assert_eq!(started.status, 200, "starting asks for no password: {}", started.text);
    let a = ask(&w.app, "totp-confirm", &[("TOKEN", &w.token), ("CODE", "123456")]).await;
    assert_eq!((a.status, a.body["code"].as_str()), (429, Some("account_locked")), "{}", a.text);
    let hour = w.env.raw(&keys::login_failures_hour(&w.ana.email, Utc::now())).await.unwrap();
    assert_eq!(hour["failures"], AttributeValue::N(ACCOUNT_FAILURES_PER_HOUR.to_string()), "no code was checked");
}
