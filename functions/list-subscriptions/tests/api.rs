//! `list-subscriptions` against DynamoDB Local: every status and offer reason, filters,
//! grouping, isolation between accounts, and the number of store calls.

use lambda_http::{Body, Request, Response};
use list_subscriptions::App;
use serde_json::Value;
use shared::domain::{Plan, Serial};
use shared::http::Function;
use shared::store::DynamoStore;
use shared::testing::{checked, fixture, json_of, TestEnv};

/// The handler's answer to `req`, checked against `openapi.yaml` for its route.
async fn call(function: &Function<App<DynamoStore>>, req: Request) -> Response<Body> {
    checked(req, |r| function.handle(r)).await
}

struct World {
    env: TestEnv,
    app: Function<App<DynamoStore>>,
    token: String,
    serials: Vec<(String, Serial)>,
}

/// Ana holds one serial in every situation; Luis holds one of his own.
async fn world() -> World {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let luis = env.add_account(&env.email("luis"), "Password-luis-1", "Pérez SC").await;
    let mut serials = Vec::new();
    let mut add = |name: &str, s: Serial| serials.push((name.to_string(), s));
    add("active", env.add_serial(&ana, "SAE", "7.0", Plan::Subscription, Some(10)).await.serial);
    add("latest", env.add_serial(&ana, "NOI", "11.0", Plan::Subscription, Some(100)).await.serial);
    add("license", env.add_serial(&ana, "COI", "10.0", Plan::License, None).await.serial);
    add("expired", env.add_serial(&ana, "BANCO", "5.0", Plan::Subscription, Some(-3)).await.serial);
    // Upgraded serials, stored as an upgrade leaves them.
    let superseded = env.add_serial(&ana, "SAE", "6.0", Plan::Subscription, Some(5)).await;
    add("superseded", env.mark_upgraded(&superseded, 5).await.serial);
    let inactive = env.add_serial(&ana, "SAE", "5.0", Plan::Subscription, Some(-1)).await;
    add("inactive", env.mark_upgraded(&inactive, -1).await.serial);
    add("luis", env.add_serial(&luis, "SAE", "7.0", Plan::Subscription, Some(10)).await.serial);
    let app = App::build(env.base());
    let token = env.session_for(&ana).await;
    World { env, app, token, serials }
}

impl World {
    fn serial(&self, name: &str) -> String {
        self.serials.iter().find(|(n, _)| n == name).unwrap().1.to_string()
    }

    fn item<'a>(&self, list: &'a Value, name: &str) -> &'a Value {
        let serial = self.serial(name);
        list.as_array()
            .unwrap()
            .iter()
            .find(|i| i["serial"] == serial.as_str())
            .unwrap_or_else(|| panic!("{name} missing"))
    }
}

#[tokio::test]
async fn lists_every_status_and_offer_of_the_callers_serials_only() {
    let w = world().await;
    let res = call(&w.app, fixture("subscriptions", &[("TOKEN", &w.token)])).await;
    assert_eq!(res.status(), 200);
    let body = json_of(&res);
    let list = &body["subscriptions"];
    assert_eq!(list.as_array().unwrap().len(), 6, "{body:#}");
    assert!(!body.to_string().contains(&w.serial("luis")), "another account's serial leaked");

    let active = w.item(list, "active");
    assert_eq!(active["status"], "active");
    assert_eq!(active["system_name"], "Aspel SAE");
    assert_eq!(active["plan"], "subscription");
    assert_eq!(active["billing_period"], "monthly");
    assert_eq!(active["next_payment_on"], w.env.days_from_today(10).to_string());
    assert_eq!(active["upgrade"]["available"], true);
    assert_eq!(active["upgrade"]["to_version"], "8.0");
    assert_eq!(active["upgrade"]["terms"]["version"], "2022-10");
    assert!(active["upgrade"]["terms"]["text"].as_str().unwrap().contains("nueva versión"));

    let expect = [
        ("latest", "active", "latest_version"),
        ("license", "active", "purchase_required"),
        ("expired", "expired", "expired"),
        ("superseded", "superseded", "superseded"),
        ("inactive", "inactive", "inactive"),
    ];
    for (name, status, reason) in expect {
        let item = w.item(list, name);
        assert_eq!(item["status"], status, "{name}: {item}");
        assert_eq!(item["upgrade"]["available"], false, "{name}");
        assert_eq!(item["upgrade"]["reason"], reason, "{name}");
    }
    let license = w.item(list, "license");
    assert_eq!(license["billing_period"], Value::Null);
    assert_eq!(license["next_payment_on"], Value::Null);
    assert_eq!(w.item(list, "superseded")["valid_until"], w.env.days_from_today(5).to_string());

    // system, then version newest first, then serial
    let order: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["system"].as_str().unwrap().to_string(), i["version"].as_str().unwrap().to_string()))
        .collect();
    let expected: Vec<(String, String)> =
        [("BANCO", "5.0"), ("COI", "10.0"), ("NOI", "11.0"), ("SAE", "7.0"), ("SAE", "6.0"), ("SAE", "5.0")]
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
    assert_eq!(order, expected);
}

