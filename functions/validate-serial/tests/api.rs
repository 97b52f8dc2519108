//! `validate-serial` against DynamoDB Local: activation, periodic validation, the company
//! check, and what an upgraded serial answers before and after its last day.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::Value;
use shared::domain::{Account, Plan, Serial, Subscription};
use shared::http::Function;
use shared::store::{keys, DynamoStore, SubscriptionReader};
use shared::testing::{checked, fixture, json_of, TestEnv};
use validate_serial::App;

/// The handler's answer to `req`, checked against `openapi.yaml` for its route.
async fn call(function: &Function<App<DynamoStore>>, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

const COMPANY: &str = "Comercial Ñandú, S.A. de C.V.";

async fn world() -> (TestEnv, Function<App<DynamoStore>>, Account) {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", COMPANY).await;
    let app = App::build(env.base());
    (env, app, ana)
}

async fn validate(app: &Function<App<DynamoStore>>, name: &str, serial: &str, company: &str) -> (u16, Value) {
    let res = call(app, fixture(name, &[("SERIAL", serial), ("COMPANY", company)])).await;
    (res.status().as_u16(), json_of(&res))
}

async fn never_activated(env: &TestEnv, owner: &Account) -> Subscription {
    let sub = env.add_serial(owner, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    set(env, &sub, "REMOVE activated_on", &[]).await;
    sub
}

/// Changes a serial's facts on its item and its claim, as the store's writers do.
async fn set(env: &TestEnv, sub: &Subscription, expr: &str, values: &[(&str, String)]) {
    use aws_sdk_dynamodb::types::AttributeValue::S;
    for key in [keys::serial(&sub.account, &sub.serial), keys::serial_claim(&sub.serial)] {
        let mut update = env
            .store
            .client()
            .update_item()
            .table_name(env.store.table())
            .set_key(Some(key.item()))
            .update_expression(expr);
        for (k, v) in values {
            update = update.expression_attribute_values(*k, S(v.clone()));
        }
        update.send().await.unwrap();
    }
}

#[tokio::test]
async fn first_validation_activates_and_later_ones_keep_the_date() {
    let (env, app, ana) = world().await;
    let sub = never_activated(&env, &ana).await;
    // Typed loosely, as people type company names.
    let before = env.calls.now();
    let ((status, body), metrics) = shared::metrics::captured(validate(
        &app,
        "validate",
        &sub.serial.as_str().to_lowercase(),
        "comercial nandu sa de cv",
    ))
    .await;
    assert_eq!(status, 200, "{body}");
    // The claim (with the client's guesses), then the activation's transaction (with its
    // event, which leaves through the table's stream: the program never waits on the bus).
    let first = env.calls.since(before);
    assert_eq!((first.calls, first.round_trips), (2, 2), "a first activation: {first:?}");
    assert_eq!(metrics.sum("Validations", &[("Status", "active")]), 1.0, "{metrics:?}");
    assert_eq!((metrics.sum("Activations", &[]), metrics.sum("EventsSent", &[])), (1.0, 0.0), "{metrics:?}");
    let today = env.today().to_string();
    assert_eq!(body["activated_on"], today.as_str());
    assert_eq!(body["status"], "active");
    assert_eq!(body["serial"], sub.serial.as_str());
    assert_eq!(body["system"], "SAE");
    assert_eq!(body["version"], "8.0");
    assert_eq!(body["users"], 1);
    assert_eq!(body["valid_until"], Value::Null);
    let stored = env.store.subscription(&ana.id, &sub.serial).await.unwrap().unwrap();
    assert_eq!(stored.activated_on, Some(env.today()));

    let before = env.calls.now();
    let (status, again) = validate(&app, "validate", sub.serial.as_str(), COMPANY).await;
    assert_eq!(status, 200);
    // The same facts; only the signing instant (and so the signature) may differ.
    let facts = |v: &Value| {
        let mut v = v.clone();
        for moving in ["issued_at", "license"] {
            v.as_object_mut().unwrap().remove(moving);
        }
        v
    };
    assert_eq!(facts(&again), facts(&body));
    let later = env.calls.since(before);
    assert_eq!((later.calls, later.round_trips), (1, 1), "a validation waits on the store once: {later:?}");

    // The vendor's systems hear of the activation once, through the table's stream.
    assert!(env.bus.published().await.is_empty(), "not from the request");
    assert_eq!(env.deliver_stream().await.sent, 1);
    let activated = env.bus.published_of("SerialActivated").await;
    assert_eq!(activated.len(), 1, "{activated:?}");
    assert_eq!(activated[0]["source"], "serial-portal");
    assert_eq!(activated[0]["detail"]["serial"], sub.serial.as_str());
    assert_eq!(activated[0]["detail"]["activated_on"], today.as_str());
    assert_eq!(activated[0]["detail"]["account_id"], ana.id.as_str());
    assert!(env.pending_events(chrono::Utc::now() + chrono::Duration::hours(1), 10).await.is_empty());
}

#[tokio::test]
async fn an_already_activated_serial_keeps_its_date() {
    let (env, app, ana) = world().await;
    let sub = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(20)).await;
    let (_, body) = validate(&app, "validate", sub.serial.as_str(), COMPANY).await;
    assert_eq!(body["activated_on"], sub.activated_on.unwrap().to_string());
}

#[tokio::test]
async fn company_mismatch_unknown_serial_and_bad_check_character() {
    let (env, app, ana) = world().await;
    let sub = never_activated(&env, &ana).await;
    let ((status, body), metrics) =
        shared::metrics::captured(validate(&app, "validate-company-mismatch", sub.serial.as_str(), "")).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (403, "company_mismatch"));
    assert_eq!(metrics.sum("Validations", &[("Status", "company_mismatch")]), 1.0, "{metrics:?}");
    let stored = env.store.subscription(&ana.id, &sub.serial).await.unwrap().unwrap();
    assert_eq!(stored.activated_on, None, "a refused validation activates nothing");

    let unknown = Serial::generate().unwrap();
    let ((status, body), metrics) =
        shared::metrics::captured(validate(&app, "validate", unknown.as_str(), COMPANY)).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (404, "not_found"));
    assert_eq!(metrics.sum("Validations", &[("Status", "not_found")]), 1.0, "{metrics:?}");

    let before = env.calls.calls();
    let (status, body) = validate(&app, "validate-bad-check-character", "", "").await;
    assert_eq!((status, body["code"].as_str().unwrap()), (400, "invalid_request"));
    assert_eq!(env.calls.calls(), before, "a mistyped serial is answered without reading the store");
}

