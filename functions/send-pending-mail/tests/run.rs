//! `send-pending-mail` against DynamoDB Local and moto: one scheduled run over what the
//! outbox holds, mails and events side by side, and the metrics it reports.

use chrono::{Duration, Utc};
use shared::events::{PendingEvent, PortalEvent};
use shared::mail::Mail;
use shared::outbox::{PendingMail, RunReport};
use shared::store::Outbox;
use shared::testing::TestEnv;

#[tokio::test]
async fn a_run_sends_what_is_left_buries_what_ses_refuses_for_good_and_reports_the_outbox_age() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", shared::domain::Plan::Subscription, Some(30)).await;
    let now = Utc::now();
    let mail = |to: &str, minutes: i64| {
        let body = Mail { to: to.into(), subject: "Aviso".into(), text: "t".into(), html: "<p>t</p>".into() };
        PendingMail::new(format!("run-{}-{minutes}", env.tag), body, now - Duration::minutes(minutes))
    };
    let waiting = mail(ana.email.as_str(), 7);
    let refused = mail("sin-dominio@", 9);
    let event = PendingEvent::new(&PortalEvent::activated(&sub, env.today()), now - Duration::minutes(3));
    for m in [&waiting, &refused] {
        env.store.put_outgoing(m).await.unwrap();
    }
    env.store.put_outgoing(&event).await.unwrap();

    let app = send_pending_mail::App::build(env.base());
    let (report, metrics) = shared::metrics::captured(app.run(now)).await;
    let report = report.unwrap();
    assert_eq!(
        report.mails,
        RunReport { sent: 1, dead: 1, oldest_age_seconds: 9 * 60, ..RunReport::default() },
        "{report:?}"
    );
    assert_eq!(report.events, RunReport { sent: 1, oldest_age_seconds: 3 * 60, ..RunReport::default() });
    assert_eq!(env.mails_to(&ana.email).len(), 1);
    assert_eq!(env.bus.published_of("SerialActivated").await.len(), 1);
    assert_eq!(env.dead_letters::<PendingMail>().await.len(), 1);
    for (name, value) in [("MailsSent", 1.0), ("MailsDead", 1.0), ("EventsSent", 1.0)] {
        assert_eq!(metrics.sum(name, &[]), value, "{name}: {metrics:?}");
    }
    assert_eq!(metrics.values("MailOutboxAge"), [540.0]);
    assert_eq!(metrics.values("EventOutboxAge"), [180.0]);

    // The next run: nothing left; the ages say so.
    let (report, metrics) = shared::metrics::captured(app.run(now + Duration::minutes(5))).await;
    let report = report.unwrap();
    assert_eq!((report.mails.sent, report.events.sent), (0, 0));
    assert_eq!((metrics.values("MailOutboxAge"), metrics.values("EventOutboxAge")), (vec![0.0], vec![0.0]));
}

#[tokio::test]
async fn a_stream_batch_publishes_the_events_its_transactions_wrote_once_and_leaves_mails_to_the_schedule() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", shared::domain::Plan::Subscription, Some(30)).await;
    let now = Utc::now();
    // An event as the transactions write it (not leased), and a mail that SES did not
    // take: both are inserts on the table's stream.
    let event = PendingEvent::new(&PortalEvent::activated(&sub, env.today()), now);
    env.store.put_outgoing(&event).await.unwrap();
    let body = Mail { to: ana.email.to_string(), subject: "Aviso".into(), text: "t".into(), html: "<p>t</p>".into() };
    env.store.put_outgoing(&PendingMail::new(format!("stream-{}", env.tag), body, now)).await.unwrap();

    let app = send_pending_mail::App::build(env.base());
    let batch = env.stream_batch().await;
    assert!(batch["Records"].as_array().unwrap().len() >= 2, "{batch}");
    let (outcome, metrics) = shared::metrics::captured(app.handle(&batch, now)).await;
    let streamed = RunReport { sent: 1, ..RunReport::default() };
    assert_eq!(outcome.unwrap(), send_pending_mail::Outcome::Streamed { streamed_events: streamed });
    assert_eq!(metrics.sum("EventsSent", &[]), 1.0, "{metrics:?}");
    let published = env.bus.published_of("SerialActivated").await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["detail"]["serial"], sub.serial.as_str());
    assert!(env.pending_events(now + Duration::hours(1), 10).await.is_empty(), "the event left the outbox");
    assert!(env.mails_to(&ana.email).is_empty(), "mails are the request's and the schedule's");
    assert_eq!(env.pending_mails(now + Duration::hours(1), 10).await.len(), 1);

    // Lambda delivers a batch at least once: the same batch again publishes nothing.
    let again = app.handle(&batch, now).await.unwrap();
    assert_eq!(
        again,
        send_pending_mail::Outcome::Streamed { streamed_events: RunReport { held: 1, ..RunReport::default() } }
    );
    assert_eq!(env.bus.published_of("SerialActivated").await.len(), 1);

    // The schedule's event is a scheduled run, which sends the mail.
    let tick = serde_json::json!({"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}});
    let run = app.handle(&tick, now + Duration::minutes(3)).await.unwrap();
    let send_pending_mail::Outcome::Run(report) = run else { panic!("a scheduled run: {run:?}") };
    assert_eq!(report.mails.sent, 1, "{report:?}");
    assert_eq!(env.mails_to(&ana.email).len(), 1);
}
