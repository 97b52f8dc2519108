//! Helpers for integration tests: a fresh table in DynamoDB Local created from
//! `template.yaml`, the SES v2 client pointed at moto, demo-like data, event fixtures, the
//! mail moto received ([`mailbox`]), a counter of store calls ([`calls`]), a fault proxy
//! ([`proxy`]) and the check of responses against `openapi.yaml` ([`contract`]). Enabled
//! by the `testing` feature; never in a bootstrap.

pub mod bus;
pub mod calls;
pub mod contract;
pub mod mailbox;
pub mod otp;
pub mod proxy;
pub mod stream;

use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use chrono::{Days, NaiveDate, Utc};
use lambda_http::{Body, Request, Response};
use serde_json::Value;

use crate::config::{MailSettings, Settings};
use crate::domain::password::PasswordHasherArgon;
use crate::domain::token::{issue_session_token, issue_token, random_id};
use crate::domain::{
    Account, AccountId, BillingPeriod, Email, Plan, Product, Serial, Subscription, SystemCode, Terms, Version,
};
use crate::mail::Mailer;
use crate::startup::Base;
use crate::store::table::TableDefinition;
use crate::store::{
    keys, AccountWriter, CatalogWriter, DynamoStore, Key, KnownDevice, LoginAttempts, SerialWriter, Session, Sessions,
    DEVICE_DAYS,
};

pub use bus::{QueuedMessage, TestBus};
pub use calls::{CallCounter, Cost};
pub use contract::{assert_contract, route_key};
pub use mailbox::{email_change_token_in, reset_token_in, sent_mails, SentMail};
pub use proxy::{Fault, Proxy};

static TABLES: AtomicU32 = AtomicU32::new(0);

/// The older system's serial format the tests declare (`LEGACY_SERIAL_PATTERN`).
pub const LEGACY_PATTERN: &str = "OLD-[0-9]{8}";

/// The serial formats with [`LEGACY_PATTERN`] declared.
pub fn legacy_formats() -> crate::domain::SerialFormats {
    crate::domain::SerialFormats::with_legacy(crate::domain::LegacyPattern::new(LEGACY_PATTERN).unwrap())
}

/// The `n`-th serial of the older system's format.
pub fn legacy_serial(n: u32) -> Serial {
    legacy_formats().parse(&format!("OLD-{n:08}")).unwrap()
}

/// One test's world: its own table, the shared moto mailbox, settings.
pub struct TestEnv {
    /// The table, through a client whose calls are counted in [`TestEnv::calls`].
    pub store: DynamoStore,
    pub calls: CallCounter,
    pub mailer: Mailer,
    pub settings: Settings,
    pub mail_settings: MailSettings,
    pub sdk: aws_config::SdkConfig,
    /// A suffix unique to this test, for e-mails that must not collide across tests.
    pub tag: String,
    /// This test's signing keys, in a Secrets Manager secret of its own (moto).
    pub signing_keys_secret: String,
    /// This test's event bus and queues (moto).
    pub bus: TestBus,
    /// The secret of this test's data key for TOTP secrets (Secrets Manager, moto).
    pub totp_key_secret: String,
}

pub(crate) fn require_env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: integration tests need DynamoDB Local and moto; run them with `make test`")
    })
}

