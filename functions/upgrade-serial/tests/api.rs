//! `upgrade-serial` against DynamoDB Local and moto: the rules, the single transaction,
//! idempotency under concurrency, and the mail that survives an SES outage.

use std::sync::Arc;

use chrono::{Duration, Utc};
use serde_json::Value;
use shared::domain::{Account, Plan, Serial, SerialStatus};
use shared::http::Function;
use shared::mail::Mailer;
use shared::outbox::send_pending;
use shared::store::{keys, DynamoStore, SubscriptionReader};
use shared::testing::{checked, fixture, json_of, TestEnv};
use upgrade_serial::App;

struct World {
    env: TestEnv,
    function: Function<App<DynamoStore>>,
    ana: Account,
    token: String,
}

async fn world_with(mailer: Option<Mailer>) -> World {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let mut base = env.base();
    if let Some(mailer) = mailer {
        base.mail = Some((env.mail_settings.clone(), mailer));
    }
    let function = App::build(base);
    let token = env.session_for(&ana).await;
    World { env, function, ana, token }
}

async fn world() -> World {
    world_with(None).await
}

impl World {
    async fn upgrade(&self, fixture_name: &str, serial: &str) -> (u16, Value) {
        let req = fixture(fixture_name, &[("TOKEN", &self.token), ("SERIAL", serial), ("TERMS_VERSION", "2022-10")]);
        // The handler's answer, checked against `openapi.yaml` for its route.
        let res = checked(req, |r| self.function.handle(r)).await;
        (res.status().as_u16(), json_of(&res))
    }
}

#[tokio::test]
async fn upgrade_issues_a_new_serial_supersedes_the_old_and_mails_it() {
    let w = world().await;
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let before = w.env.calls.now();
    let ((status, body), metrics) = shared::metrics::captured(w.upgrade("upgrade", old.serial.as_str())).await;
    assert_eq!(status, 201, "{body}");
    let cost = w.env.calls.since(before);
    assert_eq!(metrics.sum("Upgrades", &[]), 1.0, "{metrics:?}");
    assert_eq!((metrics.sum("MailsSent", &[]), metrics.sum("EventsSent", &[])), (1.0, 0.0), "{metrics:?}");
    let new = &body["subscription"];
    let previous = &body["previous"];
    let new_serial = Serial::parse(new["serial"].as_str().unwrap()).expect("a valid serial");
    assert_ne!(new_serial, old.serial);
    assert_eq!(new["version"], "8.0");
    assert_eq!(new["system"], "SAE");
    assert_eq!(new["users"], 1);
    assert_eq!(new["billing_period"], "monthly");
    assert_eq!(new["next_payment_on"], old.next_payment_on.unwrap().to_string());
    assert_eq!(new["activated_on"], Value::Null);
    assert_eq!(new["upgraded_from"], old.serial.as_str());
    assert_eq!(new["status"], "active");
    assert_eq!(new["upgrade"]["reason"], "latest_version");
    assert_eq!(previous["status"], "superseded");
    assert_eq!(previous["superseded_by"], new_serial.as_str());
    assert_eq!(previous["valid_until"], old.next_payment_on.unwrap().to_string());
    // The reads together (the session, the account's profile and the old serial in one
    // BatchGetItem; the catalog on first use), then the one transaction (which also leases
    // the mail and writes the event for the table's stream), then SES, then the mail's
    // clear from the outbox.
    assert_eq!(cost.calls, 4, "store calls of an upgrade");
    assert_eq!(cost.round_trips, 3, "round trips of an upgrade: 2 before SES, 3 in all");

    let stored_old = w.env.store.subscription(&w.ana.id, &old.serial).await.unwrap().unwrap();
    assert_eq!(stored_old.status(w.env.today()), SerialStatus::Superseded);
    let stored_new = w.env.store.subscription(&w.ana.id, &new_serial).await.unwrap().unwrap();
    assert_eq!(stored_new.upgraded_from.as_ref(), Some(&old.serial));

    use aws_sdk_dynamodb::types::AttributeValue::S;
    let mails = w.env.mails_to(&w.ana.email);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].subject, "Actualización de versión para tu sistema Aspel SAE");
    let body = &mails[0].body;
    assert!(body.contains(new_serial.as_str()), "{body}");
    assert!(body.contains(old.serial.as_str()));
    assert!(body.contains(&old.next_payment_on.unwrap().format("%d/%m/%Y").to_string()));
    assert!(body.contains("Ana Ruiz") && body.contains("800 277 3735") && body.contains("distribuidores"));
    assert!(w.env.pending_mails(Utc::now() + Duration::hours(1), 10).await.is_empty(), "outbox emptied");

    // Billing and the CRM hear of it once: the new serial is charged from now on. The
    // request did not publish it: the event waits in the outbox, unleased, for the
    // table's stream, which hands it to the bus.
    assert!(w.env.bus.published().await.is_empty(), "no request waits on the bus");
    let waiting = w.env.queued::<shared::events::PendingEvent>(Utc::now() + Duration::hours(1), 10).await;
    assert!(waiting.len() == 1 && waiting[0].lease_until.is_none(), "{waiting:?}");
    assert_eq!(w.env.deliver_stream().await.sent, 1);
    let upgraded = w.env.bus.published_of("SerialUpgraded").await;
    assert_eq!(upgraded.len(), 1, "{upgraded:?}");
    let detail = &upgraded[0]["detail"];
    assert_eq!(upgraded[0]["source"], "serial-portal");
    assert_eq!(detail["old_serial"], old.serial.as_str());
    assert_eq!(detail["new_serial"], new_serial.as_str());
    assert_eq!(detail["account_id"], w.ana.id.as_str());
    assert_eq!(detail["terms_version"], "2022-10");
    assert_eq!(detail["next_payment_on"], old.next_payment_on.unwrap().to_string());
    assert!(w.env.pending_events(Utc::now() + Duration::hours(1), 10).await.is_empty(), "event cleared");
    // The validation of the new serial reads its claim, which carries the company.
    let claim = w.env.raw(&keys::serial_claim(&new_serial)).await.expect("the new serial's claim");
    assert_eq!(claim["company"], S(w.ana.company.clone()));
    assert_eq!(claim["version"], S("8.0".into()));

    // The terms acceptance was recorded with the caller's IP and user agent.
    let terms = w.env.raw(&keys::terms(&w.ana.id, &old.serial)).await.expect("terms record");
    assert_eq!(terms["terms_version"], S("2022-10".into()));
    assert_eq!(terms["source_ip"], S("203.0.113.10".into()));
    assert!(terms["user_agent"].as_s().unwrap().contains("PortalFixture"));
}

