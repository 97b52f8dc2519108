//! `POST /email-change` and `POST /email-change/confirm` against DynamoDB Local and moto:
//! the password checked like a login, a link to the new address and a notice to the old
//! one, the login item moved in one transaction with the serials kept, a taken address
//! refused without saying whose it is, every session ended.

mod common;

use chrono::{Duration, Utc};
use common::{ask, world, World, PASSWORD};
use shared::domain::{Email, Plan};
use shared::store::{keys, Logins, SubscriptionReader};
use shared::testing::{email_change_token_in, hasher};

async fn ask_change(w: &World, to: &Email, password: &str) -> common::Answer {
    ask(&w.app, "email-change", &[("TOKEN", &w.token), ("NEW_EMAIL", to.as_str()), ("PASSWORD", password)]).await
}

async fn confirm(w: &World, token: &str, change_token: &str) -> common::Answer {
    ask(&w.app, "email-change-confirm", &[("TOKEN", token), ("EMAIL_CHANGE_TOKEN", change_token)]).await
}

/// The token of the latest link mailed to `to`.
fn link_to(w: &World, to: &Email) -> String {
    let mail = w.env.mails_to(to).pop().unwrap_or_else(|| panic!("no mail to {to}"));
    email_change_token_in(&mail.body).expect("a confirmation link")
}

#[tokio::test]
async fn a_confirmed_change_moves_the_login_keeps_the_serials_and_ends_every_session() {
    let w = world().await;
    let serials = [
        w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(30)).await.serial,
        w.env.add_serial(&w.ana, "NOI", "11.0", Plan::License, None).await.serial,
    ];
    let (other, _) = w.env.session_from(&w.ana, "198.51.100.7", "Firefox", Duration::minutes(3)).await;
    let new = w.env.email("nueva");
    let a = ask_change(&w, &new, PASSWORD).await;
    assert_eq!((a.status, &a.body), (202, &serde_json::json!({"status": "accepted"})), "{}", a.text);
    let notice = w.env.mails_to(&w.ana.email);
    assert_eq!(notice.len(), 1, "a notice to the old address");
    assert!(notice[0].body.contains(new.as_str()) && email_change_token_in(&notice[0].body).is_none(), "no link in it");
    let token = link_to(&w, &new);
    assert!(w.env.raw(&keys::login_item(&new)).await.is_none(), "nothing moves before the confirmation");

    let (done, metrics) = shared::metrics::captured(confirm(&w, &w.token, &token)).await;
    assert_eq!(done.status, 204, "{}", done.text);
    assert_eq!(metrics.sum("AccountChanges", &[("Change", "email")]), 1.0, "{metrics:?}");
    assert!(w.env.raw(&keys::login_item(&w.ana.email)).await.is_none(), "the old address logs in nowhere");
    let login = w.env.store.credentials(&new).await.unwrap().expect("the new address logs in");
    assert_eq!(login.account, w.ana.id, "to the same account");
    assert!(hasher().verify(PASSWORD, login.password_hash.as_deref().unwrap()), "with the same password");
    assert_eq!(login.password_epoch, w.env.password_epoch(&w.ana.id).await);
    let profile = w.env.raw(&keys::profile(&w.ana.id)).await.unwrap();
    assert_eq!(profile["email"].as_s().unwrap(), new.as_str());
    let mut kept: Vec<_> = w.env.store.subscriptions(&w.ana.id).await.unwrap().into_iter().map(|s| s.serial).collect();
    kept.sort();
    let mut expected = serials.to_vec();
    expected.sort();
    assert_eq!(kept, expected, "the account keeps its serials");
    for token in [&w.token, &other] {
        assert!(w.env.session_of_token(token, Utc::now()).await.is_none(), "every session ended");
    }
    let (fresh, _) = w.env.session_from(&w.ana, "203.0.113.10", "x", Duration::zero()).await;
    let reused = confirm(&w, &fresh, &token).await;
    assert_eq!((reused.status, reused.body["code"].as_str()), (400, Some("invalid_token")), "used once");
}

#[tokio::test]
async fn a_taken_address_is_refused_without_saying_whose_and_nothing_moves() {
    let w = world().await;
    let bob_email = w.env.email("bob");
    let bob = w.env.add_account(&bob_email, "Bob-password-2026", "Bob Industrial SA").await;
    let a = ask_change(&w, &bob_email, PASSWORD).await;
    assert_eq!(a.status, 202, "the request says nothing about the address: {}", a.text);
    let token = link_to(&w, &bob_email);
    let refused = confirm(&w, &w.token, &token).await;
    assert_eq!((refused.status, refused.body["code"].as_str()), (409, Some("email_taken")), "{}", refused.text);
    for whose in [bob.id.as_str(), "Bob", bob_email.as_str()] {
        assert!(!refused.text.contains(whose), "{whose} in {}", refused.text);
    }
    assert_eq!(w.env.store.credentials(&bob_email).await.unwrap().unwrap().account, bob.id, "Bob's login untouched");
    assert_eq!(w.env.store.credentials(&w.ana.email).await.unwrap().unwrap().account, w.ana.id, "Ana's stays");
    assert!(w.env.session_of_token(&w.token, Utc::now()).await.is_some(), "no session ended");
}

#[tokio::test]
async fn the_password_is_checked_like_a_login_and_only_the_latest_link_of_ones_own_account_confirms() {
    let w = world().await;
    let new = w.env.email("nueva");
    let wrong = ask_change(&w, &new, "Not-the-password-1").await;
    assert_eq!((wrong.status, wrong.body["code"].as_str()), (401, Some("invalid_credentials")));
    let hour = w.env.raw(&keys::login_failures_hour(&w.ana.email, Utc::now())).await.expect("counted");
    assert_eq!(hour["failures"].as_n().unwrap(), "1");
    assert!(w.env.mails_to(&new).is_empty(), "no link for a wrong password");
    let same = ask_change(&w, &w.ana.email, PASSWORD).await;
    assert_eq!((same.status, same.body["code"].as_str()), (400, Some("invalid_request")));
    let not_an_address =
        ask(&w.app, "email-change", &[("TOKEN", &w.token), ("NEW_EMAIL", "nadie"), ("PASSWORD", PASSWORD)]).await;
    assert_eq!(not_an_address.status, 400);

    assert_eq!(ask_change(&w, &new, PASSWORD).await.status, 202);
    let first = link_to(&w, &new);
    let newer = w.env.email("otra");
    assert_eq!(ask_change(&w, &newer, PASSWORD).await.status, 202);
    let second = link_to(&w, &newer);
    let old_link = confirm(&w, &w.token, &first).await;
    assert_eq!(
        (old_link.status, old_link.body["code"].as_str()),
        (400, Some("invalid_token")),
        "replaced by the newer"
    );
    let bob = w.env.add_account(&w.env.email("bob"), "Bob-password-2026", "Bob SA").await;
    let (bobs, _) = w.env.session_from(&bob, "192.0.2.1", "x", Duration::zero()).await;
    let not_bobs = confirm(&w, &bobs, &second).await;
    assert_eq!(
        (not_bobs.status, not_bobs.body["code"].as_str()),
        (400, Some("invalid_token")),
        "another account's link"
    );
    assert_eq!(confirm(&w, &w.token, "not-a-token").await.status, 400);
    assert_eq!(confirm(&w, &w.token, &second).await.status, 204);
    assert_eq!(w.env.store.credentials(&newer).await.unwrap().unwrap().account, w.ana.id);
}
