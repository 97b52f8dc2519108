//! `recover-password` against DynamoDB Local and moto's SES v2: the whole recovery path,
//! reading the mail back and following its link.

use chrono::Utc;
use lambda_http::{Body, Request, Response};
use recover_password::App;

use shared::domain::Account;
use shared::http::Function;
use shared::store::{DynamoStore, Logins};
use shared::testing::{checked, fixture, hasher, json_of, reset_token_in, TestEnv};

/// The handler's answer to `req`, checked against `openapi.yaml` for its route.
async fn call(function: &Function<App<DynamoStore>>, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

async fn setup() -> (TestEnv, Function<App<DynamoStore>>, Account) {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Old-Password-1", "Comercial Ruiz SA de CV").await;
    let app = App::build(env.base());
    (env, app, ana)
}

#[tokio::test]
async fn recovery_mails_a_one_time_link_that_replaces_the_password_and_revokes_sessions() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    let old_session = env.session_for(&ana).await;
    let (res, metrics) =
        shared::metrics::captured(call(&app, fixture("password-reset", &[("EMAIL", &email.to_uppercase())]))).await;
    assert_eq!(res.status(), 202);
    assert_eq!(json_of(&res)["status"], "accepted");
    assert_eq!(metrics.sum("PasswordResets", &[("Outcome", "requested")]), 1.0, "{metrics:?}");
    assert_eq!(metrics.sum("MailsSent", &[]), 1.0, "the link went through the outbox: {metrics:?}");

    let mails = env.mails_to(&ana.email);
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert!(mails[0].subject.contains("contraseña"), "{}", mails[0].subject);
    assert!(mails[0].body.contains("http://127.0.0.1:5173/password-reset?token="), "{}", mails[0].body);
    let token = reset_token_in(&mails[0].body).expect("link with token");
    assert!(token.len() >= 22, "at least 128 bits");

    let res = call(&app, fixture("password-reset-confirm-weak", &[("TOKEN", &token)])).await;
    assert_eq!(res.status(), 422);
    assert_eq!(json_of(&res)["code"], "weak_password");
    let res = call(&app, fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", &email)])).await;
    assert_eq!(res.status(), 422, "the e-mail is not a password");

    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", "New-Password-2026")])).await;
    assert_eq!(res.status(), 204);
    let account = env.store.credentials(&ana.email).await.unwrap().unwrap();
    assert!(hasher().verify("New-Password-2026", account.password_hash.as_deref().unwrap()));
    assert!(!hasher().verify("Old-Password-1", account.password_hash.as_deref().unwrap()));
    assert!(env.session_of_token(&old_session, Utc::now()).await.is_none(), "every session is revoked");

    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", "Another-Password-9")])).await;
    assert_eq!(res.status(), 400, "a token works once");
    assert_eq!(json_of(&res)["code"], "invalid_token");
}

#[tokio::test]
async fn unknown_accounts_get_the_same_answer_and_no_mail() {
    let (env, app, _) = setup().await;
    let nobody = env.email("nobody");
    let started = std::time::Instant::now();
    let res = call(&app, fixture("password-reset", &[("EMAIL", nobody.as_str())])).await;
    assert!(started.elapsed() >= recover_password::RESET_ANSWER_FLOOR, "as slow as a mailed answer");
    assert_eq!(res.status(), 202);
    assert_eq!(json_of(&res)["status"], "accepted");
    assert!(env.mails_to(&nobody).is_empty());
    let res = call(&app, fixture("password-reset", &[("EMAIL", "not an address")])).await;
    assert_eq!(res.status(), 202);
}

#[tokio::test]
async fn at_most_three_mails_an_hour() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    for _ in 0..5 {
        let res = call(&app, fixture("password-reset", &[("EMAIL", &email)])).await;
        assert_eq!(res.status(), 202);
    }
    assert_eq!(env.mails_to(&ana.email).len(), 3);
}

#[tokio::test]
async fn a_reset_clears_the_lock() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    use shared::store::{AttemptReservation, LoginAttempts, LoginClient};
    let client = LoginClient::Address("203.0.113.10".into());
    for _ in 0..5 {
        env.store.reserve_login_attempt(&ana.email, &client, Utc::now()).await.unwrap();
    }
    let locked = env.store.reserve_login_attempt(&ana.email, &client, Utc::now()).await.unwrap();
    assert!(matches!(locked, AttemptReservation::Locked(_)), "set-up: locked");
    call(&app, fixture("password-reset", &[("EMAIL", &email)])).await;
    let token = reset_token_in(&env.mails_to(&ana.email)[0].body).unwrap();
    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", "New-Password-2026")])).await;
    assert_eq!(res.status(), 204);
    let after = env.store.reserve_login_attempt(&ana.email, &client, Utc::now()).await.unwrap();
    assert_eq!(after, AttemptReservation::Granted, "the lock is cleared");
}

#[tokio::test]
async fn unknown_and_malformed_tokens_are_invalid() {
    let (_env, app, _) = setup().await;
    let unknown = "A".repeat(43);
    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &unknown), ("PASSWORD", "New-Password-2026")])).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json_of(&res)["code"], "invalid_token");
    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", "short"), ("PASSWORD", "New-Password-2026")])).await;
    assert_eq!(json_of(&res)["code"], "invalid_token");
}

#[tokio::test]
async fn a_link_mailed_before_the_last_password_change_is_dead() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    call(&app, fixture("password-reset", &[("EMAIL", &email)])).await;
    call(&app, fixture("password-reset", &[("EMAIL", &email)])).await;
    let mails = env.mails_to(&ana.email);
    assert_eq!(mails.len(), 2);
    let first = reset_token_in(&mails[0].body).unwrap();
    let second = reset_token_in(&mails[1].body).unwrap();
    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &second), ("PASSWORD", "New-Password-2026")])).await;
    assert_eq!(res.status(), 204);
    let res =
        call(&app, fixture("password-reset-confirm", &[("TOKEN", &first), ("PASSWORD", "Other-Password-2026")])).await;
    assert_eq!(res.status(), 400);
    assert_eq!(json_of(&res)["code"], "invalid_token");
    let account = env.store.credentials(&ana.email).await.unwrap().unwrap();
    assert!(hasher().verify("New-Password-2026", account.password_hash.as_deref().unwrap()), "the later change stands");
}

#[tokio::test]
async fn an_over_long_new_password_is_weak_not_malformed() {
    let (env, app, ana) = setup().await;
    let email = ana.email.to_string();
    call(&app, fixture("password-reset", &[("EMAIL", &email)])).await;
    let token = reset_token_in(&env.mails_to(&ana.email)[0].body).unwrap();
    let long = "ñ".repeat(600);
    let res = call(&app, fixture("password-reset-confirm", &[("TOKEN", &token), ("PASSWORD", &long)])).await;
    assert_eq!(res.status(), 422);
    assert_eq!(json_of(&res)["code"], "weak_password");
}
