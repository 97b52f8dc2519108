//! The outbox against DynamoDB Local and moto's SES v2: what a refusal for good, a passing
//! failure, a lost clear and a malformed item do to one mail and to the run, and the
//! metrics each writes. moto refuses a mail from a sender it has no identity for
//! (`MessageRejected`) and an address without a domain (`InvalidParameterValue`); SES
//! behind a proxy that drops the connection is a failure that passes.

use chrono::{DateTime, Duration, Utc};
use shared::mail::{Mail, Mailer};
use shared::metrics::captured;
use shared::outbox::{
    deliver, outbox_instant, retry_dead, retry_delay, send_pending, Delivery, PendingMail, GRACE, LEASE, MAX_ATTEMPTS,
};
use shared::store::{keys, Outbox};
use shared::testing::{Fault, Proxy, TestEnv};

fn mail_to(env: &TestEnv, to: &str, created_at: DateTime<Utc>) -> PendingMail {
    let mail = Mail {
        to: to.to_string(),
        subject: "Restablece tu contraseña de Aspel".into(),
        text: "Abre http://127.0.0.1:5173/password-reset?token=secret-token".into(),
        html: "<p>Abre el enlace</p>".into(),
    };
    PendingMail::new(format!("test-{}-{}", env.tag, shared::domain::token::random_id().unwrap()), mail, created_at)
}

/// A sender moto has no identity for: every mail from it is `MessageRejected`.
fn unverified_sender(env: &TestEnv) -> Mailer {
    Mailer::new(shared::aws::sesv2(&env.sdk), format!("refused.{}@unverified.example", env.tag))
}

/// SES reached through `proxy`, one attempt per send (as the functions build it).
fn mailer_via(env: &TestEnv, proxy: &Proxy) -> Mailer {
    let conf = shared::aws::sesv2_config(&env.sdk).endpoint_url(proxy.url()).build();
    Mailer::new(aws_sdk_sesv2::Client::from_conf(conf), env.mail_settings.mail_from.clone())
}

fn endpoint(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set"))
}

#[tokio::test]
async fn a_mail_ses_refuses_for_good_is_dead_after_one_try_with_its_reason() {
    let env = TestEnv::new().await;
    let to = env.email("ana");
    let now = Utc::now();
    let pending = mail_to(&env, to.as_str(), now);
    env.store.put_outgoing(&pending).await.unwrap();

    let (delivery, metrics) = captured(deliver(&env.store, &unverified_sender(&env), &pending, now)).await;
    let Delivery::Dead(reason) = delivery else { panic!("dead at once: {delivery:?}") };
    assert!(reason.starts_with("mail refused: MessageRejected"), "{reason}");
    assert!(env.pending_mails(now + Duration::days(2), 10).await.is_empty(), "out of the outbox");
    let dead = env.dead_letters::<PendingMail>().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!((&dead[0].message, dead[0].attempts, &dead[0].reason), (&pending, 1, &reason));
    assert!(env.mails_to(&to).is_empty());
    assert_eq!(metrics.sum("MailsDead", &[]), 1.0);
    assert_eq!(metrics.sum("MailsSent", &[]) + metrics.sum("MailsFailed", &[]), 0.0);

    // A run later finds nothing to send, and leaves the dead letter alone.
    let report = send_pending(&env.store, &env.mailer, now + Duration::days(2)).await.unwrap();
    assert_eq!((report.sent, report.failed, report.dead), (0, 0, 0));
    assert_eq!(env.dead_letters::<PendingMail>().await.len(), 1);

    // Sent back (the sender fixed): into the outbox as new, and out to moto.
    let (retried, metrics) = captured(retry_dead(&env.store, &env.mailer, &pending.id, Utc::now())).await;
    let (again, delivery) = retried.unwrap().expect("it was dead");
    assert!(matches!(delivery, Delivery::Sent(_)), "{delivery:?}");
    assert_eq!((again.id.as_str(), &again.mail), (pending.id.as_str(), &pending.mail));
    assert!(env.dead_letters::<PendingMail>().await.is_empty());
    assert_eq!(env.mails_to(&to).len(), 1);
    assert_eq!(metrics.sum("MailsSent", &[]), 1.0);
    assert!(retry_dead(&env.store, &env.mailer, &pending.id, Utc::now()).await.unwrap().is_none(), "once");
}

