//! `record-payment` against DynamoDB Local and moto (EventBridge, SQS): billing's events
//! from `events/eventbridge/`, fed to the handler as the rule delivers them.

use chrono::{NaiveDate, Utc};
use record_payment::{App, DeadLetters, Outcome};
use serde_json::Value;
use shared::domain::{Plan, Serial, Subscription};
use shared::events::PendingEvent;
use shared::outbox::send_pending;
use shared::store::{keys, DynamoStore, SubscriptionReader};
use shared::testing::{checked, fixture, fixture_text, json_of, TestEnv};

fn app(env: &TestEnv) -> App<DynamoStore> {
    let dead_letters = DeadLetters::new(env.bus.sqs.clone(), &env.bus.dead_letter_queue);
    App::new(env.store.clone(), env.settings.clone(), dead_letters)
}

/// Billing's event for a payment, from the fixture.
fn payment_event(payment_id: &str, serial: &str, paid_through: NaiveDate) -> Value {
    let text = fixture_text(
        "eventbridge/payment-recorded",
        &[
            ("EVENT_ID", &format!("ev-{payment_id}")),
            ("PAYMENT_ID", payment_id),
            ("SERIAL", serial),
            ("PAID_THROUGH", &paid_through.to_string()),
        ],
    );
    serde_json::from_str(&text).unwrap()
}

async fn stored(env: &TestEnv, sub: &Subscription) -> Subscription {
    env.store.subscription(&sub.account, &sub.serial).await.unwrap().expect("the serial is stored")
}

#[tokio::test]
async fn a_payment_delivered_three_times_and_concurrently_applies_once_with_one_event() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(3)).await;
    let paid_through = env.days_from_today(33);
    let event = payment_event(&format!("P-{}", env.tag), sub.serial.as_str(), paid_through);
    shared::testing::bus::assert_event_contract(&event);
    let app = app(&env);

    // Three deliveries at once, then a fourth later.
    let ((a, b, c), metrics) = shared::metrics::captured(async {
        tokio::join!(app.handle(&event, Utc::now()), app.handle(&event, Utc::now()), app.handle(&event, Utc::now()))
    })
    .await;
    assert_eq!((metrics.sum("PaymentsApplied", &[]), metrics.sum("EventsSent", &[])), (1.0, 0.0), "{metrics:?}");
    let outcomes = [a.unwrap(), b.unwrap(), c.unwrap()];
    let applied = outcomes.iter().filter(|o| matches!(o, Outcome::Applied { .. })).count();
    assert_eq!(applied, 1, "exactly one delivery applies it: {outcomes:?}");
    assert!(matches!(app.handle(&event, Utc::now()).await.unwrap(), Outcome::AlreadyApplied { .. }));

    assert_eq!(stored(&env, &sub).await.next_payment_on, Some(paid_through));
    // The claim, which validations read, moved with the serial.
    let claim = env.raw(&keys::serial_claim(&sub.serial)).await.unwrap();
    assert_eq!(claim["next_payment_on"].as_s().unwrap(), &paid_through.to_string());

    // Its event leaves through the table's stream, not through the invocation.
    assert!(env.bus.published().await.is_empty());
    assert_eq!(env.deliver_stream().await.sent, 1);
    let published = env.bus.published_of("PaymentApplied").await;
    assert_eq!(published.len(), 1, "one PaymentApplied on the bus: {published:?}");
    let detail = &published[0]["detail"];
    assert_eq!(published[0]["source"], "serial-portal");
    assert_eq!(detail["serial"], sub.serial.as_str());
    assert_eq!(detail["next_payment_on"], paid_through.to_string());
    assert_eq!(detail["previous_next_payment_on"], env.days_from_today(3).to_string());
    let outbox = env.pending_events(Utc::now() + chrono::Duration::hours(1), 10).await;
    assert!(outbox.is_empty(), "the event left the outbox: {outbox:?}");
}

#[tokio::test]
async fn a_payment_never_moves_the_next_payment_backwards() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(60)).await;
    let event = payment_event(&format!("P-old-{}", env.tag), sub.serial.as_str(), env.days_from_today(30));
    assert!(matches!(app(&env).handle(&event, Utc::now()).await.unwrap(), Outcome::Applied { .. }));
    assert_eq!(stored(&env, &sub).await.next_payment_on, Some(env.days_from_today(60)), "kept, not moved back");
}

