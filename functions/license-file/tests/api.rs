//! `license-file` against DynamoDB Local and moto: a file for each serial that may run,
//! refusals for the others and for strangers, the installation code's rules, and a file
//! the desktop programs' verifier accepts with the published keys alone.

use std::time::{Duration, SystemTime};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use lambda_http::{Body, Request, Response};
use license_file::App;
use serde_json::{json, Value};
use serial_verifier::{Expect, Facts, Refusal, Status};
use shared::domain::token::issue_session_token;
use shared::domain::{Account, Plan, Serial};
use shared::http::Function;
use shared::store::DynamoStore;
use shared::testing::{checked, fixture_text, json_of, TestEnv};

const COMPANY: &str = "Comercial Ñandú, S.A. de C.V.";
const INSTALLATION: &str = "INST-7F3A-22C9";

struct World {
    env: TestEnv,
    app: Function<App<DynamoStore>>,
    ana: Account,
    token: String,
}

async fn world() -> World {
    let env = TestEnv::new().await;
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", COMPANY).await;
    let app = App::build(env.base());
    let token = env.session_for(&ana).await;
    World { env, app, ana, token }
}

/// `events/<name>.json` for `serial`, with `body` as the request's body.
fn request(name: &str, token: &str, serial: &str, body: Value) -> Request {
    let text = fixture_text(name, &[("TOKEN", token), ("SERIAL", serial), ("INSTALLATION", INSTALLATION)]);
    let mut event: Value = serde_json::from_str(&text).unwrap();
    event["body"] = body.to_string().into();
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

impl World {
    /// The handler's answer, checked against `openapi.yaml` for its route.
    async fn call(&self, req: Request) -> Response<Body> {
        checked(req, |r| self.app.handle(r)).await
    }

    async fn ask(&self, serial: &str, installation: Value) -> (u16, Value) {
        let res =
            self.call(request("license-file", &self.token, serial, json!({ "installation": installation }))).await;
        (res.status().as_u16(), json_of(&res))
    }

    /// The key set `GET /.well-known/jwks.json` publishes for this test's keys.
    async fn jwks(&self) -> String {
        serde_json::to_string(&self.env.key_ring().await.jwks().unwrap()).unwrap()
    }

    /// What the desktop program does with a file: verify it with the JWKS, for its
    /// serial and its installation.
    async fn verify(&self, file: &Value, serial: &Serial, installation: &str) -> Result<Facts, Refusal> {
        let expect = Expect { installation: Some(installation.into()), serial: Some(serial.to_string()), nonce: None };
        let license = serial_verifier::license_of(&file.to_string())?;
        serial_verifier::verify(&license, &self.jwks().await, &expect, SystemTime::now())
    }
}

fn date(v: &Value) -> NaiveDate {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("not a date: {v}"))
}

/// The vendor's day (Mexico City, the tests' TIME_ZONE) of the last second before `exp`.
fn day_before(exp: u64) -> NaiveDate {
    let last = Utc.timestamp_opt(exp as i64 - 1, 0).unwrap();
    last.with_timezone(&chrono_tz::America::Mexico_City).date_naive()
}