#[tokio::test]
async fn an_address_ses_cannot_take_is_dead_after_one_try_and_the_run_goes_on() {
    let env = TestEnv::new().await;
    let now = Utc::now();
    let earlier = now - Duration::minutes(10);
    let bad = mail_to(&env, "ana@", earlier);
    let good_to = env.email("luis");
    let good = mail_to(&env, good_to.as_str(), earlier + Duration::seconds(1));
    for m in [&bad, &good] {
        env.store.put_outgoing(m).await.unwrap();
    }

    let (report, metrics) = captured(send_pending(&env.store, &env.mailer, now)).await;
    let report = report.unwrap();
    assert_eq!((report.sent, report.dead, report.failed), (1, 1, 0), "{report:?}");
    assert_eq!(env.mails_to(&good_to).len(), 1, "the next mail went all the same");
    let dead = env.dead_letters::<PendingMail>().await;
    assert_eq!(dead.iter().map(|d| d.message.id.as_str()).collect::<Vec<_>>(), [bad.id.as_str()]);
    assert!(dead[0].reason.contains("InvalidParameterValue"), "{}", dead[0].reason);
    assert_eq!((metrics.sum("MailsSent", &[]), metrics.sum("MailsDead", &[])), (1.0, 1.0));
    assert_eq!(metrics.values("MailOutboxAge"), [600.0], "the oldest mail not sent yet when the run began");
}

#[tokio::test]
async fn a_mail_ses_cannot_take_now_keeps_its_error_waits_and_goes_with_a_later_run() {
    let env = TestEnv::new().await;
    let to = env.email("ana");
    let ses = Proxy::start(&endpoint("AWS_ENDPOINT_URL_SESV2")).await;
    ses.set(Fault::Reset);
    let mailer = mailer_via(&env, &ses);
    let now = Utc::now();
    let pending = mail_to(&env, to.as_str(), now);
    env.store.put_outgoing(&pending).await.unwrap();

    let (delivery, metrics) = captured(deliver(&env.store, &mailer, &pending, now)).await;
    assert!(matches!(&delivery, Delivery::Failed(why) if why.contains("could not reach SES")), "{delivery:?}");
    assert_eq!(ses.seen().len(), 1, "one attempt: the outbox is the retry, not the SDK");
    assert_eq!(metrics.sum("MailsFailed", &[]), 1.0);
    let queued = env.queued::<PendingMail>(now + Duration::days(1), 10).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(
        (queued[0].attempts, queued[0].last_error.as_deref()),
        (1, Some("mail service unavailable: could not reach SES"))
    );
    assert_eq!(queued[0].lease_until, Some(outbox_instant(now + retry_delay(1))), "it waits before its next attempt");

    // A run before the wait is over leaves it; one after sends it.
    ses.set(Fault::Forward);
    let soon = now + GRACE + Duration::seconds(1);
    let report = send_pending(&env.store, &mailer, soon).await.unwrap();
    assert_eq!((report.sent, report.held), (0, 1), "{report:?}");
    let before = env.calls.now();
    let later = now + retry_delay(1) + Duration::seconds(1);
    let (report, metrics) = captured(send_pending(&env.store, &mailer, later)).await;
    let report = report.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0), "{report:?}");
    let cost = env.calls.since(before);
    assert_eq!(cost.calls, 3, "one Query, the lease, then the clear");
    assert_eq!(cost.round_trips, 3);
    assert_eq!(env.mails_to(&to).len(), 1);
    assert!(env.raw(&keys::mail(&pending)).await.is_none(), "cleared");
    assert_eq!(metrics.sum("MailsSent", &[]), 1.0);
    assert_eq!(metrics.values("MailOutboxAge"), [(later - now).num_seconds() as f64]);
}

