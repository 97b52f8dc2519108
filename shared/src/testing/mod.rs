//! Helpers for integration tests: a fresh table in DynamoDB Local created from
//! `template.yaml`, the SES v2 client pointed at moto, demo-like data, event fixtures and
//! the mail moto received, and the check of responses against `openapi.yaml`
//! ([`contract`]). Enabled by the `testing` feature; never in a bootstrap.

pub mod contract;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use std::future::Future;

use chrono::{Days, NaiveDate, Utc};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use crate::config::{MailSettings, Settings};
use crate::domain::password::PasswordHasherArgon;
use crate::domain::{Account, BillingPeriod, Plan, Product, Serial, Subscription, Terms, Version};
use crate::mail::Mailer;
use crate::store::table::TableDefinition;
use crate::store::{AdminStore, DynamoStore};

static TABLES: AtomicU32 = AtomicU32::new(0);

/// One test's world: its own table, the shared moto mailbox, settings.
pub struct TestEnv {
    pub store: DynamoStore,
    pub mailer: Mailer,
    pub settings: Settings,
    pub mail_settings: MailSettings,
    pub sdk: aws_config::SdkConfig,
    /// A suffix unique to this test, for e-mails that must not collide across tests.
    pub tag: String,
}

fn require_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: integration tests need DynamoDB Local and moto; run them with `make test`")
    })
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        require_env("AWS_ENDPOINT_URL_DYNAMODB");
        require_env("AWS_ENDPOINT_URL_SESV2");
        let sdk = crate::aws::sdk_config().await;
        let n = TABLES.fetch_add(1, Ordering::Relaxed);
        let mut rnd = [0u8; 4];
        getrandom::fill(&mut rnd).unwrap();
        let tag = format!("{}{}{}", std::process::id(), n, u32::from_le_bytes(rnd) % 100_000);
        let table = format!("portal-test-{tag}");
        let def = TableDefinition::from_embedded_template().expect("template.yaml declares the table");
        def.create(&crate::aws::dynamodb(&sdk), &table).await.expect("create the test table in DynamoDB Local");
        let store = DynamoStore::new(crate::aws::dynamodb(&sdk), &table);
        let mail_settings = MailSettings {
            mail_from: std::env::var("MAIL_FROM").unwrap_or_else(|_| "no-reply@portal.example".into()),
            portal_url: "http://127.0.0.1:5173".into(),
            vendor_name: "Aspel".into(),
            support_phone: "800 277 3735".into(),
            distributor_url: "https://www.aspel.com.mx/distribuidores".into(),
        };
        let mailer = Mailer::new(crate::aws::sesv2(&sdk), mail_settings.mail_from.clone());
        let settings =
            Settings { table_name: table, time_zone: chrono_tz::America::Mexico_City, session_ttl_hours: 12 };
        TestEnv { store, mailer, settings, mail_settings, sdk, tag }
    }

    pub fn today(&self) -> NaiveDate {
        self.settings.today(Utc::now())
    }

    /// An e-mail unique to this test.
    pub fn email(&self, name: &str) -> String {
        format!("{name}.{}@example.com", self.tag)
    }

    pub async fn add_account(&self, email: &str, password: &str, company: &str) -> Account {
        let hash = hasher().hash(password).unwrap();
        let account = Account {
            email: email.to_string(),
            name: "Ana Ruiz".into(),
            company: company.into(),
            password_hash: hash,
            failed_logins: 0,
            locked_until: None,
        };
        self.store.add_account(&account).await.unwrap();
        account
    }

    pub async fn add_products(&self) {
        for (system, name, version) in [
            ("SAE", "Aspel SAE", "8.0"),
            ("NOI", "Aspel NOI", "11.0"),
            ("COI", "Aspel COI", "10.0"),
            ("BANCO", "Aspel BANCO", "6.0"),
        ] {
            self.store
                .put_product(&Product {
                    system: system.into(),
                    name: name.into(),
                    latest_version: Version::parse(version).unwrap(),
                    terms: Terms { version: "2022-10".into(), text: TERMS_TEXT.into() },
                })
                .await
                .unwrap();
        }
    }

    /// Adds a serial. `next_payment_in_days` may be negative (not renewed).
    pub async fn add_serial(
        &self,
        email: &str,
        system: &str,
        version: &str,
        plan: Plan,
        next_payment_in_days: Option<i64>,
    ) -> Subscription {
        let next = next_payment_in_days.map(|d| self.days_from_today(d));
        let sub = Subscription {
            serial: Serial::generate().unwrap(),
            account: email.to_string(),
            system: system.into(),
            version: Version::parse(version).unwrap(),
            users: 1,
            plan,
            billing_period: (plan == Plan::Subscription).then_some(BillingPeriod::Monthly),
            activated_on: Some(self.days_from_today(-400)),
            next_payment_on: next,
            valid_until: None,
            upgraded_from: None,
            superseded_by: None,
        };
        self.store.add_subscription(&sub).await.unwrap();
        sub
    }

    pub fn days_from_today(&self, days: i64) -> NaiveDate {
        let today = self.today();
        if days >= 0 {
            today.checked_add_days(Days::new(days as u64)).unwrap()
        } else {
            today.checked_sub_days(Days::new((-days) as u64)).unwrap()
        }
    }

    /// Logs `email` in directly through the store; returns the bearer token.
    pub async fn session_for(&self, email: &str) -> String {
        use crate::store::{Session, Sessions};
        let token = crate::domain::token::issue_token().unwrap();
        let session = Session {
            digest: token.digest,
            account: email.to_string(),
            expires_at: Utc::now() + chrono::Duration::hours(1),
        };
        self.store.create_session(&session).await.unwrap();
        token.secret
    }

    /// Marks `sub` as an upgrade leaves it: superseded by a new serial number, usable
    /// until `days_from_today` (negative: already inactive). Returns the stored state.
    pub async fn mark_upgraded(&self, sub: &Subscription, days_from_today: i64) -> Subscription {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let mut upgraded = sub.clone();
        upgraded.superseded_by = Some(Serial::generate().unwrap());
        upgraded.valid_until = Some(self.days_from_today(days_from_today));
        self.store
            .client()
            .update_item()
            .table_name(self.store.table())
            .key("pk", S(format!("ACCOUNT#{}", sub.account)))
            .key("sk", S(format!("SERIAL#{}", sub.serial)))
            .update_expression("SET superseded_by = :by, valid_until = :until")
            .expression_attribute_values(":by", S(upgraded.superseded_by.as_ref().unwrap().to_string()))
            .expression_attribute_values(":until", S(upgraded.valid_until.unwrap().to_string()))
            .send()
            .await
            .unwrap();
        upgraded
    }

    /// Mails moto received for `to`, oldest first.
    pub fn mails_to(&self, to: &str) -> Vec<SentMail> {
        sent_mails().into_iter().filter(|m| m.to.iter().any(|t| t == to)).collect()
    }
}

