//! `POST /password` against DynamoDB Local and moto: the current password is checked and
//! counted like a login, the other sessions end, the owner is told by mail.

mod common;

use chrono::{Duration, Utc};
use common::{ask, world, HOME, NEW_PASSWORD, PASSWORD};
use shared::store::{keys, LoginClient, Logins, MAX_FAILED_LOGINS};
use shared::testing::hasher;

#[tokio::test]
async fn a_change_keeps_the_caller_ends_the_other_sessions_and_mails_the_owner() {
    let w = world().await;
    let (other, other_session) = w.env.session_from(&w.ana, "198.51.100.7", "Firefox", Duration::minutes(5)).await;
    let (a, metrics) = shared::metrics::captured(ask(
        &w.app,
        "password-change",
        &[("TOKEN", &w.token), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", NEW_PASSWORD)],
    ))
    .await;
    assert_eq!(a.status, 204, "{}", a.text);
    assert_eq!(metrics.sum("AccountChanges", &[("Change", "password")]), 1.0, "{metrics:?}");
    assert!(w.env.session_of_token(&w.token, Utc::now()).await.is_some(), "the caller's session lives on");
    assert!(w.env.session_of_token(&other, Utc::now()).await.is_none(), "the other session ended");
    assert!(w.env.raw(&keys::session(&other_session.digest)).await.is_none(), "and is deleted");
    assert!(w.env.raw(&keys::session_pointer(&w.ana.id, &other_session.id)).await.is_none());
    let login = w.env.store.credentials(&w.ana.email).await.unwrap().unwrap();
    assert!(hasher().verify(NEW_PASSWORD, login.password_hash.as_deref().unwrap()), "the new password logs in");
    assert!(!hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()), "the old one no longer does");
    assert_eq!(login.password_epoch, w.env.password_epoch(&w.ana.id).await, "login and profile agree on the epoch");
    let mails = w.env.mails_to(&w.ana.email);
    assert_eq!(mails.len(), 1, "one mail: {mails:?}");
    assert_eq!(mails[0].subject, "Tu contraseña de Aspel cambió");
    assert!(w.env.pending_mails(Utc::now() + Duration::minutes(10), 10).await.is_empty(), "sent, out of the outbox");
    // The change was a success from this address: its count starts again.
    let count = w.env.raw(&keys::login_client(&w.ana.email, &LoginClient::Address(HOME.into()))).await.unwrap();
    assert_eq!(count["failures"].as_n().unwrap(), "0");
}

#[tokio::test]
async fn a_wrong_current_password_counts_like_a_failed_login_and_locks_that_client() {
    let w = world().await;
    for _ in 0..MAX_FAILED_LOGINS {
        let (a, metrics) = shared::metrics::captured(ask(
            &w.app,
            "password-change",
            &[("TOKEN", &w.token), ("PASSWORD", "Not-the-password-1"), ("NEW_PASSWORD", NEW_PASSWORD)],
        ))
        .await;
        assert_eq!((a.status, a.body["code"].as_str()), (401, Some("invalid_credentials")), "{}", a.text);
        assert_eq!(metrics.sum("AccountChanges", &[("Change", "password")]), 0.0, "a refusal is no change");
    }
    let hour = w.env.raw(&keys::login_failures_hour(&w.ana.email, Utc::now())).await.expect("the hour's count");
    assert_eq!(hour["failures"].as_n().unwrap(), "5", "counted as failed logins of the e-mail");
    let right =
        ask(&w.app, "password-change", &[("TOKEN", &w.token), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", NEW_PASSWORD)])
            .await;
    assert_eq!((right.status, right.body["code"].as_str()), (429, Some("account_locked")), "{}", right.text);
    let secs: u64 = right.retry_after.expect("Retry-After").parse().unwrap();
    assert!((14 * 60..=15 * 60).contains(&secs), "{secs}");
    let login = w.env.store.credentials(&w.ana.email).await.unwrap().unwrap();
    assert!(hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()), "nothing changed");
    assert!(w.env.session_of_token(&w.token, Utc::now()).await.is_some(), "a refusal ends no session");
    assert!(w.env.mails_to(&w.ana.email).is_empty());
}

#[tokio::test]
async fn a_weak_or_unchanged_new_password_is_refused_before_any_attempt_is_taken() {
    let w = world().await;
    for (new, why) in [("corta", "at least 12"), (PASSWORD, "differ from the current"), ("password1234", "too common")]
    {
        let a =
            ask(&w.app, "password-change", &[("TOKEN", &w.token), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", new)]).await;
        assert_eq!((a.status, a.body["code"].as_str()), (422, Some("weak_password")), "{new}: {}", a.text);
        assert!(a.body["detail"].as_str().unwrap().contains(why), "{}", a.body["detail"]);
    }
    assert!(w.env.raw(&keys::login_client(&w.ana.email, &LoginClient::Address(HOME.into()))).await.is_none());
    let no_token =
        ask(&w.app, "password-change", &[("TOKEN", "nope"), ("PASSWORD", PASSWORD), ("NEW_PASSWORD", NEW_PASSWORD)])
            .await;
    assert_eq!((no_token.status, no_token.body["code"].as_str()), (401, Some("unauthorized")));
}