#[tokio::test]
async fn a_payment_for_a_superseded_serial_lands_on_its_successor() {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let new = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(5)).await;
    let old = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(5)).await;
    env.mark_upgraded_to(&old, &new.serial, 5).await;
    let paid_through = env.days_from_today(35);
    let event = payment_event(&format!("P-{}", env.tag), old.serial.as_str(), paid_through);
    let outcome = app(&env).handle(&event, Utc::now()).await.unwrap();
    assert_eq!(
        outcome,
        Outcome::Applied {
            payment_id: format!("P-{}", env.tag),
            serial: new.serial.to_string(),
            next_payment_on: paid_through.to_string()
        }
    );
    assert_eq!(stored(&env, &new).await.next_payment_on, Some(paid_through), "the successor is paid");
    let old_now = stored(&env, &old).await;
    assert_eq!(old_now.next_payment_on, Some(env.days_from_today(5)), "the old serial is left alone");
    assert_eq!(old_now.valid_until, Some(env.days_from_today(5)), "its last day does not move");
    env.deliver_stream().await;
    let published = env.bus.published_of("PaymentApplied").await;
    assert_eq!(published.len(), 1);
    assert_eq!(published[0]["detail"]["paid_serial"], old.serial.as_str());
    assert_eq!(published[0]["detail"]["serial"], new.serial.as_str());
}

#[tokio::test]
async fn an_expired_subscription_is_active_again_after_its_payment_and_offers_its_upgrade_again() {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(-4)).await;
    let list = list_subscriptions::App::build(env.base());
    let token = env.session_for(&ana).await;
    let row = |body: Value| body["subscriptions"].as_array().unwrap()[0].clone();
    let before = row(json_of(&checked(fixture("subscriptions", &[("TOKEN", &token)]), |r| list.handle(r)).await));
    assert_eq!(before["status"], "expired");
    assert_eq!(before["upgrade"]["available"], false);
    assert_eq!(before["upgrade"]["reason"], "expired");

    let paid_through = env.days_from_today(26);
    app(&env)
        .handle(&payment_event(&format!("P-{}", env.tag), sub.serial.as_str(), paid_through), Utc::now())
        .await
        .unwrap();

    let after = row(json_of(&checked(fixture("subscriptions", &[("TOKEN", &token)]), |r| list.handle(r)).await));
    assert_eq!(after["status"], "active");
    assert_eq!(after["next_payment_on"], paid_through.to_string());
    assert_eq!(after["upgrade"]["available"], true, "the upgrade is offered again: {after}");
    assert_eq!(after["upgrade"]["to_version"], "8.0");
}

#[tokio::test]
async fn malformed_unknown_serial_and_license_payments_are_dead_lettered_with_their_reasons_and_write_nothing() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let license = env.add_serial(&ana, "COI", "10.0", Plan::License, None).await;
    let unknown = Serial::generate().unwrap();
    let malformed: Value = serde_json::from_str(&fixture_text(
        "eventbridge/payment-recorded-malformed",
        &[("EVENT_ID", "ev-bad"), ("PAYMENT_ID", "P-bad"), ("SERIAL", license.serial.as_str())],
    ))
    .unwrap();
    let cases = [
        (malformed, "malformed", "paid_through"),
        (payment_event("P-unknown", unknown.as_str(), env.days_from_today(30)), "unknown_serial", unknown.as_str()),
        (payment_event("P-license", license.serial.as_str(), env.days_from_today(30)), "license", "license"),
    ];
    let app = app(&env);
    for (event, reason, named) in &cases {
        match app.handle(event, Utc::now()).await.unwrap() {
            Outcome::DeadLettered { reason: r, detail } => {
                assert_eq!(&r, reason);
                assert!(detail.contains(named), "{detail} names {named}");
            }
            other => panic!("{reason}: {other:?}"),
        }
    }
    let letters = env.bus.dead_letters().await;
    assert_eq!(letters.len(), 3, "{letters:?}");
    for (event, reason, _) in &cases {
        let letter = letters.iter().find(|l| l.attribute("reason") == Some(reason)).expect("a dead letter per case");
        assert_eq!(&letter.body, event, "the dead letter is the original event");
        assert!(letter.attribute("detail").is_some_and(|d| !d.is_empty()));
    }
    for id in ["P-bad", "P-unknown", "P-license"] {
        let id = shared::domain::PaymentId::parse(id).unwrap();
        assert!(env.raw(&keys::payment(&id)).await.is_none(), "nothing recorded for {id}");
    }
    assert_eq!(stored(&env, &license).await, license, "the license is untouched");
    assert!(env.bus.published().await.is_empty(), "nothing published");
}