#[tokio::test]
async fn asking_again_answers_the_same_without_a_new_serial_or_mail() {
    let w = world().await;
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let (s1, first) = w.upgrade("upgrade", old.serial.as_str()).await;
    let (s2, again) = w.upgrade("upgrade", old.serial.as_str()).await;
    assert_eq!((s1, s2), (201, 200));
    assert_eq!(first, again);
    assert_eq!(w.env.mails_to(&w.ana.email).len(), 1);
    w.env.deliver_stream().await;
    assert_eq!(w.env.bus.published_of("SerialUpgraded").await.len(), 1, "no second event");
    assert_eq!(w.env.store.subscriptions(&w.ana.id).await.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_make_one_serial_and_one_mail() {
    let w = Arc::new(world().await);
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (w, serial) = (w.clone(), old.serial.to_string());
        tasks.push(tokio::spawn(async move { w.upgrade("upgrade", &serial).await }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let created = results.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "{:?}", results.iter().map(|r| r.0).collect::<Vec<_>>());
    assert!(results.iter().all(|(s, _)| *s == 201 || *s == 200), "{results:?}");
    let serials: std::collections::HashSet<String> =
        results.iter().map(|(_, b)| b["subscription"]["serial"].as_str().unwrap().to_string()).collect();
    assert_eq!(serials.len(), 1, "every answer names the same new serial");
    let stored = w.env.store.subscriptions(&w.ana.id).await.unwrap();
    assert_eq!(stored.len(), 2, "one old, one new");
    assert_eq!(w.env.mails_to(&w.ana.email).len(), 1);
    // The stream delivered twice (Lambda's delivery is at least once): still one event.
    let (a, b) = tokio::join!(w.env.deliver_stream(), w.env.deliver_stream());
    assert_eq!(a.sent + b.sent, 1, "{a:?} {b:?}");
    assert_eq!(w.env.bus.published_of("SerialUpgraded").await.len(), 1, "one event");
}

#[tokio::test]
async fn refusals_follow_the_contract() {
    let w = world().await;
    let license = w.env.add_serial(&w.ana, "COI", "10.0", Plan::License, None).await;
    let expired = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(-2)).await;
    let latest = w.env.add_serial(&w.ana, "NOI", "11.0", Plan::Subscription, Some(30)).await;
    let active = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(30)).await;
    let others = w.env.add_account(&w.env.email("luis"), "Password-luis-1", "Pérez SC").await;
    let not_mine = w.env.add_serial(&others, "SAE", "7.0", Plan::Subscription, Some(30)).await;

    let cases = [
        ("upgrade", license.serial.to_string(), 409, "purchase_required"),
        ("upgrade", expired.serial.to_string(), 409, "subscription_expired"),
        ("upgrade", latest.serial.to_string(), 409, "no_upgrade_available"),
        ("upgrade-terms-not-accepted", active.serial.to_string(), 422, "terms_not_accepted"),
        ("upgrade-stale-terms", active.serial.to_string(), 422, "terms_not_accepted"),
        ("upgrade", not_mine.serial.to_string(), 404, "not_found"),
        ("upgrade", Serial::generate().unwrap().to_string(), 404, "not_found"),
        ("upgrade-malformed-body", active.serial.to_string(), 400, "invalid_request"),
        ("upgrade-no-token", active.serial.to_string(), 401, "unauthorized"),
        ("upgrade-bad-check-character", String::new(), 400, "invalid_request"),
    ];
    let before = w.env.calls.calls();
    let (status, _) = w.upgrade("upgrade-bad-check-character", "").await;
    assert_eq!((status, w.env.calls.calls()), (400, before), "a mistyped serial costs no store read");
    // Nor does a request without a bearer, on an instance whose catalog is not read yet.
    let fresh = App::build(w.env.base());
    let res = fresh
        .handle(fixture("upgrade-no-token", &[("SERIAL", active.serial.as_str()), ("TERMS_VERSION", "2022-10")]))
        .await;
    assert_eq!((res.status().as_u16(), w.env.calls.calls()), (401, before), "no bearer costs no store read");
    for (name, serial, status, code) in cases {
        let (got, body) = w.upgrade(name, &serial).await;
        assert_eq!((got, body["code"].as_str().unwrap_or_default()), (status, code), "{name} {serial}: {body}");
    }
    // Nothing was written by any refusal.
    assert_eq!(w.env.store.subscriptions(&w.ana.id).await.unwrap().len(), 4);
    assert!(w.env.mails_to(&w.ana.email).is_empty());
    let (status, body) = w.upgrade("upgrade-stale-terms", active.serial.as_str()).await;
    assert_eq!((status, &body["terms_version"]), (422, &Value::from("2022-10")), "names the current terms");

    // An inactive serial (upgraded, last day passed) cannot be upgraded again.
    let inactive = w.env.add_serial(&w.ana, "SAE", "6.0", Plan::Subscription, Some(-1)).await;
    w.env.mark_upgraded(&inactive, -1).await;
    let (status, body) = w.upgrade("upgrade", inactive.serial.as_str()).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (409, "not_active"));
}