#[tokio::test]
async fn a_request_makes_two_store_calls() {
    let w = world().await;
    // The first request also reads the catalog; a warm one does not.
    let first = w.env.calls.now();
    let res = call(&w.app, fixture("subscriptions-group-by-system", &[("TOKEN", &w.token)])).await;
    assert_eq!(res.status(), 200);
    let cost = w.env.calls.since(first);
    assert_eq!(cost.calls, 3, "the session check, one Query, the catalog's Query");
    assert_eq!(cost.round_trips, 1, "all three go out together");
    let warm = w.env.calls.now();
    let res = call(&w.app, fixture("subscriptions-group-by-system", &[("TOKEN", &w.token)])).await;
    assert_eq!(res.status(), 200);
    let cost = w.env.calls.since(warm);
    assert_eq!((cost.calls, cost.round_trips), (2, 1), "the session check and one Query, together");
}

#[tokio::test]
async fn groups_filters_and_bad_parameters() {
    let w = world().await;
    let res = call(&w.app, fixture("subscriptions-group-by-system", &[("TOKEN", &w.token)])).await;
    let body = json_of(&res);
    let keys: Vec<&str> = body["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["BANCO", "COI", "NOI", "SAE"]);
    assert_eq!(body["groups"][3]["subscriptions"].as_array().unwrap().len(), 3);

    let res = call(&w.app, fixture("subscriptions-licenses", &[("TOKEN", &w.token)])).await;
    let body = json_of(&res);
    let list = body["subscriptions"].as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["plan"], "license");

    let res = call(&w.app, fixture("subscriptions-bad-group-by", &[("TOKEN", &w.token)])).await;
    assert_eq!(res.status(), 400);
    let body = json_of(&res);
    assert_eq!(body["code"], "invalid_request");
    assert!(body["detail"].as_str().unwrap().contains("group_by"), "{body}");
}

#[tokio::test]
async fn grouping_by_version_orders_versions_as_numbers() {
    let w = world().await;
    let mut req = fixture("subscriptions-group-by-system", &[("TOKEN", &w.token)]);
    use lambda_http::RequestExt;
    let params: std::collections::HashMap<String, String> = [("group_by".to_string(), "version".to_string())].into();
    req = req.with_query_string_parameters(params);
    let body = json_of(&call(&w.app, req).await);
    let keys: Vec<&str> = body["groups"].as_array().unwrap().iter().map(|g| g["key"].as_str().unwrap()).collect();
    assert_eq!(keys, ["5.0", "6.0", "7.0", "10.0", "11.0"]);
}

#[tokio::test]
async fn no_token_or_a_bad_one_is_unauthorized() {
    let w = world().await;
    let res = call(&w.app, fixture("subscriptions-no-token", &[])).await;
    assert_eq!(res.status(), 401);
    assert_eq!(json_of(&res)["code"], "unauthorized");
    let res = call(&w.app, fixture("subscriptions", &[("TOKEN", &"x".repeat(43))])).await;
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn a_legacy_serial_is_listed_as_the_older_system_spelled_it() {
    let env = TestEnv::new().await.with_legacy_serials();
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", "Comercial Ruiz SA de CV").await;
    let old = shared::testing::legacy_serial(77);
    env.add_serial_numbered(old.clone(), &ana, "SAE", "7.0", Plan::Subscription, Some(10)).await;
    let new = env.add_serial(&ana, "NOI", "11.0", Plan::Subscription, Some(10)).await.serial;
    let app = App::build(env.base());
    let token = env.session_for(&ana).await;
    let res = call(&app, fixture("subscriptions", &[("TOKEN", &token)])).await;
    assert_eq!(res.status(), 200);
    let body = json_of(&res);
    let serials: Vec<&str> =
        body["subscriptions"].as_array().unwrap().iter().map(|s| s["serial"].as_str().unwrap()).collect();
    assert_eq!(serials, [new.as_str(), old.as_str()], "ordered by system: NOI, then SAE");
    let legacy = &body["subscriptions"][1];
    assert_eq!(legacy["serial"], "OLD-00000077");
    assert_eq!(legacy["status"], "active");
    assert_eq!(legacy["upgrade"]["available"], true, "a legacy subscription is upgraded like any other");
}
