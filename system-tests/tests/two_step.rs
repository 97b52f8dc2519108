//! Two-step verification end to end, through the real `account` and `login` functions on
//! DynamoDB Local and moto, with the codes an authenticator app would show (pyotp, from the
//! QR code's URI): turned on, then a login with the password and a code, then with a
//! recovery code, then turned off; and an e-mail change that the next login follows.

use chrono::{Duration, Utc};
use lambda_http::Request;
use serde_json::Value;
use shared::testing::otp::app_code;
use shared::testing::{checked, email_change_token_in, fixture, json_of, TestEnv};

const PASSWORD: &str = "Comercial-2026";

async fn send<A: Sync>(f: &shared::http::Function<A>, req: Request) -> (u16, Value) {
    let res = checked(req, |r| f.handle(r)).await;
    (res.status().as_u16(), json_of(&res))
}

#[tokio::test]
async fn turned_on_with_an_apps_code_a_login_then_needs_one() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let login = login::App::build(env.base());
    let account = account::App::build(env.base());
    let email = ana.email.to_string();
    let log_in = |password: &'static str| fixture("login", &[("EMAIL", &email), ("PASSWORD", password)]);

    let (status, first) = send(&login, log_in(PASSWORD)).await;
    assert_eq!(status, 200, "{first}");
    let token = first["token"].as_str().expect("no second step yet").to_string();
    let (_, enrol) = send(&account, fixture("totp-start", &[("TOKEN", &token)])).await;
    let uri = enrol["otpauth_uri"].as_str().unwrap().to_string();
    let (status, on) =
        send(&account, fixture("totp-confirm", &[("TOKEN", &token), ("CODE", &app_code(&uri, Utc::now()))])).await;
    assert_eq!(status, 200, "{on}");
    let recovery = on["recovery_codes"][0].as_str().unwrap().to_string();

    let (status, challenge) = send(&login, log_in(PASSWORD)).await;
    assert_eq!(status, 200);
    assert_eq!(challenge["mfa_required"], true, "{challenge}");
    let mfa = challenge["mfa_token"].as_str().unwrap().to_string();
    // The confirmation used this step's code: the app's next one logs in.
    let next = app_code(&uri, Utc::now() + Duration::seconds(30));
    let (status, session) = send(&login, fixture("login-mfa", &[("MFA_TOKEN", &mfa), ("CODE", &next)])).await;
    assert_eq!(status, 200, "{session}");
    let second = session["token"].as_str().unwrap().to_string();
    assert!(env.session_of_token(&second, Utc::now()).await.is_some());

    let (_, challenge) = send(&login, log_in(PASSWORD)).await;
    let mfa = challenge["mfa_token"].as_str().unwrap().to_string();
    let (status, _) = send(&login, fixture("login-mfa", &[("MFA_TOKEN", &mfa), ("CODE", &recovery)])).await;
    assert_eq!(status, 200, "a recovery code stands in for the app");

    let (status, _) = send(
        &account,
        fixture("totp-disable", &[("TOKEN", &second), ("CODE", on["recovery_codes"][1].as_str().unwrap())]),
    )
    .await;
    assert_eq!(status, 204);
    let (status, plain) = send(&login, log_in(PASSWORD)).await;
    assert_eq!((status, plain["token_type"].as_str()), (200, Some("Bearer")), "no code asked any more: {plain}");
}

#[tokio::test]
async fn after_an_email_change_the_login_takes_the_new_address_with_the_same_password() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), PASSWORD, "Comercial Ruiz SA de CV").await;
    let login = login::App::build(env.base());
    let account = account::App::build(env.base());
    let (_, first) = send(&login, fixture("login", &[("EMAIL", ana.email.as_str()), ("PASSWORD", PASSWORD)])).await;
    let token = first["token"].as_str().unwrap().to_string();
    let new = env.email("nueva");
    let ask = fixture("email-change", &[("TOKEN", &token), ("NEW_EMAIL", new.as_str()), ("PASSWORD", PASSWORD)]);
    assert_eq!(send(&account, ask).await.0, 202);
    let link = email_change_token_in(&env.mails_to(&new).pop().unwrap().body).unwrap();
    let confirm = fixture("email-change-confirm", &[("TOKEN", &token), ("EMAIL_CHANGE_TOKEN", &link)]);
    assert_eq!(send(&account, confirm).await.0, 204);
    let (old, body) = send(&login, fixture("login", &[("EMAIL", ana.email.as_str()), ("PASSWORD", PASSWORD)])).await;
    assert_eq!((old, body["code"].as_str()), (401, Some("invalid_credentials")), "the old address logs in nowhere");
    let (status, body) = send(&login, fixture("login", &[("EMAIL", new.as_str()), ("PASSWORD", PASSWORD)])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["account"]["email"], new.as_str(), "the answer names the new address");
}