#[tokio::test]
async fn the_mail_survives_an_ses_outage_and_is_sent_once_by_the_retry() {
    let dead_ses = {
        let sdk = shared::aws::sdk_config().await;
        let conf = aws_sdk_sesv2::config::Builder::from(&sdk).endpoint_url("http://127.0.0.1:1").build();
        Mailer::new(aws_sdk_sesv2::Client::from_conf(conf), "no-reply@portal.example")
    };
    let w = world_with(Some(dead_ses)).await;
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let (status, body) = w.upgrade("upgrade", old.serial.as_str()).await;
    assert_eq!(status, 201, "the upgrade does not wait for SES: {body}");
    let new_serial = body["subscription"]["serial"].as_str().unwrap().to_string();
    assert!(w.env.mails_to(&w.ana.email).is_empty());
    let pending = w.env.pending_mails(Utc::now() + Duration::hours(1), 10).await;
    assert_eq!(pending.len(), 1);
    assert!(pending[0].mail.text.contains(&new_serial));

    // SES is back: the scheduled retry (the outbox's routine `send-pending-mail` runs)
    // sends it, once.
    let later = Utc::now() + Duration::minutes(3);
    let report = send_pending(&w.env.store, &w.env.mailer, later).await.unwrap();
    assert_eq!((report.sent, report.failed), (1, 0));
    let report = send_pending(&w.env.store, &w.env.mailer, later + Duration::minutes(5)).await.unwrap();
    assert_eq!(report.sent, 0, "nothing left");
    let mails = w.env.mails_to(&w.ana.email);
    assert_eq!(mails.len(), 1);
    assert!(mails[0].body.contains(&new_serial));
}