/// The JWS payload, decoded without checking anything.
fn payload(license: &str) -> Value {
    let part = license.split('.').nth(1).expect("a compact JWS");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

#[tokio::test]
async fn an_active_serial_gets_a_file_the_verifier_accepts_for_its_installation() {
    let w = world().await;
    let sub = w.env.add_serial(&w.ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let before = w.env.calls.now();
    let ((status, file), metrics) =
        shared::metrics::captured(w.ask(sub.serial.as_str(), "  INST-7F3A-22C9 ".into())).await;
    assert_eq!(status, 201, "{file}");
    let cost = w.env.calls.since(before);
    assert_eq!(metrics.sum("LicenseFiles", &[]), 1.0, "{metrics:?}");
    // The session, the account's profile and the serial in one BatchGetItem.
    assert_eq!((cost.calls, cost.round_trips), (1, 1), "store calls of a license file");
    assert_eq!(file["file_name"], format!("{}.lic", sub.serial));

    let facts = w.verify(&file, &sub.serial, INSTALLATION).await.expect("verifies with the JWKS alone");
    assert_eq!(facts.installation.as_deref(), Some(INSTALLATION), "the code as typed, trimmed");
    assert_eq!((facts.serial.as_str(), facts.status), (sub.serial.as_str(), Status::Active));
    assert_eq!((facts.system.as_str(), facts.version.as_str(), facts.users), ("SAE", "8.0", 1));
    assert_eq!(facts.company, COMPANY, "the company as registered");
    assert_eq!(facts.nonce, None, "a file answers no request");
    let raw = payload(file["license"].as_str().unwrap());
    assert_eq!((&raw["installation"], &raw["nonce"]), (&Value::from(INSTALLATION), &Value::Null));
    assert_eq!(raw["next_payment_on"], sub.next_payment_on.unwrap().to_string());

    // It stands until the end of the next payment day, and says so.
    let expires_on = date(&file["expires_on"]);
    assert_eq!(expires_on, sub.next_payment_on.unwrap(), "the serial's next validation date");
    assert_eq!(expires_on, day_before(facts.exp), "expires_on is the last day before exp");
    let end_of_day = chrono_tz::America::Mexico_City
        .from_local_datetime(&expires_on.succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap())
        .unwrap();
    assert_eq!(facts.exp as i64, end_of_day.timestamp(), "exp is the next midnight, vendor time");

    // Another installation, or the file after its day, is refused by the program.
    let other = w.verify(&file, &sub.serial, "INST-0000-0000").await;
    assert!(matches!(other, Err(Refusal::WrongInstallation { .. })), "{other:?}");
    let jwks = w.jwks().await;
    let expect = Expect { installation: Some(INSTALLATION.into()), serial: Some(sub.serial.to_string()), nonce: None };
    let later = SystemTime::now() + Duration::from_secs(21 * 24 * 3600);
    let expired = serial_verifier::verify(file["license"].as_str().unwrap(), &jwks, &expect, later);
    assert!(matches!(expired, Err(Refusal::Expired { .. })), "{expired:?}");

    // Asked again: a new file, signed again, for the same facts.
    let (status, again) = w.ask(sub.serial.as_str(), INSTALLATION.into()).await;
    assert_eq!((status, &again["expires_on"]), (201, &file["expires_on"]));
}

#[tokio::test]
async fn a_license_and_a_superseded_serial_get_their_files() {
    let w = world().await;
    let license = w.env.add_serial(&w.ana, "COI", "10.0", Plan::License, None).await;
    let (status, file) = w.ask(license.serial.as_str(), INSTALLATION.into()).await;
    assert_eq!(status, 201, "{file}");
    let facts = w.verify(&file, &license.serial, INSTALLATION).await.unwrap();
    assert_eq!((facts.status, facts.next_payment_on), (Status::Active, None));
    // A license's answer stands 30 days.
    let thirty = (Utc::now() + chrono::Duration::days(30)).timestamp() as u64;
    assert!(facts.exp.abs_diff(thirty) < 60, "exp {} vs now + 30 days {thirty}", facts.exp);
    assert_eq!(date(&file["expires_on"]), day_before(facts.exp));

    // Upgraded, usable 5 more days: a file until its last day of use.
    let old = w.env.add_serial(&w.ana, "SAE", "7.0", Plan::Subscription, Some(13)).await;
    let old = w.env.mark_upgraded(&old, 5).await;
    let (status, file) = w.ask(old.serial.as_str(), INSTALLATION.into()).await;
    assert_eq!(status, 201, "{file}");
    let facts = w.verify(&file, &old.serial, INSTALLATION).await.unwrap();
    assert_eq!(facts.status, Status::Superseded);
    assert_eq!(payload(file["license"].as_str().unwrap())["valid_until"], old.valid_until.unwrap().to_string());
    assert_eq!(date(&file["expires_on"]), old.valid_until.unwrap(), "its last day of use");
    assert_eq!(date(&file["expires_on"]), day_before(facts.exp));
}

#[tokio::test]
async fn serials_that_may_not_run_and_other_accounts_serials_get_no_file() {
    let w = world().await;
    let expired = w.env.add_serial(&w.ana, "BANCO", "5.0", Plan::Subscription, Some(-2)).await;
    let upgraded = w.env.add_serial(&w.ana, "SAE", "6.0", Plan::Subscription, Some(-1)).await;
    let inactive = w.env.mark_upgraded(&upgraded, -1).await;
    let luis = w.env.add_account(&w.env.email("luis"), "Password-luis-1", "Pérez SC").await;
    let not_mine = w.env.add_serial(&luis, "SAE", "8.0", Plan::Subscription, Some(30)).await;
    let cases = [
        (expired.serial.to_string(), 409, "subscription_expired"),
        (inactive.serial.to_string(), 409, "not_active"),
        // Another account's serial reads as no serial at all: no enumeration.
        (not_mine.serial.to_string(), 404, "not_found"),
        (Serial::generate().unwrap().to_string(), 404, "not_found"),
    ];
    for (serial, status, code) in cases {
        let (got, body) = w.ask(&serial, INSTALLATION.into()).await;
        assert_eq!((got, body["code"].as_str().unwrap_or_default()), (status, code), "{serial}: {body}");
        assert!(body.get("license").is_none());
    }
    // Luis, the owner, gets his.
    let token = w.env.session_for(&luis).await;
    let res = w.call(request("license-file", &token, not_mine.serial.as_str(), json!({"installation": "X"}))).await;
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn the_session_comes_first_then_the_installation_code() {
    let w = world().await;
    let sub = w.env.add_serial(&w.ana, "SAE", "8.0", Plan::Subscription, Some(20)).await;
    let serial = sub.serial.as_str();
    let body = json!({"installation": INSTALLATION});

    // No bearer, or one of our shape that opens no session: 401, even with a bad code.
    let res = w.call(request("license-file-no-token", "", serial, body.clone())).await;
    assert_eq!((res.status().as_u16(), json_of(&res)["code"].as_str()), (401, Some("unauthorized")));
    let res = w.call(request("license-file-no-token", "", serial, json!({"installation": ""}))).await;
    assert_eq!(res.status(), 401, "the session before the field");
    let before = w.env.calls.calls();
    let res = w.call(request("license-file", "not-a-token", serial, body.clone())).await;
    assert_eq!((res.status().as_u16(), w.env.calls.calls()), (401, before), "a token not of our shape costs no read");
    let stranger = issue_session_token(&w.ana.id).unwrap().secret;
    let res = w.call(request("license-file", &stranger, serial, body.clone())).await;
    assert_eq!(res.status(), 401, "a token of the account's shape that no login issued");
    let res = w.call(request("license-file", &w.env.session_for(&w.ana).await, serial, body.clone())).await;
    assert_eq!(res.status(), 201, "a live session of the owner");

    // A mistyped serial: 400 before any read, the session's included.
    let before = w.env.calls.calls();
    let res = w.call(request("license-file-bad-check-character", &w.token, "", body.clone())).await;
    assert_eq!((res.status().as_u16(), w.env.calls.calls()), (400, before));

    let too_long = "X".repeat(129);
    let cases = [
        (json!(""), "installation: must not be empty"),
        (json!("   "), "installation: must not be empty"),
        (json!(too_long), "installation: must be at most 128 characters"),
        (json!("INST\n7F3A"), "installation: must not contain control characters"),
        (json!("INST\t7F3A"), "installation: must not contain control characters"),
        (json!(42), "installation: must be a string"),
        (Value::Null, "installation: is required"),
    ];
    for (installation, detail) in cases {
        let (status, problem) = w.ask(serial, installation.clone()).await;
        assert_eq!((status, problem["code"].as_str()), (400, Some("invalid_request")), "{installation}: {problem}");
        assert_eq!(problem["detail"], detail, "{installation}");
    }
    // 128 characters, multi-byte ones included, once trimmed: accepted.
    let longest = format!("  {}  ", "Ñ".repeat(128));
    let (status, file) = w.ask(serial, longest.clone().into()).await;
    assert_eq!(status, 201, "{file}");
    let facts = w.verify(&file, &sub.serial, longest.trim()).await.unwrap();
    assert_eq!(facts.installation.as_deref().map(|s| s.chars().count()), Some(128));
    // A body that is not a JSON object is refused before the handler, as on every JSON route.
    let res = w.call(request("license-file", &w.token, serial, json!([]))).await;
    assert_eq!(res.status(), 400);
}

#[tokio::test]
async fn a_file_signed_before_a_rotation_still_verifies_and_new_ones_use_the_new_key() {
    let w = world().await;
    let sub = w.env.add_serial(&w.ana, "NOI", "11.0", Plan::Subscription, Some(10)).await;
    let (_, before) = w.ask(sub.serial.as_str(), INSTALLATION.into()).await;
    let new_kid = w.env.rotate_keys().await;
    // A new instance reads the ring as it is now.
    let fresh = App::build(w.env.base());
    let res =
        checked(request("license-file", &w.token, sub.serial.as_str(), json!({"installation": INSTALLATION})), |r| {
            fresh.handle(r)
        })
        .await;
    let after = json_of(&res);
    assert_eq!(res.status(), 201, "{after}");
    let old = w.verify(&before, &sub.serial, INSTALLATION).await.expect("the older file still verifies");
    let new = w.verify(&after, &sub.serial, INSTALLATION).await.unwrap();
    assert_ne!(old.kid, new.kid);
    assert_eq!(new.kid, new_kid);
    let issued: DateTime<Utc> = Utc.timestamp_opt(new.iat as i64, 0).unwrap();
    assert!((Utc::now() - issued).num_seconds().abs() < 60);
}

#[tokio::test]
async fn a_legacy_serial_gets_its_file_under_its_own_name() {
    let env = TestEnv::new().await.with_legacy_serials();
    env.add_products().await;
    let ana = env.add_account(&env.email("ana"), "Password-ana-1", COMPANY).await;
    let old = shared::testing::legacy_serial(99);
    env.add_serial_numbered(old.clone(), &ana, "SAE", "8.0", Plan::Subscription, Some(30)).await;
    let w = World { app: App::build(env.base()), token: env.session_for(&ana).await, env, ana };
    let (status, file) = w.ask("OLD-00000099", json!(INSTALLATION)).await;
    assert_eq!(status, 201, "{file}");
    assert_eq!(file["file_name"], "OLD-00000099.lic");
    let facts = w.verify(&file, &old, INSTALLATION).await.expect("the verifier accepts it");
    assert_eq!(facts.serial, "OLD-00000099");
    // A serial of neither format: 400 before the session or the serial is read.
    let before = w.env.calls.calls();
    let (status, body) = w.ask("OLD-99", json!(INSTALLATION)).await;
    assert_eq!((status, body["code"].as_str().unwrap()), (400, "invalid_request"));
    assert_eq!(w.env.calls.calls(), before);
}