#[tokio::test]
async fn a_mail_that_never_gets_through_is_dead_after_the_last_attempt() {
    let env = TestEnv::new().await;
    let ses = Proxy::start(&endpoint("AWS_ENDPOINT_URL_SESV2")).await;
    ses.set(Fault::Reset);
    let mailer = mailer_via(&env, &ses);
    let start = Utc::now();
    let pending = mail_to(&env, env.email("ana").as_str(), start);
    env.store.put_outgoing(&pending).await.unwrap();

    let mut at = start + GRACE + Duration::seconds(1);
    let mut runs = 0;
    loop {
        let report = send_pending(&env.store, &mailer, at).await.unwrap();
        runs += 1;
        if report.dead == 1 {
            break;
        }
        assert_eq!(report.failed, 1, "run {runs}: {report:?}");
        assert!(runs < MAX_ATTEMPTS, "still trying after {runs} runs");
        // The next run after its wait.
        let waiting = env.queued::<PendingMail>(at + Duration::days(2), 10).await;
        at = waiting[0].lease_until.unwrap() + Duration::seconds(1);
    }
    assert_eq!(runs, MAX_ATTEMPTS);
    assert!(at - start > Duration::hours(20), "about a day of trying: {}", at - start);
    let dead = env.dead_letters::<PendingMail>().await;
    assert_eq!(dead[0].attempts, MAX_ATTEMPTS);
    assert!(dead[0].reason.starts_with(&format!("{MAX_ATTEMPTS} attempts without success")), "{}", dead[0].reason);
}

#[tokio::test]
async fn a_mail_marked_sent_whose_clear_was_lost_is_not_sent_again() {
    let env = TestEnv::new().await;
    let to = env.email("ana");
    let now = Utc::now();
    let pending = mail_to(&env, to.as_str(), now - Duration::minutes(10));
    env.store.put_outgoing(&pending).await.unwrap();
    // SES took it and the mark landed; the clear did not.
    assert!(Outbox::<PendingMail>::lease(&env.store, &pending, now, now + LEASE).await.unwrap().is_some());
    env.store.mark_sent(&pending, "ses-message-id", now).await.unwrap();

    assert!(
        Outbox::<PendingMail>::lease(&env.store, &pending, now + Duration::hours(1), now + Duration::hours(2))
            .await
            .unwrap()
            .is_none(),
        "a marked mail is never leased for sending again"
    );
    let report = send_pending(&env.store, &env.mailer, now + Duration::hours(1)).await.unwrap();
    assert_eq!((report.sent, report.cleared), (0, 1), "{report:?}");
    assert!(env.mails_to(&to).is_empty(), "not sent twice");
    assert!(env.raw(&keys::mail(&pending)).await.is_none(), "cleared now");
    // A mark after the clear makes no stray item.
    env.store.mark_sent(&pending, "ses-message-id", now).await.unwrap();
    assert!(env.raw(&keys::mail(&pending)).await.is_none());
}