#[tokio::test]
async fn an_upgraded_serial_works_until_its_last_day_then_is_inactive() {
    let (env, app, ana) = world().await;
    let superseded = env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(9)).await;
    let until = env.days_from_today(9).to_string();
    env.mark_upgraded(&superseded, 9).await;
    let (status, body) = validate(&app, "validate", superseded.serial.as_str(), COMPANY).await;
    assert_eq!(status, 200);
    assert_eq!(body["status"], "superseded");
    assert_eq!(body["valid_until"], until.as_str());

    let inactive = env.add_serial(&ana, "SAE", "6.0", Plan::Subscription, Some(-1)).await;
    let past = env.days_from_today(-1).to_string();
    env.mark_upgraded(&inactive, -1).await;
    let (status, body) = validate(&app, "validate", inactive.serial.as_str(), COMPANY).await;
    assert_eq!(status, 200, "the program must hear that it has to stop");
    assert_eq!(body["status"], "inactive");
    assert_eq!(body["valid_until"], past.as_str());

    let expired = env.add_serial(&ana, "BANCO", "5.0", Plan::Subscription, Some(-3)).await;
    let (status, body) = validate(&app, "validate", expired.serial.as_str(), COMPANY).await;
    assert_eq!((status, body["status"].as_str().unwrap()), (200, "expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_first_activations_set_one_date() {
    let (env, app, ana) = world().await;
    let sub = never_activated(&env, &ana).await;
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, serial) = (app.clone(), sub.serial.to_string());
        tasks.push(tokio::spawn(async move { validate(&app, "validate", &serial, COMPANY).await }));
    }
    for t in tasks {
        let (status, body) = t.await.unwrap();
        assert_eq!(status, 200);
        assert_eq!(body["activated_on"], env.today().to_string(), "{body}");
    }
    env.deliver_stream().await;
    assert_eq!(env.bus.published_of("SerialActivated").await.len(), 1, "one activation, one event");
}

