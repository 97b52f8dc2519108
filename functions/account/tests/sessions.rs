//! `GET /sessions` and `DELETE /sessions/{id}` against DynamoDB Local: the account's live
//! sessions with where they came from, never a token or digest; ending one.

mod common;

use chrono::{Duration, Utc};
use common::{ask, world, HOME, PASSWORD};
use shared::store::keys;

#[tokio::test]
async fn the_list_shows_the_live_sessions_newest_first_and_nothing_secret() {
    let w = world().await;
    let (other, other_session) =
        w.env.session_from(&w.ana, "198.51.100.7", "Firefox/140.0", Duration::minutes(20)).await;
    // Unused for longer than the idle limit: dead, not listed.
    let (_, idle) = w.env.session_from(&w.ana, "198.51.100.8", "Old", Duration::minutes(45)).await;
    let bob = w.env.add_account(&w.env.email("bob"), PASSWORD, "Otra SA").await;
    let (_, bobs) = w.env.session_from(&bob, "192.0.2.99", "Bob", Duration::zero()).await;
    let before = w.env.calls.now();
    let a = ask(&w.app, "sessions", &[("TOKEN", &w.token)]).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(w.env.calls.since(before).round_trips, 1, "the session check and the list go out together");
    let list = a.body["sessions"].as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["current"], true, "the caller's, the newest");
    assert_eq!(list[0]["source_ip"], HOME);
    assert_eq!(list[1]["current"], false);
    assert_eq!(list[1]["id"], other_session.id.as_str());
    assert_eq!(
        (list[1]["source_ip"].as_str(), list[1]["user_agent"].as_str()),
        (Some("198.51.100.7"), Some("Firefox/140.0"))
    );
    let created: chrono::DateTime<Utc> = list[1]["created_at"].as_str().unwrap().parse().unwrap();
    assert!((created - other_session.created_at).num_seconds().abs() <= 1);
    for secret in [w.token.as_str(), &other, other_session.digest.as_str(), &idle.id, &bobs.id] {
        assert!(!a.text.contains(secret), "{secret} in {}", a.text);
    }
}

#[tokio::test]
async fn ending_a_session_stops_it_and_ending_ones_own_is_a_logout() {
    let w = world().await;
    let (other, other_session) = w.env.session_from(&w.ana, "198.51.100.7", "Firefox", Duration::minutes(1)).await;
    let end = |id: String| {
        let token = w.token.clone();
        let app = &w.app;
        async move { ask(app, "session-end", &[("TOKEN", &token), ("SESSION_ID", &id)]).await }
    };
    let a = end(other_session.id.clone()).await;
    assert_eq!(a.status, 204, "{}", a.text);
    assert!(w.env.session_of_token(&other, Utc::now()).await.is_none(), "that token no longer works");
    assert!(w.env.raw(&keys::session_pointer(&w.ana.id, &other_session.id)).await.is_none());
    let again = end(other_session.id.clone()).await;
    assert_eq!((again.status, again.body["code"].as_str()), (404, Some("not_found")), "ended already");
    let bob = w.env.add_account(&w.env.email("bob"), PASSWORD, "Otra SA").await;
    let (bobs_token, bobs) = w.env.session_from(&bob, "192.0.2.99", "Bob", Duration::zero()).await;
    assert_eq!(end(bobs.id.clone()).await.status, 404, "another account's session is never found");
    assert!(w.env.session_of_token(&bobs_token, Utc::now()).await.is_some());
    assert_eq!(end("../PROFILE".into()).await.status, 404, "not an id");
    let listed = ask(&w.app, "sessions", &[("TOKEN", &w.token)]).await;
    let own = listed.body["sessions"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(end(own).await.status, 204);
    let after = ask(&w.app, "sessions", &[("TOKEN", &w.token)]).await;
    assert_eq!((after.status, after.body["code"].as_str()), (401, Some("unauthorized")), "logged out");
}

#[tokio::test]
async fn a_method_the_path_does_not_serve_is_405() {
    let w = world().await;
    let a = ask(&w.app, "totp-wrong-method", &[("TOKEN", &w.token)]).await;
    assert_eq!((a.status, a.body["code"].as_str()), (405, Some("method_not_allowed")));
}