#[tokio::test]
async fn a_sent_mail_whose_clear_fails_is_marked_and_not_sent_again() {
    let env = TestEnv::new().await;
    let to = env.email("ana");
    let now = Utc::now();
    let pending = mail_to(&env, to.as_str(), now - Duration::minutes(10));
    env.store.put_outgoing(&pending).await.unwrap();
    // The store as the functions reach it, through a proxy that drops every DeleteItem.
    let dynamodb = Proxy::start(&endpoint("AWS_ENDPOINT_URL_DYNAMODB")).await;
    let store = env.store_via(&dynamodb);
    dynamodb.set(Fault::ResetOnly("DeleteItem"));

    let delivery = deliver(&store, &env.mailer, &pending, now).await;
    assert!(matches!(delivery, Delivery::Sent(_)), "{delivery:?}");
    // The mark is written off the caller's path: it lands soon after.
    let mut marked = None;
    for _ in 0..100 {
        marked = env.raw(&keys::mail(&pending)).await.filter(|item| item.contains_key("sent_at"));
        if marked.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(marked.is_some(), "marked sent, and still in the outbox");
    let ops = dynamodb.seen();
    assert_eq!(ops.first().map(String::as_str), Some("UpdateItem"), "the lease: {ops:?}");
    assert!(ops.iter().any(|op| op == "DeleteItem"), "the clear was tried first: {ops:?}");
    assert_eq!(ops.last().map(String::as_str), Some("UpdateItem"), "the mark, once the clear failed: {ops:?}");

    // The next run, with the store back, clears it without sending it again.
    dynamodb.set(Fault::Forward);
    let report = send_pending(&store, &env.mailer, now + LEASE + Duration::minutes(1)).await.unwrap();
    assert_eq!((report.sent, report.cleared), (0, 1), "{report:?}");
    assert_eq!(env.mails_to(&to).len(), 1, "sent once");
    assert!(env.raw(&keys::mail(&pending)).await.is_none(), "cleared now");
}

#[tokio::test]
async fn a_malformed_outbox_item_is_skipped_and_logged_and_the_mails_after_it_go() {
    let env = TestEnv::new().await;
    let now = Utc::now();
    let earlier = now - Duration::minutes(30);
    // Older than the good mail, so it comes first in the page: no `to`, no `created_at`.
    let broken = keys::mail(&mail_to(&env, "x@example.com", earlier));
    use aws_sdk_dynamodb::types::AttributeValue::S;
    env.store
        .client()
        .put_item()
        .table_name(env.store.table())
        .item("pk", S(broken.pk.clone()))
        .item("sk", S(broken.sk.clone()))
        .item("type", S("pending_mail".into()))
        .item("id", S("broken".into()))
        .send()
        .await
        .unwrap();
    let to = env.email("ana");
    let good = mail_to(&env, to.as_str(), earlier + Duration::minutes(1));
    env.store.put_outgoing(&good).await.unwrap();

    let (report, metrics) = captured(send_pending(&env.store, &env.mailer, now)).await;
    let report = report.unwrap();
    assert_eq!((report.malformed, report.sent), (1, 1), "{report:?}");
    assert_eq!(env.mails_to(&to).len(), 1);
    assert_eq!(metrics.sum("OutboxMalformed", &[]), 1.0);
    assert!(env.raw(&broken).await.is_some(), "left as it is, for an operator to look at");
}

#[tokio::test]
async fn a_dead_event_keeps_its_detail_and_goes_to_the_bus_when_sent_back() {
    use shared::events::{PendingEvent, PortalEvent};
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", shared::domain::Plan::Subscription, Some(30)).await;
    let now = Utc::now();
    let event = PendingEvent::new(&PortalEvent::activated(&sub, env.today()), now);
    env.store.put_outgoing(&event).await.unwrap();
    assert!(env.store.bury(&event, 3, "EventBridge said no", now).await.unwrap());
    assert!(!env.store.bury(&event, 3, "again", now).await.unwrap(), "only what is still in the outbox");
    let dead = env.dead_letters::<PendingEvent>().await;
    assert_eq!((&dead[0].message, dead[0].attempts, dead[0].reason.as_str()), (&event, 3, "EventBridge said no"));
    assert!(env.raw(&keys::dead_event(&event.id)).await.is_some());

    let (_, delivery) = retry_dead(&env.store, &env.bus.bus, &event.id, Utc::now()).await.unwrap().unwrap();
    assert!(matches!(delivery, Delivery::Sent(_)), "{delivery:?}");
    let published = env.bus.published_of("SerialActivated").await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["detail"]["serial"], sub.serial.as_str());
}