#[tokio::test]
async fn a_first_activation_while_the_bus_is_down_is_answered_and_its_event_published_later_once() {
    let (env, _, ana) = world().await;
    let app = App::build(env.base_with_bus_down());
    let sub = never_activated(&env, &ana).await;
    let (status, body) = validate(&app, "validate", sub.serial.as_str(), COMPANY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["activated_on"], env.today().to_string());
    // The stream hands the event over while the bus is down: it stays in the outbox.
    assert_eq!(env.deliver_stream_to(&env.bus.down()).await.failed, 1);
    assert!(env.bus.published().await.is_empty());

    let later = chrono::Utc::now() + chrono::Duration::minutes(3);
    let report = shared::outbox::send_pending(&env.store, &env.bus.bus, later).await.unwrap();
    assert_eq!(report.sent, 1);
    let activated = env.bus.published_of("SerialActivated").await;
    assert_eq!(activated.len(), 1);
    assert_eq!(activated[0]["detail"]["serial"], sub.serial.as_str());
}

#[tokio::test]
async fn a_legacy_serial_validates_where_its_format_is_declared_and_nothing_else_reads_the_store() {
    let env = TestEnv::new().await.with_legacy_serials();
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", COMPANY).await;
    let app = App::build(env.base());
    let old = shared::testing::legacy_serial(1234);
    let sub = env.add_serial_numbered(old.clone(), &ana, "SAE", "7.0", Plan::Subscription, Some(20)).await;
    set(&env, &sub, "REMOVE activated_on", &[]).await;

    // As the desktop program holds it (any case): answered from the store, and activated.
    let (status, body) = validate(&app, "validate", "old-00001234", COMPANY).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["serial"], "OLD-00001234");
    assert_eq!(body["status"], "active");
    let stored = env.store.subscription(&ana.id, &old).await.unwrap().unwrap();
    assert_eq!(stored.activated_on, Some(env.today()), "the first validation activates a legacy serial too");
    env.deliver_stream().await;
    let activated = env.bus.published_of("SerialActivated").await;
    assert_eq!(activated.len(), 1, "its SerialActivated, within the events' contract");
    assert_eq!(activated[0]["detail"]["serial"], "OLD-00001234");

    // A serial of neither format is refused without a store read.
    for junk in ["OLD-1234", "OLD-00001234-X", "NEW-00001234"] {
        let before = env.calls.calls();
        let (status, body) = validate(&app, "validate", junk, COMPANY).await;
        assert_eq!((status, body["code"].as_str().unwrap()), (400, "invalid_request"), "{junk}");
        assert_eq!(env.calls.calls(), before, "{junk} is answered without reading the store");
    }

    // Where the format is not declared, the same serial is a mistyped one: no store read.
    let mut base = env.base();
    base.settings.serials = shared::domain::SerialFormats::portal();
    let portal_only = App::build(base);
    let before = env.calls.calls();
    let (status, body) = validate(&portal_only, "validate", "OLD-00001234", COMPANY).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (400, "invalid_request"));
    assert_eq!(env.calls.calls(), before);
}