pub const TERMS_TEXT: &str = "1. A partir de que te entreguemos el número de serie electrónico de la nueva versión, \
tendrás que dejar de utilizar la versión anterior.";

pub fn hasher() -> &'static PasswordHasherArgon {
    static HASHER: std::sync::OnceLock<PasswordHasherArgon> = std::sync::OnceLock::new();
    HASHER.get_or_init(|| PasswordHasherArgon::new().unwrap())
}

/// A mail as moto's SES kept it.
#[derive(Debug, Clone)]
pub struct SentMail {
    pub to: Vec<String>,
    pub subject: String,
    /// The HTML part if any, else the text part.
    pub body: String,
}

/// Every mail moto holds (`GET /moto-api/data.json`).
pub fn sent_mails() -> Vec<SentMail> {
    let endpoint = require_env("AWS_ENDPOINT_URL_SESV2");
    let data = http_get(&endpoint, "/moto-api/data.json");
    let v: Value = serde_json::from_str(&data).expect("moto data.json is JSON");
    let mut out = Vec::new();
    collect_messages(&v["ses"]["Message"], &mut out);
    out
}

fn collect_messages(v: &Value, out: &mut Vec<SentMail>) {
    match v {
        Value::Array(list) => {
            for m in list {
                let to = m["destinations"]["ToAddresses"]
                    .as_array()
                    .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                out.push(SentMail {
                    to,
                    subject: m["subject"].as_str().unwrap_or_default().to_string(),
                    body: m["body"].as_str().unwrap_or_default().to_string(),
                });
            }
        }
        // Some moto versions key messages by account or region first.
        Value::Object(map) => map.values().for_each(|x| collect_messages(x, out)),
        _ => {}
    }
}

/// The first `<PORTAL_URL>/password-reset?token=...` link of a mail body.
pub fn reset_token_in(body: &str) -> Option<String> {
    let start = body.find("/password-reset?token=")? + "/password-reset?token=".len();
    let token: String =
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    (!token.is_empty()).then_some(token)
}

/// A minimal HTTP/1.0 GET for the local emulators (tests only).
pub fn http_get(endpoint: &str, path: &str) -> String {
    let host = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).unwrap_or_else(|e| panic!("connect to {host}: {e}"));
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    text.split_once("\r\n\r\n").map(|(_, body)| body.to_string()).unwrap_or_default()
}

/// An API Gateway HTTP API v2 event from `events/<name>.json`, with `{{KEY}}` placeholders
/// replaced.
pub fn fixture(name: &str, vars: &[(&str, &str)]) -> Request {
    let text = fixture_text(name, vars);
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("events/{name}.json is not an HTTP API event: {e}"))
}

pub fn fixture_text(name: &str, vars: &[(&str, &str)]) -> String {
    let path = events_dir().join(format!("{name}.json"));
    let mut text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    for (k, v) in vars {
        text = text.replace(&format!("{{{{{k}}}}}"), v);
    }
    assert!(!text.contains("{{"), "events/{name}.json has a placeholder left: {text}");
    text
}

pub fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub use contract::{assert_contract, route_key};

/// Hands `req` to `handle` and checks the response against `openapi.yaml` for the
/// request's route key (see [`contract::assert_contract`]): every fixture-driven call of
/// the functions' tests goes through here.
pub async fn checked<F, Fut>(req: Request, handle: F) -> Response<Body>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Response<Body>>,
{
    let key = route_key(&req);
    let res = handle(req).await;
    assert_contract(&key, &res);
    res
}

/// A response's status and JSON body (Null when empty).
pub fn json_of(res: &Response<Body>) -> Value {
    match res.body() {
        Body::Text(t) => serde_json::from_str(t).unwrap_or_else(|e| panic!("not JSON ({e}): {t}")),
        Body::Binary(b) => serde_json::from_slice(b).unwrap(),
        _ => Value::Null,
    }
}