#[tokio::test]
async fn the_upgrade_event_survives_a_bus_outage_and_is_published_once_by_the_retry() {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let w = World { function: App::build(env.base_with_bus_down()), token: env.session_for(&ana).await, env, ana };
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let (status, body) = w.upgrade("upgrade", old.serial.as_str()).await;
    assert_eq!(status, 201, "the upgrade does not wait for the bus: {body}");
    assert_eq!(w.env.mails_to(&w.ana.email).len(), 1, "the mail went out all the same");
    // The stream hands the event over while the bus is down: it stays in the outbox.
    let streamed = w.env.deliver_stream_to(&w.env.bus.down()).await;
    assert_eq!((streamed.sent, streamed.failed), (0, 1), "{streamed:?}");
    assert!(w.env.bus.published().await.is_empty());
    let kept = w.env.pending_events(Utc::now() + Duration::hours(1), 10).await;
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].detail_type, "SerialUpgraded");

    // The bus is back: the scheduled retry publishes it, once.
    let later = Utc::now() + Duration::minutes(3);
    assert_eq!(send_pending(&w.env.store, &w.env.bus.bus, later).await.unwrap().sent, 1);
    assert_eq!(send_pending(&w.env.store, &w.env.bus.bus, later + Duration::minutes(5)).await.unwrap().sent, 0);
    let published = w.env.bus.published_of("SerialUpgraded").await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["detail"]["old_serial"], old.serial.as_str());
    assert_eq!(published[0]["detail"]["new_serial"], body["subscription"]["serial"]);
}

#[tokio::test]
async fn upgrading_a_legacy_serial_issues_a_portal_serial() {
    let env = TestEnv::new().await.with_legacy_serials();
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let old = shared::testing::legacy_serial(4321);
    env.add_serial_numbered(old.clone(), &ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let w = World { function: App::build(env.base()), token: env.session_for(&ana).await, env, ana };
    let (status, body) = w.upgrade("upgrade", "old-00004321").await;
    assert_eq!(status, 201, "{body}");
    let new_serial = Serial::parse(body["subscription"]["serial"].as_str().unwrap()).expect("a portal serial");
    assert!(!new_serial.is_legacy());
    assert_eq!(body["subscription"]["upgraded_from"], "OLD-00004321");
    assert_eq!(body["previous"]["serial"], "OLD-00004321");
    assert_eq!(body["previous"]["status"], "superseded");
    let stored = w.env.store.subscription(&w.ana.id, &old).await.unwrap().unwrap();
    assert_eq!(stored.superseded_by, Some(new_serial.clone()));
    let new = w.env.store.subscription(&w.ana.id, &new_serial).await.unwrap().unwrap();
    assert_eq!(new.upgraded_from, Some(old));
    w.env.deliver_stream().await;
    let upgraded = w.env.bus.published_of("SerialUpgraded").await;
    assert_eq!(upgraded.len(), 1, "its SerialUpgraded, within the events' contract");
    assert_eq!(upgraded[0]["detail"]["old_serial"], "OLD-00004321");
    assert_eq!(upgraded[0]["detail"]["new_serial"], new_serial.as_str());
}