impl TestEnv {
    pub async fn new() -> TestEnv {
        require_env("AWS_ENDPOINT_URL_DYNAMODB");
        require_env("AWS_ENDPOINT_URL_SESV2");
        require_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
        require_env("AWS_ENDPOINT_URL_EVENTBRIDGE");
        require_env("AWS_ENDPOINT_URL_SQS");
        let sdk = crate::aws::sdk_config().await;
        let n = TABLES.fetch_add(1, Ordering::Relaxed);
        let mut rnd = [0u8; 4];
        getrandom::fill(&mut rnd).unwrap();
        let tag = format!("{}{}{}", std::process::id(), n, u32::from_le_bytes(rnd) % 100_000);
        let table = format!("portal-test-{tag}");
        let def = TableDefinition::from_embedded_template().expect("template.yaml declares the table");
        def.create(&crate::aws::dynamodb(&sdk), &table).await.expect("create the test table in DynamoDB Local");
        let calls = CallCounter::default();
        let http = CallCounter::http_client(sdk.http_client().expect("the SDK settings carry an HTTP client"));
        let conf = aws_sdk_dynamodb::config::Builder::from(&sdk).http_client(http).interceptor(calls.clone()).build();
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), &table);
        let mut mail_settings = MailSettings::local_example();
        if let Ok(from) = std::env::var("MAIL_FROM") {
            mail_settings.mail_from = from;
        }
        let mailer = Mailer::new(crate::aws::sesv2(&sdk), mail_settings.mail_from.clone());
        let settings = Settings {
            table_name: table,
            time_zone: crate::zone::Zone::mexico_city(),
            session_ttl_hours: 12,
            session_idle_minutes: 30,
            origin_verify_secret: None,
            log_key: crate::config::LogKey::random(),
            // Portal serials only; a test of legacy serials declares their format here.
            serials: crate::domain::SerialFormats::portal(),
        };
        let signing_keys_secret = format!("portal-test-{tag}/signing-keys");
        let ring = crate::license::KeyRing::new(Utc::now()).expect("a signing key");
        crate::license::write_ring(&crate::aws::secretsmanager(&sdk), &signing_keys_secret, &ring)
            .await
            .expect("store the test's signing keys in moto");
        let bus = TestBus::create(&sdk, &tag).await;
        let totp_key_secret = format!("portal-test-{tag}/totp-key");
        crate::aws::secretsmanager(&sdk)
            .create_secret()
            .name(&totp_key_secret)
            .secret_string(crate::sealing::random_secret_text().unwrap())
            .send()
            .await
            .expect("store the test's data key in moto");
        TestEnv { store, calls, mailer, settings, mail_settings, sdk, tag, signing_keys_secret, bus, totp_key_secret }
    }

    /// This world with the older system's serials accepted ([`LEGACY_PATTERN`]), as a
    /// function with `LEGACY_SERIAL_PATTERN` set accepts them.
    pub fn with_legacy_serials(mut self) -> TestEnv {
        self.settings.serials = legacy_formats();
        self
    }

    /// What a function's `App::build` takes, on this test's table and mailbox.
    pub fn base(&self) -> Base {
        Base {
            settings: self.settings.clone(),
            sdk: self.sdk.clone(),
            store: self.store.clone(),
            mail: Some((self.mail_settings.clone(), self.mailer.clone())),
            signing_keys_secret: Some(self.signing_keys_secret.clone()),
            event_bus: Some(self.bus.bus.clone()),
            totp_key_secret: Some(self.totp_key_secret.clone()),
        }
    }

    /// [`TestEnv::base`] with DynamoDB and SES reached through proxies.
    pub fn base_via(&self, dynamodb: Option<&Proxy>, ses: Option<&Proxy>) -> Base {
        let mut base = self.base();
        if let Some(proxy) = dynamodb {
            base.store = self.store_via(proxy);
        }
        if let Some(proxy) = ses {
            let conf = crate::aws::sesv2_config(&self.sdk).endpoint_url(proxy.url()).build();
            let mailer = Mailer::new(aws_sdk_sesv2::Client::from_conf(conf), self.mail_settings.mail_from.clone());
            base.mail = Some((self.mail_settings.clone(), mailer));
        }
        base
    }

    /// [`TestEnv::base`] with the event bus down: every PutEvents fails to connect.
    pub fn base_with_bus_down(&self) -> Base {
        Base { event_bus: Some(self.bus.down()), ..self.base() }
    }

    /// This test's table reached through `proxy`, with the functions' SDK settings.
    pub fn store_via(&self, proxy: &Proxy) -> DynamoStore {
        let conf = aws_sdk_dynamodb::config::Builder::from(&self.sdk).endpoint_url(proxy.url()).build();
        DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(conf), self.store.table())
    }

    pub fn today(&self) -> NaiveDate {
        self.settings.today(Utc::now())
    }

    /// An e-mail unique to this test.
    pub fn email(&self, name: &str) -> Email {
        Email::parse(&format!("{name}.{}@example.com", self.tag)).expect("a test e-mail")
    }

    pub async fn add_account(&self, email: &Email, password: &str, company: &str) -> Account {
        let account = Account {
            id: AccountId::generate().unwrap(),
            email: email.clone(),
            name: "Ana Ruiz".into(),
            company: company.into(),
        };
        self.store.add_account(&account, &hasher().hash(password).unwrap()).await.unwrap();
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
                    system: SystemCode::parse(system).unwrap(),
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
        owner: &Account,
        system: &str,
        version: &str,
        plan: Plan,
        next_payment_in_days: Option<i64>,
    ) -> Subscription {
        self.add_serial_numbered(Serial::generate().unwrap(), owner, system, version, plan, next_payment_in_days).await
    }

    /// [`TestEnv::add_serial`] with a given number (a legacy serial, say).
    pub async fn add_serial_numbered(
        &self,
        serial: Serial,
        owner: &Account,
        system: &str,
        version: &str,
        plan: Plan,
        next_payment_in_days: Option<i64>,
    ) -> Subscription {
        let next = next_payment_in_days.map(|d| self.days_from_today(d));
        let sub = Subscription {
            serial,
            account: owner.id.clone(),
            system: SystemCode::parse(system).unwrap(),
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

    /// Logs `owner` in directly through the store; returns the bearer token.
    pub async fn session_for(&self, owner: &Account) -> String {
        let token = issue_session_token(&owner.id).unwrap();
        let now = Utc::now();
        let session = Session {
            digest: token.digest,
            id: random_id().unwrap(),
            account: owner.id.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(1),
            last_used_at: now,
            password_epoch: 0,
            source_ip: "192.0.2.10".into(),
            user_agent: "tests".into(),
            device: None,
        };
        self.store.create_session(&session).await.unwrap();
        token.secret
    }

    /// Logs `owner` in directly through the store from `ip` with `agent`, made `age` ago;
    /// returns the bearer token and the session.
    pub async fn session_from(
        &self,
        owner: &Account,
        ip: &str,
        agent: &str,
        age: chrono::Duration,
    ) -> (String, Session) {
        let token = issue_session_token(&owner.id).unwrap();
        let made = Utc::now() - age;
        let session = Session {
            digest: token.digest,
            id: random_id().unwrap(),
            account: owner.id.clone(),
            created_at: made,
            expires_at: made + chrono::Duration::hours(12),
            last_used_at: made,
            password_epoch: self.password_epoch(&owner.id).await,
            source_ip: ip.into(),
            user_agent: agent.into(),
            device: None,
        };
        self.store.create_session(&session).await.unwrap();
        (token.secret, session)
    }

    /// Logs `owner` in through the store as a login from a new device at `ip` does: the
    /// session (made from that device), the device known to the e-mail for a year, the
    /// address's count cleared. Returns the bearer token and the session.
    pub async fn login_with_new_device(&self, owner: &Account, ip: &str) -> (String, Session) {
        let token = issue_session_token(&owner.id).unwrap();
        let device = issue_token().unwrap().digest;
        let now = Utc::now();
        let session = Session {
            digest: token.digest,
            id: random_id().unwrap(),
            account: owner.id.clone(),
            created_at: now,
            expires_at: now + chrono::Duration::hours(12),
            last_used_at: now,
            password_epoch: self.password_epoch(&owner.id).await,
            source_ip: ip.into(),
            user_agent: "tests".into(),
            device: Some(device.clone()),
        };
        let known = KnownDevice {
            digest: device,
            account: owner.id.clone(),
            expires_at: now + chrono::Duration::days(DEVICE_DAYS),
        };
        self.store.login_succeeded(&owner.email, &session, &known, Some(ip)).await.unwrap();
        (token.secret, session)
    }

    /// The account's password epoch as its profile keeps it.
    pub async fn password_epoch(&self, account: &AccountId) -> u64 {
        let profile = self.raw(&keys::profile(account)).await.expect("the account's profile");
        profile.get("password_epoch").and_then(|v| v.as_n().ok()).map_or(0, |n| n.parse().unwrap())
    }

    /// This test's data key for TOTP secrets, as the functions read it.
    pub async fn totp_key(&self) -> crate::sealing::DataKey {
        let text = crate::aws::secretsmanager(&self.sdk)
            .get_secret_value()
            .secret_id(&self.totp_key_secret)
            .send()
            .await
            .unwrap()
            .secret_string
            .unwrap();
        crate::sealing::DataKey::from_secret(&text).unwrap()
    }

    /// This test's signing keys as the functions read them.
    pub async fn key_ring(&self) -> crate::license::KeyRing {
        let client = crate::aws::secretsmanager(&self.sdk);
        crate::license::read_ring(&client, &self.signing_keys_secret).await.unwrap().expect("the test's key ring")
    }

    /// Rotates this test's signing keys, as `portal-admin keys rotate` does.
    pub async fn rotate_keys(&self) -> String {
        let mut ring = self.key_ring().await;
        let kid = ring.rotate(Utc::now()).unwrap();
        crate::license::write_ring(&crate::aws::secretsmanager(&self.sdk), &self.signing_keys_secret, &ring)
            .await
            .unwrap();
        kid
    }

    /// The session a bearer token opens at `now`, as the functions' session check sees it
    /// (expiry, idle limit, password epoch).
    pub async fn session_of_token(&self, token: &str, now: chrono::DateTime<Utc>) -> Option<Session> {
        let (account, digest) = crate::domain::token::parse_session_token(token)?;
        self.live(&account, &digest, now).await
    }

    /// The stored session `digest` of `account` if it is alive at `now`.
    pub async fn live(
        &self,
        account: &AccountId,
        digest: &crate::domain::token::TokenDigest,
        now: chrono::DateTime<Utc>,
    ) -> Option<Session> {
        let (session, epoch) = self.store.session(account, digest).await.unwrap()?;
        let idle = chrono::Duration::minutes(i64::from(self.settings.session_idle_minutes));
        session.live_at(now, idle, epoch).then_some(session)
    }

    /// Marks `sub` as an upgrade leaves it: superseded by a new serial number, usable
    /// until `days_from_today` (negative: already inactive). Returns the stored state.
    pub async fn mark_upgraded(&self, sub: &Subscription, days_from_today: i64) -> Subscription {
        self.mark_upgraded_to(sub, &Serial::generate().unwrap(), days_from_today).await
    }

    /// [`TestEnv::mark_upgraded`] with a given successor (e.g. a serial added before).
    pub async fn mark_upgraded_to(&self, sub: &Subscription, successor: &Serial, days_from_today: i64) -> Subscription {
        use aws_sdk_dynamodb::types::AttributeValue::S;
        let mut upgraded = sub.clone();
        upgraded.superseded_by = Some(successor.clone());
        upgraded.valid_until = Some(self.days_from_today(days_from_today));
        // The serial and its claim, as every write that changes a serial does.
        for key in [keys::serial(&sub.account, &sub.serial), keys::serial_claim(&sub.serial)] {
            self.store
                .client()
                .update_item()
                .table_name(self.store.table())
                .set_key(Some(key.item()))
                .update_expression("SET superseded_by = :by, valid_until = :until")
                .expression_attribute_values(":by", S(upgraded.superseded_by.as_ref().unwrap().to_string()))
                .expression_attribute_values(":until", S(upgraded.valid_until.unwrap().to_string()))
                .send()
                .await
                .unwrap();
        }
        upgraded
    }

    /// The raw item at `key`, read without counting it as the code's call.
    pub async fn raw(
        &self,
        key: &Key,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let uncounted = DynamoStore::new(crate::aws::dynamodb(&self.sdk), self.store.table());
        uncounted.raw_item(key).await.unwrap()
    }

    /// Sets one attribute of the item at `key` behind the code's back (as time passing, or
    /// an older version of the portal, would have), without counting it as the code's call.
    pub async fn set_attribute(&self, key: &Key, name: &str, value: aws_sdk_dynamodb::types::AttributeValue) {
        crate::aws::dynamodb(&self.sdk)
            .update_item()
            .table_name(self.store.table())
            .set_key(Some(key.item()))
            .update_expression("SET #name = :value")
            .expression_attribute_names("#name", name)
            .expression_attribute_values(":value", value)
            .send()
            .await
            .unwrap();
    }

    /// The mails still in the outbox (not sent yet), created before `older_than`.
    pub async fn pending_mails(
        &self,
        older_than: chrono::DateTime<Utc>,
        limit: i32,
    ) -> Vec<crate::outbox::PendingMail> {
        self.queued(older_than, limit).await.into_iter().map(|q| q.message).collect()
    }

    /// The events still in the outbox (not published yet), created before `older_than`.
    pub async fn pending_events(
        &self,
        older_than: chrono::DateTime<Utc>,
        limit: i32,
    ) -> Vec<crate::events::PendingEvent> {
        self.queued(older_than, limit).await.into_iter().map(|q| q.message).collect()
    }

    /// The messages of a kind still in the outbox and not sent, with their attempts (one
    /// page of at most `limit` items, read without counting; every item well-formed).
    pub async fn queued<M: crate::store::Outgoing>(
        &self,
        older_than: chrono::DateTime<Utc>,
        limit: i32,
    ) -> Vec<crate::store::Queued<M>>
    where
        DynamoStore: crate::store::Outbox<M>,
    {
        let uncounted = DynamoStore::new(crate::aws::dynamodb(&self.sdk), self.store.table());
        let page = crate::store::Outbox::<M>::outbox_page(&uncounted, older_than, None, limit).await.unwrap();
        page.entries
            .into_iter()
            .map(|e| e.expect("a well-formed outbox item"))
            .filter(|q| q.sent_at.is_none())
            .collect()
    }

    /// The dead letters of a kind (read without counting).
    pub async fn dead_letters<M: crate::store::Outgoing>(&self) -> Vec<crate::store::Dead<M>>
    where
        DynamoStore: crate::store::Outbox<M>,
    {
        let uncounted = DynamoStore::new(crate::aws::dynamodb(&self.sdk), self.store.table());
        let dead = crate::store::Outbox::<M>::dead_letters(&uncounted, 1000).await.unwrap();
        dead.into_iter().map(|d| d.expect("a well-formed dead letter")).collect()
    }

    /// Mails moto received for `to`, oldest first.
    pub fn mails_to(&self, to: &Email) -> Vec<SentMail> {
        sent_mails().into_iter().filter(|m| m.to.iter().any(|t| t == to.as_str())).collect()
    }
}

pub const TERMS_TEXT: &str = "1. A partir de que te entreguemos el número de serie electrónico de la nueva versión, \
tendrás que dejar de utilizar la versión anterior.";

pub fn hasher() -> &'static PasswordHasherArgon {
    static HASHER: std::sync::OnceLock<PasswordHasherArgon> = std::sync::OnceLock::new();
    HASHER.get_or_init(|| PasswordHasherArgon::new().unwrap())
}

/// A hash of `password` at the parameters the portal used before its current ones
/// (Argon2id, 19 MiB, 2 passes): what a login finds in an account made back then.
pub fn hash_at_older_cost(password: &str) -> String {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let params = argon2::Params::new(19 * 1024, 2, 1, None).unwrap();
    let older = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    older.hash_password(password.as_bytes(), &salt).unwrap().to_string()
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
