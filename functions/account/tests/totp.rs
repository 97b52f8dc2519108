//! Two-step verification against DynamoDB Local and moto, with codes computed by pyotp
//! (an implementation other than the portal's, as an authenticator app): enrolment,
//! confirmation, a code accepted once, wrong codes counted like failed logins, the secret
//! sealed at rest, turning it off, the owner told of each change by mail.

mod common;

use chrono::{Duration, Utc};
use common::{ask, world, World, MAX_ATTEMPTS};
use serde_json::Value;
use shared::domain::totp::TotpSecret;
use shared::store::keys;
use shared::testing::otp::app_code;

/// Starts an enrolment; the secret and the URI answered.
async fn start(w: &World) -> (String, String) {
    let a = ask(&w.app, "totp-start", &[("TOKEN", &w.token)]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    (a.body["secret"].as_str().unwrap().to_string(), a.body["otpauth_uri"].as_str().unwrap().to_string())
}

async fn confirm(w: &World, code: &str) -> common::Answer {
    ask(&w.app, "totp-confirm", &[("TOKEN", &w.token), ("CODE", code)]).await
}

/// The subjects of the mails the owner got, oldest first.
fn subjects(w: &World) -> Vec<String> {
    w.env.mails_to(&w.ana.email).into_iter().map(|m| m.subject).collect()
}

fn login_mark(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>) -> Option<bool> {
    item.get("totp_on").map(|v| *v.as_bool().unwrap())
}

#[tokio::test]
async fn an_app_code_turns_it_on_and_the_recovery_codes_are_shown_once_and_kept_as_digests() {
    let w = world().await;
    let (secret, uri) = start(&w).await;
    assert!(uri.starts_with("otpauth://totp/Aspel:"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")) && uri.contains("algorithm=SHA1&digits=6&period=30"), "{uri}");
    let item = w.env.raw(&keys::totp(&w.ana.id)).await.expect("the enrolment");
    let stored = item["secret"].as_s().unwrap();
    assert!(!stored.contains(&secret), "not the secret in clear: {stored}");
    let raw_bytes = w.env.totp_key().await.open(stored, w.ana.id.as_str()).expect("sealed under the data key");
    assert_eq!(TotpSecret::from_bytes(raw_bytes).unwrap().base32(), secret, "the same secret, sealed");
    assert_eq!(login_mark(&w.env.raw(&keys::login_item(&w.ana.email)).await.unwrap()), None, "not on yet");

    let (a, metrics) = shared::metrics::captured(confirm(&w, &app_code(&uri, Utc::now()))).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(metrics.sum("AccountChanges", &[("Change", "two_step_on")]), 1.0, "{metrics:?}");
    let codes: Vec<String> =
        a.body["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().into()).collect();
    assert_eq!(codes.len(), 10);
    let item = w.env.raw(&keys::totp(&w.ana.id)).await.unwrap();
    assert_eq!(item["state"].as_s().unwrap(), "on");
    let digests = item["recovery"].as_ss().unwrap();
    assert_eq!(digests.len(), 10);
    let raw = format!("{item:?}");
    for code in &codes {
        assert!(!raw.contains(code.as_str()) && !raw.contains(&code.replace('-', "")), "{code} kept in clear");
    }
    assert_eq!(
        login_mark(&w.env.raw(&keys::login_item(&w.ana.email)).await.unwrap()),
        Some(true),
        "a login asks for a code now"
    );
    let told = subjects(&w);
    assert_eq!(told, ["Activaste la verificación en dos pasos en Aspel"], "the owner is told once");
    let mail = w.env.mails_to(&w.ana.email).pop().unwrap();
    assert!(!codes.iter().any(|c| mail.body.contains(c.as_str())), "no recovery code in the mail");
    assert!(w.env.pending_mails(Utc::now() + Duration::minutes(10), 10).await.is_empty(), "sent, out of the outbox");

    let again = ask(&w.app, "totp-start", &[("TOKEN", &w.token)]).await;
    assert_eq!((again.status, again.body["code"].as_str()), (409, Some("mfa_already_enabled")));
    assert!(!again.text.contains(&secret), "never answered again");
    let twice = confirm(&w, &app_code(&uri, Utc::now())).await;
    assert_eq!((twice.status, twice.body["code"].as_str()), (409, Some("mfa_already_enabled")));
}

#[tokio::test]
async fn a_code_is_accepted_once_and_a_recovery_code_turns_it_off() {
    let w = world().await;
    let (_, uri) = start(&w).await;
    let code = app_code(&uri, Utc::now());
    let a = confirm(&w, &code).await;
    assert_eq!(a.status, 200, "{}", a.text);
    let recovery = a.body["recovery_codes"][0].as_str().unwrap().to_string();
    let replay = ask(&w.app, "totp-disable", &[("TOKEN", &w.token), ("CODE", &code)]).await;
    assert_eq!(
        (replay.status, replay.body["code"].as_str()),
        (401, Some("invalid_code")),
        "the same code, inside its window"
    );
    assert!(w.env.raw(&keys::totp(&w.ana.id)).await.is_some(), "still on");
    let (off, metrics) = shared::metrics::captured(ask(
        &w.app,
        "totp-disable",
        &[("TOKEN", &w.token), ("CODE", &recovery.to_lowercase())],
    ))
    .await;
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(metrics.sum("AccountChanges", &[("Change", "two_step_off")]), 1.0, "{metrics:?}");
    assert!(w.env.raw(&keys::totp(&w.ana.id)).await.is_none(), "secret and recovery codes gone");
    assert_eq!(login_mark(&w.env.raw(&keys::login_item(&w.ana.email)).await.unwrap()), None, "logins ask for no code");
    let not_on = ask(&w.app, "totp-disable", &[("TOKEN", &w.token), ("CODE", &recovery)]).await;
    assert_eq!((not_on.status, not_on.body["code"].as_str()), (409, Some("mfa_not_enabled")));
    // One mail per change; the refused replay and the call with it off sent none.
    assert_eq!(
        subjects(&w),
        ["Activaste la verificación en dos pasos en Aspel", "Se desactivó la verificación en dos pasos en Aspel"]
    );
    assert!(w.env.pending_mails(Utc::now() + Duration::minutes(10), 10).await.is_empty(), "sent, out of the outbox");
}

#[tokio::test]
async fn wrong_codes_count_like_failed_logins_and_lock_that_client() {
    let w = world().await;
    let (_, uri) = start(&w).await;
    let right = app_code(&uri, Utc::now());
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..MAX_ATTEMPTS {
        let a = confirm(&w, wrong).await;
        assert_eq!((a.status, a.body["code"].as_str()), (401, Some("invalid_code")), "{}", a.text);
    }
    let hour = w.env.raw(&keys::login_failures_hour(&w.ana.email, Utc::now())).await.expect("counted");
    assert_eq!(hour["failures"].as_n().unwrap(), "5");
    let locked = confirm(&w, &right).await;
    assert_eq!((locked.status, locked.body["code"].as_str()), (429, Some("account_locked")), "{}", locked.text);
    assert!(locked.retry_after.is_some());
    assert_eq!(w.env.raw(&keys::totp(&w.ana.id)).await.unwrap()["state"].as_s().unwrap(), "pending");
    assert!(subjects(&w).is_empty(), "nothing changed, nothing mailed");
}

#[tokio::test]
async fn confirming_needs_a_started_enrolment_and_a_new_start_replaces_the_secret() {
    let w = world().await;
    let none = confirm(&w, "123456").await;
    assert_eq!((none.status, none.body["code"].as_str()), (409, Some("mfa_not_started")));
    let (first, first_uri) = start(&w).await;
    let (second, second_uri) = start(&w).await;
    assert_ne!(first, second, "a new secret each time");
    let now = Utc::now();
    if app_code(&first_uri, now) != app_code(&second_uri, now) {
        let old = confirm(&w, &app_code(&first_uri, now)).await;
        assert_eq!(old.body["code"], Value::from("invalid_code"), "the replaced secret's code");
    }
    assert_eq!(confirm(&w, &app_code(&second_uri, Utc::now())).await.status, 200);
    let bad = ask(&w.app, "totp-confirm", &[("TOKEN", &w.token), ("CODE", &"9".repeat(65))]).await;
    assert_eq!((bad.status, bad.body["code"].as_str()), (400, Some("invalid_request")));
}