#[tokio::test]
async fn a_payment_made_while_the_bus_is_down_publishes_its_event_once_the_bus_is_back() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(3)).await;
    let paid_through = env.days_from_today(33);
    let event = payment_event(&format!("P-{}", env.tag), sub.serial.as_str(), paid_through);
    assert!(matches!(app(&env).handle(&event, Utc::now()).await.unwrap(), Outcome::Applied { .. }));
    assert_eq!(stored(&env, &sub).await.next_payment_on, Some(paid_through), "the payment is applied all the same");
    // The stream hands the event over while the bus is down: it stays in the outbox.
    assert_eq!(env.deliver_stream_to(&env.bus.down()).await.failed, 1);
    assert!(env.bus.published().await.is_empty());

    // The scheduled run, after the lease: published once, and the outbox is empty.
    let later = Utc::now() + shared::outbox::LEASE + chrono::Duration::seconds(1);
    let report = send_pending::<PendingEvent>(&env.store, &env.bus.bus, later).await.unwrap();
    assert_eq!(report.sent, 1);
    let again = send_pending::<PendingEvent>(&env.store, &env.bus.bus, later).await.unwrap();
    assert_eq!(again.sent, 0);
    let published = env.bus.published_of("PaymentApplied").await;
    assert_eq!(published.len(), 1, "{published:?}");
    assert_eq!(published[0]["detail"]["payment_id"], format!("P-{}", env.tag));
}

#[tokio::test]
async fn a_payment_waits_on_the_store_twice_and_a_redelivery_once() {
    let env = TestEnv::new().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let sub = env.add_serial(&ana, "SAE", "8.0", Plan::Subscription, Some(3)).await;
    let event = payment_event(&format!("P-rt-{}", env.tag), sub.serial.as_str(), env.days_from_today(33));
    let app = app(&env);

    // The payment's record and the serial's claim in one BatchGetItem, then the one
    // transaction (with the event, for the table's stream).
    let before = env.calls.now();
    assert!(matches!(app.handle(&event, Utc::now()).await.unwrap(), Outcome::Applied { .. }));
    let cost = env.calls.since(before);
    assert_eq!((cost.calls, cost.round_trips), (2, 2), "reads together, then the transaction");

    let before = env.calls.now();
    assert!(matches!(app.handle(&event, Utc::now()).await.unwrap(), Outcome::AlreadyApplied { .. }));
    let cost = env.calls.since(before);
    assert_eq!((cost.calls, cost.round_trips), (1, 1), "a redelivery is answered by the first read");
}

#[tokio::test]
async fn a_payment_for_a_legacy_serial_applies_where_its_format_is_declared() {
    let env = TestEnv::new().await.with_legacy_serials();
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let old = shared::testing::legacy_serial(31);
    let sub = env.add_serial_numbered(old, &ana, "SAE", "8.0", Plan::Subscription, Some(3)).await;
    let paid_through = env.days_from_today(33);
    // Billing names it as the older system spelled it, in lower case.
    let event = payment_event(&format!("P-legacy-{}", env.tag), "old-00000031", paid_through);
    shared::testing::bus::assert_event_contract(&event);
    assert!(matches!(app(&env).handle(&event, Utc::now()).await.unwrap(), Outcome::Applied { .. }));
    assert_eq!(stored(&env, &sub).await.next_payment_on, Some(paid_through));
    env.deliver_stream().await;
    let applied = env.bus.published_of("PaymentApplied").await;
    assert_eq!(applied[0]["detail"]["serial"], "OLD-00000031");
}
